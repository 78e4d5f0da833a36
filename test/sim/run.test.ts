// The scenario runner: metrics on a mesh small enough to check by hand, the shape
// of the result, determinism, and the default scenario's speed.
import { describe, expect, it } from "vitest";
import { DEFAULT_SCENARIO_PATH, DROP_REASON_NAMES, loadScenario, runScenario, type RunResult } from "../../sim/index.js";

/** Three nodes on a line, 1500 m apart: 0 and 2 hear only 1. */
function line3(traffic: Record<string, unknown>, seed = 1) {
  return {
    name: "line3",
    seed,
    durationS: 900,
    area: { widthM: 3000, heightM: 1000 },
    radio: { linkOffsetSigmaDb: 0 },
    nodes: { count: 3, placement: { type: "line", spacingM: 1500, yM: 500 } },
    traffic,
  };
}

function withoutWall(r: RunResult): string {
  const { wallMs: _wall, ...rest } = r;
  return JSON.stringify(rest);
}

describe("a line of three nodes", () => {
  it("broadcasts reach both other nodes with 2 or 3 transmissions each", async () => {
    // Seed 4 draws no two broadcasts within seconds of each other (a broadcast queued right
    // behind the previous one meets node 1's relay half-duplex and is lost: seeds 1 and 3).
    const r = await runScenario(line3({ channel: { meanIntervalS: 120, senders: [0], payloadBytes: 20 } }, 4));
    const m = r.metrics;
    expect(m.broadcastsSent).toBe(8);
    expect(m.broadcastReachability).toBe(1);
    expect(m.messagesDelivered).toBe(2 * m.broadcastsSent);
    // The origin, node 1 relaying, and perhaps node 2 relaying into the void.
    expect(m.channelTransmissionsPerBroadcast!).toBeGreaterThanOrEqual(2);
    expect(m.channelTransmissionsPerBroadcast!).toBeLessThanOrEqual(3);
    expect(m.framesByType.channel).toBe(m.framesSent); // nothing else was sent: no announces, no direct traffic
    expect(m.transmissionsPerDelivered!).toBeCloseTo(m.framesSent / m.messagesDelivered, 9);
    expect(m.airtimeMsPerDelivered! * m.messagesDelivered).toBeCloseTo(m.airtimeMs, 6);
    // One hop is a frame's airtime (about 0.5 s for a 20-byte text), two hops at least twice that.
    expect(m.channelLatencyMs.p50!).toBeGreaterThan(400);
    expect(m.channelLatencyMs.p99!).toBeGreaterThanOrEqual(m.channelLatencyMs.p95!);
    expect(m.channelLatencyMs.p95!).toBeGreaterThanOrEqual(m.channelLatencyMs.p50!);
    expect(m.directLatencyMs).toEqual({ p50: null, p95: null, p99: null });
    expect(m.directDeliveryRatio).toBeNull();
    expect(m.collisions).toBe(0);
    expect(m.coreMemoryBytesPerNode).toBe(2 * 65536);
    expect(Object.keys(m.dropsByReason)).toEqual(Object.values(DROP_REASON_NAMES));
    // Node 1 hears the origin's copy and node 2's relay again: duplicates, not errors.
    expect(m.dropsByReason.duplicate).toBeGreaterThan(0);
    expect(m.channelUtilisation).toBeCloseTo(m.airtimeMs / (r.durationS * 1000), 9); // frames never overlap here
    expect(m.airtimeMsPerNode).toBeCloseTo(m.airtimeMs / 3, 9);
    expect(r.samplePath).toMatchObject({ kind: "channel", from: 0, to: 2 });
    expect(r.samplePath!.hops.map((h) => h.from)).toEqual([0, 1]);
  });

  it("direct messages between the ends: announced contacts, delivered over the middle node, acknowledged", async () => {
    const r = await runScenario(line3({ direct: { pairs: [[0, 2]], meanIntervalS: 120 } }));
    const m = r.metrics;
    expect(m.announcesScripted).toBe(2);
    expect(m.directSent).toBeGreaterThanOrEqual(4);
    expect(m.directRejected).toBe(0);
    expect(m.directDeliveryRatio).toBe(1);
    expect(m.directAcked).toBeGreaterThan(0);
    expect(m.directLatencyMs.p50!).toBeGreaterThan(0);
    expect(m.framesByType.announce).toBeGreaterThanOrEqual(2);
    expect(m.framesByType.ack).toBeGreaterThan(0);
    expect(r.samplePath).toMatchObject({ kind: "direct" });
    expect(r.samplePath!.hops.map((h) => h.from)).toEqual([r.samplePath!.from, 1]);
    expect(m.timeToRepairMs).toBeNull();
    expect(m.routesBrokenByKills).toBe(0);
  });
});

