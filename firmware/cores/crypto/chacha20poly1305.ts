// ChaCha20-Poly1305 AEAD (RFC 8439 §2.6-§2.8) and XChaCha20-Poly1305
// (draft-irtf-cfrg-xchacha-03 §2.3), as a streaming state machine over one
// static context. The one-shot seal/open of abi/aead.ts use the same steps.
// Constant time: ChaCha20 and Poly1305 are (see their files); the tag is
// compared with verifyBytes. Only the public verdict of that comparison, the
// lengths and the call order decide branches.
//
// Call order (anything else returns ERR_STATE and changes nothing; a message
// past AEAD_MAX_MESSAGE_BYTES, or decrypting past the authenticated length,
// returns ERR_LENGTH and changes nothing):
//   seal: begin, aad*, encrypt*, sealFinish
//   open: begin, aad*, auth*, verify, decrypt*, end
// begin may be called at any time and starts over. sealFinish, a failed
// verify and end wipe the context.
//
// Context layout (AEAD_CTX_BYTES, 16-byte aligned):
//   0    chacha   CHACHA_CTX_BYTES (144)  keystream state, counter from 1
//   144  poly     POLY_CTX_BYTES (72)     Poly1305 state keyed by block 0
//   216  aadLen   u64                     AAD bytes absorbed
//   224  ctLen    u64                     ciphertext bytes encrypted / authenticated
//   232  done     u64                     ciphertext bytes decrypted after verify
//   240  phase    i32                     PHASE_* below
//   244  tag      16 bytes                computed tag (copied out by sealFinish, compared by verify)
import { ERR_AUTH, ERR_LENGTH, ERR_STATE, OK } from "./memory";
import { verifyBytes } from "./ct";
import {
  CHACHA_CTX_BYTES, CHACHA_KEY_OFFSET, chachaNextBlock, chachaSeek, chachaSetKey, chachaSetNonce,
  chachaSetNonceTail, chachaXor,
} from "./chacha20";
import { hchacha20Into } from "./hchacha20";
import { POLY_CTX_BYTES, polyFinish, polyInit, polyLengths, polyPad16, polyUpdate, polyWipe } from "./poly1305";

export const AEAD_CTX_BYTES: i32 = 260;
export const AEAD_KEY_BYTES: i32 = 32;
export const AEAD_TAG_BYTES: i32 = 16;
/** RFC 8439 §2.8 nonce. */
export const AEAD_NONCE_BYTES: i32 = 12;
/** draft-irtf-cfrg-xchacha-03 §2.3 extended nonce. */
export const XAEAD_NONCE_BYTES: i32 = 24;
/**
 * RFC 8439 §2.8: at most 2^38 - 64 bytes of plaintext per nonce (block 0 keys
 * Poly1305, blocks 1 .. 2^32 - 1 encrypt). Larger streams get ERR_LENGTH.
 */
export const AEAD_MAX_MESSAGE_BYTES: u64 = 274877906880;

const OFF_CHACHA: usize = 0;
const OFF_POLY: usize = CHACHA_CTX_BYTES;
const OFF_AAD_LEN: usize = OFF_POLY + POLY_CTX_BYTES;
const OFF_CT_LEN: usize = OFF_AAD_LEN + 8;
const OFF_DONE: usize = OFF_CT_LEN + 8;
const OFF_PHASE: usize = OFF_DONE + 8;
const OFF_TAG: usize = OFF_PHASE + 4;

const PHASE_IDLE: i32 = 0;
const PHASE_AAD: i32 = 1;
const PHASE_ENCRYPT: i32 = 2;
const PHASE_AUTH: i32 = 3;
const PHASE_DECRYPT: i32 = 4;

/** True for the nonce sizes the AEAD accepts (12: ChaCha20-Poly1305, 24: XChaCha20-Poly1305). */
// @ts-ignore: decorator
@inline
export function aeadNonceOk(nonceLen: i32): bool {
  return nonceLen == AEAD_NONCE_BYTES || nonceLen == XAEAD_NONCE_BYTES;
}

/** Zeros the whole context (keys, keystream, accumulator); the phase becomes idle. */
export function aeadWipe(ctx: usize): void {
  memory.fill(ctx, 0, AEAD_CTX_BYTES);
}

/**
 * Starts a message: sets the cipher key and nonce (for a 24-byte nonce, the
 * HChaCha20 subkey of key and nonce[0..16] and the nonce 0^4 || nonce[16..24]),
 * keys Poly1305 with the first 32 bytes of keystream block 0 (§2.6) and leaves
 * the stream at block 1. `nonceLen` must satisfy aeadNonceOk.
 */
export function aeadBegin(ctx: usize, key: usize, nonce: usize, nonceLen: i32): void {
  aeadWipe(ctx);
  const cc = ctx + OFF_CHACHA;
  chachaSetKey(cc, key);
  if (nonceLen == XAEAD_NONCE_BYTES) {
    hchacha20Into(key, nonce, cc + CHACHA_KEY_OFFSET);
    chachaSetNonceTail(cc, nonce + 16);
  } else {
    chachaSetNonce(cc, nonce);
  }
  chachaSeek(cc, 0);
  polyInit(ctx + OFF_POLY, chachaNextBlock(cc));
  chachaSeek(cc, 1);
  store<i32>(ctx + OFF_PHASE, PHASE_AAD);
}

