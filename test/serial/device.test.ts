// The device side of the serial link (firmware/cores/node/serial.ts in node.wasm)
// against the laptop codec (host-tools/serial/codec.ts): JS-encoded requests go in
// through NodeHost.serialReceive, the core's env.serial_write output is read with the
// JS decoder. Replies, events over serial, RADIO_FRAME, INJECT_FRAME, CONFIG_GET/SET,
// the six drop counters (node_counter 38..43) and resynchronisation in any chunking.
import { describe, expect, it } from "vitest";
import { MemoryStore, NodeHost, loadNodeModule, baselineNodeWasmUrl, loadCoreModule } from "../../host-tools/node/host.js";
import { DEFAULT_CONFIG, decodeConfig, encodeConfig, type NodeConfig, type NodeEvent } from "../../host-tools/node/protocol.js";
import {
  DROP_REASONS, Msg, PAYLOAD_MAX, Req, SerialDecoder, cobsEncode, crc16, encodePacket, encodeRequest, packetBytes,
  parseDeviceMessage, request, type DeviceMessage, type Request,
} from "../../host-tools/serial/codec.js";

const T0 = Date.UTC(2026, 10, 25, 12);
const SERIAL_COUNTER = 38;

function seeded(seed: number) {
  let x = seed >>> 0 || 1;
  return (out: Uint8Array) => {
    for (let i = 0; i < out.length; i++) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      out[i] = x & 0xff;
    }
  };
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};

/** A node whose serial output is decoded by the laptop codec. */
class Board {
  readonly decoder = new SerialDecoder();
  readonly out: DeviceMessage[] = [];
  readonly raw: Uint8Array[] = [];
  readonly air: Uint8Array[] = [];
  readonly storage = new MemoryStore();
  node!: NodeHost;
  now = T0;

  static async create(config: Partial<NodeConfig> = {}, seed = 1, module?: WebAssembly.Module): Promise<Board> {
    const b = new Board();
    b.node = await NodeHost.create({
      config: { ...DEFAULT_CONFIG, dutyCyclePermille: 0, serial: true, ...config },
      now: () => b.now,
      random: seeded(seed),
      storage: b.storage,
      transmit: (f) => { b.air.push(f); return true; },
      onSerial: (bytes) => {
        b.raw.push(bytes);
        for (const p of b.decoder.push(bytes)) b.out.push(parseDeviceMessage(p));
      },
    }, module);
    return b;
  }

  send(req: Request, seq: number): number { return this.node.serialReceive(encodeRequest(req, seq)); }

  /** Sends a request; returns the messages it caused, ending with its RESULT. */
  ask(req: Request, seq: number): DeviceMessage[] {
    const from = this.out.length;
    this.send(req, seq);
    const got = this.out.slice(from);
    expect(got.at(-1)).toMatchObject({ kind: "result", seq });
    return got;
  }

  status(req: Request, seq: number): number {
    const r = this.ask(req, seq).at(-1)!;
    return r.kind === "result" ? r.status : NaN;
  }

  serialCounters(): number[] { return DROP_REASONS.map((_, i) => this.node.counter(SERIAL_COUNTER + i)); }
}

const events = (msgs: DeviceMessage[]): NodeEvent[] => msgs.flatMap((m) => (m.kind === "event" ? [m.event] : []));

