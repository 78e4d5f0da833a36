// Duplicate filter (firmware/cores/node/dedup.ts): random operation sequences
// against a JS model, capacity bounds under an id flood, expiry, a clock going
// backwards, and bad pointers/slots that must not trap.
import { beforeAll, describe, expect, it } from "vitest";
import { buildAs, fn, type AsBuild, type AsExports } from "../helpers/as-build.js";
import { rng, randomBytes, hex } from "../helpers/seeded.js";

const CAPACITY = 512;
const MAX_AGE = 600_000;
const COPIES_MAX = 0xffff;

let build: AsBuild;
beforeAll(async () => { build = await buildAs("test/node/as/dedup.entry.ts"); });


/** Wrappers over one fresh instance; ids and tags go through the scratch buffer. */
function table(seed = 0n) {
  const x: AsExports = build.instantiate();
  const mem = () => new Uint8Array(x.memory.buffer);
  const scratch = fn<() => number>(x, "scratchPtr")();
  const ID = scratch, TAG = scratch + 8, OUT = scratch + 16;
  const f = {
    reset: fn<(s: bigint) => void>(x, "dedupReset"),
    lookup: fn<(p: number, n: bigint) => number>(x, "dedupLookup"),
    insert: fn<(p: number, h: number, t: number, n: bigint) => number>(x, "dedupInsert"),
    noteCopy: fn<(s: number) => number>(x, "dedupNoteCopy"),
    markRelayed: fn<(s: number) => number>(x, "dedupMarkRelayed"),
    prevHop: fn<(s: number) => number>(x, "dedupPrevHop"),
    firstSeen: fn<(s: number) => bigint>(x, "dedupFirstSeenMs"),
    copies: fn<(s: number) => number>(x, "dedupCopies"),
    relayed: fn<(s: number) => number>(x, "dedupRelayed"),
    copyId: fn<(s: number, p: number) => number>(x, "dedupCopyId"),
    copyTag: fn<(s: number, p: number) => number>(x, "dedupCopyTag"),
    count: fn<(n: bigint) => number>(x, "dedupCount"),
    occupied: fn<() => number>(x, "dedupOccupied"),
    expire: fn<(n: bigint) => number>(x, "dedupExpire"),
  };
  f.reset(seed);
  return {
    x, f, scratch,
    lookup: (id: Uint8Array, now: number) => { mem().set(id, ID); return f.lookup(ID, BigInt(now)); },
    insert: (id: Uint8Array, prevHop: number, tag: Uint8Array, now: number) => {
      mem().set(id, ID); mem().set(tag, TAG);
      return f.insert(ID, prevHop, TAG, BigInt(now));
    },
    id: (slot: number) => (f.copyId(slot, OUT) ? hex(mem().slice(OUT, OUT + 8)) : null),
    tag: (slot: number) => (f.copyTag(slot, OUT) ? hex(mem().slice(OUT, OUT + 8)) : null),
    prevHop: (slot: number) => f.prevHop(slot) >>> 0,
    firstSeen: (slot: number) => Number(f.firstSeen(slot)),
    copies: (slot: number) => f.copies(slot),
    relayed: (slot: number) => f.relayed(slot) === 1,
    count: (now: number) => f.count(BigInt(now)),
  };
}

type Entry = { id: string; prevHop: number; tag: string; firstSeen: number; copies: number; relayed: boolean };

/** The behaviour dedup.ts documents, with plain JS structures. */
class Model {
  bySlot = new Map<number, Entry>();
  byId = new Map<string, number>();
  head = 0;
  live(e: Entry, now: number) { return now - e.firstSeen < MAX_AGE; }
  free(slot: number) { const e = this.bySlot.get(slot); if (e) { this.byId.delete(e.id); this.bySlot.delete(slot); } }
  lookup(id: string, now: number) {
    const slot = this.byId.get(id);
    return slot !== undefined && this.live(this.bySlot.get(slot)!, now) ? slot : -1;
  }
  insert(id: string, prevHop: number, tag: string, now: number) {
    const old = this.byId.get(id);
    if (old !== undefined) {
      if (this.live(this.bySlot.get(old)!, now)) return old;
      this.free(old);
    }
    const slot = this.head;
    this.head = (this.head + 1) % CAPACITY;
    this.free(slot);
    this.bySlot.set(slot, { id, prevHop, tag, firstSeen: Math.max(0, now), copies: 1, relayed: false });
    this.byId.set(id, slot);
    return slot;
  }
  expire(now: number) {
    let n = 0;
    for (const [slot, e] of [...this.bySlot]) if (!this.live(e, now)) { this.free(slot); n++; }
    return n;
  }
  count(now: number) { return [...this.bySlot.values()].filter((e) => this.live(e, now)).length; }
}

