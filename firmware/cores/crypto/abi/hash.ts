// ABI: SHA-256, SHA-512, HMAC-SHA256 and HKDF-SHA256.
// Each streaming hash has one static context: init, update any number of times, final.
// All pointers must lie inside the I/O buffer (ERR_RANGE otherwise).
import { ERR_LENGTH, ERR_RANGE, ERR_STATE, OK, inBuffer } from "../memory";
import { SHA256_CTX_BYTES, SHA256_DIGEST_BYTES, sha256Final, sha256Init, sha256Update } from "../sha256";
import { SHA512_CTX_BYTES, sha512Final, sha512Init, sha512Update } from "../sha512";
import { HMAC_SHA256_CTX_BYTES, hmacSha256Final, hmacSha256Init, hmacSha256Update } from "../hmac_sha256";
import { HKDF_SHA256_MAX_OUTPUT, hkdfSha256Expand } from "../hkdf_sha256";

const SHA512_DIGEST_BYTES: i32 = 64;

const sha256Ctx: usize = memory.data(SHA256_CTX_BYTES, 8);
const sha512Ctx: usize = memory.data(SHA512_CTX_BYTES, 8);
const hmacCtx: usize = memory.data(HMAC_SHA256_CTX_BYTES, 8);
let sha256Open = false;
let sha512Open = false;
let hmacOpen = false;

/** Starts a SHA-256 hash in the core's SHA-256 context. */
export function sha256_init(): i32 {
  sha256Init(sha256Ctx);
  sha256Open = true;
  return OK;
}

/** Absorbs len bytes at ptr. ERR_STATE without sha256_init. */
export function sha256_update(ptr: i32, len: i32): i32 {
  if (!sha256Open) return ERR_STATE;
  if (!inBuffer(ptr, len)) return ERR_RANGE;
  sha256Update(sha256Ctx, ptr, len);
  return OK;
}

/** Writes the 32-byte digest to out and closes the context. */
export function sha256_final(out: i32): i32 {
  if (!sha256Open) return ERR_STATE;
  if (!inBuffer(out, SHA256_DIGEST_BYTES)) return ERR_RANGE;
  sha256Final(sha256Ctx, out);
  sha256Open = false;
  return OK;
}

/** One call: SHA-256 of len bytes at ptr into 32 bytes at out. */
export function sha256(ptr: i32, len: i32, out: i32): i32 {
  if (!inBuffer(ptr, len) || !inBuffer(out, SHA256_DIGEST_BYTES)) return ERR_RANGE;
  sha256Init(sha256Ctx);
  sha256Update(sha256Ctx, ptr, len);
  sha256Final(sha256Ctx, out);
  sha256Open = false;
  return OK;
}

/** Starts a SHA-512 hash in the core's SHA-512 context. */
export function sha512_init(): i32 {
  sha512Init(sha512Ctx);
  sha512Open = true;
  return OK;
}

/** Absorbs len bytes at ptr. ERR_STATE without sha512_init. */
export function sha512_update(ptr: i32, len: i32): i32 {
  if (!sha512Open) return ERR_STATE;
  if (!inBuffer(ptr, len)) return ERR_RANGE;
  sha512Update(sha512Ctx, ptr, len);
  return OK;
}

/** Writes the 64-byte digest to out and closes the context. */
export function sha512_final(out: i32): i32 {
  if (!sha512Open) return ERR_STATE;
  if (!inBuffer(out, SHA512_DIGEST_BYTES)) return ERR_RANGE;
  sha512Final(sha512Ctx, out);
  sha512Open = false;
  return OK;
}

/** One call: SHA-512 of len bytes at ptr into 64 bytes at out. */
export function sha512(ptr: i32, len: i32, out: i32): i32 {
  if (!inBuffer(ptr, len) || !inBuffer(out, SHA512_DIGEST_BYTES)) return ERR_RANGE;
  sha512Init(sha512Ctx);
  sha512Update(sha512Ctx, ptr, len);
  sha512Final(sha512Ctx, out);
  sha512Open = false;
  return OK;
}

/** Starts HMAC-SHA256 with a key of keyLen bytes (any length that fits the buffer). */
export function hmac_sha256_init(key: i32, keyLen: i32): i32 {
  if (!inBuffer(key, keyLen)) return ERR_RANGE;
  hmacSha256Init(hmacCtx, key, keyLen);
  hmacOpen = true;
  return OK;
}

/** Absorbs message bytes. ERR_STATE without hmac_sha256_init. */
export function hmac_sha256_update(ptr: i32, len: i32): i32 {
  if (!hmacOpen) return ERR_STATE;
  if (!inBuffer(ptr, len)) return ERR_RANGE;
  hmacSha256Update(hmacCtx, ptr, len);
  return OK;
}

/** Writes the 32-byte tag to out, wipes the key and closes the context. */
export function hmac_sha256_final(out: i32): i32 {
  if (!hmacOpen) return ERR_STATE;
  if (!inBuffer(out, SHA256_DIGEST_BYTES)) return ERR_RANGE;
  hmacSha256Final(hmacCtx, out);
  hmacOpen = false;
  return OK;
}

/**
 * RFC 5869 §2.3 HKDF-Expand: outLen bytes (0..8160) from prk and info into out.
 * out must not overlap prk or info. ERR_LENGTH for outLen > 255 * 32.
 * (Extract, §2.2, is hmac_sha256 with the salt as key and IKM as message.)
 */
export function hkdf_sha256_expand(prk: i32, prkLen: i32, info: i32, infoLen: i32, out: i32, outLen: i32): i32 {
  if (outLen < 0 || outLen > HKDF_SHA256_MAX_OUTPUT) return ERR_LENGTH;
  if (!inBuffer(prk, prkLen) || !inBuffer(info, infoLen) || !inBuffer(out, outLen)) return ERR_RANGE;
  hkdfSha256Expand(prk, prkLen, info, infoLen, out, outLen);
  return OK;
}
