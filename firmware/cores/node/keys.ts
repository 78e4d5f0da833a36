// Key schedule of the Outcaxt protocol, version 1 (firmware/PROTOCOL.md "Keys"):
// the node identity from its 32-byte seed, hourly pseudonyms, the mesh key,
// channel keys and tags, pair keys and direct-message tags, prekeys and the
// per-message keys of DIRECT and ACK frames.
//
// Every derivation is HMAC-SHA256 (RFC 2104) or HKDF-SHA256 (RFC 5869):
//   Extract(salt, ikm) = HMAC(key = salt, ikm)          (§2.2)
//   Expand(prk, info, L)                                 (§2.3)
// The label strings are static ASCII bytes below; PROTOCOL.md lists the same.
//
// Epochs are hours: epoch = floor(unix_ms / 3,600,000), a u32, written as 4
// little-endian bytes wherever it enters a MAC.
//
// Constant time: seeds, secret keys, shared secrets and derived keys only go
// through HMAC/HKDF/X25519/Ed25519 key generation, all constant time. The
// branches here depend on lengths, on public keys (pairDirection orders two
// public keys), on the public all-zero verdict of X25519 (RFC 7748 §6.1), and
// on pseudonyms, which are public once sent. Scratch that held a secret is
// wiped before returning; the caller owns (and must wipe) its own buffers.
// Prekey secrets are random bytes from the caller, never derived from the
// seed: otherwise the seed would recreate them and DIRECT frames would lose
// forward secrecy.
import { HMAC_SHA256_CTX_BYTES, hmacSha256Final, hmacSha256Init, hmacSha256Update } from "../crypto/hmac_sha256";
import { hkdfSha256Expand } from "../crypto/hkdf_sha256";
import { x25519Scalarmult, x25519ScalarmultBase } from "../crypto/x25519";
import { ed25519PublicKey } from "../crypto/ed25519";
import { wipe } from "../crypto/ct";
import { ERR_INVALID, ERR_LENGTH, OK } from "../crypto/memory";

// ---------------------------------------------------------------------------
// Sizes

export const KEY_BYTES: i32 = 32;
export const SEED_BYTES: i32 = 32;
export const PUBLIC_KEY_BYTES: i32 = 32;
export const TAG8_BYTES: i32 = 8;
/** 8-byte destination tags and the first 8 bytes of an Ed25519 public key as a node id. */
export const NODE_ID_BYTES: i32 = 8;
/** One epoch is one hour of unix time (PROTOCOL.md "Conventions"). */
export const EPOCH_MS: i64 = 3600000;
/** Upper bounds on names: keep salts inside one HMAC block (64 bytes) with their label. */
export const MESH_NAME_MAX_BYTES: i32 = 32;
export const CHANNEL_NAME_MAX_BYTES: i32 = 32;
export const PASSPHRASE_MAX_BYTES: i32 = 64;

// Identity block (IDENTITY_BYTES), filled by identityFromSeed:
export const ID_ED25519_SEED: i32 = 0;    // 32 secret: Ed25519 seed (RFC 8032 §5.1.5)
export const ID_ED25519_PUB: i32 = 32;    // 32 public
export const ID_X25519_SECRET: i32 = 64;  // 32 secret: X25519 scalar (clamped when used)
export const ID_X25519_PUB: i32 = 96;     // 32 public: X25519(secret, 9)
export const ID_PSEUDONYM_KEY: i32 = 128; // 32 secret: HMAC key of the hourly pseudonym
export const IDENTITY_BYTES: i32 = 160;

// ---------------------------------------------------------------------------
// Labels (ASCII, no terminator). Lengths are the byte counts.

/** "outcaxt/v1 identity": HKDF salt of the identity. */
const L_IDENTITY: usize = memory.data<u8>([
  0x6f, 0x75, 0x74, 0x63, 0x61, 0x78, 0x74, 0x2f, 0x76, 0x31, 0x20, 0x69, 0x64, 0x65, 0x6e, 0x74, 0x69, 0x74, 0x79]);
