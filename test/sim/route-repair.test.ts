// The learned route dies and delivery recovers: two relays between a sender and a
// recipient that cannot hear each other; once the route through one relay is learned,
// that relay is killed, the next hop to it stays silent, the sender drops the route and
// floods, and the messages get through the other relay.
import { describe, expect, it } from "vitest";
import { runScenario } from "../../sim/index.js";

const KILL_S = 600;

/** A diamond: 0 and 3 at the ends, 1 and 2 relays above and below the middle. */
function diamond(durationS: number, faults: unknown[] = []) {
  return {
    name: "diamond",
    seed: 3,
    durationS,
    seriesIntervalS: 60,
    area: { widthM: 2800, heightM: 2000 },
    radio: { linkOffsetSigmaDb: 0 },
    nodes: {
      placement: { type: "explicit", positions: [{ xM: 0, yM: 1000 }, { xM: 1400, yM: 400, role: "router" }, { xM: 1400, yM: 1600, role: "router" }, { xM: 2800, yM: 1000 }] },
    },
    traffic: { direct: { pairs: [[0, 3]], meanIntervalS: 60, startS: 60, stopS: Math.min(1500, durationS) } },
    faults,
  };
}

describe("route repair", () => {
  it("delivers again after the relay on the learned route dies, and measures the repair", async () => {
    // The same seed runs the same way up to the kill: the first run tells which relay carries the route then.
    const before = await runScenario(diamond(KILL_S));
    expect(before.metrics.directDeliveryRatio!).toBeGreaterThan(0.7);
    expect(before.metrics.directAcked).toBeGreaterThan(0);
    const path = before.samplePath!;
    expect(path.kind).toBe("direct");
    expect(path.hops).toHaveLength(2); // the origin, then one relay
    const relay = path.hops[1].from;
    expect([1, 2]).toContain(relay);

    const after = await runScenario(diamond(1800, [{ type: "kill", atS: KILL_S, nodes: [relay] }]));
    const m = after.metrics;
    expect(after.nodes[relay].alive).toBe(false);
    expect(m.routesBrokenByKills).toBeGreaterThanOrEqual(1);
    expect(m.routesRepairedAfterKills).toBe(m.routesBrokenByKills);
    expect(m.timeToRepairMs!).toBeGreaterThan(0);
    expect(m.repairDeliveryLatencyMs!).toBeGreaterThan(0);
    expect(m.routeRepairs).toBeGreaterThan(before.metrics.routeRepairs); // a unicast hop went unanswered
    // Messages sent after the kill get through (over the other relay).
    const sentAfter = after.series.filter((p) => p.tS > KILL_S && p.tS <= 1500);
    const ratio = sentAfter.reduce((a, p) => a + p.delivered, 0) / sentAfter.reduce((a, p) => a + p.sent, 0);
    expect(ratio).toBeGreaterThan(0.7);
    expect(after.samplePath!.hops.map((h) => h.from)).not.toContain(relay);
  });
});
