// The shared radio channel: who hears which frame, at what power, and which
// frames are destroyed by collisions or by the half-duplex rule.
//
// Link power. For a frame from A heard at B:
//   rxPowerDbm = txPowerDbm(A) + antennaGainDbi(A) + antennaGainDbi(B)
//                - pathLossDb(distance, heights) - shadowingDb(A,B) - linkOffsetDb(A->B)
// shadowingDb ~ N(0, model.shadowingSigmaDb) is drawn once per unordered pair (the
// same both ways); linkOffsetDb ~ N(0, linkOffsetSigmaDb) once per ordered pair,
// so links are asymmetric as in Meshtastic's simulator (anchors.md). Both are hashed
// from the seed and the pair, never taken from call order, and both are truncated at
// LINK_DRAW_TRUNCATION_SIGMA standard deviations so that a link's power has a hard
// upper bound (which makes the range cut-off below exact).
//
// Reception (lora-phy.md, LoRaSim rules):
// - B starts receiving A when B is on, not transmitting, is tuned to A's SF, bandwidth
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
//
// Scale. A frame matters at B only when its power there is at least B's table
// sensitivity - 6 dB (the capture threshold): anything weaker can neither be decoded,
// nor sensed (CAD needs sensitivity - 3 dB), nor destroy a frame B can decode (that
// frame is at or above sensitivity, so 6 dB or more stronger). So every radio keeps the
// list of radios that receive it at least that strongly. The radios fall into classes
// (same power, gain, sensitivity and height); each pair of classes has a hard range bound
// (both random terms at their truncation bound), and each class its own grid of cells as
// large as its bound with itself, so the lists are found (and a moved radio's list rebuilt)
// by looking at the few rings of cells around a radio that each class pair's bound needs.
// A transmission touches only its list: no O(N) work per frame, and no link budget is kept
// for pairs out of range.
//
// Faults. A radio can be switched off (its node is dead: it neither hears nor sends;
// a frame it was sending is cut short and nobody receives it), and partitions cut
// every link between the radios inside a rectangle and those outside it.
import { seedWords, type SeedPart } from "../engine/random.js";
import type { Scheduler } from "../engine/scheduler.js";
import {
  CAD_MARGIN_DB, CAPTURE_THRESHOLD_DB, LONG_FAST, NOISE_FIGURE_DB, type Modulation, addPowersDbm, airtimeMs,
  criticalSectionOffsetMs, frequencyCollisionHz, sensitivityDbm, symbolTimeMs, thermalNoiseDbm,
} from "./lora.js";
import { rangeM, type PathLossModel } from "./pathloss.js";

export type Position = { xM: number; yM: number };

/** An axis-aligned rectangle: x in [xM, xM + widthM], y in [yM, yM + heightM]. */
export type Rect = { xM: number; yM: number; widthM: number; heightM: number };

export function insideRect(r: Rect, p: Position): boolean {
  return p.xM >= r.xM && p.xM <= r.xM + r.widthM && p.yM >= r.yM && p.yM <= r.yM + r.heightM;
}

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
/**
 * Shadowing and link offsets are normal draws cut at +-5 sigma (a draw beyond has a
 * probability of 6e-7), so a link's power has a hard upper bound and the range
 * cut-off of the neighbour lists never drops a link that could matter.
 */
export const LINK_DRAW_TRUNCATION_SIGMA = 5;

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
  /** The sender was switched off while sending: nobody receives this frame. */
  cut: boolean;
  /** Radios this frame reaches above their relevance floor (they can sense it or be disturbed by it). */
  reaches: number[];
};

export type Reception = {
  tx: Transmission;
  to: number;
  rssiDbm: number;
  lost: LossReason | null;
  /** Transmissions that destroyed it (collision) or the receiver's own (half-duplex). */
  by: number[];
  /** The receiver was switched off, or the sender cut the frame short: no outcome is reported. */
  dropped: boolean;
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
  /** Radio `tx.from` finished sending `tx` (not called for a frame cut short by switching the radio off). */
  onTransmitEnd?(tx: Transmission): void;
}

