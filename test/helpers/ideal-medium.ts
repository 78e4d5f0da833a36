// An ideal in-process radio medium for multi-node tests of node.wasm.
//
// Discrete events on a virtual clock. A frame takes its LoRa airtime
// (Semtech AN1200.13) and reaches every live neighbour with a live link at the
// end of it, with the link's RSSI/SNR. Radios are half-duplex (a node that is
// transmitting hears nothing) and listen before talk (a node whose neighbour is
// on air is refused: radio_transmit returns busy), but there are no collisions
// or losses unless a test cuts a link or kills a node: routing is what is under
// test here, the physical model belongs to the simulator (sim/).
import { NodeHost, MemoryStore } from "../../host-tools/node/host.js";
import { DEFAULT_CONFIG, type NodeConfig, type NodeEvent } from "../../host-tools/node/protocol.js";

/** Semtech AN1200.13 time on air in ms (explicit header, CRC on). */
export function loraAirtimeMs(payloadBytes: number, sf: number, bwHz: number, cr: number, preambleSymbols: number): number {
  const tSym = 2 ** sf / bwHz;
  const de = tSym > 0.016 ? 1 : 0;
  const n = 8 + Math.max(Math.ceil((8 * payloadBytes - 4 * sf + 28 + 16) / (4 * (sf - 2 * de))) * (cr + 4), 0);
  return ((preambleSymbols + 4.25) * tSym + n * tSym) * 1000;
}

type Event = { at: number; seq: number; run: () => void };

export type Link = { snrDb: number; rssiDbm: number; up: boolean };

export type Transmission = { from: number; frame: Uint8Array; startMs: number; endMs: number };

export class IdealMedium {
  readonly nodes: NodeHost[] = [];
  readonly alive: boolean[] = [];
  readonly transmitting: boolean[] = [];
  readonly log: Transmission[] = [];
  readonly links = new Map<string, Link>();
  readonly storage: MemoryStore[] = [];
  nowMs: number;
  private queue: Event[] = [];
  private seq = 0;
  private wakeAt: number[] = [];
  private rngState: number;

  /** The core every node runs (default: build/cores/node.wasm). */
  module?: WebAssembly.Module;

  constructor(readonly config: NodeConfig = { ...DEFAULT_CONFIG, dutyCyclePermille: 0 }, seed = 1, startMs = Date.UTC(2026, 10, 25)) {
    this.nowMs = startMs;
    this.rngState = seed >>> 0 || 1;
  }

  /** xorshift32: deterministic randomness for the nodes of one test. */
  private random(out: Uint8Array): void {
    for (let i = 0; i < out.length; i++) {
      let x = this.rngState;
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      this.rngState = x;
      out[i] = x & 0xff;
    }
  }

  private configs: NodeConfig[] = [];
  private earlierEvents: NodeEvent[][] = [];

  private createHost(index: number, storage: MemoryStore): Promise<NodeHost> {
    return NodeHost.create({
      config: this.configs[index],
      now: () => this.nowMs,
      random: (out) => this.random(out),
      storage,
      transmit: (frame) => this.transmit(index, frame),
    }, this.module);
  }

  async addNode(name = `n${this.nodes.length}`, overrides: Partial<NodeConfig> = {}): Promise<number> {
    const index = this.nodes.length;
    const storage = new MemoryStore();
    this.configs.push({ ...this.config, nodeName: name, ...overrides });
    this.earlierEvents.push([]);
    const node = await this.createHost(index, storage);
    this.nodes.push(node);
    this.storage.push(storage);
    this.alive.push(true);
    this.transmitting.push(false);
    this.wakeAt.push(Infinity);
    this.schedulePoll(index, 0);
    return index;
  }

  private key(a: number, b: number) { return `${a}>${b}`; }

  /** A two-way link (the same SNR both ways unless `snrBackDb` is given). */
  link(a: number, b: number, snrDb = 0, snrBackDb = snrDb): void {
    this.links.set(this.key(a, b), { snrDb, rssiDbm: -100 + snrDb, up: true });
    this.links.set(this.key(b, a), { snrDb: snrBackDb, rssiDbm: -100 + snrBackDb, up: true });
  }

  setLink(a: number, b: number, up: boolean): void {
    for (const k of [this.key(a, b), this.key(b, a)]) {
      const l = this.links.get(k);
      if (l) l.up = up;
    }
  }

