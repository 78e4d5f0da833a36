// The ESP32 shell (firmware/esp32/) against the things it must match without a
// compiler for the board here: the imports of the built node.wasm (every one linked
// in main.c with the right wasm3 signature, nothing else linked), and the board
// header generator (host-tools/firmware/board-header.ts) on every board profile.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PIN_MACROS, SX127X_CONTINUOUS_MAX_DBM, boardHeader, boardSettings, parseBoardHeaderArgs, writeBoardHeader } from "../../host-tools/firmware/board-header.js";
import { PIN_NAMES, findRegion, loadBoards, loadPresets, loadRegions, type BoardProfile } from "../../host-tools/hardware/profiles.js";
import { decodeConfig } from "../../host-tools/node/protocol.js";
import { inspectWasm, type ValType } from "../../host-tools/wasm/inspect.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const ESP32 = path.join(REPO, "firmware", "esp32");
const MAIN_C = path.join(ESP32, "main", "main.c");
const RADIO_CPP = path.join(ESP32, "main", "radio.cpp");
const PMU_C = path.join(ESP32, "main", "pmu.c");
const KEYSTORE_C = path.join(ESP32, "main", "keystore.c");
const NODE_WASM = path.join(REPO, "build", "cores", "node.wasm");

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

/** wasm3 signature letters (toolchain.md): i32 i, i64 I, f32 f, f64 F, no result v. */
const LETTER: Partial<Record<ValType, string>> = { i32: "i", i64: "I", f32: "f", f64: "F" };

function wasm3Signature(params: ValType[], results: ValType[]): string {
  const letter = (t: ValType) => {
    const l = LETTER[t];
    if (!l) throw new Error(`wasm3 cannot link a function with a ${t} value`);
    return l;
  };
  if (results.length > 1) throw new Error("wasm3 raw functions return one value at most");
  return `${results.length ? letter(results[0]) : "v"}(${params.map(letter).join("")})`;
}

type Link = { module: string; name: string; signature: string; handler: string };

/** Every m3_LinkRawFunction(mod, "module", "name", "sig", handler) call in a C source. */
function linkCalls(source: string): Link[] {
  const re = /m3_LinkRawFunction\s*\(\s*[A-Za-z_]\w*\s*,\s*"([^"]*)"\s*,\s*"([^"]*)"\s*,\s*"([^"]*)"\s*,\s*&?\s*([A-Za-z_]\w*)\s*\)/g;
  return [...source.matchAll(re)].map((m) => ({ module: m[1], name: m[2], signature: m[3], handler: m[4] }));
}

/** C source without comments, so commented-out code does not count. */
const stripComments = (c: string) => c.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/[^\n]*/g, " ");

