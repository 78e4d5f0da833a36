// A simulated mesh: one node.wasm instance (NodeHost) per node, all on one
// simulated radio medium and one virtual clock.
//
// The mesh is the host of every node: it hands frames the node transmits to the
// medium, delivers the frames the medium lets through (with their RSSI/SNR), calls
// transmitDone when a transmission ends, and polls each node at the time the node
// asked for (and after every command and reception). Each node draws its random
// bytes from its own seeded stream; the clock is the scheduler's, offset to a fixed
// Unix time. Nothing reads the wall clock, so a seed fixes the whole run.
//
// Listen before talk (on by default, as Meshtastic does): when a node starts a
// transmission while channel-activity detection senses a frame, the radio refuses
// (the core keeps the frame queued) and the mesh polls the node again when the
// sensed frames end plus a random backoff of 0..lbtBackoffSlots-1 slots.
//
// Faults: kill(i) switches node i off (its radio goes quiet at once, a frame it was
// sending is cut short, and its core is never called again); revive(i) boots a new
// core instance on the same storage, so the identity and prekeys survive, while
// everything the core kept in memory (contacts, channels, routes, queues) is gone,
// as after a real reboot. Counters of killed instances are kept (counterSum).
import { loadNodeModule, MemoryStore, NodeHost } from "../host-tools/node/host.js";
import { DEFAULT_CONFIG, type NodeConfig, type NodeEvent } from "../host-tools/node/protocol.js";
import { Rng, type SeedPart } from "./engine/random.js";
import { Scheduler, type ScheduledEvent } from "./engine/scheduler.js";
import { LONG_FAST, type Modulation, symbolTimeMs } from "./radio/lora.js";
import { DEFAULT_FREQUENCY_HZ, Medium, type LossReason, type Position, type RadioOptions, type Transmission } from "./radio/medium.js";
import { ThreeGppMacroPathLoss, type PathLossModel } from "./radio/pathloss.js";

/** Frame types (firmware/PROTOCOL.md: flags bits 5-3). */
export const FrameType = { ANNOUNCE: 0, CHANNEL: 1, DIRECT: 2, ACK: 3, STORE: 4 } as const;

export function frameType(frame: Uint8Array): number { return (frame[0] >> 3) & 7; }

/** Frame id: nonce bytes 0-7 (frame bytes 10..17), hex. */
export function frameIdHex(frame: Uint8Array): string { return Buffer.from(frame.subarray(10, 18)).toString("hex"); }

/** Slot of the listen-before-talk backoff in symbols (the node core's contention slot is 3 symbols). */
export const LBT_SLOT_SYMBOLS = 3;
/** Backoff slots after a busy channel: 0..7 (Meshtastic's smallest contention window, CW 3, anchors.md). */
export const LBT_BACKOFF_SLOTS = 8;
/** Fixed start of the virtual clock: 2026-01-01T00:00:00Z. */
export const DEFAULT_START_UNIX_MS = Date.UTC(2026, 0, 1);
/** Polls at one instant that ask to be polled again at once before the mesh waits 1 ms (guards a spinning core). */
const MAX_ZERO_POLLS = 64;

export type TimedEvent = { atMs: number; node: number; event: NodeEvent };

export type MeshHooks = {
  transmit?(tx: Transmission): void;
  receive?(to: number, tx: Transmission, rssiDbm: number, snrDb: number): void;
  lost?(to: number, tx: Transmission, reason: LossReason): void;
  event?(e: TimedEvent): void;
};

