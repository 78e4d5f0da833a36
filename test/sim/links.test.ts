// The medium's neighbour lists (grid per radio class, range bound per class pair) hold
// exactly the links a brute-force scan over every pair finds, before and after moves.
import { describe, expect, it } from "vitest";
import { CAPTURE_THRESHOLD_DB, Medium, Rng, Scheduler, ThreeGppMacroPathLoss, sensitivityDbm } from "../../sim/index.js";

function bruteForce(m: Medium): Array<Array<[number, number]>> {
  const floor = sensitivityDbm(11, 250_000) - CAPTURE_THRESHOLD_DB;
  return m.radios.map((_, a) => m.radios.flatMap((__, b) => {
    if (a === b) return [];
    const p = m.rxPowerDbm(a, b);
    return p >= floor ? [[b, p] as [number, number]] : [];
  }));
}

const lists = (m: Medium) => m.radios.map((_, a) => {
  const l = m.linksFrom(a);
  return l.to.map((b, k) => [b, l.powerDbm[k]] as [number, number]);
});

describe("neighbour lists", () => {
  it("match a scan of every pair, with mixed heights, gains and powers, and after moves", () => {
    const rng = new Rng("links-test");
    const m = new Medium(new Scheduler(), { seed: 5, pathLoss: new ThreeGppMacroPathLoss({ frequencyHz: 869.525e6, environment: "urban", shadowingSigmaDb: 2 }) });
    for (let i = 0; i < 300; i++) {
      const router = i % 20 === 0;
      m.addRadio({ position: { xM: rng.uniform(0, 40_000), yM: rng.uniform(0, 40_000) }, heightM: router ? 12 : 1.5, antennaGainDbi: router ? 3 : 0, txPowerDbm: i % 7 === 0 ? 14 : 22 });
    }
    expect(m.cellSizeM).toBeGreaterThan(1000);
    expect(m.cellSizeM).toBeLessThan(Infinity);
    expect(lists(m)).toEqual(bruteForce(m));
    expect(lists(m).some((l) => l.length > 0)).toBe(true);
    for (let step = 0; step < 200; step++) {
      const r = rng.int(300);
      m.moveRadio(r, { xM: rng.uniform(0, 40_000), yM: rng.uniform(0, 40_000) });
    }
    expect(lists(m)).toEqual(bruteForce(m));
  });

  it("decodersOf is canHear over every pair, and follows partitions and switched-off radios", () => {
    const rng = new Rng("links-test-2");
    const m = new Medium(new Scheduler(), { seed: 9, pathLoss: new ThreeGppMacroPathLoss({ frequencyHz: 869.525e6 }) });
    for (let i = 0; i < 80; i++) m.addRadio({ position: { xM: rng.uniform(0, 8000), yM: rng.uniform(0, 8000) } });
    const brute = () => m.radios.map((_, a) => m.radios.map((__, b) => b).filter((b) => m.canHear(a, b)));
    const fast = () => m.radios.map((_, a) => m.decodersOf(a));
    expect(fast()).toEqual(brute());
    m.addPartition({ xM: 0, yM: 0, widthM: 4000, heightM: 8000 });
    m.setRadioOn(3, false);
    m.setInterference(-115);
    expect(fast()).toEqual(brute());
    expect(fast()[3]).toEqual([]);
  });
});