const L_IDENTITY_LEN: i32 = 19;
/** "ed25519": HKDF info of the Ed25519 seed. */
const I_ED25519: usize = memory.data<u8>([0x65, 0x64, 0x32, 0x35, 0x35, 0x31, 0x39]);
const I_ED25519_LEN: i32 = 7;
/** "x25519": HKDF info of the X25519 secret. */
const I_X25519: usize = memory.data<u8>([0x78, 0x32, 0x35, 0x35, 0x31, 0x39]);
const I_X25519_LEN: i32 = 6;
/** "pseudonym": HKDF info of the pseudonym key. */
const I_PSEUDONYM: usize = memory.data<u8>([0x70, 0x73, 0x65, 0x75, 0x64, 0x6f, 0x6e, 0x79, 0x6d]);
const I_PSEUDONYM_LEN: i32 = 9;
/** "outcaxt/v1 pseudonym": HMAC message prefix of a pseudonym. */
const L_PSEUDONYM: usize = memory.data<u8>([
  0x6f, 0x75, 0x74, 0x63, 0x61, 0x78, 0x74, 0x2f, 0x76, 0x31, 0x20, 0x70, 0x73, 0x65, 0x75, 0x64, 0x6f, 0x6e, 0x79, 0x6d]);
const L_PSEUDONYM_LEN: i32 = 20;
/** "outcaxt/v1 mesh": HKDF salt of the mesh key. */
const L_MESH: usize = memory.data<u8>([
  0x6f, 0x75, 0x74, 0x63, 0x61, 0x78, 0x74, 0x2f, 0x76, 0x31, 0x20, 0x6d, 0x65, 0x73, 0x68]);
const L_MESH_LEN: i32 = 15;
/** "key": HKDF info of the mesh, channel and pair keys. */
const I_KEY: usize = memory.data<u8>([0x6b, 0x65, 0x79]);
const I_KEY_LEN: i32 = 3;
/** "outcaxt/v1 channel": HKDF salt prefix of a channel key (the channel name follows). */
const L_CHANNEL: usize = memory.data<u8>([
  0x6f, 0x75, 0x74, 0x63, 0x61, 0x78, 0x74, 0x2f, 0x76, 0x31, 0x20, 0x63, 0x68, 0x61, 0x6e, 0x6e, 0x65, 0x6c]);
const L_CHANNEL_LEN: i32 = 18;
/** "outcaxt/v1 channel tag": HMAC message prefix of a channel tag. */
const L_CHANNEL_TAG: usize = memory.data<u8>([
  0x6f, 0x75, 0x74, 0x63, 0x61, 0x78, 0x74, 0x2f, 0x76, 0x31, 0x20, 0x63, 0x68, 0x61, 0x6e, 0x6e, 0x65, 0x6c,
  0x20, 0x74, 0x61, 0x67]);
const L_CHANNEL_TAG_LEN: i32 = 22;
/** "outcaxt/v1 pair": HKDF salt of a pair key. */
const L_PAIR: usize = memory.data<u8>([
  0x6f, 0x75, 0x74, 0x63, 0x61, 0x78, 0x74, 0x2f, 0x76, 0x31, 0x20, 0x70, 0x61, 0x69, 0x72]);
const L_PAIR_LEN: i32 = 15;
/** "outcaxt/v1 dm tag": HMAC message prefix of a direct-message tag. */
const L_DM_TAG: usize = memory.data<u8>([
  0x6f, 0x75, 0x74, 0x63, 0x61, 0x78, 0x74, 0x2f, 0x76, 0x31, 0x20, 0x64, 0x6d, 0x20, 0x74, 0x61, 0x67]);
const L_DM_TAG_LEN: i32 = 17;
/** "outcaxt/v1 dm": HKDF info of a DIRECT message key. */
const L_DM: usize = memory.data<u8>([
  0x6f, 0x75, 0x74, 0x63, 0x61, 0x78, 0x74, 0x2f, 0x76, 0x31, 0x20, 0x64, 0x6d]);
const L_DM_LEN: i32 = 13;
/** "outcaxt/v1 ack": HKDF info of an ACK key. */
const L_ACK: usize = memory.data<u8>([
  0x6f, 0x75, 0x74, 0x63, 0x61, 0x78, 0x74, 0x2f, 0x76, 0x31, 0x20, 0x61, 0x63, 0x6b]);
const L_ACK_LEN: i32 = 14;

/** "outcaxt/v1 mailbox": HMAC message prefix of a mailbox tag (STORAGE.md). */
const L_MAILBOX: usize = memory.data<u8>([
  0x6f, 0x75, 0x74, 0x63, 0x61, 0x78, 0x74, 0x2f, 0x76, 0x31, 0x20, 0x6d, 0x61, 0x69, 0x6c, 0x62, 0x6f, 0x78]);
const L_MAILBOX_LEN: i32 = 18;
/** "outcaxt/v1 drop": HMAC message of a mail's drop key (STORAGE.md). */
const L_DROP: usize = memory.data<u8>([
  0x6f, 0x75, 0x74, 0x63, 0x61, 0x78, 0x74, 0x2f, 0x76, 0x31, 0x20, 0x64, 0x72, 0x6f, 0x70]);
