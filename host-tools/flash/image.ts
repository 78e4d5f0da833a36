// Byte formats the flasher writes: ESP-IDF app/bootloader image headers, flash offsets
// per chip, the ESP-IDF partition table (parse and build) and the Outcaxt cores-partition
// image (layout documented in host-tools/flash/README.md).
import { createHash } from "node:crypto";
import type { McuChip } from "../hardware/profiles.js";

export class FlashImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FlashImageError";
  }
}

// ---------------------------------------------------------------- chips and offsets

/** Image chip id (u16 LE at byte 12 of the image header) and esptool-js CHIP_NAME per MCU. */
export const CHIPS: Readonly<Record<McuChip, { imageChipId: number; esptoolName: string; bootloaderOffset: number }>> = {
  esp32: { imageChipId: 0x0000, esptoolName: "ESP32", bootloaderOffset: 0x1000 },
  esp32s3: { imageChipId: 0x0009, esptoolName: "ESP32-S3", bootloaderOffset: 0x0 },
};

/** Chip ids of other Espressif chips, only to name them in error messages. */
const OTHER_CHIP_IDS: Readonly<Record<number, string>> = {
  0x0002: "ESP32-S2", 0x0005: "ESP32-C3", 0x000c: "ESP32-C2", 0x000d: "ESP32-C6", 0x0010: "ESP32-H2", 0x0012: "ESP32-P4",
};

export const PARTITION_TABLE_OFFSET = 0x8000;
/** The partition table area: 0xC00 bytes (ESP-IDF's maximum table length). */
export const PARTITION_TABLE_SIZE = 0xc00;

export function chipNameForImageId(id: number): string {
  for (const c of Object.values(CHIPS)) if (c.imageChipId === id) return c.esptoolName;
  return OTHER_CHIP_IDS[id] ?? `unknown chip id 0x${id.toString(16).padStart(4, "0")}`;
}

// ---------------------------------------------------------------- app image header

export const IMAGE_MAGIC = 0xe9;
export const IMAGE_HEADER_SIZE = 24;

export interface ImageHeader {
  segments: number;
  spiMode: number;
  spiSpeedSize: number;
  entry: number;
  chipId: number;
}

export function parseImageHeader(data: Uint8Array, what = "image"): ImageHeader {
  if (data.length < IMAGE_HEADER_SIZE) throw new FlashImageError(`${what}: ${data.length} bytes is too short for an ESP image header (24 bytes)`);
  if (data[0] !== IMAGE_MAGIC) throw new FlashImageError(`${what}: not an ESP image (first byte 0x${data[0].toString(16).padStart(2, "0")}, expected 0xe9)`);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { segments: data[1], spiMode: data[2], spiSpeedSize: data[3], entry: dv.getUint32(4, true), chipId: dv.getUint16(12, true) };
}

/** Throws unless `data` is an ESP image built for `chip`. */
export function checkImageChip(data: Uint8Array, chip: McuChip, what = "image"): ImageHeader {
  const header = parseImageHeader(data, what);
  const want = CHIPS[chip];
  if (header.chipId !== want.imageChipId) {
    throw new FlashImageError(`${what} is built for ${chipNameForImageId(header.chipId)} (chip id 0x${header.chipId.toString(16).padStart(4, "0")}), ` +
      `but the board has an ${want.esptoolName} (chip id 0x${want.imageChipId.toString(16).padStart(4, "0")})`);
  }
  return header;
}

// ---------------------------------------------------------------- partition table

export const PARTITION_MAGIC = 0x50aa; // bytes AA 50
export const PARTITION_MD5_MAGIC = 0xebeb;
export const PARTITION_ENTRY_SIZE = 32;
export const PARTITION_TYPE = { app: 0x00, data: 0x01 } as const;
/** The Outcaxt cores partition: type data, custom subtype 0x40, label "cores". */
export const CORES_PARTITION = { label: "cores", type: 0x01, subtype: 0x40 } as const;

export interface Partition {
  label: string;
  type: number;
  subtype: number;
  offset: number;
  size: number;
  flags: number;
}

export function buildPartitionTable(parts: readonly Partition[]): Uint8Array {
  const maxEntries = PARTITION_TABLE_SIZE / PARTITION_ENTRY_SIZE - 2; // room for the MD5 entry and a terminating FF entry
  if (parts.length > maxEntries) throw new FlashImageError(`partition table: ${parts.length} entries, at most ${maxEntries} fit`);
  const out = new Uint8Array(PARTITION_TABLE_SIZE).fill(0xff);
  const dv = new DataView(out.buffer);
  parts.forEach((p, i) => {
    const o = i * PARTITION_ENTRY_SIZE;
    const label = new TextEncoder().encode(p.label);
    if (label.length > 16) throw new FlashImageError(`partition table: label "${p.label}" is longer than 16 bytes`);
    dv.setUint16(o, PARTITION_MAGIC, true);
    out[o + 2] = p.type;
    out[o + 3] = p.subtype;
    dv.setUint32(o + 4, p.offset, true);
    dv.setUint32(o + 8, p.size, true);
    out.fill(0, o + 12, o + 28);
    out.set(label, o + 12);
    dv.setUint32(o + 28, p.flags, true);
  });
  const entriesEnd = parts.length * PARTITION_ENTRY_SIZE;
  const md5 = createHash("md5").update(out.subarray(0, entriesEnd)).digest();
  dv.setUint16(entriesEnd, PARTITION_MD5_MAGIC, true);
  out.set(md5, entriesEnd + 16);
  return out;
}

