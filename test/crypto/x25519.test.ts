// X25519 (RFC 7748): spec vectors, Wycheproof, node:crypto, raw ABI edge cases.
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { CryptoCore, Status, instantiateCryptoCore } from "../../host-tools/crypto/core.js";
import { createCurves, type CurvesApi } from "../../host-tools/crypto/curves.js";
import { hex, loadSuite, toHex } from "../helpers/wycheproof.js";

/** Random bytes as a plain Uint8Array (a Buffer's slice() would share memory). */
const random = (n: number) => new Uint8Array(randomBytes(n));

let core: CryptoCore;
let curves: CurvesApi;
beforeAll(async () => {
  core = await instantiateCryptoCore();
  curves = createCurves(core);
});

// node:crypto takes raw X25519 keys wrapped in PKCS#8 / SPKI DER.
const nodePrivate = (k: Uint8Array) => createPrivateKey({
  key: Buffer.concat([hex("302e020100300506032b656e04220420"), k]), format: "der", type: "pkcs8",
});
const nodePublic = (u: Uint8Array) => createPublicKey({
  key: Buffer.concat([hex("302a300506032b656e032100"), u]), format: "der", type: "spki",
});
const nodeRawPublic = (k: Uint8Array) =>
  new Uint8Array(createPublicKey(nodePrivate(k)).export({ format: "der", type: "spki" }).subarray(12));

