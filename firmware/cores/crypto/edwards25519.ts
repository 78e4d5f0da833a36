// Points of edwards25519 (RFC 8032 §5.1): -x^2 + y^2 = 1 + d x^2 y^2 over
// GF(2^255 - 19), d = -121665/121666.
//
// Representations (each coordinate a 40-byte field element, see field25519.ts):
// - extended   (X, Y, Z, T) with x = X/Z, y = Y/Z, x*y = T/Z   (160 bytes)
//   RFC 8032 §5.1.4 "extended homogeneous coordinates";
// - niels      (y + x, y - x, 2d*x*y) of an affine point          (120 bytes)
//   for mixed additions with precomputed points (Z2 = 1);
// - cached     (Y + X, Y - X, 2Z, 2d*T) of an extended point      (160 bytes)
//   for repeated additions of the same projective point.
// Addition and doubling are the formulas of RFC 8032 §5.1.4 (Hisil, Wong,
// Carter, Dawson 2008, a = -1); they are complete on this curve, so the
// identity and equal inputs need no special case.
//
// Constant time: geAddNiels/geAddCached/geDouble, the comb table lookups and
// geScalarMultBase run the same instructions and touch the same addresses for
// every scalar (signing nonces and secret scalars go through them). The only
// variable-time functions are geDoubleScalarMultVartime and geDecode, which
// see public data only (signature verification, RFC 8032 §5.1.7); they are
// named or documented as such.
import {
  feAdd, feCarry, feCMove, feCSwap, feCopy, feEqual, feFromBytes, feInvert,
  feIsNegative, feIsZero, feMul, feNeg, feOne, fePow22523, feSquare, feSub,
  feToBytes, feWipeScratch, feZero,
} from "./field25519";
import { wipe } from "./ct";

/** Bytes of an extended point, a niels point and a cached point. */
export const POINT_BYTES: i32 = 160;
export const NIELS_BYTES: i32 = 120;
export const CACHED_BYTES: i32 = 160;

// Coordinate offsets.
const X: usize = 0;
const Y: usize = 40;
const Z: usize = 80;
const T: usize = 120;
const YPX: usize = 0;
const YMX: usize = 40;
const XY2D: usize = 80; // niels
const Z2: usize = 80;   // cached
const T2D: usize = 120; // cached

// Constants as carried limbs (radix 2^25.5, see field25519.ts).
/** d = -121665/121666 */
const D: usize = memory.data<i32>([
  56195235, 13857412, 51736253, 6949390, 114729, 24766616, 60832955, 30306712, 48412415, 21499315,
], 8);
/** 2d */
const D2: usize = memory.data<i32>([
  45281625, 27714825, 36363642, 13898781, 229458, 15978800, 54557047, 27058993, 29715967, 9444199,
], 8);
/** sqrt(-1) = 2^((p-1)/4) */
const SQRTM1: usize = memory.data<i32>([
  34513072, 25610706, 9377949, 3500415, 12389472, 33281959, 41962654, 31548777, 326685, 11406482,
], 8);
/** The base point B of RFC 8032 §5.1: y = 4/5, x even. */
const BASE_X: usize = memory.data<i32>([
  52811034, 25909283, 16144682, 17082669, 27570973, 30858332, 40966398, 8378388, 20764389, 8758491,
], 8);
const BASE_Y: usize = memory.data<i32>([
  40265304, 26843545, 13421772, 20132659, 26843545, 6710886, 53687091, 13421772, 40265318, 26843545,
], 8);

// Formula temporaries (RFC 8032 §5.1.4 names A..H).
const TMP: usize = memory.data(8 * 40, 8);
const FA: usize = TMP;
const FB: usize = TMP + 40;
const FC: usize = TMP + 80;
const FD: usize = TMP + 120;
const FE: usize = TMP + 160;
const FF: usize = TMP + 200;
const FG: usize = TMP + 240;
const FH: usize = TMP + 280;

// Comb table for the base point: 8 rows of 8 niels points,
// TABLE[m][j - 1] = j * 2^(32 m) * B for m = 0..7, j = 1..8 (7,680 bytes),
// computed on first use.
const TABLE_ROWS: i32 = 8;
const TABLE_BYTES: i32 = TABLE_ROWS * 8 * NIELS_BYTES;
const TABLE: usize = memory.data(TABLE_BYTES, 8);
let tableReady: bool = false;

