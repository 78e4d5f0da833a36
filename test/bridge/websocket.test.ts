// The bridge's WebSocket API refuses what it must (host-tools/API.md, "Connecting"):
// a wrong or missing token, and pages of foreign origins; the right token (in the
// URL or as the first message) gets "ready" and answers. The serial port here does
// not exist: the API works while the node is away (the link keeps retrying).
import { mkdtempSync, rmSync, statSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { Bridge } from "../../host-tools/bridge/bridge.js";
import { WsClient, ClientError } from "../../host-tools/bridge/client.js";
import { BridgeServer, CLOSE } from "../../host-tools/bridge/server.js";
import { readBridgeInfo, TOKEN_FILE } from "../../host-tools/bridge/state.js";

type Outcome = { code: number; reason: string; messages: Record<string, unknown>[] };

/** Opens a raw WebSocket, optionally sends `first`, and collects messages until it closes or `settleMs` pass. */
function attempt(url: string, opts: { origin?: string; first?: unknown; settleMs?: number } = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, opts.origin ? { origin: opts.origin } : {});
    const messages: Record<string, unknown>[] = [];
    const timer = setTimeout(() => { ws.terminate(); resolve({ code: -1, reason: "still open", messages }); }, opts.settleMs ?? 1500);
    ws.on("open", () => { if (opts.first !== undefined) ws.send(typeof opts.first === "string" ? opts.first : JSON.stringify(opts.first)); });
    ws.on("message", (d) => messages.push(JSON.parse(d.toString()) as Record<string, unknown>));
    ws.on("close", (code, reason) => { clearTimeout(timer); resolve({ code, reason: reason.toString(), messages }); });
    ws.on("error", () => undefined);
  });
}

describe("WebSocket API access control", () => {
  let dir: string;
  let bridge: Bridge;
  let url: string;
  let token: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "outcaxt-ws-"));
    bridge = new Bridge({
      port: path.join(dir, "no-such-port"), stateDir: path.join(dir, "state"), wsPort: 0,
      allowedOrigins: ["http://localhost:5173"], authTimeoutMs: 500,
      link: { backoffInitialMs: 50, backoffMaxMs: 200 },
    });
    ({ url, token } = await bridge.start());
  });

  afterAll(async () => {
    await bridge.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("listens on 127.0.0.1 and keeps the token in a file only the user can read", () => {
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/$/);
    const file = path.join(dir, "state", TOKEN_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8").trim()).toBe(token);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(readBridgeInfo(path.join(dir, "state"))?.url).toBe(url);
  });

  it("refuses a wrong token in the URL with close code 4001", async () => {
    const r = await attempt(`${url}?token=${"x".repeat(43)}`);
    expect(r.code).toBe(CLOSE.BAD_TOKEN);
    expect(r.reason).toBe("invalid token");
    expect(r.messages).toEqual([]);
  });

  it("refuses a wrong token in the first message, and a first message that is not auth", async () => {
    const wrong = await attempt(url, { first: { type: "auth", token: token.slice(0, -1) + (token.endsWith("A") ? "B" : "A") } });
    expect(wrong.code).toBe(CLOSE.BAD_TOKEN);
    expect(wrong.messages).toEqual([]);
    const notAuth = await attempt(url, { first: { type: "status" } });
    expect(notAuth.code).toBe(CLOSE.BAD_TOKEN);
    expect(notAuth.reason).toMatch(/first message must be/);
    const garbage = await attempt(url, { first: "not json" });
    expect(garbage.code).toBe(CLOSE.BAD_TOKEN);
  });

  it("closes a connection that never authenticates with 4002", async () => {
    const r = await attempt(url, { settleMs: 3000 });
    expect(r.code).toBe(CLOSE.AUTH_TIMEOUT);
    expect(r.messages).toEqual([]);
  });

  it("refuses a page of a foreign origin even with the right token (4003)", async () => {
    const r = await attempt(`${url}?token=${token}`, { origin: "https://evil.example" });
    expect(r.code).toBe(CLOSE.BAD_ORIGIN);
    expect(r.reason).toBe("origin not allowed: https://evil.example");
    expect(r.messages).toEqual([]);
    const other = await attempt(`${url}?token=${token}`, { origin: "http://localhost:8080" });
    expect(other.code).toBe(CLOSE.BAD_ORIGIN);
    expect(bridge.server.refused.origin).toBeGreaterThanOrEqual(2);
  });

  it("accepts an allowed origin and a command-line client (no Origin) with the right token", async () => {
    const page = await attempt(`${url}?token=${token}`, { origin: "http://localhost:5173" });
    expect(page.code).toBe(-1);
    expect(page.messages[0]).toMatchObject({ type: "ready", version: 1, link: { connected: false } });
    const first = await attempt(url, { first: { type: "auth", token } });
    expect(first.code).toBe(-1);
    expect(first.messages[0]).toMatchObject({ type: "ready" });
  });

  it("answers requests once authenticated, and reports bad ones as errors", async () => {
    const c = await WsClient.connect(url, token);
    try {
      const s = await c.status();
      expect(s).toMatchObject({ link: { connected: false, state: expect.stringMatching(/waiting|opening/) } });
      expect(await c.contacts()).toEqual([]);
      await expect(c.send({ to: "nobody", text: "hi" })).rejects.toThrow(/no contact "nobody"/);
      await expect(c.send({ channel: 7, text: "hi" })).rejects.toThrow(/slot 0\.\.3/);
      await expect(c.send({ to: "0123456789abcdef", text: "x".repeat(157) })).rejects.toThrow(/at most 156 bytes/);
      // A well-formed message waits in the queue while the node is away.
      const a = await c.send({ to: "0123456789abcdef", text: "later" });
      expect(a.queued).toBe(true);
      expect((await c.status()).link).toMatchObject({ queued: 1 });
    } finally {
      await c.close();
    }
  });

  it("WsClient reports a refusal with its close code", async () => {
    const err = await WsClient.connect(url, "wrong").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code).toBe(CLOSE.BAD_TOKEN);
  });

  it("listens on loopback addresses only", () => {
    expect(() => new BridgeServer({ service: bridge.service, token, host: "0.0.0.0" })).toThrow(/loopback/);
  });

  it("keeps the stored token across restarts", async () => {
    const again = new Bridge({ port: path.join(dir, "no-such-port"), stateDir: path.join(dir, "state"), wsPort: 0 });
    try {
      expect((await again.start()).token).toBe(token);
    } finally {
      await again.stop();
    }
  });
});
