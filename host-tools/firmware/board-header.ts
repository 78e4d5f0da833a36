// Generates board_config.h for the ESP-IDF shell (firmware/esp32/) from the
// hardware data: a board profile (hardware/boards/<id>.json), a region
// (hardware/regions.json) and a LoRa preset (hardware/presets.json). Every pin
// number, the radio chip, TCXO voltage, RF switch, power limits, LED, button and
// the PMU that powers the radio (T-Beam) come from those files; nothing is copied
// by hand into C.
//
// Used by firmware/esp32/main/CMakeLists.txt through board-header-cli.ts
// (compiled to dist/host-tools/firmware/board-header-cli.js by `npm run build`).

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DEFAULT_CONFIG, encodeConfig, type NodeConfig } from "../node/protocol.js";
import {
  PIN_NAMES,
  RADIO_CHIPS,
  conductedLimitDbm,
  findPreset,
  findRegion,
  loadBoard,
  loadPresets,
  loadRegions,
  rulesAt,
  type BoardProfile,
  type PinName,
  type Preset,
  type PresetTable,
  type Region,
} from "../hardware/profiles.js";

export interface BoardHeaderOptions {
  /** Region whose default frequency and rules the node uses (hardware/regions.json). */
  region: Region;
  /** LoRa preset table (hardware/presets.json). */
  presets: PresetTable;
  /** Preset id; default: the table's default preset. */
  presetId?: string;
  /** Antenna gain in dBi used to turn the region's ERP/EIRP limit into a conducted limit (default 2.15, a half-wave dipole). */
  antennaGainDbi?: number;
  /** Mesh name put into the built-in node config (default: DEFAULT_CONFIG's). */
  meshName?: string;
  /** Node name put into the built-in node config (default: DEFAULT_CONFIG's). */
  nodeName?: string;
}

/** C macro name of each profile pin. */
export const PIN_MACROS: Readonly<Record<PinName, string>> = {
  nss: "OC_PIN_NSS",
  sck: "OC_PIN_SCK",
  mosi: "OC_PIN_MOSI",
  miso: "OC_PIN_MISO",
  reset: "OC_PIN_RESET",
  busy: "OC_PIN_BUSY",
  dio0: "OC_PIN_DIO0",
  dio1: "OC_PIN_DIO1",
  rxEnable: "OC_PIN_RX_ENABLE",
  txEnable: "OC_PIN_TX_ENABLE",
};

const CODING_RATE_DENOMINATOR: Record<string, number> = { "4/5": 5, "4/6": 6, "4/7": 7, "4/8": 8 };
/** LoRa sync words of the SX126x/SX127x drivers: private networks 0x12, LoRaWAN public 0x34. */
const SYNC_WORDS = { private: 0x12, public: 0x34 } as const;

/** Highest SX127x PA_BOOST power allowed without a duty-cycle limit (SX1276 datasheet 5.4.3). */
export const SX127X_CONTINUOUS_MAX_DBM = 17;

/** What the header says, as values (the tests and the README read these too). */
export interface BoardSettings {
  board: BoardProfile;
  preset: Preset;
  frequencyMHz: number;
  txPowerDbm: number;
  dutyCyclePermille: number;
  lbtRequired: boolean;
  nodeConfig: NodeConfig;
  nodeConfigBytes: Uint8Array;
  usbSerialJtag: boolean;
}

