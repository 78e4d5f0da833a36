// Mail kept for absent nodes: store-and-forward of sealed DIRECT frames
// (firmware/STORAGE.md "Mail"). Three roles, three fixed tables:
// - sender: a direct message whose attempts failed is deposited (OUTBOX: which
//   keepers confirmed, the drop hash that proves delivery);
// - keeper: volunteers for deposits heard nearby, keeps them through reboots
//   (KEPT, storage records mail.NN) and delivers when the recipient announces;
// - recipient: recognises deposits by its own mailbox tag, reassembles them
//   (INBOX), opens them through node.ts and answers with a RECEIPT.
// Nothing here can open a mail: keepers hold ciphertext, a mailbox tag, a drop
// hash and an expiry.
import { wipe } from "../crypto/ct";
import { sha256Final, sha256Init, sha256Update, SHA256_CTX_BYTES } from "../crypto/sha256";
import { random_fill, storage_get, storage_put } from "./env";
import { DEST_BYTES, FRAME_MAX_BYTES, HOP_LIMIT_MAX, OFF_BODY, OFF_DEST, OFF_HOPS, OFF_NONCE, TAG_BYTES } from "./frame";
import { ID_X25519_PUB, dropKey, mailboxTag } from "./keys";
import {
  emitDelivery, nodeAirtimeMs, nodeFloodSlotMs, nodeHopLimit, nodeIdentity, nodeNowMs, nodeOpenMail,
  nodeRandomByte, nodeTxRoom, storeSend,
} from "./node";
import {
  C_MAIL_DELIVERIES, C_MAIL_DEPOSITED, C_MAIL_EXPIRED, C_MAIL_KEPT, C_MAIL_RECEIPTS_SENT, C_MAIL_RECEIVED,
  C_DIRECT_FAILED, C_MAIL_REFUSED, C_MAIL_RELEASED, C_STORE_BAD, count,
} from "./stats";
import { TX_PRIO_CHANNEL, TX_PRIO_DIRECT } from "./txqueue";

// ---------------------------------------------------------------------------
// Operations and content layout (STORAGE.md "Operations")

export const MAIL_OP_DEPOSIT: i32 = 1;
export const MAIL_OP_KEPT: i32 = 2;
export const MAIL_OP_RECEIPT: i32 = 3;
export const MAIL_OP_ENOUGH: i32 = 4;
/** Operations 1..15 are mail. */
export const MAIL_OP_LAST: i32 = 15;

const DP_PART: i32 = 0;       // u8: index << 4 | count
const DP_COPIES: i32 = 1;     // u8: keepers wanted; 0 = a keeper delivering
const DP_MAILBOX: i32 = 2;    // 8: mailbox tag
const DP_EPOCH: i32 = 10;     // u32: epoch of the stored frame's dest tag
const DP_EXPIRY: i32 = 14;    // u32: unix s
const DP_DROP_HASH: i32 = 18; // 16: SHA-256(drop key)[0..16]
const DP_DATA: i32 = 34;      // stored-frame bytes of this part
/** Stored-frame bytes per DEPOSIT: 195 content bytes - 34 of header. */
export const DP_DATA_MAX_BYTES: i32 = 161;
const DROP_HASH_BYTES: i32 = 16;
const DROP_KEY_BYTES: i32 = 32;

/** Stored frame: hop limit (1) ‖ nonce (24) ‖ dest (8) ‖ body ‖ tag (16) = 49 + body bytes. */
const SF_HEADER_BYTES: i32 = 1 + 24 + DEST_BYTES;
export const STORED_SMALL_BYTES: i32 = SF_HEADER_BYTES + 48 + TAG_BYTES;   // 97
export const STORED_MEDIUM_BYTES: i32 = SF_HEADER_BYTES + 112 + TAG_BYTES; // 161
export const STORED_LARGE_BYTES: i32 = SF_HEADER_BYTES + 197 + TAG_BYTES;  // 246
const DIRECT_FLAGS: u8 = 0x50;

// ---------------------------------------------------------------------------
// Limits (STORAGE.md "Limits")

export const MAIL_KEPT_MAX: i32 = 24;
export const MAIL_PER_MAILBOX_MAX: i32 = 6;
export const MAIL_RATE_WINDOW_MS: i64 = 10 * 60 * 1000;
export const MAIL_RATE_MAX: i32 = 8;
/** The recipient keeps its previous prekey 48 h after making it; a sender may hold a 24 h old one. */
export const MAIL_EXPIRY_MAX_S: u32 = 24 * 3600;
export const MAIL_COPIES_DEFAULT: i32 = 3;
export const MAIL_COPIES_MAX: i32 = 4;
/**
 * Volunteers are at most this many hops from the depositing sender: its neighbours. The
 * last ring of volunteers does not relay a sender's DEPOSIT (hop limit 1 is the header's
 * smallest); KEPT and ENOUGH go out with hop limit MAIL_KEEPER_HOPS, one relay, enough for
 * the sender and the other volunteers (all within 2 hops of each other). Volunteers within
 * 2 hops were tried first: the simulator saw 5-6 keepers per mail instead of 3.
 */
export const MAIL_KEEPER_HOPS: i32 = 1;
/** Deliveries per announce heard, and the pause between them (in 255-byte airtimes, plus a margin). */
export const MAIL_DELIVER_TRIES: i32 = 4;
/**
 * Without a receipt after a round of tries, a keeper tries again MAIL_DELIVER_ROUNDS more
 * times, MAIL_ROUND_PAUSE_MS apart, before it waits for the recipient's next announce
 * (every 3 hours): the recipient was heard, so it is probably near; its announce may
 * only have been lucky.
 */
