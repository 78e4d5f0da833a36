// The simulator's discrete-event scheduler and seeded randomness.
import { describe, expect, it } from "vitest";
import { Rng, Scheduler } from "../../sim/index.js";

describe("Scheduler", () => {
  it("runs events in time order, equal times in the order they were scheduled", () => {
    const s = new Scheduler();
    const out: string[] = [];
    s.at(5, () => out.push("b1"));
    s.at(1, () => out.push("a"));
    s.at(5, () => out.push("b2"));
    s.at(5, () => { out.push("b3"); s.after(0, () => out.push("b4")); });
    s.at(9, () => out.push("c"));
    s.runUntil(100);
    expect(out).toEqual(["a", "b1", "b2", "b3", "b4", "c"]);
    expect(s.nowMs).toBe(100);
  });

  it("keeps a heap order over many random times", () => {
    const s = new Scheduler();
    const rng = new Rng("heap");
    const seen: number[] = [];
    for (let i = 0; i < 2000; i++) { const t = rng.int(500); s.at(t, () => seen.push(t)); }
    s.runUntil(1000);
    expect(seen).toHaveLength(2000);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
  });

  it("cancels, stops early, and refuses the past", () => {
    const s = new Scheduler();
    const out: number[] = [];
    const e = s.at(2, () => out.push(2));
    s.at(3, () => out.push(3));
    s.at(4, () => out.push(4));
    expect(s.pending).toBe(3);
    expect(s.cancel(e)).toBe(true);
    expect(s.cancel(e)).toBe(false);
    expect(s.pending).toBe(2);
    s.runUntil(10, () => out.length === 1);
    expect(out).toEqual([3]);
    expect(s.nowMs).toBe(3);
    expect(() => s.at(1, () => {})).toThrow(RangeError);
    expect(() => s.after(-1, () => {})).toThrow(RangeError);
    s.runFor(10);
    expect(out).toEqual([3, 4]);
    expect(s.nowMs).toBe(13);
    expect(s.pending).toBe(0);
  });
});

describe("Rng (sfc32)", () => {
  it("repeats a sequence for the same seed and changes it for another", () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const xa = Array.from({ length: 8 }, () => a.nextU32());
    const xb = Array.from({ length: 8 }, () => b.nextU32());
    const xc = Array.from({ length: 8 }, () => c.nextU32());
    expect(xa).toEqual(xb);
    expect(xa).not.toEqual(xc);
    expect(new Rng("42").nextU32()).not.toBe(new Rng(42).nextU32()); // strings and numbers are different seeds
  });

  it("derives streams that do not depend on other streams being drawn", () => {
    const first = new Rng(7, "node", 3).nextU32();
    const other = new Rng(7, "node", 2);
    for (let i = 0; i < 100; i++) other.nextU32();
    expect(new Rng(7, "node", 3).nextU32()).toBe(first);
    expect(new Rng(7, "node", 4).nextU32()).not.toBe(first);
  });

  it("draws integers in range without bias and floats in [0, 1)", () => {
    const r = new Rng("dist");
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[r.int(6)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
    for (let i = 0; i < 1000; i++) {
      const x = r.float();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
    expect(() => r.int(0)).toThrow(RangeError);
  });

  it("draws normals with the requested mean and spread", () => {
    const r = new Rng("normal");
    const xs = Array.from({ length: 40_000 }, () => r.normal(3, 2));
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
    expect(m).toBeCloseTo(3, 1);
    expect(sd).toBeCloseTo(2, 1);
  });

  it("fills byte arrays deterministically, odd lengths included", () => {
    const a = new Uint8Array(13), b = new Uint8Array(13);
    new Rng(1).fill(a);
    new Rng(1).fill(b);
    expect(a).toEqual(b);
    expect(a.some((x) => x !== 0)).toBe(true);
  });
});
