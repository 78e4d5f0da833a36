// Transmit queue and contention rule (firmware/cores/node/txqueue.ts): random
// operation sequences against a JS model, eviction by priority when full,
// cancellation by heard copies, bounds, and the SNR -> delay rule.
import { beforeAll, describe, expect, it } from "vitest";
import { buildAs, fn, type AsBuild, type AsExports } from "../helpers/as-build.js";
import { rng, randomBytes, hex } from "../helpers/seeded.js";

const SLOTS = 16;
const NEVER = 2n ** 63n - 1n;
const PRIO = { ANNOUNCE: 0, FLOOD_RELAY: 1, CHANNEL: 2, DIRECT: 3, ACK: 4 };

let build: AsBuild;
beforeAll(async () => { build = await buildAs("test/node/as/txqueue.entry.ts"); });


function queue() {
  const x: AsExports = build.instantiate();
  const mem = () => new Uint8Array(x.memory.buffer);
  const scratch = fn<() => number>(x, "scratchPtr")();
  const ID = scratch, FRAME = scratch + 8, OUT = scratch + 512;
  const f = {
    reset: fn<() => void>(x, "txReset"),
    enqueue: fn<(p: number, len: number, prio: number, nb: bigint, id: number) => number>(x, "txEnqueue"),
    dup: fn<(id: number, threshold: number) => number>(x, "txNoteDuplicateHeard"),
    nextDue: fn<(n: bigint) => number>(x, "txNextDue"),
    remove: fn<(s: number) => number>(x, "txRemove"),
    wake: fn<() => bigint>(x, "txNextWakeMs"),
    setNotBefore: fn<(s: number, n: bigint) => number>(x, "txSetNotBefore"),
    find: fn<(id: number) => number>(x, "txFind"),
    count: fn<() => number>(x, "txCount"),
    len: fn<(s: number) => number>(x, "txLen"),
    priority: fn<(s: number) => number>(x, "txPriority"),
    notBefore: fn<(s: number) => bigint>(x, "txNotBeforeMs"),
    heard: fn<(s: number) => number>(x, "txHeard"),
    copyFrame: fn<(s: number, p: number) => number>(x, "txCopyFrame"),
    copyId: fn<(s: number, p: number) => number>(x, "txCopyId"),
    delay: fn<(snr: number, slot: number, r: number) => number>(x, "contentionDelayMs"),
  };
  return {
    x, f, scratch,
    enqueue: (frame: Uint8Array, prio: number, notBefore: number, id: Uint8Array) => {
      mem().set(id, ID); mem().set(frame, FRAME);
      return f.enqueue(FRAME, frame.length, prio, BigInt(notBefore), ID);
    },
    dup: (id: Uint8Array, threshold: number) => { mem().set(id, ID); return f.dup(ID, threshold) === 1; },
    find: (id: Uint8Array) => { mem().set(id, ID); return f.find(ID); },
    nextDue: (now: number) => f.nextDue(BigInt(now)),
    describe: (slot: number) => {
      const len = f.copyFrame(slot, OUT);
      return {
        frame: len < 0 ? null : hex(mem().slice(OUT, OUT + len)),
        id: f.copyId(slot, OUT) ? hex(mem().slice(OUT, OUT + 8)) : null,
        len: f.len(slot), priority: f.priority(slot), notBefore: Number(f.notBefore(slot)), heard: f.heard(slot),
      };
    },
  };
}

type Item = { slot: number; id: string; frame: string; priority: number; notBefore: number; seq: number; heard: number };

/** The behaviour txqueue.ts documents. */
class Model {
  items: Item[] = [];
  seq = 0;
  enqueue(id: string, frame: string, priority: number, notBefore: number): number {
    if (this.items.some((i) => i.id === id)) return -1;
    const used = new Set(this.items.map((i) => i.slot));
    let slot = [...Array(SLOTS).keys()].find((s) => !used.has(s)) ?? -1;
    if (slot < 0) {
      const victim = this.items.reduce((v, i) => (i.priority < v.priority || (i.priority === v.priority && i.seq > v.seq) ? i : v));
      if (priority <= victim.priority) return -1;
      this.items = this.items.filter((i) => i !== victim);
      slot = victim.slot;
    }
    this.items.push({ slot, id, frame, priority, notBefore: Math.max(0, notBefore), seq: ++this.seq, heard: 0 });
    return slot;
  }
  dup(id: string, threshold: number): boolean {
    const item = this.items.find((i) => i.id === id);
    if (!item) return false;
    item.heard = Math.min(255, item.heard + 1);
    if (threshold > 0 && item.heard >= threshold) { this.items = this.items.filter((i) => i !== item); return true; }
    return false;
  }
  nextDue(now: number): number {
    const due = this.items.filter((i) => i.notBefore <= now)
      .sort((a, b) => b.priority - a.priority || a.notBefore - b.notBefore || a.seq - b.seq);
    return due.length ? due[0].slot : -1;
  }
  remove(slot: number) { const n = this.items.length; this.items = this.items.filter((i) => i.slot !== slot); return this.items.length < n; }
  wake(): bigint { return this.items.length ? BigInt(Math.min(...this.items.map((i) => i.notBefore))) : NEVER; }
}

