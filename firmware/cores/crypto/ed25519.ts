// Ed25519 (RFC 8032 §5.1): key generation, signing and strict verification,
// with the message streamed so that it can be larger than the I/O buffer.
//
// Signing (§5.1.6) needs the message twice: r = H(prefix || M) comes before
// k = H(R || A || M). The host therefore feeds M in two passes:
//   signBegin(seed)        expand the seed (§5.1.5), start H(prefix || ...)
//   signAbsorb(M chunk)*   pass 1
//   signCommit()           r = H(prefix || M) mod L, A = [s]B and R = [r]B
//                          (encoded with one shared inversion), start H(R || A || ...)
//   signAbsorb2(M chunk)*  pass 2
//   signFinish(sig)        k = H(R || A || M) mod L, S = (r + k s) mod L
// Two different messages in the two passes would give two signatures sharing
// r with different k, which reveals the secret scalar. Each pass therefore
// also hashes M alone, and signFinish refuses (ERR_INVALID, nothing written)
// when the two digests differ.
//
// Verification (§5.1.7), strict: S must be below L, A must decode (canonical
// y < p, on the curve, no "negative zero" x), R must have a canonical y; the
// cofactorless equation [S]B = R + [k]A is checked by encoding [S]B - [k]A
// and comparing the 32 bytes with R. Equal encodings mean equal points, so an
// R that is not on the curve can never match and needs no separate decoding.
//
// Constant time: the secret scalar s, the prefix and the nonce r only go
// through SHA-512, scReduce64, scMulAdd and geScalarMultBase, all constant
// time. Verification handles public data only and is variable time. Secrets
// are wiped when a signature is finished (or refused); a signing session left
// unfinished keeps its state until the next signBegin.
import { SHA512_CTX_BYTES, sha512Final, sha512Init, sha512Update } from "./sha512";
import {
  POINT_BYTES, geDecode, geDoubleScalarMultVartime, geEncode, geEncodePair, geNeg, geScalarMultBase,
  geWipeScratch, isNonCanonicalFieldBytes,
} from "./edwards25519";
import { scIsCanonical, scMulAdd, scReduce64 } from "./scalar25519";
import { verifyBytes, wipe } from "./ct";
import { ERR_AUTH, ERR_INVALID, ERR_STATE, OK } from "./memory";

// Seed expansion layout, shared by the signing block and the key block:
// 0 H(seed) or another digest (64) | 64 secret scalar s (32) | 96 prefix (32) | 128 point.
const EXP_DIGEST: usize = 0;
const EXP_SECRET: usize = 64;
const EXP_PREFIX: usize = 96;
const EXP_POINT: usize = 128;
const EXP_BYTES: i32 = 128 + POINT_BYTES;

// Signing state: one block wiped at once.
const SIGN_BYTES: i32 = EXP_BYTES + 32 + 32 + 32 + 64 + POINT_BYTES;
const SIGN: usize = memory.data(SIGN_BYTES, 8);
const DIGEST: usize = SIGN + EXP_DIGEST;     // 64: SHA-512 output
const SECRET: usize = SIGN + EXP_SECRET;     // 32: clamped secret scalar s
const PREFIX: usize = SIGN + EXP_PREFIX;     // 32: second half of H(seed)
const SIGN_POINT: usize = SIGN + EXP_POINT;  // extended point [s]B
const PUBLIC: usize = SIGN + EXP_BYTES;      // 32: A = [s]B, encoded
const NONCE: usize = PUBLIC + 32;            // 32: r
const R_BYTES: usize = PUBLIC + 64;          // 32: R = [r]B, encoded
const MSG_DIGEST: usize = PUBLIC + 96;       // 64: H(M) of pass 1
const NONCE_POINT: usize = PUBLIC + 160;     // extended point [r]B
const SIGN_CTX: usize = memory.data(SHA512_CTX_BYTES, 8);     // H(prefix || M), then H(R || A || M)
const SIGN_MSG_CTX: usize = memory.data(SHA512_CTX_BYTES, 8); // H(M) in each pass
// ed25519PublicKey works in its own block so that it never disturbs a signature in progress.
const KEY: usize = memory.data(EXP_BYTES, 8);
const KEY_CTX: usize = memory.data(SHA512_CTX_BYTES, 8);      // H(seed)

