// SHA-256, SHA-512, HMAC-SHA256, HKDF-SHA256: spec vectors, Wycheproof, node:crypto.
import { createHash as nodeHash, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCrypto, Status, type Crypto } from "../../host-tools/crypto/index.js";
import { hex, loadSuite, toHex } from "../helpers/wycheproof.js";

let c: Crypto;
beforeAll(async () => { c = await loadCrypto(); });

const ascii = (s: string) => new TextEncoder().encode(s);
const fill = (byte: number, n: number) => new Uint8Array(n).fill(byte);
const range = (from: number, to: number) => Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("SHA-256 / SHA-512 (FIPS 180-4 examples)", () => {
  it("hashes the empty string, 'abc' and the two-block message", () => {
    expect(toHex(c.sha256(new Uint8Array()))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(toHex(c.sha256(ascii("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(toHex(c.sha256(ascii("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))))
      .toBe("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    expect(toHex(c.sha512(new Uint8Array()))).toBe(
      "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
    expect(toHex(c.sha512(ascii("abc")))).toBe(
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  });

  it("matches node:crypto for every length 0..300 and random lengths up to 4096", () => {
    const lengths = [...Array(301).keys(), ...Array.from({ length: 200 }, () => Math.floor(Math.random() * 4097))];
    for (const n of lengths) {
      const m = randomBytes(n);
      expect(toHex(c.sha256(m))).toBe(nodeHash("sha256").update(m).digest("hex"));
      expect(toHex(c.sha512(m))).toBe(nodeHash("sha512").update(m).digest("hex"));
    }
  });

  it("streams inputs larger than the core buffer (64 KiB, 1 MiB + 3)", () => {
    for (const n of [c.core.bufferLen - 1, c.core.bufferLen, c.core.bufferLen + 1, 65536, (1 << 20) + 3]) {
      const m = randomBytes(n);
      expect(toHex(c.sha256(m))).toBe(nodeHash("sha256").update(m).digest("hex"));
      expect(toHex(c.sha512(m))).toBe(nodeHash("sha512").update(m).digest("hex"));
    }
  });
});

describe("HMAC-SHA256 (RFC 4231 §4)", () => {
  const cases: Array<[string, Uint8Array, Uint8Array, string]> = [
    ["1", fill(0x0b, 20), ascii("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
    ["2", ascii("Jefe"), ascii("what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
    ["3", fill(0xaa, 20), fill(0xdd, 50), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"],
    ["4", range(0x01, 0x19), fill(0xcd, 50), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"],
    ["5 (truncated to 128 bits)", fill(0x0c, 20), ascii("Test With Truncation"), "a3b6167473100ee06e0c796c2955552b"],
    ["6", fill(0xaa, 131), ascii("Test Using Larger Than Block-Size Key - Hash Key First"),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"],
    ["7", fill(0xaa, 131), ascii("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."),
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"],
  ];
  for (const [name, key, data, tag] of cases) {
    it(`test case ${name}`, () => {
      expect(toHex(c.hmacSha256(key, data)).slice(0, tag.length)).toBe(tag);
    });
  }

  it("matches node:crypto on random keys (0..200 bytes, and larger than the buffer) and messages", () => {
    for (let i = 0; i < 400; i++) {
      const key = randomBytes(i < 5 ? c.core.bufferLen + 100 * i : Math.floor(Math.random() * 201));
      const msg = randomBytes(Math.floor(Math.random() * 4097));
      expect(toHex(c.hmacSha256(key, msg))).toBe(createHmac("sha256", key).update(msg).digest("hex"));
    }
    const big = randomBytes(1 << 20);
    expect(toHex(c.hmacSha256(ascii("k"), big))).toBe(createHmac("sha256", "k").update(big).digest("hex"));
  });
});

describe("HKDF-SHA256 (RFC 5869 appendix A)", () => {
  it("test case 1: basic", () => {
    const okm = c.hkdfSha256(fill(0x0b, 22), range(0x00, 0x0c), range(0xf0, 0xf9), 42);
    expect(toHex(okm)).toBe("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    // Extract alone (§2.2): PRK = HMAC(salt, IKM)
    expect(toHex(c.hmacSha256(range(0x00, 0x0c), fill(0x0b, 22))))
      .toBe("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
  });
  it("test case 2: longer inputs and outputs", () => {
    const okm = c.hkdfSha256(range(0x00, 0x4f), range(0x60, 0xaf), range(0xb0, 0xff), 82);
    expect(toHex(okm)).toBe(
      "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87");
  });
  it("test case 3: empty salt and info", () => {
    const okm = c.hkdfSha256(fill(0x0b, 22), new Uint8Array(), new Uint8Array(), 42);
    expect(toHex(okm)).toBe("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  });
  it("matches node:crypto hkdfSync on random inputs and every output length up to 8160", () => {
    for (let i = 0; i < 300; i++) {
      const ikm = randomBytes(Math.floor(Math.random() * 4097));
      const salt = randomBytes(Math.floor(Math.random() * 100));
      const info = randomBytes(Math.floor(Math.random() * 100));
      const len = i < 10 ? 8160 - i : 1 + Math.floor(Math.random() * 600);
      const expected = Buffer.from(hkdfSync("sha256", ikm, salt, info, len)).toString("hex");
      expect(toHex(c.hkdfSha256(ikm, salt, info, len))).toBe(expected);
    }
  });
  it("rejects impossible lengths and wrong types with clear errors", () => {
    const z = new Uint8Array(1);
    expect(() => c.hkdfSha256(z, z, z, 8161)).toThrow(RangeError);
    expect(() => c.hkdfSha256(z, z, z, -1)).toThrow(RangeError);
    expect(() => c.hkdfSha256(z, z, z, 1.5)).toThrow(RangeError);
    expect(() => c.hkdfSha256(z, z, new Uint8Array(c.core.bufferLen), 32)).toThrow(/exceeds/);
    expect(() => c.hkdfSha256("x" as unknown as Uint8Array, z, z, 1)).toThrow(TypeError);
    expect(() => c.sha256([1, 2] as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe.skipIf(!loadSuite("hmac_sha256"))("Wycheproof hmac_sha256", () => {
  it("accepts every valid tag and rejects every invalid one", () => {
    const suite = loadSuite("hmac_sha256")!;
    let ran = 0;
    for (const group of suite.testGroups) {
      const tagBytes = (group.tagSize as number) / 8;
      for (const t of group.tests) {
        const tag = toHex(c.hmacSha256(hex(t.key as string), hex(t.msg as string)).subarray(0, tagBytes));
        const matches = tag === t.tag;
        expect(matches, `tcId ${t.tcId} ${t.comment}`).toBe(t.result === "valid");
        ran++;
      }
    }
    expect(ran).toBe(suite.numberOfTests);
  });
});

describe.skipIf(!loadSuite("hkdf_sha256"))("Wycheproof hkdf_sha256", () => {
  it("derives every valid output; invalid sizes throw RangeError", () => {
    const suite = loadSuite("hkdf_sha256")!;
    let ran = 0;
    for (const group of suite.testGroups) {
      for (const t of group.tests) {
        const args = [hex(t.ikm as string), hex(t.salt as string), hex(t.info as string), t.size as number] as const;
        if (t.result === "valid") expect(toHex(c.hkdfSha256(...args)), `tcId ${t.tcId}`).toBe(t.okm);
        else expect(() => c.hkdfSha256(...args), `tcId ${t.tcId}`).toThrow(RangeError);
        ran++;
      }
    }
    expect(ran).toBe(suite.numberOfTests);
  });
});

describe("raw hash ABI refuses bad calls without trapping", () => {
  it("returns ERR_RANGE for pointers outside the I/O buffer and ERR_STATE out of order", () => {
    const { core } = c;
    const end = core.bufferPtr + core.bufferLen;
    expect(core.fn("sha256")(0, 4, core.bufferPtr)).toBe(Status.ERR_RANGE);
    expect(core.fn("sha256")(core.bufferPtr, core.bufferLen, end - 31)).toBe(Status.ERR_RANGE);
    expect(core.fn("sha256")(core.bufferPtr, -1, core.bufferPtr)).toBe(Status.ERR_RANGE);
    expect(core.fn("sha512")(0x7fffffff, 1, core.bufferPtr)).toBe(Status.ERR_RANGE);
    expect(core.fn("sha512_update")(core.bufferPtr, 1)).toBe(Status.ERR_STATE);
    expect(core.fn("sha256_final")(core.bufferPtr)).toBe(Status.ERR_STATE);
    expect(core.fn("hmac_sha256_final")(core.bufferPtr)).toBe(Status.ERR_STATE);
    expect(core.fn("hkdf_sha256_expand")(core.bufferPtr, 32, core.bufferPtr, 0, core.bufferPtr + 64, 8161)).toBe(Status.ERR_LENGTH);
    expect(core.fn("hmac_sha256_init")(-5, 10)).toBe(Status.ERR_RANGE);
    // still works afterwards
    expect(toHex(c.sha256(ascii("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});