const L_DROP_LEN: i32 = 15;

// ---------------------------------------------------------------------------
// Scratch (wiped after each use)

const HMAC_CTX: usize = memory.data(HMAC_SHA256_CTX_BYTES, 8);
const PRK: usize = memory.data(32, 8);       // HKDF pseudorandom key
const MAC: usize = memory.data(32, 8);       // full HMAC output before truncation
const SHARED: usize = memory.data(32, 8);    // X25519 result
const SALT: usize = memory.data(64, 8);      // label ‖ channel name
const EPOCH_BUF: usize = memory.data(8, 8);  // le32(epoch) ‖ direction

/** Bytes of static memory this file reserves (labels excluded: 178 bytes of ASCII). */
export const KEYS_STATIC_BYTES: i32 = HMAC_SHA256_CTX_BYTES + 32 + 32 + 32 + 64 + 8;

/**
 * Wipes this file's scratch. hmac_sha256.ts keeps the last HMAC output in its
 * own outer-hash context (and hkdf_sha256.ts's last T block goes through it),
 * which this file cannot reach: one HMAC under the empty key over nothing
 * overwrites that context and the SHA-256 message schedule with public values,
 * so no derived key stays in the crypto files' static memory after a call.
 */
function wipeScratch(): void {
  hmacSha256Init(HMAC_CTX, MAC, 0);
  hmacSha256Final(HMAC_CTX, MAC);
  wipe(HMAC_CTX, HMAC_SHA256_CTX_BYTES);
  wipe(PRK, 32);
  wipe(MAC, 32);
  wipe(SHARED, 32);
}

/** HKDF-Extract with a one-piece IKM: PRK = HMAC(salt, ikm). */
function extract(salt: usize, saltLen: i32, ikm: usize, ikmLen: i32): void {
  hmacSha256Init(HMAC_CTX, salt, saltLen);
  hmacSha256Update(HMAC_CTX, ikm, ikmLen);
  hmacSha256Final(HMAC_CTX, PRK);
}

/** MAC = HMAC(key, label ‖ le32(epoch) ‖ [direction when extraLen is 1]). */
function labelEpochMac(key: usize, label: usize, labelLen: i32, epoch: u32, extraLen: i32): void {
  store<u32>(EPOCH_BUF, epoch);
  hmacSha256Init(HMAC_CTX, key, KEY_BYTES);
  hmacSha256Update(HMAC_CTX, label, labelLen);
  hmacSha256Update(HMAC_CTX, EPOCH_BUF, 4 + extraLen);
  hmacSha256Final(HMAC_CTX, MAC);
}

// ---------------------------------------------------------------------------
// Epochs

/** epoch = floor(unixMs / EPOCH_MS) as a u32; times before 1970 give 0. */
export function epochOf(unixMs: i64): u32 {
  return unixMs <= 0 ? 0 : <u32>(unixMs / EPOCH_MS);
}

// ---------------------------------------------------------------------------
// Identity and pseudonyms

/**
 * Fills the IDENTITY_BYTES block at `identity` from a 32-byte secret seed:
 *   PRK = Extract(salt = "outcaxt/v1 identity", ikm = seed)
 *   Ed25519 seed   = Expand(PRK, "ed25519", 32),   Ed25519 public = RFC 8032 §5.1.5
 *   X25519 secret  = Expand(PRK, "x25519", 32),    X25519 public = X25519(secret, 9)
 *   pseudonym key  = Expand(PRK, "pseudonym", 32)
 * `seed` may lie inside the block only at or after its end (it is read first, fully).
 */
export function identityFromSeed(identity: usize, seed: usize): void {
  extract(L_IDENTITY, L_IDENTITY_LEN, seed, SEED_BYTES);
  hkdfSha256Expand(PRK, 32, I_ED25519, I_ED25519_LEN, identity + ID_ED25519_SEED, 32);
  hkdfSha256Expand(PRK, 32, I_X25519, I_X25519_LEN, identity + ID_X25519_SECRET, 32);
  hkdfSha256Expand(PRK, 32, I_PSEUDONYM, I_PSEUDONYM_LEN, identity + ID_PSEUDONYM_KEY, 32);
  ed25519PublicKey(identity + ID_ED25519_PUB, identity + ID_ED25519_SEED);
  x25519ScalarmultBase(identity + ID_X25519_PUB, identity + ID_X25519_SECRET);
  wipeScratch();
}

