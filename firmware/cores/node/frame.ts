// Outcaxt frame format, version 1 (firmware/PROTOCOL.md "Frame layout"):
// header offsets, the associated data, the padding classes, and the checks
// every received frame passes before any of its bytes are used.
//
//   offset size field
//        0    1 flags     bits 7-6 version (1), bits 5-3 type, bits 2-0 reserved (0)
//        1    1 hops      bits 7-4 hop limit (1..7), bits 3-0 hops left (0..limit)
//        2    4 next_hop  pseudonym of the relay asked to forward, 0 = flood   (not authenticated)
//        6    4 prev_hop  pseudonym of the node that sent this copy           (not authenticated)
//       10   24 nonce     random per frame; bytes 0-7 are the frame id
//       34    8 dest      destination tag
//       42    n body      n = 48, 112 or 197 (the padding classes)
//     42+n   16 tag       Poly1305 tag of XChaCha20-Poly1305
//
// Frames are 106, 170 or 255 bytes long and nothing else. frameCheck reads
// only bytes inside [frame, frame + len) and only after the length allowed it,
// so any byte string of any length is refused with a reason, never a trap.
//
// Constant time: nothing here handles secrets. Every value read is public
// header data, so branches on it are fine.

// ---------------------------------------------------------------------------
// Sizes and offsets (PROTOCOL.md "Frame layout")

/** SX126x/SX127x FIFO: the largest LoRa packet the radios send (256-byte FIFO, 255-byte payload). */
export const FRAME_MAX_BYTES: i32 = 255;
export const OFF_FLAGS: i32 = 0;
export const OFF_HOPS: i32 = 1;
export const OFF_NEXT_HOP: i32 = 2;
export const OFF_PREV_HOP: i32 = 6;
export const OFF_NONCE: i32 = 10;
export const OFF_DEST: i32 = 34;
export const OFF_BODY: i32 = 42;
export const HEADER_BYTES: i32 = OFF_BODY;
/** XChaCha20-Poly1305 nonce (draft-irtf-cfrg-xchacha-03 §2.3). */
export const NONCE_BYTES: i32 = 24;
/** The frame id is the first 8 bytes of the nonce (duplicate suppression, ACK dest). */
export const FRAME_ID_BYTES: i32 = 8;
export const DEST_BYTES: i32 = 8;
export const PSEUDONYM_BYTES: i32 = 4;
/** Poly1305 tag (RFC 8439 §2.5). */
export const TAG_BYTES: i32 = 16;
/** Header plus tag: 58 bytes that are not body. */
export const FRAME_OVERHEAD_BYTES: i32 = HEADER_BYTES + TAG_BYTES;
/** Associated data: flags, hops & 0xF0, nonce, dest. */
export const HEADER_AAD_BYTES: i32 = 1 + 1 + NONCE_BYTES + DEST_BYTES;

/** Padding classes: every body is exactly one of these sizes (PROTOCOL.md "Padding"). */
export const BODY_SMALL_BYTES: i32 = 48;
export const BODY_MEDIUM_BYTES: i32 = 112;
/** FRAME_MAX_BYTES - FRAME_OVERHEAD_BYTES. */
export const BODY_LARGE_BYTES: i32 = FRAME_MAX_BYTES - FRAME_OVERHEAD_BYTES;
/** The shortest frame there is: 106 bytes. */
export const FRAME_MIN_BYTES: i32 = BODY_SMALL_BYTES + FRAME_OVERHEAD_BYTES;

// ---------------------------------------------------------------------------
// Header values

export const PROTOCOL_VERSION: i32 = 1;
export const TYPE_ANNOUNCE: i32 = 0;
export const TYPE_CHANNEL: i32 = 1;
export const TYPE_DIRECT: i32 = 2;
export const TYPE_ACK: i32 = 3;
/** Storage: mail kept for absent nodes and mesh-kept file blocks (firmware/STORAGE.md). */
export const TYPE_STORE: i32 = 4;
/** Types 5..7 are unassigned in version 1. */
export const TYPE_COUNT: i32 = 5;
/** Meshtastic's maximum, kept (anchors.md); the 4-bit field could say 15. */
export const HOP_LIMIT_MAX: i32 = 7;
export const HOP_LIMIT_MIN: i32 = 1;
const FLAGS_RESERVED_MASK: i32 = 0x07;

