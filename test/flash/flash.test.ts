import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runCli } from "../../host-tools/cli/program.js";
import {
  CORES_HEADER_SIZE, CORES_PARTITION, FlashImageError, buildCoresImage, buildPartitionTable, checkFits, checkImageChip,
  findAppPartition, findCoresPartition, parseCoresImage, parsePartitionTable, type Partition,
} from "../../host-tools/flash/image.js";
import { FlashError, explainError, flash, planFirmware, type FlashItem } from "../../host-tools/flash/flasher.js";
import { SerialPort } from "serialport";
import { OP, RomResponder, type ResponderChip } from "./rom-responder.js";

// ---------------------------------------------------------------- fixtures

/** A 24-byte ESP image header + body: magic E9, 1 segment, DIO, chip id at byte 12. */
function espImage(chipId: number, bodyLength: number, seed = 1): Uint8Array {
  const img = new Uint8Array(24 + bodyLength);
  img[0] = 0xe9; img[1] = 1; img[2] = 2; img[3] = 0x20;
  new DataView(img.buffer).setUint32(4, 0x40080000, true);
  new DataView(img.buffer).setUint16(12, chipId, true);
  let x = seed;
  for (let i = 24; i < img.length; i++) { x = (x * 1103515245 + 12345) >>> 0; img[i] = x >>> 24; }
  return img;
}

const WASM = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00);

const PARTS: Partition[] = [
  { label: "nvs", type: 0x01, subtype: 0x02, offset: 0x9000, size: 0x6000, flags: 0 },
  { label: "phy_init", type: 0x01, subtype: 0x01, offset: 0xf000, size: 0x1000, flags: 0 },
  { label: "factory", type: 0x00, subtype: 0x00, offset: 0x10000, size: 0x100000, flags: 0 },
  { label: "cores", type: 0x01, subtype: 0x40, offset: 0x110000, size: 0x40000, flags: 0 },
];

// ---------------------------------------------------------------- image.ts

