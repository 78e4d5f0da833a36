// Two separate meshes of virtual nodes, A (a1 - a2) and B (b1 - b2), with no radio
// path between them, joined through a real Mosquitto broker by two bridges with
// --mqtt (on a1 and b1). A direct message and a channel message from a2 reach b2,
// and the acknowledgement comes back. A third client of the broker records every
// publish: each is a radio frame as heard (never the text, a key or a seed), and no
// frame id is published twice (no loops). Last, injection is held to the duty cycle.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirectClient } from "../../host-tools/bridge/client.js";
import { frameId } from "../../host-tools/bridge/messages.js";
import type { ApiEvent } from "../../host-tools/bridge/service.js";
import {
  MOSQUITTO, Recorder, ensureBuilt, freeUdpPort, haveCommand, startBridge, startMosquitto, startNode, until,
  type BridgeProc, type Broker, type NodeProc,
} from "./procs.js";

const SKIP = !haveCommand("socat") || MOSQUITTO === null;
const TOPIC = "outcaxt/test/frames";
const TEXT = "meet at the old bridge at nine";
const CHANNEL_TEXT = "town hall update for everyone";
const PASSPHRASE = "k3Jx9QmZt0sV4pL7wYb2eA";

type Message = Extract<ApiEvent, { type: "message" }>;

