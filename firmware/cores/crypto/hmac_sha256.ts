// HMAC-SHA256 (RFC 2104 §2, test vectors in RFC 4231).
// Constant time in the key and message bytes; the work depends only on lengths.
//
// Context layout (HMAC_SHA256_CTX_BYTES): inner SHA-256 context, then the
// 64-byte key block K0 kept for the outer hash (wiped by hmacSha256Final).
import { SHA256_BLOCK_BYTES, SHA256_CTX_BYTES, SHA256_DIGEST_BYTES, sha256Final, sha256Init, sha256Update } from "./sha256";
import { wipe } from "./ct";

export const HMAC_SHA256_CTX_BYTES: i32 = SHA256_CTX_BYTES + SHA256_BLOCK_BYTES;
const IPAD: u8 = 0x36;
const OPAD: u8 = 0x5c;

/** Scratch hash context for keys longer than one block and for the outer hash. */
const scratch: usize = memory.data(SHA256_CTX_BYTES, 8);
const innerDigest: usize = memory.data(SHA256_DIGEST_BYTES, 8);

/** Starts HMAC with a key of any length (§2: keys longer than B bytes are hashed first). */
export function hmacSha256Init(ctx: usize, key: usize, keyLen: i32): void {
  const k0 = ctx + SHA256_CTX_BYTES;
  memory.fill(k0, 0, SHA256_BLOCK_BYTES);
  if (keyLen > SHA256_BLOCK_BYTES) {
    sha256Init(scratch);
    sha256Update(scratch, key, keyLen);
    sha256Final(scratch, k0);
  } else {
    memory.copy(k0, key, keyLen);
  }
  for (let i = 0; i < SHA256_BLOCK_BYTES; i++) store<u8>(k0 + i, load<u8>(k0 + i) ^ IPAD);
  sha256Init(ctx);
  sha256Update(ctx, k0, SHA256_BLOCK_BYTES);
}

/** Absorbs message bytes. */
export function hmacSha256Update(ctx: usize, data: usize, len: i32): void {
  sha256Update(ctx, data, len);
}

/** Writes the 32-byte tag H((K0 ^ opad) || H((K0 ^ ipad) || text)) and wipes the key block. */
export function hmacSha256Final(ctx: usize, out: usize): void {
  const k0 = ctx + SHA256_CTX_BYTES;
  sha256Final(ctx, innerDigest);
  for (let i = 0; i < SHA256_BLOCK_BYTES; i++) store<u8>(k0 + i, load<u8>(k0 + i) ^ IPAD ^ OPAD);
  sha256Init(scratch);
  sha256Update(scratch, k0, SHA256_BLOCK_BYTES);
  sha256Update(scratch, innerDigest, SHA256_DIGEST_BYTES);
  sha256Final(scratch, out);
  wipe(k0, SHA256_BLOCK_BYTES);
  wipe(innerDigest, SHA256_DIGEST_BYTES);
}
