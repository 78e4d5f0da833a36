// The laptop codec of the serial link (host-tools/serial/codec.ts) against
// firmware/SERIAL.md: CRC check value, COBS round trips and bounds, the example
// bytes of the document, and the streaming decoder's resynchronisation: every kind
// of bad frame is dropped with its counted reason and the next good frame gets through,
// in any chunking.
import { describe, expect, it } from "vitest";
import {
  DROP_REASONS, ENCODED_MAX, FRAME_MAX, Msg, PACKET_MAX, PAYLOAD_MAX, Req, SerialDecoder, cobsDecode, cobsEncode, crc16,
  encodeLog, encodePacket, encodeRequest, packetBytes, parseDeviceMessage, request, zeroCounters, type Packet,
} from "../../host-tools/serial/codec.js";
import { DEFAULT_CONFIG } from "../../host-tools/node/protocol.js";

/** xorshift32, so failures reproduce. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
  return {
    int: (n: number) => next() % n,
    bytes(n: number, zeroEvery = 0): Uint8Array {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = zeroEvery && next() % zeroEvery === 0 ? 0 : (next() % 255) + 1;
      return b;
    },
  };
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
/** A decoder that accepts every intact packet (the type check is tested separately). */
const anyType = () => new SerialDecoder({ accept: () => true });
const without0 = (b: Uint8Array) => b.subarray(1, b.length - 1);

describe("CRC-16/CCITT-FALSE", () => {
  it("has the catalogue check value 0x29B1 and the document's example bytes", () => {
    expect(crc16(new TextEncoder().encode("123456789"))).toBe(0x29b1);
    expect(crc16(new Uint8Array(0))).toBe(0xffff);
    expect(hex(packetBytes(Req.HELLO, 1))).toBe("01050100b52a");
    expect(hex(encodePacket(Req.HELLO, 1))).toBe("00040105010" + "3b52a00");
  });
});

describe("COBS", () => {
  it("round-trips every length 0..700 at several zero densities, within n + n/254 + 1 bytes and without zeros", () => {
    const r = rng(7);
    for (const zeroEvery of [0, 2, 10, 300]) {
      for (let n = 0; n <= 700; n++) {
        const data = r.bytes(n, zeroEvery);
        const e = cobsEncode(data);
        expect(e.length).toBeLessThanOrEqual(n + Math.floor(n / 254) + 1);
        expect(e.includes(0)).toBe(false);
        expect(cobsDecode(e)).toEqual(data);
      }
    }
  });

  it("handles the block edges: runs of 253, 254 and 255 non-zero bytes, all zeros", () => {
    for (const n of [1, 253, 254, 255, 508, 509]) {
      const data = new Uint8Array(n).fill(0x11);
      expect(cobsDecode(cobsEncode(data))).toEqual(data);
      const zeros = new Uint8Array(n);
      expect(cobsEncode(zeros)).toEqual(new Uint8Array(n + 1).fill(1));
      expect(cobsDecode(cobsEncode(zeros))).toEqual(zeros);
    }
    expect(cobsEncode(new Uint8Array(254).fill(7))[0]).toBe(0xff);
  });

  it("refuses what is not COBS: a block running past the end, a zero byte inside", () => {
    expect(cobsDecode(Uint8Array.of(5, 1, 2))).toBeNull();
    expect(cobsDecode(Uint8Array.of(3, 1, 0))).toBeNull();
    expect(cobsDecode(Uint8Array.of(0))).toBeNull();
  });

  it("the largest packet encodes to 308 bytes, 310 on the line", () => {
    const e = encodePacket(0x81, 65535, new Uint8Array(PAYLOAD_MAX).fill(0xaa));
    expect(PACKET_MAX).toBe(306);
    expect(ENCODED_MAX).toBe(308);
    expect(e.length).toBe(FRAME_MAX);
    expect(() => encodePacket(0x81, 0, new Uint8Array(PAYLOAD_MAX + 1))).toThrow(RangeError);
  });
});

describe("packets", () => {
  it("round-trip through the decoder: every type, seq and payload length", () => {
    const r = rng(11);
    const d = anyType();
    for (let n = 0; n <= PAYLOAD_MAX; n += 7) {
      const type = r.int(256), seq = r.int(65536), payload = r.bytes(n, 3);
      const got = d.push(encodePacket(type, seq, payload));
      expect(got).toEqual([{ type, seq, payload }]);
    }
    expect(d.counters).toEqual(zeroCounters());
  });

  it("builds the requests of SERIAL.md and reads the device messages", () => {
    expect(request.hello()).toEqual({ type: 0x05, payload: new Uint8Array(0) });
    const dm = request.sendDirect("0123456789abcdef", 7, "hi");
    expect(dm.type).toBe(Req.SEND_DIRECT);
    expect(hex(dm.payload)).toBe("0123456789abcdef" + "07000000" + "02" + "6869");
    expect(() => request.sendDirect("0123456789abcdef", 1, "x".repeat(157))).toThrow(RangeError);
    expect(() => request.sendChannel(0, 1, "x".repeat(181))).toThrow(RangeError);
    const inj = request.injectFrame(new Uint8Array(106).fill(1), -300, -7.25);
    expect([inj.payload[0], inj.payload[1]]).toEqual([0x80, 0xe3]); // -128 dBm (clamped), -29 quarter dB
    const cfg = request.configSet({ ...DEFAULT_CONFIG, nodeName: "abc", serial: true });
    const back = parseDeviceMessage({ type: Msg.CONFIG, seq: 3, payload: cfg.payload });
    expect(back).toMatchObject({ kind: "config", seq: 3, config: { nodeName: "abc", serial: true, sf: 11 } });
    const result = new Uint8Array(4);
    new DataView(result.buffer).setInt32(0, -6, true);
    expect(parseDeviceMessage({ type: Msg.RESULT, seq: 9, payload: result })).toEqual({ kind: "result", seq: 9, status: -6 });
    const log = new SerialDecoder().push(encodeLog(2, "radio up"));
    expect(log.map(parseDeviceMessage)).toEqual([{ kind: "log", seq: 0, level: 2, text: "radio up" }]);
    expect(new SerialDecoder().push(encodeRequest(request.statusGet(), 4))).toEqual([]); // a request is not a device message
  });
});