describe("the result", () => {
  it("has the contract's shape: nodes, links one per pair, series covering the run, JSON-safe numbers", async () => {
    const r = await runScenario(loadScenario(DEFAULT_SCENARIO_PATH));
    expect(r.scenario).toBe("default");
    expect(r.seed).toBe(1);
    expect(r.core).toBe("build/cores/node.wasm");
    expect(r.nodes).toHaveLength(20);
    expect(r.nodes.map((n) => n.index)).toEqual([...Array(20).keys()]);
    const pairs = new Set(r.links.map((l) => `${l.a}-${l.b}`));
    expect(pairs.size).toBe(r.links.length);
    for (const l of r.links) {
      expect(l.a).toBeLessThan(l.b);
      expect(l.snrDb).toBeGreaterThan(-20);
    }
    expect(r.series).toHaveLength(60);
    expect(r.series.at(-1)!.tS).toBe(r.durationS);
    const sent = r.series.reduce((a, p) => a + p.sent, 0), delivered = r.series.reduce((a, p) => a + p.delivered, 0);
    expect(delivered).toBeLessThanOrEqual(sent);
    for (const p of r.series) {
      expect(p.channelUtilisation).toBeGreaterThanOrEqual(0);
      expect(p.channelUtilisation).toBeLessThanOrEqual(1 + 1e-9);
    }
    expect(r.series.reduce((a, p) => a + p.repairs, 0)).toBe(r.metrics.routeRepairs);
    // No NaN or Infinity anywhere: JSON keeps every number.
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    const numbers = (x: unknown): number[] => (typeof x === "number" ? [x] : x && typeof x === "object" ? Object.values(x).flatMap(numbers) : []);
    expect(numbers(r).every(Number.isFinite)).toBe(true);
    expect(r.metrics.kills).toBe(2);
    expect(r.metrics.revivals).toBe(2);
  });

  it("is deterministic: same scenario, seed and core give the same result except wallMs; another seed differs", async () => {
    const sc = loadScenario(DEFAULT_SCENARIO_PATH);
    const a = await runScenario(sc);
    const b = await runScenario(sc);
    expect(withoutWall(a)).toBe(withoutWall(b));
    const c = await runScenario(sc, { seed: 2 });
    expect(c.seed).toBe(2);
    expect(withoutWall(c)).not.toBe(withoutWall(a));
  });

  it("runs another core with the same ABI (the plain-flooding baseline)", async () => {
    const sc = line3({ channel: { meanIntervalS: 120, senders: [0], payloadBytes: 20 } }, 4);
    const r = await runScenario(sc, { core: "build/cores/node-flood.wasm" });
    expect(r.core).toBe("build/cores/node-flood.wasm");
    expect(r.metrics.broadcastReachability).toBe(1);
  });

  it("runs the default scenario in a few seconds and reports progress up to the end", async () => {
    const seen: number[] = [];
    const t = performance.now();
    const r = await runScenario(loadScenario(DEFAULT_SCENARIO_PATH), { onProgress: (s, total) => { expect(total).toBe(600); seen.push(s); } });
    expect(performance.now() - t).toBeLessThan(5000);
    expect(r.wallMs).toBeGreaterThan(0);
    expect(seen[0]).toBe(0);
    expect(seen.at(-1)).toBe(600);
    expect(seen.length).toBeGreaterThanOrEqual(60);
    for (let k = 1; k < seen.length; k++) expect(seen[k]).toBeGreaterThan(seen[k - 1]);
  });
});