describe("image formats", () => {
  it("builds a partition table with ESP-IDF's byte layout", () => {
    const t = buildPartitionTable(PARTS);
    expect(t.length).toBe(0xc00);
    // First entry: AA 50, type data, subtype nvs, offset 0x9000, size 0x6000, "nvs\0..."
    expect(Array.from(t.subarray(0, 12))).toEqual([0xaa, 0x50, 0x01, 0x02, 0x00, 0x90, 0x00, 0x00, 0x00, 0x60, 0x00, 0x00]);
    expect(Buffer.from(t.subarray(12, 28)).toString("latin1")).toBe("nvs" + "\0".repeat(13));
    // Cores entry: AA 50 01 40, offset 0x110000
    expect(Array.from(t.subarray(96, 104))).toEqual([0xaa, 0x50, 0x01, 0x40, 0x00, 0x00, 0x11, 0x00]);
    // MD5 entry after 4 entries: EB EB, 14 x FF, MD5 of the 128 entry bytes, then FF padding.
    expect(Array.from(t.subarray(128, 144))).toEqual([0xeb, 0xeb, ...new Array(14).fill(0xff)]);
    expect(Buffer.from(t.subarray(144, 160)).toString("hex")).toBe(createHash("md5").update(t.subarray(0, 128)).digest("hex"));
    expect(t.subarray(160).every((b) => b === 0xff)).toBe(true);
    expect(parsePartitionTable(t)).toEqual(PARTS);
    expect(findCoresPartition(parsePartitionTable(t)).offset).toBe(0x110000);
    expect(findAppPartition(PARTS).label).toBe("factory");
  });

  it("rejects a corrupt partition table and an empty flash", () => {
    const t = buildPartitionTable(PARTS);
    t[4] ^= 1;
    expect(() => parsePartitionTable(t)).toThrow(/MD5/);
    expect(() => parsePartitionTable(new Uint8Array(0xc00).fill(0xff))).toThrow(/no entries/);
    expect(() => findCoresPartition(PARTS.slice(0, 3))).toThrow(/no "cores" partition/);
  });

  it("checks the chip id of an image header", () => {
    expect(checkImageChip(espImage(0x0000, 16), "esp32").chipId).toBe(0);
    expect(checkImageChip(espImage(0x0009, 16), "esp32s3").chipId).toBe(9);
    expect(() => checkImageChip(espImage(0x0009, 16), "esp32", "app")).toThrow(/app is built for ESP32-S3.*board has an ESP32/);
    expect(() => checkImageChip(espImage(0x0005, 16), "esp32s3")).toThrow(/ESP32-C3/);
    const bad = espImage(0, 16); bad[0] = 0x7f;
    expect(() => checkImageChip(bad, "esp32")).toThrow(/not an ESP image/);
  });

  it("builds and checks the cores image (magic, version, size, SHA-256)", () => {
    const img = buildCoresImage(WASM);
    expect(img.length).toBe(CORES_HEADER_SIZE + WASM.length);
    expect(Buffer.from(img.subarray(0, 4)).toString("latin1")).toBe("OCXC");
    expect(Array.from(img.subarray(4, 12))).toEqual([1, 0, 0, 0, WASM.length, 0, 0, 0]);
    expect(Buffer.from(img.subarray(12, 44)).toString("hex")).toBe(createHash("sha256").update(WASM).digest("hex"));
    expect(img.subarray(44, 64).every((b) => b === 0)).toBe(true);
    const padded = new Uint8Array(img.length + 100).fill(0xff); padded.set(img);
    expect(Array.from(parseCoresImage(padded))).toEqual(Array.from(WASM));
    img[CORES_HEADER_SIZE + 5] ^= 1;
    expect(() => parseCoresImage(img)).toThrow(/SHA-256/);
    expect(() => buildCoresImage(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))).toThrow(/not a WebAssembly module/);
  });

  it("refuses an image larger than its partition", () => {
    const p = { ...PARTS[3], size: 0x1000 };
    expect(() => checkFits("cores image", 0x1001, p)).toThrow(FlashImageError);
    expect(() => checkFits("cores image", 0x1001, p)).toThrow(/4097 bytes, larger than its partition "cores" \(4096 bytes at 0x110000\)/);
    expect(() => checkFits("cores image", 0x1000, p)).not.toThrow();
  });
});

describe("error messages", () => {
  it("turns serial and esptool-js errors into actionable lines", () => {
    expect(explainError(new Error("Error: Permission denied, cannot open /dev/ttyUSB0"), "/dev/ttyUSB0").message).toMatch(/dialout/);
    expect(explainError(new Error("Error Resource temporarily unavailable Cannot lock port"), "/dev/ttyUSB0").message).toMatch(/is busy/);
    expect(explainError(new Error("Failed to connect with the device"), "/dev/ttyUSB0").message).toMatch(/hold BOOT and tap RESET/);
    expect(explainError(new Error("MD5 of file does not match data in flash!"), "/dev/ttyUSB0").message).toMatch(/verification failed/);
    expect(explainError(new FlashImageError("x is 5 bytes, larger than its partition"), "p").message).toMatch(/larger than its partition/);
  });
});

// ---------------------------------------------------------------- firmware directory

