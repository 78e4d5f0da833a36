// Seeded pseudo-random numbers for the simulator.
//
// Generator: sfc32 (Chris Doty-Humphrey's "small fast counting" generator from
// PractRand, 128-bit state, passes PractRand and TestU01 BigCrush). Seeding:
// the seed and any stream labels are hashed with 32-bit FNV-1a into four words,
// each finished with MurmurHash3's fmix32, then the generator is run 15 rounds
// to spread the state (the warm-up PractRand's reference code uses 12).
//
// Streams are derived, not split from a running generator: `Rng.stream(seed,
// "node", 7)` is the same sequence however many other streams were drawn, so
// adding a node or a measurement never changes the randomness of another.
// Only integer arithmetic feeds the state; the same seed gives the same numbers
// on every run.

export type SeedPart = string | number;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const WARMUP_ROUNDS = 15;
const TWO_POW_32 = 4294967296;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function fnv1a(text: string, basis: number): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h = Math.imul(h ^ (c & 0xff), FNV_PRIME);
    h = Math.imul(h ^ (c >>> 8), FNV_PRIME);
  }
  return h >>> 0;
}

/** Four 32-bit words from the seed parts (numbers and strings are told apart). */
export function seedWords(parts: readonly SeedPart[]): [number, number, number, number] {
  const text = parts.map((p) => (typeof p === "number" ? `n${Number.isInteger(p) ? p : p.toString()}` : `s${p.length}:${p}`)).join("|");
  return [
    fmix32(fnv1a(text, FNV_OFFSET)),
    fmix32(fnv1a(text, FNV_OFFSET ^ 0x9e3779b9)),
    fmix32(fnv1a(text, FNV_OFFSET ^ 0x7f4a7c15)),
    fmix32(fnv1a(text, FNV_OFFSET ^ 0x94d049bb)),
  ];
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | null = null;

  /** A generator for the stream named by `parts` (the first part is usually the run's seed). */
  constructor(...parts: SeedPart[]) {
    [this.a, this.b, this.c, this.d] = seedWords(parts);
    for (let i = 0; i < WARMUP_ROUNDS; i++) this.nextU32();
  }

  /** Same as `new Rng(...parts)`. */
  static stream(...parts: SeedPart[]): Rng { return new Rng(...parts); }

  /** Uniform 32-bit unsigned integer (sfc32). */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in (0, 1): never 0, so log() is safe. */
  floatOpen(): number {
    return (this.nextU32() + 0.5) / TWO_POW_32;
  }

  /** Uniform integer in 0..n-1 (n >= 1), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) throw new RangeError(`int(n) needs an integer 1..2^32, got ${n}`);
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number { return lo + (hi - lo) * this.float(); }

  /** Normal N(mean, sd) by the Box-Muller transform (the second value is kept for the next call). */
  normal(mean = 0, sd = 1): number {
    let z: number;
    if (this.spareNormal !== null) {
      z = this.spareNormal;
      this.spareNormal = null;
    } else {
      const r = Math.sqrt(-2 * Math.log(this.floatOpen()));
      const theta = 2 * Math.PI * this.float();
      z = r * Math.cos(theta);
      this.spareNormal = r * Math.sin(theta);
    }
    return mean + sd * z;
  }

  /** Fills `out` with random bytes. */
  fill(out: Uint8Array): void {
    let i = 0;
    for (; i + 4 <= out.length; i += 4) {
      const x = this.nextU32();
      out[i] = x & 0xff; out[i + 1] = (x >>> 8) & 0xff; out[i + 2] = (x >>> 16) & 0xff; out[i + 3] = x >>> 24;
    }
    if (i < out.length) {
      let x = this.nextU32();
      for (; i < out.length; i++, x >>>= 8) out[i] = x & 0xff;
    }
  }

  /** A uniformly random element. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick from an empty list");
    return items[this.int(items.length)];
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}
