// Sealing and opening the four frame types of protocol version 1
// (firmware/PROTOCOL.md "Frame types"): ANNOUNCE, CHANNEL, DIRECT, ACK.
//
// Every frame is XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03) under a key
// that depends on its type, with the frame's 24-byte nonce and the header AAD
// of frame.ts (DIRECT appends its ephemeral public key to the AAD).
//
// Randomness comes from the caller: each seal function reads a documented
// number of fresh random bytes at `random` and wipes them before returning.
// The module calls no host import.
//
// Conventions:
// - seal* write a whole frame to `frame` (room for FRAME_MAX_BYTES) and return
//   its length (106, 170 or 255), or a negative status of firmware/ABI.md
//   (ERR_LENGTH: text or name too long; ERR_INVALID: hop limit outside 1..7,
//   or an all-zero X25519 result). Inputs must not overlap `frame`.
// - open* check the frame (frameCheck), authenticate it, and only then write
//   the plaintext to `out`; they return DROP_NONE (0) or a DROP_* reason of
//   frame.ts. On any drop reason the bytes at `out` are zero or untouched.
//   `out` may be the frame's own body (in-place decryption) but must not
//   overlap the header or any other input.
//
// Constant time: keys, shared secrets, ephemeral secrets and plaintext go
// through XChaCha20-Poly1305, X25519, HKDF and Ed25519 signing, all constant
// time; the tag comparison is constant time (aeadVerify). Branches depend on
// lengths, header bytes, the public verdicts (tag, signature, all-zero
// X25519) and, after authentication, on the plaintext layout checks, whose
// verdict the sender already knows. Scratch holding secrets is wiped before
// returning. Announce verification handles public data and is variable time.
import {
  AEAD_CTX_BYTES, aeadAad, aeadAuth, aeadBegin, aeadDecrypt, aeadEncrypt, aeadSealFinish, aeadVerify, aeadWipe,
} from "../crypto/chacha20poly1305";
import { signAbsorb, signAbsorb2, signBegin, signCommit, signFinish, verifyAbsorb, verifyBegin, verifyFinish } from "../crypto/ed25519";
import { x25519ScalarmultBase } from "../crypto/x25519";
import { wipe } from "../crypto/ct";
import { ERR_INVALID, ERR_LENGTH, OK } from "../crypto/memory";
import {
  BODY_LARGE_BYTES, BODY_SMALL_BYTES, DEST_BYTES, DROP_AUTH_FAILED, DROP_BAD_CONTENT, DROP_BAD_KEY,
  DROP_BAD_SIGNATURE, DROP_BAD_TYPE, DROP_NONE, HEADER_AAD_BYTES, NONCE_BYTES, OFF_BODY, OFF_NONCE,
  TAG_BYTES, TYPE_ACK, TYPE_ANNOUNCE, TYPE_CHANNEL, TYPE_DIRECT, TYPE_STORE, bodyClassFor, frameAad, frameBodyBytes, frameCheck,
  frameType, frameWriteHeader, hopLimitOk,
} from "./frame";
import {
  ID_ED25519_PUB, ID_ED25519_SEED, ID_X25519_PUB, NODE_ID_BYTES, PUBLIC_KEY_BYTES, ackKey, channelTag,
  dmTag, messageKey, sharedSecret,
} from "./keys";

// ---------------------------------------------------------------------------
// Random bytes each seal function consumes (read at `random`, then wiped)

/** nonce (24) ‖ dest (8): ANNOUNCE dest tags are random. */
export const ANNOUNCE_RANDOM_BYTES: i32 = NONCE_BYTES + DEST_BYTES;
/** nonce (24). */
export const CHANNEL_RANDOM_BYTES: i32 = NONCE_BYTES;
/** nonce (24) ‖ ephemeral X25519 secret e (32). */
export const DIRECT_RANDOM_BYTES: i32 = NONCE_BYTES + 32;
/** nonce (24). */
export const ACK_RANDOM_BYTES: i32 = NONCE_BYTES;
/** nonce (24). */
export const STORE_RANDOM_BYTES: i32 = NONCE_BYTES;

