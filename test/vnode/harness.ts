// Test harness for `outcaxt node`: spawns the built CLI (dist/host-tools/cli/index.js)
// as a user would, reads its --json lines, and talks to its pseudo-terminal with
// `serialport` and the laptop codec (host-tools/serial/codec.ts).
import { spawn, spawnSync, type ChildProcessByStdio } from "node:child_process";
import dgram from "node:dgram";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { SerialPort } from "serialport";
import { SerialDecoder, encodeRequest, parseDeviceMessage, type DeviceMessage, type Request } from "../../host-tools/serial/codec.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(ROOT, "dist/host-tools/cli/index.js");

/** Builds dist when the node command is missing or older than its sources (npm ci builds it too). */
export function ensureBuilt(): void {
  const built = path.join(ROOT, "dist/host-tools/cli/commands/node.js");
  const sources = ["host-tools/cli/commands/node.ts", "host-tools/vnode/vnode.ts", "host-tools/vnode/pty.ts",
    "host-tools/vnode/radio.ts", "host-tools/vnode/store.ts", "host-tools/serial/codec.ts", "host-tools/node/host.ts"];
  const fresh = existsSync(built) && existsSync(CLI) &&
    sources.every((s) => statSync(path.join(ROOT, s)).mtimeMs <= statSync(built).mtimeMs + 1);
  if (fresh) return;
  const b = spawnSync("npm", ["run", "build:ts"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (b.status !== 0) throw new Error(`npm run build:ts failed:\n${b.stdout}\n${b.stderr}`);
}

/** A free UDP port on loopback (bound, read, released). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", () => resolve()));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export type JsonLine = { event: string; [k: string]: unknown };

export class NodeProcess {
  readonly lines: JsonLine[] = [];
  stderr = "";
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<() => void> = [];

  constructor(readonly proc: ChildProcessByStdio<null, Readable, Readable>) {
    let buf = "";
    proc.stdout.setEncoding("utf8");
    proc.stdout.on("data", (s: string) => {
      buf += s;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try { this.lines.push(JSON.parse(line) as JsonLine); } catch { this.lines.push({ event: "text", text: line }); }
        this.wake();
      }
    });
    proc.stderr.setEncoding("utf8");
    proc.stderr.on("data", (s: string) => { this.stderr += s; this.wake(); });
    this.exit = new Promise((resolve) => proc.on("exit", (code, signal) => { resolve({ code, signal }); this.wake(); }));
  }

  static spawn(args: string[]): NodeProcess {
    return new NodeProcess(spawn(process.execPath, [CLI, "node", "--json", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] }));
  }

  private wake(): void { for (const w of this.waiters.splice(0)) w(); }

  /** Waits for a JSON line of this event (the `nth` one, from 1). */
  async waitFor(event: string, timeoutMs = 10_000, nth = 1): Promise<JsonLine> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.filter((l) => l.event === event);
      if (found.length >= nth) return found[nth - 1];
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
        throw new Error(`outcaxt node exited (${this.proc.exitCode ?? this.proc.signalCode}) before "${event}":\n${this.stderr}`);
      }
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no "${event}" from outcaxt node within ${timeoutMs} ms; stdout ${JSON.stringify(this.lines)}; stderr ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  async ready(): Promise<{ pty: string; link?: string; contactId: string; udp: string; pid: number }> {
    return (await this.waitFor("ready")) as unknown as { pty: string; link?: string; contactId: string; udp: string; pid: number };
  }

  /** socat, the child of this process. */
  socatPid(): number {
    const r = spawnSync("pgrep", ["-P", String(this.proc.pid), "socat"], { encoding: "utf8" });
    const pid = Number(r.stdout.trim().split("\n")[0]);
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no socat child of ${this.proc.pid}`);
    return pid;
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.exit;
  }
}

export function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** The laptop end of a serial link over serialport. */
export class SerialClient {
  readonly messages: DeviceMessage[] = [];
  readonly decoder = new SerialDecoder();
  closed: { disconnected: boolean } | null = null;
  private seq = 1;
  private waiters: Array<() => void> = [];

  private constructor(readonly port: SerialPort) {
    port.on("data", (b: Buffer) => {
      for (const p of this.decoder.push(new Uint8Array(b))) this.messages.push(parseDeviceMessage(p));
      this.wake();
    });
    port.on("close", (err?: Error & { disconnected?: boolean }) => { this.closed = { disconnected: !!err?.disconnected }; this.wake(); });
    port.on("error", () => { /* reported through close */ });
  }

  static open(path: string): Promise<SerialClient> {
    return new Promise((resolve, reject) => {
      const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
      port.open((err) => (err ? reject(err) : resolve(new SerialClient(port))));
    });
  }

  private wake(): void { for (const w of this.waiters.splice(0)) w(); }

  /** Writes and drains; rejects on a write error, a closed port or after `timeoutMs`. */
  write(bytes: Uint8Array, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed || !this.port.isOpen) { reject(new Error("port closed")); return; }
      const t = setTimeout(() => reject(new Error(`write not done within ${timeoutMs} ms`)), timeoutMs);
      const done = (err?: Error | null) => { clearTimeout(t); if (err) reject(err); else resolve(); };
      this.port.write(Buffer.from(bytes), (err) => (err ? done(err) : this.port.drain((e) => done(e))));
    });
  }

  /** Waits until a message matches (searching from index `from`). */
  async waitFor(match: (m: DeviceMessage) => boolean, timeoutMs = 10_000, from = 0): Promise<DeviceMessage> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = this.messages.slice(from).find(match);
      if (m) return m;
      if (this.closed) throw new Error("serial port closed while waiting");
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${JSON.stringify(this.messages.map((x) => x.kind))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  /** Sends a request; resolves with every message of its seq, RESULT last. */
  async request(req: Request, timeoutMs = 5000): Promise<DeviceMessage[]> {
    const seq = this.seq++;
    const from = this.messages.length;
    await this.write(encodeRequest(req, seq));
    await this.waitFor((m) => m.kind === "result" && m.seq === seq, timeoutMs, from);
    return this.messages.slice(from).filter((m) => m.seq === seq);
  }

  async status(req: Request): Promise<number> {
    const r = (await this.request(req)).at(-1)!;
    return r.kind === "result" ? r.status : NaN;
  }

  close(): Promise<void> {
    if (!this.port.isOpen) return Promise.resolve();
    return new Promise((resolve) => this.port.close(() => resolve()));
  }
}
