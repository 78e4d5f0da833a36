// Mesh-kept files (firmware/STORAGE.md "Files").
//
// A file is encrypted under a fresh key K (ChaCha20, RFC 8439; data block i under
// nonce le32(i) ‖ 0^8), cut into 160-byte blocks addressed by SHA-256(block)[0..8];
// the data block addresses form the manifest (160-byte manifest blocks), and the
// root block (length, manifest count, key check, manifest addresses) names it all.
// Capability = root address ‖ K.
//
// Putting: OFFER (flood, 2 hops) → candidates answer HOLD ranked by the XOR distance
// between their hourly pseudonym and the root → the putter names the first k in every
// PUT (one per block, flooded as far as the farthest holder, paced by the transmit
// queue) → each holder confirms with HELD once it has every block (missing blocks it
// fetches itself with GET). Fetching: blocks held here are read from storage; the rest
// by GET (flood, up to 16 wanted addresses, dest the first one, one GET open at a time) →
// holders answer each address with a DATA frame (dest = the GET's frame id) sent back
// along the GET's path, paced, split between the holders by rendezvous rank of their HAVE
// tokens (the first answers at once, the others only after a fallback unless they overheard
// it). Holders announce themselves with HAVE every ~30 min; one that hears too few others
// twice re-offers the object.
//
// Everything is bounded: OBJ_MAX objects, BLOCK_SLOTS stored blocks (persisted as
// "fb.NNN", objects as "fo.NN"), fixed job, candidate, request and answer tables.
// Static memory: about 13.4 KiB (STORAGE.md "Limits").
import { ERR_INVALID, ERR_LENGTH, ERR_STATE, OK } from "../crypto/memory";
import { wipe } from "../crypto/ct";
import { SHA256_CTX_BYTES, sha256Final, sha256Init, sha256Update } from "../crypto/sha256";
import { CHACHA_CTX_BYTES, chachaSeek, chachaSetKey, chachaSetNonce, chachaWipe, chachaXor } from "../crypto/chacha20";
import { random_fill, storage_get, storage_put } from "./env";
import { OFF_DEST, OFF_NONCE, frameHopLimit, frameHopsLeft } from "./frame";
import {
  C_BLOCKS_FETCHED, C_BLOCKS_HELD, C_BLOCKS_SERVED, C_BLOCK_HASH_BAD, C_FILE_REPLICATIONS, C_STORE_BAD, count,
} from "./stats";
import { TX_PRIO_CHANNEL, TX_PRIO_FLOOD_RELAY, TX_SLOTS } from "./txqueue";
import {
  nodeAirtimeMs, nodeEmit, nodeFloodSlotMs, nodeHopLimit, nodeNowMs, nodePseudonym, nodeRandomByte, nodeTxRoom, storeSend,
  storeSentFrameId,
} from "./node";

/** STORE operations 16..31 belong to files (1..15 to mail). */
export const FILE_OP_FIRST: i32 = 16;
/** App commands 0x10..0x1F (ABI.md "App commands"). */
export const FILE_CMD_FIRST: i32 = 0x10;
export const FILE_CMD_LAST: i32 = 0x1f;

// ---------------------------------------------------------------------------
// Wire constants (STORAGE.md "Files")

export const OP_OFFER: i32 = 16;
export const OP_HOLD: i32 = 17;
export const OP_PUT: i32 = 18;
export const OP_HELD: i32 = 19;
export const OP_GET: i32 = 20;
export const OP_DATA: i32 = 21;
export const OP_HAVE: i32 = 22;

const CMD_PUT_BEGIN: i32 = 0x10;
const CMD_PUT_DATA: i32 = 0x11;
const CMD_PUT_END: i32 = 0x12;
const CMD_GET: i32 = 0x13;
const CMD_CANCEL: i32 = 0x14;
const EV_STORED: u8 = 0x90;
const EV_DATA: u8 = 0x91;
const EV_DONE: u8 = 0x92;
const ERR_BUSY: i32 = -7;

/** Block size: a DATA frame carries address 8 + block 160 = 168 content bytes (a 255-byte frame). */
export const BLOCK_BYTES: i32 = 160;
export const ADDR_BYTES: i32 = 8;
export const FILE_MAX_BYTES: i32 = 32768;
/** Data blocks of the largest file: ceil(32768 / 160). */
export const DATA_BLOCKS_MAX: i32 = 205;
export const ADDRS_PER_BLOCK: i32 = 20;
/** Manifest blocks of the largest file: ceil(205 / 20). */
export const MANIFEST_BLOCKS_MAX: i32 = 11;
/** Root block: length u32, manifest count u8, key check 8, manifest addresses. */
const R_LENGTH: i32 = 0;
const R_COUNT: i32 = 4;
const R_CHECK: i32 = 5;
const R_ADDRS: i32 = 13;
/** Blocks of the largest object: data + manifest + root. */
export const OBJECT_BLOCKS_MAX: i32 = DATA_BLOCKS_MAX + MANIFEST_BLOCKS_MAX + 1;
export const COPIES_DEFAULT: i32 = 3;
export const COPIES_MAX: i32 = 4;
/** OFFER, HOLD and HAVE reach 2 hops: holders stay close to the putter and each other. */
export const OFFER_HOPS: i32 = 2;
/** Addresses asked per GET. */
export const WANT_MAX: i32 = 16;
/** ... by a fetch whose answers come from this many hops or more: a lossy multi-hop path loses fewer per batch. */
export const FAR_HOPS: i32 = 3;
const WANT_FAR: i32 = 8;
/** A fetch keeps at most this many GETs open (answers still expected): the next one goes out when the last is half answered. */
export const FETCH_GETS_OPEN: i32 = 1;
/** GETs in a row without a new block before a fetch (or a holder's fill) gives up. */
export const FETCH_TRIES: i32 = 4;
/**
 * ... and not before this long without a new block: under a 10 % duty cycle the relays and
 * holders near a fresh put may have spent their hour's budget (a 16 KiB put is minutes of
 * airtime per copy), so answers can be held back for up to the duty window.
 */
export const FETCH_PATIENCE_MS: i64 = 60 * 60 * 1000;
/** A GET without progress waits this many times longer per try in a row (at most), to spare a busy channel. */
const FETCH_BACKOFF_MAX: i32 = 4;
/** HELD is sent this many times, the repeats this far apart (+ up to 1/4 jitter): one lost HELD must not fail a put. */
export const HELD_SENDS: i32 = 3;
const HELD_RESEND_MS: i64 = 2 * 60 * 1000;
/** Our own frames in the transmit queue at most (transfers never fill it). */
export const OWN_QUEUE_MAX: i32 = 3;
/** HAVE period (plus up to 1/8 jitter). */
export const HAVE_PERIOD_MS: i64 = 30 * 60 * 1000;
/** An object lives 7 days after it was put (re-replication keeps the putter's expiry). */
export const FILE_EXPIRY_S: u32 = 7 * 24 * 3600;
/** The putter waits this long after the last PUT for holders to confirm (they fill gaps meanwhile). */
export const CONFIRM_WAIT_MS: i64 = 90 * 60 * 1000;
/** Other holders remembered per object (answer split); forgotten when not heard for 2 HAVE periods. */
export const PEER_MAX: i32 = 4;
const PEER_KEEP_S: u32 = 75 * 60;
/** Retry of an item blocked on transmit-queue room. */
const ROOM_RETRY_MS: i64 = 250;

// ---------------------------------------------------------------------------
// Static memory

export const OBJ_MAX: i32 = 12;
export const BLOCK_SLOTS: i32 = 512;
const OBJ_BYTES: i32 = 112;
const O_USED: usize = 0;       // u8: 0 free, 1 holder, 2 own copy (putter), 3 being put
const O_COPIES: usize = 1;     // u8 k
const O_LOW: usize = 2;        // u8 HAVE periods in a row with too few others
const O_NHEARD: usize = 3;     // u8 distinct HAVE tokens this period
const O_BLOCKS: usize = 4;     // u16 blocks of the object
const O_HELD: usize = 6;       // u16 blocks stored here
const O_OID: usize = 8;        // u32 local random id in block records
const O_TOKEN: usize = 12;     // u32 HAVE token
const O_EXPIRY: usize = 16;    // u32 unix s
const O_PSEUDO: usize = 20;    // u32 pseudonym we named ourselves with (HOLD)
const O_ROOT: usize = 24;      // u64 root address
const O_PERSIST_BYTES: i32 = 32;
const O_HOPS: usize = 32;      // u8 hops to the putter (HELD hop limit - 1)
const O_FILL_TRIES: usize = 33;// u8
const O_HELD_SENT: usize = 34; // u8
const O_HAVE_AT: usize = 40;   // i64
const O_FILL_AT: usize = 48;   // i64
const O_HEARD: usize = 56;     // 4 x u32 tokens heard this period
const O_PEERS: usize = 72;     // 4 x u32 HAVE tokens of other complete holders (HELD, HAVE)
const O_PEER_S: usize = 88;    // 4 x u32 when each was last heard (unix s)
const O_FILL_PROG: usize = 104;// i64 last new block of an incomplete holder (fill patience)
const OBJS: usize = memory.data(OBJ_MAX * OBJ_BYTES, 8);

/** Block index: address per slot, and object slot + 1 (0 = free). */
const IDX_ADDR: usize = memory.data(BLOCK_SLOTS * 8, 8);
const IDX_OBJ: usize = memory.data(BLOCK_SLOTS, 8);

// Candidacies (an OFFER we may hold for)
const CAND_MAX: i32 = 4;
const CAND_BYTES: i32 = 64;
const C_USED: usize = 0;
const C_COPIES: usize = 1;
const C_WANT: usize = 2;
const C_HOPS: usize = 3;
const C_BLOCKS: usize = 4;     // u16
const C_SENT: usize = 6;       // u8 HOLD sent
const C_NHEARD: usize = 7;
const C_EXPIRY: usize = 8;     // u32
const C_PSEUDO: usize = 12;    // u32
const C_ROOT: usize = 16;      // u64
const C_DUE: usize = 24;       // i64
const C_DROP_AT: usize = 32;   // i64
const C_HEARD: usize = 40;     // 4 x u32
const CANDS: usize = memory.data(CAND_MAX * CAND_BYTES, 8);