// Scratch shared by the table set-up and the variable-base multiples of
// geDoubleScalarMultVartime (they never run at the same time): eight
// extended/cached points, one field element, two more points.
const SCRATCH_POINTS: usize = memory.data(8 * POINT_BYTES, 8);
const SCRATCH_FE: usize = memory.data(40, 8);
const SCRATCH_P: usize = memory.data(POINT_BYTES, 8);
const SCRATCH_Q: usize = memory.data(POINT_BYTES, 8);

// Constant-time base multiplication state: the selected niels point, a
// negation temporary and the 64 signed radix-16 digits of the scalar.
const SELECTED: usize = memory.data(NIELS_BYTES + 40, 8);
const DIGITS: usize = memory.data(64, 8);

// Variable-time double multiplication: width-w NAF digits and zero-padded
// copies of the scalars (the bit reader may read 4 bytes past bit 255).
const NAF_A: usize = memory.data(256, 8);
const NAF_B: usize = memory.data(256, 8);
const SCALAR_A: usize = memory.data(40, 8);
const SCALAR_B: usize = memory.data(40, 8);

/** Bytes of static memory this file reserves (constants included). */
export const EDWARDS_STATIC_BYTES: i32 =
  5 * 40 + 8 * 40 + TABLE_BYTES + 8 * POINT_BYTES + 40 + 2 * POINT_BYTES +
  NIELS_BYTES + 40 + 64 + 2 * 256 + 2 * 40;

/**
 * Clears the formula temporaries here and in field25519.ts. Callers run it
 * after handling a secret-derived point (a public key being made, a nonce
 * point R), whose projective coordinates must not stay in memory.
 */
export function geWipeScratch(): void {
  wipe(TMP, 8 * 40);
  feWipeScratch();
}

/** p = identity (0, 1, 1, 0) */
export function geIdentity(p: usize): void {
  feZero(p + X);
  feOne(p + Y);
  feOne(p + Z);
  feZero(p + T);
}

/** r = p */
export function geCopy(r: usize, p: usize): void {
  memory.copy(r, p, POINT_BYTES);
}

/** r = -p (negates X and T). */
export function geNeg(r: usize, p: usize): void {
  feNeg(r + X, p + X);
  feCopy(r + Y, p + Y);
  feCopy(r + Z, p + Z);
  feNeg(r + T, p + T);
  feCarry(r + X);
  feCarry(r + T);
}

/**
 * r = 2p (RFC 8032 §5.1.4, doubling). T of p is not read; T of r is computed
 * only when withT (the next operation is an addition). r may alias p.
 */
export function geDouble(r: usize, p: usize, withT: bool): void {
  feSquare(FA, p + X);        // A = X1^2
  feSquare(FB, p + Y);        // B = Y1^2
  feSquare(FC, p + Z);
  feAdd(FC, FC, FC);          // C = 2 * Z1^2
  feAdd(FH, FA, FB);          // H = A + B
  feAdd(FE, p + X, p + Y);
  feSquare(FE, FE);
  feSub(FE, FH, FE);          // E = H - (X1 + Y1)^2
  feSub(FG, FA, FB);          // G = A - B
  feAdd(FF, FC, FG);          // F = C + G
  feMul(r + X, FE, FF);       // X3 = E * F
  feMul(r + Y, FG, FH);       // Y3 = G * H
  if (withT) feMul(r + T, FE, FH); // T3 = E * H
  feMul(r + Z, FF, FG);       // Z3 = F * G
}

/** The common end of both additions: from A, B, C, D in FA..FD. */
// @ts-ignore: decorator
@inline
function addFinish(r: usize, negate: bool): void {
  feSub(FE, FB, FA);          // E = B - A
  feAdd(FH, FB, FA);          // H = B + A
  if (negate) {               // adding -q: C changes sign
    feAdd(FF, FD, FC);        // F = D - (-C)
    feSub(FG, FD, FC);        // G = D + (-C)
  } else {
    feSub(FF, FD, FC);        // F = D - C
    feAdd(FG, FD, FC);        // G = D + C
  }
  feMul(r + X, FE, FF);       // X3 = E * F
  feMul(r + Y, FG, FH);       // Y3 = G * H
  feMul(r + T, FE, FH);       // T3 = E * H
  feMul(r + Z, FF, FG);       // Z3 = F * G
}