export const MAIL_DELIVER_ROUNDS: i32 = 2;
export const MAIL_ROUND_PAUSE_MS: i64 = 5 * 60 * 1000;
const DELIVER_RETRY_AIRTIMES: i64 = 8;
const DELIVER_RETRY_MARGIN_MS: i64 = 5000;
/** Keeper's wait before delivering after an announce: the announce flood settles first. */
const DELIVER_SETTLE_MS: i64 = 2000;
/**
 * Contention of volunteers: (32 × hops taken + r) units, r in 0..63, a unit being the
 * airtime of a KEPT frame (106 bytes; STORAGE.md "Volunteering"). A KEPT needs its own
 * airtime plus a relay's contention (about one airtime per SNR band) to reach the other
 * volunteers; with units of a contention slot (1/8 airtime, tried first) volunteers
 * decided before hearing each other, and the simulator saw 11-19 keepers per mail.
 */
const KEEP_UNITS_PER_HOP: i32 = 32;
const KEEP_RANDOM_UNITS: i32 = 64;
/** Delivery contention after an announce: r in 0..31 contention slots. */
const DELIVER_RANDOM_SLOTS: i32 = 32;
const KEPT_FRAME_BYTES: i32 = 106;
/** A half-received two-part deposit is forgotten after this long. */
const COLLECT_TIMEOUT_MS: i64 = 60 * 1000;
const OUTBOX_MAX: i32 = 8;
const OUTBOX_TOKENS: i32 = 8;
const INBOX_MAX: i32 = 4;

// ---------------------------------------------------------------------------
// Kept mail (keeper side), MAIL_BYTES per entry; the whole entry is its storage record

const K_STATE: usize = 0;       // u8: STATE_*
const K_PARTS_GOT: usize = 1;   // u8 bitmask
const K_PART_COUNT: usize = 2;  // u8
const K_COPIES: usize = 3;      // u8
const K_KEPT_HEARD: usize = 4;  // u8
const K_TRIES: usize = 5;       // u8: deliveries left for the current announce
const K_LEN: usize = 6;         // u16: stored-frame bytes
const K_MAIL_ID: usize = 8;     // 8
const K_MAILBOX: usize = 16;    // 8
const K_EPOCH: usize = 24;      // u32
const K_EXPIRY: usize = 28;     // u32 unix s
const K_DROP_HASH: usize = 32;  // 16
const K_TOKEN: usize = 48;      // u32
const K_HOPS: usize = 52;       // u8: hops the deposit took to reach us
const K_DELIVER_HOPS: usize = 53; // u8: hop limit of deliveries (the recipient's announce took that many relays)
const K_ROUNDS: usize = 54;     // u8: delivery rounds left after this one
const K_DEADLINE: usize = 56;   // i64: decision / next delivery
const K_SINCE: usize = 64;      // i64: first part heard
const K_FRAME: usize = 72;      // stored frame, up to 246
const MAIL_BYTES: i32 = 320;

const STATE_FREE: u8 = 0;
const STATE_COLLECTING: u8 = 1;  // parts missing
const STATE_DECIDING: u8 = 2;    // all parts, waiting to see whether enough others keep it
const STATE_KEPT: u8 = 3;

const KEPT: usize = memory.data(MAIL_KEPT_MAX * MAIL_BYTES, 8);

// Outbox (sender side)
const O_USED: usize = 0;       // u8
const O_KEEPERS: usize = 1;    // u8
const O_COPIES: usize = 2;     // u8: keepers wanted
const O_ENOUGH: usize = 3;     // u8: ENOUGH sent
const O_REF: usize = 4;        // u32 app reference
const O_MAIL_ID: usize = 8;    // 8
const O_DROP_HASH: usize = 16; // 16
const O_TOKENS: usize = 32;    // OUTBOX_TOKENS x u32
const O_DEADLINE: usize = 64;  // i64: no keeper by then = failed
const O_EXPIRY: usize = 72;    // u32 unix s
const OUTBOX_BYTES: i32 = 80;
const OUTBOX: usize = memory.data(OUTBOX_MAX * OUTBOX_BYTES, 8);

// Inbox (recipient side): reassembly of deposits carrying our mailbox tag
const I_USED: usize = 0;       // u8
const I_PARTS_GOT: usize = 1;  // u8
const I_PART_COUNT: usize = 2; // u8
const I_LEN: usize = 4;        // u16
const I_MAIL_ID: usize = 8;    // 8
const I_EPOCH: usize = 16;     // u32
const I_SINCE: usize = 24;     // i64
const I_FRAME: usize = 32;     // 248
const INBOX_BYTES: i32 = 280;
const INBOX: usize = memory.data(INBOX_MAX * INBOX_BYTES, 8);

// Scratch
const CONTENT: usize = memory.data(200, 8);    // DEPOSIT / KEPT / RECEIPT content being built
const FRAME: usize = memory.data(256, 8);      // a stored frame rebuilt as a DIRECT frame
const TAG: usize = memory.data(8, 8);
const DIGEST: usize = memory.data(32, 8);
const DROP_KEY: usize = memory.data(32, 8);    // secret until revealed in a RECEIPT
const HASH_CTX: usize = memory.data(SHA256_CTX_BYTES, 8);
const RAND4: usize = memory.data(8, 8);
/** "mail.NN": storage key of kept-mail slot NN. */
const KEY: usize = memory.data<u8>([0x6d, 0x61, 0x69, 0x6c, 0x2e, 0x30, 0x30]);
const KEY_LEN: i32 = 7;
const EMPTY: usize = memory.data(8, 8);