// Outstanding GETs (ours): the addresses asked, so only those are accepted.
const GETS_MAX: i32 = 6;
const GET_BYTES: i32 = 160;
const G_USED: usize = 0;
const G_JOB: usize = 1;        // 0 = the app's fetch, 1 + obj = a holder's fill
const G_N: usize = 2;
const G_GOT: usize = 4;        // u32 bit mask of answered addresses
const G_ID: usize = 8;         // u64 frame id
const G_EXPIRE: usize = 16;    // i64 forget after (the relays' history forgets the GET after 10 min)
const G_DUE: usize = 24;       // i64 answers expected by: until then a fetch does not ask these addresses again
const G_ADDRS: usize = 32;     // WANT_MAX x 8
const GETS: usize = memory.data(GETS_MAX * GET_BYTES, 8);
const GET_KEEP_MS: i64 = 9 * 60 * 1000;

// Answers to serve (DATA frames owed to other nodes' GETs)
const SERVE_MAX: i32 = 32;
const SERVE_BYTES: i32 = 32;
const S_USED: usize = 0;
const S_HOPS: usize = 1;
const S_ECHO: usize = 2;
const S_SLOT: usize = 4;       // u16 block slot
const S_PREV: usize = 8;       // u32 next hop (the GET's prev_hop)
const S_GET: usize = 16;       // u64 GET frame id
const S_DUE: usize = 24;       // i64
const SERVES: usize = memory.data(SERVE_MAX * SERVE_BYTES, 8);
// Other holders' DATA overheard lately (GET id, address), so a GET heard after the answer is not answered again.
const HEARD_MAX: i32 = 32;
const HEARD: usize = memory.data(HEARD_MAX * 8, 8);
let heardNext: i32 = 0;
function heardKey(getId: u64, addr: u64): u64 { const k = getId ^ rotl<u64>(addr, 17); return k == 0 ? 1 : k; }
function heardBefore(getId: u64, addr: u64): bool {
  const k = heardKey(getId, addr);
  for (let i = 0; i < HEARD_MAX; i++) if (load<u64>(HEARD + <usize>(i * 8)) == k) return true;
  return false;
}

// The put job (the app's put, or a holder's re-offer)
const PUT_ADDRS: usize = memory.data(DATA_BLOCKS_MAX * 8, 8);
const PUT_BUF: usize = memory.data(BLOCK_BYTES, 8);
const PUT_KEY: usize = memory.data(32, 8);
const CHACHA: usize = memory.data(CHACHA_CTX_BYTES, 16);
const PJ_IDLE: i32 = 0;
const PJ_DATA: i32 = 1;
const PJ_OFFER: i32 = 2;
const PJ_PUSH: i32 = 3;
const PJ_CONFIRM: i32 = 4;
let pjState: i32 = PJ_IDLE;
let pjApp = false;
let pjRef: u32 = 0;
let pjLen: i32 = 0;
let pjGot: i32 = 0;
let pjBufLen: i32 = 0;
let pjBlock: i32 = 0;
let pjObj: i32 = -1;
let pjWant: i32 = 0;
let pjN: i32 = 0;
let pjConfirmed: i32 = 0;
let pjMaxHops: i32 = 1;
let pjCursor: i32 = 0;
let pjDeadline: i64 = 0;
let pjNextAt: i64 = 0;
const PJ_HOLDERS: usize = memory.data(COPIES_MAX * 4, 8);
const PJ_HOPS: usize = memory.data(COPIES_MAX, 8);
const PJ_CAP: usize = memory.data(40, 8);

// The app's fetch
const FJ_MAN: usize = memory.data(MANIFEST_BLOCKS_MAX * BLOCK_BYTES, 8);
const FJ_MADDR: usize = memory.data(MANIFEST_BLOCKS_MAX * 8, 8);
const FJ_GOT: usize = memory.data(32, 8);          // data blocks received (bits)
const FJ_KEY: usize = memory.data(32, 8);
const FJ_MADDR_FILL: usize = memory.data(MANIFEST_BLOCKS_MAX * 8, 8); // a holder's fill walk
let fjActive = false;
let fjRef: u32 = 0;
let fjRoot: u64 = 0;
let fjRootGot = false;
let fjLen: i32 = 0;
let fjM: i32 = 0;
let fjD: i32 = 0;
let fjManGot: u32 = 0;
let fjDataGot: i32 = 0;
let fjFetched: i32 = 0;
let fjTries: i32 = 0;
let fjProgress = false;
let fjDist: i32 = 0;
let fjProgAt: i64 = 0;
let fjStart: i64 = 0;
let fjNextAt: i64 = 0;

// Scratch
const REC_BYTES: i32 = 12 + BLOCK_BYTES;            // oid u32 ‖ addr 8 ‖ block
const REC: usize = memory.data(REC_BYTES + 4, 8);
const OUT: usize = memory.data(200, 8);
const EV: usize = memory.data(176, 8);
const SHA: usize = memory.data(SHA256_CTX_BYTES, 8);
const HASH: usize = memory.data(32, 8);
const ADDR8: usize = memory.data(8, 8);
const WANT: usize = memory.data(WANT_MAX * 8, 8);
const KEYBUF: usize = memory.data(8, 8);
const NONCE12: usize = memory.data(12, 8);
const ZERO1: usize = memory.data(8, 8);
const KEY_LABEL: usize = memory.data<u8>([
  0x6f, 0x75, 0x74, 0x63, 0x61, 0x78, 0x74, 0x2f, 0x76, 0x31, 0x20, 0x66, 0x69, 0x6c, 0x65, 0x20, 0x6b, 0x65, 0x79,
]); // "outcaxt/v1 file key"
const KEY_LABEL_LEN: i32 = 19;


// ---------------------------------------------------------------------------
// Helpers

function now(): i64 { return nodeNowMs(); }
function nowS(): u32 { return <u32>(nodeNowMs() / 1000); }
function obj(i: i32): usize { return OBJS + <usize>(i * OBJ_BYTES); }
function cand(i: i32): usize { return CANDS + <usize>(i * CAND_BYTES); }
function getAt(i: i32): usize { return GETS + <usize>(i * GET_BYTES); }
function serveAt(i: i32): usize { return SERVES + <usize>(i * SERVE_BYTES); }
function idxAddr(s: i32): u64 { return load<u64>(IDX_ADDR + <usize>(s << 3)); }
function idxObj(s: i32): i32 { return <i32>load<u8>(IDX_OBJ + <usize>s) - 1; }
function randU32(): u32 {
  random_fill(ADDR8, 4);
  return load<u32>(ADDR8);
}
function ownQueued(): i32 { return TX_SLOTS - nodeTxRoom(); }
function roomToSend(): bool { return ownQueued() < OWN_QUEUE_MAX; }
function air255(): i64 { return nodeAirtimeMs(255); }
function slot255(): i64 { return <i64>nodeFloodSlotMs(255); }
/** HOLD ranking slot: half the airtime of a small frame, so a ranked neighbour's HOLD is heard before our turn. */
function holdSlotMs(): i64 { const a = nodeAirtimeMs(106) / 2; return a < 1 ? 1 : a; }
/** How long a putter collects HOLDs: the slowest rank (70 slots) plus two relayed small frames. */
function offerWaitMs(): i64 {
  return 70 * holdSlotMs() + 2 * (nodeAirtimeMs(106) + 48 * <i64>nodeFloodSlotMs(106));
}
/** Silence after the last PUT before a holder fetches what it misses. */
function fillQuietMs(): i64 { return 3 * (air255() + 48 * slot255()); }
/** Gap between our own DATA answers going `hops` hops: the relays of the last one get the air first. */
function servePaceMs(hops: i32): i64 {
  const h = hops < 1 ? 1 : hops > 3 ? 3 : hops;
  return <i64>h * air255() + 2 * slot255();
}
/** Fallback step of a holder that is not the first for an address: the first one's share of n answers, paced. */
function fallbackMs(n: i32, holders: i32, hops: i32): i64 {
  return <i64>((n + holders - 1) / holders + 2) * servePaceMs(hops);
}
/** Wait for the answers to a GET of n addresses from `dist` hops (flood out, pipelined unicast back). */
function getWaitMs(n: i32, dist: i32): i64 {
  return <i64>dist * (air255() + 48 * slot255()) + <i64>(3 * n + 2 * dist + 4) * (air255() + 200);
}

/** SHA-256(ptr, len)[0..8] as a u64. */
function addrOf(ptr: usize, len: i32): u64 {
  sha256Init(SHA);
  sha256Update(SHA, ptr, len);
  sha256Final(SHA, HASH);
  return load<u64>(HASH);
}

function keyCheck(key: usize): u64 {
  sha256Init(SHA);
  sha256Update(SHA, KEY_LABEL, KEY_LABEL_LEN);
  sha256Update(SHA, key, 32);
  sha256Final(SHA, HASH);
  return load<u64>(HASH);
}

/** "fb.NNN" or "fo.NN" into KEYBUF; returns the key length. */
function keyName(o: bool, n: i32): i32 {
  store<u8>(KEYBUF, 0x66);
  store<u8>(KEYBUF + 1, o ? 0x6f : 0x62);
  store<u8>(KEYBUF + 2, 0x2e);
  if (o) {
    store<u8>(KEYBUF + 3, <u8>(0x30 + (n / 10) % 10));
    store<u8>(KEYBUF + 4, <u8>(0x30 + n % 10));
    return 5;
  }
  store<u8>(KEYBUF + 3, <u8>(0x30 + (n / 100) % 10));
  store<u8>(KEYBUF + 4, <u8>(0x30 + (n / 10) % 10));
  store<u8>(KEYBUF + 5, <u8>(0x30 + n % 10));
  return 6;
}

