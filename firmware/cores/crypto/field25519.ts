// Arithmetic in GF(p), p = 2^255 - 19, the field of Curve25519 and edwards25519
// (RFC 7748 §4.1, RFC 8032 §5.1).
//
// Representation: an element is 10 signed 32-bit limbs (40 bytes, 4-byte
// aligned) in radix 2^25.5: limb i holds bits [pos(i), pos(i+1)) with
// pos(i) = ceil(25.5 * i) = 0, 26, 51, 77, 102, 128, 153, 179, 204, 230, so
// even limbs are 26 bits wide and odd limbs 25 bits wide. Limbs may be
// negative or wider than nominal between operations; only feToBytes gives the
// unique (canonical) form.
//
// Limb bounds (why no intermediate carry is needed): feMul and feSquare
// accept limbs of up to 3x their nominal width (|even| < 3 * 2^26,
// |odd| < 3 * 2^25) in both operands, and up to 4x in one operand when the
// other stays within 3x: every 64-bit column sum then stays below 2^63.
// Their outputs, and every other carried result, have limbs within
// [0, 2^26) / [0, 2^25) except limbs 1 and 5, which may exceed that by at
// most 2^17 (limb 1 may also be slightly negative). feAdd and feSub do not
// carry, so a sum or difference of two carried values is within 2x, and of
// three within 3x; every formula in x25519.ts and edwards25519.ts stays
// within these bounds (checked limb by limb against BigInt arithmetic in
// randomized and extreme-value tests during development).
//
// Constant time: every function here runs the same instructions and touches
// the same addresses whatever the limb values are: no branch, loop count or
// memory index depends on them (feIsZero, feIsNegative and feEqual included).

/** Bytes used by one field element. */
export const FE_BYTES: i32 = 40;

// Scratch for feInvert / fePow22523 (they never run at the same time).
const T0: usize = memory.data(40, 8);
const T1: usize = memory.data(40, 8);
const T2: usize = memory.data(40, 8);
const T3: usize = memory.data(40, 8);
// Scratch bytes for comparisons (feIsZero, feIsNegative, feEqual).
const BYTES_A: usize = memory.data(32, 8);
const BYTES_B: usize = memory.data(32, 8);

/** Bytes of static memory this file reserves. */
export const FIELD_STATIC_BYTES: i32 = 4 * 40 + 2 * 32;

/** Clears the scratch of this file (it held powers of a secret-derived value after feInvert). */
export function feWipeScratch(): void {
  memory.fill(T0, 0, 40);
  memory.fill(T1, 0, 40);
  memory.fill(T2, 0, 40);
  memory.fill(T3, 0, 40);
  memory.fill(BYTES_A, 0, 32);
  memory.fill(BYTES_B, 0, 32);
}

// @ts-ignore: decorator
@inline
function ld(p: usize, i: i32): i64 {
  return <i64>load<i32>(p + (<usize>i << 2));
}

/** h = 0 */
export function feZero(h: usize): void {
  memory.fill(h, 0, 40);
}

/** h = 1 */
export function feOne(h: usize): void {
  memory.fill(h, 0, 40);
  store<i32>(h, 1);
}

/** h = f */
export function feCopy(h: usize, f: usize): void {
  memory.copy(h, f, 40);
}

/** h = f + g (no carry). */
export function feAdd(h: usize, f: usize, g: usize): void {
  for (let i: usize = 0; i < 40; i += 4) {
    store<i32>(h + i, load<i32>(f + i) + load<i32>(g + i));
  }
}

/** h = f - g (no carry; limbs may become negative). */
export function feSub(h: usize, f: usize, g: usize): void {
  for (let i: usize = 0; i < 40; i += 4) {
    store<i32>(h + i, load<i32>(f + i) - load<i32>(g + i));
  }
}

/** s = f + g and d = f - g in one pass (no carry). s and d must not alias f or g. */
export function feAddSub(s: usize, d: usize, f: usize, g: usize): void {
  for (let i: usize = 0; i < 40; i += 4) {
    const a = load<i32>(f + i);
    const b = load<i32>(g + i);
    store<i32>(s + i, a + b);
    store<i32>(d + i, a - b);
  }
}

