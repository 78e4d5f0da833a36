// Everything in the node core is bounded: fixed-size tables with eviction, so
// a 5,000-node mesh (or an attacker posing as one) cannot make a node run out
// of memory, and the duty-cycle ledger keeps every rolling hour of airtime
// under the regional budget however hard the node is pushed.
//
// One node.wasm instance is fed, through NodeHost.receive, valid and correctly
// signed announces from 5,000 identities, channel messages from 5,000 sender
// ids and a storm of 20,000 distinct flood frames. Frames are built with the
// TypeScript reference of PROTOCOL.md (reference-protocol.ts); the Ed25519
// keys of the 5,000 throwaway identities come from the project's crypto core
// (fast), everything else from the reference.
import { describe, expect, it } from "vitest";
import { IdealMedium, loraAirtimeMs } from "../helpers/ideal-medium.js";
import { DEFAULT_CONFIG, type NodeEvent } from "../../host-tools/node/protocol.js";
import type { NodeHost } from "../../host-tools/node/host.js";
import {
  DROP, OFF, ReferenceProtocol, channelKey, checkFrame, identityFromSeed, meshKey, pairDirection, pairKey, x25519Base,
} from "./reference-protocol.js";
import { Rng, hex } from "../helpers/seeded.js";

/** Counter ids (firmware/cores/node/stats.ts). */
const C = {
  RX: 0, AUTH_FAILED: 8, REPLAY: 12, HOPS_EXHAUSTED: 14, TX_FRAMES: 16, TX_AIRTIME_MS: 17, RELAYED: 18,
  RELAY_CANCELLED: 19, DELIVERED_DIRECT: 20, DELIVERED_CHANNEL: 21, ACKS_SENT: 22, DUTY_DEFERRALS: 26,
  QUEUE_DROPS: 27, CONTACTS: 30,
} as const;
/** firmware/cores/node/contacts.ts CONTACTS_MAX. */
const CONTACTS_MAX = 32;
/** firmware/cores/node/txqueue.ts TX_SLOTS. */
const TX_SLOTS = 16;
const HOUR = 3_600_000;
/** Command status of firmware/cores/node/node.ts: no such contact. */
const ERR_UNKNOWN = -6;

const enc = new TextEncoder();
const epochOf = (ms: number) => Math.floor(ms / HOUR);


const identityEvent = (node: NodeHost) =>
  node.events.find((e) => e.type === "identity") as Extract<NodeEvent, { type: "identity" }>;

/** Frame ids (nonce bytes 0-7) as hex. */
const frameId = (f: Uint8Array) => hex(f.subarray(OFF.NONCE, OFF.NONCE + 8));
const hopsLeft = (f: Uint8Array) => f[OFF.HOPS] & 0x0f;
const hopLimit = (f: Uint8Array) => f[OFF.HOPS] >> 4;

/**
 * A relayable flood frame with random content: valid header (version 1, type
 * CHANNEL or DIRECT or ANNOUNCE, hop limit 1..7, next_hop 0, random prev_hop),
 * random nonce, dest and body. No node can open it; every relay passes it on.
 */
function floodFrame(rng: Rng, hopsLeftMin = 0): Uint8Array {
  const type = rng.int(3);
  const len = type === 0 ? 255 : [106, 170, 255][rng.int(3)];
  const f = rng.bytes(len);
  const limit = 1 + rng.int(7);
  const left = hopsLeftMin + rng.int(limit + 1 - hopsLeftMin);
  f[OFF.FLAGS] = 0x40 | (type << 3);
  f[OFF.HOPS] = (limit << 4) | left;
  f.fill(0, OFF.NEXT_HOP, OFF.NEXT_HOP + 4);
  f[OFF.PREV_HOP] |= 1;
  return f;
}

/** Largest airtime inside any rolling hour [T - HOUR, T] of a list of transmissions. */
function worstHourMs(txs: Array<{ start: number; end: number }>): number {
  const overlap = (lo: number, hi: number) =>
    txs.reduce((s, t) => s + Math.max(0, Math.min(t.end, hi) - Math.max(t.start, lo)), 0);
  let worst = 0;
  // The maximum is reached with the window ending at some transmission's end or starting at some start.
  for (const t of txs) {
    worst = Math.max(worst, overlap(t.end - HOUR, t.end), overlap(t.start, t.start + HOUR));
  }
  return worst;
}

