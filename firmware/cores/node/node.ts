// The node: what this radio transmits, relays, accepts and delivers.
//
// Everything here is driven by the host through four calls (index.ts):
// nodeInit, nodeReceive (a frame heard), nodeCommand (the app asks), nodePoll
// (time passed) plus nodeTxDone. The node never blocks and never allocates;
// all state lives in fixed tables (contacts.ts, dedup.ts, routes.ts,
// txqueue.ts, dutycycle.ts and the pending/echo tables below).
//
// Routing (firmware/PROTOCOL.md "Routing"):
// - flood frames (next_hop 0) are relayed once, after a contention delay that
//   is shorter for weak receptions, and cancelled when RELAY_CANCEL_COPIES
//   neighbours were heard relaying the same frame first;
// - a DIRECT frame floods until its ACK comes back; the ACK retraces the
//   DIRECT frame's previous hops and every node on the way learns
//   "dest tag -> the neighbour the ACK came from";
// - a unicast hop is confirmed by hearing the next hop pass the frame on (or
//   the ACK, at the last hop); silence retries it, then drops the route and
//   floods the frame (self-repair);
// - direct messages are retried end to end with backoff; the last attempt
//   floods; the app sees SENT, ACKED or FAILED.
import { ERR_INVALID, ERR_LENGTH, ERR_STATE, OK } from "../crypto/memory";
import { wipe } from "../crypto/ct";
import { airtimeMs, symbolTimeUs } from "./airtime";
import {
  CONTACTS_MAX, CT_ANNOUNCE_S, CT_ED_PUB, CT_NAME, CT_NAME_LEN, CT_PAIR_KEY, CT_PREKEY_PUB, CT_TX_TAG,
  channelAcceptSeq, channelByTag, channelJoin, channelKeyPtr, channelNextSeq, channelTags, channelUsed, CHANNELS_MAX,
  contactAcceptMsgId, contactAt, contactById, contactByKey, contactByRxTag, contactCount, contactNextMsgId,
  contactSeenMsgId, contactSlotForNew, contactStore, contactTags, contactTouch, contactTxDirection, contactUsed,
  contactsReset, contactsLoad, contactByRxTagAt, CT_X_PUB,
} from "./contacts";
import {
  dedupCopyTag, dedupFromOrigin, dedupInsert, dedupLookup, dedupMarkFromOrigin, dedupMarkRelayed, dedupNoteCopy, dedupPrevHop, dedupRelayed,
  dedupReset,
} from "./dedup";
import { DUTY_NO_LIMIT, dutyRecord, dutyReset, dutyUsedMs, dutyWaitMs } from "./dutycycle";
import { app_event, radio_transmit, random_fill, storage_get, storage_put } from "./env";
import { clockNowMs, clockRestart } from "./clock";
import {
  DROP_AUTH_FAILED, DROP_BAD_CONTENT, DROP_BAD_KEY, DROP_NONE, DROP_REPLAY, FRAME_ID_BYTES, FRAME_MAX_BYTES, HOP_LIMIT_MAX, OFF_DEST, OFF_NONCE, TYPE_ACK,
  TYPE_ANNOUNCE, TYPE_CHANNEL, TYPE_DIRECT, TYPE_STORE, frameCheck, frameHopLimit, frameHopsLeft, frameNextHop, framePrevHop,
  frameSetRelayFields, frameType,
} from "./frame";
import {
  CHANNEL_NAME_MAX_BYTES, EPOCH_MS, IDENTITY_BYTES, ID_ED25519_PUB, ID_X25519_PUB, MESH_NAME_MAX_BYTES,
  PASSPHRASE_MAX_BYTES, channelKey, dropKey, identityFromSeed, meshKey, prekeyPublic, pseudonym,
} from "./keys";
import { ROUTE_MAX_FAILURES, routeConfirm, routeCount, routeFail, routeForget, routeLearn, routeLookup, routeNextHop, routeReset } from "./routes";
import {
  ACK_MSG_ID, ACK_RANDOM_BYTES, ANNOUNCE_RANDOM_BYTES, AN_ED25519_PUB, AN_NAME, AN_NAME_LEN, AN_PREKEY_EPOCH,
  AN_PREKEY_PUB, AN_UNIX_S, AN_X25519_PUB, CHANNEL_RANDOM_BYTES, CH_SENDER_ID, CH_SEQ, CH_TEXT, CH_TEXT_LEN,
  CH_TEXT_MAX_BYTES, CH_UNIX_S, DIRECT_RANDOM_BYTES, DM_MSG_ID, DM_TEXT, DM_TEXT_LEN, DM_TEXT_MAX_BYTES, DM_UNIX_S,
  ST_CONTENT, ST_LEN, ST_OP, STORE_RANDOM_BYTES,
  openAck, openAnnounce, openChannel, openDirect, openStore, sealAck, sealAnnounce, sealChannel, sealDirect, sealStore,
} from "./seal";
import {
  C_ACKS_RECEIVED, C_ACKS_SENT, C_ANNOUNCES_SENT, C_CONTACTS, C_DELIVERED_CHANNEL, C_DELIVERED_DIRECT,
  C_DIRECT_FAILED, C_DIRECT_RETRIES, C_DUPLICATE, C_DUTY_DEFERRALS, C_FLOOD_SENT, C_HOP_RETRIES, C_HOPS_EXHAUSTED,
  C_QUEUE_DROPS, C_RELAYED, C_RELAY_CANCELLED, C_ROUTES_LEARNED, C_ROUTE_REPAIRS, C_RX_FRAMES, C_TX_AIRTIME_MS,
  C_CONTACTS_FULL, C_TX_FRAMES, C_UNICAST_SENT, C_UNKNOWN_SENDER, count, countAdd, countersReset, setCounter,
} from "./stats";
import {
  TX_PRIO_ACK, TX_PRIO_ANNOUNCE, TX_PRIO_CHANNEL, TX_PRIO_DIRECT, TX_PRIO_FLOOD_RELAY, contentionDelayMs,
  TX_SLOTS, txCopyFrame, txCount, txEnqueue, txNextDue, txNextWakeMs, txNoteDuplicateHeard, txPriority, txRemove, txReset, TX_NEVER,
} from "./txqueue";
import { serialConfigure, serialEvent, serialEventsOn, serialRadioFrame } from "./serial";
import { MAIL_OP_LAST, mailDeposit, mailInit, mailNextWakeMs, mailOnAnnounce, mailOnStore, mailPoll } from "./mailbox";
import { FILE_OP_FIRST, filesCommand, filesInit, filesNextWakeMs, filesOnStore, filesPoll, FILE_CMD_FIRST, FILE_CMD_LAST } from "./files";

// ---------------------------------------------------------------------------
// Tunables (starting values; the simulator is where they get measured)

/** Relay copies heard before our own queued flood relay is cancelled (config byte 15 overrides; 255 = never cancel). */
export const RELAY_CANCEL_COPIES_DEFAULT: i32 = 2;
/** Shortest contention slot in LoRa symbols: about one CAD plus turnaround (Meshtastic's LongFast slot is ~28 ms = 3.4 symbols). */
const CONTENTION_SLOT_SYMBOLS: i64 = 3;
/**
 * A flood relay's contention slot is 1/CONTENTION_SLOTS_PER_AIRTIME of the frame's own
 * airtime, so one SNR band (8 slots in txqueue.ts) lasts one airtime: a receiver in a
 * stronger band starts only after relays from every weaker band could have been heard
 * in full, which is what lets it cancel. (With a slot of a few symbols, bands overlap
 * within one airtime and nobody ever hears a copy before its own turn.)
 */