/**
 * The node's pseudonym for `epoch`: the first 4 bytes of
 * HMAC(pseudonym key, "outcaxt/v1 pseudonym" ‖ le32(epoch)) read as a
 * little-endian u32; 0 (reserved for "flood") becomes 1.
 */
export function pseudonym(identity: usize, epoch: u32): u32 {
  labelEpochMac(identity + ID_PSEUDONYM_KEY, L_PSEUDONYM, L_PSEUDONYM_LEN, epoch, 0);
  let p = load<u32>(MAC);
  wipeScratch();
  if (p == 0) p = 1;
  return p;
}

// ---------------------------------------------------------------------------
// Mesh and channels

/**
 * K_mesh = Expand(Extract(salt = "outcaxt/v1 mesh", ikm = mesh name), "key", 32)
 * to `out`. ERR_LENGTH unless 0 <= nameLen <= MESH_NAME_MAX_BYTES.
 */
export function meshKey(out: usize, name: usize, nameLen: i32): i32 {
  if (nameLen < 0 || nameLen > MESH_NAME_MAX_BYTES) return ERR_LENGTH;
  extract(L_MESH, L_MESH_LEN, name, nameLen);
  hkdfSha256Expand(PRK, 32, I_KEY, I_KEY_LEN, out, KEY_BYTES);
  wipeScratch();
  return OK;
}

/**
 * K_chan = Expand(Extract(salt = "outcaxt/v1 channel" ‖ name, ikm = passphrase), "key", 32)
 * to `out`. ERR_LENGTH unless 0 <= nameLen <= CHANNEL_NAME_MAX_BYTES and
 * 0 <= passLen <= PASSPHRASE_MAX_BYTES. The derivation is fast on purpose (it
 * runs on the board), so a guessable passphrase can be guessed offline from
 * any recorded frame: see PROTOCOL.md "CHANNEL".
 */
export function channelKey(out: usize, name: usize, nameLen: i32, pass: usize, passLen: i32): i32 {
  if (nameLen < 0 || nameLen > CHANNEL_NAME_MAX_BYTES) return ERR_LENGTH;
  if (passLen < 0 || passLen > PASSPHRASE_MAX_BYTES) return ERR_LENGTH;
  memory.copy(SALT, L_CHANNEL, L_CHANNEL_LEN);
  memory.copy(SALT + L_CHANNEL_LEN, name, nameLen);
  extract(SALT, L_CHANNEL_LEN + nameLen, pass, passLen);
  hkdfSha256Expand(PRK, 32, I_KEY, I_KEY_LEN, out, KEY_BYTES);
  wipe(SALT, 64);
  wipeScratch();
  return OK;
}

/** 8-byte channel tag: HMAC(K_chan, "outcaxt/v1 channel tag" ‖ le32(epoch))[0..8] to `out`. */
export function channelTag(out: usize, chanKey: usize, epoch: u32): void {
  labelEpochMac(chanKey, L_CHANNEL_TAG, L_CHANNEL_TAG_LEN, epoch, 0);
  memory.copy(out, MAC, TAG8_BYTES);
  wipeScratch();
}

// ---------------------------------------------------------------------------
// Contacts

/**
 * Direction byte of a DIRECT frame from the node with X25519 public key
 * `senderPub` to the one with `recipientPub`: 0 when senderPub sorts before
 * recipientPub (bytewise, byte 0 first), 1 otherwise. Public data only.
 */
export function pairDirection(senderPub: usize, recipientPub: usize): i32 {
  for (let i = 0; i < PUBLIC_KEY_BYTES; i++) {
    const a = <i32>load<u8>(senderPub + i);
    const b = <i32>load<u8>(recipientPub + i);
    if (a != b) return a < b ? 0 : 1;
  }
  return 1;
}

/**
 * K_pair with the contact whose X25519 public key is `peerPub`:
 *   PRK = Extract(salt = "outcaxt/v1 pair", ikm = X25519(own secret, peerPub) ‖ low ‖ high)
 *   K_pair = Expand(PRK, "key", 32)
 * where low/high are the two public keys in bytewise order. Both sides get the
 * same key. ERR_INVALID (nothing written) when peerPub equals the own public
 * key or the X25519 result is all zero (low-order peerPub, RFC 7748 §6.1).
 */