/** h = -f (no carry). */
export function feNeg(h: usize, f: usize): void {
  for (let i: usize = 0; i < 40; i += 4) {
    store<i32>(h + i, -load<i32>(f + i));
  }
}

/**
 * Stores 64-bit limb sums h0..h9 as a carried element: floor carries (arithmetic
 * shifts) in two interleaved chains, the carry out of limb 9 multiplied by 19
 * (2^255 = 19 mod p) folded into limb 0, then limb 0 carried once more.
 */
// @ts-ignore: decorator
@inline
function carryStore(
  out: usize,
  h0: i64, h1: i64, h2: i64, h3: i64, h4: i64,
  h5: i64, h6: i64, h7: i64, h8: i64, h9: i64,
): void {
  let c: i64;
  c = h0 >> 26; h1 += c; h0 -= c << 26;
  c = h4 >> 26; h5 += c; h4 -= c << 26;
  c = h1 >> 25; h2 += c; h1 -= c << 25;
  c = h5 >> 25; h6 += c; h5 -= c << 25;
  c = h2 >> 26; h3 += c; h2 -= c << 26;
  c = h6 >> 26; h7 += c; h6 -= c << 26;
  c = h3 >> 25; h4 += c; h3 -= c << 25;
  c = h7 >> 25; h8 += c; h7 -= c << 25;
  c = h4 >> 26; h5 += c; h4 -= c << 26;
  c = h8 >> 26; h9 += c; h8 -= c << 26;
  c = h9 >> 25; h0 += c * 19; h9 -= c << 25;
  c = h0 >> 26; h1 += c; h0 -= c << 26;
  store<i32>(out, <i32>h0, 0);
  store<i32>(out, <i32>h1, 4);
  store<i32>(out, <i32>h2, 8);
  store<i32>(out, <i32>h3, 12);
  store<i32>(out, <i32>h4, 16);
  store<i32>(out, <i32>h5, 20);
  store<i32>(out, <i32>h6, 24);
  store<i32>(out, <i32>h7, 28);
  store<i32>(out, <i32>h8, 32);
  store<i32>(out, <i32>h9, 36);
}

/** Carries f in place (brings a sum of several terms back to carried bounds). */
export function feCarry(f: usize): void {
  carryStore(f,
    ld(f, 0), ld(f, 1), ld(f, 2), ld(f, 3), ld(f, 4),
    ld(f, 5), ld(f, 6), ld(f, 7), ld(f, 8), ld(f, 9));
}

/**
 * h = f * g. Schoolbook product of the limbs: limb i times limb j lands at
 * pos(i) + pos(j), which is pos(i + j) + 1 when i and j are both odd (hence the
 * doubled odd limbs), and products that pass 2^255 wrap around times 19.
 * h may alias f or g.
 */
