// Mesh-kept files in tests (firmware/STORAGE.md "Files"): app command encoders, event
// decoders and a driver that puts and fetches files through real node.wasm instances.
import { IdealMedium } from "./ideal-medium.js";
import type { NodeEvent } from "../../host-tools/node/protocol.js";

export const FILE_CMD = { PUT_BEGIN: 0x10, PUT_DATA: 0x11, PUT_END: 0x12, GET: 0x13, CANCEL: 0x14 } as const;
export const FILE_EV = { STORED: 0x90, DATA: 0x91, DONE: 0x92 } as const;
export const FILE_OP = { OFFER: 16, HOLD: 17, PUT: 18, HELD: 19, GET: 20, DATA: 21, HAVE: 22 } as const;
/** Counters of firmware/cores/node/stats.ts. */
export const FC = { STORE_BAD: 52, BLOCKS_HELD: 53, BLOCKS_SERVED: 54, BLOCKS_FETCHED: 55, BLOCK_HASH_BAD: 56, REPLICATIONS: 57, TX: 16, QUEUE_DROPS: 27 } as const;

const le32 = (v: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v >>> 0, true); return b; };
const cat = (...p: Uint8Array[]) => { const o = new Uint8Array(p.reduce((n, x) => n + x.length, 0)); let at = 0; for (const x of p) { o.set(x, at); at += x.length; } return o; };

export const putBegin = (ref: number, length: number, copies = 0) => cat(Uint8Array.of(FILE_CMD.PUT_BEGIN), le32(ref), le32(length), Uint8Array.of(copies));
export const putData = (offset: number, bytes: Uint8Array) => cat(Uint8Array.of(FILE_CMD.PUT_DATA), le32(offset), Uint8Array.of(bytes.length), bytes);
export const putEnd = () => Uint8Array.of(FILE_CMD.PUT_END);
export const fileGet = (ref: number, capability: Uint8Array) => cat(Uint8Array.of(FILE_CMD.GET), le32(ref), capability);
export const fileCancel = (which: number) => Uint8Array.of(FILE_CMD.CANCEL, which);

export type Stored = { ref: number; state: number; holders: number; capability: Uint8Array };
export type Done = { ref: number; state: number; length: number; blocks: number; elapsedMs: number };

const STORED_STATE: Record<string, number> = { stored: 1, replicated: 2, failed: 3 };
const DONE_STATE: Record<string, number> = { complete: 1, notFound: 2, corrupt: 3 };
const u32 = (v: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v >>> 0, true); return b; };
const u16 = (v: number) => Uint8Array.of(v & 0xff, v >> 8);
/** The event's bytes, whether the host decoded it (host-tools/node/protocol.ts) or passed it on as unknown. */
const raw = (e: NodeEvent): Uint8Array | null => {
  const x = e as Record<string, unknown> & { type: string };
  if (x.type === "unknown") return x.bytes as Uint8Array;
  if (x.type === "fileStored") {
    return cat(Uint8Array.of(FILE_EV.STORED), u32(x.ref as number), Uint8Array.of(STORED_STATE[x.state as string] ?? 0, x.holders as number), x.capability as Uint8Array);
  }
  if (x.type === "fileData") {
    const d = x.data as Uint8Array;
    return cat(Uint8Array.of(FILE_EV.DATA), u32(x.ref as number), u32(x.offset as number), Uint8Array.of(d.length), d);
  }
  if (x.type === "fileDone") {
    return cat(Uint8Array.of(FILE_EV.DONE), u32(x.ref as number), Uint8Array.of(DONE_STATE[x.state as string] ?? 0), u32(x.length as number),
      u16(x.blocks as number), u32(x.elapsedMs as number));
  }
  return null;
};
const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

export function storedEvents(m: IdealMedium, i: number): Stored[] {
  return m.events(i).map(raw).filter((b): b is Uint8Array => !!b && b[0] === FILE_EV.STORED)
    .map((b) => ({ ref: view(b).getUint32(1, true), state: b[5], holders: b[6], capability: b.slice(7, 47) }));
}

export function doneEvents(m: IdealMedium, i: number): Done[] {
  return m.events(i).map(raw).filter((b): b is Uint8Array => !!b && b[0] === FILE_EV.DONE)
    .map((b) => ({ ref: view(b).getUint32(1, true), state: b[5], length: view(b).getUint32(6, true),
      blocks: view(b).getUint16(10, true), elapsedMs: view(b).getUint32(12, true) }));
}

/** The file bytes the FILE_DATA events of fetch `ref` carried (by offset). */
export function fetchedBytes(m: IdealMedium, i: number, ref: number, length: number): { bytes: Uint8Array; chunks: number } {
  const out = new Uint8Array(length);
  let chunks = 0;
  for (const e of m.events(i)) {
    const b = raw(e);
    if (!b || b[0] !== FILE_EV.DATA || view(b).getUint32(1, true) !== ref) continue;
    const off = view(b).getUint32(5, true);
    const n = b[9];
    out.set(b.subarray(10, 10 + n), off);
    chunks++;
  }
  return { bytes: out, chunks };
}

/** Puts `bytes` from node i (BEGIN, DATA in 200-byte pieces, END); returns the capability of the STORED state 1 event. */
export function putFile(m: IdealMedium, i: number, ref: number, bytes: Uint8Array, copies = 0): Uint8Array {
  const node = m.nodes[i];
  if (node.command(putBegin(ref, bytes.length, copies)) !== 0) throw new Error("PUT_BEGIN refused");
  for (let at = 0; at < bytes.length; at += 200) {
    const r = node.command(putData(at, bytes.subarray(at, Math.min(bytes.length, at + 200))));
    if (r !== 0) throw new Error(`PUT_DATA at ${at}: ${r}`);
  }
  if (m.act(i, (n) => n.command(putEnd())) !== 0) throw new Error("PUT_END refused");
  const s = storedEvents(m, i).find((e) => e.ref === ref && e.state === 1);
  if (!s) throw new Error("no FILE_STORED state 1");
  return s.capability;
}

/** Nodes whose storage holds an object record ("fo.NN") for `root` (8 bytes). */
export function holdersOf(m: IdealMedium, root: Uint8Array): number[] {
  const out: number[] = [];
  m.storage.forEach((s, i) => {
    for (const [k, v] of s.map) {
      if (k.startsWith("fo.") && v.length === 32 && v[0] !== 0 && Buffer.from(v.subarray(24, 32)).equals(Buffer.from(root))) out.push(i);
    }
  });
  return out;
}

/** Block records ("fb.NNN") in node i's storage that are in use. */
export function blockRecords(m: IdealMedium, i: number): Array<[string, Uint8Array]> {
  return [...m.storage[i].map].filter(([k, v]) => k.startsWith("fb.") && v.length > 12);
}

/** A grid of w x h nodes (index = y * w + x), linked to their 4 neighbours. */
export async function grid(w: number, h: number, seed = 7): Promise<IdealMedium> {
  const { DEFAULT_CONFIG } = await import("../../host-tools/node/protocol.js");
  const m = new IdealMedium({ ...DEFAULT_CONFIG, dutyCyclePermille: 0, noAutoAnnounce: true }, seed);
  for (let i = 0; i < w * h; i++) await m.addNode(`n${i}`);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (x + 1 < w) m.link(y * w + x, y * w + x + 1, 0);
      if (y + 1 < h) m.link(y * w + x, (y + 1) * w + x, 0);
    }
  }
  return m;
}

/** Deterministic pseudo-random bytes. */
export function testBytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; b[i] = x & 0xff; }
  return b;
}
