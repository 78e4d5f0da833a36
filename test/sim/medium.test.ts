// The simulated LoRa medium: reception, capture, the preamble-overlap rule,
// half-duplex, channel-activity detection and external interference.
import { describe, expect, it } from "vitest";
import {
  LONG_FAST, LogDistancePathLoss, Medium, Scheduler, ThreeGppMacroPathLoss, airtimeMs, symbolTimeMs, type MediumLogRecord,
  type Modulation, type PathLossModel,
} from "../../sim/index.js";

/** Loss in dB equal to the distance in m: a radio at (L, 0) is heard at -L dBm by one at the origin (0 dBm, 0 dBi). */
const lossIsDistance: PathLossModel = { name: "loss = distance", frequencyHz: 868e6, shadowingSigmaDb: 0, pathLossDb: (d) => d };

function setup(positions: [number, number][], radio: { modulation?: Modulation; frequencyHz?: number }[] = []) {
  const s = new Scheduler();
  const m = new Medium(s, { seed: 1, pathLoss: lossIsDistance, linkOffsetSigmaDb: 0, defaults: { txPowerDbm: 0, antennaGainDbi: 0 }, log: true });
  positions.forEach(([x, y], i) => m.addRadio({ position: { xM: x, yM: y }, ...radio[i] }));
  const rx = (to: number) => m.log.filter((r): r is Extract<MediumLogRecord, { kind: "rx" }> => r.kind === "rx" && r.to === to).map((r) => r.tx);
  const lost = (to: number) => m.log.filter((r): r is Extract<MediumLogRecord, { kind: "lost" }> => r.kind === "lost" && r.to === to).map((r) => [r.tx, r.reason]);
  return { s, m, rx, lost };
}

const frame = (n: number) => new Uint8Array(n).fill(0xa5);
const T_SYM = symbolTimeMs(11, 250_000);

describe("reception", () => {
  it("delivers a frame at or above sensitivity with RSSI and SNR, and ignores one below", () => {
    const { s, m, rx, lost } = setup([[0, 0], [132, 0], [0, 133]]);
    const got: { to: number; rssiDbm: number; snrDb: number }[] = [];
    m.listener = { onReceive: (to, _tx, rssiDbm, snrDb) => got.push({ to, rssiDbm, snrDb }) };
    m.transmit(1, frame(50));
    s.runFor(5000);
    m.transmit(2, frame(50));
    s.runFor(5000);
    expect(got.filter((g) => g.to === 0)).toEqual([{ to: 0, rssiDbm: -132, snrDb: expect.closeTo(-132 + 114.0206, 3) }]);
    expect(rx(0)).toEqual([0]);
    expect(lost(0)).toEqual([]); // too weak to start a reception: not a loss
    expect(m.stats.transmissions).toBe(2);
    expect(m.stats.airtimeMs).toBeCloseTo(2 * airtimeMs(50, LONG_FAST), 9);
  });

  it("delivers at the end of the airtime and tells the sender", () => {
    const { s, m } = setup([[0, 0], [100, 0]]);
    const times: [string, number][] = [];
    m.listener = { onReceive: () => times.push(["rx", s.nowMs]), onTransmitEnd: () => times.push(["end", s.nowMs]) };
    const tx = m.transmit(1, frame(106))!;
    expect(m.transmit(1, frame(10))).toBeNull(); // busy
    expect(m.transmitting(1)).toBe(true);
    s.runFor(10_000);
    expect(times).toEqual([["end", tx.endMs], ["rx", tx.endMs]]);
    expect(tx.endMs).toBeCloseTo(airtimeMs(106, LONG_FAST), 9);
    expect(m.transmitting(1)).toBe(false);
  });
});