describe("dedup", () => {
  it("behaves like the model under random operation sequences", () => {
    for (const seed of [1, 2, 3, 4]) {
      const random = rng(seed);
      const t = table(BigInt(seed) * 0x9e3779b97f4a7c15n & 0xffffffffffffffffn);
      const m = new Model();
      const pool = Array.from({ length: 1500 }, () => randomBytes(random, 8));
      let now = 1_000_000;
      for (let op = 0; op < 12_000; op++) {
        const r = random();
        if (r < 0.002) now += Math.floor(random() * 2 * MAX_AGE);         // long silence
        else if (r < 0.003) now -= Math.floor(random() * MAX_AGE);        // clock steps back
        else now += Math.floor(random() * (seed % 2 ? 400 : 2_000));      // ring roll-over vs expiry dominates
        const id = pool[Math.floor(random() * pool.length)];
        const k = random();
        if (k < 0.45) {
          const tag = randomBytes(random, 8);
          const hop = Math.floor(random() * 2 ** 32);
          const got = t.insert(id, hop, tag, now);
          expect(got, `op ${op}`).toBe(m.insert(hex(id), hop, hex(tag), now));
        } else if (k < 0.8) {
          expect(t.lookup(id, now), `op ${op}`).toBe(m.lookup(hex(id), now));
        } else if (k < 0.88) {
          const slot = Math.floor(random() * (CAPACITY + 4)) - 2;
          const e = m.bySlot.get(slot);
          if (e) e.copies = Math.min(COPIES_MAX, e.copies + 1);
          expect(t.f.noteCopy(slot)).toBe(e ? e.copies : -1);
        } else if (k < 0.93) {
          const slot = Math.floor(random() * CAPACITY);
          const e = m.bySlot.get(slot);
          if (e) e.relayed = true;
          expect(t.f.markRelayed(slot)).toBe(e ? 1 : 0);
        } else if (k < 0.94) {
          expect(t.f.expire(BigInt(now))).toBe(m.expire(now));
        } else {
          const slot = Math.floor(random() * CAPACITY);
          const e = m.bySlot.get(slot);
          expect(t.id(slot)).toBe(e ? e.id : null);
          expect(t.tag(slot)).toBe(e ? e.tag : null);
          expect(t.prevHop(slot)).toBe(e ? e.prevHop : 0);
          expect(t.firstSeen(slot)).toBe(e ? e.firstSeen : -1);
          expect(t.copies(slot)).toBe(e ? e.copies : -1);
          expect(t.relayed(slot)).toBe(e ? e.relayed : false);
        }
        if (op % 500 === 0) {
          expect(t.f.occupied()).toBe(m.bySlot.size);
          expect(t.count(now)).toBe(m.count(now));
        }
      }
    }
  });

  it("stays bounded under a flood of random ids (10x capacity): memory unchanged, newest kept", () => {
    const random = rng(99);
    const t = table(0x1234_5678_9abc_def0n);
    const before = t.x.memory.buffer.byteLength;
    const ids: Uint8Array[] = [];
    const tag = new Uint8Array(8);
    for (let i = 0; i < 10 * CAPACITY; i++) {
      const id = randomBytes(random, 8);
      ids.push(id);
      expect(t.insert(id, i, tag, 1000 + i)).toBe(i % CAPACITY);
      expect(t.f.occupied()).toBeLessThanOrEqual(CAPACITY);
    }
    expect(t.x.memory.buffer.byteLength).toBe(before);
    expect(t.f.occupied()).toBe(CAPACITY);
    expect(t.count(1000 + 10 * CAPACITY)).toBe(CAPACITY);
    const now = 1000 + 10 * CAPACITY;
    ids.forEach((id, i) => {
      const slot = t.lookup(id, now);
      if (i >= 9 * CAPACITY) {
        expect(slot).toBe(i % CAPACITY);
        expect(t.prevHop(slot)).toBe(i);
      } else {
        expect(slot).toBe(-1);
      }
    });
  });

  it("stays correct when the ids are adversarial (all differing only in the high bytes) and with seed 0", () => {
    for (const seed of [0n, 0xdeadbeefn]) {
      const t = table(seed);
      const tag = new Uint8Array(8);
      const ids = Array.from({ length: 3 * CAPACITY }, (_, i) => {
        const id = new Uint8Array(8);
        id[6] = i & 0xff; id[7] = i >> 8;
        return id;
      });
      ids.forEach((id, i) => t.insert(id, i, tag, 5));
      ids.forEach((id, i) => expect(t.lookup(id, 6)).toBe(i >= 2 * CAPACITY ? i % CAPACITY : -1));
    }
  });

  it("counts copies, remembers the first previous hop and tag, and marks relays", () => {
    const t = table(7n);
    const id = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    const tag = Uint8Array.of(9, 9, 9, 9, 8, 8, 8, 8);
    expect(t.lookup(id, 100)).toBe(-1);
    const slot = t.insert(id, 0xfeedbeef, tag, 100);
    expect(slot).toBe(0);
    expect(t.lookup(id, 150)).toBe(slot);
    expect(t.insert(id, 0x11111111, new Uint8Array(8), 200)).toBe(slot);   // already known: unchanged
    expect(t.prevHop(slot)).toBe(0xfeedbeef);
    expect(t.tag(slot)).toBe(hex(tag));
    expect(t.firstSeen(slot)).toBe(100);
    expect(t.copies(slot)).toBe(1);
    expect(t.f.noteCopy(slot)).toBe(2);
    expect(t.relayed(slot)).toBe(false);
    expect(t.f.markRelayed(slot)).toBe(1);
    expect(t.relayed(slot)).toBe(true);
    for (let i = 0; i < 70_000; i++) t.f.noteCopy(slot);
    expect(t.copies(slot)).toBe(COPIES_MAX);
  });

  it("expires entries after DEDUP_MAX_AGE_MS and replaces them on the next sighting", () => {
    const t = table(3n);
    const id = Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1);
    const slot = t.insert(id, 1, new Uint8Array(8), 10_000);
    t.f.noteCopy(slot);
    expect(t.lookup(id, 10_000 + MAX_AGE - 1)).toBe(slot);
    expect(t.lookup(id, 10_000 + MAX_AGE)).toBe(-1);
    expect(t.count(10_000 + MAX_AGE)).toBe(0);
    expect(t.f.occupied()).toBe(1);
    const again = t.insert(id, 2, new Uint8Array(8), 10_000 + MAX_AGE);
    expect(again).toBe(1);
    expect(t.copies(again)).toBe(1);
    expect(t.prevHop(again)).toBe(2);
    expect(t.f.occupied()).toBe(1);
    expect(t.f.expire(BigInt(10_000 + 2 * MAX_AGE))).toBe(1);
    expect(t.f.occupied()).toBe(0);
    expect(t.lookup(id, 10_000 + 2 * MAX_AGE)).toBe(-1);
  });

  it("treats entries from the future (clock went backwards) as just seen", () => {
    const t = table(5n);
    const id = Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1);
    const slot = t.insert(id, 1, new Uint8Array(8), 5_000_000);
    expect(t.lookup(id, 0)).toBe(slot);
    expect(t.lookup(id, 5_000_000 + MAX_AGE)).toBe(-1);
    expect(t.insert(Uint8Array.of(2, 2, 2, 2, 2, 2, 2, 2), 1, new Uint8Array(8), -50)).toBe(1);
    expect(t.firstSeen(1)).toBe(0);   // negative times are clamped to 0
  });

  it("refuses bad pointers and slots without trapping", () => {
    const t = table(1n);
    const end = t.x.memory.buffer.byteLength;
    for (const p of [end - 7, end, end + 100, -1, 2 ** 31 - 1, -(2 ** 31)]) {
      expect(t.f.lookup(p, 0n)).toBe(-1);
      expect(t.f.insert(p, 1, t.scratch, 0n)).toBe(-1);
      expect(t.f.insert(t.scratch, 1, p, 0n)).toBe(-1);
    }
    expect(t.f.lookup(end - 8, 0n)).toBe(-1);      // last 8 bytes of memory: valid, just unknown
    const slot = t.f.insert(end - 8, 1, end - 8, 0n);
    expect(slot).toBe(0);
    for (const p of [end - 7, -1]) {
      expect(t.f.copyId(slot, p)).toBe(0);
      expect(t.f.copyTag(slot, p)).toBe(0);
    }
    for (const s of [-1, 1, CAPACITY, 2 ** 31 - 1, -(2 ** 31)]) {
      expect(t.f.noteCopy(s)).toBe(-1);
      expect(t.f.markRelayed(s)).toBe(0);
      expect(t.f.prevHop(s)).toBe(0);
      expect(t.f.firstSeen(s)).toBe(-1n);
      expect(t.f.copies(s)).toBe(-1);
      expect(t.f.relayed(s)).toBe(0);
      expect(t.f.copyId(s, t.scratch)).toBe(0);
    }
  });
});
