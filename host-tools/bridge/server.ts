// The bridge's WebSocket API on the loopback interface (host-tools/API.md).
//
// Browsers can reach 127.0.0.1, so every connection must show the token (in the
// `token` query parameter or in a first {"type":"auth"} message) and a connection
// that carries an Origin header (a web page) must come from an allowed origin.
// Command-line clients send no Origin. A refused connection is closed with a 4xxx
// code and a reason before anything about the node is sent.
import { timingSafeEqual, createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket, type RawData } from "ws";
import { ApiError, type ApiEvent, type NodeService } from "./service.js";

export const API_VERSION = 1;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Standard base64 (RFC 4648 section 4; padding optional) into bytes; ApiError otherwise. */
export function decodeBase64(value: unknown, field: string): Uint8Array {
  if (typeof value !== "string") throw new ApiError("bad_request", `\`${field}\` must be the file's bytes in base64`);
  const s = value.replace(/\s+/g, "");
  if (!BASE64.test(s) || s.replace(/=+$/, "").length % 4 === 1) throw new ApiError("bad_request", `\`${field}\` is not valid base64 (standard alphabet A-Z a-z 0-9 + /, padding =)`);
  return new Uint8Array(Buffer.from(s, "base64"));
}

function optionalInt(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) throw new ApiError("bad_request", `\`${field}\` must be a whole number`);
  return value;
}

/** `timeout` in seconds (a positive number, at most a day) as ms. */
function optionalSeconds(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !(value > 0) || value > 86_400) throw new ApiError("bad_request", "`timeout` must be a number of seconds, more than 0 and at most 86400");
  return Math.round(value * 1000);
}

/** Close codes of refused or ended connections (API.md). */
export const CLOSE = {
  BAD_TOKEN: 4001,
  AUTH_TIMEOUT: 4002,
  BAD_ORIGIN: 4003,
  BAD_MESSAGE: 4004,
  SHUTDOWN: 1001,
} as const;

export type BridgeServerOptions = {
  service: NodeService;
  token: string;
  /** Origins (scheme://host[:port]) whose pages may connect; none by default. */
  allowedOrigins?: readonly string[];
  /** Loopback address to listen on (127.0.0.1 by default; ::1 also allowed). */
  host?: string;
  /** TCP port; 0 picks a free one. */
  port?: number;
  /** How long a connection without a token in its URL may take to send {"type":"auth"}. */
  authTimeoutMs?: number;
};

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