/**
 * r = p + q (negate = false) or p - q (negate = true) for a niels point q
 * (RFC 8032 §5.1.4 addition with Z2 = 1 and 2d*T2 precomputed). r may alias p.
 * negate must be public: the constant-time paths always pass false.
 */
export function geAddNiels(r: usize, p: usize, q: usize, negate: bool): void {
  feSub(FA, p + Y, p + X);
  feAdd(FB, p + Y, p + X);
  if (negate) {               // -q = (y - x, y + x, -2dxy)
    feMul(FA, FA, q + YPX);   // A = (Y1 - X1) * (Y2 - X2)
    feMul(FB, FB, q + YMX);   // B = (Y1 + X1) * (Y2 + X2)
  } else {
    feMul(FA, FA, q + YMX);
    feMul(FB, FB, q + YPX);
  }
  feMul(FC, p + T, q + XY2D); // C = T1 * 2d * T2
  feAdd(FD, p + Z, p + Z);    // D = Z1 * 2 * Z2
  addFinish(r, negate);
}

/** r = p + q or p - q for a cached point q (RFC 8032 §5.1.4 addition). r may alias p. */
export function geAddCached(r: usize, p: usize, q: usize, negate: bool): void {
  feSub(FA, p + Y, p + X);
  feAdd(FB, p + Y, p + X);
  if (negate) {
    feMul(FA, FA, q + YPX);
    feMul(FB, FB, q + YMX);
  } else {
    feMul(FA, FA, q + YMX);
    feMul(FB, FB, q + YPX);
  }
  feMul(FC, p + T, q + T2D);
  feMul(FD, p + Z, q + Z2);
  addFinish(r, negate);
}

/** c = cached form of the extended point p. */
export function geToCached(c: usize, p: usize): void {
  feAdd(c + YPX, p + Y, p + X);
  feCarry(c + YPX);
  feSub(c + YMX, p + Y, p + X);
  feCarry(c + YMX);
  feAdd(c + Z2, p + Z, p + Z);
  feCarry(c + Z2);
  feMul(c + T2D, p + T, D2);
}

/** Writes the encoding of p given zinv = 1/Z (in FA or FD, not FB/FC). */
function encodeWithInverse(out: usize, p: usize, zinv: usize): void {
  feMul(FB, p + X, zinv);     // x
  feMul(FC, p + Y, zinv);     // y
  feToBytes(out, FC);
  const sign = feIsNegative(FB);
  store<u8>(out + 31, load<u8>(out + 31) | <u8>(sign << 7));
}

/** Writes the 32-byte encoding of p (RFC 8032 §5.1.2): y with the low bit of x on top. */
export function geEncode(out: usize, p: usize): void {
  feInvert(FA, p + Z);
  encodeWithInverse(out, p, FA);
}

/** Encodes two points with one inversion (1/Zp = Zq/(Zp Zq), 1/Zq = Zp/(Zp Zq)). */
export function geEncodePair(outP: usize, p: usize, outQ: usize, q: usize): void {
  feMul(FD, p + Z, q + Z);
  feInvert(FD, FD);
  feMul(FA, FD, q + Z);
  encodeWithInverse(outP, p, FA);
  feMul(FA, FD, p + Z);
  encodeWithInverse(outQ, q, FA);
}

/**
 * u = (1 + y) / (1 - y) = (Z + Y) / (Z - Y), the Curve25519 u-coordinate of p
 * (the birational map of RFC 7748 §4.1), as 32 canonical bytes.
 */
export function geToMontgomeryU(out: usize, p: usize): void {
  feSub(FA, p + Z, p + Y);
  feInvert(FA, FA);
  feAdd(FB, p + Z, p + Y);
  feMul(FB, FB, FA);
  feToBytes(out, FB);
}

/** 1 when the 32 bytes at s, bit 255 ignored, encode a value >= p = 2^255 - 19 (variable time). */
export function isNonCanonicalFieldBytes(s: usize): bool {
  if ((load<u8>(s + 31) & 0x7f) != 0x7f) return false;
  for (let i: usize = 30; i >= 1; i--) {
    if (load<u8>(s + i) != 0xff) return false;
  }
  return load<u8>(s) >= 0xed;
}

/**
 * Decodes a point (RFC 8032 §5.1.3), strictly: rejects y >= p, an x that
 * does not exist (not on the curve) and x = 0 with the sign bit set. Returns
 * true and sets p (extended, Z = 1) on success. Runs on public data (public
 * keys); its early returns are not constant time.
 */
