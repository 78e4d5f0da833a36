// Two `outcaxt node` processes on loopback exchange a direct message, driven
// entirely through their pseudo-terminals with serialport and the laptop codec:
// the path a bridge or any serial tool takes to a USB board.
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, type DeviceMessage } from "../../host-tools/serial/codec.js";
import { NodeProcess, SerialClient, alive, ensureBuilt, freeUdpPort } from "./harness.js";

const FAST = ["--sf", "7", "--bw", "500000", "--duty", "0"];
let dir = "";
const procs: NodeProcess[] = [];
const clients: SerialClient[] = [];

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(path.join(tmpdir(), "outcaxt-vnode-mesh-"));
});

afterAll(async () => {
  for (const c of clients) await c.close();
  for (const p of procs) await p.stop("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const isEvent = (type: string) => (m: DeviceMessage) => m.kind === "event" && m.event.type === type;

describe("two virtual nodes on loopback", () => {
  it("announce, learn each other, send a direct message and get its ACK, all over their ptys", async () => {
    const [portA, portB] = [await freeUdpPort(), await freeUdpPort()];
    const a = NodeProcess.spawn(["--name", "alice", "--listen", `127.0.0.1:${portA}`, "--peer", `127.0.0.1:${portB}`,
      "--pty", path.join(dir, "a.pty"), "--state", path.join(dir, "a"), ...FAST]);
    const b = NodeProcess.spawn(["--name", "bob", "--listen", `127.0.0.1:${portB}`, "--peer", `127.0.0.1:${portA}`,
      "--pty", path.join(dir, "b.pty"), "--state", path.join(dir, "b"), ...FAST]);
    procs.push(a, b);
    const [ra, rb] = await Promise.all([a.ready(), b.ready()]);
    expect(ra).toMatchObject({ link: path.join(dir, "a.pty"), udp: `127.0.0.1:${portA}`, peers: [`127.0.0.1:${portB}`] });
    expect(ra.pty).toMatch(/^\/dev\/pts\/\d+$/);
    expect(ra.contactId).toMatch(/^[0-9a-f]{16}$/);
    expect(rb.contactId).not.toBe(ra.contactId);

    const ca = await SerialClient.open(ra.link!);
    const cb = await SerialClient.open(rb.link!);
    clients.push(ca, cb);

    // HELLO: the identity the process printed.
    const hello = await ca.request(request.hello());
    expect(hello.map((m) => m.kind)).toEqual(["event", "result"]);
    expect(hello[0]).toMatchObject({ event: { type: "identity", contactId: ra.contactId } });
    expect((await cb.request(request.hello()))[0]).toMatchObject({ event: { type: "identity", contactId: rb.contactId } });

    // Announce both ways: each learns the other as a contact.
    // (One after the other: a node that is transmitting cannot hear, as on a real radio.)
    expect(await ca.status(request.announce())).toBe(0);
    expect(await cb.waitFor(isEvent("contact"))).toMatchObject({ event: { contactId: ra.contactId, name: "alice" } });
    expect(await cb.status(request.announce())).toBe(0);
    expect(await ca.waitFor(isEvent("contact"))).toMatchObject({ event: { contactId: rb.contactId, name: "bob" } });
    const contacts = await cb.request(request.contactsGet());
    expect(contacts.filter(isEvent("contact"))).toMatchObject([{ event: { contactId: ra.contactId, name: "alice" } }]);

    // Bob heard Alice's frames on the virtual radio: RADIO_FRAME, with the nominal RSSI/SNR.
    expect(await cb.waitFor((m) => m.kind === "radioFrame")).toMatchObject({ rssiDbm: -90, snrDb: 5 });

    // A direct message: SENT, delivered to Bob, ACKed back to Alice.
    const from = ca.messages.length;
    const sent = await ca.request(request.sendDirect(rb.contactId, 4242, "hello bob, over a pty"));
    expect(sent.at(-1)).toMatchObject({ kind: "result", status: 0 });
    expect(await ca.waitFor((m) => isEvent("delivery")(m) && m.kind === "event" && m.event.type === "delivery" && m.event.ref === 4242, 5000, from))
      .toMatchObject({ event: { state: "sent" } });
    expect(await cb.waitFor(isEvent("direct"))).toMatchObject({ event: { contactId: ra.contactId, text: "hello bob, over a pty" } });
    expect(await ca.waitFor((m) => m.kind === "event" && m.event.type === "delivery" && m.event.state === "acked", 10_000, from))
      .toMatchObject({ event: { ref: 4242 } });

    // Status over the link: one direct message delivered at Bob, frames sent, no serial errors.
    const st = (await cb.request(request.statusGet()));
    expect(st.map((m) => m.kind)).toEqual(["status", "serialErrors", "result"]);
    expect(st[0].kind === "status" && st[0].status.counters[20]).toBe(1);
    expect(st[1]).toMatchObject({ counters: { cobs: 0, short: 0, oversized: 0, crc: 0, version: 0, typeLength: 0 } });

    // Clean shutdown on SIGTERM: exit 0, socat gone, the pty link removed.
    const socats = [a.socatPid(), b.socatPid()];
    await ca.close();
    await cb.close();
    expect(await a.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    expect(await b.stop("SIGINT")).toEqual({ code: 0, signal: null });
    expect(a.lines.at(-1)).toMatchObject({ event: "stopped", signal: "SIGTERM" });
    for (const pid of socats) expect(alive(pid)).toBe(false);
    expect(existsSync(path.join(dir, "a.pty"))).toBe(false);
    expect(existsSync(path.join(dir, "b.pty"))).toBe(false);
  });
});
