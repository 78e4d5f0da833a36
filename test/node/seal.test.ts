// firmware/cores/node/keys.ts and seal.ts against the TypeScript reference of
// PROTOCOL.md (test/node/reference-protocol.ts): byte-for-byte agreement for
// every frame type and every padding boundary, tampering, wrong keys, tag
// rotation, forward secrecy of DIRECT frames and announce signatures.
import { randomBytes, randomInt } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { buildAs, fn, type AsExports } from "../helpers/as-build.js";
import {
  ANNOUNCE_NAME_MAX, CHANNEL_TEXT_MAX, DIRECT_TEXT_MAX, DROP, ERR_INVALID, ERR_LENGTH, LABEL, OFF, ReferenceProtocol,
  ackKey, bodyClassFor, channelKey, channelTag, concat, dmTag, dropKey, mailboxTag, ed25519Sign, hkdf, identityBlock, identityFromSeed,
  le32, meshKey, messageKey, pairDirection, pairKey, pseudonym, x25519, x25519Base,
} from "./reference-protocol.js";

type I32Fn = (...args: number[]) => number;
const rand = (n: number) => new Uint8Array(randomBytes(n));
const ascii = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const EPOCH = 490_000; // an hour in 2025

// Scratch layout (offsets in the entry's scratch buffer).
const S = {
  FRAME: 0, OUT: 256, IDENTITY: 512, KEY: 672, KEY2: 704, PUB: 736, SECRET: 768, RANDOM: 800, ACK: 864, SENDER: 896,
  DEST: 904, SEED: 912, TEXT: 1024, NAME: 1280, PASS: 1344, FRAME2: 1536,
} as const;

/** The AssemblyScript wire layer behind Uint8Array calls. */
class AsNode {
  readonly base: number;
  constructor(readonly ex: AsExports) {
    this.base = this.call("scratch_ptr");
  }
  call(name: string, ...args: number[]): number {
    return fn<I32Fn>(this.ex, name)(...args);
  }
  get mem(): Uint8Array { return new Uint8Array(this.ex.memory.buffer); }
  at(off: number): number { return this.base + off; }
  put(off: number, b: Uint8Array): number { this.mem.set(b, this.base + off); return this.base + off; }
  get(off: number, n: number): Uint8Array { return this.mem.slice(this.base + off, this.base + off + n); }

  identity(seed: Uint8Array): Uint8Array {
    this.put(S.SEED, seed);
    this.call("identity_from_seed", this.at(S.IDENTITY), this.at(S.SEED));
    return this.get(S.IDENTITY, 160);
  }
  pseudonym(id: Uint8Array, epoch: number): number {
    this.put(S.IDENTITY, id);
    return this.call("node_pseudonym", this.at(S.IDENTITY), epoch) >>> 0;
  }
  meshKey(name: Uint8Array): Uint8Array | number {
    this.put(S.NAME, name);
    const st = this.call("mesh_key", this.at(S.KEY), this.at(S.NAME), name.length);
    return st === 0 ? this.get(S.KEY, 32) : st;
  }
  channelKey(name: Uint8Array, pass: Uint8Array): Uint8Array | number {
    this.put(S.NAME, name);
    this.put(S.PASS, pass);
    const st = this.call("channel_key", this.at(S.KEY), this.at(S.NAME), name.length, this.at(S.PASS), pass.length);
    return st === 0 ? this.get(S.KEY, 32) : st;
  }
  channelTag(key: Uint8Array, epoch: number): Uint8Array {
    this.put(S.KEY, key);
    this.call("channel_tag", this.at(S.DEST), this.at(S.KEY), epoch);
    return this.get(S.DEST, 8);
  }
  pairKey(id: Uint8Array, peerPub: Uint8Array): Uint8Array | number {
    this.put(S.IDENTITY, id);
    this.put(S.PUB, peerPub);
    const st = this.call("pair_key", this.at(S.KEY), this.at(S.IDENTITY), this.at(S.PUB));
    return st === 0 ? this.get(S.KEY, 32) : st;
  }
  pairDirection(a: Uint8Array, b: Uint8Array): number {
    this.put(S.PUB, a);
    this.put(S.SECRET, b);
    return this.call("pair_direction", this.at(S.PUB), this.at(S.SECRET));
  }
  dmTag(key: Uint8Array, epoch: number, direction: number): Uint8Array {
    this.put(S.KEY, key);
    this.call("dm_tag", this.at(S.DEST), this.at(S.KEY), epoch, direction);
    return this.get(S.DEST, 8);
  }
  prekeyPublic(secret: Uint8Array): Uint8Array {
    this.put(S.SECRET, secret);
    this.call("prekey_public", this.at(S.PUB), this.at(S.SECRET));
    return this.get(S.PUB, 32);
  }
  /** Returns the frame, or the negative status; `random` is checked to be wiped afterwards by the caller. */
  sealAnnounce(hopLimit: number, kMesh: Uint8Array, id: Uint8Array, prekeyPub: Uint8Array, prekeyEpoch: number,
    unixS: number, name: Uint8Array, random: Uint8Array): Uint8Array | number {
    this.put(S.KEY, kMesh); this.put(S.IDENTITY, id); this.put(S.PUB, prekeyPub); this.put(S.NAME, name);
    this.put(S.RANDOM, random);
    const n = this.call("seal_announce", this.at(S.FRAME), hopLimit, this.at(S.KEY), this.at(S.IDENTITY),
      this.at(S.PUB), prekeyEpoch, unixS, this.at(S.NAME), name.length, this.at(S.RANDOM));
    return n > 0 ? this.get(S.FRAME, n) : n;
  }
  openAnnounce(frame: Uint8Array, kMesh: Uint8Array): { reason: number; body: Uint8Array } {
    this.put(S.FRAME, frame); this.put(S.KEY, kMesh);
    const reason = this.call("open_announce", this.at(S.FRAME), frame.length, this.at(S.KEY), this.at(S.OUT));
    return { reason, body: this.get(S.OUT, 197) };
  }
  sealChannel(hopLimit: number, kChan: Uint8Array, epoch: number, senderId: Uint8Array, seq: number, unixS: number,
    text: Uint8Array, random: Uint8Array): Uint8Array | number {
    this.put(S.KEY, kChan); this.put(S.SENDER, senderId); this.put(S.TEXT, text); this.put(S.RANDOM, random);
    const n = this.call("seal_channel", this.at(S.FRAME), hopLimit, this.at(S.KEY), epoch, this.at(S.SENDER), seq,
      unixS, this.at(S.TEXT), text.length, this.at(S.RANDOM));
    return n > 0 ? this.get(S.FRAME, n) : n;
  }
  openChannel(frame: Uint8Array, kChan: Uint8Array): { reason: number; pt: Uint8Array } {
    this.put(S.FRAME, frame); this.put(S.KEY, kChan);
    const reason = this.call("open_channel", this.at(S.FRAME), frame.length, this.at(S.KEY), this.at(S.OUT));
    return { reason, pt: this.get(S.OUT, frame.length - 58) };
  }
  sealDirect(hopLimit: number, kPair: Uint8Array, direction: number, epoch: number, prekeyPub: Uint8Array,
    msgId: number, unixS: number, text: Uint8Array, random: Uint8Array): { frame: Uint8Array; ackKey: Uint8Array } | number {
    this.put(S.KEY, kPair); this.put(S.PUB, prekeyPub); this.put(S.TEXT, text); this.put(S.RANDOM, random);
    const n = this.call("seal_direct", this.at(S.FRAME), hopLimit, this.at(S.KEY), direction, epoch, this.at(S.PUB),
      msgId, unixS, this.at(S.TEXT), text.length, this.at(S.RANDOM), this.at(S.ACK));
    return n > 0 ? { frame: this.get(S.FRAME, n), ackKey: this.get(S.ACK, 32) } : n;
  }
  openDirect(frame: Uint8Array, kPair: Uint8Array, prekeySecret: Uint8Array): { reason: number; pt: Uint8Array; ackKey: Uint8Array } {
    this.put(S.FRAME, frame); this.put(S.KEY, kPair); this.put(S.SECRET, prekeySecret);
    this.put(S.ACK, new Uint8Array(32));
    const reason = this.call("open_direct", this.at(S.FRAME), frame.length, this.at(S.KEY), this.at(S.SECRET),
      this.at(S.OUT), this.at(S.ACK));
    return { reason, pt: this.get(S.OUT, frame.length - 58 - 32), ackKey: this.get(S.ACK, 32) };
  }
  sealAck(hopLimit: number, kAck: Uint8Array, frameId: Uint8Array, msgId: number, random: Uint8Array): Uint8Array | number {
    this.put(S.KEY, kAck); this.put(S.DEST, frameId); this.put(S.RANDOM, random);
    const n = this.call("seal_ack", this.at(S.FRAME), hopLimit, this.at(S.KEY), this.at(S.DEST), msgId, this.at(S.RANDOM));
    return n > 0 ? this.get(S.FRAME, n) : n;
  }
  openAck(frame: Uint8Array, kAck: Uint8Array): { reason: number; pt: Uint8Array } {
    this.put(S.FRAME, frame); this.put(S.KEY, kAck);
    const reason = this.call("open_ack", this.at(S.FRAME), frame.length, this.at(S.KEY), this.at(S.OUT));
    return { reason, pt: this.get(S.OUT, 48) };
  }
  sealStore(hopLimit: number, kMesh: Uint8Array, dest: Uint8Array, op: number, content: Uint8Array, random: Uint8Array): Uint8Array | number {
    this.put(S.KEY, kMesh); this.put(S.DEST, dest); this.put(S.TEXT, content); this.put(S.RANDOM, random);
    const n = this.call("seal_store", this.at(S.FRAME), hopLimit, this.at(S.KEY), this.at(S.DEST), op, this.at(S.TEXT),
      content.length, this.at(S.RANDOM));
    return n > 0 ? this.get(S.FRAME, n) : n;
  }
  openStore(frame: Uint8Array, kMesh: Uint8Array): { reason: number; pt: Uint8Array } {
    this.put(S.FRAME, frame); this.put(S.KEY, kMesh);
    const reason = this.call("open_store", this.at(S.FRAME), frame.length, this.at(S.KEY), this.at(S.OUT));
    return { reason, pt: this.get(S.OUT, frame.length - 58) };
  }
  /** Generic open by type with the keys a test holds. */
  open(frame: Uint8Array, keys: Keys): number {
    switch ((frame[0] >> 3) & 7) {
      case 0: return this.openAnnounce(frame, keys.mesh).reason;
      case 1: return this.openChannel(frame, keys.chan).reason;
      case 2: return this.openDirect(frame, keys.pair, keys.prekeySecret).reason;
      default: return this.openAck(frame, keys.ack).reason;
    }
  }
}