export function feMul(h: usize, f: usize, g: usize): void {
  const f0 = ld(f, 0), f1 = ld(f, 1), f2 = ld(f, 2), f3 = ld(f, 3), f4 = ld(f, 4);
  const f5 = ld(f, 5), f6 = ld(f, 6), f7 = ld(f, 7), f8 = ld(f, 8), f9 = ld(f, 9);
  const g0 = ld(g, 0), g1 = ld(g, 1), g2 = ld(g, 2), g3 = ld(g, 3), g4 = ld(g, 4);
  const g5 = ld(g, 5), g6 = ld(g, 6), g7 = ld(g, 7), g8 = ld(g, 8), g9 = ld(g, 9);
  const f1_2 = f1 << 1, f3_2 = f3 << 1, f5_2 = f5 << 1, f7_2 = f7 << 1, f9_2 = f9 << 1;
  const g1_19 = g1 * 19, g2_19 = g2 * 19, g3_19 = g3 * 19, g4_19 = g4 * 19, g5_19 = g5 * 19;
  const g6_19 = g6 * 19, g7_19 = g7 * 19, g8_19 = g8 * 19, g9_19 = g9 * 19;

  const h0 = f0 * g0 + f1_2 * g9_19 + f2 * g8_19 + f3_2 * g7_19 + f4 * g6_19 + f5_2 * g5_19 + f6 * g4_19 + f7_2 * g3_19 + f8 * g2_19 + f9_2 * g1_19;
  const h1 = f0 * g1 + f1 * g0 + f2 * g9_19 + f3 * g8_19 + f4 * g7_19 + f5 * g6_19 + f6 * g5_19 + f7 * g4_19 + f8 * g3_19 + f9 * g2_19;
  const h2 = f0 * g2 + f1_2 * g1 + f2 * g0 + f3_2 * g9_19 + f4 * g8_19 + f5_2 * g7_19 + f6 * g6_19 + f7_2 * g5_19 + f8 * g4_19 + f9_2 * g3_19;
  const h3 = f0 * g3 + f1 * g2 + f2 * g1 + f3 * g0 + f4 * g9_19 + f5 * g8_19 + f6 * g7_19 + f7 * g6_19 + f8 * g5_19 + f9 * g4_19;
  const h4 = f0 * g4 + f1_2 * g3 + f2 * g2 + f3_2 * g1 + f4 * g0 + f5_2 * g9_19 + f6 * g8_19 + f7_2 * g7_19 + f8 * g6_19 + f9_2 * g5_19;
  const h5 = f0 * g5 + f1 * g4 + f2 * g3 + f3 * g2 + f4 * g1 + f5 * g0 + f6 * g9_19 + f7 * g8_19 + f8 * g7_19 + f9 * g6_19;
  const h6 = f0 * g6 + f1_2 * g5 + f2 * g4 + f3_2 * g3 + f4 * g2 + f5_2 * g1 + f6 * g0 + f7_2 * g9_19 + f8 * g8_19 + f9_2 * g7_19;
  const h7 = f0 * g7 + f1 * g6 + f2 * g5 + f3 * g4 + f4 * g3 + f5 * g2 + f6 * g1 + f7 * g0 + f8 * g9_19 + f9 * g8_19;
  const h8 = f0 * g8 + f1_2 * g7 + f2 * g6 + f3_2 * g5 + f4 * g4 + f5_2 * g3 + f6 * g2 + f7_2 * g1 + f8 * g0 + f9_2 * g9_19;
  const h9 = f0 * g9 + f1 * g8 + f2 * g7 + f3 * g6 + f4 * g5 + f5 * g4 + f6 * g3 + f7 * g2 + f8 * g1 + f9 * g0;

  carryStore(h, h0, h1, h2, h3, h4, h5, h6, h7, h8, h9);
}

/**
 * h = f^2. The same columns as feMul with each cross product f_i * f_j
 * (i != j) counted once and doubled. h may alias f.
 */
export function feSquare(h: usize, f: usize): void {
  const f0 = ld(f, 0), f1 = ld(f, 1), f2 = ld(f, 2), f3 = ld(f, 3), f4 = ld(f, 4);
  const f5 = ld(f, 5), f6 = ld(f, 6), f7 = ld(f, 7), f8 = ld(f, 8), f9 = ld(f, 9);
  const f0_2 = f0 << 1, f1_2 = f1 << 1, f2_2 = f2 << 1, f3_2 = f3 << 1;
  const f4_2 = f4 << 1, f5_2 = f5 << 1, f7_2 = f7 << 1;
  const f5_38 = f5 * 38, f6_38 = f6 * 38, f7_38 = f7 * 38, f8_38 = f8 * 38, f9_38 = f9 * 38;
  const f6_19 = f6 * 19, f8_19 = f8 * 19;

  const h0 = f0 * f0 + f1_2 * f9_38 + f2 * f8_38 + f3_2 * f7_38 + f4 * f6_38 + f5 * f5_38;
  const h1 = f0_2 * f1 + f2 * f9_38 + f3 * f8_38 + f4 * f7_38 + f5 * f6_38;
  const h2 = f0_2 * f2 + f1_2 * f1 + f3_2 * f9_38 + f4 * f8_38 + f5_2 * f7_38 + f6 * f6_19;
  const h3 = f0_2 * f3 + f1_2 * f2 + f4 * f9_38 + f5 * f8_38 + f6 * f7_38;
  const h4 = f0_2 * f4 + f1_2 * f3_2 + f2 * f2 + f5_2 * f9_38 + f6 * f8_38 + f7 * f7_38;
  const h5 = f0_2 * f5 + f1_2 * f4 + f2_2 * f3 + f6 * f9_38 + f7 * f8_38;
  const h6 = f0_2 * f6 + f1_2 * f5_2 + f2_2 * f4 + f3_2 * f3 + f7_2 * f9_38 + f8 * f8_19;
  const h7 = f0_2 * f7 + f1_2 * f6 + f2_2 * f5 + f3_2 * f4 + f8 * f9_38;
  const h8 = f0_2 * f8 + f1_2 * f7_2 + f2_2 * f6 + f3_2 * f5_2 + f4 * f4 + f9 * f9_38;
  const h9 = f0_2 * f9 + f1_2 * f8 + f2_2 * f7 + f3_2 * f6 + f4_2 * f5;

  carryStore(h, h0, h1, h2, h3, h4, h5, h6, h7, h8, h9);
}