/** Parses an ESP-IDF partition table (the bytes at 0x8000); checks its MD5 entry when present. */
export function parsePartitionTable(data: Uint8Array): Partition[] {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const parts: Partition[] = [];
  for (let o = 0; o + PARTITION_ENTRY_SIZE <= data.length; o += PARTITION_ENTRY_SIZE) {
    const magic = dv.getUint16(o, true);
    if (magic === PARTITION_MAGIC) {
      const labelBytes = data.subarray(o + 12, o + 28);
      const end = labelBytes.indexOf(0);
      parts.push({
        type: data[o + 2], subtype: data[o + 3], offset: dv.getUint32(o + 4, true), size: dv.getUint32(o + 8, true),
        label: new TextDecoder().decode(end < 0 ? labelBytes : labelBytes.subarray(0, end)), flags: dv.getUint32(o + 28, true),
      });
      continue;
    }
    if (magic === PARTITION_MD5_MAGIC) {
      const want = Buffer.from(data.subarray(o + 16, o + 32));
      const got = createHash("md5").update(data.subarray(0, o)).digest();
      if (!got.equals(want)) throw new FlashImageError("partition table: MD5 entry does not match the entries (corrupt table)");
      break;
    }
    if (magic === 0xffff) break;
    throw new FlashImageError(`partition table: bad entry magic 0x${magic.toString(16)} at byte ${o}`);
  }
  if (parts.length === 0) throw new FlashImageError("partition table: no entries (the flash at 0x8000 is empty or not a partition table)");
  return parts;
}

export function findCoresPartition(parts: readonly Partition[]): Partition {
  const p = parts.find((q) => q.label === CORES_PARTITION.label);
  if (!p) throw new FlashImageError(`partition table has no "${CORES_PARTITION.label}" partition (labels: ${parts.map((q) => q.label).join(", ")})`);
  if (p.type !== CORES_PARTITION.type) throw new FlashImageError(`partition "cores" has type 0x${p.type.toString(16)}, expected data (0x01)`);
  return p;
}

/** The first factory/ota app partition: where the app image goes. */
export function findAppPartition(parts: readonly Partition[]): Partition {
  const apps = parts.filter((p) => p.type === PARTITION_TYPE.app);
  const p = apps.find((q) => q.subtype === 0x00) ?? apps.find((q) => q.subtype === 0x10);
  if (!p) throw new FlashImageError("partition table has no factory or ota_0 app partition");
  return p;
}

export function checkFits(what: string, length: number, p: Partition): void {
  if (length > p.size) {
    throw new FlashImageError(`${what} is ${length} bytes, larger than its partition "${p.label}" (${p.size} bytes at 0x${p.offset.toString(16)})`);
  }
}

// ---------------------------------------------------------------- cores partition image

/** "OCXC" */
export const CORES_MAGIC = Uint8Array.of(0x4f, 0x43, 0x58, 0x43);
export const CORES_FORMAT_VERSION = 1;
export const CORES_HEADER_SIZE = 64;

/** Header (64 bytes) + node.wasm; see README.md for the layout. */
export function buildCoresImage(wasm: Uint8Array): Uint8Array {
  if (wasm.length < 8 || wasm[0] !== 0x00 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) {
    throw new FlashImageError("cores image: payload is not a WebAssembly module (no \\0asm magic)");
  }
  const out = new Uint8Array(CORES_HEADER_SIZE + wasm.length);
  const dv = new DataView(out.buffer);
  out.set(CORES_MAGIC, 0);
  dv.setUint16(4, CORES_FORMAT_VERSION, true);
  dv.setUint16(6, 0, true);
  dv.setUint32(8, wasm.length, true);
  out.set(createHash("sha256").update(wasm).digest(), 12);
  out.set(wasm, CORES_HEADER_SIZE);
  return out;
}

/** Checks a cores image (as read back from flash, possibly followed by FF padding) and returns its payload. */
export function parseCoresImage(data: Uint8Array): Uint8Array {
  if (data.length < CORES_HEADER_SIZE) throw new FlashImageError("cores image: shorter than its 64-byte header");
  for (let i = 0; i < 4; i++) if (data[i] !== CORES_MAGIC[i]) throw new FlashImageError("cores image: bad magic (expected \"OCXC\")");
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const version = dv.getUint16(4, true);
  if (version !== CORES_FORMAT_VERSION) throw new FlashImageError(`cores image: format version ${version}, this tool knows ${CORES_FORMAT_VERSION}`);
  const size = dv.getUint32(8, true);
  if (CORES_HEADER_SIZE + size > data.length) throw new FlashImageError(`cores image: payload size ${size} runs past the end of the data`);
  const payload = data.subarray(CORES_HEADER_SIZE, CORES_HEADER_SIZE + size);
  const sha = createHash("sha256").update(payload).digest();
  if (!sha.equals(Buffer.from(data.subarray(12, 44)))) throw new FlashImageError("cores image: SHA-256 does not match the payload");
  return payload;
}