// ---------------------------------------------------------------------------
// ANNOUNCE body (always the large class, 197 bytes), offsets in the plaintext

export const AN_ED25519_PUB: i32 = 0;    // 32
export const AN_X25519_PUB: i32 = 32;    // 32
export const AN_PREKEY_PUB: i32 = 64;    // 32
export const AN_PREKEY_EPOCH: i32 = 96;  // u32 LE: hour epoch the prekey was made
export const AN_UNIX_S: i32 = 100;       // u32 LE: sender's clock, seconds
export const AN_NAME_LEN: i32 = 104;     // u8, 0..AN_NAME_MAX_BYTES
export const AN_NAME: i32 = 105;         // AN_NAME_MAX_BYTES, zero after name_len
export const AN_NAME_MAX_BYTES: i32 = 15;
/** The signature covers "outcaxt/v1 announce" ‖ body[0..120]. */
export const AN_SIGNED_BYTES: i32 = 120;
export const AN_SIGNATURE: i32 = 120;    // 64: Ed25519 (RFC 8032)
/** End of the content; bytes 184..197 are zero. */
export const AN_CONTENT_BYTES: i32 = 184;

/** "outcaxt/v1 announce": prefix of the signed announce message. */
const L_ANNOUNCE: usize = memory.data<u8>([
  0x6f, 0x75, 0x74, 0x63, 0x61, 0x78, 0x74, 0x2f, 0x76, 0x31, 0x20, 0x61, 0x6e, 0x6e, 0x6f, 0x75, 0x6e, 0x63, 0x65]);
const L_ANNOUNCE_LEN: i32 = 19;

// ---------------------------------------------------------------------------
// CHANNEL plaintext (the whole body)

export const CH_SENDER_ID: i32 = 0;  // 8: first 8 bytes of the sender's Ed25519 public key
export const CH_SEQ: i32 = 8;        // u32 LE
export const CH_UNIX_S: i32 = 12;    // u32 LE
export const CH_TEXT_LEN: i32 = 16;  // u8
export const CH_TEXT: i32 = 17;
/** 197 - 17 = 180 bytes of text at most. */
export const CH_TEXT_MAX_BYTES: i32 = BODY_LARGE_BYTES - CH_TEXT;

// ---------------------------------------------------------------------------
// DIRECT body: E (32, clear, in the AAD) ‖ ciphertext of the plaintext below

export const DM_EPHEMERAL: i32 = 0;    // 32: E = X25519(e, 9), offset in the body
export const DM_SEALED: i32 = 32;      // start of the ciphertext in the body
export const DM_MSG_ID: i32 = 0;       // u32 LE, offsets in the plaintext
export const DM_UNIX_S: i32 = 4;       // u32 LE
export const DM_TEXT_LEN: i32 = 8;     // u8
export const DM_TEXT: i32 = 9;
/** 197 - 32 - 9 = 156 bytes of text at most. */
export const DM_TEXT_MAX_BYTES: i32 = BODY_LARGE_BYTES - DM_SEALED - DM_TEXT;
/** Header AAD (34) ‖ E (32). */
export const DM_AAD_BYTES: i32 = HEADER_AAD_BYTES + PUBLIC_KEY_BYTES;

// ---------------------------------------------------------------------------
// ACK plaintext (the small class, 48 bytes): msg_id then zeros

export const ACK_MSG_ID: i32 = 0;      // u32 LE
export const ACK_CONTENT_BYTES: i32 = 4;

// ---------------------------------------------------------------------------
// STORE plaintext (any class): op ‖ content length ‖ content ‖ zeros (firmware/STORAGE.md)

export const ST_OP: i32 = 0;           // u8, 1..255 (0 is refused)
export const ST_LEN: i32 = 1;          // u8: content bytes
export const ST_CONTENT: i32 = 2;
/** 197 - 2 = 195 bytes of content at most. */
export const ST_CONTENT_MAX_BYTES: i32 = BODY_LARGE_BYTES - ST_CONTENT;