function putFree(o: bool, n: i32): void {
  store<u8>(ZERO1, 0);
  storage_put(KEYBUF, keyName(o, n), ZERO1, 1);
}

function saveObj(i: i32): void {
  storage_put(KEYBUF, keyName(true, i), obj(i), O_PERSIST_BYTES);
}

/** Block slot of `addr` in object `o` (any object when o < 0), or -1. */
function findBlock(addr: u64, o: i32): i32 {
  for (let s = 0; s < BLOCK_SLOTS; s++) {
    const so = idxObj(s);
    if (so < 0 || idxAddr(s) != addr) continue;
    if (o < 0 || so == o) return s;
  }
  return -1;
}

function freeSlots(): i32 {
  let n = 0;
  for (let s = 0; s < BLOCK_SLOTS; s++) if (load<u8>(IDX_OBJ + <usize>s) == 0) n++;
  return n;
}

/** Blocks promised but not yet stored: incomplete objects and pending candidacies. */
function reservedSlots(): i32 {
  let n = 0;
  for (let i = 0; i < OBJ_MAX; i++) {
    const p = obj(i);
    if (load<u8>(p + O_USED) == 1) n += <i32>load<u16>(p + O_BLOCKS) - <i32>load<u16>(p + O_HELD);
    if (load<u8>(p + O_USED) == 3) n += OBJECT_BLOCKS_MAX; // a put in progress may still grow
  }
  for (let i = 0; i < CAND_MAX; i++) if (load<u8>(cand(i) + C_USED) != 0) n += <i32>load<u16>(cand(i) + C_BLOCKS);
  return n;
}

function freeObjSlot(): i32 {
  for (let i = 0; i < OBJ_MAX; i++) if (load<u8>(obj(i) + O_USED) == 0) return i;
  return -1;
}

function objByRoot(root: u64): i32 {
  for (let i = 0; i < OBJ_MAX; i++) {
    const p = obj(i);
    const u = load<u8>(p + O_USED);
    if ((u == 1 || u == 2) && load<u64>(p + O_ROOT) == root) return i;
  }
  return -1;
}

/** Stores a block (len bytes at ptr, address addr) for object o: index + record. False when full or storage refused. */
function storeBlock(o: i32, addr: u64, ptr: usize, len: i32): bool {
  if (len < 1 || len > BLOCK_BYTES) return false;
  let s = -1;
  for (let i = 0; i < BLOCK_SLOTS; i++) if (load<u8>(IDX_OBJ + <usize>i) == 0) { s = i; break; }
  if (s < 0) return false;
  store<u32>(REC, load<u32>(obj(o) + O_OID));
  store<u64>(REC + 4, addr);
  memory.copy(REC + 12, ptr, len);
  if (storage_put(KEYBUF, keyName(false, s), REC, 12 + len) != 0) return false;
  store<u64>(IDX_ADDR + <usize>(s << 3), addr);
  store<u8>(IDX_OBJ + <usize>s, <u8>(o + 1));
  const p = obj(o);
  store<u16>(p + O_HELD, load<u16>(p + O_HELD) + 1);
  return true;
}

function dropBlock(s: i32): void {
  const o = idxObj(s);
  if (o < 0) return;
  store<u8>(IDX_OBJ + <usize>s, 0);
  store<u64>(IDX_ADDR + <usize>(s << 3), 0);
  const p = obj(o);
  const h = load<u16>(p + O_HELD);
  if (h > 0) store<u16>(p + O_HELD, h - 1);
  putFree(false, s);
  for (let i = 0; i < SERVE_MAX; i++) {
    const q = serveAt(i);
    if (load<u8>(q + S_USED) != 0 && <i32>load<u16>(q + S_SLOT) == s) store<u8>(q + S_USED, 0);
  }
}

/** Reads block slot s into REC; its block length (REC + 12), or -1 when the record is missing or does not hash to its address (counted, dropped). */
function readBlock(s: i32): i32 {
  const o = idxObj(s);
  if (o < 0) return -1;
  const n = storage_get(KEYBUF, keyName(false, s), REC, REC_BYTES);
  const len = n - 12;
  if (n < 13 || load<u32>(REC) != load<u32>(obj(o) + O_OID) || load<u64>(REC + 4) != idxAddr(s)
    || addrOf(REC + 12, len) != idxAddr(s)) {
    count(C_BLOCK_HASH_BAD);
    dropBlock(s);
    return -1;
  }
  return len;
}

function dropObject(i: i32): void {
  for (let s = 0; s < BLOCK_SLOTS; s++) if (idxObj(s) == i) dropBlock(s);
  for (let g = 0; g < GETS_MAX; g++) {
    const q = getAt(g);
    if (load<u8>(q + G_USED) != 0 && <i32>load<u8>(q + G_JOB) == i + 1) store<u8>(q + G_USED, 0);
  }
  if (pjObj == i && pjState != PJ_IDLE) endPut(3);
  memory.fill(obj(i), 0, OBJ_BYTES);
  putFree(true, i);
}

function emitStored(state: u8, holders: i32): void {
  store<u8>(EV, EV_STORED);
  store<u32>(EV + 1, pjRef);
  store<u8>(EV + 5, state);
  store<u8>(EV + 6, <u8>holders);
  memory.copy(EV + 7, PJ_CAP, 40);
  nodeEmit(EV, 47);
}

function emitDone(state: u8): void {
  store<u8>(EV, EV_DONE);
  store<u32>(EV + 1, fjRef);
  store<u8>(EV + 5, state);
  store<u32>(EV + 6, <u32>fjLen);
  store<u16>(EV + 10, <u16>fjFetched);
  store<u32>(EV + 12, <u32>(now() - fjStart));
  nodeEmit(EV, 16);
  endFetch();
}

function endFetch(): void {
  fjActive = false;
  wipe(FJ_KEY, 32);
  for (let g = 0; g < GETS_MAX; g++) {
    const q = getAt(g);
    if (load<u8>(q + G_USED) != 0 && load<u8>(q + G_JOB) == 0) store<u8>(q + G_USED, 0);
  }
}

// ---------------------------------------------------------------------------
// Init: the index from storage

export function filesInit(): void {
  memory.fill(OBJS, 0, OBJ_MAX * OBJ_BYTES);
  memory.fill(IDX_ADDR, 0, BLOCK_SLOTS * 8);
  memory.fill(IDX_OBJ, 0, BLOCK_SLOTS);
  memory.fill(CANDS, 0, CAND_MAX * CAND_BYTES);
  memory.fill(GETS, 0, GETS_MAX * GET_BYTES);
  memory.fill(SERVES, 0, SERVE_MAX * SERVE_BYTES);
  memory.fill(HEARD, 0, HEARD_MAX * 8);
  wipe(PUT_KEY, 32);
  wipe(FJ_KEY, 32);
  chachaWipe(CHACHA);
  pjState = PJ_IDLE;
  pjObj = -1;
  fjActive = false;
  serveNextAt = 0;
  const t = now();
  for (let i = 0; i < OBJ_MAX; i++) {
    const p = obj(i);
    const n = storage_get(KEYBUF, keyName(true, i), p, O_PERSIST_BYTES);
    const u = load<u8>(p + O_USED);
    if (n != O_PERSIST_BYTES || (u != 1 && u != 2)) { memory.fill(p, 0, OBJ_BYTES); continue; }
    store<u16>(p + O_HELD, 0);
    store<u8>(p + O_NHEARD, 0);
    store<u8>(p + O_LOW, 0);
    store<i64>(p + O_HAVE_AT, t + (<i64>nodeRandomByte() * HAVE_PERIOD_MS) / 256);
    store<i64>(p + O_FILL_AT, t + fillQuietMs());
    store<i64>(p + O_FILL_PROG, t);
    store<u8>(p + O_HOPS, <u8>OFFER_HOPS);
  }
  for (let s = 0; s < BLOCK_SLOTS; s++) {
    const n = storage_get(KEYBUF, keyName(false, s), REC, REC_BYTES);
    if (n < 13) continue;
    const oid = load<u32>(REC);
    let o = -1;
    for (let i = 0; i < OBJ_MAX; i++) {
      const p = obj(i);
      if (load<u8>(p + O_USED) != 0 && load<u32>(p + O_OID) == oid) { o = i; break; }
    }
    if (o < 0) { putFree(false, s); continue; } // an abandoned put or a dropped object
    store<u64>(IDX_ADDR + <usize>(s << 3), load<u64>(REC + 4));
    store<u8>(IDX_OBJ + <usize>s, <u8>(o + 1));
    store<u16>(obj(o) + O_HELD, load<u16>(obj(o) + O_HELD) + 1);
  }
  for (let i = 0; i < OBJ_MAX; i++) {
    const p = obj(i);
    if (load<u8>(p + O_USED) != 0 && load<u16>(p + O_HELD) >= load<u16>(p + O_BLOCKS)) store<u8>(p + O_HELD_SENT, <u8>HELD_SENDS);
  }
}

// ---------------------------------------------------------------------------
// Commands

