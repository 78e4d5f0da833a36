// A small run of the flooding-rule benchmark (bench/flooding.ts): the numbers must be sane.
import { describe, expect, it } from "vitest";
import { FLOODING_RULES, benchFlooding, formatFlooding, pairedDifference, pickBest } from "../../bench/flooding.js";

describe("benchFlooding (tiny)", () => {
  it("measures every rule with sane numbers", async () => {
    const result = await benchFlooding({
      scenarios: [{ name: "16 nodes 4x4 km", nodes: 16, widthM: 4000, heightM: 4000, seeds: [1], broadcasts: 8 }],
    });
    expect(result.rows).toHaveLength(FLOODING_RULES.length);
    expect(result.overall).toHaveLength(FLOODING_RULES.length);
    for (const r of result.rows) {
      expect(r.broadcasts, r.rule).toBeGreaterThan(0);
      expect(r.reachability).toBeGreaterThanOrEqual(0);
      expect(r.reachability).toBeLessThanOrEqual(1);
      expect(r.samples[0]).toHaveLength(r.broadcasts);
      expect(r.transmissions).toBeGreaterThanOrEqual(1);
      expect(r.collisions).toBeGreaterThanOrEqual(0);
      expect(r.latencyMeanMs).toBeGreaterThan(0);
      expect(r.latencyP95Ms).toBeGreaterThanOrEqual(r.latencyMeanMs * 0.5);
    }
    const row = (name: string) => result.rows.find((r) => r.rule === name)!;
    // Cancelling can only save transmissions compared with always relaying.
    expect(row("cancel@2 snr").transmissions).toBeLessThanOrEqual(row("never snr").transmissions);
    expect(row("cancel@1 snr").transmissions).toBeLessThanOrEqual(row("cancel@3 snr").transmissions);
    // Never cancelling with 16 nodes: every connected node relays once, plus the origin.
    expect(row("never snr").transmissions).toBeLessThanOrEqual(16);
    expect(row("never snr").reachability).toBeGreaterThan(0.5);
    expect(FLOODING_RULES.map((r) => r.name)).toContain(result.best.rule);
    expect(pairedDifference(row("never snr"), row("never snr"))).toEqual({ mean: 0, ci95: 0 });
    expect(formatFlooding(result)).toContain(`best rule overall: ${result.best.rule}`);
  });

  it("picks the highest reachability, breaking ties by fewer transmissions", () => {
    const mk = (rule: string, samples: number[], transmissions: number) => ({
      scenario: "s", rule, relayCancelCopies: 2, uniformContention: false, broadcasts: samples.length,
      reachability: samples.reduce((a, b) => a + b, 0) / samples.length, reachabilityCi95: 0, transmissions,
      collisions: 0, halfDuplexLosses: 0, latencyMeanMs: 1, latencyP95Ms: 1, lbtDeferrals: 0, samples: [samples],
    });
    const a = mk("a", [1, 1, 1, 1], 30);
    const b = mk("b", [1, 1, 1, 0.99], 20);   // 0.25 points lower: tied, fewer transmissions
    const c = mk("c", [0.9, 0.9, 0.9, 0.9], 5); // clearly lower
    expect(pickBest([a, b, c], 0.005).rule).toBe("b");
    expect(pickBest([a, b, c], 0).rule).toBe("b"); // the paired interval of a - b includes 0
    expect(pickBest([a, c], 0.005).rule).toBe("a");
  });
});
