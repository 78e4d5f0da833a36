// Ed25519 (RFC 8032 §5.1, strict verification): spec vectors, Wycheproof,
// node:crypto, streaming, raw ABI edge cases.
import { createPrivateKey, createPublicKey, randomBytes, sign as nodeSign, verify as nodeVerify } from "node:crypto";
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

const nodePrivate = (seed: Uint8Array) => createPrivateKey({
  key: Buffer.concat([hex("302e020100300506032b657004220420"), seed]), format: "der", type: "pkcs8",
});
const nodePublic = (pub: Uint8Array) => createPublicKey({
  key: Buffer.concat([hex("302a300506032b6570032100"), pub]), format: "der", type: "spki",
});

/** L, the group order, little-endian. */
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const leToBig = (b: Uint8Array) => b.reduceRight((acc, v) => (acc << 8n) | BigInt(v), 0n);
const bigToLe = (x: bigint, n: number) => Uint8Array.from({ length: n }, (_, i) => Number((x >> BigInt(8 * i)) & 255n));

// RFC 8032 §7.1, typed in. TEST 1024's message is 1023 bytes.
const MSG_1024 =
  "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23fb1433ddf73be84d8" +
  "79de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc" +
  "1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e" +
  "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7" +
  "aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed185ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2" +
  "d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270" +
  "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b07" +
  "07e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128bab27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51a" +
  "ddd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb75" +
  "1fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8c" +
  "a61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34dff7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d" +
  "78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e48" +
  "8acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e6" +
  "aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5fb93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b50" +
  "d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380db" +
  "2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0";

