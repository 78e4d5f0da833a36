// A second, independent implementation of the Outcaxt protocol version 1
// (firmware/PROTOCOL.md), for tests only. It is written from PROTOCOL.md, not
// from the AssemblyScript: node:crypto supplies HMAC-SHA256, HKDF-SHA256,
// X25519 and Ed25519; XChaCha20-Poly1305 comes from the project's JS crypto
// API (loadCrypto, host-tools/crypto), since node:crypto has no XChaCha.
//
// Tests compare the AssemblyScript frames with these byte for byte.
import {
  createHmac, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, sign as edSign, verify as edVerify,
  type KeyObject,
} from "node:crypto";
import { loadCrypto, type Crypto } from "../../host-tools/crypto/index.js";

// ---------------------------------------------------------------------------
// Constants of PROTOCOL.md

export const VERSION = 1;
export const TYPE = { ANNOUNCE: 0, CHANNEL: 1, DIRECT: 2, ACK: 3, STORE: 4 } as const;
export const BODY_CLASSES = [48, 112, 197] as const;
export const HEADER_BYTES = 42;
export const TAG_BYTES = 16;
export const OVERHEAD_BYTES = HEADER_BYTES + TAG_BYTES;
export const FRAME_LENGTHS = BODY_CLASSES.map((n) => n + OVERHEAD_BYTES);
export const OFF = { FLAGS: 0, HOPS: 1, NEXT_HOP: 2, PREV_HOP: 6, NONCE: 10, DEST: 34, BODY: 42 } as const;

/** Drop reasons (PROTOCOL.md "Drop reasons"). */
export const DROP = {
  NONE: 0, TOO_SHORT: 1, TOO_LONG: 2, BAD_PADDING: 3, BAD_VERSION: 4, BAD_FLAGS: 5, BAD_TYPE: 6, BAD_HOPS: 7,
  AUTH_FAILED: 8, BAD_CONTENT: 9, BAD_SIGNATURE: 10, BAD_KEY: 11, REPLAY: 12,
} as const;

/** Seal statuses (firmware/ABI.md). */
export const ERR_LENGTH = -4;
export const ERR_INVALID = -5;

export const CHANNEL_TEXT_MAX = 197 - 17;
export const DIRECT_TEXT_MAX = 197 - 32 - 9;
export const ANNOUNCE_NAME_MAX = 15;

const ascii = (s: string) => new TextEncoder().encode(s);
export const LABEL = {
  identity: ascii("outcaxt/v1 identity"),
  ed25519: ascii("ed25519"),
  x25519: ascii("x25519"),
  pseudonymInfo: ascii("pseudonym"),
  pseudonym: ascii("outcaxt/v1 pseudonym"),
  mesh: ascii("outcaxt/v1 mesh"),
  key: ascii("key"),
  channel: ascii("outcaxt/v1 channel"),
  channelTag: ascii("outcaxt/v1 channel tag"),
  pair: ascii("outcaxt/v1 pair"),
  dmTag: ascii("outcaxt/v1 dm tag"),
  dm: ascii("outcaxt/v1 dm"),
  ack: ascii("outcaxt/v1 ack"),
  announce: ascii("outcaxt/v1 announce"),
  mailbox: ascii("outcaxt/v1 mailbox"),
  drop: ascii("outcaxt/v1 drop"),
} as const;

// ---------------------------------------------------------------------------
// Byte helpers

export const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};
export const le32 = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
};
const readLe32 = (b: Uint8Array, off: number): number => new DataView(b.buffer, b.byteOffset).getUint32(off, true);
const compareBytes = (a: Uint8Array, b: Uint8Array): number => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
};
const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);

// ---------------------------------------------------------------------------
// Primitives from node:crypto

export const hmac = (key: Uint8Array, ...msg: Uint8Array[]): Uint8Array => {
  const h = createHmac("sha256", key);
  for (const m of msg) h.update(m);
  return new Uint8Array(h.digest());
};
/** RFC 5869, Extract then Expand, by node:crypto. */
export const hkdf = (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length = 32): Uint8Array =>
  new Uint8Array(hkdfSync("sha256", ikm, salt, info, length));
