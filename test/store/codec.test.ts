// The serial codec's file requests (0x10..0x14) and file events (0x90..0x92), and the
// new DELIVERY states 4 (stored by keepers) and 5 (delivered through them): bytes as
// SERIAL.md / STORAGE.md give them, round trips through COBS framing, and payloads too
// short for their fields rejected as the codec rejects others.
import { describe, expect, it } from "vitest";
import {
  Command, EventType, FILE_MAX_BYTES, decodeEvent, encodeDeliveryEvent, encodeFileCancel, encodeFileDataEvent, encodeFileDoneEvent,
  encodeFileGet, encodeFilePutBegin, encodeFilePutData, encodeFilePutEnd, encodeFileStoredEvent,
} from "../../host-tools/node/protocol.js";
import {
  Msg, Req, SerialDecoder, acceptDeviceMessage, encodePacket, encodeRequest, parseDeviceMessage, parsePacket, cobsDecode, request,
} from "../../host-tools/serial/codec.js";

const cap = Uint8Array.from({ length: 40 }, (_, i) => i + 1);

/** A request as the device reads it: framed, unframed, checked. */
function onTheWire(req: ReturnType<typeof request.filePutEnd>, seq = 7) {
  const line = encodeRequest(req, seq);
  expect(line[0]).toBe(0);
  expect(line.at(-1)).toBe(0);
  const p = parsePacket(cobsDecode(line.subarray(1, -1))!);
  if (typeof p === "string") throw new Error(p);
  return p;
}

/** A device message as the laptop reads it: event bytes (type first) framed as the device writes them. */
function fromDevice(eventBytes: Uint8Array, seq = 3) {
  const d = new SerialDecoder();
  const got = d.push(encodePacket(eventBytes[0], seq, eventBytes.subarray(1)));
  return { packets: got, counters: d.counters, messages: got.map(parseDeviceMessage) };
}

describe("file requests", () => {
  it("carry the node core's app command bytes after the type", () => {
    expect(Req).toMatchObject({ FILE_PUT_BEGIN: 0x10, FILE_PUT_DATA: 0x11, FILE_PUT_END: 0x12, FILE_GET: 0x13, FILE_CANCEL: 0x14 });
    expect(Command).toMatchObject({ FILE_PUT_BEGIN: 0x10, FILE_PUT_DATA: 0x11, FILE_PUT_END: 0x12, FILE_GET: 0x13, FILE_CANCEL: 0x14 });

    const begin = onTheWire(request.filePutBegin(0x01020304, 32768, 3));
    expect(begin).toMatchObject({ type: 0x10, seq: 7 });
    expect([...begin.payload]).toEqual([0x04, 0x03, 0x02, 0x01, 0x00, 0x80, 0x00, 0x00, 3]);
    expect([...encodeFilePutBegin(1, 1)]).toEqual([0x10, 1, 0, 0, 0, 1, 0, 0, 0, 0]); // copies 0 = default

    const chunk = Uint8Array.from({ length: 200 }, (_, i) => i);
    const data = onTheWire(request.filePutData(400, chunk));
    expect(data.type).toBe(0x11);
    expect([...data.payload.subarray(0, 5)]).toEqual([0x90, 0x01, 0, 0, 200]);
    expect(data.payload.subarray(5)).toEqual(chunk);
    expect(encodeFilePutData(0, Uint8Array.of(9))).toEqual(Uint8Array.of(0x11, 0, 0, 0, 0, 1, 9));

    const end = onTheWire(request.filePutEnd());
    expect(end).toMatchObject({ type: 0x12 });
    expect(end.payload.length).toBe(0);
    expect(encodeFilePutEnd()).toEqual(Uint8Array.of(0x12));

    const get = onTheWire(request.fileGet(0xfffffffe, cap));
    expect(get.type).toBe(0x13);
    expect([...get.payload.subarray(0, 4)]).toEqual([0xfe, 0xff, 0xff, 0xff]);
    expect(get.payload.subarray(4)).toEqual(cap);
    expect(encodeFileGet(5, cap).length).toBe(45);

    expect(onTheWire(request.fileCancel("put"))).toMatchObject({ type: 0x14, payload: Uint8Array.of(1) });
    expect(onTheWire(request.fileCancel("get"))).toMatchObject({ type: 0x14, payload: Uint8Array.of(2) });
    expect(encodeFileCancel("get")).toEqual(Uint8Array.of(0x14, 2));
  });

  it("refuse values the node could not take", () => {
    expect(() => request.filePutBegin(1, 0)).toThrow(/1\.\.32768 bytes, not 0/);
    expect(() => request.filePutBegin(1, FILE_MAX_BYTES + 1)).toThrow(/not 32769/);
    expect(() => request.filePutBegin(1, 10, 256)).toThrow(/copies/);
    expect(() => request.filePutData(0, new Uint8Array(0))).toThrow(/1\.\.200 bytes, not 0/);
    expect(() => request.filePutData(0, new Uint8Array(201))).toThrow(/not 201/);
    expect(() => request.filePutData(-1, new Uint8Array(1))).toThrow(/offset/);
    expect(() => request.fileGet(1, new Uint8Array(39))).toThrow(/40 bytes, not 39/);
    expect(() => encodeFilePutBegin(-1, 10)).toThrow(/app reference/);
  });
});