/** Works out the radio and node settings a board runs with in a region. */
export function boardSettings(board: BoardProfile, opts: BoardHeaderOptions): BoardSettings {
  const preset = findPreset(opts.presets, opts.presetId ?? opts.presets.defaultPreset);
  const frequencyMHz = opts.region.defaultFrequencyMHz;
  const rule = rulesAt(opts.region, frequencyMHz, preset.bandwidthKHz);
  if (!rule) {
    throw new RangeError(`the ${preset.id} channel at ${frequencyMHz} MHz is not usable in region ${opts.region.id}`);
  }
  const gain = opts.antennaGainDbi ?? 2.15;
  const regionLimit = Math.floor(conductedLimitDbm(rule, gain));
  const chip = RADIO_CHIPS[board.radio.chip];
  // SX127x PA_BOOST: +20 dBm (PA_DAC high power) is limited to a 1 % duty cycle (SX1276 datasheet
  // 5.4.3); the node may send more than that, so above 1 % it is held to +17 dBm, the continuous maximum.
  const dutyLimited = rule.dutyCyclePercent !== null && rule.dutyCyclePercent <= 1;
  const chipLimit = RADIO_CHIPS[board.radio.chip].family === "sx127x" && !dutyLimited ? SX127X_CONTINUOUS_MAX_DBM : Infinity;
  const txPowerDbm = Math.min(board.radio.maxTxPowerDbm, regionLimit, chipLimit);
  if (txPowerDbm < chip.minTxPowerDbm) {
    throw new RangeError(
      `region ${opts.region.id} allows ${regionLimit} dBm conducted with a ${gain} dBi antenna, below the ${board.radio.chip} minimum of ${chip.minTxPowerDbm} dBm`,
    );
  }
  // Percent of an hour -> per mille of a rolling hour (the node counts hours; ABI.md config offset 10).
  if (rule.dutyCyclePercent !== null && rule.dutyCycleWindowSeconds !== 3600) {
    throw new RangeError(`region ${opts.region.id}: the node counts duty cycle over an hour, not ${rule.dutyCycleWindowSeconds} s`);
  }
  const dutyCyclePermille = rule.dutyCyclePercent === null ? 0 : Math.round(rule.dutyCyclePercent * 10);
  const nodeConfig: NodeConfig = {
    ...DEFAULT_CONFIG,
    sf: preset.spreadingFactor,
    bwHz: preset.bandwidthKHz * 1000,
    cr: CODING_RATE_DENOMINATOR[preset.codingRate] - 4,
    preambleSymbols: opts.presets.preambleSymbols,
    dutyCyclePermille,
    meshName: opts.meshName ?? DEFAULT_CONFIG.meshName,
    nodeName: opts.nodeName ?? DEFAULT_CONFIG.nodeName,
    // A board talks to its laptop over the serial link: events go there (flag bit 3).
    serial: true,
  };
  return {
    board,
    preset,
    frequencyMHz,
    txPowerDbm,
    dutyCyclePermille,
    lbtRequired: rule.lbtRequired,
    nodeConfig,
    nodeConfigBytes: encodeConfig(nodeConfig),
    usbSerialJtag: board.usb.length > 0 && board.usb.every((u) => u.chip === "esp32s3-usb-serial-jtag"),
  };
}

const cString = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
const cFloat = (x: number) => (Number.isInteger(x) ? `${x}.0f` : `${x}f`);
const hex = (b: number) => `0x${b.toString(16).padStart(2, "0")}`;

