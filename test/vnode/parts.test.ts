// The parts of the virtual node on their own: the UDP radio (time on air, half
// duplex, listen before talk, loss, delay, junk datagrams), the state folder
// (atomic 0600 files, old values wiped, the lock), the config precedence, and the
// addresses the command line accepts.
import dgram from "node:dgram";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { airtimeMs } from "../../sim/radio/lora.js";
import { DEFAULT_CONFIG, encodeConfig } from "../../host-tools/node/protocol.js";
import { UdpRadio, parseEndpoint, formatEndpoint, AddressError, type Endpoint } from "../../host-tools/vnode/radio.js";
import { FileStore, StateError, keyFile } from "../../host-tools/vnode/store.js";
import { effectiveConfig } from "../../host-tools/vnode/vnode.js";
import { checkPtyLink } from "../../host-tools/vnode/pty.js";

const dir = mkdtempSync(path.join(tmpdir(), "outcaxt-vnode-parts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MOD = { sf: 9, bwHz: 125_000, cr: 1, preambleSymbols: 16 }; // a 106-byte frame takes about 0.6 s
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Heard = { frame: Uint8Array; at: number };

async function pair(opts: { loss?: number; delayMs?: number } = {}) {
  const heard: Heard[][] = [[], []];
  const done: number[][] = [[], []];
  const radios: UdpRadio[] = [];
  const listen: Endpoint = { host: "127.0.0.1", port: 0 };
  const peers: Endpoint[][] = [[], []];
  for (const i of [0, 1]) {
    radios.push(new UdpRadio({
      listen, peers: peers[i], config: MOD, ...opts,
      onFrame: (frame) => heard[i].push({ frame, at: Date.now() }),
      onTxDone: () => done[i].push(Date.now()),
    }));
  }
  const [a, b] = await Promise.all(radios.map((r) => r.listen()));
  peers[0].push(b);
  peers[1].push(a);
  return { radios, heard, done, close: () => Promise.all(radios.map((r) => r.close())) };
}

describe("UdpRadio", () => {
  it("a frame is heard after its time on air; the sender is busy meanwhile", async () => {
    const { radios, heard, done, close } = await pair();
    const air = airtimeMs(106, MOD);
    expect(radios[0].airtimeMs(106)).toBeCloseTo(air, 6);
    const frame = new Uint8Array(106).fill(7);
    const t0 = Date.now();
    expect(radios[0].transmit(frame)).toBe(true);
    expect(radios[0].busy).toBe(true);
    expect(radios[0].transmit(frame)).toBe(false); // one frame at a time
    await sleep(air + 400);
    expect(done[0]).toHaveLength(1);
    expect(done[0][0] - t0).toBeGreaterThanOrEqual(air - 5);
    expect(heard[1]).toHaveLength(1);
    expect(heard[1][0].frame).toEqual(frame);
    expect(heard[1][0].at - t0).toBeGreaterThanOrEqual(air - 5);
    expect(radios[0].stats).toMatchObject({ sent: 1, busy: 1, copiesSent: 1 });
    await close();
  });

  it("half duplex and listen before talk: no transmit while hearing, nothing heard while transmitting", async () => {
    const { radios, heard, close } = await pair();
    const air = airtimeMs(106, MOD);
    radios[0].transmit(new Uint8Array(106).fill(1));
    await sleep(30);
    expect(radios[1].busy).toBe(true);                               // b hears a's frame coming in
    expect(radios[1].transmit(new Uint8Array(106).fill(2))).toBe(false); // channel busy
    await sleep(air + 400);
    expect(heard[1]).toHaveLength(1);
    // Both start at once (neither has heard the other yet): each loses the other's frame.
    radios[0].transmit(new Uint8Array(106).fill(3));
    radios[1].transmit(new Uint8Array(106).fill(4));
    await sleep(air + 400);
    expect(heard[0]).toHaveLength(0);
    expect(heard[1]).toHaveLength(1);
    expect(radios[0].stats.lostWhileTransmitting + radios[1].stats.lostWhileTransmitting).toBe(2);
    await close();
  });

  it("--loss 1 loses every copy; --delay adds to the time on air", async () => {
    const lossy = await pair({ loss: 1 });
    lossy.radios[0].transmit(new Uint8Array(106));
    await sleep(airtimeMs(106, MOD) + 400);
    expect(lossy.heard[1]).toHaveLength(0);
    expect(lossy.radios[0].stats.copiesLost).toBe(1);
    await lossy.close();

    const slow = await pair({ delayMs: 200 });
    const t0 = Date.now();
    slow.radios[0].transmit(new Uint8Array(106));
    await sleep(airtimeMs(106, MOD) + 600);
    expect(slow.heard[1]).toHaveLength(1);
    expect(slow.heard[1][0].at - t0).toBeGreaterThanOrEqual(airtimeMs(106, MOD) + 195);
    await slow.close();
  });

  it("ignores datagrams that cannot be LoRa frames", async () => {
    const { radios, heard, close } = await pair();
    const s = dgram.createSocket("udp4");
    const to = radios[1].address;
    await new Promise<void>((r) => s.send(Buffer.alloc(0), to.port, to.host, () => r()));
    await new Promise<void>((r) => s.send(Buffer.alloc(300), to.port, to.host, () => r()));
    await sleep(100);
    s.close();
    expect(heard[1]).toHaveLength(0);
    expect(radios[1].stats.ignored).toBe(2);
    await close();
  });
});

describe("addresses", () => {
  it("reads HOST:PORT, [v6]:PORT and PORT; refuses names and bad ports", () => {
    expect(parseEndpoint("127.0.0.1:7001")).toEqual({ host: "127.0.0.1", port: 7001 });
    expect(parseEndpoint("localhost:7001")).toEqual({ host: "127.0.0.1", port: 7001 });
    expect(parseEndpoint("[::1]:9")).toEqual({ host: "::1", port: 9 });
    expect(parseEndpoint("7002")).toEqual({ host: "127.0.0.1", port: 7002 });
    expect(formatEndpoint({ host: "::1", port: 9 })).toBe("[::1]:9");
    for (const bad of ["example.org:1", "1.2.3.4:70000", "1.2.3.4", ":5", "1.2.3.4:x"]) expect(() => parseEndpoint(bad)).toThrow(AddressError);
    expect(checkPtyLink("/tmp/ok-path.pty")).toBeNull();
    expect(checkPtyLink("/tmp/a:b")).not.toBeNull();
  });
});

describe("FileStore", () => {
  it("writes each key atomically as a 0600 file in a 0700 folder, reads it back after a restart", () => {
    const d = path.join(dir, "store");
    const s = new FileStore(d);
    expect(statSync(d).mode & 0o777).toBe(0o700);
    expect(s.get("id.seed")).toBeUndefined();
    s.set("id.seed", new Uint8Array(32).fill(9));
    s.set("prekeys", new Uint8Array(104).fill(1));
    s.set("prekeys", new Uint8Array(104).fill(2)); // overwrite
    s.set("odd key/..", Uint8Array.of(1));
    expect(keyFile("odd key/..")).toBe(`x-${Buffer.from("odd key/..").toString("hex")}`);
    expect(keyFile("lock")).not.toBe("lock");
    for (const f of readdirSync(d)) expect(statSync(path.join(d, f)).mode & 0o777).toBe(0o600);
    expect(readdirSync(d).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    writeFileSync(path.join(d, "prekeys.123.tmp"), "half"); // a crash between write and rename
    const again = new FileStore(d);
    expect(again.get("prekeys")).toEqual(new Uint8Array(104).fill(2));
    expect(again.get("id.seed")).toEqual(new Uint8Array(32).fill(9));
    expect(again.get("odd key/..")).toEqual(Uint8Array.of(1));
    expect(existsSync(path.join(d, "prekeys.123.tmp"))).toBe(false);
  });

  it("locks the folder for one process; a stale lock is taken over", () => {
    const d = path.join(dir, "lock");
    const s = new FileStore(d);
    writeFileSync(path.join(d, "lock"), "999999999\n"); // a process that does not exist
    s.lock();
    expect(() => new FileStore(d).lock()).not.toThrow(); // the same process may re-take it
    writeFileSync(path.join(d, "lock"), `${process.ppid}\n`); // a live process
    expect(() => new FileStore(d).lock()).toThrow(StateError);
    s.unlock();
  });

  it("refuses a state path that is a file", () => {
    const f = path.join(dir, "a-file");
    writeFileSync(f, "x");
    expect(() => new FileStore(f)).toThrow(StateError);
  });
});

describe("config precedence", () => {
  it("explicit options over the stored config over the defaults; serial always on", () => {
    expect(effectiveConfig({}, undefined)).toEqual({ ...DEFAULT_CONFIG, nodeName: "vnode", serial: true });
    const stored = encodeConfig({ ...DEFAULT_CONFIG, nodeName: "stored", sf: 8 });
    expect(effectiveConfig({}, stored)).toMatchObject({ nodeName: "stored", sf: 8, serial: true });
    expect(effectiveConfig({ sf: 10, nodeName: undefined }, stored)).toMatchObject({ nodeName: "stored", sf: 10 });
    expect(effectiveConfig({}, Uint8Array.of(9, 9))).toMatchObject({ nodeName: "vnode" }); // unreadable: defaults
  });
});
