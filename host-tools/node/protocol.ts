// Byte layouts shared by the node core (node.wasm) and its JS hosts: the init
// config, app commands and app events. Documented in firmware/ABI.md ("Core:
// node.wasm"); the AssemblyScript side is firmware/cores/node/app.ts.

/** node_init config, version 1. */
export type NodeConfig = {
  /** LoRa spreading factor 7..12. */
  sf: number;
  /** LoRa bandwidth in Hz (125000, 250000, 500000). */
  bwHz: number;
  /** Coding rate 1..4 for 4/5..4/8. */
  cr: number;
  /** Preamble length in symbols. */
  preambleSymbols: number;
  /** Duty cycle limit in per mille of a rolling hour; 0 = no limit. */
  dutyCyclePermille: number;
  /** Hop limit for frames this node originates, 1..7. */
  hopLimit: number;
  /** Whether this node relays other nodes' frames. */
  relay: boolean;
  /** Mesh name: frames of meshes with another name are dropped. */
  meshName: string;
  /** Display name in announces (at most 15 bytes of UTF-8). */
  nodeName: string;
  /** Relay copies heard that cancel a queued flood relay: 0 = the core's default, 255 = never cancel. */
  relayCancelCopies?: number;
  /** Contention delay ignores SNR (for measuring the SNR rule against a plain random one). */
  uniformContention?: boolean;
  /** Announce only on command (no boot or periodic announces): for scripted simulations. */
  noAutoAnnounce?: boolean;
  /** Serial events (flag bit 3): app events and heard frames go to the serial link (env.serial_write, firmware/SERIAL.md) instead of env.app_event. */
  serial?: boolean;
};

/** Meshtastic's LongFast (lora-phy.md), 10 % duty cycle (EU868 g3), relaying on. */
export const DEFAULT_CONFIG: NodeConfig = {
  sf: 11, bwHz: 250_000, cr: 1, preambleSymbols: 16, dutyCyclePermille: 100,
  hopLimit: 7, relay: true, meshName: "outcaxt", nodeName: "node",
};

export const CONFIG_VERSION = 1;
const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeConfig(c: NodeConfig): Uint8Array {
  const mesh = enc.encode(c.meshName);
  const name = enc.encode(c.nodeName);
  if (mesh.length > 32) throw new RangeError("meshName is longer than 32 bytes");
  if (name.length > 15) throw new RangeError("nodeName is longer than 15 bytes");
  const out = new Uint8Array(16 + mesh.length + name.length);
  const v = new DataView(out.buffer);
  out[0] = CONFIG_VERSION;
  out[1] = c.sf;
  out[2] = c.cr;
  out[3] = c.hopLimit;
  v.setUint32(4, c.bwHz, true);
  v.setUint16(8, c.preambleSymbols, true);
  v.setUint16(10, c.dutyCyclePermille, true);
  out[12] = (c.relay ? 1 : 0) | (c.uniformContention ? 2 : 0) | (c.noAutoAnnounce ? 4 : 0) | (c.serial ? 8 : 0);
  out[15] = c.relayCancelCopies ?? 0;
  out[13] = mesh.length;
  out[14] = name.length;
  out.set(mesh, 16);
  out.set(name, 16 + mesh.length);
  return out;
}

/** Reads a node_init config (the inverse of encodeConfig; CONFIG on the serial link). Throws on a malformed one. */
export function decodeConfig(b: Uint8Array): NodeConfig {
  if (b.length < 16 || b[0] !== CONFIG_VERSION) throw new RangeError("not a version 1 node config");
  const m = b[13], k = b[14];
  if (16 + m + k > b.length) throw new RangeError("node config shorter than its names");
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const flags = b[12];
  const c: NodeConfig = {
    sf: b[1], cr: b[2], hopLimit: b[3], bwHz: v.getUint32(4, true), preambleSymbols: v.getUint16(8, true),
    dutyCyclePermille: v.getUint16(10, true), relay: (flags & 1) !== 0,
    meshName: dec.decode(b.subarray(16, 16 + m)), nodeName: dec.decode(b.subarray(16 + m, 16 + m + k)),
  };
  if (flags & 2) c.uniformContention = true;
  if (flags & 4) c.noAutoAnnounce = true;
  if (flags & 8) c.serial = true;
  if (b[15] !== 0) c.relayCancelCopies = b[15];
  return c;
}