// ---------------------------------------------------------------------------
// Scratch

const CTX: usize = memory.data(AEAD_CTX_BYTES, 16);
const AAD: usize = memory.data(72, 8);          // header AAD, then E for DIRECT
const DEST: usize = memory.data(8, 8);          // computed dest tag
const SHARED: usize = memory.data(32, 8);       // X25519 shared secret (secret)
const MSG_KEY: usize = memory.data(32, 8);      // K_msg (secret)

/** Bytes of static memory this file reserves (label excluded: 19 bytes). */
export const SEAL_STATIC_BYTES: i32 = AEAD_CTX_BYTES + 72 + 8 + 32 + 32;

function wipeScratch(): void {
  aeadWipe(CTX);
  wipe(AAD, 72);
  wipe(DEST, 8);
  wipe(SHARED, 32);
  wipe(MSG_KEY, 32);
}

/** Constant time: true when the n bytes at p are all zero (n may be 0). */
function allZero(p: usize, n: i32): bool {
  let acc: u32 = 0;
  for (let i = 0; i < n; i++) acc |= <u32>load<u8>(p + i);
  return acc == 0;
}

/** Encrypts [pt, pt + len) in place under key/nonce with AAD[0..aadLen], tag right after it. */
function sealInPlace(key: usize, nonce: usize, aadLen: i32, pt: usize, len: i32): void {
  aeadBegin(CTX, key, nonce, NONCE_BYTES);
  aeadAad(CTX, AAD, aadLen);
  aeadEncrypt(CTX, pt, pt, len);
  aeadSealFinish(CTX, pt + len);
}

/**
 * Authenticates [ct, ct + len) followed by its tag, then decrypts it to out.
 * Returns false (nothing written) when the tag does not match.
 */
function openTo(key: usize, nonce: usize, aadLen: i32, ct: usize, len: i32, out: usize): bool {
  aeadBegin(CTX, key, nonce, NONCE_BYTES);
  aeadAad(CTX, AAD, aadLen);
  aeadAuth(CTX, ct, len);
  if (aeadVerify(CTX, ct + len) != OK) return false;
  aeadDecrypt(CTX, ct, out, len);
  aeadWipe(CTX);
  return true;
}

/** frameCheck plus the expected type. */
function checkType(frame: usize, len: i32, type: i32): i32 {
  const reason = frameCheck(frame, len);
  if (reason != DROP_NONE) return reason;
  if (frameType(frame) != type) return DROP_BAD_TYPE;
  return DROP_NONE;
}

// ---------------------------------------------------------------------------
// ANNOUNCE (type 0): key K_mesh, body 197 bytes

/**
 * Seals an ANNOUNCE of the identity block `identity` (keys.ts) with its
 * current prekey public key `prekeyPub` (made at hour `prekeyEpoch`), the
 * sender's clock `unixS` and a display name of nameLen (0..15) bytes.
 * Consumes ANNOUNCE_RANDOM_BYTES (32) at `random`. Returns 255 or a status.
 */
