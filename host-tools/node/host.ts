// Runs node.wasm on a laptop (or in the simulator / tests): supplies the imports
// of firmware/ABI.md ("Core: node.wasm") and wraps the exports.
//
// The host owns time, randomness, the radio and storage; the core owns every
// decision. One NodeHost = one node = one WebAssembly instance with its own memory.
import { readFile } from "node:fs/promises";
import { randomFillSync } from "node:crypto";
import { decodeEvent, encodeConfig, encodeJoinChannel, encodeSendChannel, encodeSendDirect, Command, type NodeConfig, type NodeEvent } from "./protocol.js";

export type KeyValueStore = {
  get(key: string): Uint8Array | undefined;
  set(key: string, value: Uint8Array): void;
};

export class MemoryStore implements KeyValueStore {
  readonly map = new Map<string, Uint8Array>();
  get(key: string) { return this.map.get(key); }
  set(key: string, value: Uint8Array) { this.map.set(key, value.slice()); }
}

export type NodeHostOptions = {
  config: NodeConfig;
  /** Current time in ms (Unix epoch when known). */
  now: () => number;
  /** Start transmitting a frame; return false when the radio cannot (the core retries). */
  transmit: (frame: Uint8Array) => boolean;
  random?: (out: Uint8Array) => void;
  storage?: KeyValueStore;
  onEvent?: (event: NodeEvent) => void;
  onLog?: (level: number, text: string) => void;
  /** Framed bytes for the serial line (env.serial_write, firmware/SERIAL.md); ignored by default. Must not call back into the node. */
  onSerial?: (bytes: Uint8Array) => void;
};

type Fn = (...args: number[]) => number;

/** Compiled node.wasm, loaded once per process. */
let compiled: Promise<WebAssembly.Module> | null = null;

export function defaultNodeWasmUrl(): URL {
  const here = new URL(".", import.meta.url);
  const fromDist = here.pathname.includes("/dist/host-tools/");
  return new URL(fromDist ? "../../../build/cores/node.wasm" : "../../build/cores/node.wasm", here);
}

export function loadNodeModule(): Promise<WebAssembly.Module> {
  compiled ??= readFile(defaultNodeWasmUrl()).then((b) => WebAssembly.compile(new Uint8Array(b)));
  return compiled;
}

/** A node core from a file (any core with node.wasm's ABI, such as build/cores/node-flood.wasm). */
export async function loadCoreModule(file: string | URL): Promise<WebAssembly.Module> {
  return WebAssembly.compile(new Uint8Array(await readFile(file)));
}

/** The baseline core with plain flooding, built beside node.wasm. */
export function baselineNodeWasmUrl(): URL {
  return new URL("node-flood.wasm", defaultNodeWasmUrl());
}

/** Drop and status codes of node_receive / node_command (firmware/cores/node/status.ts). */
export class NodeHost {
  readonly exports: Record<string, Fn> & { memory: WebAssembly.Memory };
  readonly events: NodeEvent[] = [];
  private readonly opts: Required<Omit<NodeHostOptions, "onEvent" | "onLog" | "onSerial">> & Pick<NodeHostOptions, "onEvent" | "onLog" | "onSerial">;
  private readonly io: number;
  private readonly ioLen: number;
  private readonly dec = new TextDecoder();

