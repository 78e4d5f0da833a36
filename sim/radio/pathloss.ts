// Path loss models: median loss between two antennas as a function of distance,
// plus the spread of the log-normal shadowing the medium draws per link.
//
// Every model is floored at the free-space loss: a median below free space is
// an extrapolation artefact (the rule SEAMCAT applies to its extended Hata
// model, ITU-R SM.2028), and distances below MIN_DISTANCE_M are clamped so
// that co-located nodes get a finite loss.

/** Speed of light in m/s. */
export const SPEED_OF_LIGHT_M_S = 299_792_458;
/** Distances below this are clamped (two nodes at the same spot). */
export const MIN_DISTANCE_M = 1;

export interface PathLossModel {
  readonly name: string;
  /** Carrier frequency the model was built for, Hz. */
  readonly frequencyHz: number;
  /** Sigma of the symmetric log-normal shadowing drawn once per link, dB (0 = none). */
  readonly shadowingSigmaDb: number;
  /** Median path loss in dB between antennas `distanceM` apart at heights `heightAM` and `heightBM` (m). */
  pathLossDb(distanceM: number, heightAM: number, heightBM: number): number;
}

/** Free-space path loss (Friis): 20 log10(4 pi d f / c) dB. */
export function freeSpaceLossDb(distanceM: number, frequencyHz: number): number {
  const d = Math.max(distanceM, MIN_DISTANCE_M);
  return 20 * Math.log10((4 * Math.PI * d * frequencyHz) / SPEED_OF_LIGHT_M_S);
}

function checkDistance(distanceM: number): number {
  if (!(distanceM >= 0) || !Number.isFinite(distanceM)) throw new RangeError(`distance ${distanceM} m`);
  return Math.max(distanceM, MIN_DISTANCE_M);
}

/**
 * Log-distance model with the LoRaSim fit (Bor et al., "Do LoRa Low-Power Wide-Area
 * Networks Scale?", MSWiM 2016, section 3; lora-phy.md "Path loss"):
 *   PL(d) = PL(d0) + 10 * gamma * log10(d / d0),  d0 = 40 m, PL(d0) = 127.41 dB, gamma = 2.08,
 * with log-normal shadowing sigma = 3.57 dB. Measured at 868 MHz in a built-up area with
 * low antennas, so its range is short (about 0.7 km at 22 dBm and SF11/250 kHz).
 */
export const LORASIM_REFERENCE_LOSS_DB = 127.41;
export const LORASIM_REFERENCE_DISTANCE_M = 40;
export const LORASIM_EXPONENT = 2.08;
export const LORASIM_SHADOWING_SIGMA_DB = 3.57;

export class LogDistancePathLoss implements PathLossModel {
  readonly name = "log-distance";
  readonly frequencyHz: number;
  readonly shadowingSigmaDb: number;
  readonly referenceLossDb: number;
  readonly referenceDistanceM: number;
  readonly exponent: number;

  constructor(opts: { frequencyHz?: number; referenceLossDb?: number; referenceDistanceM?: number; exponent?: number; shadowingSigmaDb?: number } = {}) {
    this.frequencyHz = opts.frequencyHz ?? 868e6;
    this.referenceLossDb = opts.referenceLossDb ?? LORASIM_REFERENCE_LOSS_DB;
    this.referenceDistanceM = opts.referenceDistanceM ?? LORASIM_REFERENCE_DISTANCE_M;
    this.exponent = opts.exponent ?? LORASIM_EXPONENT;
    this.shadowingSigmaDb = opts.shadowingSigmaDb ?? LORASIM_SHADOWING_SIGMA_DB;
  }

  pathLossDb(distanceM: number): number {
    const d = checkDistance(distanceM);
    const pl = this.referenceLossDb + 10 * this.exponent * Math.log10(d / this.referenceDistanceM);
    return Math.max(pl, freeSpaceLossDb(d, this.frequencyHz));
  }
}

/**
 * 3GPP macro-cell model: the modified COST 231-Hata formula of 3GPP TR 25.996
 * (spatial channel model, section 5.3.1 "macrocell pathloss"), which Meshtastic's
 * simulator uses by default (Meshtasticator lib/phy.py, MODEL 5 suburban / 6 urban):
 *   PL = (44.9 - 6.55 log10 hb) log10(d / 1000) + 45.5 + (35.46 - 1.1 hm) log10(f_MHz)
 *        - 13.82 log10 hb + 0.7 hm + C,
 * d in m, hb and hm antenna heights in m, C = 0 dB for suburban and 3 dB for urban macro.
 * For two peers the higher antenna plays hb and the lower hm (SEAMCAT's reciprocal use
 * of Hata-type models, ITU-R SM.2028). No shadowing of its own: Meshtasticator adds
 * only the per-link offset N(0, 3 dB) that the medium draws (anchors.md).
 */