export function sealAnnounce(frame: usize, hopLimit: i32, meshKeyPtr: usize, identity: usize, prekeyPub: usize,
  prekeyEpoch: u32, unixS: u32, name: usize, nameLen: i32, random: usize): i32 {
  if (!hopLimitOk(hopLimit)) return ERR_INVALID;
  if (nameLen < 0 || nameLen > AN_NAME_MAX_BYTES) return ERR_LENGTH;
  const body = frame + OFF_BODY;
  frameWriteHeader(frame, TYPE_ANNOUNCE, hopLimit, random, random + NONCE_BYTES);
  memory.copy(body + AN_ED25519_PUB, identity + ID_ED25519_PUB, PUBLIC_KEY_BYTES);
  memory.copy(body + AN_X25519_PUB, identity + ID_X25519_PUB, PUBLIC_KEY_BYTES);
  memory.copy(body + AN_PREKEY_PUB, prekeyPub, PUBLIC_KEY_BYTES);
  store<u32>(body + AN_PREKEY_EPOCH, prekeyEpoch);
  store<u32>(body + AN_UNIX_S, unixS);
  store<u8>(body + AN_NAME_LEN, <u8>nameLen);
  memory.fill(body + AN_NAME, 0, AN_NAME_MAX_BYTES);
  memory.copy(body + AN_NAME, name, nameLen);
  memory.fill(body + AN_CONTENT_BYTES, 0, BODY_LARGE_BYTES - AN_CONTENT_BYTES);
  // RFC 8032 §5.1.6 in two passes over the same message (see ed25519.ts).
  signBegin(identity + ID_ED25519_SEED);
  signAbsorb(L_ANNOUNCE, L_ANNOUNCE_LEN);
  signAbsorb(body, AN_SIGNED_BYTES);
  signCommit();
  signAbsorb2(L_ANNOUNCE, L_ANNOUNCE_LEN);
  signAbsorb2(body, AN_SIGNED_BYTES);
  signFinish(body + AN_SIGNATURE);
  frameAad(frame, AAD);
  sealInPlace(meshKeyPtr, frame + OFF_NONCE, HEADER_AAD_BYTES, body, BODY_LARGE_BYTES);
  wipe(random, ANNOUNCE_RANDOM_BYTES);
  wipeScratch();
  return OFF_BODY + BODY_LARGE_BYTES + TAG_BYTES;
}

/**
 * Opens an ANNOUNCE under K_mesh: checks, authenticates, decrypts the 197-byte
 * body to `out`, checks its layout (name_len <= 15, zero name tail and
 * padding) and the Ed25519 signature. Only DROP_NONE leaves the body at out.
 */
export function openAnnounce(frame: usize, len: i32, meshKeyPtr: usize, out: usize): i32 {
  const reason = checkType(frame, len, TYPE_ANNOUNCE);
  if (reason != DROP_NONE) return reason;
  frameAad(frame, AAD);
  if (!openTo(meshKeyPtr, frame + OFF_NONCE, HEADER_AAD_BYTES, frame + OFF_BODY, BODY_LARGE_BYTES, out)) {
    wipeScratch();
    return DROP_AUTH_FAILED;
  }
  wipeScratch();
  const nameLen = <i32>load<u8>(out + AN_NAME_LEN);
  if (nameLen > AN_NAME_MAX_BYTES ||
    !allZero(out + AN_NAME + nameLen, AN_NAME_MAX_BYTES - nameLen) ||
    !allZero(out + AN_CONTENT_BYTES, BODY_LARGE_BYTES - AN_CONTENT_BYTES)) {
    wipe(out, BODY_LARGE_BYTES);
    return DROP_BAD_CONTENT;
  }
  let verdict = verifyBegin(out + AN_ED25519_PUB, out + AN_SIGNATURE);
  if (verdict == OK) {
    verifyAbsorb(L_ANNOUNCE, L_ANNOUNCE_LEN);
    verifyAbsorb(out, AN_SIGNED_BYTES);
    verdict = verifyFinish();
  }
  if (verdict != OK) {
    wipe(out, BODY_LARGE_BYTES);
    return DROP_BAD_SIGNATURE;
  }
  return DROP_NONE;
}

// ---------------------------------------------------------------------------
// CHANNEL (type 1): key K_chan, dest = channel tag of the epoch

/**
 * Seals a CHANNEL message: dest = channelTag(K_chan, epoch), plaintext
 * sender_id (8 bytes at senderId) ‖ seq ‖ unix_s ‖ len ‖ text ‖ zeros in the
 * smallest class that holds it. textLen 0..180. Consumes CHANNEL_RANDOM_BYTES
 * (24) at `random`. Returns the frame length or a status.
 */
