// Several node.wasm instances wired through the ideal in-process medium.
import { describe, expect, it } from "vitest";
import { IdealMedium } from "../helpers/ideal-medium.js";
import type { NodeEvent } from "../../host-tools/node/protocol.js";

const C = { UNICAST_SENT: 28, FLOOD_SENT: 29, RELAYED: 18, ROUTES_LEARNED: 24, ROUTE_REPAIRS: 25, CONTACTS: 30, DELIVERED_DIRECT: 20 };

function idOf(m: IdealMedium, i: number): string {
  const e = m.events(i).find((x) => x.type === "identity") as Extract<NodeEvent, { type: "identity" }>;
  return e.contactId;
}

async function line(n: number): Promise<IdealMedium> {
  const m = new IdealMedium();
  for (let i = 0; i < n; i++) {
    await m.addNode(`n${i}`);
    if (i > 0) m.link(i - 1, i, 0);
  }
  // Nodes booted together announce together and, half-duplex, miss each other's
  // relays; ask each for an announce in turn, as a user would at setup.
  for (let i = 0; i < n; i++) {
    m.act(i, (node) => node.announce());
    m.run(60_000);
  }
  return m;
}

const delivered = (m: IdealMedium, i: number, ref: number) =>
  m.events(i).some((e) => e.type === "delivery" && e.ref === ref && e.state === "acked");

describe("a line of 6 nodes", () => {
  it("learns every contact from announces, then delivers a direct message over 5 hops", async () => {
    const m = await line(6);
    for (let i = 0; i < 6; i++) expect(m.nodes[i].counter(C.CONTACTS), `node ${i}`).toBe(5);
    expect(m.act(0, (n) => n.sendDirect(idOf(m, 5), 1, "hello over five hops"))).toBe(0);
    m.run(120_000, () => delivered(m, 0, 1));
    const got = m.events(5).filter((e) => e.type === "direct");
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ type: "direct", contactId: idOf(m, 0), text: "hello over five hops" });
    expect(delivered(m, 0, 1)).toBe(true);
  });
});
