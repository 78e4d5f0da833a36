// Several node.wasm instances wired through the ideal in-process medium:
// delivery over many hops, rerouting around a dead relay, a partition that
// heals, replays and forgeries, and a broadcast storm that stays bounded.
import { describe, expect, it } from "vitest";
import { IdealMedium, announcedMesh } from "../helpers/ideal-medium.js";
import { baselineNodeWasmUrl, loadCoreModule } from "../../host-tools/node/host.js";
import type { NodeEvent } from "../../host-tools/node/protocol.js";

/** Counter ids (firmware/cores/node/stats.ts). */
const C = {
  RX: 0, AUTH_FAILED: 8, REPLAY: 12, DUPLICATE: 13, TX: 16, RELAYED: 18, RELAY_CANCELLED: 19, DELIVERED_DIRECT: 20,
  DELIVERED_CHANNEL: 21, ROUTES_LEARNED: 24, ROUTE_REPAIRS: 25, QUEUE_DROPS: 27, UNICAST_SENT: 28, FLOOD_SENT: 29,
  CONTACTS: 30, DIRECT_FAILED: 33, HOP_RETRIES: 34, MAIL_DEPOSITED: 44, MAIL_KEPT: 45, MAIL_RELEASED: 49,
};
const TYPE_DIRECT = 2;
const frameType = (f: Uint8Array) => (f[0] >> 3) & 7;
const nextHop = (f: Uint8Array) => f[2] | (f[3] << 8) | (f[4] << 16) | (f[5] * 2 ** 24);

function idOf(m: IdealMedium, i: number): string {
  const e = m.events(i).find((x) => x.type === "identity") as Extract<NodeEvent, { type: "identity" }>;
  return e.contactId;
}

const mesh = announcedMesh;

const delivery = (m: IdealMedium, i: number, ref: number) =>
  m.events(i).filter((e) => e.type === "delivery" && e.ref === ref).map((e) => (e as { state: string }).state);
const acked = (m: IdealMedium, i: number, ref: number) => delivery(m, i, ref).includes("acked");
const directs = (m: IdealMedium, i: number) => m.events(i).filter((e) => e.type === "direct") as Array<Extract<NodeEvent, { type: "direct" }>>;

function sendAndWait(m: IdealMedium, from: number, to: number, ref: number, text: string, maxMs = 3_600_000): void {
  expect(m.act(from, (n) => n.sendDirect(idOf(m, to), ref, text))).toBe(0);
  m.run(maxMs, () => delivery(m, from, ref).some((s) => s === "acked" || s === "failed"));
}

describe("a line of 6 nodes", () => {
  it("learns every contact from announces, then delivers a direct message over 5 hops", async () => {
    const m = await mesh(6, [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]]);
    for (let i = 0; i < 6; i++) expect(m.nodes[i].counter(C.CONTACTS), `node ${i}`).toBe(5);
    sendAndWait(m, 0, 5, 1, "hello over five hops");
    expect(directs(m, 5)).toHaveLength(1);
    expect(directs(m, 5)[0]).toMatchObject({ contactId: idOf(m, 0), text: "hello over five hops" });
    expect(acked(m, 0, 1)).toBe(true);
  });

  it("learns the route from the ACK: the second message goes hop by hop, with no flooding", async () => {
    const m = await mesh(6, [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]]);
    sendAndWait(m, 0, 5, 1, "first, flooded");
    for (let i = 0; i < 5; i++) expect(m.nodes[i].counter(C.ROUTES_LEARNED), `node ${i}`).toBeGreaterThan(0);
    const before = m.log.length;
    sendAndWait(m, 0, 5, 2, "second, routed");
    expect(acked(m, 0, 2)).toBe(true);
    const directFrames = m.log.slice(before).filter((t) => frameType(t.frame) === TYPE_DIRECT);
    // Five hops, one transmission each, every one addressed to a single next hop.
    expect(directFrames).toHaveLength(5);
    expect(directFrames.every((t) => nextHop(t.frame) !== 0)).toBe(true);
    expect(directFrames.map((t) => t.from)).toEqual([0, 1, 2, 3, 4]);
  });

  it("a reply starts on the route back; its ACK teaches the relays, and the next reply is routed end to end", async () => {
    const m = await mesh(4, [[0, 1], [1, 2], [2, 3]]);
    sendAndWait(m, 0, 3, 1, "ping");
    let before = m.log.length;
    sendAndWait(m, 3, 0, 2, "pong");
    expect(directs(m, 0).map((d) => d.text)).toEqual(["pong"]);
    // The recipient learned the way back from the DIRECT frame itself: the first hop is unicast.
    // Relays cannot link the reply's tag to the request's (tags are pairwise and directional),
    // so from there it floods until the reply's ACK comes back.
    const first = m.log.slice(before).filter((t) => frameType(t.frame) === TYPE_DIRECT);
    expect(first[0].from).toBe(3);
    expect(nextHop(first[0].frame)).not.toBe(0);
    before = m.log.length;
    sendAndWait(m, 3, 0, 3, "pong again");
    const second = m.log.slice(before).filter((t) => frameType(t.frame) === TYPE_DIRECT);
    expect(second.map((t) => t.from)).toEqual([3, 2, 1]);
    expect(second.every((t) => nextHop(t.frame) !== 0)).toBe(true);
  });
});