  kill(i: number): void { this.alive[i] = false; }
  revive(i: number): void { this.alive[i] = true; this.schedulePoll(i, 0); }

  /**
   * A reboot: a fresh instance of the core with the node's storage (what a board
   * keeps in flash) and nothing else; it comes back alive. Events from before stay
   * readable through events(i).
   */
  async reboot(i: number): Promise<void> {
    this.earlierEvents[i].push(...this.nodes[i].events);
    this.transmitting[i] = false;
    this.nodes[i] = await this.createHost(i, this.storage[i]);
    this.alive[i] = true;
    this.wakeAt[i] = Infinity;
    this.schedulePoll(i, 0);
  }

  events(i: number): NodeEvent[] { return [...this.earlierEvents[i], ...this.nodes[i].events]; }

  at(delayMs: number, run: () => void): void {
    this.queue.push({ at: this.nowMs + delayMs, seq: this.seq++, run });
  }

  private schedulePoll(i: number, delayMs: number): void {
    const at = this.nowMs + Math.max(0, delayMs);
    if (at >= this.wakeAt[i]) return;
    this.wakeAt[i] = at;
    this.at(Math.max(0, delayMs), () => {
      if (this.wakeAt[i] !== at) return;
      this.wakeAt[i] = Infinity;
      this.pollNode(i);
    });
  }

  /** Polls a node and schedules its next wake-up. */
  pollNode(i: number): void {
    if (!this.alive[i]) return;
    const next = this.nodes[i].poll();
    if (next >= 0) this.schedulePoll(i, next);
  }

  private transmit(from: number, frame: Uint8Array): boolean {
    if (!this.alive[from] || this.transmitting[from]) return false;
    // Listen before talk: a neighbour on air makes the channel busy.
    for (let other = 0; other < this.nodes.length; other++) {
      const l = this.links.get(this.key(other, from));
      if (this.transmitting[other] && l?.up && this.alive[other]) return false;
    }
    const c = this.config;
    const airMs = loraAirtimeMs(frame.length, c.sf, c.bwHz, c.cr, c.preambleSymbols);
    const tx: Transmission = { from, frame: frame.slice(), startMs: this.nowMs, endMs: this.nowMs + airMs };
    this.log.push(tx);
    this.transmitting[from] = true;
    this.at(airMs, () => {
      this.transmitting[from] = false;
      for (let to = 0; to < this.nodes.length; to++) {
        const l = this.links.get(this.key(from, to));
        if (!l || !l.up || !this.alive[to] || !this.alive[from] || this.transmitting[to]) continue;
        this.nodes[to].receive(tx.frame, l.rssiDbm, l.snrDb);
        this.pollNode(to);
      }
      if (this.alive[from]) {
        this.nodes[from].transmitDone();
        this.pollNode(from);
      }
    });
    return true;
  }

  /** Runs a command on node i now (and polls it). */
  act<T>(i: number, f: (n: NodeHost) => T): T {
    const r = f(this.nodes[i]);
    this.pollNode(i);
    return r;
  }

  /** Processes events until `untilMs` of virtual time have passed or `stop()` is true. */
  run(forMs: number, stop?: () => boolean): void {
    const end = this.nowMs + forMs;
    while (this.queue.length) {
      if (stop?.()) return;
      let best = 0;
      for (let k = 1; k < this.queue.length; k++) {
        const a = this.queue[k], b = this.queue[best];
        if (a.at < b.at || (a.at === b.at && a.seq < b.seq)) best = k;
      }
      const e = this.queue[best];
      if (e.at > end) break;
      this.queue.splice(best, 1);
      this.nowMs = Math.max(this.nowMs, e.at);
      e.run();
    }
    this.nowMs = Math.max(this.nowMs, end);
  }
}

/** A mesh of n nodes with the given links, each node announcing in turn so everyone knows everyone. */
export async function announcedMesh(n: number, links: Array<[number, number]>, module?: WebAssembly.Module): Promise<IdealMedium> {
  const m = new IdealMedium();
  m.module = module;
  for (let i = 0; i < n; i++) await m.addNode(`n${i}`);
  for (const [a, b] of links) m.link(a, b, 0);
  for (let i = 0; i < n; i++) {
    m.act(i, (node) => node.announce());
    m.run(60_000);
  }
  return m;
}