type Keys = { mesh: Uint8Array; chan: Uint8Array; pair: Uint8Array; prekeySecret: Uint8Array; ack: Uint8Array };

let node: AsNode;
let ref: ReferenceProtocol;
let memoryBytes: number;

beforeAll(async () => {
  const build = await buildAs("test/node/as/seal.entry.ts");
  node = new AsNode(build.instantiate());
  ref = await ReferenceProtocol.create();
  memoryBytes = node.ex.memory.buffer.byteLength;
});

/** Two contacts with identities, prekeys and a shared pair key. */
function twoNodes() {
  const a = identityFromSeed(rand(32));
  const b = identityFromSeed(rand(32));
  const kPair = pairKey(a, b.x25519Pub)!;
  const prekeySecret = rand(32);
  return { a, b, kPair, prekeySecret, prekeyPub: x25519Base(prekeySecret), dirAB: pairDirection(a.x25519Pub, b.x25519Pub) };
}

// ---------------------------------------------------------------------------

describe("keys.ts agrees with the reference", () => {
  it("epochs are hours of unix time", () => {
    const epochOf = fn<(ms: bigint) => number>(node.ex, "epoch_of");
    expect(epochOf(0n)).toBe(0);
    expect(epochOf(-5n)).toBe(0);
    expect(epochOf(3_599_999n)).toBe(0);
    expect(epochOf(3_600_000n)).toBe(1);
    expect(epochOf(1_764_000_000_000n)).toBe(490_000);
    expect(epochOf(BigInt(Date.now())) >>> 0).toBe(Math.floor(Date.now() / 3_600_000));
  });

  it("identity from a seed: Ed25519 and X25519 key pairs, pseudonym key (HKDF labels of PROTOCOL.md)", () => {
    for (let i = 0; i < 20; i++) {
      const seed = rand(32);
      expect(hex(node.identity(seed))).toBe(hex(identityBlock(identityFromSeed(seed))));
    }
  });

  it("pseudonyms per epoch match, differ across epochs and across nodes, and are never 0", () => {
    const ids = Array.from({ length: 8 }, () => identityFromSeed(rand(32)));
    const seen = new Set<number>();
    for (const id of ids) {
      for (let e = EPOCH; e < EPOCH + 24; e++) {
        const p = node.pseudonym(identityBlock(id), e);
        expect(p).toBe(pseudonym(id, e));
        expect(p).not.toBe(0);
        seen.add(p);
      }
    }
    expect(seen.size).toBe(8 * 24);
  });

  it("mesh key and channel key for names and passphrases of every allowed length; longer ones refused", () => {
    for (let n = 0; n <= 32; n++) {
      const name = rand(n);
      expect(hex(node.meshKey(name) as Uint8Array)).toBe(hex(meshKey(name)));
    }
    expect(node.meshKey(rand(33))).toBe(ERR_LENGTH);
    for (let n = 0; n <= 32; n += 4) {
      for (const p of [0, 1, 16, 63, 64]) {
        const name = rand(n);
        const pass = rand(p);
        expect(hex(node.channelKey(name, pass) as Uint8Array)).toBe(hex(channelKey(name, pass)));
      }
    }
    expect(node.channelKey(rand(33), rand(8))).toBe(ERR_LENGTH);
    expect(node.channelKey(rand(8), rand(65))).toBe(ERR_LENGTH);
    // The passphrase and the name both matter.
    const k = channelKey(ascii("town"), ascii("river stone 42"));
    expect(hex(k)).not.toBe(hex(channelKey(ascii("town"), ascii("river stone 43"))));
    expect(hex(k)).not.toBe(hex(channelKey(ascii("towm"), ascii("river stone 42"))));
  });

  it("channel tags rotate with the epoch", () => {
    const k = rand(32);
    for (let e = EPOCH; e < EPOCH + 5; e++) expect(hex(node.channelTag(k, e))).toBe(hex(channelTag(k, e)));
    expect(hex(channelTag(k, EPOCH))).not.toBe(hex(channelTag(k, EPOCH + 1)));
  });

  it("pair key: both sides derive the same key, equal to the reference's", () => {
    for (let i = 0; i < 10; i++) {
      const { a, b, kPair } = twoNodes();
      expect(hex(node.pairKey(identityBlock(a), b.x25519Pub) as Uint8Array)).toBe(hex(kPair));
      expect(hex(node.pairKey(identityBlock(b), a.x25519Pub) as Uint8Array)).toBe(hex(kPair));
      const c = identityFromSeed(rand(32));
      expect(hex(pairKey(a, c.x25519Pub)!)).not.toBe(hex(kPair));
    }
  });

  it("pair key refuses the own public key and low-order points", () => {
    const a = identityFromSeed(rand(32));
    expect(node.pairKey(identityBlock(a), a.x25519Pub)).toBe(ERR_INVALID);
    const lowOrder = [new Uint8Array(32), Uint8Array.of(1, ...new Uint8Array(31))];
    for (const u of lowOrder) expect(node.pairKey(identityBlock(a), u)).toBe(ERR_INVALID);
  });

  it("DM tags: A→B differs from B→A and from the next epoch; both ends compute the same tag", () => {
    const { a, b, kPair } = twoNodes();
    const ab = pairDirection(a.x25519Pub, b.x25519Pub);
    const ba = pairDirection(b.x25519Pub, a.x25519Pub);
    expect(ab + ba).toBe(1);
    expect(node.pairDirection(a.x25519Pub, b.x25519Pub)).toBe(ab);
    expect(node.pairDirection(b.x25519Pub, a.x25519Pub)).toBe(ba);
    const tAB = node.dmTag(kPair, EPOCH, ab);
    expect(hex(tAB)).toBe(hex(dmTag(kPair, EPOCH, ab)));
    expect(hex(tAB)).not.toBe(hex(node.dmTag(kPair, EPOCH, ba)));
    expect(hex(tAB)).not.toBe(hex(node.dmTag(kPair, EPOCH + 1, ab)));
    expect(hex(node.dmTag(kPair, EPOCH, ba))).toBe(hex(dmTag(kPair, EPOCH, ba)));
  });

  it("prekey public keys come from the caller's random secret, not from the seed", () => {
    const s1 = rand(32);
    const s2 = rand(32);
    expect(hex(node.prekeyPublic(s1))).toBe(hex(x25519Base(s1)));
    expect(hex(node.prekeyPublic(s1))).not.toBe(hex(node.prekeyPublic(s2)));
  });

  it("message key and ACK key follow PROTOCOL.md", () => {
    const shared = rand(32);
    const kPair = rand(32);
    const nonce = rand(24);
    node.put(S.SECRET, shared); node.put(S.KEY, kPair); node.put(S.RANDOM, nonce);
    node.call("message_key", node.at(S.KEY2), node.at(S.SECRET), node.at(S.KEY), node.at(S.RANDOM));
    const kMsg = node.get(S.KEY2, 32);
    expect(hex(kMsg)).toBe(hex(messageKey(shared, kPair, nonce)));
    expect(hex(kMsg)).toBe(hex(hkdf(concat(shared, kPair), nonce, LABEL.dm)));
    node.call("ack_key", node.at(S.KEY2), node.at(S.KEY2));
    expect(hex(node.get(S.KEY2, 32))).toBe(hex(ackKey(kMsg)));
  });
});