describe("a node fed by a 5,000-node mesh", () => {
  it("keeps fixed memory, at most 32 contacts, a bounded transmit queue, and still delivers afterwards", async () => {
    const seed = 0x5eed_b0d5;
    const rng = new Rng(seed);
    const started = performance.now();
    const m = new IdealMedium({ ...DEFAULT_CONFIG, dutyCyclePermille: 0 }, seed);
    const a = await m.addNode("target");
    const node = m.nodes[a];
    m.run(60_000); // boot announce
    const ref = await ReferenceProtocol.create();
    const kMesh = meshKey(enc.encode(DEFAULT_CONFIG.meshName));
    const me = identityEvent(node);
    const myAnnounce = m.log.find((t) => t.from === a && t.frame[OFF.FLAGS] === 0x40)!.frame;
    const opened = ref.openAnnounce(myAnnounce, kMesh);
    expect(opened.reason).toBe(DROP.NONE);
    const myPrekey = opened.value!.prekeyPub;

    const memory = node.memoryBytes();
    const counter0 = Array.from({ length: 40 }, (_, i) => node.counter(i));
    const delta = (id: number) => node.counter(id) - counter0[id];
    /** The core's transmit queue holds relays it counted as relayed and has not sent yet (no evictions here: equal priorities, distinct ids). */
    const queuedRelays = () =>
      node.counter(C.RELAYED) - m.log.filter((t) => t.from === a && hopsLeft(t.frame) < hopLimit(t.frame)).length;
    let maxQueued = 0;
    let maxContacts = 0;
    const hand = (frame: Uint8Array, gapMs: number, what: string) => {
      const r = m.act(a, (n) => n.receive(frame, -110, -5));
      expect(r, `${what} (seed ${seed})`).toBe(0);
      expect(node.memoryBytes(), `memory after ${what} (seed ${seed})`).toBe(memory);
      maxContacts = Math.max(maxContacts, node.counter(C.CONTACTS));
      maxQueued = Math.max(maxQueued, queuedRelays());
      m.run(gapMs);
    };

    // 1. Announces from 5,000 identities, each correctly signed under the mesh key.
    const N_ID = 5000;
    const unixS = Math.floor(m.nowMs / 1000);
    const name = (i: number) => enc.encode(`n${i}`);
    const firstIds: string[] = [];
    for (let i = 0; i < N_ID - 1; i++) {
      const edSeed = rng.bytes(32);
      const parts = {
        ed25519Pub: ref.crypto.ed25519.publicKey(edSeed), x25519Pub: rng.bytes(32), prekeyPub: rng.bytes(32),
        prekeyEpoch: epochOf(m.nowMs), unixS, name: name(i),
      };
      const sig = ref.crypto.ed25519.sign(edSeed, new Uint8Array([...enc.encode("outcaxt/v1 announce"), ...ReferenceProtocol.announceSigned(parts)]));
      const frame = ref.sealAnnounceBody(3, kMesh, ReferenceProtocol.announceBody(parts, sig), rng.bytes(32));
      if (i < 3) firstIds.push(hex(parts.ed25519Pub.subarray(0, 8)));
      hand(frame, 5, `announce ${i}`);
    }
    // The last announcer is a full reference identity: it writes to the node afterwards.
    const last = identityFromSeed(rng.bytes(32));
    const lastPrekeySecret = rng.bytes(32);
    hand(ref.sealAnnounce(3, kMesh, last, x25519Base(lastPrekeySecret), epochOf(m.nowMs), unixS, name(N_ID - 1), rng.bytes(32)),
      5, "announce of the last identity");
    const lastId = hex(last.ed25519Pub.subarray(0, 8));
    const contactEvents = node.events.filter((e) => e.type === "contact") as Array<Extract<NodeEvent, { type: "contact" }>>;
    // Every announce was verified and became a contact, evicting the least recently heard...
    expect(contactEvents).toHaveLength(N_ID);
    expect(contactEvents.at(-1)!.contactId).toBe(lastId);
    expect(delta(C.AUTH_FAILED) + delta(10)).toBe(0);
    // ...and the table never held more than its 32 slots.
    expect(maxContacts).toBe(CONTACTS_MAX);
    expect(node.counter(C.CONTACTS)).toBe(CONTACTS_MAX);
    // The oldest were evicted (the app can no longer address them), the newest kept.
    for (const id of firstIds) expect(node.sendDirect(id, 1, "gone?"), `contact ${id}`).toBe(ERR_UNKNOWN);

    // 2. Channel messages from 5,000 distinct sender ids (members cannot be told apart: any id is accepted).
    node.joinChannel(0, "bounds", "a passphrase with enough entropy 7f3a");
    const kChan = channelKey(enc.encode("bounds"), enc.encode("a passphrase with enough entropy 7f3a"));
    const N_SENDERS = 5000;
    const senders: Uint8Array[] = [];
    const channelBefore = delta(C.DELIVERED_CHANNEL);
    for (let i = 0; i < N_SENDERS; i++) {
      const sender = rng.bytes(8);
      senders.push(sender);
      const frame = ref.sealChannel(3, kChan, epochOf(m.nowMs), sender, 1, Math.floor(m.nowMs / 1000), enc.encode(`m${i}`), rng.bytes(24));
      hand(frame, 5, `channel message ${i}`);
    }
    expect(delta(C.DELIVERED_CHANNEL) - channelBefore).toBe(N_SENDERS);
    const channelEvents = node.events.filter((e) => e.type === "channel") as Array<Extract<NodeEvent, { type: "channel" }>>;
    expect(channelEvents.at(-1)).toMatchObject({ senderId: hex(senders.at(-1)!), seq: 1, text: `m${N_SENDERS - 1}` });
    // The per-sender replay table is bounded too: a recent sender's seq 1 again is a replay, while the
    // first sender was evicted long ago and its seq 1 is new again (members are not authenticated to
    // each other, PROTOCOL.md, so forgetting them costs nothing).
    const replays = node.counter(C.REPLAY);
    hand(ref.sealChannel(3, kChan, epochOf(m.nowMs), senders.at(-1)!, 1, Math.floor(m.nowMs / 1000), enc.encode("again"), rng.bytes(24)),
      5, "recent sender, seq 1 again");
    expect(node.counter(C.REPLAY)).toBe(replays + 1);
    hand(ref.sealChannel(3, kChan, epochOf(m.nowMs), senders[0], 1, Math.floor(m.nowMs / 1000), enc.encode("again"), rng.bytes(24)),
      5, "evicted sender, seq 1 again");
    expect(delta(C.DELIVERED_CHANNEL) - channelBefore).toBe(N_SENDERS + 1);

    // 3. A broadcast storm: 20,000 distinct flood frames, 10 ms apart (a LongFast frame lasts 1-2 s).
    const N_STORM = 20_000;
    const relayed0 = node.counter(C.RELAYED), drops0 = node.counter(C.QUEUE_DROPS), exhausted0 = node.counter(C.HOPS_EXHAUSTED);
    const stormIds = new Set<string>();
    for (let i = 0; i < N_STORM; i++) {
      const frame = floodFrame(rng);
      expect(checkFrame(frame)).toBe(DROP.NONE);
      stormIds.add(frameId(frame));
      hand(frame, 10, `storm frame ${i}`);
    }
    expect(stormIds.size).toBe(N_STORM);
    const relayed = node.counter(C.RELAYED) - relayed0;
    const refused = node.counter(C.QUEUE_DROPS) - drops0;
    const exhausted = node.counter(C.HOPS_EXHAUSTED) - exhausted0;
    // Every storm frame was either queued for relay, refused by the full queue, or had no hops left.
    expect(relayed + refused + exhausted).toBe(N_STORM);
    expect(relayed).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(N_STORM / 2); // the radio cannot keep up: the queue refused most
    // Queue occupancy never exceeded its 16 slots.
    expect(maxQueued).toBeLessThanOrEqual(TX_SLOTS);
    expect(maxQueued).toBeGreaterThan(TX_SLOTS / 2);
    const sentStorm = m.log.filter((t) => t.from === a && stormIds.has(frameId(t.frame))).length;
    expect(sentStorm).toBeGreaterThan(0);
    expect(sentStorm).toBeLessThanOrEqual(relayed);
    expect(node.counter(C.CONTACTS)).toBe(CONTACTS_MAX);
    expect(node.memoryBytes()).toBe(memory);

    // 4. The recently announced contact still gets through: a DIRECT frame from it is delivered and acknowledged.
    const epoch = epochOf(m.nowMs);
    const kPair = pairKey(last, me.xPublic)!;
    const dir = pairDirection(last.x25519Pub, me.xPublic);
    const sealed = ref.sealDirect(3, kPair, dir, epoch, myPrekey, 1, Math.floor(m.nowMs / 1000), enc.encode("still there?"), rng.bytes(56))!;
    const directsBefore = node.counter(C.DELIVERED_DIRECT);
    const logBefore = m.log.length;
    expect(m.act(a, (n) => n.receive(sealed.frame, -100, 0))).toBe(0);
    expect(node.counter(C.DELIVERED_DIRECT)).toBe(directsBefore + 1);
    expect(node.events.filter((e) => e.type === "direct").at(-1)).toMatchObject({ contactId: lastId, msgId: 1, text: "still there?" });
    // The ACK goes out ahead of the queued relays (priority), and opens with the sender's K_ack.
    m.run(30_000, () => m.log.slice(logBefore).some((t) => t.from === a && t.frame[OFF.FLAGS] === 0x58));
    const ack = m.log.slice(logBefore).find((t) => t.from === a && t.frame[OFF.FLAGS] === 0x58);
    expect(ack, "ACK transmitted").toBeDefined();
    expect(hex(ack!.frame.subarray(OFF.DEST, OFF.DEST + 8))).toBe(frameId(sealed.frame));
    expect(ref.openAck(ack!.frame, sealed.ackKey)).toEqual({ reason: DROP.NONE, value: { msgId: 1 } });
    expect(node.memoryBytes()).toBe(memory);
    console.log(`bounds: ${N_ID} announces, ${N_SENDERS} channel senders, ${N_STORM} storm frames: relayed ${relayed}, ` +
      `queue refused ${refused}, no hops left ${exhausted}, sent ${sentStorm}, max queued ${maxQueued}, ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`);
  });
});