/** The text of board_config.h for one board in one region. */
export function boardHeader(board: BoardProfile, opts: BoardHeaderOptions): string {
  const s = boardSettings(board, opts);
  const r = board.radio;
  const lines: string[] = [];
  const def = (name: string, value: string | number, comment?: string) =>
    lines.push(`#define ${name} ${value}${comment ? ` /* ${comment} */` : ""}`);

  lines.push(
    "/* board_config.h: generated by host-tools/firmware/board-header.ts. Do not edit. */",
    `/* board ${board.id} (${board.name}), region ${opts.region.id}, preset ${s.preset.id} */`,
    "#pragma once",
    "",
  );
  def("OC_BOARD_ID", cString(board.id));
  def("OC_BOARD_NAME", cString(board.name));
  def("OC_REGION_ID", cString(opts.region.id));
  def("OC_BOARD_IDF_TARGET", cString(board.mcu.chip));
  def(board.mcu.chip === "esp32" ? "OC_BOARD_MCU_ESP32" : "OC_BOARD_MCU_ESP32S3", 1);
  lines.push("");

  lines.push("/* Radio */");
  def(r.chip === "sx1262" ? "OC_RADIO_SX1262" : "OC_RADIO_SX1276", 1);
  def("OC_RADIO_FAMILY_SX126X", RADIO_CHIPS[r.chip].family === "sx126x" ? 1 : 0);
  def("OC_RADIO_MAX_TX_DBM", r.maxTxPowerDbm, "what the board's radio path can be programmed to");
  def("OC_RADIO_TCXO", r.tcxoVoltage === null ? 0 : 1);
  def("OC_RADIO_TCXO_VOLTAGE", cFloat(r.tcxoVoltage ?? 0), "DIO3 TCXO supply; 0 = crystal");
  def("OC_RF_SWITCH_DIO2", r.rfSwitch === "dio2" || r.rfSwitch === "dio2+gpio" ? 1 : 0);
  def("OC_RF_SWITCH_GPIO", r.rfSwitch === "gpio" || r.rfSwitch === "dio2+gpio" ? 1 : 0);
  lines.push("");

  lines.push("/* Pins (GPIO numbers) */");
  for (const name of PIN_NAMES) {
    const gpio = board.pins[name];
    if (gpio !== undefined) def(PIN_MACROS[name], gpio);
  }
  def("OC_HAS_LED", board.led === null ? 0 : 1);
  if (board.led !== null) def("OC_PIN_LED", board.led);
  def("OC_HAS_BUTTON", board.button === null ? 0 : 1);
  if (board.button !== null) def("OC_PIN_BUTTON", board.button);
  lines.push("");

  if (board.pmu) {
    // Only boards with a PMU get this block: firmware/esp32/main/pmu.c is compiled to a no-op without OC_HAS_PMU.
    const pmu = board.pmu;
    lines.push("/* PMU: the power-management chip that feeds the radio (probed by chip id, firmware/esp32/main/pmu.c) */");
    def("OC_HAS_PMU", 1);
    def("OC_PMU_I2C_ADDR", hex(pmu.i2cAddress), "7-bit address");
    def("OC_PMU_PIN_SDA", pmu.sda);
    def("OC_PMU_PIN_SCL", pmu.scl);
    def("OC_PMU_RADIO_MV", pmu.radioMillivolts, "radio rail voltage");
    for (const c of pmu.chips) {
      if (c.chip === "axp192") def("OC_PMU_AXP192_RADIO_LDO", Number(c.radioRail.slice(3)), `AXP192 ${c.radioRail.toUpperCase()}`);
      else def("OC_PMU_AXP2101_RADIO_ALDO", Number(c.radioRail.slice(4)), `AXP2101 ${c.radioRail.toUpperCase()}`);
    }
    lines.push("");
  }

  lines.push("/* Serial link: the ESP32-S3 USB-Serial/JTAG, or UART0 behind a USB bridge */");
  def("OC_SERIAL_USB_JTAG", s.usbSerialJtag ? 1 : 0);
  lines.push("");

  lines.push("/* LoRa channel */");
  def("OC_LORA_FREQ_MHZ", cFloat(s.frequencyMHz));
  def("OC_LORA_BW_KHZ", cFloat(s.preset.bandwidthKHz));
  def("OC_LORA_SF", s.preset.spreadingFactor);
  def("OC_LORA_CR_DENOM", CODING_RATE_DENOMINATOR[s.preset.codingRate], `coding rate ${s.preset.codingRate}`);
  def("OC_LORA_PREAMBLE", opts.presets.preambleSymbols);
  def("OC_LORA_SYNC_WORD", hex(SYNC_WORDS[opts.presets.syncWord]), `${opts.presets.syncWord} network`);
  def("OC_TX_POWER_DBM", s.txPowerDbm, `min(board, region limit with a ${opts.antennaGainDbi ?? 2.15} dBi antenna${board.radio.chip === "sx1276" ? ", SX127x continuous limit" : ""})`);
  def("OC_REGION_LBT_REQUIRED", s.lbtRequired ? 1 : 0);
  lines.push("");

  lines.push("/* Built-in node_init config (firmware/ABI.md, version 1); a stored `config` replaces it */");
  def("OC_NODE_CONFIG_LEN", s.nodeConfigBytes.length);
  def("OC_NODE_CONFIG_BYTES", `{ ${Array.from(s.nodeConfigBytes, hex).join(", ")} }`);
  lines.push("");
  return lines.join("\n");
}

/** Loads the named board, region and preset from hardware/ and writes the header to `outFile`. */
export function writeBoardHeader(args: { boardId: string; regionId: string; presetId?: string; antennaGainDbi?: number; outFile: string }): string {
  const board = loadBoard(args.boardId);
  const region = findRegion(loadRegions(), args.regionId);
  const text = boardHeader(board, { region, presets: loadPresets(), presetId: args.presetId, antennaGainDbi: args.antennaGainDbi });
  mkdirSync(path.dirname(args.outFile), { recursive: true });
  let old: string | undefined;
  try { old = readFileSync(args.outFile, "utf8"); } catch { /* absent */ }
  // Leave an unchanged header alone so the build does not recompile for nothing.
  if (old !== text) writeFileSync(args.outFile, text);
  return text;
}

/** Command-line arguments of board-header-cli: splits them into the three positional ones and the named options. */
export function parseBoardHeaderArgs(argv: string[]): { boardId: string; regionId: string; outFile: string; presetId?: string; antennaGainDbi?: number } {
  const positional: string[] = [];
  let presetId: string | undefined;
  let antennaGainDbi: number | undefined;
  for (const a of argv) {
    if (a.startsWith("--preset=")) presetId = a.slice("--preset=".length) || undefined;
    else if (a.startsWith("--antenna-gain=")) {
      const v = a.slice("--antenna-gain=".length);
      antennaGainDbi = Number(v);
      if (v === "" || !Number.isFinite(antennaGainDbi)) throw new RangeError(`antenna gain "${v}" is not a number`);
    } else if (a.startsWith("--")) throw new RangeError(`unknown option ${a}`);
    else positional.push(a);
  }
  if (positional.length !== 3) throw new RangeError("expected <board-id> <region-id> <out-file>");
  const [boardId, regionId, outFile] = positional;
  return { boardId, regionId, outFile, presetId, antennaGainDbi };
}