// ---------------------------------------------------------------------------

describe("ANNOUNCE", () => {
  it("AS and reference seal the same bytes; each opens the other's, for every name length and hop limit", () => {
    const kMesh = meshKey(ascii("outcaxt-test-mesh"));
    for (let nameLen = 0; nameLen <= ANNOUNCE_NAME_MAX; nameLen++) {
      const id = identityFromSeed(rand(32));
      const prekeyPub = x25519Base(rand(32));
      const name = ascii("abcdefghijklmnop".slice(0, nameLen));
      const random = rand(32);
      const hopLimit = 1 + (nameLen % 7);
      const unixS = 1_764_000_000 + nameLen;
      const asFrame = node.sealAnnounce(hopLimit, kMesh, identityBlock(id), prekeyPub, EPOCH - 3, unixS, name, random);
      expect(node.get(S.RANDOM, 32)).toEqual(new Uint8Array(32)); // random bytes wiped
      const refFrame = ref.sealAnnounce(hopLimit, kMesh, id, prekeyPub, EPOCH - 3, unixS, name, random);
      expect(asFrame).toBeInstanceOf(Uint8Array);
      expect(hex(asFrame as Uint8Array)).toBe(hex(refFrame));
      expect((asFrame as Uint8Array).length).toBe(255);
      const opened = ref.openAnnounce(asFrame as Uint8Array, kMesh);
      expect(opened.reason).toBe(DROP.NONE);
      expect(hex(opened.value!.ed25519Pub)).toBe(hex(id.ed25519Pub));
      expect(hex(opened.value!.x25519Pub)).toBe(hex(id.x25519Pub));
      expect(hex(opened.value!.prekeyPub)).toBe(hex(prekeyPub));
      expect(opened.value!.prekeyEpoch).toBe(EPOCH - 3);
      expect(opened.value!.unixS).toBe(unixS);
      expect(hex(opened.value!.name)).toBe(hex(name));
      const back = node.openAnnounce(refFrame, kMesh);
      expect(back.reason).toBe(DROP.NONE);
      expect(hex(back.body)).toBe(hex(concat(ReferenceProtocol.announceSigned({
        ed25519Pub: id.ed25519Pub, x25519Pub: id.x25519Pub, prekeyPub, prekeyEpoch: EPOCH - 3, unixS, name,
      }), opened.value!.signature, new Uint8Array(13))));
    }
  });

  it("refuses names over 15 bytes and hop limits outside 1..7", () => {
    const id = identityBlock(identityFromSeed(rand(32)));
    const k = rand(32);
    expect(node.sealAnnounce(3, k, id, rand(32), 0, 0, rand(16), rand(32))).toBe(ERR_LENGTH);
    expect(node.sealAnnounce(0, k, id, rand(32), 0, 0, rand(3), rand(32))).toBe(ERR_INVALID);
    expect(node.sealAnnounce(8, k, id, rand(32), 0, 0, rand(3), rand(32))).toBe(ERR_INVALID);
  });

  it("a modified announce, re-sealed under the public mesh key, fails its signature", () => {
    const kMesh = meshKey(ascii("m"));
    const a = identityFromSeed(rand(32));
    const parts = { ed25519Pub: a.ed25519Pub, x25519Pub: a.x25519Pub, prekeyPub: x25519Base(rand(32)),
      prekeyEpoch: EPOCH, unixS: 1_764_000_000, name: ascii("alice") };
    const sig = ed25519Sign(a.ed25519Seed, concat(LABEL.announce, ReferenceProtocol.announceSigned(parts)));
    const good = ref.sealAnnounceBody(3, kMesh, ReferenceProtocol.announceBody(parts, sig), rand(32));
    expect(node.openAnnounce(good, kMesh).reason).toBe(DROP.NONE);
    const attacker = x25519Base(rand(32));
    const variants = [
      { ...parts, prekeyPub: attacker },           // swapped prekey
      { ...parts, x25519Pub: attacker },           // swapped long-term key
      { ...parts, unixS: parts.unixS + 1 },        // replayed with a new time
      { ...parts, prekeyEpoch: EPOCH + 1 },
      { ...parts, name: ascii("alicf") },
    ];
    for (const v of variants) {
      const f = ref.sealAnnounceBody(3, kMesh, ReferenceProtocol.announceBody(v, sig), rand(32));
      expect(node.openAnnounce(f, kMesh).reason).toBe(DROP.BAD_SIGNATURE);
      expect(ref.openAnnounce(f, kMesh).reason).toBe(DROP.BAD_SIGNATURE);
    }
    // Every bit of the signed 120 bytes and of the signature matters.
    const body = ReferenceProtocol.announceBody(parts, sig);
    for (let i = 0; i < 184; i++) {
      if (i === 104 || (i >= 110 && i < 120)) continue; // name_len / name tail: layout checks come first
      const t = body.slice();
      t[i] ^= 1 << randomInt(8);
      const r = node.openAnnounce(ref.sealAnnounceBody(3, kMesh, t, rand(32)), kMesh).reason;
      expect([i, r]).toEqual([i, DROP.BAD_SIGNATURE]);
    }
  });

  it("an announce signed by another key fails", () => {
    const kMesh = meshKey(ascii("m"));
    const a = identityFromSeed(rand(32));
    const mallory = identityFromSeed(rand(32));
    const parts = { ed25519Pub: a.ed25519Pub, x25519Pub: mallory.x25519Pub, prekeyPub: x25519Base(rand(32)),
      prekeyEpoch: EPOCH, unixS: 1_764_000_000, name: ascii("alice") };
    const sig = ed25519Sign(mallory.ed25519Seed, concat(LABEL.announce, ReferenceProtocol.announceSigned(parts)));
    const f = ref.sealAnnounceBody(3, kMesh, ReferenceProtocol.announceBody(parts, sig), rand(32));
    expect(node.openAnnounce(f, kMesh).reason).toBe(DROP.BAD_SIGNATURE);
    // A signature without the label (domain separation) fails too.
    const bare = ed25519Sign(a.ed25519Seed, ReferenceProtocol.announceSigned(parts));
    const g = ref.sealAnnounceBody(3, kMesh, ReferenceProtocol.announceBody(parts, bare), rand(32));
    expect(node.openAnnounce(g, kMesh).reason).toBe(DROP.BAD_SIGNATURE);
    // A non-canonical S (S + L) fails.
    const good = ed25519Sign(a.ed25519Seed, concat(LABEL.announce, ReferenceProtocol.announceSigned(parts)));
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(good[32 + i]);
    s += L;
    const bad = good.slice();
    for (let i = 0; i < 32; i++) { bad[32 + i] = Number(s & 0xffn); s >>= 8n; }
    const h = ref.sealAnnounceBody(3, kMesh, ReferenceProtocol.announceBody(parts, bad), rand(32));
    expect(node.openAnnounce(h, kMesh).reason).toBe(DROP.BAD_SIGNATURE);
  });

  it("layout errors are BAD_CONTENT: name_len over 15, bytes after the name, non-zero padding", () => {
    const kMesh = meshKey(ascii("m"));
    const id = identityFromSeed(rand(32));
    const frame = ref.sealAnnounce(3, kMesh, id, rand(32), 1, 2, ascii("bob"), rand(32));
    const body = ref.openAnnounce(frame, kMesh);
    expect(body.reason).toBe(DROP.NONE);
    const full = concat(ReferenceProtocol.announceSigned({ ...body.value! }), body.value!.signature, new Uint8Array(13));
    const edits: [number, number][] = [[104, 16], [104, 255], [109, 1], [119, 0x80], [184, 1], [196, 0xff]];
    for (const [i, v] of edits) {
      const t = full.slice();
      t[i] = v;
      const f = ref.sealAnnounceBody(3, kMesh, t, rand(32));
      expect([i, node.openAnnounce(f, kMesh).reason]).toEqual([i, DROP.BAD_CONTENT]);
      expect(ref.openAnnounce(f, kMesh).reason).toBe(DROP.BAD_CONTENT);
      expect(node.openAnnounce(f, kMesh).body).toEqual(new Uint8Array(197)); // nothing left at out
    }
  });

  it("another mesh's key does not open it", () => {
    const id = identityFromSeed(rand(32));
    const f = ref.sealAnnounce(3, meshKey(ascii("north")), id, rand(32), 1, 2, ascii("x"), rand(32));
    expect(node.openAnnounce(f, meshKey(ascii("south"))).reason).toBe(DROP.AUTH_FAILED);
  });
});