describe("a diamond: 0 - {1, 2} - 3", () => {
  it("reroutes through the other side when the relay on the route dies, and the app sees only a delay", async () => {
    const m = await mesh(4, [[0, 1], [0, 2], [1, 3], [2, 3]]);
    sendAndWait(m, 0, 3, 1, "learn a route");
    let before = m.log.length;
    sendAndWait(m, 0, 3, 2, "use it");
    expect(acked(m, 0, 2)).toBe(true);
    const relay = m.log.slice(before).find((t) => frameType(t.frame) === TYPE_DIRECT && t.from !== 0)!.from;
    expect([1, 2]).toContain(relay);
    const other = relay === 1 ? 2 : 1;

    m.kill(relay);
    before = m.log.length;
    sendAndWait(m, 0, 3, 3, "after the relay died");
    expect(delivery(m, 0, 3)).toEqual(["sent", "acked"]);
    expect(directs(m, 3).map((d) => d.text)).toEqual(["learn a route", "use it", "after the relay died"]);
    expect(m.nodes[0].counter(C.ROUTE_REPAIRS)).toBeGreaterThan(0);
    expect(m.log.slice(before).some((t) => t.from === other && frameType(t.frame) === TYPE_DIRECT)).toBe(true);

    // The repaired route is learned: the next message is routed through the survivor.
    before = m.log.length;
    sendAndWait(m, 0, 3, 4, "on the new route");
    expect(acked(m, 0, 4)).toBe(true);
    const hops = m.log.slice(before).filter((t) => frameType(t.frame) === TYPE_DIRECT);
    expect(hops.map((t) => t.from)).toEqual([0, other]);
    expect(hops.every((t) => nextHop(t.frame) !== 0)).toBe(true);
  });
});

describe("a partition that heals", () => {
  it("hands the message to a keeper while cut off, delivers it when the recipient is heard again", async () => {
    const m = await mesh(4, [[0, 1], [1, 2], [2, 3]]);
    m.setLink(1, 2, false);
    expect(m.act(0, (n) => n.sendDirect(idOf(m, 3), 1, "into the void"))).toBe(0);
    m.run(3_600_000, () => delivery(m, 0, 1).includes("stored"));
    // Node 1 is the only node on the sender's side: one keeper of the three wanted.
    expect(delivery(m, 0, 1)).toEqual(["sent", "stored"]);
    expect(m.events(0).find((e) => e.type === "delivery" && e.ref === 1 && e.state === "stored")).toMatchObject({ attempts: 1 });
    expect(m.nodes[0].counter(C.DIRECT_FAILED)).toBe(0);
    expect(m.nodes[1].counter(C.MAIL_KEPT)).toBe(1);
    expect(directs(m, 3)).toHaveLength(0);

    m.setLink(1, 2, true);
    m.act(3, (n) => n.announce()); // the recipient is heard again
    m.run(600_000, () => delivery(m, 0, 1).includes("delivered"));
    expect(directs(m, 3).map((d) => d.text)).toEqual(["into the void"]);
    // More "stored" reports may come in between (node 1's relay of the deposit, queued
    // before the link came back, found a second volunteer); "delivered" comes last.
    expect([...new Set(delivery(m, 0, 1))]).toEqual(["sent", "stored", "delivered"]);
    expect(m.nodes[1].counter(C.MAIL_RELEASED)).toBe(1);

    sendAndWait(m, 0, 3, 2, "healed");
    expect(acked(m, 0, 2)).toBe(true);
    expect(directs(m, 3).map((d) => d.text)).toEqual(["into the void", "healed"]);
  });

  it("reports failure when no node can keep the message", async () => {
    const m = await mesh(2, [[0, 1]]);
    m.setLink(0, 1, false);
    sendAndWait(m, 0, 1, 1, "nobody hears this");
    expect(delivery(m, 0, 1)).toEqual(["sent", "failed"]);
    expect(m.nodes[0].counter(C.DIRECT_FAILED)).toBe(1);
    expect(m.nodes[0].counter(C.MAIL_DEPOSITED)).toBe(1); // offered, but nobody heard it
  });
});

