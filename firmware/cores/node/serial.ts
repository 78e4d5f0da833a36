// The serial link of the node (firmware/SERIAL.md): the device side of the USB
// protocol, so that a board and the virtual node speak it with the same bytes.
//
// serialReceive takes bytes from the line in any chunking and runs them through a
// streaming COBS decoder into one packet buffer (306 bytes: one largest packet,
// never more); every complete frame is checked (COBS, length, CRC-16/CCITT-FALSE,
// version, type) and either dispatched or dropped with a counted reason
// (stats.ts ids 38..43). Replies and device messages are built in a second packet
// buffer, COBS-encoded between two 0x00 delimiters and handed to env.serial_write,
// one whole frame per call.
//
// Nothing allocates, nothing traps: every length is checked before a byte is
// read or written, and the decoder state is a handful of scalars.
import { ERR_INVALID, ERR_LENGTH, ERR_STATE, OK } from "../crypto/memory";
import { serial_write, storage_put } from "./env";
import { FRAME_MAX_BYTES } from "./frame";
import {
  CONFIG_MAX_BYTES, nodeCommand, nodeConfig, nodeContactEvent, nodeIdentityEvent, nodeInit, nodeInitialised,
  nodeReceive, nodeStatusExtra,
} from "./node";
import { CONTACTS_MAX } from "./contacts";
import { clockNowMs, clockSet, clockState } from "./clock";
import {
  C_SERIAL_COBS, C_SERIAL_CRC, C_SERIAL_OVERSIZED, C_SERIAL_SHORT, C_SERIAL_TYPE, C_SERIAL_VERSION, COUNTER_SLOTS,
  count, counter,
} from "./stats";

// ---------------------------------------------------------------------------
// Sizes and types (SERIAL.md)

export const SERIAL_VERSION: i32 = 1;
export const SERIAL_HEADER_BYTES: i32 = 4;
export const SERIAL_CRC_BYTES: i32 = 2;
export const SERIAL_PAYLOAD_MAX: i32 = 300;
/** version, type, seq, payload, CRC. */
export const SERIAL_PACKET_MAX: i32 = SERIAL_HEADER_BYTES + SERIAL_PAYLOAD_MAX + SERIAL_CRC_BYTES; // 306
export const SERIAL_PACKET_MIN: i32 = SERIAL_HEADER_BYTES + SERIAL_CRC_BYTES; // 6
/** COBS of the largest packet: n + n/254 + 1. */
export const SERIAL_ENCODED_MAX: i32 = SERIAL_PACKET_MAX + SERIAL_PACKET_MAX / 254 + 1; // 308

const REQ_ANNOUNCE: i32 = 0x01;
const REQ_SEND_DIRECT: i32 = 0x04;
const REQ_HELLO: i32 = 0x05;
const REQ_STATUS_GET: i32 = 0x06;
const REQ_CONTACTS_GET: i32 = 0x07;
const REQ_INJECT_FRAME: i32 = 0x08;
const REQ_CONFIG_GET: i32 = 0x09;
const REQ_CONFIG_SET: i32 = 0x0a;
const REQ_SET_TIME: i32 = 0x0b;
const REQ_CLOCK_GET: i32 = 0x0c;
/** 0x10..0x1F: storage commands (files), handed to node_command like 0x01..0x04 (SERIAL.md). */
const REQ_STORAGE_FIRST: i32 = 0x10;
const REQ_STORAGE_LAST: i32 = 0x1f;
/** Types from here on are device messages. */
const DEVICE_TYPES: i32 = 0x80;

const MSG_RESULT: i32 = 0x85;
const MSG_STATUS: i32 = 0x86;
const MSG_RADIO_FRAME: i32 = 0x87;
const MSG_SERIAL_ERRORS: i32 = 0x88;
const MSG_CONFIG: i32 = 0x89;
const MSG_CLOCK: i32 = 0x8b;

/** The serial link's six drop counters, in SERIAL_ERRORS order. */
const SERIAL_COUNTERS: i32 = 6;
/** Bytes of STATUS after the counters (node.ts nodeStatusExtra). */
const STATUS_EXTRA_BYTES: i32 = 12;

// ---------------------------------------------------------------------------
// State