export type MeshOptions = {
  seed: SeedPart;
  modulation?: Modulation;
  frequencyHz?: number;
  /** Default: 3GPP suburban macro at the mesh frequency (as Meshtastic's simulator). */
  pathLoss?: PathLossModel;
  linkOffsetSigmaDb?: number;
  interferenceDbm?: number | null;
  /** Radio defaults (power, gains, height, noise figure). */
  radio?: Omit<RadioOptions, "position" | "modulation" | "frequencyHz">;
  /** Node config on top of DEFAULT_CONFIG; the modulation fields come from `modulation`. */
  node?: Partial<NodeConfig>;
  listenBeforeTalk?: boolean;
  lbtBackoffSlots?: number;
  startUnixMs?: number;
  /**
   * Frame types taken from the nodes but never put on air (the node is told the
   * transmission ended at once). A measurement aid: benchmarks of one kind of traffic
   * use it to keep the others (e.g. the boot announces) out. Default: none.
   */
  discardFrameTypes?: number[];
  /** Keep the medium's log of every transmission and reception. */
  log?: boolean;
  /** Keep every node event in `events` (default true; long runs turn it off and use hooks). */
  keepEvents?: boolean;
  module?: WebAssembly.Module;
  hooks?: MeshHooks;
};

export type MeshStats = { lbtDeferrals: number; discardedFrames: number; polls: number };

/** Node counter ids (firmware/cores/node/stats.ts COUNTER_SLOTS: node 0..37, serial 38..43, storage 44..63) are 0..COUNTER_IDS-1. */
export const COUNTER_IDS = 64;

export class Mesh {
  readonly scheduler = new Scheduler();
  readonly medium: Medium;
  readonly nodes: NodeHost[] = [];
  readonly events: TimedEvent[] = [];
  readonly stats: MeshStats = { lbtDeferrals: 0, discardedFrames: 0, polls: 0 };
  readonly modulation: Modulation;
  readonly frequencyHz: number;
  /** The frame being handed to a node right now (set while its core runs node_receive), else null. */
  receiving: { to: number; tx: Transmission } | null = null;
  hooks: MeshHooks;
  private readonly seed: SeedPart;
  private readonly module: WebAssembly.Module;
  private readonly nodeDefaults: NodeConfig;
  private readonly lbt: boolean;
  private readonly lbtSlots: number;
  private readonly lbtSlotMs: number;
  private readonly startUnixMs: number;
  private readonly discard: Set<number>;
  private readonly wake: (ScheduledEvent | null)[] = [];
  private readonly wakeFns: (() => void)[] = [];
  private readonly deferUntil: number[] = [];
  private readonly hostRng: Rng[] = [];
  private readonly zeroPolls: { atMs: number; count: number }[] = [];
  private readonly keepEvents: boolean;
  private readonly storages: MemoryStore[] = [];
  private readonly configs: NodeConfig[] = [];
  private readonly alive: boolean[] = [];
  private readonly boots: number[] = [];
  private readonly retired = new Float64Array(COUNTER_IDS);

  private constructor(opts: MeshOptions, module: WebAssembly.Module) {
    this.seed = opts.seed;
    this.module = module;
    this.modulation = opts.modulation ?? LONG_FAST;
    this.frequencyHz = opts.frequencyHz ?? DEFAULT_FREQUENCY_HZ;
    this.hooks = opts.hooks ?? {};
    this.medium = new Medium(this.scheduler, {
      seed: opts.seed,
      pathLoss: opts.pathLoss ?? new ThreeGppMacroPathLoss({ frequencyHz: this.frequencyHz, environment: "suburban" }),
      linkOffsetSigmaDb: opts.linkOffsetSigmaDb,
      interferenceDbm: opts.interferenceDbm,
      defaults: { ...opts.radio, modulation: this.modulation, frequencyHz: this.frequencyHz },
      log: opts.log,
    });
    this.medium.listener = {
      onReceive: (to, tx, rssiDbm, snrDb) => this.deliver(to, tx, rssiDbm, snrDb),
      onLost: (to, tx, reason) => this.hooks.lost?.(to, tx, reason),
      onTransmitEnd: (tx) => this.transmitEnded(tx.from),
    };
    const m = this.modulation;
    this.nodeDefaults = { ...DEFAULT_CONFIG, ...opts.node, sf: m.sf, bwHz: m.bwHz, cr: m.cr, preambleSymbols: m.preambleSymbols };
    this.lbt = opts.listenBeforeTalk ?? true;
    this.lbtSlots = opts.lbtBackoffSlots ?? LBT_BACKOFF_SLOTS;
    this.lbtSlotMs = LBT_SLOT_SYMBOLS * symbolTimeMs(m.sf, m.bwHz);
    this.startUnixMs = opts.startUnixMs ?? DEFAULT_START_UNIX_MS;
    this.discard = new Set(opts.discardFrameTypes ?? []);
    this.keepEvents = opts.keepEvents ?? true;
  }

