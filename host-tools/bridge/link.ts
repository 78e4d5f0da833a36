// The laptop end of the serial link (firmware/SERIAL.md) over a real or virtual
// serial port: opens the port with `serialport`, says HELLO, sends requests one at
// a time (each answered by a RESULT with its seq) and reports the device's events.
//
// When the port goes away (board unplugged, virtual node stopped) the link keeps
// its queue, retries opening the path with exponential backoff up to a cap, says
// HELLO again and then sends what was queued. Right after every HELLO (first connect
// and each reconnect) the link sets the node's clock to the laptop's (SET_TIME,
// SERIAL.md): a board has no date of its own. A refusal is reported, not fatal. A request that was written but not
// answered when the link broke is sent again after the reconnect (at least once:
// a board that reboots has lost it anyway).
import { EventEmitter } from "node:events";
import { SerialPort } from "serialport";
import type { NodeEvent } from "../node/protocol.js";
import {
  Req, SerialDecoder, encodeRequest, parseDeviceMessage, request as requests,
  type ClockState, type DeviceMessage, type Request, type SerialCounters,
} from "../serial/codec.js";
import { statusText } from "./messages.js";

const REQUEST_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(Req).map(([k, v]) => [v, k]));

export type Identity = { contactId: string; edPublic: string; xPublic: string };

export type LinkState = "idle" | "opening" | "handshake" | "connected" | "waiting" | "closed";

export type LinkOptions = {
  /** Serial device or pseudo-terminal path. */
  path: string;
  baudRate?: number;
  /** Reopen the port after it goes away (default true). Without it, a lost port fails every request. */
  reconnect?: boolean;
  /** First retry delay and the cap of the exponential backoff, in ms. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** How long HELLO may take before the port is reopened. */
  helloTimeoutMs?: number;
  /** How long any other request may wait for its RESULT. */
  requestTimeoutMs?: number;
  /** Requests waiting at most (beyond that a request is refused at once). */
  maxQueue?: number;
  /** Send SET_TIME with `now()` after every HELLO (default true). */
  setTime?: boolean;
  /** The laptop's clock for SET_TIME, ms since the Unix epoch (default Date.now). */
  now?: () => number;
};

/** What SET_TIME after a HELLO gave: the RESULT status (0 accepted, -5 refused or not supported) and the node's CLOCK reply. */
export type ClockSync = { status: number; sentMs: number; clock: { unixMs: number; state: ClockState } | null };

export type RequestOptions = {
  /** Refuse at once when the link is not connected, instead of queueing (for frames that go stale). */
  onlyWhenConnected?: boolean;
};

/** The RESULT status and the device messages that came with it (IDENTITY, CONTACT, STATUS, CONFIG...). */
export type RequestResult = { status: number; replies: DeviceMessage[] };

export class LinkError extends Error {
  constructor(message: string, readonly code: "closed" | "timeout" | "queue_full" | "not_connected" | "open_failed") {
    super(message);
    this.name = "LinkError";
  }
}

type Pending = {
  req: Request;
  seq: number;
  replies: DeviceMessage[];
  resolve: (r: RequestResult) => void;
  reject: (e: Error) => void;
  /** Part of the handshake (HELLO, SET_TIME): never queued again after a lost port. */
  handshake?: boolean;
};

export interface SerialLinkEvents {
  state: [state: LinkState, detail?: string];
  connected: [identity: Identity];
  disconnected: [reason: string];
  event: [event: NodeEvent];
  radioFrame: [frame: Uint8Array, rssiDbm: number, snrDb: number];
  serialErrors: [counters: SerialCounters];
  log: [level: number, text: string];
  /** After each HELLO: the answer to SET_TIME (also when the node refused it). */
  clockSync: [sync: ClockSync];
}

export class SerialLink extends EventEmitter<SerialLinkEvents> {
  readonly path: string;
  private readonly opts: Required<Omit<LinkOptions, "path">>;
  private port: SerialPort | null = null;
  private decoder: SerialDecoder | null = null;
  private _state: LinkState = "idle";
  private seq = Math.floor(Math.random() * 0x10000);
  private readonly queue: Pending[] = [];
  private inflight: Pending | null = null;
  private inflightTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private attempts = 0;
  private generation = 0;
  private _identity: Identity | null = null;
  private _clockSync: ClockSync | null = null;
  private lastError = "";
  /** Times the link reached "connected" (the first connect included). */
  connects = 0;

  constructor(options: LinkOptions) {
    super();
    this.path = options.path;
    this.opts = {
      baudRate: options.baudRate ?? 115200,
      reconnect: options.reconnect ?? true,
      backoffInitialMs: options.backoffInitialMs ?? 250,
      backoffMaxMs: options.backoffMaxMs ?? 5000,
      helloTimeoutMs: options.helloTimeoutMs ?? 3000,
      requestTimeoutMs: options.requestTimeoutMs ?? 5000,
      maxQueue: options.maxQueue ?? 256,
      setTime: options.setTime ?? true,
      now: options.now ?? Date.now,
    };
  }

  get state(): LinkState {
    return this._state;
  }

