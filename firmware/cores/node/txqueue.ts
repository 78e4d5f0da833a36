// Transmit queue and the contention-window rule of managed flooding.
//
// Each of TX_SLOTS slots holds one whole frame (up to 255 bytes, the LoRa payload
// limit), its priority, the earliest time it may go on air (the contention delay
// of a relay, or a retry time), its 8-byte frame id, and how many copies of the
// same frame neighbours sent while it waited. A relay that hears enough copies
// is cancelled: the neighbours already covered the area (managed flooding,
// anchors.md).
//
// Priorities, highest first: ACK > direct > channel > relayed flood > announce.
// Acknowledgements are small and stop retries elsewhere, so they go first;
// announces only refresh routes and can always wait.
//
// Bounds: when every slot is taken, a new frame evicts the lowest-priority entry
// (the most recently queued among equals) only if the new frame's priority is
// strictly higher; otherwise the new frame is refused. A frame id is queued at
// most once. Everything is O(TX_SLOTS).
//
// Time: `nowMs` and `notBeforeMs` are the host's monotonic clock in ms (clamped
// to 0..2^62).
//
// Memory (TX_MEMORY_BYTES = 4 616):
//   STATE  8 B   seqCounter u32 (queue order), count i32
//   SLOTS  16 x 288 B
//     0 frame[256] | 256 id u64 | 264 notBeforeMs i64 | 272 seq u32 | 276 len u16
//     278 priority u8 | 279 heard u8 | 280 flags u8 | 281 pad

import { clampTime, spanInMemory, TIME_MAX_MS } from "./bounds";
/** Frames the queue holds. */
export const TX_SLOTS: i32 = 16;
/** Largest frame: the LoRa explicit header's one-byte length field (lora-phy.md). */
export const TX_FRAME_MAX_BYTES: i32 = 255;
/** Frame ids are 8 bytes (random, from the sender's nonce). */
export const TX_ID_BYTES: i32 = 8;

/** Priorities (larger goes first). */
export const TX_PRIO_ANNOUNCE: i32 = 0;
export const TX_PRIO_FLOOD_RELAY: i32 = 1;
export const TX_PRIO_CHANNEL: i32 = 2;
export const TX_PRIO_DIRECT: i32 = 3;
export const TX_PRIO_ACK: i32 = 4;

/** txNextWakeMs of an empty queue: nothing to wake up for. */
export const TX_NEVER: i64 = i64.MAX_VALUE;
/** The duplicate counter stops here. */
export const TX_HEARD_MAX: i32 = 255;
export const TX_SLOT_BYTES: i32 = 288;
/** Static memory used by this module in bytes. */
export const TX_MEMORY_BYTES: i32 = 8 + TX_SLOTS * TX_SLOT_BYTES;


const STATE: usize = memory.data(8, 8);
const OFF_SEQ: usize = 0;
const OFF_COUNT: usize = 4;

const SLOTS: usize = memory.data(TX_SLOTS * TX_SLOT_BYTES, 8);
const S_FRAME: usize = 0;
const S_ID: usize = 256;
const S_NOT_BEFORE: usize = 264;
const S_SEQ: usize = 272;
const S_LEN: usize = 276;
const S_PRIORITY: usize = 278;
const S_HEARD: usize = 279;
const S_FLAGS: usize = 280;
const FLAG_USED: u8 = 1;

// @ts-ignore: decorator
@inline
function slotAt(slot: i32): usize {
  return SLOTS + <usize>slot * <usize>TX_SLOT_BYTES;
}

function occupied(slot: i32): bool {
  return slot >= 0 && slot < TX_SLOTS && (load<u8>(slotAt(slot) + S_FLAGS) & FLAG_USED) != 0;
}

/** Enqueue operations since `slot` was queued (larger = queued earlier; right across wrap-around). */
function queuedAgo(slot: i32): u32 {
  return load<u32>(STATE + OFF_SEQ) - load<u32>(slotAt(slot) + S_SEQ);
}

