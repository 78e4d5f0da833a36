// Duty-cycle ledger (firmware/cores/node/dutycycle.ts): budgets from
// hardware/regions.json, the rolling-hour guarantee under random send patterns,
// conservative counting, and a clock that goes backwards.
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildAs, fn, ROOT, type AsBuild } from "../helpers/as-build.js";
import { rng } from "../helpers/seeded.js";

const HOUR = 3_600_000;
const MINUTE = 60_000;

type Ledger = {
  record(nowMs: number, airtimeMs: number): boolean;
  used(nowMs: number): number;
  wait(nowMs: number, airtimeMs: number, budgetMs: number): number;
  canSend(nowMs: number, airtimeMs: number, budgetMs: number): boolean;
  budget(percent: number): number;
  reset(): void;
};

let build: AsBuild;
beforeAll(async () => { build = await buildAs("test/node/as/dutycycle.entry.ts"); });

/** A fresh instance (own memory) with number-typed wrappers; times go in as BigInt. */
function ledger(): Ledger {
  const x = build.instantiate();
  const record = fn<(n: bigint, a: bigint) => number>(x, "dutyRecord");
  const used = fn<(n: bigint) => bigint>(x, "dutyUsedMs");
  const wait = fn<(n: bigint, a: bigint, b: bigint) => bigint>(x, "dutyWaitMs");
  const can = fn<(n: bigint, a: bigint, b: bigint) => number>(x, "dutyCanSend");
  const budget = fn<(p: number) => bigint>(x, "dutyBudgetMs");
  const reset = fn<() => void>(x, "dutyReset");
  const B = (v: number) => BigInt(Math.trunc(v));
  return {
    record: (n, a) => record(B(n), B(a)) === 1,
    used: (n) => Number(used(B(n))),
    wait: (n, a, b) => Number(wait(B(n), B(a), B(b))),
    canSend: (n, a, b) => can(B(n), B(a), B(b)) === 1,
    budget: (p) => Number(budget(p)),
    reset: () => reset(),
  };
}

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */

type Tx = { start: number; end: number };

/** Largest transmit time inside any rolling hour (T - HOUR, T]. */
function worstHour(txs: Tx[]): number {
  const overlap = (lo: number, hi: number) =>
    txs.reduce((sum, t) => sum + Math.max(0, Math.min(t.end, hi) - Math.max(t.start, lo)), 0);
  let worst = 0;
  // The overlap is piecewise linear in T; its maxima sit where a window edge meets a transmission edge.
  for (const t of txs) {
    worst = Math.max(worst, overlap(t.end - HOUR, t.end), overlap(t.start, t.start + HOUR));
  }
  return worst;
}

describe("duty-cycle budgets", () => {
  it("uses the 3600 s window of every region in hardware/regions.json", () => {
    const regions = JSON.parse(readFileSync(path.join(ROOT, "hardware/regions.json"), "utf8")).regions as
      { id: string; dutyCyclePercent: number | null; dutyCycleWindowSeconds: number | null; subBands: { dutyCyclePercent: number | null; dutyCycleWindowSeconds: number | null }[] }[];
    const windows = new Set<number>();
    const l = ledger();
    for (const r of regions) {
      for (const band of [r, ...r.subBands]) {
        if (band.dutyCyclePercent === null) {
          expect(band.dutyCycleWindowSeconds).toBeNull();
          expect(l.budget(NaN)).toBe(0);
          continue;
        }
        windows.add(band.dutyCycleWindowSeconds!);
        expect(l.budget(band.dutyCyclePercent)).toBe(Math.floor(band.dutyCyclePercent / 100 * HOUR));
      }
    }
    expect([...windows]).toEqual([3600]);
    expect((build.exports.DUTY_WINDOW_MS as unknown as WebAssembly.Global).value).toBe(BigInt(HOUR));
    expect((build.exports.DUTY_BUCKETS as unknown as WebAssembly.Global).value).toBe(61);
  });

  it("turns percentages into ms per hour; null/0/NaN/negative/100 % mean no limit", () => {
    const l = ledger();
    expect(l.budget(10)).toBe(360_000);
    expect(l.budget(1)).toBe(36_000);
    expect(l.budget(0.1)).toBe(3_600);
    for (const p of [0, -1, NaN, 100, 150, Infinity, -Infinity]) expect(l.budget(p)).toBe(0);
    expect(l.budget(1e-9)).toBe(1);
  });

  it("a budget of 0 (no limit, e.g. US915) always allows sending", () => {
    const l = ledger();
    for (let i = 0; i < 100; i++) l.record(i * 1000, 5000);
    expect(l.used(100_000)).toBe(500_000);
    expect(l.canSend(100_000, 2157, 0)).toBe(true);
    expect(l.wait(100_000, 2157, 0)).toBe(0);
    expect(l.wait(100_000, 10 * HOUR, -5)).toBe(0);
  });
});