describe("collisions (LoRaSim rule) and capture", () => {
  it("a frame 6 dB stronger survives; the weaker is lost", () => {
    const { s, m, rx, lost } = setup([[0, 0], [120, 0], [0, 126]]);
    m.transmit(1, frame(50));
    m.transmit(2, frame(50));
    s.runFor(5000);
    expect(rx(0)).toEqual([0]);
    expect(lost(0)).toEqual([[1, "collision"]]);
    expect(m.stats.lostCollision).toBe(1);
  });

  it("5 dB apart: both are lost", () => {
    const { s, m, rx, lost } = setup([[0, 0], [120, 0], [0, 125]]);
    m.transmit(1, frame(50));
    m.transmit(2, frame(50));
    s.runFor(5000);
    expect(rx(0)).toEqual([]);
    expect(lost(0)).toEqual([[0, "collision"], [1, "collision"]]);
  });

  it("an interferer far below sensitivity still destroys a frame less than 6 dB above it", () => {
    const { s, m, rx, lost } = setup([[0, 0], [130, 0], [0, 134]]);
    m.transmit(1, frame(50));
    m.transmit(2, frame(50)); // -134 dBm: undecodable, but only 4 dB under the wanted frame
    s.runFor(5000);
    expect(rx(0)).toEqual([]);
    expect(lost(0)).toEqual([[0, "collision"]]);
  });

  describe("preamble overlap: only the first Npreamble - 5 symbols may overlap", () => {
    const air = airtimeMs(50, LONG_FAST);
    const grace = 11 * T_SYM; // 16-symbol preamble: 11 symbols may overlap

    it("an earlier frame ending just inside the grace period spares the later one (but is itself lost)", () => {
      const { s, m, rx, lost } = setup([[0, 0], [120, 0], [0, 120]]);
      m.transmit(1, frame(50)); // tx 0 from radio 1
      s.runUntil(air - grace + 1e-6);
      m.transmit(2, frame(50)); // tx 1 starts while tx 0 still has (grace - 1 µs) to go
      s.runFor(5000);
      expect(rx(0)).toEqual([1]);
      expect(lost(0)).toEqual([[0, "collision"]]);
    });

    it("ending just after the grace period destroys both (equal power)", () => {
      const { s, m, rx, lost } = setup([[0, 0], [120, 0], [0, 120]]);
      m.transmit(1, frame(50));
      s.runUntil(air - grace - 1e-6);
      m.transmit(2, frame(50));
      s.runFor(5000);
      expect(rx(0)).toEqual([]);
      expect(lost(0)).toEqual([[0, "collision"], [1, "collision"]]);
    });

    it("back to back frames do not collide", () => {
      const { s, m, rx, lost } = setup([[0, 0], [120, 0], [0, 120]]);
      m.transmit(1, frame(50));
      s.runUntil(air);
      m.transmit(2, frame(50));
      s.runFor(5000);
      expect(rx(0)).toEqual([0, 1]);
      expect(lost(0)).toEqual([]);
    });

    it("a frame starting inside another's grace period but overlapping its body kills it too", () => {
      const { s, m, lost } = setup([[0, 0], [120, 0], [0, 120]]);
      m.transmit(1, frame(50));
      s.runUntil(5 * T_SYM); // the second frame starts during the first one's preamble
      m.transmit(2, frame(50));
      s.runFor(5000);
      expect(lost(0)).toEqual([[0, "collision"], [1, "collision"]]);
    });
  });

  it("different spreading factors are orthogonal; channels 60 kHz apart at 250 kHz collide, 100 kHz apart do not", () => {
    const sf10: Modulation = { ...LONG_FAST, sf: 10 };
    const a = setup([[0, 0], [120, 0], [0, 120]], [{}, {}, { modulation: sf10 }]);
    a.m.transmit(1, frame(50));
    a.m.transmit(2, frame(50));
    a.s.runFor(5000);
    expect(a.rx(0)).toEqual([0]);
    expect(a.lost(0)).toEqual([]);

    const f0 = 869_525_000;
    const near = setup([[0, 0], [120, 0], [0, 120]], [{}, {}, { frequencyHz: f0 + 60_000 }]);
    near.m.transmit(1, frame(50));
    near.m.transmit(2, frame(50));
    near.s.runFor(5000);
    expect(near.rx(0)).toEqual([]);
    expect(near.lost(0).map((l) => l[0])).toEqual([0, 1]);

    const far = setup([[0, 0], [120, 0], [0, 120]], [{}, {}, { frequencyHz: f0 + 100_000 }]);
    far.m.transmit(1, frame(50));
    far.m.transmit(2, frame(50));
    far.s.runFor(5000);
    expect(far.rx(0)).toEqual([0]);
    expect(far.lost(0)).toEqual([]);
  });
});

describe("half-duplex", () => {
  it("a transmitting radio hears nothing", () => {
    const { s, m, rx, lost } = setup([[0, 0], [100, 0]]);
    m.transmit(0, frame(255));
    s.runFor(10);
    m.transmit(1, frame(50));
    s.runFor(5000);
    expect(rx(0)).toEqual([]);
    expect(lost(0)).toEqual([[1, "half-duplex"]]);
    expect(rx(1)).toEqual([]); // radio 1 started sending during radio 0's frame: lost there too
    expect(m.stats.lostHalfDuplex).toBe(2);
  });

  it("starting to transmit in the middle of a reception loses it", () => {
    const { s, m, rx, lost } = setup([[0, 0], [100, 0], [0, 100]]);
    m.transmit(1, frame(106));
    s.runFor(500);
    m.transmit(0, frame(10));
    s.runFor(5000);
    expect(rx(0)).toEqual([]);
    expect(lost(0)).toEqual([[0, "half-duplex"]]);
    expect(rx(2)).toEqual([1]); // radio 2 (141 dB from radio 1, 100 dB from radio 0) hears radio 0's frame
  });
});

