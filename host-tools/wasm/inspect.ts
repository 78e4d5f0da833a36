// Reads a WebAssembly binary and reports what a host must know before it runs
// the module: imports, exports, memories, and which post-MVP features the code
// uses. The firmware runs our cores in wasm3, which supports MVP plus a few
// extensions only, so tests use this to prove a core stays inside that set.
//
// Binary format: WebAssembly Core Specification 2.0, chapter 5 ("Binary Format").

/** Post-MVP features, named after their proposals. */
export type WasmFeature =
  | "sign-extension" | "nontrapping-f2i" | "mutable-globals" | "bulk-memory-copy-fill"
  | "bulk-memory-other" | "multi-value" | "simd" | "reference-types" | "gc" | "exceptions"
  | "threads" | "tail-calls" | "multi-memory" | "memory64";

/** What wasm3 (v0.5) runs and the cores may use (firmware/ABI.md "Features"). */
export const WASM3_FEATURES: ReadonlySet<WasmFeature> = new Set<WasmFeature>([
  "sign-extension", "nontrapping-f2i", "mutable-globals", "bulk-memory-copy-fill",
]);

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref" | `ref(0x${string})`;
export type FuncType = { params: ValType[]; results: ValType[] };
export type WasmImport = { module: string; name: string; kind: "func" | "table" | "memory" | "global" | "tag"; type?: FuncType };
export type WasmExport = { name: string; kind: "func" | "table" | "memory" | "global" | "tag"; index: number; type?: FuncType };
export type WasmMemory = { minPages: number; maxPages: number | null; shared: boolean };

export type WasmReport = {
  imports: WasmImport[];
  exports: WasmExport[];
  memories: WasmMemory[];
  features: Set<WasmFeature>;
  codeBytes: number;
  functionCount: number;
};

export class WasmFormatError extends Error {}

const KINDS = ["func", "table", "memory", "global", "tag"] as const;

class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array, readonly end = bytes.length) {}
  byte(): number {
    if (this.pos >= this.end) throw new WasmFormatError(`unexpected end of data at byte ${this.pos}`);
    return this.bytes[this.pos++];
  }
  u32(): number {
    let result = 0, shift = 0, b: number;
    do {
      b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (shift > 35) throw new WasmFormatError(`LEB128 too long at byte ${this.pos}`);
    } while (b & 0x80);
    return result;
  }
  /** Signed LEB128 of up to `bits` bits; the value is not needed, only its length. */
  skipSigned(bits: number): void {
    let shift = 0, b: number;
    do {
      b = this.byte();
      shift += 7;
      if (shift > bits + 7) throw new WasmFormatError(`signed LEB128 too long at byte ${this.pos}`);
    } while (b & 0x80);
  }
  skip(n: number): void {
    if (this.pos + n > this.end) throw new WasmFormatError(`unexpected end of data at byte ${this.pos}`);
    this.pos += n;
  }
  name(): string {
    const n = this.u32();
    const start = this.pos;
    this.skip(n);
    return new TextDecoder().decode(this.bytes.subarray(start, start + n));
  }
}

function valType(r: Reader, features: Set<WasmFeature>): ValType {
  const t = r.byte();
  switch (t) {
    case 0x7f: return "i32";
    case 0x7e: return "i64";
    case 0x7d: return "f32";
    case 0x7c: return "f64";
    case 0x7b: features.add("simd"); return "v128";
    case 0x70: features.add("reference-types"); return "funcref";
    case 0x6f: features.add("reference-types"); return "externref";
    default:
      features.add("gc");
      return `ref(0x${t.toString(16)})`;
  }
}

function limits(r: Reader, features: Set<WasmFeature>): WasmMemory {
  const flags = r.byte();
  if (flags & 0x02) features.add("threads");
  if (flags & 0x04) features.add("memory64");
  const minPages = r.u32();
  const maxPages = flags & 0x01 ? r.u32() : null;
  return { minPages, maxPages, shared: (flags & 0x02) !== 0 };
}

function blockType(r: Reader, features: Set<WasmFeature>): void {
  const b = r.bytes[r.pos];
  if (b === 0x40) { r.pos++; return; }
  if (b >= 0x6f && b <= 0x7f) { valType(r, features); return; }
  features.add("multi-value"); // a type index: blocks with parameters or several results
  r.skipSigned(33);
}

