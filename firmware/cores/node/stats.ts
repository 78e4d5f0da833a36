// Counters of the node core, read by hosts with node_counter(id).
// Ids 1..12 are the drop reasons of frame.ts (DROP_*), counted when a received
// frame is dropped for that reason; the others are named below.

export const COUNTER_SLOTS: i32 = 64;

export const C_RX_FRAMES: i32 = 0;
// 1..12: DROP_TOO_SHORT .. DROP_REPLAY (frame.ts)
/** A copy of a frame already handled (not an error: flooding makes copies). */
export const C_DUPLICATE: i32 = 13;
/** Not relayed: no hops left. */
export const C_HOPS_EXHAUSTED: i32 = 14;
/** Frame longer than a LoRa packet handed in by the host. */
export const C_OVERSIZED: i32 = 15;
export const C_TX_FRAMES: i32 = 16;
export const C_TX_AIRTIME_MS: i32 = 17;
export const C_RELAYED: i32 = 18;
export const C_RELAY_CANCELLED: i32 = 19;
export const C_DELIVERED_DIRECT: i32 = 20;
export const C_DELIVERED_CHANNEL: i32 = 21;
export const C_ACKS_SENT: i32 = 22;
export const C_ACKS_RECEIVED: i32 = 23;
export const C_ROUTES_LEARNED: i32 = 24;
/** A unicast hop stayed silent: the route was dropped and the frame flooded. */
export const C_ROUTE_REPAIRS: i32 = 25;
export const C_DUTY_DEFERRALS: i32 = 26;
export const C_QUEUE_DROPS: i32 = 27;
export const C_UNICAST_SENT: i32 = 28;
export const C_FLOOD_SENT: i32 = 29;
export const C_CONTACTS: i32 = 30;
export const C_ANNOUNCES_SENT: i32 = 31;
/** End-to-end retries of direct messages. */
export const C_DIRECT_RETRIES: i32 = 32;
export const C_DIRECT_FAILED: i32 = 33;
/** Hop retries after a missing implicit acknowledgement. */
export const C_HOP_RETRIES: i32 = 34;
/** Frames for us that we could not use (no contact, unknown channel...). */
export const C_UNKNOWN_SENDER: i32 = 35;
/** The host called with a pointer outside the I/O buffer. */
export const C_BAD_CALLS: i32 = 36;
/** A new contact's announce was verified but every contact slot is held (recent direct messages). */
export const C_CONTACTS_FULL: i32 = 37;
/** Node counters end here; node_init resets ids below this one only. */
export const C_NODE_COUNTERS: i32 = 38;
// 38..43: frames dropped by the serial link, by reason (serial.ts, firmware/SERIAL.md
// "Drop reasons"). Not reset by node_init: the link outlives a restart of the node.
export const C_SERIAL_COBS: i32 = 38;
export const C_SERIAL_SHORT: i32 = 39;
export const C_SERIAL_OVERSIZED: i32 = 40;
export const C_SERIAL_CRC: i32 = 41;
export const C_SERIAL_VERSION: i32 = 42;
export const C_SERIAL_TYPE: i32 = 43;
// 44..63: storage (firmware/STORAGE.md), reset by node_init like the node counters.
export const C_STORAGE_FIRST: i32 = 44;
/** Direct messages this node handed to keepers (after its own attempts failed). */
export const C_MAIL_DEPOSITED: i32 = 44;
/** Mails this node took to keep for someone else. */
export const C_MAIL_KEPT: i32 = 45;
/** Delivery transmissions of kept mail (the recipient was heard again). */
export const C_MAIL_DELIVERIES: i32 = 46;
/** Direct messages this node received from keepers. */
export const C_MAIL_RECEIVED: i32 = 47;
export const C_MAIL_RECEIPTS_SENT: i32 = 48;
/** Kept mails dropped on a verified receipt (delivered by us or another keeper). */
export const C_MAIL_RELEASED: i32 = 49;
export const C_MAIL_EXPIRED: i32 = 50;
/** Deposits refused: store full, the destination's quota used, or the rate limit. */
export const C_MAIL_REFUSED: i32 = 51;
/** STORE frames that opened but whose content was malformed or failed a check (bad receipt key, bad block hash). */
export const C_STORE_BAD: i32 = 52;
export const C_BLOCKS_HELD: i32 = 53;
export const C_BLOCKS_SERVED: i32 = 54;
export const C_BLOCKS_FETCHED: i32 = 55;
/** Blocks that arrived with data not matching their address (corrupted): dropped and fetched again. */
export const C_BLOCK_HASH_BAD: i32 = 56;
export const C_FILE_REPLICATIONS: i32 = 57;
// 58..63: spare storage counters.

const COUNTERS: usize = memory.data(COUNTER_SLOTS * 4, 4);

export function count(id: i32): void {
  if (id < 0 || id >= COUNTER_SLOTS) return;
  const p = COUNTERS + (<usize>id << 2);
  const v = load<u32>(p);
  if (v != 0xffffffff) store<u32>(p, v + 1);
}

export function countAdd(id: i32, n: i32): void {
  if (id < 0 || id >= COUNTER_SLOTS || n <= 0) return;
  const p = COUNTERS + (<usize>id << 2);
  const v = <u64>load<u32>(p) + <u64>n;
  store<u32>(p, v > 0xffffffff ? 0xffffffff : <u32>v);
}

export function setCounter(id: i32, v: i32): void {
  if (id < 0 || id >= COUNTER_SLOTS) return;
  store<i32>(COUNTERS + (<usize>id << 2), v);
}

export function counter(id: i32): i32 {
  if (id < 0 || id >= COUNTER_SLOTS) return -1;
  return load<i32>(COUNTERS + (<usize>id << 2));
}

/** Clears the node counters (ids below C_NODE_COUNTERS); the serial link's stay. */
export function countersReset(): void {
  memory.fill(COUNTERS, 0, C_NODE_COUNTERS * 4);
  memory.fill(COUNTERS + (<usize>C_STORAGE_FIRST << 2), 0, (COUNTER_SLOTS - C_STORAGE_FIRST) * 4);
}