// ---------------------------------------------------------------------------

describe("CHANNEL", () => {
  it("every text length 0..180: same bytes as the reference, right class, opens both ways", () => {
    const kChan = channelKey(ascii("village"), ascii("correct horse battery staple"));
    const senderId = rand(8);
    for (let len = 0; len <= CHANNEL_TEXT_MAX; len++) {
      const text = rand(len);
      const random = rand(24);
      const seq = randomInt(2 ** 32);
      const unixS = randomInt(2 ** 32);
      const hopLimit = 1 + randomInt(7);
      const asFrame = node.sealChannel(hopLimit, kChan, EPOCH, senderId, seq, unixS, text, random) as Uint8Array;
      expect(node.get(S.RANDOM, 24)).toEqual(new Uint8Array(24));
      const refFrame = ref.sealChannel(hopLimit, kChan, EPOCH, senderId, seq, unixS, text, random);
      expect(hex(asFrame)).toBe(hex(refFrame));
      expect(asFrame.length).toBe(bodyClassFor(17 + len) + 58);
      expect(hex(asFrame.subarray(OFF.DEST, OFF.BODY))).toBe(hex(channelTag(kChan, EPOCH)));
      const opened = ref.openChannel(asFrame, kChan);
      expect(opened.reason).toBe(DROP.NONE);
      expect(hex(opened.value!.text)).toBe(hex(text));
      expect(opened.value!.seq).toBe(seq);
      expect(opened.value!.unixS).toBe(unixS);
      expect(hex(opened.value!.senderId)).toBe(hex(senderId));
      const back = node.openChannel(refFrame, kChan);
      expect(back.reason).toBe(DROP.NONE);
      const padded = new Uint8Array(asFrame.length - 58);
      padded.set(ReferenceProtocol.channelPlaintext(senderId, seq, unixS, text));
      expect(hex(back.pt)).toBe(hex(padded));
    }
    expect(node.sealChannel(3, kChan, EPOCH, senderId, 0, 0, rand(181), rand(24))).toBe(ERR_LENGTH);
    expect(node.sealChannel(0, kChan, EPOCH, senderId, 0, 0, rand(1), rand(24))).toBe(ERR_INVALID);
  });

  it("a wrong passphrase or channel name fails", () => {
    const good = channelKey(ascii("village"), ascii("passphrase one"));
    const f = ref.sealChannel(3, good, EPOCH, rand(8), 1, 2, ascii("hello"), rand(24));
    expect(node.openChannel(f, good).reason).toBe(DROP.NONE);
    expect(node.openChannel(f, channelKey(ascii("village"), ascii("passphrase two"))).reason).toBe(DROP.AUTH_FAILED);
    expect(node.openChannel(f, channelKey(ascii("villagf"), ascii("passphrase one"))).reason).toBe(DROP.AUTH_FAILED);
  });

  it("layout errors are BAD_CONTENT", () => {
    const k = rand(32);
    const pt = ReferenceProtocol.channelPlaintext(rand(8), 1, 2, ascii("hi"));
    const longLen = pt.slice(); longLen[16] = 32; // 17 + 32 > 48
    const dirty = concat(pt, Uint8Array.of(0, 0, 7)); // non-zero padding
    for (const p of [longLen, dirty]) {
      const f = ref.sealChannel(3, k, EPOCH, rand(8), 0, 0, new Uint8Array(0), rand(24), p);
      expect(node.openChannel(f, k).reason).toBe(DROP.BAD_CONTENT);
      expect(ref.openChannel(f, k).reason).toBe(DROP.BAD_CONTENT);
    }
    // Exactly full: len = 31 in the small class is fine.
    const full = ReferenceProtocol.channelPlaintext(rand(8), 1, 2, rand(31));
    expect(full.length).toBe(48);
    expect(node.openChannel(ref.sealChannel(3, k, EPOCH, rand(8), 0, 0, new Uint8Array(0), rand(24), full), k).reason)
      .toBe(DROP.NONE);
  });

  it("opens in place (out = the frame's body)", () => {
    const k = rand(32);
    const text = ascii("in place");
    const f = ref.sealChannel(2, k, EPOCH, rand(8), 5, 6, text, rand(24));
    node.put(S.FRAME, f); node.put(S.KEY, k);
    const reason = node.call("open_channel", node.at(S.FRAME), f.length, node.at(S.KEY), node.at(S.FRAME + OFF.BODY));
    expect(reason).toBe(DROP.NONE);
    expect(hex(node.get(S.FRAME + OFF.BODY + 17, text.length))).toBe(hex(text));
  });
});

