// Contacts (nodes whose signed ANNOUNCE we verified), channels we joined, and
// the replay windows of both. Fixed tables: a mesh of any size cannot make
// them grow; the least recently heard contact gives way to a new one.
//
// Contact entry (CONTACT_BYTES):
//   0   ed25519 public 32     32  x25519 public 32     64  prekey public 32
//   96  K_pair 32 (secret)    128 rx tags 3 x 8 (them -> us, epochs e-1, e, e+1)
//   152 tx tag 8 (us -> them, epoch e)    160 tags epoch u32    164 prekey epoch u32
//   168 announce unix_s u32   172 msg-id counter u32 (our next msg id to them)
//   176 last heard ms i64     184 replay: highest msg id u32, 188 last DIRECT accepted (unix s) u32
//   192 replay bitmap u64     200 name len u8, 201 name 15    216 used u8
// Channel entry (CHANNEL_BYTES):
//   0 K_chan 32   32 tags 3 x 8 (epochs e-1, e, e+1)   56 tags epoch u32   60 seq u32   64 used u8
// Channel sender entry (SENDER_BYTES), replay window per (channel, sender id):
//   0 sender id 8   8 slot u8 (+1, 0 = free)   12 highest seq u32   16 bitmap u64   24 last heard ms i64
import { channelTag, dmTag, pairDirection, pairKey, KEY_BYTES, ID_X25519_PUB } from "./keys";
import { wipe } from "../crypto/ct";
import { storage_get, storage_put } from "./env";

export const CONTACTS_MAX: i32 = 32;
export const CONTACT_BYTES: i32 = 224;
export const CHANNELS_MAX: i32 = 4;
export const CHANNEL_BYTES: i32 = 72;
export const SENDERS_MAX: i32 = 32;
export const SENDER_BYTES: i32 = 32;
/** Sequence numbers (or msg ids) this far behind the highest seen are refused (RFC 4303 §3.4.3 style window). */
export const REPLAY_WINDOW: u32 = 64;
/**
 * A contact that accepted a DIRECT message this recently is never evicted: its replay
 * window must outlive the tags that could still carry a replay (epochs e-1..e+1, so at
 * most 3 hours). Otherwise 32 fresh announces could evict it, and a replayed announce
 * plus a replayed DIRECT frame would deliver the message a second time.
 */
export const CONTACT_REPLAY_HOLD_MS: i64 = 3 * 3600 * 1000;

export const CT_ED_PUB: i32 = 0;
export const CT_X_PUB: i32 = 32;
export const CT_PREKEY_PUB: i32 = 64;
export const CT_PAIR_KEY: i32 = 96;
export const CT_RX_TAGS: i32 = 128;
export const CT_TX_TAG: i32 = 152;
const CT_TAGS_EPOCH: i32 = 160;
export const CT_PREKEY_EPOCH: i32 = 164;
export const CT_ANNOUNCE_S: i32 = 168;
const CT_MSG_COUNTER: i32 = 172;
const CT_LAST_HEARD: i32 = 176;
const CT_REPLAY_HIGH: i32 = 184;
const CT_LAST_DIRECT_S: i32 = 188;
const CT_REPLAY_BITS: i32 = 192;
export const CT_NAME_LEN: i32 = 200;
export const CT_NAME: i32 = 201;
const CT_USED: i32 = 216;

const CH_KEY: i32 = 0;
const CH_TAGS: i32 = 32;
const CH_TAGS_EPOCH: i32 = 56;
const CH_SEQ: i32 = 60;
const CH_USED: i32 = 64;

const CONTACTS: usize = memory.data(CONTACTS_MAX * CONTACT_BYTES, 8);
const CHANNELS: usize = memory.data(CHANNELS_MAX * CHANNEL_BYTES, 8);
const SENDERS: usize = memory.data(SENDERS_MAX * SENDER_BYTES, 8);

export function contactAt(i: i32): usize { return CONTACTS + <usize>(i * CONTACT_BYTES); }
export function channelAt(i: i32): usize { return CHANNELS + <usize>(i * CHANNEL_BYTES); }
export function contactUsed(i: i32): bool { return i >= 0 && i < CONTACTS_MAX && load<u8>(contactAt(i) + CT_USED) != 0; }
export function channelUsed(i: i32): bool { return i >= 0 && i < CHANNELS_MAX && load<u8>(channelAt(i) + CH_USED) != 0; }
export function channelKeyPtr(i: i32): usize { return channelAt(i) + CH_KEY; }

export function contactsReset(): void {
  wipe(CONTACTS, CONTACTS_MAX * CONTACT_BYTES);
  wipe(CHANNELS, CHANNELS_MAX * CHANNEL_BYTES);
  wipe(SENDERS, SENDERS_MAX * SENDER_BYTES);
}