/** RFC 5869 §2.3 Expand alone (node:crypto only offers Extract + Expand together). */
export const hkdfExpand = (prk: Uint8Array, info: Uint8Array, length = 32): Uint8Array => {
  const out: Uint8Array[] = [];
  let t: Uint8Array = new Uint8Array(0);
  for (let i = 1; out.length * 32 < length; i++) {
    t = hmac(prk, t, info, Uint8Array.of(i));
    out.push(t);
  }
  return concat(...out).slice(0, length);
};

const X25519_PKCS8 = Buffer.from("302e020100300506032b656e04220420", "hex");
const X25519_SPKI = Buffer.from("302a300506032b656e032100", "hex");
const ED25519_PKCS8 = Buffer.from("302e020100300506032b657004220420", "hex");
const ED25519_SPKI = Buffer.from("302a300506032b6570032100", "hex");

const x25519Private = (k: Uint8Array): KeyObject =>
  createPrivateKey({ key: Buffer.concat([X25519_PKCS8, k]), format: "der", type: "pkcs8" });
const x25519PublicKey = (u: Uint8Array): KeyObject =>
  createPublicKey({ key: Buffer.concat([X25519_SPKI, u]), format: "der", type: "spki" });
const ed25519Private = (seed: Uint8Array): KeyObject =>
  createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, seed]), format: "der", type: "pkcs8" });
const ed25519PublicKeyObject = (pub: Uint8Array): KeyObject =>
  createPublicKey({ key: Buffer.concat([ED25519_SPKI, pub]), format: "der", type: "spki" });
const rawPublic = (k: KeyObject): Uint8Array =>
  new Uint8Array(createPublicKey(k).export({ format: "der", type: "spki" }).subarray(12));

/** X25519(k, 9). */
export const x25519Base = (k: Uint8Array): Uint8Array => rawPublic(x25519Private(k));
/** X25519(k, u); null when the result is all zero (OpenSSL refuses it, RFC 7748 §6.1). */
export const x25519 = (k: Uint8Array, u: Uint8Array): Uint8Array | null => {
  try {
    const s = new Uint8Array(diffieHellman({ privateKey: x25519Private(k), publicKey: x25519PublicKey(u) }));
    return isZero(s) ? null : s;
  } catch {
    return null;
  }
};
export const ed25519Public = (seed: Uint8Array): Uint8Array => rawPublic(ed25519Private(seed));
export const ed25519Sign = (seed: Uint8Array, msg: Uint8Array): Uint8Array =>
  new Uint8Array(edSign(null, msg, ed25519Private(seed)));