export const THREE_GPP_SUBURBAN_C_DB = 0;
export const THREE_GPP_URBAN_C_DB = 3;

export class ThreeGppMacroPathLoss implements PathLossModel {
  readonly name: string;
  readonly frequencyHz: number;
  readonly shadowingSigmaDb: number;
  readonly cDb: number;

  constructor(opts: { frequencyHz?: number; environment?: "suburban" | "urban"; shadowingSigmaDb?: number } = {}) {
    const env = opts.environment ?? "suburban";
    this.name = `3gpp-${env}-macro`;
    this.frequencyHz = opts.frequencyHz ?? 868e6;
    this.cDb = env === "urban" ? THREE_GPP_URBAN_C_DB : THREE_GPP_SUBURBAN_C_DB;
    this.shadowingSigmaDb = opts.shadowingSigmaDb ?? 0;
  }

  pathLossDb(distanceM: number, heightAM: number, heightBM: number): number {
    const d = checkDistance(distanceM);
    const hb = Math.max(heightAM, heightBM), hm = Math.min(heightAM, heightBM);
    if (!(hm > 0)) throw new RangeError(`antenna height ${hm} m`);
    const fMHz = this.frequencyHz / 1e6;
    const pl = (44.9 - 6.55 * Math.log10(hb)) * Math.log10(d / 1000) + 45.5 + (35.46 - 1.1 * hm) * Math.log10(fMHz)
      - 13.82 * Math.log10(hb) + 0.7 * hm + this.cDb;
    return Math.max(pl, freeSpaceLossDb(d, this.frequencyHz));
  }
}

/**
 * Okumura-Hata, suburban (M. Hata, "Empirical formula for propagation loss in land
 * mobile radio services", IEEE Trans. Veh. Technol. VT-29(3), 1980):
 *   L_urban = 69.55 + 26.16 log10 f - 13.82 log10 hb - a(hm) + (44.9 - 6.55 log10 hb) log10 d_km
 *   a(hm)   = (1.1 log10 f - 0.7) hm - (1.56 log10 f - 0.8)      (small and medium cities)
 *   L_sub   = L_urban - 2 (log10(f / 28))^2 - 5.4                  (f in MHz)
 * Fitted for 150..1500 MHz, hb 30..200 m, hm 1..10 m, 1..20 km; mesh nodes sit below
 * the hb range, so treat it as a pessimistic bound. hb = higher antenna, hm = lower.
 */
export class OkumuraHataSuburbanPathLoss implements PathLossModel {
  readonly name = "okumura-hata-suburban";
  readonly frequencyHz: number;
  readonly shadowingSigmaDb: number;

  constructor(opts: { frequencyHz?: number; shadowingSigmaDb?: number } = {}) {
    this.frequencyHz = opts.frequencyHz ?? 868e6;
    this.shadowingSigmaDb = opts.shadowingSigmaDb ?? 0;
  }

  pathLossDb(distanceM: number, heightAM: number, heightBM: number): number {
    const d = checkDistance(distanceM);
    const hb = Math.max(heightAM, heightBM), hm = Math.min(heightAM, heightBM);
    if (!(hm > 0)) throw new RangeError(`antenna height ${hm} m`);
    const lf = Math.log10(this.frequencyHz / 1e6);
    const a = (1.1 * lf - 0.7) * hm - (1.56 * lf - 0.8);
    const urban = 69.55 + 26.16 * lf - 13.82 * Math.log10(hb) - a + (44.9 - 6.55 * Math.log10(hb)) * Math.log10(d / 1000);
    const suburban = urban - 2 * Math.log10(this.frequencyHz / 1e6 / 28) ** 2 - 5.4;
    return Math.max(suburban, freeSpaceLossDb(d, this.frequencyHz));
  }
}

/** The distance at which `model` reaches `maxLossDb` (bisection; Infinity if never within 1000 km). */
export function rangeM(model: PathLossModel, maxLossDb: number, heightAM: number, heightBM: number): number {
  let lo = MIN_DISTANCE_M, hi = 1e6;
  if (model.pathLossDb(hi, heightAM, heightBM) <= maxLossDb) return Infinity;
  if (model.pathLossDb(lo, heightAM, heightBM) > maxLossDb) return 0;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (model.pathLossDb(mid, heightAM, heightBM) <= maxLossDb) lo = mid; else hi = mid;
  }
  return lo;
}
