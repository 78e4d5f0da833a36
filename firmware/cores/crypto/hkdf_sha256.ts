// HKDF-SHA256 (RFC 5869 §2.3 Expand; §2.2 Extract is HMAC(salt, IKM) and is
// done by the caller with the streaming HMAC so IKM may be any length).
// Constant time in the key bytes; the work depends only on lengths.
import { HMAC_SHA256_CTX_BYTES, hmacSha256Final, hmacSha256Init, hmacSha256Update } from "./hmac_sha256";
import { SHA256_DIGEST_BYTES } from "./sha256";
import { wipe } from "./ct";

/** §2.3: L <= 255 * HashLen. */
export const HKDF_SHA256_MAX_OUTPUT: i32 = 255 * SHA256_DIGEST_BYTES;

const ctx: usize = memory.data(HMAC_SHA256_CTX_BYTES, 8);
const t: usize = memory.data(SHA256_DIGEST_BYTES + 1, 8);

/**
 * §2.3: OKM = first L bytes of T(1) || T(2) || ..., T(i) = HMAC(PRK, T(i-1) || info || i).
 * `outLen` must be 0..HKDF_SHA256_MAX_OUTPUT (checked by the caller).
 */
export function hkdfSha256Expand(prk: usize, prkLen: i32, info: usize, infoLen: i32, out: usize, outLen: i32): void {
  let done = 0;
  for (let i = 1; done < outLen; i++) {
    hmacSha256Init(ctx, prk, prkLen);
    if (i > 1) hmacSha256Update(ctx, t, SHA256_DIGEST_BYTES);
    hmacSha256Update(ctx, info, infoLen);
    store<u8>(t + SHA256_DIGEST_BYTES, <u8>i);
    hmacSha256Update(ctx, t + SHA256_DIGEST_BYTES, 1);
    hmacSha256Final(ctx, t);
    const take = min(SHA256_DIGEST_BYTES, outLen - done);
    memory.copy(out + done, t, take);
    done += take;
  }
  wipe(t, SHA256_DIGEST_BYTES);
}
