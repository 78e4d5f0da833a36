// ABI: ChaCha20 (RFC 8439 §2.4), HChaCha20 (draft-irtf-cfrg-xchacha-03 §2.2),
// Poly1305 (§2.5), ChaCha20-Poly1305 (§2.8) and XChaCha20-Poly1305 (draft §2.3).
//
// Every pointer must lie inside the I/O buffer together with its length
// (ERR_RANGE otherwise, checked before anything is read or written).
// The AEAD takes a 12-byte nonce (ChaCha20-Poly1305) or a 24-byte nonce
// (XChaCha20-Poly1305); any other nonceLen is ERR_LENGTH.
//
// Two static contexts: `onceCtx` for the one-call functions, `streamCtx` for the
// aead_begin ... calls, so a one-call seal/open between streaming calls does not
// disturb the stream. Both are wiped when a message ends.
import { ERR_LENGTH, ERR_RANGE, OK, inBuffer } from "../memory";
import { CHACHA_BLOCK_BYTES, CHACHA_KEY_BYTES, CHACHA_NONCE_BYTES, chachaSeek, chachaSetKey, chachaSetNonce, chachaWipe, chachaXor } from "../chacha20";
import { HCHACHA_NONCE_BYTES, HCHACHA_OUT_BYTES, hchacha20Into } from "../hchacha20";
import { POLY_KEY_BYTES, POLY_TAG_BYTES, polyFinish, polyInit, polyUpdate, polyWipe } from "../poly1305";
import {
  AEAD_CTX_BYTES, AEAD_KEY_BYTES, AEAD_TAG_BYTES, aeadAad, aeadAuth, aeadBegin, aeadDecrypt, aeadEncrypt,
  aeadNonceOk, aeadSealFinish, aeadVerify, aeadWipe,
} from "../chacha20poly1305";

const onceCtx: usize = memory.data(AEAD_CTX_BYTES, 16);
const streamCtx: usize = memory.data(AEAD_CTX_BYTES, 16);

/**
 * RFC 8439 §2.4: XORs len bytes at src with the ChaCha20 keystream of the 32-byte
 * key and 12-byte nonce, starting at block `counter` (read as u32), into dst.
 * src == dst is allowed. ERR_LENGTH when the blocks would pass counter 2^32 - 1.
 */
export function chacha20_xor(key: i32, nonce: i32, counter: i32, src: i32, dst: i32, len: i32): i32 {
  if (!inBuffer(key, CHACHA_KEY_BYTES) || !inBuffer(nonce, CHACHA_NONCE_BYTES) ||
    !inBuffer(src, len) || !inBuffer(dst, len)) return ERR_RANGE;
  const blocks = (<u64>len + <u64>(CHACHA_BLOCK_BYTES - 1)) >> 6;
  if (<u64><u32>counter + blocks > 0x100000000) return ERR_LENGTH;
  chachaSetKey(onceCtx, key);
  chachaSetNonce(onceCtx, nonce);
  chachaSeek(onceCtx, <u32>counter);
  chachaXor(onceCtx, src, dst, len);
  chachaWipe(onceCtx);
  return OK;
}

/** draft-irtf-cfrg-xchacha-03 §2.2: 32-byte subkey of the 32-byte key and 16-byte nonce into out. */
export function hchacha20(key: i32, nonce: i32, out: i32): i32 {
  if (!inBuffer(key, CHACHA_KEY_BYTES) || !inBuffer(nonce, HCHACHA_NONCE_BYTES) ||
    !inBuffer(out, HCHACHA_OUT_BYTES)) return ERR_RANGE;
  hchacha20Into(key, nonce, out);
  return OK;
}

/** RFC 8439 §2.5: 16-byte Poly1305 tag of len bytes at msg under the 32-byte one-time key. */
export function poly1305_mac(key: i32, msg: i32, len: i32, tag: i32): i32 {
  if (!inBuffer(key, POLY_KEY_BYTES) || !inBuffer(msg, len) || !inBuffer(tag, POLY_TAG_BYTES)) return ERR_RANGE;
  polyInit(onceCtx, key);
  polyUpdate(onceCtx, msg, len);
  polyFinish(onceCtx, tag);
  polyWipe(onceCtx);
  return OK;
}

/**
 * One call seal: encrypts msgLen bytes at msg into out and appends the 16-byte
 * tag (out receives msgLen + 16 bytes). out == msg is allowed; otherwise out
 * must not overlap msg.
 */