describe("transmit queue", () => {
  it("behaves like the model under random operation sequences", () => {
    for (const seed of [1, 2, 3, 4]) {
      const random = rng(seed);
      const q = queue();
      const m = new Model();
      const ids = Array.from({ length: 60 }, () => randomBytes(random, 8));
      let now = 10_000;
      for (let op = 0; op < 10_000; op++) {
        now += Math.floor(random() * 300);
        const id = ids[Math.floor(random() * ids.length)];
        const k = random();
        if (k < 0.4) {
          const frame = randomBytes(random, 1 + Math.floor(random() * 255));
          const prio = Math.floor(random() * 5);
          const nb = now - (now % 250) + 250 * Math.floor(random() * 12) - 500;   // coarse: many ties
          const slot = q.enqueue(frame, prio, nb, id);
          expect(slot, `op ${op}`).toBe(m.enqueue(hex(id), hex(frame), prio, nb));
          if (slot >= 0) expect(q.describe(slot)).toEqual({ frame: hex(frame), id: hex(id), len: frame.length, priority: prio, notBefore: nb, heard: 0 });
        } else if (k < 0.6) {
          const threshold = Math.floor(random() * 4);
          expect(q.dup(id, threshold), `op ${op}`).toBe(m.dup(hex(id), threshold));
        } else if (k < 0.8) {
          const slot = q.nextDue(now);
          expect(slot, `op ${op}`).toBe(m.nextDue(now));
          if (slot >= 0 && random() < 0.7) expect(q.f.remove(slot)).toBe(m.remove(slot) ? 1 : 0);
        } else if (k < 0.85) {
          const slot = Math.floor(random() * (SLOTS + 2)) - 1;
          expect(q.f.remove(slot)).toBe(m.remove(slot) ? 1 : 0);
        } else if (k < 0.9) {
          const item = m.items[Math.floor(random() * m.items.length)];
          if (item) {
            const nb = now + Math.floor(random() * 5000);
            expect(q.f.setNotBefore(item.slot, BigInt(nb))).toBe(1);
            item.notBefore = nb;
          }
        } else {
          expect(q.f.wake()).toBe(m.wake());
          expect(q.f.count()).toBe(m.items.length);
          expect(q.find(id)).toBe(m.items.find((i) => i.id === hex(id))?.slot ?? -1);
          for (const item of m.items) {
            expect(q.describe(item.slot)).toMatchObject({ frame: item.frame, id: item.id, priority: item.priority, notBefore: item.notBefore, heard: item.heard });
          }
        }
      }
    }
  });

  it("sends the highest priority first, then the earliest due, then the oldest", () => {
    const q = queue();
    const id = (n: number) => Uint8Array.of(n, 0, 0, 0, 0, 0, 0, 0);
    const frame = Uint8Array.of(1, 2, 3);
    q.enqueue(frame, PRIO.ANNOUNCE, 0, id(1));
    q.enqueue(frame, PRIO.FLOOD_RELAY, 100, id(2));
    q.enqueue(frame, PRIO.CHANNEL, 50, id(3));
    q.enqueue(frame, PRIO.DIRECT, 500, id(4));
    q.enqueue(frame, PRIO.ACK, 1000, id(5));
    q.enqueue(frame, PRIO.CHANNEL, 40, id(6));
    q.enqueue(frame, PRIO.CHANNEL, 40, id(7));
    const order: number[] = [];
    for (let slot = q.nextDue(2000); slot >= 0; slot = q.nextDue(2000)) {
      order.push(slot + 1);
      q.f.remove(slot);
    }
    expect(order).toEqual([5, 4, 6, 7, 3, 2, 1]);
    expect(q.f.wake()).toBe(NEVER);
    // Equal priority and time: queue order decides, not the slot number.
    q.enqueue(frame, PRIO.DIRECT, 10, id(1));
    q.enqueue(frame, PRIO.DIRECT, 10, id(2));
    q.f.remove(0);
    expect(q.enqueue(frame, PRIO.DIRECT, 10, id(3))).toBe(0);
    expect(q.nextDue(10)).toBe(1);
  });

  it("holds frames until their time and reports when to wake", () => {
    const q = queue();
    const a = q.enqueue(Uint8Array.of(1), PRIO.ACK, 800, Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1));
    q.enqueue(Uint8Array.of(2), PRIO.ANNOUNCE, 300, Uint8Array.of(2, 2, 2, 2, 2, 2, 2, 2));
    expect(q.f.wake()).toBe(300n);
    expect(q.nextDue(299)).toBe(-1);
    expect(q.nextDue(300)).toBe(1);
    expect(q.nextDue(800)).toBe(a);          // the ACK wins once due
    expect(q.f.setNotBefore(a, 5000n)).toBe(1);
    expect(q.nextDue(800)).toBe(1);
    expect(q.f.wake()).toBe(300n);
  });

  it("when full, evicts the lowest-priority, latest entry only for a strictly higher priority", () => {
    const q = queue();
    const id = (n: number) => Uint8Array.of(n, n, 0, 0, 0, 0, 0, 9);
    const before = q.x.memory.buffer.byteLength;
    for (let i = 0; i < SLOTS; i++) expect(q.enqueue(Uint8Array.of(i), i < 8 ? PRIO.FLOOD_RELAY : PRIO.CHANNEL, 0, id(i))).toBe(i);
    expect(q.enqueue(Uint8Array.of(99), PRIO.FLOOD_RELAY, 0, id(100))).toBe(-1);   // equal to the lowest: refused
    expect(q.enqueue(Uint8Array.of(99), PRIO.ANNOUNCE, 0, id(101))).toBe(-1);
    expect(q.enqueue(Uint8Array.of(99), PRIO.DIRECT, 0, id(102))).toBe(7);         // evicts relay #7, the latest relay
    expect(q.find(id(7))).toBe(-1);
    expect(q.enqueue(Uint8Array.of(98), PRIO.ACK, 0, id(103))).toBe(6);
    expect(q.f.count()).toBe(SLOTS);
    // A flood of 10x the slots never grows anything.
    for (let i = 0; i < 10 * SLOTS; i++) q.enqueue(Uint8Array.of(i), PRIO.ACK, 0, Uint8Array.of(200, i, 1, 2, 3, 4, 5, 6));
    expect(q.f.count()).toBe(SLOTS);
    expect(q.x.memory.buffer.byteLength).toBe(before);
    for (let s = 0; s < SLOTS; s++) expect(q.f.priority(s)).toBe(PRIO.ACK);
  });

  it("refuses a frame id that is already queued", () => {
    const q = queue();
    const id = Uint8Array.of(5, 5, 5, 5, 5, 5, 5, 5);
    expect(q.enqueue(Uint8Array.of(1), PRIO.FLOOD_RELAY, 0, id)).toBe(0);
    expect(q.enqueue(Uint8Array.of(2), PRIO.ACK, 0, id)).toBe(-1);
    expect(q.f.remove(0)).toBe(1);
    expect(q.enqueue(Uint8Array.of(2), PRIO.ACK, 0, id)).toBe(0);
  });

  it("cancels a waiting relay once enough copies were heard; threshold 0 never cancels", () => {
    const q = queue();
    const id = Uint8Array.of(7, 7, 7, 7, 7, 7, 7, 7);
    const other = Uint8Array.of(8, 7, 7, 7, 7, 7, 7, 7);
    const slot = q.enqueue(Uint8Array.of(1, 2), PRIO.FLOOD_RELAY, 500, id);
    expect(q.dup(other, 1)).toBe(false);
    expect(q.dup(id, 2)).toBe(false);
    expect(q.f.heard(slot)).toBe(1);
    expect(q.dup(id, 2)).toBe(true);
    expect(q.find(id)).toBe(-1);
    expect(q.f.count()).toBe(0);
    const r = q.enqueue(Uint8Array.of(1, 2), PRIO.FLOOD_RELAY, 500, id);
    for (let i = 0; i < 300; i++) expect(q.dup(id, 0)).toBe(false);
    expect(q.f.heard(r)).toBe(255);
    expect(q.dup(id, -3)).toBe(false);
    expect(q.find(id)).toBe(r);
  });

  it("refuses bad lengths, priorities, pointers and slots without trapping", () => {
    const q = queue();
    const end = q.x.memory.buffer.byteLength;
    const ID = q.scratch, FRAME = q.scratch + 8;
    for (const len of [0, -1, 256, 2 ** 31 - 1, -(2 ** 31)]) expect(q.f.enqueue(FRAME, len, PRIO.ACK, 0n, ID)).toBe(-1);
    for (const prio of [-1, 5, 255, 2 ** 31 - 1]) expect(q.f.enqueue(FRAME, 10, prio, 0n, ID)).toBe(-1);
    for (const p of [end - 9, end, -1, -(2 ** 31)]) expect(q.f.enqueue(p, 10, PRIO.ACK, 0n, ID)).toBe(-1);
    for (const p of [end - 7, -1]) {
      expect(q.f.enqueue(FRAME, 10, PRIO.ACK, 0n, p)).toBe(-1);
      expect(q.f.dup(p, 1)).toBe(0);
      expect(q.f.find(p)).toBe(-1);
    }
    expect(q.f.enqueue(end - 255, 255, PRIO.ACK, -5n, end - 8)).toBe(0);   // the very end of memory is fine
    expect(q.f.notBefore(0)).toBe(0n);                                      // negative times clamp to 0
    expect(q.f.copyFrame(0, end - 254)).toBe(-1);
    expect(q.f.copyFrame(0, end - 255)).toBe(255);
    for (const s of [-1, 1, SLOTS, 2 ** 31 - 1, -(2 ** 31)]) {
      expect(q.describe(s)).toEqual({ frame: null, id: null, len: -1, priority: -1, notBefore: -1, heard: -1 });
      expect(q.f.remove(s)).toBe(0);
      expect(q.f.setNotBefore(s, 1n)).toBe(0);
    }
    q.f.reset();
    expect(q.f.count()).toBe(0);
    expect(q.f.wake()).toBe(NEVER);
  });
});

