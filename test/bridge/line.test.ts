// Five virtual nodes (`outcaxt node`) on loopback UDP in a line, n1 - n2 - n3 - n4 - n5,
// a bridge (`outcaxt bridge`) on n1's pty and another on n5's. A WebSocket client of
// the first bridge sends a direct message that reaches the WebSocket client of the
// second, four hops away, and the acknowledgement comes back as a delivery report.
// Then n3's process is killed and a replacement n3' starts in a parallel position
// (its own UDP port, peered with n2 and n4, which had that port in their peer lists
// from the start); delivery resumes through it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Recorder, childPids, ensureBuilt, freeUdpPort, haveCommand, pidAlive, startBridge, startNode, until,
  type BridgeProc, type NodeProc,
} from "./procs.js";

const SKIP = !haveCommand("socat");

describe.skipIf(SKIP)("a direct message over a line of five virtual nodes, through two bridges", () => {
  let dir = "";
  const nodes: Record<string, NodeProc> = {};
  const bridges: BridgeProc[] = [];
  let c1: Recorder, c5: Recorder;
  let ports: Record<string, number> = {};

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(path.join(tmpdir(), "outcaxt-line-"));
    for (const n of ["n1", "n2", "n3", "n3b", "n4", "n5"]) ports[n] = await freeUdpPort();
    const peers: Record<string, string[]> = {
      n1: ["n2"], n2: ["n1", "n3", "n3b"], n3: ["n2", "n4"], n4: ["n3", "n3b", "n5"], n5: ["n4"],
    };
    await Promise.all(Object.entries(peers).map(async ([n, ps]) => {
      nodes[n] = await startNode(n, { udp: ports[n], peers: ps.map((p) => ports[p]), pty: path.join(dir, `${n}.pty`), state: path.join(dir, n) });
    }));
    const b1 = await startBridge("b1", { port: nodes.n1.pty, state: path.join(dir, "b1") });
    const b5 = await startBridge("b5", { port: nodes.n5.pty, state: path.join(dir, "b5") });
    bridges.push(b1, b5);
    c1 = await Recorder.connect(b1);
    c5 = await Recorder.connect(b5);
    await Promise.all([c1.connected(), c5.connected()]);
  }, 60_000);

  afterAll(async () => {
    await c1?.client.close();
    await c5?.client.close();
    await Promise.all([...bridges.map((b) => b.proc.stop()), ...Object.values(nodes).map((n) => n.proc.stop())]);
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("delivers end to end with ✓✓, then again after the middle node is replaced", async () => {
    const id1 = nodes.n1.contactId, id5 = nodes.n5.contactId;
    // Each end learns the other from its announce, flooded over the line.
    await c1.knows(id5, () => c5.client.announce());
    await c5.knows(id1, () => c1.client.announce());

    const first = await c1.client.send({ to: "n5", text: "hello over four hops" });
    expect(first.to).toBe(id5);
    await until("the message at n5's client", () => c5.messages().find((m) => m.text === "hello over four hops"), 30_000);
    const got = c5.messages().find((m) => m.text === "hello over four hops")!;
    expect(got).toMatchObject({ kind: "direct", from: id1, fromName: "n1" });
    await until("the acknowledgement", () => c1.deliveries(first.ref).find((d) => d.state === "acked"), 30_000);
    expect(c1.deliveries(first.ref).map((d) => d.state)).toEqual(["sent", "acked"]);

    // The middle node dies (its socat goes with it) ...
    const socat = childPids(nodes.n3.proc.pid);
    await nodes.n3.proc.stop("SIGKILL");
    await until("n3's socat to exit", () => socat.every((p) => !pidAlive(p)), 5000);
    // ... and a replacement starts beside it, a neighbour of n2 and n4.
    nodes.n3b = await startNode("n3b", { udp: ports.n3b, peers: [ports.n2, ports.n4], pty: path.join(dir, "n3b.pty"), state: path.join(dir, "n3b") });

    const second = await c1.client.send({ to: id5, text: "still there?" });
    await until("the second message at n5's client", () => c5.messages().find((m) => m.text === "still there?"), 45_000);
    await until("the second acknowledgement", () => c1.deliveries(second.ref).find((d) => d.state === "acked" || d.state === "failed"), 45_000);
    expect(c1.deliveries(second.ref).at(-1)?.state).toBe("acked");
    const status = await c1.client.status();
    expect(status).toMatchObject({ link: { connected: true, connects: 1 } });
  }, 90_000);
});