  static async create(opts: MeshOptions): Promise<Mesh> {
    return new Mesh(opts, opts.module ?? (await loadNodeModule()));
  }

  /** Virtual ms since the start of the run. */
  get nowMs(): number { return this.scheduler.nowMs; }

  /** The nodes' clock: Unix ms. */
  unixMs(): number { return this.startUnixMs + this.scheduler.nowMs; }

  get size(): number { return this.nodes.length; }

  /** Adds a node at `position` (its radio uses the mesh defaults unless overridden); returns its index. */
  async addNode(position: Position, opts: { config?: Partial<NodeConfig>; radio?: Omit<RadioOptions, "position" | "modulation" | "frequencyHz"> } = {}): Promise<number> {
    const index = this.nodes.length;
    const radio = this.medium.addRadio({ ...opts.radio, position });
    if (radio !== index) throw new Error("radio and node indices diverged");
    this.hostRng.push(new Rng(this.seed, "host", index));
    this.wake.push(null);
    this.wakeFns.push(() => {
      this.wake[index] = null;
      this.pollNode(index);
    });
    this.deferUntil.push(-Infinity);
    this.zeroPolls.push({ atMs: -1, count: 0 });
    this.storages.push(new MemoryStore());
    this.configs.push({ ...this.nodeDefaults, nodeName: `n${index}`, ...opts.config });
    this.alive.push(true);
    this.boots.push(0);
    this.nodes.push(await this.boot(index));
    this.schedulePoll(index, this.nowMs);
    return index;
  }

  /** A new core instance for node i on its storage; boot k > 0 draws from its own random stream. */
  private async boot(index: number): Promise<NodeHost> {
    const k = this.boots[index];
    const rng = k === 0 ? new Rng(this.seed, "node", index) : new Rng(this.seed, "node", index, "boot", k);
    return NodeHost.create({
      config: this.configs[index],
      now: () => this.unixMs(),
      random: (out) => rng.fill(out),
      storage: this.storages[index],
      transmit: (frame) => this.transmit(index, frame),
      onEvent: (event) => {
        const e = { atMs: this.nowMs, node: index, event };
        if (this.keepEvents) this.events.push(e);
        this.hooks.event?.(e);
      },
    }, this.module);
  }

  /** Whether node i is running (not killed, or revived since). */
  isAlive(i: number): boolean { return this.alive[i]; }

  /** The storage of node i (survives kill and revive). */
  storage(i: number): MemoryStore { return this.storages[i]; }

  /** The init config of node i. */
  config(i: number): NodeConfig { return this.configs[i]; }

  /**
   * Kills node i now: its radio is switched off (a frame on air is cut short, frames on
   * their way to it are not delivered) and its core is never called again.
   */
  kill(i: number): void {
    if (!this.alive[i]) return;
    for (let id = 0; id < COUNTER_IDS; id++) this.retired[id] += Math.max(0, this.nodes[i].counter(id));
    this.alive[i] = false;
    const w = this.wake[i];
    if (w) this.scheduler.cancel(w);
    this.wake[i] = null;
    this.medium.setRadioOn(i, false);
  }