export function sealChannel(frame: usize, hopLimit: i32, chanKey: usize, epoch: u32, senderId: usize, seq: u32,
  unixS: u32, text: usize, textLen: i32, random: usize): i32 {
  if (!hopLimitOk(hopLimit)) return ERR_INVALID;
  if (textLen < 0 || textLen > CH_TEXT_MAX_BYTES) return ERR_LENGTH;
  const n = bodyClassFor(CH_TEXT + textLen);
  const body = frame + OFF_BODY;
  channelTag(DEST, chanKey, epoch);
  frameWriteHeader(frame, TYPE_CHANNEL, hopLimit, random, DEST);
  memory.copy(body + CH_SENDER_ID, senderId, NODE_ID_BYTES);
  store<u32>(body + CH_SEQ, seq);
  store<u32>(body + CH_UNIX_S, unixS);
  store<u8>(body + CH_TEXT_LEN, <u8>textLen);
  memory.copy(body + CH_TEXT, text, textLen);
  memory.fill(body + CH_TEXT + textLen, 0, n - CH_TEXT - textLen);
  frameAad(frame, AAD);
  sealInPlace(chanKey, frame + OFF_NONCE, HEADER_AAD_BYTES, body, n);
  wipe(random, CHANNEL_RANDOM_BYTES);
  wipeScratch();
  return OFF_BODY + n + TAG_BYTES;
}

/**
 * Opens a CHANNEL frame under K_chan: the plaintext (the whole body, 48, 112
 * or 197 bytes) goes to `out`. The caller matched the dest tag first; this
 * function does not look at it beyond authenticating it.
 */
export function openChannel(frame: usize, len: i32, chanKey: usize, out: usize): i32 {
  const reason = checkType(frame, len, TYPE_CHANNEL);
  if (reason != DROP_NONE) return reason;
  const n = frameBodyBytes(len);
  frameAad(frame, AAD);
  const ok = openTo(chanKey, frame + OFF_NONCE, HEADER_AAD_BYTES, frame + OFF_BODY, n, out);
  wipeScratch();
  if (!ok) return DROP_AUTH_FAILED;
  const textLen = <i32>load<u8>(out + CH_TEXT_LEN);
  if (textLen > n - CH_TEXT || !allZero(out + CH_TEXT + textLen, n - CH_TEXT - textLen)) {
    wipe(out, n);
    return DROP_BAD_CONTENT;
  }
  return DROP_NONE;
}

// ---------------------------------------------------------------------------
// DIRECT (type 2): key K_msg from a fresh ephemeral key and the recipient's prekey

/**
 * Seals a DIRECT message to a contact: dest = dmTag(K_pair, epoch, direction),
 * body E ‖ AEAD(K_msg, msg_id ‖ unix_s ‖ len ‖ text ‖ zeros), AAD = header ‖ E,
 * in the smallest class holding 41 + textLen bytes (textLen 0..156).
 * Consumes DIRECT_RANDOM_BYTES (56) at `random`: the nonce, then the
 * ephemeral secret e, which is wiped with the rest. Writes K_ack (32 bytes)
 * to `ackKeyOut`: keep it to check the ACK, then wipe it.
 * ERR_INVALID when prekeyPub gives an all-zero X25519 result (low order).
 */
export function sealDirect(frame: usize, hopLimit: i32, pairKeyPtr: usize, direction: i32, epoch: u32,
  prekeyPub: usize, msgId: u32, unixS: u32, text: usize, textLen: i32, random: usize, ackKeyOut: usize): i32 {
  if (!hopLimitOk(hopLimit)) return ERR_INVALID;
  if (textLen < 0 || textLen > DM_TEXT_MAX_BYTES) return ERR_LENGTH;
  const ephemeral = random + NONCE_BYTES;
  if (!sharedSecret(SHARED, ephemeral, prekeyPub)) {
    wipe(random, DIRECT_RANDOM_BYTES);
    wipeScratch();
    return ERR_INVALID;
  }
  const n = bodyClassFor(DM_SEALED + DM_TEXT + textLen);
  const body = frame + OFF_BODY;
  const pt = body + DM_SEALED;
  dmTag(DEST, pairKeyPtr, epoch, direction);
  frameWriteHeader(frame, TYPE_DIRECT, hopLimit, random, DEST);
  x25519ScalarmultBase(body + DM_EPHEMERAL, ephemeral);
  messageKey(MSG_KEY, SHARED, pairKeyPtr, frame + OFF_NONCE);
  ackKey(ackKeyOut, MSG_KEY);
  store<u32>(pt + DM_MSG_ID, msgId);
  store<u32>(pt + DM_UNIX_S, unixS);
  store<u8>(pt + DM_TEXT_LEN, <u8>textLen);
  memory.copy(pt + DM_TEXT, text, textLen);
  memory.fill(pt + DM_TEXT + textLen, 0, n - DM_SEALED - DM_TEXT - textLen);
  frameAad(frame, AAD);
  memory.copy(AAD + HEADER_AAD_BYTES, body + DM_EPHEMERAL, PUBLIC_KEY_BYTES);
  sealInPlace(MSG_KEY, frame + OFF_NONCE, DM_AAD_BYTES, pt, n - DM_SEALED);
  wipe(random, DIRECT_RANDOM_BYTES);
  wipeScratch();
  return OFF_BODY + n + TAG_BYTES;
}

