// Duplicate filter: the frames this node has heard recently.
//
// Managed flooding needs to know, for every frame, whether it is new. Each
// entry holds the frame id (8 bytes, random: taken from the sender's nonce), the
// pseudonym of the neighbour we first heard it from (the previous hop, u32), the
// frame's 8-byte destination tag, the time it was first heard, how many copies
// we heard and whether we relayed it. The previous hop and the tag are what the
// router later learns reverse routes from.
//
// Bounds: DEDUP_CAPACITY entries in a ring, written in arrival order. A new id
// always takes the ring slot after the newest one, evicting whatever lived
// there: the oldest entry (or a hole left by an expired one). So an entry lives
// until DEDUP_CAPACITY newer ids arrive or it is DEDUP_MAX_AGE_MS old, whichever
// is first. An attacker sending random ids only rolls the ring over faster; the
// table never grows.
//
// Lookup: an open-addressing index (linear probing) of DEDUP_INDEX_SLOTS u16
// cells, twice the capacity, so it is never more than half full and a probe
// sequence is short (expected < 2 cells). Deletion shifts the following cells
// back (Knuth, TAOCP vol. 3, §6.4, Algorithm R), so no tombstones accumulate.
// Cell positions come from a 64-bit mix (MurmurHash3's fmix64 finaliser) of the id
// XOR a per-boot secret seed (dedupReset), so a sender cannot pick ids that pile
// into one probe run; even if it could, every loop is bounded by the index size.
//
// Time: `nowMs` is the host's monotonic clock in ms (clamped to 0..2^62). Age is
// judged on every call: an entry is live while nowMs - firstSeenMs <
// DEDUP_MAX_AGE_MS. One whose first-seen time lies in the future (the clock went
// backwards) therefore counts as just seen, and an expired entry that is still in
// the ring counts again if the clock steps back far enough; dedupExpire frees
// expired entries for good. Either way a frame is at worst suppressed or relayed
// once more, and the ring bounds everything.
//
// Memory (DEDUP_MEMORY_BYTES = 18 448):
//   STATE    16 B   seed u64, head i32 (next ring slot), count i32 (occupied slots)
//   ENTRIES  512 x 32 B
//     0  id u64 | 8 tag u64 | 16 firstSeenMs i64 | 24 prevHop u32 | 28 copies u16 | 30 flags u8 | 31 pad
//   INDEX    1024 x u16: 0 = empty cell, else ring slot + 1

import { clampTime, spanInMemory, TIME_MAX_MS } from "./bounds";
/** Entries kept. */
export const DEDUP_CAPACITY: i32 = 512;
/** Cells of the hash index: twice the capacity keeps the load factor <= 1/2. */
export const DEDUP_INDEX_SLOTS: i32 = 1024;
/** Frame ids and destination tags are 8 bytes. */
export const DEDUP_ID_BYTES: i32 = 8;
export const DEDUP_TAG_BYTES: i32 = 8;
/**
 * Age after which an entry no longer suppresses anything. It must outlast every copy of
 * one flood: hop limit 7 (Meshtastic's maximum, anchors.md) x (2.2 s airtime of a 255-byte
 * LongFast frame + at most 1.3 s contention, txqueue.ts) is about 25 s; ten minutes leaves
 * room for relays held back by the duty cycle. Under load the ring rolls over sooner.
 */
export const DEDUP_MAX_AGE_MS: i64 = 10 * 60 * 1000;
/** Copies are counted up to this value and then stay there. */
export const DEDUP_COPIES_MAX: i32 = 0xffff;
export const DEDUP_ENTRY_BYTES: i32 = 32;
/** Static memory used by this module in bytes. */
export const DEDUP_MEMORY_BYTES: i32 = 16 + DEDUP_CAPACITY * DEDUP_ENTRY_BYTES + DEDUP_INDEX_SLOTS * 2;

const INDEX_BITS: u64 = 10;                       // log2(DEDUP_INDEX_SLOTS)
const INDEX_MASK: i32 = DEDUP_INDEX_SLOTS - 1;

const STATE: usize = memory.data(16, 8);
const OFF_SEED: usize = 0;
const OFF_HEAD: usize = 8;
const OFF_COUNT: usize = 12;

const ENTRIES: usize = memory.data(DEDUP_CAPACITY * DEDUP_ENTRY_BYTES, 8);
const E_ID: usize = 0;
const E_TAG: usize = 8;
const E_FIRST_SEEN: usize = 16;
const E_PREV_HOP: usize = 24;
const E_COPIES: usize = 28;
const E_FLAGS: usize = 30;
const FLAG_USED: u8 = 1;
const FLAG_RELAYED: u8 = 2;
const FLAG_FROM_ORIGIN: u8 = 4;

const INDEX: usize = memory.data(DEDUP_INDEX_SLOTS * 2, 8);