export function filesCommand(cmd: usize, len: i32): i32 {
  const op = <i32>load<u8>(cmd);
  if (op == CMD_PUT_BEGIN) {
    if (len != 10) return ERR_LENGTH;
    const flen = <i32>load<u32>(cmd + 5);
    if (flen < 1 || flen > FILE_MAX_BYTES || load<u32>(cmd + 5) > <u32>FILE_MAX_BYTES) return ERR_LENGTH;
    let copies = <i32>load<u8>(cmd + 9);
    if (copies > COPIES_MAX) return ERR_INVALID;
    if (copies == 0) copies = COPIES_DEFAULT;
    if (pjState != PJ_IDLE) return ERR_BUSY;
    const d = (flen + BLOCK_BYTES - 1) / BLOCK_BYTES;
    const need = d + (d + ADDRS_PER_BLOCK - 1) / ADDRS_PER_BLOCK + 1;
    const o = freeObjSlot();
    if (o < 0 || freeSlots() - reservedSlots() < need) return ERR_BUSY;
    const p = obj(o);
    memory.fill(p, 0, OBJ_BYTES);
    store<u8>(p + O_USED, 3);
    store<u8>(p + O_COPIES, <u8>copies);
    store<u16>(p + O_BLOCKS, <u16>need);
    store<u32>(p + O_OID, randU32());
    pjState = PJ_DATA;
    pjApp = true;
    pjRef = load<u32>(cmd + 1);
    pjLen = flen;
    pjGot = 0;
    pjBufLen = 0;
    pjBlock = 0;
    pjObj = o;
    random_fill(PUT_KEY, 32);
    return OK;
  }
  if (op == CMD_PUT_DATA) {
    if (len < 6) return ERR_LENGTH;
    const n = <i32>load<u8>(cmd + 5);
    if (n < 1 || n > 200 || len != 6 + n) return ERR_LENGTH;
    if (pjState != PJ_DATA) return ERR_STATE;
    if (load<u32>(cmd + 1) != <u32>pjGot || pjGot + n > pjLen) return ERR_INVALID;
    let src = cmd + 6;
    let left = n;
    while (left > 0) {
      let take = BLOCK_BYTES - pjBufLen;
      if (take > left) take = left;
      memory.copy(PUT_BUF + <usize>pjBufLen, src, take);
      pjBufLen += take;
      src += <usize>take;
      left -= take;
      pjGot += take;
      if (pjBufLen == BLOCK_BYTES && !finishDataBlock()) { abortPut(); return ERR_BUSY; }
    }
    return OK;
  }
  if (op == CMD_PUT_END) {
    if (len != 1) return ERR_LENGTH;
    if (pjState != PJ_DATA) return ERR_STATE;
    if (pjGot != pjLen) return ERR_INVALID;
    if (pjBufLen > 0 && !finishDataBlock()) { abortPut(); return ERR_BUSY; }
    if (!finishPut()) { abortPut(); return ERR_BUSY; }
    return OK;
  }
  if (op == CMD_GET) {
    if (len != 45) return ERR_LENGTH;
    if (fjActive) return ERR_BUSY;
    fjActive = true;
    fjRef = load<u32>(cmd + 1);
    fjRoot = load<u64>(cmd + 5);
    memory.copy(FJ_KEY, cmd + 13, 32);
    fjRootGot = false;
    fjLen = 0; fjM = 0; fjD = 0; fjManGot = 0; fjDataGot = 0; fjFetched = 0; fjTries = 0;
    fjProgress = true;
    fjDist = nodeHopLimit();
    fjStart = now();
    fjProgAt = fjStart;
    fjNextAt = now();
    memory.fill(FJ_GOT, 0, 32);
    return OK;
  }
  if (op == CMD_CANCEL) {
    if (len != 2) return ERR_LENGTH;
    const which = <i32>load<u8>(cmd + 1);
    if (which == 1) {
      if (pjState == PJ_DATA) abortPut();
      else if (pjState != PJ_IDLE) { pjState = PJ_IDLE; pjObj = -1; }
      return OK;
    }
    if (which == 2) { if (fjActive) endFetch(); return OK; }
    return ERR_INVALID;
  }
  return ERR_INVALID;
}

/** Encrypts PUT_BUF (pjBufLen bytes) as data block pjBlock and stores it. */
function finishDataBlock(): bool {
  chachaSetKey(CHACHA, PUT_KEY);
  memory.fill(NONCE12, 0, 12);
  store<u32>(NONCE12, <u32>pjBlock);
  chachaSetNonce(CHACHA, NONCE12);
  chachaSeek(CHACHA, 0);
  chachaXor(CHACHA, PUT_BUF, PUT_BUF, pjBufLen);
  chachaWipe(CHACHA);
  const a = addrOf(PUT_BUF, pjBufLen);
  if (pjBlock >= DATA_BLOCKS_MAX || !storeBlock(pjObj, a, PUT_BUF, pjBufLen)) return false;
  store<u64>(PUT_ADDRS + <usize>(pjBlock << 3), a);
  pjBlock++;
  pjBufLen = 0;
  return true;
}

function abortPut(): void {
  const o = pjObj;
  pjState = PJ_IDLE;
  pjObj = -1;
  wipe(PUT_KEY, 32);
  wipe(PUT_BUF, BLOCK_BYTES);
  if (o >= 0) {
    for (let s = 0; s < BLOCK_SLOTS; s++) if (idxObj(s) == o) dropBlock(s);
    memory.fill(obj(o), 0, OBJ_BYTES);
    putFree(true, o);
  }
}

/** Manifest and root blocks, the object record, the capability event; then the OFFER. */
function finishPut(): bool {
  const d = pjBlock;
  const m = (d + ADDRS_PER_BLOCK - 1) / ADDRS_PER_BLOCK;
  const root = OUT; // root block being built
  store<u32>(root + R_LENGTH, <u32>pjLen);
  store<u8>(root + R_COUNT, <u8>m);
  store<u64>(root + R_CHECK, keyCheck(PUT_KEY));
  for (let j = 0; j < m; j++) {
    let k = d - j * ADDRS_PER_BLOCK;
    if (k > ADDRS_PER_BLOCK) k = ADDRS_PER_BLOCK;
    const ptr = PUT_ADDRS + <usize>(j * ADDRS_PER_BLOCK * 8);
    const a = addrOf(ptr, k * 8);
    if (!storeBlock(pjObj, a, ptr, k * 8)) return false;
    store<u64>(root + R_ADDRS + <usize>(j * 8), a);
  }
  const rootLen = R_ADDRS + m * 8;
  const ra = addrOf(root, rootLen);
  memory.copy(PUT_BUF, root, rootLen);
  if (!storeBlock(pjObj, ra, PUT_BUF, rootLen)) return false;
  const p = obj(pjObj);
  store<u8>(p + O_USED, 2);
  store<u16>(p + O_BLOCKS, <u16>(d + m + 1));
  store<u64>(p + O_ROOT, ra);
  store<u32>(p + O_TOKEN, randU32());
  store<u32>(p + O_EXPIRY, nowS() + FILE_EXPIRY_S);
  store<u8>(p + O_HELD_SENT, <u8>HELD_SENDS);
  store<i64>(p + O_HAVE_AT, now() + HAVE_PERIOD_MS + (<i64>nodeRandomByte() * HAVE_PERIOD_MS) / 2048);
  saveObj(pjObj);
  store<u64>(PJ_CAP, ra);
  memory.copy(PJ_CAP + 8, PUT_KEY, 32);
  wipe(PUT_KEY, 32);
  wipe(PUT_BUF, BLOCK_BYTES);
  emitStored(1, 0);
  wipe(PJ_CAP + 8, 32); // the putter keeps no key: later events carry the root only
  startOffer(pjObj, <i32>load<u8>(p + O_COPIES));
  return true;
}

function startOffer(o: i32, want: i32): void {
  pjObj = o;
  pjWant = want < 1 ? 1 : want > COPIES_MAX ? COPIES_MAX : want;
  pjN = 0;
  pjConfirmed = 0;
  pjMaxHops = 1;
  pjCursor = 0;
  pjState = PJ_OFFER;
  pjDeadline = now() + offerWaitMs();
  pjNextAt = now(); // the OFFER goes out at the next poll with room
  store<u64>(PJ_CAP, load<u64>(obj(o) + O_ROOT));
}

function sendOffer(): bool {
  const p = obj(pjObj);
  store<u16>(OUT, load<u16>(p + O_BLOCKS));
  store<u8>(OUT + 2, load<u8>(p + O_COPIES));
  store<u8>(OUT + 3, <u8>pjWant);
  store<u32>(OUT + 4, load<u32>(p + O_EXPIRY));
  return storeSend(p + O_ROOT, OP_OFFER, OUT, 8, OFFER_HOPS, 0, TX_PRIO_CHANNEL, 0, false);
}

/** Ends the put job; an app put reports FILE_STORED state 2 or 3. */
function endPut(state: u8): void {
  if (pjApp && state != 0) emitStored(state, popcount(pjConfirmed));
  pjState = PJ_IDLE;
  pjObj = -1;
}

function popcount(x: i32): i32 { return <i32>popcnt<u32>(<u32>x); }

// ---------------------------------------------------------------------------
// STORE frames

export function filesOnStore(op: i32, content: usize, contentLen: i32, frame: usize, hopsTaken: i32, prevHop: u32,
  nextHop: u32): bool {
  const dest = load<u64>(frame + OFF_DEST);
  if (op == OP_DATA) return onData(dest, content, contentLen, frame);
  if (op == OP_GET) { onGet(content, contentLen, frame, hopsTaken, prevHop); return false; }
  if (op == OP_PUT) { onPut(dest, content, contentLen); return false; }
  if (op == OP_OFFER) { onOffer(dest, content, contentLen, hopsTaken); return false; }
  if (op == OP_HOLD) { onHold(dest, content, contentLen); return false; }
  if (op == OP_HELD) { onHeld(dest, content, contentLen); return false; }
  if (op == OP_HAVE) { onHave(dest, content, contentLen); return false; }
  count(C_STORE_BAD);
  return false;
}

