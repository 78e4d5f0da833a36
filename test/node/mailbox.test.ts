// Store-and-forward (firmware/STORAGE.md "Mail", firmware/cores/node/mailbox.ts):
// several node.wasm instances on the ideal in-process medium; a recipient that is
// switched off, keepers that reboot or die, junk deposits, forged receipts, expiry.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { IdealMedium, announcedMesh } from "../helpers/ideal-medium.js";
import type { NodeEvent } from "../../host-tools/node/protocol.js";
import { ReferenceProtocol, concat, le32, meshKey } from "./reference-protocol.js";

/** Counter ids (firmware/cores/node/stats.ts). */
const C = {
  DELIVERED_DIRECT: 20, DIRECT_FAILED: 33, MAIL_DEPOSITED: 44, MAIL_KEPT: 45, MAIL_DELIVERIES: 46, MAIL_RECEIVED: 47,
  MAIL_RECEIPTS: 48, MAIL_RELEASED: 49, MAIL_EXPIRED: 50, MAIL_REFUSED: 51, STORE_BAD: 52,
};
const TYPE_STORE = 4;
const frameType = (f: Uint8Array) => (f[0] >> 3) & 7;

function idOf(m: IdealMedium, i: number): string {
  const e = m.events(i).filter((x) => x.type === "identity").at(-1) as Extract<NodeEvent, { type: "identity" }>;
  return e.contactId;
}
const deliveries = (m: IdealMedium, i: number, ref: number) =>
  m.events(i).filter((e) => e.type === "delivery" && e.ref === ref) as Array<Extract<NodeEvent, { type: "delivery" }>>;
const states = (m: IdealMedium, i: number, ref: number) => [...new Set(deliveries(m, i, ref).map((e) => e.state))];
const directs = (m: IdealMedium, i: number) => m.events(i).filter((e) => e.type === "direct") as Array<Extract<NodeEvent, { type: "direct" }>>;
const mailRecords = (m: IdealMedium, i: number) => [...m.storage[i].map].filter(([k, v]) => k.startsWith("mail.") && v.length > 1);

const mesh = announcedMesh;

/** Sender 0 with neighbours 1..4 (a clique), recipient 5 behind node 4. */
const CLUSTER: Array<[number, number]> = [[0, 1], [0, 2], [0, 3], [0, 4], [1, 2], [2, 3], [3, 4], [1, 4], [4, 5]];

/** Sends a direct message and runs until the sender reports "stored" by `keepers` keepers (or a final state). */
function sendToAbsent(m: IdealMedium, from: number, to: number, ref: number, text: string, keepers = 3): void {
  expect(m.act(from, (n) => n.sendDirect(idOf(m, to), ref, text))).toBe(0);
  m.run(3_600_000, () => deliveries(m, from, ref).some((e) => (e.state === "stored" && e.attempts >= keepers) || e.state === "failed"));
}

