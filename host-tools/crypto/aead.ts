// ChaCha20-Poly1305 (RFC 8439) and XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03)
// over the crypto core, plus the raw ChaCha20 / HChaCha20 / Poly1305 functions.
//
// A message that fits the I/O buffer with its key, nonce and AAD takes one wasm
// call (aead_seal / aead_open). Anything larger is streamed through the buffer:
// seal = begin, aad*, encrypt*, seal_finish; open = begin, aad*, auth* (MAC the
// ciphertext), verify, then decrypt* only after the tag matched.
import { CryptoCore, Status, requireBytes } from "./core.js";

export const AEAD_KEY_BYTES = 32;
export const AEAD_TAG_BYTES = 16;
export const CHACHA20POLY1305_NONCE_BYTES = 12;
export const XCHACHA20POLY1305_NONCE_BYTES = 24;
export const HCHACHA20_NONCE_BYTES = 16;
export const POLY1305_KEY_BYTES = 32;

/** Buffer layout used by this wrapper: key, nonce, then data from DATA_OFF (16-aligned). */
const KEY_OFF = 0;
const NONCE_OFF = 32;
const DATA_OFF = 64;

export type AeadCipher = {
  /** Encrypts and authenticates: returns ciphertext || 16-byte tag. */
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array;
  /** Verifies and decrypts ciphertext || tag; null when the tag (or anything it covers) is wrong. */
  open(key: Uint8Array, nonce: Uint8Array, ciphertextWithTag: Uint8Array, aad?: Uint8Array): Uint8Array | null;
};

export type AeadApi = {
  chacha20poly1305: AeadCipher;
  xchacha20poly1305: AeadCipher;
  /** RFC 8439 §2.4: data XOR keystream(key, nonce12) starting at block `counter` (u32, default 0). */
  chacha20(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter?: number): Uint8Array;
  /** draft-irtf-cfrg-xchacha-03 §2.2: 32-byte subkey from a 32-byte key and a 16-byte nonce. */
  hchacha20(key: Uint8Array, nonce: Uint8Array): Uint8Array;
  /** RFC 8439 §2.5: 16-byte tag of `message` under a 32-byte one-time key (message up to the buffer size minus 48 bytes). */
  poly1305(key: Uint8Array, message: Uint8Array): Uint8Array;
};

const EMPTY = new Uint8Array(0);

