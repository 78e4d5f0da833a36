// ABI: X25519 (RFC 7748) and Ed25519 (RFC 8032 §5.1, strict verification).
// Every pointer must lie inside the I/O buffer with its full length
// (ERR_RANGE otherwise, checked before anything is read or written).
// Outputs may overlap inputs: every input is read before an output is written.
import { ERR_INVALID, ERR_RANGE, OK, inBuffer } from "../memory";
import { x25519Scalarmult, x25519ScalarmultBase } from "../x25519";
import {
  ed25519PublicKey, signAbsorb, signAbsorb2, signBegin, signCommit, signFinish,
  verifyAbsorb, verifyBegin, verifyFinish,
} from "../ed25519";

/**
 * X25519(scalar, u) into 32 bytes at out (RFC 7748 §5): clamps the scalar,
 * masks bit 255 of u, accepts a non-canonical u. ERR_INVALID when the result
 * is all zeros (low-order u, RFC 7748 §6.1); out then holds 32 zero bytes.
 */
export function x25519(out: i32, scalar: i32, u: i32): i32 {
  if (!inBuffer(out, 32) || !inBuffer(scalar, 32) || !inBuffer(u, 32)) return ERR_RANGE;
  return x25519Scalarmult(out, scalar, u) ? ERR_INVALID : OK;
}

/** X25519(scalar, 9), the public key of a secret scalar, into 32 bytes at out. */
export function x25519_base(out: i32, scalar: i32): i32 {
  if (!inBuffer(out, 32) || !inBuffer(scalar, 32)) return ERR_RANGE;
  return x25519ScalarmultBase(out, scalar) ? ERR_INVALID : OK;
}

/** The 32-byte Ed25519 public key of a 32-byte seed (RFC 8032 §5.1.5). */
export function ed25519_public_key(out: i32, seed: i32): i32 {
  if (!inBuffer(out, 32) || !inBuffer(seed, 32)) return ERR_RANGE;
  ed25519PublicKey(out, seed);
  return OK;
}

/**
 * One call: the 64-byte signature of the len-byte message at msg under the
 * 32-byte seed. Ends any streaming signature in progress.
 */
export function ed25519_sign(sig: i32, seed: i32, msg: i32, len: i32): i32 {
  if (!inBuffer(sig, 64) || !inBuffer(seed, 32) || !inBuffer(msg, len)) return ERR_RANGE;
  signBegin(seed);
  signAbsorb(msg, len);
  signCommit();
  signAbsorb2(msg, len);
  return signFinish(sig);
}

/** Streaming signature, step 1: expands the 32-byte seed and opens pass 1. */
export function ed25519_sign_begin(seed: i32): i32 {
  if (!inBuffer(seed, 32)) return ERR_RANGE;
  signBegin(seed);
  return OK;
}

/** Pass 1: absorbs len bytes of the message. ERR_STATE outside pass 1. */
export function ed25519_sign_absorb(msg: i32, len: i32): i32 {
  if (!inBuffer(msg, len)) return ERR_RANGE;
  return signAbsorb(msg, len);
}

/** Ends pass 1 (computes the nonce and R) and opens pass 2. ERR_STATE outside pass 1. */
export function ed25519_sign_commit(): i32 {
  return signCommit();
}

/** Pass 2: absorbs the same message again. ERR_STATE outside pass 2. */
export function ed25519_sign_absorb2(msg: i32, len: i32): i32 {
  if (!inBuffer(msg, len)) return ERR_RANGE;
  return signAbsorb2(msg, len);
}

/**
 * Writes the 64-byte signature R || S to sig and wipes the secrets.
 * ERR_INVALID (nothing written, secrets wiped) when pass 2 saw a different
 * message than pass 1; ERR_STATE outside pass 2.
 */
export function ed25519_sign_finish(sig: i32): i32 {
  if (!inBuffer(sig, 64)) return ERR_RANGE;
  return signFinish(sig);
}

/**
 * One call: OK when the 64-byte sig is a valid signature of the len-byte
 * message at msg under the 32-byte public key pub, ERR_AUTH when it is not,
 * ERR_INVALID when S >= L, R is non-canonical or pub does not decode. Ends
 * any streaming verification in progress.
 */
export function ed25519_verify(pub: i32, sig: i32, msg: i32, len: i32): i32 {
  if (!inBuffer(pub, 32) || !inBuffer(sig, 64) || !inBuffer(msg, len)) return ERR_RANGE;
  const status = verifyBegin(pub, sig);
  if (status != OK) return status;
  verifyAbsorb(msg, len);
  return verifyFinish();
}

/** Streaming verification, step 1 (decodes pub, checks S < L). ERR_INVALID as ed25519_verify. */
export function ed25519_verify_begin(pub: i32, sig: i32): i32 {
  if (!inBuffer(pub, 32) || !inBuffer(sig, 64)) return ERR_RANGE;
  return verifyBegin(pub, sig);
}

/** Absorbs len bytes of the message. ERR_STATE without a successful ed25519_verify_begin. */
export function ed25519_verify_absorb(msg: i32, len: i32): i32 {
  if (!inBuffer(msg, len)) return ERR_RANGE;
  return verifyAbsorb(msg, len);
}

/** OK (valid) or ERR_AUTH (invalid); closes the verification. ERR_STATE without begin. */
export function ed25519_verify_finish(): i32 {
  return verifyFinish();
}
