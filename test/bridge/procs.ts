// Real processes for the bridge tests: virtual nodes (`outcaxt node`), bridges
// (`outcaxt bridge`) and a Mosquitto broker, each on a free loopback port, started
// from the built CLI and stopped by their own pid.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WsClient } from "../../host-tools/bridge/client.js";
import type { ApiEvent } from "../../host-tools/bridge/service.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(ROOT, "dist/host-tools/cli/index.js");

/** Builds dist/ when it is missing (npm ci builds it with the "prepare" script). */
export function ensureBuilt(): void {
  if (existsSync(CLI)) return;
  const b = spawnSync("npm", ["run", "build:ts"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (b.status !== 0) throw new Error(`npm run build:ts failed:\n${b.stdout}\n${b.stderr}`);
}

export function haveCommand(cmd: string): boolean {
  const r = spawnSync(cmd, ["-h"], { stdio: "ignore" });
  return !(r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT");
}

/** The Mosquitto broker: on the PATH, or where Debian puts it (/usr/sbin, not on every user's PATH). */
export const MOSQUITTO = haveCommand("mosquitto") ? "mosquitto" : existsSync("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : null;

export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", () => resolve()));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export async function freeTcpPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", () => resolve()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value (or throws on timeout with `what`). */
export async function until<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000, everyMs = 100): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A child process with its output collected line by line. */
export class Proc {
  readonly lines: string[] = [];
  stderr = "";
  exited: Promise<number | null>;
  private listeners = new Set<() => void>();

  constructor(readonly name: string, readonly child: ChildProcess) {
    let buf = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (s: string) => {
      buf += s;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        this.lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      for (const l of this.listeners) l();
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (s: string) => { if (this.stderr.length < 65536) this.stderr += s; });
    this.exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first JSON line for which `pred` holds. */
  json<T = Record<string, unknown>>(pred: (o: Record<string, unknown>) => boolean, timeoutMs = 15_000): Promise<T> {
    const find = () => {
      for (const l of this.lines) {
        try {
          const o = JSON.parse(l) as Record<string, unknown>;
          if (pred(o)) return o as T;
        } catch { /* not JSON */ }
      }
      return null;
    };
    return new Promise((resolve, reject) => {
      const hit = find();
      if (hit) { resolve(hit); return; }
      const timer = setTimeout(() => { this.listeners.delete(check); reject(new Error(`${this.name}: no such line within ${timeoutMs} ms\nstdout:\n${this.lines.join("\n")}\nstderr:\n${this.stderr}`)); }, timeoutMs);
      const check = () => { const h = find(); if (h) { clearTimeout(timer); this.listeners.delete(check); resolve(h); } };
      this.listeners.add(check);
      void this.exited.then(() => { if (this.listeners.has(check)) { clearTimeout(timer); this.listeners.delete(check); reject(new Error(`${this.name} exited:\n${this.lines.join("\n")}\n${this.stderr}`)); } });
    });
  }

  /** Stops the process by its pid (SIGTERM, then SIGKILL after `graceMs`). */
  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 3000): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    const t = setTimeout(() => { if (this.running) this.child.kill("SIGKILL"); }, graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

/** Child pids of a process (Linux /proc). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  const task = `/proc/${pid}/task`;
  if (!existsSync(task)) return out;
  for (const t of readdirSync(task)) {
    try {
      out.push(...readFileSync(`${task}/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number));
    } catch { /* gone */ }
  }
  return out;
}

export function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** A fast radio for tests: SF7 at 500 kHz (a 255-byte frame is on the air for about 100 ms). */
export const FAST = ["--sf", "7", "--bw", "500000"];

export type NodeProc = { proc: Proc; contactId: string; pty: string; udp: number };

export async function startNode(name: string, o: { udp: number; peers: number[]; pty: string; state: string; extra?: string[] }): Promise<NodeProc> {
  const args = [CLI, "node", "--json", "--name", name, "--listen", `127.0.0.1:${o.udp}`,
    ...o.peers.flatMap((p) => ["--peer", `127.0.0.1:${p}`]), "--pty", o.pty, "--state", o.state, ...FAST, ...(o.extra ?? [])];
  const proc = new Proc(`node ${name}`, spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] }));
  const ready = await proc.json<{ contactId: string; pty: string }>((j) => j.event === "ready");
  return { proc, contactId: ready.contactId, pty: o.pty, udp: o.udp };
}

export type BridgeProc = { proc: Proc; url: string; token: string };

export async function startBridge(name: string, o: { port: string; state: string; extra?: string[] }): Promise<BridgeProc> {
  const args = [CLI, "bridge", "--json", "--port", o.port, "--state", o.state, "--ws-port", "0", ...(o.extra ?? [])];
  const proc = new Proc(`bridge ${name}`, spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] }));
  const started = await proc.json<{ url: string; token: string }>((j) => j.type === "started");
  return { proc, url: started.url, token: started.token };
}

/** A WebSocket client of a bridge that records every event. */
export class Recorder {
  readonly events: ApiEvent[] = [];
  private constructor(readonly client: WsClient) {
    client.on("event", (e) => this.events.push(e));
  }

  static async connect(b: BridgeProc): Promise<Recorder> {
    return new Recorder(await WsClient.connect(b.url, b.token));
  }

  messages(): Extract<ApiEvent, { type: "message" }>[] {
    return this.events.filter((e): e is Extract<ApiEvent, { type: "message" }> => e.type === "message");
  }

  deliveries(ref: number): Extract<ApiEvent, { type: "delivery" }>[] {
    return this.events.filter((e): e is Extract<ApiEvent, { type: "delivery" }> => e.type === "delivery" && e.ref === ref);
  }

  async connected(timeoutMs = 20_000): Promise<void> {
    await until("the bridge's node to connect", async () => ((await this.client.status()).link as { connected: boolean }).connected, timeoutMs, 200);
  }

  /** Waits until the node knows the contact (announces are asked for on the way by `nudge`). */
  async knows(id: string, nudge: () => Promise<void>, timeoutMs = 30_000): Promise<void> {
    let last = 0;
    await until(`contact ${id}`, async () => {
      if (Date.now() - last > 3000) { last = Date.now(); await nudge(); }
      return (await this.client.contacts(true)).some((c) => c.id === id);
    }, timeoutMs, 300);
  }
}

export type Broker = { proc: Proc; port: number; url: string };

/** Mosquitto on a free loopback port (anonymous, no persistence). */
export async function startMosquitto(dir: string): Promise<Broker> {
  const port = await freeTcpPort();
  const conf = path.join(dir, "mosquitto.conf");
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const proc = new Proc("mosquitto", spawn(MOSQUITTO ?? "mosquitto", ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] }));
  await until("mosquitto to listen", () => new Promise<boolean>((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => { s.destroy(); resolve(true); });
    s.on("error", () => resolve(false));
  }), 10_000, 100);
  return { proc, port, url: `mqtt://127.0.0.1:${port}` };
}
