// The pseudo-terminal of a virtual node: `socat pty,rawer,... STDIO` as a child
// process. socat creates the pty (and, with `link`, a stable symlink to it) and
// copies bytes between it and its stdin/stdout, which are pipes to us: what a serial
// tool writes into the pty comes out of socat's stdout, what we write into socat's
// stdin comes out of the pty. socat keeps the pty while tools open and close it.
//
// socat prints "PTY is /dev/pts/N" on stderr (-d -d); that is how the path is learnt.
// When socat goes away (killed, crashed) the owner is told ("exit") and may start
// a new one. Writes are dropped, not queued without bound, when nobody drains the pty.
import { spawn, spawnSync, type ChildProcessByStdio } from "node:child_process";
import { EventEmitter } from "node:events";
import { lstatSync, readlinkSync, unlinkSync } from "node:fs";
import type { Readable, Writable } from "node:stream";

/** Bytes queued towards socat beyond which frames are dropped (a pty nobody reads fills up). */
export const PTY_BACKLOG_MAX = 64 * 1024;

export class PtyError extends Error {}

function linkTarget(link: string): string | null {
  try { return readlinkSync(link); } catch { return null; }
}

/** Whether socat can be run; the message to show when not. */
export function checkSocat(bin = "socat"): string | null {
  const r = spawnSync(bin, ["-V"], { stdio: ["ignore", "pipe", "pipe"], timeout: 5000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    return code === "ENOENT"
      ? `${bin} not found: the virtual node makes its pseudo-terminal with socat (Debian/Ubuntu: apt-get install socat; macOS: brew install socat)`
      : `cannot run ${bin}: ${r.error.message}`;
  }
  return null;
}

/** socat address characters that would need escaping: refused in a --pty path. */
export function checkPtyLink(link: string): string | null {
  if (!link.startsWith("/")) return "the --pty path must be absolute";
  if (/[,:!"'\\\s{}\[\]]/.test(link)) return "the --pty path must not contain , : ! quotes, brackets, backslashes or spaces (socat address syntax)";
  return null;
}

export type PtyEvents = {
  data: [Uint8Array];
  exit: [{ code: number | null; signal: NodeJS.Signals | null; stderr: string }];
};

export class SocatPty extends EventEmitter<PtyEvents> {
  /** The /dev/pts/N path socat made. */
  path = "";
  /** Frames dropped because the pty was not drained. */
  dropped = 0;
  private child: ChildProcessByStdio<Writable, Readable, Readable> | null = null;
  private stderr = "";
  private stopping = false;

  constructor(readonly link?: string, readonly bin = "socat") {
    super();
  }

  get running(): boolean { return this.child !== null; }
  get pid(): number | undefined { return this.child?.pid; }

  /** Starts socat and resolves with the pty path once socat reports it. */
  start(timeoutMs = 5000): Promise<string> {
    if (this.child) return Promise.resolve(this.path);
    this.stopping = false;
    this.stderr = "";
    this.path = "";
    if (this.link) this.removeStaleLink();
    const pty = ["pty", "rawer", "echo=0", ...(this.link ? [`link=${this.link}`] : [])].join(",");
    const child = spawn(this.bin, ["-d", "-d", pty, "STDIO"], { stdio: ["pipe", "pipe", "pipe"] });
    this.child = child;
    child.stdin.on("error", () => { /* socat gone: reported by "exit" */ });
    child.stdout.on("data", (b: Buffer) => this.emit("data", new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => fail(`socat did not report its pty within ${timeoutMs} ms`), timeoutMs);
      const fail = (msg: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.kill();
        reject(new PtyError(`${msg}${this.stderr ? `:\n${this.stderr.trim()}` : ""}`));
      };
      child.stderr.setEncoding("utf8");
      child.stderr.on("data", (s: string) => {
        if (this.stderr.length < 8192) this.stderr += s;
        const m = /PTY is (\S+)/.exec(this.stderr);
        if (m && !this.path) {
          this.path = m[1];
          // socat says "PTY is" before it makes the --pty link: ready once the link is there.
          const linked = () => {
            if (settled) return;
            if (!this.link || linkTarget(this.link) === this.path) {
              settled = true;
              clearTimeout(timer);
              resolve(this.path);
            } else {
              setTimeout(linked, 5);
            }
          };
          linked();
        }
      });
      child.on("error", (err) => fail(`cannot run ${this.bin}: ${err.message}`));
      child.on("exit", (code, signal) => {
        if (this.child === child) this.child = null;
        if (!settled) { fail(`socat exited (${signal ?? `code ${code}`}) before making a pty`); return; }
        if (!this.stopping) this.emit("exit", { code, signal, stderr: this.stderr });
      });
    });
  }

  /** Bytes for whoever has the pty open; false when dropped (socat gone, or the pty is not drained). */
  write(bytes: Uint8Array): boolean {
    const c = this.child;
    if (!c || c.stdin.destroyed) return false;
    if (c.stdin.writableLength > PTY_BACKLOG_MAX) { this.dropped++; return false; }
    c.stdin.write(bytes);
    return true;
  }

  /** Stops socat (SIGTERM, then SIGKILL after `graceMs`); resolves when it is gone. */
  stop(graceMs = 1000): Promise<void> {
    this.stopping = true;
    const c = this.child;
    if (!c) { this.removeStaleLink(); return Promise.resolve(); }
    return new Promise((resolve) => {
      const kill = setTimeout(() => c.kill("SIGKILL"), graceMs);
      c.once("exit", () => {
        clearTimeout(kill);
        this.removeStaleLink();
        resolve();
      });
      c.stdin.end();
      c.kill("SIGTERM");
    });
  }

  private kill(): void {
    this.stopping = true;
    this.child?.kill("SIGKILL");
  }

  /** A --pty symlink socat could not remove (it was killed): gone, so the next socat can make it. */
  private removeStaleLink(): void {
    if (!this.link) return;
    try {
      if (lstatSync(this.link).isSymbolicLink()) unlinkSync(this.link);
    } catch { /* not there */ }
  }
}