describe("duty cycle under a flood", () => {
  it("never exceeds 1 % (36,000 ms) of airtime in any rolling hour of a 2-hour flood, deferring instead", async () => {
    const seed = 0xd0_7c_1e;
    const rng = new Rng(seed);
    const config = { ...DEFAULT_CONFIG, dutyCyclePermille: 10 };
    const m = new IdealMedium(config, seed);
    const a = await m.addNode("target");
    const node = m.nodes[a];
    const t0 = m.nowMs;
    // A relayable frame every second for two hours: far more than 1 % of airtime could carry.
    let handed = 0;
    while (m.nowMs < t0 + 2 * HOUR) {
      const frame = floodFrame(rng, 1);
      expect(m.act(a, (n) => n.receive(frame, -110, -5)), `seed ${seed}`).toBe(0);
      handed++;
      m.run(1000);
    }
    m.run(10 * 60_000); // let the last transmission end
    const mine = m.log.filter((t) => t.from === a).map((t) => ({ start: t.startMs, end: t.endMs, len: t.frame.length }));
    const budget = 36_000;
    const worst = worstHourMs(mine);
    expect(worst, `worst rolling hour (seed ${seed})`).toBeLessThanOrEqual(budget);
    // The node did use its budget (not just stay silent), and said why it held frames back.
    const total = mine.reduce((s, t) => s + t.end - t.start, 0);
    expect(total).toBeGreaterThan(1.5 * budget);
    expect(node.counter(C.DUTY_DEFERRALS)).toBeGreaterThan(0);
    expect(node.counter(C.QUEUE_DROPS)).toBeGreaterThan(0);
    // Its own airtime counter agrees with the medium's (rounded up to whole ms per frame).
    const medium = mine.reduce((s, t) => s + loraAirtimeMs(t.len, config.sf, config.bwHz, config.cr, config.preambleSymbols), 0);
    expect(node.counter(C.TX_AIRTIME_MS)).toBeGreaterThanOrEqual(Math.floor(medium));
    expect(node.counter(C.TX_AIRTIME_MS)).toBeLessThanOrEqual(Math.ceil(medium) + mine.length);
    console.log(`duty: ${handed} frames handed in, ${mine.length} sent, worst hour ${worst.toFixed(0)} ms of ${budget}, ` +
      `deferrals ${node.counter(C.DUTY_DEFERRALS)}`);
  });
});
