// The node core: every export of node.wasm. Documented in firmware/ABI.md
// ("Core: node.wasm"); the imports are in env.ts.
import { ERR_RANGE } from "../crypto/memory";
import { FRAME_MAX_BYTES } from "./frame";
import { IO_BUFFER, IO_BUFFER_BYTES, nodeCommand, nodeInit, nodePoll, nodeReceive, nodeTxDone } from "./node";
import { serialReceive } from "./serial";
import { C_BAD_CALLS, C_OVERSIZED, C_RX_FRAMES, count, counter } from "./stats";

/** True when [ptr, ptr + len) lies inside the I/O buffer. */
function inIo(ptr: i32, len: i32): bool {
  const start = <i64>ptr - <i64>IO_BUFFER;
  return len >= 0 && start >= 0 && start + <i64>len <= <i64>IO_BUFFER_BYTES;
}

export function io_buffer_ptr(): i32 { return <i32>IO_BUFFER; }
export function io_buffer_len(): i32 { return IO_BUFFER_BYTES; }

export function node_init(ptr: i32, len: i32): i32 {
  if (!inIo(ptr, len)) { count(C_BAD_CALLS); return ERR_RANGE; }
  return nodeInit(ptr, len);
}

export function node_receive(ptr: i32, len: i32, rssiDbm: i32, snrDbX4: i32): i32 {
  if (len > FRAME_MAX_BYTES) { count(C_RX_FRAMES); count(C_OVERSIZED); return ERR_RANGE; }
  if (!inIo(ptr, len)) { count(C_BAD_CALLS); return ERR_RANGE; }
  return nodeReceive(ptr, len, rssiDbm, snrDbX4);
}

export function node_tx_done(): void { nodeTxDone(); }

export function node_command(ptr: i32, len: i32): i32 {
  if (!inIo(ptr, len)) { count(C_BAD_CALLS); return ERR_RANGE; }
  return nodeCommand(ptr, len);
}

export function node_poll(): i32 { return nodePoll(); }

export function node_counter(id: i32): i32 { return counter(id); }

/** Bytes from the USB serial line (firmware/SERIAL.md), any amount and chunking; returns the good packets they completed. */
export function serial_receive(ptr: i32, len: i32): i32 {
  if (!inIo(ptr, len)) { count(C_BAD_CALLS); return ERR_RANGE; }
  return serialReceive(ptr, len);
}