/**
 * Opens a DIRECT frame with the pair key of the contact its dest tag matched
 * and one prekey secret (a node holding two live prekeys tries the newest
 * first, then the other: a wrong prekey gives DROP_AUTH_FAILED). The
 * plaintext (body - 32 bytes) goes to `out`, K_ack (32 bytes) to `ackKeyOut`;
 * both only on DROP_NONE. DROP_BAD_KEY when E is a low-order point.
 */
export function openDirect(frame: usize, len: i32, pairKeyPtr: usize, prekeySecret: usize, out: usize,
  ackKeyOut: usize): i32 {
  const reason = checkType(frame, len, TYPE_DIRECT);
  if (reason != DROP_NONE) return reason;
  const n = frameBodyBytes(len);
  const body = frame + OFF_BODY;
  if (!sharedSecret(SHARED, prekeySecret, body + DM_EPHEMERAL)) {
    wipeScratch();
    return DROP_BAD_KEY;
  }
  messageKey(MSG_KEY, SHARED, pairKeyPtr, frame + OFF_NONCE);
  frameAad(frame, AAD);
  memory.copy(AAD + HEADER_AAD_BYTES, body + DM_EPHEMERAL, PUBLIC_KEY_BYTES);
  const sealedLen = n - DM_SEALED;
  if (!openTo(MSG_KEY, frame + OFF_NONCE, DM_AAD_BYTES, body + DM_SEALED, sealedLen, out)) {
    wipeScratch();
    return DROP_AUTH_FAILED;
  }
  const textLen = <i32>load<u8>(out + DM_TEXT_LEN);
  if (textLen > sealedLen - DM_TEXT || !allZero(out + DM_TEXT + textLen, sealedLen - DM_TEXT - textLen)) {
    wipe(out, sealedLen);
    wipeScratch();
    return DROP_BAD_CONTENT;
  }
  ackKey(ackKeyOut, MSG_KEY);
  wipeScratch();
  return DROP_NONE;
}

// ---------------------------------------------------------------------------
// ACK (type 3): key K_ack, dest = the DIRECT frame's id, body 48 bytes

/**
 * Seals the ACK of a DIRECT frame: dest = its frame id (8 bytes at
 * directFrameId, the first 8 bytes of its nonce), plaintext msg_id ‖ 44 zero
 * bytes under K_ack. Consumes ACK_RANDOM_BYTES (24) at `random`. Returns 106
 * or a status. The caller wipes K_ack when it no longer resends the ACK.
 */
export function sealAck(frame: usize, hopLimit: i32, ackKeyPtr: usize, directFrameId: usize, msgId: u32,
  random: usize): i32 {
  if (!hopLimitOk(hopLimit)) return ERR_INVALID;
  const body = frame + OFF_BODY;
  frameWriteHeader(frame, TYPE_ACK, hopLimit, random, directFrameId);
  memory.fill(body, 0, BODY_SMALL_BYTES);
  store<u32>(body + ACK_MSG_ID, msgId);
  frameAad(frame, AAD);
  sealInPlace(ackKeyPtr, frame + OFF_NONCE, HEADER_AAD_BYTES, body, BODY_SMALL_BYTES);
  wipe(random, ACK_RANDOM_BYTES);
  wipeScratch();
  return OFF_BODY + BODY_SMALL_BYTES + TAG_BYTES;
}