// ---------------------------------------------------------------------------
// Drop reasons: why a received frame is not used. 0 means accepted.

export const DROP_NONE: i32 = 0;
/** Shorter than FRAME_MIN_BYTES (106). */
export const DROP_TOO_SHORT: i32 = 1;
/** Longer than FRAME_MAX_BYTES (255). */
export const DROP_TOO_LONG: i32 = 2;
/** The body is not 48, 112 or 197 bytes, or not the size its type requires. */
export const DROP_BAD_PADDING: i32 = 3;
/** flags bits 7-6 are not PROTOCOL_VERSION. */
export const DROP_BAD_VERSION: i32 = 4;
/** flags bits 2-0 (reserved) are not zero. */
export const DROP_BAD_FLAGS: i32 = 5;
/** Type 4..7, or not the type the opening function handles. */
export const DROP_BAD_TYPE: i32 = 6;
/** Hop limit outside 1..7, or hops left above the hop limit. */
export const DROP_BAD_HOPS: i32 = 7;
/** The AEAD tag does not match (wrong key, or any authenticated byte changed). */
export const DROP_AUTH_FAILED: i32 = 8;
/** Authentic, but the plaintext breaks its layout (length field, non-zero padding). */
export const DROP_BAD_CONTENT: i32 = 9;
/** ANNOUNCE: the Ed25519 signature does not verify. */
export const DROP_BAD_SIGNATURE: i32 = 10;
/** DIRECT: the ephemeral key gives an all-zero X25519 result (low-order point). */
export const DROP_BAD_KEY: i32 = 11;
/**
 * The frame id was seen before. Decided by the node core's duplicate history,
 * which owns that state; frame.ts and seal.ts are stateless and never return it.
 */
export const DROP_REPLAY: i32 = 12;

// ---------------------------------------------------------------------------
// Padding classes

/** True when n is one of the three body sizes. */
export function isBodyClass(n: i32): bool {
  return n == BODY_SMALL_BYTES || n == BODY_MEDIUM_BYTES || n == BODY_LARGE_BYTES;
}

/** The smallest body size that holds `contentBytes`, or 0 when none does (or it is negative). */
export function bodyClassFor(contentBytes: i32): i32 {
  if (contentBytes < 0) return 0;
  if (contentBytes <= BODY_SMALL_BYTES) return BODY_SMALL_BYTES;
  if (contentBytes <= BODY_MEDIUM_BYTES) return BODY_MEDIUM_BYTES;
  if (contentBytes <= BODY_LARGE_BYTES) return BODY_LARGE_BYTES;
  return 0;
}

/** Body size a type requires: ANNOUNCE only the large class, ACK only the small one, others any (0). */
export function requiredBodyBytes(type: i32): i32 {
  if (type == TYPE_ANNOUNCE) return BODY_LARGE_BYTES;
  if (type == TYPE_ACK) return BODY_SMALL_BYTES;
  return 0;
}

// ---------------------------------------------------------------------------
// Reading a header (only after frameCheck accepted the frame)

export function frameType(frame: usize): i32 {
  return (<i32>load<u8>(frame + OFF_FLAGS) >> 3) & 0x07;
}

export function frameHopLimit(frame: usize): i32 {
  return <i32>load<u8>(frame + OFF_HOPS) >> 4;
}

export function frameHopsLeft(frame: usize): i32 {
  return <i32>load<u8>(frame + OFF_HOPS) & 0x0f;
}

/** Body bytes of a frame of `frameLen` bytes (the tag excluded). */
export function frameBodyBytes(frameLen: i32): i32 {
  return frameLen - FRAME_OVERHEAD_BYTES;
}

/** next_hop as a little-endian u32 (0 = flood). */
export function frameNextHop(frame: usize): u32 {
  return load<u32>(frame + OFF_NEXT_HOP);
}

/** prev_hop as a little-endian u32. */
export function framePrevHop(frame: usize): u32 {
  return load<u32>(frame + OFF_PREV_HOP);
}