describe("file events", () => {
  it("FILE_STORED: ref, state, holders, capability", () => {
    expect(Msg).toMatchObject({ FILE_STORED: 0x90, FILE_DATA: 0x91, FILE_DONE: 0x92 });
    expect(EventType).toMatchObject({ FILE_STORED: 0x90, FILE_DATA: 0x91, FILE_DONE: 0x92 });
    for (const [state, name] of [[1, "stored"], [2, "replicated"], [3, "failed"], [9, "unknown"]] as const) {
      const b = encodeFileStoredEvent(0xa1b2c3d4, state, 4, cap);
      expect(b.length).toBe(47);
      const { messages, counters } = fromDevice(b, 9);
      expect(counters.typeLength).toBe(0);
      expect(messages).toEqual([{ kind: "event", seq: 9, event: { type: "fileStored", ref: 0xa1b2c3d4, state: name, holders: 4, capability: cap } }]);
    }
  });

  it("FILE_DATA: ref, offset, n bytes (up to 160)", () => {
    const data = Uint8Array.from({ length: 160 }, (_, i) => 255 - i);
    const { messages } = fromDevice(encodeFileDataEvent(77, 32608, data));
    expect(messages).toEqual([{ kind: "event", seq: 3, event: { type: "fileData", ref: 77, offset: 32608, data } }]);
    expect(decodeEvent(encodeFileDataEvent(1, 0, new Uint8Array(0)))).toEqual({ type: "fileData", ref: 1, offset: 0, data: new Uint8Array(0) });
  });

  it("FILE_DONE: ref, state, length, blocks, elapsed ms", () => {
    for (const [state, name] of [[1, "complete"], [2, "notFound"], [3, "corrupt"], [0, "unknown"]] as const) {
      const b = encodeFileDoneEvent(5, state, 32768, 211, 123456);
      expect(b.length).toBe(16);
      expect(fromDevice(b).messages[0]).toMatchObject({ kind: "event", event: { type: "fileDone", ref: 5, state: name, length: 32768, blocks: 211, elapsedMs: 123456 } });
    }
  });

  it("short payloads are dropped as type/length, as for the other device messages", () => {
    const cases: [number, Uint8Array][] = [
      [Msg.FILE_STORED, encodeFileStoredEvent(1, 1, 1, cap).subarray(1, 46)], // 45 of 46
      [Msg.FILE_STORED, new Uint8Array(0)],
      [Msg.FILE_DONE, encodeFileDoneEvent(1, 1, 1, 1, 1).subarray(1, 15)], // 14 of 15
      [Msg.FILE_DATA, encodeFileDataEvent(1, 0, new Uint8Array(0)).subarray(1, 9)], // 8 of 9
      [Msg.FILE_DATA, encodeFileDataEvent(1, 0, new Uint8Array(20)).subarray(1, 28)], // n = 20, 19 bytes there
    ];
    for (const [type, payload] of cases) {
      const d = new SerialDecoder();
      expect(d.push(encodePacket(type, 1, payload)), `type ${type} length ${payload.length}`).toEqual([]);
      expect(d.counters.typeLength).toBe(1);
      expect(acceptDeviceMessage({ type, seq: 1, payload })).toBe(false);
    }
    // FILE_STORED and FILE_DONE have fixed lengths: longer is refused too.
    const long = new Uint8Array(47);
    expect(acceptDeviceMessage({ type: Msg.FILE_STORED, seq: 1, payload: long })).toBe(false);
    // decodeEvent (app_event bytes) reports short ones as unknown, never throws.
    expect(decodeEvent(encodeFileStoredEvent(1, 1, 1, cap).subarray(0, 46)).type).toBe("unknown");
    expect(decodeEvent(encodeFileDoneEvent(1, 1, 1, 1, 1).subarray(0, 15)).type).toBe("unknown");
    expect(decodeEvent(encodeFileDataEvent(1, 0, new Uint8Array(5)).subarray(0, 14)).type).toBe("unknown");
  });
});

describe("DELIVERY states of mail kept by keepers", () => {
  it("4 stored (attempts = keepers), 5 delivered through keepers; unknown states are not taken for 'sent'", () => {
    const names = { 1: "sent", 2: "acked", 3: "failed", 4: "stored", 5: "delivered" } as const;
    for (const [state, name] of Object.entries(names)) {
      const { messages } = fromDevice(encodeDeliveryEvent(1234, Number(state), 3));
      expect(messages[0]).toEqual({ kind: "event", seq: 3, event: { type: "delivery", ref: 1234, state: name, attempts: 3 } });
    }
    expect(decodeEvent(encodeDeliveryEvent(1, 6, 0)).type).toBe("unknown");
    expect(decodeEvent(encodeDeliveryEvent(1, 0, 0)).type).toBe("unknown");
    // Still exactly 6 bytes of payload.
    const d = new SerialDecoder();
    expect(d.push(encodePacket(Msg.DELIVERY, 1, encodeDeliveryEvent(1, 4, 2).subarray(1, 6)))).toEqual([]);
    expect(d.counters.typeLength).toBe(1);
  });
});