const CONTENTION_SLOTS_PER_AIRTIME: i64 = 8;
/** The longest contention wait in slots (txqueue.ts: 6 bands x 8 slots). */
const MAX_CONTENTION_SLOTS: i64 = 48;
/** A unicast relay waits 0..UNICAST_JITTER_SLOTS slots (no contention needed: one node is asked). */
const UNICAST_JITTER_SLOTS: i32 = 2;
/** Hop retries after a missed implicit ACK before the route is dropped and the frame flooded. */
export const HOP_RETRIES: i32 = 1;
/** End-to-end attempts of a direct message (the last one floods). */
export const DIRECT_ATTEMPTS: i32 = 3;
/** Announce period: every 3 hours (plus up to 1/8 jitter), and soon after boot and prekey rotation. */
const ANNOUNCE_PERIOD_MS: i64 = 3 * 3600 * 1000;
const ANNOUNCE_BOOT_DELAY_MAX_MS: i64 = 30 * 1000;
/** A prekey lives 24 epochs (one day); the previous one is kept for one more day, then wiped (forward secrecy). */
const PREKEY_LIFETIME_EPOCHS: u32 = 24;
/** If the host never reports the end of a transmission, the radio is considered free again after this. */
const TX_WATCHDOG_EXTRA_MS: i64 = 2000;
/** Slack on an implicit-ACK wait for host scheduling and clock granularity. */
const ECHO_MARGIN_MS: i64 = 200;
/** Frames that hosts can hand in (also the I/O buffer's frame area). */
export const IO_BUFFER_BYTES: i32 = 512;

// ---------------------------------------------------------------------------
// Static memory

export const IO_BUFFER: usize = memory.data(IO_BUFFER_BYTES, 16);
const IDENTITY: usize = memory.data(IDENTITY_BYTES, 8);
const SEED: usize = memory.data(32, 8);
const MESH_KEY: usize = memory.data(32, 8);
const NAME: usize = memory.data(16, 8);
/** Prekeys: current secret 32, current public 32, previous secret 32, current epoch u32, previous valid u32. */
const PREKEYS: usize = memory.data(104, 8);
const PK_CUR_SECRET: usize = 0;
const PK_CUR_PUB: usize = 32;
const PK_PREV_SECRET: usize = 64;
const PK_EPOCH: usize = 96;
const PK_HAS_PREV: usize = 100;
const RX: usize = memory.data(256, 8);         // received frame
const TX: usize = memory.data(256, 8);         // frame being built or sent
const PLAIN: usize = memory.data(256, 8);      // opened body
const RAND: usize = memory.data(64, 8);        // random bytes for a seal
const ID8: usize = memory.data(8, 8);
const TAG8: usize = memory.data(8, 8);
const EVENT: usize = memory.data(256, 8);
const MAIL_FRAME: usize = memory.data(256, 8);  // a direct message sealed for keepers
const MAIL_ACK_KEY: usize = memory.data(32, 8); // its K_ack (secret), or a scratch tag
/** The config of the last successful node_init (CONFIG_GET on the serial link): 16 + 32 + 15 bytes at most. */
export const CONFIG_MAX_BYTES: i32 = 63;
const CONFIG: usize = memory.data(64, 8);
let configLen: i32 = 0;
const KEYNAME: usize = memory.data<u8>([0x69, 0x64, 0x2e, 0x73, 0x65, 0x65, 0x64]); // "id.seed"
const KEYNAME_LEN: i32 = 7;
const PKNAME: usize = memory.data<u8>([0x70, 0x72, 0x65, 0x6b, 0x65, 0x79, 0x73]); // "prekeys"
const PKNAME_LEN: i32 = 7;

// Pending direct messages: retried end to end until ACKed.
const PENDING_MAX: i32 = 8;
const PENDING_BYTES: i32 = 320;
const P_REF: usize = 0;        // u32 app reference
const P_CONTACT: usize = 4;    // i32 contact slot
const P_MSG_ID: usize = 8;     // u32
const P_ATTEMPTS: usize = 12;  // u8
const P_USED: usize = 13;      // u8
const P_TEXT_LEN: usize = 14;  // u8
const P_TEXT: usize = 16;      // 156 bytes
const P_DEADLINE: usize = 176; // i64
const P_ACKS: usize = 184;     // DIRECT_ATTEMPTS x (frame id 8 + K_ack 32) = 120 -> 304
const PENDING: usize = memory.data(PENDING_MAX * PENDING_BYTES, 8);

// Unicast hops waiting for their implicit acknowledgement.
const ECHO_MAX: i32 = 8;
const ECHO_BYTES: i32 = 288;
const E_ID: usize = 0;          // u64 frame id
const E_NEXT: usize = 8;        // u32 next hop asked
const E_TRIES: usize = 12;      // u8 retries so far
const E_USED: usize = 13;       // u8
const E_LEN: usize = 14;        // u16
const E_DEADLINE: usize = 16;   // i64
const E_PRIO: usize = 24;       // i32
const E_FRAME: usize = 32;      // 256
const ECHOES: usize = memory.data(ECHO_MAX * ECHO_BYTES, 8);

// Scalars
let initialised = false;
let relayEnabled = true;
/** Config flag bit 4: this node keeps nothing for others (no storage to spare). */
const CONFIG_FLAG_KEEP_NOTHING: i32 = 16;
/**
 * Plain flooding, the comparison baseline of the simulator (node-flood.wasm):
 * every new frame is relayed once after a short uniform jitter, never cancelled;
 * no learned routes, no unicast hops, no implicit ACKs. End-to-end retries stay.
 */
let baselineFlooding = false;
export function setBaselineFlooding(on: bool): void { baselineFlooding = on; }
let relayCancelCopies: i32 = RELAY_CANCEL_COPIES_DEFAULT;
/** Contention ignores SNR (every receiver waits a uniform random delay): for measurements only. */
let uniformContention = false;
/** Announce only when the app asks (config flag bit 2): for simulations that script their announces. */
let autoAnnounce = true;
let hopLimit: i32 = 3;
let sf: i32 = 11;
let bwHz: i32 = 250000;
let cr: i32 = 1;
let preambleSymbols: i32 = 16;
let dutyBudgetMs: i64 = DUTY_NO_LIMIT;
let nameLen: i32 = 0;
let nowMs: i64 = 0;
let epoch: u32 = 0;
let myPseudonym: u32 = 0;
let myPrevPseudonym: u32 = 0;
let radioBusy = false;
let radioFreeAtMs: i64 = 0;
/** After the radio refused a frame (channel busy: listen-before-talk), no new attempt before this. */
let radioRetryAtMs: i64 = 0;
/** Listen-before-talk backoff: 1..LBT_BACKOFF_SLOTS slots of a few symbols each. */
const LBT_BACKOFF_SLOTS: i32 = 16;
let nextAnnounceMs: i64 = 0;

// ---------------------------------------------------------------------------
// Small helpers

function readClock(): void {
  const ms = clockNowMs();
  if (ms > nowMs) nowMs = ms;
}

function randomByte(): i32 {
  random_fill(RAND, 1);
  return <i32>load<u8>(RAND);
}

function frameAirtimeMs(len: i32): i64 {
  const ms = airtimeMs(len, sf, bwHz, cr, preambleSymbols);
  return ms < 1 ? 1 : <i64>ms;
}

function slotMs(): i32 {
  const us = symbolTimeUs(sf, bwHz) * CONTENTION_SLOT_SYMBOLS;
  const ms = <i32>(us / 1000);
  return ms < 1 ? 1 : ms;
}

/** Contention slot for relaying a frame of `len` bytes (see CONTENTION_SLOTS_PER_AIRTIME). */
function floodSlotMs(len: i32): i32 {
  const byAirtime = frameAirtimeMs(len) / CONTENTION_SLOTS_PER_AIRTIME;
  const min = <i64>slotMs();
  return <i32>(byAirtime > min ? byAirtime : min);
}

/**
 * Whether next_hop names us. Only this hour's pseudonym counts: answering to last
 * hour's name too would let an observer see both names on one frame and link them.
 * (Cost: a frame addressed to us across the hour boundary is lost to one retry.)
 */
function isMe(hop: u32): bool {
  return hop != 0 && hop == myPseudonym;
}

/** An app event in EVENT: to the serial link when the host enabled it (config flag bit 3), else to env.app_event. */
function emit(len: i32): void {
  if (serialEventsOn()) serialEvent(EVENT, len);
  else app_event(EVENT, len);
}

