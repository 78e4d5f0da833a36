// outcaxt flash: writes the Outcaxt firmware (or only a new node.wasm, with
// --cores-only) to a board over its serial bootloader.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import cliProgress from "cli-progress";
import { hardwareDir, loadBoard, type BoardProfile } from "../../hardware/profiles.js";
import { FlashError, flash, planFirmware, type FlashItem, type FlashRequest } from "../../flash/flasher.js";
import { FlashImageError } from "../../flash/image.js";
import { CliError, EXIT, usageError } from "../errors.js";

const packageRoot = () => path.dirname(hardwareDir());

export interface FlashCliOptions {
  board: string;
  port: string;
  coresOnly?: boolean;
  erase?: boolean;
  firmware?: string;
  cores?: string;
  baud: number;
  reset: boolean;
  verbose?: boolean;
}

function parseBaud(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 9600 || n > 5_000_000) throw new InvalidArgumentError("expected a baud rate such as 115200 or 460800");
  return n;
}

function progressBar(): { update(item: FlashItem, index: number, sent: number, total: number): void; stop(): void } {
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: "{name} {bar} {percentage}% | {value}/{total} bytes (compressed) | {rate} KiB/s",
    barsize: 30,
    hideCursor: false,
    clearOnComplete: false,
  }, cliProgress.Presets.shades_classic);
  let current = -1;
  let started = 0;
  let running = false;
  return {
    update(item, index, sent, total) {
      if (index !== current) {
        if (running) bar.stop();
        current = index;
        started = Date.now();
        bar.start(Math.max(1, total), sent, { name: item.name.padEnd(15), rate: "-" });
        running = true;
        return;
      }
      const seconds = (Date.now() - started) / 1000;
      bar.update(sent, { rate: seconds > 0 ? (sent / 1024 / seconds).toFixed(1) : "-" });
    },
    stop() { if (running) bar.stop(); running = false; },
  };
}

export async function runFlash(opts: FlashCliOptions): Promise<void> {
  let board: BoardProfile;
  try {
    board = loadBoard(opts.board);
  } catch (err) {
    throw usageError((err as Error).message);
  }
  const chip = board.mcu.chip;
  const coresFile = path.resolve(opts.cores ?? path.join(packageRoot(), "build", "cores", "node.wasm"));
  if (!existsSync(coresFile)) throw usageError(`cores module ${coresFile} does not exist (npm run build:cores, or pass --cores FILE)`);
  const coresWasm = new Uint8Array(readFileSync(coresFile));

  let request: FlashRequest;
  if (opts.coresOnly) {
    if (opts.erase) throw usageError("--erase wipes the firmware too; it cannot be combined with --cores-only");
    request = { mode: "cores-only", coresWasm };
  } else {
    const dir = path.resolve(opts.firmware ?? path.join(packageRoot(), "firmware", "esp32", "build"));
    try {
      request = { mode: "full", items: planFirmware(dir, chip, coresWasm) };
    } catch (err) {
      if (err instanceof FlashError || err instanceof FlashImageError) throw usageError(err.message);
      throw err;
    }
  }

  const bar = progressBar();
  try {
    const result = await flash({
      port: opts.port, chip, request, erase: opts.erase, baudRate: opts.baud, hardReset: opts.reset,
      log: opts.verbose ? (line) => process.stderr.write(`esptool: ${line}\n`) : undefined,
      progress: (item, index, sent, total) => bar.update(item, index, sent, total),
    });
    bar.stop();
    for (const w of result.written) {
      process.stdout.write(`wrote ${w.name} (${w.size} bytes) at 0x${w.address.toString(16).padStart(5, "0")}, MD5 verified ${w.md5}\n`);
    }
    process.stdout.write(`${board.name} (${result.chip}) on ${opts.port}: done${opts.reset ? ", board reset" : ""}.\n`);
  } catch (err) {
    bar.stop();
    if (err instanceof FlashError) throw new CliError(err.message, EXIT.FAILURE);
    throw err;
  }
}

export function registerFlash(program: Command): void {
  program.command("flash")
    .summary("write the firmware (or only the cores) to a board")
    .description(
      "Writes the Outcaxt firmware to a board over its serial bootloader (esptool-js): bootloader, partition " +
      "table, app and the cores image at the offsets of the board's chip, each verified by MD5, then resets " +
      "the board. The chip the bootloader reports must be the one of the board profile, and every image must " +
      "be built for it and fit its partition; otherwise nothing is written. With --cores-only only the cores " +
      "partition is written (node.wasm), placed by the partition table read back from the board.")
    .requiredOption("--board <name>", "board profile id (hardware/boards/NAME.json)")
    .requiredOption("--port <path>", "serial port of the board (see 'outcaxt ports')")
    .option("--cores-only", "write only the cores partition (a new node.wasm); the C firmware stays")
    .option("--erase", "erase the whole flash before writing (also wipes stored keys and settings)")
    .option("--firmware <dir>", "ESP-IDF build directory (default: firmware/esp32/build)")
    .option("--cores <file>", "the WebAssembly node core (default: build/cores/node.wasm)")
    .option("--baud <n>", "baud rate after connecting (the ROM bootloader starts at 115200)", parseBaud, 460800)
    .option("--no-reset", "leave the board in the bootloader afterwards")
    .option("--verbose", "print esptool-js's log on stderr")
    .addHelpText("after", [
      "",
      "Examples:",
      "  outcaxt flash --board heltec-wifi-lora-32-v3 --port /dev/ttyUSB0",
      "  outcaxt flash --board lilygo-t3-v1.6.1 --port /dev/ttyACM0 --cores-only",
      "",
      "If the board does not answer: hold BOOT, tap RESET, release BOOT, and run the command again.",
      "",
      "Exit codes: 0 written and verified, 1 connecting or writing failed, 2 wrong command line or images.",
    ].join("\n"))
    .action(async (opts: FlashCliOptions) => {
      await runFlash(opts);
    });
}
