// SHA-256, SHA-512, HMAC-SHA256 and HKDF-SHA256 over the crypto core.
// Inputs of any length are streamed through the core's I/O buffer in chunks.
import { CryptoCore, requireBytes } from "./core.js";

const SHA256_BYTES = 32;
const SHA512_BYTES = 64;
const SHA256_BLOCK_BYTES = 64;
/** RFC 5869 §2.3: at most 255 blocks of output. */
export const HKDF_SHA256_MAX_OUTPUT = 255 * SHA256_BYTES;

/** Streams `data` into a raw `update(ptr, len)` export, a buffer-full at a time. */
export function streamInto(core: CryptoCore, update: (ptr: number, len: number) => number, data: Uint8Array, what: string): void {
  const chunk = core.bufferLen;
  for (let off = 0; off < data.length; off += chunk) {
    const part = data.subarray(off, Math.min(off + chunk, data.length));
    core.check(update(core.put(part, 0), part.length), what);
  }
}

export type HashApi = {
  sha256(data: Uint8Array): Uint8Array;
  sha512(data: Uint8Array): Uint8Array;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
};

export function createHash(core: CryptoCore): HashApi {
  const sha256Once = core.fn("sha256");
  const sha256Init = core.fn("sha256_init");
  const sha256Update = core.fn("sha256_update");
  const sha256Final = core.fn("sha256_final");
  const sha512Once = core.fn("sha512");
  const sha512Init = core.fn("sha512_init");
  const sha512Update = core.fn("sha512_update");
  const sha512Final = core.fn("sha512_final");
  const hmacInit = core.fn("hmac_sha256_init");
  const hmacUpdate = core.fn("hmac_sha256_update");
  const hmacFinal = core.fn("hmac_sha256_final");
  const hkdfExpand = core.fn("hkdf_sha256_expand");

  function digest(data: Uint8Array, size: number, once: typeof sha256Once, init: typeof sha256Once,
    update: typeof sha256Once, final: typeof sha256Once, name: string): Uint8Array {
    requireBytes(data, null, `${name} input`);
    if (data.length + size <= core.bufferLen) {
      const out = core.at(data.length);
      core.check(once(core.put(data, 0), data.length, out), name);
      return core.get(out, size);
    }
    core.check(init(), name);
    streamInto(core, update, data, name);
    core.check(final(core.at(0)), name);
    return core.get(core.at(0), size);
  }

  const sha256 = (data: Uint8Array) =>
    digest(data, SHA256_BYTES, sha256Once, sha256Init, sha256Update, sha256Final, "sha256");
  const sha512 = (data: Uint8Array) =>
    digest(data, SHA512_BYTES, sha512Once, sha512Init, sha512Update, sha512Final, "sha512");

  function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
    requireBytes(key, null, "hmacSha256 key");
    requireBytes(data, null, "hmacSha256 data");
    // RFC 2104 §2: a key longer than the block is replaced by its hash; do it here
    // when the key is too large for the core buffer (the core does it otherwise).
    const k = key.length > core.bufferLen ? sha256(key) : key;
    core.check(hmacInit(core.put(k, 0), k.length), "hmacSha256");
    streamInto(core, hmacUpdate, data, "hmacSha256");
    core.check(hmacFinal(core.at(0)), "hmacSha256");
    return core.get(core.at(0), SHA256_BYTES);
  }

  function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    requireBytes(ikm, null, "hkdfSha256 ikm");
    requireBytes(salt, null, "hkdfSha256 salt");
    requireBytes(info, null, "hkdfSha256 info");
    if (!Number.isInteger(length) || length < 0 || length > HKDF_SHA256_MAX_OUTPUT) {
      throw new RangeError(`hkdfSha256 length must be an integer from 0 to ${HKDF_SHA256_MAX_OUTPUT}, got ${length}`);
    }
    if (SHA256_BYTES + info.length + length > core.bufferLen) {
      throw new RangeError(`hkdfSha256 info of ${info.length} bytes with ${length} bytes of output exceeds the ${core.bufferLen}-byte core buffer`);
    }
    // §2.2 Extract: PRK = HMAC-Hash(salt, IKM); an empty salt is HashLen zero bytes,
    // which HMAC pads to the same key block as an empty key.
    const prk = hmacSha256(salt, ikm);
    const prkPtr = core.put(prk, 0);
    const infoPtr = core.put(info, SHA256_BYTES);
    const outPtr = core.at(SHA256_BYTES + info.length);
    core.check(hkdfExpand(prkPtr, SHA256_BYTES, infoPtr, info.length, outPtr, length), "hkdfSha256");
    return core.get(outPtr, length);
  }

  return { sha256, sha512, hmacSha256, hkdfSha256 };
}
