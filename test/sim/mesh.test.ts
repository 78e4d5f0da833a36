// node.wasm instances on the simulated medium: delivery over several hops,
// listen before talk, discarded frame types, and determinism.
import { describe, expect, it } from "vitest";
import { FrameType, Mesh, Rng, frameType, randomPositions, type Transmission } from "../../sim/index.js";

const CHANNEL = ["sim", "mesh-test-passphrase"] as const;

async function line(count: number, spacingM: number, seed: number | string = 1): Promise<Mesh> {
  const mesh = await Mesh.create({ seed, linkOffsetSigmaDb: 0, discardFrameTypes: [FrameType.ANNOUNCE] });
  for (let i = 0; i < count; i++) await mesh.addNode({ xM: i * spacingM, yM: 0 });
  for (let i = 0; i < count; i++) expect(mesh.act(i, (n) => n.joinChannel(0, ...CHANNEL))).toBe(0);
  return mesh;
}

describe("Mesh", () => {
  it("floods a channel message along a line where only neighbours hear each other", async () => {
    const mesh = await line(5, 1500);
    expect(mesh.medium.canHear(0, 1)).toBe(true);
    expect(mesh.medium.canHear(0, 2)).toBe(false);
    const sent: Transmission[] = [];
    mesh.hooks.transmit = (tx) => { if (frameType(tx.payload) === FrameType.CHANNEL) sent.push(tx); };
    mesh.run(40_000); // boot announces (discarded) are over
    const t0 = mesh.nowMs;
    expect(mesh.act(0, (n) => n.sendChannel(0, 1, "hello down the line"))).toBe(0);
    mesh.run(60_000);
    for (let i = 1; i < 5; i++) {
      const got = mesh.nodeEvents(i).filter((e) => e.type === "channel");
      expect(got, `node ${i}`).toHaveLength(1);
      expect(got[0]).toMatchObject({ type: "channel", text: "hello down the line" });
    }
    const times = mesh.events.filter((e) => e.event.type === "channel").map((e) => [e.node, e.atMs - t0]);
    for (let k = 1; k < times.length; k++) expect(times[k][1]).toBeGreaterThan(times[k - 1][1]); // one hop after another
    expect(times.map((t) => t[0])).toEqual([1, 2, 3, 4]);
    expect(sent.length).toBeGreaterThanOrEqual(4); // origin + 3 relays at least (the last node may relay too)
    expect(mesh.stats.discardedFrames).toBeGreaterThanOrEqual(5); // every node's boot announce
  });

  it("defers a transmission while channel-activity detection senses a frame", async () => {
    const mesh = await line(2, 500);
    mesh.run(40_000);
    const starts: number[] = [];
    mesh.hooks.transmit = (tx) => starts.push(tx.startMs);
    const busy = mesh.medium.transmit(1, new Uint8Array(255).fill(0x11))!; // foreign traffic, 2.16 s
    mesh.run(100);
    expect(mesh.medium.channelActive(0)).toBe(true);
    expect(mesh.act(0, (n) => n.sendChannel(0, 1, "after the noise"))).toBe(0);
    mesh.run(10_000);
    expect(mesh.stats.lbtDeferrals).toBeGreaterThanOrEqual(1);
    expect(starts.length).toBeGreaterThanOrEqual(1);
    expect(starts[0]).toBeGreaterThanOrEqual(busy.endMs);
    expect(mesh.nodeEvents(1).filter((e) => e.type === "channel")).toHaveLength(1);
  });

  it("replays a run exactly from its seed, and another seed changes it", async () => {
    async function run(seed: string): Promise<string> {
      const mesh = await Mesh.create({ seed, log: true });
      for (const p of randomPositions(new Rng(seed, "positions"), 10, 3000, 3000)) await mesh.addNode(p);
      for (let i = 0; i < mesh.size; i++) mesh.act(i, (n) => n.joinChannel(0, ...CHANNEL));
      mesh.at(45_000, () => mesh.act(2, (n) => n.sendChannel(0, 1, "one")));
      mesh.at(46_000, () => mesh.act(7, (n) => n.sendChannel(0, 2, "two")));
      mesh.run(90_000);
      const events = mesh.events.map((e) => ({ atMs: e.atMs, node: e.node, type: e.event.type, text: "text" in e.event ? e.event.text : "" }));
      return JSON.stringify({ log: mesh.medium.log, events, stats: mesh.stats, medium: mesh.medium.stats });
    }
    const a = await run("seed-a");
    const b = await run("seed-a");
    const c = await run("seed-b");
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    const parsed = JSON.parse(a);
    expect(parsed.log.length).toBeGreaterThan(10);
    expect(parsed.events.filter((e: { type: string }) => e.type === "channel").length).toBeGreaterThan(0);
  });
});