describe("requests and replies", () => {
  it("HELLO: IDENTITY with the request's seq, then RESULT 0; the boot IDENTITY came as an event", async () => {
    const b = await Board.create();
    expect(b.out).toHaveLength(1);
    const boot = b.out[0];
    expect(boot).toMatchObject({ kind: "event", seq: 0, event: { type: "identity" } });
    expect(b.node.events).toEqual([]); // serial events: nothing to env.app_event
    const got = b.ask(request.hello(), 0x1234);
    expect(got).toHaveLength(2);
    expect(got[0]).toEqual({ ...boot, seq: 0x1234 });
    expect(got[1]).toEqual({ kind: "result", seq: 0x1234, status: 0 });
    // Every serial_write call is whole frames: 0x00 ... 0x00.
    for (const w of b.raw) expect([w[0], w.at(-1)]).toEqual([0, 0]);
  });

  it("STATUS_GET: 64 counters and the node's state, SERIAL_ERRORS, RESULT", async () => {
    const b = await Board.create({ dutyCyclePermille: 100 });
    b.node.serialReceive(Uint8Array.of(0, 7, 7, 7, 0)); // one COBS error
    const got = b.ask(request.statusGet(), 9);
    expect(got.map((m) => m.kind)).toEqual(["status", "serialErrors", "result"]);
    const s = got[0].kind === "status" ? got[0].status : null;
    expect(s!.counters).toHaveLength(64);
    for (let i = 0; i < 64; i++) expect(s!.counters[i]).toBe(b.node.counter(i) >>> 0);
    expect(s!.counters[38]).toBe(1);
    expect(s!.dutyBudgetMs).toBe(360_000);
    expect(s!).toMatchObject({ queued: 0, pendingDirect: 0, routes: 0, channels: 0, airtimeLastHourMs: 0 });
    expect(got[1]).toMatchObject({ kind: "serialErrors", seq: 9, counters: { cobs: 1, short: 0, crc: 0 } });
  });

  it("JOIN_CHANNEL, SEND_CHANNEL: the command statuses of node_command; DELIVERY (sent) before the RESULT", async () => {
    const b = await Board.create();
    expect(b.status(request.sendChannel(1, 5, "hi"), 1)).toBe(-6); // no such channel yet
    expect(b.status(request.joinChannel(1, "ops", "secret"), 2)).toBe(0);
    const got = b.ask(request.sendChannel(1, 5, "hi"), 3);
    expect(got.map((m) => m.kind)).toEqual(["event", "result"]);
    expect(got[0]).toMatchObject({ event: { type: "delivery", ref: 5, state: "sent" } });
    expect(got[0].seq).not.toBe(3); // an event carries the device's counter
    expect(b.status(request.sendDirect("0011223344556677", 1, "x"), 4)).toBe(-6);
    expect(b.status({ type: Req.JOIN_CHANNEL, payload: Uint8Array.of(9) }, 5)).toBe(-4);
    expect(b.status(request.announce(), 6)).toBe(0);
  });

  it("bad lengths get RESULT -4, unknown request types RESULT -5; device types are counted and not answered", async () => {
    const b = await Board.create();
    const before = b.out.length;
    expect(b.status({ type: Req.HELLO, payload: Uint8Array.of(1) }, 1)).toBe(-4);
    expect(b.status({ type: Req.INJECT_FRAME, payload: Uint8Array.of(1, 2) }, 2)).toBe(-4);
    expect(b.status({ type: Req.CONFIG_SET, payload: new Uint8Array(10) }, 3)).toBe(-4);
    expect(b.status({ type: 0x42, payload: new Uint8Array(0) }, 4)).toBe(-5);
    expect(b.status({ type: 0x00, payload: new Uint8Array(0) }, 5)).toBe(-5);
    const n = b.out.length;
    b.node.serialReceive(encodePacket(Msg.RESULT, 6, new Uint8Array(4))); // a looped-back line
    expect(b.out.length).toBe(n);
    expect(b.serialCounters()).toEqual([0, 0, 0, 0, 0, 6]);
    expect(b.out.length - before).toBe(5); // one RESULT per request, nothing else
  });

  it("serial events off: events go to env.app_event, replies to requests still to the link", async () => {
    const b = await Board.create({ serial: false });
    expect(b.out).toEqual([]);
    expect(b.node.events.map((e) => e.type)).toEqual(["identity"]);
    expect(b.ask(request.hello(), 1).map((m) => m.kind)).toEqual(["event", "result"]);
    expect(b.status(request.joinChannel(0, "a", "b"), 2)).toBe(0);
    expect(b.ask(request.sendChannel(0, 1, "x"), 3).map((m) => m.kind)).toEqual(["result"]);
    expect(b.node.events.at(-1)).toMatchObject({ type: "delivery", ref: 1, state: "sent" });
  });

  it("CONFIG_GET and CONFIG_SET: restart with the new config, stored under `config`, serial flag kept", async () => {
    const b = await Board.create({ nodeName: "alpha" });
    const got = b.ask(request.configGet(), 1);
    expect(got[0]).toMatchObject({ kind: "config", seq: 1, config: { nodeName: "alpha", serial: true, sf: 11 } });
    const id = b.out[0].kind === "event" && b.out[0].event.type === "identity" ? b.out[0].event.contactId : "";
    // serial: false in the request: the host's choice (on) stays.
    const set = b.ask(request.configSet({ ...DEFAULT_CONFIG, nodeName: "beta", sf: 9, serial: false }), 2);
    expect(set.map((m) => m.kind)).toEqual(["event", "result"]);
    expect(set[0]).toMatchObject({ event: { type: "identity", contactId: id } });
    expect(set[1]).toMatchObject({ status: 0 });
    const now = b.ask(request.configGet(), 3)[0];
    expect(now).toMatchObject({ config: { nodeName: "beta", sf: 9, serial: true } });
    expect(decodeConfig(b.storage.get("config")!)).toMatchObject({ nodeName: "beta", sf: 9, serial: true });
    // A refused config changes nothing and is not stored.
    expect(b.status(request.configSet({ ...DEFAULT_CONFIG, sf: 5 }), 4)).toBe(-5);
    expect(b.ask(request.configGet(), 5)[0]).toMatchObject({ config: { nodeName: "beta", sf: 9 } });
    expect(decodeConfig(b.storage.get("config")!).sf).toBe(9);
  });

  it("before node_init: RESULT -3 for everything but STATUS_GET", async () => {
    const module = await loadNodeModule();
    const writes: Uint8Array[] = [];
    let mem!: WebAssembly.Memory;
    const inst = new WebAssembly.Instance(module, { env: {
      radio_transmit: () => 0, clock_now_ms: () => T0, random_fill: () => {}, app_event: () => {},
      storage_get: () => -1, storage_put: () => 0,
      serial_write: (p: number, n: number) => { writes.push(new Uint8Array(mem.buffer).slice(p, p + n)); },
    } });
    const x = inst.exports as Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };
    mem = x.memory;
    const io = x.io_buffer_ptr();
    const feed = (bytes: Uint8Array) => { new Uint8Array(mem.buffer).set(bytes, io); return x.serial_receive(io, bytes.length); };
    const d = new SerialDecoder();
    const read = () => writes.splice(0).flatMap((w) => d.push(w)).map(parseDeviceMessage);
    for (const [i, req] of [request.hello(), request.contactsGet(), request.configGet(), request.announce()].entries()) {
      expect(feed(encodeRequest(req, i))).toBe(1);
      expect(read()).toEqual([{ kind: "result", seq: i, status: -3 }]);
    }
    feed(encodeRequest(request.statusGet(), 10));
    expect(read().map((m) => m.kind)).toEqual(["status", "serialErrors", "result"]);
    expect(x.serial_receive(io + 500, 100)).toBe(-1); // outside the I/O buffer
    expect(x.serial_receive(io, -1)).toBe(-1);
  });
});