const SIGN_IDLE: i32 = 0;
const SIGN_PASS1: i32 = 1;
const SIGN_PASS2: i32 = 2;
let signPhase: i32 = SIGN_IDLE;

// Verification state.
const VERIFY_BYTES: i32 = 32 + 32 + 32 + 64 + 32 + 2 * POINT_BYTES;
const VERIFY: usize = memory.data(VERIFY_BYTES, 8);
const V_PUBLIC: usize = VERIFY;              // 32: A as given
const V_R: usize = VERIFY + 32;              // 32: R as given
const V_S: usize = VERIFY + 64;              // 32: S as given
const V_DIGEST: usize = VERIFY + 96;         // 64: H(R || A || M)
const V_K: usize = VERIFY + 160;             // 32: k
const V_A: usize = VERIFY + 192;             // point: -A
const V_CHECK: usize = VERIFY + 192 + POINT_BYTES; // point: [S]B - [k]A
const VERIFY_CTX: usize = memory.data(SHA512_CTX_BYTES, 8);
let verifyOpen: bool = false;

/** Bytes of static memory this file reserves. */
export const ED25519_STATIC_BYTES: i32 = SIGN_BYTES + EXP_BYTES + VERIFY_BYTES + 4 * SHA512_CTX_BYTES;

/**
 * §5.1.5 steps 1-3: H(seed) = (h_0..h_31 | h_32..h_63); the secret scalar s is
 * the first half clamped (bits 0-2 and 255 cleared, bit 254 set), the prefix
 * is the second half. Fills the digest, secret and prefix of the expansion
 * block at `block` (layout above).
 */
function expandSeed(block: usize, seed: usize): void {
  sha512Init(KEY_CTX);
  sha512Update(KEY_CTX, seed, 32);
  sha512Final(KEY_CTX, block + EXP_DIGEST);
  wipe(KEY_CTX, SHA512_CTX_BYTES);
  const secret = block + EXP_SECRET;
  memory.copy(secret, block + EXP_DIGEST, 32);
  store<u8>(secret, load<u8>(secret) & 248);
  store<u8>(secret + 31, (load<u8>(secret + 31) & 127) | 64);
  memory.copy(block + EXP_PREFIX, block + EXP_DIGEST + 32, 32);
}

/** out = the 32-byte public key A = [s]B of a 32-byte seed (§5.1.5). out may alias seed. */
export function ed25519PublicKey(out: usize, seed: usize): void {
  expandSeed(KEY, seed);
  geScalarMultBase(KEY + EXP_POINT, KEY + EXP_SECRET);
  geEncode(out, KEY + EXP_POINT);
  wipe(KEY, EXP_BYTES);
  geWipeScratch();
}

/** Starts a signature with a 32-byte seed (any earlier unfinished one is dropped). */
export function signBegin(seed: usize): void {
  expandSeed(SIGN, seed);
  sha512Init(SIGN_CTX);
  sha512Update(SIGN_CTX, PREFIX, 32);
  sha512Init(SIGN_MSG_CTX);
  signPhase = SIGN_PASS1;
}

/** Pass 1: absorbs len bytes of the message. ERR_STATE outside pass 1. */
export function signAbsorb(msg: usize, len: i32): i32 {
  if (signPhase != SIGN_PASS1) return ERR_STATE;
  sha512Update(SIGN_CTX, msg, len);
  sha512Update(SIGN_MSG_CTX, msg, len);
  return OK;
}

