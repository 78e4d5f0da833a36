// SET_TIME (0x0B) and CLOCK_GET (0x0C) against node.wasm (firmware/cores/node/clock.ts
// behind serial.ts): a board counting from boot takes any date in 2020..2100, a clock
// with a date only moves forward or back by at most an hour (and then holds, never
// running backwards), the epoch of hourly tags and the sender's clock in messages
// follow the set time, and the offset survives a CONFIG_SET restart.
import { describe, expect, it } from "vitest";
import { MemoryStore, NodeHost, loadNodeModule } from "../../host-tools/node/host.js";
import { DEFAULT_CONFIG, type NodeConfig, type NodeEvent } from "../../host-tools/node/protocol.js";
import {
  Req, SET_TIME_MAX_MS, SET_TIME_MIN_MS, SerialDecoder, encodeRequest, parseDeviceMessage, request,
  type DeviceMessage, type Request,
} from "../../host-tools/serial/codec.js";

const T = Date.UTC(2026, 10, 26, 9, 30); // the laptop's time in these tests
const HOUR = 3_600_000;

function seeded(seed: number) {
  let x = seed >>> 0 || 1;
  return (out: Uint8Array) => {
    for (let i = 0; i < out.length; i++) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      out[i] = x & 0xff;
    }
  };
}

/** A board whose host clock counts from boot (`now` ms since power-on), like the ESP32 shell. */
class Board {
  readonly decoder = new SerialDecoder();
  readonly out: DeviceMessage[] = [];
  readonly air: Uint8Array[] = [];
  node!: NodeHost;
  private seq = 1;

  constructor(public now: number) {}

  static async create(now: number, seed: number, config: Partial<NodeConfig> = {}): Promise<Board> {
    const b = new Board(now);
    b.node = await NodeHost.create({
      config: { ...DEFAULT_CONFIG, dutyCyclePermille: 0, serial: true, ...config },
      now: () => b.now,
      random: seeded(seed),
      storage: new MemoryStore(),
      transmit: (f) => { b.air.push(f); return true; },
      onSerial: (bytes) => { for (const p of b.decoder.push(bytes)) b.out.push(parseDeviceMessage(p)); },
    });
    return b;
  }

  ask(req: Request): DeviceMessage[] {
    const seq = this.seq++;
    const from = this.out.length;
    this.node.serialReceive(encodeRequest(req, seq));
    const got = this.out.slice(from);
    expect(got.at(-1)).toMatchObject({ kind: "result", seq });
    return got;
  }

  status(req: Request): number {
    const r = this.ask(req).at(-1)!;
    return r.kind === "result" ? r.status : NaN;
  }

  clock(): { unixMs: number; state: string } {
    const got = this.ask(request.clockGet());
    expect(got.map((m) => m.kind)).toEqual(["clock", "result"]);
    const c = got[0];
    return c.kind === "clock" ? { unixMs: c.unixMs, state: c.state } : { unixMs: NaN, state: "" };
  }

  events(): NodeEvent[] { return this.out.flatMap((m) => (m.kind === "event" ? [m.event] : [])); }
}