describe("two boards over the radio, one of them fed by INJECT_FRAME", () => {
  it("announce, CONTACTS_GET, a direct message, its ACK: events and RADIO_FRAME on the link", async () => {
    const a = await Board.create({ nodeName: "a" }, 1);
    const b = await Board.create({ nodeName: "b" }, 2);
    const idOf = (x: Board) => { const m = x.out[0]; return m.kind === "event" && m.event.type === "identity" ? m.event.contactId : ""; };
    // A's frames reach B over the air (node_receive); B's reach A through INJECT_FRAME (the MQTT downlink).
    let seq = 100;
    const pump = () => {
      for (let round = 0; round < 200; round++) {
        a.now += 50; b.now += 50;
        a.node.poll(); b.node.poll();
        for (const f of a.air.splice(0)) { b.node.receive(f, -90, 5); a.node.transmitDone(); }
        for (const f of b.air.splice(0)) {
          expect(a.status(request.injectFrame(f, -95, 2.5), seq++)).toBeGreaterThanOrEqual(0);
          b.node.transmitDone();
        }
      }
    };
    expect(a.status(request.announce(), 1)).toBe(0);
    expect(b.status(request.announce(), 1)).toBe(0);
    pump();
    expect(events(b.out).filter((e) => e.type === "contact")).toMatchObject([{ contactId: idOf(a), name: "a" }]);
    expect(events(a.out).filter((e) => e.type === "contact")).toMatchObject([{ contactId: idOf(b), name: "b" }]);
    const contacts = b.ask(request.contactsGet(), 2);
    expect(contacts.map((m) => m.kind)).toEqual(["event", "result"]);
    expect(contacts[0]).toMatchObject({ seq: 2, event: { type: "contact", contactId: idOf(a), name: "a" } });
    // B heard A's frames on the radio: RADIO_FRAME, exactly as heard, with rssi and snr.
    const heard = b.out.filter((m) => m.kind === "radioFrame");
    expect(heard.length).toBeGreaterThan(0);
    expect(heard[0]).toMatchObject({ rssiDbm: -90, snrDb: 5 });
    // A got B's frames by injection: never written back.
    expect(a.out.filter((m) => m.kind === "radioFrame")).toEqual([]);

    const sent = b.ask(request.sendDirect(idOf(a), 42, "hello over serial"), 3);
    expect(events(sent)).toMatchObject([{ type: "delivery", ref: 42, state: "sent" }]);
    pump();
    expect(events(a.out).filter((e) => e.type === "direct")).toMatchObject([{ contactId: idOf(b), text: "hello over serial" }]);
    expect(events(b.out).filter((e) => e.type === "delivery").at(-1)).toMatchObject({ ref: 42, state: "acked" });
    const st = a.ask(request.statusGet(), 4)[0];
    expect(st.kind === "status" && st.status.counters[20]).toBe(1); // one direct message delivered
  });

  it("node-flood.wasm speaks the same serial link", async () => {
    const b = await Board.create({}, 3, await loadCoreModule(baselineNodeWasmUrl()));
    expect(b.ask(request.hello(), 5).map((m) => m.kind)).toEqual(["event", "result"]);
  });
});

