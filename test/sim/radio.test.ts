// LoRa PHY formulas and path-loss models of the simulator (sim/radio/).
import { describe, expect, it } from "vitest";
import {
  LONG_FAST, LogDistancePathLoss, OkumuraHataSuburbanPathLoss, ThreeGppMacroPathLoss, addPowersDbm, airtimeMs,
  closedFormSensitivityDbm, criticalSectionOffsetMs, freeSpaceLossDb, lowDataRateOptimize, presetModulation, rangeM,
  sensitivityDbm, symbolTimeMs, thermalNoiseDbm,
} from "../../sim/index.js";
import { loraAirtimeMs } from "../helpers/ideal-medium.js";

describe("airtime (Semtech AN1200.13)", () => {
  it("matches the LongFast check values of lora-phy.md", () => {
    expect(airtimeMs(50, LONG_FAST) / 1000).toBeCloseTo(0.64, 2);
    expect(airtimeMs(255, LONG_FAST) / 1000).toBeCloseTo(2.16, 2);
    // Hand count: 20.25 preamble symbols + 8 + ceil(400/44) * 5 = 58 payload symbols, 8.192 ms each.
    expect(airtimeMs(50, LONG_FAST)).toBeCloseTo((20.25 + 58) * 8.192, 9);
  });

  it("gives the textbook SF7/125 kHz value and turns on LDRO at SF11/SF12 125 kHz", () => {
    // SF7, 125 kHz, CR 4/5, 8-symbol preamble, 20 bytes: 12.25 + 43 symbols of 1.024 ms.
    expect(airtimeMs(20, { sf: 7, bwHz: 125_000, cr: 1, preambleSymbols: 8 })).toBeCloseTo(56.576, 6);
    expect(lowDataRateOptimize(12, 125_000)).toBe(true);
    expect(lowDataRateOptimize(11, 125_000)).toBe(true);
    expect(lowDataRateOptimize(11, 250_000)).toBe(false);
    expect(symbolTimeMs(12, 125_000)).toBeCloseTo(32.768, 9);
  });

  it("agrees with the test helper's formula over every preset and frame size", () => {
    for (const id of ["LongFast", "LongSlow", "LongModerate", "MediumSlow", "MediumFast", "ShortSlow", "ShortFast", "ShortTurbo"]) {
      const m = presetModulation(id);
      for (const len of [0, 1, 50, 106, 170, 255]) {
        expect(airtimeMs(len, m), `${id} ${len} B`).toBeCloseTo(loraAirtimeMs(len, m.sf, m.bwHz, m.cr, m.preambleSymbols), 9);
      }
    }
    expect(presetModulation()).toEqual({ ...LONG_FAST });
    expect(() => airtimeMs(256, LONG_FAST)).toThrow(RangeError);
  });

  it("puts the critical section Npreamble - 5 symbols after the start", () => {
    expect(criticalSectionOffsetMs(LONG_FAST)).toBeCloseTo(11 * 8.192, 9);
  });
});

describe("sensitivity and noise", () => {
  it("looks sensitivities up in the LoRaSim table", () => {
    expect(sensitivityDbm(11, 250_000)).toBe(-132.75);
    expect(sensitivityDbm(7, 125_000)).toBe(-126.5);
    expect(sensitivityDbm(12, 500_000)).toBe(-132.25);
    expect(sensitivityDbm(10, 125_000)).toBe(-132.75);
    expect(() => sensitivityDbm(6, 125_000)).toThrow(RangeError);
    expect(() => sensitivityDbm(7, 62_500)).toThrow(RangeError);
  });

  it("computes the thermal noise floor and the closed-form sensitivity", () => {
    expect(thermalNoiseDbm(250_000)).toBeCloseTo(-114.0206, 4);
    expect(thermalNoiseDbm(125_000)).toBeCloseTo(-117.0309, 4);
    expect(closedFormSensitivityDbm(11, 250_000)).toBeCloseTo(-131.5206, 4);
    // Table and closed form agree within 2 dB at LongFast.
    expect(Math.abs(closedFormSensitivityDbm(11, 250_000) - sensitivityDbm(11, 250_000))).toBeLessThan(2);
  });

  it("adds powers in the linear domain", () => {
    expect(addPowersDbm(-100, -100)).toBeCloseTo(-96.9897, 4);
    expect(addPowersDbm(-114.0206, -110)).toBeCloseTo(-108.5505, 3);
    expect(addPowersDbm(-Infinity, -90)).toBe(-90);
  });
});