export function geDecode(p: usize, s: usize): bool {
  if (isNonCanonicalFieldBytes(s)) return false;
  const sign = <i32>(load<u8>(s + 31) >> 7);
  const x = p + X;
  const y = p + Y;
  feFromBytes(y, s);
  feOne(p + Z);
  // u = y^2 - 1, v = d y^2 + 1
  feSquare(FA, y);
  feMul(FB, FA, D);
  feOne(FC);
  feSub(FA, FA, FC);
  feCarry(FA);                // FA = u
  feAdd(FB, FB, FC);
  feCarry(FB);                // FB = v
  // x = u v^3 (u v^7)^((p-5)/8)
  feSquare(FD, FB);
  feMul(FD, FD, FB);          // v^3
  feSquare(FE, FD);
  feMul(FE, FE, FB);          // v^7
  feMul(FE, FE, FA);          // u v^7
  fePow22523(FE, FE);
  feMul(FE, FE, FD);
  feMul(x, FE, FA);           // x = u v^3 (u v^7)^((p-5)/8)
  // v x^2 must be u (x is a root) or -u (x * sqrt(-1) is).
  feSquare(FF, x);
  feMul(FF, FF, FB);
  if (!feEqual(FF, FA)) {
    feNeg(FG, FA);
    if (!feEqual(FF, FG)) return false;
    feMul(x, x, SQRTM1);
  }
  if (feIsZero(x) && sign == 1) return false;
  if (feIsNegative(x) != sign) {
    feNeg(x, x);
    feCarry(x);
  }
  feMul(p + T, x, y);
  return true;
}

/** Writes the niels form of the affine point (x, y). */
function nielsFromAffine(n: usize, x: usize, y: usize): void {
  feAdd(n + YPX, y, x);
  feCarry(n + YPX);
  feSub(n + YMX, y, x);
  feCarry(n + YMX);
  feMul(n + XY2D, x, y);
  feMul(n + XY2D, n + XY2D, D2);
}

/**
 * Fills TABLE once: for each row m, P = 2^(32 m) B and its multiples 1P..8P
 * (made in SCRATCH_POINTS), then all 64 points made affine with a single
 * inversion (Montgomery's trick). While the rows are made, entry i holds
 * (X_i * q_i, Y_i * q_i, Z_i) with q_i = Z_0 ... Z_(i-1); walking back from
 * 1/(Z_0 ... Z_63), each step gives x_i = X_i q_i / (q_i Z_i) and y_i alike,
 * then multiplies by Z_i to move to 1/q_i.
 */
function buildTable(): void {
  const P = SCRATCH_P;
  const PC = SCRATCH_Q;
  const S = SCRATCH_POINTS;
  const acc = SCRATCH_FE;     // q_i, the product of the Z coordinates so far
  feCopy(P + X, BASE_X);
  feCopy(P + Y, BASE_Y);
  feOne(P + Z);
  feMul(P + T, BASE_X, BASE_Y);
  feOne(acc);
  for (let m = 0; m < TABLE_ROWS; m++) {
    geCopy(S, P);
    geToCached(PC, P);
    geDouble(S + POINT_BYTES, P, true);
    for (let j = 2; j < 8; j++) {
      geAddCached(S + <usize>j * POINT_BYTES, S + <usize>(j - 1) * POINT_BYTES, PC, false);
    }
    for (let j = 0; j < 8; j++) {
      const pj = S + <usize>j * POINT_BYTES;
      const entry = TABLE + <usize>(m * 8 + j) * NIELS_BYTES;
      feMul(entry, pj + X, acc);
      feMul(entry + 40, pj + Y, acc);
      feCopy(entry + 80, pj + Z);
      feMul(acc, acc, pj + Z);
    }
    if (m + 1 < TABLE_ROWS) {
      for (let i = 0; i < 32; i++) geDouble(P, P, i == 31);
    }
  }
  const inv = FH;
  feInvert(inv, acc);         // 1 / (Z_0 ... Z_63)
  for (let i = TABLE_ROWS * 8 - 1; i >= 0; i--) {
    const entry = TABLE + <usize>i * NIELS_BYTES;
    feMul(FA, entry, inv);      // x_i
    feMul(FB, entry + 40, inv); // y_i
    feMul(inv, inv, entry + 80);
    nielsFromAffine(entry, FA, FB);
  }
  tableReady = true;
}