describe("SET_TIME and CLOCK_GET on node.wasm", () => {
  it("a board counting from boot: CLOCK says so; SET_TIME answers CLOCK (the new time, state set) and RESULT 0", async () => {
    const b = await Board.create(5_000, 1);
    expect(b.clock()).toEqual({ unixMs: 5_000, state: "noDate" });
    const got = b.ask(request.setTime(T));
    expect(got).toEqual([
      { kind: "clock", seq: got[0].seq, unixMs: T, state: "set" },
      { kind: "result", seq: got[0].seq, status: 0 },
    ]);
    b.now += 1_234;
    expect(b.clock()).toEqual({ unixMs: T + 1_234, state: "set" });
    // The offset belongs to the clock, not to the node's tables: a CONFIG_SET restart keeps it.
    expect(b.status(request.configSet({ ...DEFAULT_CONFIG, nodeName: "again" }))).toBe(0);
    expect(b.clock()).toEqual({ unixMs: T + 1_234, state: "set" });
  });

  it("a host clock with a date (a laptop) is reported as hostDate", async () => {
    const b = await Board.create(T, 2);
    expect(b.clock()).toEqual({ unixMs: T, state: "hostDate" });
    expect(b.status(request.setTime(T + 10))).toBe(0);
    expect(b.clock().state).toBe("set");
  });

  it("refused with -5: before 2020-01-01, from 2100-01-01 on; bad lengths -4; nothing changes", async () => {
    const b = await Board.create(5_000, 3);
    expect(b.status(request.setTime(SET_TIME_MIN_MS - 1))).toBe(-5);
    expect(b.status(request.setTime(0))).toBe(-5);
    expect(b.status(request.setTime(SET_TIME_MAX_MS))).toBe(-5);
    expect(b.status(request.setTime(Number.MAX_SAFE_INTEGER))).toBe(-5);
    // A u64 above 2^63 is a negative i64 on the device: refused too.
    expect(b.status({ type: Req.SET_TIME, payload: new Uint8Array(8).fill(0xff) })).toBe(-5);
    expect(b.status({ type: Req.SET_TIME, payload: new Uint8Array(7) })).toBe(-4);
    expect(b.status({ type: Req.SET_TIME, payload: new Uint8Array(9) })).toBe(-4);
    expect(b.status({ type: Req.CLOCK_GET, payload: new Uint8Array(1) })).toBe(-4);
    expect(b.clock()).toEqual({ unixMs: 5_000, state: "noDate" });
    expect(b.status(request.setTime(SET_TIME_MAX_MS - 1))).toBe(0); // the last ms before 2100
    expect(b.node.counter(43)).toBe(3); // the three bad lengths, as type/length
  });

  it("once set: forward always; back more than an hour refused; back within an hour accepted but the clock holds", async () => {
    const b = await Board.create(5_000, 4);
    expect(b.status(request.setTime(T))).toBe(0);
    expect(b.status(request.setTime(T + 5 * HOUR))).toBe(0);
    expect(b.clock().unixMs).toBe(T + 5 * HOUR);
    // More than an hour back: refused, the clock is where it was.
    const refused = b.ask(request.setTime(T + 5 * HOUR - HOUR - 1));
    expect(refused.map((m) => (m.kind === "result" ? m.status : m.kind))).toEqual(["clock", -5]);
    expect(refused[0]).toMatchObject({ unixMs: T + 5 * HOUR, state: "set" });
    // Exactly an hour back is still accepted...
    expect(b.status(request.setTime(T + 4 * HOUR))).toBe(0);
    // ...but the clock never runs backwards: it holds at T + 5 h until the host clock has caught up.
    expect(b.clock().unixMs).toBe(T + 5 * HOUR);
    b.now += HOUR - 1;
    expect(b.clock().unixMs).toBe(T + 5 * HOUR);
    b.now += 2_001;
    expect(b.clock().unixMs).toBe(T + 5 * HOUR + 2_000);
  });

  it("the epoch follows the set time: messages carry the new clock, and a board left in 1970 no longer hears them", async () => {
    // Three boards that booted together: they share the count from boot, so they can talk.
    const [a, b, c] = await Promise.all([Board.create(60_000, 11), Board.create(60_000, 12), Board.create(60_000, 13)]);
    const boards = [a, b, c];
    for (const x of boards) expect(x.status(request.joinChannel(0, "ops", "secret"))).toBe(0);
    const run = (ms: number) => {
      for (let t = 0; t < ms; t += 50) {
        for (const x of boards) { x.now += 50; x.node.poll(); }
        for (const x of boards) {
          for (const f of x.air.splice(0)) {
            for (const y of boards) if (y !== x) y.node.receive(f, -80, 20);
            x.node.transmitDone();
          }
        }
      }
    };
    const channelMsgs = (x: Board) => x.events().filter((e): e is Extract<NodeEvent, { type: "channel" }> => e.type === "channel");

    expect(a.status(request.sendChannel(0, 1, "before"))).toBe(0);
    run(3_000);
    expect(channelMsgs(b)).toMatchObject([{ text: "before", unixS: 60 }]);
    expect(channelMsgs(c)).toMatchObject([{ text: "before", unixS: 60 }]);

    // The laptop sets A and B to today's date; C stays in 1970.
    expect(a.status(request.setTime(T))).toBe(0);
    expect(b.status(request.setTime(T))).toBe(0);
    run(3_000);
    expect(a.status(request.sendChannel(0, 2, "after"))).toBe(0);
    run(3_000);
    const got = channelMsgs(b).at(-1)!;
    expect(got.text).toBe("after");
    // Sender's clock in seconds: T plus the few seconds the test ran since.
    expect(got.unixS).toBeGreaterThanOrEqual(Math.floor(T / 1000));
    expect(got.unixS).toBeLessThan(Math.floor(T / 1000) + 10);
    // C's channel tag is for epoch 0, A's for the epoch of T: C drops the frame.
    expect(channelMsgs(c).map((e) => e.text)).toEqual(["before"]);
  });

  it("before node_init: RESULT -3 (ERR_STATE), like every request but STATUS_GET", async () => {
    const module = await loadNodeModule();
    const writes: Uint8Array[] = [];
    let mem!: WebAssembly.Memory;
    const inst = new WebAssembly.Instance(module, { env: {
      radio_transmit: () => 0, clock_now_ms: () => 1000, random_fill: () => {}, app_event: () => {},
      storage_get: () => -1, storage_put: () => 0,
      serial_write: (p: number, n: number) => { writes.push(new Uint8Array(mem.buffer).slice(p, p + n)); },
    } });
    const x = inst.exports as Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };
    mem = x.memory;
    const io = x.io_buffer_ptr();
    const d = new SerialDecoder();
    for (const [i, req] of [request.setTime(T), request.clockGet()].entries()) {
      const bytes = encodeRequest(req, i);
      new Uint8Array(mem.buffer).set(bytes, io);
      expect(x.serial_receive(io, bytes.length)).toBe(1);
      expect(writes.splice(0).flatMap((w) => d.push(w)).map(parseDeviceMessage)).toEqual([{ kind: "result", seq: i, status: -3 }]);
    }
  });

  it("the laptop encoder: u64 little-endian, whole non-negative ms only", () => {
    expect(Array.from(request.setTime(0x0102030405060).payload)).toEqual([0x60, 0x50, 0x40, 0x30, 0x20, 0x10, 0, 0]);
    expect(request.setTime(T).type).toBe(0x0b);
    expect(request.clockGet()).toEqual({ type: 0x0c, payload: new Uint8Array(0) });
    expect(() => request.setTime(-1)).toThrow(RangeError);
    expect(() => request.setTime(1.5)).toThrow(RangeError);
  });
});
