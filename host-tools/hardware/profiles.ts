// Loads and validates the hardware data in hardware/: board profiles
// (hardware/boards/*.json), the regional radio rules (hardware/regions.json) and
// the LoRa modem presets (hardware/presets.json).
//
// Structure is checked against the JSON schemas in hardware/schema/ with Ajv;
// the rules a schema cannot express (pins distinct, GPIOs that exist on the MCU,
// USB ids that match the bridge chip, sub-bands inside their band, every value
// sourced) are checked here. Every problem is reported as "<file>: <key>: <message>".

import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv";
import { commonSchemaMessage, describeValue as describe, pointerToKey, valueAtPointer as atPointer } from "../validation/json-pointer.js";

// ---------------------------------------------------------------- types

export type McuChip = "esp32" | "esp32s3";
export type RadioChip = "sx1262" | "sx1276";
export type RfSwitch = "dio2" | "dio2+gpio" | "gpio" | "none";
export type UsbChip = "cp2102" | "cp2104" | "ch9102" | "ch340" | "esp32s3-usb-serial-jtag";
export type PowerReference = "erp" | "eirp" | "conducted";
export type CodingRate = "4/5" | "4/6" | "4/7" | "4/8";

export const PIN_NAMES = ["nss", "sck", "mosi", "miso", "reset", "busy", "dio0", "dio1", "rxEnable", "txEnable"] as const;
export type PinName = (typeof PIN_NAMES)[number];

export interface Reference {
  title: string;
  publisher: string;
  kind: "vendor" | "datasheet" | "regulation" | "firmware" | "community" | "project";
  location?: string;
  says?: string;
}

export interface UsbId {
  vendorId: string;
  productId: string;
  chip: UsbChip;
}

export type PmuChip = "axp192" | "axp2101";
/** AXP192: LDO2/LDO3; AXP2101: ALDO1..4 (the rails firmware/esp32/main/pmu.c can switch). */
export type PmuRail = "ldo2" | "ldo3" | "aldo1" | "aldo2" | "aldo3" | "aldo4";

/** The power-management chip that feeds the radio (T-Beam), probed at `i2cAddress` by chip id. */
export interface PmuProfile {
  i2cAddress: number;
  sda: number;
  scl: number;
  radioMillivolts: number;
  chips: { chip: PmuChip; radioRail: PmuRail }[];
}

export interface BoardProfile {
  id: string;
  name: string;
  vendor: string;
  family: string;
  mcu: { chip: McuChip; part: string };
  flashSizeMB: number;
  radio: { chip: RadioChip; maxTxPowerDbm: number; tcxoVoltage: number | null; rfSwitch: RfSwitch };
  pins: { nss: number; sck: number; mosi: number; miso: number; reset: number } & Partial<Record<PinName, number>>;
  usb: UsbId[];
  led: number | null;
  button: number | null;
  /** Absent on boards whose radio is powered directly. */
  pmu?: PmuProfile;
  unverified: string[];
  notes: string[];
  references: Record<string, Reference>;
  sources: Record<string, string[]>;
  /** Absolute path of the file the profile was read from (added by the loader). */
  file: string;
}

export interface RegionRules {
  maxPowerDbm: number;
  powerReference: PowerReference;
  /** Percent of the window a device may transmit; null = no limit. */
  dutyCyclePercent: number | null;
  /** Rolling window the duty cycle is counted over; null when there is no limit. */
  dutyCycleWindowSeconds: number | null;
  lbtRequired: boolean;
}

export interface SubBand extends RegionRules {
  id: string;
  startMHz: number;
  endMHz: number;
  sources: string[];
}

export interface Region extends RegionRules {
  id: string;
  name: string;
  bandStartMHz: number;
  bandEndMHz: number;
  defaultFrequencyMHz: number;
  subBands: SubBand[];
  unverified: string[];
  notes: string[];
  sources: Record<string, string[]>;
}

export interface RegionTable {
  references: Record<string, Reference>;
  regions: Region[];
}

export interface Preset {
  id: string;
  bandwidthKHz: number;
  spreadingFactor: number;
  codingRate: CodingRate;
}

export interface PresetTable {
  defaultPreset: string;
  preambleSymbols: number;
  syncWord: "private" | "public";
  presets: Preset[];
  references: Record<string, Reference>;
  sources: Record<string, string[]>;
}

