// LoRa time on air (Semtech AN1200.13, "LoRa Modem Designer's Guide", §4),
// as written out in shared/reference/lora-phy.md:
//
//   Tsym      = 2^SF / BW
//   Tpreamble = (Npreamble + 4.25) * Tsym
//   DE        = 1 when Tsym > 16 ms (low-data-rate optimisation), else 0
//   Npayload  = 8 + max(ceil((8*PL - 4*SF + 28 + 16*CRC - 20*IH) / (4*(SF - 2*DE))) * (CR + 4), 0)
//   Tpacket   = Tpreamble + Npayload * Tsym
//
// Outcaxt always sends with an explicit header (IH = 0) and the payload CRC on
// (CRC = 1). All arithmetic is integer: the packet length is first counted in
// quarter symbols (the 4.25 preamble tail is 17/4), then converted to
// microseconds with one rounding up, so the result is exact whenever 2^SF * 1e6
// is a multiple of 4 * BW (every SF at 125, 250 and 500 kHz) and never short
// otherwise. Invalid parameters give -1; nothing traps.
//
// No state, no memory.

/** Lowest spreading factor we support. SX126x SF5/SF6 count symbols differently (lora-phy.md). */
export const LORA_SF_MIN: i32 = 7;
/** Highest spreading factor of the SX127x/SX126x modems. */
export const LORA_SF_MAX: i32 = 12;
/** Narrowest LoRa bandwidth of the SX127x/SX126x (7.8 kHz); the presets use 125/250/500 kHz. */
export const LORA_BW_MIN_HZ: i32 = 7800;
/** Widest LoRa bandwidth of the SX127x/SX126x. */
export const LORA_BW_MAX_HZ: i32 = 500000;
/** Coding rate index as in AN1200.13: 1..4 mean 4/5..4/8. */
export const LORA_CR_MIN: i32 = 1;
export const LORA_CR_MAX: i32 = 4;
/** Programmable preamble length range of the SX1276 (RegPreambleMsb/Lsb, datasheet §4.1.1.6). */
export const LORA_PREAMBLE_MIN_SYMBOLS: i32 = 6;
export const LORA_PREAMBLE_MAX_SYMBOLS: i32 = 65535;
/** Largest LoRa payload: the length field of the explicit header is one byte. */
export const LORA_PAYLOAD_MAX_BYTES: i32 = 255;
/** AN1200.13: the low-data-rate optimisation is on when a symbol lasts longer than 16 ms. */
export const LORA_LDRO_SYMBOL_US: i64 = 16000;

/** IH: 0 = explicit header (always, in Outcaxt). */
const IMPLICIT_HEADER: i32 = 0;
/** CRC: 1 = payload CRC on (always, in Outcaxt). */
const PAYLOAD_CRC: i32 = 1;
/** The fixed part of the preamble after the programmed symbols, in quarter symbols (4.25 * 4). */
const PREAMBLE_TAIL_QUARTERS: i64 = 17;
const US_PER_S: i64 = 1000000;

// @ts-ignore: decorator
@inline
function validModulation(sf: i32, bwHz: i32): bool {
  return sf >= LORA_SF_MIN && sf <= LORA_SF_MAX && bwHz >= LORA_BW_MIN_HZ && bwHz <= LORA_BW_MAX_HZ;
}

/**
 * Duration of one LoRa symbol, 2^SF / BW, in microseconds rounded up.
 * Exact for 125/250/500 kHz. -1 when SF or BW is out of range.
 */
export function symbolTimeUs(sf: i32, bwHz: i32): i64 {
  if (!validModulation(sf, bwHz)) return -1;
  const num = (<i64>1 << sf) * US_PER_S;
  return (num + <i64>bwHz - 1) / <i64>bwHz;
}

/**
 * True when the modem must use the low-data-rate optimisation (DE = 1):
 * Tsym > 16 ms, i.e. 2^SF * 1e6 > 16000 * BW with BW in Hz (exact, no rounding). In practice SF11/SF12
 * at 125 kHz and SF12 at 250 kHz. False for invalid parameters.
 */
export function lowDataRateOptimize(sf: i32, bwHz: i32): bool {
  if (!validModulation(sf, bwHz)) return false;
  return (<i64>1 << sf) * US_PER_S > LORA_LDRO_SYMBOL_US * <i64>bwHz;
}

/**
 * Number of payload symbols Npayload (header, payload, CRC) for `payloadBytes` bytes,
 * AN1200.13 with IH = 0 and CRC = 1. -1 for invalid parameters.
 */
export function payloadSymbols(payloadBytes: i32, sf: i32, bwHz: i32, cr: i32): i32 {
  if (!validModulation(sf, bwHz)) return -1;
  if (payloadBytes < 0 || payloadBytes > LORA_PAYLOAD_MAX_BYTES) return -1;
  if (cr < LORA_CR_MIN || cr > LORA_CR_MAX) return -1;
  const de: i32 = lowDataRateOptimize(sf, bwHz) ? 1 : 0;
  const num = 8 * payloadBytes - 4 * sf + 28 + 16 * PAYLOAD_CRC - 20 * IMPLICIT_HEADER;
  const den = 4 * (sf - 2 * de);          // >= 4 * (7 - 2) = 20, never zero
  const blocks = num > 0 ? (num + den - 1) / den : 0;   // max(ceil(num / den), 0)
  return 8 + blocks * (cr + 4);
}

/**
 * Time on air of one frame of `payloadBytes` bytes (0..255) in microseconds,
 * rounded up. `cr` is 1..4 for 4/5..4/8, `preambleSymbols` the programmed preamble
 * length (Outcaxt presets: 16, hardware/presets.json). -1 for invalid parameters.
 * Check values (lora-phy.md): SF11/BW250/CR1/16 symbols, 50 B = 641024 us,
 * 255 B = 2156544 us.
 */
export function airtimeUs(payloadBytes: i32, sf: i32, bwHz: i32, cr: i32, preambleSymbols: i32): i64 {
  if (preambleSymbols < LORA_PREAMBLE_MIN_SYMBOLS || preambleSymbols > LORA_PREAMBLE_MAX_SYMBOLS) return -1;
  const nPayload = payloadSymbols(payloadBytes, sf, bwHz, cr);
  if (nPayload < 0) return -1;
  // Tpacket in quarter symbols: 4 * Npreamble + 17 + 4 * Npayload (at most about 2^18).
  const quarters = 4 * <i64>preambleSymbols + PREAMBLE_TAIL_QUARTERS + 4 * <i64>nPayload;
  const num = quarters * (<i64>1 << sf) * US_PER_S;   // below 2^51: no overflow
  const den = 4 * <i64>bwHz;
  return (num + den - 1) / den;
}

/** airtimeUs rounded up to whole milliseconds (what the duty-cycle ledger counts). -1 if invalid. */
export function airtimeMs(payloadBytes: i32, sf: i32, bwHz: i32, cr: i32, preambleSymbols: i32): i32 {
  const us = airtimeUs(payloadBytes, sf, bwHz, cr, preambleSymbols);
  if (us < 0) return -1;
  return <i32>((us + 999) / 1000);
}