const RFC8032: Array<{ name: string; seed: string; pub: string; msg: string; sig: string }> = [
  {
    name: "TEST 1 (empty message)",
    seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    pub: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    msg: "",
    sig: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    name: "TEST 2 (1 byte)",
    seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    pub: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    msg: "72",
    sig: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
  {
    name: "TEST 3 (2 bytes)",
    seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    pub: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    msg: "af82",
    sig: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  },
  {
    name: "TEST 1024 (1023 bytes)",
    seed: "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
    pub: "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
    msg: MSG_1024,
    sig: "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03",
  },
  {
    name: "TEST SHA(abc)",
    seed: "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
    pub: "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
    msg: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    sig: "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
  },
];

describe("Ed25519 (RFC 8032 §7.1 vectors)", () => {
  it("has the 1023-byte message of TEST 1024", () => {
    expect(MSG_1024.length).toBe(2046);
  });
  for (const v of RFC8032) {
    it(v.name, () => {
      const seed = hex(v.seed);
      const msg = hex(v.msg);
      expect(toHex(curves.ed25519.publicKey(seed))).toBe(v.pub);
      expect(toHex(curves.ed25519.sign(seed, msg))).toBe(v.sig);
      expect(curves.ed25519.verify(hex(v.pub), msg, hex(v.sig))).toBe(true);
    });
  }
});

const suite = loadSuite("ed25519");
describe.skipIf(!suite)("Ed25519 Wycheproof (ed25519_test.json)", () => {
  it("accepts every valid signature and rejects every invalid one", () => {
    let run = 0;
    const failures: string[] = [];
    for (const group of suite!.testGroups) {
      const pk = hex((group.publicKey as { pk: string }).pk);
      for (const t of group.tests) {
        const msg = hex(t.msg as string);
        const sig = hex(t.sig as string);
        // Signatures of the wrong length (truncated, with garbage appended) simply fail.
        const ok = curves.ed25519.verify(pk, msg, sig);
        if (ok !== (t.result === "valid")) failures.push(`tcId ${t.tcId} (${t.result}, ${t.comment})`);
        run++;
      }
    }
    expect(failures).toEqual([]);
    expect(run).toBe(suite!.numberOfTests);
  });
});

describe("Ed25519 against node:crypto", () => {
  it("signs byte for byte like node for random seeds and messages of 0..4096 bytes, and each verifies the other", () => {
    const lengths = [0, 1, 31, 32, 63, 64, 127, 128, 129, 4096, ...Array.from({ length: 90 }, () => Math.floor(Math.random() * 4097))];
    for (const n of lengths) {
      const seed = random(32);
      const msg = random(n);
      const key = nodePrivate(seed);
      const pub = curves.ed25519.publicKey(seed);
      expect(toHex(pub)).toBe(toHex(createPublicKey(key).export({ format: "der", type: "spki" }).subarray(12)));
      const ours = curves.ed25519.sign(seed, msg);
      const theirs = nodeSign(null, msg, key);
      expect(toHex(ours)).toBe(theirs.toString("hex"));
      expect(nodeVerify(null, msg, nodePublic(pub), ours)).toBe(true);
      expect(curves.ed25519.verify(pub, msg, new Uint8Array(theirs))).toBe(true);
    }
  });

  it("rejects flipped bits in the signature, the message and the public key", () => {
    for (let i = 0; i < 40; i++) {
      const seed = random(32);
      const msg = random(1 + Math.floor(Math.random() * 300));
      const pub = curves.ed25519.publicKey(seed);
      const sig = curves.ed25519.sign(seed, msg);
      const bit = (b: Uint8Array) => {
        const c = b.slice();
        const at = Math.floor(Math.random() * c.length * 8);
        c[at >> 3] ^= 1 << (at & 7);
        return c;
      };
      expect(curves.ed25519.verify(pub, msg, bit(sig))).toBe(false);
      expect(curves.ed25519.verify(pub, bit(msg), sig)).toBe(false);
      expect(curves.ed25519.verify(bit(pub), msg, sig)).toBe(false);
      expect(curves.ed25519.verify(pub, msg, sig)).toBe(true);
    }
  });

  it("rejects the malleated signature R || S + L (non-canonical S), which node also rejects", () => {
    for (let i = 0; i < 10; i++) {
      const seed = random(32);
      const msg = random(40);
      const pub = curves.ed25519.publicKey(seed);
      const sig = curves.ed25519.sign(seed, msg);
      const s = leToBig(sig.subarray(32));
      const bad = sig.slice();
      bad.set(bigToLe(s + L, 32), 32);
      expect(curves.ed25519.verify(pub, msg, bad)).toBe(false);
      expect(nodeVerify(null, msg, nodePublic(pub), bad)).toBe(false);
    }
  });

  it("rejects a public key or R with a non-canonical y (y >= p)", () => {
    // y = p + 1 encodes the same y as 1 (the identity when x = 0): refused for A and for R.
    const pPlus1 = hex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    const seed = random(32);
    const msg = random(10);
    const pub = curves.ed25519.publicKey(seed);
    const sig = curves.ed25519.sign(seed, msg);
    expect(curves.ed25519.verify(pPlus1, msg, sig)).toBe(false);
    const badR = sig.slice();
    badR.set(pPlus1, 0);
    expect(curves.ed25519.verify(pub, msg, badR)).toBe(false);
  });
});

describe("Ed25519 streaming (messages larger than the core buffer)", () => {
  it("signs and verifies 0 B, 16 KiB +- 1, 64 KiB and 1 MiB like node", () => {
    for (const n of [0, core.bufferLen - 96, core.bufferLen - 95, core.bufferLen, core.bufferLen + 1, 65536, 1 << 20]) {
      const seed = random(32);
      const msg = random(n);
      const pub = curves.ed25519.publicKey(seed);
      const sig = curves.ed25519.sign(seed, msg);
      expect(toHex(sig)).toBe(nodeSign(null, msg, nodePrivate(seed)).toString("hex"));
      expect(curves.ed25519.verify(pub, msg, sig)).toBe(true);
      if (n > 0) {
        const other = msg.slice();
        other[n - 1] ^= 0x80;
        expect(curves.ed25519.verify(pub, other, sig)).toBe(false);
      }
    }
  });
});

describe("Ed25519 input checks and raw ABI", () => {
  it("throws a clear TypeError/RangeError for wrong types and key/seed lengths", () => {
    const seed = random(32);
    const pub = curves.ed25519.publicKey(seed);
    const sig = curves.ed25519.sign(seed, new Uint8Array(3));
    expect(() => curves.ed25519.publicKey(new Uint8Array(31))).toThrow(RangeError);
    expect(() => curves.ed25519.sign(new Uint8Array(64), new Uint8Array(3))).toThrow(RangeError);
    expect(() => curves.ed25519.sign(seed, "abc" as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => curves.ed25519.verify(new Uint8Array(33), new Uint8Array(3), sig)).toThrow(RangeError);
    expect(() => curves.ed25519.verify(pub, new Uint8Array(3), "sig" as unknown as Uint8Array)).toThrow(TypeError);
    // A signature of the wrong length is not valid: false, not an exception.
    expect(curves.ed25519.verify(pub, new Uint8Array(3), sig.subarray(0, 63))).toBe(false);
    expect(curves.ed25519.verify(pub, new Uint8Array(3), new Uint8Array([...sig, 0]))).toBe(false);
    expect(() => curves.ed25519.verify(pub, null as unknown as Uint8Array, sig)).toThrow(TypeError);
    expect(curves.ed25519.verify(pub, new Uint8Array(3), sig)).toBe(true);
  });

  it("returns ERR_STATE for calls out of order", () => {
    const f = (n: string) => core.fn(n);
    const io = core.bufferPtr;
    expect(f("ed25519_verify_finish")()).toBe(Status.ERR_STATE);
    expect(f("ed25519_verify_absorb")(io, 0)).toBe(Status.ERR_STATE);
    expect(f("ed25519_sign_commit")()).toBe(Status.ERR_STATE);
    expect(f("ed25519_sign_absorb")(io, 1)).toBe(Status.ERR_STATE);
    expect(f("ed25519_sign_absorb2")(io, 1)).toBe(Status.ERR_STATE);
    expect(f("ed25519_sign_finish")(io)).toBe(Status.ERR_STATE);
    // Pass 2 before commit, finish before pass 2, commit twice.
    core.put(random(32), 0);
    expect(f("ed25519_sign_begin")(io)).toBe(Status.OK);
    expect(f("ed25519_sign_absorb2")(io, 1)).toBe(Status.ERR_STATE);
    expect(f("ed25519_sign_finish")(io)).toBe(Status.ERR_STATE);
    expect(f("ed25519_sign_commit")()).toBe(Status.OK);
    expect(f("ed25519_sign_commit")()).toBe(Status.ERR_STATE);
    expect(f("ed25519_sign_absorb")(io, 1)).toBe(Status.ERR_STATE);
    expect(f("ed25519_sign_finish")(io)).toBe(Status.OK);
    expect(f("ed25519_sign_finish")(io)).toBe(Status.ERR_STATE);
    // A refused verify_begin leaves no verification open.
    const seed = random(32);
    const sig = curves.ed25519.sign(seed, new Uint8Array(0));
    sig[63] |= 0xf0; // S >= L
    core.put(curves.ed25519.publicKey(seed), 0);
    core.put(sig, 32);
    expect(f("ed25519_verify_begin")(io, io + 32)).toBe(Status.ERR_INVALID);
    expect(f("ed25519_verify_finish")()).toBe(Status.ERR_STATE);
  });

  it("refuses a second pass over a different message (nonce reuse guard)", () => {
    const f = (n: string) => core.fn(n);
    const io = core.bufferPtr;
    const seed = random(32);
    const msg = random(100);
    core.put(seed, 0);
    expect(f("ed25519_sign_begin")(io)).toBe(Status.OK);
    core.put(msg, 0);
    expect(f("ed25519_sign_absorb")(io, 100)).toBe(Status.OK);
    expect(f("ed25519_sign_commit")()).toBe(Status.OK);
    const other = msg.slice();
    other[99] ^= 1;
    core.put(other, 0);
    expect(f("ed25519_sign_absorb2")(io, 100)).toBe(Status.OK);
    core.put(new Uint8Array(64), 200);
    expect(f("ed25519_sign_finish")(io + 200)).toBe(Status.ERR_INVALID);
    expect(toHex(core.get(io + 200, 64))).toBe("00".repeat(64));
    // The same message in both passes, fed in different chunkings, is fine.
    core.put(seed, 0);
    expect(f("ed25519_sign_begin")(io)).toBe(Status.OK);
    core.put(msg, 0);
    expect(f("ed25519_sign_absorb")(io, 30)).toBe(Status.OK);
    expect(f("ed25519_sign_absorb")(io + 30, 70)).toBe(Status.OK);
    expect(f("ed25519_sign_commit")()).toBe(Status.OK);
    expect(f("ed25519_sign_absorb2")(io, 99)).toBe(Status.OK);
    expect(f("ed25519_sign_absorb2")(io + 99, 1)).toBe(Status.OK);
    expect(f("ed25519_sign_finish")(io + 200)).toBe(Status.OK);
    expect(toHex(core.get(io + 200, 64))).toBe(nodeSign(null, msg, nodePrivate(seed)).toString("hex"));
  });

  it("refuses pointers outside the I/O buffer with ERR_RANGE, never trapping", () => {
    const f = (n: string) => core.fn(n);
    const io = core.bufferPtr;
    const end = io + core.bufferLen;
    for (const bad of [0, io - 1, end - 31, end, -1, 0x7fffffff, -0x80000000]) {
      expect(f("ed25519_public_key")(bad, io)).toBe(Status.ERR_RANGE);
      expect(f("ed25519_public_key")(io, bad)).toBe(Status.ERR_RANGE);
      expect(f("ed25519_sign")(bad, io, io, 0)).toBe(Status.ERR_RANGE);
      expect(f("ed25519_sign")(io, bad, io, 0)).toBe(Status.ERR_RANGE);
      expect(f("ed25519_sign")(io, io, bad, 32)).toBe(Status.ERR_RANGE);
      expect(f("ed25519_sign_begin")(bad)).toBe(Status.ERR_RANGE);
      expect(f("ed25519_sign_absorb")(bad, 32)).toBe(Status.ERR_RANGE);
      expect(f("ed25519_sign_absorb2")(bad, 32)).toBe(Status.ERR_RANGE);
      expect(f("ed25519_sign_finish")(bad)).toBe(Status.ERR_RANGE);
      expect(f("ed25519_verify")(bad, io, io, 0)).toBe(Status.ERR_RANGE);
      expect(f("ed25519_verify")(io, bad, io, 0)).toBe(Status.ERR_RANGE);
      expect(f("ed25519_verify")(io, io, bad, 32)).toBe(Status.ERR_RANGE);
      expect(f("ed25519_verify_begin")(bad, io)).toBe(Status.ERR_RANGE);
      expect(f("ed25519_verify_begin")(io, bad)).toBe(Status.ERR_RANGE);
      expect(f("ed25519_verify_absorb")(bad, 32)).toBe(Status.ERR_RANGE);
    }
    // Negative and oversized lengths.
    expect(f("ed25519_sign")(io, io, io, -1)).toBe(Status.ERR_RANGE);
    expect(f("ed25519_sign")(io, io, io, core.bufferLen + 1)).toBe(Status.ERR_RANGE);
    expect(f("ed25519_verify_absorb")(io, -5)).toBe(Status.ERR_RANGE);
    expect(f("ed25519_sign_absorb")(io, 0x7fffffff)).toBe(Status.ERR_RANGE);
  });

  it("one-call raw sign and verify accept outputs overlapping inputs", () => {
    const f = (n: string) => core.fn(n);
    const io = core.bufferPtr;
    const seed = random(32);
    const msg = random(200);
    const expected = nodeSign(null, msg, nodePrivate(seed)).toString("hex");
    core.put(seed, 0);
    core.put(msg, 32);
    // The signature overwrites the seed and the start of the message.
    expect(f("ed25519_sign")(io, io, io + 32, 200)).toBe(Status.OK);
    expect(toHex(core.get(io, 64))).toBe(expected);
    core.put(seed, 0);
    expect(f("ed25519_public_key")(io, io)).toBe(Status.OK);
    const pub = core.get(io, 32);
    core.put(hex(expected), 32);
    core.put(msg, 96);
    expect(f("ed25519_verify")(io, io + 32, io + 96, 200)).toBe(Status.OK);
    expect(curves.ed25519.verify(pub, msg, hex(expected))).toBe(true);
  });
});