describe("planFirmware", () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), "outcaxt-fw-")); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function writeBuild(chipId: number, parts = PARTS, appLength = 3000) {
    mkdirSync(path.join(dir, "bootloader"));
    mkdirSync(path.join(dir, "partition_table"));
    writeFileSync(path.join(dir, "bootloader", "bootloader.bin"), espImage(chipId, 2000, 7));
    writeFileSync(path.join(dir, "partition_table", "partition-table.bin"), buildPartitionTable(parts));
    writeFileSync(path.join(dir, "outcaxt.bin"), espImage(chipId, appLength, 9));
  }

  it("places an ESP-IDF build at the chip's offsets", () => {
    writeBuild(0);
    expect(planFirmware(dir, "esp32", WASM).map((i) => [i.name, i.address])).toEqual([
      ["bootloader", 0x1000], ["partition table", 0x8000], ["app", 0x10000], ["cores", 0x110000]]);
  });

  it("uses bootloader offset 0 on the ESP32-S3 and refuses images for another chip", () => {
    writeBuild(9);
    expect(planFirmware(dir, "esp32s3", WASM)[0].address).toBe(0);
    expect(() => planFirmware(dir, "esp32", WASM)).toThrow(/built for ESP32-S3/);
  });

  it("writes ota_data_initial.bin to the otadata partition when the table has one", () => {
    const parts: Partition[] = [
      { label: "nvs", type: 0x01, subtype: 0x02, offset: 0x9000, size: 0x4000, flags: 0 },
      { label: "otadata", type: 0x01, subtype: 0x00, offset: 0xd000, size: 0x2000, flags: 0 },
      { label: "ota_0", type: 0x00, subtype: 0x10, offset: 0x20000, size: 0x100000, flags: 0 },
      { label: "cores", type: 0x01, subtype: 0x40, offset: 0x120000, size: 0x40000, flags: 0 },
    ];
    writeBuild(0, parts);
    writeFileSync(path.join(dir, "ota_data_initial.bin"), new Uint8Array(0x2000).fill(0xff));
    expect(planFirmware(dir, "esp32", WASM).map((i) => [i.name, i.address])).toEqual([
      ["bootloader", 0x1000], ["partition table", 0x8000], ["otadata", 0xd000], ["app", 0x20000], ["cores", 0x120000]]);
  });

  it("refuses an app larger than its partition", () => {
    writeBuild(0, PARTS.map((p) => (p.label === "factory" ? { ...p, size: 0x800 } : p)));
    expect(() => planFirmware(dir, "esp32", WASM)).toThrow(/larger than its partition "factory"/);
  });
});

// ---------------------------------------------------------------- over a pseudo-terminal

const HAVE_SOCAT = ["/usr/bin/socat", "/bin/socat", "/usr/local/bin/socat"].some(existsSync);

