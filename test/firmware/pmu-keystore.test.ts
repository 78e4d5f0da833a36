// The two C modules of the ESP32 shell that can run off the board: pmu.c (T-Beam radio rail)
// and keystore.c (prekeys and identity on a raw partition, erased on overwrite). Without
// ESP-IDF they are compiled with gcc against small stand-in headers (test/firmware/host-c/
// stubs: the ESP-IDF 5.x signatures of the calls they make) and run on a simulated I2C
// device and a RAM flash with NOR semantics. That proves their logic, not that the stand-ins
// match ESP-IDF. Also: partitions.csv (with the new `keys` partition) goes through the
// flasher's partition-table code, and main.c routes exactly `id.seed` and `prekeys` there.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { boardHeader } from "../../host-tools/firmware/board-header.js";
import {
  CORES_PARTITION, buildPartitionTable, findAppPartition, findCoresPartition, parsePartitionTable, type Partition,
} from "../../host-tools/flash/image.js";
import { findRegion, loadBoard, loadPresets, loadRegions } from "../../host-tools/hardware/profiles.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const MAIN = path.join(ROOT, "firmware/esp32/main");
const HOST_C = path.join(ROOT, "test/firmware/host-c");
const gcc = spawnSync("gcc", ["--version"]).status === 0;
const temps: string[] = [];
afterAll(() => { for (const d of temps) rmSync(d, { recursive: true, force: true }); });

function build(name: string, sources: string[], includes: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), `outcaxt-${name}-`));
  temps.push(dir);
  const exe = path.join(dir, name);
  const r = spawnSync("gcc", ["-std=gnu11", "-Wall", "-Wextra", "-Werror", ...includes.map((i) => `-I${i}`), "-o", exe, ...sources], { encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return exe;
}

function headerDir(boardId: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "outcaxt-pmu-hdr-"));
  temps.push(dir);
  const regions = loadRegions();
  writeFileSync(path.join(dir, "board_config.h"), boardHeader(loadBoard(boardId), { region: findRegion(regions, "EU868"), presets: loadPresets() }));
  return dir;
}

describe.skipIf(!gcc)("pmu.c on a simulated I2C bus (gcc, stand-in ESP-IDF headers)", () => {
  const tbeam = gcc ? build("pmu-tbeam", [path.join(HOST_C, "pmu-host.c"), path.join(MAIN, "pmu.c")], [headerDir("lilygo-tbeam-v1.1-sx1276"), path.join(HOST_C, "stubs"), MAIN]) : "";
  const heltec = gcc ? build("pmu-heltec", [path.join(HOST_C, "pmu-host.c"), path.join(MAIN, "pmu.c")], [headerDir("heltec-wifi-lora-32-v3"), path.join(HOST_C, "stubs"), MAIN]) : "";
  const run = (exe: string, scenario: string) => {
    const r = spawnSync(exe, [scenario], { encoding: "utf8" });
    expect(r.status).toBe(0);
    return r.stdout;
  };

  it("AXP192 (T-Beam v1.1): LDO2 set to 3.3 V (0x28 high nibble 15) and switched on (0x12 bit 2), other bits kept, then 20 ms", () => {
    const out = run(tbeam, "axp192");
    expect(out).toContain("i2c port 0 sda 21 scl 22 master 1");
    expect(out).toContain("log 2 PMU: AXP192 found, radio rail LDO2 on at 3300 mV");
    expect(out).toMatch(/result 0 r12=45 r28=fc r90=80 r93=e0 installed=1 deleted=1 delay=20 /);
  });

  it("AXP2101 (T-Beam v1.2): ALDO2 set to 3.3 V (0x93 = step 28) and switched on (0x90 bit 1), other bits kept", () => {
    const out = run(tbeam, "axp2101");
    expect(out).toContain("log 2 PMU: AXP2101 found, radio rail ALDO2 on at 3300 mV");
    expect(out).toMatch(/result 0 r12=41 r28=0c r90=82 r93=fc installed=1 deleted=1 delay=20 /);
  });

  it("another chip id, or nothing at 0x34: -1, an error logged, nothing written, the bus released", () => {
    expect(run(tbeam, "other")).toMatch(/log 0 PMU: chip id 0x77 at 0x34 is not a PMU[^\n]*\nresult -1 r12=41 r28=0c r90=80 r93=e0 installed=1 deleted=1 delay=0 transactions=1/);
    expect(run(tbeam, "none")).toMatch(/log 0 PMU: nothing answers at I2C address 0x34[^\n]*\nresult -1 r12=41 r28=0c r90=80 r93=e0 installed=1 deleted=1/);
  });

  it("a board without a pmu section: 0, no I2C at all", () => {
    expect(run(heltec, "axp192")).toBe("result 0 r12=41 r28=0c r90=80 r93=e0 installed=0 deleted=0 delay=0 transactions=0\n");
  });

  it("main.c powers the PMU before radio_init", () => {
    const main = readFileSync(path.join(MAIN, "main.c"), "utf8");
    const pmu = main.indexOf("pmu_power_up(host_log)");
    expect(pmu).toBeGreaterThan(0);
    expect(pmu).toBeLessThan(main.indexOf("radio_init(radio_irq)"));
    expect(readFileSync(path.join(MAIN, "CMakeLists.txt"), "utf8")).toMatch(/SRCS[^)]*"pmu\.c"[^)]*"keystore\.c"/);
  });
});