/**
 * Every check that needs no key, in this order: length (TOO_SHORT, TOO_LONG,
 * BAD_PADDING), version, reserved bits, type, hops, then the body size the
 * type requires. Returns DROP_NONE or the first failing reason. Reads at most
 * the first two bytes, and only when len >= FRAME_MIN_BYTES.
 */
export function frameCheck(frame: usize, len: i32): i32 {
  if (len < FRAME_MIN_BYTES) return DROP_TOO_SHORT;
  if (len > FRAME_MAX_BYTES) return DROP_TOO_LONG;
  const body = frameBodyBytes(len);
  if (!isBodyClass(body)) return DROP_BAD_PADDING;
  const flags = <i32>load<u8>(frame + OFF_FLAGS);
  if ((flags >> 6) != PROTOCOL_VERSION) return DROP_BAD_VERSION;
  if ((flags & FLAGS_RESERVED_MASK) != 0) return DROP_BAD_FLAGS;
  const type = (flags >> 3) & 0x07;
  if (type >= TYPE_COUNT) return DROP_BAD_TYPE;
  const hops = <i32>load<u8>(frame + OFF_HOPS);
  const limit = hops >> 4;
  if (limit < HOP_LIMIT_MIN || limit > HOP_LIMIT_MAX || (hops & 0x0f) > limit) return DROP_BAD_HOPS;
  const required = requiredBodyBytes(type);
  if (required != 0 && body != required) return DROP_BAD_PADDING;
  return DROP_NONE;
}

// ---------------------------------------------------------------------------
// Writing a header

/** flags byte of a version-1 frame of `type` (0..3). */
export function flagsFor(type: i32): u8 {
  return <u8>((PROTOCOL_VERSION << 6) | ((type & 0x07) << 3));
}

/** True when 1 <= hopLimit <= 7. */
export function hopLimitOk(hopLimit: i32): bool {
  return hopLimit >= HOP_LIMIT_MIN && hopLimit <= HOP_LIMIT_MAX;
}

/**
 * Writes the 42-byte header of a new frame: flags of `type`, hop limit and
 * hops left both `hopLimit` (checked by the caller), next_hop = prev_hop = 0,
 * the 24-byte nonce and the 8-byte dest tag. nonce/dest may not overlap the
 * header (they are copied).
 */
export function frameWriteHeader(frame: usize, type: i32, hopLimit: i32, nonce: usize, dest: usize): void {
  store<u8>(frame + OFF_FLAGS, flagsFor(type));
  store<u8>(frame + OFF_HOPS, <u8>((hopLimit << 4) | hopLimit));
  store<u32>(frame + OFF_NEXT_HOP, 0);
  store<u32>(frame + OFF_PREV_HOP, 0);
  memory.copy(frame + OFF_NONCE, nonce, NONCE_BYTES);
  memory.copy(frame + OFF_DEST, dest, DEST_BYTES);
}

/**
 * The associated data of a frame, HEADER_AAD_BYTES (34) to `out`:
 * flags ‖ (hops & 0xF0) ‖ nonce ‖ dest. The mutable fields (hops left,
 * next_hop, prev_hop) are left out so that relays can change them.
 */
export function frameAad(frame: usize, out: usize): void {
  store<u8>(out, load<u8>(frame + OFF_FLAGS));
  store<u8>(out + 1, load<u8>(frame + OFF_HOPS) & 0xf0);
  memory.copy(out + 2, frame + OFF_NONCE, NONCE_BYTES + DEST_BYTES);
}

/**
 * Relay fields (not authenticated): sets hops left, next_hop and prev_hop.
 * Returns false and changes nothing when hopsLeft is outside 0..hop limit.
 */
export function frameSetRelayFields(frame: usize, hopsLeft: i32, nextHop: u32, prevHop: u32): bool {
  const hops = <i32>load<u8>(frame + OFF_HOPS);
  if (hopsLeft < 0 || hopsLeft > (hops >> 4)) return false;
  store<u8>(frame + OFF_HOPS, <u8>((hops & 0xf0) | hopsLeft));
  store<u32>(frame + OFF_NEXT_HOP, nextHop);
  store<u32>(frame + OFF_PREV_HOP, prevHop);
  return true;
}