/**
 * Opens an ACK under the K_ack kept from sealDirect; the 48-byte plaintext
 * (msg_id u32 LE, then zeros) goes to `out`. The caller compares dest with the
 * frame id of its DIRECT frame (FRAME_ID_BYTES) and msg_id with its own.
 */
export function openAck(frame: usize, len: i32, ackKeyPtr: usize, out: usize): i32 {
  const reason = checkType(frame, len, TYPE_ACK);
  if (reason != DROP_NONE) return reason;
  frameAad(frame, AAD);
  const ok = openTo(ackKeyPtr, frame + OFF_NONCE, HEADER_AAD_BYTES, frame + OFF_BODY, BODY_SMALL_BYTES, out);
  wipeScratch();
  if (!ok) return DROP_AUTH_FAILED;
  if (!allZero(out + ACK_CONTENT_BYTES, BODY_SMALL_BYTES - ACK_CONTENT_BYTES)) {
    wipe(out, BODY_SMALL_BYTES);
    return DROP_BAD_CONTENT;
  }
  return DROP_NONE;
}

// ---------------------------------------------------------------------------
// STORE (type 4): key K_mesh, any body class, dest chosen by the storage layer

/**
 * Seals a STORE frame: operation `op` (1..255) with contentLen (0..195) bytes
 * of content, `dest` (8 bytes: the mail id, block address or request id the
 * frame is about; firmware/STORAGE.md). Consumes STORE_RANDOM_BYTES (24) at
 * `random`. Returns the frame length or a status.
 */
export function sealStore(frame: usize, hopLimit: i32, meshKeyPtr: usize, dest: usize, op: i32, content: usize,
  contentLen: i32, random: usize): i32 {
  if (!hopLimitOk(hopLimit) || op < 1 || op > 255) return ERR_INVALID;
  if (contentLen < 0 || contentLen > ST_CONTENT_MAX_BYTES) return ERR_LENGTH;
  const n = bodyClassFor(ST_CONTENT + contentLen);
  const body = frame + OFF_BODY;
  memory.copy(DEST, dest, DEST_BYTES);
  frameWriteHeader(frame, TYPE_STORE, hopLimit, random, DEST);
  store<u8>(body + ST_OP, <u8>op);
  store<u8>(body + ST_LEN, <u8>contentLen);
  memory.copy(body + ST_CONTENT, content, contentLen);
  memory.fill(body + ST_CONTENT + contentLen, 0, n - ST_CONTENT - contentLen);
  frameAad(frame, AAD);
  sealInPlace(meshKeyPtr, frame + OFF_NONCE, HEADER_AAD_BYTES, body, n);
  wipe(random, STORE_RANDOM_BYTES);
  wipeScratch();
  return OFF_BODY + n + TAG_BYTES;
}

/** Opens a STORE frame to `out` (op, length, content, zeros); BAD_CONTENT for op 0, a length past the body or non-zero padding. */
export function openStore(frame: usize, len: i32, meshKeyPtr: usize, out: usize): i32 {
  const reason = checkType(frame, len, TYPE_STORE);
  if (reason != DROP_NONE) return reason;
  const n = frameBodyBytes(len);
  frameAad(frame, AAD);
  const ok = openTo(meshKeyPtr, frame + OFF_NONCE, HEADER_AAD_BYTES, frame + OFF_BODY, n, out);
  wipeScratch();
  if (!ok) return DROP_AUTH_FAILED;
  const contentLen = <i32>load<u8>(out + ST_LEN);
  if (load<u8>(out + ST_OP) == 0 || contentLen > n - ST_CONTENT || !allZero(out + ST_CONTENT + contentLen, n - ST_CONTENT - contentLen)) {
    wipe(out, n);
    return DROP_BAD_CONTENT;
  }
  return DROP_NONE;
}