export function aead_seal(key: i32, nonce: i32, nonceLen: i32, aad: i32, aadLen: i32,
  msg: i32, msgLen: i32, out: i32): i32 {
  if (!aeadNonceOk(nonceLen)) return ERR_LENGTH;
  if (!inBuffer(key, AEAD_KEY_BYTES) || !inBuffer(nonce, nonceLen) || !inBuffer(aad, aadLen) ||
    !inBuffer(msg, msgLen) || !inBuffer(out, msgLen + AEAD_TAG_BYTES)) return ERR_RANGE;
  aeadBegin(onceCtx, key, nonce, nonceLen);
  aeadAad(onceCtx, aad, aadLen);
  aeadEncrypt(onceCtx, msg, out, msgLen);
  aeadSealFinish(onceCtx, out + msgLen);
  return OK;
}

/**
 * One call open: ct holds ctLen bytes, the ciphertext then its 16-byte tag.
 * Checks the tag first; on a match writes ctLen - 16 bytes of plaintext to out
 * (out == ct allowed), otherwise returns ERR_AUTH and writes nothing.
 * ERR_LENGTH when ctLen < 16.
 */
export function aead_open(key: i32, nonce: i32, nonceLen: i32, aad: i32, aadLen: i32,
  ct: i32, ctLen: i32, out: i32): i32 {
  if (!aeadNonceOk(nonceLen)) return ERR_LENGTH;
  if (!inBuffer(key, AEAD_KEY_BYTES) || !inBuffer(nonce, nonceLen) || !inBuffer(aad, aadLen) ||
    !inBuffer(ct, ctLen)) return ERR_RANGE;
  if (ctLen < AEAD_TAG_BYTES) return ERR_LENGTH;
  const msgLen = ctLen - AEAD_TAG_BYTES;
  if (!inBuffer(out, msgLen)) return ERR_RANGE;
  aeadBegin(onceCtx, key, nonce, nonceLen);
  aeadAad(onceCtx, aad, aadLen);
  aeadAuth(onceCtx, ct, msgLen);
  const status = aeadVerify(onceCtx, ct + msgLen);
  if (status != OK) return status; // aeadVerify wiped the context
  aeadDecrypt(onceCtx, ct, out, msgLen);
  aeadWipe(onceCtx);
  return OK;
}

/** Streaming: starts a message (seal or open) in the stream context; discards any message in progress. */
export function aead_begin(key: i32, nonce: i32, nonceLen: i32): i32 {
  if (!aeadNonceOk(nonceLen)) return ERR_LENGTH;
  if (!inBuffer(key, AEAD_KEY_BYTES) || !inBuffer(nonce, nonceLen)) return ERR_RANGE;
  aeadBegin(streamCtx, key, nonce, nonceLen);
  return OK;
}

/** Streaming: absorbs len bytes of AAD; only after aead_begin and before any data. */
export function aead_aad(ptr: i32, len: i32): i32 {
  if (!inBuffer(ptr, len)) return ERR_RANGE;
  return aeadAad(streamCtx, ptr, len);
}

/** Streaming seal: encrypts len bytes src -> dst (any chunk sizes; src == dst allowed). */
export function aead_encrypt(src: i32, dst: i32, len: i32): i32 {
  if (!inBuffer(src, len) || !inBuffer(dst, len)) return ERR_RANGE;
  return aeadEncrypt(streamCtx, src, dst, len);
}

/** Streaming seal: writes the 16-byte tag to tagOut and wipes the stream context. */
export function aead_seal_finish(tagOut: i32): i32 {
  if (!inBuffer(tagOut, AEAD_TAG_BYTES)) return ERR_RANGE;
  return aeadSealFinish(streamCtx, tagOut);
}

/** Streaming open, pass 1: authenticates len bytes of ciphertext (tag excluded); writes nothing. */
export function aead_auth(ct: i32, len: i32): i32 {
  if (!inBuffer(ct, len)) return ERR_RANGE;
  return aeadAuth(streamCtx, ct, len);
}

/**
 * Streaming open: compares the 16-byte tag at tagPtr in constant time. OK: the
 * keystream is rewound to block 1 and aead_decrypt is allowed. ERR_AUTH: the
 * stream context is wiped.
 */
export function aead_verify(tagPtr: i32): i32 {
  if (!inBuffer(tagPtr, AEAD_TAG_BYTES)) return ERR_RANGE;
  return aeadVerify(streamCtx, tagPtr);
}

/** Streaming open, pass 2: decrypts len bytes src -> dst, at most the authenticated total (ERR_LENGTH). */
export function aead_decrypt(src: i32, dst: i32, len: i32): i32 {
  if (!inBuffer(src, len) || !inBuffer(dst, len)) return ERR_RANGE;
  return aeadDecrypt(streamCtx, src, dst, len);
}

/** Streaming: ends or abandons the message in progress and wipes the stream context. Always OK. */
export function aead_end(): i32 {
  aeadWipe(streamCtx);
  return OK;
}