describe("SerialDecoder resynchronisation", () => {
  const good = (seq: number) => encodePacket(Msg.RESULT, seq, Uint8Array.of(0, 0, 0, 0));
  const goodPacket = (seq: number): Packet => ({ type: Msg.RESULT, seq, payload: Uint8Array.of(0, 0, 0, 0) });

  /** Each bad input, the reason it is counted under, then a good frame that must get through. */
  const cases: Array<[string, Uint8Array, keyof ReturnType<typeof zeroCounters> | null]> = [
    ["random noise without zeros", rng(1).bytes(50), "cobs"],
    ["a half frame (sender reset mid-block)", good(1).subarray(0, 3), "cobs"],
    ["a half frame (sender reset between blocks)", good(1).subarray(0, 6), "short"],
    ["a frame with a wrong CRC", (() => { const f = good(2); f[f.length - 2] ^= 0x40; return f; })(), "crc"],
    ["a frame with a damaged byte", (() => { const f = good(2); f[4] ^= 0x01; return f; })(), "crc"],
    ["an oversized frame", concat(Uint8Array.of(0), new Uint8Array(400).fill(0x33), Uint8Array.of(0)), "oversized"],
    ["a short packet", concat(Uint8Array.of(0), cobsEncode(Uint8Array.of(1, 0x85, 0)), Uint8Array.of(0)), "short"],
    ["version 2", concat(Uint8Array.of(0), cobsEncode((() => { const p = packetBytes(Msg.RESULT, 1, new Uint8Array(4)); p[0] = 2; const c = crc16(p.subarray(0, 8)); p[8] = c & 0xff; p[9] = c >> 8; return p; })()), Uint8Array.of(0)), "version"],
    ["an unknown type", encodePacket(0xc3, 1, new Uint8Array(3)), "typeLength"],
    ["a RESULT with a bad length", encodePacket(Msg.RESULT, 1, new Uint8Array(3)), "typeLength"],
    ["idle delimiters", new Uint8Array(5), null],
  ];

  it.each(cases)("%s is dropped and counted; the next good frame gets through", (_name, bad, reason) => {
    const d = new SerialDecoder();
    expect(d.push(concat(good(10), bad, good(11)))).toEqual([goodPacket(10), goodPacket(11)]);
    const want = zeroCounters();
    if (reason) want[reason] = 1;
    expect(d.counters).toEqual(want);
  });

  it("noise of every kind between frames: all good frames through, every drop counted", () => {
    const r = rng(5);
    const d = new SerialDecoder();
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) {
      parts.push(good(i));
      const c = cases[r.int(cases.length)];
      parts.push(c[1]);
    }
    parts.push(good(300));
    const got = d.push(concat(...parts));
    expect(got.map((p) => p.seq)).toEqual(Array.from({ length: 301 }, (_, i) => i));
    const total = DROP_REASONS.reduce((n, k) => n + d.counters[k], 0);
    expect(total).toBe(parts.filter((p, i) => i % 2 === 1 && p.some((b) => b !== 0)).length);
  });

  it("raw random bytes never throw, and a good frame after them gets through", () => {
    const r = rng(9);
    const d = new SerialDecoder();
    for (let i = 0; i < 200; i++) d.push(r.bytes(r.int(700), 1 + r.int(400)));
    expect(d.push(good(77))).toEqual([goodPacket(77)]);
  });
});

describe("bursts in any chunking", () => {
  const r = rng(3);
  const packets: Packet[] = [];
  for (let i = 0; i < 6; i++) packets.push({ type: 0x81 + (i % 3), seq: 1000 + i, payload: r.bytes(i * 50, 4) });
  packets.push({ type: 0x86, seq: 7, payload: r.bytes(PAYLOAD_MAX) });
  const burst = concat(...packets.map((p) => encodePacket(p.type, p.seq, p.payload)));

  it("split in two at every byte boundary: the same packets", () => {
    for (let cut = 0; cut <= burst.length; cut++) {
      const d = anyType();
      const got = [...d.push(burst.subarray(0, cut)), ...d.push(burst.subarray(cut))];
      expect(got).toEqual(packets);
    }
  });

  it("byte by byte and in random chunks: the same packets", () => {
    const d = anyType();
    const got: Packet[] = [];
    for (const b of burst) got.push(...d.push(Uint8Array.of(b)));
    expect(got).toEqual(packets);
    for (let round = 0; round < 50; round++) {
      const e = anyType();
      const out: Packet[] = [];
      for (let at = 0; at < burst.length;) {
        const n = 1 + r.int(64);
        out.push(...e.push(burst.subarray(at, at + n)));
        at += n;
      }
      expect(out).toEqual(packets);
    }
  });

  it("frames without the leading delimiter (one delimiter between frames) decode too", () => {
    const tight = concat(...packets.map((p) => without0(encodePacket(p.type, p.seq, p.payload))).flatMap((f) => [f, Uint8Array.of(0)]));
    expect(anyType().push(tight)).toEqual(packets);
  });
});