// ---------------------------------------------------------------------------

describe("DIRECT and ACK", () => {
  it("every text length 0..156: same bytes and K_ack as the reference; opens both ways", () => {
    const { a, b, kPair, prekeySecret, prekeyPub, dirAB } = twoNodes();
    for (let len = 0; len <= DIRECT_TEXT_MAX; len++) {
      const text = rand(len);
      const random = rand(56);
      const msgId = randomInt(2 ** 32);
      const unixS = randomInt(2 ** 32);
      const sealed = node.sealDirect(4, kPair, dirAB, EPOCH, prekeyPub, msgId, unixS, text, random);
      expect(node.get(S.RANDOM, 56)).toEqual(new Uint8Array(56)); // nonce and ephemeral secret wiped
      const refSealed = ref.sealDirect(4, kPair, dirAB, EPOCH, prekeyPub, msgId, unixS, text, random)!;
      expect(typeof sealed).toBe("object");
      const { frame, ackKey: kAck } = sealed as { frame: Uint8Array; ackKey: Uint8Array };
      expect(hex(frame)).toBe(hex(refSealed.frame));
      expect(hex(kAck)).toBe(hex(refSealed.ackKey));
      expect(frame.length).toBe(bodyClassFor(41 + len) + 58);
      expect(hex(frame.subarray(OFF.DEST, OFF.BODY))).toBe(hex(dmTag(kPair, EPOCH, dirAB)));
      expect(hex(frame.subarray(OFF.BODY, OFF.BODY + 32))).toBe(hex(x25519Base(random.subarray(24))));
      // B opens with the pair key it derives itself.
      const kPairB = pairKey(b, a.x25519Pub)!;
      const opened = ref.openDirect(frame, kPairB, prekeySecret);
      expect(opened.reason).toBe(DROP.NONE);
      expect(hex(opened.value!.text)).toBe(hex(text));
      expect(opened.value!.msgId).toBe(msgId);
      expect(opened.value!.unixS).toBe(unixS);
      const back = node.openDirect(refSealed.frame, kPairB, prekeySecret);
      expect(back.reason).toBe(DROP.NONE);
      const padded = new Uint8Array(frame.length - 58 - 32);
      padded.set(ReferenceProtocol.directPlaintext(msgId, unixS, text));
      expect(hex(back.pt)).toBe(hex(padded));
      expect(hex(back.ackKey)).toBe(hex(kAck));
    }
    expect(node.sealDirect(4, kPair, dirAB, EPOCH, prekeyPub, 0, 0, rand(157), rand(56))).toBe(ERR_LENGTH);
    expect(node.sealDirect(9, kPair, dirAB, EPOCH, prekeyPub, 0, 0, rand(1), rand(56))).toBe(ERR_INVALID);
  });

  it("ACK: dest is the DIRECT frame id; sealed by the recipient, opened by the sender (and vice versa)", () => {
    const { kPair, prekeySecret, prekeyPub, dirAB } = twoNodes();
    const direct = ref.sealDirect(3, kPair, dirAB, EPOCH, prekeyPub, 77, 1, ascii("ping"), rand(56))!;
    const atB = node.openDirect(direct.frame, kPair, prekeySecret);
    expect(atB.reason).toBe(DROP.NONE);
    const frameId = direct.frame.slice(OFF.NONCE, OFF.NONCE + 8);
    for (let hop = 1; hop <= 7; hop++) {
      const random = rand(24);
      const ack = node.sealAck(hop, atB.ackKey, frameId, 77, random) as Uint8Array;
      expect(node.get(S.RANDOM, 24)).toEqual(new Uint8Array(24));
      expect(hex(ack)).toBe(hex(ref.sealAck(hop, direct.ackKey, frameId, 77, random)));
      expect(ack.length).toBe(106);
      expect(hex(ack.subarray(OFF.DEST, OFF.BODY))).toBe(hex(frameId));
      expect(ref.openAck(ack, direct.ackKey)).toEqual({ reason: DROP.NONE, value: { msgId: 77 } });
      const back = node.openAck(ref.sealAck(hop, direct.ackKey, frameId, 77, rand(24)), direct.ackKey);
      expect(back.reason).toBe(DROP.NONE);
      expect(hex(back.pt)).toBe(hex(concat(le32(77), new Uint8Array(44))));
    }
    // Another message's K_ack does not open it; non-zero filler is BAD_CONTENT.
    const other = ref.sealDirect(3, kPair, dirAB, EPOCH, prekeyPub, 78, 1, ascii("pong"), rand(56))!;
    expect(node.openAck(ref.sealAck(3, direct.ackKey, frameId, 77, rand(24)), other.ackKey).reason).toBe(DROP.AUTH_FAILED);
    const dirty = ref.sealAck(3, direct.ackKey, frameId, 77, rand(24), concat(le32(77), Uint8Array.of(1)));
    expect(node.openAck(dirty, direct.ackKey).reason).toBe(DROP.BAD_CONTENT);
    expect(node.sealAck(0, direct.ackKey, frameId, 77, rand(24))).toBe(ERR_INVALID);
  });

  it("a wrong contact or a wrong prekey fails", () => {
    const { a, kPair, prekeySecret, prekeyPub, dirAB } = twoNodes();
    const f = ref.sealDirect(3, kPair, dirAB, EPOCH, prekeyPub, 1, 2, ascii("secret"), rand(56))!.frame;
    expect(node.openDirect(f, kPair, prekeySecret).reason).toBe(DROP.NONE);
    const c = identityFromSeed(rand(32));
    expect(node.openDirect(f, pairKey(a, c.x25519Pub)!, prekeySecret).reason).toBe(DROP.AUTH_FAILED);
    expect(node.openDirect(f, kPair, rand(32)).reason).toBe(DROP.AUTH_FAILED);
    const { b } = twoNodes();
    expect(node.openDirect(f, kPair, b.x25519Secret).reason).toBe(DROP.AUTH_FAILED);
  });

  it("a low-order ephemeral key is BAD_KEY; a low-order prekey is refused when sealing", () => {
    const { kPair, prekeySecret, prekeyPub, dirAB } = twoNodes();
    const f = ref.sealDirect(3, kPair, dirAB, EPOCH, prekeyPub, 1, 2, ascii("x"), rand(56))!.frame;
    const g = f.slice();
    g.fill(0, OFF.BODY, OFF.BODY + 32);
    expect(node.openDirect(g, kPair, prekeySecret).reason).toBe(DROP.BAD_KEY);
    const random = rand(56);
    expect(node.sealDirect(3, kPair, dirAB, EPOCH, new Uint8Array(32), 1, 2, ascii("x"), random)).toBe(ERR_INVALID);
    expect(node.get(S.RANDOM, 56)).toEqual(new Uint8Array(56));
  });

  it("layout errors are BAD_CONTENT", () => {
    const { kPair, prekeySecret, prekeyPub, dirAB } = twoNodes();
    const pt = ReferenceProtocol.directPlaintext(1, 2, ascii("hey"));
    const longLen = pt.slice(); longLen[8] = 8; // 9 + 8 > 16
    const dirty = concat(pt, Uint8Array.of(0, 1));
    for (const p of [longLen, dirty]) {
      const f = ref.sealDirect(3, kPair, dirAB, EPOCH, prekeyPub, 0, 0, new Uint8Array(0), rand(56), p)!.frame;
      const got = node.openDirect(f, kPair, prekeySecret);
      expect(got.reason).toBe(DROP.BAD_CONTENT);
      expect(got.ackKey).toEqual(new Uint8Array(32));
      expect(ref.openDirect(f, kPair, prekeySecret).reason).toBe(DROP.BAD_CONTENT);
    }
  });

  it("forward secrecy: once the prekey secret is deleted, both long-term seeds do not open a recorded DIRECT frame", () => {
    const seedA = rand(32);
    const seedB = rand(32);
    const a = identityFromSeed(seedA);
    const b = identityFromSeed(seedB);
    const kPair = pairKey(a, b.x25519Pub)!;
    const prekeySecret = rand(32); // random, never derived from seedB
    const prekeyPub = node.prekeyPublic(prekeySecret);
    const text = ascii("meet at the mill at dawn");
    const sealed = node.sealDirect(3, kPair, pairDirection(a.x25519Pub, b.x25519Pub), EPOCH, prekeyPub, 9, 10, text,
      rand(56)) as { frame: Uint8Array };
    const recorded = sealed.frame;
    expect(node.openDirect(recorded, pairKey(b, a.x25519Pub)!, prekeySecret).reason).toBe(DROP.NONE);

    // B deletes the prekey secret; the sender's ephemeral secret was wiped by sealDirect.
    prekeySecret.fill(0);

    // The attacker now holds both seeds and everything derived from them, plus the recorded frame.
    const A = identityFromSeed(seedA);
    const B = identityFromSeed(seedB);
    const stolenPair = pairKey(A, B.x25519Pub)!;
    expect(hex(stolenPair)).toBe(hex(kPair));
    const E = recorded.subarray(OFF.BODY, OFF.BODY + 32);
    const nonce = recorded.subarray(OFF.NONCE, OFF.NONCE + 24);
    const seedSecrets = [seedA, seedB, A.ed25519Seed, B.ed25519Seed, A.x25519Secret, B.x25519Secret, A.pseudonymKey,
      B.pseudonymKey, prekeySecret /* now zeros */];
    for (const guess of seedSecrets) {
      expect(node.openDirect(recorded, stolenPair, guess).reason).toBe(DROP.AUTH_FAILED);
      const shared = x25519(guess, E);
      if (shared) expect(ref.openDirectWithKey(recorded, messageKey(shared, stolenPair, nonce)).reason).toBe(DROP.AUTH_FAILED);
    }
    // Without the X25519(e, P) term the key is wrong even with K_pair: the key needs the prekey secret.
    expect(ref.openDirectWithKey(recorded, messageKey(new Uint8Array(32), stolenPair, nonce)).reason).toBe(DROP.AUTH_FAILED);
    expect(ref.openDirectWithKey(recorded, hkdf(stolenPair, nonce, LABEL.dm)).reason).toBe(DROP.AUTH_FAILED);
    // The prekey public key does not come from either seed.
    for (const s of [A.x25519Secret, B.x25519Secret, A.ed25519Seed, B.ed25519Seed, seedA, seedB]) {
      expect(hex(x25519Base(s))).not.toBe(hex(prekeyPub));
    }
  });
});

