// Seeded randomness for tests: mulberry32 (Tommy Ettinger's 32-bit generator), so a
// failing run replays with the same seed. Not for anything secret.

/** A seeded generator with the helpers the node tests use. */
export class Rng {
  private s: number;
  constructor(readonly seed: number) { this.s = seed >>> 0; }
  /** The next 32-bit value. */
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** A float in [0, 1). */
  float(): number { return this.u32() / 4294967296; }
  int(n: number): number { return this.u32() % n; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
  chance(p: number): boolean { return this.u32() / 2 ** 32 < p; }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

/** A function giving floats in [0, 1) from a seed (the same sequence as Rng.float). */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.float();
}

/** n bytes from a float source, each floor(random() * 256). */
export const randomBytes = (random: () => number, n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(random() * 256));

export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
