// What the bridge needs beyond the serial codec (host-tools/serial/codec.ts):
// radio frame facts for the MQTT uplink (PROTOCOL.md "Frame layout") and
// readable names for statuses and counters.
import { COUNTER_NAMES, STATUS_NAMES } from "../serial/codec.js";

/** Frame id: the first 8 bytes of the nonce, at frame offset 10. */
export const FRAME_ID_OFFSET = 10;
export const FRAME_ID_BYTES = 8;

/** The frame id (hex) of a radio frame, or null when the frame is too short to have one. */
export function frameId(frame: Uint8Array): string | null {
  if (frame.length < FRAME_ID_OFFSET + FRAME_ID_BYTES) return null;
  return Buffer.from(frame.subarray(FRAME_ID_OFFSET, FRAME_ID_OFFSET + FRAME_ID_BYTES)).toString("hex");
}

/** A frame of one of the three lengths (bodies of 48, 112 or 197 bytes) with version bits 1. */
export function plausibleFrame(frame: Uint8Array): boolean {
  return (frame.length === 106 || frame.length === 170 || frame.length === 255) && frame[0] >> 6 === 1;
}

/** A RESULT status for people. */
export function statusText(status: number): string {
  return STATUS_NAMES[status] ?? (status > 0 ? `dropped (reason ${status})` : `status ${status}`);
}

/** node_counter values by name (ABI.md ids). */
export function namedCounters(counters: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  counters.forEach((value, i) => { out[COUNTER_NAMES[i] ?? `counter${i}`] = value; });
  return out;
}