  /** Reboots a killed node now: a new core instance with the same storage (identity and prekeys survive). */
  async revive(i: number): Promise<NodeHost> {
    if (this.alive[i]) throw new Error(`node ${i} is alive`);
    this.boots[i]++;
    const node = await this.boot(i);
    this.nodes[i] = node;
    this.alive[i] = true;
    this.deferUntil[i] = -Infinity;
    this.zeroPolls[i] = { atMs: -1, count: 0 };
    this.medium.setRadioOn(i, true);
    this.schedulePoll(i, this.nowMs);
    return node;
  }

  /** Counter `id` summed over every core instance that ran, killed ones included. */
  counterSum(id: number): number {
    let sum = this.retired[id] ?? 0;
    for (let i = 0; i < this.nodes.length; i++) if (this.alive[i]) sum += Math.max(0, this.nodes[i].counter(id));
    return sum;
  }

  /** Runs `fn` at `delayMs` from now. */
  at(delayMs: number, fn: () => void): ScheduledEvent { return this.scheduler.after(delayMs, fn); }

  /** Runs a command on node i now, then polls it (throws for a dead node). */
  act<T>(i: number, fn: (node: NodeHost) => T): T {
    if (!this.alive[i]) throw new Error(`node ${i} is dead`);
    const r = fn(this.nodes[i]);
    this.pollNode(i);
    return r;
  }

  run(forMs: number, stop?: () => boolean): void { this.scheduler.runFor(forMs, stop); }

  runUntil(atMs: number, stop?: () => boolean): void { this.scheduler.runUntil(atMs, stop); }

  /** Events of one node. */
  nodeEvents(i: number): NodeEvent[] { return this.nodes[i].events; }

  private deliver(to: number, tx: Transmission, rssiDbm: number, snrDb: number): void {
    if (!this.alive[to]) return;
    this.hooks.receive?.(to, tx, rssiDbm, snrDb);
    this.receiving = { to, tx };
    try {
      this.nodes[to].receive(tx.payload, Math.round(rssiDbm), snrDb);
    } finally {
      this.receiving = null;
    }
    this.pollNode(to);
  }

  private transmitEnded(from: number): void {
    if (!this.alive[from]) return;
    this.nodes[from].transmitDone();
    this.pollNode(from);
  }

  private transmit(i: number, frame: Uint8Array): boolean {
    if (!this.alive[i] || this.medium.transmitting(i) || this.nowMs < this.deferUntil[i]) return false;
    if (this.lbt && this.medium.channelActive(i)) {
      const until = this.medium.channelBusyUntilMs(i) + this.hostRng[i].int(this.lbtSlots) * this.lbtSlotMs;
      this.deferUntil[i] = until;
      this.stats.lbtDeferrals++;
      this.schedulePoll(i, until);
      return false;
    }
    if (this.discard.has(frameType(frame))) {
      this.stats.discardedFrames++;
      this.scheduler.after(0, () => this.transmitEnded(i));
      return true;
    }
    const tx = this.medium.transmit(i, frame);
    if (!tx) return false;
    this.hooks.transmit?.(tx);
    return true;
  }

  private schedulePoll(i: number, atMs: number): void {
    if (!this.alive[i]) return;
    const at = Math.max(atMs, this.deferUntil[i], this.nowMs);
    const current = this.wake[i];
    if (current) {
      if (current.atMs <= at) return;
      this.scheduler.cancel(current);
    }
    this.wake[i] = this.scheduler.at(at, this.wakeFns[i]);
  }

  /** Polls node i now and schedules the wake-up it asks for. */
  pollNode(i: number): void {
    if (!this.alive[i]) return;
    this.stats.polls++;
    const next = this.nodes[i].poll();
    if (next < 0) return;
    let at = this.nowMs + next;
    if (next === 0) {
      const z = this.zeroPolls[i];
      if (z.atMs === this.nowMs) z.count++; else { z.atMs = this.nowMs; z.count = 1; }
      if (z.count > MAX_ZERO_POLLS) at = this.nowMs + 1;
    }
    this.schedulePoll(i, at);
  }
}
