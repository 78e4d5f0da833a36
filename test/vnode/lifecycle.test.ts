// `outcaxt node` over its life: identity kept across restarts with the same --state
// (files 0600 in a 0700 folder, one process per folder), garbage on the pty skipped
// and counted with the next request answered, socat killed (reported; a new pty at
// the same --pty path), CONFIG_SET kept in the state folder, and usage errors.
import { mkdtempSync, readdirSync, rmSync, statSync, existsSync, readlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Req, cobsEncode, encodePacket, encodeRequest, request } from "../../host-tools/serial/codec.js";
import { DEFAULT_CONFIG } from "../../host-tools/node/protocol.js";
import { CLI, NodeProcess, ROOT, SerialClient, alive, ensureBuilt } from "./harness.js";

let dir = "";
const procs: NodeProcess[] = [];
const clients: SerialClient[] = [];

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(path.join(tmpdir(), "outcaxt-vnode-life-"));
});

afterAll(async () => {
  for (const c of clients) await c.close();
  for (const p of procs) await p.stop("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function start(args: string[]): NodeProcess {
  const p = NodeProcess.spawn(args);
  procs.push(p);
  return p;
}

async function open(pty: string): Promise<SerialClient> {
  const c = await SerialClient.open(pty);
  clients.push(c);
  return c;
}

describe("state folder", () => {
  it("keeps the identity across restarts; secrets are 0600 in a 0700 folder; one process per folder", async () => {
    const state = path.join(dir, "keep");
    const first = start(["--state", state, "--name", "keeper"]);
    const r1 = await first.ready();
    const c1 = await open(r1.pty);
    expect((await c1.request(request.hello()))[0]).toMatchObject({ event: { contactId: r1.contactId } });

    // A second process on the same folder is refused: two nodes must not share an identity.
    const twin = start(["--state", state]);
    expect((await twin.exit).code).toBe(1);
    expect(twin.stderr).toMatch(/in use by process/);

    await c1.close();
    expect((await first.stop()).code).toBe(0);
    expect(statSync(state).mode & 0o777).toBe(0o700);
    const files = readdirSync(state).sort();
    expect(files).toEqual(["id.seed", "prekeys"]); // no lock, no temporary files left
    for (const f of files) expect(statSync(path.join(state, f)).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(state, "id.seed")).size).toBe(32);

    const second = start(["--state", state]);
    const r2 = await second.ready();
    expect(r2.contactId).toBe(r1.contactId);
    const c2 = await open(r2.pty);
    expect((await c2.request(request.hello()))[0]).toMatchObject({ event: { contactId: r1.contactId } });

    // CONFIG_SET over the link is stored and used at the next start.
    expect(await c2.status(request.configSet({ ...DEFAULT_CONFIG, nodeName: "renamed", sf: 8 }))).toBe(0);
    expect(statSync(path.join(state, "config")).mode & 0o777).toBe(0o600);
    await c2.close();
    expect((await second.stop("SIGINT")).code).toBe(0);
    const third = start(["--state", state]);
    const r3 = await third.ready();
    expect(r3).toMatchObject({ contactId: r1.contactId, name: "renamed" });
    const c3 = await open(r3.pty);
    expect((await c3.request(request.configGet()))[0]).toMatchObject({ kind: "config", config: { nodeName: "renamed", sf: 8, serial: true } });
    await c3.close();
    await third.stop();

    // Without --state: a new identity every run.
    const a = start([]);
    const ra = await a.ready();
    await a.stop();
    const b = start([]);
    const rb = await b.ready();
    await b.stop();
    expect(ra.contactId).not.toBe(rb.contactId);
  });
});

describe("the serial line", () => {
  it("skips garbage written into the pty, counts it by reason, and answers the next request", async () => {
    const p = start(["--pty", path.join(dir, "garbage.pty")]);
    const r = await p.ready();
    const c = await open(r.link!);
    const hello = encodePacket(Req.HELLO, 77);
    const badCrc = encodePacket(Req.HELLO, 78);
    badCrc[badCrc.length - 2] ^= 0x10;
    // Noise whose first byte announces a 253-byte COBS block that the next delimiter cuts short.
    const noise = Uint8Array.from({ length: 30 }, (_, i) => (i === 0 ? 0xfe : 1 + ((i * 89 + 7) % 255)));
    await c.write(Uint8Array.of(0, ...noise));                       // COBS error, once the delimiter comes
    await c.write(Uint8Array.of(0));
    await c.write(hello.subarray(0, 5));                             // a half frame (a reset mid-frame)
    await c.write(badCrc);                                           // its leading 0x00 ends the half frame (short)
    await c.write(Uint8Array.of(0, ...new Uint8Array(400).fill(0x42), 0)); // oversized
    await c.write(encodePacket(0x66, 79));                           // an unknown request type: RESULT -5
    await c.write(Uint8Array.of(0, ...cobsEncode(Uint8Array.of(1, 5, 0)), 0)); // short
    const got = await c.request(request.hello());
    expect(got.map((m) => m.kind)).toEqual(["event", "result"]);
    expect(got[0]).toMatchObject({ event: { type: "identity", contactId: r.contactId } });
    expect(c.messages.find((m) => m.seq === 79)).toMatchObject({ kind: "result", status: -5 });
    expect(c.messages.find((m) => m.seq === 78)).toBeUndefined(); // a bad CRC is never answered
    const st = await c.request(request.statusGet());
    expect(st[1]).toMatchObject({ kind: "serialErrors", counters: { cobs: 1, short: 2, oversized: 1, crc: 1, version: 0, typeLength: 1 } });
    expect(st[0].kind === "status" && st[0].status.counters.slice(38, 44)).toEqual([1, 2, 1, 1, 0, 1]);
    expect(c.decoder.counters).toEqual({ cobs: 0, short: 0, oversized: 0, crc: 0, version: 0, typeLength: 0 });
    // Every byte value crosses the pty unchanged (raw mode: no XON/XOFF, no CR/LF mapping, no
    // signals): 255-byte frames of all values reach the core with a good CRC, which refuses
    // them for their version bits (drop reason 4), not for the serial link.
    for (const frame of [Uint8Array.from({ length: 255 }, (_, i) => 255 - i), Uint8Array.from({ length: 255 }, (_, i) => i)]) {
      expect((await c.request(request.injectFrame(frame, -80, 3))).at(-1)).toMatchObject({ kind: "result", status: 4 });
    }
    const after = await c.request(request.statusGet());
    expect(after[1]).toMatchObject({ counters: { cobs: 1, short: 2, oversized: 1, crc: 1, version: 0, typeLength: 1 } });
    await c.close();
    await p.stop();
  });

  it("reports the pty going away (socat killed) to the client and on stdout, then makes a new one at the same --pty path", async () => {
    const link = path.join(dir, "lost.pty");
    const p = start(["--pty", link]);
    const r = await p.ready();
    const c = await open(link);
    expect(await c.status(request.hello())).toBe(0);
    const socat = p.socatPid();
    process.kill(socat, "SIGKILL");
    const lost = await p.waitFor("pty-lost");
    expect(lost).toMatchObject({ link, reason: "socat was stopped by SIGKILL" });
    // The client's end is hung up: serialport reports it at the latest on the next write
    // (its reads of a hung-up pty may just see end-of-file), and closes the port.
    await expect(c.write(encodeRequest(request.hello(), 9))).rejects.toThrow(/EIO|closed/);
    await c.waitFor(() => false, 3000).catch(() => undefined);
    expect(c.closed).not.toBeNull();
    expect(c.port.isOpen).toBe(false);
    const again = await p.waitFor("pty", 10_000);
    expect(again).toMatchObject({ link });
    expect(readlinkSync(link)).toBe(again.pty);
    expect(alive(socat)).toBe(false);
    const c2 = await open(link);
    expect((await c2.request(request.hello()))[0]).toMatchObject({ event: { contactId: r.contactId } });
    await c2.close();
    expect((await p.stop()).code).toBe(0);
    expect(existsSync(link)).toBe(false);
  });
});

describe("usage", () => {
  const run = (args: string[]) => spawnSync(process.execPath, [CLI, "node", ...args], { cwd: ROOT, encoding: "utf8", timeout: 20_000 });

  it.each([
    [["--listen", "nowhere"], /not HOST:PORT/],
    [["--peer", "127.0.0.1:99999"], /port must be 0..65535/],
    [["--loss", "2"], /--loss must be a number 0..1/],
    [["--sf", "13"], /--sf must be an integer 7..12/],
    [["--bw", "100"], /--bw must be 125000, 250000 or 500000/],
    [["--name", "a-name-longer-than-15"], /at most 15 bytes/],
    [["--pty", "relative/path"], /must be absolute/],
    [["--pty", "/tmp/a,b"], /must not contain/],
  ])("%j is a usage error (exit 2)", (args, message) => {
    const r = run(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it("a UDP port in use is an error (exit 1) that says so", async () => {
    const p = start(["--listen", "127.0.0.1:0"]);
    const r = await p.ready();
    const clash = run(["--listen", r.udp]);
    expect(clash.status).toBe(1);
    expect(clash.stderr).toMatch(/is in use/);
    await p.stop();
  });
});