function onOffer(root: u64, c: usize, n: i32, hopsTaken: i32): void {
  if (n != 8) { count(C_STORE_BAD); return; }
  const blocks = <i32>load<u16>(c);
  const copies = <i32>load<u8>(c + 2);
  const want = <i32>load<u8>(c + 3);
  const expiry = load<u32>(c + 4);
  if (blocks < 3 || blocks > OBJECT_BLOCKS_MAX || copies < 1 || copies > COPIES_MAX || want < 1 || want > COPIES_MAX) {
    count(C_STORE_BAD);
    return;
  }
  const o = objByRoot(root);
  if (o >= 0) {
    // Someone re-offers an object we hold: it takes care; our own count starts over.
    store<u8>(obj(o) + O_LOW, 0);
    return;
  }
  const t = nowS();
  if (expiry <= t || expiry > t + FILE_EXPIRY_S + 3600 || hopsTaken >= OFFER_HOPS) return;
  for (let i = 0; i < CAND_MAX; i++) if (load<u8>(cand(i) + C_USED) != 0 && load<u64>(cand(i) + C_ROOT) == root) return;
  if (freeObjSlot() < 0 || freeSlots() - reservedSlots() < blocks) return; // no room: stay quiet
  let ci = -1;
  for (let i = 0; i < CAND_MAX; i++) if (load<u8>(cand(i) + C_USED) == 0) { ci = i; break; }
  if (ci < 0) return;
  const q = cand(ci);
  memory.fill(q, 0, CAND_BYTES);
  store<u8>(q + C_USED, 1);
  store<u8>(q + C_COPIES, <u8>copies);
  store<u8>(q + C_WANT, <u8>want);
  store<u8>(q + C_HOPS, <u8>(hopsTaken + 1));
  store<u16>(q + C_BLOCKS, <u16>blocks);
  store<u32>(q + C_EXPIRY, expiry);
  store<u64>(q + C_ROOT, root);
  // Rendezvous: the pseudonyms closest (XOR) to the root answer first.
  const rank = <i64>((nodePseudonym() ^ <u32>root) >>> 27);
  const delay = (rank * 2 + <i64>hopsTaken + <i64>(nodeRandomByte() & 1)) * holdSlotMs();
  store<i64>(q + C_DUE, now() + delay);
  store<i64>(q + C_DROP_AT, now() + delay + 3 * offerWaitMs());
}

function onHold(root: u64, c: usize, n: i32): void {
  if (n != 5) { count(C_STORE_BAD); return; }
  const who = load<u32>(c);
  const hops = <i32>load<u8>(c + 4);
  if (who == 0 || hops < 1 || hops > 7) { count(C_STORE_BAD); return; }
  // A candidate counts the HOLDs it hears for its root.
  for (let i = 0; i < CAND_MAX; i++) {
    const q = cand(i);
    if (load<u8>(q + C_USED) == 0 || load<u64>(q + C_ROOT) != root) continue;
    let k = <i32>load<u8>(q + C_NHEARD);
    let seen = false;
    for (let j = 0; j < k; j++) if (load<u32>(q + C_HEARD + <usize>(j * 4)) == who) seen = true;
    if (!seen && k < COPIES_MAX) { store<u32>(q + C_HEARD + <usize>(k * 4), who); k++; store<u8>(q + C_NHEARD, <u8>k); }
    if (load<u8>(q + C_SENT) == 0 && k >= <i32>load<u8>(q + C_WANT)) store<u8>(q + C_USED, 0); // enough volunteers
  }
  // The putter takes the first k.
  if (pjState == PJ_OFFER && pjObj >= 0 && load<u64>(obj(pjObj) + O_ROOT) == root && pjN < pjWant) {
    for (let j = 0; j < pjN; j++) if (load<u32>(PJ_HOLDERS + <usize>(j * 4)) == who) return;
    store<u32>(PJ_HOLDERS + <usize>(pjN * 4), who);
    store<u8>(PJ_HOPS + <usize>pjN, <u8>hops);
    if (hops > pjMaxHops) pjMaxHops = hops;
    pjN++;
    if (pjN >= pjWant) startPush();
  }
}

function startPush(): void {
  pjState = PJ_PUSH;
  pjCursor = 0;
  pjNextAt = now();
}

function onPut(addr: u64, c: usize, n: i32): void {
  if (n < 8 + 1 + 1) { count(C_STORE_BAD); return; }
  const root = load<u64>(c);
  const k = <i32>load<u8>(c + 8);
  const blockAt = 9 + k * 4;
  const blen = n - blockAt;
  if (k < 1 || k > COPIES_MAX || blen < 1 || blen > BLOCK_BYTES) { count(C_STORE_BAD); return; }
  const block = c + <usize>blockAt;
  let o = objByRoot(root);
  let named = false;
  if (o >= 0) {
    const me = load<u32>(obj(o) + O_PSEUDO);
    for (let j = 0; j < k; j++) if (me != 0 && load<u32>(c + 9 + <usize>(j * 4)) == me) named = true;
  } else {
    for (let i = 0; i < CAND_MAX; i++) {
      const q = cand(i);
      if (load<u8>(q + C_USED) == 0 || load<u64>(q + C_ROOT) != root || load<u8>(q + C_SENT) == 0) continue;
      const me = load<u32>(q + C_PSEUDO);
      for (let j = 0; j < k; j++) if (load<u32>(c + 9 + <usize>(j * 4)) == me) named = true;
      if (!named) { store<u8>(q + C_USED, 0); return; } // the putter chose others
      o = freeObjSlot();
      if (o < 0) { store<u8>(q + C_USED, 0); return; }
      const p = obj(o);
      memory.fill(p, 0, OBJ_BYTES);
      store<u8>(p + O_USED, 1);
      store<u8>(p + O_COPIES, load<u8>(q + C_COPIES));
      store<u16>(p + O_BLOCKS, load<u16>(q + C_BLOCKS));
      store<u32>(p + O_OID, randU32());
      store<u32>(p + O_TOKEN, randU32());
      store<u32>(p + O_EXPIRY, load<u32>(q + C_EXPIRY));
      store<u32>(p + O_PSEUDO, me);
      store<u64>(p + O_ROOT, root);
      store<u8>(p + O_HOPS, load<u8>(q + C_HOPS));
      store<i64>(p + O_FILL_PROG, now());
      store<i64>(p + O_HAVE_AT, now() + HAVE_PERIOD_MS + (<i64>nodeRandomByte() * HAVE_PERIOD_MS) / 2048);
      saveObj(o);
      store<u8>(q + C_USED, 0);
      break;
    }
    if (o < 0) {
      // Named without having offered to hold it: refuse.
      for (let i = 0; i < CAND_MAX; i++) if (load<u8>(cand(i) + C_USED) != 0 && load<u64>(cand(i) + C_ROOT) == root) return;
      for (let j = 0; j < k; j++) if (load<u32>(c + 9 + <usize>(j * 4)) == nodePseudonym()) count(C_STORE_BAD);
      return;
    }
  }
  const p = obj(o);
  if (load<u8>(p + O_USED) != 1) return; // our own object
  store<i64>(p + O_FILL_AT, now() + fillQuietMs());
  acceptBlock(o, addr, block, blen);
}

/** A block for holder object o (from a PUT or a fill): checked, stored, and HELD when complete. */
function acceptBlock(o: i32, addr: u64, block: usize, blen: i32): bool {
  if (addrOf(block, blen) != addr) { count(C_BLOCK_HASH_BAD); return false; }
  const p = obj(o);
  if (findBlock(addr, o) >= 0 || load<u16>(p + O_HELD) >= load<u16>(p + O_BLOCKS)) return false;
  if (!storeBlock(o, addr, block, blen)) return false;
  count(C_BLOCKS_HELD);
  store<u8>(p + O_FILL_TRIES, 0);
  store<i64>(p + O_FILL_PROG, now());
  if (load<u16>(p + O_HELD) >= load<u16>(p + O_BLOCKS)) { store<i64>(p + O_FILL_AT, now()); sendHeld(o); }
  return true;
}

/**
 * Hop limit that reaches nodes `distance` hops away and no farther: a frame with hop
 * limit L is relayed L times, so it is heard L + 1 hops out (PROTOCOL.md "Managed
 * flooding"); the smallest limit is 1.
 */
function hopLimitFor(distance: i32): i32 {
  return distance > 2 ? (distance > 8 ? 7 : distance - 1) : 1;
}

function sendHeld(o: i32): void {
  const p = obj(o);
  store<u32>(OUT, load<u32>(p + O_PSEUDO));
  store<u16>(OUT + 4, load<u16>(p + O_HELD));
  store<u16>(OUT + 6, load<u16>(p + O_BLOCKS));
  store<u32>(OUT + 8, load<u32>(p + O_TOKEN));
  // As far as the putter and OFFER_HOPS beyond it: every other holder (all within OFFER_HOPS of the putter) hears it.
  let hops = <i32>load<u8>(p + O_HOPS) + OFFER_HOPS;
  if (hops < 1) hops = 1;
  if (hops > 7) hops = 7;
  if (storeSend(p + O_ROOT, OP_HELD, OUT, 12, hops, 0, TX_PRIO_CHANNEL, <i64>(nodeRandomByte() & 7) * slot255(), false)) {
    store<u8>(p + O_HELD_SENT, load<u8>(p + O_HELD_SENT) + 1);
    store<i64>(p + O_FILL_AT, now() + HELD_RESEND_MS + (<i64>nodeRandomByte() * HELD_RESEND_MS) / 1024);
  }
}

function onHeld(root: u64, c: usize, n: i32): void {
  if (n != 12) { count(C_STORE_BAD); return; }
  // Another holder is complete: it shares the answers to GETs with us from now on.
  const o = objByRoot(root);
  if (o >= 0 && load<u16>(c + 4) >= load<u16>(c + 6) && load<u16>(c + 6) == load<u16>(obj(o) + O_BLOCKS)) notePeer(o, load<u32>(c + 8));
  if ((pjState != PJ_PUSH && pjState != PJ_CONFIRM) || pjObj < 0 || load<u64>(obj(pjObj) + O_ROOT) != root) return;
  const who = load<u32>(c);
  if (load<u16>(c + 4) < load<u16>(c + 6) || load<u16>(c + 6) != load<u16>(obj(pjObj) + O_BLOCKS)) return;
  for (let j = 0; j < pjN; j++) {
    if (load<u32>(PJ_HOLDERS + <usize>(j * 4)) == who) pjConfirmed |= 1 << j;
  }
  if (popcount(pjConfirmed) >= pjWant) endPut(2);
}