/** Builds the comb table on first use (public data; the branch depends on nothing secret). */
// @ts-ignore: decorator
@inline
function ensureTable(): void {
  if (!tableReady) buildTable();
}

/**
 * SELECTED = digit * TABLE[row][.] for a signed digit in [-8, 8], in
 * constant time: all eight entries of the row are read, each ANDed with a
 * mask that is all ones for the wanted entry only, and ORed together; the
 * identity (1, 1, 0) is ORed in the same way for digit 0. The result is then
 * negated under a mask.
 */
function selectNiels(row: i32, digit: i32): void {
  const negMask = digit >> 31;                   // -1 when digit < 0
  const abs = (digit ^ negMask) - negMask;
  // For x in [0, 15], (x - 1) >>> 31 is 1 exactly when x = 0; negated, an
  // all-ones mask. zero selects the identity, m below the entry j = abs.
  const zero = <u64><i64>(-(<i32>(<u32>(abs - 1) >> 31)));
  let w0: u64 = zero & 1, w1: u64 = 0, w2: u64 = 0, w3: u64 = 0, w4: u64 = 0;
  let w5: u64 = zero & 1, w6: u64 = 0, w7: u64 = 0, w8: u64 = 0, w9: u64 = 0;
  let w10: u64 = 0, w11: u64 = 0, w12: u64 = 0, w13: u64 = 0, w14: u64 = 0;
  let e = TABLE + <usize>(row * 8) * NIELS_BYTES;
  for (let j = 1; j <= 8; j++) {
    const m = <u64><i64>(-(<i32>(<u32>((abs ^ j) - 1) >> 31)));
    w0 |= load<u64>(e, 0) & m;
    w1 |= load<u64>(e, 8) & m;
    w2 |= load<u64>(e, 16) & m;
    w3 |= load<u64>(e, 24) & m;
    w4 |= load<u64>(e, 32) & m;
    w5 |= load<u64>(e, 40) & m;
    w6 |= load<u64>(e, 48) & m;
    w7 |= load<u64>(e, 56) & m;
    w8 |= load<u64>(e, 64) & m;
    w9 |= load<u64>(e, 72) & m;
    w10 |= load<u64>(e, 80) & m;
    w11 |= load<u64>(e, 88) & m;
    w12 |= load<u64>(e, 96) & m;
    w13 |= load<u64>(e, 104) & m;
    w14 |= load<u64>(e, 112) & m;
    e += <usize>NIELS_BYTES;
  }
  const n = SELECTED;
  store<u64>(n, w0, 0);
  store<u64>(n, w1, 8);
  store<u64>(n, w2, 16);
  store<u64>(n, w3, 24);
  store<u64>(n, w4, 32);
  store<u64>(n, w5, 40);
  store<u64>(n, w6, 48);
  store<u64>(n, w7, 56);
  store<u64>(n, w8, 64);
  store<u64>(n, w9, 72);
  store<u64>(n, w10, 80);
  store<u64>(n, w11, 88);
  store<u64>(n, w12, 96);
  store<u64>(n, w13, 104);
  store<u64>(n, w14, 112);
  // -(y + x, y - x, 2dxy) = (y - x, y + x, -2dxy)
  feCSwap(n + YPX, n + YMX, negMask);
  const negT = n + <usize>NIELS_BYTES;
  feNeg(negT, n + XY2D);
  feCMove(n + XY2D, negT, negMask);
}

/**
 * Signed radix-16 digits of a 32-byte scalar k < 2^255: k = sum e_i 16^i with
 * e_i in [-8, 8) for i < 63 and e_63 in [-8, 8]. Constant time.
 */
function recodeRadix16(k: usize): void {
  for (let i = 0; i < 32; i++) {
    const b = <i32>load<u8>(k + <usize>i);
    store<i8>(DIGITS + <usize>(2 * i), <i8>(b & 15));
    store<i8>(DIGITS + <usize>(2 * i + 1), <i8>(b >> 4));
  }
  let carry: i32 = 0;
  for (let i = 0; i < 63; i++) {
    const e = <i32>load<i8>(DIGITS + <usize>i) + carry;
    carry = (e + 8) >> 4;
    store<i8>(DIGITS + <usize>i, <i8>(e - (carry << 4)));
  }
  store<i8>(DIGITS + 63, <i8>(<i32>load<i8>(DIGITS + 63) + carry));
}

