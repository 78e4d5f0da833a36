// LoRa time on air (firmware/cores/node/airtime.ts) against an independent
// floating-point transcription of Semtech AN1200.13 (shared/reference/lora-phy.md).
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildAs, fn, ROOT, type AsExports } from "../helpers/as-build.js";

type Airtime = {
  airtimeUs(pl: number, sf: number, bwHz: number, cr: number, preamble: number): bigint;
  airtimeMs(pl: number, sf: number, bwHz: number, cr: number, preamble: number): number;
  symbolTimeUs(sf: number, bwHz: number): bigint;
  payloadSymbols(pl: number, sf: number, bwHz: number, cr: number): number;
  lowDataRateOptimize(sf: number, bwHz: number): number;
};

let a: Airtime;
beforeAll(async () => {
  const x: AsExports = (await buildAs("test/node/as/airtime.entry.ts")).exports;
  a = {
    airtimeUs: fn(x, "airtimeUs"), airtimeMs: fn(x, "airtimeMs"), symbolTimeUs: fn(x, "symbolTimeUs"),
    payloadSymbols: fn(x, "payloadSymbols"), lowDataRateOptimize: fn(x, "lowDataRateOptimize"),
  } as unknown as Airtime;
});

/** lora-phy.md, written out in seconds with floating point: explicit header, CRC on. */
function referenceSeconds(pl: number, sf: number, bwHz: number, cr: number, preamble: number) {
  const tSym = 2 ** sf / bwHz;
  const de = tSym > 0.016 ? 1 : 0;
  const ih = 0, crc = 1;
  const nPayload = 8 + Math.max(Math.ceil((8 * pl - 4 * sf + 28 + 16 * crc - 20 * ih) / (4 * (sf - 2 * de))) * (cr + 4), 0);
  return { tSym, de, nPayload, seconds: (preamble + 4.25) * tSym + nPayload * tSym };
}

const SFS = [7, 8, 9, 10, 11, 12];
const BWS = [125_000, 250_000, 500_000];
const CRS = [1, 2, 3, 4];