/** The DELIVERY event (0x83, ABI.md); also used by mailbox.ts for states 3, 4 and 5 of stored mail. */
export function emitDelivery(ref: u32, state: u8, attempts: u8): void {
  store<u8>(EVENT, 0x83);
  store<u32>(EVENT + 1, ref);
  store<u8>(EVENT + 5, state);
  store<u8>(EVENT + 6, attempts);
  emit(7);
}

/** The IDENTITY event (73 bytes) to `out`. */
function identityEvent(out: usize): i32 {
  store<u8>(out, 0x80);
  memory.copy(out + 1, IDENTITY + ID_ED25519_PUB, 8);
  memory.copy(out + 9, IDENTITY + ID_ED25519_PUB, 32);
  memory.copy(out + 41, IDENTITY + ID_X25519_PUB, 32);
  return 73;
}

/** The CONTACT event of contact slot i (42..57 bytes) to `out`. */
function contactEvent(i: i32, out: usize): i32 {
  const c = contactAt(i);
  store<u8>(out, 0x84);
  memory.copy(out + 1, c + CT_ED_PUB, 8);
  memory.copy(out + 9, c + CT_ED_PUB, 32);
  let n = <i32>load<u8>(c + CT_NAME_LEN);
  if (n > 15) n = 15;
  store<u8>(out + 41, <u8>n);
  memory.copy(out + 42, c + CT_NAME, n);
  return 42 + n;
}

function emitIdentity(): void { emit(identityEvent(EVENT)); }
function emitContact(i: i32): void { emit(contactEvent(i, EVENT)); }

// Hooks of the serial link (serial.ts): replies it writes itself, with the request's seq.

export function nodeInitialised(): bool { return initialised; }

/** IDENTITY event bytes to `out` (at least 73 bytes); 0 before node_init. */
export function nodeIdentityEvent(out: usize): i32 { return initialised ? identityEvent(out) : 0; }

/** CONTACT event bytes of contact slot i to `out` (at least 57 bytes); 0 for an empty slot. */
export function nodeContactEvent(i: i32, out: usize): i32 { return contactUsed(i) ? contactEvent(i, out) : 0; }

/** The config in use to `out` (CONFIG_MAX_BYTES at most); its length, 0 before node_init. */
export function nodeConfig(out: usize): i32 {
  if (!initialised) return 0;
  memory.copy(out, CONFIG, configLen);
  return configLen;
}

/**
 * The 12 bytes after the counters of the serial STATUS message (firmware/SERIAL.md): frames
 * queued u8, direct messages pending u8, learned routes u8, channels joined u8, airtime of
 * the last rolling hour u32 (ms), duty budget per hour u32 (ms, 0 = no limit).
 */
export function nodeStatusExtra(out: usize): i32 {
  let pending = 0;
  for (let i = 0; i < PENDING_MAX; i++) if (load<u8>(PENDING + <usize>(i * PENDING_BYTES) + P_USED) != 0) pending++;
  let channels = 0;
  for (let i = 0; i < CHANNELS_MAX; i++) if (channelUsed(i)) channels++;
  let routes = initialised ? routeCount(nowMs) : 0;
  if (routes > 255) routes = 255;
  let used = initialised ? dutyUsedMs(nowMs) : 0;
  if (used > 0xffffffff) used = 0xffffffff;
  let budget = dutyBudgetMs;
  if (budget < 0) budget = 0;
  if (budget > 0xffffffff) budget = 0xffffffff;
  store<u8>(out, <u8>txCount());
  store<u8>(out + 1, <u8>pending);
  store<u8>(out + 2, <u8>routes);
  store<u8>(out + 3, <u8>channels);
  store<u32>(out + 4, <u32>used);
  store<u32>(out + 8, <u32>budget);
  return 12;
}

/**
 * Sets prev_hop of the frame in TX for a frame we originate: a fresh random value,
 * so that not even within one hour do our own frames share a field (a relay names
 * itself by its hourly pseudonym instead, see relay()). Replies still find us: the
 * last hop is recognised by its dest tag, not by next_hop.
 */
function markOwn(): void {
  random_fill(RAND, 4);
  let r = load<u32>(RAND);
  if (r == 0) r = 1;
  frameSetRelayFields(TX, frameHopsLeft(TX), frameNextHop(TX), r);
}