describe("channel activity detection", () => {
  it("senses frames down to sensitivity - 3 dB, after the CAD symbols, until they end", () => {
    const { s, m } = setup([[0, 0], [135, 0], [0, 136]]);
    const tx = m.transmit(1, frame(50))!;
    m.transmit(2, frame(50));
    expect(m.cadThresholdDbm(0)).toBeCloseTo(-135.75, 9);
    expect(m.channelActive(0)).toBe(false); // not yet 2 symbols on air
    s.runUntil(2 * T_SYM - 1e-6);
    expect(m.channelActive(0)).toBe(false);
    s.runUntil(2 * T_SYM);
    expect(m.channelActive(0)).toBe(true); // -135 dBm: sensed although not decodable
    expect(m.channelBusyUntilMs(0)).toBeCloseTo(tx.endMs, 9);
    expect(m.channelActive(1)).toBe(false); // the sender does not sense its own frame; radio 2 is 196 dB away
    s.runUntil(tx.endMs);
    expect(m.channelActive(0)).toBe(false);
    expect(m.channelBusyUntilMs(0)).toBe(s.nowMs);
  });
});

describe("external interference", () => {
  it("raises the noise floor, the sensitivity and the CAD threshold, and lowers the SNR", () => {
    const { s, m, rx } = setup([[0, 0], [127, 0], [0, 134], [0, -130]]);
    expect(m.noiseFloorDbm(0)).toBeCloseTo(-114.0206, 3);
    m.setInterference(-110);
    expect(m.noiseFloorDbm(0)).toBeCloseTo(-108.5505, 3);
    expect(m.sensitivityDbm(0)).toBeCloseTo(-132.75 + 5.4701, 3);
    expect(m.cadThresholdDbm(0)).toBeCloseTo(-132.75 + 5.4701 - 3, 3);
    const snr: number[] = [];
    m.listener = { onReceive: (_to, _tx, _r, snrDb) => snr.push(snrDb) };
    m.transmit(1, frame(20)); // tx 0: -127 dBm, just above the raised sensitivity
    m.transmit(2, frame(20)); // tx 1: -134 dBm, 7 dB weaker: captured
    s.runFor(5000);
    expect(rx(0)).toEqual([0]);
    expect(snr[0]).toBeCloseTo(-127 + 108.5505, 3);
    m.transmit(3, frame(20)); // tx 2: -130 dBm, below the raised sensitivity
    s.runFor(5000);
    expect(rx(0)).toEqual([0]);
    m.setRadioInterference(0, null); // this radio is quiet again; the others are not
    expect(m.sensitivityDbm(0)).toBe(-132.75);
    expect(m.sensitivityDbm(1)).toBeCloseTo(-127.2799, 3);
    m.transmit(3, frame(20)); // tx 3
    s.runFor(5000);
    expect(rx(0)).toEqual([0, 3]);
    expect(snr[1]).toBeCloseTo(-130 + 114.0206, 3);
  });
});

describe("links", () => {
  const positions: [number, number][] = [[0, 0], [700, 200], [1500, -300]];
  function build(seed: number, pathLoss: PathLossModel, linkOffsetSigmaDb: number) {
    const m = new Medium(new Scheduler(), { seed, pathLoss, linkOffsetSigmaDb });
    for (const [x, y] of positions) m.addRadio({ position: { xM: x, yM: y } });
    return m;
  }

  it("shadowing is the same both ways; the per-link offset makes links asymmetric", () => {
    const shadowed = build(1, new LogDistancePathLoss(), 0);
    const median = 22 - new LogDistancePathLoss().pathLossDb(shadowed.distanceM(0, 1));
    expect(shadowed.rxPowerDbm(0, 1)).toBe(shadowed.rxPowerDbm(1, 0));
    expect(shadowed.rxPowerDbm(0, 1)).not.toBeCloseTo(median, 3);

    const asym = build(1, new ThreeGppMacroPathLoss({ frequencyHz: 869.525e6 }), 3);
    expect(asym.rxPowerDbm(0, 1)).not.toBe(asym.rxPowerDbm(1, 0));
    expect(asym.rxPowerDbm(0, 2)).not.toBe(asym.rxPowerDbm(2, 0));
  });

  it("draws the same links for the same seed, whatever the order of the questions, and others for another seed", () => {
    const a = build(7, new LogDistancePathLoss(), 3), b = build(7, new LogDistancePathLoss(), 3), c = build(8, new LogDistancePathLoss(), 3);
    const x = a.rxPowerDbm(2, 1);
    b.rxPowerDbm(0, 1); b.rxPowerDbm(1, 0);
    expect(b.rxPowerDbm(2, 1)).toBe(x);
    expect(c.rxPowerDbm(2, 1)).not.toBe(x);
    a.moveRadio(2, { xM: 1500, yM: -300 });
    expect(a.rxPowerDbm(2, 1)).toBe(x); // same place, same draws
  });
});