export function createAead(core: CryptoCore): AeadApi {
  const sealOnce = core.fn("aead_seal");
  const openOnce = core.fn("aead_open");
  const begin = core.fn("aead_begin");
  const absorbAad = core.fn("aead_aad");
  const encrypt = core.fn("aead_encrypt");
  const sealFinish = core.fn("aead_seal_finish");
  const auth = core.fn("aead_auth");
  const verify = core.fn("aead_verify");
  const decrypt = core.fn("aead_decrypt");
  const end = core.fn("aead_end");
  const chachaXor = core.fn("chacha20_xor");
  const hchacha = core.fn("hchacha20");
  const polyMac = core.fn("poly1305_mac");

  const base = core.bufferPtr;
  const bufLen = core.bufferLen;
  const keyPtr = base + KEY_OFF;
  const noncePtr = base + NONCE_OFF;
  const dataPtr = base + DATA_OFF;
  /** Streaming chunk: what fits after the header, a whole number of 64-byte blocks. */
  const chunk = (bufLen - DATA_OFF) & ~63;

  // The memory has one fixed page (maximum = initial), so one view serves every
  // call; it is re-created only if the buffer was ever detached.
  let mem = core.u8;
  const view = (): Uint8Array => (mem.byteLength === 0 ? (mem = core.u8) : mem);

  function putHeader(m: Uint8Array, key: Uint8Array, nonce: Uint8Array): void {
    m.set(key, keyPtr);
    m.set(nonce, noncePtr);
  }

  /** Feeds `aad` to aead_aad a buffer-full at a time. */
  function streamAad(m: Uint8Array, aad: Uint8Array, what: string): void {
    for (let off = 0; off < aad.length; off += chunk) {
      const n = Math.min(chunk, aad.length - off);
      m.set(aad.subarray(off, off + n), dataPtr);
      core.check(absorbAad(dataPtr, n), what);
    }
  }

  function makeCipher(nonceLen: number, name: string): AeadCipher {
    const sealWhat = `${name}.seal`;
    const openWhat = `${name}.open`;

    function seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array {
      requireBytes(key, AEAD_KEY_BYTES, `${sealWhat} key`);
      requireBytes(nonce, nonceLen, `${sealWhat} nonce`);
      requireBytes(plaintext, null, `${sealWhat} plaintext`);
      const a = aad === undefined ? EMPTY : requireBytes(aad, null, `${sealWhat} aad`);
      const m = view();
      const n = plaintext.length;
      putHeader(m, key, nonce);
      const msgPtr = dataPtr + ((a.length + 15) & ~15);
      if (msgPtr - base + n + AEAD_TAG_BYTES <= bufLen) {
        m.set(a, dataPtr);
        m.set(plaintext, msgPtr);
        const status = sealOnce(keyPtr, noncePtr, nonceLen, dataPtr, a.length, msgPtr, n, msgPtr);
        m.fill(0, keyPtr, keyPtr + AEAD_KEY_BYTES);
        core.check(status, sealWhat);
        return m.slice(msgPtr, msgPtr + n + AEAD_TAG_BYTES);
      }
      try {
        core.check(begin(keyPtr, noncePtr, nonceLen), sealWhat);
        m.fill(0, keyPtr, keyPtr + AEAD_KEY_BYTES);
        streamAad(m, a, sealWhat);
        const out = new Uint8Array(n + AEAD_TAG_BYTES);
        for (let off = 0; off < n; off += chunk) {
          const len = Math.min(chunk, n - off);
          m.set(plaintext.subarray(off, off + len), dataPtr);
          core.check(encrypt(dataPtr, dataPtr, len), sealWhat);
          out.set(m.subarray(dataPtr, dataPtr + len), off);
        }
        core.check(sealFinish(dataPtr), sealWhat);
        out.set(m.subarray(dataPtr, dataPtr + AEAD_TAG_BYTES), n);
        return out;
      } finally {
        m.fill(0, keyPtr, keyPtr + AEAD_KEY_BYTES);
        end();
      }
    }

    function open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array | null {
      requireBytes(key, AEAD_KEY_BYTES, `${openWhat} key`);
      requireBytes(nonce, nonceLen, `${openWhat} nonce`);
      requireBytes(sealed, null, `${openWhat} ciphertext`);
      const a = aad === undefined ? EMPTY : requireBytes(aad, null, `${openWhat} aad`);
      // Shorter than a tag: cannot be a sealed message.
      if (sealed.length < AEAD_TAG_BYTES) return null;
      const m = view();
      const n = sealed.length - AEAD_TAG_BYTES;
      putHeader(m, key, nonce);
      const ctPtr = dataPtr + ((a.length + 15) & ~15);
      if (ctPtr - base + n + AEAD_TAG_BYTES <= bufLen) {
        m.set(a, dataPtr);
        m.set(sealed, ctPtr);
        const status = openOnce(keyPtr, noncePtr, nonceLen, dataPtr, a.length, ctPtr, sealed.length, ctPtr);
        m.fill(0, keyPtr, keyPtr + AEAD_KEY_BYTES);
        if (status === Status.ERR_AUTH) return null;
        core.check(status, openWhat);
        const plaintext = m.slice(ctPtr, ctPtr + n);
        m.fill(0, ctPtr, ctPtr + n);
        return plaintext;
      }
      try {
        core.check(begin(keyPtr, noncePtr, nonceLen), openWhat);
        m.fill(0, keyPtr, keyPtr + AEAD_KEY_BYTES);
        streamAad(m, a, openWhat);
        for (let off = 0; off < n; off += chunk) {
          const len = Math.min(chunk, n - off);
          m.set(sealed.subarray(off, off + len), dataPtr);
          core.check(auth(dataPtr, len), openWhat);
        }
        m.set(sealed.subarray(n), dataPtr);
        const status = verify(dataPtr);
        if (status === Status.ERR_AUTH) return null;
        core.check(status, openWhat);
        const out = new Uint8Array(n);
        for (let off = 0; off < n; off += chunk) {
          const len = Math.min(chunk, n - off);
          m.set(sealed.subarray(off, off + len), dataPtr);
          core.check(decrypt(dataPtr, dataPtr, len), openWhat);
          out.set(m.subarray(dataPtr, dataPtr + len), off);
        }
        m.fill(0, dataPtr, dataPtr + chunk);
        return out;
      } finally {
        m.fill(0, keyPtr, keyPtr + AEAD_KEY_BYTES);
        end();
      }
    }

    return { seal, open };
  }

  function chacha20(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter = 0): Uint8Array {
    requireBytes(key, 32, "chacha20 key");
    requireBytes(nonce, CHACHA20POLY1305_NONCE_BYTES, "chacha20 nonce");
    requireBytes(data, null, "chacha20 data");
    if (!Number.isInteger(counter) || counter < 0 || counter > 0xffffffff) {
      throw new RangeError(`chacha20 counter must be an integer from 0 to 2^32 - 1, got ${counter}`);
    }
    if (counter + Math.ceil(data.length / 64) > 2 ** 32) {
      throw new RangeError("chacha20 data runs past block counter 2^32 - 1");
    }
    const m = view();
    putHeader(m, key, nonce);
    const out = new Uint8Array(data.length);
    try {
      let off = 0;
      do {
        const len = Math.min(chunk, data.length - off);
        m.set(data.subarray(off, off + len), dataPtr);
        core.check(chachaXor(keyPtr, noncePtr, (counter + off / 64) | 0, dataPtr, dataPtr, len), "chacha20");
        out.set(m.subarray(dataPtr, dataPtr + len), off);
        off += len;
      } while (off < data.length);
    } finally {
      m.fill(0, keyPtr, keyPtr + 32);
    }
    return out;
  }

  function hchacha20(key: Uint8Array, nonce: Uint8Array): Uint8Array {
    requireBytes(key, 32, "hchacha20 key");
    requireBytes(nonce, HCHACHA20_NONCE_BYTES, "hchacha20 nonce");
    const m = view();
    putHeader(m, key, nonce);
    const status = hchacha(keyPtr, noncePtr, dataPtr);
    m.fill(0, keyPtr, keyPtr + 32);
    core.check(status, "hchacha20");
    const out = m.slice(dataPtr, dataPtr + 32);
    m.fill(0, dataPtr, dataPtr + 32);
    return out;
  }

  function poly1305(key: Uint8Array, message: Uint8Array): Uint8Array {
    requireBytes(key, POLY1305_KEY_BYTES, "poly1305 key");
    requireBytes(message, null, "poly1305 message");
    const tagPtr = noncePtr; // the 16-byte tag goes where a nonce would
    if (DATA_OFF + message.length > bufLen) {
      throw new RangeError(`poly1305 message of ${message.length} bytes exceeds ${bufLen - DATA_OFF} bytes`);
    }
    const m = view();
    m.set(key, keyPtr);
    m.set(message, dataPtr);
    const status = polyMac(keyPtr, dataPtr, message.length, tagPtr);
    m.fill(0, keyPtr, keyPtr + 32);
    core.check(status, "poly1305");
    return m.slice(tagPtr, tagPtr + 16);
  }

  return {
    chacha20poly1305: makeCipher(CHACHA20POLY1305_NONCE_BYTES, "chacha20poly1305"),
    xchacha20poly1305: makeCipher(XCHACHA20POLY1305_NONCE_BYTES, "xchacha20poly1305"),
    chacha20,
    hchacha20,
    poly1305,
  };
}
