// outcaxt ports: the serial ports of this machine, with the boards of hardware/
// recognised by their USB vendor/product id.
import { existsSync, readFileSync, readdirSync, realpathSync } from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { SerialPort } from "serialport";
import { findBoardsByUsb, loadBoards, type BoardProfile } from "../../hardware/profiles.js";
import { CliError, EXIT } from "../errors.js";

export type PortEntry = {
  path: string;
  vendorId: string | null;
  productId: string | null;
  manufacturer: string | null;
  serialNumber: string | null;
  /** Boards of hardware/boards that use this USB id (several share a USB-serial chip). */
  boards: { id: string; name: string }[];
};

export type RawPort = { path: string; vendorId?: string; productId?: string; manufacturer?: string; serialNumber?: string };

const hexId = (s: string | undefined) => (s && /^(0x)?[0-9a-f]{1,4}$/i.test(s) ? s.replace(/^0x/i, "").toLowerCase().padStart(4, "0") : null);

/**
 * Linux without udev (containers, minimal systems): SerialPort.list() needs
 * `udevadm`. The same facts are in sysfs: /sys/class/tty/NAME/device is the
 * interface, and the USB device with idVendor/idProduct is an ancestor.
 */
export function listFromSysfs(base = "/sys/class/tty", devDir = "/dev"): RawPort[] {
  if (!existsSync(base)) return [];
  const sysRoot = path.dirname(path.dirname(realpathSync(base)));
  const out: RawPort[] = [];
  for (const name of readdirSync(base)) {
    if (!/^tty(USB|ACM|S|AMA|WCH|XRUSB)\d+$/.test(name)) continue;
    const dev = path.join(base, name, "device");
    if (!existsSync(dev)) continue;
    let dir: string;
    try { dir = realpathSync(dev); } catch { continue; }
    const port: RawPort = { path: path.join(devDir, name) };
    // Up from the interface to the USB device, not above the sysfs root (base/../..).
    for (let d = dir; d.startsWith(sysRoot + path.sep); d = path.dirname(d)) {
      const read = (f: string) => { try { return readFileSync(path.join(d, f), "utf8").trim(); } catch { return undefined; } };
      const vid = read("idVendor");
      if (vid !== undefined) {
        port.vendorId = vid;
        port.productId = read("idProduct");
        port.manufacturer = read("manufacturer");
        port.serialNumber = read("serial");
        break;
      }
    }
    // Built-in UARTs (ttyS*) without a driver behind them are not real ports.
    if (name.startsWith("ttyS") && port.vendorId === undefined && !existsSync(path.join(dev, "driver"))) continue;
    out.push(port);
  }
  return out.sort((a, b) => a.path.localeCompare(b.path, undefined, { numeric: true }));
}

async function rawPorts(): Promise<{ ports: RawPort[]; note?: string }> {
  try {
    return { ports: await SerialPort.list() };
  } catch (err) {
    if (process.platform === "linux") return { ports: listFromSysfs(), note: `SerialPort.list() failed (${(err as Error).message}); read /sys/class/tty instead` };
    throw new CliError(`cannot list the serial ports: ${(err as Error).message}`, EXIT.FAILURE);
  }
}

export async function listPorts(boards: BoardProfile[] = loadBoards()): Promise<{ ports: PortEntry[]; note?: string }> {
  const { ports, note } = await rawPorts();
  return { ports: describePorts(ports, boards), ...(note ? { note } : {}) };
}

/** Ports with the boards of hardware/boards that match their USB vendor/product id. */
export function describePorts(ports: RawPort[], boards: BoardProfile[] = loadBoards()): PortEntry[] {
  return ports.map((p): PortEntry => {
    const vendorId = hexId(p.vendorId);
    const productId = hexId(p.productId);
    const found = vendorId && productId ? findBoardsByUsb(vendorId, productId, boards) : [];
    return {
      path: p.path, vendorId, productId,
      manufacturer: p.manufacturer ?? null, serialNumber: p.serialNumber ?? null,
      boards: found.map((b) => ({ id: b.id, name: b.name })),
    };
  });
}

function table(ports: PortEntry[], all: boolean): string {
  const shown = all ? ports : ports.filter((p) => p.vendorId !== null);
  if (shown.length === 0) {
    return ports.length === 0 ? "No serial ports found.\n" : `No USB serial ports found (${ports.length} other ports; --all shows them).\n`;
  }
  const rows = shown.map((p) => [
    p.path,
    p.vendorId ? `${p.vendorId}:${p.productId}` : "-",
    p.boards.length === 0 ? (p.vendorId ? "unknown USB device" : "-") : p.boards.length === 1 ? p.boards[0].name : `one of: ${p.boards.map((b) => b.id).join(", ")}`,
    [p.manufacturer, p.serialNumber ? `serial ${p.serialNumber}` : null].filter(Boolean).join(", ") || "-",
  ]);
  const head = ["PORT", "USB ID", "BOARD", "DEVICE"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  return [line(head), ...rows.map(line)].join("\n") + "\n";
}

export function registerPorts(program: Command): void {
  program.command("ports")
    .summary("list serial ports and recognise known boards")
    .description(
      "Lists the serial ports of this machine (SerialPort.list()) and names the boards of hardware/boards whose " +
      "USB vendor/product id matches. Several boards share a USB-serial chip: then all candidates are listed.")
    .option("--json", "print the ports as JSON")
    .option("--all", "also list ports that are not USB devices")
    .addHelpText("after", [
      "",
      "Examples:",
      "  outcaxt ports",
      "  outcaxt ports --json",
      "",
      "Exit codes: 0 success (also when no port is found), 1 the ports cannot be listed.",
    ].join("\n"))
    .action(async (opts: { json?: boolean; all?: boolean }) => {
      const { ports, note } = await listPorts();
      if (opts.json) {
        process.stdout.write(JSON.stringify({ ports: opts.all ? ports : ports.filter((p) => p.vendorId !== null), ...(note ? { note } : {}) }, null, 2) + "\n");
        return;
      }
      if (note) process.stderr.write(`outcaxt: note: ${note}\n`);
      process.stdout.write(table(ports, opts.all === true));
    });
}
