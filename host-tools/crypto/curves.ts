// X25519 and Ed25519 over the crypto core (firmware/cores/crypto/abi/curves.ts).
//
// Keys, seeds and signatures are Uint8Arrays of fixed length; a value of the
// wrong type or length throws a TypeError / RangeError before the core is
// called. Messages may have any length: small ones go through the core in one
// call, larger ones are streamed through the I/O buffer in chunks (twice when
// signing, as RFC 8032 §5.1.6 hashes the message twice).
import { CryptoCore, Status, requireBytes } from "./core.js";

export type X25519Api = {
  /** X25519(secret, 9): the 32-byte public key of a 32-byte secret (RFC 7748 §6.1). */
  publicKey(secret: Uint8Array): Uint8Array;
  /** X25519(secret, public): the 32-byte shared secret. Throws Error when it is all zeros (low-order public key). */
  sharedSecret(secret: Uint8Array, publicKey: Uint8Array): Uint8Array;
};

export type Ed25519Api = {
  /** The 32-byte public key of a 32-byte seed (RFC 8032 §5.1.5). */
  publicKey(seed: Uint8Array): Uint8Array;
  /** The 64-byte signature of message under seed (RFC 8032 §5.1.6, deterministic). */
  sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  /**
   * Strict RFC 8032 §5.1.7 verification: false for any signature that does not
   * verify, including a signature that is not 64 bytes long, S >= L, a
   * non-canonical R or a public key that is not a canonical curve point.
   * Throws TypeError for a non-Uint8Array argument and RangeError for a public
   * key that is not 32 bytes.
   */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
};

export type CurvesApi = { x25519: X25519Api; ed25519: Ed25519Api };

export function createCurves(core: CryptoCore): CurvesApi {
  const x25519 = core.fn("x25519");
  const x25519Base = core.fn("x25519_base");
  const edPublicKey = core.fn("ed25519_public_key");
  const edSign = core.fn("ed25519_sign");
  const signBegin = core.fn("ed25519_sign_begin");
  const signAbsorb = core.fn("ed25519_sign_absorb");
  const signCommit = core.fn("ed25519_sign_commit");
  const signAbsorb2 = core.fn("ed25519_sign_absorb2");
  const signFinish = core.fn("ed25519_sign_finish");
  const edVerify = core.fn("ed25519_verify");
  const verifyBegin = core.fn("ed25519_verify_begin");
  const verifyAbsorb = core.fn("ed25519_verify_absorb");
  const verifyFinish = core.fn("ed25519_verify_finish");

  // Layout of the I/O buffer for the one-call forms: 32-byte key or seed at 0,
  // 64-byte signature at 32, message from 96.
  const MSG_AT = 96;
  const oneCallMax = core.bufferLen - MSG_AT;

  /** Streams message through the whole buffer, chunk by chunk, into absorb. */
  function stream(message: Uint8Array, absorb: (ptr: number, len: number) => number, what: string): void {
    const chunk = core.bufferLen;
    for (let off = 0; off < message.length; off += chunk) {
      const part = message.subarray(off, Math.min(off + chunk, message.length));
      core.check(absorb(core.put(part, 0), part.length), what);
    }
  }

  return {
    x25519: {
      publicKey(secret) {
        requireBytes(secret, 32, "X25519 secret key");
        try {
          const s = core.put(secret, 0);
          core.check(x25519Base(core.at(32), s), "x25519 public key");
          return core.get(core.at(32), 32);
        } finally {
          core.u8.fill(0, core.at(0), core.at(64));
        }
      },
      sharedSecret(secret, publicKey) {
        requireBytes(secret, 32, "X25519 secret key");
        requireBytes(publicKey, 32, "X25519 public key");
        try {
          const s = core.put(secret, 0);
          const u = core.put(publicKey, 32);
          const status = x25519(core.at(64), s, u);
          if (status === Status.ERR_INVALID) {
            throw new Error("x25519 shared secret: all-zero result (the public key has small order)");
          }
          core.check(status, "x25519 shared secret");
          return core.get(core.at(64), 32);
        } finally {
          core.u8.fill(0, core.at(0), core.at(96));
        }
      },
    },
    ed25519: {
      publicKey(seed) {
        requireBytes(seed, 32, "Ed25519 seed");
        try {
          const s = core.put(seed, 0);
          core.check(edPublicKey(core.at(32), s), "ed25519 public key");
          return core.get(core.at(32), 32);
        } finally {
          core.u8.fill(0, core.at(0), core.at(32));
        }
      },
      sign(seed, message) {
        requireBytes(seed, 32, "Ed25519 seed");
        requireBytes(message, null, "message");
        try {
          if (message.length <= oneCallMax) {
            const s = core.put(seed, 0);
            const m = core.put(message, MSG_AT);
            core.check(edSign(core.at(32), s, m, message.length), "ed25519 sign");
            return core.get(core.at(32), 64);
          }
          core.check(signBegin(core.put(seed, 0)), "ed25519 sign");
          core.u8.fill(0, core.at(0), core.at(32));
          stream(message, signAbsorb, "ed25519 sign");
          core.check(signCommit(), "ed25519 sign");
          stream(message, signAbsorb2, "ed25519 sign");
          core.check(signFinish(core.at(0)), "ed25519 sign");
          return core.get(core.at(0), 64);
        } finally {
          core.u8.fill(0, core.at(0), core.at(32));
        }
      },
      verify(publicKey, message, signature) {
        requireBytes(publicKey, 32, "Ed25519 public key");
        requireBytes(message, null, "message");
        requireBytes(signature, null, "Ed25519 signature");
        // A signature of the wrong length is simply not a valid signature.
        if (signature.length !== 64) return false;
        let status: number;
        if (message.length <= oneCallMax) {
          const p = core.put(publicKey, 0);
          const g = core.put(signature, 32);
          const m = core.put(message, MSG_AT);
          status = edVerify(p, g, m, message.length);
        } else {
          const p = core.put(publicKey, 0);
          const g = core.put(signature, 32);
          status = verifyBegin(p, g);
          if (status === Status.OK) {
            stream(message, verifyAbsorb, "ed25519 verify");
            status = verifyFinish();
          }
        }
        if (status === Status.OK) return true;
        if (status === Status.ERR_AUTH || status === Status.ERR_INVALID) return false;
        core.check(status, "ed25519 verify");
        return false;
      },
    },
  };
}