export function contactCount(): i32 {
  let n = 0;
  for (let i = 0; i < CONTACTS_MAX; i++) if (contactUsed(i)) n++;
  return n;
}

/** The contact whose Ed25519 public key starts with the 8 bytes at id, or -1. */
export function contactById(id: usize): i32 {
  const want = load<u64>(id);
  for (let i = 0; i < CONTACTS_MAX; i++) {
    if (contactUsed(i) && load<u64>(contactAt(i) + CT_ED_PUB) == want) return i;
  }
  return -1;
}

/** The contact with this exact Ed25519 public key, or -1. */
export function contactByKey(edPub: usize): i32 {
  for (let i = 0; i < CONTACTS_MAX; i++) {
    if (!contactUsed(i)) continue;
    const c = contactAt(i);
    let same = true;
    for (let k = 0; k < 32; k += 8) if (load<u64>(c + k) != load<u64>(edPub + k)) { same = false; break; }
    if (same) return i;
  }
  return -1;
}

/**
 * A free slot, or the least recently heard contact's that is not held for replay
 * protection (CONTACT_REPLAY_HOLD_MS); -1 when every contact is held. The slot is
 * not wiped here: contactStore replaces it only once the new contact is usable.
 */
export function contactSlotForNew(nowMs: i64): i32 {
  let oldest = -1;
  let oldestMs: i64 = i64.MAX_VALUE;
  for (let i = 0; i < CONTACTS_MAX; i++) {
    if (!contactUsed(i)) return i;
    const c = contactAt(i);
    const lastDirectMs = <i64>load<u32>(c + CT_LAST_DIRECT_S) * 1000;
    if (lastDirectMs != 0 && nowMs - lastDirectMs < CONTACT_REPLAY_HOLD_MS) continue;
    const t = load<i64>(c + CT_LAST_HEARD);
    if (t < oldestMs) { oldestMs = t; oldest = i; }
  }
  return oldest;
}

/** Scratch for a new contact's pair key, computed before its slot is overwritten. */
const NEW_PAIR_KEY: usize = memory.data(32, 8);

/**
 * Fills slot i from a verified announce body (seal.ts AN_* layout at `an`),
 * computing K_pair (one X25519). Returns false when the peer's X25519 key is
 * unusable (low order): the slot is left free.
 */
export function contactStore(i: i32, an: usize, identity: usize, nowMs: i64, epoch: u32, fresh: bool,
  edOff: i32, xOff: i32, preOff: i32, preEpochOff: i32, unixOff: i32, nameLenOff: i32, nameOff: i32): bool {
  const c = contactAt(i);
  if (fresh) {
    // Only a usable key may replace whoever held the slot.
    if (pairKey(NEW_PAIR_KEY, identity, an + xOff) != 0) { wipe(NEW_PAIR_KEY, 32); return false; }
    wipe(c, CONTACT_BYTES);
    memory.copy(c + CT_PAIR_KEY, NEW_PAIR_KEY, 32);
    wipe(NEW_PAIR_KEY, 32);
  }
  memory.copy(c + CT_ED_PUB, an + edOff, 32);
  memory.copy(c + CT_X_PUB, an + xOff, 32);
  memory.copy(c + CT_PREKEY_PUB, an + preOff, 32);
  store<u32>(c + CT_PREKEY_EPOCH, load<u32>(an + preEpochOff));
  store<u32>(c + CT_ANNOUNCE_S, load<u32>(an + unixOff));
  let nameLen = <i32>load<u8>(an + nameLenOff);
  if (nameLen > 15) nameLen = 15;
  store<u8>(c + CT_NAME_LEN, <u8>nameLen);
  memory.fill(c + CT_NAME, 0, 15);
  memory.copy(c + CT_NAME, an + nameOff, nameLen);
  store<i64>(c + CT_LAST_HEARD, nowMs);
  if (fresh) {
    // Message ids start at the clock in seconds, not 1, so that after a reboot (which
    // forgets counters) new ids still lie above what the contact accepted before.
    store<u32>(c + CT_MSG_COUNTER, counterStart(nowMs));
    store<u32>(c + CT_REPLAY_HIGH, 0);
    store<u64>(c + CT_REPLAY_BITS, 0);
    store<u8>(c + CT_USED, 1);
  }
  contactTags(i, identity, epoch, true);
  contactSave(i);
  return true;
}

// ---------------------------------------------------------------------------
// Persistence: each contact is the storage record ct.NN (its whole entry, K_pair
// included: the seed it derives from is in storage too), written when its keys
// change or it accepts a message, read back by node_init. A reboot thus keeps who
// may write to us and which message ids were delivered (STORAGE.md "Persistence").

/** "ct.NN": storage key of contact slot NN. */
const CT_KEY: usize = memory.data<u8>([0x63, 0x74, 0x2e, 0x30, 0x30]);
const CT_KEY_LEN: i32 = 5;
const CT_EMPTY: usize = memory.data(8, 8);