describe("main.c links the imports of node.wasm", () => {
  let wasmImports: { module: string; name: string; signature: string }[];
  let source: string;
  let links: Link[];

  beforeAll(() => {
    if (!existsSync(NODE_WASM)) execFileSync(process.execPath, [path.join(REPO, "scripts", "build-cores.mjs"), "node"], { cwd: REPO, stdio: "inherit" });
    const report = inspectWasm(new Uint8Array(readFileSync(NODE_WASM)));
    wasmImports = report.imports.map((i) => {
      expect(i.kind, `${i.module}.${i.name} is a function import`).toBe("func");
      return { module: i.module, name: i.name, signature: wasm3Signature(i.type!.params, i.type!.results) };
    });
    source = stripComments(readFileSync(MAIN_C, "utf8"));
    links = linkCalls(source);
  });

  it("finds the import list and the link calls", () => {
    expect(wasmImports.length).toBeGreaterThan(0);
    // Every mention of m3_LinkRawFunction is a call the regex understood.
    expect(links.length).toBe((source.match(/m3_LinkRawFunction\s*\(/g) ?? []).length);
  });

  it("links every import of node.wasm with its exact signature", () => {
    const linked = new Map(links.map((l) => [`${l.module}.${l.name}`, l.signature]));
    for (const i of wasmImports) {
      expect(linked.has(`${i.module}.${i.name}`), `${i.module}.${i.name} is not linked in main.c`).toBe(true);
      expect(linked.get(`${i.module}.${i.name}`), `signature of ${i.module}.${i.name}`).toBe(i.signature);
    }
  });

  it("links nothing that node.wasm does not import, and nothing twice", () => {
    const imported = new Set(wasmImports.map((i) => `${i.module}.${i.name}`));
    const seen = new Set<string>();
    for (const l of links) {
      const key = `${l.module}.${l.name}`;
      expect(imported.has(key), `main.c links ${key}, which node.wasm does not import`).toBe(true);
      expect(seen.has(key), `${key} linked twice`).toBe(false);
      seen.add(key);
    }
    expect(links.map((l) => `${l.module}.${l.name}(${l.signature})`).sort()).toEqual(
      wasmImports.map((i) => `${i.module}.${i.name}(${i.signature})`).sort(),
    );
  });

  it("defines each linked handler as a wasm3 raw function that reads its arguments in order", () => {
    for (const l of links) {
      const m = new RegExp(`m3ApiRawFunction\\(\\s*${l.handler}\\s*\\)\\s*\\{([\\s\\S]*?)\\n\\}`).exec(source);
      expect(m, `no m3ApiRawFunction(${l.handler})`).not.toBeNull();
      const body = m![1];
      const [, ret, params] = /^(\w)\((\w*)\)$/.exec(l.signature)!;
      // Arguments: one m3ApiGetArg/m3ApiGetArgMem per parameter; a result type unless void.
      const args = body.match(/m3ApiGetArg(Mem)?\s*\(/g) ?? [];
      expect(args.length, `${l.handler}: arguments read`).toBe(params.length);
      const retType = /m3ApiReturnType\s*\(\s*([\w\s]+?)\s*\)/.exec(body)?.[1];
      const cType: Record<string, string> = { i: "int32_t", I: "int64_t", f: "float", F: "double" };
      if (ret === "v") expect(retType, `${l.handler} returns nothing`).toBeUndefined();
      else expect(retType, `${l.handler} result type`).toBe(cType[ret]);
    }
  });
});

// ---------------------------------------------------------------- board header

const boards = loadBoards();
const regions = loadRegions();
const presets = loadPresets();

/** #define NAME value lines of a header. */
function defines(header: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of header.matchAll(/^#define\s+(\w+)\s+(.*?)(?:\s*\/\*.*\*\/)?\s*$/gm)) out.set(m[1], m[2]);
  return out;
}

const gcc = spawnSync("gcc", ["--version"]).status === 0;

describe("board_config.h generator", () => {
  const eu = findRegion(regions, "EU868");

  it("covers every board profile", () => {
    expect(boards.length).toBeGreaterThanOrEqual(6);
  });

  for (const board of boards) {
    describe(board.id, () => {
      const header = boardHeader(board, { region: eu, presets });
      const d = defines(header);

      it("defines every pin of the profile with its GPIO number, and no other pin", () => {
        for (const name of PIN_NAMES) {
          const gpio = board.pins[name];
          if (gpio === undefined) expect(d.has(PIN_MACROS[name]), `${PIN_MACROS[name]} must be absent`).toBe(false);
          else expect(d.get(PIN_MACROS[name]), PIN_MACROS[name]).toBe(String(gpio));
        }
      });

      it("names the radio chip and its interrupt/busy lines", () => {
        if (board.radio.chip === "sx1276") {
          expect(d.get("OC_RADIO_SX1276")).toBe("1");
          expect(d.has("OC_RADIO_SX1262")).toBe(false);
          expect(d.get("OC_RADIO_FAMILY_SX126X")).toBe("0");
          expect(d.has("OC_PIN_DIO0")).toBe(true);
          expect(d.has("OC_PIN_BUSY")).toBe(false);
        } else {
          expect(d.get("OC_RADIO_SX1262")).toBe("1");
          expect(d.has("OC_RADIO_SX1276")).toBe(false);
          expect(d.get("OC_RADIO_FAMILY_SX126X")).toBe("1");
          expect(d.get("OC_PIN_BUSY")).toBe(String(board.pins.busy));
          expect(d.get("OC_PIN_DIO1")).toBe(String(board.pins.dio1));
        }
      });

      it("carries TCXO, RF switch, power, LED, button and MCU from the profile", () => {
        expect(d.get("OC_RADIO_TCXO")).toBe(board.radio.tcxoVoltage === null ? "0" : "1");
        expect(Number.parseFloat(d.get("OC_RADIO_TCXO_VOLTAGE")!)).toBe(board.radio.tcxoVoltage ?? 0);
        expect(d.get("OC_RF_SWITCH_DIO2")).toBe(board.radio.rfSwitch.startsWith("dio2") ? "1" : "0");
        expect(d.get("OC_RF_SWITCH_GPIO")).toBe(board.radio.rfSwitch.includes("gpio") ? "1" : "0");
        expect(d.get("OC_RADIO_MAX_TX_DBM")).toBe(String(board.radio.maxTxPowerDbm));
        expect(Number(d.get("OC_TX_POWER_DBM"))).toBeLessThanOrEqual(board.radio.maxTxPowerDbm);
        expect(d.get("OC_HAS_LED")).toBe(board.led === null ? "0" : "1");
        expect(d.get("OC_PIN_LED")).toBe(board.led === null ? undefined : String(board.led));
        expect(d.get("OC_HAS_BUTTON")).toBe(board.button === null ? "0" : "1");
        expect(d.get("OC_PIN_BUTTON")).toBe(board.button === null ? undefined : String(board.button));
        expect(d.get("OC_BOARD_IDF_TARGET")).toBe(`"${board.mcu.chip}"`);
        expect(d.has(board.mcu.chip === "esp32" ? "OC_BOARD_MCU_ESP32" : "OC_BOARD_MCU_ESP32S3")).toBe(true);
        expect(d.has(board.mcu.chip === "esp32" ? "OC_BOARD_MCU_ESP32S3" : "OC_BOARD_MCU_ESP32")).toBe(false);
        expect(d.get("OC_SERIAL_USB_JTAG")).toBe(board.usb.some((u) => u.chip !== "esp32s3-usb-serial-jtag") ? "0" : "1");
      });

      it("defines the PMU (address, I2C pins, radio rail per chip) exactly when the profile has one", () => {
        const pmuMacros = [...d.keys()].filter((k) => k.startsWith("OC_PMU_") || k === "OC_HAS_PMU");
        if (!board.pmu) {
          expect(pmuMacros).toEqual([]);
          return;
        }
        expect(d.get("OC_HAS_PMU")).toBe("1");
        expect(Number(d.get("OC_PMU_I2C_ADDR"))).toBe(board.pmu.i2cAddress);
        expect(d.get("OC_PMU_PIN_SDA")).toBe(String(board.pmu.sda));
        expect(d.get("OC_PMU_PIN_SCL")).toBe(String(board.pmu.scl));
        expect(d.get("OC_PMU_RADIO_MV")).toBe(String(board.pmu.radioMillivolts));
        const axp192 = board.pmu.chips.find((c) => c.chip === "axp192");
        const axp2101 = board.pmu.chips.find((c) => c.chip === "axp2101");
        expect(d.get("OC_PMU_AXP192_RADIO_LDO")).toBe(axp192 ? axp192.radioRail.replace("ldo", "") : undefined);
        expect(d.get("OC_PMU_AXP2101_RADIO_ALDO")).toBe(axp2101 ? axp2101.radioRail.replace("aldo", "") : undefined);
        if (board.family === "lilygo-tbeam-v1.1") {
          expect(Object.fromEntries(pmuMacros.map((k) => [k, d.get(k)]))).toEqual({
            OC_HAS_PMU: "1", OC_PMU_I2C_ADDR: "0x34", OC_PMU_PIN_SDA: "21", OC_PMU_PIN_SCL: "22", OC_PMU_RADIO_MV: "3300",
            OC_PMU_AXP192_RADIO_LDO: "2", OC_PMU_AXP2101_RADIO_ALDO: "2",
          });
        }
      });

      it("embeds a node_init config the node accepts: the default preset, serial events on", () => {
        const bytes = Uint8Array.from(d.get("OC_NODE_CONFIG_BYTES")!.replace(/[{}\s]/g, "").split(",").map((x) => Number.parseInt(x, 16)));
        expect(bytes.length).toBe(Number(d.get("OC_NODE_CONFIG_LEN")));
        const c = decodeConfig(bytes);
        const preset = presets.presets.find((p) => p.id === presets.defaultPreset)!;
        expect(c.sf).toBe(preset.spreadingFactor);
        expect(c.bwHz).toBe(preset.bandwidthKHz * 1000);
        expect(c.cr).toBe(Number(preset.codingRate.slice(2)) - 4);
        expect(c.preambleSymbols).toBe(presets.preambleSymbols);
        expect(c.dutyCyclePermille).toBe(eu.dutyCyclePercent! * 10);
        expect(c.serial).toBe(true);
        expect(d.get("OC_LORA_SF")).toBe(String(preset.spreadingFactor));
        expect(d.get("OC_LORA_CR_DENOM")).toBe(preset.codingRate.slice(2));
        expect(Number.parseFloat(d.get("OC_LORA_FREQ_MHZ")!)).toBe(eu.defaultFrequencyMHz);
      });

      it.skipIf(!gcc)("is valid C whose values a compiler reads back", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "outcaxt-hdr-"));
        temps.push(dir);
        writeFileSync(path.join(dir, "board_config.h"), header);
        const pinChecks = PIN_NAMES.filter((n) => board.pins[n] !== undefined)
          .map((n) => `_Static_assert(${PIN_MACROS[n]} == ${board.pins[n]}, "${n}");`)
          .concat(board.pmu ? [
            `_Static_assert(OC_PMU_I2C_ADDR == ${board.pmu.i2cAddress} && OC_PMU_PIN_SDA == ${board.pmu.sda} && OC_PMU_PIN_SCL == ${board.pmu.scl}, "pmu");`,
            `_Static_assert(OC_PMU_RADIO_MV == ${board.pmu.radioMillivolts}, "pmu mv");`,
          ] : ["#ifdef OC_HAS_PMU\n#error no PMU on this board\n#endif"])
          .join("\n");
        writeFileSync(
          path.join(dir, "check.c"),
          `#include "board_config.h"\n${pinChecks}\nstatic const unsigned char cfg[OC_NODE_CONFIG_LEN] = OC_NODE_CONFIG_BYTES;\n` +
            `_Static_assert(sizeof cfg == OC_NODE_CONFIG_LEN, "config");\nconst char *id = OC_BOARD_ID;\nfloat f = OC_LORA_FREQ_MHZ + OC_RADIO_TCXO_VOLTAGE;\n` +
            `const unsigned char *p = cfg;\n`,
        );
        const r = spawnSync("gcc", ["-std=c11", "-Wall", "-Werror", "-fsyntax-only", path.join(dir, "check.c")], { encoding: "utf8" });
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
      });
    });
  }

  it("works in every region the default preset fits, with power inside the board and the rules", () => {
    for (const board of boards) {
      for (const region of regions) {
        const s = boardSettings(board, { region, presets });
        expect(s.txPowerDbm).toBeLessThanOrEqual(board.radio.maxTxPowerDbm);
        expect(s.nodeConfigBytes[0]).toBe(1);
      }
    }
  });

  it("holds SX1276 boards to +17 dBm unless the region limits them to 1 % duty cycle", () => {
    for (const board of boards.filter((b) => b.radio.chip === "sx1276")) {
      for (const region of regions) {
        const s = boardSettings(board, { region, presets });
        expect(s.txPowerDbm).toBeLessThanOrEqual(SX127X_CONTINUOUS_MAX_DBM);
      }
    }
    const heltec = boards.find((b) => b.id === "heltec-wifi-lora-32-v3")!;
    expect(boardSettings(heltec, { region: findRegion(regions, "US915"), presets }).txPowerDbm).toBe(22);
  });

  it("uses only macros the generator defines in the shell's C sources", () => {
    // Macros some profile may produce (every pin macro: a pin no shipped board has yet is guarded by #ifdef).
    const all = new Set<string>(Object.values(PIN_MACROS));
    for (const board of boards) for (const region of regions) for (const k of defines(boardHeader(board, { region, presets })).keys()) all.add(k);
    for (const file of [MAIN_C, RADIO_CPP, PMU_C, KEYSTORE_C]) {
      const code = stripComments(readFileSync(file, "utf8")).replace(/"(?:[^"\\\n]|\\.)*"/g, '""');
      const used = new Set(code.match(/\bOC_[A-Z0-9_]+\b/g) ?? []);
      for (const name of used) expect(all.has(name), `${path.basename(file)} uses ${name}, which no generated header defines`).toBe(true);
    }
  });

  it("writeBoardHeader writes the file the CMake step includes, and leaves an unchanged one alone", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "outcaxt-hdr-"));
    temps.push(dir);
    const out = path.join(dir, "sub", "board_config.h");
    const text = writeBoardHeader({ boardId: "lilygo-t3-v1.6.1", regionId: "US915", outFile: out });
    expect(readFileSync(out, "utf8")).toBe(text);
    expect(text).toContain('#define OC_REGION_ID "US915"');
    expect(text).toContain("#define OC_PIN_DIO0 26");
    const again = writeBoardHeader({ boardId: "lilygo-t3-v1.6.1", regionId: "US915", outFile: out });
    expect(again).toBe(text);
    expect(() => writeBoardHeader({ boardId: "no-such-board", regionId: "US915", outFile: out })).toThrow(/no board profile/);
    expect(() => writeBoardHeader({ boardId: "lilygo-t3-v1.6.1", regionId: "XX", outFile: out })).toThrow(/no region/);
  });

  it("parses the arguments the CMake step passes (optional values as named options)", () => {
    expect(parseBoardHeaderArgs(["b", "EU868", "/o.h"])).toEqual({ boardId: "b", regionId: "EU868", outFile: "/o.h", presetId: undefined, antennaGainDbi: undefined });
    expect(parseBoardHeaderArgs(["b", "EU868", "/o.h", "--antenna-gain=3", "--preset=LongSlow"])).toEqual({
      boardId: "b", regionId: "EU868", outFile: "/o.h", presetId: "LongSlow", antennaGainDbi: 3,
    });
    expect(() => parseBoardHeaderArgs(["b", "EU868"])).toThrow(/expected/);
    expect(() => parseBoardHeaderArgs(["b", "EU868", "/o.h", "--antenna-gain=x"])).toThrow(/not a number/);
    expect(() => parseBoardHeaderArgs(["b", "EU868", "/o.h", "--gain=3"])).toThrow(/unknown option/);
  });

  it("refuses a profile whose power floor is above a region's limit", () => {
    const board = boards.find((b) => b.radio.chip === "sx1276") as BoardProfile;
    const region = { ...findRegion(regions, "EU433") };
    expect(() => boardSettings(board, { region, presets, antennaGainDbi: 20 })).toThrow(/below the sx1276 minimum/);
  });
});