/** Our own mailbox tags for recent epochs (cache: one HMAC per epoch, not per deposit). */
const OWN_TAGS_MAX: i32 = 4;
const OWN_TAGS: usize = memory.data(OWN_TAGS_MAX * 16, 8); // epoch u32 + valid u32 + tag 8
let ownTagsNext: i32 = 0;

let keepEnabled = true;
let rateWindowStartMs: i64 = 0;
let rateTaken: i32 = 0;

function keptAt(i: i32): usize { return KEPT + <usize>(i * MAIL_BYTES); }
function outboxAt(i: i32): usize { return OUTBOX + <usize>(i * OUTBOX_BYTES); }
function inboxAt(i: i32): usize { return INBOX + <usize>(i * INBOX_BYTES); }

// ---------------------------------------------------------------------------
// Timing, from the radio settings (node.ts)

function slotMs(): i64 { return <i64>nodeFloodSlotMs(FRAME_MAX_BYTES); }

function keepUnitMs(): i64 { return nodeAirtimeMs(KEPT_FRAME_BYTES); }

function deliverRetryMs(): i64 {
  return nodeAirtimeMs(FRAME_MAX_BYTES) * DELIVER_RETRY_AIRTIMES + DELIVER_RETRY_MARGIN_MS;
}

/** How long a sender waits for its first KEPT: the slowest volunteer's wait, then KEPT crossing the hops back. */
function depositWaitMs(): i64 {
  const units = <i64>(KEEP_UNITS_PER_HOP * (MAIL_KEEPER_HOPS - 1) + KEEP_RANDOM_UNITS);
  return units * keepUnitMs() + 4 * <i64>MAIL_KEEPER_HOPS * nodeAirtimeMs(FRAME_MAX_BYTES) + DELIVER_RETRY_MARGIN_MS;
}

function nowS(): u32 {
  const s = nodeNowMs() / 1000;
  return s < 0 ? 0 : <u32>s;
}

// ---------------------------------------------------------------------------
// Persistence

function setKey(i: i32): void {
  store<u8>(KEY + 5, <u8>(0x30 + i / 10));
  store<u8>(KEY + 6, <u8>(0x30 + i % 10));
}

function persist(i: i32): void {
  setKey(i);
  const k = keptAt(i);
  if (load<u8>(k + K_STATE) == STATE_KEPT) storage_put(KEY, KEY_LEN, k, MAIL_BYTES);
  else storage_put(KEY, KEY_LEN, EMPTY, 1);
}

function release(i: i32): void {
  const k = keptAt(i);
  const wasKept = load<u8>(k + K_STATE) == STATE_KEPT;
  wipe(k, MAIL_BYTES);
  if (wasKept) persist(i);
}

function storedLenOk(len: i32): bool {
  return len == STORED_SMALL_BYTES || len == STORED_MEDIUM_BYTES || len == STORED_LARGE_BYTES;
}

/** node_init: empty tables, then kept mail back from storage (bit 4 of the config flags: keep nothing). */
export function mailInit(keep: bool): void {
  keepEnabled = keep;
  wipe(OUTBOX, OUTBOX_MAX * OUTBOX_BYTES);
  wipe(INBOX, INBOX_MAX * INBOX_BYTES);
  wipe(KEPT, MAIL_KEPT_MAX * MAIL_BYTES);
  wipe(OWN_TAGS, OWN_TAGS_MAX * 16);
  ownTagsNext = 0;
  wipe(RECEIPTS_RECENT, RECEIPTS_RECENT_MAX * 16);
  receiptsNext = 0;
  rateWindowStartMs = 0;
  rateTaken = 0;
  for (let i = 0; i < MAIL_KEPT_MAX; i++) {
    setKey(i);
    const k = keptAt(i);
    if (storage_get(KEY, KEY_LEN, k, MAIL_BYTES) != MAIL_BYTES || load<u8>(k + K_STATE) != STATE_KEPT
      || !storedLenOk(<i32>load<u16>(k + K_LEN))) {
      wipe(k, MAIL_BYTES);
      continue;
    }
    store<u8>(k + K_TRIES, 0);
    store<i64>(k + K_DEADLINE, 0);
  }
}

/** Mails this node keeps for others (status). */
export function mailKeptCount(): i32 {
  let n = 0;
  for (let i = 0; i < MAIL_KEPT_MAX; i++) if (load<u8>(keptAt(i) + K_STATE) == STATE_KEPT) n++;
  return n;
}

// ---------------------------------------------------------------------------
// Hashes

/** DIGEST[0..16] = SHA-256(drop key at `key`)[0..16]. */
function dropHashOf(key: usize): void {
  sha256Init(HASH_CTX);
  sha256Update(HASH_CTX, key, DROP_KEY_BYTES);
  sha256Final(HASH_CTX, DIGEST);
}

function sameBytes(a: usize, b: usize, n: i32): bool {
  for (let i = 0; i < n; i++) if (load<u8>(a + <usize>i) != load<u8>(b + <usize>i)) return false;
  return true;
}

