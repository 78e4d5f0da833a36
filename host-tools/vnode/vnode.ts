// A virtual node (`outcaxt node`): node.wasm on the laptop with a software radio
// over UDP (radio.ts), its serial link (firmware/SERIAL.md, spoken by the core
// itself) on a pseudo-terminal made by socat (pty.ts), and its storage in a state
// folder (store.ts). The bridge and any serial tool attach to the pty exactly as to
// a USB board.
//
// The host part is small on purpose: time, randomness, the radio, storage and the
// bytes of the serial line. Every decision, and every byte on the serial link but
// the LOG lines, comes from the core, so a virtual node behaves like a board.
import { MemoryStore, NodeHost, type KeyValueStore } from "../node/host.js";
import { DEFAULT_CONFIG, decodeConfig, type NodeConfig } from "../node/protocol.js";
import { LogLevel, Msg, SerialDecoder, encodeLog, parseDeviceMessage } from "../serial/codec.js";
import { SocatPty } from "./pty.js";
import { UdpRadio, formatEndpoint, type Endpoint, type RadioStats } from "./radio.js";
import { FileStore } from "./store.js";

export type VirtualNodeOptions = {
  /** Config options given explicitly; the rest come from the state folder's `config` (set over serial), else DEFAULT_CONFIG. */
  config?: Partial<NodeConfig>;
  listen: Endpoint;
  peers: Endpoint[];
  loss?: number;
  delayMs?: number;
  rssiDbm?: number;
  snrDb?: number;
  /** Identity and storage survive restarts here; without it they live in memory only. */
  stateDir?: string;
  /** A stable symlink to the pty. */
  ptyLink?: string;
  socatBin?: string;
  /** The core (default build/cores/node.wasm). */
  module?: WebAssembly.Module;
  /** Pty restarts and failures, for the command's output. */
  onNotice?: (notice: Notice) => void;
};

export type Notice =
  | { event: "pty"; pty: string; link?: string }
  | { event: "pty-lost"; pty: string; link?: string; reason: string }
  | { event: "failed"; reason: string };

export type VirtualNodeInfo = {
  pty: string;
  link?: string;
  contactId: string;
  name: string;
  mesh: string;
  udp: Endpoint;
  peers: Endpoint[];
  state?: string;
};

/** A pty that dies sooner than this after it started counts as a failed start. */
const PTY_STABLE_MS = 5000;
const PTY_RESTART_MS = 500;
const PTY_MAX_FAILURES = 5;
/** The core's wake-ups are capped so a clock that jumps is noticed within a minute. */
const POLL_MAX_MS = 60_000;
/** At most one LOG line about UDP errors per this many ms. */
const LOG_EVERY_MS = 10_000;

/** The config a virtual node runs: explicit options over the stored config over the defaults; serial always on. */
export function effectiveConfig(explicit: Partial<NodeConfig>, stored: Uint8Array | undefined): NodeConfig {
  let base: NodeConfig = { ...DEFAULT_CONFIG, nodeName: "vnode" };
  if (stored) {
    try { base = decodeConfig(stored); } catch { /* unreadable: the defaults */ }
  }
  const defined = Object.fromEntries(Object.entries(explicit).filter(([, v]) => v !== undefined)) as Partial<NodeConfig>;
  return { ...base, ...defined, serial: true };
}

export class VirtualNode {
  readonly radio: UdpRadio;
  readonly pty: SocatPty;
  config: NodeConfig;
  node!: NodeHost;
  contactId = "";
  /** Resolves with the exit code once the node has stopped (stop(), or a fatal pty failure). */
  readonly done: Promise<number>;
  private finish!: (code: number) => void;
  private readonly tap = new SerialDecoder();
  private pollTimer: NodeJS.Timeout | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private ptyStartedAt = 0;
  private ptyFailures = 0;
  private stopped = false;
  private lastLogAt = 0;
  private lastSendErrors = 0;
  /** The stored config last seen (set over serial). */
  private storedConfig: Uint8Array | undefined;

  private constructor(private readonly opts: VirtualNodeOptions, private readonly store: KeyValueStore & { unlock?: () => void }) {
    this.storedConfig = store.get("config");
    this.config = effectiveConfig(opts.config ?? {}, this.storedConfig);
    this.done = new Promise((resolve) => { this.finish = resolve; });
    this.radio = new UdpRadio({
      listen: opts.listen,
      peers: opts.peers,
      config: this.config,
      loss: opts.loss,
      delayMs: opts.delayMs,
      rssiDbm: opts.rssiDbm,
      snrDb: opts.snrDb,
      onFrame: (frame, rssi, snr) => { this.node.receive(frame, rssi, snr); this.kick(); },
      onTxDone: () => { this.node.transmitDone(); this.noteSendErrors(); this.kick(); },
    });
    this.pty = new SocatPty(opts.ptyLink, opts.socatBin);
    this.pty.on("data", (bytes) => {
      if (this.stopped) return;
      this.node.serialReceive(bytes);
      this.followConfig();
      this.kick();
    });
    this.pty.on("exit", ({ code, signal }) => this.ptyLost(signal ? `socat was stopped by ${signal}` : `socat exited with code ${code}`));
  }