function memarg(r: Reader, features: Set<WasmFeature>): void {
  const align = r.u32();
  if (align & 0x40) { features.add("multi-memory"); r.u32(); }
  r.u32();
}

/** Decodes one function body's instructions, recording the features they need. */
function scanCode(r: Reader, features: Set<WasmFeature>): void {
  while (r.pos < r.end) {
    const op = r.byte();
    if (op >= 0x45 && op <= 0xbf) continue; // numeric instructions without immediates
    if (op >= 0x28 && op <= 0x3e) { memarg(r, features); continue; }
    if (op >= 0xc0 && op <= 0xc4) { features.add("sign-extension"); continue; }
    switch (op) {
      case 0x00: case 0x01: case 0x05: case 0x0b: case 0x0f: case 0x1a: case 0x1b: break;
      case 0x02: case 0x03: case 0x04: blockType(r, features); break;
      case 0x0c: case 0x0d: case 0x10: r.u32(); break;
      case 0x0e: { const n = r.u32(); for (let i = 0; i <= n; i++) r.u32(); break; }
      case 0x11: r.u32(); if (r.u32() !== 0) features.add("reference-types"); break;
      case 0x12: r.u32(); features.add("tail-calls"); break;
      case 0x13: r.u32(); r.u32(); features.add("tail-calls"); break;
      case 0x1c: { features.add("reference-types"); const n = r.u32(); for (let i = 0; i < n; i++) valType(r, features); break; }
      case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: r.u32(); break;
      case 0x25: case 0x26: r.u32(); features.add("reference-types"); break;
      case 0x3f: case 0x40: if (r.byte() !== 0) features.add("multi-memory"); break;
      case 0x41: r.skipSigned(32); break;
      case 0x42: r.skipSigned(64); break;
      case 0x43: r.skip(4); break;
      case 0x44: r.skip(8); break;
      case 0xd0: valType(r, features); features.add("reference-types"); break;
      case 0xd1: features.add("reference-types"); break;
      case 0xd2: r.u32(); features.add("reference-types"); break;
      case 0xfc: scanPrefixed(r, features); break;
      case 0x06: case 0x07: case 0x08: case 0x09: case 0x0a: case 0x18: case 0x19: case 0x1f:
        features.add("exceptions"); return; // immediates differ by version; stop decoding here
      case 0xfd: features.add("simd"); return;
      case 0xfe: features.add("threads"); return;
      case 0xfb: case 0x14: case 0x15: case 0xd3: case 0xd4: case 0xd5: case 0xd6:
        features.add("gc"); return;
      default:
        throw new WasmFormatError(`unknown opcode 0x${op.toString(16)} at byte ${r.pos - 1}`);
    }
  }
}

function scanPrefixed(r: Reader, features: Set<WasmFeature>): void {
  const sub = r.u32();
  if (sub <= 7) { features.add("nontrapping-f2i"); return; }
  switch (sub) {
    case 10: r.byte(); r.byte(); features.add("bulk-memory-copy-fill"); return;   // memory.copy
    case 11: r.byte(); features.add("bulk-memory-copy-fill"); return;             // memory.fill
    case 8: r.u32(); r.byte(); features.add("bulk-memory-other"); return;          // memory.init
    case 9: r.u32(); features.add("bulk-memory-other"); return;                    // data.drop
    case 12: case 14: r.u32(); r.u32(); features.add("reference-types"); return;   // table.init/copy
    case 13: r.u32(); features.add("bulk-memory-other"); return;                   // elem.drop
    case 15: case 16: case 17: r.u32(); features.add("reference-types"); return;   // table.grow/size/fill
    default: throw new WasmFormatError(`unknown 0xFC sub-opcode ${sub}`);
  }
}

/** Decodes a constant expression (global initialisers), up to and including its `end`. */
function constExpr(r: Reader, features: Set<WasmFeature>): void {
  for (let op = r.byte(); op !== 0x0b; op = r.byte()) {
    switch (op) {
      case 0x41: r.skipSigned(32); break;
      case 0x42: r.skipSigned(64); break;
      case 0x43: r.skip(4); break;
      case 0x44: r.skip(8); break;
      case 0x23: r.u32(); break;
      case 0xd0: valType(r, features); features.add("reference-types"); break;
      case 0xd2: r.u32(); features.add("reference-types"); break;
      case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e: break; // extended-const arithmetic
      case 0xfd: features.add("simd"); r.u32(); r.skip(16); break;
      default: throw new WasmFormatError(`unsupported constant instruction 0x${op.toString(16)} at byte ${r.pos - 1}`);
    }
  }
}