// ---------------------------------------------------------------------------

describe("tampering", () => {
  /** One frame of each type, with the keys that open it. */
  function framesOfEveryType() {
    const { a, b, kPair, prekeySecret, prekeyPub, dirAB } = twoNodes();
    const mesh = meshKey(ascii("mesh"));
    const chan = channelKey(ascii("c"), ascii("p"));
    const direct = ref.sealDirect(5, kPair, dirAB, EPOCH, prekeyPub, 3, 4, rand(100), rand(56))!;
    const keys: Keys = { mesh, chan, pair: pairKey(b, a.x25519Pub)!, prekeySecret, ack: direct.ackKey };
    const frames = [
      ref.sealAnnounce(5, mesh, a, prekeyPub, EPOCH, 5, ascii("al"), rand(32)),
      ref.sealChannel(5, chan, EPOCH, rand(8), 1, 2, rand(60), rand(24)),
      direct.frame,
      ref.sealAck(5, direct.ackKey, direct.frame.slice(OFF.NONCE, OFF.NONCE + 8), 3, rand(24)),
    ];
    return { frames, keys };
  }

  it("changing any authenticated byte (flags, hop limit, nonce, dest, body, tag) fails", () => {
    const { frames, keys } = framesOfEveryType();
    for (const f of frames) {
      expect(node.open(f, keys)).toBe(DROP.NONE);
      for (let i = 0; i < f.length; i++) {
        if (i >= OFF.NEXT_HOP && i < OFF.NONCE) continue; // next_hop, prev_hop: mutable
        const masks = i === OFF.HOPS ? [0x10, 0x20, 0x40, 0x80] : [1 << randomInt(8), 1 + randomInt(255)];
        for (const m of masks) {
          const t = f.slice();
          t[i] ^= m;
          const r = node.open(t, keys);
          if (r === DROP.NONE) throw new Error(`type ${f[0] >> 3}: byte ${i} ^ ${m} still opens`);
        }
      }
    }
  });

  it("the reference also refuses every tampered frame", () => {
    const { frames, keys } = framesOfEveryType();
    const refOpen = (f: Uint8Array) => [
      () => ref.openAnnounce(f, keys.mesh), () => ref.openChannel(f, keys.chan),
      () => ref.openDirect(f, keys.pair, keys.prekeySecret), () => ref.openAck(f, keys.ack),
    ][(f[0] >> 3) & 3]().reason;
    for (const f of frames) {
      for (const i of [0, 1, 10, 20, 33, 34, 41, 42, 60, f.length - 17, f.length - 1]) {
        const t = f.slice();
        t[i] ^= i === 1 ? 0x20 : 0x01;
        expect(refOpen(t)).not.toBe(DROP.NONE);
        expect(node.open(t, keys)).toBe(refOpen(t));
      }
    }
  });

  it("changing the mutable fields (hops left, next_hop, prev_hop) does not", () => {
    const { frames, keys } = framesOfEveryType();
    for (const f of frames) {
      for (let left = 0; left <= 5; left++) {
        const t = f.slice();
        t[OFF.HOPS] = (5 << 4) | left;
        t.set(rand(8), OFF.NEXT_HOP);
        expect(node.open(t, keys)).toBe(DROP.NONE);
        // Through the relay setter of frame.ts as a relay would do it.
        node.put(S.FRAME2, f);
        expect(node.call("frame_set_relay_fields", node.at(S.FRAME2), left, randomInt(2 ** 32) | 0, randomInt(2 ** 32) | 0))
          .toBe(1);
        expect(node.open(node.get(S.FRAME2, f.length), keys)).toBe(DROP.NONE);
      }
      const over = f.slice();
      over[OFF.HOPS] = (5 << 4) | 6;
      expect(node.open(over, keys)).toBe(DROP.BAD_HOPS);
    }
  });

  it("a frame handed to the opener of another type is BAD_TYPE", () => {
    const { frames, keys } = framesOfEveryType();
    const channel = frames[1];
    expect(node.openDirect(channel, keys.pair, keys.prekeySecret).reason).toBe(DROP.BAD_TYPE);
    expect(node.openAck(frames[3], keys.chan).reason).toBe(DROP.AUTH_FAILED); // right type, wrong key
    expect(node.openChannel(frames[2], keys.chan).reason).toBe(DROP.BAD_TYPE);
    expect(node.openAnnounce(frames[1], keys.mesh).reason).toBe(DROP.BAD_TYPE);
  });

  it("no secret stays in the core's own static memory after a call (only in the caller's buffers)", () => {
    /**
     * True when the first 16 bytes of `secret` occur in linear memory outside the
     * test's scratch buffer, as bytes or as the big-endian words SHA-256 keeps in
     * its state (byte-swapped in memory).
     */
    const leaked = (secret: Uint8Array): boolean => {
      const m = node.mem;
      const hay = Buffer.from(m.buffer, m.byteOffset, m.length);
      const plain = Buffer.from(secret.subarray(0, 16));
      const swapped = Buffer.from(plain).swap32();
      for (const needle of [plain, swapped]) {
        for (let from = 0; ;) {
          const i = hay.indexOf(needle, from);
          if (i < 0) break;
          if (i < node.base || i >= node.base + 4096) return true;
          from = i + 1;
        }
      }
      return false;
    };
    const clean = (step: string, secrets: Record<string, Uint8Array>) => {
      for (const [what, secret] of Object.entries(secrets)) expect([step, what, leaked(secret)]).toEqual([step, what, false]);
    };
    const seed = rand(32);
    const id = identityFromSeed(seed);
    const idBlock = node.identity(seed);
    const longTerm = { seed, edSeed: id.ed25519Seed, xSecret: id.x25519Secret, pseudonymKey: id.pseudonymKey };
    clean("identity", longTerm);
    const peer = identityFromSeed(rand(32));
    const kPair = node.pairKey(idBlock, peer.x25519Pub) as Uint8Array;
    clean("pair key", { ...longTerm, kPair, dh: x25519(id.x25519Secret, peer.x25519Pub)! });
    const prekeySecret = rand(32);
    const prekeyPub = node.prekeyPublic(prekeySecret);
    clean("prekey", { prekeySecret });
    const random = rand(56);
    const e = random.slice(24);
    const sealed = node.sealDirect(3, kPair, 0, EPOCH, prekeyPub, 1, 2, ascii("psst"), random) as { frame: Uint8Array };
    const shared = x25519(e, prekeyPub)!;
    const kMsg = messageKey(shared, kPair, sealed.frame.subarray(OFF.NONCE, OFF.NONCE + 24));
    const perMessage = { e, shared, kMsg, kAck: ackKey(kMsg), kPair };
    node.put(S.ACK, new Uint8Array(32));
    clean("seal direct", perMessage);
    expect(node.openDirect(sealed.frame, kPair, prekeySecret).reason).toBe(DROP.NONE);
    node.put(S.ACK, new Uint8Array(32));
    node.put(S.SECRET, new Uint8Array(32));
    clean("open direct", { ...perMessage, prekeySecret });
    node.sealAnnounce(3, rand(32), idBlock, prekeyPub, 1, 2, ascii("n"), rand(32));
    clean("seal announce", longTerm);
    const kChan = channelKey(ascii("c"), ascii("p"));
    node.channelKey(ascii("c"), ascii("p"));
    node.put(S.KEY, new Uint8Array(32));
    clean("channel key", { kChan });
    node.sealChannel(3, kChan, EPOCH, rand(8), 1, 2, ascii("x"), rand(24));
    node.put(S.KEY, new Uint8Array(32));
    clean("seal channel", { kChan });
  });

  it("no call grew the memory", () => {
    expect(node.ex.memory.buffer.byteLength).toBe(memoryBytes);
  });
});