function findId(id: u64): i32 {
  for (let s = 0; s < TX_SLOTS; s++) {
    if (occupied(s) && load<u64>(slotAt(s) + S_ID) == id) return s;
  }
  return -1;
}

function free(slot: i32): void {
  store<u8>(slotAt(slot) + S_FLAGS, 0);
  store<i32>(STATE + OFF_COUNT, load<i32>(STATE + OFF_COUNT) - 1);
}

/** Empties the queue. */
export function txReset(): void {
  memory.fill(STATE, 0, 8);
  memory.fill(SLOTS, 0, TX_SLOTS * TX_SLOT_BYTES);
}

/**
 * Queues the `len`-byte frame at `framePtr` (1..255 bytes, copied) with `priority`
 * (TX_PRIO_*), not to be sent before `notBeforeMs`, under the 8-byte id at `idPtr`.
 * Returns its slot, or -1: bad length, priority or pointer; id already queued; queue
 * full of frames of equal or higher priority. When full and the new frame ranks
 * strictly higher than the lowest queued one, the lowest (latest queued among equals)
 * is dropped to make room.
 */
export function txEnqueue(framePtr: usize, len: i32, priority: i32, notBeforeMs: i64, idPtr: usize): i32 {
  if (len < 1 || len > TX_FRAME_MAX_BYTES) return -1;
  if (priority < TX_PRIO_ANNOUNCE || priority > TX_PRIO_ACK) return -1;
  if (!spanInMemory(framePtr, len) || !spanInMemory(idPtr, TX_ID_BYTES)) return -1;
  const id = load<u64>(idPtr);
  if (findId(id) >= 0) return -1;
  let slot = -1;
  let victim = -1;
  for (let s = 0; s < TX_SLOTS; s++) {
    if (!occupied(s)) { slot = s; break; }
    const p = <i32>load<u8>(slotAt(s) + S_PRIORITY);
    if (victim < 0) { victim = s; continue; }
    const vp = <i32>load<u8>(slotAt(victim) + S_PRIORITY);
    if (p < vp || (p == vp && queuedAgo(s) < queuedAgo(victim))) victim = s;
  }
  if (slot < 0) {
    if (victim < 0 || priority <= <i32>load<u8>(slotAt(victim) + S_PRIORITY)) return -1;
    free(victim);
    slot = victim;
  }
  const q = slotAt(slot);
  memory.copy(q + S_FRAME, framePtr, <usize>len);
  const seq = load<u32>(STATE + OFF_SEQ) + 1;
  store<u32>(STATE + OFF_SEQ, seq);
  store<u64>(q + S_ID, id);
  store<i64>(q + S_NOT_BEFORE, clampTime(notBeforeMs));
  store<u32>(q + S_SEQ, seq);
  store<u16>(q + S_LEN, <u16>len);
  store<u8>(q + S_PRIORITY, <u8>priority);
  store<u8>(q + S_HEARD, 0);
  store<u8>(q + S_FLAGS, FLAG_USED);
  store<i32>(STATE + OFF_COUNT, load<i32>(STATE + OFF_COUNT) + 1);
  return slot;
}

/**
 * A neighbour sent a copy of the frame with the 8-byte id at `idPtr`. If that frame
 * waits in the queue its counter goes up; when the counter reaches `cancelThreshold`
 * (> 0) the frame is removed and true is returned. `cancelThreshold` <= 0 never
 * cancels (a router that always relays). False when nothing was cancelled.
 */
export function txNoteDuplicateHeard(idPtr: usize, cancelThreshold: i32): bool {
  if (!spanInMemory(idPtr, TX_ID_BYTES)) return false;
  const slot = findId(load<u64>(idPtr));
  if (slot < 0) return false;
  const q = slotAt(slot);
  let heard = <i32>load<u8>(q + S_HEARD);
  if (heard < TX_HEARD_MAX) heard++;
  store<u8>(q + S_HEARD, <u8>heard);
  if (cancelThreshold > 0 && heard >= cancelThreshold) {
    free(slot);
    return true;
  }
  return false;
}