describe("airtime (AN1200.13)", () => {
  it("gives the check values of lora-phy.md: LongFast 50 B about 0.64 s, 255 B about 2.16 s", () => {
    expect(a.airtimeUs(50, 11, 250_000, 1, 16)).toBe(641_024n);
    expect(a.airtimeUs(255, 11, 250_000, 1, 16)).toBe(2_156_544n);
    expect(a.airtimeMs(50, 11, 250_000, 1, 16)).toBe(642);
    expect(a.airtimeMs(255, 11, 250_000, 1, 16)).toBe(2157);
    expect(Number(a.airtimeUs(50, 11, 250_000, 1, 16)) / 1e6).toBeCloseTo(0.64, 2);
    expect(Number(a.airtimeUs(255, 11, 250_000, 1, 16)) / 1e6).toBeCloseTo(2.16, 2);
  });

  it("symbol time is 2^SF / BW, and DE is on exactly when it exceeds 16 ms", () => {
    expect(a.symbolTimeUs(7, 125_000)).toBe(1024n);
    expect(a.symbolTimeUs(11, 250_000)).toBe(8192n);
    expect(a.symbolTimeUs(12, 125_000)).toBe(32_768n);
    expect(a.symbolTimeUs(7, 500_000)).toBe(256n);
    const ldro = SFS.flatMap((sf) => BWS.filter((bw) => a.lowDataRateOptimize(sf, bw) === 1).map((bw) => `SF${sf}/${bw / 1000}`));
    expect(ldro).toEqual(["SF11/125", "SF12/125", "SF12/250"]);
    for (const sf of SFS) for (const bw of BWS) {
      expect(Number(a.symbolTimeUs(sf, bw))).toBe((2 ** sf / bw) * 1e6);
    }
  });

  it("matches the reference exactly for every SF, BW 125/250/500, CR 4/5..4/8, length 0..255 and several preambles", () => {
    let checked = 0;
    for (const sf of SFS) for (const bw of BWS) for (const cr of CRS) for (const preamble of [6, 8, 16, 32]) {
      for (let pl = 0; pl <= 255; pl++) {
        const ref = referenceSeconds(pl, sf, bw, cr, preamble);
        const us = a.airtimeUs(pl, sf, bw, cr, preamble);
        if (us !== BigInt(Math.round(ref.seconds * 1e6))) {
          throw new Error(`SF${sf} BW${bw} CR${cr} pre${preamble} PL${pl}: ${us} vs ${ref.seconds * 1e6}`);
        }
        if (a.payloadSymbols(pl, sf, bw, cr) !== ref.nPayload) throw new Error(`Npayload SF${sf} BW${bw} CR${cr} PL${pl}`);
        if (a.airtimeMs(pl, sf, bw, cr, preamble) !== Math.ceil(Math.round(ref.seconds * 1e6) / 1000)) throw new Error(`ms PL${pl}`);
        checked++;
      }
    }
    expect(checked).toBe(6 * 3 * 4 * 4 * 256);
  });

  it("never comes out short for bandwidths that do not divide evenly (62.5, 41.7, 20.8, 7.8 kHz)", () => {
    for (const bw of [62_500, 41_700, 20_800, 7_800]) for (const sf of SFS) for (const cr of CRS) {
      for (const pl of [0, 1, 13, 50, 200, 255]) {
        const refUs = referenceSeconds(pl, sf, bw, cr, 16).seconds * 1e6;
        const us = Number(a.airtimeUs(pl, sf, bw, cr, 16));
        expect(us).toBeGreaterThanOrEqual(refUs - 1e-6 * refUs);
        expect(us).toBeLessThan(refUs + 1);
      }
    }
  });

  it("grows with payload, SF and coding rate and shrinks with bandwidth", () => {
    for (const bw of BWS) for (const cr of CRS) for (const sf of SFS) {
      for (let pl = 1; pl <= 255; pl++) {
        expect(a.airtimeUs(pl, sf, bw, cr, 16) >= a.airtimeUs(pl - 1, sf, bw, cr, 16)).toBe(true);
        if (sf > 7) expect(a.airtimeUs(pl, sf, bw, cr, 16) > a.airtimeUs(pl, sf - 1, bw, cr, 16)).toBe(true);
        if (cr > 1) expect(a.airtimeUs(pl, sf, bw, cr, 16) >= a.airtimeUs(pl, sf, bw, cr - 1, 16)).toBe(true);
        if (bw > 125_000) expect(a.airtimeUs(pl, sf, bw, cr, 16) < a.airtimeUs(pl, sf, bw / 2, cr, 16)).toBe(true);
      }
    }
  });

  it("covers every preset of hardware/presets.json", () => {
    const presets = JSON.parse(readFileSync(path.join(ROOT, "hardware/presets.json"), "utf8"));
    for (const p of presets.presets as { id: string; bandwidthKHz: number; spreadingFactor: number; codingRate: string }[]) {
      const cr = Number(p.codingRate.split("/")[1]) - 4;
      const bw = p.bandwidthKHz * 1000;
      for (const pl of [1, 50, 255]) {
        const ref = referenceSeconds(pl, p.spreadingFactor, bw, cr, presets.preambleSymbols);
        expect(a.airtimeUs(pl, p.spreadingFactor, bw, cr, presets.preambleSymbols), p.id).toBe(BigInt(Math.round(ref.seconds * 1e6)));
      }
    }
  });

  it("returns -1 for anything out of range, and never traps on extreme integers", () => {
    const good = [50, 11, 250_000, 1, 16];
    const bad: [number, number[]][] = [
      [0, [-1, 256, 1000, -(2 ** 31), 2 ** 31 - 1]],
      [1, [6, 5, 13, 0, -1, 2 ** 31 - 1]],
      [2, [0, -1, 7799, 500_001, -(2 ** 31), 2 ** 31 - 1]],
      [3, [0, 5, -1, 8]],
      [4, [5, 0, -1, 65_536, 2 ** 31 - 1, -(2 ** 31)]],
    ];
    for (const [i, values] of bad) for (const v of values) {
      const args = [...good];
      args[i] = v;
      const [pl, sf, bw, cr, pre] = args;
      expect(a.airtimeUs(pl, sf, bw, cr, pre), `arg ${i} = ${v}`).toBe(-1n);
      expect(a.airtimeMs(pl, sf, bw, cr, pre)).toBe(-1);
    }
    expect(a.symbolTimeUs(6, 125_000)).toBe(-1n);
    expect(a.symbolTimeUs(7, 0)).toBe(-1n);
    expect(a.payloadSymbols(256, 7, 125_000, 1)).toBe(-1);
    expect(a.lowDataRateOptimize(13, 125_000)).toBe(0);
    // The longest accepted frame: SF12, 7.8 kHz, CR 4/8, 65535-symbol preamble, 255 bytes.
    const longest = a.airtimeUs(255, 12, 7_800, 4, 65_535);
    expect(Number(longest)).toBeCloseTo(referenceSeconds(255, 12, 7_800, 4, 65_535).seconds * 1e6, -1);
  });
});