export function pairKey(out: usize, identity: usize, peerPub: usize): i32 {
  const ownPub = identity + ID_X25519_PUB;
  let equal = true;
  for (let i = 0; i < PUBLIC_KEY_BYTES; i++) {
    if (load<u8>(ownPub + i) != load<u8>(peerPub + i)) { equal = false; break; }
  }
  if (equal) return ERR_INVALID;
  if (x25519Scalarmult(SHARED, identity + ID_X25519_SECRET, peerPub) != 0) {
    wipeScratch();
    return ERR_INVALID;
  }
  const ownFirst = pairDirection(ownPub, peerPub) == 0;
  hmacSha256Init(HMAC_CTX, L_PAIR, L_PAIR_LEN);
  hmacSha256Update(HMAC_CTX, SHARED, 32);
  hmacSha256Update(HMAC_CTX, ownFirst ? ownPub : peerPub, PUBLIC_KEY_BYTES);
  hmacSha256Update(HMAC_CTX, ownFirst ? peerPub : ownPub, PUBLIC_KEY_BYTES);
  hmacSha256Final(HMAC_CTX, PRK);
  hkdfSha256Expand(PRK, 32, I_KEY, I_KEY_LEN, out, KEY_BYTES);
  wipeScratch();
  return OK;
}

/**
 * 8-byte DIRECT dest tag: HMAC(K_pair, "outcaxt/v1 dm tag" ‖ le32(epoch) ‖ direction)[0..8]
 * to `out`, with direction 0 or 1 from pairDirection (other values use bit 0).
 */
export function dmTag(out: usize, pairKeyPtr: usize, epoch: u32, direction: i32): void {
  store<u8>(EPOCH_BUF + 4, <u8>(direction & 1));
  labelEpochMac(pairKeyPtr, L_DM_TAG, L_DM_TAG_LEN, epoch, 1);
  memory.copy(out, MAC, TAG8_BYTES);
  wipeScratch();
}

/** Public key X25519(secret, 9) of a 32-byte prekey (or ephemeral) secret made of fresh random bytes. */
export function prekeyPublic(out: usize, secret: usize): void {
  x25519ScalarmultBase(out, secret);
}

// ---------------------------------------------------------------------------
// Per-message keys (DIRECT and ACK)

/**
 * K_msg = Expand(Extract(salt = nonce (24 bytes), ikm = shared ‖ K_pair), "outcaxt/v1 dm", 32)
 * to `out`, where shared = X25519(e, P) = X25519(p, E) for the ephemeral
 * secret e and the prekey secret p.
 */
export function messageKey(out: usize, shared: usize, pairKeyPtr: usize, nonce: usize): void {
  hmacSha256Init(HMAC_CTX, nonce, 24);
  hmacSha256Update(HMAC_CTX, shared, 32);
  hmacSha256Update(HMAC_CTX, pairKeyPtr, KEY_BYTES);
  hmacSha256Final(HMAC_CTX, PRK);
  hkdfSha256Expand(PRK, 32, L_DM, L_DM_LEN, out, KEY_BYTES);
  wipeScratch();
}

/** K_ack = Expand(prk = K_msg, "outcaxt/v1 ack", 32) to `out` (out may equal msgKey). */
export function ackKey(out: usize, msgKey: usize): void {
  memory.copy(PRK, msgKey, 32);
  hkdfSha256Expand(PRK, 32, L_ACK, L_ACK_LEN, out, KEY_BYTES);
  wipeScratch();
}

/**
 * shared = X25519(secret, pub) to `out`; returns false (and zeroes out) when it
 * is all zero (low-order pub). Used by seal.ts for both ends of a DIRECT frame.
 */
export function sharedSecret(out: usize, secret: usize, pub: usize): bool {
  if (x25519Scalarmult(out, secret, pub) != 0) {
    wipe(out, 32);
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Storage (firmware/STORAGE.md "Mail")

/** 8-byte mailbox tag: HMAC(key = x25519Pub, "outcaxt/v1 mailbox" ‖ le32(epoch))[0..8] to `out`. Public inputs. */
export function mailboxTag(out: usize, x25519Pub: usize, epoch: u32): void {
  labelEpochMac(x25519Pub, L_MAILBOX, L_MAILBOX_LEN, epoch, 0);
  memory.copy(out, MAC, TAG8_BYTES);
  wipeScratch();
}

/** Drop key of a stored mail: HMAC(K_ack, "outcaxt/v1 drop") (32 bytes) to `out`. */
export function dropKey(out: usize, ackKeyPtr: usize): void {
  hmacSha256Init(HMAC_CTX, ackKeyPtr, KEY_BYTES);
  hmacSha256Update(HMAC_CTX, L_DROP, L_DROP_LEN);
  hmacSha256Final(HMAC_CTX, out);
  wipeScratch();
}