describe("contention window", () => {
  const SLOT_MS = 28;   // about 2.5 LongFast symbols plus turnaround (anchors.md)
  /** The rule as documented: 6 bands of 5 dB over -20..+10 dB, 8 random slots each. */
  const bandOf = (snr: number) => Math.min(5, Math.floor((Math.min(10, Math.max(-20, snr)) + 20) / 5));
  const reference = (snr: number, slotMs: number, r: number) =>
    (bandOf(snr) * 8 + Math.floor((r & 0xff) * 8 / 256)) * Math.min(10_000, Math.max(0, slotMs));

  it("matches the documented rule for every SNR -40..+40 dB and every random byte", () => {
    const q = queue();
    for (let snr = -40; snr <= 40; snr++) for (let r = 0; r < 256; r++) {
      expect(q.f.delay(snr, SLOT_MS, r)).toBe(reference(snr, SLOT_MS, r));
    }
  });

  it("makes every weaker receiver's band end before a stronger receiver's band starts", () => {
    const q = queue();
    const bands = new Map<number, { min: number; max: number }>();
    for (let snr = -20; snr <= 10; snr++) {
      const ds = [...Array(256).keys()].map((r) => q.f.delay(snr, SLOT_MS, r));
      const b = bandOf(snr);
      const cur = bands.get(b) ?? { min: Infinity, max: -Infinity };
      bands.set(b, { min: Math.min(cur.min, ...ds), max: Math.max(cur.max, ...ds) });
    }
    expect(bands.size).toBe(6);
    for (let b = 1; b < 6; b++) expect(bands.get(b)!.min).toBeGreaterThan(bands.get(b - 1)!.max);
    for (let snrWeak = -25; snrWeak <= 15; snrWeak++) for (let snrStrong = snrWeak + 5; snrStrong <= 15; snrStrong++) {
      if (bandOf(snrWeak) === bandOf(snrStrong)) continue;
      expect(q.f.delay(snrWeak, SLOT_MS, 255)).toBeLessThan(q.f.delay(snrStrong, SLOT_MS, 0));
    }
    expect(q.f.delay(10, SLOT_MS, 255)).toBe(47 * SLOT_MS);   // longest wait, about 1.3 s on LongFast
    expect(q.f.delay(-20, SLOT_MS, 0)).toBe(0);
  });

  it("spreads the random byte evenly over the 8 slots of a band", () => {
    const q = queue();
    const counts = new Map<number, number>();
    for (let r = 0; r < 256; r++) { const d = q.f.delay(0, 1, r); counts.set(d, (counts.get(d) ?? 0) + 1); }
    expect([...counts.entries()].sort((a, b) => a[0] - b[0])).toEqual([...Array(8).keys()].map((i) => [32 + i, 32]));
  });

  it("clamps the slot length and ignores all but the low byte of the random value", () => {
    const q = queue();
    expect(q.f.delay(0, 0, 200)).toBe(0);
    expect(q.f.delay(0, -50, 200)).toBe(0);
    expect(q.f.delay(10, 2 ** 31 - 1, 255)).toBe(47 * 10_000);
    expect(q.f.delay(-20, 28, 0x1234_5600)).toBe(q.f.delay(-20, 28, 0));
    expect(q.f.delay(-(2 ** 31), 28, -1)).toBe(7 * 28);
    expect(q.f.delay(2 ** 31 - 1, 28, -(2 ** 31))).toBe(40 * 28);
  });
});
