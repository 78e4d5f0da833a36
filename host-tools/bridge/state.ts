// The state directory shared by the bridge and the command-line tools
// (`--state DIR`, else $OUTCAXT_STATE, else ~/.outcaxt): the WebSocket token
// (bridge.token, mode 0600), where a running bridge listens (bridge.json) and
// the laptop identity (identity.ts).
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export const TOKEN_FILE = "bridge.token";
export const BRIDGE_INFO_FILE = "bridge.json";

/** The state directory: the option, else $OUTCAXT_STATE, else ~/.outcaxt. */
export function stateDir(option?: string): string {
  return path.resolve(option ?? process.env.OUTCAXT_STATE ?? path.join(os.homedir(), ".outcaxt"));
}

/** Creates the directory (mode 0700) when missing. */
export function ensureStateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * Writes a file readable only by the user (mode 0600), atomically: a temporary
 * file in the same directory, fsync, rename. With `exclusive`, refuses to replace
 * an existing file (throws an error with code EEXIST).
 */
export function writePrivateFile(file: string, data: string | Uint8Array, exclusive = false): void {
  if (exclusive && existsSync(file)) {
    throw Object.assign(new Error(`${file} exists already`), { code: "EEXIST" });
  }
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data, "utf8") : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Whether a file can be read by anyone but its owner (group or other bits set). */
export function isTooOpen(file: string): boolean {
  return (statSync(file).mode & 0o077) !== 0;
}

/** A fresh token: 32 random bytes, base64url (43 characters). */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Reads the token from DIR/bridge.token, or null when there is none. */
export function readToken(dir: string): string | null {
  const file = path.join(dir, TOKEN_FILE);
  if (!existsSync(file)) return null;
  const t = readFileSync(file, "utf8").trim();
  return t.length > 0 ? t : null;
}

/** The token of DIR/bridge.token, created (mode 0600) when missing; a file others can read is made private again. */
export function loadOrCreateToken(dir: string): string {
  ensureStateDir(dir);
  const file = path.join(dir, TOKEN_FILE);
  const existing = readToken(dir);
  if (existing) {
    if (isTooOpen(file)) chmodSync(file, 0o600);
    return existing;
  }
  const token = newToken();
  writePrivateFile(file, `${token}\n`);
  return token;
}

/** What a running bridge writes to DIR/bridge.json so that the other commands find it. */
export type BridgeInfo = { url: string; pid: number; port: string; startedAt: string };

export function writeBridgeInfo(dir: string, info: BridgeInfo): void {
  ensureStateDir(dir);
  writePrivateFile(path.join(dir, BRIDGE_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
}

export function readBridgeInfo(dir: string): BridgeInfo | null {
  const file = path.join(dir, BRIDGE_INFO_FILE);
  if (!existsSync(file)) return null;
  try {
    const info = JSON.parse(readFileSync(file, "utf8")) as BridgeInfo;
    return typeof info.url === "string" ? info : null;
  } catch {
    return null;
  }
}

/** Removes DIR/bridge.json if it is still ours (another bridge may have replaced it). */
export function removeBridgeInfo(dir: string, pid = process.pid): void {
  const info = readBridgeInfo(dir);
  if (info && info.pid === pid) {
    try { unlinkSync(path.join(dir, BRIDGE_INFO_FILE)); } catch { /* gone already */ }
  }
}