// ---------------------------------------------------------------- chip facts

/** Output power the radio can be programmed to (SX1262 datasheet; SX1276 datasheet 5.4.3, PA_BOOST). */
export const RADIO_CHIPS: Readonly<Record<RadioChip, { minTxPowerDbm: number; maxTxPowerDbm: number; family: "sx126x" | "sx127x" }>> = {
  sx1262: { minTxPowerDbm: -9, maxTxPowerDbm: 22, family: "sx126x" },
  sx1276: { minTxPowerDbm: 2, maxTxPowerDbm: 20, family: "sx127x" },
};

/** USB ids each bridge enumerates with (vendor defaults). */
export const USB_CHIPS: Readonly<Record<UsbChip, { vendorId: string; productId: string; description: string }>> = {
  "cp2102": { vendorId: "10c4", productId: "ea60", description: "Silicon Labs CP2102 USB-UART bridge" },
  "cp2104": { vendorId: "10c4", productId: "ea60", description: "Silicon Labs CP2104 USB-UART bridge" },
  "ch9102": { vendorId: "1a86", productId: "55d4", description: "WCH CH9102 USB-UART bridge" },
  "ch340": { vendorId: "1a86", productId: "7523", description: "WCH CH340 USB-UART bridge" },
  "esp32s3-usb-serial-jtag": { vendorId: "303a", productId: "1001", description: "ESP32-S3 built-in USB-Serial/JTAG" },
};

interface McuFacts {
  /** GPIO numbers the chip has. */
  exists: (gpio: number) => boolean;
  /** GPIOs that cannot drive an output. */
  inputOnly: ReadonlySet<number>;
  /** GPIOs taken by the SPI flash (and octal PSRAM) of the given part. */
  reserved: (part: string) => Map<number, string>;
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** ESP32 and ESP32-S3 technical reference manuals / datasheets, GPIO chapters. */
export const MCUS: Readonly<Record<McuChip, McuFacts>> = {
  esp32: {
    exists: (g) => new Set([...range(0, 19), 21, 22, 23, 25, 26, 27, ...range(32, 39)]).has(g),
    inputOnly: new Set(range(34, 39)),
    reserved: () => new Map(range(6, 11).map((g) => [g, "the SPI flash"])),
  },
  esp32s3: {
    exists: (g) => (g >= 0 && g <= 21) || (g >= 26 && g <= 48),
    inputOnly: new Set<number>(),
    reserved: (part) => {
      const m = new Map(range(27, 32).map((g) => [g, "the SPI flash"]));
      // R8 / R8V / R16V parts carry octal PSRAM, which also takes GPIO33-37.
      if (/R(8|16)V?$/.test(part)) for (const g of range(33, 37)) m.set(g, "the octal PSRAM");
      return m;
    },
  },
};

/** Pins the MCU drives; on the ESP32 these cannot be input-only GPIOs. */
const OUTPUT_KEYS = new Set(["pins.nss", "pins.sck", "pins.mosi", "pins.reset", "pins.rxEnable", "pins.txEnable", "led", "pmu.sda", "pmu.scl"]);

// ---------------------------------------------------------------- errors

export interface HardwareIssue {
  file: string;
  key: string;
  message: string;
}

export class HardwareDataError extends Error {
  readonly issues: HardwareIssue[];
  constructor(issues: HardwareIssue[]) {
    super(issues.map((i) => `${i.file}: ${i.key}: ${i.message}`).join("\n"));
    this.name = "HardwareDataError";
    this.issues = issues;
  }
}

// ---------------------------------------------------------------- locations

/** The hardware/ folder, found relative to this module (source or compiled under dist/). */
export function hardwareDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // host-tools/hardware/ (source) and dist/host-tools/hardware/ (built) sit at different depths.
  const fromDist = import.meta.url.includes("/dist/host-tools/hardware/");
  return path.resolve(here, fromDist ? "../../.." : "../..", "hardware");
}

// ---------------------------------------------------------------- schema validation

const validators = new Map<string, ValidateFunction>();