describe.skipIf(SKIP)("two meshes joined through MQTT", () => {
  let dir = "";
  let broker: Broker;
  const nodes: Record<string, NodeProc> = {};
  const bridges: Record<string, BridgeProc> = {};
  let ca1: Recorder, cb1: Recorder;
  let a2: DirectClient, b2: DirectClient;
  const b2Events: ApiEvent[] = [];
  const a2Events: ApiEvent[] = [];
  let spy: mqtt.MqttClient;
  const published: Buffer[] = [];

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(path.join(tmpdir(), "outcaxt-mqtt-"));
    broker = await startMosquitto(dir);
    spy = await mqtt.connectAsync(broker.url, { clientId: "outcaxt-test-spy" });
    spy.on("message", (_t, payload) => published.push(Buffer.from(payload)));
    await spy.subscribeAsync(TOPIC);

    const u: Record<string, number> = {};
    for (const n of ["a1", "a2", "b1", "b2"]) u[n] = await freeUdpPort();
    const peers: Record<string, string> = { a1: "a2", a2: "a1", b1: "b2", b2: "b1" };
    await Promise.all(Object.keys(peers).map(async (n) => {
      nodes[n] = await startNode(n, { udp: u[n], peers: [u[peers[n]]], pty: path.join(dir, `${n}.pty`), state: path.join(dir, n), extra: ["--duty", "0"] });
    }));
    for (const g of ["a1", "b1"]) {
      bridges[g] = await startBridge(g, { port: nodes[g].pty, state: path.join(dir, `bridge-${g}`), extra: ["--mqtt", broker.url, "--mqtt-topic", TOPIC] });
    }
    ca1 = await Recorder.connect(bridges.a1);
    cb1 = await Recorder.connect(bridges.b1);
    a2 = await DirectClient.open(nodes.a2.pty);
    b2 = await DirectClient.open(nodes.b2.pty);
    a2.on("event", (e) => a2Events.push(e));
    b2.on("event", (e) => b2Events.push(e));
    await Promise.all([ca1.connected(), cb1.connected()]);
  }, 60_000);

  afterAll(async () => {
    await ca1?.client.close();
    await cb1?.client.close();
    await a2?.close();
    await b2?.close();
    await spy?.endAsync(true);
    await Promise.all([...Object.values(bridges), ...Object.values(nodes)].map((p) => p.proc.stop()));
    await broker?.proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("a message crosses, nothing published is plaintext or a key, and no frame loops", async () => {
    const idA2 = nodes.a2.contactId, idB2 = nodes.b2.contactId;
    // Announces cross the broker: each end learns the other.
    await until("a2 and b2 to know each other", async () => {
      const [ka, kb] = [await a2.contacts(true), await b2.contacts(true)];
      const done = ka.some((c) => c.id === idB2) && kb.some((c) => c.id === idA2);
      if (!done) { await a2.announce(); await b2.announce(); }
      return done;
    }, 40_000, 2500);

    const sent = await a2.send({ to: idB2, text: TEXT });
    await until("the direct message at b2", () => b2Events.find((e) => e.type === "message" && e.text === TEXT), 30_000);
    expect(b2Events.find((e): e is Message => e.type === "message" && e.text === TEXT)).toMatchObject({ kind: "direct", from: idA2, fromName: "a2" });
    await until("the acknowledgement at a2", () => a2Events.find((e) => e.type === "delivery" && e.ref === sent.ref && e.state !== "sent"), 30_000);
    expect(a2Events.filter((e) => e.type === "delivery" && e.ref === sent.ref).map((e) => (e as { state: string }).state)).toEqual(["sent", "acked"]);

    await a2.join(1, "town", PASSPHRASE);
    await b2.join(2, "town", PASSPHRASE);
    await a2.send({ channel: 1, text: CHANNEL_TEXT });
    await until("the channel message at b2", () => b2Events.find((e) => e.type === "message" && e.text === CHANNEL_TEXT), 30_000);
    expect(b2Events.find((e): e is Message => e.type === "message" && e.text === CHANNEL_TEXT)).toMatchObject({ kind: "channel", slot: 2, from: idA2 });

    // Both bridges published and injected.
    const sa = (await ca1.client.status()).mqtt as Record<string, number>;
    const sb = (await cb1.client.status()).mqtt as Record<string, number>;
    expect(sa.published).toBeGreaterThan(0);
    expect(sb.published).toBeGreaterThan(0);
    expect(sa.injected).toBeGreaterThan(0);
    expect(sb.injected).toBeGreaterThan(0);
    expect(sa.rateLimited + sb.rateLimited).toBe(0);
    await until("the spy to see every publish", () => published.length >= sa.published + sb.published, 5000);
    expect(published.length).toBe(sa.published + sb.published);

    // Every publish is a radio frame, once per frame id: nothing loops between the meshes.
    const perId = new Map<string, number>();
    for (const p of published) {
      expect([106, 170, 255]).toContain(p.length);
      expect(p[0] >> 6).toBe(1);
      const id = frameId(p)!;
      perId.set(id, (perId.get(id) ?? 0) + 1);
    }
    expect([...perId.values()].every((n) => n === 1), JSON.stringify([...perId])).toBe(true);
    // Each bridge's own publishes came back from the broker and were not injected again.
    expect(sa.duplicates).toBeGreaterThanOrEqual(sa.published);
    expect(sb.duplicates).toBeGreaterThanOrEqual(sb.published);

    // Nothing secret in any payload: the texts, the channel passphrase, the identities'
    // seeds and prekey secrets (the virtual nodes' state files), in any 16-byte window.
    const all = Buffer.concat(published);
    for (const text of [TEXT, CHANNEL_TEXT, PASSPHRASE, "old bridge", "town hall"]) {
      expect(all.includes(Buffer.from(text, "utf8")), text).toBe(false);
    }
    const secrets: Buffer[] = [];
    for (const n of ["a1", "a2", "b1", "b2"]) {
      secrets.push(readFileSync(path.join(dir, n, "id.seed")));
      secrets.push(readFileSync(path.join(dir, n, "prekeys")));
    }
    for (const s of secrets) {
      for (let i = 0; i + 16 <= s.length; i += 8) expect(all.includes(s.subarray(i, i + 16))).toBe(false);
    }
  }, 90_000);

  it("drops and counts injections beyond the duty cycle, and duplicates from the broker", async () => {
    // A third bridge on a2, allowed 0.1 % of airtime: about one frame a minute at SF7/500 kHz.
    await a2.close();
    const slow = await startBridge("slow", {
      port: nodes.a2.pty, state: path.join(dir, "bridge-slow"),
      extra: ["--mqtt", broker.url, "--mqtt-topic", `${TOPIC}/slow`, "--duty-cycle", "1"],
    });
    bridges.slow = slow;
    const c = await Recorder.connect(slow);
    try {
      await c.connected();
      const frame = (i: number) => {
        const f = Buffer.alloc(170, 0x5a);
        f[0] = 0x48; // version 1, CHANNEL
        f[1] = 0x33; // hop limit 3, 3 left
        f.writeUInt32LE(0, 2);
        f.writeUInt32LE(0, 6);
        f.writeUInt32LE(0xc0ffee00 + i, 10); // frame id
        return f;
      };
      for (let i = 0; i < 20; i++) await spy.publishAsync(`${TOPIC}/slow`, frame(i));
      await spy.publishAsync(`${TOPIC}/slow`, frame(0));
      await spy.publishAsync(`${TOPIC}/slow`, Buffer.from("not a frame"));
      const s = await until("the frames to be counted", async () => {
        const m = (await c.client.status()).mqtt as Record<string, number>;
        return m.received >= 22 && m.injected + m.injectFailed + m.rateLimited === 20 ? m : null;
      }, 15_000);
      expect(s.duplicates).toBe(1);
      expect(s.invalid).toBe(1);
      expect(s.rateLimited).toBeGreaterThanOrEqual(18);
      expect(s.injected).toBeGreaterThanOrEqual(1);
      expect(s.radio).toMatchObject({ dutyCyclePermille: 1, modulation: { sf: 7, bwHz: 500000 } });
    } finally {
      await c.client.close();
    }
  }, 60_000);
});
