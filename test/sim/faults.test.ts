// Faults and mobility: killed nodes go quiet, revived nodes keep their identity,
// partitions cut delivery and restoring them brings it back, interference lowers
// reachability, and mobile nodes move.
import { describe, expect, it } from "vitest";
import { Mesh, runScenario, type Transmission } from "../../sim/index.js";

const CHANNEL = ["sim", "faults-test-passphrase"] as const;

/** Nodes on a line 1500 m apart (3GPP suburban, 1.5 m: only neighbours hear each other). */
async function lineMesh(count: number): Promise<Mesh> {
  const mesh = await Mesh.create({ seed: "faults", linkOffsetSigmaDb: 0, node: { noAutoAnnounce: true } });
  for (let i = 0; i < count; i++) await mesh.addNode({ xM: i * 1500, yM: 0 });
  for (let i = 0; i < count; i++) expect(mesh.act(i, (n) => n.joinChannel(0, ...CHANNEL))).toBe(0);
  return mesh;
}

const channelText = (mesh: Mesh, i: number) => mesh.nodeEvents(i).filter((e) => e.type === "channel").map((e) => (e as { text: string }).text);

/** A scenario of `count` nodes on a line, 1500 m apart, no random link offsets. */
function lineScenario(count: number, extra: Record<string, unknown> = {}) {
  return {
    name: "line",
    durationS: 600,
    area: { widthM: (count - 1) * 1500, heightM: 1000 },
    radio: { linkOffsetSigmaDb: 0 },
    nodes: { count, placement: { type: "line", spacingM: 1500, yM: 500 } },
    ...extra,
  };
}