/** App commands (node_command). */
export const Command = {
  ANNOUNCE: 0x01,
  JOIN_CHANNEL: 0x02,
  SEND_CHANNEL: 0x03,
  SEND_DIRECT: 0x04,
  /** Mesh-kept files (STORAGE.md "Files"): app ref u32, length u32 (1..32768), copies u8 (0 = default 3). */
  FILE_PUT_BEGIN: 0x10,
  /** offset u32, n u8 (1..200), n bytes; offsets contiguous from 0. */
  FILE_PUT_DATA: 0x11,
  /** No payload: the file is complete; FILE_STORED follows. */
  FILE_PUT_END: 0x12,
  /** app ref u32, capability 40 (root address 8 ‖ key 32). */
  FILE_GET: 0x13,
  /** u8: 1 the upload, 2 the fetch. */
  FILE_CANCEL: 0x14,
} as const;

/** App events (env.app_event). */
export const EventType = {
  IDENTITY: 0x80,
  CHANNEL_MESSAGE: 0x81,
  DIRECT_MESSAGE: 0x82,
  DELIVERY: 0x83,
  CONTACT: 0x84,
  FILE_STORED: 0x90,
  FILE_DATA: 0x91,
  FILE_DONE: 0x92,
} as const;

/**
 * DELIVERY states. 4: after its attempts failed the message was deposited and is kept by
 * keepers (attempts = keepers that confirmed so far; reported again as more confirm);
 * 5: delivered through the keepers (a verified receipt). 3 also means no keeper took it,
 * or it expired undelivered (STORAGE.md "Mail").
 */
export const DeliveryState = { SENT: 1, ACKED: 2, FAILED: 3, STORED: 4, DELIVERED: 5 } as const;
export type DeliveryStateName = "sent" | "acked" | "failed" | "stored" | "delivered";
const DELIVERY_NAMES: Readonly<Record<number, DeliveryStateName>> = { 1: "sent", 2: "acked", 3: "failed", 4: "stored", 5: "delivered" };

/** FILE_STORED states: 1 stored on the node (capability ready), 2 replicated on `holders` nodes, 3 failed. */
export const FileStoredState = { STORED: 1, REPLICATED: 2, FAILED: 3 } as const;
export type FileStoredStateName = "stored" | "replicated" | "failed" | "unknown";
const FILE_STORED_NAMES: Readonly<Record<number, FileStoredStateName>> = { 1: "stored", 2: "replicated", 3: "failed" };
/** FILE_DONE states: 1 complete, 2 not found (the node gave up), 3 corrupt or a wrong capability. */
export const FileDoneState = { COMPLETE: 1, NOT_FOUND: 2, CORRUPT: 3 } as const;
export type FileDoneStateName = "complete" | "notFound" | "corrupt" | "unknown";
const FILE_DONE_NAMES: Readonly<Record<number, FileDoneStateName>> = { 1: "complete", 2: "notFound", 3: "corrupt" };

/** Limits of the file commands (STORAGE.md "Files"). */
export const FILE_MAX_BYTES = 32768;
export const FILE_PUT_CHUNK_MAX = 200;
export const FILE_DATA_MAX = 160;
export const FILE_CAPABILITY_BYTES = 40;
/** Fixed lengths of the file events, type byte included. */
export const FILE_STORED_BYTES = 1 + 4 + 1 + 1 + FILE_CAPABILITY_BYTES; // 47
export const FILE_DATA_MIN_BYTES = 1 + 4 + 4 + 1; // 10, then n bytes
export const FILE_DONE_BYTES = 1 + 4 + 1 + 4 + 2 + 4; // 16

export type NodeEvent =
  | { type: "identity"; contactId: string; edPublic: Uint8Array; xPublic: Uint8Array }
  | { type: "channel"; slot: number; senderId: string; seq: number; unixS: number; text: string }
  | { type: "direct"; contactId: string; msgId: number; unixS: number; text: string }
  | { type: "delivery"; ref: number; state: DeliveryStateName; attempts: number }
  | { type: "contact"; contactId: string; edPublic: Uint8Array; name: string }
  | { type: "fileStored"; ref: number; state: FileStoredStateName; holders: number; capability: Uint8Array }
  | { type: "fileData"; ref: number; offset: number; data: Uint8Array }
  | { type: "fileDone"; ref: number; state: FileDoneStateName; length: number; blocks: number; elapsedMs: number }
  | { type: "unknown"; bytes: Uint8Array };