/** h = f^(2^n) for n >= 1 (n is public). h may alias f. */
export function feSquareTimes(h: usize, f: usize, n: i32): void {
  feSquare(h, f);
  for (let i = 1; i < n; i++) feSquare(h, h);
}

/** h = f * k for a small non-negative constant k < 2^24 (for example a24). */
export function feMulSmall(h: usize, f: usize, k: i32): void {
  const m = <i64>k;
  carryStore(h,
    ld(f, 0) * m, ld(f, 1) * m, ld(f, 2) * m, ld(f, 3) * m, ld(f, 4) * m,
    ld(f, 5) * m, ld(f, 6) * m, ld(f, 7) * m, ld(f, 8) * m, ld(f, 9) * m);
}

/** h = f * k + g, carried, for a small non-negative constant k < 2^24. */
export function feMulSmallAdd(h: usize, f: usize, k: i32, g: usize): void {
  const m = <i64>k;
  carryStore(h,
    ld(f, 0) * m + ld(g, 0), ld(f, 1) * m + ld(g, 1), ld(f, 2) * m + ld(g, 2),
    ld(f, 3) * m + ld(g, 3), ld(f, 4) * m + ld(g, 4), ld(f, 5) * m + ld(g, 5),
    ld(f, 6) * m + ld(g, 6), ld(f, 7) * m + ld(g, 7), ld(f, 8) * m + ld(g, 8),
    ld(f, 9) * m + ld(g, 9));
}

/**
 * Reads 32 little-endian bytes as a field element, ignoring bit 255 (the
 * caller reads it when it means something). Values in [p, 2^255) are
 * accepted as they are and behave as their residue mod p.
 */
export function feFromBytes(h: usize, s: usize): void {
  for (let i = 0; i < 10; i++) {
    const pos = (51 * i + 1) >> 1;
    const width = 26 - (i & 1);
    // pos % 8 + width <= 32 for every limb, and the last read ends at byte 31.
    const word = load<u32>(s + <usize>(pos >> 3)) >>> <u32>(pos & 7);
    store<i32>(h + (<usize>i << 2), <i32>(word & ((1 << width) - 1)));
  }
}

/**
 * Writes the canonical 32-byte encoding of f (the unique value in [0, p),
 * little-endian, bit 255 clear) — RFC 7748 §5 encodeUCoordinate.
 */