export const ed25519Verify = (pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean => {
  try {
    return edVerify(null, msg, ed25519PublicKeyObject(pub), sig);
  } catch {
    return false;
  }
};

// ---------------------------------------------------------------------------
// Keys (PROTOCOL.md "Keys")

export type Identity = {
  ed25519Seed: Uint8Array; ed25519Pub: Uint8Array; x25519Secret: Uint8Array; x25519Pub: Uint8Array;
  pseudonymKey: Uint8Array;
};

export function identityFromSeed(seed: Uint8Array): Identity {
  const prk = hmac(LABEL.identity, seed);
  const ed25519Seed = hkdfExpand(prk, LABEL.ed25519);
  const x25519Secret = hkdfExpand(prk, LABEL.x25519);
  // Cross-check: Extract + Expand by node:crypto gives the same bytes.
  if (compareBytes(hkdf(seed, LABEL.identity, LABEL.x25519), x25519Secret) !== 0) throw new Error("hkdf mismatch");
  return {
    ed25519Seed, ed25519Pub: ed25519Public(ed25519Seed), x25519Secret, x25519Pub: x25519Base(x25519Secret),
    pseudonymKey: hkdfExpand(prk, LABEL.pseudonymInfo),
  };
}

/** Identity block as the AS core lays it out (keys.ts IDENTITY_BYTES). */
export const identityBlock = (id: Identity): Uint8Array =>
  concat(id.ed25519Seed, id.ed25519Pub, id.x25519Secret, id.x25519Pub, id.pseudonymKey);

export function pseudonym(id: Identity, epoch: number): number {
  const p = readLe32(hmac(id.pseudonymKey, LABEL.pseudonym, le32(epoch)), 0);
  return p === 0 ? 1 : p;
}

export const meshKey = (name: Uint8Array): Uint8Array => hkdf(name, LABEL.mesh, LABEL.key);
export const channelKey = (name: Uint8Array, passphrase: Uint8Array): Uint8Array =>
  hkdf(passphrase, concat(LABEL.channel, name), LABEL.key);
export const channelTag = (chanKey: Uint8Array, epoch: number): Uint8Array =>
  hmac(chanKey, LABEL.channelTag, le32(epoch)).slice(0, 8);

export const pairDirection = (senderPub: Uint8Array, recipientPub: Uint8Array): number =>
  compareBytes(senderPub, recipientPub) < 0 ? 0 : 1;

export function pairKey(id: Identity, peerPub: Uint8Array): Uint8Array | null {
  if (compareBytes(id.x25519Pub, peerPub) === 0) return null;
  const shared = x25519(id.x25519Secret, peerPub);
  if (!shared) return null;
  const [lo, hi] = compareBytes(id.x25519Pub, peerPub) < 0 ? [id.x25519Pub, peerPub] : [peerPub, id.x25519Pub];
  return hkdf(concat(shared, lo, hi), LABEL.pair, LABEL.key);
}

export const dmTag = (pk: Uint8Array, epoch: number, direction: number): Uint8Array =>
  hmac(pk, LABEL.dmTag, le32(epoch), Uint8Array.of(direction & 1)).slice(0, 8);

export const messageKey = (shared: Uint8Array, pk: Uint8Array, nonce: Uint8Array): Uint8Array =>
  hkdf(concat(shared, pk), nonce, LABEL.dm);
export const ackKey = (msgKey: Uint8Array): Uint8Array => hkdfExpand(msgKey, LABEL.ack);
/** STORAGE.md "Mailbox tag": HMAC(key = x25519_pub, "outcaxt/v1 mailbox" ‖ le32(epoch))[0..8]. */
export const mailboxTag = (x25519Pub: Uint8Array, epoch: number): Uint8Array =>
  hmac(x25519Pub, LABEL.mailbox, le32(epoch)).slice(0, 8);
/** STORAGE.md "Drop key": HMAC(K_ack, "outcaxt/v1 drop"). */
export const dropKey = (kAck: Uint8Array): Uint8Array => hmac(kAck, LABEL.drop);

// ---------------------------------------------------------------------------
// Frames (PROTOCOL.md "Frame layout")

export const flagsOf = (type: number): number => (VERSION << 6) | (type << 3);

export function header(type: number, hopLimit: number, nonce: Uint8Array, dest: Uint8Array): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  h[OFF.FLAGS] = flagsOf(type);
  h[OFF.HOPS] = (hopLimit << 4) | hopLimit;
  h.set(nonce, OFF.NONCE);
  h.set(dest, OFF.DEST);
  return h;
}

export const headerAad = (frame: Uint8Array): Uint8Array =>
  concat(Uint8Array.of(frame[OFF.FLAGS], frame[OFF.HOPS] & 0xf0), frame.subarray(OFF.NONCE, OFF.BODY));

export const bodyClassFor = (n: number): number => BODY_CLASSES.find((c) => n >= 0 && n <= c) ?? 0;

/** PROTOCOL.md "Receiving": the checks that need no key, in their order. */
export function checkFrame(frame: Uint8Array): number {
  const len = frame.length;
  if (len < FRAME_LENGTHS[0]) return DROP.TOO_SHORT;
  if (len > 255) return DROP.TOO_LONG;
  const body = len - OVERHEAD_BYTES;
  if (!(BODY_CLASSES as readonly number[]).includes(body)) return DROP.BAD_PADDING;
  const flags = frame[0];
  if (flags >> 6 !== VERSION) return DROP.BAD_VERSION;
  if ((flags & 7) !== 0) return DROP.BAD_FLAGS;
  const type = (flags >> 3) & 7;
  if (type > TYPE.STORE) return DROP.BAD_TYPE;
  const limit = frame[1] >> 4;
  if (limit < 1 || limit > 7 || (frame[1] & 15) > limit) return DROP.BAD_HOPS;
  if (type === TYPE.ANNOUNCE && body !== 197) return DROP.BAD_PADDING;
  if (type === TYPE.ACK && body !== 48) return DROP.BAD_PADDING;
  return DROP.NONE;
}

