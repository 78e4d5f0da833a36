// Learned routes: destination tag -> the neighbour to hand a frame to.
//
// A route is learned when a frame from (or a reply for) a destination arrives
// through a neighbour: the neighbour that carried it is the next hop towards that
// destination (Meshtastic 2.6 learns next hops the same way, anchors.md). Each
// entry holds the 8-byte destination tag, the next-hop pseudonym (u32), when the
// route was learned or last confirmed, when it was last used, and how many
// implicit acknowledgements in a row were missed (we sent through the next hop
// and did not hear it pass the frame on).
//
// Self-repair: ROUTE_MAX_FAILURES misses in a row drop the route, so the node
// falls back to flooding and learns a fresh one. A route also expires
// ROUTE_MAX_AGE_MS after it was last learned or confirmed, however often it is
// used: only evidence keeps it alive.
//
// Bounds: ROUTE_CAPACITY entries. A new destination takes a free or expired
// entry, else evicts the least recently used one (learn, lookup and confirm
// count as use). Order of use is kept with a 32-bit use counter, not the clock,
// so the LRU choice survives a clock that jumps; counters are compared by their
// distance from the current count, which stays right across wrap-around.
// Every call that takes `nowMs` scans the table (128 entries: one u64 compare and
// one age check each), freeing expired routes as it goes, so an expired route
// stays gone even if the clock later steps back. Routes are looked up once per
// frame we originate or forward, a few per second at most.
//
// Time: `nowMs` is the host's monotonic clock in ms (clamped to 0..2^62). A route
// learned "in the future" (the clock went backwards) counts as just learned.
//
// Memory (ROUTE_MEMORY_BYTES = 5 128):
//   STATE    8 B   useCounter u32, pad
//   ENTRIES  128 x 40 B
//     0 tag u64 | 8 learnedMs i64 | 16 lastUsedMs i64 | 24 nextHop u32 | 28 useStamp u32
//     32 failures u16 | 34 flags u16 | 36 pad

import { clampTime, spanInMemory, TIME_MAX_MS } from "./bounds";
/** Routes kept. */
export const ROUTE_CAPACITY: i32 = 128;
/** Destination tags are 8 bytes. */
export const ROUTE_TAG_BYTES: i32 = 8;
/**
 * Missed implicit ACKs in a row that drop a route. MeshCore resets a path after 3
 * failures and Meshtastic retries twice before falling back to flooding (anchors.md).
 */
export const ROUTE_MAX_FAILURES: i32 = 3;
/**
 * A route not learned again or confirmed for this long is dropped (30 minutes).
 * Starting value; the simulator will tune it against node mobility.
 */
export const ROUTE_MAX_AGE_MS: i64 = 30 * 60 * 1000;
export const ROUTE_ENTRY_BYTES: i32 = 40;
/** Static memory used by this module in bytes. */
export const ROUTE_MEMORY_BYTES: i32 = 8 + ROUTE_CAPACITY * ROUTE_ENTRY_BYTES;


const STATE: usize = memory.data(8, 8);
const OFF_USE_COUNTER: usize = 0;

const ENTRIES: usize = memory.data(ROUTE_CAPACITY * ROUTE_ENTRY_BYTES, 8);
const E_TAG: usize = 0;
const E_LEARNED: usize = 8;
const E_LAST_USED: usize = 16;
const E_NEXT_HOP: usize = 24;
const E_USE_STAMP: usize = 28;
const E_FAILURES: usize = 32;
const E_FLAGS: usize = 34;
const FLAG_USED: u16 = 1;

// @ts-ignore: decorator
@inline
function entry(slot: i32): usize {
  return ENTRIES + <usize>slot * <usize>ROUTE_ENTRY_BYTES;
}

function occupied(slot: i32): bool {
  return slot >= 0 && slot < ROUTE_CAPACITY && (load<u16>(entry(slot) + E_FLAGS) & FLAG_USED) != 0;
}

function live(slot: i32, nowMs: i64): bool {
  return nowMs - load<i64>(entry(slot) + E_LEARNED) < ROUTE_MAX_AGE_MS;
}

/** Marks `slot` as the most recently used entry. */
function touch(slot: i32): void {
  const next = load<u32>(STATE + OFF_USE_COUNTER) + 1;
  store<u32>(STATE + OFF_USE_COUNTER, next);
  store<u32>(entry(slot) + E_USE_STAMP, next);
}

/** Uses since `slot` was last touched (larger = less recently used). */
function idleUses(slot: i32): u32 {
  return load<u32>(STATE + OFF_USE_COUNTER) - load<u32>(entry(slot) + E_USE_STAMP);
}

/**
 * Slot of the live route for `tag`, or -1. Frees every expired route on the way, so
 * an expired route stays gone even if the clock later steps back.
 */
function find(tag: u64, nowMs: i64): i32 {
  let found = -1;
  for (let s = 0; s < ROUTE_CAPACITY; s++) {
    if (!occupied(s)) continue;
    if (!live(s, nowMs)) { store<u16>(entry(s) + E_FLAGS, 0); continue; }
    if (load<u64>(entry(s) + E_TAG) == tag) found = s;
  }
  return found;
}

/** Empties the table. */
export function routeReset(): void {
  memory.fill(STATE, 0, 8);
  memory.fill(ENTRIES, 0, ROUTE_CAPACITY * ROUTE_ENTRY_BYTES);
}

/**
 * Learns (or re-learns) that destination `tagPtr` (8 bytes) is reached through
 * neighbour `nextHop`: sets the next hop, the learned time, clears the failure
 * count. A new route's last-used time starts at `nowMs`. Returns the slot; -1 for a
 * bad pointer. When the table is full of live routes the least recently used is evicted.
 */
