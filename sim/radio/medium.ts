// The shared radio channel: who hears which frame, at what power, and which
// frames are destroyed by collisions or by the half-duplex rule.
//
// Link power. For a frame from A heard at B:
//   rxPowerDbm = txPowerDbm(A) + antennaGainDbi(A) + antennaGainDbi(B)
//                - pathLossDb(distance, heights) - shadowingDb(A,B) - linkOffsetDb(A->B)
// shadowingDb ~ N(0, model.shadowingSigmaDb) is drawn once per unordered pair (the
// same both ways); linkOffsetDb ~ N(0, linkOffsetSigmaDb) once per ordered pair,
// so links are asymmetric as in Meshtastic's simulator (anchors.md). Both come
// from streams derived from the seed and the pair, never from call order.
//
// Reception (lora-phy.md, LoRaSim rules):
// - B starts receiving A when B is not transmitting, is tuned to A's SF, bandwidth
//   and channel, and rxPowerDbm >= sensitivity(SF, BW) + noise rise, where the noise
//   rise is how far external interference lifts B's noise floor above the thermal one.
// - Critical section of A: from (Npreamble - 5) symbols after its start to its end.
// - Collision: another frame C with the same SF on a channel within 30/60/120 kHz
//   (BW 125/250/500) that is on air during A's critical section destroys A at B unless
//   A is at least 6 dB stronger than C at B (capture). Pairwise, as in LoRaSim.
// - Half-duplex: B transmitting during A's critical section loses A.
// - A surviving frame is delivered at its end with rssiDbm and snrDb = rssiDbm - noise floor.
// Channel activity detection: B senses a frame once it has been on air for the CAD
// duration, while it is on air, when rxPowerDbm >= effective sensitivity - 3 dB.
import { Rng, type SeedPart } from "../engine/random.js";
import type { Scheduler } from "../engine/scheduler.js";
import {
  CAD_MARGIN_DB, CAPTURE_THRESHOLD_DB, LONG_FAST, NOISE_FIGURE_DB, type Modulation, addPowersDbm, airtimeMs,
  criticalSectionOffsetMs, frequencyCollisionHz, sensitivityDbm, symbolTimeMs, thermalNoiseDbm,
} from "./lora.js";
import type { PathLossModel } from "./pathloss.js";

export type Position = { xM: number; yM: number };

export type RadioOptions = {
  position: Position;
  /** Antenna height above ground, m. */
  heightM?: number;
  /** Conducted output power, dBm. */
  txPowerDbm?: number;
  antennaGainDbi?: number;
  noiseFigureDb?: number;
  /** Centre frequency, Hz. */
  frequencyHz?: number;
  modulation?: Modulation;
};

export type Radio = Required<RadioOptions> & { index: number };

/**
 * Defaults. SX1262 boards transmit at most 22 dBm (hardware/boards/heltec-wifi-lora-32-v3.json
 * radio.maxTxPowerDbm); 0 dBi antennas and 1 m-class heights as in Meshtasticator's config
 * (GL = 0, HM = 1 m; 1.5 m here, a hand-held or window-sill node); EU868 g3 default channel
 * 869.525 MHz (hardware/regions.json); LongFast (hardware/presets.json).
 */
export const DEFAULT_TX_POWER_DBM = 22;
export const DEFAULT_ANTENNA_GAIN_DBI = 0;
export const DEFAULT_HEIGHT_M = 1.5;
export const DEFAULT_FREQUENCY_HZ = 869_525_000;
/** Per-link asymmetric offset sigma (Meshtastic's simulator: N(0, 3 dB), anchors.md). */
export const DEFAULT_LINK_OFFSET_SIGMA_DB = 3;
/**
 * Symbols a CAD needs before it can see a frame. The SX126x runs CAD over 1, 2, 4, 8 or
 * 16 symbols (SX1261/2 datasheet, SetCadParams cadSymbolNum); 2 is used here.
 */
export const DEFAULT_CAD_SYMBOLS = 2;

export type MediumOptions = {
  seed: SeedPart;
  pathLoss: PathLossModel;
  linkOffsetSigmaDb?: number;
  /** External interference power in the channel at every radio, dBm (null = none). */
  interferenceDbm?: number | null;
  cadSymbols?: number;
  /** Defaults for radios added without their own values. */
  defaults?: Omit<RadioOptions, "position">;
  /** Keep a log of every transmission and reception outcome (for tests and traces). */
  log?: boolean;
};