describe("bad bytes on the line", () => {
  const good = (seq: number) => encodeRequest(request.hello(), seq);
  const badCrc = () => { const f = good(1); f[f.length - 2] ^= 1; return f; };
  const withVersion = (v: number) => {
    const p = packetBytes(Req.HELLO, 1);
    p[0] = v;
    const c = crc16(p.subarray(0, 4));
    p[4] = c & 0xff; p[5] = c >> 8;
    return concat(Uint8Array.of(0), cobsEncode(p), Uint8Array.of(0));
  };
  const cases: Array<[string, Uint8Array, number]> = [
    ["noise without zeros", Uint8Array.from({ length: 40 }, (_, i) => 1 + ((i * 37) % 255)), 0],
    ["a half frame (board reset mid-block)", good(1).subarray(0, 3), 0],
    ["a half frame (reset between blocks)", encodeRequest(request.sendChannel(0, 1, "abc"), 1).subarray(0, 5), 1],
    ["an oversized frame", concat(new Uint8Array(1), new Uint8Array(309).fill(5), new Uint8Array(1)), 2],
    ["a wrong CRC", badCrc(), 3],
    ["version 2", withVersion(2), 4],
    ["an unknown type", encodePacket(0x99, 1), 5],
  ];

  it.each(cases)("%s: dropped, counted, and the next request is answered", async (_name, bad, reason) => {
    const b = await Board.create();
    const n = b.out.length;
    b.node.serialReceive(concat(good(7), bad, good(8)));
    expect(b.out.slice(n).filter((m) => m.kind === "result").map((m) => m.seq)).toEqual([7, 8]);
    const want = [0, 0, 0, 0, 0, 0];
    want[reason] = 1;
    expect(b.serialCounters()).toEqual(want);
    expect(b.decoder.counters).toEqual({ cobs: 0, short: 0, oversized: 0, crc: 0, version: 0, typeLength: 0 });
  });

  it("a burst of requests split at every byte boundary gives the same bytes back", async () => {
    const burst = concat(good(1), encodeRequest(request.configGet(), 2), encodeRequest(request.contactsGet(), 3),
      encodePacket(0x55, 4), badCrc(), good(5));
    const whole = await Board.create({}, 9);
    const base = whole.raw.length;
    whole.node.serialReceive(burst);
    const expected = concat(...whole.raw.slice(base));
    for (let cut = 0; cut <= burst.length; cut++) {
      const b = await Board.create({}, 9);
      const from = b.raw.length;
      b.node.serialReceive(burst.subarray(0, cut));
      b.node.serialReceive(burst.subarray(cut));
      expect(concat(...b.raw.slice(from))).toEqual(expected);
    }
  });

  it("megabytes of random bytes: no trap, the counters add up, the next HELLO is answered", async () => {
    const b = await Board.create();
    const rnd = seeded(77);
    for (let i = 0; i < 40; i++) {
      const chunk = new Uint8Array(25_000);
      rnd(chunk);
      // Sparse zeros: long runs, so the oversized and CRC paths are taken too.
      for (let k = 0; k < chunk.length; k++) if (chunk[k] === 0 && (k & 3) !== 0) chunk[k] = 1;
      b.node.serialReceive(chunk);
    }
    const c = b.serialCounters();
    expect(c.reduce((x, y) => x + y, 0)).toBeGreaterThan(100);
    expect(c[2]).toBeGreaterThan(0);
    const n = b.out.length;
    b.node.serialReceive(good(3));
    expect(b.out.slice(n).at(-1)).toEqual({ kind: "result", seq: 3, status: 0 });
  });

  it("the largest requests fit: INJECT_FRAME of 255 bytes, a 156-byte direct text", async () => {
    const b = await Board.create();
    expect(request.injectFrame(new Uint8Array(255).fill(0x41), -80, 1).payload.length).toBeLessThanOrEqual(PAYLOAD_MAX);
    expect(b.status(request.injectFrame(new Uint8Array(255).fill(0x41), -80, 1), 1)).toBeGreaterThan(0); // a drop reason
    expect(b.status({ type: Req.INJECT_FRAME, payload: new Uint8Array(258) }, 2)).toBe(-4);
    expect(b.status(request.sendDirect("0011223344556677", 1, "é".repeat(78)), 3)).toBe(-6);
    expect(encodeConfig(DEFAULT_CONFIG).length).toBeLessThanOrEqual(63);
  });
});