const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex");

export function decodeEvent(b: Uint8Array): NodeEvent {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  try {
    switch (b[0]) {
      case EventType.IDENTITY:
        return { type: "identity", contactId: hexOf(b.subarray(1, 9)), edPublic: b.slice(9, 41), xPublic: b.slice(41, 73) };
      case EventType.CHANNEL_MESSAGE: {
        const n = b[18];
        return { type: "channel", slot: b[1], senderId: hexOf(b.subarray(2, 10)), seq: v.getUint32(10, true),
          unixS: v.getUint32(14, true), text: dec.decode(b.subarray(19, 19 + n)) };
      }
      case EventType.DIRECT_MESSAGE: {
        const n = b[17];
        return { type: "direct", contactId: hexOf(b.subarray(1, 9)), msgId: v.getUint32(9, true),
          unixS: v.getUint32(13, true), text: dec.decode(b.subarray(18, 18 + n)) };
      }
      case EventType.DELIVERY: {
        const state = DELIVERY_NAMES[b[5]];
        if (b.length < 7 || !state) break; // a state this laptop does not know: reported as unknown
        return { type: "delivery", ref: v.getUint32(1, true), state, attempts: b[6] };
      }
      case EventType.CONTACT: {
        const n = b[41];
        return { type: "contact", contactId: hexOf(b.subarray(1, 9)), edPublic: b.slice(9, 41), name: dec.decode(b.subarray(42, 42 + n)) };
      }
      case EventType.FILE_STORED:
        if (b.length < FILE_STORED_BYTES) break;
        return { type: "fileStored", ref: v.getUint32(1, true), state: FILE_STORED_NAMES[b[5]] ?? "unknown", holders: b[6],
          capability: b.slice(7, 7 + FILE_CAPABILITY_BYTES) };
      case EventType.FILE_DATA: {
        const n = b[9];
        if (b.length < FILE_DATA_MIN_BYTES + n) break;
        return { type: "fileData", ref: v.getUint32(1, true), offset: v.getUint32(5, true), data: b.slice(10, 10 + n) };
      }
      case EventType.FILE_DONE:
        if (b.length < FILE_DONE_BYTES) break;
        return { type: "fileDone", ref: v.getUint32(1, true), state: FILE_DONE_NAMES[b[5]] ?? "unknown", length: v.getUint32(6, true),
          blocks: v.getUint16(10, true), elapsedMs: v.getUint32(12, true) };
    }
  } catch { /* fall through: a short event is reported as unknown */ }
  return { type: "unknown", bytes: b.slice() };
}

export function encodeJoinChannel(slot: number, name: string, passphrase: string): Uint8Array {
  const n = enc.encode(name), p = enc.encode(passphrase);
  if (n.length > 32 || p.length > 64) throw new RangeError("channel name (32) or passphrase (64 bytes) too long");
  return Uint8Array.from([Command.JOIN_CHANNEL, slot, n.length, ...n, p.length, ...p]);
}

export function encodeSendChannel(slot: number, ref: number, text: string): Uint8Array {
  const t = enc.encode(text);
  const out = new Uint8Array(7 + t.length);
  out[0] = Command.SEND_CHANNEL; out[1] = slot;
  new DataView(out.buffer).setUint32(2, ref, true);
  out[6] = t.length & 0xff;
  if (t.length > 255) throw new RangeError("text longer than 255 bytes");
  out.set(t, 7);
  return out;
}

export function encodeSendDirect(contactId: string, ref: number, text: string): Uint8Array {
  const t = enc.encode(text);
  if (!/^[0-9a-f]{16}$/.test(contactId)) throw new RangeError("contactId must be 16 hex digits");
  if (t.length > 255) throw new RangeError("text longer than 255 bytes");
  const out = new Uint8Array(14 + t.length);
  out[0] = Command.SEND_DIRECT;
  out.set(Buffer.from(contactId, "hex"), 1);
  new DataView(out.buffer).setUint32(9, ref, true);
  out[13] = t.length;
  out.set(t, 14);
  return out;
}

const u32 = (x: number, what: string): number => {
  if (!Number.isInteger(x) || x < 0 || x > 0xffff_ffff) throw new RangeError(`${what} must be a u32, not ${x}`);
  return x;
};