// @ts-ignore: decorator
@inline
function entry(slot: i32): usize {
  return ENTRIES + (<usize>slot << 5);
}

// @ts-ignore: decorator
@inline
function cell(pos: i32): usize {
  return INDEX + (<usize>pos << 1);
}

/** True when `slot` is a ring slot holding an entry. */
function occupied(slot: i32): bool {
  return slot >= 0 && slot < DEDUP_CAPACITY && (load<u8>(entry(slot) + E_FLAGS) & FLAG_USED) != 0;
}

/** True when the entry at `slot` is still young enough to count at `nowMs`. */
function live(slot: i32, nowMs: i64): bool {
  return nowMs - load<i64>(entry(slot) + E_FIRST_SEEN) < DEDUP_MAX_AGE_MS;
}

/** Home cell of an id: top INDEX_BITS of fmix64(id ^ seed) (MurmurHash3, Appleby). */
function home(id: u64): i32 {
  let h = id ^ load<u64>(STATE + OFF_SEED);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccd;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53;
  h ^= h >> 33;
  return <i32>(h >> (64 - INDEX_BITS));
}

/** Index cell holding `id`, or -1. */
function findCell(id: u64): i32 {
  let pos = home(id);
  for (let n = 0; n < DEDUP_INDEX_SLOTS; n++) {
    const v = <i32>load<u16>(cell(pos));
    if (v == 0) return -1;
    if (load<u64>(entry(v - 1) + E_ID) == id) return pos;
    pos = (pos + 1) & INDEX_MASK;
  }
  return -1;
}

/** Empties index cell `pos` and moves later cells of the same probe run back (Algorithm R). */
function deleteCell(pos: i32): void {
  let hole = pos;
  let j = pos;
  for (let n = 0; n < DEDUP_INDEX_SLOTS; n++) {
    j = (j + 1) & INDEX_MASK;
    const v = load<u16>(cell(j));
    if (v == 0) break;
    const k = home(load<u64>(entry(<i32>v - 1) + E_ID));
    // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
    const stays = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j);
    if (!stays) {
      store<u16>(cell(hole), v);
      hole = j;
    }
  }
  store<u16>(cell(hole), 0);
}

/** Frees ring slot `slot` (must be occupied). */
function removeSlot(slot: i32): void {
  const e = entry(slot);
  const pos = findCell(load<u64>(e + E_ID));
  if (pos >= 0) deleteCell(pos);
  store<u8>(e + E_FLAGS, 0);
  store<i32>(STATE + OFF_COUNT, load<i32>(STATE + OFF_COUNT) - 1);
}

/**
 * Empties the table and sets the secret that spreads ids over the index. Call once
 * at boot with a random value (the host's RNG); without it the seed is 0, which works
 * but lets a sender who knows the code craft colliding ids.
 */
export function dedupReset(hashSeed: u64): void {
  memory.fill(STATE, 0, 16);
  memory.fill(ENTRIES, 0, DEDUP_CAPACITY * DEDUP_ENTRY_BYTES);
  memory.fill(INDEX, 0, DEDUP_INDEX_SLOTS * 2);
  store<u64>(STATE + OFF_SEED, hashSeed);
}

/** Slot of the live entry for the 8-byte id at `idPtr`, or -1 (unknown, expired, or bad pointer). */
export function dedupLookup(idPtr: usize, nowMs: i64): i32 {
  if (!spanInMemory(idPtr, DEDUP_ID_BYTES)) return -1;
  const pos = findCell(load<u64>(idPtr));
  if (pos < 0) return -1;
  const slot = <i32>load<u16>(cell(pos)) - 1;
  return live(slot, clampTime(nowMs)) ? slot : -1;
}

/**
 * Records a frame heard for the first time: id (8 bytes at `idPtr`), the neighbour it
 * came from, its destination tag (8 bytes at `tagPtr`). Copies = 1, not relayed.
 * Returns its slot. When the id already has a live entry, that slot is returned
 * unchanged (count the copy with dedupNoteCopy); an expired entry for the id is
 * replaced. -1 only for a bad pointer.
 */
export function dedupInsert(idPtr: usize, prevHop: u32, tagPtr: usize, nowMs: i64): i32 {
  if (!spanInMemory(idPtr, DEDUP_ID_BYTES) || !spanInMemory(tagPtr, DEDUP_TAG_BYTES)) return -1;
  const now = clampTime(nowMs);
  const id = load<u64>(idPtr);
  const tag = load<u64>(tagPtr);
  const pos = findCell(id);
  if (pos >= 0) {
    const old = <i32>load<u16>(cell(pos)) - 1;
    if (live(old, now)) return old;
    removeSlot(old);
  }
  const slot = load<i32>(STATE + OFF_HEAD);
  if (occupied(slot)) removeSlot(slot);
  store<i32>(STATE + OFF_HEAD, slot + 1 < DEDUP_CAPACITY ? slot + 1 : 0);
  const e = entry(slot);
  store<u64>(e + E_ID, id);
  store<u64>(e + E_TAG, tag);
  store<i64>(e + E_FIRST_SEEN, now);
  store<u32>(e + E_PREV_HOP, prevHop);
  store<u16>(e + E_COPIES, 1);
  store<u8>(e + E_FLAGS, FLAG_USED);
  let p = home(id);
  for (let n = 0; n < DEDUP_INDEX_SLOTS; n++) {   // at most half full: an empty cell exists
    if (load<u16>(cell(p)) == 0) break;
    p = (p + 1) & INDEX_MASK;
  }
  store<u16>(cell(p), <u16>(slot + 1));
  store<i32>(STATE + OFF_COUNT, load<i32>(STATE + OFF_COUNT) + 1);
  return slot;
}

