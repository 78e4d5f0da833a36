// The messaging commands as a user runs them (the built CLI, pipes, no terminal):
// help and exit codes, `outcaxt ports`, and a conversation between two virtual
// nodes p and q: `send --port` straight to p's pty, `send`/`listen`/`chat` through
// the bridge on q's pty (found through its state directory).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, Proc, Recorder, ROOT, ensureBuilt, freeUdpPort, haveCommand, startBridge, startNode, until, type BridgeProc, type NodeProc } from "./procs.js";

type Run = { code: number | null; stdout: string; stderr: string };

function outcaxt(args: string[], input?: string, env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT, encoding: "utf8", timeout: 60_000, input, env: { ...process.env, OUTCAXT_STATE: "/nonexistent/outcaxt-state", ...env },
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking the event loop (for commands that talk to processes of this test). */
function outcaxtAsync(args: string[], input?: string): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, OUTCAXT_STATE: "/nonexistent/outcaxt-state" } });
  const p = new Proc(args[0], child);
  if (input !== undefined) child.stdin.end(input); else child.stdin.end();
  return p.exited.then((code) => ({ code, stdout: p.lines.join("\n"), stderr: p.stderr }));
}

beforeAll(() => ensureBuilt(), 180_000);

describe("command line: help, arguments, exit codes", () => {
  it("--help on every command", () => {
    for (const cmd of ["bridge", "send", "listen", "chat", "ports", "id"]) {
      const r = outcaxt([cmd, "--help"]);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Usage: outcaxt ${cmd}`));
      expect(r.stdout).toMatch(/Exit codes/);
    }
    expect(outcaxt(["--help"]).stdout).toMatch(/bridge[\s\S]*send[\s\S]*listen[\s\S]*chat[\s\S]*ports/);
  });

  it("bad arguments are usage errors (exit 2)", () => {
    expect(outcaxt(["bridge"]).code).toBe(2); // --port is required
    expect(outcaxt(["bridge", "--port", "/dev/null", "--mqtt-topic", "t"]).code).toBe(2);
    expect(outcaxt(["bridge", "--port", "/dev/null", "--allow-origin", "not a url"]).code).toBe(2);
    expect(outcaxt(["send", "hello"]).code).toBe(2); // neither --to nor --channel
    expect(outcaxt(["send", "--to", "a", "--channel", "0", "hi"]).code).toBe(2);
    expect(outcaxt(["send", "--channel", "9", "hi"]).code).toBe(2);
    expect(outcaxt(["chat", "--to", "a", "--channel", "1"]).code).toBe(2);
  });

  it("no bridge, no token or no port: exit 1 with a clear message", () => {
    const r = outcaxt(["send", "--to", "alice", "hi"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no running bridge found/);
    const refused = outcaxt(["listen", "--url", "ws://127.0.0.1:9/", "--token", "x"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/no bridge listening at ws:\/\/127\.0\.0\.1:9\//);
    const port = outcaxt(["send", "--port", "/nonexistent/tty", "--to", "0123456789abcdef", "hi"]);
    expect(port.code).toBe(1);
    expect(port.stderr).toMatch(/cannot talk to the node on \/nonexistent\/tty/);
  });

  it("ports lists serial ports as JSON (exit 0 even when none is a known board)", () => {
    const r = outcaxt(["ports", "--json", "--all"]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { ports: { path: string; boards: unknown[] }[] };
    expect(Array.isArray(j.ports)).toBe(true);
    for (const p of j.ports) expect(p.path).toMatch(/^\/dev\//);
    expect(outcaxt(["ports"]).code).toBe(0);
  });
});

describe.skipIf(!haveCommand("socat"))("command line: a conversation between two virtual nodes", () => {
  let dir = "";
  let p: NodeProc, q: NodeProc;
  let bq: BridgeProc;
  let stateQ = "";

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "outcaxt-clitalk-"));
    const [up, uq] = [await freeUdpPort(), await freeUdpPort()];
    [p, q] = await Promise.all([
      startNode("p", { udp: up, peers: [uq], pty: path.join(dir, "p.pty"), state: path.join(dir, "p") }),
      startNode("q", { udp: uq, peers: [up], pty: path.join(dir, "q.pty"), state: path.join(dir, "q") }),
    ]);
    stateQ = path.join(dir, "bq");
    bq = await startBridge("bq", { port: q.pty, state: stateQ });
    const c = await Recorder.connect(bq);
    await c.connected();
    // p announces through its serial port (chat --port, commands from a pipe); q through its bridge.
    await c.knows(p.contactId, async () => {
      const r = await outcaxtAsync(["chat", "--port", p.pty], "/announce\n");
      expect(r.code, r.stderr).toBe(0);
    });
    await c.client.announce();
    await c.client.close();
  }, 60_000);

  afterAll(async () => {
    await Promise.all([bq, p, q].filter(Boolean).map((x) => x.proc.stop()));
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("send --port (direct) reaches listen (through the bridge), acknowledged", async () => {
    const listening = outcaxtAsync(["listen", "--state", stateQ, "--json", "--count", "1", "--timeout", "40"]);
    await new Promise((r) => setTimeout(r, 1500));
    // p learns q's announce on the way (send retries the announce wait through --timeout).
    let sent: Run | null = null;
    await until("p to know q", async () => {
      sent = await outcaxtAsync(["send", "--port", p.pty, "--to", q.contactId, "--json", "--timeout", "30", "hello q, straight from the port"]);
      if (sent.code === 2 && /unknown contact/.test(sent.stderr)) {
        await outcaxtAsync(["chat", "--state", stateQ], "/announce\n");
        return false;
      }
      return true;
    }, 30_000, 500);
    expect(sent!.code, sent!.stderr).toBe(0);
    expect(JSON.parse(sent!.stdout)).toMatchObject({ to: q.contactId, state: "acked", attempts: 1 });
    const heard = await listening;
    expect(heard.code, heard.stderr).toBe(0);
    expect(JSON.parse(heard.stdout)).toMatchObject({ type: "message", kind: "direct", from: p.contactId, fromName: "p", text: "hello q, straight from the port" });
  }, 60_000);

  it("send and chat through the bridge show ✓ and ✓✓", async () => {
    const r = await outcaxtAsync(["send", "--state", stateQ, "--to", "p", "back to you"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^✓✓ delivered \(ref \d+, 1 attempt\)/);
    const chat = await outcaxtAsync(["chat", "--state", stateQ, "--to", "p"], "first line\nsecond line\n/quit\n");
    expect(chat.code, chat.stderr).toBe(0);
    expect(chat.stdout).toMatch(/· {2}you → p: first line/);
    expect(chat.stdout).toMatch(/✓✓ \(to p: first line\)/);
    expect(chat.stdout).toMatch(/✓✓ \(to p: second line\)/);
    const unknown = await outcaxtAsync(["send", "--state", stateQ, "--to", "nobody", "hi"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no contact "nobody"/);
  }, 60_000);

  it.skipIf(!haveCommand("script"))("chat on a terminal updates the tick of a message in place", async () => {
    // util-linux `script` gives the chat a pseudo-terminal; what the chat draws comes back raw.
    const cmd = `${process.execPath} ${CLI} chat --state ${stateQ} --to p`;
    const child = spawn("script", ["-qfec", cmd, "/dev/null"], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, TERM: "xterm" } });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d: string) => { out += d; });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await until("the prompt", () => out.includes("p> "), 15_000);
      child.stdin.write("typed on a terminal\r");
      await until("the acknowledgement", () => out.includes("\x1b[1A\r✓✓\x1b8"), 20_000);
      // The message line replaced the echoed input; its tick went · then ✓✓, in place (no extra line).
      expect(out).toContain("·  you → p: typed on a terminal");
      expect(out).not.toContain("(to p: typed on a terminal)");
      child.stdin.write("/quit\r");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 40_000);
});