/** FILE_PUT_BEGIN: a file of `length` bytes (1..32768) follows in FILE_PUT_DATA; copies 0 = the node's default (3). */
export function encodeFilePutBegin(ref: number, length: number, copies = 0): Uint8Array {
  if (!Number.isInteger(length) || length < 1 || length > FILE_MAX_BYTES) throw new RangeError(`a file is 1..${FILE_MAX_BYTES} bytes, not ${length}`);
  if (!Number.isInteger(copies) || copies < 0 || copies > 255) throw new RangeError(`copies must be 0..255, not ${copies}`);
  const out = new Uint8Array(10);
  const v = new DataView(out.buffer);
  out[0] = Command.FILE_PUT_BEGIN;
  v.setUint32(1, u32(ref, "the app reference"), true);
  v.setUint32(5, length, true);
  out[9] = copies;
  return out;
}

/** FILE_PUT_DATA: 1..200 bytes of the file at `offset`. */
export function encodeFilePutData(offset: number, data: Uint8Array): Uint8Array {
  if (data.length < 1 || data.length > FILE_PUT_CHUNK_MAX) throw new RangeError(`FILE_PUT_DATA carries 1..${FILE_PUT_CHUNK_MAX} bytes, not ${data.length}`);
  const out = new Uint8Array(6 + data.length);
  out[0] = Command.FILE_PUT_DATA;
  new DataView(out.buffer).setUint32(1, u32(offset, "the offset"), true);
  out[5] = data.length;
  out.set(data, 6);
  return out;
}

export function encodeFilePutEnd(): Uint8Array {
  return Uint8Array.of(Command.FILE_PUT_END);
}

/** FILE_GET: fetch the file a 40-byte capability names. */
export function encodeFileGet(ref: number, capability: Uint8Array): Uint8Array {
  if (capability.length !== FILE_CAPABILITY_BYTES) throw new RangeError(`a capability is ${FILE_CAPABILITY_BYTES} bytes, not ${capability.length}`);
  const out = new Uint8Array(5 + FILE_CAPABILITY_BYTES);
  out[0] = Command.FILE_GET;
  new DataView(out.buffer).setUint32(1, u32(ref, "the app reference"), true);
  out.set(capability, 5);
  return out;
}

/** FILE_CANCEL: the upload ("put", 1) or the fetch ("get", 2) in progress. */
export function encodeFileCancel(which: "put" | "get"): Uint8Array {
  return Uint8Array.of(Command.FILE_CANCEL, which === "put" ? 1 : 2);
}

/** Event encoders (the device's side; for tests and fake devices). */
export function encodeFileStoredEvent(ref: number, state: number, holders: number, capability: Uint8Array): Uint8Array {
  const out = new Uint8Array(FILE_STORED_BYTES);
  out[0] = EventType.FILE_STORED;
  new DataView(out.buffer).setUint32(1, ref >>> 0, true);
  out[5] = state; out[6] = holders;
  out.set(capability.subarray(0, FILE_CAPABILITY_BYTES), 7);
  return out;
}

export function encodeFileDataEvent(ref: number, offset: number, data: Uint8Array): Uint8Array {
  if (data.length > 255) throw new RangeError("FILE_DATA carries at most 255 bytes");
  const out = new Uint8Array(FILE_DATA_MIN_BYTES + data.length);
  const v = new DataView(out.buffer);
  out[0] = EventType.FILE_DATA;
  v.setUint32(1, ref >>> 0, true);
  v.setUint32(5, offset >>> 0, true);
  out[9] = data.length;
  out.set(data, 10);
  return out;
}

export function encodeFileDoneEvent(ref: number, state: number, length: number, blocks: number, elapsedMs: number): Uint8Array {
  const out = new Uint8Array(FILE_DONE_BYTES);
  const v = new DataView(out.buffer);
  out[0] = EventType.FILE_DONE;
  v.setUint32(1, ref >>> 0, true);
  out[5] = state;
  v.setUint32(6, length >>> 0, true);
  v.setUint16(10, blocks & 0xffff, true);
  v.setUint32(12, elapsedMs >>> 0, true);
  return out;
}

export function encodeDeliveryEvent(ref: number, state: number, attempts: number): Uint8Array {
  const out = new Uint8Array(7);
  out[0] = EventType.DELIVERY;
  new DataView(out.buffer).setUint32(1, ref >>> 0, true);
  out[5] = state; out[6] = attempts;
  return out;
}