// ---------------------------------------------------------------- cores partition

describe("cores partition: main.c, partitions.csv and the flasher agree", () => {
  const main = stripComments(readFileSync(MAIN_C, "utf8"));
  const define = (name: string) => new RegExp(`#define\\s+${name}\\s+([^\\n]+)`).exec(main)?.[1].trim();

  it("main.c reads the header the flasher writes", async () => {
    const image = await import("../../host-tools/flash/image.js");
    expect(define("CORES_MAGIC")).toBe(JSON.stringify(new TextDecoder().decode(image.CORES_MAGIC)));
    expect(Number(define("CORES_HEADER_LEN"))).toBe(image.CORES_HEADER_SIZE);
    expect(Number(define("CORES_FORMAT_VERSION"))).toBe(image.CORES_FORMAT_VERSION);
    expect(Number(define("CORES_PARTITION_SUBTYPE"))).toBe(image.CORES_PARTITION.subtype);
    expect(define("CORES_PARTITION_LABEL")).toBe(JSON.stringify(image.CORES_PARTITION.label));
    // Field offsets used by main.c: version at 4, size at 8, SHA-256 at 12 (the flasher's buildCoresImage).
    expect(main).toMatch(/hdr\[4\]\s*\|\s*hdr\[5\]\s*<<\s*8/);
    expect(main).toMatch(/\(uint32_t\)hdr\[8\]\s*\|\s*\(uint32_t\)hdr\[9\]\s*<<\s*8\s*\|\s*\(uint32_t\)hdr\[10\]\s*<<\s*16\s*\|\s*\(uint32_t\)hdr\[11\]\s*<<\s*24/);
    expect(main).toMatch(/memcmp\(digest,\s*hdr\s*\+\s*12,\s*32\)/);
    const wasm = new Uint8Array(readFileSync(NODE_WASM));
    const built = image.buildCoresImage(wasm);
    expect(built.length).toBe(Number(define("CORES_HEADER_LEN")) + wasm.length);
  });

  it("partitions.csv has nvs, factory and a 64 KiB-aligned cores partition that fit the smallest board's flash", () => {
    const rows = readFileSync(path.join(ESP32, "partitions.csv"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => l.split(",").map((x) => x.trim()));
    const byName = new Map(rows.map((r) => [r[0], { type: r[1], subtype: r[2], offset: Number(r[3]), size: Number(r[4]) }]));
    expect(byName.get("nvs")).toMatchObject({ type: "data", subtype: "nvs" });
    expect(byName.get("factory")).toMatchObject({ type: "app", subtype: "factory" });
    expect(byName.get("keys")).toMatchObject({ type: "data", size: 0x2000 }); // keystore.c: two 4 KiB sectors
    const cores = byName.get("cores")!;
    expect(cores).toMatchObject({ type: "data" });
    expect(Number(cores.subtype)).toBe(0x40);
    expect(cores.offset % 0x10000).toBe(0);
    expect(byName.get("factory")!.offset % 0x10000).toBe(0);
    const sorted = [...byName.values()].sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i].offset).toBeGreaterThanOrEqual(sorted[i - 1].offset + sorted[i - 1].size);
    const end = Math.max(...sorted.map((p) => p.offset + p.size));
    const smallestFlash = Math.min(...boards.map((b) => b.flashSizeMB)) * 1024 * 1024;
    expect(end).toBeLessThanOrEqual(smallestFlash);
    expect(64 + readFileSync(NODE_WASM).length).toBeLessThanOrEqual(cores.size);
  });

  it("sdkconfig.defaults gives the main task at least 32 KiB and uses the custom table", () => {
    const cfg = readFileSync(path.join(ESP32, "sdkconfig.defaults"), "utf8");
    expect(Number(/^CONFIG_ESP_MAIN_TASK_STACK_SIZE=(\d+)/m.exec(cfg)?.[1])).toBeGreaterThanOrEqual(32768);
    expect(cfg).toMatch(/^CONFIG_PARTITION_TABLE_CUSTOM_FILENAME="partitions.csv"$/m);
  });
});