// ---------------------------------------------------------------------------
// The protocol, with XChaCha20-Poly1305 from the project's JS crypto API

export type Announce = {
  ed25519Pub: Uint8Array; x25519Pub: Uint8Array; prekeyPub: Uint8Array; prekeyEpoch: number; unixS: number;
  name: Uint8Array; signature: Uint8Array;
};
export type Opened<T> = { reason: number; value?: T };
export type ChannelMessage = { senderId: Uint8Array; seq: number; unixS: number; text: Uint8Array };
export type DirectMessage = { msgId: number; unixS: number; text: Uint8Array; ackKey: Uint8Array };

export class ReferenceProtocol {
  private constructor(readonly crypto: Crypto) {}

  static async create(): Promise<ReferenceProtocol> {
    return new ReferenceProtocol(await loadCrypto());
  }

  /** header ‖ XChaCha20-Poly1305(key, nonce, aad, plaintext), the ciphertext written after `clear` body bytes. */
  private seal(head: Uint8Array, key: Uint8Array, plaintext: Uint8Array, clear: Uint8Array = new Uint8Array(0)): Uint8Array {
    const nonce = head.subarray(OFF.NONCE, OFF.NONCE + 24);
    const sealed = this.crypto.xchacha20poly1305.seal(key, nonce, plaintext, concat(headerAad(head), clear));
    return concat(head, clear, sealed);
  }

  private open(frame: Uint8Array, key: Uint8Array, clearBytes = 0): Uint8Array | null {
    const nonce = frame.subarray(OFF.NONCE, OFF.NONCE + 24);
    const clear = frame.subarray(OFF.BODY, OFF.BODY + clearBytes);
    return this.crypto.xchacha20poly1305.open(key, nonce, frame.subarray(OFF.BODY + clearBytes),
      concat(headerAad(frame), clear));
  }

  /** The signed part of an announce body (120 bytes). */
  static announceSigned(a: Omit<Announce, "signature">): Uint8Array {
    const name = new Uint8Array(15);
    name.set(a.name);
    return concat(a.ed25519Pub, a.x25519Pub, a.prekeyPub, le32(a.prekeyEpoch), le32(a.unixS),
      Uint8Array.of(a.name.length), name);
  }

  /** Builds an announce body from parts; `signature` given or made with `signerSeed`. */
  static announceBody(a: Omit<Announce, "signature">, signature: Uint8Array): Uint8Array {
    return concat(ReferenceProtocol.announceSigned(a), signature, new Uint8Array(13));
  }

  /** random = nonce (24) ‖ dest (8). */
  sealAnnounce(hopLimit: number, kMesh: Uint8Array, id: Identity, prekeyPub: Uint8Array, prekeyEpoch: number,
    unixS: number, name: Uint8Array, random: Uint8Array): Uint8Array {
    const parts = { ed25519Pub: id.ed25519Pub, x25519Pub: id.x25519Pub, prekeyPub, prekeyEpoch, unixS, name };
    const signature = ed25519Sign(id.ed25519Seed, concat(LABEL.announce, ReferenceProtocol.announceSigned(parts)));
    return this.sealAnnounceBody(hopLimit, kMesh, ReferenceProtocol.announceBody(parts, signature), random);
  }

  /** Seals any 197-byte body as an ANNOUNCE (tests use it to forge). */
  sealAnnounceBody(hopLimit: number, kMesh: Uint8Array, body: Uint8Array, random: Uint8Array): Uint8Array {
    return this.seal(header(TYPE.ANNOUNCE, hopLimit, random.subarray(0, 24), random.subarray(24, 32)), kMesh, body);
  }

