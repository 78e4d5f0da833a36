// Writes Outcaxt firmware to a board over its serial bootloader with esptool-js:
// connect, detect the chip and refuse a chip the board profile does not have, then
// write bootloader / partition table / app / cores image (or only the cores image,
// placed by the partition table read back from the board), verify each by MD5 and
// hard-reset the board.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { ESPLoader, Transport } from "esptool-js";
import type { McuChip } from "../hardware/profiles.js";
import {
  CHIPS, FlashImageError, PARTITION_TABLE_OFFSET, PARTITION_TABLE_SIZE, buildCoresImage, checkFits, checkImageChip,
  findAppPartition, findCoresPartition, parsePartitionTable,
} from "./image.js";
import { NodeSerialAdapter } from "./serial-adapter.js";

export class FlashError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FlashError";
  }
}

export interface FlashItem {
  name: string;
  address: number;
  data: Uint8Array;
}

// ---------------------------------------------------------------- what to write

function readIfExists(...candidates: string[]): { file: string; data: Uint8Array } | null {
  for (const file of candidates) if (existsSync(file)) return { file, data: new Uint8Array(readFileSync(file)) };
  return null;
}

/**
 * The images of a firmware directory: an ESP-IDF build directory (bootloader/bootloader.bin,
 * partition_table/partition-table.bin, <app>.bin) or a flat directory with bootloader.bin,
 * partition-table.bin and one app .bin. Every image is checked against the board's chip
 * and the partition table; the cores image (from `coresWasm`) goes to the "cores" partition.
 */
export function planFirmware(dir: string, chip: McuChip, coresWasm: Uint8Array): FlashItem[] {
  if (!existsSync(dir)) throw new FlashError(`firmware directory ${dir} does not exist (build the ESP-IDF firmware first, or pass --firmware DIR)`);
  const boot = readIfExists(path.join(dir, "bootloader", "bootloader.bin"), path.join(dir, "bootloader.bin"));
  if (!boot) throw new FlashError(`${dir}: no bootloader.bin (looked in bootloader/ and the directory itself)`);
  const table = readIfExists(path.join(dir, "partition_table", "partition-table.bin"), path.join(dir, "partition-table.bin"));
  if (!table) throw new FlashError(`${dir}: no partition-table.bin (looked in partition_table/ and the directory itself)`);
  const OTA_DATA = "ota_data_initial.bin";
  const appFiles = readdirSync(dir).filter((f) => f.endsWith(".bin") && f !== "bootloader.bin" && f !== "partition-table.bin" && f !== OTA_DATA);
  if (appFiles.length !== 1) {
    throw new FlashError(`${dir}: expected exactly one app image (*.bin besides bootloader.bin and partition-table.bin), found ${appFiles.length === 0 ? "none" : appFiles.join(", ")}`);
  }
  const appFile = path.join(dir, appFiles[0]);
  const app = new Uint8Array(readFileSync(appFile));

  checkImageChip(boot.data, chip, `bootloader ${boot.file}`);
  checkImageChip(app, chip, `app image ${appFile}`);
  if (table.data.length > PARTITION_TABLE_SIZE) throw new FlashImageError(`partition table ${table.file} is ${table.data.length} bytes, larger than 0xC00`);
  const parts = parsePartitionTable(table.data);
  const appPart = findAppPartition(parts);
  checkFits(`app image ${appFile}`, app.length, appPart);
  const cores = buildCoresImage(coresWasm);
  const coresPart = findCoresPartition(parts);
  checkFits("cores image", cores.length, coresPart);
  const bootEnd = CHIPS[chip].bootloaderOffset + boot.data.length;
  if (bootEnd > PARTITION_TABLE_OFFSET) throw new FlashImageError(`bootloader ${boot.file} is ${boot.data.length} bytes and runs into the partition table at 0x8000`);

  const items: FlashItem[] = [
    { name: "bootloader", address: CHIPS[chip].bootloaderOffset, data: boot.data },
    { name: "partition table", address: PARTITION_TABLE_OFFSET, data: table.data },
  ];
  // With OTA partitions ESP-IDF also builds the initial otadata (which app to boot).
  const otaPart = parts.find((p) => p.type === 0x01 && p.subtype === 0x00);
  const otaData = readIfExists(path.join(dir, OTA_DATA));
  if (otaPart && otaData) {
    checkFits(OTA_DATA, otaData.data.length, otaPart);
    items.push({ name: "otadata", address: otaPart.offset, data: otaData.data });
  }
  items.push({ name: "app", address: appPart.offset, data: app }, { name: "cores", address: coresPart.offset, data: cores });
  return items;
}

// ---------------------------------------------------------------- errors