describe("kill", () => {
  it("a killed node stops transmitting and hearing; the line behind it is cut off", async () => {
    const mesh = await lineMesh(3);
    const sent: Transmission[] = [];
    mesh.hooks.transmit = (tx) => sent.push(tx);
    mesh.act(0, (n) => n.sendChannel(0, 1, "before"));
    mesh.run(30_000);
    expect(channelText(mesh, 2)).toEqual(["before"]);
    expect(sent.some((t) => t.from === 1)).toBe(true);
    mesh.kill(1);
    expect(mesh.isAlive(1)).toBe(false);
    expect(() => mesh.act(1, (n) => n.sendChannel(0, 2, "from the dead"))).toThrow(/node 1 is dead/);
    const t0 = mesh.nowMs;
    mesh.act(0, (n) => n.sendChannel(0, 3, "after"));
    mesh.run(60_000);
    expect(sent.filter((t) => t.startMs >= t0 && t.from === 1)).toEqual([]);
    expect(channelText(mesh, 1)).toEqual(["before"]);
    expect(channelText(mesh, 2)).toEqual(["before"]);
  });

  it("a node killed mid-frame cuts the frame short: nobody receives it", async () => {
    const mesh = await lineMesh(2);
    const tx = mesh.medium.transmit(0, new Uint8Array(200).fill(7))!;
    mesh.run(tx.endMs / 2);
    const heard: number[] = [];
    mesh.hooks.receive = (to) => heard.push(to);
    mesh.kill(0);
    mesh.run(10_000);
    expect(tx.cut).toBe(true);
    expect(mesh.medium.stats.cut).toBe(1);
    expect(heard).toEqual([]);
    expect(mesh.medium.transmitting(0)).toBe(false);
  });

  it("in a scenario: the killed node is reported dead with its time, and broadcasts no longer count it", async () => {
    const sc = lineScenario(3, {
      traffic: { channel: { meanIntervalS: 30, senders: [0] } },
      faults: [{ type: "kill", atS: 300, nodes: [2] }],
    });
    const r = await runScenario(sc);
    expect(r.nodes[2]).toMatchObject({ alive: false, killedAtS: 300 });
    expect(r.nodes[1]).toMatchObject({ alive: true });
    expect(r.nodes[1].killedAtS).toBeUndefined();
    expect(r.metrics.kills).toBe(1);
    // Before the kill a broadcast was due at 2 nodes, after it at 1.
    const before = r.series.filter((p) => p.tS <= 300 && p.sent > 0);
    const after = r.series.filter((p) => p.tS > 310 && p.sent > 0);
    expect(before.length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
    const perBroadcast = (ps: typeof before) => ps.reduce((a, p) => a + p.sent, 0);
    expect(perBroadcast(after) / after.length).toBeLessThan(perBroadcast(before) / before.length);
    // (Not exactly 1: a broadcast queued right behind another can meet the first relay half-duplex.)
    expect(r.metrics.broadcastReachability!).toBeGreaterThan(0.8);
  });
});

describe("revive", () => {
  it("reboots on the same storage: same identity, empty memory, and it works again once it rejoins", async () => {
    const mesh = await lineMesh(2);
    const identity = (i: number) => mesh.events.filter((e) => e.node === i && e.event.type === "identity").map((e) => (e.event as { contactId: string }).contactId);
    const before = identity(1);
    expect(before).toHaveLength(1);
    const seed = mesh.storage(1).get("id.seed");
    const oldHost = mesh.nodes[1];
    mesh.kill(1);
    mesh.run(10_000);
    const newHost = await mesh.revive(1);
    expect(newHost).not.toBe(oldHost);
    expect(mesh.nodes[1]).toBe(newHost);
    expect(identity(1)).toEqual([before[0], before[0]]);
    expect(mesh.storage(1).get("id.seed")).toEqual(seed);
    expect(newHost.counter(21)).toBe(0); // counters start over; the old instance's are kept
    expect(mesh.act(1, (n) => n.sendChannel(0, 1, "lost"))).toBe(-6); // the channel was in memory only
    mesh.act(1, (n) => n.joinChannel(0, ...CHANNEL));
    mesh.act(1, (n) => n.sendChannel(0, 2, "back"));
    mesh.run(30_000);
    expect(channelText(mesh, 0)).toEqual(["back"]);
  });

  it("in a scenario: killed nodes come back after reviveAfterS, and a revive fault brings back the rest", async () => {
    const r = await runScenario(lineScenario(4, {
      traffic: { channel: { meanIntervalS: 60, senders: [0] } },
      faults: [
        { type: "kill", atS: 100, nodes: [1, 2], reviveAfterS: 100 },
        { type: "kill", atS: 300, count: 2 },
        { type: "revive", atS: 400, nodes: "all" },
      ],
    }));
    expect(r.metrics.kills).toBe(4);
    expect(r.metrics.revivals).toBe(4);
    expect(r.nodes.every((n) => n.alive)).toBe(true);
    expect(r.nodes.filter((n) => n.killedAtS === 300)).toHaveLength(2);
  });
});

describe("partition", () => {
  it("cuts every link across its edge; removing it restores them", async () => {
    const mesh = await lineMesh(3);
    const id = mesh.medium.addPartition({ xM: 2000, yM: -100, widthM: 2000, heightM: 200 });
    expect(mesh.medium.linkCut(1, 2)).toBe(true);
    expect(mesh.medium.canHear(1, 2)).toBe(false);
    mesh.act(0, (n) => n.sendChannel(0, 1, "cut"));
    mesh.run(30_000);
    expect(channelText(mesh, 1)).toEqual(["cut"]);
    expect(channelText(mesh, 2)).toEqual([]);
    mesh.medium.removePartition(id);
    expect(mesh.medium.canHear(1, 2)).toBe(true);
    mesh.act(0, (n) => n.sendChannel(0, 2, "healed"));
    mesh.run(30_000);
    expect(channelText(mesh, 2)).toEqual(["healed"]);
  });

  it("in a scenario: direct messages across the cut fail while it lasts and get through after", async () => {
    const r = await runScenario(lineScenario(3, {
      durationS: 900,
      traffic: { direct: { pairs: [[0, 2]], meanIntervalS: 45, startS: 60, stopS: 840 } },
      faults: [{ type: "partition", atS: 300, untilS: 600, area: { xM: 2000, yM: 0, widthM: 1000, heightM: 1000 } }],
    }));
    const ratio = (from: number, to: number) => {
      const ps = r.series.filter((p) => p.tS > from && p.tS <= to);
      return ps.reduce((a, p) => a + p.delivered, 0) / Math.max(1, ps.reduce((a, p) => a + p.sent, 0));
    };
    expect(ratio(60, 285)).toBeGreaterThan(0.6);
    // Sent early in the cut: the first retry (about 240 s later) is still inside it, the last comes after the run.
    expect(ratio(300, 345)).toBe(0);
    // Later in the cut, the retry after it gets through.
    expect(ratio(360, 600)).toBeGreaterThan(0);
    expect(ratio(615, 840)).toBeGreaterThan(0.6);
  });
});

describe("interference", () => {
  it("lowers broadcast reachability (the reachable set is the quiet topology)", async () => {
    const sc = (faults: unknown[]) => lineScenario(5, { traffic: { channel: { meanIntervalS: 40, senders: [0] } }, faults });
    const quiet = await runScenario(sc([]));
    const noisy = await runScenario(sc([{ type: "interference", atS: 0, levelDbm: -105 }]));
    expect(quiet.metrics.broadcastReachability!).toBeGreaterThan(0.85);
    expect(noisy.metrics.broadcastReachability!).toBeLessThan(0.5);
    // Only inside its area and only while it lasts.
    const local = await runScenario(sc([{ type: "interference", atS: 0, untilS: 300, levelDbm: -105, area: { xM: 5000, yM: 0, widthM: 1000, heightM: 1000 } }]));
    expect(local.metrics.broadcastReachability!).toBeLessThan(quiet.metrics.broadcastReachability!);
    expect(local.metrics.broadcastReachability!).toBeGreaterThan(noisy.metrics.broadcastReachability!);
  });
});

describe("mobility", () => {
  it("moves the chosen share of nodes inside the area; the others stay", async () => {
    const sc = {
      durationS: 600,
      area: { widthM: 3000, heightM: 3000 },
      nodes: { count: 10, placement: { type: "grid", columns: 5 }, mobility: { share: 0.4, speedMps: { min: 5, max: 10 }, pauseS: { min: 0, max: 5 }, updateS: 5 } },
    };
    const moved = await runScenario(sc);
    const still = await runScenario({ ...sc, nodes: { ...sc.nodes, mobility: null } });
    expect(moved.nodes.filter((n) => n.mobile)).toHaveLength(4);
    for (const n of moved.nodes) {
      const d = Math.hypot(n.xM - still.nodes[n.index].xM, n.yM - still.nodes[n.index].yM);
      if (n.mobile) expect(d, `node ${n.index}`).toBeGreaterThan(0); else expect(d).toBe(0);
      expect(n.xM).toBeGreaterThanOrEqual(0);
      expect(n.xM).toBeLessThanOrEqual(3000);
      expect(n.yM).toBeGreaterThanOrEqual(0);
      expect(n.yM).toBeLessThanOrEqual(3000);
    }
  });

  it("moving a radio changes its links both ways, and moving it back restores them", async () => {
    const mesh = await lineMesh(3);
    const hears = () => [mesh.medium.canHear(0, 2), mesh.medium.decodersOf(0), mesh.medium.decodersOf(2)];
    const before = hears();
    expect(before[0]).toBe(false);
    mesh.medium.moveRadio(2, { xM: 500, yM: 0 });
    expect(mesh.medium.canHear(0, 2)).toBe(true);
    expect(mesh.medium.decodersOf(0)).toEqual([1, 2]);
    expect(mesh.medium.decodersOf(2)).toEqual([0, 1]);
    mesh.medium.moveRadio(2, { xM: 3000, yM: 0 });
    expect(hears()).toEqual(before);
  });
});