function onHave(root: u64, c: usize, n: i32): void {
  if (n != 5) { count(C_STORE_BAD); return; }
  const o = objByRoot(root);
  if (o < 0) return;
  const p = obj(o);
  const token = load<u32>(c);
  if (token == load<u32>(p + O_TOKEN)) return;
  notePeer(o, token);
  let k = <i32>load<u8>(p + O_NHEARD);
  for (let j = 0; j < k; j++) if (load<u32>(p + O_HEARD + <usize>(j * 4)) == token) return;
  if (k < COPIES_MAX) { store<u32>(p + O_HEARD + <usize>(k * 4), token); store<u8>(p + O_NHEARD, <u8>(k + 1)); }
}

/** Remembers (or refreshes) another holder's token for object o; the stalest entry gives way. */
function notePeer(o: i32, token: u32): void {
  const p = obj(o);
  if (token == 0 || token == load<u32>(p + O_TOKEN)) return;
  const ts = nowS();
  let k = -1;
  for (let j = 0; j < PEER_MAX; j++) if (load<u32>(p + O_PEERS + <usize>(j * 4)) == token) { k = j; break; }
  if (k < 0) {
    k = 0;
    for (let j = 1; j < PEER_MAX; j++) {
      if (load<u32>(p + O_PEER_S + <usize>(j * 4)) < load<u32>(p + O_PEER_S + <usize>(k * 4))) k = j;
    }
    store<u32>(p + O_PEERS + <usize>(k * 4), token);
  }
  store<u32>(p + O_PEER_S + <usize>(k * 4), ts);
}

/** Rendezvous score of a holder (its token) for an address: murmur3's finaliser of token ^ address. */
function hrw(token: u32, addr: u64): u32 {
  let x = token ^ <u32>addr ^ <u32>(addr >>> 32);
  x ^= x >>> 16; x *= 0x85ebca6b; x ^= x >>> 13; x *= 0xc2b2ae35; x ^= x >>> 16;
  return x;
}

/** Our place (0 = first) among object o's live known holders for `addr`, lowest score first; peers counts them. */
let rankPeers: i32 = 0;
function answerRank(o: i32, addr: u64): i32 {
  const p = obj(o);
  const mine = hrw(load<u32>(p + O_TOKEN), addr);
  const ts = nowS();
  let r = 0;
  rankPeers = 0;
  for (let j = 0; j < PEER_MAX; j++) {
    const tok = load<u32>(p + O_PEERS + <usize>(j * 4));
    if (tok == 0 || ts - load<u32>(p + O_PEER_S + <usize>(j * 4)) > PEER_KEEP_S) continue;
    rankPeers++;
    const h = hrw(tok, addr);
    if (h < mine || (h == mine && tok < load<u32>(p + O_TOKEN))) r++;
  }
  return r;
}

function onGet(c: usize, n: i32, frame: usize, hopsTaken: i32, prevHop: u32): void {
  if (n < 8 || n % 8 != 0 || n > 24 * 8) { count(C_STORE_BAD); return; }
  const id = load<u64>(frame + OFF_NONCE);
  const k = n / 8;
  let hops = hopsTaken + 1;
  if (hops > 7) hops = 7;
  const t = now();
  for (let j = 0; j < k; j++) {
    const addr = load<u64>(c + <usize>(j * 8));
    const s = findBlock(addr, -1);
    if (s < 0 || heardBefore(id, addr)) continue;
    // Holders nearer the fetcher answer first; a random part spreads them (contention).
    let due = t + (<i64>hopsTaken * 4 + <i64>(nodeRandomByte() & 7)) * slot255() + <i64>j;
    // Split: the first of the known holders (rendezvous on the address) answers at once, the
    // others one fallback period per place later, unless they overheard its DATA meanwhile.
    const o = idxObj(s);
    const rank = answerRank(o, addr);
    if (rank > 0) due += <i64>rank * fallbackMs(k, rankPeers + 1, hops);
    let free = -1;
    let same = -1;
    for (let i = 0; i < SERVE_MAX; i++) {
      const q = serveAt(i);
      if (load<u8>(q + S_USED) == 0) { if (free < 0) free = i; continue; }
      if (<i32>load<u16>(q + S_SLOT) == s) same = i;
    }
    // Asked again (a later GET): the pending answer goes to the newest GET, never twice.
    const i = same >= 0 ? same : free;
    if (i < 0) continue;
    const q = serveAt(i);
    if (same >= 0 && load<u64>(q + S_GET) == id) continue;
    if (same >= 0 && load<i64>(q + S_DUE) < due) due = load<i64>(q + S_DUE);
    store<u8>(q + S_USED, 1);
    store<u8>(q + S_HOPS, <u8>hops);
    store<u8>(q + S_ECHO, 0);
    store<u16>(q + S_SLOT, <u16>s);
    store<u32>(q + S_PREV, prevHop);
    store<u64>(q + S_GET, id);
    store<i64>(q + S_DUE, due);
  }
}