export function feToBytes(s: usize, f: usize): void {
  // Adding 8p limb by limb makes every limb positive for any f whose limbs
  // are above -2^27 (all values met here), so every carry below is >= 0.
  let h0 = ld(f, 0) + (((<i64>1 << 26) - 19) << 3);
  let h1 = ld(f, 1) + (((<i64>1 << 25) - 1) << 3);
  let h2 = ld(f, 2) + (((<i64>1 << 26) - 1) << 3);
  let h3 = ld(f, 3) + (((<i64>1 << 25) - 1) << 3);
  let h4 = ld(f, 4) + (((<i64>1 << 26) - 1) << 3);
  let h5 = ld(f, 5) + (((<i64>1 << 25) - 1) << 3);
  let h6 = ld(f, 6) + (((<i64>1 << 26) - 1) << 3);
  let h7 = ld(f, 7) + (((<i64>1 << 25) - 1) << 3);
  let h8 = ld(f, 8) + (((<i64>1 << 26) - 1) << 3);
  let h9 = ld(f, 9) + (((<i64>1 << 25) - 1) << 3);
  let c: i64;
  // Carry once around (with the 19 fold) and then up to limb 9 again: every
  // limb is now within its width except limb 9, which is at most 2^25, so the
  // value V satisfies 0 <= V < 2^255 + 2^230 < 2p.
  c = h0 >> 26; h1 += c; h0 -= c << 26;
  c = h1 >> 25; h2 += c; h1 -= c << 25;
  c = h2 >> 26; h3 += c; h2 -= c << 26;
  c = h3 >> 25; h4 += c; h3 -= c << 25;
  c = h4 >> 26; h5 += c; h4 -= c << 26;
  c = h5 >> 25; h6 += c; h5 -= c << 25;
  c = h6 >> 26; h7 += c; h6 -= c << 26;
  c = h7 >> 25; h8 += c; h7 -= c << 25;
  c = h8 >> 26; h9 += c; h8 -= c << 26;
  c = h9 >> 25; h0 += c * 19; h9 -= c << 25;
  c = h0 >> 26; h1 += c; h0 -= c << 26;
  c = h1 >> 25; h2 += c; h1 -= c << 25;
  c = h2 >> 26; h3 += c; h2 -= c << 26;
  c = h3 >> 25; h4 += c; h3 -= c << 25;
  c = h4 >> 26; h5 += c; h4 -= c << 26;
  c = h5 >> 25; h6 += c; h5 -= c << 25;
  c = h6 >> 26; h7 += c; h6 -= c << 26;
  c = h7 >> 25; h8 += c; h7 -= c << 25;
  c = h8 >> 26; h9 += c; h8 -= c << 26;
  // q = floor((V + 19) / 2^255) is 1 exactly when V >= p (V < 2p).
  let q = (h0 + 19) >> 26;
  q = (h1 + q) >> 25;
  q = (h2 + q) >> 26;
  q = (h3 + q) >> 25;
  q = (h4 + q) >> 26;
  q = (h5 + q) >> 25;
  q = (h6 + q) >> 26;
  q = (h7 + q) >> 25;
  q = (h8 + q) >> 26;
  q = (h9 + q) >> 25;
  // V - q * p = V + 19q - q * 2^255: add 19q, carry, drop bit 255.
  h0 += 19 * q;
  c = h0 >> 26; h1 += c; h0 -= c << 26;
  c = h1 >> 25; h2 += c; h1 -= c << 25;
  c = h2 >> 26; h3 += c; h2 -= c << 26;
  c = h3 >> 25; h4 += c; h3 -= c << 25;
  c = h4 >> 26; h5 += c; h4 -= c << 26;
  c = h5 >> 25; h6 += c; h5 -= c << 25;
  c = h6 >> 26; h7 += c; h6 -= c << 26;
  c = h7 >> 25; h8 += c; h7 -= c << 25;
  c = h8 >> 26; h9 += c; h8 -= c << 26;
  h9 &= (<i64>1 << 25) - 1;
  // Pack 26/25-bit limbs into 256 bits: four 64-bit words.
  const w0 = <u64>h0 | (<u64>h1 << 26) | (<u64>h2 << 51);
  const w1 = (<u64>h2 >> 13) | (<u64>h3 << 13) | (<u64>h4 << 38);
  const w2 = <u64>h5 | (<u64>h6 << 25) | (<u64>h7 << 51);
  const w3 = (<u64>h7 >> 13) | (<u64>h8 << 12) | (<u64>h9 << 38);
  store<u64>(s, w0, 0);
  store<u64>(s, w1, 8);
  store<u64>(s, w2, 16);
  store<u64>(s, w3, 24);
}