  openAnnounce(frame: Uint8Array, kMesh: Uint8Array): Opened<Announce> {
    const reason = checkFrame(frame);
    if (reason !== DROP.NONE) return { reason };
    if (((frame[0] >> 3) & 7) !== TYPE.ANNOUNCE) return { reason: DROP.BAD_TYPE };
    const body = this.open(frame, kMesh);
    if (!body) return { reason: DROP.AUTH_FAILED };
    const nameLen = body[104];
    if (nameLen > 15 || !isZero(body.subarray(105 + nameLen, 120)) || !isZero(body.subarray(184))) {
      return { reason: DROP.BAD_CONTENT };
    }
    const signature = body.slice(120, 184);
    if (!ed25519Verify(body.subarray(0, 32), concat(LABEL.announce, body.subarray(0, 120)), signature)) {
      return { reason: DROP.BAD_SIGNATURE };
    }
    return {
      reason: DROP.NONE,
      value: {
        ed25519Pub: body.slice(0, 32), x25519Pub: body.slice(32, 64), prekeyPub: body.slice(64, 96),
        prekeyEpoch: readLe32(body, 96), unixS: readLe32(body, 100), name: body.slice(105, 105 + nameLen), signature,
      },
    };
  }

  /** Plaintext of a CHANNEL body before padding. */
  static channelPlaintext(senderId: Uint8Array, seq: number, unixS: number, text: Uint8Array): Uint8Array {
    return concat(senderId, le32(seq), le32(unixS), Uint8Array.of(text.length), text);
  }

  /** random = nonce (24). `padTo` forces a class (tests); `plaintext` overrides the layout (tests). */
  sealChannel(hopLimit: number, kChan: Uint8Array, epoch: number, senderId: Uint8Array, seq: number, unixS: number,
    text: Uint8Array, random: Uint8Array, plaintext?: Uint8Array): Uint8Array {
    const pt = plaintext ?? ReferenceProtocol.channelPlaintext(senderId, seq, unixS, text);
    const padded = new Uint8Array(bodyClassFor(pt.length));
    padded.set(pt);
    return this.seal(header(TYPE.CHANNEL, hopLimit, random.subarray(0, 24), channelTag(kChan, epoch)), kChan, padded);
  }

  openChannel(frame: Uint8Array, kChan: Uint8Array): Opened<ChannelMessage> {
    const reason = checkFrame(frame);
    if (reason !== DROP.NONE) return { reason };
    if (((frame[0] >> 3) & 7) !== TYPE.CHANNEL) return { reason: DROP.BAD_TYPE };
    const pt = this.open(frame, kChan);
    if (!pt) return { reason: DROP.AUTH_FAILED };
    const len = pt[16];
    if (17 + len > pt.length || !isZero(pt.subarray(17 + len))) return { reason: DROP.BAD_CONTENT };
    return {
      reason: DROP.NONE,
      value: { senderId: pt.slice(0, 8), seq: readLe32(pt, 8), unixS: readLe32(pt, 12), text: pt.slice(17, 17 + len) },
    };
  }

  static directPlaintext(msgId: number, unixS: number, text: Uint8Array): Uint8Array {
    return concat(le32(msgId), le32(unixS), Uint8Array.of(text.length), text);
  }

  /** random = nonce (24) ‖ ephemeral secret (32). Returns the frame and K_ack, or null for a low-order prekey. */
  sealDirect(hopLimit: number, kPair: Uint8Array, direction: number, epoch: number, prekeyPub: Uint8Array,
    msgId: number, unixS: number, text: Uint8Array, random: Uint8Array, plaintext?: Uint8Array,
  ): { frame: Uint8Array; ackKey: Uint8Array } | null {
    const nonce = random.subarray(0, 24);
    const e = random.subarray(24, 56);
    const shared = x25519(e, prekeyPub);
    if (!shared) return null;
    const kMsg = messageKey(shared, kPair, nonce);
    const pt = plaintext ?? ReferenceProtocol.directPlaintext(msgId, unixS, text);
    const padded = new Uint8Array(bodyClassFor(32 + pt.length) - 32);
    padded.set(pt);
    const head = header(TYPE.DIRECT, hopLimit, nonce, dmTag(kPair, epoch, direction));
    return { frame: this.seal(head, kMsg, padded, x25519Base(e)), ackKey: ackKey(kMsg) };
  }

