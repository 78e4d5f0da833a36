// The bridge outlives its serial port. Virtual nodes x, y and z (y and z neighbours
// of x); a bridge on each pty. First x's socat dies (the pty path vanishes; the
// virtual node makes a new one at the same --pty path, as a USB-serial port comes
// back), then x's whole process is stopped and started again with the same --state
// and --pty (a board unplugged and plugged back: it reboots). Each time a message
// sent while the port is gone waits in the bridge's queue and is delivered after
// the reconnect's HELLO. (The message after the reboot goes to z, which x has not
// written to before: a rebooted node starts its message ids again, see the report.)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiEvent } from "../../host-tools/bridge/service.js";
import {
  Recorder, childPids, ensureBuilt, freeUdpPort, haveCommand, pidAlive, sleep, startBridge, startNode, until,
  type BridgeProc, type NodeProc,
} from "./procs.js";

const SKIP = !haveCommand("socat");
type LinkEvent = Extract<ApiEvent, { type: "link" }>;

describe.skipIf(SKIP)("bridge reconnect", () => {
  let dir = "";
  let x: NodeProc, y: NodeProc, z: NodeProc;
  let bx: BridgeProc, by: BridgeProc, bz: BridgeProc;
  let cx: Recorder, cy: Recorder, cz: Recorder;
  let ux = 0, uy = 0, uz = 0;

  const xArgs = () => ({ udp: ux, peers: [uy, uz], pty: path.join(dir, "x.pty"), state: path.join(dir, "x") });
  const links = () => cx.events.filter((e): e is LinkEvent => e.type === "link");
  const connectedCount = () => links().filter((e) => e.state === "connected").length;
  const waitingSince = (i: number) => links().slice(i).some((e) => e.state === "waiting");

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(path.join(tmpdir(), "outcaxt-reconnect-"));
    ux = await freeUdpPort();
    uy = await freeUdpPort();
    uz = await freeUdpPort();
    [x, y, z] = await Promise.all([
      startNode("x", xArgs()),
      startNode("y", { udp: uy, peers: [ux], pty: path.join(dir, "y.pty"), state: path.join(dir, "y") }),
      startNode("z", { udp: uz, peers: [ux], pty: path.join(dir, "z.pty"), state: path.join(dir, "z") }),
    ]);
    [bx, by, bz] = await Promise.all([
      startBridge("bx", { port: x.pty, state: path.join(dir, "bx") }),
      startBridge("by", { port: y.pty, state: path.join(dir, "by") }),
      startBridge("bz", { port: z.pty, state: path.join(dir, "bz") }),
    ]);
    [cx, cy, cz] = await Promise.all([Recorder.connect(bx), Recorder.connect(by), Recorder.connect(bz)]);
    await Promise.all([cx.connected(), cy.connected(), cz.connected()]);
    await cx.knows(y.contactId, () => cy.client.announce());
    await cx.knows(z.contactId, () => cz.client.announce());
    await cy.knows(x.contactId, () => cx.client.announce());
    await cz.knows(x.contactId, () => cx.client.announce());
  }, 60_000);

  afterAll(async () => {
    for (const c of [cx, cy, cz]) await c?.client.close();
    await Promise.all([bx, by, bz, x, y, z].filter(Boolean).map((p) => p.proc.stop()));
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("survives the pty vanishing and coming back, and sends what was queued meanwhile", async () => {
    const mark = links().length;
    const before = connectedCount();
    const socat = childPids(x.proc.pid);
    expect(socat.length).toBe(1);
    process.kill(socat[0], "SIGKILL");
    await until("the bridge to notice", () => waitingSince(mark), 10_000, 20);
    const sent = await cx.client.send({ to: "y", text: "queued while the port was gone" });
    expect(sent.queued).toBe(true);
    await until("the reconnect", () => connectedCount() > before, 20_000);
    await until("the queued message at y", () => cy.messages().find((m) => m.text === "queued while the port was gone"), 20_000);
    await until("its acknowledgement", () => cx.deliveries(sent.ref).find((d) => d.state === "acked"), 20_000);
    expect(pidAlive(socat[0])).toBe(false);
    expect(bx.proc.running).toBe(true);
    expect(await cx.client.status()).toMatchObject({ link: { connected: true, queued: 0 } });
  }, 60_000);

  it("survives the node going away for seconds (backoff up to its cap) and rebooting", async () => {
    const mark = links().length;
    const before = connectedCount();
    const connectsBefore = ((await cx.client.status()).link as { connects: number }).connects;
    await x.proc.stop("SIGTERM");
    await until("the bridge to notice", () => waitingSince(mark), 10_000, 20);
    const sent = await cx.client.send({ to: z.contactId, text: "queued across a reboot" });
    expect(sent.queued).toBe(true);
    await sleep(5000);
    // The retries back off: 250 ms, doubling, never above 5 s.
    const delays = links().slice(mark).filter((e) => e.state === "waiting")
      .map((e) => Number(/retrying in (\d+) ms/.exec(e.detail ?? "")?.[1]));
    expect(delays.length).toBeGreaterThanOrEqual(4);
    expect(delays.slice(0, 4)).toEqual([250, 500, 1000, 2000]);
    expect(Math.max(...delays)).toBeLessThanOrEqual(5000);

    // Plugged back: the same identity on the same path. The node rebooted but kept its
    // contacts (storage records ct.NN), so the queued message goes out without waiting
    // for z to announce again.
    x = await startNode("x", xArgs());
    await until("the reconnect", () => connectedCount() > before, 20_000);
    const reconnected = links().filter((e) => e.state === "connected").at(-1)!;
    expect(reconnected.node?.contactId).toBe(x.contactId);
    await until("the queued message at z", () => cz.messages().find((m) => m.text === "queued across a reboot"), 30_000);
    await until("its acknowledgement", () => cx.deliveries(sent.ref).find((d) => d.state === "acked" || d.state === "failed"), 30_000);
    expect(cx.deliveries(sent.ref).map((d) => d.state)).toEqual(["sent", "acked"]);
    expect(bx.proc.running).toBe(true);
    const status = await cx.client.status();
    expect(status).toMatchObject({ link: { connected: true, queued: 0, held: 0, connects: connectsBefore + 1 } });
  }, 60_000);
});