export type LossReason = "collision" | "half-duplex";

export type Transmission = {
  id: number;
  from: number;
  payload: Uint8Array;
  startMs: number;
  endMs: number;
  /** Start of the critical section: startMs + (Npreamble - 5) symbols. */
  criticalStartMs: number;
  modulation: Modulation;
  frequencyHz: number;
  receptions: Reception[];
};

export type Reception = {
  tx: Transmission;
  to: number;
  rssiDbm: number;
  lost: LossReason | null;
  /** Transmissions that destroyed it (collision) or the receiver's own (half-duplex). */
  by: number[];
};

export type MediumLogRecord =
  | { kind: "tx"; atMs: number; tx: number; from: number; bytes: number; endMs: number }
  | { kind: "rx"; atMs: number; tx: number; to: number; rssiDbm: number; snrDb: number }
  | { kind: "lost"; atMs: number; tx: number; to: number; reason: LossReason; rssiDbm: number; by: number[] };

export interface MediumListener {
  /** A frame arrived intact at radio `to`. */
  onReceive?(to: number, tx: Transmission, rssiDbm: number, snrDb: number): void;
  /** A frame that radio `to` had started receiving was lost. */
  onLost?(to: number, tx: Transmission, reason: LossReason): void;
  /** Radio `tx.from` finished sending `tx`. */
  onTransmitEnd?(tx: Transmission): void;
}

export type MediumStats = {
  transmissions: number;
  airtimeMs: number;
  received: number;
  lostCollision: number;
  lostHalfDuplex: number;
};

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function overlaps(aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  return aStart < bEnd && aEnd > bStart;
}

export class Medium {
  readonly radios: Radio[] = [];
  readonly log: MediumLogRecord[] = [];
  readonly stats: MediumStats = { transmissions: 0, airtimeMs: 0, received: 0, lostCollision: 0, lostHalfDuplex: 0 };
  listener: MediumListener = {};
  readonly pathLoss: PathLossModel;
  readonly linkOffsetSigmaDb: number;
  readonly cadSymbols: number;
  private readonly seed: SeedPart;
  private readonly keepLog: boolean;
  private readonly defaults: Required<Omit<RadioOptions, "position">>;
  private globalInterferenceDbm: number | null;
  private readonly interference: (number | null | undefined)[] = [];
  private readonly active: Transmission[] = [];
  private readonly sending: (Transmission | null)[] = [];
  private readonly pending: Reception[][] = [];
  private readonly linkCache = new Map<number, number>();
  private nextTxId = 0;

  constructor(readonly scheduler: Scheduler, opts: MediumOptions) {
    this.seed = opts.seed;
    this.pathLoss = opts.pathLoss;
    this.linkOffsetSigmaDb = opts.linkOffsetSigmaDb ?? DEFAULT_LINK_OFFSET_SIGMA_DB;
    this.cadSymbols = opts.cadSymbols ?? DEFAULT_CAD_SYMBOLS;
    this.globalInterferenceDbm = opts.interferenceDbm ?? null;
    this.keepLog = opts.log ?? false;
    this.defaults = {
      heightM: DEFAULT_HEIGHT_M, txPowerDbm: DEFAULT_TX_POWER_DBM, antennaGainDbi: DEFAULT_ANTENNA_GAIN_DBI,
      noiseFigureDb: NOISE_FIGURE_DB, frequencyHz: DEFAULT_FREQUENCY_HZ, modulation: LONG_FAST,
      ...opts.defaults,
    };
  }

  get nowMs(): number { return this.scheduler.nowMs; }

  addRadio(opts: RadioOptions): number {
    if (this.radios.length >= 65536) throw new RangeError("at most 65536 radios");
    const index = this.radios.length;
    const r: Radio = { ...this.defaults, ...opts, index };
    sensitivityDbm(r.modulation.sf, r.modulation.bwHz); // throws for an unsupported modulation
    this.radios.push(r);
    this.sending.push(null);
    this.pending.push([]);
    this.interference.push(undefined);
    return index;
  }

  /** Moves a radio; the shadowing and link offsets drawn for its links stay the same. */
  moveRadio(radio: number, position: Position): void {
    this.radios[radio].position = { ...position };
    this.linkCache.clear();
  }

  distanceM(a: number, b: number): number {
    const p = this.radios[a].position, q = this.radios[b].position;
    return Math.hypot(p.xM - q.xM, p.yM - q.yM);
  }