describe("path loss", () => {
  const f = 868e6;
  const models = [
    new LogDistancePathLoss({ frequencyHz: f }),
    new ThreeGppMacroPathLoss({ frequencyHz: f }),
    new ThreeGppMacroPathLoss({ frequencyHz: f, environment: "urban" }),
    new OkumuraHataSuburbanPathLoss({ frequencyHz: f }),
  ];

  it("log-distance matches the LoRaSim fit by hand", () => {
    const m = new LogDistancePathLoss();
    expect(m.pathLossDb(40)).toBeCloseTo(127.41, 9);
    expect(m.pathLossDb(400)).toBeCloseTo(148.21, 9);
    expect(m.pathLossDb(4000)).toBeCloseTo(169.01, 9);
    expect(m.shadowingSigmaDb).toBe(3.57);
  });

  it("3GPP suburban macro matches hand-computed values (TR 25.996, hb = hm = 1.5 m)", () => {
    const m = new ThreeGppMacroPathLoss({ frequencyHz: f });
    // 45.5 + (35.46 - 1.65) log10(868) - 13.82 log10(1.5) + 1.05
    expect(m.pathLossDb(1000, 1.5, 1.5)).toBeCloseTo(143.4678, 3);
    expect(m.pathLossDb(2000, 1.5, 1.5)).toBeCloseTo(156.6368, 3);
    expect(new ThreeGppMacroPathLoss({ frequencyHz: f, environment: "urban" }).pathLossDb(1000, 1.5, 1.5)).toBeCloseTo(146.4678, 3);
  });

  it("Okumura-Hata suburban matches a hand-computed value (Hata 1980)", () => {
    const m = new OkumuraHataSuburbanPathLoss({ frequencyHz: f });
    expect(m.pathLossDb(2000, 30, 1.5)).toBeCloseTo(126.7488, 3);
    expect(m.pathLossDb(2000, 1.5, 30)).toBeCloseTo(126.7488, 3); // reciprocal
  });

  it("grows with distance and never drops below free space", () => {
    for (const m of models) {
      let prev = -Infinity;
      for (let d = 1; d <= 30_000; d *= 1.25) {
        const pl = m.pathLossDb(d, 1.5, 1.5);
        expect(pl, `${m.name} at ${d} m`).toBeGreaterThanOrEqual(prev);
        expect(pl).toBeGreaterThanOrEqual(freeSpaceLossDb(d, f) - 1e-9);
        prev = pl;
      }
      expect(m.pathLossDb(0, 1.5, 1.5)).toBe(m.pathLossDb(1, 1.5, 1.5)); // clamped to 1 m
    }
    expect(freeSpaceLossDb(1, 868e6)).toBeCloseTo(31.218, 3);
  });

  it("finds the LongFast range of each model", () => {
    const budget = 22 - sensitivityDbm(11, 250_000); // 22 dBm, 0 dBi
    const r3gpp = rangeM(new ThreeGppMacroPathLoss({ frequencyHz: 869.525e6 }), budget, 1.5, 1.5);
    expect(r3gpp).toBeGreaterThan(1700);
    expect(r3gpp).toBeLessThan(1900);
    expect(new ThreeGppMacroPathLoss({ frequencyHz: 869.525e6 }).pathLossDb(r3gpp, 1.5, 1.5)).toBeCloseTo(budget, 6);
  });
});
