// The MQTT uplink: joins meshes in different places through any MQTT broker.
//
// Up: every RADIO_FRAME the node reports (a frame heard on the radio, still
// encrypted and unchanged) is published to the topic as its raw bytes. Nothing
// else is ever published: no decoded event, no plaintext, no key.
// Down: every frame from the topic is handed to the node with INJECT_FRAME, as
// if heard on the radio; the node relays it over the air by its own rules.
//
// Loops: frame ids (nonce bytes 0-7, frame offset 10) go into a bounded LRU set
// both ways, so a frame we published is not injected when the broker echoes it,
// and a frame that came from the broker is not published again when the node
// hears it relayed. Injection is limited to the radio's duty cycle by a token
// bucket of airtime; frames beyond it are dropped and counted.
import { randomBytes } from "node:crypto";
import mqtt, { type MqttClient } from "mqtt";
import type { NodeConfig } from "../node/protocol.js";
import { request as requests } from "../serial/codec.js";
import { airtimeMs, presetModulation, type Modulation } from "../../sim/radio/lora.js";
import type { SerialLink } from "./link.js";
import { LruSet } from "./lru.js";
import { frameId, plausibleFrame } from "./messages.js";
import { AirtimeBucket } from "./token-bucket.js";

export type MqttUplinkOptions = {
  /** Broker URL: mqtt://host:1883, mqtts://..., ws://... */
  url: string;
  topic: string;
  link: SerialLink;
  /**
   * LoRa preset of the local mesh (hardware/presets.json), for the airtime of injected
   * frames. Default: the node's own config (CONFIG, via `nodeConfig`), else LongFast.
   */
  preset?: string;
  modulation?: Modulation;
  /** Duty cycle of the radio in per mille (100 = 10 %); 0 = no limit. Default: the node's config, else 100. */
  dutyCyclePermille?: number;
  /** The node's config when known (the bridge reads it with CONFIG_GET). */
  nodeConfig?: () => NodeConfig | null;
  /** Airtime the bucket may save up (ms); default one minute of the duty-cycle budget. */
  burstMs?: number;
  /** Frame ids remembered. */
  lruSize?: number;
  /** RSSI (dBm) and SNR (dB) reported to the node for injected frames. */
  injectRssiDbm?: number;
  injectSnrDb?: number;
  clientId?: string;
  username?: string;
  password?: string;
};

export type MqttStats = {
  connected: boolean;
  topic: string;
  heard: number;
  published: number;
  received: number;
  injected: number;
  duplicates: number;
  rateLimited: number;
  invalid: number;
  /** Injections the node refused (a RESULT other than 0) or that the link lost. */
  injectFailed: number;
  skippedDisconnected: number;
};

export class MqttUplink {
  private client: MqttClient | null = null;
  private readonly seen: LruSet<string>;
  private bucket: AirtimeBucket | null = null;
  private bucketKey = "";
  private readonly fixedModulation: Modulation | undefined;
  readonly stats: MqttStats;
  private readonly onFrame = (frame: Uint8Array) => this.heard(frame);
  /** Called for each error the broker connection reports (the client keeps retrying). */
  onError: (err: Error) => void = () => {};

