// The software radio of a virtual node: LoRa frames as UDP datagrams, one frame
// per datagram, between virtual nodes on one machine or a LAN.
//
// - transmit(frame) takes the frame when the radio is idle and keeps it busy for the
//   frame's LoRa time on air (Semtech AN1200.13, the node's modulation). The frame
//   goes to every peer as one datagram when it starts (each copy lost with
//   probability `loss`, delayed by `delayMs`); the receiver hands it to its node
//   only after the same time on air, so a frame is heard when its transmission ends,
//   as on a real radio, and a receiver knows the channel is busy meanwhile.
// - Half duplex and listen-before-talk: a datagram that arrives while this radio is
//   transmitting is lost (a radio cannot hear while it sends); while a frame is
//   being received, transmit() answers busy (the core's channel-activity check
//   backs off and retries), so two neighbours rarely talk over each other.
// - Datagrams that cannot be a LoRa frame (empty, over 255 bytes) are ignored and
//   counted; the node core's own checks refuse anything else.
import dgram from "node:dgram";
import { isIP } from "node:net";
import { airtimeMs } from "../../sim/radio/lora.js";
import type { NodeConfig } from "../node/protocol.js";

export type Endpoint = { host: string; port: number };

export class AddressError extends Error {}

/** Reads HOST:PORT, [IPv6]:PORT or a bare PORT (on `defaultHost`). */
export function parseEndpoint(text: string, defaultHost = "127.0.0.1"): Endpoint {
  const t = text.trim();
  let host = defaultHost;
  let port: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(t);
  if (v6) {
    host = v6[1];
    port = v6[2];
  } else if (/^\d+$/.test(t)) {
    port = t;
  } else {
    const i = t.lastIndexOf(":");
    if (i <= 0) throw new AddressError(`"${text}" is not HOST:PORT`);
    host = t.slice(0, i);
    port = t.slice(i + 1);
  }
  const p = /^\d+$/.test(port) ? Number(port) : NaN;
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw new AddressError(`"${text}": port must be 0..65535`);
  if (host === "localhost") host = "127.0.0.1";
  if (!isIP(host)) throw new AddressError(`"${text}": the host must be an IP address (such as 127.0.0.1 or 192.168.1.20)`);
  return { host, port: p };
}

export const formatEndpoint = (e: Endpoint) => (isIP(e.host) === 6 ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`);

export type UdpRadioOptions = {
  listen: Endpoint;
  peers: Endpoint[];
  config: Pick<NodeConfig, "sf" | "bwHz" | "cr" | "preambleSymbols">;
  /** Probability 0..1 that one copy of a frame to one peer is lost. */
  loss?: number;
  /** Extra delay of every copy, ms. */
  delayMs?: number;
  rssiDbm?: number;
  snrDb?: number;
  /** A frame heard. */
  onFrame: (frame: Uint8Array, rssiDbm: number, snrDb: number) => void;
  /** The frame given to transmit() is off the air. */
  onTxDone: () => void;
  /** Randomness for losses (default Math.random). */
  random?: () => number;
};

export type RadioStats = {
  sent: number;
  /** transmit() refused: on air already, or a frame being received (listen before talk). */
  busy: number;
  copiesSent: number;
  copiesLost: number;
  sendErrors: number;
  received: number;
  lostWhileTransmitting: number;
  ignored: number;
};

export class UdpRadio {
  readonly stats: RadioStats = { sent: 0, busy: 0, copiesSent: 0, copiesLost: 0, sendErrors: 0, received: 0, lostWhileTransmitting: 0, ignored: 0 };
  private socket: dgram.Socket | null = null;
  private transmitting = false;
  /** Frames on their way in (heard when their time on air is over). */
  private receiving = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  /** The bound address (the port is known after listen()). */
  address: Endpoint;

  constructor(private readonly opts: UdpRadioOptions) {
    this.address = { ...opts.listen };
  }

  /** Binds the UDP socket; resolves with the bound address. */
  listen(): Promise<Endpoint> {
    const type = isIP(this.opts.listen.host) === 6 ? "udp6" : "udp4";
    const socket = dgram.createSocket({ type, reuseAddr: false });
    this.socket = socket;
    socket.on("message", (msg) => this.heard(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength)));
    return new Promise((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(this.opts.listen.port, this.opts.listen.host, () => {
        socket.off("error", reject);
        socket.on("error", () => { this.stats.sendErrors++; });
        const a = socket.address();
        this.address = { host: a.address, port: a.port };
        resolve(this.address);
      });
    });
  }

  /** New modulation (a CONFIG_SET over the serial link changed it): later frames take its time on air. */
  setModulation(m: Pick<NodeConfig, "sf" | "bwHz" | "cr" | "preambleSymbols">): void {
    this.opts.config = { sf: m.sf, bwHz: m.bwHz, cr: m.cr, preambleSymbols: m.preambleSymbols };
  }

  airtimeMs(len: number): number {
    const { sf, bwHz, cr, preambleSymbols } = this.opts.config;
    return airtimeMs(len, { sf, bwHz, cr, preambleSymbols });
  }

  /** On air, or hearing a frame. */
  get busy(): boolean { return this.transmitting || this.receiving > 0; }

  /** Starts sending a frame: false when the channel is busy (on air already, or a frame coming in). */
  transmit(frame: Uint8Array): boolean {
    if (this.closed || frame.length < 1 || frame.length > 255) return false;
    if (this.busy) { this.stats.busy++; return false; }
    this.transmitting = true;
    this.stats.sent++;
    const copy = Buffer.from(frame);
    for (const peer of this.opts.peers) {
      if ((this.opts.loss ?? 0) > 0 && (this.opts.random ?? Math.random)() < this.opts.loss!) {
        this.stats.copiesLost++;
        continue;
      }
      const send = () => this.socket?.send(copy, peer.port, peer.host, (err) => {
        if (err) this.stats.sendErrors++;
        else this.stats.copiesSent++;
      });
      if ((this.opts.delayMs ?? 0) > 0) this.later(this.opts.delayMs!, send);
      else send();
    }
    this.later(this.airtimeMs(frame.length), () => {
      this.transmitting = false;
      this.opts.onTxDone();
    });
    return true;
  }

  /** A datagram: the start of a frame on the air; heard once its time on air is over. */
  private heard(frame: Uint8Array): void {
    if (this.closed) return;
    if (frame.length < 1 || frame.length > 255) { this.stats.ignored++; return; }
    if (this.transmitting) { this.stats.lostWhileTransmitting++; return; }
    const copy = frame.slice();
    this.receiving++;
    this.later(this.airtimeMs(copy.length), () => {
      this.receiving--;
      this.stats.received++;
      this.opts.onFrame(copy, this.opts.rssiDbm ?? -90, this.opts.snrDb ?? 5);
    });
  }

  private later(ms: number, run: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) run();
    }, Math.max(0, ms));
    this.timers.add(t);
  }

  close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const s = this.socket;
    this.socket = null;
    return new Promise((resolve) => (s ? s.close(() => resolve()) : resolve()));
  }
}