/**
 * The frame to send at `nowMs`: among frames whose notBeforeMs <= nowMs, the highest
 * priority, then the earliest notBeforeMs, then the earliest queued. -1 when none is
 * due. The frame stays queued until txRemove.
 */
export function txNextDue(nowMs: i64): i32 {
  const now = clampTime(nowMs);
  let best = -1;
  for (let s = 0; s < TX_SLOTS; s++) {
    if (!occupied(s)) continue;
    const q = slotAt(s);
    const due = load<i64>(q + S_NOT_BEFORE);
    if (due > now) continue;
    if (best < 0) { best = s; continue; }
    const b = slotAt(best);
    const p = load<u8>(q + S_PRIORITY), bp = load<u8>(b + S_PRIORITY);
    if (p != bp) { if (p > bp) best = s; continue; }
    const bdue = load<i64>(b + S_NOT_BEFORE);
    if (due != bdue) { if (due < bdue) best = s; continue; }
    if (queuedAgo(s) > queuedAgo(best)) best = s;
  }
  return best;
}

/** Removes the frame in `slot` (sent, or given up). False for a bad slot. */
export function txRemove(slot: i32): bool {
  if (!occupied(slot)) return false;
  free(slot);
  return true;
}

/** Earliest notBeforeMs in the queue (may be in the past), TX_NEVER when empty. */
export function txNextWakeMs(): i64 {
  let wake = TX_NEVER;
  for (let s = 0; s < TX_SLOTS; s++) {
    if (!occupied(s)) continue;
    const due = load<i64>(slotAt(s) + S_NOT_BEFORE);
    if (due < wake) wake = due;
  }
  return wake;
}

/** Moves the earliest send time of `slot` (a retry, or a wait for the duty cycle). False for a bad slot. */
export function txSetNotBefore(slot: i32, notBeforeMs: i64): bool {
  if (!occupied(slot)) return false;
  store<i64>(slotAt(slot) + S_NOT_BEFORE, clampTime(notBeforeMs));
  return true;
}

/** Slot of the queued frame with the 8-byte id at `idPtr`, or -1. */
export function txFind(idPtr: usize): i32 {
  if (!spanInMemory(idPtr, TX_ID_BYTES)) return -1;
  return findId(load<u64>(idPtr));
}

/** Frames queued. */
export function txCount(): i32 {
  return load<i32>(STATE + OFF_COUNT);
}

/** Length of the frame in `slot`, -1 for a bad slot. */
export function txLen(slot: i32): i32 {
  return occupied(slot) ? <i32>load<u16>(slotAt(slot) + S_LEN) : -1;
}

/** Priority of `slot`, -1 for a bad slot. */
export function txPriority(slot: i32): i32 {
  return occupied(slot) ? <i32>load<u8>(slotAt(slot) + S_PRIORITY) : -1;
}

/** Earliest send time of `slot`, -1 for a bad slot. */
export function txNotBeforeMs(slot: i32): i64 {
  return occupied(slot) ? load<i64>(slotAt(slot) + S_NOT_BEFORE) : -1;
}

/** Copies heard from neighbours while `slot` waited, -1 for a bad slot. */
export function txHeard(slot: i32): i32 {
  return occupied(slot) ? <i32>load<u8>(slotAt(slot) + S_HEARD) : -1;
}

/** Copies the frame of `slot` to `outPtr`; returns its length, -1 for a bad slot or pointer. */
export function txCopyFrame(slot: i32, outPtr: usize): i32 {
  if (!occupied(slot)) return -1;
  const len = <i32>load<u16>(slotAt(slot) + S_LEN);
  if (!spanInMemory(outPtr, len)) return -1;
  memory.copy(outPtr, slotAt(slot) + S_FRAME, <usize>len);
  return len;
}

/** Copies the 8-byte id of `slot` to `outPtr`. False for a bad slot or pointer. */
export function txCopyId(slot: i32, outPtr: usize): bool {
  if (!occupied(slot) || !spanInMemory(outPtr, TX_ID_BYTES)) return false;
  store<u64>(outPtr, load<u64>(slotAt(slot) + S_ID));
  return true;
}