function contactKey(i: i32): void {
  store<u8>(CT_KEY + 3, <u8>(0x30 + i / 10));
  store<u8>(CT_KEY + 4, <u8>(0x30 + i % 10));
}

export function contactSave(i: i32): void {
  if (i < 0 || i >= CONTACTS_MAX) return;
  contactKey(i);
  if (contactUsed(i)) storage_put(CT_KEY, CT_KEY_LEN, contactAt(i), CONTACT_BYTES);
  else storage_put(CT_KEY, CT_KEY_LEN, CT_EMPTY, 1);
}

/**
 * Reads the contacts back from storage (after contactsReset). Message counters
 * restart at least at the clock in seconds (ids sent since the last save stay
 * below); tags are recomputed by the caller. Returns how many were loaded.
 */
export function contactsLoad(nowMs: i64): i32 {
  let n = 0;
  for (let i = 0; i < CONTACTS_MAX; i++) {
    const c = contactAt(i);
    contactKey(i);
    if (storage_get(CT_KEY, CT_KEY_LEN, c, CONTACT_BYTES) != CONTACT_BYTES || load<u8>(c + CT_USED) != 1) {
      wipe(c, CONTACT_BYTES);
      continue;
    }
    const start = counterStart(nowMs);
    if (load<u32>(c + CT_MSG_COUNTER) < start) store<u32>(c + CT_MSG_COUNTER, start);
    store<u32>(c + CT_TAGS_EPOCH, 0xffffffff);
    n++;
  }
  return n;
}

/**
 * The contact whose DIRECT tag towards us for `epoch` is the 8 bytes at `tag`
 * (one HMAC per contact: only for stored mail addressed to us, STORAGE.md), or -1.
 */
export function contactByRxTagAt(tag: usize, identity: usize, epoch: u32, scratch: usize): i32 {
  const want = load<u64>(tag);
  const me = identity + ID_X25519_PUB;
  for (let i = 0; i < CONTACTS_MAX; i++) {
    if (!contactUsed(i)) continue;
    const c = contactAt(i);
    dmTag(scratch, c + CT_PAIR_KEY, epoch, pairDirection(c + CT_X_PUB, me));
    if (load<u64>(scratch) == want) return i;
  }
  return -1;
}

export function contactTouch(i: i32, nowMs: i64): void {
  store<i64>(contactAt(i) + CT_LAST_HEARD, nowMs);
}

/** Recomputes the contact's DIRECT tags for `epoch` (unless already done, or `force`). */
export function contactTags(i: i32, identity: usize, epoch: u32, force: bool): void {
  const c = contactAt(i);
  if (!force && load<u32>(c + CT_TAGS_EPOCH) == epoch) return;
  const me = identity + ID_X25519_PUB;
  const them = c + CT_X_PUB;
  const rxDir = pairDirection(them, me);
  const txDir = pairDirection(me, them);
  for (let k = 0; k < 3; k++) {
    dmTag(c + CT_RX_TAGS + k * 8, c + CT_PAIR_KEY, epoch - 1 + <u32>k, rxDir);
  }
  dmTag(c + CT_TX_TAG, c + CT_PAIR_KEY, epoch, txDir);
  store<u32>(c + CT_TAGS_EPOCH, epoch);
}

/** The contact whose rx tag (any of the three epochs) is the 8 bytes at tag, or -1. */
export function contactByRxTag(tag: usize): i32 {
  const want = load<u64>(tag);
  for (let i = 0; i < CONTACTS_MAX; i++) {
    if (!contactUsed(i)) continue;
    const c = contactAt(i) + CT_RX_TAGS;
    if (load<u64>(c) == want || load<u64>(c + 8) == want || load<u64>(c + 16) == want) return i;
  }
  return -1;
}

export function contactTxDirection(i: i32, identity: usize): i32 {
  return pairDirection(identity + ID_X25519_PUB, contactAt(i) + CT_X_PUB);
}

/** Our next message id to contact i (never 0). */
export function contactNextMsgId(i: i32): u32 {
  const p = contactAt(i) + CT_MSG_COUNTER;
  let id = load<u32>(p);
  if (id == 0) id = 1;
  store<u32>(p, id + 1 == 0 ? 1 : id + 1);
  return id;
}

/**
 * Sliding replay window (RFC 4303 §3.4.3): true when `seq` is new and records
 * it; false for a repeat or a value REPLAY_WINDOW or more behind the highest.
 */
