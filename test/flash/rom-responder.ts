// A stand-in for an ESP32 / ESP32-S3 serial bootloader on one end of a pseudo-terminal:
// SLIP framing, the ROM loader commands esptool-js sends (SYNC, READ_REG for the chip
// magic, GET_SECURITY_INFO, MEM_BEGIN/DATA/END for the stub upload and then the stub's
// "OHAI" greeting) and the stub's flash commands (FLASH_BEGIN/DATA/END,
// FLASH_DEFL_BEGIN/DATA/END inflated with node:zlib, SPI_FLASH_MD5, READ_FLASH,
// ERASE_FLASH/REGION, CHANGE_BAUDRATE, SPI_ATTACH, SPI_SET_PARAMS, WRITE_REG). Written
// bytes land in `flash`, an in-memory flash chip.
import { createHash } from "node:crypto";
import { inflateSync } from "node:zlib";
import { SerialPort } from "serialport";

export const OP = {
  FLASH_BEGIN: 0x02, FLASH_DATA: 0x03, FLASH_END: 0x04, MEM_BEGIN: 0x05, MEM_END: 0x06, MEM_DATA: 0x07,
  SYNC: 0x08, WRITE_REG: 0x09, READ_REG: 0x0a, SPI_SET_PARAMS: 0x0b, SPI_ATTACH: 0x0d, CHANGE_BAUDRATE: 0x0f,
  FLASH_DEFL_BEGIN: 0x10, FLASH_DEFL_DATA: 0x11, FLASH_DEFL_END: 0x12, SPI_FLASH_MD5: 0x13, GET_SECURITY_INFO: 0x14,
  ERASE_FLASH: 0xd0, ERASE_REGION: 0xd1, READ_FLASH: 0xd2,
} as const;

/** esptool-js esploader.ts: CHIP_DETECT_MAGIC_REG_ADDR and magic2Chip(). */
const CHIP_DETECT_MAGIC_REG = 0x40001000;
const CHIPS = {
  esp32: { magic: 0x00f01d83, securityInfo: false, imageChipId: 0 },
  esp32s3: { magic: 0x00000009, securityInfo: true, imageChipId: 9 },
} as const;
export type ResponderChip = keyof typeof CHIPS;

export function slipEncode(data: Uint8Array): Buffer {
  const out: number[] = [0xc0];
  for (const b of data) {
    if (b === 0xc0) out.push(0xdb, 0xdc);
    else if (b === 0xdb) out.push(0xdb, 0xdd);
    else out.push(b);
  }
  out.push(0xc0);
  return Buffer.from(out);
}

export class RomResponder {
  readonly flash: Uint8Array;
  /** Every command opcode received, in order. */
  readonly ops: number[] = [];
  stub = false;
  private port: SerialPort | null = null;
  private frame: number[] = [];
  private inFrame = false;
  private escape = false;
  private write: { offset: number; blockSize: number; blocks: number; size: number; deflate: boolean; chunks: Buffer[] } | null = null;
  private read: { addr: number; end: number; next: number; packet: number; acked: number } | null = null;

  constructor(readonly path: string, readonly chip: ResponderChip, flashSize = 4 * 1024 * 1024) {
    this.flash = new Uint8Array(flashSize).fill(0xff);
  }

  async start(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on("data", (chunk: Buffer) => this.onBytes(chunk));
    this.port = port;
  }