  /** Starts the node: state folder, UDP socket, the core, then the pty. */
  static async start(opts: VirtualNodeOptions): Promise<VirtualNode> {
    let store: KeyValueStore & { unlock?: () => void };
    if (opts.stateDir) {
      const fs = new FileStore(opts.stateDir);
      fs.lock();
      store = fs;
    } else {
      store = new MemoryStore();
    }
    let v: VirtualNode | null = null;
    try {
      v = new VirtualNode(opts, store);
      const self = v;
      v.node = await NodeHost.create({
        config: v.config,
        now: () => Date.now(),
        storage: store,
        transmit: (frame) => self.radio.transmit(frame),
        onSerial: (bytes) => self.fromCore(bytes),
      }, opts.module);
      await v.radio.listen();
      await v.startPty();
      v.kick();
      return v;
    } catch (err) {
      if (v) await v.shutdown();
      store.unlock?.();
      throw err;
    }
  }

  get info(): VirtualNodeInfo {
    return {
      pty: this.pty.path,
      link: this.opts.ptyLink,
      contactId: this.contactId,
      name: this.config.nodeName,
      mesh: this.config.meshName,
      udp: this.radio.address,
      peers: this.opts.peers,
      state: this.opts.stateDir,
    };
  }

  get radioStats(): RadioStats { return this.radio.stats; }

  /** Serial bytes from the core: to the pty; the IDENTITY in them names the node. */
  private fromCore(bytes: Uint8Array): void {
    for (const p of this.tap.push(bytes)) {
      if (p.type !== Msg.IDENTITY) continue;
      const m = parseDeviceMessage(p);
      if (m.kind === "event" && m.event.type === "identity") this.contactId = m.event.contactId;
    }
    if (!this.stopped) this.pty.write(bytes);
  }

  /** A LOG line of the host on the serial link (between two of the core's frames). */
  log(level: number, text: string): void {
    if (!this.stopped) this.pty.write(encodeLog(level, text));
  }

  private noteSendErrors(): void {
    const errors = this.radio.stats.sendErrors;
    if (errors === this.lastSendErrors) return;
    this.lastSendErrors = errors;
    const now = Date.now();
    if (now - this.lastLogAt < LOG_EVERY_MS) return;
    this.lastLogAt = now;
    this.log(LogLevel.WARNING, `virtual radio: ${errors} UDP send errors so far (peers ${this.opts.peers.map(formatEndpoint).join(", ")})`);
  }

  /** A CONFIG_SET over the serial link restarted the core with a new config (stored under `config`): the radio follows its modulation. */
  private followConfig(): void {
    const stored = this.store.get("config");
    if (!stored || (this.storedConfig && Buffer.from(stored).equals(Buffer.from(this.storedConfig)))) return;
    this.storedConfig = stored;
    try {
      this.config = { ...decodeConfig(stored), serial: true };
      this.radio.setModulation(this.config);
    } catch { /* the core refuses what it cannot read; nothing changed */ }
  }

  /** Runs the core's timers and schedules the next wake-up. */
  private kick(): void {
    if (this.stopped) return;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    const next = this.node.poll();
    if (next >= 0) this.pollTimer = setTimeout(() => this.kick(), Math.min(next, POLL_MAX_MS));
  }

  private async startPty(): Promise<void> {
    const path = await this.pty.start();
    this.ptyStartedAt = Date.now();
    this.opts.onNotice?.({ event: "pty", pty: path, link: this.opts.ptyLink });
  }

  private ptyLost(reason: string): void {
    if (this.stopped) return;
    this.opts.onNotice?.({ event: "pty-lost", pty: this.pty.path, link: this.opts.ptyLink, reason });
    if (Date.now() - this.ptyStartedAt >= PTY_STABLE_MS) this.ptyFailures = 0;
    this.ptyFailures++;
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.stopped) return;
    if (this.ptyFailures > PTY_MAX_FAILURES) {
      void this.fail(`the pseudo-terminal failed ${this.ptyFailures} times in a row; giving up`);
      return;
    }
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopped) return;
      this.startPty().catch((err: Error) => {
        this.opts.onNotice?.({ event: "pty-lost", pty: "", link: this.opts.ptyLink, reason: err.message });
        this.ptyFailures++;
        this.scheduleRestart();
      });
    }, PTY_RESTART_MS * this.ptyFailures);
  }

  private async fail(reason: string): Promise<void> {
    this.opts.onNotice?.({ event: "failed", reason });
    await this.shutdown();
    this.finish(1);
  }

  /** Clean shutdown: timers, the pty (socat killed), the UDP socket, the state lock. */
  async stop(): Promise<void> {
    await this.shutdown();
    this.finish(0);
  }

  private async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await Promise.all([this.pty.stop(), this.radio.close()]);
    this.store.unlock?.();
  }
}