function windowAccept(highPtr: usize, bitsPtr: usize, seq: u32): bool {
  const high = load<u32>(highPtr);
  let bits = load<u64>(bitsPtr);
  if (seq > high) {
    const shift = seq - high;
    bits = shift >= 64 ? 0 : bits << <u64>shift;
    bits |= 1;
    store<u32>(highPtr, seq);
    store<u64>(bitsPtr, bits);
    return true;
  }
  const behind = high - seq;
  if (behind >= REPLAY_WINDOW) return false;
  const mask = <u64>1 << <u64>behind;
  if (bits & mask) return false;
  store<u64>(bitsPtr, bits | mask);
  return true;
}

/** Replay check of a DIRECT msg id from contact i; an accepted one holds the contact (CONTACT_REPLAY_HOLD_MS). */
export function contactAcceptMsgId(i: i32, msgId: u32, nowMs: i64): bool {
  const c = contactAt(i);
  if (!windowAccept(c + CT_REPLAY_HIGH, c + CT_REPLAY_BITS, msgId)) return false;
  const s = nowMs / 1000;
  store<u32>(c + CT_LAST_DIRECT_S, s < 1 ? 1 : <u32>s);
  contactSave(i);
  return true;
}

/** Whether msgId from contact i was already accepted (a resent message: ACK it again, deliver once). */
export function contactSeenMsgId(i: i32, msgId: u32): bool {
  const c = contactAt(i);
  const high = load<u32>(c + CT_REPLAY_HIGH);
  if (msgId > high) return false;
  const behind = high - msgId;
  if (behind >= REPLAY_WINDOW) return true;
  return (load<u64>(c + CT_REPLAY_BITS) & (<u64>1 << <u64>behind)) != 0;
}

// ---------------------------------------------------------------------------
// Channels

/** First sequence number / message id after (re)start: the clock in seconds (at least 1). */
export function counterStart(nowMs: i64): u32 {
  const s = nowMs / 1000;
  return s < 1 ? 1 : s > 0xfffffff0 ? 0xfffffff0 : <u32>s;
}

export function channelJoin(slot: i32, key: usize, epoch: u32, nowMs: i64): void {
  const ch = channelAt(slot);
  memory.copy(ch + CH_KEY, key, KEY_BYTES);
  store<u32>(ch + CH_SEQ, counterStart(nowMs));
  store<u8>(ch + CH_USED, 1);
  channelTags(slot, epoch, true);
  // Forget replay state of the slot's previous channel.
  for (let i = 0; i < SENDERS_MAX; i++) {
    const s = SENDERS + <usize>(i * SENDER_BYTES);
    if (<i32>load<u8>(s + 8) == slot + 1) wipe(s, SENDER_BYTES);
  }
}

export function channelTags(slot: i32, epoch: u32, force: bool): void {
  const ch = channelAt(slot);
  if (!force && load<u32>(ch + CH_TAGS_EPOCH) == epoch) return;
  for (let k = 0; k < 3; k++) channelTag(ch + CH_TAGS + k * 8, ch + CH_KEY, epoch - 1 + <u32>k);
  store<u32>(ch + CH_TAGS_EPOCH, epoch);
}

/** The joined channel whose tag (any of three epochs) is the 8 bytes at tag, or -1. */
export function channelByTag(tag: usize): i32 {
  const want = load<u64>(tag);
  for (let i = 0; i < CHANNELS_MAX; i++) {
    if (!channelUsed(i)) continue;
    const t = channelAt(i) + CH_TAGS;
    if (load<u64>(t) == want || load<u64>(t + 8) == want || load<u64>(t + 16) == want) return i;
  }
  return -1;
}

export function channelNextSeq(slot: i32): u32 {
  const p = channelAt(slot) + CH_SEQ;
  const seq = load<u32>(p);
  store<u32>(p, seq + 1 == 0 ? 1 : seq + 1);
  return seq;
}

/** Replay check of (channel slot, sender id at `sender`, seq). The sender table is LRU-bounded. */
export function channelAcceptSeq(slot: i32, sender: usize, seq: u32, nowMs: i64): bool {
  const id = load<u64>(sender);
  let free = -1;
  let oldest = 0;
  let oldestMs: i64 = i64.MAX_VALUE;
  for (let i = 0; i < SENDERS_MAX; i++) {
    const s = SENDERS + <usize>(i * SENDER_BYTES);
    const owner = <i32>load<u8>(s + 8);
    if (owner == 0) { if (free < 0) free = i; continue; }
    if (owner == slot + 1 && load<u64>(s) == id) {
      store<i64>(s + 24, nowMs);
      return windowAccept(s + 12, s + 16, seq);
    }
    const t = load<i64>(s + 24);
    if (t < oldestMs) { oldestMs = t; oldest = i; }
  }
  const use = free >= 0 ? free : oldest;
  const s = SENDERS + <usize>(use * SENDER_BYTES);
  store<u64>(s, id);
  store<u8>(s + 8, <u8>(slot + 1));
  store<u32>(s + 12, seq);
  store<u64>(s + 16, 1);
  store<i64>(s + 24, nowMs);
  return true;
}