  private constructor(module: WebAssembly.Module, opts: NodeHostOptions) {
    this.opts = { random: randomFillSync, storage: new MemoryStore(), ...opts };
    const mem = () => new Uint8Array(this.exports.memory.buffer);
    const bytes = (ptr: number, len: number) => mem().slice(ptr, ptr + len);
    const imports = {
      env: {
        radio_transmit: (ptr: number, len: number) => (this.opts.transmit(bytes(ptr, len)) ? 0 : -1),
        clock_now_ms: () => this.opts.now(),
        random_fill: (ptr: number, len: number) => { this.opts.random(mem().subarray(ptr, ptr + len)); },
        app_event: (ptr: number, len: number) => {
          const e = decodeEvent(bytes(ptr, len));
          this.events.push(e);
          this.opts.onEvent?.(e);
        },
        storage_get: (keyPtr: number, keyLen: number, valPtr: number, valCap: number) => {
          const v = this.opts.storage.get(this.dec.decode(bytes(keyPtr, keyLen)));
          if (!v) return -1;
          if (v.length > valCap) return -2;
          mem().set(v, valPtr);
          return v.length;
        },
        storage_put: (keyPtr: number, keyLen: number, valPtr: number, valLen: number) => {
          this.opts.storage.set(this.dec.decode(bytes(keyPtr, keyLen)), bytes(valPtr, valLen));
          return 0;
        },
        serial_write: (ptr: number, len: number) => { this.opts.onSerial?.(bytes(ptr, len)); },
        log_write: (level: number, ptr: number, len: number) => { this.opts.onLog?.(level, this.dec.decode(bytes(ptr, len))); },
      },
    };
    this.exports = new WebAssembly.Instance(module, imports).exports as NodeHost["exports"];
    this.io = this.exports.io_buffer_ptr();
    this.ioLen = this.exports.io_buffer_len();
  }

  static async create(opts: NodeHostOptions, module?: WebAssembly.Module): Promise<NodeHost> {
    const host = new NodeHost(module ?? (await loadNodeModule()), opts);
    const status = host.call("node_init", encodeConfig(opts.config));
    if (status !== 0) throw new Error(`node_init failed with status ${status}`);
    return host;
  }

  private put(data: Uint8Array): number {
    if (data.length > this.ioLen) throw new RangeError(`${data.length} bytes exceed the node's ${this.ioLen}-byte I/O buffer`);
    new Uint8Array(this.exports.memory.buffer).set(data, this.io);
    return this.io;
  }

  private call(name: string, data: Uint8Array, ...rest: number[]): number {
    return this.exports[name](this.put(data), data.length, ...rest);
  }

  /** A frame heard on the radio. Returns 0 (accepted) or a drop reason (> 0). */
  receive(frame: Uint8Array, rssiDbm: number, snrDb: number): number {
    if (frame.length > this.ioLen) return this.exports.node_receive(this.io, this.ioLen + 1, rssiDbm | 0, Math.round(snrDb * 4));
    return this.call("node_receive", frame, rssiDbm | 0, Math.round(snrDb * 4));
  }

  /** The transmission started by env.radio_transmit has ended. */
  transmitDone(): void { this.exports.node_tx_done(); }

  /** Runs due timers; returns ms until the core wants to be polled again (-1: only on an event). */
  poll(): number { return this.exports.node_poll(); }

  /**
   * Bytes from the serial line (serial_receive), in I/O-buffer-sized chunks; frames may
   * span calls. Replies come through onSerial. Returns the good packets completed.
   */
  serialReceive(bytes: Uint8Array): number {
    let good = 0;
    for (let at = 0; at < bytes.length; at += this.ioLen) {
      const r = this.call("serial_receive", bytes.subarray(at, Math.min(bytes.length, at + this.ioLen)));
      if (r > 0) good += r;
    }
    return good;
  }

  command(bytes: Uint8Array): number { return this.call("node_command", bytes); }
  announce(): number { return this.command(Uint8Array.of(Command.ANNOUNCE)); }
  joinChannel(slot: number, name: string, passphrase: string): number { return this.command(encodeJoinChannel(slot, name, passphrase)); }
  sendChannel(slot: number, ref: number, text: string): number { return this.command(encodeSendChannel(slot, ref, text)); }
  sendDirect(contactId: string, ref: number, text: string): number { return this.command(encodeSendDirect(contactId, ref, text)); }

  /** A counter of the core (see firmware/ABI.md, node_counter). */
  counter(id: number): number { return this.exports.node_counter(id); }
  memoryBytes(): number { return this.exports.memory.buffer.byteLength; }
}