/** §2.8: absorbs `len` bytes of additional data. Only before any message data. */
export function aeadAad(ctx: usize, p: usize, len: i32): i32 {
  if (load<i32>(ctx + OFF_PHASE) != PHASE_AAD) return ERR_STATE;
  polyUpdate(ctx + OFF_POLY, p, len);
  store<u64>(ctx + OFF_AAD_LEN, load<u64>(ctx + OFF_AAD_LEN) + <u64>len);
  return OK;
}

/** Moves from the AAD phase to `phase` (padding the AAD, §2.8), or stays in `phase`. */
function enterData(ctx: usize, phase: i32): i32 {
  const now = load<i32>(ctx + OFF_PHASE);
  if (now == phase) return OK;
  if (now != PHASE_AAD) return ERR_STATE;
  polyPad16(ctx + OFF_POLY);
  store<i32>(ctx + OFF_PHASE, phase);
  return OK;
}

/** Adds `len` to the ciphertext length unless that passes AEAD_MAX_MESSAGE_BYTES. */
function countData(ctx: usize, len: i32): bool {
  const total = load<u64>(ctx + OFF_CT_LEN) + <u64>len;
  if (total > AEAD_MAX_MESSAGE_BYTES) return false;
  store<u64>(ctx + OFF_CT_LEN, total);
  return true;
}

/** §2.8 seal: encrypts `len` bytes src -> dst (src == dst fine) and absorbs the ciphertext. */
export function aeadEncrypt(ctx: usize, src: usize, dst: usize, len: i32): i32 {
  const phase = load<i32>(ctx + OFF_PHASE);
  if (phase != PHASE_AAD && phase != PHASE_ENCRYPT) return ERR_STATE;
  if (!countData(ctx, len)) return ERR_LENGTH;
  enterData(ctx, PHASE_ENCRYPT);
  chachaXor(ctx + OFF_CHACHA, src, dst, len);
  polyUpdate(ctx + OFF_POLY, dst, len);
  return OK;
}

/** §2.8: pad16(ciphertext), then le64(aadLen) || le64(ctLen), then the tag into `out`. */
function computeTag(ctx: usize, out: usize): void {
  const poly = ctx + OFF_POLY;
  polyPad16(poly);
  polyLengths(poly, load<u64>(ctx + OFF_AAD_LEN), load<u64>(ctx + OFF_CT_LEN));
  polyFinish(poly, out);
}

/** Writes the 16-byte tag of the sealed message to `out` and wipes the context. */
export function aeadSealFinish(ctx: usize, out: usize): i32 {
  const phase = load<i32>(ctx + OFF_PHASE);
  if (phase != PHASE_AAD && phase != PHASE_ENCRYPT) return ERR_STATE;
  enterData(ctx, PHASE_ENCRYPT);
  computeTag(ctx, ctx + OFF_TAG);
  memory.copy(out, ctx + OFF_TAG, AEAD_TAG_BYTES);
  aeadWipe(ctx);
  return OK;
}

/** open, first pass: absorbs `len` bytes of ciphertext (without the tag). Writes nothing. */
export function aeadAuth(ctx: usize, ct: usize, len: i32): i32 {
  const phase = load<i32>(ctx + OFF_PHASE);
  if (phase != PHASE_AAD && phase != PHASE_AUTH) return ERR_STATE;
  if (!countData(ctx, len)) return ERR_LENGTH;
  enterData(ctx, PHASE_AUTH);
  polyUpdate(ctx + OFF_POLY, ct, len);
  return OK;
}

/**
 * Compares the computed tag with the 16 bytes at `tag` in constant time.
 * Match: rewinds the keystream to block 1 and permits decrypt, of at most the
 * authenticated length. Mismatch: wipes the context and returns ERR_AUTH.
 */
export function aeadVerify(ctx: usize, tag: usize): i32 {
  const phase = load<i32>(ctx + OFF_PHASE);
  if (phase != PHASE_AAD && phase != PHASE_AUTH) return ERR_STATE;
  enterData(ctx, PHASE_AUTH);
  computeTag(ctx, ctx + OFF_TAG);
  if (verifyBytes(ctx + OFF_TAG, tag, AEAD_TAG_BYTES) != 0) {
    aeadWipe(ctx);
    return ERR_AUTH;
  }
  polyWipe(ctx + OFF_POLY);
  memory.fill(ctx + OFF_TAG, 0, AEAD_TAG_BYTES);
  chachaSeek(ctx + OFF_CHACHA, 1);
  store<u64>(ctx + OFF_DONE, 0);
  store<i32>(ctx + OFF_PHASE, PHASE_DECRYPT);
  return OK;
}

/** open, second pass: decrypts `len` bytes src -> dst; the total may not pass the authenticated length. */
export function aeadDecrypt(ctx: usize, src: usize, dst: usize, len: i32): i32 {
  if (load<i32>(ctx + OFF_PHASE) != PHASE_DECRYPT) return ERR_STATE;
  const done = load<u64>(ctx + OFF_DONE) + <u64>len;
  if (done > load<u64>(ctx + OFF_CT_LEN)) return ERR_LENGTH;
  store<u64>(ctx + OFF_DONE, done);
  chachaXor(ctx + OFF_CHACHA, src, dst, len);
  return OK;
}