/** Our mailbox tag for `epoch` to TAG (cached). */
function ownMailboxTag(epoch: u32): void {
  for (let i = 0; i < OWN_TAGS_MAX; i++) {
    const e = OWN_TAGS + <usize>(i * 16);
    if (load<u32>(e + 4) != 0 && load<u32>(e) == epoch) { memory.copy(TAG, e + 8, 8); return; }
  }
  mailboxTag(TAG, nodeIdentity() + ID_X25519_PUB, epoch);
  const e = OWN_TAGS + <usize>(ownTagsNext * 16);
  store<u32>(e, epoch);
  store<u32>(e + 4, 1);
  memory.copy(e + 8, TAG, 8);
  ownTagsNext = (ownTagsNext + 1) % OWN_TAGS_MAX;
}

// ---------------------------------------------------------------------------
// Sender

/**
 * Sends the DEPOSIT parts of a stored frame (at `sf`, `len` bytes) with the
 * metadata of a kept entry or outbox entry. copies = 0 for a keeper's delivery.
 */
function sendDeposit(mailId: usize, sf: usize, len: i32, copies: i32, mailbox: usize, epoch: u32, expiry: u32,
  dropHash: usize, hops: i32, prio: i32, delayMs: i64): bool {
  const parts = len > DP_DATA_MAX_BYTES ? 2 : 1;
  if (nodeTxRoom() < parts) return false;
  for (let p = 0; p < parts; p++) {
    const off = p * DP_DATA_MAX_BYTES;
    const n = p == 0 && parts == 2 ? DP_DATA_MAX_BYTES : len - off;
    store<u8>(CONTENT + DP_PART, <u8>((p << 4) | parts));
    store<u8>(CONTENT + DP_COPIES, <u8>copies);
    memory.copy(CONTENT + DP_MAILBOX, mailbox, 8);
    store<u32>(CONTENT + DP_EPOCH, epoch);
    store<u32>(CONTENT + DP_EXPIRY, expiry);
    memory.copy(CONTENT + DP_DROP_HASH, dropHash, DROP_HASH_BYTES);
    memory.copy(CONTENT + DP_DATA, sf + <usize>off, n);
    if (!storeSend(mailId, MAIL_OP_DEPOSIT, CONTENT, DP_DATA + n, hops, 0, prio, delayMs, false)) return false;
  }
  return true;
}

/**
 * Deposits a direct message whose attempts failed (node.ts): `frame` is a freshly
 * sealed DIRECT frame of `frameLen` bytes (not in node.ts's TX), `ackKey` its
 * K_ack, `recipientXPub` the recipient's X25519 key, `epoch` the epoch of its
 * dest tag. Returns false (nothing sent) when the outbox or the queue is full.
 */
export function mailDeposit(frame: usize, frameLen: i32, ackKey: usize, recipientXPub: usize, epoch: u32, ref: u32,
  copies: i32): bool {
  let o: usize = 0;
  for (let i = 0; i < OUTBOX_MAX; i++) if (load<u8>(outboxAt(i) + O_USED) == 0) { o = outboxAt(i); break; }
  if (o == 0) return false;
  // Stored frame: hop limit, nonce, dest, body and tag (the three mutable fields left out).
  const body = frameLen - OFF_BODY;
  const len = SF_HEADER_BYTES + body;
  if (!storedLenOk(len)) return false;
  store<u8>(FRAME, <u8>(load<u8>(frame + OFF_HOPS) >> 4));
  memory.copy(FRAME + 1, frame + OFF_NONCE, 24 + DEST_BYTES + body);
  dropKey(DROP_KEY, ackKey);
  dropHashOf(DROP_KEY);
  wipe(DROP_KEY, DROP_KEY_BYTES);
  mailboxTag(TAG, recipientXPub, epoch);
  const expiry = nowS() + MAIL_EXPIRY_MAX_S;
  if (copies < 1) copies = MAIL_COPIES_DEFAULT;
  if (copies > MAIL_COPIES_MAX) copies = MAIL_COPIES_MAX;
  const hops = MAIL_KEEPER_HOPS > 1 ? MAIL_KEEPER_HOPS - 1 : 1; // the last ring does not relay it
  if (!sendDeposit(frame + OFF_NONCE, FRAME, len, copies, TAG, epoch, expiry, DIGEST, hops, TX_PRIO_DIRECT, 0)) return false;
  wipe(o, OUTBOX_BYTES);
  store<u8>(o + O_USED, 1);
  store<u32>(o + O_REF, ref);
  store<u8>(o + O_COPIES, <u8>copies);
  memory.copy(o + O_MAIL_ID, frame + OFF_NONCE, 8);
  memory.copy(o + O_DROP_HASH, DIGEST, DROP_HASH_BYTES);
  store<i64>(o + O_DEADLINE, nodeNowMs() + depositWaitMs());
  store<u32>(o + O_EXPIRY, expiry);
  count(C_MAIL_DEPOSITED);
  return true;
}

function outboxFind(mailId: usize): usize {
  const id = load<u64>(mailId);
  for (let i = 0; i < OUTBOX_MAX; i++) {
    const o = outboxAt(i);
    if (load<u8>(o + O_USED) != 0 && load<u64>(o + O_MAIL_ID) == id) return o;
  }
  return 0;
}