  async stop(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private onBytes(chunk: Buffer): void {
    for (const b of chunk) {
      if (!this.inFrame) {
        if (b === 0xc0) { this.inFrame = true; this.frame = []; }
        continue;
      }
      if (this.escape) {
        this.frame.push(b === 0xdc ? 0xc0 : b === 0xdd ? 0xdb : b);
        this.escape = false;
      } else if (b === 0xdb) {
        this.escape = true;
      } else if (b === 0xc0) {
        if (this.frame.length > 0) {
          const f = Uint8Array.from(this.frame);
          this.frame = [];
          this.onFrame(f);
        }
        // A C0 right after C0 starts the next frame.
      } else {
        this.frame.push(b);
      }
    }
  }

  private send(data: Uint8Array): void {
    this.port?.write(slipEncode(data));
  }

  private respond(op: number, val = 0, data: Uint8Array = new Uint8Array(0), status: [number, number] = [0, 0]): void {
    // The ROM of the ESP32 sends 4 status bytes, the stub and newer ROMs 2.
    const statusLen = !this.stub && this.chip === "esp32" ? 4 : 2;
    const body = new Uint8Array(data.length + statusLen);
    body.set(data, 0);
    body[data.length] = status[0];
    body[data.length + 1] = status[1];
    const pkt = new Uint8Array(8 + body.length);
    const dv = new DataView(pkt.buffer);
    pkt[0] = 1;
    pkt[1] = op;
    dv.setUint16(2, body.length, true);
    dv.setUint32(4, val >>> 0, true);
    pkt.set(body, 8);
    this.send(pkt);
  }

  private onFrame(f: Uint8Array): void {
    if (this.read && f.length === 4) { this.onReadAck(new DataView(f.buffer).getUint32(0, true)); return; }
    if (f.length < 8 || f[0] !== 0) return;
    const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
    const op = f[1];
    const len = dv.getUint16(2, true);
    const chk = dv.getUint32(4, true);
    const data = f.subarray(8, 8 + len);
    const u32 = (i: number) => new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(i, true);
    this.ops.push(op);
    const chip = CHIPS[this.chip];
    switch (op) {
      case OP.SYNC:
        for (let i = 0; i < 8; i++) this.respond(op, this.stub ? 0 : 0x20120707);
        return;
      case OP.READ_REG:
        this.respond(op, u32(0) === CHIP_DETECT_MAGIC_REG ? chip.magic : 0);
        return;
      case OP.GET_SECURITY_INFO: {
        if (!chip.securityInfo) {
          // The ESP32 ROM does not know this command: an error answer that esptool-js
          // reads as UnsupportedCommandError (status 1, ROM_INVALID_RECV_MSG 0x05).
          this.respond(0x00, 0, new Uint8Array(0), [1, 0x05]);
          return;
        }
        const info = new Uint8Array(20);
        new DataView(info.buffer).setUint32(12, chip.imageChipId, true);
        this.respond(op, 0, info);
        return;
      }
      case OP.WRITE_REG: case OP.SPI_ATTACH: case OP.SPI_SET_PARAMS: case OP.MEM_BEGIN: case OP.CHANGE_BAUDRATE:
        this.respond(op);
        return;
      case OP.MEM_DATA: {
        const payload = data.subarray(16);
        if (xorChecksum(payload) !== chk) { this.respond(op, 0, new Uint8Array(0), [1, 0x07]); return; }
        this.respond(op);
        return;
      }
      case OP.MEM_END:
        this.respond(op);
        this.stub = true;
        this.send(new TextEncoder().encode("OHAI"));
        return;
      case OP.FLASH_BEGIN: case OP.FLASH_DEFL_BEGIN: {
        const size = u32(0), blocks = u32(4), blockSize = u32(8), offset = u32(12);
        if (offset + size > this.flash.length) { this.respond(op, 0, new Uint8Array(0), [1, 0x08]); return; }
        this.write = { offset, blockSize, blocks, size, deflate: op === OP.FLASH_DEFL_BEGIN, chunks: [] };
        this.respond(op);
        return;
      }
      case OP.FLASH_DATA: case OP.FLASH_DEFL_DATA: {
        const w = this.write;
        const n = u32(0), seq = u32(4);
        const payload = data.subarray(16, 16 + n);
        if (!w || w.deflate !== (op === OP.FLASH_DEFL_DATA) || xorChecksum(payload) !== chk || seq !== w.chunks.length) {
          this.respond(op, 0, new Uint8Array(0), [1, 0x07]);
          return;
        }
        w.chunks.push(Buffer.from(payload));
        if (!w.deflate) {
          this.flash.set(payload.subarray(0, Math.min(payload.length, this.flash.length - w.offset - seq * w.blockSize)), w.offset + seq * w.blockSize);
        } else if (w.chunks.length === w.blocks) {
          const plain = inflateSync(Buffer.concat(w.chunks));
          if (plain.length !== w.size) { this.respond(op, 0, new Uint8Array(0), [1, 0x0a]); return; }
          this.flash.set(plain, w.offset);
        }
        this.respond(op);
        return;
      }
      case OP.FLASH_END: case OP.FLASH_DEFL_END:
        this.write = null;
        this.respond(op);
        return;
      case OP.SPI_FLASH_MD5: {
        const addr = u32(0), size = u32(4);
        const digest = createHash("md5").update(this.flash.subarray(addr, addr + size)).digest();
        this.respond(op, 0, this.stub ? digest : new TextEncoder().encode(digest.toString("hex")));
        return;
      }
      case OP.ERASE_FLASH:
        this.flash.fill(0xff);
        this.respond(op);
        return;
      case OP.ERASE_REGION:
        this.flash.fill(0xff, u32(0), u32(0) + u32(4));
        this.respond(op);
        return;
      case OP.READ_FLASH: {
        if (!this.stub) break;
        const addr = u32(0), size = u32(4), packet = u32(12);
        this.respond(op);
        this.read = { addr, end: addr + size, next: addr, packet, acked: 0 };
        this.sendReadPacket();
        return;
      }
    }
    // Unknown to this loader: status 1, error 0x05 (invalid message).
    this.respond(op, 0, new Uint8Array(0), [1, 0x05]);
  }

  private sendReadPacket(): void {
    const r = this.read;
    if (!r) return;
    if (r.next >= r.end) {
      // The stub ends a read with the MD5 of the whole range.
      this.send(createHash("md5").update(this.flash.subarray(r.addr, r.end)).digest());
      this.read = null;
      return;
    }
    const n = Math.min(r.packet, r.end - r.next);
    this.send(this.flash.subarray(r.next, r.next + n));
    r.next += n;
  }

  private onReadAck(total: number): void {
    const r = this.read;
    if (!r) return;
    r.acked = total;
    this.sendReadPacket();
  }
}

function xorChecksum(data: Uint8Array): number {
  let s = 0xef;
  for (const b of data) s ^= b;
  return s;
}
