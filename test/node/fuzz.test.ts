// Fuzzing node_receive: any byte string handed in as a received frame
// (random, truncated, oversized, replayed, forged, a hop count at the maximum)
// is dropped and counted by reason; the core never traps, never grows its
// memory, never delivers anything twice, and keeps working afterwards.
//
// The target is a real node (node.wasm through NodeHost) that has a contact,
// has joined a channel and has a direct message waiting for its ACK, so every
// opening path (ANNOUNCE under K_mesh, CHANNEL under K_chan, DIRECT with X25519
// and K_pair, ACK with K_ack) is reachable. Its corpus is every frame of a real
// exchange with a second node, frames forged with the TypeScript reference of
// PROTOCOL.md (reference-protocol.ts) using keys read from the nodes' storage,
// and fresh valid messages from a third identity that only the reference knows.
//
// Accounting invariant (firmware/cores/node/index.ts, node.ts, stats.ts): every
// call counts counter 0 once. A string longer than 255 bytes is refused by
// node_receive itself (counter 15, status ERR_RANGE = -1; counter 2 TOO_LONG is
// never reached through the export). Any other string gets exactly the key-free
// verdict of PROTOCOL.md "Receiving" (reference checkFrame): reasons 1..7 are
// returned and counted once; 0 passes it on, and then at most one of the
// authenticated-stage counters 8..12 (drop reasons) or 13 (duplicate) moves.
// So over the run: c0 = N, c15 = #oversized, c1..c7 = the reference's verdicts,
// and c1..c13 + c15 + accepted = N, where an accepted input moved none of them.
//
// Reproduce a failure with FUZZ_SEED=<seed printed in the message>.
import { describe, expect, it } from "vitest";
import { IdealMedium } from "../helpers/ideal-medium.js";
import { DEFAULT_CONFIG, type NodeEvent } from "../../host-tools/node/protocol.js";
import {
  DROP, OFF, ReferenceProtocol, ackKey, channelKey, channelTag, checkFrame, concat, dmTag, identityFromSeed, le32,
  meshKey, messageKey, pairDirection, pairKey, pseudonym, x25519, x25519Base, type Identity,
} from "./reference-protocol.js";
import { Rng, hex } from "../helpers/seeded.js";

const SEED = Number(process.env.FUZZ_SEED ?? 0x0f22_5eed) >>> 0;
/** Inputs per run (at least 10^5). */
const N = 200_000;
const HOUR = 3_600_000;
/** Counters (firmware/cores/node/stats.ts): 0 received, 1..12 drop reasons, 13 duplicate, 15 oversized. */
const C_RX = 0, C_OVERSIZED = 15;
const REASONS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15];
const ERR_RANGE = -1;

const enc = new TextEncoder();
const epochOf = (ms: number) => Math.floor(ms / HOUR);


/** Writes a little-endian u32 where the frame is long enough (a truncated frame keeps its length). */
const setU32 = (f: Uint8Array, off: number, v: number) => {
  if (off + 4 <= f.length) new DataView(f.buffer, f.byteOffset, f.length).setUint32(off, v >>> 0, true);
};

type Special = { frame: Uint8Array; what: string; reason?: number; deliver?: "channel" | "direct" | "acked" };