// ---------------------------------------------------------------------------
// Contention window (managed flooding).
//
// A node that decides to relay a flood waits before sending; if it hears a
// neighbour relay the same frame meanwhile it counts the copy and may cancel
// (txNoteDuplicateHeard). The receiver that heard the frame weakest is probably
// the farthest from the previous sender, so its relay adds the most new coverage
// and it should go first. Meshtastic draws a wait from a window whose size grows
// with SNR: -20..+10 dB -> CW 3..8, wait = random(0 .. 2^CW - 1) slots (anchors.md).
// All its windows start at slot 0, so a near node can still draw an early slot,
// and a strong link can wait up to 255 slots (about 7 s at 28 ms per slot).
//
// Ours: the same SNR range cut into CONTENTION_BANDS bands of CONTENTION_BAND_DB,
// weakest first, each band its own CONTENTION_BAND_SLOTS slots:
//   wait = (band * CONTENTION_BAND_SLOTS + random slot in the band) * slotMs
// Bands do not overlap, so every receiver in a weaker band starts at least one
// slot before any receiver in a stronger band; a slot (about 2.5 symbols plus
// turnaround, 28 ms on LongFast) is long enough for the later node to detect the
// earlier preamble, defer, then hear the copy and cancel. Eight slots per band
// give two receivers in the same band the collision odds of Meshtastic's
// smallest window (CW 3), and the longest wait is 47 slots (about 1.3 s on
// LongFast) instead of 255. -20 dB is the SF12 demodulation floor (lora-phy.md);
// above +10 dB every link counts as "close". Starting values: the simulator will
// tune them by measurement.

/** SNR below which every receiver counts as farthest (SF12 demodulation floor, lora-phy.md). */
export const CONTENTION_SNR_MIN_DB: i32 = -20;
/** SNR above which every receiver counts as close (Meshtastic's upper end, anchors.md). */
export const CONTENTION_SNR_MAX_DB: i32 = 10;
/** Width of one SNR band. */
export const CONTENTION_BAND_DB: i32 = 5;
/** Number of bands covering CONTENTION_SNR_MIN_DB..CONTENTION_SNR_MAX_DB. */
export const CONTENTION_BANDS: i32 = (CONTENTION_SNR_MAX_DB - CONTENTION_SNR_MIN_DB) / CONTENTION_BAND_DB;
/** Random slots within one band (a power of two that divides 256, so one random byte picks uniformly). */
export const CONTENTION_BAND_SLOTS: i32 = 8;
/** Longest slot accepted; longer values are clamped (keeps the result far inside i32). */
export const CONTENTION_SLOT_MAX_MS: i32 = 10000;

/**
 * Contention delay in ms for a relay of a frame received at `snrDb` (whole dB), with
 * slots of `slotMs` and one uniformly random byte `randomByte` (only its low 8 bits
 * are used). Weaker SNR waits less. Result in 0 .. 47 * slotMs; slotMs <= 0 gives 0.
 */
export function contentionDelayMs(snrDb: i32, slotMs: i32, randomByte: i32): i32 {
  const slot = slotMs <= 0 ? 0 : slotMs > CONTENTION_SLOT_MAX_MS ? CONTENTION_SLOT_MAX_MS : slotMs;
  const snr = snrDb < CONTENTION_SNR_MIN_DB ? CONTENTION_SNR_MIN_DB : snrDb > CONTENTION_SNR_MAX_DB ? CONTENTION_SNR_MAX_DB : snrDb;
  let band = (snr - CONTENTION_SNR_MIN_DB) / CONTENTION_BAND_DB;
  if (band >= CONTENTION_BANDS) band = CONTENTION_BANDS - 1;   // +10 dB exactly joins the top band
  const jitter = ((randomByte & 0xff) * CONTENTION_BAND_SLOTS) >> 8;
  return (band * CONTENTION_BAND_SLOTS + jitter) * slot;
}
