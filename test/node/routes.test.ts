// Learned routes (firmware/cores/node/routes.ts): random operation sequences
// against a JS model, LRU eviction at capacity, failure counting, expiry, a clock
// going backwards, and bad pointers/slots that must not trap.
import { beforeAll, describe, expect, it } from "vitest";
import { buildAs, fn, type AsBuild, type AsExports } from "../helpers/as-build.js";
import { rng, randomBytes, hex } from "../helpers/seeded.js";

const CAPACITY = 128;
const MAX_AGE = 30 * 60 * 1000;
const MAX_FAILURES = 3;

let build: AsBuild;
beforeAll(async () => { build = await buildAs("test/node/as/routes.entry.ts"); });


function table() {
  const x: AsExports = build.instantiate();
  const mem = () => new Uint8Array(x.memory.buffer);
  const scratch = fn<() => number>(x, "scratchPtr")();
  const TAG = scratch, OUT = scratch + 8;
  const f = {
    reset: fn<() => void>(x, "routeReset"),
    learn: fn<(p: number, h: number, n: bigint) => number>(x, "routeLearn"),
    lookup: fn<(p: number, n: bigint) => number>(x, "routeLookup"),
    confirm: fn<(p: number, n: bigint) => number>(x, "routeConfirm"),
    fail: fn<(p: number, n: bigint) => number>(x, "routeFail"),
    forget: fn<(p: number, n: bigint) => number>(x, "routeForget"),
    forgetHop: fn<(h: number, n: bigint) => number>(x, "routeForgetHop"),
    nextHop: fn<(s: number) => number>(x, "routeNextHop"),
    learnedMs: fn<(s: number) => bigint>(x, "routeLearnedMs"),
    lastUsedMs: fn<(s: number) => bigint>(x, "routeLastUsedMs"),
    failures: fn<(s: number) => number>(x, "routeFailures"),
    copyTag: fn<(s: number, p: number) => number>(x, "routeCopyTag"),
    count: fn<(n: bigint) => number>(x, "routeCount"),
  };
  const put = (tag: Uint8Array) => { mem().set(tag, TAG); return TAG; };
  return {
    x, f, scratch,
    learn: (tag: Uint8Array, hop: number, now: number) => f.learn(put(tag), hop, BigInt(now)),
    lookup: (tag: Uint8Array, now: number) => f.lookup(put(tag), BigInt(now)),
    confirm: (tag: Uint8Array, now: number) => f.confirm(put(tag), BigInt(now)) === 1,
    fail: (tag: Uint8Array, now: number) => f.fail(put(tag), BigInt(now)),
    forget: (tag: Uint8Array, now: number) => f.forget(put(tag), BigInt(now)) === 1,
    forgetHop: (hop: number, now: number) => f.forgetHop(hop, BigInt(now)),
    count: (now: number) => f.count(BigInt(now)),
    /** Everything the table says about `slot`, for comparison with the model. */
    describe: (slot: number) => ({
      tag: f.copyTag(slot, OUT) ? hex(mem().slice(OUT, OUT + 8)) : null,
      nextHop: f.nextHop(slot) >>> 0,
      learned: Number(f.learnedMs(slot)),
      lastUsed: Number(f.lastUsedMs(slot)),
      failures: f.failures(slot),
    }),
  };
}

type Route = { nextHop: number; learned: number; lastUsed: number; failures: number; use: number };

/** The behaviour routes.ts documents. Expired routes are invisible, so the model simply drops them. */
class Model {
  routes = new Map<string, Route>();
  uses = 0;
  purge(now: number) { for (const [k, r] of [...this.routes]) if (now - r.learned >= MAX_AGE) this.routes.delete(k); }
  learn(tag: string, nextHop: number, now: number) {
    this.purge(now);
    let r = this.routes.get(tag);
    if (!r) {
      if (this.routes.size === CAPACITY) {
        let lru: string | null = null;
        for (const [k, v] of this.routes) if (lru === null || v.use < this.routes.get(lru)!.use) lru = k;
        this.routes.delete(lru!);
      }
      r = { nextHop, learned: now, lastUsed: now, failures: 0, use: 0 };
      this.routes.set(tag, r);
    }
    r.nextHop = nextHop; r.learned = now; r.failures = 0; r.use = ++this.uses;
    return r;
  }
  lookup(tag: string, now: number) {
    this.purge(now);
    const r = this.routes.get(tag);
    if (r) { r.lastUsed = now; r.use = ++this.uses; }
    return r;
  }
  confirm(tag: string, now: number) {
    this.purge(now);
    const r = this.routes.get(tag);
    if (r) { r.failures = 0; r.learned = now; r.use = ++this.uses; }
    return !!r;
  }
  fail(tag: string, now: number) {
    this.purge(now);
    const r = this.routes.get(tag);
    if (!r) return -1;
    r.failures++;
    if (r.failures >= MAX_FAILURES) this.routes.delete(tag);
    return r.failures;
  }
  forget(tag: string, now: number) { this.purge(now); return this.routes.delete(tag); }
  forgetHop(hop: number, now: number) {
    this.purge(now);
    let n = 0;
    for (const [k, r] of [...this.routes]) if (r.nextHop === hop) { this.routes.delete(k); n++; }
    return n;
  }
}