// ---------------------------------------------------------------------------

describe("STORE and the storage keys (STORAGE.md)", () => {
  it("AS and reference seal the same STORE bytes at every content length and open each other's", () => {
    const kMesh = meshKey(ascii("storage"));
    for (let len = 0; len <= 195; len++) {
      const dest = rand(8);
      const content = rand(len);
      const random = rand(24);
      const op = 1 + randomInt(255);
      const hop = 1 + randomInt(7);
      const frame = node.sealStore(hop, kMesh, dest, op, content, random) as Uint8Array;
      expect(hex(frame)).toBe(hex(ref.sealStore(hop, kMesh, dest, op, content, random)));
      expect(frame.length).toBe(bodyClassFor(2 + len) + 58);
      expect(ref.openStore(frame, kMesh)).toEqual({ reason: DROP.NONE, value: { op, content } });
      const back = node.openStore(ref.sealStore(hop, kMesh, dest, op, content, rand(24)), kMesh);
      expect(back.reason).toBe(DROP.NONE);
      expect(hex(back.pt.subarray(0, 2 + len))).toBe(hex(concat(Uint8Array.of(op, len), content)));
    }
    expect(node.sealStore(3, kMesh, rand(8), 1, rand(196), rand(24))).toBe(ERR_LENGTH);
    expect(node.sealStore(3, kMesh, rand(8), 0, rand(4), rand(24))).toBe(ERR_INVALID);
    expect(node.sealStore(8, kMesh, rand(8), 1, rand(4), rand(24))).toBe(ERR_INVALID);
  });

  it("refuses op 0, a length past the body, non-zero padding, a wrong mesh key and another type", () => {
    const kMesh = meshKey(ascii("storage"));
    const raw = (pt: Uint8Array) => ref.sealStore(3, kMesh, rand(8), 0, new Uint8Array(0), rand(24), pt);
    expect(node.openStore(raw(Uint8Array.of(5, 3, 1, 2, 3)), kMesh).reason).toBe(DROP.NONE);
    expect(node.openStore(raw(Uint8Array.of(0, 3, 1, 2, 3)), kMesh).reason).toBe(DROP.BAD_CONTENT);   // op 0
    expect(node.openStore(raw(Uint8Array.of(5, 47, 1, 2, 3)), kMesh).reason).toBe(DROP.BAD_CONTENT);  // 2 + 47 > 48
    expect(node.openStore(raw(Uint8Array.of(5, 46, ...new Uint8Array(46))), kMesh).reason).toBe(DROP.NONE);
    const padded = new Uint8Array(48);
    padded.set([5, 2, 1, 2]);
    padded[40] = 1;                                                                                       // padding not zero
    expect(node.openStore(raw(padded), kMesh).reason).toBe(DROP.BAD_CONTENT);
    expect(ref.openStore(raw(padded), kMesh).reason).toBe(DROP.BAD_CONTENT);
    const frame = ref.sealStore(3, kMesh, rand(8), 9, ascii("abc"), rand(24));
    expect(node.openStore(frame, meshKey(ascii("other"))).reason).toBe(DROP.AUTH_FAILED);
    const asChannel = frame.slice();
    asChannel[0] = 0x48;
    expect(node.openStore(asChannel, kMesh).reason).toBe(DROP.BAD_TYPE);
  });

  it("mailbox tags and drop keys agree with the reference", () => {
    for (let i = 0; i < 50; i++) {
      const xPub = rand(32);
      const epoch = EPOCH + randomInt(1000);
      node.put(S.PUB, xPub);
      node.call("mailbox_tag", node.at(S.DEST), node.at(S.PUB), epoch);
      expect(hex(node.get(S.DEST, 8))).toBe(hex(mailboxTag(xPub, epoch)));
      const kAck = rand(32);
      node.put(S.KEY, kAck);
      node.call("drop_key", node.at(S.KEY2), node.at(S.KEY));
      expect(hex(node.get(S.KEY2, 32))).toBe(hex(dropKey(kAck)));
    }
    expect(hex(mailboxTag(new Uint8Array(32), 1))).not.toBe(hex(mailboxTag(new Uint8Array(32), 2)));
  });
});