/** Constant-time: swaps f and g when mask is -1, leaves them when mask is 0. */
export function feCSwap(f: usize, g: usize, mask: i32): void {
  const m = <u64><i64>mask;
  for (let i: usize = 0; i < 40; i += 8) {
    const a = load<u64>(f + i);
    const b = load<u64>(g + i);
    const x = (a ^ b) & m;
    store<u64>(f + i, a ^ x);
    store<u64>(g + i, b ^ x);
  }
}

/** Constant-time: f = g when mask is -1, unchanged when mask is 0. */
export function feCMove(f: usize, g: usize, mask: i32): void {
  const m = <u64><i64>mask;
  for (let i: usize = 0; i < 40; i += 8) {
    const a = load<u64>(f + i);
    store<u64>(f + i, a ^ ((a ^ load<u64>(g + i)) & m));
  }
}

/**
 * The common start of the addition chains of feInvert and fePow22523:
 * leaves T0 = z^(2^250 - 1) and T1 = z^11.
 */
function chain250(z: usize): void {
  feSquare(T1, z);              // z^2
  feSquareTimes(T2, T1, 2);     // z^8
  feMul(T2, z, T2);             // z^9
  feMul(T1, T1, T2);            // z^11
  feSquare(T3, T1);             // z^22
  feMul(T2, T2, T3);            // z^31 = z^(2^5 - 1)
  feSquareTimes(T3, T2, 5);
  feMul(T2, T3, T2);            // z^(2^10 - 1)
  feSquareTimes(T3, T2, 10);
  feMul(T3, T3, T2);            // z^(2^20 - 1)
  feSquareTimes(T0, T3, 20);
  feMul(T3, T0, T3);            // z^(2^40 - 1)
  feSquareTimes(T3, T3, 10);
  feMul(T2, T3, T2);            // z^(2^50 - 1)
  feSquareTimes(T3, T2, 50);
  feMul(T3, T3, T2);            // z^(2^100 - 1)
  feSquareTimes(T0, T3, 100);
  feMul(T3, T0, T3);            // z^(2^200 - 1)
  feSquareTimes(T3, T3, 50);
  feMul(T0, T3, T2);            // z^(2^250 - 1)
}

/** h = z^(p - 2) = 1/z (and 0 for z = 0): 254 squarings and 11 multiplications. */
export function feInvert(h: usize, z: usize): void {
  chain250(z);
  feSquareTimes(T0, T0, 5);     // z^(2^255 - 32)
  feMul(h, T0, T1);             // z^(2^255 - 21) = z^(p - 2)
}

/** h = z^((p - 5) / 8) = z^(2^252 - 3), the exponent of the square root in RFC 8032 §5.1.3. */
export function fePow22523(h: usize, z: usize): void {
  chain250(z);
  feSquareTimes(T0, T0, 2);     // z^(2^252 - 4)
  feMul(h, T0, z);              // z^(2^252 - 3)
}

/** Constant-time: 1 when f = 0 (mod p), else 0. */
export function feIsZero(f: usize): i32 {
  feToBytes(BYTES_A, f);
  let acc: u64 = 0;
  for (let i: usize = 0; i < 32; i += 8) acc |= load<u64>(BYTES_A + i);
  // (acc | -acc) has its top bit set exactly when acc != 0.
  return <i32>(((acc | (0 - acc)) >> 63) ^ 1);
}

/** 1 when the canonical value of f is odd ("negative" in RFC 8032 §5.1.2), else 0. */
export function feIsNegative(f: usize): i32 {
  feToBytes(BYTES_A, f);
  return load<u8>(BYTES_A) & 1;
}

/** Constant-time: 1 when f = g (mod p), else 0. */
export function feEqual(f: usize, g: usize): i32 {
  feToBytes(BYTES_A, f);
  feToBytes(BYTES_B, g);
  let acc: u64 = 0;
  for (let i: usize = 0; i < 32; i += 8) acc |= load<u64>(BYTES_A + i) ^ load<u64>(BYTES_B + i);
  return <i32>(((acc | (0 - acc)) >> 63) ^ 1);
}