describe("X25519 (RFC 7748 §5.2, §6.1)", () => {
  it("computes the two §5.2 test vectors", () => {
    expect(toHex(curves.x25519.sharedSecret(
      hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
      hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
    ))).toBe("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
    expect(toHex(curves.x25519.sharedSecret(
      hex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
      hex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"),
    ))).toBe("95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
  });

  it("iterates k = X25519(k, u), u = old k: 1 and 1,000 times (§5.2)", () => {
    // The 1,000,000-iteration vector (7c3911e0...) takes minutes at this speed; it is not run.
    let k: Uint8Array = hex("0900000000000000000000000000000000000000000000000000000000000000");
    let u: Uint8Array = k.slice();
    for (let i = 1; i <= 1000; i++) {
      const r = curves.x25519.sharedSecret(k, u);
      u = k;
      k = r;
      if (i === 1) expect(toHex(k)).toBe("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
    }
    expect(toHex(k)).toBe("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
  });

  it("runs the §6.1 Diffie-Hellman example (Alice and Bob)", () => {
    const alice = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    const bob = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    const alicePub = curves.x25519.publicKey(alice);
    const bobPub = curves.x25519.publicKey(bob);
    expect(toHex(alicePub)).toBe("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    expect(toHex(bobPub)).toBe("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    const shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    expect(toHex(curves.x25519.sharedSecret(alice, bobPub))).toBe(shared);
    expect(toHex(curves.x25519.sharedSecret(bob, alicePub))).toBe(shared);
  });

  it("publicKey (fixed-base comb) equals the ladder with u = 9 for random and edge scalars", () => {
    const nine = new Uint8Array(32);
    nine[0] = 9;
    const scalars = [new Uint8Array(32), new Uint8Array(32).fill(0xff), ...Array.from({ length: 60 }, () => random(32))];
    for (const k of scalars) {
      const s = new Uint8Array(k);
      expect(toHex(curves.x25519.publicKey(s))).toBe(toHex(curves.x25519.sharedSecret(s, nine)));
    }
  });
});

const suite = loadSuite("x25519");
describe.skipIf(!suite)("X25519 Wycheproof (x25519_test.json)", () => {
  it("accepts every valid case with the right output and handles every acceptable one as documented", () => {
    // What we do with `acceptable` cases: the RFC 7748 function is computed for every input
    // (twist points, non-canonical u >= p reduced mod p, bit 255 of u masked, low-order points).
    // When the result is all zeros (ZeroSharedSecret, low-order public keys) sharedSecret throws,
    // as RFC 7748 §6.1 allows; otherwise the result must equal the vector's `shared` value.
    let run = 0;
    for (const group of suite!.testGroups) {
      for (const t of group.tests) {
        const priv = hex(t.private as string);
        const pub = hex(t.public as string);
        const shared = t.shared as string;
        expect(t.result === "valid" || t.result === "acceptable", `tcId ${t.tcId}`).toBe(true);
        if (/^(00)+$/.test(shared)) {
          expect(() => curves.x25519.sharedSecret(priv, pub), `tcId ${t.tcId}`).toThrow(/all-zero/);
        } else {
          expect(toHex(curves.x25519.sharedSecret(priv, pub)), `tcId ${t.tcId} ${t.comment}`).toBe(shared);
        }
        run++;
      }
    }
    expect(run).toBe(suite!.numberOfTests);
  });
});

describe("X25519 against node:crypto", () => {
  it("agrees on public keys and shared secrets for 200 random key pairs", () => {
    for (let i = 0; i < 200; i++) {
      const a = random(32);
      const b = random(32);
      const aPub = curves.x25519.publicKey(a);
      const bPub = curves.x25519.publicKey(b);
      expect(toHex(aPub)).toBe(toHex(nodeRawPublic(a)));
      expect(toHex(bPub)).toBe(toHex(nodeRawPublic(b)));
      const ours = curves.x25519.sharedSecret(a, bPub);
      expect(toHex(curves.x25519.sharedSecret(b, aPub))).toBe(toHex(ours));
      expect(toHex(ours)).toBe(diffieHellman({ privateKey: nodePrivate(a), publicKey: nodePublic(bPub) }).toString("hex"));
    }
  });

  it("agrees with keys generated by node:crypto (raw keys via JWK)", () => {
    for (let i = 0; i < 20; i++) {
      const pair = generateKeyPairSync("x25519");
      const jwk = pair.privateKey.export({ format: "jwk" });
      const d = new Uint8Array(Buffer.from(jwk.d!, "base64url"));
      const x = new Uint8Array(Buffer.from(jwk.x!, "base64url"));
      expect(toHex(curves.x25519.publicKey(d))).toBe(toHex(x));
      const other = random(32);
      const expected = diffieHellman({ privateKey: pair.privateKey, publicKey: nodePublic(curves.x25519.publicKey(other)) });
      expect(toHex(curves.x25519.sharedSecret(other, x))).toBe(expected.toString("hex"));
    }
  });

  it("masks bit 255 of u and reduces a non-canonical u", () => {
    const k = random(32);
    const u = random(32);
    u[31] &= 0x7f;
    const high = u.slice();
    high[31] |= 0x80;
    expect(toHex(curves.x25519.sharedSecret(k, high))).toBe(toHex(curves.x25519.sharedSecret(k, u)));
    // p + 9 encodes the same u as 9.
    const pPlus9 = hex("f6ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    const nine = new Uint8Array(32);
    nine[0] = 9;
    expect(toHex(curves.x25519.sharedSecret(k, pPlus9))).toBe(toHex(curves.x25519.sharedSecret(k, nine)));
  });
});

describe("X25519 input checks", () => {
  it("throws a clear error for wrong types and lengths, and for an all-zero result", () => {
    const k = random(32);
    expect(() => curves.x25519.publicKey(new Uint8Array(31))).toThrow(RangeError);
    expect(() => curves.x25519.publicKey([1, 2, 3] as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => curves.x25519.sharedSecret(k, new Uint8Array(33))).toThrow(RangeError);
    expect(() => curves.x25519.sharedSecret(new Uint8Array(16), k)).toThrow(RangeError);
    expect(() => curves.x25519.sharedSecret(k, new Uint8Array(32))).toThrow(/all-zero/);
    const one = new Uint8Array(32);
    one[0] = 1;
    expect(() => curves.x25519.sharedSecret(k, one)).toThrow(/all-zero/);
  });

  it("raw exports refuse pointers outside the I/O buffer with ERR_RANGE, never trapping", () => {
    const x25519 = core.fn("x25519");
    const x25519Base = core.fn("x25519_base");
    const io = core.bufferPtr;
    const end = core.bufferPtr + core.bufferLen;
    for (const bad of [0, io - 1, end - 31, end, -1, 0x7fffffff, -0x80000000]) {
      expect(x25519(bad, io, io + 32)).toBe(Status.ERR_RANGE);
      expect(x25519(io, bad, io + 32)).toBe(Status.ERR_RANGE);
      expect(x25519(io, io + 32, bad)).toBe(Status.ERR_RANGE);
      expect(x25519Base(bad, io)).toBe(Status.ERR_RANGE);
      expect(x25519Base(io, bad)).toBe(Status.ERR_RANGE);
    }
    // The last 32 bytes of the buffer are usable; output may alias the inputs.
    const k = random(32);
    const nine = new Uint8Array(32);
    nine[0] = 9;
    core.put(k, core.bufferLen - 32);
    core.put(nine, 0);
    expect(x25519(end - 32, end - 32, io)).toBe(Status.OK);
    expect(toHex(core.get(end - 32, 32))).toBe(toHex(curves.x25519.publicKey(k)));
    // An all-zero result is ERR_INVALID and leaves 32 zero bytes.
    core.put(new Uint8Array(32), 0);
    core.put(k, 32);
    expect(x25519(io + 64, io + 32, io)).toBe(Status.ERR_INVALID);
    expect(toHex(core.get(io + 64, 32))).toBe("00".repeat(32));
  });
});