describe("replays and forgeries", () => {
  it("a replayed DIRECT frame is acknowledged again but delivered once; a forged one is dropped", async () => {
    const m = await mesh(3, [[0, 1], [1, 2]]);
    sendAndWait(m, 0, 2, 1, "only once");
    const original = m.log.find((t) => frameType(t.frame) === TYPE_DIRECT && t.from === 1)!.frame;
    // Replay the exact frame to the recipient much later (past the duplicate history's age limit).
    m.run(15 * 60_000);
    m.act(2, (n) => n.receive(original, -90, 5));
    m.run(30_000);
    expect(directs(m, 2)).toHaveLength(1);

    // Forge: flip one bit of the ciphertext of a fresh copy with a new frame id.
    const forged = original.slice();
    forged[12] ^= 0x40;           // a nonce byte: new frame id, and the AAD no longer matches
    const authBefore = m.nodes[2].counter(C.AUTH_FAILED);
    m.act(2, (n) => n.receive(forged, -90, 5));
    expect(m.nodes[2].counter(C.AUTH_FAILED)).toBe(authBefore + 1);
    expect(directs(m, 2)).toHaveLength(1);
  });

  it("channel members read each other; an outsider with the wrong passphrase can neither read nor forge", async () => {
    const m = await mesh(3, [[0, 1], [1, 2]]);
    m.act(0, (n) => n.joinChannel(0, "town", "correct horse battery staple"));
    m.act(2, (n) => n.joinChannel(0, "town", "correct horse battery staple"));
    m.act(1, (n) => n.joinChannel(0, "town", "wrong passphrase"));
    expect(m.act(0, (n) => n.sendChannel(0, 7, "meet at the hall"))).toBe(0);
    m.run(60_000);
    expect(m.events(2).filter((e) => e.type === "channel").map((e) => (e as { text: string }).text)).toEqual(["meet at the hall"]);
    expect(m.events(1).filter((e) => e.type === "channel")).toHaveLength(0);
    // The outsider (node 1 relays the member's frame but cannot read it); its own post reaches no member.
    m.act(1, (n) => n.sendChannel(0, 8, "forged notice"));
    m.run(60_000);
    expect(m.events(0).filter((e) => e.type === "channel")).toHaveLength(0);
    expect(m.events(2).filter((e) => e.type === "channel")).toHaveLength(1);
    // Replaying the member's frame to node 2 delivers nothing new.
    const frame = m.log.find((t) => frameType(t.frame) === 1 && t.from === 0)!.frame;
    m.run(15 * 60_000);
    m.act(2, (n) => n.receive(frame, -90, 5));
    expect(m.events(2).filter((e) => e.type === "channel")).toHaveLength(1);
  });
});

describe("a broadcast storm", () => {
  it("stays bounded: every frame crosses each node at most once, and queues never grow", async () => {
    const n = 8;
    const links: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (j - i <= 2) links.push([i, j]);
    const m = await mesh(n, links);
    // Next neighbours hear each other well (+5 dB), the ones two steps away barely (-15 dB).
    for (const [a, b] of links) m.link(a, b, b - a === 1 ? 5 : -15);
    for (let i = 0; i < n; i++) m.act(i, (node) => node.joinChannel(0, "storm", "pass"));
    const perNode = 12;
    const before = m.log.length;
    for (let k = 0; k < perNode; k++) for (let i = 0; i < n; i++) m.act(i, (node) => node.sendChannel(0, k, `storm ${i}/${k}`));
    m.run(3_600_000);
    const storm = m.log.slice(before);
    // No node ever transmits the same frame id twice.
    const seen = new Set<string>();
    for (const t of storm) {
      const key = `${t.from}:${Buffer.from(t.frame.subarray(10, 18)).toString("hex")}`;
      expect(seen.has(key), key).toBe(false);
      seen.add(key);
    }
    const messages = n * perNode;
    expect(storm.length).toBeLessThanOrEqual(messages * n);
    // Managed flooding: cancelled relays keep it well under one transmission per node per message.
    const cancelled = m.nodes.reduce((s, node) => s + node.counter(C.RELAY_CANCELLED), 0);
    expect(cancelled).toBeGreaterThan(0);
    expect(storm.length).toBeLessThan(messages * n);
    for (const node of m.nodes) expect(node.memoryBytes()).toBe(2 * 65536);
    // Most of the storm still arrives (queues drop the lowest priority when full, and count it).
    const got = m.events(n - 1).filter((e) => e.type === "channel").length;
    const drops = m.nodes.reduce((s, node) => s + node.counter(C.QUEUE_DROPS), 0);
    expect(got + drops).toBeGreaterThan(0);
    expect(got).toBeGreaterThan(messages * 0.3);
  });
});

describe("the baseline core (node-flood.wasm, plain flooding)", () => {
  it("delivers too, but every message floods: the learned-route core sends fewer frames", async () => {
    // A line 0..5 with a side node hanging off each of 1, 2 and 3.
    const links: Array<[number, number]> = [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [1, 6], [2, 7], [3, 8]];
    const count = async (module?: WebAssembly.Module) => {
      const m = await mesh(9, links, module);
      sendAndWait(m, 0, 5, 1, "first");
      const before = m.log.length;
      sendAndWait(m, 0, 5, 2, "second");
      expect(acked(m, 0, 2)).toBe(true);
      return m.log.slice(before).length;
    };
    const flood = await count(await loadCoreModule(baselineNodeWasmUrl()));
    const routed = await count();
    // Routed: 5 DIRECT hops + 5 ACK hops. Flooding: the side nodes relay both frames too.
    expect(routed).toBe(10);
    expect(flood).toBeGreaterThan(routed);
  });
});