describe("store-and-forward", () => {
  it("keeps a message for a switched-off recipient on 3 keepers and delivers it when the recipient is back", async () => {
    const m = await mesh(6, CLUSTER);
    m.kill(5);
    sendToAbsent(m, 0, 5, 1, "while you were out");
    expect(states(m, 0, 1)).toEqual(["sent", "stored"]);
    expect(Math.max(...deliveries(m, 0, 1).map((e) => e.attempts))).toBe(3);
    const keepers = [1, 2, 3, 4].filter((i) => m.nodes[i].counter(C.MAIL_KEPT) === 1);
    expect(keepers).toHaveLength(3);
    for (const k of keepers) expect(mailRecords(m, k)).toHaveLength(1);
    expect(m.nodes[0].counter(C.DIRECT_FAILED)).toBe(0);

    // An hour later the recipient is switched on again: it announces at boot.
    m.run(3_600_000);
    await m.reboot(5);
    m.run(600_000, () => states(m, 0, 1).includes("delivered"));
    expect(directs(m, 5).map((d) => d.text)).toEqual(["while you were out"]);
    expect(directs(m, 5)[0].contactId).toBe(idOf(m, 0));
    expect(states(m, 0, 1)).toEqual(["sent", "stored", "delivered"]);
    expect(m.nodes[5].counter(C.MAIL_RECEIVED)).toBe(1);
    m.run(120_000);
    // Every keeper heard the receipt and dropped its copy, in memory and in storage.
    for (const k of keepers) {
      expect(m.nodes[k].counter(C.MAIL_RELEASED)).toBe(1);
      expect(mailRecords(m, k)).toHaveLength(0);
    }
  });

  it("survives keepers rebooting and one keeper dying while the recipient is away", async () => {
    const m = await mesh(6, CLUSTER);
    m.kill(5);
    sendToAbsent(m, 0, 5, 1, "first");
    sendToAbsent(m, 0, 5, 2, "second");
    // Each message has its own 3 keepers among nodes 1..4: the most loaded ones reboot
    // (a fresh core: only their storage survives), then one keeper dies for good.
    const keepers = [1, 2, 3, 4].filter((i) => mailRecords(m, i).length > 0)
      .sort((a, b) => mailRecords(m, b).length - mailRecords(m, a).length);
    expect(keepers.length).toBeGreaterThanOrEqual(3);
    const held = keepers.map((k) => mailRecords(m, k).length);
    await m.reboot(keepers[0]);
    await m.reboot(keepers[1]);
    m.kill(keepers[2]);
    m.run(30 * 60_000);
    expect(mailRecords(m, keepers[0]).length).toBe(held[0]);
    expect(mailRecords(m, keepers[1]).length).toBe(held[1]);
    await m.reboot(5);
    m.run(600_000, () => states(m, 0, 1).includes("delivered") && states(m, 0, 2).includes("delivered"));
    expect(directs(m, 5).map((d) => d.text).sort()).toEqual(["first", "second"]);
    expect(m.nodes[5].counter(C.DELIVERED_DIRECT)).toBe(2);
  });

  it("a keeper cannot read what it keeps: no text, no sender key in its records or in the deposits", async () => {
    const m = await mesh(6, CLUSTER);
    m.kill(5);
    const before = m.log.length;
    sendToAbsent(m, 0, 5, 1, "secret meeting at the mill");
    const text = Buffer.from("secret meeting at the mill");
    const identity = (i: number) => m.events(i).find((e) => e.type === "identity") as Extract<NodeEvent, { type: "identity" }>;
    const senderKey = Buffer.from(identity(0).edPublic);
    const recipientKey = Buffer.from(identity(5).xPublic);
    const deposits = m.log.slice(before).filter((t) => frameType(t.frame) === TYPE_STORE).map((t) => Buffer.from(t.frame));
    expect(deposits.length).toBeGreaterThan(0);
    for (const k of [1, 2, 3, 4]) {
      for (const [, v] of mailRecords(m, k)) {
        expect(Buffer.from(v).includes(text)).toBe(false);
        expect(Buffer.from(v).includes(senderKey.subarray(0, 8))).toBe(false);
        expect(Buffer.from(v).includes(recipientKey.subarray(0, 8))).toBe(false);
      }
    }
    for (const f of deposits) {
      expect(f.includes(text) || f.includes(senderKey.subarray(0, 8)) || f.includes(recipientKey.subarray(0, 8))).toBe(false);
    }
  });

  it("a forged receipt releases nothing; the real one does", async () => {
    const m = await mesh(6, CLUSTER);
    m.kill(5);
    const before = m.log.length;
    sendToAbsent(m, 0, 5, 1, "hold this");
    const keeper = [1, 2, 3, 4].find((i) => mailRecords(m, i).length > 0)!;
    // The mail id is the dest of the deposit frames; a RECEIPT with a random drop key is refused.
    const deposit = m.log.slice(before).find((t) => frameType(t.frame) === TYPE_STORE && t.from === 0)!.frame;
    const mailId = deposit.slice(34, 42);
    const ref = await ReferenceProtocol.create();
    const forged = ref.sealStore(3, MESH_KEY, mailId, 3, new Uint8Array(randomBytes(32)), new Uint8Array(randomBytes(24)));
    const bad = m.nodes[keeper].counter(C.STORE_BAD);
    m.act(keeper, (n) => n.receive(forged, -90, 5));
    expect(m.nodes[keeper].counter(C.STORE_BAD)).toBe(bad + 1);
    expect(mailRecords(m, keeper)).toHaveLength(1);
    await m.reboot(5);
    m.run(600_000, () => states(m, 0, 1).includes("delivered"));
    m.run(120_000);
    expect(mailRecords(m, keeper)).toHaveLength(0);
  });

  it("junk deposits cannot push out mail already kept; the quota and the rate limit refuse them", async () => {
    const m = await mesh(6, CLUSTER);
    m.kill(5);
    sendToAbsent(m, 0, 5, 1, "real mail");
    const keeper = [1, 2, 3, 4].find((i) => mailRecords(m, i).length > 0)!;
    const ref = await ReferenceProtocol.create();
    const keptBefore = m.nodes[keeper].counter(C.MAIL_KEPT);
    const expiry = Math.floor(Date.UTC(2026, 10, 27) / 1000);
    // 60 well-formed deposits of the mesh (one part, 97 bytes), half of them to one mailbox tag.
    const sameBox = new Uint8Array(randomBytes(8));
    for (let j = 0; j < 60; j++) {
      const box = j % 2 === 0 ? sameBox : new Uint8Array(randomBytes(8));
      const content = concat(Uint8Array.of(0x01, 3), box, le32(490_000), le32(expiry), new Uint8Array(randomBytes(16)),
        Uint8Array.of(3), new Uint8Array(randomBytes(96)));
      const frame = ref.sealStore(3, MESH_KEY, new Uint8Array(randomBytes(8)), 1, content, new Uint8Array(randomBytes(24)));
      m.act(keeper, (n) => n.receive(frame, -90, 5));
      m.run(2_000);
    }
    m.run(5 * 60_000);
    expect(m.nodes[keeper].counter(C.MAIL_REFUSED)).toBeGreaterThan(0);
    // At most 8 new mails per 10 minutes, at most 6 per mailbox tag.
    expect(m.nodes[keeper].counter(C.MAIL_KEPT) - keptBefore).toBeLessThanOrEqual(8);
    expect(mailRecords(m, keeper).some(([, v]) => Buffer.from(v).includes(Buffer.from("real mail")))).toBe(false);
    expect(mailRecords(m, keeper).length).toBeGreaterThanOrEqual(1);
    await m.reboot(5);
    m.run(600_000, () => states(m, 0, 1).includes("delivered"));
    expect(directs(m, 5).map((d) => d.text)).toEqual(["real mail"]);
  });

  it("mail nobody collects expires after a day: keepers drop it, the sender learns it failed", async () => {
    const m = await mesh(6, CLUSTER);
    m.kill(5);
    sendToAbsent(m, 0, 5, 1, "too late");
    const keepers = [1, 2, 3, 4].filter((i) => mailRecords(m, i).length > 0);
    m.run(23 * 3_600_000);
    expect(keepers.every((k) => mailRecords(m, k).length === 1)).toBe(true);
    expect(states(m, 0, 1)).toEqual(["sent", "stored"]);
    m.run(2 * 3_600_000);
    for (const k of keepers) {
      expect(m.nodes[k].counter(C.MAIL_EXPIRED)).toBe(1);
      expect(mailRecords(m, k)).toHaveLength(0);
    }
    expect(states(m, 0, 1)).toEqual(["sent", "stored", "failed"]);
    expect(m.nodes[0].counter(C.DIRECT_FAILED)).toBe(1);
  });

  it("a rebooted node still knows its contacts and which messages it already delivered", async () => {
    const m = await mesh(3, [[0, 1], [1, 2]]);
    const CONTACTS = 30;
    expect(m.act(0, (n) => n.sendDirect(idOf(m, 2), 1, "before the reboot"))).toBe(0);
    m.run(600_000, () => states(m, 0, 1).includes("acked"));
    expect(m.nodes[2].counter(CONTACTS)).toBe(2);
    await m.reboot(2);
    m.run(60_000);
    expect(m.nodes[2].counter(CONTACTS)).toBe(2);
    expect(m.act(0, (n) => n.sendDirect(idOf(m, 2), 2, "after the reboot"))).toBe(0);
    m.run(600_000, () => states(m, 0, 2).includes("acked"));
    expect(directs(m, 2).map((d) => d.text)).toEqual(["before the reboot", "after the reboot"]);
  });

  it("malformed deposits are counted and ignored; nothing traps", async () => {
    const m = await mesh(2, [[0, 1]]);
    const ref = await ReferenceProtocol.create();
    const bad = m.nodes[1].counter(C.STORE_BAD);
    const cases = [
      concat(Uint8Array.of(0x01, 3)),                                    // too short
      concat(Uint8Array.of(0x21, 3), new Uint8Array(32 + 97)),           // part 2 of 1
      concat(Uint8Array.of(0x01, 3), new Uint8Array(32 + 50)),           // 50 bytes is no stored-frame size
      concat(Uint8Array.of(0x02, 3), new Uint8Array(32 + 100)),          // first of two parts must be 161 bytes
      concat(Uint8Array.of(0x01, 9), new Uint8Array(32 + 97)),           // copies above the maximum
    ];
    for (const content of cases) {
      m.act(1, (n) => n.receive(ref.sealStore(3, MESH_KEY, new Uint8Array(8), 1, content, new Uint8Array(randomBytes(24))), -90, 5));
    }
    m.act(1, (n) => n.receive(ref.sealStore(3, MESH_KEY, new Uint8Array(8), 2, new Uint8Array(3), new Uint8Array(randomBytes(24))), -90, 5));
    m.act(1, (n) => n.receive(ref.sealStore(3, MESH_KEY, new Uint8Array(8), 3, new Uint8Array(31), new Uint8Array(randomBytes(24))), -90, 5));
    m.act(1, (n) => n.receive(ref.sealStore(3, MESH_KEY, new Uint8Array(8), 9, new Uint8Array(5), new Uint8Array(randomBytes(24))), -90, 5));
    expect(m.nodes[1].counter(C.STORE_BAD)).toBe(bad + cases.length + 3);
    expect(m.nodes[1].counter(C.MAIL_KEPT)).toBe(0);
  });
});

const MESH_KEY = meshKey(new TextEncoder().encode("outcaxt"));