describe.skipIf(!gcc)("keystore.c on a RAM flash with NOR semantics (gcc, stand-in ESP-IDF headers)", () => {
  it("stores, overwrites with the old sector erased, and survives power cuts at each step", () => {
    const exe = build("keystore", [path.join(HOST_C, "keystore-host.c"), path.join(MAIN, "keystore.c")], [path.join(HOST_C, "stubs"), MAIN]);
    const r = spawnSync(exe, [], { encoding: "utf8" });
    expect(r.stdout).not.toContain("FAIL");
    expect(r.status).toBe(0);
    const oks = r.stdout.split("\n").filter((l) => l.startsWith("ok "));
    expect(oks).toContain("ok the old prekeys are physically gone from the flash");
    expect(oks).toContain("ok after a restart the higher sequence wins");
    expect(oks).toContain("ok no part of the new value is left");
    expect(oks.length).toBeGreaterThanOrEqual(20);
    expect(r.stdout.trimEnd().endsWith("done")).toBe(true);
  });
});

describe("the keys partition and the storage routing", () => {
  const rows = readFileSync(path.join(ROOT, "firmware/esp32/partitions.csv"), "utf8")
    .split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"))
    .map((l) => l.split(",").map((x) => x.trim()));
  const TYPES: Record<string, number> = { app: 0x00, data: 0x01 };
  const SUBTYPES: Record<string, number> = { factory: 0x00, nvs: 0x02 };
  const parts: Partition[] = rows.map(([label, type, subtype, offset, size]) => ({
    label, type: TYPES[type], subtype: SUBTYPES[subtype] ?? Number(subtype), offset: Number(offset), size: Number(size), flags: 0,
  }));
  const keystoreH = readFileSync(path.join(MAIN, "keystore.h"), "utf8");
  const define = (name: string) => new RegExp(`#define\\s+${name}\\s+([^\\n]+)`).exec(keystoreH)?.[1].trim();

  it("partitions.csv goes through the flasher's table code: app and cores found as before", () => {
    const table = parsePartitionTable(buildPartitionTable(parts));
    expect(table.map((p) => p.label)).toEqual(["nvs", "factory", "cores", "keys", "store"]);
    expect(findAppPartition(table)).toMatchObject({ label: "factory", offset: 0x10000 });
    expect(findCoresPartition(table)).toMatchObject({ label: CORES_PARTITION.label, subtype: CORES_PARTITION.subtype, offset: 0x190000 });
  });

  it("store: a second NVS partition big enough for the storage layer's 512 blocks, inside 4 MB", () => {
    const store = parts.find((p) => p.label === "store")!;
    expect(store).toMatchObject({ type: 0x01, subtype: 0x02 });
    // 512 blocks x 7 entries of 32 bytes + mail and contacts; 126 entries per 4 KiB page, one page spare.
    expect((store.size / 4096 - 1) * 126).toBeGreaterThan(512 * 7 + 24 * 11 + 32 * 8 + 12 * 2);
    expect(store.offset % 4096).toBe(0);
    expect(store.offset + store.size).toBeLessThanOrEqual(4 * 1024 * 1024);
    for (const other of parts.filter((p) => p !== store)) {
      expect(other.offset + other.size <= store.offset || store.offset + store.size <= other.offset).toBe(true);
    }
  });

  it("keys: data, subtype and label as keystore.h says, two 4 KiB sectors, sector-aligned, not the cores subtype", () => {
    const keys = parts.find((p) => p.label === "keys")!;
    expect(keys).toMatchObject({ type: 0x01, subtype: Number(define("KEYS_PARTITION_SUBTYPE")) });
    expect(define("KEYS_PARTITION_LABEL")).toBe('"keys"');
    const sector = Number(define("KEYS_SECTOR_SIZE"));
    expect(sector).toBe(4096);
    expect(keys.size).toBe(2 * sector);
    expect(keys.offset % sector).toBe(0);
    expect(keys.subtype).not.toBe(CORES_PARTITION.subtype);
    expect(keys.subtype).toBeGreaterThanOrEqual(0x40); // custom data subtypes 0x40-0xFE
  });

  it("main.c sends id.seed and prekeys to the key store (get and put) and everything else to NVS", () => {
    const main = readFileSync(path.join(MAIN, "main.c"), "utf8");
    const body = (fn: string) => main.slice(main.indexOf(`m3ApiRawFunction(${fn})`), main.indexOf("\n}\n", main.indexOf(`m3ApiRawFunction(${fn})`)));
    for (const [fn, call] of [["h_storage_get", "keystore_get"], ["h_storage_put", "keystore_put"]]) {
      const b = body(fn);
      expect(b).toContain("keystore_ok && keystore_handles(k)");
      expect(b.indexOf(call)).toBeGreaterThan(0);
      // The key store is asked before NVS is touched for those keys.
      expect(b.indexOf("keystore_handles")).toBeLessThan(b.lastIndexOf(fn === "h_storage_get" ? "nvs_get_blob(h, k, NULL, &size)" : "nvs_set_blob(h,"));
      // Everything else: the NVS handle handle_for picks.
      expect(b).toContain("nvs_handle_t h = handle_for(k);");
    }
    // The storage layer's records (firmware/ABI.md, env.storage_put) go to the "store" partition.
    const route = main.slice(main.indexOf("static nvs_handle_t handle_for("), main.indexOf("\n}\n", main.indexOf("static nvs_handle_t handle_for(")));
    for (const prefix of ["ct.", "mail.", "fo.", "fb."]) expect(route).toContain(`"${prefix}"`);
    expect(main).toContain('#define STORE_PARTITION_LABEL "store"');
    expect(main).toMatch(/keystore_ok = keystore_init\(\);/);
    const ks = readFileSync(path.join(MAIN, "keystore.c"), "utf8");
    expect(ks).toMatch(/strcmp\(key, "id\.seed"\) == 0 \|\| strcmp\(key, "prekeys"\) == 0/);
  });
});
