// Regression: a contact that recently accepted a direct message is never evicted,
// so its replay window outlives every tag that could carry a replay. Before the
// fix, 32 fresh announces evicted it, a replayed announce re-created it with an
// empty window, and a replayed DIRECT frame was delivered a second time.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { IdealMedium } from "../helpers/ideal-medium.js";
import { DEFAULT_CONFIG, type NodeEvent } from "../../host-tools/node/protocol.js";
import { ReferenceProtocol, meshKey } from "./reference-protocol.js";

const enc = new TextEncoder();
const C_CONTACTS_FULL = 37;
const typeOf = (f: Uint8Array) => (f[0] >> 3) & 7;
const idOf = (m: IdealMedium, i: number) =>
  (m.events(i).find((e) => e.type === "identity") as Extract<NodeEvent, { type: "identity" }>).contactId;

describe("replay protection survives a flood of new identities", () => {
  it("does not deliver a replayed direct message after 32 fresh announces and a replayed announce", async () => {
    const m = new IdealMedium();
    const a = await m.addNode("a");
    const b = await m.addNode("b");
    m.link(a, b, 0);
    m.act(a, (n) => n.announce()); m.run(60_000);
    m.act(b, (n) => n.announce()); m.run(60_000);
    m.act(b, (n) => n.sendDirect(idOf(m, a), 1, "only once")); m.run(120_000);
    const directs = () => m.events(a).filter((e) => e.type === "direct");
    expect(directs()).toHaveLength(1);
    const annB = m.log.find((t) => t.from === b && typeOf(t.frame) === 0)!.frame;
    const dm = m.log.find((t) => t.from === b && typeOf(t.frame) === 2)!.frame;
    m.setLink(a, b, false);

    // 32 announces of fresh, correctly signed identities: the contact table (32) is full of strangers.
    const ref = await ReferenceProtocol.create();
    const kMesh = meshKey(enc.encode(DEFAULT_CONFIG.meshName));
    const unixS = Math.floor(m.nowMs / 1000);
    for (let i = 0; i < 32; i++) {
      const edSeed = randomBytes(32);
      const parts = {
        ed25519Pub: ref.crypto.ed25519.publicKey(edSeed), x25519Pub: randomBytes(32), prekeyPub: randomBytes(32),
        prekeyEpoch: Math.floor(m.nowMs / 3_600_000), unixS, name: enc.encode(`s${i}`),
      };
      const sig = ref.crypto.ed25519.sign(edSeed, new Uint8Array([...enc.encode("outcaxt/v1 announce"), ...ReferenceProtocol.announceSigned(parts)]));
      m.act(a, (n) => n.receive(ref.sealAnnounceBody(3, kMesh, ReferenceProtocol.announceBody(parts, sig), randomBytes(32)), -100, 0));
      m.run(5);
    }
    // b was held (it sent a direct message within the hold time): strangers evicted each other, not b.
    expect(m.act(a, (n) => n.sendDirect(idOf(m, b), 2, "b is still a contact"))).toBe(0);
    expect(m.nodes[a].counter(C_CONTACTS_FULL)).toBe(0);
    // Past the duplicate history's age, replay b's announce and b's direct frame.
    m.run(11 * 60_000);
    m.act(a, (n) => n.receive(annB, -100, 0));
    m.act(a, (n) => n.receive(dm, -100, 0));
    m.run(60_000);
    expect(directs()).toHaveLength(1);
  });
});