describe.skipIf(!HAVE_SOCAT)("flash over a pseudo-terminal with the ROM responder", () => {
  let dir: string;
  let socat: ChildProcess;
  let responder: RomResponder | null = null;
  let host: string;
  let board: string;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "outcaxt-pty-"));
    host = path.join(dir, "host");
    board = path.join(dir, "board");
    socat = spawn("socat", ["-d", "-d", `pty,rawer,echo=0,link=${host}`, `pty,rawer,echo=0,link=${board}`], { stdio: "ignore" });
    for (let i = 0; i < 100 && !(existsSync(host) && existsSync(board)); i++) await new Promise((r) => setTimeout(r, 20));
    if (!existsSync(host) || !existsSync(board)) throw new Error("socat did not create the pseudo-terminals");
  });

  afterEach(async () => {
    await responder?.stop();
    responder = null;
    socat.kill();
    await new Promise((r) => setTimeout(r, 50));
    rmSync(dir, { recursive: true, force: true });
  });

  async function startResponder(chip: ResponderChip): Promise<RomResponder> {
    responder = new RomResponder(board, chip);
    await responder.start();
    return responder;
  }

  function items(chipId: number, bootOffset: number): FlashItem[] {
    return [
      { name: "bootloader", address: bootOffset, data: espImage(chipId, 5000, 3) },
      { name: "partition table", address: 0x8000, data: buildPartitionTable(PARTS) },
      { name: "app", address: 0x10000, data: espImage(chipId, 40000, 5) },
      { name: "cores", address: 0x110000, data: buildCoresImage(WASM) },
    ];
  }

  const expectWritten = (r: RomResponder, list: FlashItem[]) => {
    for (const i of list) expect(Buffer.from(r.flash.subarray(i.address, i.address + i.data.length)).equals(Buffer.from(i.data))).toBe(true);
  };

  for (const [chip, chipId, bootOffset] of [["esp32", 0, 0x1000], ["esp32s3", 9, 0]] as const) {
    it(`writes bootloader, partition table, app and cores to an ${chip} and verifies them`, async () => {
      const r = await startResponder(chip);
      const list = items(chipId, bootOffset);
      const progress: number[] = [];
      const result = await flash({ port: host, chip, request: { mode: "full", items: list }, baudRate: 460800,
        progress: (_item, index) => progress.push(index) });
      expect(result.chip).toBe(chip === "esp32" ? "ESP32" : "ESP32-S3");
      expectWritten(r, list);
      expect(r.ops).toContain(OP.MEM_END);
      // One connection: the chip was identified without a reconnect (ESP32: GET_SECURITY_INFO
      // unsupported, then the magic register; ESP32-S3: the chip id in GET_SECURITY_INFO).
      expect(r.ops.filter((o) => o === OP.SYNC)).toHaveLength(1);
      expect(r.ops).toContain(OP.GET_SECURITY_INFO);
      expect(r.ops.filter((o) => o === OP.FLASH_DEFL_BEGIN)).toHaveLength(4);
      expect(r.ops.filter((o) => o === OP.SPI_FLASH_MD5)).toHaveLength(4);
      expect(new Set(progress)).toEqual(new Set([0, 1, 2, 3]));
      // Nothing outside the images was touched.
      expect(r.flash.subarray(0x9000, 0x10000).every((b) => b === 0xff)).toBe(true);
    });
  }

  it("--erase erases the whole flash before writing", async () => {
    const r = await startResponder("esp32");
    r.flash.fill(0x5a, 0x9000, 0xf000); // an old NVS
    const list = items(0, 0x1000);
    await flash({ port: host, chip: "esp32", request: { mode: "full", items: list }, erase: true, baudRate: 115200 });
    expect(r.ops.indexOf(OP.ERASE_FLASH)).toBeGreaterThan(-1);
    expect(r.ops.indexOf(OP.ERASE_FLASH)).toBeLessThan(r.ops.indexOf(OP.FLASH_DEFL_BEGIN));
    expect(r.flash.subarray(0x9000, 0xf000).every((b) => b === 0xff)).toBe(true);
    expectWritten(r, list);
  });

  it("refuses a board whose chip does not match the profile before any FLASH_BEGIN", async () => {
    const r = await startResponder("esp32s3");
    await expect(flash({ port: host, chip: "esp32", request: { mode: "full", items: items(0, 0x1000) }, baudRate: 115200 }))
      .rejects.toThrow(/has an ESP32-S3, but the profile says ESP32.*Nothing was written/);
    expect(r.ops).not.toContain(OP.FLASH_BEGIN);
    expect(r.ops).not.toContain(OP.FLASH_DEFL_BEGIN);
    expect(r.flash.every((b) => b === 0xff)).toBe(true);
  });

  it("--cores-only reads the partition table from the board and writes only the cores partition", async () => {
    const r = await startResponder("esp32");
    r.flash.set(buildPartitionTable(PARTS), 0x8000);
    const before = Buffer.from(r.flash);
    const result = await flash({ port: host, chip: "esp32", request: { mode: "cores-only", coresWasm: WASM }, baudRate: 115200 });
    expect(result.written.map((w) => [w.name, w.address])).toEqual([["cores", 0x110000]]);
    expect(r.ops).toContain(OP.READ_FLASH);
    expect(Array.from(parseCoresImage(r.flash.subarray(0x110000, 0x150000)))).toEqual(Array.from(WASM));
    const after = Buffer.from(r.flash);
    after.fill(0, 0x110000, 0x110000 + CORES_HEADER_SIZE + WASM.length);
    before.fill(0, 0x110000, 0x110000 + CORES_HEADER_SIZE + WASM.length);
    expect(after.equals(before)).toBe(true);
  });

  it("--cores-only refuses a cores image larger than the board's cores partition", async () => {
    const r = await startResponder("esp32");
    r.flash.set(buildPartitionTable(PARTS.map((p) => (p.label === CORES_PARTITION.label ? { ...p, size: 16 } : p))), 0x8000);
    await expect(flash({ port: host, chip: "esp32", request: { mode: "cores-only", coresWasm: WASM }, baudRate: 115200 }))
      .rejects.toThrow(/larger than its partition "cores"/);
    expect(r.ops).not.toContain(OP.FLASH_DEFL_BEGIN);
  });

  it("says the port is busy when another program holds it", async () => {
    await startResponder("esp32");
    const other = new SerialPort({ path: host, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => other.open((e) => (e ? reject(e) : resolve())));
    try {
      await expect(flash({ port: host, chip: "esp32", request: { mode: "cores-only", coresWasm: WASM }, baudRate: 115200 }))
        .rejects.toThrow(/is busy: another program/);
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });

  it("says to hold BOOT when nothing answers", async () => {
    const err = await flash({ port: host, chip: "esp32", request: { mode: "cores-only", coresWasm: WASM }, baudRate: 115200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlashError);
    expect((err as Error).message).toMatch(/hold BOOT and tap RESET/);
  }, 120_000);

  async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "", err = "";
    const o = vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => { out += String(c); return true; });
    const e = vi.spyOn(process.stderr, "write").mockImplementation((c: string | Uint8Array) => { err += String(c); return true; });
    try {
      const code = await runCli(["node", "outcaxt", ...args]);
      return { code, out, err };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  }

  it("outcaxt flash writes an ESP-IDF build directory to the board (CLI)", async () => {
    const r = await startResponder("esp32");
    const fw = path.join(dir, "fw");
    mkdirSync(fw);
    const boot = espImage(0, 3000, 11), app = espImage(0, 20000, 12), table = buildPartitionTable(PARTS);
    writeFileSync(path.join(fw, "bootloader.bin"), boot);
    writeFileSync(path.join(fw, "partition-table.bin"), table);
    writeFileSync(path.join(fw, "outcaxt.bin"), app);
    const wasmFile = path.join(dir, "node.wasm");
    writeFileSync(wasmFile, WASM);
    const res = await cli(["flash", "--board", "lilygo-t3-v1.6.1", "--port", host, "--firmware", fw, "--cores", wasmFile, "--baud", "230400"]);
    expect(res.err).toBe("");
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/wrote app \(20024 bytes\) at 0x10000, MD5 verified/);
    expectWritten(r, [
      { name: "b", address: 0x1000, data: boot }, { name: "t", address: 0x8000, data: table },
      { name: "a", address: 0x10000, data: app }, { name: "c", address: 0x110000, data: buildCoresImage(WASM) }]);
  });

  it("outcaxt flash refuses a firmware built for another chip before connecting (CLI, exit 2)", async () => {
    const r = await startResponder("esp32");
    const fw = path.join(dir, "fw");
    mkdirSync(fw);
    writeFileSync(path.join(fw, "bootloader.bin"), espImage(9, 3000));
    writeFileSync(path.join(fw, "partition-table.bin"), buildPartitionTable(PARTS));
    writeFileSync(path.join(fw, "outcaxt.bin"), espImage(9, 3000));
    const wasmFile = path.join(dir, "node.wasm");
    writeFileSync(wasmFile, WASM);
    const res = await cli(["flash", "--board", "lilygo-t3-v1.6.1", "--port", host, "--firmware", fw, "--cores", wasmFile]);
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/built for ESP32-S3/);
    expect(r.ops).toEqual([]);
  });

  it("outcaxt flash --cores-only on a board with the wrong chip exits 1 and writes nothing (CLI)", async () => {
    const r = await startResponder("esp32");
    const wasmFile = path.join(dir, "node.wasm");
    writeFileSync(wasmFile, WASM);
    const res = await cli(["flash", "--board", "heltec-wifi-lora-32-v3", "--port", host, "--cores-only", "--cores", wasmFile, "--baud", "115200"]);
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/has an ESP32, but the profile says ESP32-S3/);
    expect(r.ops).not.toContain(OP.FLASH_DEFL_BEGIN);
  });
});