/** Turns serial and esptool-js errors into one actionable line. */
export function explainError(err: unknown, port: string): FlashError {
  if (err instanceof FlashError) return err;
  if (err instanceof FlashImageError) return new FlashError(err.message);
  const msg = err instanceof Error ? err.message : String(err);
  if (/Resource busy|EBUSY|Cannot lock port/i.test(msg)) {
    return new FlashError(`${port} is busy: another program (a serial monitor, 'outcaxt listen', ModemManager) has it open. Close it and try again.`);
  }
  if (/Permission denied|EACCES/i.test(msg)) {
    return new FlashError(`permission denied opening ${port}: add yourself to the group that owns it (Linux: sudo usermod -aG dialout $USER, then log in again).`);
  }
  if (/No such file|ENOENT/i.test(msg)) {
    return new FlashError(`${port} does not exist: check the cable and 'outcaxt ports'.`);
  }
  if (/Failed to connect|Wrong boot mode|no sync reply/i.test(msg)) {
    return new FlashError(`no answer from the bootloader on ${port}: hold BOOT and tap RESET to enter download mode, then try again. (${msg.split("\n")[0]})`);
  }
  if (/MD5 of file does not match/i.test(msg)) {
    return new FlashError(`verification failed: the flash does not hold what was written (MD5 mismatch). Try again, with a shorter USB cable or a lower --baud.`);
  }
  return new FlashError(`flashing failed on ${port}: ${msg}`);
}

// ---------------------------------------------------------------- flashing

export type FlashRequest =
  | { mode: "full"; items: FlashItem[] }
  | { mode: "cores-only"; coresWasm: Uint8Array };

export interface FlashOptions {
  port: string;
  chip: McuChip;
  request: FlashRequest;
  erase?: boolean;
  baudRate?: number;
  /** Reset the board into its app at the end (default true). */
  hardReset?: boolean;
  /** esptool-js log lines. */
  log?: (line: string) => void;
  /** Called with the item being written, bytes sent so far and the (compressed) total. */
  progress?: (item: FlashItem, index: number, sent: number, total: number) => void;
}

export interface FlashResult {
  chip: string;
  written: { name: string; address: number; size: number; md5: string }[];
}

const md5hex = (d: Uint8Array) => createHash("md5").update(d).digest("hex");

export async function flash(opts: FlashOptions): Promise<FlashResult> {
  const adapter = new NodeSerialAdapter(opts.port);
  const transport = new Transport(adapter as unknown as ConstructorParameters<typeof Transport>[0], false);
  const log = opts.log ?? (() => {});
  // esptool-js prints its transport traces with console.log; send them to the log instead.
  transport.trace = (message: string) => log(`trace: ${message}`);
  let partial = "";
  const terminal = {
    clean() {},
    write(s: string) { partial += s; },
    writeLine(s: string) { log((partial + s).trimEnd()); partial = ""; },
  };
  const loader = new ESPLoader({ transport, baudrate: opts.baudRate ?? 460800, romBaudrate: 115200, terminal });
  let connected = false;
  try {
    await loader.main();
    connected = true;
    const want = CHIPS[opts.chip].esptoolName;
    const found = loader.chip.CHIP_NAME;
    if (found !== want) {
      throw new FlashError(`the board on ${opts.port} has an ${found}, but the profile says ${want}: wrong --board or wrong port. Nothing was written.`);
    }

    let items: FlashItem[];
    if (opts.request.mode === "cores-only") {
      const tableBytes = await loader.readFlash(PARTITION_TABLE_OFFSET, PARTITION_TABLE_SIZE);
      let coresPart;
      try {
        coresPart = findCoresPartition(parsePartitionTable(tableBytes));
      } catch (err) {
        throw new FlashError(`${(err as Error).message} on the board: flash the full firmware once (without --cores-only).`);
      }
      const image = buildCoresImage(opts.request.coresWasm);
      checkFits("cores image", image.length, coresPart);
      items = [{ name: "cores", address: coresPart.offset, data: image }];
    } else {
      items = opts.request.items;
    }

    if (opts.erase) {
      log("Erasing the whole flash...");
      await loader.eraseFlash();
    }
    await loader.writeFlash({
      fileArray: items.map((i) => ({ data: i.data, address: i.address })),
      flashMode: "keep", flashFreq: "keep", flashSize: "keep", eraseAll: false, compress: true,
      reportProgress: (index: number, sent: number, total: number) => opts.progress?.(items[index], index, sent, total),
      calculateMD5Hash: (image: Uint8Array) => md5hex(image),
    });
    if (opts.hardReset !== false) await loader.after("hard_reset");
    return { chip: found, written: items.map((i) => ({ name: i.name, address: i.address, size: i.data.length, md5: md5hex(i.data) })) };
  } catch (err) {
    throw explainError(err, opts.port);
  } finally {
    try {
      if (connected || adapter.readable) await transport.disconnect();
    } catch {
      await adapter.close();
    }
  }
}
