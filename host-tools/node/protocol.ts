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
} as const;

/** App events (env.app_event). */
export const EventType = {
  IDENTITY: 0x80,
  CHANNEL_MESSAGE: 0x81,
  DIRECT_MESSAGE: 0x82,
  DELIVERY: 0x83,
  CONTACT: 0x84,
} as const;

/** DELIVERY states (ABI.md); 4 and 5 come from storage (firmware/STORAGE.md). */
export const DeliveryState = { SENT: 1, ACKED: 2, FAILED: 3, STORED: 4, DELIVERED: 5 } as const;
const DELIVERY_STATE_NAMES = { 1: "sent", 2: "acked", 3: "failed", 4: "stored", 5: "delivered" } as const;

export type NodeEvent =
  | { type: "identity"; contactId: string; edPublic: Uint8Array; xPublic: Uint8Array }
  | { type: "channel"; slot: number; senderId: string; seq: number; unixS: number; text: string }
  | { type: "direct"; contactId: string; msgId: number; unixS: number; text: string }
  | { type: "delivery"; ref: number; state: "sent" | "acked" | "failed" | "stored" | "delivered"; attempts: number }
  | { type: "contact"; contactId: string; edPublic: Uint8Array; name: string }
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
        const state = DELIVERY_STATE_NAMES[b[5] as keyof typeof DELIVERY_STATE_NAMES];
        if (!state) break; // a state this laptop does not know
        return { type: "delivery", ref: v.getUint32(1, true), state, attempts: b[6] };
      }
      case EventType.CONTACT: {
        const n = b[41];
        return { type: "contact", contactId: hexOf(b.subarray(1, 9)), edPublic: b.slice(9, 41), name: dec.decode(b.subarray(42, 42 + n)) };
      }
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