/** Queues the frame in TX (len bytes); counts a drop when the queue refuses it. */
function enqueue(len: i32, priority: i32, delayMs: i64): bool {
  memory.copy(ID8, TX + OFF_NONCE, FRAME_ID_BYTES);
  if (txEnqueue(TX, len, priority, nowMs + delayMs, ID8) < 0) {
    count(C_QUEUE_DROPS);
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Epochs, pseudonyms and prekeys

function savePrekeys(): void {
  storage_put(PKNAME, PKNAME_LEN, PREKEYS, 104);
}

function newPrekey(): void {
  if (load<u32>(PREKEYS + PK_EPOCH) != 0 || load<u64>(PREKEYS + PK_CUR_PUB) != 0) {
    memory.copy(PREKEYS + PK_PREV_SECRET, PREKEYS + PK_CUR_SECRET, 32);
    store<u32>(PREKEYS + PK_HAS_PREV, 1);
  }
  random_fill(PREKEYS + PK_CUR_SECRET, 32);
  prekeyPublic(PREKEYS + PK_CUR_PUB, PREKEYS + PK_CUR_SECRET);
  store<u32>(PREKEYS + PK_EPOCH, epoch);
  savePrekeys();
}

function updateEpoch(): void {
  const e = <u32>(nowMs / EPOCH_MS);
  if (e == epoch && myPseudonym != 0) return;
  epoch = e;
  myPseudonym = pseudonym(IDENTITY, e);
  myPrevPseudonym = pseudonym(IDENTITY, e - 1);
  for (let i = 0; i < CONTACTS_MAX; i++) if (contactUsed(i)) contactTags(i, IDENTITY, e, false);
  for (let i = 0; i < CHANNELS_MAX; i++) if (channelUsed(i)) channelTags(i, e, false);
  const made = load<u32>(PREKEYS + PK_EPOCH);
  if (e - made >= PREKEY_LIFETIME_EPOCHS * 2 && load<u32>(PREKEYS + PK_HAS_PREV) != 0) {
    // The previous prekey outlived its grace period: forget it for good.
    wipe(PREKEYS + PK_PREV_SECRET, 32);
    store<u32>(PREKEYS + PK_HAS_PREV, 0);
    savePrekeys();
  }
  if (e - made >= PREKEY_LIFETIME_EPOCHS || e < made) {
    newPrekey();
    nextAnnounceMs = nowMs + 1000 + <i64>(randomByte() * 100);
  }
}

// ---------------------------------------------------------------------------
// Init

/**
 * Config v1 (host-tools/node/protocol.ts encodeConfig, firmware/ABI.md): version,
 * sf, cr, hop limit, bw u32, preamble u16, duty permille u16, flags u8 (bit 0
 * relay, bit 1 uniform contention, bit 2 announce on command only, bit 3 serial
 * events), mesh name length, node name length, relay
 * cancel copies (0 default, 255 never), mesh name, node name.
 */
export function nodeInit(cfg: usize, len: i32): i32 {
  if (len < 16 || load<u8>(cfg) != 1) return ERR_LENGTH;
  const meshLen = <i32>load<u8>(cfg + 13);
  const nLen = <i32>load<u8>(cfg + 14);
  if (meshLen > MESH_NAME_MAX_BYTES || nLen > 15 || 16 + meshLen + nLen > len) return ERR_LENGTH;
  const s = <i32>load<u8>(cfg + 1);
  const c = <i32>load<u8>(cfg + 2);
  const h = <i32>load<u8>(cfg + 3);
  const bw = load<u32>(cfg + 4);
  const pre = <i32>load<u16>(cfg + 8);
  const permille = <i32>load<u16>(cfg + 10);
  if (s < 7 || s > 12 || c < 1 || c > 4 || h < 1 || h > HOP_LIMIT_MAX || pre < 6) return ERR_INVALID;
  if (bw != 125000 && bw != 250000 && bw != 500000) return ERR_INVALID;
  if (permille > 1000) return ERR_INVALID;
  sf = s; cr = c; hopLimit = h; bwHz = <i32>bw; preambleSymbols = pre;
  dutyBudgetMs = permille == 0 || permille == 1000 ? DUTY_NO_LIMIT : <i64>permille * 3600;
  const flags = <i32>load<u8>(cfg + 12);
  relayEnabled = (flags & 1) != 0;
  uniformContention = (flags & 2) != 0;
  autoAnnounce = (flags & 4) == 0;
  serialConfigure((flags & 8) != 0);
  const cancel = <i32>load<u8>(cfg + 15);
  relayCancelCopies = cancel == 0 ? RELAY_CANCEL_COPIES_DEFAULT : cancel == 255 ? 0 : cancel;
  if (baselineFlooding) relayCancelCopies = 0;
  nameLen = nLen;
  memory.fill(NAME, 0, 16);
  memory.copy(NAME, cfg + 16 + meshLen, nLen);
  if (meshKey(MESH_KEY, cfg + 16, meshLen) != OK) return ERR_LENGTH;

  countersReset();
  contactsReset();
  routeReset();
  txReset();
  dutyReset();
  memory.fill(PENDING, 0, PENDING_MAX * PENDING_BYTES);
  memory.fill(ECHOES, 0, ECHO_MAX * ECHO_BYTES);
  random_fill(RAND, 8);
  dedupReset(load<u64>(RAND));
  radioBusy = false;
  nowMs = 0;
  clockRestart();
  readClock();

  // Identity: the seed survives reboots; a new node makes one.
  if (storage_get(KEYNAME, KEYNAME_LEN, SEED, 32) != 32) {
    random_fill(SEED, 32);
    storage_put(KEYNAME, KEYNAME_LEN, SEED, 32);
  }
  identityFromSeed(IDENTITY, SEED);
  wipe(SEED, 32);
  // Prekeys survive reboots too (a contact may hold our current one).
  if (storage_get(PKNAME, PKNAME_LEN, PREKEYS, 104) != 104) {
    memory.fill(PREKEYS, 0, 104);
    epoch = <u32>(nowMs / EPOCH_MS);
    newPrekey();
  }
  epoch = 0;
  myPseudonym = 0;
  updateEpoch();
  nextAnnounceMs = nowMs + 1000 + (<i64>randomByte() * ANNOUNCE_BOOT_DELAY_MAX_MS) / 256;
  setCounter(C_CONTACTS, contactsLoad(nowMs));
  epoch = 0;
  myPseudonym = 0;
  updateEpoch(); // tags of the loaded contacts
  initialised = true;
  mailInit((flags & CONFIG_FLAG_KEEP_NOTHING) == 0);
  filesInit();
  configLen = 16 + meshLen + nLen;
  memory.copy(CONFIG, cfg, configLen);
  emitIdentity();
  return OK;
}

// ---------------------------------------------------------------------------
// Sending

function queueAnnounce(): void {
  random_fill(RAND, ANNOUNCE_RANDOM_BYTES);
  const n = sealAnnounce(TX, hopLimit, MESH_KEY, IDENTITY, PREKEYS + PK_CUR_PUB, load<u32>(PREKEYS + PK_EPOCH),
    <u32>(nowMs / 1000), NAME, nameLen, RAND);
  if (n <= 0) return;
  markOwn();
  if (enqueue(n, TX_PRIO_ANNOUNCE, 0)) {
    noteOwnFrame();
    count(C_ANNOUNCES_SENT);
  }
}

/** Our own frames go into the history so copies relayed back are not relayed again. */
function noteOwnFrame(): void {
  memory.copy(ID8, TX + OFF_NONCE, 8);
  memory.copy(TAG8, TX + OFF_DEST, 8);
  const slot = dedupInsert(ID8, 0, TAG8, nowMs);
  if (slot >= 0) dedupMarkRelayed(slot);
}

/** Seals attempt number `attempt` of pending message p into TX and queues it. */
function sendAttempt(p: usize): void {
  const ci = load<i32>(p + P_CONTACT);
  if (!contactUsed(ci)) { failPending(p); return; }
  const c = contactAt(ci);
  const attempt = <i32>load<u8>(p + P_ATTEMPTS);
  const ackSlot = p + P_ACKS + <usize>((attempt % DIRECT_ATTEMPTS) * 40);
  random_fill(RAND, DIRECT_RANDOM_BYTES);
  const n = sealDirect(TX, hopLimit, c + CT_PAIR_KEY, contactTxDirection(ci, IDENTITY), epoch, c + CT_PREKEY_PUB,
    load<u32>(p + P_MSG_ID), <u32>(nowMs / 1000), p + P_TEXT, <i32>load<u8>(p + P_TEXT_LEN), RAND, ackSlot + 8);
  if (n <= 0) { failPending(p); return; }
  memory.copy(ackSlot, TX + OFF_NONCE, 8);
  store<u8>(p + P_ATTEMPTS, <u8>(attempt + 1));
  // The last attempt floods: whatever route we had did not work.
  let next: u32 = 0;
  if (attempt + 1 < DIRECT_ATTEMPTS && !baselineFlooding) {
    const r = routeLookup(c + CT_TX_TAG, nowMs);
    if (r >= 0) next = routeNextHop(r);
  } else {
    routeForget(c + CT_TX_TAG, nowMs);
  }
  frameSetRelayFields(TX, hopLimit, next, 0);
  markOwn();
  if (!enqueue(n, TX_PRIO_DIRECT, 0)) { failPending(p); return; }
  noteOwnFrame();
  // End-to-end timeout: a round trip over the hop limit, each hop a full frame plus the longest contention wait, doubled per attempt.
  const hopMs = frameAirtimeMs(FRAME_MAX_BYTES) + <i64>floodSlotMs(FRAME_MAX_BYTES) * MAX_CONTENTION_SLOTS;
  store<i64>(p + P_DEADLINE, nowMs + hopMs * <i64>(2 * hopLimit + 2) * <i64>(attempt + 1));
  if (attempt > 0) count(C_DIRECT_RETRIES);
}

function failPending(p: usize): void {
  count(C_DIRECT_FAILED);
  emitDelivery(load<u32>(p + P_REF), 3, load<u8>(p + P_ATTEMPTS));
  wipe(p, PENDING_BYTES);
}

/**
 * Every attempt of pending message p went unanswered: seal it once more and hand
 * it to keepers (STORAGE.md "Mail"); the outcome then comes as DELIVERY states 4
 * (stored), 5 (delivered) or 3 (failed) from mailbox.ts. Fails at once when it
 * cannot be deposited.
 */
function depositOrFail(p: usize): void {
  const ci = load<i32>(p + P_CONTACT);
  if (baselineFlooding || !contactUsed(ci)) { failPending(p); return; }
  const c = contactAt(ci);
  random_fill(RAND, DIRECT_RANDOM_BYTES);
  const n = sealDirect(MAIL_FRAME, hopLimit, c + CT_PAIR_KEY, contactTxDirection(ci, IDENTITY), epoch, c + CT_PREKEY_PUB,
    load<u32>(p + P_MSG_ID), <u32>(nowMs / 1000), p + P_TEXT, <i32>load<u8>(p + P_TEXT_LEN), RAND, MAIL_ACK_KEY);
  const ok = n > 0 && mailDeposit(MAIL_FRAME, n, MAIL_ACK_KEY, c + CT_X_PUB, epoch, load<u32>(p + P_REF), 0);
  wipe(MAIL_ACK_KEY, 32);
  wipe(MAIL_FRAME, 256);
  if (!ok) { failPending(p); return; }
  wipe(p, PENDING_BYTES);
}

/** The DIRECT_MESSAGE event (0x82) of the opened plaintext in PLAIN from contact entry c, counted. */
function emitDirect(c: usize, msgId: u32): void {
  const tLen = <i32>load<u8>(PLAIN + DM_TEXT_LEN);
  store<u8>(EVENT, 0x82);
  memory.copy(EVENT + 1, c + CT_ED_PUB, 8);
  store<u32>(EVENT + 9, msgId);
  store<u32>(EVENT + 13, load<u32>(PLAIN + DM_UNIX_S));
  store<u8>(EVENT + 17, <u8>tLen);
  memory.copy(EVENT + 18, PLAIN + DM_TEXT, tLen);
  emit(18 + tLen);
  count(C_DELIVERED_DIRECT);
}

/**
 * Opens a DIRECT frame that came out of storage (mailbox.ts), sealed at hour
 * `mailEpoch`: finds the contact by its tag for that epoch, opens it with the
 * current or previous prekey, delivers the message once and writes the mail's
 * drop key to `dropKeyOut`. Returns 0 delivered, 1 already delivered before (the
 * receipt is due again), -1 not ours or not openable (counted).
 */
export function nodeOpenMail(frame: usize, len: i32, mailEpoch: u32, dropKeyOut: usize): i32 {
  const tag = frame + OFF_DEST;
  let ci = contactByRxTag(tag);
  if (ci < 0) ci = contactByRxTagAt(tag, IDENTITY, mailEpoch, MAIL_ACK_KEY);
  if (ci < 0) { count(C_UNKNOWN_SENDER); return -1; }
  const c = contactAt(ci);
  let r = openDirect(frame, len, c + CT_PAIR_KEY, PREKEYS + PK_CUR_SECRET, PLAIN, MAIL_ACK_KEY);
  if (r == DROP_AUTH_FAILED && load<u32>(PREKEYS + PK_HAS_PREV) != 0) {
    r = openDirect(frame, len, c + CT_PAIR_KEY, PREKEYS + PK_PREV_SECRET, PLAIN, MAIL_ACK_KEY);
  }
  if (r != DROP_NONE) { count(r); return -1; }
  dropKey(dropKeyOut, MAIL_ACK_KEY);
  wipe(MAIL_ACK_KEY, 32);
  contactTouch(ci, nowMs);
  const msgId = load<u32>(PLAIN + DM_MSG_ID);
  if (contactSeenMsgId(ci, msgId)) { count(C_DUPLICATE); wipe(PLAIN, 256); return 1; }
  if (!contactAcceptMsgId(ci, msgId, nowMs)) { count(DROP_REPLAY); wipe(PLAIN, 256); return 1; }
  emitDirect(c, msgId);
  wipe(PLAIN, 256);
  return 0;
}

// ---------------------------------------------------------------------------
// Commands from the app

const CMD_ANNOUNCE: i32 = 0x01;
const CMD_JOIN_CHANNEL: i32 = 0x02;
const CMD_SEND_CHANNEL: i32 = 0x03;
const CMD_SEND_DIRECT: i32 = 0x04;
/** Command status: no such contact / channel, or no room for another pending message. */
export const ERR_UNKNOWN: i32 = -6;
export const ERR_BUSY: i32 = -7;

export function nodeCommand(cmd: usize, len: i32): i32 {
  if (!initialised) return ERR_STATE;
  if (len < 1) return ERR_LENGTH;
  readClock();
  updateEpoch();
  const op = <i32>load<u8>(cmd);
  if (op == CMD_ANNOUNCE) {
    queueAnnounce();
    nextAnnounceMs = nowMs + ANNOUNCE_PERIOD_MS;
    return OK;
  }
  if (op == CMD_JOIN_CHANNEL) {
    if (len < 4) return ERR_LENGTH;
    const slot = <i32>load<u8>(cmd + 1);
    const nLen = <i32>load<u8>(cmd + 2);
    if (4 + nLen > len) return ERR_LENGTH;
    const pLen = <i32>load<u8>(cmd + 3 + nLen);
    if (4 + nLen + pLen != len) return ERR_LENGTH;
    if (slot >= CHANNELS_MAX) return ERR_INVALID;
    if (nLen > CHANNEL_NAME_MAX_BYTES || pLen > PASSPHRASE_MAX_BYTES) return ERR_LENGTH;
    if (channelKey(PLAIN, cmd + 3, nLen, cmd + 4 + nLen, pLen) != OK) return ERR_LENGTH;
    channelJoin(slot, PLAIN, epoch, nowMs);
    wipe(PLAIN, 32);
    return OK;
  }
  if (op == CMD_SEND_CHANNEL) {
    if (len < 7) return ERR_LENGTH;
    const slot = <i32>load<u8>(cmd + 1);
    const tLen = <i32>load<u8>(cmd + 6);
    if (7 + tLen != len) return ERR_LENGTH;
    if (tLen > CH_TEXT_MAX_BYTES) return ERR_LENGTH;
    if (!channelUsed(slot)) return ERR_UNKNOWN;
    random_fill(RAND, CHANNEL_RANDOM_BYTES);
    const n = sealChannel(TX, hopLimit, channelKeyPtr(slot), epoch, IDENTITY + ID_ED25519_PUB, channelNextSeq(slot),
      <u32>(nowMs / 1000), cmd + 7, tLen, RAND);
    if (n <= 0) return n;
    markOwn();
    if (!enqueue(n, TX_PRIO_CHANNEL, 0)) return ERR_BUSY;
    noteOwnFrame();
    emitDelivery(load<u32>(cmd + 2), 1, 1);
    return OK;
  }
  if (op == CMD_SEND_DIRECT) {
    if (len < 14) return ERR_LENGTH;
    const tLen = <i32>load<u8>(cmd + 13);
    if (14 + tLen != len) return ERR_LENGTH;
    if (tLen > DM_TEXT_MAX_BYTES) return ERR_LENGTH;
    const ci = contactById(cmd + 1);
    if (ci < 0) return ERR_UNKNOWN;
    let p: usize = 0;
    for (let i = 0; i < PENDING_MAX; i++) {
      const q = PENDING + <usize>(i * PENDING_BYTES);
      if (load<u8>(q + P_USED) == 0) { p = q; break; }
    }
    if (p == 0) return ERR_BUSY;
    memory.fill(p, 0, PENDING_BYTES);
    store<u8>(p + P_USED, 1);
    store<u32>(p + P_REF, load<u32>(cmd + 9));
    store<i32>(p + P_CONTACT, ci);
    store<u32>(p + P_MSG_ID, contactNextMsgId(ci));
    store<u8>(p + P_TEXT_LEN, <u8>tLen);
    memory.copy(p + P_TEXT, cmd + 14, tLen);
    sendAttempt(p);
    if (load<u8>(p + P_USED) == 0) return ERR_BUSY;
    emitDelivery(load<u32>(p + P_REF), 1, 1);
    return OK;
  }
  if (op >= FILE_CMD_FIRST && op <= FILE_CMD_LAST) return filesCommand(cmd, len);
  return ERR_INVALID;
}

// ---------------------------------------------------------------------------
// Services for the storage layer (mailbox.ts, files.ts): time, identity, events
// and sending STORE frames. Callers keep their own buffers: TX, PLAIN and EVENT
// belong to this file (PLAIN holds the STORE content being handled).

export function nodeNowMs(): i64 { return nowMs; }
export function nodeEpoch(): u32 { return epoch; }
/** This hour's pseudonym (PROTOCOL.md "Pseudonyms"). */
export function nodePseudonym(): u32 { return myPseudonym; }
/** Hop limit of frames this node originates (config). */
export function nodeHopLimit(): i32 { return hopLimit; }
/** The identity block (keys.ts ID_*): public keys at ID_ED25519_PUB / ID_X25519_PUB. */
export function nodeIdentity(): usize { return IDENTITY; }
/** Free slots in the transmit queue (storage transfers pace themselves by it). */
export function nodeTxRoom(): i32 { return TX_SLOTS - txCount(); }
export function nodeAirtimeMs(len: i32): i64 { return frameAirtimeMs(len); }
/** Contention slot of a relayed frame of `len` bytes (PROTOCOL.md "Managed flooding"). */
export function nodeFloodSlotMs(len: i32): i32 { return floodSlotMs(len); }
/** A uniformly random byte 0..255 from the host's random source. */
export function nodeRandomByte(): i32 { return randomByte(); }

/** An app event of `len` bytes at `ptr` (its first byte is the event type; ABI.md "App events"). */
export function nodeEmit(ptr: usize, len: i32): void {
  if (len <= 0 || len > 256) return;
  if (ptr != EVENT) memory.copy(EVENT, ptr, len);
  emit(len);
}

let storeLastFrameId: u64 = 0;
/** Frame id (nonce bytes 0..8) of the last frame storeSend queued. */
export function storeSentFrameId(): u64 { return storeLastFrameId; }

/**
 * Seals and queues a STORE frame we originate: operation `op`, contentLen bytes at
 * `content` (not in TX), about `dest` (8 bytes), with `hops` (1..7) and `nextHop`
 * (0 = flood; else the neighbour asked to carry it, confirmed by its echo when
 * `echo`). Returns false when it could not be sealed or the queue refused it.
 */
export function storeSend(dest: usize, op: i32, content: usize, contentLen: i32, hops: i32, nextHop: u32, prio: i32,
  delayMs: i64, echo: bool): bool {
  random_fill(RAND, STORE_RANDOM_BYTES);
  const n = sealStore(TX, hops, MESH_KEY, dest, op, content, contentLen, RAND);
  if (n <= 0) return false;
  frameSetRelayFields(TX, hops, baselineFlooding ? 0 : nextHop, 0);
  markOwn();
  if (!enqueue(n, prio, delayMs < 0 ? 0 : delayMs)) return false;
  noteOwnFrame();
  storeLastFrameId = load<u64>(TX + OFF_NONCE);
  if (echo && nextHop != 0 && !baselineFlooding) {
    echoWait(n, nextHop, prio);
    store<i64>(echoFind(storeLastFrameId) + E_DEADLINE, i64.MAX_VALUE); // armed when it goes out
  }
  return true;
}

// ---------------------------------------------------------------------------
// Receiving

/** Handles a frame of `len` bytes at `ptr` heard with rssi/snr; returns 0 or the drop reason. */
export function nodeReceive(ptr: usize, len: i32, rssiDbm: i32, snrDbX4: i32): i32 {
  if (!initialised) return ERR_STATE;
  count(C_RX_FRAMES);
  const reason = frameCheck(ptr, len);
  if (reason != DROP_NONE) { count(reason); return reason; }
  serialRadioFrame(ptr, len, rssiDbm, snrDbX4); // the MQTT uplink (serial events only)
  memory.copy(RX, ptr, len);
  readClock();
  updateEpoch();

  const prevHop = framePrevHop(RX);
  const nextHop = frameNextHop(RX);
  memory.copy(ID8, RX + OFF_NONCE, 8);
  memory.copy(TAG8, RX + OFF_DEST, 8);
  noteEcho(prevHop);
  if (txNoteDuplicateHeard(ID8, relayCancelCopies)) count(C_RELAY_CANCELLED);

  let slot = dedupLookup(ID8, nowMs);
  const seen = slot >= 0;
  if (seen) {
    dedupNoteCopy(slot);
    // A copy addressed to us that we have not passed on yet still gets relayed
    // (the sender did not hear us); anything else is a duplicate.
    // A flood copy of a frame we only overheard as someone else's unicast (a route
    // repair floods the same frame id) still gets relayed once.
    if (!(isMe(nextHop) && !dedupRelayed(slot)) && !(nextHop == 0 && !dedupRelayed(slot))) {
      count(C_DUPLICATE);
      return DROP_NONE;
    }
  } else {
    slot = dedupInsert(ID8, prevHop, TAG8, nowMs);
    if (frameHopsLeft(RX) == frameHopLimit(RX)) dedupMarkFromOrigin(slot);
  }

  const type = frameType(RX);
  let consumed = false;
  if (!seen) {
    if (type == TYPE_ANNOUNCE) handleAnnounce(len);
    else if (type == TYPE_CHANNEL) handleChannel(len);
    else if (type == TYPE_DIRECT) consumed = handleDirect(len, prevHop);
    else if (type == TYPE_ACK) consumed = handleAck(len, prevHop, nextHop);
    else if (type == TYPE_STORE) consumed = handleStore(len, prevHop, nextHop);
  }
  if (consumed) {
    if (slot >= 0) dedupMarkRelayed(slot); // handled here: never relayed, whatever copies follow
  } else {
    relay(len, slot, nextHop, snrDbX4 >> 2);
  }
  return DROP_NONE;
}

function handleAnnounce(len: i32): void {
  const r = openAnnounce(RX, len, MESH_KEY, PLAIN);
  if (r != DROP_NONE) { count(r); return; }
  // Our own announce coming back.
  if (load<u64>(PLAIN + AN_ED25519_PUB) == load<u64>(IDENTITY + ID_ED25519_PUB)) return;
  mailOnAnnounce(PLAIN + AN_X25519_PUB, frameHopLimit(RX) - frameHopsLeft(RX)); // a keeper delivers mail kept for this node
  let ci = contactByKey(PLAIN + AN_ED25519_PUB);
  let fresh = false;
  if (ci >= 0) {
    const c = contactAt(ci);
    if (load<u32>(PLAIN + AN_UNIX_S) <= load<u32>(c + CT_ANNOUNCE_S) && load<u64>(PLAIN + AN_PREKEY_PUB) == load<u64>(c + CT_PREKEY_PUB)) {
      contactTouch(ci, nowMs);
      return; // nothing new (an older or repeated announce)
    }
    if (load<u32>(PLAIN + AN_UNIX_S) < load<u32>(c + CT_ANNOUNCE_S)) { count(DROP_REPLAY); return; } // replayed old announce
  } else {
    ci = contactSlotForNew(nowMs);
    if (ci < 0) { count(C_CONTACTS_FULL); return; }
    fresh = true;
  }
  if (!contactStore(ci, PLAIN, IDENTITY, nowMs, epoch, fresh, AN_ED25519_PUB, AN_X25519_PUB, AN_PREKEY_PUB, AN_PREKEY_EPOCH,
    AN_UNIX_S, AN_NAME_LEN, AN_NAME)) { count(DROP_BAD_KEY); return; }
  setCounter(C_CONTACTS, contactCount());
  emitContact(ci);
}

function handleChannel(len: i32): void {
  const slot = channelByTag(TAG8);
  if (slot < 0) return; // not one of our channels: relay only
  const r = openChannel(RX, len, channelKeyPtr(slot), PLAIN);
  if (r != DROP_NONE) { count(r); return; }
  if (load<u64>(PLAIN + CH_SENDER_ID) == load<u64>(IDENTITY + ID_ED25519_PUB)) return;
  if (!channelAcceptSeq(slot, PLAIN + CH_SENDER_ID, load<u32>(PLAIN + CH_SEQ), nowMs)) { count(DROP_REPLAY); return; }
  const tLen = <i32>load<u8>(PLAIN + CH_TEXT_LEN);
  store<u8>(EVENT, 0x81);
  store<u8>(EVENT + 1, <u8>slot);
  memory.copy(EVENT + 2, PLAIN + CH_SENDER_ID, 8);
  store<u32>(EVENT + 10, load<u32>(PLAIN + CH_SEQ));
  store<u32>(EVENT + 14, load<u32>(PLAIN + CH_UNIX_S));
  store<u8>(EVENT + 18, <u8>tLen);
  memory.copy(EVENT + 19, PLAIN + CH_TEXT, tLen);
  emit(19 + tLen);
  count(C_DELIVERED_CHANNEL);
}

/** Returns true when the frame was ours (it is then not relayed). */
function handleDirect(len: i32, prevHop: u32): bool {
  const ci = contactByRxTag(TAG8);
  if (ci < 0) return false;
  const c = contactAt(ci);
  const ackKey = EVENT + 128; // scratch for K_ack; overwritten by the event below only after use
  let r = openDirect(RX, len, c + CT_PAIR_KEY, PREKEYS + PK_CUR_SECRET, PLAIN, ackKey);
  if (r == DROP_AUTH_FAILED && load<u32>(PREKEYS + PK_HAS_PREV) != 0) {
    r = openDirect(RX, len, c + CT_PAIR_KEY, PREKEYS + PK_PREV_SECRET, PLAIN, ackKey);
  }
  // A tag that matched but a frame that does not open: a tag collision or a forgery; pass it on.
  if (r != DROP_NONE) { count(r); return r != DROP_AUTH_FAILED; }
  contactTouch(ci, nowMs);
  const msgId = load<u32>(PLAIN + DM_MSG_ID);
  const repeat = contactSeenMsgId(ci, msgId);
  if (!repeat && !contactAcceptMsgId(ci, msgId, nowMs)) { count(DROP_REPLAY); wipe(ackKey, 32); return true; }
  // Acknowledge (again, for a resent message whose ACK was lost), towards the hop it came from.
  random_fill(RAND, ACK_RANDOM_BYTES);
  const n = sealAck(TX, hopLimit, ackKey, RX + OFF_NONCE, msgId, RAND);
  wipe(ackKey, 32);
  if (n > 0) {
    frameSetRelayFields(TX, hopLimit, baselineFlooding ? 0 : prevHop, 0);
    markOwn();
    if (enqueue(n, TX_PRIO_ACK, <i64>(randomByte() % UNICAST_JITTER_SLOTS) * slotMs())) {
      noteOwnFrame();
      count(C_ACKS_SENT);
    }
  }
  // The reverse direction: replies to this contact go through the same neighbour.
  if (prevHop != 0 && routeLearn(c + CT_TX_TAG, prevHop, nowMs) >= 0) count(C_ROUTES_LEARNED);
  if (repeat) { count(C_DUPLICATE); return true; }
  emitDirect(c, msgId);
  return true;
}

/** An ACK: ours (a pending message is delivered) or one to route back and learn from. */
function handleAck(len: i32, prevHop: u32, nextHop: u32): bool {
  // Is it the ACK of one of our attempts?
  for (let i = 0; i < PENDING_MAX; i++) {
    const p = PENDING + <usize>(i * PENDING_BYTES);
    if (load<u8>(p + P_USED) == 0) continue;
    for (let a = 0; a < DIRECT_ATTEMPTS; a++) {
      const slot = p + P_ACKS + <usize>(a * 40);
      if (load<u64>(slot) != load<u64>(TAG8)) continue;
      const r = openAck(RX, len, slot + 8, PLAIN);
      if (r != DROP_NONE) { count(r); return true; }
      if (load<u32>(PLAIN + ACK_MSG_ID) != load<u32>(p + P_MSG_ID)) { count(DROP_BAD_CONTENT); return true; }
      count(C_ACKS_RECEIVED);
      const ci = load<i32>(p + P_CONTACT);
      if (contactUsed(ci) && prevHop != 0 && routeLearn(contactAt(ci) + CT_TX_TAG, prevHop, nowMs) >= 0) count(C_ROUTES_LEARNED);
      emitDelivery(load<u32>(p + P_REF), 2, load<u8>(p + P_ATTEMPTS));
      wipe(p, PENDING_BYTES);
      return true;
    }
  }
  // Someone else's ACK: if we carried the DIRECT frame it acknowledges, the
  // neighbour the ACK came from is our next hop towards that DIRECT's destination.
  if (nextHop == 0 || isMe(nextHop)) {
    const d = dedupLookup(TAG8, nowMs);
    if (d >= 0 && dedupRelayed(d) && prevHop != 0) {
      dedupCopyTag(d, ID8);
      if (routeLearn(ID8, prevHop, nowMs) >= 0) count(C_ROUTES_LEARNED);
      memory.copy(ID8, RX + OFF_NONCE, 8); // restore the ACK's own id
    }
  }
  return false;
}

/**
 * A STORE frame (firmware/STORAGE.md): opened with the mesh key and handed to
 * the storage layer by operation. Returns true when it was consumed here.
 */
function handleStore(len: i32, prevHop: u32, nextHop: u32): bool {
  const r = openStore(RX, len, MESH_KEY, PLAIN);
  if (r != DROP_NONE) { count(r); return false; }
  const op = <i32>load<u8>(PLAIN + ST_OP);
  const contentLen = <i32>load<u8>(PLAIN + ST_LEN);
  const hopsTaken = frameHopLimit(RX) - frameHopsLeft(RX);
  if (op <= MAIL_OP_LAST) return mailOnStore(op, PLAIN + ST_CONTENT, contentLen, RX, hopsTaken);
  if (op >= FILE_OP_FIRST) return filesOnStore(op, PLAIN + ST_CONTENT, contentLen, RX, hopsTaken, prevHop, nextHop);
  return false;
}

/** Relay decision for a frame that was not consumed here. */
function relay(len: i32, slot: i32, nextHop: u32, snrDb: i32): void {
  if (!relayEnabled || slot < 0 || dedupRelayed(slot)) return;
  if (nextHop != 0 && !isMe(nextHop)) return; // unicast for another relay
  const left = frameHopsLeft(RX);
  if (left < 1) { count(C_HOPS_EXHAUSTED); return; }
  memory.copy(TX, RX, len);
  const type = frameType(TX);
  let next: u32 = 0;
  let ackLastHop = false;
  if (isMe(nextHop) && !baselineFlooding) {
    // Asked to forward: along a learned route, else flood from here.
    // An ACK retraces the DIRECT frame it acknowledges; a STORE reply (dest = the
    // request's frame id) retraces its request the same way.
    const d = type == TYPE_ACK || type == TYPE_STORE ? dedupLookup(TAG8, nowMs) : -1;
    if (d >= 0) {
      next = dedupPrevHop(d);
      if (next == 0) return; // we sent that frame ourselves and are done with it
      ackLastHop = dedupFromOrigin(d);
    } else if (type != TYPE_ACK) {
      const r = routeLookup(TAG8, nowMs);
      if (r >= 0) next = routeNextHop(r);
    }
  }
  frameSetRelayFields(TX, left - 1, next, myPseudonym);
  const prio = type == TYPE_ACK ? TX_PRIO_ACK : TX_PRIO_FLOOD_RELAY;
  const delay: i64 = baselineFlooding
    ? <i64>(randomByte() % 8) * slotMs()
    : isMe(nextHop)
    ? <i64>(randomByte() % (UNICAST_JITTER_SLOTS + 1)) * slotMs()
    : <i64>contentionDelayMs(uniformContention ? randomByte() % 31 - 20 : snrDb, floodSlotMs(len), randomByte());
  if (enqueue(len, prio, delay)) {
    dedupMarkRelayed(slot);
    count(C_RELAYED);
    // An ACK hop is confirmed like any unicast hop, except the last one: the DIRECT
    // frame's origin consumes its ACK and passes nothing on.
    if ((type == TYPE_ACK || type == TYPE_STORE) && next != 0 && !ackLastHop) {
      echoWait(len, next, prio);
      store<i64>(echoFind(load<u64>(TX + OFF_NONCE)) + E_DEADLINE, i64.MAX_VALUE); // armed when it goes out
    }
  }
}

// ---------------------------------------------------------------------------
// Implicit acknowledgements of unicast hops

/** A frame heard from `prevHop`: does it confirm one of our unicast hops? */
function noteEcho(prevHop: u32): void {
  const id = load<u64>(ID8);
  const tag = load<u64>(TAG8);
  for (let i = 0; i < ECHO_MAX; i++) {
    const e = ECHOES + <usize>(i * ECHO_BYTES);
    if (load<u8>(e + E_USED) == 0) continue;
    // The next hop passed our frame on, or (last hop) the destination acknowledged it.
    const relayed = load<u64>(e + E_ID) == id && load<u32>(e + E_NEXT) == prevHop;
    const acked = frameType(RX) == TYPE_ACK && tag == load<u64>(e + E_ID);
    if (relayed || acked) {
      routeConfirm(e + E_FRAME + OFF_DEST, nowMs);
      store<u8>(e + E_USED, 0);
    }
  }
}

/** The echo wait of frame id `id`, or 0. */
function echoFind(id: u64): usize {
  for (let i = 0; i < ECHO_MAX; i++) {
    const q = ECHOES + <usize>(i * ECHO_BYTES);
    if (load<u8>(q + E_USED) != 0 && load<u64>(q + E_ID) == id) return q;
  }
  return 0;
}

/** Starts (or, for a resent frame, restarts) the wait for the next hop to pass our frame on. */
function echoWait(len: i32, next: u32, prio: i32): void {
  const id = load<u64>(TX + OFF_NONCE);
  let e: usize = 0;
  let soonest: usize = 0;
  for (let i = 0; i < ECHO_MAX; i++) {
    const q = ECHOES + <usize>(i * ECHO_BYTES);
    if (load<u8>(q + E_USED) != 0 && load<u64>(q + E_ID) == id) { e = q; break; }
  }
  if (e == 0) {
    for (let i = 0; i < ECHO_MAX; i++) {
      const q = ECHOES + <usize>(i * ECHO_BYTES);
      if (load<u8>(q + E_USED) == 0) { e = q; break; }
      if (soonest == 0 || load<i64>(q + E_DEADLINE) < load<i64>(soonest + E_DEADLINE)) soonest = q;
    }
    if (e == 0) e = soonest; // full: the wait closest to its end gives way
    store<u8>(e + E_TRIES, 0);
  }
  store<u64>(e + E_ID, id);
  store<u32>(e + E_NEXT, next);
  store<u8>(e + E_USED, 1);
  store<u16>(e + E_LEN, <u16>len);
  store<i32>(e + E_PRIO, prio);
  memory.copy(e + E_FRAME, TX, len);
  // The next hop needs our frame's airtime, at most UNICAST_JITTER_SLOTS slots, then its own airtime.
  store<i64>(e + E_DEADLINE, nowMs + 2 * frameAirtimeMs(len) + <i64>(UNICAST_JITTER_SLOTS + 2) * slotMs() + ECHO_MARGIN_MS);
}

/** Unicast hops whose echo did not come: retry, then drop the route and flood (self-repair). */
function echoTimeouts(): void {
  for (let i = 0; i < ECHO_MAX; i++) {
    const e = ECHOES + <usize>(i * ECHO_BYTES);
    if (load<u8>(e + E_USED) == 0 || load<i64>(e + E_DEADLINE) > nowMs) continue;
    const len = <i32>load<u16>(e + E_LEN);
    memory.copy(TX, e + E_FRAME, len);
    const tries = <i32>load<u8>(e + E_TRIES);
    routeFail(TX + OFF_DEST, nowMs);
    if (tries < HOP_RETRIES) {
      count(C_HOP_RETRIES);
      store<u8>(e + E_TRIES, <u8>(tries + 1));
      store<i64>(e + E_DEADLINE, i64.MAX_VALUE); // restarted by echoWait when the retry goes out
      if (!enqueue(len, load<i32>(e + E_PRIO), <i64>(randomByte() % (UNICAST_JITTER_SLOTS + 1)) * slotMs())) {
        store<u8>(e + E_USED, 0);
      }
    } else {
      store<u8>(e + E_USED, 0);
      routeForget(TX + OFF_DEST, nowMs);
      count(C_ROUTE_REPAIRS);
      frameSetRelayFields(TX, frameHopsLeft(TX), 0, framePrevHop(TX));
      // Same frame id: neighbours that only overheard the unicast copy relay this flood copy.
      enqueue(len, load<i32>(e + E_PRIO), 0);
    }
  }
}

// ---------------------------------------------------------------------------
// Poll: timers and the radio

export function nodeTxDone(): void {
  radioBusy = false;
}

export function nodePoll(): i32 {
  if (!initialised) return -1;
  readClock();
  updateEpoch();
  if (radioBusy && nowMs >= radioFreeAtMs) radioBusy = false; // the host never said: assume done
  if (autoAnnounce && nowMs >= nextAnnounceMs) {
    queueAnnounce();
    nextAnnounceMs = nowMs + ANNOUNCE_PERIOD_MS + (<i64>randomByte() * ANNOUNCE_PERIOD_MS) / 2048;
  }
  for (let i = 0; i < PENDING_MAX; i++) {
    const p = PENDING + <usize>(i * PENDING_BYTES);
    if (load<u8>(p + P_USED) == 0 || load<i64>(p + P_DEADLINE) > nowMs) continue;
    if (<i32>load<u8>(p + P_ATTEMPTS) >= DIRECT_ATTEMPTS) depositOrFail(p);
    else sendAttempt(p);
  }
  echoTimeouts();
  mailPoll();
  filesPoll();
  if (!radioBusy && nowMs >= radioRetryAtMs) transmitNext();
  return nextWakeMs();
}

function transmitNext(): void {
  const slot = txNextDue(nowMs);
  if (slot < 0) return;
  const len = txCopyFrame(slot, TX);
  if (len <= 0) { txRemove(slot); return; }
  const air = frameAirtimeMs(len);
  const wait = dutyWaitMs(nowMs, air, dutyBudgetMs);
  if (wait != 0) {
    count(C_DUTY_DEFERRALS);
    if (wait < 0) { txRemove(slot); count(C_QUEUE_DROPS); }
    return; // stays queued; nextWakeMs accounts for the budget
  }
  const next = frameNextHop(TX);
  // A relay queued before the hour turned goes out under this hour's name, never the old one.
  if (framePrevHop(TX) == myPrevPseudonym) frameSetRelayFields(TX, frameHopsLeft(TX), next, myPseudonym);
  if (radio_transmit(TX, len) != 0) {
    // Channel busy (the host's listen-before-talk) or radio not ready: back off a random few slots.
    radioRetryAtMs = nowMs + <i64>(1 + randomByte() % LBT_BACKOFF_SLOTS) * slotMs();
    return;
  }
  const prio = txPriority(slot);
  txRemove(slot);
  radioBusy = true;
  radioFreeAtMs = nowMs + air + TX_WATCHDOG_EXTRA_MS;
  dutyRecord(nowMs, air);
  count(C_TX_FRAMES);
  countAdd(C_TX_AIRTIME_MS, <i32>air);
  if (next != 0) {
    count(C_UNICAST_SENT);
    // ACK and STORE hops wait for an echo only when one was registered (not at the last hop).
    const t = frameType(TX);
    if ((t != TYPE_ACK && t != TYPE_STORE) || echoFind(load<u64>(TX + OFF_NONCE)) != 0) echoWait(len, next, prio);
  } else {
    count(C_FLOOD_SENT);
  }
}

function nextWakeMs(): i32 {
  let wake: i64 = autoAnnounce ? nextAnnounceMs : i64.MAX_VALUE;
  const q = txNextWakeMs();
  if (q != TX_NEVER) {
    let t = q;
    if (t < nowMs) t = nowMs;
    if (radioBusy) t = t > radioFreeAtMs ? t : radioFreeAtMs;
    if (t < radioRetryAtMs) t = radioRetryAtMs;
    if (!radioBusy) {
      // A due frame over the duty budget: wake when it fits.
      const d = dutyWaitMs(nowMs, frameAirtimeMs(FRAME_MAX_BYTES), dutyBudgetMs);
      if (d > 0 && t <= nowMs) t = nowMs + d;
    }
    if (t < wake) wake = t;
  }
  for (let i = 0; i < PENDING_MAX; i++) {
    const p = PENDING + <usize>(i * PENDING_BYTES);
    if (load<u8>(p + P_USED) != 0 && load<i64>(p + P_DEADLINE) < wake) wake = load<i64>(p + P_DEADLINE);
  }
  for (let i = 0; i < ECHO_MAX; i++) {
    const e = ECHOES + <usize>(i * ECHO_BYTES);
    if (load<u8>(e + E_USED) != 0 && load<i64>(e + E_DEADLINE) < wake) wake = load<i64>(e + E_DEADLINE);
  }
  const epochEnd = (<i64>epoch + 1) * EPOCH_MS;
  if (epochEnd < wake) wake = epochEnd;
  const mail = mailNextWakeMs();
  if (mail < wake) wake = mail;
  const files = filesNextWakeMs();
  if (files < wake) wake = files;
  let d = wake - nowMs;
  if (d < 0) d = 0;
  if (d > 0x7fffffff) d = 0x7fffffff;
  return <i32>d;
}