function outboxKept(o: usize, token: u32): void {
  const n = <i32>load<u8>(o + O_KEEPERS);
  for (let t = 0; t < n && t < OUTBOX_TOKENS; t++) if (load<u32>(o + O_TOKENS + <usize>(t * 4)) == token) return;
  if (n < OUTBOX_TOKENS) store<u32>(o + O_TOKENS + <usize>(n * 4), token);
  if (n < 255) store<u8>(o + O_KEEPERS, <u8>(n + 1));
  emitDelivery(load<u32>(o + O_REF), 4, <u8>(n + 1));
  // Enough keepers: tell the volunteers still deciding to forget it (one frame, two hops).
  if (n + 1 >= <i32>load<u8>(o + O_COPIES) && load<u8>(o + O_ENOUGH) == 0) {
    store<u8>(CONTENT, <u8>(n + 1));
    if (storeSend(o + O_MAIL_ID, MAIL_OP_ENOUGH, CONTENT, 1, MAIL_KEEPER_HOPS, 0, TX_PRIO_CHANNEL, 0, false)) {
      store<u8>(o + O_ENOUGH, 1);
    }
  }
}

// ---------------------------------------------------------------------------
// Keeper

function keptFind(mailId: usize): i32 {
  const id = load<u64>(mailId);
  for (let i = 0; i < MAIL_KEPT_MAX; i++) {
    const k = keptAt(i);
    if (load<u8>(k + K_STATE) != STATE_FREE && load<u64>(k + K_MAIL_ID) == id) return i;
  }
  return -1;
}

/** A free slot for a new deposit, or -1 (full, the mailbox's quota used, or the rate window spent). */
function volunteerSlot(mailbox: usize): i32 {
  const now = nodeNowMs();
  if (now - rateWindowStartMs >= MAIL_RATE_WINDOW_MS) { rateWindowStartMs = now; rateTaken = 0; }
  if (rateTaken >= MAIL_RATE_MAX) return -1;
  let free = -1;
  let sameBox = 0;
  const want = load<u64>(mailbox);
  for (let i = 0; i < MAIL_KEPT_MAX; i++) {
    const k = keptAt(i);
    if (load<u8>(k + K_STATE) == STATE_FREE) { if (free < 0) free = i; continue; }
    if (load<u64>(k + K_MAILBOX) == want) sameBox++;
  }
  if (sameBox >= MAIL_PER_MAILBOX_MAX) return -1;
  return free;
}

/** Adds part `part` (data at `data`, n bytes) to the stored frame at `sf` and marks it in the got-mask at gotPtr. */
function addPart(sf: usize, gotPtr: usize, part: i32, data: usize, n: i32): void {
  memory.copy(sf + <usize>(part * DP_DATA_MAX_BYTES), data, n);
  store<u8>(gotPtr, <u8>(<i32>load<u8>(gotPtr) | (1 << part)));
}

function allParts(got: i32, countParts: i32): bool { return got == (1 << countParts) - 1; }

function handleDeposit(dest: usize, c: usize, len: i32, hopsTaken: i32): bool {
  if (len < DP_DATA + 1) { count(C_STORE_BAD); return false; }
  const partByte = <i32>load<u8>(c + DP_PART);
  const part = partByte >> 4;
  const parts = partByte & 0x0f;
  const n = len - DP_DATA;
  const copies = <i32>load<u8>(c + DP_COPIES);
  // Part sizes are fixed by the stored-frame sizes (97, 161 or 161 + 85).
  let total = 0;
  if (parts == 1 && part == 0 && storedLenOk(n)) total = n;
  else if (parts == 2 && part == 0 && n == DP_DATA_MAX_BYTES) total = STORED_LARGE_BYTES;
  else if (parts == 2 && part == 1 && n == STORED_LARGE_BYTES - DP_DATA_MAX_BYTES) total = STORED_LARGE_BYTES;
  if (total == 0 || copies > MAIL_COPIES_MAX) { count(C_STORE_BAD); return false; }
  const epoch = load<u32>(c + DP_EPOCH);

  // Ours? Our mailbox tag for the mail's epoch.
  ownMailboxTag(epoch);
  if (load<u64>(TAG) == load<u64>(c + DP_MAILBOX)) {
    receivePart(dest, c, part, parts, n, total, epoch, hopsTaken);
    return true;
  }
  if (outboxFind(dest) != 0) return false; // our own deposit coming back
  // A sender's deposit goes no farther than volunteers can be: the last ring keeps it.
  const lastRing = copies >= 1 && hopsTaken + 1 >= MAIL_KEEPER_HOPS;
  const i = keptFind(dest);
  if (i >= 0) {
    const k = keptAt(i);
    const state = load<u8>(k + K_STATE);
    if (state == STATE_COLLECTING && parts == <i32>load<u8>(k + K_PART_COUNT)) {
      addPart(k + K_FRAME, k + K_PARTS_GOT, part, c + DP_DATA, n);
      if (allParts(<i32>load<u8>(k + K_PARTS_GOT), parts)) store<u8>(k + K_STATE, STATE_DECIDING);
    } else if (state == STATE_KEPT && copies == 0 && load<u8>(k + K_TRIES) != 0) {
      // Another keeper is delivering it: give it time to get a receipt.
      store<i64>(k + K_DEADLINE, nodeNowMs() + deliverRetryMs());
    }
    return lastRing;
  }
  if (copies == 0 || !keepEnabled || hopsTaken >= MAIL_KEEPER_HOPS) return lastRing;
  const expiry = load<u32>(c + DP_EXPIRY);
  const now = nowS();
  if (expiry <= now) return lastRing;
  const slot = volunteerSlot(c + DP_MAILBOX);
  if (slot < 0) { count(C_MAIL_REFUSED); return lastRing; }
  rateTaken++;
  const k = keptAt(slot);
  wipe(k, MAIL_BYTES);
  store<u8>(k + K_PART_COUNT, <u8>parts);
  store<u8>(k + K_COPIES, <u8>(copies == 0 ? 1 : copies));
  store<u16>(k + K_LEN, <u16>total);
  memory.copy(k + K_MAIL_ID, dest, 8);
  memory.copy(k + K_MAILBOX, c + DP_MAILBOX, 8);
  store<u32>(k + K_EPOCH, epoch);
  store<u32>(k + K_EXPIRY, expiry - now > MAIL_EXPIRY_MAX_S ? now + MAIL_EXPIRY_MAX_S : expiry);
  memory.copy(k + K_DROP_HASH, c + DP_DROP_HASH, DROP_HASH_BYTES);
  store<u8>(k + K_HOPS, <u8>hopsTaken);
  store<i64>(k + K_SINCE, nodeNowMs());
  const r = nodeRandomByte() % KEEP_RANDOM_UNITS;
  store<i64>(k + K_DEADLINE, nodeNowMs() + <i64>(KEEP_UNITS_PER_HOP * hopsTaken + r) * keepUnitMs());
  addPart(k + K_FRAME, k + K_PARTS_GOT, part, c + DP_DATA, n);
  store<u8>(k + K_STATE, allParts(<i32>load<u8>(k + K_PARTS_GOT), parts) ? STATE_DECIDING : STATE_COLLECTING);
  return lastRing;
}