  get connected(): boolean {
    return this._state === "connected";
  }

  /** The node's identity from the last HELLO (kept while disconnected). */
  get identity(): Identity | null {
    return this._identity;
  }

  /** The answer to the last SET_TIME (null before the first, or with setTime off). */
  get clockSync(): ClockSync | null {
    return this._clockSync;
  }

  /** Requests waiting to be sent (not counting the one in flight). */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Starts the link. Resolves at the first successful HELLO. With reconnect off,
   * rejects when the port cannot be opened or does not answer HELLO.
   */
  start(): Promise<Identity> {
    if (this._state !== "idle") throw new Error("the link was started already");
    const first = new Promise<Identity>((resolve, reject) => {
      const onConnected = (id: Identity) => { cleanup(); resolve(id); };
      const onState = (s: LinkState, detail?: string) => {
        if (s === "closed") { cleanup(); reject(new LinkError(detail ?? "link closed", "open_failed")); }
      };
      const cleanup = () => { this.off("connected", onConnected); this.off("state", onState); };
      this.on("connected", onConnected);
      this.on("state", onState);
    });
    this.open();
    return first;
  }

  /** Sends a request (queued while the link is down) and resolves with its RESULT status and the packets before it. */
  request(req: Request, options: RequestOptions = {}): Promise<RequestResult> {
    if (this._state === "closed") return Promise.reject(new LinkError("the serial link is closed", "closed"));
    if (options.onlyWhenConnected && !this.connected) return Promise.reject(new LinkError("the node is not connected", "not_connected"));
    if (this.queue.length >= this.opts.maxQueue) return Promise.reject(new LinkError(`the outgoing queue is full (${this.opts.maxQueue} requests)`, "queue_full"));
    return new Promise((resolve, reject) => {
      this.queue.push({ req, seq: 0, replies: [], resolve, reject });
      this.pump();
    });
  }

  /** Stops for good: closes the port and fails what is still queued. */
  close(): Promise<void> {
    return this.shutdown("closed by the program");
  }