  /** Mean received power of a frame from `from` at `to`, dBm (static: path loss, shadowing, link offset). */
  rxPowerDbm(from: number, to: number): number {
    const key = from * 65536 + to;
    let p = this.linkCache.get(key);
    if (p === undefined) {
      const a = this.radios[from], b = this.radios[to];
      const pl = this.pathLoss.pathLossDb(this.distanceM(from, to), a.heightM, b.heightM);
      const lo = Math.min(from, to), hi = Math.max(from, to);
      const shadow = this.pathLoss.shadowingSigmaDb > 0 ? new Rng(this.seed, "shadowing", lo, hi).normal(0, this.pathLoss.shadowingSigmaDb) : 0;
      const offset = this.linkOffsetSigmaDb > 0 ? new Rng(this.seed, "link-offset", from, to).normal(0, this.linkOffsetSigmaDb) : 0;
      p = a.txPowerDbm + a.antennaGainDbi + b.antennaGainDbi - pl - shadow - offset;
      this.linkCache.set(key, p);
    }
    return p;
  }

  /** External interference at every radio without its own setting (null = none). */
  setInterference(dBm: number | null): void { this.globalInterferenceDbm = dBm; }

  /** External interference at one radio (null = none, undefined = follow the global level). */
  setRadioInterference(radio: number, dBm: number | null | undefined): void { this.interference[radio] = dBm; }

  interferenceDbm(radio: number): number | null {
    const own = this.interference[radio];
    return own === undefined ? this.globalInterferenceDbm : own;
  }

  /** Thermal noise floor of the radio, dBm. */
  thermalNoiseDbm(radio: number): number {
    const r = this.radios[radio];
    return thermalNoiseDbm(r.modulation.bwHz, r.noiseFigureDb);
  }

  /** Noise floor including external interference, dBm. */
  noiseFloorDbm(radio: number): number {
    const i = this.interferenceDbm(radio);
    const n = this.thermalNoiseDbm(radio);
    return i === null ? n : addPowersDbm(n, i);
  }

  /** Sensitivity from the table, raised by as much as interference raises the noise floor. */
  sensitivityDbm(radio: number): number {
    const r = this.radios[radio];
    return sensitivityDbm(r.modulation.sf, r.modulation.bwHz) + (this.noiseFloorDbm(radio) - this.thermalNoiseDbm(radio));
  }

  /** Lowest power channel-activity detection senses: sensitivity - 3 dB. */
  cadThresholdDbm(radio: number): number { return this.sensitivityDbm(radio) - CAD_MARGIN_DB; }

  /** Whether `to` can decode `from` when nothing else is on air. */
  canHear(from: number, to: number): boolean {
    return from !== to && this.tunedTo(to, this.radios[from].modulation, this.radios[from].frequencyHz)
      && this.rxPowerDbm(from, to) >= this.sensitivityDbm(to);
  }

  transmitting(radio: number): boolean { return this.sending[radio] !== null; }

  /** Transmissions on air now. */
  onAir(): readonly Transmission[] { return this.active; }

  /** Channel activity detection at `radio` now: a frame on its channel it can sense. */
  channelActive(radio: number): boolean { return this.sensed(radio).length > 0; }

  /** End of the last frame `radio` senses now (now when the channel is clear). */
  channelBusyUntilMs(radio: number): number {
    let until = this.nowMs;
    for (const t of this.sensed(radio)) until = Math.max(until, t.endMs);
    return until;
  }

  private sensed(radio: number): Transmission[] {
    const r = this.radios[radio];
    const cadMs = this.cadSymbols * symbolTimeMs(r.modulation.sf, r.modulation.bwHz);
    const threshold = this.cadThresholdDbm(radio);
    const now = this.nowMs;
    return this.active.filter((t) => t.from !== radio && t.startMs + cadMs <= now && now < t.endMs
      && this.tunedTo(radio, t.modulation, t.frequencyHz) && this.rxPowerDbm(t.from, radio) >= threshold);
  }

  private tunedTo(radio: number, m: Modulation, frequencyHz: number): boolean {
    const r = this.radios[radio];
    return r.modulation.sf === m.sf && r.modulation.bwHz === m.bwHz
      && Math.abs(r.frequencyHz - frequencyHz) <= frequencyCollisionHz(m.bwHz);
  }