/** Decision time of a volunteer: keep it (KEPT, persisted) unless enough others already did. */
function decide(i: i32): void {
  const k = keptAt(i);
  if (load<u8>(k + K_KEPT_HEARD) >= load<u8>(k + K_COPIES)) { release(i); return; }
  random_fill(RAND4, 4);
  let token = load<u32>(RAND4);
  if (token == 0) token = 1;
  store<u32>(k + K_TOKEN, token);
  store<u8>(k + K_STATE, STATE_KEPT);
  store<i64>(k + K_DEADLINE, 0);
  persist(i);
  count(C_MAIL_KEPT);
  store<u32>(CONTENT, token);
  storeSend(k + K_MAIL_ID, MAIL_OP_KEPT, CONTENT, 4, MAIL_KEEPER_HOPS, 0, TX_PRIO_CHANNEL, 0, false);
}

/**
 * A verified announce that took `hopsTaken` relays to reach us: deliver every kept mail
 * whose mailbox tag is the announcer's, with a hop limit that reaches it and no farther.
 */
export function mailOnAnnounce(x25519Pub: usize, hopsTaken: i32): void {
  let lastEpoch: u32 = 0;
  let haveTag = false;
  for (let i = 0; i < MAIL_KEPT_MAX; i++) {
    const k = keptAt(i);
    if (load<u8>(k + K_STATE) != STATE_KEPT) continue;
    const e = load<u32>(k + K_EPOCH);
    if (!haveTag || e != lastEpoch) { mailboxTag(TAG, x25519Pub, e); lastEpoch = e; haveTag = true; }
    if (load<u64>(TAG) != load<u64>(k + K_MAILBOX)) continue;
    store<u8>(k + K_TRIES, <u8>MAIL_DELIVER_TRIES);
    store<u8>(k + K_ROUNDS, <u8>MAIL_DELIVER_ROUNDS);
    // The announce came over hopsTaken relays: a delivery with one relay more reaches the
    // recipient even when the shortest path loses a relay (a frame with hop limit L is
    // heard L + 1 hops out).
    const hops = hopsTaken + 1;
    store<u8>(k + K_DELIVER_HOPS, <u8>(hops > HOP_LIMIT_MAX ? HOP_LIMIT_MAX : hops));
    const r = nodeRandomByte() % DELIVER_RANDOM_SLOTS;
    store<i64>(k + K_DEADLINE, nodeNowMs() + DELIVER_SETTLE_MS + <i64>r * slotMs());
  }
}

function deliver(i: i32): void {
  const k = keptAt(i);
  const ok = sendDeposit(k + K_MAIL_ID, k + K_FRAME, <i32>load<u16>(k + K_LEN), 0, k + K_MAILBOX,
    load<u32>(k + K_EPOCH), load<u32>(k + K_EXPIRY), k + K_DROP_HASH, <i32>load<u8>(k + K_DELIVER_HOPS), TX_PRIO_CHANNEL, 0);
  if (!ok) { store<i64>(k + K_DEADLINE, nodeNowMs() + slotMs() * 8); return; } // queue full: soon again
  count(C_MAIL_DELIVERIES);
  const left = <i32>load<u8>(k + K_TRIES) - 1;
  store<u8>(k + K_TRIES, <u8>(left < 0 ? 0 : left));
  // No receipt yet: again after a pause that doubles each time (1, 2, 4 retry intervals).
  const backoff = <i64>1 << <i64>(MAIL_DELIVER_TRIES - 1 - (left < 0 ? 0 : left));
  if (left > 0) { store<i64>(k + K_DEADLINE, nodeNowMs() + deliverRetryMs() * backoff); return; }
  const rounds = <i32>load<u8>(k + K_ROUNDS);
  if (rounds > 0) {
    store<u8>(k + K_ROUNDS, <u8>(rounds - 1));
    store<u8>(k + K_TRIES, <u8>MAIL_DELIVER_TRIES);
    store<i64>(k + K_DEADLINE, nodeNowMs() + MAIL_ROUND_PAUSE_MS);
    return;
  }
  store<i64>(k + K_DEADLINE, 0);
}