describe("duty-cycle ledger", () => {
  it("counts a transmission for the hour after it ended, at one-minute resolution", () => {
    const l = ledger();
    expect(l.record(10_000, 1_500)).toBe(true);     // ended at 0:00:10, minute 0
    expect(l.used(10_000)).toBe(1_500);
    expect(l.used(HOUR + 9_999)).toBe(1_500);       // still inside the hour
    expect(l.used(61 * MINUTE - 1)).toBe(1_500);    // minute 60: the partial oldest minute still counts
    expect(l.used(61 * MINUTE)).toBe(0);            // minute 61: gone
  });

  it("waits exactly as long as needed: refused at wait - 1, allowed at wait", () => {
    const budget = 36_000;   // 1 %
    const random = rng(7);
    for (let trial = 0; trial < 40; trial++) {
      const l = ledger();
      let t = Math.floor(random() * 1e9);
      const txs: Tx[] = [];
      for (let i = 0; i < 30; i++) {
        const a = 500 + Math.floor(random() * 3000);
        const w = l.wait(t, a, budget);
        expect(w).toBeGreaterThanOrEqual(0);
        if (w > 0) {
          expect(l.canSend(t + w - 1, a, budget)).toBe(false);
          expect(l.wait(t + w - 1, a, budget)).toBe(1);
        }
        t += w;
        expect(l.canSend(t, a, budget)).toBe(true);
        txs.push({ start: t, end: t + a });
        l.record(t + a, a);
        t += a + Math.floor(random() * 20_000);
      }
      expect(worstHour(txs)).toBeLessThanOrEqual(budget);
    }
  });

  it("never lets any rolling hour exceed the budget under random send patterns, and still uses most of it", () => {
    for (const [seed, budget] of [[1, 36_000], [2, 360_000], [3, 3_600], [4, 36_000], [5, 360_000]] as const) {
      const random = rng(seed);
      const l = ledger();
      const txs: Tx[] = [];
      let t = Math.floor(random() * 1e7);
      const startT = t;
      const hours = 6;
      while (t < startT + hours * HOUR) {
        // Bursty offered load: frames of LongFast-like airtimes, sometimes back to back.
        const a = [60, 200, 642, 1200, 2157, 4000][Math.floor(random() * 6)];
        if (l.canSend(t, a, budget)) {
          txs.push({ start: t, end: t + a });
          expect(l.record(t + a, a)).toBe(true);
          t += a;
        }
        t += random() < 0.9 ? Math.floor(random() * 2_000) : Math.floor(random() * 120_000);   // offered load about 16 %
      }
      expect(worstHour(txs), `seed ${seed}`).toBeLessThanOrEqual(budget);
      // Not uselessly strict: after the first hour the sender gets most of the budget.
      const late = txs.filter((x) => x.start >= startT + HOUR).reduce((s, x) => s + x.end - x.start, 0);
      expect(late / (hours - 1), `seed ${seed}`).toBeGreaterThan(0.8 * budget);
    }
  });

  it("never under-counts, and over-counts by at most one minute's transmissions", () => {
    const random = rng(11);
    const l = ledger();
    const txs: Tx[] = [];
    let t = 0;
    for (let i = 0; i < 3000; i++) {
      t += Math.floor(random() * 30_000);
      if (random() < 0.6) {
        const a = Math.floor(random() * 3000);
        txs.push({ start: t, end: t + a });
        t += a;
        l.record(t, a);
      } else {
        const used = l.used(t);
        const inHour = txs.filter((x) => x.end > t - HOUR).reduce((s, x) => s + x.end - x.start, 0);
        const inHourAndMinute = txs.filter((x) => x.end > t - HOUR - MINUTE).reduce((s, x) => s + x.end - x.start, 0);
        expect(used).toBeGreaterThanOrEqual(inHour);
        expect(used).toBeLessThanOrEqual(inHourAndMinute);
      }
    }
  });

  it("refuses impossible requests without trapping", () => {
    const l = ledger();
    expect(l.record(0, -1)).toBe(false);
    expect(l.wait(0, -1, 1000)).toBe(-1);
    expect(l.canSend(0, -1, 1000)).toBe(false);
    expect(l.wait(0, 1001, 1000)).toBe(-1);          // longer than the whole budget: never
    expect(l.wait(0, 1000, 1000)).toBe(0);
    // An airtime above the window counts as the window.
    expect(l.record(5 * MINUTE, 10 * HOUR)).toBe(true);
    expect(l.used(5 * MINUTE)).toBe(HOUR);
    // Extreme clock values are clamped, never wrap.
    const m = ledger();
    for (const now of [-1e18, -1, 0, 2 ** 52, 9.2e18]) {
      expect(m.record(now, 100)).toBe(true);
      expect(m.used(now)).toBeGreaterThanOrEqual(100);
      expect(m.wait(now, 100, 50)).toBe(-1);
      expect(m.wait(now, 100, 10_000)).toBeGreaterThanOrEqual(0);
    }
  });

  it("survives a clock that goes backwards: nothing is forgotten early, everything still expires", () => {
    const l = ledger();
    l.record(10 * HOUR, 30_000);
    expect(l.used(10 * HOUR)).toBe(30_000);
    // The clock jumps back five hours: the transmission still counts...
    expect(l.used(5 * HOUR)).toBe(30_000);
    expect(l.canSend(5 * HOUR, 10_000, 36_000)).toBe(false);
    expect(l.wait(5 * HOUR, 6_000, 36_000)).toBe(0);
    // ...and leaves within the hour after the jump, counted on the new clock.
    expect(l.used(5 * HOUR + 60 * MINUTE)).toBe(30_000);
    expect(l.used(5 * HOUR + 62 * MINUTE)).toBe(0);
    // Repeated small backward steps never lower the count.
    const m = ledger();
    m.record(HOUR, 1000);
    let last = m.used(HOUR);
    for (let now = HOUR; now > 0; now -= 7_777) {
      const u = m.used(now);
      expect(u).toBeGreaterThanOrEqual(last);
      last = u;
    }
    m.reset();
    expect(m.used(HOUR)).toBe(0);
  });

  it("keeps every real rolling hour within budget when the host clock keeps jumping back", () => {
    for (const seed of [21, 22, 23]) {
      const random = rng(seed);
      const budget = 36_000;
      const l = ledger();
      const txs: Tx[] = [];       // in real time
      let real = 0;
      let offset = 5 * HOUR;      // host clock = real + offset; only ever decreases
      while (real < 5 * HOUR) {
        if (random() < 0.02) offset -= Math.floor(random() * (random() < 0.5 ? 90_000 : 3 * HOUR));
        const a = 200 + Math.floor(random() * 2500);
        const host = real + offset;
        if (l.canSend(host, a, budget)) {
          txs.push({ start: real, end: real + a });
          real += a;
          l.record(real + offset, a);
        }
        real += Math.floor(random() * 30_000);
      }
      expect(worstHour(txs), `seed ${seed}`).toBeLessThanOrEqual(budget);
      expect(txs.length).toBeGreaterThan(20);
    }
  });
});