/** Counts one more copy heard of the frame in `slot`; returns the new count (saturating), -1 for a bad slot. */
export function dedupNoteCopy(slot: i32): i32 {
  if (!occupied(slot)) return -1;
  const e = entry(slot);
  let copies = <i32>load<u16>(e + E_COPIES);
  if (copies < DEDUP_COPIES_MAX) copies++;
  store<u16>(e + E_COPIES, <u16>copies);
  return copies;
}

/** Marks the frame in `slot` as relayed by us. False for a bad slot. */
export function dedupMarkRelayed(slot: i32): bool {
  if (!occupied(slot)) return false;
  const e = entry(slot);
  store<u8>(e + E_FLAGS, load<u8>(e + E_FLAGS) | FLAG_RELAYED);
  return true;
}

/**
 * Marks that the first copy of the frame in `slot` came straight from its origin
 * (hops left = hop limit): its previous hop is the origin itself. False for a bad slot.
 */
export function dedupMarkFromOrigin(slot: i32): bool {
  if (!occupied(slot)) return false;
  const e = entry(slot);
  store<u8>(e + E_FLAGS, load<u8>(e + E_FLAGS) | FLAG_FROM_ORIGIN);
  return true;
}

/** Whether the first copy of the frame in `slot` came straight from its origin. */
export function dedupFromOrigin(slot: i32): bool {
  return occupied(slot) && (load<u8>(entry(slot) + E_FLAGS) & FLAG_FROM_ORIGIN) != 0;
}

/** Previous-hop pseudonym of `slot` (0 for a bad slot). */
export function dedupPrevHop(slot: i32): u32 {
  return occupied(slot) ? load<u32>(entry(slot) + E_PREV_HOP) : 0;
}

/** First-seen time of `slot` in ms, -1 for a bad slot. */
export function dedupFirstSeenMs(slot: i32): i64 {
  return occupied(slot) ? load<i64>(entry(slot) + E_FIRST_SEEN) : -1;
}

/** Copies heard of `slot` (>= 1), -1 for a bad slot. */
export function dedupCopies(slot: i32): i32 {
  return occupied(slot) ? <i32>load<u16>(entry(slot) + E_COPIES) : -1;
}

/** Whether we relayed the frame in `slot` (false for a bad slot). */
export function dedupRelayed(slot: i32): bool {
  return occupied(slot) && (load<u8>(entry(slot) + E_FLAGS) & FLAG_RELAYED) != 0;
}

/** Copies the 8-byte id of `slot` to `outPtr`. False for a bad slot or pointer. */
export function dedupCopyId(slot: i32, outPtr: usize): bool {
  if (!occupied(slot) || !spanInMemory(outPtr, DEDUP_ID_BYTES)) return false;
  store<u64>(outPtr, load<u64>(entry(slot) + E_ID));
  return true;
}

/** Copies the 8-byte destination tag of `slot` to `outPtr`. False for a bad slot or pointer. */
export function dedupCopyTag(slot: i32, outPtr: usize): bool {
  if (!occupied(slot) || !spanInMemory(outPtr, DEDUP_TAG_BYTES)) return false;
  store<u64>(outPtr, load<u64>(entry(slot) + E_TAG));
  return true;
}

/** Entries live at `nowMs` (scans the ring: diagnostics, not the hot path). */
export function dedupCount(nowMs: i64): i32 {
  const now = clampTime(nowMs);
  let n = 0;
  for (let s = 0; s < DEDUP_CAPACITY; s++) if (occupied(s) && live(s, now)) n++;
  return n;
}

/** Occupied ring slots, expired ones included (always <= DEDUP_CAPACITY). */
export function dedupOccupied(): i32 {
  return load<i32>(STATE + OFF_COUNT);
}

/** Frees every expired entry; returns how many. Optional: expired entries never match anyway. */
export function dedupExpire(nowMs: i64): i32 {
  const now = clampTime(nowMs);
  let n = 0;
  for (let s = 0; s < DEDUP_CAPACITY; s++) {
    if (occupied(s) && !live(s, now)) { removeSlot(s); n++; }
  }
  return n;
}