/** Packet being decoded. */
const RXP: usize = memory.data(SERIAL_PACKET_MAX, 8);
/** Packet being built for the line (header, payload, CRC). */
const TXP: usize = memory.data(SERIAL_PACKET_MAX, 8);
/** Frame being written: 0x00, COBS, 0x00. */
const TXF: usize = memory.data(SERIAL_ENCODED_MAX + 2, 8);
const CONFIG_KEY: usize = memory.data<u8>([0x63, 0x6f, 0x6e, 0x66, 0x69, 0x67]); // "config"
const CONFIG_KEY_LEN: i32 = 6;

/** Decoded bytes so far in RXP. */
let rxLen: i32 = 0;
/** Encoded (non-zero) bytes since the last delimiter. */
let rxRaw: i32 = 0;
/** Bytes left in the current COBS block; 0 = the next byte is a code byte. */
let rxLeft: i32 = 0;
/** Code byte of the current block; 0 before the first block of a frame. */
let rxCode: i32 = 0;
/** The frame passed 308 bytes: the rest of it is skipped up to the next delimiter. */
let rxOversized = false;

/** Events and RADIO_FRAME go to the serial link (config flag bit 3). */
let eventsOn = false;
/** INJECT_FRAME in progress: the frame came from the link and is not written back. */
let injecting = false;
/** seq of the next unsolicited device message. */
let eventSeq: i32 = 0;

export function serialConfigure(on: bool): void { eventsOn = on; }
export function serialEventsOn(): bool { return eventsOn; }