/**
 * r = k * B for a 32-byte little-endian scalar k < 2^255 (a clamped secret
 * scalar or a nonce reduced mod L). Constant time in k.
 * With k = sum_{m, s} e_{8m+s} 16^(8m+s), k B = sum_s 16^s sum_m e_{8m+s} (2^(32m) B):
 * eight rounds of 8 table additions separated by 4 doublings.
 */
export function geScalarMultBase(r: usize, k: usize): void {
  ensureTable();
  recodeRadix16(k);
  geIdentity(r);
  for (let s = 7; s >= 0; s--) {
    if (s < 7) {
      geDouble(r, r, false);
      geDouble(r, r, false);
      geDouble(r, r, false);
      geDouble(r, r, true);
    }
    for (let m = 0; m < TABLE_ROWS; m++) {
      selectNiels(m, <i32>load<i8>(DIGITS + <usize>(8 * m + s)));
      geAddNiels(r, r, SELECTED, false);
    }
  }
  wipe(DIGITS, 64);
  wipe(SELECTED, NIELS_BYTES + 40);
  wipe(TMP, 8 * 40);
}

/**
 * Width-w NAF of a scalar below 2^253 held zero-padded in 40 bytes at s:
 * 256 signed digits, each 0 or odd with |d| < 2^(w-1), at most one non-zero
 * in any w consecutive positions. Variable time (public scalars only).
 */
function slideWnaf(out: usize, s: usize, w: i32): void {
  memory.fill(out, 0, 256);
  let carry: i32 = 0;
  let bit: i32 = 0;
  while (bit < 256) {
    const b = (<i32>load<u8>(s + <usize>(bit >> 3)) >> (bit & 7)) & 1;
    if (b == carry) {
      bit++;
      continue;
    }
    const width = bit + w > 256 ? 256 - bit : w;
    let word = <i32>((load<u32>(s + <usize>(bit >> 3)) >> <u32>(bit & 7)) & ((1 << width) - 1)) + carry;
    carry = (word >> (w - 1)) & 1;
    word -= carry << w;
    store<i8>(out + <usize>bit, <i8>word);
    bit += width;
  }
}

/**
 * r = a * A + b * B for public 32-byte scalars a, b < 2^253 and an extended
 * point A (Strauss-Shamir with width-5 NAF for A and width-4 NAF for B, whose
 * odd multiples 1B, 3B, 5B, 7B are row 0 of the comb table). Variable time:
 * for signature verification only.
 */
export function geDoubleScalarMultVartime(r: usize, a: usize, A: usize, b: usize): void {
  ensureTable();
  memory.fill(SCALAR_A, 0, 40);
  memory.copy(SCALAR_A, a, 32);
  memory.fill(SCALAR_B, 0, 40);
  memory.copy(SCALAR_B, b, 32);
  slideWnaf(NAF_A, SCALAR_A, 5);
  slideWnaf(NAF_B, SCALAR_B, 4);
  // Odd multiples (2i + 1) A for i = 0..7, cached.
  const A2 = SCRATCH_Q;
  const P = SCRATCH_P;
  geDouble(P, A, true);
  geToCached(A2, P);
  geCopy(P, A);
  geToCached(SCRATCH_POINTS, P);
  for (let i = 1; i < 8; i++) {
    geAddCached(P, P, A2, false);
    geToCached(SCRATCH_POINTS + <usize>i * CACHED_BYTES, P);
  }
  let i = 255;
  while (i >= 0 && load<i8>(NAF_A + <usize>i) == 0 && load<i8>(NAF_B + <usize>i) == 0) i--;
  geIdentity(r);
  for (; i >= 0; i--) {
    const da = <i32>load<i8>(NAF_A + <usize>i);
    const db = <i32>load<i8>(NAF_B + <usize>i);
    geDouble(r, r, da != 0 || db != 0);
    if (da > 0) {
      geAddCached(r, r, SCRATCH_POINTS + <usize>(da >> 1) * CACHED_BYTES, false);
    } else if (da < 0) {
      geAddCached(r, r, SCRATCH_POINTS + <usize>((-da) >> 1) * CACHED_BYTES, true);
    }
    if (db > 0) {
      geAddNiels(r, r, TABLE + <usize>(db - 1) * NIELS_BYTES, false);
    } else if (db < 0) {
      geAddNiels(r, r, TABLE + <usize>(-db - 1) * NIELS_BYTES, true);
    }
  }
}