  private async shutdown(detail: string): Promise<void> {
    if (this._state === "closed") return;
    this.setState("closed", detail);
    this.generation++;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.clearInflightTimer();
    const err = new LinkError(detail === "closed by the program" ? "the serial link was closed" : `the serial link failed: ${detail}`, "closed");
    if (this.inflight) { this.inflight.reject(err); this.inflight = null; }
    for (const p of this.queue.splice(0)) p.reject(err);
    const port = this.port;
    this.port = null;
    this.decoder = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  // ------------------------------------------------------------ connection

  private setState(state: LinkState, detail?: string): void {
    if (this._state === state) return;
    this._state = state;
    this.emit("state", state, detail);
  }

  private open(): void {
    const gen = ++this.generation;
    this.setState("opening");
    const port = new SerialPort({ path: this.path, baudRate: this.opts.baudRate, autoOpen: false });
    this.port = port;
    port.on("error", (err) => this.lost(gen, `serial port error: ${err.message}`));
    port.on("close", (err?: Error | null) => this.lost(gen, err ? `port closed: ${err.message}` : "port closed"));
    port.open((err) => {
      if (gen !== this.generation) { if (!err) port.close(() => {}); return; }
      if (err) { this.lost(gen, `cannot open ${this.path}: ${err.message}`); return; }
      const decoder = new SerialDecoder();
      this.decoder = decoder;
      port.on("data", (chunk: Buffer) => {
        if (gen !== this.generation) return;
        for (const p of decoder.push(chunk)) {
          this.onMessage(gen, parseDeviceMessage(p));
          if (gen !== this.generation) return;
        }
      });
      this.handshake(gen);
    });
  }

  private handshake(gen: number): void {
    this.setState("handshake");
    const hello: Pending = {
      req: requests.hello(), seq: 0, replies: [], handshake: true,
      resolve: (r) => {
        if (gen !== this.generation) return;
        const identified = r.replies.some((m) => m.kind === "event" && m.event.type === "identity");
        if (r.status !== 0 || !identified || !this._identity) {
          this.lost(gen, r.status !== 0 ? `HELLO refused: ${statusText(r.status)}` : "HELLO answered without IDENTITY");
          return;
        }
        if (this.opts.setTime) this.syncClock(gen);
        else this.ready(gen);
      },
      reject: (e) => this.lost(gen, e.message),
    };
    // A delimiter first ends any partial frame the device may hold from before.
    this.port?.write(Buffer.from([0]));
    this.transmit(hello, this.opts.helloTimeoutMs);
  }

  /**
   * SET_TIME with the laptop's clock, before anything queued is sent. A refusal (-5: out of
   * range, more than an hour back, or firmware without SET_TIME) is reported through
   * `clockSync` and the link connects anyway; no answer at all is a lost port, like HELLO.
   */
  private syncClock(gen: number): void {
    const sentMs = Math.round(this.opts.now());
    let req: Request;
    try {
      req = requests.setTime(sentMs);
    } catch {
      this._clockSync = { status: -5, sentMs, clock: null };
      this.emit("clockSync", this._clockSync);
      this.ready(gen);
      return;
    }
    const p: Pending = {
      req, seq: 0, replies: [], handshake: true,
      resolve: (r) => {
        if (gen !== this.generation) return;
        const c = r.replies.find((m) => m.kind === "clock");
        this._clockSync = { status: r.status, sentMs, clock: c && c.kind === "clock" ? { unixMs: c.unixMs, state: c.state } : null };
        this.emit("clockSync", this._clockSync);
        this.ready(gen);
      },
      reject: (e) => this.lost(gen, e.message),
    };
    this.transmit(p, this.opts.helloTimeoutMs);
  }

  private ready(gen: number): void {
    if (gen !== this.generation || !this._identity) return;
    this.attempts = 0;
    this.connects++;
    this.setState("connected");
    this.emit("connected", this._identity);
    this.pump();
  }

  /** The port went away or failed: keep the queue, retry later (or give up without reconnect). */
  private lost(gen: number, reason: string): void {
    if (gen !== this.generation || this._state === "closed") return;
    this.generation++;
    this.lastError = reason;
    this.clearInflightTimer();
    const wasConnected = this._state === "connected";
    if (this.inflight) {
      // Written but unanswered: send it again after the reconnect (HELLO is redone anyway).
      if (!this.inflight.handshake) { this.inflight.replies = []; this.queue.unshift(this.inflight); }
      this.inflight = null;
    }
    const port = this.port;
    this.port = null;
    this.decoder = null;
    if (port?.isOpen) port.close(() => {});
    if (wasConnected) this.emit("disconnected", reason);
    if (!this.opts.reconnect) {
      void this.shutdown(reason);
      return;
    }
    const delay = Math.min(this.opts.backoffMaxMs, this.opts.backoffInitialMs * 2 ** Math.min(this.attempts, 30));
    this.attempts++;
    this.setState("waiting", `${reason}; retrying in ${delay} ms`);
    this.retryTimer = setTimeout(() => { this.retryTimer = null; if (this._state !== "closed") this.open(); }, delay);
  }

  /** Why the link last failed (empty when it never did). */
  get lastFailure(): string {
    return this.lastError;
  }

  // ------------------------------------------------------------ requests

  private nextSeq(): number {
    this.seq = (this.seq + 1) & 0xffff;
    return this.seq;
  }

  private pump(): void {
    if (!this.connected || this.inflight || this.queue.length === 0) return;
    const p = this.queue.shift()!;
    this.transmit(p, this.opts.requestTimeoutMs);
  }

  private transmit(p: Pending, timeoutMs: number): void {
    p.seq = this.nextSeq();
    p.replies = [];
    this.inflight = p;
    const gen = this.generation;
    this.inflightTimer = setTimeout(() => {
      this.inflightTimer = null;
      if (gen !== this.generation || this.inflight !== p) return;
      this.inflight = null;
      const name = REQUEST_NAMES[p.req.type] ?? `request 0x${p.req.type.toString(16)}`;
      if (p.handshake) { this.lost(gen, `no answer to ${name} within ${timeoutMs} ms`); return; }
      // No RESULT: the device is gone or wedged. Fail this request and start over.
      p.reject(new LinkError(`no answer to ${name} within ${timeoutMs} ms`, "timeout"));
      this.lost(gen, `no answer to ${name} within ${timeoutMs} ms`);
    }, timeoutMs);
    this.port?.write(Buffer.from(encodeRequest(p.req, p.seq)));
  }

  private clearInflightTimer(): void {
    if (this.inflightTimer) clearTimeout(this.inflightTimer);
    this.inflightTimer = null;
  }

  /** Serial errors the laptop side counted on this link (the device counts its own: SERIAL_ERRORS). */
  get localSerialErrors(): SerialCounters | null {
    return this.decoder ? { ...this.decoder.counters } : null;
  }

  private onMessage(gen: number, m: DeviceMessage): void {
    const p = this.inflight;
    switch (m.kind) {
      case "result":
        if (p && p.seq === m.seq) {
          this.clearInflightTimer();
          this.inflight = null;
          p.resolve({ status: m.status, replies: p.replies });
          if (gen === this.generation) this.pump();
        }
        return;
      case "status":
      case "config":
      case "clock":
        if (p && p.seq === m.seq) p.replies.push(m);
        return;
      case "serialErrors":
        if (p && p.seq === m.seq) p.replies.push(m);
        this.emit("serialErrors", m.counters);
        return;
      case "radioFrame":
        this.emit("radioFrame", m.frame, m.rssiDbm, m.snrDb);
        return;
      case "log":
        this.emit("log", m.level, m.text);
        return;
      case "event": {
        const e = m.event;
        if (e.type === "identity") {
          this._identity = {
            contactId: e.contactId,
            edPublic: Buffer.from(e.edPublic).toString("hex"),
            xPublic: Buffer.from(e.xPublic).toString("hex"),
          };
        }
        if (p && p.seq === m.seq && (e.type === "identity" || e.type === "contact")) p.replies.push(m);
        this.emit("event", e);
        return;
      }
      case "unknown":
        return;
    }
  }
}