// ---------------------------------------------------------------------------
// Recipient

/** Receipts sent recently (mail id, time): a ring of RECEIPTS_RECENT_MAX. */
const RECEIPTS_RECENT_MAX: i32 = 8;
const RECEIPT_REPEAT_MS: i64 = 60 * 1000;
const RECEIPTS_RECENT: usize = memory.data(RECEIPTS_RECENT_MAX * 16, 8);
let receiptsNext: i32 = 0;

function receiptRecent(mailId: usize): bool {
  const id = load<u64>(mailId);
  for (let i = 0; i < RECEIPTS_RECENT_MAX; i++) {
    const e = RECEIPTS_RECENT + <usize>(i * 16);
    if (load<u64>(e) == id && nodeNowMs() - load<i64>(e + 8) < RECEIPT_REPEAT_MS) return true;
  }
  return false;
}

function receiptNote(mailId: usize): void {
  const e = RECEIPTS_RECENT + <usize>(receiptsNext * 16);
  store<u64>(e, load<u64>(mailId));
  store<i64>(e + 8, nodeNowMs());
  receiptsNext = (receiptsNext + 1) % RECEIPTS_RECENT_MAX;
}

function receivePart(dest: usize, c: usize, part: i32, parts: i32, n: i32, total: i32, epoch: u32, hopsTaken: i32): void {
  const id = load<u64>(dest);
  let e: usize = 0;
  for (let i = 0; i < INBOX_MAX; i++) {
    const q = inboxAt(i);
    if (load<u8>(q + I_USED) != 0 && load<u64>(q + I_MAIL_ID) == id) { e = q; break; }
  }
  // A new mail takes a free entry, else the oldest one.
  let oldest: usize = 0;
  for (let i = 0; i < INBOX_MAX && e == 0; i++) {
    const q = inboxAt(i);
    if (load<u8>(q + I_USED) == 0) { oldest = q; break; }
    if (oldest == 0 || load<i64>(q + I_SINCE) < load<i64>(oldest + I_SINCE)) oldest = q;
  }
  if (e == 0) {
    e = oldest;
    wipe(e, INBOX_BYTES);
    store<u8>(e + I_USED, 1);
    store<u8>(e + I_PART_COUNT, <u8>parts);
    store<u16>(e + I_LEN, <u16>total);
    store<u64>(e + I_MAIL_ID, id);
    store<u32>(e + I_EPOCH, epoch);
    store<i64>(e + I_SINCE, nodeNowMs());
  }
  if (<i32>load<u8>(e + I_PART_COUNT) != parts) return;
  addPart(e + I_FRAME, e + I_PARTS_GOT, part, c + DP_DATA, n);
  if (!allParts(<i32>load<u8>(e + I_PARTS_GOT), parts)) return;
  openInbox(e, dest, hopsTaken);
  wipe(e, INBOX_BYTES);
}

/** Rebuilds the DIRECT frame of a complete inbox entry, opens it through node.ts, answers with a RECEIPT. */
function openInbox(e: usize, mailId: usize, hopsTaken: i32): void {
  const len = <i32>load<u16>(e + I_LEN);
  const limit = <i32>load<u8>(e + I_FRAME);
  if (limit < 1 || limit > HOP_LIMIT_MAX) { count(C_STORE_BAD); return; }
  memory.fill(FRAME, 0, OFF_NONCE);
  store<u8>(FRAME, DIRECT_FLAGS);
  store<u8>(FRAME + OFF_HOPS, <u8>((limit << 4) | limit));
  memory.copy(FRAME + OFF_NONCE, e + I_FRAME + 1, len - 1);
  if (load<u64>(FRAME + OFF_NONCE) != load<u64>(mailId)) { count(C_STORE_BAD); return; }
  const frameLen = OFF_NONCE + len - 1;
  const r = nodeOpenMail(FRAME, frameLen, load<u32>(e + I_EPOCH), DROP_KEY);
  wipe(FRAME, 256);
  if (r < 0) return; // not openable here (tag collision, unknown sender): counted by node.ts
  if (r == 0) count(C_MAIL_RECEIVED);
  // A repeat (a keeper that missed our receipt delivered again) is answered again, but
  // at most once per RECEIPT_REPEAT_MS per mail: several keepers may deliver at once.
  if (r == 1 && receiptRecent(mailId)) { wipe(DROP_KEY, DROP_KEY_BYTES); return; }
  memory.copy(CONTENT, DROP_KEY, DROP_KEY_BYTES);
  wipe(DROP_KEY, DROP_KEY_BYTES);
  // As far as our own frames go: the sender and every keeper (wherever they are) must hear it.
  if (storeSend(mailId, MAIL_OP_RECEIPT, CONTENT, DROP_KEY_BYTES, nodeHopLimit(), 0, TX_PRIO_CHANNEL, 0, false)) {
    count(C_MAIL_RECEIPTS_SENT);
    receiptNote(mailId);
  }
  wipe(CONTENT, DROP_KEY_BYTES);
}

// ---------------------------------------------------------------------------
// Frames

