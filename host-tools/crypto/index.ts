// outcaxt/crypto: the crypto core (crypto.wasm) behind a Uint8Array API.
//
//   import { loadCrypto } from "outcaxt/crypto";
//   const c = await loadCrypto();
//   const sealed = c.chacha20poly1305.seal(key, nonce, plaintext, aad);
//
// Each loadCrypto() call gets its own core instance (its own 64 KiB of memory).
import { instantiateCryptoCore } from "./core.js";
import { createAead } from "./aead.js";
import { createCurves } from "./curves.js";
import { createHash } from "./hash.js";

export type { HashApi } from "./hash.js";
export type { AeadApi, AeadCipher } from "./aead.js";
export { CryptoCore, Status } from "./core.js";

export type LoadOptions = {
  /** The core's bytes, when they do not come from build/cores/crypto.wasm. */
  wasm?: Uint8Array;
};

export async function loadCrypto(options: LoadOptions = {}) {
  const core = await instantiateCryptoCore(options.wasm);
  return {
    core,
    ...createHash(core),
    ...createAead(core),
    ...createCurves(core),
  };
}

export type Crypto = Awaited<ReturnType<typeof loadCrypto>>;