  constructor(private readonly opts: MqttUplinkOptions) {
    if (!opts.topic || /[+#]/.test(opts.topic)) throw new RangeError("the MQTT topic must be a plain topic name (no + or # wildcards)");
    this.seen = new LruSet(opts.lruSize ?? 8192);
    const dc = opts.dutyCyclePermille;
    if (dc !== undefined && !(dc >= 0 && dc <= 1000)) throw new RangeError("duty cycle must be 0..1000 per mille");
    this.fixedModulation = opts.modulation ?? (opts.preset !== undefined ? presetModulation(opts.preset) : undefined);
    this.radio();
    this.stats = {
      connected: false, topic: opts.topic, heard: 0, published: 0, received: 0, injected: 0, duplicates: 0,
      rateLimited: 0, invalid: 0, injectFailed: 0, skippedDisconnected: 0,
    };
  }

  /** The modulation and duty cycle in force: options first, then the node's config, then LongFast at 10 %. */
  radio(): { modulation: Modulation; dutyCyclePermille: number } {
    const c = this.opts.nodeConfig?.() ?? null;
    const modulation = this.fixedModulation ?? (c ? { sf: c.sf, bwHz: c.bwHz, cr: c.cr, preambleSymbols: c.preambleSymbols } : presetModulation());
    const dutyCyclePermille = this.opts.dutyCyclePermille ?? c?.dutyCyclePermille ?? 100;
    const key = `${modulation.sf}/${modulation.bwHz}/${modulation.cr}/${modulation.preambleSymbols}/${dutyCyclePermille}`;
    if (key !== this.bucketKey) {
      this.bucketKey = key;
      const rate = dutyCyclePermille / 1000;
      this.bucket = dutyCyclePermille === 0 ? null
        : new AirtimeBucket(rate, Math.max(this.opts.burstMs ?? rate * 60_000, airtimeMs(255, modulation)));
    }
    return { modulation, dutyCyclePermille };
  }

  /** Connects to the broker and subscribes; resolves when subscribed (the client reconnects by itself later). */
  start(): Promise<void> {
    const client = mqtt.connect(this.opts.url, {
      clientId: this.opts.clientId ?? `outcaxt-${randomBytes(6).toString("hex")}`,
      clean: true,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      ...(this.opts.username !== undefined ? { username: this.opts.username } : {}),
      ...(this.opts.password !== undefined ? { password: this.opts.password } : {}),
    });
    this.client = client;
    client.on("message", (_topic, payload) => this.fromBroker(new Uint8Array(payload)));
    client.on("close", () => { this.stats.connected = false; });
    client.on("error", (err) => this.onError(err));
    this.opts.link.on("radioFrame", this.onFrame);
    return new Promise((resolve, reject) => {
      let first = true;
      client.on("connect", () => {
        this.stats.connected = true;
        if (!first) return;
        first = false;
        client.subscribe(this.opts.topic, { qos: 0 }, (err) => (err ? reject(err) : resolve()));
      });
      client.once("error", (err) => { if (first) reject(err); });
    });
  }

  async close(): Promise<void> {
    this.opts.link.off("radioFrame", this.onFrame);
    const c = this.client;
    this.client = null;
    this.stats.connected = false;
    if (c) await c.endAsync(true);
  }

  /** A frame the node heard on the radio: publish it once. */
  private heard(frame: Uint8Array): void {
    this.stats.heard++;
    const id = frameId(frame);
    if (id === null || !plausibleFrame(frame)) { this.stats.invalid++; return; }
    if (!this.seen.add(id)) return; // came from the broker, or published already (a relayed copy)
    if (!this.client?.connected) { this.stats.skippedDisconnected++; return; }
    this.client.publish(this.opts.topic, Buffer.from(frame), { qos: 0 });
    this.stats.published++;
  }

  /** A frame from the broker: inject it once, within the duty cycle. */
  private fromBroker(frame: Uint8Array): void {
    this.stats.received++;
    const id = frameId(frame);
    if (id === null || !plausibleFrame(frame)) { this.stats.invalid++; return; }
    if (!this.seen.add(id)) { this.stats.duplicates++; return; }
    if (!this.opts.link.connected) { this.stats.skippedDisconnected++; return; }
    const { modulation } = this.radio();
    if (this.bucket && !this.bucket.take(airtimeMs(frame.length, modulation))) { this.stats.rateLimited++; return; }
    const req = requests.injectFrame(forLocalMesh(frame), this.opts.injectRssiDbm ?? -100, this.opts.injectSnrDb ?? 5);
    this.opts.link.request(req, { onlyWhenConnected: true }).then(
      (r) => { if (r.status === 0) this.stats.injected++; else this.stats.injectFailed++; },
      () => { this.stats.injectFailed++; },
    );
  }
}

/**
 * A frame from the broker as the local mesh should see it: `next_hop` (frame bytes
 * 2-5) names a relay of the mesh where it was heard, which is not here, so it is set
 * to 0 (flood) and the local nodes relay it by their own rules. next_hop is one of
 * the three mutable routing fields every relay rewrites; it is outside the AEAD's
 * associated data, so nothing authenticated changes (PROTOCOL.md "Frame layout").
 */
export function forLocalMesh(frame: Uint8Array): Uint8Array {
  if (frame.length < 6 || (frame[2] | frame[3] | frame[4] | frame[5]) === 0) return frame;
  const copy = frame.slice();
  copy.fill(0, 2, 6);
  return copy;
}