/** Ends pass 1: r = H(prefix || M) mod L, A = [s]B, R = [r]B; starts H(R || A || M). */
export function signCommit(): i32 {
  if (signPhase != SIGN_PASS1) return ERR_STATE;
  sha512Final(SIGN_CTX, DIGEST);
  scReduce64(NONCE, DIGEST);
  geScalarMultBase(SIGN_POINT, SECRET);
  geScalarMultBase(NONCE_POINT, NONCE);
  geEncodePair(PUBLIC, SIGN_POINT, R_BYTES, NONCE_POINT);
  sha512Final(SIGN_MSG_CTX, MSG_DIGEST);
  sha512Init(SIGN_CTX);
  sha512Update(SIGN_CTX, R_BYTES, 32);
  sha512Update(SIGN_CTX, PUBLIC, 32);
  sha512Init(SIGN_MSG_CTX);
  geWipeScratch();
  signPhase = SIGN_PASS2;
  return OK;
}

/** Pass 2: absorbs len bytes of the same message again. ERR_STATE outside pass 2. */
export function signAbsorb2(msg: usize, len: i32): i32 {
  if (signPhase != SIGN_PASS2) return ERR_STATE;
  sha512Update(SIGN_CTX, msg, len);
  sha512Update(SIGN_MSG_CTX, msg, len);
  return OK;
}

/**
 * Ends pass 2 and writes the 64-byte signature R || S to sig. ERR_INVALID
 * (nothing written) when pass 2 saw a different message than pass 1.
 * Wipes every secret either way.
 */
export function signFinish(sig: usize): i32 {
  if (signPhase != SIGN_PASS2) return ERR_STATE;
  signPhase = SIGN_IDLE;
  sha512Final(SIGN_MSG_CTX, DIGEST);
  let status = OK;
  if (verifyBytes(DIGEST, MSG_DIGEST, 64) != 0) {
    status = ERR_INVALID;
  } else {
    sha512Final(SIGN_CTX, DIGEST);
    scReduce64(DIGEST, DIGEST);                // k (first 32 bytes)
    memory.copy(sig, R_BYTES, 32);
    scMulAdd(sig + 32, DIGEST, SECRET, NONCE); // S = (k s + r) mod L
  }
  wipe(SIGN, SIGN_BYTES);
  wipe(SIGN_CTX, SHA512_CTX_BYTES);
  wipe(SIGN_MSG_CTX, SHA512_CTX_BYTES);
  geWipeScratch();
  return status;
}

/**
 * Starts a verification of the 64-byte signature sig = R || S under the
 * 32-byte public key pub. ERR_INVALID when S >= L, R's y is not canonical or
 * A does not decode (then no verification is open).
 */
export function verifyBegin(pub: usize, sig: usize): i32 {
  verifyOpen = false;
  memory.copy(V_PUBLIC, pub, 32);
  memory.copy(V_R, sig, 32);
  memory.copy(V_S, sig + 32, 32);
  if (!scIsCanonical(V_S)) return ERR_INVALID;
  if (isNonCanonicalFieldBytes(V_R)) return ERR_INVALID;
  if (!geDecode(V_A, V_PUBLIC)) return ERR_INVALID;
  geNeg(V_A, V_A);
  sha512Init(VERIFY_CTX);
  sha512Update(VERIFY_CTX, V_R, 32);
  sha512Update(VERIFY_CTX, V_PUBLIC, 32);
  verifyOpen = true;
  return OK;
}

/** Absorbs len bytes of the message. ERR_STATE without verifyBegin. */
export function verifyAbsorb(msg: usize, len: i32): i32 {
  if (!verifyOpen) return ERR_STATE;
  sha512Update(VERIFY_CTX, msg, len);
  return OK;
}

/** OK when the signature is valid, ERR_AUTH when not; closes the verification. */
export function verifyFinish(): i32 {
  if (!verifyOpen) return ERR_STATE;
  verifyOpen = false;
  sha512Final(VERIFY_CTX, V_DIGEST);
  scReduce64(V_K, V_DIGEST);
  // [S]B + [k](-A), encoded, must be R byte for byte.
  geDoubleScalarMultVartime(V_CHECK, V_K, V_A, V_S);
  geEncode(V_DIGEST, V_CHECK);
  return verifyBytes(V_DIGEST, V_R, 32) == 0 ? OK : ERR_AUTH;
}
