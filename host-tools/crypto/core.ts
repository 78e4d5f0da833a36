// Loads crypto.wasm and gives the JS wrappers safe access to its I/O buffer.
//
// The core exports raw functions that take pointers into one fixed exchange
// buffer (see firmware/ABI.md). This file owns that buffer from the JS side:
// it copies inputs in, reads outputs back, and turns status codes into errors.
import { readFile } from "node:fs/promises";

/** Status codes of the crypto core ABI (firmware/cores/crypto/memory.ts). */
export const Status = {
  OK: 0,
  ERR_RANGE: -1,
  ERR_AUTH: -2,
  ERR_STATE: -3,
  ERR_LENGTH: -4,
  ERR_INVALID: -5,
} as const;

/** Raw exports of crypto.wasm: every function takes and returns i32. */
export type CryptoExports = {
  memory: WebAssembly.Memory;
  [name: string]: WebAssembly.Memory | ((...args: number[]) => number);
};

/** Where the built crypto core lives, relative to this module (works from source and from dist). */
export function defaultCryptoWasmUrl(): URL {
  const here = new URL(".", import.meta.url);
  // host-tools/crypto/ (source) and dist/host-tools/crypto/ (built) sit at different depths.
  const fromDist = here.pathname.includes("/dist/host-tools/");
  return new URL(fromDist ? "../../../build/cores/crypto.wasm" : "../../build/cores/crypto.wasm", here);
}

export class CryptoCore {
  readonly exports: CryptoExports;
  /** Address and size of the I/O buffer inside linear memory. */
  readonly bufferPtr: number;
  readonly bufferLen: number;

  constructor(instance: WebAssembly.Instance) {
    this.exports = instance.exports as unknown as CryptoExports;
    this.bufferPtr = this.fn("io_buffer_ptr")();
    this.bufferLen = this.fn("io_buffer_len")();
  }

  /** A raw export by name; throws if the core does not have it. */
  fn(name: string): (...args: number[]) => number {
    const f = this.exports[name];
    if (typeof f !== "function") throw new Error(`crypto core has no export ${name}`);
    return f as (...args: number[]) => number;
  }

  /** A view of linear memory (re-created if the memory was ever replaced). */
  get u8(): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer);
  }

  /** Copies bytes into the I/O buffer at offset `at`; returns the absolute address. */
  put(bytes: Uint8Array, at: number): number {
    if (at < 0 || at + bytes.length > this.bufferLen) {
      throw new RangeError(`input of ${bytes.length} bytes does not fit the ${this.bufferLen}-byte core buffer at offset ${at}`);
    }
    const ptr = this.bufferPtr + at;
    this.u8.set(bytes, ptr);
    return ptr;
  }

  /** Copies `length` bytes out of linear memory at an absolute address. */
  get(ptr: number, length: number): Uint8Array {
    return this.u8.slice(ptr, ptr + length);
  }

  /** Absolute address of an offset in the I/O buffer. */
  at(offset: number): number {
    return this.bufferPtr + offset;
  }

  /** Throws a descriptive error for a non-zero status from a raw call. */
  check(status: number, what: string): void {
    if (status === Status.OK) return;
    const reason =
      status === Status.ERR_RANGE ? "pointer or length outside the core buffer" :
      status === Status.ERR_STATE ? "call out of order" :
      status === Status.ERR_LENGTH ? "unsupported length" :
      status === Status.ERR_INVALID ? "invalid input" :
      status === Status.ERR_AUTH ? "authentication failed" : `status ${status}`;
    throw new Error(`${what}: ${reason}`);
  }
}

/** Throws a clear TypeError/RangeError when `value` is not a Uint8Array of `length` bytes. */
export function requireBytes(value: unknown, length: number | null, name: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (length !== null && value.length !== length) {
    throw new RangeError(`${name} must be ${length} bytes, got ${value.length}`);
  }
  return value;
}

/** Instantiates the crypto core. It has no imports: it needs nothing from its host. */
export async function instantiateCryptoCore(wasm?: Uint8Array): Promise<CryptoCore> {
  const bytes = wasm ?? new Uint8Array(await readFile(defaultCryptoWasmUrl()));
  const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  return new CryptoCore(await WebAssembly.instantiate(module, {}));
}
