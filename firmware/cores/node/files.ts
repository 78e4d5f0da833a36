// Mesh-kept files (firmware/STORAGE.md "Files"): not in this build yet. Every
// file command answers ERR_INVALID (-5, "not supported") and file frames are
// only relayed.
import { ERR_INVALID } from "../crypto/memory";

/** STORE operations 16..31 belong to files (1..15 to mail). */
export const FILE_OP_FIRST: i32 = 16;
/** App commands 0x10..0x1F (ABI.md "App commands"). */
export const FILE_CMD_FIRST: i32 = 0x10;
export const FILE_CMD_LAST: i32 = 0x1f;

export function filesInit(): void {}

export function filesOnStore(op: i32, content: usize, contentLen: i32, frame: usize, hopsTaken: i32, prevHop: u32,
  nextHop: u32): bool {
  return false;
}

export function filesPoll(): void {}

export function filesNextWakeMs(): i64 { return i64.MAX_VALUE; }

export function filesCommand(cmd: usize, len: i32): i32 { return ERR_INVALID; }