export function routeLearn(tagPtr: usize, nextHop: u32, nowMs: i64): i32 {
  if (!spanInMemory(tagPtr, ROUTE_TAG_BYTES)) return -1;
  const now = clampTime(nowMs);
  const tag = load<u64>(tagPtr);
  let slot = find(tag, now);
  if (slot < 0) {
    // A free entry (find freed the expired ones), else the least recently used one.
    let lru = -1;
    for (let s = 0; s < ROUTE_CAPACITY; s++) {
      if (!occupied(s)) { slot = s; break; }
      if (lru < 0 || idleUses(s) > idleUses(lru)) lru = s;
    }
    if (slot < 0) slot = lru;
    const e = entry(slot);
    store<u64>(e + E_TAG, tag);
    store<i64>(e + E_LAST_USED, now);
    store<u16>(e + E_FLAGS, FLAG_USED);
  }
  const e = entry(slot);
  store<u32>(e + E_NEXT_HOP, nextHop);
  store<i64>(e + E_LEARNED, now);
  store<u16>(e + E_FAILURES, 0);
  touch(slot);
  return slot;
}

/**
 * Slot of the live route to `tagPtr`, or -1 (none, expired, bad pointer). A hit
 * counts as use: last-used time = `nowMs`, most recently used for eviction.
 */
export function routeLookup(tagPtr: usize, nowMs: i64): i32 {
  if (!spanInMemory(tagPtr, ROUTE_TAG_BYTES)) return -1;
  const now = clampTime(nowMs);
  const slot = find(load<u64>(tagPtr), now);
  if (slot < 0) return -1;
  store<i64>(entry(slot) + E_LAST_USED, now);
  touch(slot);
  return slot;
}

/**
 * An implicit ACK was heard for a frame sent along the route to `tagPtr`: clears the
 * failure count and refreshes the learned time. False when there is no live route.
 */
export function routeConfirm(tagPtr: usize, nowMs: i64): bool {
  if (!spanInMemory(tagPtr, ROUTE_TAG_BYTES)) return false;
  const now = clampTime(nowMs);
  const slot = find(load<u64>(tagPtr), now);
  if (slot < 0) return false;
  const e = entry(slot);
  store<u16>(e + E_FAILURES, 0);
  store<i64>(e + E_LEARNED, now);
  touch(slot);
  return true;
}

/**
 * An implicit ACK was missed on the route to `tagPtr`. Returns the failure count
 * after this miss; at ROUTE_MAX_FAILURES the route is dropped (and that count is
 * returned). -1 when there is no live route.
 */
export function routeFail(tagPtr: usize, nowMs: i64): i32 {
  if (!spanInMemory(tagPtr, ROUTE_TAG_BYTES)) return -1;
  const slot = find(load<u64>(tagPtr), clampTime(nowMs));
  if (slot < 0) return -1;
  const e = entry(slot);
  const failures = <i32>load<u16>(e + E_FAILURES) + 1;
  if (failures >= ROUTE_MAX_FAILURES) store<u16>(e + E_FLAGS, 0);
  else store<u16>(e + E_FAILURES, <u16>failures);
  return failures;
}

/** Drops the route to `tagPtr`. True when a live route was dropped. */
export function routeForget(tagPtr: usize, nowMs: i64): bool {
  if (!spanInMemory(tagPtr, ROUTE_TAG_BYTES)) return false;
  const slot = find(load<u64>(tagPtr), clampTime(nowMs));
  if (slot < 0) return false;
  store<u16>(entry(slot) + E_FLAGS, 0);
  return true;
}

/** Drops every route through neighbour `nextHop` (it went away). Returns how many live routes were dropped. */
export function routeForgetHop(nextHop: u32, nowMs: i64): i32 {
  const now = clampTime(nowMs);
  let n = 0;
  for (let s = 0; s < ROUTE_CAPACITY; s++) {
    if (!occupied(s)) continue;
    const alive = live(s, now);
    if (alive && load<u32>(entry(s) + E_NEXT_HOP) != nextHop) continue;
    if (alive) n++;
    store<u16>(entry(s) + E_FLAGS, 0);   // through that neighbour, or expired
  }
  return n;
}

/** Next-hop pseudonym of `slot` (0 for a bad slot). */
export function routeNextHop(slot: i32): u32 {
  return occupied(slot) ? load<u32>(entry(slot) + E_NEXT_HOP) : 0;
}

/** Time the route in `slot` was learned or last confirmed, -1 for a bad slot. */
export function routeLearnedMs(slot: i32): i64 {
  return occupied(slot) ? load<i64>(entry(slot) + E_LEARNED) : -1;
}

/** Time the route in `slot` was last looked up (its learning time before that), -1 for a bad slot. */
export function routeLastUsedMs(slot: i32): i64 {
  return occupied(slot) ? load<i64>(entry(slot) + E_LAST_USED) : -1;
}

/** Missed implicit ACKs in a row on `slot`, -1 for a bad slot. */
export function routeFailures(slot: i32): i32 {
  return occupied(slot) ? <i32>load<u16>(entry(slot) + E_FAILURES) : -1;
}

/** Copies the 8-byte destination tag of `slot` to `outPtr`. False for a bad slot or pointer. */
export function routeCopyTag(slot: i32, outPtr: usize): bool {
  if (!occupied(slot) || !spanInMemory(outPtr, ROUTE_TAG_BYTES)) return false;
  store<u64>(outPtr, load<u64>(entry(slot) + E_TAG));
  return true;
}

/** Live routes at `nowMs` (expired ones are freed). */
export function routeCount(nowMs: i64): i32 {
  find(0, clampTime(nowMs));   // frees the expired routes; the tag does not matter
  let n = 0;
  for (let s = 0; s < ROUTE_CAPACITY; s++) if (occupied(s)) n++;
  return n;
}