/** A mail STORE operation (1..15) heard; returns true when consumed (not to be relayed). */
export function mailOnStore(op: i32, content: usize, len: i32, frame: usize, hopsTaken: i32): bool {
  const dest = frame + OFF_DEST;
  if (op == MAIL_OP_DEPOSIT) return handleDeposit(dest, content, len, hopsTaken);
  if (op == MAIL_OP_KEPT) {
    if (len != 4) { count(C_STORE_BAD); return false; }
    const o = outboxFind(dest);
    if (o != 0) { outboxKept(o, load<u32>(content)); return false; } // relayed: volunteers count it too
    const i = keptFind(dest);
    if (i >= 0) {
      const k = keptAt(i);
      const heard = <i32>load<u8>(k + K_KEPT_HEARD);
      if (heard < 255) store<u8>(k + K_KEPT_HEARD, <u8>(heard + 1));
    }
    return false;
  }
  if (op == MAIL_OP_RECEIPT) {
    if (len != DROP_KEY_BYTES) { count(C_STORE_BAD); return false; }
    dropHashOf(content);
    const o = outboxFind(dest);
    if (o != 0) {
      if (!sameBytes(DIGEST, o + O_DROP_HASH, DROP_HASH_BYTES)) { count(C_STORE_BAD); return false; }
      emitDelivery(load<u32>(o + O_REF), 5, load<u8>(o + O_KEEPERS));
      wipe(o, OUTBOX_BYTES);
      return true;
    }
    const i = keptFind(dest);
    if (i >= 0) {
      if (!sameBytes(DIGEST, keptAt(i) + K_DROP_HASH, DROP_HASH_BYTES)) { count(C_STORE_BAD); return false; }
      if (load<u8>(keptAt(i) + K_STATE) == STATE_KEPT) count(C_MAIL_RELEASED);
      release(i);
    }
    return false;
  }
  if (op == MAIL_OP_ENOUGH) {
    if (len != 1) { count(C_STORE_BAD); return false; }
    const i = keptFind(dest);
    if (i >= 0 && load<u8>(keptAt(i) + K_STATE) != STATE_KEPT) release(i);
    return false;
  }
  count(C_STORE_BAD);
  return false;
}

// ---------------------------------------------------------------------------
// Timers

export function mailPoll(): void {
  const now = nodeNowMs();
  const s = nowS();
  for (let i = 0; i < MAIL_KEPT_MAX; i++) {
    const k = keptAt(i);
    const state = load<u8>(k + K_STATE);
    if (state == STATE_FREE) continue;
    if (load<u32>(k + K_EXPIRY) <= s) {
      if (state == STATE_KEPT) count(C_MAIL_EXPIRED);
      release(i);
      continue;
    }
    if (state == STATE_COLLECTING) {
      if (now - load<i64>(k + K_SINCE) >= COLLECT_TIMEOUT_MS) release(i);
      continue;
    }
    const deadline = load<i64>(k + K_DEADLINE);
    if (deadline == 0 || deadline > now) continue;
    if (state == STATE_DECIDING) decide(i);
    else if (load<u8>(k + K_TRIES) != 0) deliver(i);
    else store<i64>(k + K_DEADLINE, 0);
  }
  for (let i = 0; i < INBOX_MAX; i++) {
    const q = inboxAt(i);
    if (load<u8>(q + I_USED) != 0 && now - load<i64>(q + I_SINCE) >= COLLECT_TIMEOUT_MS) wipe(q, INBOX_BYTES);
  }
  for (let i = 0; i < OUTBOX_MAX; i++) {
    const o = outboxAt(i);
    if (load<u8>(o + O_USED) == 0) continue;
    const noKeeper = load<u8>(o + O_KEEPERS) == 0 && load<i64>(o + O_DEADLINE) <= now;
    if (noKeeper || load<u32>(o + O_EXPIRY) <= s) {
      count(C_DIRECT_FAILED);
      emitDelivery(load<u32>(o + O_REF), 3, load<u8>(o + O_KEEPERS));
      wipe(o, OUTBOX_BYTES);
    }
  }
}

export function mailNextWakeMs(): i64 {
  let wake = i64.MAX_VALUE;
  for (let i = 0; i < MAIL_KEPT_MAX; i++) {
    const k = keptAt(i);
    const state = load<u8>(k + K_STATE);
    if (state == STATE_FREE) continue;
    const expiryMs = <i64>load<u32>(k + K_EXPIRY) * 1000;
    if (expiryMs < wake) wake = expiryMs;
    const d = state == STATE_COLLECTING ? load<i64>(k + K_SINCE) + COLLECT_TIMEOUT_MS : load<i64>(k + K_DEADLINE);
    if (d != 0 && d < wake) wake = d;
  }
  for (let i = 0; i < OUTBOX_MAX; i++) {
    const o = outboxAt(i);
    if (load<u8>(o + O_USED) == 0) continue;
    if (load<u8>(o + O_KEEPERS) == 0 && load<i64>(o + O_DEADLINE) < wake) wake = load<i64>(o + O_DEADLINE);
    const expiryMs = <i64>load<u32>(o + O_EXPIRY) * 1000;
    if (expiryMs < wake) wake = expiryMs;
  }
  return wake;
}

/** Outbox entries in use (status: direct messages waiting in storage). */
export function mailOutboxCount(): i32 {
  let n = 0;
  for (let i = 0; i < OUTBOX_MAX; i++) if (load<u8>(outboxAt(i) + O_USED) != 0) n++;
  return n;
}