describe("routes", () => {
  it("behaves like the model under random operation sequences", () => {
    for (const seed of [1, 2, 3]) {
      const random = rng(seed);
      const t = table();
      const m = new Model();
      const tags = Array.from({ length: 300 }, () => randomBytes(random, 8));
      const hops = Array.from({ length: 12 }, () => Math.floor(random() * 2 ** 32));
      let now = 50_000;
      for (let op = 0; op < 15_000; op++) {
        const r = random();
        if (r < 0.001) now += Math.floor(random() * 2 * MAX_AGE);                       // long silence
        else if (r < 0.002) now = Math.max(0, now - Math.floor(random() * MAX_AGE));     // clock steps back
        else now += Math.floor(random() * (seed === 3 ? 20_000 : 2_000));                // full table vs expiry
        const tag = tags[Math.floor(random() * tags.length)];
        const key = hex(tag);
        const k = random();
        const check = (slot: number, route: Route | undefined) => {
          if (!route) { expect(slot, `op ${op}`).toBe(-1); return; }
          expect(slot).toBeGreaterThanOrEqual(0);
          expect(t.describe(slot)).toEqual({ tag: key, nextHop: route.nextHop, learned: route.learned, lastUsed: route.lastUsed, failures: route.failures });
        };
        if (k < 0.35) {
          const hop = hops[Math.floor(random() * hops.length)];
          check(t.learn(tag, hop, now), m.learn(key, hop, now));
        } else if (k < 0.7) {
          check(t.lookup(tag, now), m.lookup(key, now));
        } else if (k < 0.8) {
          expect(t.confirm(tag, now), `op ${op}`).toBe(m.confirm(key, now));
        } else if (k < 0.93) {
          expect(t.fail(tag, now), `op ${op}`).toBe(m.fail(key, now));
        } else if (k < 0.97) {
          expect(t.forget(tag, now), `op ${op}`).toBe(m.forget(key, now));
        } else if (k < 0.98) {
          const hop = hops[Math.floor(random() * hops.length)];
          expect(t.forgetHop(hop, now), `op ${op}`).toBe(m.forgetHop(hop, now));
        } else {
          m.purge(now);
          expect(t.count(now), `op ${op}`).toBe(m.routes.size);
        }
      }
    }
  });

  it("stays bounded when 10x capacity destinations are learned, evicting the least recently used", () => {
    const random = rng(42);
    const t = table();
    const before = t.x.memory.buffer.byteLength;
    const tags = Array.from({ length: 10 * CAPACITY }, () => randomBytes(random, 8));
    const keep = tags[0];
    tags.forEach((tag, i) => {
      expect(t.learn(tag, i, 1000 + i)).toBeGreaterThanOrEqual(0);
      expect(t.lookup(keep, 1000 + i)).toBeGreaterThanOrEqual(0);   // used constantly: never evicted
      expect(t.count(1000 + i)).toBeLessThanOrEqual(CAPACITY);
    });
    const now = 1000 + tags.length;
    expect(t.x.memory.buffer.byteLength).toBe(before);
    expect(t.count(now)).toBe(CAPACITY);
    const alive = tags.filter((tag) => t.lookup(tag, now) >= 0).map(hex);
    expect(alive).toHaveLength(CAPACITY);
    expect(alive).toContain(hex(keep));
    expect(new Set(alive)).toEqual(new Set([keep, ...tags.slice(tags.length - (CAPACITY - 1))].map(hex)));
  });

  it("drops a route after ROUTE_MAX_FAILURES missed ACKs in a row; a confirmation resets the count", () => {
    const t = table();
    const tag = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    const slot = t.learn(tag, 0xabcdef01, 1000);
    expect(t.describe(slot).nextHop).toBe(0xabcdef01);
    expect(t.fail(tag, 1100)).toBe(1);
    expect(t.fail(tag, 1200)).toBe(2);
    expect(t.confirm(tag, 1300)).toBe(true);
    expect(t.describe(slot)).toMatchObject({ failures: 0, learned: 1300, lastUsed: 1000 });
    expect(t.fail(tag, 1400)).toBe(1);
    expect(t.fail(tag, 1500)).toBe(2);
    expect(t.fail(tag, 1600)).toBe(MAX_FAILURES);
    expect(t.lookup(tag, 1700)).toBe(-1);
    expect(t.fail(tag, 1800)).toBe(-1);
    expect(t.confirm(tag, 1800)).toBe(false);
    // Re-learning starts clean, with the new next hop.
    const again = t.learn(tag, 7, 1900);
    expect(t.describe(again)).toMatchObject({ nextHop: 7, failures: 0, learned: 1900 });
  });

  it("expires a route ROUTE_MAX_AGE_MS after it was learned or confirmed, however much it is used", () => {
    const t = table();
    const tag = Uint8Array.of(9, 8, 7, 6, 5, 4, 3, 2);
    t.learn(tag, 5, 0);
    for (let now = 0; now < MAX_AGE; now += 60_000) expect(t.lookup(tag, now)).toBeGreaterThanOrEqual(0);
    expect(t.lookup(tag, MAX_AGE - 1)).toBeGreaterThanOrEqual(0);
    expect(t.lookup(tag, MAX_AGE)).toBe(-1);
    t.learn(tag, 5, MAX_AGE);
    expect(t.confirm(tag, 2 * MAX_AGE - 1)).toBe(true);
    expect(t.lookup(tag, 3 * MAX_AGE - 2)).toBeGreaterThanOrEqual(0);
    expect(t.count(3 * MAX_AGE - 1)).toBe(0);
  });

  it("forgets one destination, or every route through a neighbour that left", () => {
    const t = table();
    const tags = Array.from({ length: 10 }, (_, i) => Uint8Array.of(i, 0, 0, 0, 0, 0, 0, 1));
    tags.forEach((tag, i) => t.learn(tag, i % 2 === 0 ? 0xaaaa : 0xbbbb, 100));
    expect(t.forget(tags[1], 200)).toBe(true);
    expect(t.forget(tags[1], 200)).toBe(false);
    expect(t.forgetHop(0xaaaa, 200)).toBe(5);
    expect(t.forgetHop(0xaaaa, 200)).toBe(0);
    expect(t.count(200)).toBe(4);
    expect(tags.map((tag) => t.lookup(tag, 300) >= 0)).toEqual(tags.map((_, i) => i % 2 === 1 && i !== 1));
  });

  it("keeps LRU order right when the clock jumps backwards (use order, not time)", () => {
    const random = rng(5);
    const t = table();
    const tags = Array.from({ length: CAPACITY }, () => randomBytes(random, 8));
    tags.forEach((tag, i) => t.learn(tag, i, 10_000_000 - i * 1000));   // learned at ever earlier clock values
    expect(t.lookup(tags[0], 100)).toBeGreaterThanOrEqual(0);           // clock went back: still live, now most recent
    t.learn(randomBytes(random, 8), 999, 100);                          // full: evicts tags[1], the least recently used
    expect(t.lookup(tags[1], 100)).toBe(-1);
    expect(t.lookup(tags[0], 100)).toBeGreaterThanOrEqual(0);
    expect(t.count(100)).toBe(CAPACITY);
  });

  it("refuses bad pointers and slots without trapping", () => {
    const t = table();
    const end = t.x.memory.buffer.byteLength;
    for (const p of [end - 7, end, -1, 2 ** 31 - 1, -(2 ** 31)]) {
      expect(t.f.learn(p, 1, 0n)).toBe(-1);
      expect(t.f.lookup(p, 0n)).toBe(-1);
      expect(t.f.confirm(p, 0n)).toBe(0);
      expect(t.f.fail(p, 0n)).toBe(-1);
      expect(t.f.forget(p, 0n)).toBe(0);
    }
    expect(t.f.learn(end - 8, 1, 0n)).toBe(0);
    expect(t.f.copyTag(0, end - 7)).toBe(0);
    expect(t.f.copyTag(0, end - 8)).toBe(1);
    for (const s of [-1, 1, CAPACITY, 2 ** 31 - 1, -(2 ** 31)]) {
      expect(t.describe(s)).toEqual({ tag: null, nextHop: 0, learned: -1, lastUsed: -1, failures: -1 });
    }
    t.f.reset();
    expect(t.count(0)).toBe(0);
  });
});
