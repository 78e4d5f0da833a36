// ChaCha20, Poly1305, HChaCha20, ChaCha20-Poly1305 and XChaCha20-Poly1305:
// RFC 8439 and draft-irtf-cfrg-xchacha-03 vectors, Wycheproof, node:crypto
// differential tests, the streaming ABI and bad input.
import { createCipheriv, createDecipheriv, randomBytes, randomInt } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { CryptoCore, Status, instantiateCryptoCore } from "../../host-tools/crypto/core.js";
import { createAead, type AeadApi, type AeadCipher } from "../../host-tools/crypto/aead.js";
import { hex, loadSuite, toHex, type WycheproofTest } from "../helpers/wycheproof.js";

let core: CryptoCore;
let api: AeadApi;
beforeAll(async () => {
  core = await instantiateCryptoCore();
  api = createAead(core);
});

const ascii = (s: string) => new TextEncoder().encode(s);
const zeros = (n: number) => new Uint8Array(n);
const rand = (n: number) => new Uint8Array(randomBytes(n));
const concat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));

function nodeSeal(key: Uint8Array, nonce: Uint8Array, msg: Uint8Array, aad: Uint8Array): Uint8Array {
  const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  c.setAAD(aad, { plaintextLength: msg.length });
  return concat(c.update(msg), c.final(), c.getAuthTag());
}

function nodeOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | null {
  const d = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  d.setAAD(aad, { plaintextLength: sealed.length - 16 });
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  const out = d.update(sealed.subarray(0, sealed.length - 16));
  try {
    return concat(out, d.final());
  } catch {
    return null;
  }
}

// RFC 8439 texts used by several vectors.
const SUNSCREEN = ascii(
  "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
const IETF = ascii(
  "Any submission to the IETF intended by the Contributor for publication as all or part of an IETF Internet-Draft " +
  "or RFC and any statement made within the context of an IETF activity is considered an \"IETF Contribution\". " +
  "Such statements include oral statements in IETF sessions, as well as written and electronic communications made " +
  "at any time or place, which are addressed to");
const JABBERWOCKY = ascii(
  "'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\nAll mimsy were the borogoves,\n" +
  "And the mome raths outgrabe.");
const KEY_00_1F = Uint8Array.from({ length: 32 }, (_, i) => i);
const KEY_80_9F = Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i);
const KEY_1C92 = hex("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0");
const KEY_LAST_01 = hex("0000000000000000000000000000000000000000000000000000000000000001");

describe("ChaCha20 (RFC 8439 §2.4.2, A.1, A.2)", () => {
  it("§2.4.2 encrypts the sunscreen text", () => {
    expect(SUNSCREEN.length).toBe(114);
    const ct = api.chacha20(KEY_00_1F, hex("000000000000004a00000000"), SUNSCREEN, 1);
    expect(toHex(ct)).toBe(
      "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b" +
      "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8" +
      "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736" +
      "5af90bbf74a35be6b40b8eedf2785e42874d");
    expect(api.chacha20(KEY_00_1F, hex("000000000000004a00000000"), ct, 1)).toEqual(SUNSCREEN);
  });

  // A.1: the keystream is the encryption of 64 zero bytes.
  const blocks: Array<[string, Uint8Array, string, number, string]> = [
    ["#1", zeros(32), "000000000000000000000000", 0,
      "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"],
    ["#2", zeros(32), "000000000000000000000000", 1,
      "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f"],
    ["#3", KEY_LAST_01, "000000000000000000000000", 1,
      "3aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a8eca00bbb4a73bdad192b5c42f73f2fd4e273644c8b36125a64addeb006c13a0"],
    ["#4", hex("00ff000000000000000000000000000000000000000000000000000000000000"), "000000000000000000000000", 2,
      "72d54dfbf12ec44b362692df94137f328fea8da73990265ec1bbbea1ae9af0ca13b25aa26cb4a648cb9b9d1be65b2c0924a66c54d545ec1b7374f4872e99f096"],
    ["#5", zeros(32), "000000000000000000000002", 0,
      "c2c64d378cd536374ae204b9ef933fcd1a8b2288b3dfa49672ab765b54ee27c78a970e0e955c14f3a88e741b97c286f75f8fc299e8148362fa198a39531bed6d"],
  ];
  for (const [name, key, nonce, counter, keystream] of blocks) {
    it(`A.1 block function test vector ${name}`, () => {
      expect(toHex(api.chacha20(key, hex(nonce), zeros(64), counter))).toBe(keystream);
    });
  }

  it("A.2 test vector #1 (zero key, zero plaintext)", () => {
    expect(toHex(api.chacha20(zeros(32), zeros(12), zeros(64), 0))).toBe(blocks[0][4]);
  });

  it("A.2 test vector #2 (IETF text, counter 1)", () => {
    expect(IETF.length).toBe(375);
    expect(toHex(api.chacha20(KEY_LAST_01, hex("000000000000000000000002"), IETF, 1))).toBe(
      "a3fbf07df3fa2fde4f376ca23e82737041605d9f4f4f57bd8cff2c1d4b7955ec2a97948bd3722915c8f3d337f7d370050e9e96d647b7c39f" +
      "56e031ca5eb6250d4042e02785ececfa4b4bb5e8ead0440e20b6e8db09d881a7c6132f420e52795042bdfa7773d8a9051447b3291ce1411c" +
      "680465552aa6c405b7764d5e87bea85ad00f8449ed8f72d0d662ab052691ca66424bc86d2df80ea41f43abf937d3259dc4b2d0dfb48a6c91" +
      "39ddd7f76966e928e635553ba76c5c879d7b35d49eb2e62b0871cdac638939e25e8a1e0ef9d5280fa8ca328b351c3c765989cbcf3daa8b6c" +
      "cc3aaf9f3979c92b3720fc88dc95ed84a1be059c6499b9fda236e7e818b04b0bc39c1e876b193bfe5569753f88128cc08aaa9b63d1a16f80" +
      "ef2554d7189c411f5869ca52c5b83fa36ff216b9c1d30062bebcfd2dc5bce0911934fda79a86f6e698ced759c3ff9b6477338f3da4f9cd85" +
      "14ea9982ccafb341b2384dd902f3d1ab7ac61dd29c6f21ba5b862f3730e37cfdc4fd806c22f221");
  });

  it("A.2 test vector #3 (Jabberwocky, counter 42)", () => {
    expect(JABBERWOCKY.length).toBe(127);
    expect(toHex(api.chacha20(KEY_1C92, hex("000000000000000000000002"), JABBERWOCKY, 42))).toBe(
      "62e6347f95ed87a45ffae7426f27a1df5fb69110044c0d73118effa95b01e5cf166d3df2d721caf9b21e5fb14c616871fd84c54f9d65b283" +
      "196c7fe4f60553ebf39c6402c42234e32a356b3e764312a61a5532055716ead6962568f87d3f3f7704c6a8d1bcd1bf4d50d6154b6da731b1" +
      "87b58dfd728afa36757a797ac188d1");
  });

  it("matches node:crypto's raw chacha20 stream (counter || nonce IV) for many lengths and counters", () => {
    for (const n of [0, 1, 63, 64, 65, 127, 128, 129, 1000, 16320, 16321, 40000]) {
      const key = rand(32), nonce = rand(12), data = rand(n);
      const counter = randomInt(0, 1_000_000);
      const iv = Buffer.alloc(16);
      iv.writeUInt32LE(counter, 0);
      Buffer.from(nonce).copy(iv, 4);
      const c = createCipheriv("chacha20", key, iv);
      const want = concat(c.update(data), c.final());
      expect(toHex(api.chacha20(key, nonce, data, counter))).toBe(toHex(want));
    }
  });

  it("runs up to block counter 2^32 - 1 and refuses to wrap it", () => {
    const key = rand(32), nonce = rand(12);
    expect(api.chacha20(key, nonce, zeros(64), 0xffffffff).length).toBe(64);
    expect(() => api.chacha20(key, nonce, zeros(65), 0xffffffff)).toThrow(RangeError);
    const base = core.bufferPtr;
    expect(core.fn("chacha20_xor")(base, base + 32, -1, base + 64, base + 64, 65)).toBe(Status.ERR_LENGTH);
    expect(core.fn("chacha20_xor")(base, base + 32, -1, base + 64, base + 64, 64)).toBe(Status.OK);
  });
});