function validatorFor(schemaFile: string): ValidateFunction {
  let v = validators.get(schemaFile);
  if (!v) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
    v = ajv.compile(JSON.parse(readFileSync(schemaFile, "utf8")));
    validators.set(schemaFile, v);
  }
  return v;
}

function schemaIssues(errors: ErrorObject[], data: unknown, file: string, schema: { allOf?: { $comment?: string }[] }): HardwareIssue[] {
  const issues: HardwareIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === "if") continue; // the failing "then" branch is reported on its own
    const base = pointerToKey(e.instancePath);
    const value = atPointer(data, e.instancePath);
    const join = (k: string) => (base ? `${base}.${k}` : k);
    const common = commonSchemaMessage(e, data);
    let key = common?.key ?? (base || "(root)");
    let message: string = common?.message ?? "";
    if (!common) switch (e.keyword) {
      case "false schema":
        message = "not allowed here";
        break;
      default:
        message = `${e.message ?? e.keyword}${e.keyword === "pattern" || e.keyword === "minimum" || e.keyword === "maximum" ? `, got ${describe(value)}` : ""}`;
    }
    const rule = /^#\/allOf\/(\d+)\/then\//.exec(e.schemaPath);
    const comment = rule ? schema.allOf?.[Number(rule[1])]?.$comment : undefined;
    if (comment) message += ` (rule: ${comment})`;
    const id = `${key}\u0000${message}`;
    if (!seen.has(id)) {
      seen.add(id);
      issues.push({ file, key, message });
    }
  }
  return issues;
}

function readJson(file: string, issues: HardwareIssue[]): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    issues.push({ file, key: "(file)", message: `cannot read: ${(err as Error).message}` });
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    issues.push({ file, key: "(file)", message: `not valid JSON: ${(err as Error).message}` });
    return undefined;
  }
}

function schemaCheck(data: unknown, file: string, schemaName: string, schemaDir: string, issues: HardwareIssue[]): boolean {
  const schemaFile = path.join(schemaDir, schemaName);
  const validate = validatorFor(schemaFile);
  if (validate(data)) return true;
  const schema = JSON.parse(readFileSync(schemaFile, "utf8"));
  issues.push(...schemaIssues(validate.errors ?? [], data, file, schema));
  return false;
}

// ---------------------------------------------------------------- value paths

