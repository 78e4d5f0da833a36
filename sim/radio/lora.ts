// LoRa physical-layer facts used by the simulated medium
// (shared/reference/lora-phy.md; each constant names its source).
import { findPreset, loadPresets } from "../../host-tools/hardware/profiles.js";

/** LoRa modulation of a radio. */
export type Modulation = {
  /** Spreading factor 7..12. */
  sf: number;
  /** Bandwidth in Hz: 125000, 250000 or 500000. */
  bwHz: number;
  /** Coding rate index 1..4 for 4/5..4/8 (AN1200.13). */
  cr: number;
  /** Programmed preamble length in symbols. */
  preambleSymbols: number;
  /** Explicit header (true, Outcaxt always) or implicit. */
  explicitHeader?: boolean;
  /** Payload CRC on (true, Outcaxt always). */
  crc?: boolean;
};

/** Supported spreading factors (lora-phy.md: SX126x SF5/SF6 count symbols differently). */
export const SF_MIN = 7;
export const SF_MAX = 12;
/** Bandwidths of the sensitivity table (LoRaSim Table 3). */
export const BANDWIDTHS_HZ = [125_000, 250_000, 500_000] as const;
/** AN1200.13: low-data-rate optimisation when a symbol lasts longer than 16 ms. */
export const LDRO_SYMBOL_MS = 16;
/** AN1200.13: the modem adds 4.25 symbols to the programmed preamble. */
export const PREAMBLE_EXTRA_SYMBOLS = 4.25;

/**
 * Meshtastic's LongFast (lora-phy.md "Presets", hardware/presets.json):
 * SF11, 250 kHz, CR 4/5, 16-symbol preamble.
 */
export const LONG_FAST: Readonly<Modulation> = Object.freeze({ sf: 11, bwHz: 250_000, cr: 1, preambleSymbols: 16 });

function checkModulation(m: Modulation): void {
  if (!Number.isInteger(m.sf) || m.sf < SF_MIN || m.sf > SF_MAX) throw new RangeError(`spreading factor ${m.sf} outside ${SF_MIN}..${SF_MAX}`);
  if (!(m.bwHz > 0)) throw new RangeError(`bandwidth ${m.bwHz} Hz`);
  if (!Number.isInteger(m.cr) || m.cr < 1 || m.cr > 4) throw new RangeError(`coding rate index ${m.cr} outside 1..4`);
  if (!(m.preambleSymbols >= 6)) throw new RangeError(`preamble ${m.preambleSymbols} symbols (at least 6)`);
}

/** Modulation of a preset of hardware/presets.json ("LongFast" when omitted: the file's default). */
export function presetModulation(id?: string): Modulation {
  const table = loadPresets();
  const p = findPreset(table, id);
  const cr = Number(p.codingRate.split("/")[1]) - 4;
  return { sf: p.spreadingFactor, bwHz: p.bandwidthKHz * 1000, cr, preambleSymbols: table.preambleSymbols };
}

/** Symbol duration 2^SF / BW in ms (AN1200.13). */
export function symbolTimeMs(sf: number, bwHz: number): number {
  return (2 ** sf / bwHz) * 1000;
}

/** Whether the low-data-rate optimisation is on (AN1200.13: Tsym > 16 ms). */
export function lowDataRateOptimize(sf: number, bwHz: number): boolean {
  return symbolTimeMs(sf, bwHz) > LDRO_SYMBOL_MS;
}

/** Preamble duration (programmed symbols + 4.25) in ms. */
export function preambleTimeMs(m: Modulation): number {
  return (m.preambleSymbols + PREAMBLE_EXTRA_SYMBOLS) * symbolTimeMs(m.sf, m.bwHz);
}

/** Symbols after the preamble (header + payload) for `payloadBytes` bytes (AN1200.13). */
export function payloadSymbols(payloadBytes: number, m: Modulation): number {
  checkModulation(m);
  if (!Number.isInteger(payloadBytes) || payloadBytes < 0 || payloadBytes > 255) throw new RangeError(`payload ${payloadBytes} bytes outside 0..255`);
  const de = lowDataRateOptimize(m.sf, m.bwHz) ? 1 : 0;
  const ih = m.explicitHeader === false ? 1 : 0;
  const crc = m.crc === false ? 0 : 1;
  const num = 8 * payloadBytes - 4 * m.sf + 28 + 16 * crc - 20 * ih;
  return 8 + Math.max(Math.ceil(num / (4 * (m.sf - 2 * de))) * (m.cr + 4), 0);
}

/** Time on air of a `payloadBytes`-byte frame in ms (Semtech AN1200.13). */
export function airtimeMs(payloadBytes: number, m: Modulation): number {
  return preambleTimeMs(m) + payloadSymbols(payloadBytes, m) * symbolTimeMs(m.sf, m.bwHz);
}