describe("Poly1305 (RFC 8439 §2.5.2, A.3)", () => {
  it("§2.5.2 tags 'Cryptographic Forum Research Group'", () => {
    const key = hex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
    expect(toHex(api.poly1305(key, ascii("Cryptographic Forum Research Group")))).toBe("a8061dc1305136c6c22b8baf0c0127a9");
  });

  const r1 = "01000000000000000000000000000000";
  const r2 = "02000000000000000000000000000000";
  const s0 = "00000000000000000000000000000000";
  const r10 = "01000000000000000400000000000000";
  const data10 =
    "e33594d7505e43b90000000000000000" + "3394d7505e4379cd0100000000000000" + "00000000000000000000000000000000";
  const vectors: Array<[string, string, Uint8Array, string]> = [
    ["#1 (all zero)", "00".repeat(32), zeros(64), "00000000000000000000000000000000"],
    ["#2 (r = 0: tag = s)", "00".repeat(16) + "36e5f6b5c5e06070f0efca96227a863e", IETF, "36e5f6b5c5e06070f0efca96227a863e"],
    ["#3 (s = 0)", "36e5f6b5c5e06070f0efca96227a863e" + "00".repeat(16), IETF, "f3477e7cd95417af89a6b8794c310cf0"],
    ["#4 (Jabberwocky)", toHex(KEY_1C92), JABBERWOCKY, "4541669a7eaaee61e708dc7cbcc5eb62"],
    ["#5 (partially reduced result not fully reduced)", r2 + s0, hex("ff".repeat(16)), "03000000000000000000000000000000"],
    ["#6 (h + s overflows 2^128)", r2 + "ff".repeat(16), hex("02" + "00".repeat(15)), "03000000000000000000000000000000"],
    ["#7 (all-ones limb with carry)", r1 + s0,
      hex("ff".repeat(16) + "f0" + "ff".repeat(15) + "11" + "00".repeat(15)), "05000000000000000000000000000000"],
    ["#8 (result exactly 2^130 - 5)", r1 + s0,
      hex("ff".repeat(16) + "fb" + "fe".repeat(15) + "01".repeat(16)), "00000000000000000000000000000000"],
    ["#9 (result exactly 2^130 - 6)", r2 + s0, hex("fd" + "ff".repeat(15)), "faffffffffffffffffffffffffffffff"],
    ["#10 (5*H+L gives a 131-bit intermediate)", r10 + s0,
      hex(data10 + "01000000000000000000000000000000"), "14000000000000005500000000000000"],
    ["#11 (5*H+L gives a 131-bit final result)", r10 + s0, hex(data10), "13000000000000000000000000000000"],
  ];
  for (const [name, key, msg, tag] of vectors) {
    it(`A.3 test vector ${name}`, () => {
      expect(toHex(api.poly1305(hex(key), msg))).toBe(tag);
    });
  }

  /** Poly1305 straight from the §2.5.1 definition, in BigInt arithmetic. */
  function polyReference(key: Uint8Array, msg: Uint8Array): string {
    const le = (b: Uint8Array) => BigInt("0x" + (Buffer.from(b).reverse().toString("hex") || "0"));
    const p = (1n << 130n) - 5n;
    const r = le(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
    let acc = 0n;
    for (let i = 0; i < msg.length; i += 16) {
      const block = msg.subarray(i, i + 16);
      acc = ((acc + le(block) + (1n << BigInt(8 * block.length))) * r) % p;
    }
    acc = (acc + le(key.subarray(16))) & ((1n << 128n) - 1n);
    return toHex(Buffer.from(acc.toString(16).padStart(32, "0"), "hex").reverse());
  }

  it("matches a BigInt reference for lengths 0..300 with random and extreme keys and messages", () => {
    expect(polyReference(hex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b"),
      ascii("Cryptographic Forum Research Group"))).toBe("a8061dc1305136c6c22b8baf0c0127a9");
    const keys = [rand(32), rand(32), hex("ff".repeat(32)), hex("ff".repeat(16) + "00".repeat(16)),
      hex("fc".repeat(16) + "ff".repeat(16))];
    for (let n = 0; n <= 300; n++) {
      for (const key of keys) {
        for (const msg of [rand(n), hex("ff".repeat(n))]) {
          const got = toHex(api.poly1305(key, msg));
          if (got !== polyReference(key, msg)) expect.fail(`poly1305 differs at length ${n}, key ${toHex(key)}`);
        }
      }
    }
    for (const n of [1000, 4096, 16000]) {
      const key = rand(32), msg = rand(n);
      expect(toHex(api.poly1305(key, msg))).toBe(polyReference(key, msg));
    }
  });

  it("refuses messages larger than the buffer with a RangeError", () => {
    expect(() => api.poly1305(zeros(32), zeros(core.bufferLen))).toThrow(RangeError);
  });
});

describe("HChaCha20 (draft-irtf-cfrg-xchacha-03 §2.2.1)", () => {
  it("derives the draft's subkey", () => {
    expect(toHex(api.hchacha20(KEY_00_1F, hex("000000090000004a0000000031415927")))).toBe(
      "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc");
  });
});

describe("ChaCha20-Poly1305 (RFC 8439 §2.8.2, A.5)", () => {
  const nonce = hex("070000004041424344454647");
  const aad = hex("50515253c0c1c2c3c4c5c6c7");
  const sealed =
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b" +
    "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc" +
    "3ff4def08e4b7a9de576d26586cec64b6116" + "1ae10b594f09e26a7e902ecbd0600691";

  it("§2.8.2 seals and opens the sunscreen text", () => {
    expect(toHex(api.chacha20poly1305.seal(KEY_80_9F, nonce, SUNSCREEN, aad))).toBe(sealed);
    expect(api.chacha20poly1305.open(KEY_80_9F, nonce, hex(sealed), aad)).toEqual(SUNSCREEN);
  });

  it("A.5 decrypts the Internet-Drafts text", () => {
    const ct =
      "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb24c6cfc18755d43eea09ee94e382d26b0" +
      "bdb7b73c321b0100d4f03b7f355894cf332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855" +
      "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4b9166c767b804d46a59b5216cde7a4e9" +
      "9040c5a40433225ee282a1b0a06c523eaf4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a" +
      "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a1049e617d91d361094fa68f0ff77987130" +
      "305beaba2eda04df997b714d6c6f2c29a6ad5cb4022b02709b";
    const tag = "eead9d67890cbb22392336fea1851f38";
    const plaintext = ascii(
      "Internet-Drafts are draft documents valid for a maximum of six months and may be updated, replaced, " +
      "or obsoleted by other documents at any time. It is inappropriate to use Internet-Drafts as reference " +
      "material or to cite them other than as /\u201cwork in progress./\u201d");
    const n = hex("000000000102030405060708");
    const a = hex("f33388860000000000004e91");
    expect(plaintext.length).toBe(265);
    expect(api.chacha20poly1305.open(KEY_1C92, n, hex(ct + tag), a)).toEqual(plaintext);
    expect(toHex(api.chacha20poly1305.seal(KEY_1C92, n, plaintext, a))).toBe(ct + tag);
  });
});

describe("XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03 §A.3.1)", () => {
  it("seals and opens the draft's vector", () => {
    const nonce = hex("404142434445464748494a4b4c4d4e4f5051525354555657");
    const aad = hex("50515253c0c1c2c3c4c5c6c7");
    const sealed =
      "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39" +
      "ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9" +
      "21f9664c97637da9768812f615c68b13b52e" + "c0875924c1c7987947deafd8780acf49";
    expect(toHex(api.xchacha20poly1305.seal(KEY_80_9F, nonce, SUNSCREEN, aad))).toBe(sealed);
    expect(api.xchacha20poly1305.open(KEY_80_9F, nonce, hex(sealed), aad)).toEqual(SUNSCREEN);
  });

  it("equals ChaCha20-Poly1305 under HChaCha20(key, nonce[0..16]) with nonce 0^4 || nonce[16..24]", () => {
    for (const n of [0, 1, 15, 16, 17, 64, 255, 1000, 20000]) {
      const key = rand(32), nonce = rand(24), msg = rand(n), aad = rand(randomInt(0, 40));
      const subkey = api.hchacha20(key, nonce.subarray(0, 16));
      const nonce12 = concat(zeros(4), nonce.subarray(16));
      const sealed = api.xchacha20poly1305.seal(key, nonce, msg, aad);
      expect(toHex(sealed)).toBe(toHex(api.chacha20poly1305.seal(subkey, nonce12, msg, aad)));
      expect(toHex(sealed)).toBe(toHex(nodeSeal(subkey, nonce12, msg, aad)));
      expect(api.xchacha20poly1305.open(key, nonce, sealed, aad)).toEqual(msg);
      sealed[randomInt(0, sealed.length)] ^= 1 << randomInt(0, 8);
      expect(api.xchacha20poly1305.open(key, nonce, sealed, aad)).toBeNull();
    }
  });
});

function runWycheproof(name: string, cipher: () => AeadCipher, ivBits: number) {
  const suite = loadSuite(name);
  describe.skipIf(!suite)(`Wycheproof ${name}`, () => {
    it(`passes all ${suite?.numberOfTests} cases`, () => {
      let run = 0;
      for (const group of suite!.testGroups) {
        const ivSize = group.ivSize as number;
        expect(group.keySize).toBe(256);
        expect(group.tagSize).toBe(128);
        for (const t of group.tests as Array<WycheproofTest & Record<string, string>>) {
          run++;
          const key = hex(t.key), iv = hex(t.iv), aad = hex(t.aad), msg = hex(t.msg);
          const sealed = concat(hex(t.ct), hex(t.tag));
          const what = `tcId ${t.tcId} (${t.comment})`;
          if (ivSize !== ivBits) {
            // A nonce of the wrong size is a caller error, not a forgery: seal and open throw RangeError.
            expect(t.result, what).toBe("invalid");
            expect(() => cipher().seal(key, iv, msg, aad), what).toThrow(RangeError);
            expect(() => cipher().open(key, iv, sealed, aad), what).toThrow(RangeError);
            continue;
          }
          if (t.result === "valid") {
            expect(toHex(cipher().seal(key, iv, msg, aad)), what).toBe(toHex(sealed));
            const opened = cipher().open(key, iv, sealed, aad);
            expect(opened && toHex(opened), what).toBe(t.msg);
          } else {
            expect(t.result, what).toBe("invalid");
            expect(cipher().open(key, iv, sealed, aad), what).toBeNull();
          }
        }
      }
      expect(run).toBe(suite!.numberOfTests);
    });
  });
}

runWycheproof("chacha20_poly1305", () => api.chacha20poly1305, 96);
runWycheproof("xchacha20_poly1305", () => api.xchacha20poly1305, 192);

describe("ChaCha20-Poly1305 against node:crypto", () => {
  function roundTrip(n: number, aadLen = randomInt(0, 64)) {
    const key = rand(32), nonce = rand(12), msg = rand(n), aad = rand(aadLen);
    const ours = api.chacha20poly1305.seal(key, nonce, msg, aad);
    const theirs = nodeSeal(key, nonce, msg, aad);
    expect(ours.length).toBe(n + 16);
    if (toHex(ours) !== toHex(theirs)) expect.fail(`seal differs from node:crypto at length ${n}, aad ${aadLen}`);
    const back = nodeOpen(key, nonce, ours, aad);
    if (!back || toHex(back) !== toHex(msg)) expect.fail(`node:crypto cannot open our seal at length ${n}`);
    const opened = api.chacha20poly1305.open(key, nonce, theirs, aad);
    if (!opened || toHex(opened) !== toHex(msg)) expect.fail(`cannot open node:crypto's seal at length ${n}`);
    return { key, nonce, msg, aad, sealed: theirs };
  }

  it("agrees for every length 0..300", () => {
    for (let n = 0; n <= 300; n++) roundTrip(n);
  });

  it("agrees for random lengths up to 4096 and random AAD up to 1000 bytes", () => {
    for (let i = 0; i < 300; i++) roundTrip(randomInt(0, 4097), randomInt(0, 1001));
  });

  it("agrees around the one-call / streaming switch and the streaming chunk size", () => {
    const buf = core.bufferLen;
    const chunk = (buf - 64) & ~63;
    const oneCallMax = buf - 64 - 16; // empty AAD
    for (const n of [oneCallMax - 1, oneCallMax, oneCallMax + 1, oneCallMax + 16, chunk - 1, chunk, chunk + 1,
      2 * chunk - 1, 2 * chunk, 2 * chunk + 1, buf - 1, buf, buf + 1]) {
      roundTrip(n, 0);
      roundTrip(n, 13);
    }
  });

  it("agrees with AAD larger than the buffer (streamed AAD)", () => {
    const buf = core.bufferLen;
    for (const [n, a] of [[0, buf], [100, buf + 1], [100, 3 * buf + 5], [40000, 20000]]) roundTrip(n, a);
  });

  it("agrees on 64 KiB and 1 MiB messages (streaming path)", () => {
    roundTrip(65536, 0);
    roundTrip(65536 + 7, 33);
    roundTrip(1 << 20, 16);
  });

  it("rejects tampered ciphertext, tag or AAD, and wrong key or nonce", () => {
    for (const n of [0, 1, 200, 255, 5000, 70000]) {
      const { key, nonce, aad, sealed } = roundTrip(n, 21);
      const flip = (b: Uint8Array, i: number) => { const c = b.slice(); c[i] ^= 0x01 << (i % 8); return c; };
      if (n > 0) expect(api.chacha20poly1305.open(key, nonce, flip(sealed, randomInt(0, n)), aad)).toBeNull();
      expect(api.chacha20poly1305.open(key, nonce, flip(sealed, n + randomInt(0, 16)), aad)).toBeNull();
      expect(api.chacha20poly1305.open(key, nonce, sealed, flip(aad, randomInt(0, aad.length)))).toBeNull();
      expect(api.chacha20poly1305.open(key, nonce, sealed, concat(aad, zeros(1)))).toBeNull();
      expect(api.chacha20poly1305.open(key, nonce, sealed)).toBeNull();
      expect(api.chacha20poly1305.open(flip(key, 5), nonce, sealed, aad)).toBeNull();
      expect(api.chacha20poly1305.open(key, flip(nonce, 11), sealed, aad)).toBeNull();
      expect(api.chacha20poly1305.open(key, nonce, sealed.subarray(0, sealed.length - 1), aad)).toBeNull();
      expect(api.chacha20poly1305.open(key, nonce, sealed.subarray(1), aad)).toBeNull();
    }
    expect(api.chacha20poly1305.open(rand(32), rand(12), rand(15))).toBeNull();
  });

  it("omitting AAD equals an empty AAD", () => {
    const key = rand(32), nonce = rand(12), msg = rand(50);
    expect(api.chacha20poly1305.seal(key, nonce, msg)).toEqual(nodeSeal(key, nonce, msg, zeros(0)));
  });
});

describe("streaming ABI", () => {
  const at = (o: number) => core.bufferPtr + o;
  const put = (b: Uint8Array, o: number) => core.put(b, o);

  /** Splits n into random chunk sizes, biased to small and block-straddling sizes. */
  function chunks(n: number): number[] {
    const out: number[] = [];
    const picks = [1, 2, 7, 15, 16, 17, 31, 63, 64, 65, 100, 127, 128, 129, 500];
    for (let left = n; left > 0;) {
      const c = Math.min(left, picks[randomInt(0, picks.length)]);
      out.push(c);
      left -= c;
    }
    return out;
  }

  function streamSeal(key: Uint8Array, nonce: Uint8Array, msg: Uint8Array, aad: Uint8Array): Uint8Array {
    put(key, 0);
    put(nonce, 32);
    expect(core.fn("aead_begin")(at(0), at(32), nonce.length)).toBe(Status.OK);
    let off = 0;
    for (const c of chunks(aad.length)) {
      put(aad.subarray(off, off + c), 1024);
      expect(core.fn("aead_aad")(at(1024), c)).toBe(Status.OK);
      off += c;
    }
    const out = new Uint8Array(msg.length + 16);
    off = 0;
    for (const c of chunks(msg.length)) {
      put(msg.subarray(off, off + c), 1024);
      // src != dst here: the ciphertext goes to another region.
      expect(core.fn("aead_encrypt")(at(1024), at(4096), c)).toBe(Status.OK);
      out.set(core.get(at(4096), c), off);
      off += c;
    }
    expect(core.fn("aead_seal_finish")(at(8192))).toBe(Status.OK);
    out.set(core.get(at(8192), 16), msg.length);
    return out;
  }

  function streamOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | null {
    const n = sealed.length - 16;
    put(key, 0);
    put(nonce, 32);
    expect(core.fn("aead_begin")(at(0), at(32), nonce.length)).toBe(Status.OK);
    let off = 0;
    for (const c of chunks(aad.length)) {
      put(aad.subarray(off, off + c), 1024);
      expect(core.fn("aead_aad")(at(1024), c)).toBe(Status.OK);
      off += c;
    }
    off = 0;
    for (const c of chunks(n)) {
      put(sealed.subarray(off, off + c), 1024);
      expect(core.fn("aead_auth")(at(1024), c)).toBe(Status.OK);
      off += c;
    }
    put(sealed.subarray(n), 2048);
    const status = core.fn("aead_verify")(at(2048));
    if (status === Status.ERR_AUTH) return null;
    expect(status).toBe(Status.OK);
    const out = new Uint8Array(n);
    off = 0;
    for (const c of chunks(n)) {
      put(sealed.subarray(off, off + c), 1024);
      expect(core.fn("aead_decrypt")(at(1024), at(1024), c)).toBe(Status.OK);
      out.set(core.get(at(1024), c), off);
      off += c;
    }
    expect(core.fn("aead_end")()).toBe(Status.OK);
    return out;
  }

  it("odd chunk sizes for AAD and data give node:crypto's output, both directions", () => {
    for (let i = 0; i < 150; i++) {
      const key = rand(32), nonce = rand(12), msg = rand(randomInt(0, 3000)), aad = rand(randomInt(0, 300));
      const want = nodeSeal(key, nonce, msg, aad);
      expect(toHex(streamSeal(key, nonce, msg, aad))).toBe(toHex(want));
      expect(streamOpen(key, nonce, want, aad)).toEqual(msg);
      const bad = want.slice();
      bad[randomInt(0, bad.length)] ^= 0x80;
      expect(streamOpen(key, nonce, bad, aad)).toBeNull();
    }
  });

  it("XChaCha20-Poly1305 streams too", () => {
    for (let i = 0; i < 20; i++) {
      const key = rand(32), nonce = rand(24), msg = rand(randomInt(0, 2000)), aad = rand(randomInt(0, 100));
      const want = api.xchacha20poly1305.seal(key, nonce, msg, aad);
      expect(toHex(streamSeal(key, nonce, msg, aad))).toBe(toHex(want));
      expect(streamOpen(key, nonce, want, aad)).toEqual(msg);
    }
  });

  it("one-call functions between streaming calls do not disturb the stream", () => {
    const key = rand(32), nonce = rand(12), msg = rand(300), aad = rand(20);
    put(key, 0);
    put(nonce, 32);
    expect(core.fn("aead_begin")(at(0), at(32), 12)).toBe(Status.OK);
    put(aad, 1024);
    expect(core.fn("aead_aad")(at(1024), 20)).toBe(Status.OK);
    put(msg.subarray(0, 100), 1024);
    expect(core.fn("aead_encrypt")(at(1024), at(1024), 100)).toBe(Status.OK);
    const first = core.get(at(1024), 100);
    // Unrelated one-call work in between.
    const other = api.chacha20poly1305.seal(rand(32), rand(12), rand(255), rand(5));
    expect(other.length).toBe(271);
    api.poly1305(rand(32), rand(100));
    api.chacha20(rand(32), rand(12), rand(100));
    put(msg.subarray(100), 1024);
    expect(core.fn("aead_encrypt")(at(1024), at(1024), 200)).toBe(Status.OK);
    const second = core.get(at(1024), 200);
    expect(core.fn("aead_seal_finish")(at(2048))).toBe(Status.OK);
    expect(toHex(concat(first, second, core.get(at(2048), 16)))).toBe(toHex(nodeSeal(key, nonce, msg, aad)));
  });

  it("enforces the call order with ERR_STATE", () => {
    const f = (name: string) => core.fn(name);
    const key = rand(32), nonce = rand(12);
    f("aead_end")();
    // Nothing started.
    expect(f("aead_aad")(at(1024), 1)).toBe(Status.ERR_STATE);
    expect(f("aead_encrypt")(at(1024), at(1024), 1)).toBe(Status.ERR_STATE);
    expect(f("aead_seal_finish")(at(1024))).toBe(Status.ERR_STATE);
    expect(f("aead_auth")(at(1024), 1)).toBe(Status.ERR_STATE);
    expect(f("aead_verify")(at(1024))).toBe(Status.ERR_STATE);
    expect(f("aead_decrypt")(at(1024), at(1024), 1)).toBe(Status.ERR_STATE);

    // Seal: no AAD after data, no open-side calls.
    put(key, 0);
    put(nonce, 32);
    expect(f("aead_begin")(at(0), at(32), 12)).toBe(Status.OK);
    expect(f("aead_decrypt")(at(1024), at(1024), 1)).toBe(Status.ERR_STATE);
    expect(f("aead_encrypt")(at(1024), at(1024), 10)).toBe(Status.OK);
    expect(f("aead_aad")(at(1024), 1)).toBe(Status.ERR_STATE);
    expect(f("aead_auth")(at(1024), 1)).toBe(Status.ERR_STATE);
    expect(f("aead_verify")(at(1024))).toBe(Status.ERR_STATE);
    expect(f("aead_seal_finish")(at(1024))).toBe(Status.OK);
    expect(f("aead_encrypt")(at(1024), at(1024), 1)).toBe(Status.ERR_STATE);

    // Open: decrypt only after a successful verify, at most the authenticated length.
    const sealed = nodeSeal(key, nonce, rand(100), zeros(0));
    expect(f("aead_begin")(at(0), at(32), 12)).toBe(Status.OK);
    put(sealed, 1024);
    expect(f("aead_auth")(at(1024), 100)).toBe(Status.OK);
    expect(f("aead_decrypt")(at(1024), at(1024), 1)).toBe(Status.ERR_STATE);
    expect(f("aead_encrypt")(at(1024), at(1024), 1)).toBe(Status.ERR_STATE);
    expect(f("aead_seal_finish")(at(2048))).toBe(Status.ERR_STATE);
    expect(f("aead_verify")(at(1024 + 100))).toBe(Status.OK);
    expect(f("aead_auth")(at(1024), 1)).toBe(Status.ERR_STATE);
    expect(f("aead_decrypt")(at(1024), at(1024), 60)).toBe(Status.OK);
    expect(f("aead_decrypt")(at(1084), at(1084), 41)).toBe(Status.ERR_LENGTH);
    expect(f("aead_decrypt")(at(1084), at(1084), 40)).toBe(Status.OK);
    expect(f("aead_decrypt")(at(1024), at(1024), 1)).toBe(Status.ERR_LENGTH);
    expect(f("aead_end")()).toBe(Status.OK);
    expect(f("aead_decrypt")(at(1024), at(1024), 0)).toBe(Status.ERR_STATE);

    // A failed verify ends the message.
    expect(f("aead_begin")(at(0), at(32), 12)).toBe(Status.OK);
    put(sealed, 1024);
    core.u8[at(1024)] ^= 1;
    expect(f("aead_auth")(at(1024), 100)).toBe(Status.OK);
    expect(f("aead_verify")(at(1124))).toBe(Status.ERR_AUTH);
    expect(f("aead_decrypt")(at(1024), at(1024), 1)).toBe(Status.ERR_STATE);
    expect(f("aead_verify")(at(1124))).toBe(Status.ERR_STATE);
  });
});

describe("bad input", () => {
  it("throws clear TypeError / RangeError for wrong types and lengths", () => {
    const c = api.chacha20poly1305, x = api.xchacha20poly1305;
    const k = zeros(32), n12 = zeros(12), n24 = zeros(24), m = zeros(10);
    expect(() => c.seal(zeros(31), n12, m)).toThrow(/key must be 32 bytes, got 31/);
    expect(() => c.seal(zeros(33), n12, m)).toThrow(RangeError);
    expect(() => c.seal(k, zeros(11), m)).toThrow(/nonce must be 12 bytes/);
    expect(() => c.seal(k, n24, m)).toThrow(RangeError);
    expect(() => x.seal(k, n12, m)).toThrow(/nonce must be 24 bytes/);
    expect(() => x.open(k, zeros(16), zeros(16))).toThrow(RangeError);
    expect(() => c.open(k, n24, zeros(16))).toThrow(RangeError);
    expect(() => c.seal("key" as unknown as Uint8Array, n12, m)).toThrow(TypeError);
    expect(() => c.seal(k, n12, [1, 2, 3] as unknown as Uint8Array)).toThrow(/plaintext must be a Uint8Array/);
    expect(() => c.seal(k, n12, m, "aad" as unknown as Uint8Array)).toThrow(/aad must be a Uint8Array/);
    expect(() => c.open(k, n12, null as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => x.open(k, n24, zeros(20), 5 as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => api.chacha20(k, n12, m, -1)).toThrow(RangeError);
    expect(() => api.chacha20(k, n12, m, 1.5)).toThrow(RangeError);
    expect(() => api.hchacha20(k, n12)).toThrow(/nonce must be 16 bytes/);
    expect(() => api.poly1305(zeros(16), m)).toThrow(RangeError);
    // Buffer is a Uint8Array and is accepted.
    expect(c.seal(Buffer.alloc(32), Buffer.alloc(12), Buffer.from("hi")).length).toBe(18);
  });

  it("raw exports return ERR_RANGE for pointers or lengths outside the I/O buffer", () => {
    const base = core.bufferPtr, len = core.bufferLen, end = base + len;
    const ok = base;
    const badPtrs = [0, base - 1, end, end - 11, 65536, 0x7fffffff, -1, -2147483648];
    const f = (name: string) => core.fn(name);
    for (const p of badPtrs) {
      expect(f("chacha20_xor")(p, ok + 32, 0, ok + 64, ok + 64, 1)).toBe(Status.ERR_RANGE);
      expect(f("chacha20_xor")(ok, p, 0, ok + 64, ok + 64, 1)).toBe(Status.ERR_RANGE);
      expect(f("chacha20_xor")(ok, ok + 32, 0, p, ok + 64, 16)).toBe(Status.ERR_RANGE);
      expect(f("chacha20_xor")(ok, ok + 32, 0, ok + 64, p, 16)).toBe(Status.ERR_RANGE);
      expect(f("hchacha20")(p, ok + 32, ok + 64)).toBe(Status.ERR_RANGE);
      expect(f("hchacha20")(ok, p, ok + 64)).toBe(Status.ERR_RANGE);
      expect(f("hchacha20")(ok, ok + 32, p)).toBe(Status.ERR_RANGE);
      expect(f("poly1305_mac")(p, ok + 32, 1, ok + 64)).toBe(Status.ERR_RANGE);
      expect(f("poly1305_mac")(ok, p, 16, ok + 64)).toBe(Status.ERR_RANGE);
      expect(f("poly1305_mac")(ok, ok + 32, 1, p)).toBe(Status.ERR_RANGE);
      for (const nl of [12, 24]) {
        expect(f("aead_seal")(p, ok + 32, nl, ok, 0, ok + 64, 10, ok + 64)).toBe(Status.ERR_RANGE);
        expect(f("aead_seal")(ok, p, nl, ok, 0, ok + 64, 10, ok + 64)).toBe(Status.ERR_RANGE);
        expect(f("aead_seal")(ok, ok + 32, nl, p, 16, ok + 64, 10, ok + 64)).toBe(Status.ERR_RANGE);
        expect(f("aead_seal")(ok, ok + 32, nl, ok, 0, p, 16, ok + 64)).toBe(Status.ERR_RANGE);
        expect(f("aead_seal")(ok, ok + 32, nl, ok, 0, ok + 64, 10, p)).toBe(Status.ERR_RANGE);
        expect(f("aead_open")(p, ok + 32, nl, ok, 0, ok + 64, 32, ok + 64)).toBe(Status.ERR_RANGE);
        expect(f("aead_open")(ok, p, nl, ok, 0, ok + 64, 32, ok + 64)).toBe(Status.ERR_RANGE);
        expect(f("aead_open")(ok, ok + 32, nl, p, 16, ok + 64, 32, ok + 64)).toBe(Status.ERR_RANGE);
        expect(f("aead_open")(ok, ok + 32, nl, ok, 0, p, 32, ok + 64)).toBe(Status.ERR_RANGE);
        expect(f("aead_open")(ok, ok + 32, nl, ok, 0, ok + 64, 32, p)).toBe(Status.ERR_RANGE);
        expect(f("aead_begin")(p, ok + 32, nl)).toBe(Status.ERR_RANGE);
        expect(f("aead_begin")(ok, p, nl)).toBe(Status.ERR_RANGE);
      }
      expect(f("aead_aad")(p, 16)).toBe(Status.ERR_RANGE);
      expect(f("aead_encrypt")(p, ok, 16)).toBe(Status.ERR_RANGE);
      expect(f("aead_encrypt")(ok, p, 16)).toBe(Status.ERR_RANGE);
      expect(f("aead_seal_finish")(p)).toBe(Status.ERR_RANGE);
      expect(f("aead_auth")(p, 16)).toBe(Status.ERR_RANGE);
      expect(f("aead_verify")(p)).toBe(Status.ERR_RANGE);
      expect(f("aead_decrypt")(p, ok, 16)).toBe(Status.ERR_RANGE);
      expect(f("aead_decrypt")(ok, p, 16)).toBe(Status.ERR_RANGE);
    }
    // Negative and oversized lengths.
    for (const n of [-1, -16, len + 1, 0x7fffffff, -2147483648]) {
      expect(f("chacha20_xor")(ok, ok + 32, 0, ok + 64, ok + 64, n)).toBe(Status.ERR_RANGE);
      expect(f("poly1305_mac")(ok, ok + 32, n, ok + 64)).toBe(Status.ERR_RANGE);
      expect(f("aead_seal")(ok, ok + 32, 12, ok, n, ok + 64, 10, ok + 64)).toBe(Status.ERR_RANGE);
      expect(f("aead_seal")(ok, ok + 32, 12, ok, 0, ok + 64, n, ok + 64)).toBe(Status.ERR_RANGE);
      expect(f("aead_open")(ok, ok + 32, 12, ok, n, ok + 64, 26, ok + 64)).toBe(Status.ERR_RANGE);
      expect(f("aead_open")(ok, ok + 32, 12, ok, 0, ok + 64, n, ok + 64)).toBe(Status.ERR_RANGE);
      expect(f("aead_aad")(ok, n)).toBe(Status.ERR_RANGE);
      expect(f("aead_encrypt")(ok, ok, n)).toBe(Status.ERR_RANGE);
      expect(f("aead_auth")(ok, n)).toBe(Status.ERR_RANGE);
      expect(f("aead_decrypt")(ok, ok, n)).toBe(Status.ERR_RANGE);
    }
    // Output that would run past the end: seal needs msgLen + 16 bytes at out, open ctLen - 16.
    expect(f("aead_open")(ok, ok + 32, 12, ok, 0, ok + 64, 26, end - 9)).toBe(Status.ERR_RANGE);
    expect(f("aead_seal")(ok, ok + 32, 12, ok, 0, ok + 64, 10, end - 25)).toBe(Status.ERR_RANGE);
    expect(f("aead_seal")(ok, ok + 32, 12, ok, 0, ok + 64, 10, end - 26)).toBe(Status.OK);
  });

  it("raw exports return ERR_LENGTH for unsupported nonce sizes and a ciphertext shorter than the tag", () => {
    const ok = core.bufferPtr;
    const f = (name: string) => core.fn(name);
    for (const nl of [0, 8, 11, 13, 16, 23, 25, -1, 0x7fffffff]) {
      expect(f("aead_seal")(ok, ok + 32, nl, ok, 0, ok + 64, 10, ok + 64)).toBe(Status.ERR_LENGTH);
      expect(f("aead_open")(ok, ok + 32, nl, ok, 0, ok + 64, 26, ok + 64)).toBe(Status.ERR_LENGTH);
      expect(f("aead_begin")(ok, ok + 32, nl)).toBe(Status.ERR_LENGTH);
    }
    for (const n of [0, 1, 15]) {
      expect(f("aead_open")(ok, ok + 32, 12, ok, 0, ok + 64, n, ok + 64)).toBe(Status.ERR_LENGTH);
    }
  });

  it("a failed open leaves the output region unchanged (one call and streaming)", () => {
    const key = rand(32), nonce = rand(12), msg = rand(255), aad = rand(9);
    const sealed = nodeSeal(key, nonce, msg, aad);
    const base = core.bufferPtr;
    const u8 = core.u8;
    for (let i = 0; i < 272; i++) {
      const bad = sealed.slice();
      bad[i % bad.length] ^= 1 << (i % 8);
      core.put(key, 0);
      core.put(nonce, 32);
      core.put(aad, 64);
      core.put(bad, 128);
      u8.fill(0xa5, base + 1024, base + 1024 + 512);
      expect(core.fn("aead_open")(base, base + 32, 12, base + 64, 9, base + 128, bad.length, base + 1024))
        .toBe(Status.ERR_AUTH);
      expect(u8.subarray(base + 1024, base + 1024 + 512).every((b) => b === 0xa5)).toBe(true);
      // In place: the ciphertext stays as it was.
      expect(core.fn("aead_open")(base, base + 32, 12, base + 64, 9, base + 128, bad.length, base + 128))
        .toBe(Status.ERR_AUTH);
      expect(core.get(base + 128, bad.length)).toEqual(bad);
    }
    core.put(sealed, 128);
    expect(core.fn("aead_open")(base, base + 32, 12, base + 64, 9, base + 128, sealed.length, base + 1024)).toBe(Status.OK);
    expect(core.get(base + 1024, 255)).toEqual(msg);
  });

  it("leaves no copy of the key in linear memory after seal, open and streaming", () => {
    const findKey = (key: Uint8Array) => Buffer.from(core.u8).indexOf(Buffer.from(key)) >= 0;
    const key = rand(32), nonce = rand(24), msg = rand(300), big = rand(40000);
    const sealed = api.xchacha20poly1305.seal(key, nonce, msg);
    expect(api.xchacha20poly1305.open(key, nonce, sealed)).toEqual(msg);
    const sealedBig = api.xchacha20poly1305.seal(key, nonce, big);
    expect(api.xchacha20poly1305.open(key, nonce, sealedBig)).toEqual(big);
    sealedBig[5] ^= 1;
    expect(api.xchacha20poly1305.open(key, nonce, sealedBig)).toBeNull();
    expect(findKey(key)).toBe(false);
    const subkey = api.hchacha20(key, nonce.subarray(0, 16));
    expect(findKey(subkey)).toBe(false);
  });
});