  /** Opens with an explicit K_msg (tests show which inputs the key needs). */
  openDirectWithKey(frame: Uint8Array, kMsg: Uint8Array): Opened<DirectMessage> {
    const reason = checkFrame(frame);
    if (reason !== DROP.NONE) return { reason };
    if (((frame[0] >> 3) & 7) !== TYPE.DIRECT) return { reason: DROP.BAD_TYPE };
    const pt = this.open(frame, kMsg, 32);
    if (!pt) return { reason: DROP.AUTH_FAILED };
    const len = pt[8];
    if (9 + len > pt.length || !isZero(pt.subarray(9 + len))) return { reason: DROP.BAD_CONTENT };
    return {
      reason: DROP.NONE,
      value: { msgId: readLe32(pt, 0), unixS: readLe32(pt, 4), text: pt.slice(9, 9 + len), ackKey: ackKey(kMsg) },
    };
  }

  openDirect(frame: Uint8Array, kPair: Uint8Array, prekeySecret: Uint8Array): Opened<DirectMessage> {
    const reason = checkFrame(frame);
    if (reason !== DROP.NONE) return { reason };
    if (((frame[0] >> 3) & 7) !== TYPE.DIRECT) return { reason: DROP.BAD_TYPE };
    const shared = x25519(prekeySecret, frame.subarray(OFF.BODY, OFF.BODY + 32));
    if (!shared) return { reason: DROP.BAD_KEY };
    return this.openDirectWithKey(frame, messageKey(shared, kPair, frame.subarray(OFF.NONCE, OFF.NONCE + 24)));
  }

  /** random = nonce (24). */
  sealAck(hopLimit: number, kAck: Uint8Array, directFrameId: Uint8Array, msgId: number, random: Uint8Array,
    plaintext?: Uint8Array): Uint8Array {
    const pt = new Uint8Array(48);
    pt.set(plaintext ?? le32(msgId));
    return this.seal(header(TYPE.ACK, hopLimit, random.subarray(0, 24), directFrameId), kAck, pt);
  }

  openAck(frame: Uint8Array, kAck: Uint8Array): Opened<{ msgId: number }> {
    const reason = checkFrame(frame);
    if (reason !== DROP.NONE) return { reason };
    if (((frame[0] >> 3) & 7) !== TYPE.ACK) return { reason: DROP.BAD_TYPE };
    const pt = this.open(frame, kAck);
    if (!pt) return { reason: DROP.AUTH_FAILED };
    if (!isZero(pt.subarray(4))) return { reason: DROP.BAD_CONTENT };
    return { reason: DROP.NONE, value: { msgId: readLe32(pt, 0) } };
  }

  /** STORAGE.md: STORE frame, op ‖ len ‖ content ‖ zeros under K_mesh. random = nonce (24). */
  sealStore(hopLimit: number, kMesh: Uint8Array, dest: Uint8Array, op: number, content: Uint8Array,
    random: Uint8Array, plaintext?: Uint8Array): Uint8Array {
    const pt = plaintext ?? concat(Uint8Array.of(op, content.length), content);
    const padded = new Uint8Array(bodyClassFor(pt.length));
    padded.set(pt);
    return this.seal(header(TYPE.STORE, hopLimit, random.subarray(0, 24), dest), kMesh, padded);
  }

  openStore(frame: Uint8Array, kMesh: Uint8Array): Opened<{ op: number; content: Uint8Array }> {
    const reason = checkFrame(frame);
    if (reason !== DROP.NONE) return { reason };
    if (((frame[0] >> 3) & 7) !== TYPE.STORE) return { reason: DROP.BAD_TYPE };
    const pt = this.open(frame, kMesh);
    if (!pt) return { reason: DROP.AUTH_FAILED };
    const len = pt[1];
    if (pt[0] === 0 || 2 + len > pt.length || !isZero(pt.subarray(2 + len))) return { reason: DROP.BAD_CONTENT };
    return { reason: DROP.NONE, value: { op: pt[0], content: pt.slice(2, 2 + len) } };
  }
}
