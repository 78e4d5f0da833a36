// Storage of a virtual node (`outcaxt node --state DIR`): the node core's
// key-value storage (env.storage_get / storage_put, firmware/ABI.md) as one file
// per key in DIR, so the identity (`id.seed`), the prekeys and a config set over
// the serial link survive restarts.
//
// - Every write is atomic: a temporary file in DIR (mode 0600) is written and
//   fsynced, then renamed over the key's file, then the folder is fsynced. A crash
//   leaves the old value or the new one, never half of one.
// - Overwriting overwrites: the old file's bytes are zeroed (through a descriptor
//   opened before the rename) once the new value is in place, so an old prekey
//   does not stay readable in a free inode (forward secrecy, ABI.md). (A journal
//   or an SSD's remapping may keep copies the file system does not show.)
// - DIR is created with mode 0700; files are 0600 (the seed is the node's identity).
// - A lock file (DIR/lock, holding the pid) keeps two virtual nodes from sharing one
//   identity; a lock whose process is gone is taken over.
import {
  closeSync, constants, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync,
  unlinkSync, writeSync, chmodSync, fstatSync, ftruncateSync,
} from "node:fs";
import path from "node:path";
import type { KeyValueStore } from "../node/host.js";

export class StateError extends Error {}

/** File name of a storage key: printable ASCII keys as they are, anything else hex-encoded. */
export function keyFile(key: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(key) && key !== "lock" && !key.endsWith(".tmp")
    ? key
    : `x-${Buffer.from(key, "utf8").toString("hex")}`;
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class FileStore implements KeyValueStore {
  readonly dir: string;
  private readonly cache = new Map<string, Uint8Array>();
  private locked = false;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
    if (existsSync(this.dir)) {
      if (!statSync(this.dir).isDirectory()) throw new StateError(`state path ${dir} is not a folder`);
    } else {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    }
    // Left over from a crash between write and rename: never a current value.
    for (const f of readdirSync(this.dir)) if (f.endsWith(".tmp")) unlinkSync(path.join(this.dir, f));
  }

  /** Takes DIR/lock for this process; throws a StateError when a live process holds it. */
  lock(): void {
    const file = path.join(this.dir, "lock");
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        this.locked = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        const pid = Number(readFileSync(file, "utf8").trim());
        if (pidAlive(pid) && pid !== process.pid) {
          throw new StateError(`state folder ${this.dir} is in use by process ${pid} (another outcaxt node?)`);
        }
        unlinkSync(file); // stale: its process is gone
      }
    }
    throw new StateError(`cannot lock state folder ${this.dir}`);
  }

  unlock(): void {
    if (!this.locked) return;
    this.locked = false;
    try { unlinkSync(path.join(this.dir, "lock")); } catch { /* already gone */ }
  }

  get(key: string): Uint8Array | undefined {
    const cached = this.cache.get(key);
    if (cached) return cached.slice();
    const file = path.join(this.dir, keyFile(key));
    if (!existsSync(file)) return undefined;
    const v = new Uint8Array(readFileSync(file));
    this.cache.set(key, v);
    return v.slice();
  }

  set(key: string, value: Uint8Array): void {
    const file = path.join(this.dir, keyFile(key));
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
    try {
      writeSync(fd, value);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, 0o600); // whatever the umask said
    let old: number | null = null;
    try { old = openSync(file, constants.O_WRONLY); } catch { /* no old value */ }
    try {
      renameSync(tmp, file);
      this.syncDir();
      if (old !== null) {
        // The old inode is unlinked now: wipe its bytes before letting go of it.
        const size = fstatSync(old).size;
        if (size > 0) {
          writeSync(old, new Uint8Array(size), 0, size, 0);
          fsyncSync(old);
          ftruncateSync(old, 0);
        }
      }
    } finally {
      if (old !== null) closeSync(old);
    }
    this.cache.set(key, value.slice());
  }

  private syncDir(): void {
    let fd: number | null = null;
    try {
      fd = openSync(this.dir, constants.O_RDONLY);
      fsyncSync(fd);
    } catch { /* some file systems cannot fsync a folder */ } finally {
      if (fd !== null) closeSync(fd);
    }
  }
}