/** Parses a module and reports its interface and feature use. Throws WasmFormatError on malformed input. */
export function inspectWasm(bytes: Uint8Array): WasmReport {
  const r = new Reader(bytes);
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  for (const m of magic) if (r.byte() !== m) throw new WasmFormatError("not a WebAssembly 1.0 binary");
  const features = new Set<WasmFeature>();
  const types: FuncType[] = [];
  const imports: WasmImport[] = [];
  const exports: WasmExport[] = [];
  const memories: WasmMemory[] = [];
  const funcTypes: number[] = []; // type index of every function, imports first
  let codeBytes = 0;
  let functionCount = 0;

  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (end > bytes.length) throw new WasmFormatError(`section ${id} runs past the end`);
    const s = new Reader(bytes, end);
    s.pos = r.pos;
    switch (id) {
      case 1: {
        for (let n = s.u32(); n > 0; n--) {
          const form = s.byte();
          if (form !== 0x60) { features.add("gc"); s.pos = end; break; }
          const params = Array.from({ length: s.u32() }, () => valType(s, features));
          const results = Array.from({ length: s.u32() }, () => valType(s, features));
          if (results.length > 1) features.add("multi-value");
          types.push({ params, results });
        }
        break;
      }
      case 2: {
        for (let n = s.u32(); n > 0; n--) {
          const module = s.name();
          const name = s.name();
          const kind = KINDS[s.byte()];
          if (!kind) throw new WasmFormatError(`bad import kind for ${module}.${name}`);
          const imp: WasmImport = { module, name, kind };
          if (kind === "func") { const t = s.u32(); funcTypes.push(t); imp.type = types[t]; }
          else if (kind === "table") { valType(s, features); limits(s, features); }
          else if (kind === "memory") memories.push(limits(s, features));
          else if (kind === "global") { valType(s, features); if (s.byte() & 1) features.add("mutable-globals"); }
          else { features.add("exceptions"); s.byte(); s.u32(); }
          imports.push(imp);
        }
        break;
      }
      case 3: for (let n = s.u32(); n > 0; n--) funcTypes.push(s.u32()); break;
      case 4: {
        const n = s.u32();
        if (n > 1) features.add("reference-types");
        for (let i = 0; i < n; i++) { valType(s, features); limits(s, features); }
        break;
      }
      case 5: {
        const n = s.u32();
        if (n + memories.length > 1) features.add("multi-memory");
        for (let i = 0; i < n; i++) memories.push(limits(s, features));
        break;
      }
      case 6: for (let n = s.u32(); n > 0; n--) { valType(s, features); s.byte(); constExpr(s, features); } break;
      case 7: {
        for (let n = s.u32(); n > 0; n--) {
          const name = s.name();
          const kind = KINDS[s.byte()];
          const index = s.u32();
          if (!kind) throw new WasmFormatError(`bad export kind for ${name}`);
          exports.push({ name, kind, index, type: kind === "func" ? types[funcTypes[index]] : undefined });
        }
        break;
      }
      case 10: {
        functionCount = s.u32();
        for (let i = 0; i < functionCount; i++) {
          const bodySize = s.u32();
          const body = new Reader(bytes, s.pos + bodySize);
          body.pos = s.pos;
          for (let n = body.u32(); n > 0; n--) { body.u32(); valType(body, features); }
          scanCode(body, features);
          s.pos += bodySize;
        }
        codeBytes = size;
        break;
      }
      case 13: features.add("exceptions"); break;
      default: break; // custom, start, element, data, data count: nothing to report
    }
    r.pos = end;
  }
  return { imports, exports, memories, features, codeBytes, functionCount };
}

/** Features a report uses that wasm3 does not run. */
export function unsupportedOnWasm3(report: WasmReport): WasmFeature[] {
  return [...report.features].filter((f) => !WASM3_FEATURES.has(f)).sort();
}
