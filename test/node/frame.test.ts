// The frame format of firmware/cores/node/frame.ts against PROTOCOL.md (through
// the TypeScript reference): header checks in their order, padding classes,
// relay fields, and the promise that bytes of any length and content are
// refused with a reason and never trap.
import { randomBytes, randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { buildAs, fn, type AsBuild, type AsExports } from "../helpers/as-build.js";
import { ROOT } from "../helpers/as-build.js";
import {
  BODY_CLASSES, DROP, FRAME_LENGTHS, LABEL, ReferenceProtocol, bodyClassFor, checkFrame,
} from "./reference-protocol.js";

type I32Fn = (...args: number[]) => number;

let build: AsBuild;
let ex: AsExports;
let base: number;
let ref: ReferenceProtocol;

// Scratch layout (offsets in the entry's scratch buffer).
const FRAME = 0;      // up to 512 bytes of received data
const OUT = 512;      // 256: plaintext out
const KEY = 768;      // 32
const KEY2 = 800;     // 32: prekey secret / second key
const ACKOUT = 832;   // 32

const rand = (n: number) => new Uint8Array(randomBytes(n));
const mem = () => new Uint8Array(ex.memory.buffer);
const put = (off: number, bytes: Uint8Array) => mem().set(bytes, base + off);
const get = (off: number, n: number) => mem().slice(base + off, base + off + n);
const call = (name: string, ...args: number[]) => fn<I32Fn>(ex, name)(...args);
const at = (off: number) => base + off;

function asCheck(frame: Uint8Array): number {
  put(FRAME, frame);
  return call("frame_check", at(FRAME), frame.length);
}

beforeAll(async () => {
  build = await buildAs("test/node/as/seal.entry.ts");
  ex = build.exports;
  base = call("scratch_ptr");
  ref = await ReferenceProtocol.create();
});

describe("frame.ts builds for wasm3", () => {
  it("uses only features wasm3 runs, imports nothing and has one fixed page", () => {
    expect(build.unsupported).toEqual([]);
    expect(build.report.imports).toEqual([]);
    expect(build.report.memories).toEqual([{ minPages: 1, maxPages: 1, shared: false }]);
  });
});

describe("padding classes", () => {
  it("bodies are 48, 112 or 197 bytes: frames of 106, 170 and 255", () => {
    expect(FRAME_LENGTHS).toEqual([106, 170, 255]);
  });

  it("bodyClassFor picks the smallest class at every boundary, 0 beyond 197 and for negatives", () => {
    for (let n = -3; n <= 260; n++) {
      const expected = n < 0 ? 0 : n <= 48 ? 48 : n <= 112 ? 112 : n <= 197 ? 197 : 0;
      expect(call("body_class_for", n)).toBe(expected);
      expect(bodyClassFor(n)).toBe(expected);
    }
  });
});

/** A header that passes every key-free check. */
function validFrame(len: number, type: number, hopLimit = 3, hopsLeft = 2): Uint8Array {
  const f = rand(len);
  f[0] = (1 << 6) | (type << 3);
  f[1] = (hopLimit << 4) | hopsLeft;
  return f;
}

describe("frameCheck", () => {
  it("accepts a valid header at each class length, for each type that allows it", () => {
    for (const len of FRAME_LENGTHS) {
      for (let type = 0; type < 4; type++) {
        const allowed = type === 0 ? len === 255 : type === 3 ? len === 106 : true;
        expect(asCheck(validFrame(len, type))).toBe(allowed ? DROP.NONE : DROP.BAD_PADDING);
      }
    }
  });

  it("names the length reason around every boundary", () => {
    const cases: [number, number][] = [
      [0, DROP.TOO_SHORT], [1, DROP.TOO_SHORT], [57, DROP.TOO_SHORT], [58, DROP.TOO_SHORT], [105, DROP.TOO_SHORT],
      [106, DROP.NONE], [107, DROP.BAD_PADDING], [169, DROP.BAD_PADDING], [170, DROP.NONE], [171, DROP.BAD_PADDING],
      [254, DROP.BAD_PADDING], [255, DROP.NONE], [256, DROP.TOO_LONG], [300, DROP.TOO_LONG], [512, DROP.TOO_LONG],
    ];
    for (const [len, reason] of cases) {
      const f = validFrame(len, 1);
      expect([len, asCheck(f)]).toEqual([len, reason]);
      expect([len, checkFrame(f)]).toEqual([len, reason]);
    }
  });

  it("negative and huge lengths are refused without reading memory", () => {
    for (const len of [-1, -255, -2147483648, 2147483647, 65536]) {
      expect(call("frame_check", at(FRAME), len)).toBe(len < 0 ? DROP.TOO_SHORT : DROP.TOO_LONG);
    }
    // A pointer past the end of memory is fine while the length says "no".
    expect(call("frame_check", 0x7ffffff0, 10)).toBe(DROP.TOO_SHORT);
  });

  it("agrees with the reference on all 65,536 flags/hops pairs at every class length", () => {
    for (const len of FRAME_LENGTHS) {
      const f = rand(len);
      put(FRAME, f);
      const m = mem();
      for (let flags = 0; flags < 256; flags++) {
        for (let hops = 0; hops < 256; hops++) {
          m[base + FRAME] = flags;
          m[base + FRAME + 1] = hops;
          f[0] = flags;
          f[1] = hops;
          const got = call("frame_check", at(FRAME), len);
          const want = checkFrame(f);
          if (got !== want) expect({ len, flags, hops, got }).toEqual({ len, flags, hops, got: want });
        }
      }
    }
  });

  it("checks in order: version, reserved bits, type, hops, then the size the type requires", () => {
    const f = validFrame(170, 1);
    expect(asCheck(f)).toBe(DROP.NONE);
    expect(asCheck(Uint8Array.of(0x88, 0x00, ...f.subarray(2)))).toBe(DROP.BAD_VERSION); // version 2
    expect(asCheck(Uint8Array.of(0x09, 0x00, ...f.subarray(2)))).toBe(DROP.BAD_VERSION); // version 0
    expect(asCheck(Uint8Array.of(0x49, 0x00, ...f.subarray(2)))).toBe(DROP.BAD_FLAGS);
    expect(asCheck(Uint8Array.of(0x68, 0x00, ...f.subarray(2)))).toBe(DROP.BAD_TYPE);   // type 5
    expect(asCheck(Uint8Array.of(0x78, 0x00, ...f.subarray(2)))).toBe(DROP.BAD_TYPE);   // type 7
    expect(asCheck(Uint8Array.of(0x48, 0x00, ...f.subarray(2)))).toBe(DROP.BAD_HOPS);   // limit 0
    expect(asCheck(Uint8Array.of(0x48, 0x80, ...f.subarray(2)))).toBe(DROP.BAD_HOPS);   // limit 8
    expect(asCheck(Uint8Array.of(0x48, 0x34, ...f.subarray(2)))).toBe(DROP.BAD_HOPS);   // left 4 > limit 3
    expect(asCheck(Uint8Array.of(0x48, 0x10, ...f.subarray(2)))).toBe(DROP.NONE);       // limit 1, left 0
    expect(asCheck(Uint8Array.of(0x48, 0x77, ...f.subarray(2)))).toBe(DROP.NONE);       // limit 7, left 7
    expect(asCheck(Uint8Array.of(0x40, 0x33, ...f.subarray(2)))).toBe(DROP.BAD_PADDING); // ANNOUNCE in 170
    expect(asCheck(Uint8Array.of(0x58, 0x33, ...f.subarray(2)))).toBe(DROP.BAD_PADDING); // ACK in 170
  });
});

describe("relay fields", () => {
  it("reads and sets hops left, next_hop and prev_hop; refuses hops left above the limit", () => {
    const f = validFrame(106, 3, 5, 5);
    put(FRAME, f);
    expect(call("frame_hop_limit", at(FRAME))).toBe(5);
    expect(call("frame_hops_left", at(FRAME))).toBe(5);
    expect(call("frame_type", at(FRAME))).toBe(3);
    expect(call("frame_set_relay_fields", at(FRAME), 4, 0x11223344, 0xa1b2c3d4 | 0)).toBe(1);
    const g = get(FRAME, 106);
    expect(g[1]).toBe(0x54);
    expect(Array.from(g.subarray(2, 10))).toEqual([0x44, 0x33, 0x22, 0x11, 0xd4, 0xc3, 0xb2, 0xa1]);
    expect(call("frame_next_hop", at(FRAME)) >>> 0).toBe(0x11223344);
    expect(call("frame_prev_hop", at(FRAME)) >>> 0).toBe(0xa1b2c3d4);
    expect(Array.from(g.subarray(10))).toEqual(Array.from(f.subarray(10)));
    expect(call("frame_set_relay_fields", at(FRAME), 6, 1, 2)).toBe(0);
    expect(call("frame_set_relay_fields", at(FRAME), -1, 1, 2)).toBe(0);
    expect(Array.from(get(FRAME, 106))).toEqual(Array.from(g));
  });
});

describe("received bytes of any length and content", () => {
  const opens: [string, (len: number) => number][] = [
    ["open_announce", (len) => call("open_announce", at(FRAME), len, at(KEY), at(OUT))],
    ["open_channel", (len) => call("open_channel", at(FRAME), len, at(KEY), at(OUT))],
    ["open_direct", (len) => call("open_direct", at(FRAME), len, at(KEY), at(KEY2), at(OUT), at(ACKOUT))],
    ["open_ack", (len) => call("open_ack", at(FRAME), len, at(KEY), at(OUT))],
  ];

  it("random strings of every length 0..300 are refused with the reference's reason, memory unchanged", () => {
    const pages = ex.memory.buffer.byteLength;
    put(KEY, rand(32));
    put(KEY2, rand(32));
    for (let len = 0; len <= 300; len++) {
      for (let trial = 0; trial < 12; trial++) {
        const f = rand(len);
        // Half of the trials carry a header that passes the key-free checks, so
        // that lengths 106/170/255 reach authentication too.
        if (trial % 2 === 1 && len >= 2) {
          f[0] = (1 << 6) | (randomInt(4) << 3);
          const limit = 1 + randomInt(7);
          f[1] = (limit << 4) | randomInt(limit + 1);
        }
        const refReason = checkFrame(f);
        put(FRAME, f);
        const reason = call("frame_check", at(FRAME), len);
        expect(reason).toBe(refReason);
        if (!FRAME_LENGTHS.includes(len)) expect(reason).not.toBe(DROP.NONE);
        for (const [name, open] of opens) {
          put(FRAME, f);
          const got = open(len);
          if (got === DROP.NONE) throw new Error(`${name} accepted ${len} random bytes`);
          if (reason !== DROP.NONE) expect([name, got]).toEqual([name, reason]);
          else expect([DROP.BAD_TYPE, DROP.AUTH_FAILED, DROP.BAD_KEY]).toContain(got);
        }
      }
    }
    expect(ex.memory.buffer.byteLength).toBe(pages);
  });

  it("the reference refuses the same random frames for the same reasons", () => {
    const key = rand(32);
    for (const len of FRAME_LENGTHS) {
      for (let trial = 0; trial < 40; trial++) {
        const f = validFrame(len, randomInt(4), 1 + randomInt(7), 0);
        put(FRAME, f);
        put(KEY, key);
        const type = (f[0] >> 3) & 7;
        const want = ref.openChannel(f, key).reason;
        expect(call("open_channel", at(FRAME), len, at(KEY), at(OUT))).toBe(want);
        expect(want).toBe(checkFrame(f) !== DROP.NONE ? checkFrame(f) : type === 1 ? DROP.AUTH_FAILED : DROP.BAD_TYPE);
      }
    }
  });

  it("nothing is written to the output on a refusal", () => {
    const marker = rand(256);
    for (let len = 0; len <= 300; len += 7) {
      put(OUT, marker);
      put(FRAME, rand(len));
      call("open_channel", at(FRAME), len, at(KEY), at(OUT));
      expect(Buffer.compare(get(OUT, 256), marker)).toBe(0);
    }
    for (const len of BODY_CLASSES.map((n) => n + 58)) {
      put(OUT, marker);
      put(FRAME, validFrame(len, 1));
      expect(call("open_channel", at(FRAME), len, at(KEY), at(OUT))).toBe(DROP.AUTH_FAILED);
      expect(Buffer.compare(get(OUT, 256), marker)).toBe(0);
    }
  });
});

describe("PROTOCOL.md matches the code", () => {
  const read = (rel: string) => readFileSync(`${ROOT}/${rel}`, "utf8");
  const protocol = read("firmware/PROTOCOL.md");

  it("the drop reason table lists the codes of frame.ts and the reference", () => {
    const table = new Map<string, number>();
    for (const m of protocol.matchAll(/^\| (\d+) \| `([A-Z_]+)` \|/gm)) table.set(m[2], Number(m[1]));
    const code = new Map<string, number>();
    for (const m of read("firmware/cores/node/frame.ts").matchAll(/export const DROP_([A-Z_]+): i32 = (\d+);/g)) {
      code.set(m[1], Number(m[2]));
    }
    expect(Object.fromEntries(table)).toEqual(DROP);
    expect(Object.fromEntries(code)).toEqual(DROP);
  });

  it("the label table lists exactly the byte strings of keys.ts and seal.ts, and the reference's labels", () => {
    const documented = [...protocol.matchAll(/^\| `([^`]+)` \| (\d+) \|/gm)].map((m) => {
      expect(m[1].length).toBe(Number(m[2]));
      return m[1];
    });
    const inCode: string[] = [];
    for (const file of ["firmware/cores/node/keys.ts", "firmware/cores/node/seal.ts"]) {
      for (const m of read(file).matchAll(/\/\*\* "([^"]+)"[^*]*\*\/\s*const \w+: usize = memory\.data<u8>\(\[([^\]]+)\]\);\s*const \w+_LEN: i32 = (\d+);/g)) {
        const bytes = m[2].split(",").map((x) => Number(x.trim()));
        expect(String.fromCharCode(...bytes)).toBe(m[1]);
        expect(bytes.length).toBe(Number(m[3]));
        inCode.push(m[1]);
      }
    }
    const reference = Object.values(LABEL).map((b) => new TextDecoder().decode(b));
    expect([...inCode].sort()).toEqual([...documented].sort());
    expect([...reference].sort()).toEqual([...documented].sort());
  });
});