function sameSecret(a: string, b: string): boolean {
  // Compare digests so that the lengths do not leak and timingSafeEqual gets equal sizes.
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** The canonical form of an origin ("https://Example.org:443/" → "https://example.org"). */
export function normalizeOrigin(origin: string): string {
  try {
    const u = new URL(origin);
    if (u.origin === "null") return origin.trim().toLowerCase();
    return u.origin.toLowerCase();
  } catch {
    return origin.trim().toLowerCase();
  }
}

type Client = { ws: WebSocket; authed: boolean; timer: NodeJS.Timeout | null };

export class BridgeServer {
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private readonly allowed: Set<string>;
  private readonly onApi = (e: ApiEvent) => this.broadcast(e);
  /** Connections refused, by reason (status). */
  readonly refused = { token: 0, origin: 0, timeout: 0 };

  constructor(private readonly opts: BridgeServerOptions) {
    const host = opts.host ?? "127.0.0.1";
    if (!LOOPBACK.has(host)) throw new RangeError(`the WebSocket API listens on the loopback interface only, not ${host}`);
    this.allowed = new Set((opts.allowedOrigins ?? []).map(normalizeOrigin));
    this.http = http.createServer((_req, res) => {
      res.writeHead(426, { "content-type": "text/plain; charset=utf-8", connection: "close" });
      res.end("Outcaxt bridge: connect with a WebSocket client (host-tools/API.md)\n");
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
    this.http.on("upgrade", (req, socket, head) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
    });
    opts.service.on("api", this.onApi);
  }

  /** Starts listening; resolves with the ws:// URL (without the token). */
  listen(): Promise<string> {
    const host = this.opts.host ?? "127.0.0.1";
    return new Promise((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(this.opts.port ?? 0, host, () => {
        this.http.off("error", reject);
        resolve(this.url);
      });
    });
  }

  get url(): string {
    const a = this.http.address() as AddressInfo;
    const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
    return `ws://${host}:${a.port}/`;
  }

  get clientCount(): number {
    return [...this.clients].filter((c) => c.authed).length;
  }

  async close(): Promise<void> {
    this.opts.service.off("api", this.onApi);
    for (const c of this.clients) {
      if (c.timer) clearTimeout(c.timer);
      c.ws.close(CLOSE.SHUTDOWN, "bridge shutting down");
    }
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  private refuse(ws: WebSocket, code: number, reason: string): void {
    ws.close(code, reason);
    // A client that does not answer the close handshake is cut off.
    setTimeout(() => ws.terminate(), 1000).unref();
  }

  private accept(ws: WebSocket, req: http.IncomingMessage): void {
    const origin = req.headers.origin;
    if (origin !== undefined && !this.allowed.has(normalizeOrigin(origin))) {
      this.refused.origin++;
      this.refuse(ws, CLOSE.BAD_ORIGIN, `origin not allowed: ${origin}`.slice(0, 120));
      return;
    }
    const client: Client = { ws, authed: false, timer: null };
    this.clients.add(client);
    ws.on("close", () => { if (client.timer) clearTimeout(client.timer); this.clients.delete(client); });
    ws.on("error", () => ws.terminate());
    const query = new URL(req.url ?? "/", "http://localhost").searchParams.get("token");
    if (query !== null) {
      if (!sameSecret(query, this.opts.token)) {
        this.refused.token++;
        this.refuse(ws, CLOSE.BAD_TOKEN, "invalid token");
        return;
      }
      this.authed(client);
    } else {
      client.timer = setTimeout(() => {
        this.refused.timeout++;
        this.refuse(ws, CLOSE.AUTH_TIMEOUT, "no token: send {\"type\":\"auth\",\"token\":...} first or add ?token=");
      }, this.opts.authTimeoutMs ?? 5000);
    }
    ws.on("message", (data, isBinary) => this.onMessage(client, data, isBinary));
  }

  private authed(client: Client): void {
    if (client.timer) clearTimeout(client.timer);
    client.timer = null;
    client.authed = true;
    const link = this.opts.service.link;
    this.sendTo(client, {
      type: "ready", version: API_VERSION, node: link.identity,
      link: { path: link.path, state: link.state, connected: link.connected },
    });
  }

  private sendTo(client: Client, msg: unknown): void {
    if (client.ws.readyState === client.ws.OPEN) client.ws.send(JSON.stringify(msg));
  }

  private broadcast(e: ApiEvent): void {
    const text = JSON.stringify(e);
    for (const c of this.clients) if (c.authed && c.ws.readyState === c.ws.OPEN) c.ws.send(text);
  }

  private onMessage(client: Client, data: RawData, isBinary: boolean): void {
    let msg: Record<string, unknown>;
    try {
      if (isBinary) throw new Error("binary");
      const parsed: unknown = JSON.parse(data.toString());
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
      msg = parsed as Record<string, unknown>;
    } catch {
      if (!client.authed) { this.refused.token++; this.refuse(client.ws, CLOSE.BAD_TOKEN, "the first message must be {\"type\":\"auth\",\"token\":...}"); return; }
      this.sendTo(client, { type: "error", code: "bad_request", message: "messages are JSON objects (host-tools/API.md)" });
      return;
    }
    if (!client.authed) {
      if (msg.type === "auth" && typeof msg.token === "string" && sameSecret(msg.token, this.opts.token)) {
        this.authed(client);
      } else {
        this.refused.token++;
        this.refuse(client.ws, CLOSE.BAD_TOKEN, msg.type === "auth" ? "invalid token" : "the first message must be {\"type\":\"auth\",\"token\":...}");
      }
      return;
    }
    void this.handle(client, msg);
  }

  private async handle(client: Client, msg: Record<string, unknown>): Promise<void> {
    const id = typeof msg.id === "string" || typeof msg.id === "number" ? String(msg.id) : undefined;
    const reply = (body: Record<string, unknown>) => this.sendTo(client, { ...body, ...(id !== undefined ? { id } : {}) });
    const service = this.opts.service;
    try {
      switch (msg.type) {
        case "auth":
          reply({ type: "error", code: "bad_request", message: "already authenticated" });
          return;
        case "send": {
          const accepted = service.send({
            to: msg.to as string | undefined,
            channel: msg.channel as number | undefined,
            text: msg.text as string,
            id,
          });
          reply({ type: "accepted", ...accepted });
          return;
        }
        case "status":
          reply({ type: "status", ...(await service.status()), clients: this.clientCount });
          return;
        case "contacts": {
          if (msg.refresh === true && service.link.connected) await service.refreshContacts();
          reply({ type: "contacts", contacts: service.contacts });
          return;
        }
        case "join":
          await service.join(msg.slot as number, String(msg.name ?? ""), String(msg.passphrase ?? ""));
          reply({ type: "ok", request: "join" });
          return;
        case "announce":
          await service.announce();
          reply({ type: "ok", request: "announce" });
          return;
        case "file_put": {
          const data = decodeBase64(msg.data, "data");
          const r = await service.putFile(data, { copies: optionalInt(msg.copies, "copies"), id, timeoutMs: optionalSeconds(msg.timeout) });
          reply({ type: "file_stored", ...r });
          return;
        }
        case "file_get": {
          if (typeof msg.capability !== "string") throw new ApiError("bad_request", "`capability` must be a string \"ocx1:…\"");
          const r = await service.getFile(msg.capability, { id, timeoutMs: optionalSeconds(msg.timeout) });
          reply({ type: "file_data", ref: r.ref, capability: msg.capability.trim(), length: r.data.length, blocks: r.blocks, elapsedMs: r.elapsedMs,
            data: Buffer.from(r.data).toString("base64") });
          return;
        }
        default:
          reply({ type: "error", code: "bad_request", message: `unknown message type ${JSON.stringify(msg.type)}` });
      }
    } catch (err) {
      if (err instanceof ApiError) reply({ type: "error", code: err.code, message: err.message });
      else reply({ type: "error", code: "internal", message: (err as Error).message });
    }
  }
}