/**
 * Receiver sensitivity in dBm, SX1276-class, LoRaSim Table 3 (Bor et al., MSWiM 2016),
 * as copied in lora-phy.md. Rows SF7..SF12; columns 125, 250, 500 kHz.
 */
export const SENSITIVITY_TABLE_DBM: Readonly<Record<number, Readonly<Record<number, number>>>> = Object.freeze({
  7: { 125_000: -126.5, 250_000: -124.25, 500_000: -120.75 },
  8: { 125_000: -127.25, 250_000: -126.75, 500_000: -124.0 },
  9: { 125_000: -131.25, 250_000: -128.25, 500_000: -127.5 },
  10: { 125_000: -132.75, 250_000: -130.25, 500_000: -128.75 },
  11: { 125_000: -134.5, 250_000: -132.75, 500_000: -128.75 },
  12: { 125_000: -133.25, 250_000: -132.25, 500_000: -132.25 },
});

/** Sensitivity from the table; throws for a combination the table does not have. */
export function sensitivityDbm(sf: number, bwHz: number): number {
  const v = SENSITIVITY_TABLE_DBM[sf]?.[bwHz];
  if (v === undefined) throw new RangeError(`no sensitivity for SF${sf} at ${bwHz} Hz (table: SF7..12 at 125/250/500 kHz)`);
  return v;
}

/** Thermal noise density at 290 K, dBm/Hz (lora-phy.md: -174 + 10 log10(BW) + NF). */
export const THERMAL_NOISE_DBM_PER_HZ = -174;
/** Receiver noise figure (lora-phy.md: "NF about 6 dB"; Meshtasticator's sensitivities use 6 dB too). */
export const NOISE_FIGURE_DB = 6;

/** Demodulation floor SNR per SF (lora-phy.md / SX1276 datasheet: -7.5 dB at SF7, 2.5 dB lower per SF step). */
export const SNR_MIN_DB: Readonly<Record<number, number>> = Object.freeze({ 7: -7.5, 8: -10, 9: -12.5, 10: -15, 11: -17.5, 12: -20 });

export function snrMinDb(sf: number): number {
  const v = SNR_MIN_DB[sf];
  if (v === undefined) throw new RangeError(`no SNR floor for SF${sf}`);
  return v;
}

/** Thermal noise floor of the receiver in dBm: -174 + 10 log10(BW) + NF. */
export function thermalNoiseDbm(bwHz: number, noiseFigureDb = NOISE_FIGURE_DB): number {
  return THERMAL_NOISE_DBM_PER_HZ + 10 * Math.log10(bwHz) + noiseFigureDb;
}

/** Closed-form sensitivity (lora-phy.md): thermal noise floor + SNR floor. */
export function closedFormSensitivityDbm(sf: number, bwHz: number, noiseFigureDb = NOISE_FIGURE_DB): number {
  return thermalNoiseDbm(bwHz, noiseFigureDb) + snrMinDb(sf);
}

/** Sum of two powers given in dBm (incoherent: the linear powers add). */
export function addPowersDbm(aDbm: number, bDbm: number): number {
  if (aDbm === -Infinity) return bDbm;
  if (bDbm === -Infinity) return aDbm;
  const hi = Math.max(aDbm, bDbm), lo = Math.min(aDbm, bDbm);
  return hi + 10 * Math.log10(1 + 10 ** ((lo - hi) / 10));
}

/** Capture threshold: the stronger of two colliding frames survives when at least this much stronger (LoRaSim). */
export const CAPTURE_THRESHOLD_DB = 6;
/**
 * Preamble symbols a receiver needs to lock (LoRaSim): an overlap confined to the first
 * (Npreamble - 5) symbols of the frame being received does not harm it.
 */
export const PREAMBLE_LOCK_SYMBOLS = 5;
/** Channel-activity detection reaches this far below sensitivity (lora-phy.md, Meshtasticator's choice). */
export const CAD_MARGIN_DB = 3;

/** Centre frequencies closer than this interfere (LoRaSim: 30/60/120 kHz at 125/250/500 kHz). */
export function frequencyCollisionHz(bwHz: number): number {
  if (bwHz >= 500_000) return 120_000;
  if (bwHz >= 250_000) return 60_000;
  return 30_000;
}

/**
 * Start of the critical section of a frame in ms from its start: the first
 * (Npreamble - 5) symbols may overlap another frame without harm (LoRaSim).
 */
export function criticalSectionOffsetMs(m: Modulation): number {
  return Math.max(0, m.preambleSymbols - PREAMBLE_LOCK_SYMBOLS) * symbolTimeMs(m.sf, m.bwHz);
}