export type MediumStats = {
  transmissions: number;
  airtimeMs: number;
  received: number;
  lostCollision: number;
  lostHalfDuplex: number;
  /** Frames cut short because their sender was switched off. */
  cut: number;
};

/** Links of one radio: receivers sorted by index and the power each receives, dBm (read-only views). */
export type LinkList = { readonly to: readonly number[]; readonly powerDbm: readonly number[] };


const round3 = (x: number) => Math.round(x * 1000) / 1000;
/** Shared empty cause list of a reception nothing has hurt (replaced on the first loss). */
const NO_CAUSES: number[] = [];
const EMPTY_LINKS: LinkList = { to: [], powerDbm: [] };
/** Radio classes (distinct power, gain, floor, height) above which the per-pair range table is not kept. */
const MAX_RANGE_CLASSES = 64;
const TWO_POW_32 = 4294967296;

function overlaps(aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  return aStart < bEnd && aEnd > bStart;
}

// MurmurHash3 (32-bit) mixing, used to hash (seed, stream, a, b) into link draws.
function mixK(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Standard normal draw for the pair (a, b) of a stream (Box-Muller on two hashed uniforms), cut at +-LINK_DRAW_TRUNCATION_SIGMA. */
function pairNormal(seedA: number, seedB: number, a: number, b: number): number {
  const u1 = (fmix32(mixK(mixK(seedA, a), b) ^ 8) + 0.5) / TWO_POW_32;
  const u2 = fmix32(mixK(mixK(seedB, b), a) ^ 8) / TWO_POW_32;
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return z > LINK_DRAW_TRUNCATION_SIGMA ? LINK_DRAW_TRUNCATION_SIGMA : z < -LINK_DRAW_TRUNCATION_SIGMA ? -LINK_DRAW_TRUNCATION_SIGMA : z;
}

export class Medium {
  readonly radios: Radio[] = [];
  readonly log: MediumLogRecord[] = [];
  readonly stats: MediumStats = { transmissions: 0, airtimeMs: 0, received: 0, lostCollision: 0, lostHalfDuplex: 0, cut: 0 };
  listener: MediumListener = {};
  readonly pathLoss: PathLossModel;
  readonly linkOffsetSigmaDb: number;
  readonly cadSymbols: number;
  /** Bumped whenever a link's power or decodability may have changed (moves, partitions, interference, radios added). */
  linkVersion = 0;
  private readonly keepLog: boolean;
  private readonly defaults: Required<Omit<RadioOptions, "position">>;
  private readonly shadowSeed: [number, number];
  private readonly offsetSeed: [number, number];
  private globalInterferenceDbm: number | null;
  private readonly interference: (number | null | undefined)[] = [];
  private readonly active: Transmission[] = [];
  private readonly sending: (Transmission | null)[] = [];
  private readonly pending: Reception[][] = [];
  /** Frames on air that reach each radio above its floor, and their power there (parallel lists). */
  private readonly incomingTx: Transmission[][] = [];
  private readonly incomingP: number[][] = [];
  private readonly on: boolean[] = [];
  /** Cached per radio: table sensitivity, effective sensitivity, noise floor (NaN = stale). */
  private readonly tableSens: number[] = [];
  private readonly effSens: number[] = [];
  private readonly noise: number[] = [];
  /** Partitions: bit k of group[r] is set when radio r lies inside partition k. */
  private readonly partitions = new Map<number, Rect>();
  private readonly group: number[] = [];
  // Neighbour lists (outTo[a] ascending, outP[a] aligned; inFrom[b]: the radios whose list holds b),
  // the grid that finds them, and the per-class-pair range bound that rejects most candidates.
  private outTo: number[][] = [];
  private outP: number[][] = [];
  private inFrom: number[][] = [];
  private linksValid = false;
  /**
   * One grid per radio class (one grid in all when there are too many classes): cell side,
   * cells, each radio's cell, and how many rings of cells around a radio of class x must be
   * scanned in the grid of class y (gridRings[x * grids + y]).
   */
  private gridCellM: number[] = [];
  private gridRings: Int32Array = new Int32Array(0);
  /** Positions, m (copies of radios[i].position for the hot distance checks). */
  private px = new Float64Array(64);
  private py = new Float64Array(64);
  private gridCells: Map<number, number[]>[] = [];
  private gridOf: number[] = [];
  private readonly cellOf: number[] = [];
  private classOf: number[] = [];
  private classCount = 0;
  /** Squared range bound per (sender class, receiver class), m^2 (Infinity when classes are too many). */
  private pairRange2: Float64Array = new Float64Array(0);
  private nextTxId = 0;

  constructor(readonly scheduler: Scheduler, opts: MediumOptions) {
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
    const w = seedWords([opts.seed, "medium-links"]);
    this.shadowSeed = [w[0] | 0, w[1] | 0];
    this.offsetSeed = [w[2] | 0, w[3] | 0];
  }

  get nowMs(): number { return this.scheduler.nowMs; }

  addRadio(opts: RadioOptions): number {
    if (this.radios.length >= 65536) throw new RangeError("at most 65536 radios");
    const index = this.radios.length;
    const r: Radio = { ...this.defaults, ...opts, position: { ...opts.position }, index };
    const table = sensitivityDbm(r.modulation.sf, r.modulation.bwHz); // throws for an unsupported modulation
    this.radios.push(r);
    this.sending.push(null);
    this.pending.push([]);
    this.incomingTx.push([]);
    this.incomingP.push([]);
    this.on.push(true);
    this.interference.push(undefined);
    this.tableSens.push(table);
    this.effSens.push(NaN);
    this.noise.push(NaN);
    this.group.push(this.groupAt(r.position));
    this.cellOf.push(0);
    if (index >= this.px.length) {
      const x = new Float64Array(this.px.length * 2), y = new Float64Array(this.px.length * 2);
      x.set(this.px); y.set(this.py);
      this.px = x; this.py = y;
    }
    this.px[index] = r.position.xM;
    this.py[index] = r.position.yM;
    this.linksValid = false;
    this.linkVersion++;
    return index;
  }

  /** Moves a radio; the shadowing and link offsets drawn for its links stay the same. */
  moveRadio(radio: number, position: Position): void {
    const r = this.radios[radio];
    r.position = { ...position };
    this.px[radio] = position.xM;
    this.py[radio] = position.yM;
    this.group[radio] = this.groupAt(r.position);
    this.linkVersion++;
    if (this.linksValid) this.relink(radio);
  }

  distanceM(a: number, b: number): number {
    const dx = this.px[a] - this.px[b], dy = this.py[a] - this.py[b];
    return Math.sqrt(dx * dx + dy * dy);
  }

  /** Mean received power of a frame from `from` at `to`, dBm (static: path loss, shadowing, link offset). */
  rxPowerDbm(from: number, to: number): number {
    const a = this.radios[from], b = this.radios[to];
    const pl = this.pathLoss.pathLossDb(this.distanceM(from, to), a.heightM, b.heightM);
    const lo = from < to ? from : to, hi = from < to ? to : from;
    const sh = this.pathLoss.shadowingSigmaDb;
    const shadow = sh > 0 ? sh * pairNormal(this.shadowSeed[0], this.shadowSeed[1], lo, hi) : 0;
    const offset = this.linkOffsetSigmaDb > 0 ? this.linkOffsetSigmaDb * pairNormal(this.offsetSeed[0], this.offsetSeed[1], from, to) : 0;
    return a.txPowerDbm + a.antennaGainDbi + b.antennaGainDbi - pl - shadow - offset;
  }

  // ------------------------------------------------------------ on / off, partitions

  /** Switches a radio on or off. Off: it hears nothing, pending receptions are dropped, and a frame it is sending is cut short. */
  setRadioOn(radio: number, on: boolean): void {
    if (this.on[radio] === on) return;
    this.on[radio] = on;
    this.linkVersion++;
    if (on) return;
    for (const rec of this.pending[radio]) rec.dropped = true;
    this.pending[radio] = [];
    this.incomingTx[radio] = [];
    this.incomingP[radio] = [];
    const tx = this.sending[radio];
    if (tx) {
      tx.cut = true;
      this.stats.cut++;
      this.sending[radio] = null;
      this.retire(tx);
      for (const rec of tx.receptions) {
        rec.dropped = true;
        const list = this.pending[rec.to];
        const k = list.indexOf(rec);
        if (k >= 0) list.splice(k, 1);
      }
    }
  }

  radioOn(radio: number): boolean { return this.on[radio]; }

  /** Cuts every link between radios inside `area` and radios outside it; returns an id for removePartition. */
  addPartition(area: Rect): number {
    if (this.partitions.size >= 30) throw new RangeError("at most 30 partitions at a time");
    const used = new Set(this.partitions.keys());
    let bit = 0;
    while (used.has(bit)) bit++;
    this.partitions.set(bit, { ...area });
    this.regroup();
    return bit;
  }

  removePartition(id: number): void {
    if (this.partitions.delete(id)) this.regroup();
  }

  /** Whether a partition cuts the link between two radios. */
  linkCut(a: number, b: number): boolean { return this.group[a] !== this.group[b]; }

  private groupAt(p: Position): number {
    let g = 0;
    for (const [bit, rect] of this.partitions) if (insideRect(rect, p)) g |= 1 << bit;
    return g;
  }

  private regroup(): void {
    for (let i = 0; i < this.radios.length; i++) this.group[i] = this.groupAt(this.radios[i].position);
    this.linkVersion++;
  }

  // ------------------------------------------------------------ interference, noise, sensitivity

  /** External interference at every radio without its own setting (null = none). */
  setInterference(dBm: number | null): void {
    this.globalInterferenceDbm = dBm;
    this.effSens.fill(NaN);
    this.noise.fill(NaN);
    this.linkVersion++;
  }

  /** External interference at one radio (null = none, undefined = follow the global level). */
  setRadioInterference(radio: number, dBm: number | null | undefined): void {
    this.interference[radio] = dBm;
    this.effSens[radio] = NaN;
    this.noise[radio] = NaN;
    this.linkVersion++;
  }

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
    let n = this.noise[radio];
    if (Number.isNaN(n)) {
      const i = this.interferenceDbm(radio);
      const t = this.thermalNoiseDbm(radio);
      n = i === null ? t : addPowersDbm(t, i);
      this.noise[radio] = n;
    }
    return n;
  }

  /** Sensitivity from the table, raised by as much as interference raises the noise floor. */
  sensitivityDbm(radio: number): number {
    let s = this.effSens[radio];
    if (Number.isNaN(s)) {
      s = this.tableSens[radio] + (this.noiseFloorDbm(radio) - this.thermalNoiseDbm(radio));
      this.effSens[radio] = s;
    }
    return s;
  }

  /** Lowest power channel-activity detection senses: sensitivity - 3 dB. */
  cadThresholdDbm(radio: number): number { return this.sensitivityDbm(radio) - CAD_MARGIN_DB; }

  /** Whether `to` can decode `from` when nothing else is on air (both on, no partition between them). */
  canHear(from: number, to: number): boolean {
    return from !== to && this.on[from] && this.on[to] && !this.linkCut(from, to)
      && this.tunedTo(to, this.radios[from].modulation, this.radios[from].frequencyHz)
      && this.rxPowerDbm(from, to) >= this.sensitivityDbm(to);
  }

  // ------------------------------------------------------------ neighbour lists

  /**
   * Radios that receive `from` at or above their relevance floor (table sensitivity - 6 dB),
   * with the power, sorted by index; partitions and switched-off radios are not applied.
   * A live view: do not modify, and do not keep it across moves.
   */
  linksFrom(from: number): LinkList {
    this.ensureLinks();
    return from < this.outTo.length ? { to: this.outTo[from], powerDbm: this.outP[from] } : EMPTY_LINKS;
  }

  /**
   * Radios that can decode `from` now (on, not cut off, tuned, above sensitivity), ascending.
   * With `quiet`, sensitivity is the table's, as if there were no external interference.
   */
  decodersOf(from: number, quiet = false): number[] {
    const out: number[] = [];
    if (!this.on[from]) return out;
    this.ensureLinks();
    const to = this.outTo[from], pw = this.outP[from];
    const r = this.radios[from];
    for (let k = 0; k < to.length; k++) {
      const b = to[k];
      if (this.on[b] && this.group[b] === this.group[from] && pw[k] >= (quiet ? this.tableSens[b] : this.sensitivityDbm(b))
        && this.tunedTo(b, r.modulation, r.frequencyHz)) out.push(b);
    }
    return out;
  }

  /** Side of a grid cell, m: the longest distance at which a link can still matter (Infinity: one cell). */
  get cellSizeM(): number { this.ensureLinks(); return Math.max(0, ...this.gridCellM); }

  private floorDbm(radio: number): number { return this.tableSens[radio] - CAPTURE_THRESHOLD_DB; }

  /**
   * Longest distance at which a frame from a radio like `a` can reach a radio like `b` at
   * b's floor: strongest case of the random terms, plus a metre of slack (the bisection
   * stops within nanometres).
   */
  private rangeBoundM(a: Radio, b: Radio, floorB: number): number {
    const randomDb = LINK_DRAW_TRUNCATION_SIGMA * (this.pathLoss.shadowingSigmaDb + this.linkOffsetSigmaDb);
    const maxLoss = a.txPowerDbm + a.antennaGainDbi + b.antennaGainDbi - floorB + randomDb;
    return rangeM(this.pathLoss, maxLoss, a.heightM, b.heightM) + 1;
  }

  /** Groups the radios into classes of equal power, gain, floor and height, and bounds the range of each class pair. */
  private classify(): void {
    const keys = new Map<string, number>();
    const reps: number[] = [];
    this.classOf = this.radios.map((r, i) => {
      const key = `${r.txPowerDbm}|${r.antennaGainDbi}|${this.floorDbm(i)}|${r.heightM}`;
      let c = keys.get(key);
      if (c === undefined) { c = reps.length; keys.set(key, c); reps.push(i); }
      return c;
    });
    const c = reps.length;
    this.classCount = c;
    if (c > MAX_RANGE_CLASSES) {
      // Too many classes for a table: one bound for every pair (the strongest sender, the most sensitive receiver).
      this.pairRange2 = new Float64Array(0);
      let best: Radio = this.radios[0], bestRx: Radio = this.radios[0], floor = Infinity;
      for (let i = 0; i < this.radios.length; i++) {
        const r = this.radios[i];
        if (r.txPowerDbm + r.antennaGainDbi > best.txPowerDbm + best.antennaGainDbi) best = r;
        if (r.antennaGainDbi > bestRx.antennaGainDbi) bestRx = r;
        floor = Math.min(floor, this.floorDbm(i));
      }
      const heights = [...new Set(this.radios.map((r) => r.heightM))].sort((x, y) => x - y);
      const hs = [heights[0], heights[Math.floor(heights.length / 2)], heights[heights.length - 1]];
      let range = 0;
      for (const ha of hs) for (const hb of hs) {
        range = Math.max(range, this.rangeBoundM({ ...best, heightM: ha }, { ...bestRx, heightM: hb }, floor));
      }
      this.gridCellM = [range];
      this.gridRings = Int32Array.of(1);
      this.gridOf = this.radios.map(() => 0);
      return;
    }
    this.pairRange2 = new Float64Array(c * c);
    for (let x = 0; x < c; x++) {
      for (let y = 0; y < c; y++) {
        const r = this.rangeBoundM(this.radios[reps[x]], this.radios[reps[y]], this.floorDbm(reps[y]));
        this.pairRange2[x * c + y] = r * r;
      }
    }
    // The grid of class y has cells as large as the longest link within the class; a radio of
    // class x scans as many rings of them as the longer of its bounds with y (either way) needs.
    this.gridCellM = Array.from({ length: c }, (_, y) => Math.sqrt(this.pairRange2[y * c + y]));
    this.gridRings = new Int32Array(c * c);
    for (let x = 0; x < c; x++) {
      for (let y = 0; y < c; y++) {
        const reach = Math.sqrt(Math.max(this.pairRange2[x * c + y], this.pairRange2[y * c + x]));
        const cell = this.gridCellM[y];
        this.gridRings[x * c + y] = !Number.isFinite(cell) ? 0 : !Number.isFinite(reach) ? -1 : Math.max(1, Math.ceil(reach / cell));
      }
    }
    this.gridOf = this.classOf;
  }

  /** Whether a frame from `a` may reach `b` at b's floor (false: certainly not). */
  private mayReach(a: number, b: number): boolean {
    if (this.pairRange2.length === 0) return true;
    const dx = this.px[a] - this.px[b], dy = this.py[a] - this.py[b];
    return dx * dx + dy * dy <= this.pairRange2[this.classOf[a] * this.classCount + this.classOf[b]];
  }

  private cellKey(p: Position, cellM: number): number {
    if (!Number.isFinite(cellM)) return 0;
    const cx = Math.floor(p.xM / cellM) + 32768, cy = Math.floor(p.yM / cellM) + 32768;
    return cx * 65536 + cy;
  }

  /**
   * Calls fn for every radio, of every class, in the cells around `radio` that can hold a
   * radio it may link with either way (itself included), in no particular order.
   */
  private forCandidates(radio: number, fn: (b: number) => void): void {
    const p = this.radios[radio].position;
    const grids = this.gridCells.length;
    const x = this.gridOf[radio];
    for (let g = 0; g < grids; g++) {
      const cellM = this.gridCellM[g], cells = this.gridCells[g];
      const rings = this.gridRings[x * grids + g];
      if (rings <= 0 || cells.size <= (2 * rings + 1) ** 2) {
        // One cell in all, an unbounded reach, or fewer cells than the rings: scan them all.
        for (const list of cells.values()) for (const b of list) fn(b);
        continue;
      }
      const key = this.cellKey(p, cellM);
      const cx = Math.floor(key / 65536), cy = key % 65536;
      for (let dx = -rings; dx <= rings; dx++) {
        for (let dy = -rings; dy <= rings; dy++) {
          const list = cells.get((cx + dx) * 65536 + (cy + dy));
          if (list) for (const b of list) fn(b);
        }
      }
    }
  }

  private ensureLinks(): void {
    if (this.linksValid) return;
    const n = this.radios.length;
    if (n === 0) { this.linksValid = true; return; }
    this.classify();
    this.gridCells = this.gridCellM.map(() => new Map<number, number[]>());
    for (let i = 0; i < n; i++) {
      const g = this.gridOf[i];
      const k = this.cellKey(this.radios[i].position, this.gridCellM[g]);
      this.cellOf[i] = k;
      let list = this.gridCells[g].get(k);
      if (!list) this.gridCells[g].set(k, (list = []));
      list.push(i);
    }
    const to: number[][] = Array.from({ length: n }, () => []);
    const pw: number[][] = Array.from({ length: n }, () => []);
    const inFrom: number[][] = Array.from({ length: n }, () => []);
    for (let a = 0; a < n; a++) {
      this.forCandidates(a, (b) => {
        if (b <= a) return; // each unordered pair once, both directions
        if (this.mayReach(a, b)) {
          const p = this.rxPowerDbm(a, b);
          if (p >= this.floorDbm(b)) { to[a].push(b); pw[a].push(p); inFrom[b].push(a); }
        }
        if (this.mayReach(b, a)) {
          const p = this.rxPowerDbm(b, a);
          if (p >= this.floorDbm(a)) { to[b].push(a); pw[b].push(p); inFrom[a].push(b); }
        }
      });
    }
    for (let a = 0; a < n; a++) {
      const t = to[a], p = pw[a];
      const order = t.map((_, k) => k).sort((x, y) => t[x] - t[y]);
      to[a] = order.map((k) => t[k]);
      pw[a] = order.map((k) => p[k]);
    }
    this.outTo = to;
    this.outP = pw;
    this.inFrom = inFrom.map((l) => l.sort((x, y) => x - y));
    this.linksValid = true;
  }

  /** Recomputes the links of one moved radio, both directions (the grid and the classes stay). */
  private relink(radio: number): void {
    // Out of the lists that hold it, and out of the reverse lists of its receivers (all sorted).
    for (const a of this.inFrom[radio]) {
      const k = lowerBound(this.outTo[a], radio);
      this.outTo[a].splice(k, 1);
      this.outP[a].splice(k, 1);
    }
    for (const b of this.outTo[radio]) {
      const list = this.inFrom[b];
      list.splice(lowerBound(list, radio), 1);
    }
    const g = this.gridOf[radio], cells = this.gridCells[g];
    const oldKey = this.cellOf[radio];
    const key = this.cellKey(this.radios[radio].position, this.gridCellM[g]);
    if (key !== oldKey) {
      const oldCell = cells.get(oldKey)!;
      oldCell.splice(oldCell.indexOf(radio), 1);
      if (oldCell.length === 0) cells.delete(oldKey);
      this.cellOf[radio] = key;
      let cell = cells.get(key);
      if (!cell) cells.set(key, (cell = []));
      cell.push(radio);
    }
    const to: number[] = [], pw: number[] = [], inFrom: number[] = [];
    this.forCandidates(radio, (b) => {
      if (b === radio) return;
      if (this.mayReach(radio, b)) {
        const p = this.rxPowerDbm(radio, b);
        if (p >= this.floorDbm(b)) {
          to.push(b); pw.push(p);
          const list = this.inFrom[b];
          list.splice(lowerBound(list, radio), 0, radio);
        }
      }
      if (this.mayReach(b, radio)) {
        const q = this.rxPowerDbm(b, radio);
        if (q >= this.floorDbm(radio)) {
          const list = this.outTo[b];
          const k = lowerBound(list, radio);
          list.splice(k, 0, radio);
          this.outP[b].splice(k, 0, q);
          inFrom.push(b);
        }
      }
    });
    const order = to.map((_, k) => k).sort((x, y) => to[x] - to[y]);
    this.outTo[radio] = order.map((k) => to[k]);
    this.outP[radio] = order.map((k) => pw[k]);
    this.inFrom[radio] = inFrom.sort((x, y) => x - y);
  }

  // ------------------------------------------------------------ channel state

  transmitting(radio: number): boolean { return this.sending[radio] !== null; }

  /** Transmissions on air now. */
  onAir(): readonly Transmission[] { return this.active; }

  /** Channel activity detection at `radio` now: a frame on its channel it can sense. */
  channelActive(radio: number): boolean {
    const r = this.radios[radio];
    const cadMs = this.cadSymbols * symbolTimeMs(r.modulation.sf, r.modulation.bwHz);
    const threshold = this.cadThresholdDbm(radio);
    const now = this.nowMs;
    const txs = this.incomingTx[radio], pw = this.incomingP[radio];
    for (let k = 0; k < txs.length; k++) {
      const t = txs[k];
      if (t.startMs + cadMs <= now && now < t.endMs && pw[k] >= threshold && this.tunedTo(radio, t.modulation, t.frequencyHz)) return true;
    }
    return false;
  }

  /** End of the last frame `radio` senses now (now when the channel is clear). */
  channelBusyUntilMs(radio: number): number {
    const r = this.radios[radio];
    const cadMs = this.cadSymbols * symbolTimeMs(r.modulation.sf, r.modulation.bwHz);
    const threshold = this.cadThresholdDbm(radio);
    const now = this.nowMs;
    let until = now;
    const txs = this.incomingTx[radio], pw = this.incomingP[radio];
    for (let k = 0; k < txs.length; k++) {
      const t = txs[k];
      if (t.startMs + cadMs <= now && now < t.endMs && pw[k] >= threshold && this.tunedTo(radio, t.modulation, t.frequencyHz)) {
        until = Math.max(until, t.endMs);
      }
    }
    return until;
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
    if (rec.by === NO_CAUSES) rec.by = [];
    rec.by.push(by);
  }

  /** Starts sending `payload` from `radio` now; null when the radio is off or already transmitting. */
  transmit(radio: number, payload: Uint8Array): Transmission | null {
    if (this.sending[radio] !== null || !this.on[radio]) return null;
    this.ensureLinks();
    const r = this.radios[radio];
    const now = this.nowMs;
    const m = r.modulation;
    const air = airtimeMs(payload.length, m);
    const tx: Transmission = {
      id: this.nextTxId++, from: radio, payload: payload.slice(), startMs: now, endMs: now + air,
      criticalStartMs: now + criticalSectionOffsetMs(m), modulation: m, frequencyHz: r.frequencyHz, receptions: [],
      cut: false, reaches: [],
    };
    // Half-duplex: what the sender was receiving is lost if we now cover its critical section.
    for (const rec of this.pending[radio]) {
      if (overlaps(tx.startMs, tx.endMs, rec.tx.criticalStartMs, rec.tx.endMs)) this.lose(rec, "half-duplex", tx.id);
    }
    const outTo = this.outTo[radio], outP = this.outP[radio];
    const myGroup = this.group[radio];
    for (let k = 0; k < outTo.length; k++) {
      const to = outTo[k];
      if (!this.on[to] || this.group[to] !== myGroup) continue;
      const pNew = outP[k];
      // The new frame against frames `to` is already receiving.
      for (const rec of this.pending[to]) {
        if (!this.interfere(tx, rec.tx)) continue;
        if (overlaps(tx.startMs, tx.endMs, rec.tx.criticalStartMs, rec.tx.endMs) && rec.rssiDbm - pNew < CAPTURE_THRESHOLD_DB) {
          this.lose(rec, "collision", tx.id);
        }
      }
      // Does `to` start receiving the new frame, and is it already doomed?
      if (this.tunedTo(to, m, r.frequencyHz) && pNew >= this.sensitivityDbm(to)) {
        const rec: Reception = { tx, to, rssiDbm: pNew, lost: null, by: NO_CAUSES, dropped: false };
        const own = this.sending[to];
        if (own && overlaps(own.startMs, own.endMs, tx.criticalStartMs, tx.endMs)) this.lose(rec, "half-duplex", own.id);
        const txs = this.incomingTx[to], pw = this.incomingP[to];
        for (let j = 0; j < txs.length; j++) {
          const other = txs[j];
          if (!this.interfere(tx, other)) continue;
          if (overlaps(other.startMs, other.endMs, tx.criticalStartMs, tx.endMs) && pNew - pw[j] < CAPTURE_THRESHOLD_DB) {
            this.lose(rec, "collision", other.id);
          }
        }
        this.pending[to].push(rec);
        tx.receptions.push(rec);
      }
      this.incomingTx[to].push(tx);
      this.incomingP[to].push(pNew);
      tx.reaches.push(to);
    }
    this.active.push(tx);
    this.sending[radio] = tx;
    this.stats.transmissions++;
    this.stats.airtimeMs += air;
    if (this.keepLog) this.log.push({ kind: "tx", atMs: round3(now), tx: tx.id, from: radio, bytes: payload.length, endMs: round3(tx.endMs) });
    this.scheduler.at(tx.endMs, () => this.finish(tx));
    return tx;
  }

  /** Takes a frame off the air: out of the active list and of every receiver's incoming list. */
  private retire(tx: Transmission): void {
    const k = this.active.indexOf(tx);
    if (k >= 0) this.active.splice(k, 1);
    for (const to of tx.reaches) {
      const k = this.incomingTx[to].indexOf(tx);
      if (k >= 0) { this.incomingTx[to].splice(k, 1); this.incomingP[to].splice(k, 1); }
    }
  }

  private finish(tx: Transmission): void {
    if (tx.cut) return;
    this.retire(tx);
    this.sending[tx.from] = null;
    this.listener.onTransmitEnd?.(tx);
    for (const rec of tx.receptions) {
      if (rec.dropped) continue;
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

/** First index of a sorted list whose value is >= x. */
function lowerBound(list: readonly number[], x: number): number {
  let lo = 0, hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid] < x) lo = mid + 1; else hi = mid;
  }
  return lo;
}
