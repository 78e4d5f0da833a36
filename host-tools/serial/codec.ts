// The laptop side of the serial link (firmware/SERIAL.md): COBS framing, the
// CRC, a streaming decoder that drops bad frames with the device's six counted
// reasons, and typed requests / device messages. The device side is the node
// core's serial.ts; test/serial/ holds the two to the same bytes.
import { decodeConfig, decodeEvent, encodeConfig, encodeJoinChannel, encodeSendChannel, encodeSendDirect,
  type NodeConfig, type NodeEvent } from "../node/protocol.js";
import { encodeFileCancel, encodeFileGet, encodeFilePutBegin, encodeFilePutData, encodeFilePutEnd,
  FILE_DONE_BYTES, FILE_DATA_MIN_BYTES, FILE_STORED_BYTES } from "../node/protocol.js";

export const SERIAL_VERSION = 1;
export const HEADER_BYTES = 4;
export const CRC_BYTES = 2;
export const PAYLOAD_MAX = 300;
/** version, type, seq u16, payload, CRC u16. */
export const PACKET_MIN = HEADER_BYTES + CRC_BYTES;
export const PACKET_MAX = HEADER_BYTES + PAYLOAD_MAX + CRC_BYTES; // 306
/** COBS of the largest packet (n + floor(n / 254) + 1). */
export const ENCODED_MAX = PACKET_MAX + Math.floor(PACKET_MAX / 254) + 1; // 308
/** On the line: 0x00, COBS, 0x00. */
export const FRAME_MAX = ENCODED_MAX + 2; // 310

/** Requests (laptop → device). */
export const Req = {
  ANNOUNCE: 0x01,
  JOIN_CHANNEL: 0x02,
  SEND_CHANNEL: 0x03,
  SEND_DIRECT: 0x04,
  HELLO: 0x05,
  STATUS_GET: 0x06,
  CONTACTS_GET: 0x07,
  INJECT_FRAME: 0x08,
  CONFIG_GET: 0x09,
  CONFIG_SET: 0x0a,
  SET_TIME: 0x0b,
  CLOCK_GET: 0x0c,
  // Mesh-kept files: the node core's app commands 0x10..0x14 (SERIAL.md, STORAGE.md "Files").
  FILE_PUT_BEGIN: 0x10,
  FILE_PUT_DATA: 0x11,
  FILE_PUT_END: 0x12,
  FILE_GET: 0x13,
  FILE_CANCEL: 0x14,
} as const;

/** Device messages (device → laptop). */
export const Msg = {
  IDENTITY: 0x80,
  CHANNEL_MESSAGE: 0x81,
  DIRECT_MESSAGE: 0x82,
  DELIVERY: 0x83,
  CONTACT: 0x84,
  RESULT: 0x85,
  STATUS: 0x86,
  RADIO_FRAME: 0x87,
  SERIAL_ERRORS: 0x88,
  CONFIG: 0x89,
  LOG: 0x8a,
  CLOCK: 0x8b,
  // Mesh-kept files: the node core's app events 0x90..0x92.
  FILE_STORED: 0x90,
  FILE_DATA: 0x91,
  FILE_DONE: 0x92,
} as const;

/** The state byte of CLOCK (SERIAL.md): counting from boot, the host's own date, set over the link. */
export const CLOCK_STATES = ["noDate", "hostDate", "set"] as const;
export type ClockState = (typeof CLOCK_STATES)[number] | "unknown";
/** SET_TIME accepts 2020-01-01T00:00:00Z <= unix ms < 2100-01-01T00:00:00Z (SERIAL.md). */
export const SET_TIME_MIN_MS = Date.UTC(2020, 0, 1);
export const SET_TIME_MAX_MS = Date.UTC(2100, 0, 1);

export const LogLevel = { ERROR: 0, WARNING: 1, INFO: 2, DEBUG: 3 } as const;

// ---------------------------------------------------------------------------
// CRC and COBS

/** CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final XOR ("123456789" → 0x29B1). */
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** COBS encoding (no delimiters): at most n + floor(n / 254) + 1 bytes, none of them 0x00. */
export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + Math.floor(data.length / 254) + 1);
  let codeAt = 0;
  let o = 1;
  let code = 1;
  for (const b of data) {
    if (b === 0) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    } else {
      out[o++] = b;
      if (++code === 0xff) {
        out[codeAt] = code;
        codeAt = o++;
        code = 1;
      }
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/** COBS decoding of one frame without its delimiters; null when it is not valid COBS (a zero byte, or a block running past the end). */
export function cobsDecode(encoded: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(encoded.length);
  let o = 0;
  let i = 0;
  while (i < encoded.length) {
    const code = encoded[i++];
    if (code === 0 || i + code - 1 > encoded.length) return null;
    for (let k = 1; k < code; k++) {
      const b = encoded[i++];
      if (b === 0) return null;
      out[o++] = b;
    }
    if (code !== 0xff && i < encoded.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}

// ---------------------------------------------------------------------------
// Packets

export type Packet = { type: number; seq: number; payload: Uint8Array };

/** The packet bytes (version, type, seq, payload, CRC) before COBS. */
export function packetBytes(type: number, seq: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (!Number.isInteger(type) || type < 0 || type > 0xff) throw new RangeError(`packet type must be 0..255, not ${type}`);
  if (!Number.isInteger(seq) || seq < 0 || seq > 0xffff) throw new RangeError(`seq must be 0..65535, not ${seq}`);
  if (payload.length > PAYLOAD_MAX) throw new RangeError(`a payload is at most ${PAYLOAD_MAX} bytes, not ${payload.length}`);
  const p = new Uint8Array(PACKET_MIN + payload.length);
  p[0] = SERIAL_VERSION;
  p[1] = type;
  p[2] = seq & 0xff;
  p[3] = seq >> 8;
  p.set(payload, HEADER_BYTES);
  const crc = crc16(p.subarray(0, HEADER_BYTES + payload.length));
  p[HEADER_BYTES + payload.length] = crc & 0xff;
  p[HEADER_BYTES + payload.length + 1] = crc >> 8;
  return p;
}

/** One framed packet as written on the line: 0x00, COBS(packet), 0x00. */
export function encodePacket(type: number, seq: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const cobs = cobsEncode(packetBytes(type, seq, payload));
  const out = new Uint8Array(cobs.length + 2);
  out.set(cobs, 1);
  return out;
}

/** Drop reasons, in the order of SERIAL_ERRORS and of node_counter ids 38..43. */
export const DROP_REASONS = ["cobs", "short", "oversized", "crc", "version", "typeLength"] as const;
export type DropReason = (typeof DROP_REASONS)[number];
export type SerialCounters = Record<DropReason, number>;

export function zeroCounters(): SerialCounters {
  return { cobs: 0, short: 0, oversized: 0, crc: 0, version: 0, typeLength: 0 };
}

/** Checks a decoded packet (no COBS): the packet, or the reason to drop it (type/length is the caller's check). */
export function parsePacket(p: Uint8Array): Packet | Exclude<DropReason, "cobs" | "typeLength"> {
  if (p.length > PACKET_MAX) return "oversized";
  if (p.length < PACKET_MIN) return "short";
  const n = p.length - CRC_BYTES;
  if ((p[n] | (p[n + 1] << 8)) !== crc16(p.subarray(0, n))) return "crc";
  if (p[0] !== SERIAL_VERSION) return "version";
  return { type: p[1], seq: p[2] | (p[3] << 8), payload: p.slice(HEADER_BYTES, n) };
}

/**
 * Whether a device message of this type may have this payload length: known types with
 * at least their fixed fields (exact lengths where the layout fixes them).
 */
export function deviceMessageLengthOk(type: number, len: number): boolean {
  switch (type) {
    case Msg.IDENTITY: return len === 72;
    case Msg.CHANNEL_MESSAGE: return len >= 18;
    case Msg.DIRECT_MESSAGE: return len >= 17;
    case Msg.DELIVERY: return len === 6;
    case Msg.CONTACT: return len >= 41;
    case Msg.RESULT: return len === 4;
    case Msg.STATUS: return len >= 1;
    case Msg.RADIO_FRAME: return len >= 3;
    case Msg.SERIAL_ERRORS: return len >= 24;
    case Msg.CONFIG: return len >= 16;
    case Msg.LOG: return len >= 1;
    case Msg.CLOCK: return len >= 9;
    case Msg.FILE_STORED: return len === FILE_STORED_BYTES - 1;
    case Msg.FILE_DATA: return len >= FILE_DATA_MIN_BYTES - 1;
    case Msg.FILE_DONE: return len === FILE_DONE_BYTES - 1;
    default: return false;
  }
}

/** What a laptop accepts: device messages of known types and plausible lengths. */
export const acceptDeviceMessage = (p: Packet): boolean => deviceMessageLengthOk(p.type, p.payload.length) &&
  // FILE_DATA: offset and n, then n bytes, all of them there.
  (p.type !== Msg.FILE_DATA || p.payload.length >= FILE_DATA_MIN_BYTES - 1 + p.payload[8]);

export type SerialDecoderOptions = {
  /** Type/length check of an intact packet (default: acceptDeviceMessage); false drops it as "typeLength". */
  accept?: (packet: Packet) => boolean;
};

/**
 * Streaming decoder of the line: push() bytes in any chunking, get the good packets.
 * Bad frames are dropped and counted by reason (`counters`), exactly as the device does;
 * it holds at most one frame of ENCODED_MAX bytes.
 */
export class SerialDecoder {
  readonly counters: SerialCounters = zeroCounters();
  private readonly buf = new Uint8Array(ENCODED_MAX);
  private len = 0;
  private oversized = false;
  private readonly accept: (p: Packet) => boolean;

  constructor(opts: SerialDecoderOptions = {}) {
    this.accept = opts.accept ?? acceptDeviceMessage;
  }

  /** Drops a partial frame (a port reopened): nothing is counted. */
  reset(): void {
    this.len = 0;
    this.oversized = false;
  }

  push(bytes: Uint8Array): Packet[] {
    const out: Packet[] = [];
    for (const b of bytes) {
      if (b !== 0) {
        if (this.oversized) continue;
        if (this.len === ENCODED_MAX) { this.oversized = true; continue; }
        this.buf[this.len++] = b;
        continue;
      }
      const p = this.frameEnd();
      if (p) out.push(p);
    }
    return out;
  }

  private frameEnd(): Packet | null {
    const len = this.len, oversized = this.oversized;
    this.reset();
    if (oversized) { this.counters.oversized++; return null; }
    if (len === 0) return null;
    const decoded = cobsDecode(this.buf.subarray(0, len));
    if (!decoded) { this.counters.cobs++; return null; }
    const p = parsePacket(decoded);
    if (typeof p === "string") { this.counters[p]++; return null; }
    if (!this.accept(p)) { this.counters.typeLength++; return null; }
    return p;
  }
}

// ---------------------------------------------------------------------------
// Requests

export type Request = { type: number; payload: Uint8Array };

const empty = (type: number): Request => ({ type, payload: new Uint8Array(0) });
/** The node core's app command bytes without their first (type) byte. */
const fromCommand = (cmd: Uint8Array): Request => ({ type: cmd[0], payload: cmd.slice(1) });
const enc = new TextEncoder();
const dec = new TextDecoder();

export const MAX_CHANNEL_TEXT = 180;
export const MAX_DIRECT_TEXT = 156;
export const MAX_RADIO_FRAME = 255;

function checkText(text: string, max: number, what: string): void {
  const n = enc.encode(text).length;
  if (n > max) throw new RangeError(`a ${what} holds at most ${max} bytes of UTF-8 (this one has ${n})`);
}

export const request = {
  announce: (): Request => empty(Req.ANNOUNCE),
  joinChannel: (slot: number, name: string, passphrase: string): Request => fromCommand(encodeJoinChannel(slot, name, passphrase)),
  sendChannel: (slot: number, ref: number, text: string): Request => {
    checkText(text, MAX_CHANNEL_TEXT, "channel message");
    return fromCommand(encodeSendChannel(slot, ref >>> 0, text));
  },
  sendDirect: (contactId: string, ref: number, text: string): Request => {
    checkText(text, MAX_DIRECT_TEXT, "direct message");
    return fromCommand(encodeSendDirect(contactId, ref >>> 0, text));
  },
  hello: (): Request => empty(Req.HELLO),
  statusGet: (): Request => empty(Req.STATUS_GET),
  contactsGet: (): Request => empty(Req.CONTACTS_GET),
  /** A radio frame handed to the node as if heard (rssi dBm, snr dB; clamped to i8, snr in quarter dB). */
  injectFrame: (frame: Uint8Array, rssiDbm: number, snrDb: number): Request => {
    if (frame.length < 1 || frame.length > MAX_RADIO_FRAME) throw new RangeError(`a radio frame is 1..${MAX_RADIO_FRAME} bytes`);
    const payload = new Uint8Array(2 + frame.length);
    const v = new DataView(payload.buffer);
    v.setInt8(0, clampI8(rssiDbm));
    v.setInt8(1, clampI8(snrDb * 4));
    payload.set(frame, 2);
    return { type: Req.INJECT_FRAME, payload };
  },
  configGet: (): Request => empty(Req.CONFIG_GET),
  configSet: (config: NodeConfig): Request => ({ type: Req.CONFIG_SET, payload: encodeConfig(config) }),
  /**
   * SET_TIME: the node's clock to `unixMs` (ms since the Unix epoch, u64 LE). Any whole
   * number 0..2^53 is encoded (the device judges the range: RESULT -5 outside 2020..2100).
   */
  setTime: (unixMs: number): Request => {
    if (!Number.isSafeInteger(unixMs) || unixMs < 0) throw new RangeError("SET_TIME takes whole milliseconds since the Unix epoch, 0 or more");
    const payload = new Uint8Array(8);
    new DataView(payload.buffer).setBigUint64(0, BigInt(unixMs), true);
    return { type: Req.SET_TIME, payload };
  },
  clockGet: (): Request => empty(Req.CLOCK_GET),
  /** Mesh-kept files (STORAGE.md "Files"): one upload and one fetch at a time per node. */
  filePutBegin: (ref: number, length: number, copies = 0): Request => fromCommand(encodeFilePutBegin(ref >>> 0, length, copies)),
  filePutData: (offset: number, data: Uint8Array): Request => fromCommand(encodeFilePutData(offset, data)),
  filePutEnd: (): Request => fromCommand(encodeFilePutEnd()),
  fileGet: (ref: number, capability: Uint8Array): Request => fromCommand(encodeFileGet(ref >>> 0, capability)),
  fileCancel: (which: "put" | "get"): Request => fromCommand(encodeFileCancel(which)),
};

const clampI8 = (x: number) => Math.max(-128, Math.min(127, Math.round(x)));

export function encodeRequest(req: Request, seq: number): Uint8Array {
  return encodePacket(req.type, seq, req.payload);
}

// ---------------------------------------------------------------------------
// Device messages

/** The fields of STATUS after the counters (SERIAL.md). */
export type NodeStatus = {
  /** node_counter ids 0..count-1 (ABI.md). */
  counters: number[];
  queued: number;
  pendingDirect: number;
  routes: number;
  channels: number;
  airtimeLastHourMs: number;
  /** 0 = no duty-cycle limit. */
  dutyBudgetMs: number;
};

export type DeviceMessage =
  | { kind: "event"; seq: number; event: NodeEvent }
  | { kind: "result"; seq: number; status: number }
  | { kind: "status"; seq: number; status: NodeStatus }
  | { kind: "radioFrame"; seq: number; rssiDbm: number; snrDb: number; frame: Uint8Array }
  | { kind: "serialErrors"; seq: number; counters: SerialCounters }
  | { kind: "config"; seq: number; config: NodeConfig; bytes: Uint8Array }
  | { kind: "log"; seq: number; level: number; text: string }
  | { kind: "clock"; seq: number; unixMs: number; state: ClockState }
  | { kind: "unknown"; seq: number; type: number; payload: Uint8Array };

/** Reads a device message (a packet the SerialDecoder accepted). */
export function parseDeviceMessage(p: Packet): DeviceMessage {
  const { seq, payload: b } = p;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  try {
    switch (p.type) {
      case Msg.IDENTITY: case Msg.CHANNEL_MESSAGE: case Msg.DIRECT_MESSAGE: case Msg.DELIVERY: case Msg.CONTACT:
      case Msg.FILE_STORED: case Msg.FILE_DATA: case Msg.FILE_DONE: {
        const bytes = new Uint8Array(1 + b.length);
        bytes[0] = p.type;
        bytes.set(b, 1);
        return { kind: "event", seq, event: decodeEvent(bytes) };
      }
      case Msg.RESULT:
        return { kind: "result", seq, status: v.getInt32(0, true) };
      case Msg.STATUS: {
        const n = b[0];
        const counters: number[] = [];
        for (let i = 0; i < n; i++) counters.push(v.getUint32(1 + 4 * i, true));
        const x = 1 + 4 * n;
        const has = b.length >= x + 12;
        return { kind: "status", seq, status: {
          counters,
          queued: has ? b[x] : 0, pendingDirect: has ? b[x + 1] : 0, routes: has ? b[x + 2] : 0, channels: has ? b[x + 3] : 0,
          airtimeLastHourMs: has ? v.getUint32(x + 4, true) : 0, dutyBudgetMs: has ? v.getUint32(x + 8, true) : 0,
        } };
      }
      case Msg.RADIO_FRAME:
        return { kind: "radioFrame", seq, rssiDbm: v.getInt8(0), snrDb: v.getInt8(1) / 4, frame: b.slice(2) };
      case Msg.SERIAL_ERRORS: {
        const counters = zeroCounters();
        DROP_REASONS.forEach((r, i) => { counters[r] = v.getUint32(4 * i, true); });
        return { kind: "serialErrors", seq, counters };
      }
      case Msg.CONFIG:
        return { kind: "config", seq, config: decodeConfig(b), bytes: b.slice() };
      case Msg.LOG:
        return { kind: "log", seq, level: b[0], text: dec.decode(b.subarray(1)) };
      case Msg.CLOCK:
        return { kind: "clock", seq, unixMs: Number(v.getBigUint64(0, true)), state: CLOCK_STATES[b[8]] ?? "unknown" };
    }
  } catch { /* a payload too short for its fields: unknown below */ }
  return { kind: "unknown", seq, type: p.type, payload: b.slice() };
}

/** A LOG line as a host writes it (seq 0): for the ESP32 shell and the virtual node. */
export function encodeLog(level: number, text: string): Uint8Array {
  let t = enc.encode(text);
  if (t.length > PAYLOAD_MAX - 1) t = t.subarray(0, PAYLOAD_MAX - 1);
  const payload = new Uint8Array(1 + t.length);
  payload[0] = level;
  payload.set(t, 1);
  return encodePacket(Msg.LOG, 0, payload);
}

/** Names of the node_counter ids (ABI.md), 0..43. */
export const COUNTER_NAMES: readonly string[] = [
  "framesReceived", "dropTooShort", "dropTooLong", "dropBadPadding", "dropBadVersion", "dropBadFlags", "dropBadType",
  "dropBadHops", "dropAuthFailed", "dropBadContent", "dropBadSignature", "dropBadKey", "dropReplay", "duplicates",
  "hopsExhausted", "oversized", "framesSent", "airtimeMs", "relayed", "relaysCancelled", "directDelivered",
  "channelDelivered", "acksSent", "acksReceived", "routesLearned", "routeRepairs", "dutyCycleDeferrals", "queueDrops",
  "unicastSent", "floodSent", "contacts", "announcesSent", "directRetries", "directFailed", "hopRetries",
  "unknownSender", "badCalls", "contactTableFull",
  "serialCobs", "serialShort", "serialOversized", "serialCrc", "serialVersion", "serialTypeLength",
];

/** Status codes of RESULT (ABI.md). */
export const STATUS_NAMES: Readonly<Record<number, string>> = {
  0: "OK", [-1]: "ERR_RANGE", [-2]: "ERR_AUTH", [-3]: "ERR_STATE (node not started)", [-4]: "ERR_LENGTH",
  [-5]: "ERR_INVALID", [-6]: "unknown contact or channel", [-7]: "no room (queue or pending table full)",
};