/** A DATA frame: ours when its dest is one of our GETs (consumed), else noted (another holder served it) and relayed. */
function onData(getId: u64, c: usize, n: i32, frame: usize): bool {
  let g = -1;
  for (let i = 0; i < GETS_MAX; i++) {
    const q = getAt(i);
    if (load<u8>(q + G_USED) != 0 && load<u64>(q + G_ID) == getId) { g = i; break; }
  }
  if (n < ADDR_BYTES + 1 || n > ADDR_BYTES + BLOCK_BYTES) { count(C_STORE_BAD); return g >= 0; }
  const addr = load<u64>(c);
  if (g < 0) {
    // Someone else's answer: if we owe the same block to the same GET, skip it (and if that GET reaches us later).
    if (!heardBefore(getId, addr)) {
      store<u64>(HEARD + <usize>(heardNext * 8), heardKey(getId, addr));
      heardNext = (heardNext + 1) % HEARD_MAX;
    }
    for (let i = 0; i < SERVE_MAX; i++) {
      const q = serveAt(i);
      if (load<u8>(q + S_USED) != 0 && load<u64>(q + S_GET) == getId && idxAddr(<i32>load<u16>(q + S_SLOT)) == addr) {
        store<u8>(q + S_USED, 0);
      }
    }
    return false;
  }
  const q = getAt(g);
  const k = <i32>load<u8>(q + G_N);
  let j = -1;
  for (let i = 0; i < k; i++) if (load<u64>(q + G_ADDRS + <usize>(i * 8)) == addr) { j = i; break; }
  if (j < 0) { count(C_STORE_BAD); return true; }
  const got = load<u32>(q + G_GOT);
  if ((got & (<u32>1 << j)) != 0) return true; // a second holder's copy
  const block = c + ADDR_BYTES;
  const blen = n - ADDR_BYTES;
  if (addrOf(block, blen) != addr) { count(C_BLOCK_HASH_BAD); return true; } // asked again later
  store<u32>(q + G_GOT, got | (<u32>1 << j));
  const dist = frameHopLimit(frame) - frameHopsLeft(frame) + 1;
  const job = <i32>load<u8>(q + G_JOB);
  if (job == 0) {
    if (fjActive) {
      if (dist > 0 && dist <= 7) fjDist = dist;
      fetchBlock(addr, block, blen);
      // Half of this GET in: the next one goes out (pipelined; at most FETCH_GETS_OPEN open).
      if (fjActive && <i32>popcnt<u32>(load<u32>(q + G_GOT)) * 2 >= k) fjNextAt = now();
    }
  } else {
    const o = job - 1;
    if (o < OBJ_MAX && load<u8>(obj(o) + O_USED) == 1) {
      acceptBlock(o, addr, block, blen);
      if (load<u32>(q + G_GOT) == (<u32>1 << k) - 1) store<i64>(obj(o) + O_FILL_AT, now());
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// The app's fetch

function expectedManifests(len: i32): i32 {
  const d = (len + BLOCK_BYTES - 1) / BLOCK_BYTES;
  return (d + ADDRS_PER_BLOCK - 1) / ADDRS_PER_BLOCK;
}

function fetchBlock(addr: u64, block: usize, blen: i32): void {
  if (!fjRootGot) {
    if (addr != fjRoot) return;
    const len = <i32>load<u32>(block + R_LENGTH);
    const m = <i32>load<u8>(block + R_COUNT);
    if (blen < R_ADDRS || load<u32>(block + R_LENGTH) > <u32>FILE_MAX_BYTES || len < 1 || m != expectedManifests(len)
      || blen != R_ADDRS + m * 8) { count(C_STORE_BAD); emitDone(3); return; }
    if (load<u64>(block + R_CHECK) != keyCheck(FJ_KEY)) { emitDone(3); return; } // not the key of this file
    fjRootGot = true;
    fjLen = len; fjM = m;
    fjD = (len + BLOCK_BYTES - 1) / BLOCK_BYTES;
    memory.copy(FJ_MADDR, block + R_ADDRS, m * 8);
    fetched();
    return;
  }
  for (let j = 0; j < fjM; j++) {
    if ((fjManGot & (<u32>1 << j)) != 0 || load<u64>(FJ_MADDR + <usize>(j * 8)) != addr) continue;
    let k = fjD - j * ADDRS_PER_BLOCK;
    if (k > ADDRS_PER_BLOCK) k = ADDRS_PER_BLOCK;
    if (blen != k * 8) { count(C_STORE_BAD); emitDone(3); return; }
    memory.copy(FJ_MAN + <usize>(j * BLOCK_BYTES), block, blen);
    fjManGot |= <u32>1 << j;
    fetched();
    return;
  }
  for (let i = 0; i < fjD; i++) {
    if (!manifestHeld(i) || dataGot(i) || load<u64>(dataAddr(i)) != addr) continue;
    const want = i == fjD - 1 ? fjLen - i * BLOCK_BYTES : BLOCK_BYTES;
    if (blen != want) { count(C_STORE_BAD); emitDone(3); return; }
    store<u8>(EV, EV_DATA);
    store<u32>(EV + 1, fjRef);
    store<u32>(EV + 5, <u32>(i * BLOCK_BYTES));
    store<u8>(EV + 9, <u8>blen);
    chachaSetKey(CHACHA, FJ_KEY);
    memory.fill(NONCE12, 0, 12);
    store<u32>(NONCE12, <u32>i);
    chachaSetNonce(CHACHA, NONCE12);
    chachaSeek(CHACHA, 0);
    chachaXor(CHACHA, block, EV + 10, blen);
    chachaWipe(CHACHA);
    nodeEmit(EV, 10 + blen);
    wipe(EV, 10 + blen);
    const bit: i32 = 1 << (i & 7);
    store<u8>(FJ_GOT + <usize>(i >> 3), <u8>(<i32>load<u8>(FJ_GOT + <usize>(i >> 3)) | bit));
    fjDataGot++;
    fetched();
    if (fjDataGot == fjD) emitDone(1);
    return;
  }
}

function fetched(): void {
  fjFetched++;
  fjProgress = true;
  fjProgAt = now();
  count(C_BLOCKS_FETCHED);
}

function manifestHeld(i: i32): bool { return (fjManGot & (<u32>1 << (i / ADDRS_PER_BLOCK))) != 0; }
function dataGot(i: i32): bool { const bit: i32 = 1 << (i & 7); return (<i32>load<u8>(FJ_GOT + <usize>(i >> 3)) & bit) != 0; }
function dataAddr(i: i32): usize {
  return FJ_MAN + <usize>((i / ADDRS_PER_BLOCK) * BLOCK_BYTES + (i % ADDRS_PER_BLOCK) * 8);
}

/** The app's wanted addresses into WANT: root, then missing manifests, then missing data blocks. */
function fetchWants(skipOpen: bool): i32 {
  const t = now();
  const max = skipOpen && fjDist >= FAR_HOPS ? WANT_FAR : WANT_MAX;
  if (!fjRootGot) {
    if (skipOpen && askedOpen(fjRoot, t)) return 0;
    store<u64>(WANT, fjRoot);
    return 1;
  }
  let n = 0;
  for (let j = 0; j < fjM && n < max; j++) {
    const a = load<u64>(FJ_MADDR + <usize>(j * 8));
    if ((fjManGot & (<u32>1 << j)) == 0 && !(skipOpen && askedOpen(a, t))) { store<u64>(WANT + <usize>(n * 8), a); n++; }
  }
  for (let i = 0; i < fjD && n < max; i++) {
    if (!manifestHeld(i) || dataGot(i)) continue;
    const a = load<u64>(dataAddr(i));
    if (!(skipOpen && askedOpen(a, t))) { store<u64>(WANT + <usize>(n * 8), a); n++; }
  }
  return n;
}

/** An open GET of the fetch (answers still expected) asked `addr` and it has not come. */
function askedOpen(addr: u64, t: i64): bool {
  for (let g = 0; g < GETS_MAX; g++) {
    const q = getAt(g);
    if (load<u8>(q + G_USED) == 0 || load<u8>(q + G_JOB) != 0 || load<i64>(q + G_DUE) <= t) continue;
    const k = <i32>load<u8>(q + G_N);
    const got = load<u32>(q + G_GOT);
    for (let i = 0; i < k; i++) {
      if ((got & (<u32>1 << i)) == 0 && load<u64>(q + G_ADDRS + <usize>(i * 8)) == addr) return true;
    }
  }
  return false;
}

/** Open GETs of the fetch; fjOpenDue: when the first of them stops being open. */
let fjOpenDue: i64 = 0;
function openFetchGets(t: i64): i32 {
  let c = 0;
  fjOpenDue = i64.MAX_VALUE;
  for (let g = 0; g < GETS_MAX; g++) {
    const q = getAt(g);
    if (load<u8>(q + G_USED) == 0 || load<u8>(q + G_JOB) != 0 || load<i64>(q + G_DUE) <= t) continue;
    const k = <i32>load<u8>(q + G_N);
    if (load<u32>(q + G_GOT) == (<u32>1 << k) - 1) continue;
    c++;
    if (load<i64>(q + G_DUE) < fjOpenDue) fjOpenDue = load<i64>(q + G_DUE);
  }
  return c;
}

/** A holder's missing blocks into WANT (walks the stored root and manifest blocks). */
function fillWants(o: i32): i32 {
  const p = obj(o);
  const root = load<u64>(p + O_ROOT);
  const rs = findBlock(root, o);
  if (rs < 0) { store<u64>(WANT, root); return 1; }
  const rlen = readBlock(rs);
  if (rlen < 0) { store<u64>(WANT, root); return 1; }
  const m = <i32>load<u8>(REC + 12 + R_COUNT);
  if (m < 1 || m > MANIFEST_BLOCKS_MAX || rlen != R_ADDRS + m * 8) return -1; // not a root block: give up
  memory.copy(FJ_MADDR_FILL, REC + 12 + R_ADDRS, m * 8);
  let n = 0;
  for (let j = 0; j < m && n < WANT_MAX; j++) {
    const a = load<u64>(FJ_MADDR_FILL + <usize>(j * 8));
    if (findBlock(a, o) < 0) { store<u64>(WANT + <usize>(n * 8), a); n++; }
  }
  for (let j = 0; j < m && n < WANT_MAX; j++) {
    const ms = findBlock(load<u64>(FJ_MADDR_FILL + <usize>(j * 8)), o);
    if (ms < 0) continue;
    const mlen = readBlock(ms);
    if (mlen < 0 || mlen % 8 != 0) continue;
    for (let i = 0; i < mlen / 8 && n < WANT_MAX; i++) {
      const a = load<u64>(REC + 12 + <usize>(i * 8));
      if (findBlock(a, o) < 0) { store<u64>(WANT + <usize>(n * 8), a); n++; }
    }
  }
  return n;
}

/** Floods a GET for the n addresses in WANT on behalf of `job`; false when it could not be queued. */
function sendGet(job: i32, n: i32): bool {
  if (n < 1) return false;
  if (!storeSend(WANT, OP_GET, WANT, n * 8, nodeHopLimit(), 0, TX_PRIO_CHANNEL, 0, false)) return false;
  let g = -1;
  let oldest = 0;
  for (let i = 0; i < GETS_MAX; i++) {
    const q = getAt(i);
    if (load<u8>(q + G_USED) == 0) { g = i; break; }
    if (load<i64>(q + G_EXPIRE) < load<i64>(getAt(oldest) + G_EXPIRE)) oldest = i;
  }
  if (g < 0) g = oldest;
  const q = getAt(g);
  store<u8>(q + G_USED, 1);
  store<u8>(q + G_JOB, <u8>job);
  store<u8>(q + G_N, <u8>n);
  store<u32>(q + G_GOT, 0);
  store<u64>(q + G_ID, storeSentFrameId());
  store<i64>(q + G_EXPIRE, now() + GET_KEEP_MS);
  store<i64>(q + G_DUE, now() + getWaitMs(n, job == 0 ? fjDist : nodeHopLimit()));
  memory.copy(q + G_ADDRS, WANT, n * 8);
  return true;
}

// ---------------------------------------------------------------------------
// Poll

let blocked = false;
/** Our next DATA answer may be queued from then on (servePaceMs). */
let serveNextAt: i64 = 0;

export function filesPoll(): void {
  const t = now();
  blocked = false;
  // Expired objects and requests.
  const ts = nowS();
  for (let i = 0; i < OBJ_MAX; i++) {
    const p = obj(i);
    const u = load<u8>(p + O_USED);
    if ((u == 1 || u == 2) && load<u32>(p + O_EXPIRY) <= ts) dropObject(i);
  }
  for (let i = 0; i < GETS_MAX; i++) {
    const q = getAt(i);
    if (load<u8>(q + G_USED) != 0 && load<i64>(q + G_EXPIRE) <= t) store<u8>(q + G_USED, 0);
  }
  pollServe(t);
  pollCands(t);
  pollPut(t);
  pollFetch(t);
  pollObjects(t);
}

function pollServe(t: i64): void {
  while (true) {
    let best = -1;
    for (let i = 0; i < SERVE_MAX; i++) {
      const q = serveAt(i);
      if (load<u8>(q + S_USED) == 0 || load<i64>(q + S_DUE) > t) continue;
      if (best < 0 || load<i64>(q + S_DUE) < load<i64>(serveAt(best) + S_DUE)) best = i;
    }
    if (best < 0) return;
    if (t < serveNextAt) return; // paced: filesNextWakeMs wakes us
    if (!roomToSend()) { blocked = true; return; }
    const q = serveAt(best);
    store<u8>(q + S_USED, 0);
    const s = <i32>load<u16>(q + S_SLOT);
    const addr = idxAddr(s);
    const blen = readBlock(s); // verified: a corrupt record is counted and dropped, never served
    if (blen < 0) continue;
    store<u64>(OUT, addr);
    memory.copy(OUT + 8, REC + 12, blen);
    if (storeSend(q + S_GET, OP_DATA, OUT, 8 + blen, <i32>load<u8>(q + S_HOPS), load<u32>(q + S_PREV),
      TX_PRIO_FLOOD_RELAY, 0, load<u8>(q + S_ECHO) != 0)) {
      count(C_BLOCKS_SERVED);
      serveNextAt = t + servePaceMs(<i32>load<u8>(q + S_HOPS));
    }
  }
}

function pollCands(t: i64): void {
  for (let i = 0; i < CAND_MAX; i++) {
    const q = cand(i);
    if (load<u8>(q + C_USED) == 0) continue;
    if (load<i64>(q + C_DROP_AT) <= t) { store<u8>(q + C_USED, 0); continue; }
    if (load<u8>(q + C_SENT) != 0 || load<i64>(q + C_DUE) > t) continue;
    if (!roomToSend()) { blocked = true; continue; }
    const me = nodePseudonym();
    store<u32>(OUT, me);
    store<u8>(OUT + 4, load<u8>(q + C_HOPS));
    if (storeSend(q + C_ROOT, OP_HOLD, OUT, 5, hopLimitFor(<i32>load<u8>(q + C_HOPS)), 0, TX_PRIO_CHANNEL, 0, false)) {
      store<u8>(q + C_SENT, 1);
      store<u32>(q + C_PSEUDO, me);
    } else {
      store<i64>(q + C_DUE, t + ROOM_RETRY_MS);
    }
  }
}

function pollPut(t: i64): void {
  if (pjState == PJ_IDLE || pjState == PJ_DATA) return;
  if (pjObj < 0 || load<u8>(obj(pjObj) + O_USED) == 0) { endPut(3); return; }
  if (pjState == PJ_OFFER) {
    if (pjNextAt != i64.MAX_VALUE && t >= pjNextAt) {
      if (!roomToSend()) { blocked = true; return; }
      if (sendOffer()) pjNextAt = i64.MAX_VALUE;
      else pjNextAt = t + ROOM_RETRY_MS;
      pjDeadline = t + offerWaitMs();
      return;
    }
    if (t >= pjDeadline) {
      if (pjN == 0) { endPut(3); return; }
      startPush();
    } else return;
  }
  if (pjState == PJ_PUSH) {
    while (t >= pjNextAt) {
      let s = pjCursor;
      while (s < BLOCK_SLOTS && idxObj(s) != pjObj) s++;
      if (s >= BLOCK_SLOTS) {
        pjState = PJ_CONFIRM;
        pjDeadline = t + CONFIRM_WAIT_MS;
        return;
      }
      if (!roomToSend()) { blocked = true; return; }
      const blen = readBlock(s);
      pjCursor = s + 1;
      if (blen < 0) continue;
      const p = obj(pjObj);
      store<u64>(OUT, load<u64>(p + O_ROOT));
      store<u8>(OUT + 8, <u8>pjN);
      memory.copy(OUT + 9, PJ_HOLDERS, pjN * 4);
      memory.copy(OUT + 9 + <usize>(pjN * 4), REC + 12, blen);
      if (!storeSend(IDX_ADDR + <usize>(s << 3), OP_PUT, OUT, 9 + pjN * 4 + blen, hopLimitFor(pjMaxHops), 0, TX_PRIO_FLOOD_RELAY, 0, false)) {
        pjCursor = s;
        pjNextAt = t + ROOM_RETRY_MS;
        return;
      }
      // Pace: one block per airtime per hop, so relays two hops out keep up.
      pjNextAt = t + air255() * <i64>pjMaxHops;
    }
    return;
  }
  if (pjState == PJ_CONFIRM && t >= pjDeadline) endPut(popcount(pjConfirmed) >= pjWant ? 2 : 3);
}

/** Wanted blocks this node holds itself (it is the putter or a holder): taken from storage, never asked. */
function fetchLocal(): void {
  let got = 1;
  while (got > 0 && fjActive) {
    got = 0;
    const n = fetchWants(false);
    for (let j = 0; j < n && fjActive; j++) {
      const a = load<u64>(WANT + <usize>(j * 8));
      const s = findBlock(a, -1);
      if (s < 0) continue;
      const len = readBlock(s); // verified: a corrupt record is counted, dropped and asked from the mesh
      if (len < 0) continue;
      fetchBlock(a, REC + 12, len);
      got++;
    }
  }
}

function pollFetch(t: i64): void {
  if (!fjActive || t < fjNextAt) return;
  fetchLocal();
  if (!fjActive) return;
  // At most FETCH_GETS_OPEN GETs open; a new one asks only what no open GET asked.
  const open = openFetchGets(t);
  const n = open >= FETCH_GETS_OPEN ? 0 : fetchWants(true);
  if (n < 1) { fjNextAt = fjOpenDue == i64.MAX_VALUE ? t + ROOM_RETRY_MS : fjOpenDue; return; }
  if (!roomToSend()) { blocked = true; return; }
  if (fjProgress) fjTries = 0;
  else fjTries++;
  // Nothing at all for this root (not even the root block): no node holds it, or none is in
  // reach; the patience of FETCH_PATIENCE_MS is only for a fetch that has begun to arrive.
  if (fjTries >= FETCH_TRIES && (!fjRootGot || t - fjProgAt >= FETCH_PATIENCE_MS)) { emitDone(2); return; }
  fjProgress = false;
  if (!sendGet(0, n)) { fjNextAt = t + ROOM_RETRY_MS; fjProgress = true; if (fjTries > 0) fjTries--; return; }
  fjNextAt = t + getWaitMs(n, fjDist) * <i64>backoff(fjTries);
}

/** Wait multiplier after `tries` GETs in a row without progress. */
function backoff(tries: i32): i32 { return tries < 1 ? 1 : tries >= FETCH_BACKOFF_MAX ? FETCH_BACKOFF_MAX : tries + 1; }

function pollObjects(t: i64): void {
  for (let i = 0; i < OBJ_MAX; i++) {
    const p = obj(i);
    const u = load<u8>(p + O_USED);
    if (u != 1 && u != 2) continue;
    const complete = load<u16>(p + O_HELD) >= load<u16>(p + O_BLOCKS);
    // A holder missing blocks fetches them itself once the PUTs went quiet.
    if (!complete && u == 1 && load<i64>(p + O_FILL_AT) <= t) {
      if (!roomToSend()) { blocked = true; continue; }
      const tries = <i32>load<u8>(p + O_FILL_TRIES);
      if (tries >= FETCH_TRIES * 2 && t - load<i64>(p + O_FILL_PROG) >= FETCH_PATIENCE_MS) { dropObject(i); continue; }
      const n = fillWants(i);
      if (n < 0) { count(C_STORE_BAD); dropObject(i); continue; }
      if (tries < 255) store<u8>(p + O_FILL_TRIES, <u8>(tries + 1));
      if (n > 0 && sendGet(i + 1, n)) store<i64>(p + O_FILL_AT, t + getWaitMs(n, nodeHopLimit()) * <i64>backoff(tries));
      else store<i64>(p + O_FILL_AT, t + fillQuietMs());
    }
    // HELD, repeated (O_FILL_AT times the repeats of a complete holder).
    if (complete && u == 1 && <i32>load<u8>(p + O_HELD_SENT) < HELD_SENDS && load<i64>(p + O_FILL_AT) <= t) {
      if (roomToSend()) sendHeld(i);
      else blocked = true;
    }
    // HAVE: announce ourselves, count the others; too few twice in a row: re-offer.
    if (load<i64>(p + O_HAVE_AT) <= t) {
      if (!roomToSend()) { blocked = true; continue; }
      const copies = <i32>load<u8>(p + O_COPIES);
      const others = <i32>load<u8>(p + O_NHEARD);
      if (others < copies - 1) store<u8>(p + O_LOW, load<u8>(p + O_LOW) + 1);
      else store<u8>(p + O_LOW, 0);
      store<u8>(p + O_NHEARD, 0);
      store<u32>(OUT, load<u32>(p + O_TOKEN));
      store<u8>(OUT + 4, <u8>copies);
      storeSend(p + O_ROOT, OP_HAVE, OUT, 5, OFFER_HOPS, 0, TX_PRIO_FLOOD_RELAY, 0, false);
      store<i64>(p + O_HAVE_AT, t + HAVE_PERIOD_MS + (<i64>nodeRandomByte() * HAVE_PERIOD_MS) / 2048);
      if (load<u8>(p + O_LOW) >= 2 && complete && pjState == PJ_IDLE) {
        store<u8>(p + O_LOW, 0);
        count(C_FILE_REPLICATIONS);
        pjApp = false;
        startOffer(i, copies - 1 - others);
      }
    }
  }
}

export function filesNextWakeMs(): i64 {
  const t = now();
  let w: i64 = i64.MAX_VALUE;
  if (blocked) w = t + ROOM_RETRY_MS;
  for (let i = 0; i < SERVE_MAX; i++) {
    const q = serveAt(i);
    if (load<u8>(q + S_USED) == 0) continue;
    const d = load<i64>(q + S_DUE) > serveNextAt ? load<i64>(q + S_DUE) : serveNextAt; // paced
    if (d < w) w = d;
  }
  for (let i = 0; i < CAND_MAX; i++) {
    const q = cand(i);
    if (load<u8>(q + C_USED) == 0) continue;
    if (load<u8>(q + C_SENT) == 0 && load<i64>(q + C_DUE) < w) w = load<i64>(q + C_DUE);
    if (load<i64>(q + C_DROP_AT) < w) w = load<i64>(q + C_DROP_AT);
  }
  if (pjState == PJ_OFFER) { if (pjNextAt < w) w = pjNextAt; if (pjDeadline < w) w = pjDeadline; }
  if (pjState == PJ_PUSH && pjNextAt < w) w = pjNextAt;
  if (pjState == PJ_CONFIRM && pjDeadline < w) w = pjDeadline;
  if (fjActive && fjNextAt < w) w = fjNextAt;
  for (let i = 0; i < OBJ_MAX; i++) {
    const p = obj(i);
    const u = load<u8>(p + O_USED);
    if (u != 1 && u != 2) continue;
    if (load<i64>(p + O_HAVE_AT) < w) w = load<i64>(p + O_HAVE_AT);
    if (u == 1 && (load<u16>(p + O_HELD) < load<u16>(p + O_BLOCKS) || <i32>load<u8>(p + O_HELD_SENT) < HELD_SENDS)
      && load<i64>(p + O_FILL_AT) < w) w = load<i64>(p + O_FILL_AT);
    const e = <i64>load<u32>(p + O_EXPIRY) * 1000;
    if (e < w) w = e;
  }
  for (let i = 0; i < GETS_MAX; i++) {
    const q = getAt(i);
    if (load<u8>(q + G_USED) != 0 && load<i64>(q + G_EXPIRE) < w) w = load<i64>(q + G_EXPIRE);
  }
  // Whatever is due now and still pending waits for transmit-queue room: look again shortly.
  if (w <= t) w = t + ROOM_RETRY_MS;
  return w;
}