// ---------------------------------------------------------------------------
// CRC-16/CCITT-FALSE and COBS

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final XOR) of len bytes at p. */
export function crc16(p: usize, len: i32): i32 {
  let crc: i32 = 0xffff;
  for (let i = 0; i < len; i++) {
    crc ^= <i32>load<u8>(p + <usize>i) << 8;
    for (let b = 0; b < 8; b++) crc = (crc & 0x8000) != 0 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** COBS-encodes len bytes at src to dst (room for len + len/254 + 1 bytes); returns the encoded length. */
export function cobsEncode(src: usize, len: i32, dst: usize): i32 {
  let codeAt = dst;
  let out = dst + 1;
  let code: i32 = 1;
  for (let i = 0; i < len; i++) {
    const b = load<u8>(src + <usize>i);
    if (b == 0) {
      store<u8>(codeAt, <u8>code);
      codeAt = out++;
      code = 1;
    } else {
      store<u8>(out++, b);
      code++;
      if (code == 0xff) {
        store<u8>(codeAt, <u8>code);
        codeAt = out++;
        code = 1;
      }
    }
  }
  store<u8>(codeAt, <u8>code);
  return <i32>(out - dst);
}

// ---------------------------------------------------------------------------
// Writing

/** Frames the packet in TXP (payload of plen bytes already at TXP + 4) and writes it. */
function sendPacket(type: i32, seq: i32, plen: i32): void {
  if (plen < 0 || plen > SERIAL_PAYLOAD_MAX) return;
  store<u8>(TXP, <u8>SERIAL_VERSION);
  store<u8>(TXP + 1, <u8>type);
  store<u16>(TXP + 2, <u16>seq);
  const n = SERIAL_HEADER_BYTES + plen;
  store<u16>(TXP + <usize>n, <u16>crc16(TXP, n));
  const e = cobsEncode(TXP, n + SERIAL_CRC_BYTES, TXF + 1);
  store<u8>(TXF, 0);
  store<u8>(TXF + 1 + <usize>e, 0);
  serial_write(TXF, e + 2);
}

/** Writes a packet whose payload (plen bytes) is at src. */
function send(type: i32, seq: i32, src: usize, plen: i32): void {
  if (plen < 0 || plen > SERIAL_PAYLOAD_MAX) return;
  memory.copy(TXP + SERIAL_HEADER_BYTES, src, plen);
  sendPacket(type, seq, plen);
}

function nextEventSeq(): i32 {
  const s = eventSeq;
  eventSeq = (eventSeq + 1) & 0xffff;
  return s;
}

/** An app event (type byte first, as env.app_event gets it) as an unsolicited device message. */
export function serialEvent(ptr: usize, len: i32): void {
  if (len < 1) return;
  send(<i32>load<u8>(ptr), nextEventSeq(), ptr + 1, len - 1);
}

/** A well-formed frame the radio heard: RADIO_FRAME when serial events are on (not for injected frames). */
export function serialRadioFrame(ptr: usize, len: i32, rssiDbm: i32, snrDbX4: i32): void {
  if (!eventsOn || injecting || len < 0 || len > FRAME_MAX_BYTES) return;
  store<i8>(TXP + 4, <i8>clampI8(rssiDbm));
  store<i8>(TXP + 5, <i8>clampI8(snrDbX4));
  memory.copy(TXP + 6, ptr, len);
  sendPacket(MSG_RADIO_FRAME, nextEventSeq(), 2 + len);
}

function clampI8(v: i32): i32 {
  return v < -128 ? -128 : v > 127 ? 127 : v;
}

function result(seq: i32, status: i32): void {
  store<i32>(TXP + 4, status);
  sendPacket(MSG_RESULT, seq, 4);
}

// ---------------------------------------------------------------------------
// Reading

/** Feeds len bytes at ptr from the line; returns how many good packets they completed. */
export function serialReceive(ptr: usize, len: i32): i32 {
  let good = 0;
  for (let i = 0; i < len; i++) {
    const b = <i32>load<u8>(ptr + <usize>i);
    if (b == 0) {
      if (frameEnd()) good++;
      continue;
    }
    if (rxOversized) continue;
    rxRaw++;
    if (rxRaw > SERIAL_ENCODED_MAX) { rxOversized = true; continue; }
    if (rxLeft == 0) {
      // A code byte: the block before it ends with an implied zero, unless it was a full 0xFF block.
      if (rxCode != 0 && rxCode != 0xff) rxPush(0);
      rxCode = b;
      rxLeft = b - 1;
    } else {
      rxPush(b);
      rxLeft--;
    }
  }
  return good;
}

function rxPush(b: i32): void {
  if (rxLen >= SERIAL_PACKET_MAX) { rxOversized = true; return; }
  store<u8>(RXP + <usize>rxLen, <u8>b);
  rxLen++;
}

/** A delimiter: checks and handles the frame it ends; true for a good packet. */
function frameEnd(): bool {
  const oversized = rxOversized;
  const raw = rxRaw;
  const left = rxLeft;
  const n = rxLen;
  rxOversized = false;
  rxRaw = 0;
  rxLeft = 0;
  rxCode = 0;
  rxLen = 0;
  if (oversized) { count(C_SERIAL_OVERSIZED); return false; }
  if (raw == 0) return false; // empty frame: a leading delimiter or idle line
  if (left != 0) { count(C_SERIAL_COBS); return false; }
  if (n < SERIAL_PACKET_MIN) { count(C_SERIAL_SHORT); return false; }
  const body = n - SERIAL_CRC_BYTES;
  if (<i32>load<u16>(RXP + <usize>body) != crc16(RXP, body)) { count(C_SERIAL_CRC); return false; }
  if (<i32>load<u8>(RXP) != SERIAL_VERSION) { count(C_SERIAL_VERSION); return false; }
  const type = <i32>load<u8>(RXP + 1);
  if (type >= DEVICE_TYPES) { count(C_SERIAL_TYPE); return false; }
  dispatch(type, <i32>load<u16>(RXP + 2), body - SERIAL_HEADER_BYTES);
  return true;
}

/** Handles one intact request; every path ends with exactly one RESULT. */
function dispatch(type: i32, seq: i32, plen: i32): void {
  const payload = RXP + SERIAL_HEADER_BYTES;
  if ((type >= REQ_ANNOUNCE && type <= REQ_SEND_DIRECT) || (type >= REQ_STORAGE_FIRST && type <= REQ_STORAGE_LAST)) {
    // The app command is the type byte and the payload: put the type just before it (over seq, read already).
    store<u8>(payload - 1, <u8>type);
    result(seq, nodeCommand(payload - 1, plen + 1));
    return;
  }
  if (type == REQ_HELLO) {
    if (plen != 0) { lengthError(seq); return; }
    if (!nodeInitialised()) { result(seq, ERR_STATE); return; }
    const n = nodeIdentityEvent(TXP + 3); // type byte at TXP + 3, payload from TXP + 4
    sendPacket(<i32>load<u8>(TXP + 3), seq, n - 1);
    result(seq, OK);
    return;
  }
  if (type == REQ_STATUS_GET) {
    if (plen != 0) { lengthError(seq); return; }
    sendStatus(seq);
    result(seq, OK);
    return;
  }
  if (type == REQ_CONTACTS_GET) {
    if (plen != 0) { lengthError(seq); return; }
    if (!nodeInitialised()) { result(seq, ERR_STATE); return; }
    for (let i = 0; i < CONTACTS_MAX; i++) {
      const n = nodeContactEvent(i, TXP + 3);
      if (n > 0) sendPacket(<i32>load<u8>(TXP + 3), seq, n - 1);
    }
    result(seq, OK);
    return;
  }
  if (type == REQ_INJECT_FRAME) {
    if (plen < 3 || plen > 2 + FRAME_MAX_BYTES) { lengthError(seq); return; }
    const rssi = <i32>load<i8>(payload);
    const snr = <i32>load<i8>(payload + 1);
    injecting = true;
    const status = nodeReceive(payload + 2, plen - 2, rssi, snr);
    injecting = false;
    result(seq, status);
    return;
  }
  if (type == REQ_CONFIG_GET) {
    if (plen != 0) { lengthError(seq); return; }
    if (!nodeInitialised()) { result(seq, ERR_STATE); return; }
    const n = nodeConfig(TXP + 4);
    sendPacket(MSG_CONFIG, seq, n);
    result(seq, OK);
    return;
  }
  if (type == REQ_CONFIG_SET) {
    if (plen < 16 || plen > CONFIG_MAX_BYTES) { lengthError(seq); return; }
    if (!nodeInitialised()) { result(seq, ERR_STATE); return; }
    // Serial events stay as the host set them: a laptop cannot switch its own link off.
    const flags = <i32>load<u8>(payload + 12);
    store<u8>(payload + 12, <u8>((flags & ~8) | (eventsOn ? 8 : 0)));
    const status = nodeInit(payload, plen);
    if (status == OK) storage_put(CONFIG_KEY, CONFIG_KEY_LEN, payload, plen);
    result(seq, status);
    return;
  }
  if (type == REQ_SET_TIME || type == REQ_CLOCK_GET) {
    if (plen != (type == REQ_SET_TIME ? 8 : 0)) { lengthError(seq); return; }
    if (!nodeInitialised()) { result(seq, ERR_STATE); return; }
    // clock.ts decides (forward always, back at most an hour once the clock has a date).
    const status = type == REQ_SET_TIME ? clockSet(load<i64>(payload)) : OK;
    sendClock(seq);
    result(seq, status);
    return;
  }
  count(C_SERIAL_TYPE);
  result(seq, ERR_INVALID);
}

/** CLOCK: the node's clock in ms since the Unix epoch (u64) and its state u8 (clock.ts clockState). */
function sendClock(seq: i32): void {
  store<i64>(TXP + 4, clockNowMs());
  store<u8>(TXP + 12, <u8>clockState());
  sendPacket(MSG_CLOCK, seq, 9);
}

function lengthError(seq: i32): void {
  count(C_SERIAL_TYPE);
  result(seq, ERR_LENGTH);
}

/** STATUS (counters and nodeStatusExtra), then SERIAL_ERRORS. */
function sendStatus(seq: i32): void {
  const p = TXP + 4;
  store<u8>(p, <u8>COUNTER_SLOTS);
  for (let i = 0; i < COUNTER_SLOTS; i++) store<i32>(p + 1 + <usize>(i * 4), counter(i));
  const at = p + 1 + <usize>(COUNTER_SLOTS * 4);
  const extra = nodeStatusExtra(at);
  sendPacket(MSG_STATUS, seq, 1 + COUNTER_SLOTS * 4 + extra);
  for (let i = 0; i < SERIAL_COUNTERS; i++) store<i32>(p + <usize>(i * 4), counter(C_SERIAL_COBS + i));
  sendPacket(MSG_SERIAL_ERRORS, seq, SERIAL_COUNTERS * 4);
}