  /** Two frames interfere: same SF, centre frequencies within 30/60/120 kHz (LoRaSim). */
  private interfere(a: Transmission, b: Transmission): boolean {
    return a.modulation.sf === b.modulation.sf
      && Math.abs(a.frequencyHz - b.frequencyHz) <= frequencyCollisionHz(Math.max(a.modulation.bwHz, b.modulation.bwHz));
  }

  private lose(rec: Reception, reason: LossReason, by: number): void {
    if (rec.lost === null) rec.lost = reason; // the first cause is the one reported
    rec.by.push(by);
  }

  /** Starts sending `payload` from `radio` now; null when the radio is already transmitting. */
  transmit(radio: number, payload: Uint8Array): Transmission | null {
    if (this.sending[radio] !== null) return null;
    const r = this.radios[radio];
    const now = this.nowMs;
    const m = r.modulation;
    const air = airtimeMs(payload.length, m);
    const tx: Transmission = {
      id: this.nextTxId++, from: radio, payload: payload.slice(), startMs: now, endMs: now + air,
      criticalStartMs: now + criticalSectionOffsetMs(m), modulation: m, frequencyHz: r.frequencyHz, receptions: [],
    };
    // Half-duplex: what the sender was receiving is lost if we now cover its critical section.
    for (const rec of this.pending[radio]) {
      if (overlaps(tx.startMs, tx.endMs, rec.tx.criticalStartMs, rec.tx.endMs)) this.lose(rec, "half-duplex", tx.id);
    }
    for (let to = 0; to < this.radios.length; to++) {
      if (to === radio) continue;
      const pNew = this.rxPowerDbm(radio, to);
      // The new frame against frames `to` is already receiving.
      for (const rec of this.pending[to]) {
        if (!this.interfere(tx, rec.tx)) continue;
        if (overlaps(tx.startMs, tx.endMs, rec.tx.criticalStartMs, rec.tx.endMs) && rec.rssiDbm - pNew < CAPTURE_THRESHOLD_DB) {
          this.lose(rec, "collision", tx.id);
        }
      }
      // Does `to` start receiving the new frame, and is it already doomed?
      if (!this.tunedTo(to, m, r.frequencyHz) || pNew < this.sensitivityDbm(to)) continue;
      const rec: Reception = { tx, to, rssiDbm: pNew, lost: null, by: [] };
      const own = this.sending[to];
      if (own && overlaps(own.startMs, own.endMs, tx.criticalStartMs, tx.endMs)) this.lose(rec, "half-duplex", own.id);
      for (const other of this.active) {
        if (other.from === to || !this.interfere(tx, other)) continue;
        if (overlaps(other.startMs, other.endMs, tx.criticalStartMs, tx.endMs) && pNew - this.rxPowerDbm(other.from, to) < CAPTURE_THRESHOLD_DB) {
          this.lose(rec, "collision", other.id);
        }
      }
      this.pending[to].push(rec);
      tx.receptions.push(rec);
    }
    this.active.push(tx);
    this.sending[radio] = tx;
    this.stats.transmissions++;
    this.stats.airtimeMs += air;
    if (this.keepLog) this.log.push({ kind: "tx", atMs: round3(now), tx: tx.id, from: radio, bytes: payload.length, endMs: round3(tx.endMs) });
    this.scheduler.at(tx.endMs, () => this.finish(tx));
    return tx;
  }

  private finish(tx: Transmission): void {
    this.active.splice(this.active.indexOf(tx), 1);
    this.sending[tx.from] = null;
    this.listener.onTransmitEnd?.(tx);
    for (const rec of tx.receptions) {
      const list = this.pending[rec.to];
      list.splice(list.indexOf(rec), 1);
      if (rec.lost !== null) {
        if (rec.lost === "collision") this.stats.lostCollision++; else this.stats.lostHalfDuplex++;
        if (this.keepLog) this.log.push({ kind: "lost", atMs: round3(this.nowMs), tx: tx.id, to: rec.to, reason: rec.lost, rssiDbm: round3(rec.rssiDbm), by: rec.by.slice() });
        this.listener.onLost?.(rec.to, tx, rec.lost);
        continue;
      }
      const snrDb = rec.rssiDbm - this.noiseFloorDbm(rec.to);
      this.stats.received++;
      if (this.keepLog) this.log.push({ kind: "rx", atMs: round3(this.nowMs), tx: tx.id, to: rec.to, rssiDbm: round3(rec.rssiDbm), snrDb: round3(snrDb) });
      this.listener.onReceive?.(rec.to, tx, rec.rssiDbm, snrDb);
    }
  }
}