/** Resolves "radio.chip", "usb[1]", "pins.busy" against an object; undefined when absent. */
export function valueAt(root: unknown, key: string): unknown {
  let cur: unknown = root;
  for (const part of key.split(".")) {
    const m = /^([A-Za-z][A-Za-z0-9]*)(?:\[(\d+)\])?$/.exec(part);
    if (!m || cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[m[1]];
    if (m[2] !== undefined) {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[Number(m[2])];
    }
  }
  return cur;
}

/**
 * Every sourced path must have a sources entry or be listed as unverified; sources
 * and unverified may only name existing sourced paths; every reference id cited
 * must exist, and every reference must be cited.
 */
function checkProvenance(
  file: string,
  prefix: string,
  sourcedPaths: string[],
  sources: Record<string, string[]>,
  unverified: string[],
  references: Record<string, Reference>,
  cited: Set<string>,
  issues: HardwareIssue[],
): void {
  const k = (p: string) => (prefix ? `${prefix}.${p}` : p);
  const allowed = new Set(sourcedPaths);
  for (const p of sourcedPaths) {
    if (!(p in sources) && !unverified.includes(p)) {
      issues.push({ file, key: k(`sources.${p}`), message: `no source given for ${p}; cite a reference or list it in unverified` });
    }
  }
  for (const [p, ids] of Object.entries(sources)) {
    if (!allowed.has(p)) issues.push({ file, key: k(`sources.${p}`), message: `${p} is not a sourced value of this entry` });
    for (const id of ids) {
      if (!(id in references)) issues.push({ file, key: k(`sources.${p}`), message: `unknown reference "${id}"` });
      cited.add(id);
    }
  }
  unverified.forEach((p, i) => {
    if (!allowed.has(p)) issues.push({ file, key: k(`unverified[${i}]`), message: `${p} is not a sourced value of this entry` });
  });
}

function checkAllCited(file: string, references: Record<string, Reference>, cited: Set<string>, issues: HardwareIssue[]): void {
  for (const id of Object.keys(references)) {
    if (!cited.has(id)) issues.push({ file, key: `references.${id}`, message: "reference is never cited in sources" });
  }
}

// ---------------------------------------------------------------- boards

function boardChecks(b: BoardProfile, file: string, issues: HardwareIssue[]): void {
  const add = (key: string, message: string) => issues.push({ file, key, message });

  const expectedId = path.basename(file, ".json");
  if (b.id !== expectedId) add("id", `"${b.id}" must match the file name "${expectedId}"`);

  // Pins: one function per GPIO, GPIOs that exist, outputs on output-capable pins.
  const mcu = MCUS[b.mcu.chip];
  const reserved = mcu.reserved(b.mcu.part);
  const used: [string, number][] = [
    ...PIN_NAMES.filter((n) => b.pins[n] !== undefined).map((n) => [`pins.${n}`, b.pins[n] as number] as [string, number]),
    ...(b.led !== null ? [["led", b.led] as [string, number]] : []),
    ...(b.button !== null ? [["button", b.button] as [string, number]] : []),
    ...(b.pmu ? [["pmu.sda", b.pmu.sda] as [string, number], ["pmu.scl", b.pmu.scl] as [string, number]] : []),
  ];
  const owner = new Map<number, string>();
  for (const [key, gpio] of used) {
    const first = owner.get(gpio);
    if (first) add(key, `GPIO ${gpio} is already used by ${first}`);
    else owner.set(gpio, key);
    if (!mcu.exists(gpio)) add(key, `GPIO ${gpio} does not exist on ${b.mcu.chip}`);
    else if (reserved.has(gpio)) add(key, `GPIO ${gpio} is taken by ${reserved.get(gpio)} on ${b.mcu.part}`);
    else if (OUTPUT_KEYS.has(key) && mcu.inputOnly.has(gpio)) add(key, `GPIO ${gpio} is input-only on ${b.mcu.chip} and cannot drive this signal`);
  }

  // Radio: power within what the chip can be programmed to (the schema checks this per chip too).
  const chip = RADIO_CHIPS[b.radio.chip];
  if (b.radio.maxTxPowerDbm < chip.minTxPowerDbm || b.radio.maxTxPowerDbm > chip.maxTxPowerDbm) {
    add("radio.maxTxPowerDbm", `${b.radio.maxTxPowerDbm} dBm is outside the ${b.radio.chip} range ${chip.minTxPowerDbm}..${chip.maxTxPowerDbm} dBm`);
  }
  const hasSwitchGpio = b.pins.rxEnable !== undefined || b.pins.txEnable !== undefined;
  if ((b.radio.rfSwitch === "gpio" || b.radio.rfSwitch === "dio2+gpio") && !hasSwitchGpio) {
    add("radio.rfSwitch", `"${b.radio.rfSwitch}" needs pins.rxEnable or pins.txEnable`);
  }
  if ((b.radio.rfSwitch === "dio2" || b.radio.rfSwitch === "none") && hasSwitchGpio) {
    add("radio.rfSwitch", `"${b.radio.rfSwitch}" but pins.rxEnable/pins.txEnable are given; use "gpio" or "dio2+gpio"`);
  }

  // PMU: each chip at most once (the shell probes them by chip id).
  if (b.pmu) {
    const seenChip = new Set<string>();
    b.pmu.chips.forEach((c, i) => {
      if (seenChip.has(c.chip)) add(`pmu.chips[${i}]`, `${c.chip} is listed twice`);
      seenChip.add(c.chip);
    });
  }

  // USB: ids must be the ones the named bridge enumerates with.
  const seenUsb = new Set<string>();
  b.usb.forEach((u, i) => {
    const known = USB_CHIPS[u.chip];
    if (u.vendorId !== known.vendorId || u.productId !== known.productId) {
      add(`usb[${i}]`, `${u.chip} enumerates as ${known.vendorId}:${known.productId}, not ${u.vendorId}:${u.productId}`);
    }
    if (u.chip === "esp32s3-usb-serial-jtag" && b.mcu.chip !== "esp32s3") add(`usb[${i}]`, `${b.mcu.chip} has no built-in USB`);
    const id = `${u.vendorId}:${u.productId}:${u.chip}`;
    if (seenUsb.has(id)) add(`usb[${i}]`, "duplicate entry");
    seenUsb.add(id);
  });

  // Provenance: every value sourced or marked unverified.
  const sourced = [
    "mcu.chip", "mcu.part", "flashSizeMB",
    "radio.chip", "radio.maxTxPowerDbm", "radio.tcxoVoltage", "radio.rfSwitch",
    ...PIN_NAMES.filter((n) => b.pins[n] !== undefined).map((n) => `pins.${n}`),
    ...b.usb.map((_, i) => `usb[${i}]`),
    "led", "button",
    ...(b.pmu ? ["pmu.i2cAddress", "pmu.sda", "pmu.scl", "pmu.radioMillivolts", ...b.pmu.chips.map((_, i) => `pmu.chips[${i}]`)] : []),
  ];
  const cited = new Set<string>();
  checkProvenance(file, "", sourced, b.sources, b.unverified, b.references, cited, issues);
  checkAllCited(file, b.references, cited, issues);
}

/** Validates one parsed board profile; returns the issues found (empty when valid). */
export function checkBoard(data: unknown, file: string, schemaDir = path.join(hardwareDir(), "schema")): HardwareIssue[] {
  const issues: HardwareIssue[] = [];
  if (schemaCheck(data, file, "board.schema.json", schemaDir, issues)) boardChecks(data as BoardProfile, file, issues);
  return issues;
}

/**
 * Loads and validates every *.json in `dir` (default hardware/boards). Throws a
 * HardwareDataError listing every problem in every file.
 */
export function loadBoards(dir = path.join(hardwareDir(), "boards"), schemaDir = path.join(hardwareDir(), "schema")): BoardProfile[] {
  const issues: HardwareIssue[] = [];
  const boards: BoardProfile[] = [];
  const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
  if (files.length === 0) throw new HardwareDataError([{ file: dir, key: "(folder)", message: "no board profiles found" }]);
  const ids = new Map<string, string>();
  for (const name of files) {
    const file = path.join(dir, name);
    const data = readJson(file, issues);
    if (data === undefined) continue;
    const found = checkBoard(data, file, schemaDir);
    issues.push(...found);
    if (found.length > 0) continue;
    const board = { ...(data as Omit<BoardProfile, "file">), file } as BoardProfile;
    const other = ids.get(board.id);
    if (other) issues.push({ file, key: "id", message: `"${board.id}" is also the id of ${other}` });
    ids.set(board.id, file);
    boards.push(board);
  }
  if (issues.length > 0) throw new HardwareDataError(issues);
  return boards;
}

/** One board by id. */
export function loadBoard(id: string, dir?: string): BoardProfile {
  const boards = loadBoards(dir);
  const board = boards.find((b) => b.id === id);
  if (!board) throw new Error(`no board profile "${id}"; known: ${boards.map((b) => b.id).join(", ")}`);
  return board;
}

function normalizeUsbId(id: number | string, what: string): string {
  const n = typeof id === "number" ? id : Number.parseInt(id.replace(/^0x/i, ""), 16);
  if (!Number.isInteger(n) || n < 0 || n > 0xffff || (typeof id === "string" && !/^(0x)?[0-9a-f]{1,4}$/i.test(id))) {
    throw new RangeError(`${what} must be a 16-bit USB id, got ${JSON.stringify(id)}`);
  }
  return n.toString(16).padStart(4, "0");
}

/**
 * Boards that enumerate with this USB vendor/product id (numbers, or hex strings
 * with or without 0x). Several boards share a bridge, so this returns candidates.
 */
export function findBoardsByUsb(vendorId: number | string, productId: number | string, boards: BoardProfile[] = loadBoards()): BoardProfile[] {
  const vid = normalizeUsbId(vendorId, "vendorId");
  const pid = normalizeUsbId(productId, "productId");
  return boards.filter((b) => b.usb.some((u) => u.vendorId === vid && u.productId === pid)).sort((a, b) => a.id.localeCompare(b.id));
}

// ---------------------------------------------------------------- presets

function presetChecks(t: PresetTable, file: string, issues: HardwareIssue[]): void {
  const seen = new Set<string>();
  t.presets.forEach((p, i) => {
    if (seen.has(p.id)) issues.push({ file, key: `presets[${i}].id`, message: `duplicate preset "${p.id}"` });
    seen.add(p.id);
  });
  if (!seen.has(t.defaultPreset)) issues.push({ file, key: "defaultPreset", message: `"${t.defaultPreset}" is not one of the presets` });
  const cited = new Set<string>();
  checkProvenance(file, "", ["defaultPreset", "preambleSymbols", "syncWord", "presets"], t.sources, [], t.references, cited, issues);
  checkAllCited(file, t.references, cited, issues);
}

/** Loads and validates hardware/presets.json (or presets.json in `dir`). */
export function loadPresets(dir = hardwareDir()): PresetTable {
  const file = path.join(dir, "presets.json");
  const issues: HardwareIssue[] = [];
  const data = readJson(file, issues);
  if (data !== undefined && schemaCheck(data, file, "presets.schema.json", path.join(dir, "schema"), issues)) {
    presetChecks(data as PresetTable, file, issues);
  }
  if (issues.length > 0) throw new HardwareDataError(issues);
  return data as PresetTable;
}

export function findPreset(table: PresetTable, id: string = table.defaultPreset): Preset {
  const p = table.presets.find((x) => x.id === id);
  if (!p) throw new Error(`no preset "${id}"; known: ${table.presets.map((x) => x.id).join(", ")}`);
  return p;
}

// ---------------------------------------------------------------- regions

const RULE_KEYS = ["maxPowerDbm", "powerReference", "dutyCyclePercent", "dutyCycleWindowSeconds", "lbtRequired"] as const;

function sameRules(a: RegionRules, b: RegionRules): boolean {
  return RULE_KEYS.every((k) => a[k] === b[k]);
}

function ruleChecks(r: RegionRules, key: string, file: string, issues: HardwareIssue[]): void {
  if ((r.dutyCyclePercent === null) !== (r.dutyCycleWindowSeconds === null)) {
    issues.push({ file, key: `${key}.dutyCycleWindowSeconds`, message: "must be null exactly when dutyCyclePercent is null" });
  }
}

function regionChecks(t: RegionTable, presets: PresetTable, file: string, issues: HardwareIssue[]): void {
  const defaultPreset = presets.presets.find((p) => p.id === presets.defaultPreset);
  const halfBwMHz = defaultPreset ? defaultPreset.bandwidthKHz / 2000 : 0;
  const ids = new Set<string>();
  const cited = new Set<string>();
  t.regions.forEach((r, i) => {
    const key = `regions[${i}]`;
    const add = (k: string, message: string) => issues.push({ file, key: `${key}.${k}`, message: `${r.id}: ${message}` });
    if (ids.has(r.id)) add("id", "duplicate region id");
    ids.add(r.id);
    if (!(r.bandStartMHz < r.bandEndMHz)) add("bandEndMHz", `band end ${r.bandEndMHz} MHz must be above its start ${r.bandStartMHz} MHz`);
    ruleChecks(r, key, file, issues);

    const subIds = new Set<string>();
    const sorted = [...r.subBands].sort((a, b) => a.startMHz - b.startMHz);
    r.subBands.forEach((s, j) => {
      const sk = `subBands[${j}]`;
      if (subIds.has(s.id)) add(`${sk}.id`, `duplicate sub-band "${s.id}"`);
      subIds.add(s.id);
      if (!(s.startMHz < s.endMHz)) add(`${sk}.endMHz`, `sub-band ${s.id} ends (${s.endMHz} MHz) before it starts (${s.startMHz} MHz)`);
      if (s.startMHz < r.bandStartMHz || s.endMHz > r.bandEndMHz) {
        add(`${sk}.startMHz`, `sub-band ${s.id} (${s.startMHz}-${s.endMHz} MHz) lies outside the band ${r.bandStartMHz}-${r.bandEndMHz} MHz`);
      }
      ruleChecks(s, `${key}.${sk}`, file, issues);
      for (const id of s.sources) {
        if (!(id in t.references)) add(`${sk}.sources`, `unknown reference "${id}"`);
        cited.add(id);
      }
    });
    for (let j = 1; j < sorted.length; j++) {
      if (sorted[j].startMHz < sorted[j - 1].endMHz) {
        add("subBands", `sub-bands ${sorted[j - 1].id} and ${sorted[j].id} overlap`);
      }
    }

    // The default channel (default preset's bandwidth) must be usable under the region-level rules.
    const lo = r.defaultFrequencyMHz - halfBwMHz;
    const hi = r.defaultFrequencyMHz + halfBwMHz;
    const eps = 1e-9;
    if (lo < r.bandStartMHz - eps || hi > r.bandEndMHz + eps) {
      add("defaultFrequencyMHz", `the ${presets.defaultPreset} channel ${fmt(lo)}-${fmt(hi)} MHz does not fit the band ${r.bandStartMHz}-${r.bandEndMHz} MHz`);
    } else if (r.subBands.length > 0) {
      const home = r.subBands.find((s) => lo >= s.startMHz - eps && hi <= s.endMHz + eps);
      if (!home) add("defaultFrequencyMHz", `the ${presets.defaultPreset} channel ${fmt(lo)}-${fmt(hi)} MHz is not inside any sub-band`);
      else if (!sameRules(home, r)) add("maxPowerDbm", `region-level rules must equal those of sub-band ${home.id}, which holds the default channel`);
    }

    const sourced = ["bandStartMHz", "bandEndMHz", "maxPowerDbm", "powerReference", "dutyCyclePercent", "lbtRequired", ...(r.dutyCycleWindowSeconds !== null ? ["dutyCycleWindowSeconds"] : [])];
    checkProvenance(file, key, sourced, r.sources, r.unverified, t.references, cited, issues);
  });
  checkAllCited(file, t.references, cited, issues);
}

const fmt = (mhz: number) => mhz.toFixed(4).replace(/0+$/, "").replace(/\.$/, "");

/** Loads and validates hardware/regions.json (checked against presets.json in the same folder). */
export function loadRegionTable(dir = hardwareDir()): RegionTable {
  const file = path.join(dir, "regions.json");
  const presets = loadPresets(dir);
  const issues: HardwareIssue[] = [];
  const data = readJson(file, issues);
  if (data !== undefined && schemaCheck(data, file, "regions.schema.json", path.join(dir, "schema"), issues)) {
    regionChecks(data as RegionTable, presets, file, issues);
  }
  if (issues.length > 0) throw new HardwareDataError(issues);
  return data as RegionTable;
}

/** The regions of hardware/regions.json. */
export function loadRegions(dir?: string): Region[] {
  return loadRegionTable(dir).regions;
}

export function findRegion(regions: Region[], id: string): Region {
  const r = regions.find((x) => x.id === id);
  if (!r) throw new Error(`no region "${id}"; known: ${regions.map((x) => x.id).join(", ")}`);
  return r;
}

/**
 * The rules that govern a channel centred on `frequencyMHz` with the given
 * bandwidth, or null when the channel may not be used: outside the band, or
 * (for regions with sub-bands) not wholly inside one listed sub-band.
 */
export function rulesAt(region: Region, frequencyMHz: number, bandwidthKHz = 0): (RegionRules & { subBand: string | null }) | null {
  const lo = frequencyMHz - bandwidthKHz / 2000;
  const hi = frequencyMHz + bandwidthKHz / 2000;
  const eps = 1e-9;
  if (lo < region.bandStartMHz - eps || hi > region.bandEndMHz + eps) return null;
  const pick = (r: RegionRules) => Object.fromEntries(RULE_KEYS.map((k) => [k, r[k]])) as unknown as RegionRules;
  if (region.subBands.length === 0) return { ...pick(region), subBand: null };
  const s = region.subBands.find((x) => lo >= x.startMHz - eps && hi <= x.endMHz + eps);
  return s ? { ...pick(s), subBand: s.id } : null;
}

/** Highest power to program at the antenna port so that a rule is met with an antenna of the given gain. */
export function conductedLimitDbm(rule: Pick<RegionRules, "maxPowerDbm" | "powerReference">, antennaGainDbi: number): number {
  switch (rule.powerReference) {
    case "conducted":
      return rule.maxPowerDbm;
    case "eirp":
      return rule.maxPowerDbm - antennaGainDbi;
    case "erp":
      return rule.maxPowerDbm + 2.15 - antennaGainDbi; // EIRP = ERP + 2.15 dB
  }
}