describe("node_receive under fuzzing", () => {
  it(`drops and counts ${N} random, mutated, replayed and forged frames without trapping, growing or delivering twice`, async () => {
    const started = performance.now();
    const rng = new Rng(SEED);
    const why = (s: string) => `${s} (FUZZ_SEED=${SEED})`;

    // ---------------------------------------------------------------------
    // A real exchange between A (the target) and B, through the ideal medium.
    const m = new IdealMedium({ ...DEFAULT_CONFIG, dutyCyclePermille: 0 }, SEED);
    const A = await m.addNode("target");
    const B = await m.addNode("peer");
    m.link(A, B, 0);
    const node = m.nodes[A];
    const PASS = "fuzz channel passphrase 3b9f0c1e";
    for (const i of [A, B]) m.act(i, (n) => n.joinChannel(0, "fuzz", PASS));
    m.act(A, (n) => n.announce()); m.run(60_000);
    m.act(B, (n) => n.announce()); m.run(60_000);
    const identityEvent = (i: number) => m.events(i).find((e) => e.type === "identity") as Extract<NodeEvent, { type: "identity" }>;
    const idA = identityEvent(A).contactId, idB = identityEvent(B).contactId;
    const acked = (i: number, ref: number) => m.events(i).some((e) => e.type === "delivery" && e.ref === ref && e.state === "acked");
    m.act(B, (n) => n.sendChannel(0, 1, "hello channel")); m.run(30_000);
    m.act(A, (n) => n.sendChannel(0, 2, "hello back")); m.run(30_000);
    m.act(B, (n) => n.sendDirect(idA, 3, "hello direct")); m.run(120_000, () => acked(B, 3));
    m.act(A, (n) => n.sendDirect(idB, 4, "direct back")); m.run(120_000, () => acked(A, 4));
    expect(acked(B, 3) && acked(A, 4), why("setup exchange")).toBe(true);
    expect(m.events(A).filter((e) => e.type === "channel" || e.type === "direct")).toHaveLength(2);

    // Keys, read as an attacker with both seeds would (the reference recomputes everything else).
    const ref = await ReferenceProtocol.create();
    const kMesh = meshKey(enc.encode(DEFAULT_CONFIG.meshName));
    const kChan = channelKey(enc.encode("fuzz"), enc.encode(PASS));
    const idenA = identityFromSeed(m.storage[A].get("id.seed")!);
    const idenB = identityFromSeed(m.storage[B].get("id.seed")!);
    expect(hex(idenA.ed25519Pub.subarray(0, 8))).toBe(idA);
    const prekeyA = m.storage[A].get("prekeys")!.slice(32, 64);
    const prekeySecretB = m.storage[B].get("prekeys")!.slice(0, 32);

    // A direct message from A to B that stays pending during the run (B is cut off), so ACKs reach K_ack.
    m.setLink(A, B, false);
    const logMark = m.log.length;
    m.act(A, (n) => n.sendDirect(idB, 5, "pending during the fuzz"));
    m.run(5_000);
    const pending = m.log.slice(logMark).find((t) => t.from === A && t.frame[OFF.FLAGS] === 0x50)!.frame;
    const kPairAB = pairKey(idenB, idenA.x25519Pub)!;
    const kMsg = messageKey(x25519(prekeySecretB, pending.subarray(OFF.BODY, OFF.BODY + 32))!, kPairAB,
      pending.subarray(OFF.NONCE, OFF.NONCE + 24));
    const openedPending = ref.openDirectWithKey(pending, kMsg);
    expect(openedPending.reason).toBe(DROP.NONE);
    const pendingMsgId = openedPending.value!.msgId;
    const kAck = ackKey(kMsg);
    const pendingId = pending.subarray(OFF.NONCE, OFF.NONCE + 8);

    // A third identity, C, known only to the reference: it announces itself, then writes during the run.
    const idenC: Identity = identityFromSeed(rng.bytes(32));
    const idC = hex(idenC.ed25519Pub.subarray(0, 8));
    const epoch = epochOf(m.nowMs);
    const unixS = () => Math.floor(m.nowMs / 1000);
    expect(node.receive(ref.sealAnnounce(7, kMesh, idenC, x25519Base(rng.bytes(32)), epoch, unixS(), enc.encode("C"), rng.bytes(32)), -100, 0)).toBe(0);
    expect(m.events(A).at(-1)).toMatchObject({ type: "contact", contactId: idC });
    const kPairCA = pairKey(idenC, idenA.x25519Pub)!;
    const dirCA = pairDirection(idenC.x25519Pub, idenA.x25519Pub);
    const tagCA = dmTag(kPairCA, epoch, dirCA);
    const tagBA = dmTag(kPairAB, epoch, pairDirection(idenB.x25519Pub, idenA.x25519Pub));
    const tagChan = channelTag(kChan, epoch);
    const myPseudonyms = [pseudonym(idenA, epoch), pseudonym(idenA, epoch - 1)];

    // ---------------------------------------------------------------------
    // Special inputs: forgeries with a known verdict, and fresh valid messages from C (delivered once each).
    const specials: Special[] = [];
    const cParts = (i: number, x25519Pub = idenC.x25519Pub, ed = idenC) => ({
      ed25519Pub: ed.ed25519Pub, x25519Pub, prekeyPub: rng.bytes(32), prekeyEpoch: epoch, unixS: unixS() + i, name: enc.encode("C"),
    });
    const signed = (seed: Uint8Array, body120: Uint8Array) => ref.crypto.ed25519.sign(seed, concat(enc.encode("outcaxt/v1 announce"), body120));
    const K = 15;
    for (let i = 0; i < K; i++) {
      // ANNOUNCE: a signature that does not verify; a name length over 15 (signed); non-zero tail bytes; another mesh's key.
      const p = cParts(i + 1);
      const badSig = ReferenceProtocol.announceBody(p, rng.bytes(64));
      specials.push({ frame: ref.sealAnnounceBody(7, kMesh, badSig, rng.bytes(32)), what: "announce, bad signature", reason: DROP.BAD_SIGNATURE });
      const longName = ReferenceProtocol.announceSigned(p); longName[104] = 20;
      specials.push({ frame: ref.sealAnnounceBody(7, kMesh, concat(longName, signed(idenC.ed25519Seed, longName), new Uint8Array(13)), rng.bytes(32)),
        what: "announce, name length 20", reason: DROP.BAD_CONTENT });
      const tail = ReferenceProtocol.announceBody(p, signed(idenC.ed25519Seed, ReferenceProtocol.announceSigned(p))); tail[190] = 1;
      specials.push({ frame: ref.sealAnnounceBody(7, kMesh, tail, rng.bytes(32)), what: "announce, non-zero tail", reason: DROP.BAD_CONTENT });
      specials.push({ frame: ref.sealAnnounce(7, meshKey(enc.encode("another mesh")), idenC, rng.bytes(32), epoch, unixS(), enc.encode("C"), rng.bytes(32)),
        what: "announce, other mesh", reason: DROP.AUTH_FAILED });
      // ANNOUNCE of a new, correctly signed identity whose X25519 key is low order (u = 0): no pair key.
      const edSeed = rng.bytes(32);
      const lp = { ...cParts(0, new Uint8Array(32)), ed25519Pub: ref.crypto.ed25519.publicKey(edSeed) };
      specials.push({ frame: ref.sealAnnounceBody(7, kMesh, ReferenceProtocol.announceBody(lp, signed(edSeed, ReferenceProtocol.announceSigned(lp))), rng.bytes(32)),
        what: "announce, low-order X25519 key", reason: DROP.BAD_KEY });
      // CHANNEL: authentic but a length field past the body; authentic but non-zero padding; a changed ciphertext byte.
      const pt = ReferenceProtocol.channelPlaintext(idenC.ed25519Pub.subarray(0, 8), 1000 + i, unixS(), enc.encode("x"));
      const badLen = pt.slice(); badLen[16] = 40;
      specials.push({ frame: ref.sealChannel(7, kChan, epoch, idenC.ed25519Pub, 0, 0, new Uint8Array(0), rng.bytes(24), badLen),
        what: "channel, length field past the body", reason: DROP.BAD_CONTENT });
      const badPad = concat(pt, new Uint8Array(48 - pt.length)); badPad[47] = 1;
      specials.push({ frame: ref.sealChannel(7, kChan, epoch, idenC.ed25519Pub, 0, 0, new Uint8Array(0), rng.bytes(24), badPad),
        what: "channel, non-zero padding", reason: DROP.BAD_CONTENT });
      const flipped = ref.sealChannel(7, kChan, epoch, idenC.ed25519Pub.subarray(0, 8), 2000 + i, unixS(), enc.encode("forged"), rng.bytes(24));
      flipped[OFF.BODY + rng.int(flipped.length - OFF.BODY)] ^= 1 << rng.int(8);
      specials.push({ frame: flipped, what: "channel, ciphertext bit flipped", reason: DROP.AUTH_FAILED });
      // DIRECT with C's tag: an all-zero (low-order) ephemeral key; a wrong pair key; authentic but a bad length field.
      const lowE = concat(new Uint8Array(OFF.BODY), new Uint8Array(32), rng.bytes(80 + 16));
      lowE.set(ref.sealDirect(7, kPairCA, dirCA, epoch, prekeyA, 1, 0, new Uint8Array(0), rng.bytes(56))!.frame.subarray(0, OFF.BODY));
      specials.push({ frame: lowE, what: "direct, low-order ephemeral key", reason: DROP.BAD_KEY });
      const wrongPair = ref.sealDirect(7, rng.bytes(32), dirCA, epoch, prekeyA, 3000 + i, unixS(), enc.encode("?"), rng.bytes(56))!.frame;
      wrongPair.set(tagCA, OFF.DEST);
      specials.push({ frame: wrongPair, what: "direct, wrong pair key", reason: DROP.AUTH_FAILED });
      const dpt = ReferenceProtocol.directPlaintext(4000 + i, unixS(), enc.encode("y")); dpt[8] = 100;
      specials.push({ frame: ref.sealDirect(7, kPairCA, dirCA, epoch, prekeyA, 0, 0, new Uint8Array(0), rng.bytes(56), dpt)!.frame,
        what: "direct, length field past the body", reason: DROP.BAD_CONTENT });
      // ACK of the pending message: wrong key; authentic but another msg id; authentic but non-zero padding.
      specials.push({ frame: ref.sealAck(7, rng.bytes(32), pendingId, pendingMsgId, rng.bytes(24)), what: "ack, wrong key", reason: DROP.AUTH_FAILED });
      specials.push({ frame: ref.sealAck(7, kAck, pendingId, pendingMsgId + 1, rng.bytes(24)), what: "ack, other msg id", reason: DROP.BAD_CONTENT });
      specials.push({ frame: ref.sealAck(7, kAck, pendingId, 0, rng.bytes(24), concat(le32(pendingMsgId), new Uint8Array(43), Uint8Array.of(9))),
        what: "ack, non-zero padding", reason: DROP.BAD_CONTENT });
    }
    const M = 20;
    for (let i = 1; i <= M; i++) {
      specials.push({ frame: ref.sealChannel(7, kChan, epoch, idenC.ed25519Pub.subarray(0, 8), i, unixS(), enc.encode(`C says ${i}`), rng.bytes(24)),
        what: `channel message ${i} from C`, deliver: "channel" });
      specials.push({ frame: ref.sealDirect(7, kPairCA, dirCA, epoch, prekeyA, i, unixS(), enc.encode(`C writes ${i}`), rng.bytes(56))!.frame,
        what: `direct message ${i} from C`, deliver: "direct" });
    }
    for (const s of specials) expect(checkFrame(s.frame), s.what).toBe(DROP.NONE);
    // Positions: shuffled over the first 85 % of the run (ACK forgeries must come while the message is pending);
    // the one valid ACK at 90 %, its replays after.
    const at = new Map<number, Special>();
    for (const s of specials) {
      let p: number;
      do p = rng.int(Math.floor(N * 0.85)); while (at.has(p));
      at.set(p, s);
    }
    const validAck = ref.sealAck(7, kAck, pendingId, pendingMsgId, rng.bytes(24));
    at.set(Math.floor(N * 0.9), { frame: validAck, what: "the valid ACK of the pending message", deliver: "acked" });

    // ---------------------------------------------------------------------
    // Generators.
    const pool: Uint8Array[] = [];
    const seenPool = new Set<string>();
    const addPool = (f: Uint8Array) => { const k = hex(f); if (!seenPool.has(k)) { seenPool.add(k); pool.push(f.slice()); } };
    for (const t of m.log) addPool(t.frame);
    const recorded = pool.length;
    const ourTags = [tagChan, tagBA, tagCA, pendingId];

    const randomBytesInput = () => rng.bytes(rng.chance(0.002) ? 301 + rng.int(700) : rng.int(301));
    /** A header that passes every key-free check, a random body, and often one of our expected tags. */
    const almostValid = () => {
      const type = rng.int(4);
      const len = type === 0 ? 255 : type === 3 ? 106 : rng.pick([106, 170, 255]);
      const f = rng.bytes(len);
      const limit = 1 + rng.int(7);
      f[OFF.FLAGS] = 0x40 | (type << 3);
      f[OFF.HOPS] = (limit << 4) | rng.int(limit + 1);
      if (rng.chance(0.5)) f.set(rng.pick(ourTags), OFF.DEST);
      if (rng.chance(0.3)) setU32(f, OFF.NEXT_HOP, rng.chance(0.5) ? 0 : rng.pick(myPseudonyms));
      return f;
    };
    const mutateHeader = (f: Uint8Array) => {
      switch (rng.int(9)) {
        case 0: { const l = 1 + rng.int(7); f[OFF.HOPS] = (l << 4) | l; break; }             // hops at the maximum
        case 1: { const l = rng.int(8); f[OFF.HOPS] = (l << 4) | (l + 1 + rng.int(15 - l)); break; } // hops left > limit
        case 2: f[OFF.HOPS] = (rng.pick([0, 8, 9, 15]) << 4) | rng.int(16); break;             // limit 0 or > 7
        case 3: f[OFF.FLAGS] = 0x40 | (rng.int(8) << 3); break;                                 // every type value
        case 4: f[OFF.FLAGS] = (rng.int(4) << 6) | (f[OFF.FLAGS] & 0x3f) | (rng.chance(0.5) ? 1 << rng.int(3) : 0); break; // version, reserved bits
        case 5: setU32(f, OFF.NEXT_HOP, rng.pick([0, rng.u32(), ...myPseudonyms])); break;
        case 6: setU32(f, OFF.PREV_HOP, rng.u32()); break;
        case 7: if (f.length >= OFF.BODY) f.set(rng.pick(ourTags), OFF.DEST); break;
        default: if (f.length >= OFF.BODY) f[OFF.NONCE + rng.int(24)] ^= 1 << rng.int(8); break;  // new frame id or AAD
      }
      return f;
    };
    const mutate = (base: Uint8Array): Uint8Array => {
      let f: Uint8Array = base.slice();
      const n = 1 + rng.int(3);
      for (let k = 0; k < n; k++) {
        switch (rng.int(7)) {
          case 0: for (let j = 1 + rng.int(8); j > 0 && f.length; j--) f[rng.int(f.length)] ^= 1 << rng.int(8); break;
          case 1: if (f.length) f[rng.int(f.length)] = rng.u32() & 0xff; break;
          case 2: f = f.slice(0, rng.int(f.length + 1)); break;                                  // truncated
          case 3: f = concat(f, rng.bytes(1 + rng.int(Math.max(1, 300 - f.length)))); break;      // extended (often > 255)
          case 4: { const o = rng.pick(pool); f = concat(f.subarray(0, OFF.BODY), o.subarray(Math.min(OFF.BODY, o.length))); break; } // spliced
          default: f = mutateHeader(f); break;
        }
      }
      return f;
    };
    /** An exact replay, or one whose unauthenticated relay fields were rewritten as a relay would. */
    const replay = (base: Uint8Array) => {
      const f = base.slice();
      if (rng.chance(0.5) && f.length >= OFF.BODY) {
        const left = f[OFF.HOPS] & 15;
        if (left > 0) f[OFF.HOPS] = (f[OFF.HOPS] & 0xf0) | rng.int(left);
        setU32(f, OFF.NEXT_HOP, rng.chance(0.7) ? 0 : rng.pick(myPseudonyms));
        setU32(f, OFF.PREV_HOP, rng.u32());
      }
      return f;
    };

    // ---------------------------------------------------------------------
    // The run.
    const memory = node.memoryBytes();
    const before = Array.from({ length: 40 }, (_, i) => node.counter(i));
    const eventsBefore = node.events.length;
    const counts = new Map<number, number>();
    let oversized = 0, accepted = 0;
    const expectedKeyFree = new Map<number, number>();
    const kinds = { random: 0, almostValid: 0, mutated: 0, replayed: 0, special: 0 };
    const delivered: NodeEvent[] = [];
    let prev = before.slice();
    for (let i = 0; i < N; i++) {
      let frame: Uint8Array;
      const special = at.get(i);
      if (special) { frame = special.frame; kinds.special++; }
      else {
        const r = rng.int(100);
        if (r < 30) { frame = randomBytesInput(); kinds.random++; }
        else if (r < 40) { frame = almostValid(); kinds.almostValid++; }
        else if (r < 82) { frame = mutate(rng.pick(pool)); kinds.mutated++; }
        else { frame = replay(rng.pick(pool)); kinds.replayed++; }
      }
      const evBefore = node.events.length;
      let ret: number;
      try {
        ret = node.receive(frame, -120 + rng.int(100), -20 + rng.int(30));
      } catch (e) {
        throw new Error(why(`input ${i} (${frame.length} bytes ${hex(frame)}) threw ${String(e)}`));
      }
      const now = REASONS.map((id) => node.counter(id));
      const rx = node.counter(C_RX);
      const moved = REASONS.filter((id, k) => now[k] !== prev[id]);
      const where = () => why(`input ${i}: ${special?.what ?? "generated"} ${frame.length} bytes ${hex(frame.subarray(0, 42))}…, returned ${ret}, counters moved [${moved}]`);
      if (rx !== prev[C_RX] + 1) throw new Error(where() + `: counter 0 went ${prev[C_RX]} -> ${rx}`);
      if (frame.length > 255) {
        oversized++;
        if (ret !== ERR_RANGE || moved.length !== 1 || moved[0] !== C_OVERSIZED) throw new Error(where() + ": oversized input");
      } else {
        const want = checkFrame(frame);
        expectedKeyFree.set(want, (expectedKeyFree.get(want) ?? 0) + 1);
        if (ret !== want) throw new Error(where() + `: the reference's key-free verdict is ${want}`);
        if (want !== DROP.NONE && (moved.length !== 1 || moved[0] !== want)) throw new Error(where() + ": key-free drop not counted once");
        if (want === DROP.NONE && moved.some((id) => id < 8 || id === C_OVERSIZED)) throw new Error(where() + ": key-free counter moved");
        if (moved.length > 1) throw new Error(where() + ": more than one reason counted");
        if (want === DROP.NONE && moved.length === 0) accepted++;
      }
      for (const id of moved) {
        const k = REASONS.indexOf(id);
        if (now[k] !== prev[id] + 1) throw new Error(where() + `: counter ${id} jumped by ${now[k] - prev[id]}`);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      // Memory never grows.
      if (node.memoryBytes() !== memory) throw new Error(where() + `: memory ${memory} -> ${node.memoryBytes()}`);
      // App events: only the first arrival of a fresh valid message, never anything for a replay or forgery.
      const events = node.events.slice(evBefore).filter((e) => e.type !== "delivery" || e.state !== "sent");
      if (special?.reason !== undefined && (moved.length !== 1 || moved[0] !== special.reason)) {
        throw new Error(where() + `: expected reason ${special.reason}`);
      }
      if (special?.deliver) {
        if (events.length !== 1) throw new Error(where() + `: expected one ${special.deliver} event, got ${JSON.stringify(events)}`);
        delivered.push(events[0]);
        addPool(frame);
      } else if (events.length) {
        throw new Error(where() + `: unexpected app event ${JSON.stringify(events)}`);
      } else if (special) {
        addPool(frame);
      }
      for (let k = 0; k < REASONS.length; k++) prev[REASONS[k]] = now[k];
      prev[C_RX] = rx;
      // Time passes (0.4 ms per input, 80 s in all, well inside the pending message's retry schedule): the node
      // relays, retries and sends into the void.
      if (i % 100 === 99) {
        m.pollNode(A);
        m.run(40);
        for (const id of [C_RX, ...REASONS]) {
          if (node.counter(id) !== prev[id]) throw new Error(why(`counter ${id} moved while no frame was handed in (after input ${i})`));
        }
      }
    }

    // ---------------------------------------------------------------------
    // The accounting over the whole run.
    const d = (id: number) => node.counter(id) - before[id];
    expect(d(C_RX), why("counter 0 counts every input")).toBe(N);
    expect(d(C_OVERSIZED), why("counter 15 counts every input over 255 bytes")).toBe(oversized);
    expect(d(DROP.TOO_LONG), why("TOO_LONG is not reachable through node_receive")).toBe(0);
    for (let r = 1; r <= 7; r++) expect(d(r), why(`key-free reason ${r}`)).toBe(expectedKeyFree.get(r) ?? 0);
    const passed = expectedKeyFree.get(DROP.NONE) ?? 0;
    const afterKeyFree = [8, 9, 10, 11, 12, 13].reduce((s, r) => s + d(r), 0);
    expect(afterKeyFree, why("authenticated-stage drops and duplicates come from inputs that passed the key-free checks")).toBeLessThanOrEqual(passed);
    expect(REASONS.reduce((s, r) => s + d(r), 0) + accepted, why("every input is accepted or counted once")).toBe(N);
    // Every reason was exercised (TOO_LONG aside).
    for (const r of REASONS.filter((x) => x !== DROP.TOO_LONG)) expect(d(r), why(`counter ${r} exercised`)).toBeGreaterThan(0);

    // Replays never delivered a second event: each of the M channel and M direct messages from C once (in the
    // shuffled order they were first handed in), and one ACK.
    expect(delivered.filter((e) => e.type === "channel").map((e) => (e as { seq: number }).seq).sort((x, y) => x - y)).toEqual(Array.from({ length: M }, (_, k) => k + 1));
    expect(delivered.filter((e) => e.type === "direct").map((e) => (e as { msgId: number }).msgId).sort((x, y) => x - y)).toEqual(Array.from({ length: M }, (_, k) => k + 1));
    expect(delivered.filter((e) => e.type === "channel").every((e) => (e as { senderId: string }).senderId === idC)).toBe(true);
    expect(delivered.filter((e) => e.type === "direct").every((e) => (e as { contactId: string }).contactId === idC)).toBe(true);
    expect(node.events.slice(eventsBefore).filter((e) => e.type === "delivery" && e.ref === 5).map((e) => (e as { state: string }).state))
      .toEqual(["acked"]);
    expect(node.memoryBytes()).toBe(memory);

    // ---------------------------------------------------------------------
    // Still working: B (the real node) reaches A and A reaches B.
    m.setLink(A, B, true);
    m.run(60_000);
    const aEvents = m.events(A).length;
    expect(m.act(B, (n) => n.sendChannel(0, 10, "after the storm"))).toBe(0);
    m.run(60_000, () => m.events(A).slice(aEvents).some((e) => e.type === "channel"));
    expect(m.events(A).slice(aEvents).filter((e) => e.type === "channel")).toEqual([
      expect.objectContaining({ senderId: idB, text: "after the storm" })]);
    expect(m.act(B, (n) => n.sendDirect(idA, 11, "still alive?"))).toBe(0);
    m.run(300_000, () => acked(B, 11));
    expect(m.events(A).slice(aEvents).filter((e) => e.type === "direct")).toEqual([
      expect.objectContaining({ contactId: idB, text: "still alive?" })]);
    expect(acked(B, 11), why("B's message acknowledged")).toBe(true);
    expect(m.act(A, (n) => n.sendDirect(idB, 12, "me too"))).toBe(0);
    m.run(300_000, () => acked(A, 12));
    expect(acked(A, 12), why("A's message acknowledged")).toBe(true);
    expect(m.events(B).filter((e) => e.type === "direct").at(-1)).toMatchObject({ contactId: idA, text: "me too" });
    expect(node.memoryBytes()).toBe(memory);

    const table = REASONS.map((r) => `${r}:${d(r)}`).join(" ");
    console.log(`fuzz seed ${SEED}: ${N} inputs (${JSON.stringify(kinds)}; ${recorded} recorded frames, ${specials.length + 1} forged or fresh), ` +
      `oversized ${oversized}, passed key-free checks ${passed}, accepted ${accepted}; counters ${table}; ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`);
  });
});
