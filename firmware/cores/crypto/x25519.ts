// X25519 (RFC 7748 §5): the Montgomery ladder on Curve25519 over u-coordinates,
// and the fixed-base X25519(k, 9) through the edwards25519 comb.
//
// Constant time: the ladder runs 255 identical steps whatever the scalar is;
// the scalar's bits only choose a swap mask (feCSwap), never a branch or an
// address. x25519ScalarmultBase uses the constant-time geScalarMultBase. The
// final all-zero check (RFC 7748 §6.1) ORs all output bytes; the status it
// returns tells only that the peer's point had small order, which is a
// property of public data. The ladder state is wiped after each call.
import {
  feAddSub, feCSwap, feCopy, feFromBytes, feInvert, feMul, feMulSmallAdd, feOne,
  feSquare, feSub, feToBytes, feWipeScratch, feZero,
} from "./field25519";
import { wipe } from "./ct";
import { geScalarMultBase, geToMontgomeryU, geWipeScratch } from "./edwards25519";

// Ladder state and temporaries (RFC 7748 §5 names), one block so that it can
// be wiped at once, then the clamped scalar (decodeScalar25519).
const STATE_BYTES: i32 = 12 * 40 + 32;
const STATE: usize = memory.data(STATE_BYTES, 8);
const X1: usize = STATE;
const X2: usize = STATE + 40;
const Z2: usize = STATE + 80;
const X3: usize = STATE + 120;
const Z3: usize = STATE + 160;
const TA: usize = STATE + 200;
const TAA: usize = STATE + 240;
const TB: usize = STATE + 280;
const TBB: usize = STATE + 320;
const TE: usize = STATE + 360;
const TC: usize = STATE + 400;
const TD: usize = STATE + 440;
const K: usize = STATE + 480;

/** Bytes of static memory this file reserves. */
export const X25519_STATIC_BYTES: i32 = STATE_BYTES;

/**
 * a24 = (486662 - 2) / 4 = 121665, used as z_2 = E * (AA + a24 * E), exactly
 * as written in RFC 7748 §5.
 */
const A24: i32 = 121665;

/** RFC 7748 §5 decodeScalar25519: copies the 32-byte scalar to dst and clamps it. */
export function clampScalar(dst: usize, src: usize): void {
  memory.copy(dst, src, 32);
  store<u8>(dst, load<u8>(dst) & 248);
  store<u8>(dst + 31, (load<u8>(dst + 31) & 127) | 64);
}

/** One step of the ladder (RFC 7748 §5), in place on X2, Z2, X3, Z3. */
function ladderStep(): void {
  feAddSub(TA, TB, X2, Z2); // A = x_2 + z_2, B = x_2 - z_2
  feAddSub(TC, TD, X3, Z3); // C = x_3 + z_3, D = x_3 - z_3
  feSquare(TAA, TA);        // AA = A^2
  feSquare(TBB, TB);        // BB = B^2
  feMul(TD, TD, TA);        // DA = D * A
  feMul(TC, TC, TB);        // CB = C * B
  feAddSub(X3, Z3, TD, TC);
  feSquare(X3, X3);         // x_3 = (DA + CB)^2
  feSquare(Z3, Z3);
  feMul(Z3, X1, Z3);        // z_3 = x_1 * (DA - CB)^2
  feMul(X2, TAA, TBB);      // x_2 = AA * BB
  feSub(TE, TAA, TBB);      // E = AA - BB
  feMulSmallAdd(TA, TE, A24, TAA);
  feMul(Z2, TE, TA);        // z_2 = E * (AA + a24 * E)
}

/**
 * out = X25519(k, u) (RFC 7748 §5) with out, k and u 32-byte buffers (out may
 * alias either input). The scalar is clamped; bit 255 of u is masked and a
 * non-canonical u (2^255 - 19 <= u < 2^255) is reduced mod p. The output is
 * canonical. Returns 1 when the result is all zeros (low-order u), else 0.
 */
export function x25519Scalarmult(out: usize, k: usize, u: usize): i32 {
  clampScalar(K, k);
  feFromBytes(X1, u);
  feOne(X2);
  feZero(Z2);
  feCopy(X3, X1);
  feOne(Z3);
  let swap: i32 = 0;
  for (let t = 254; t >= 0; t--) {
    const kt = (<i32>load<u8>(K + <usize>(t >> 3)) >> (t & 7)) & 1;
    swap ^= kt;
    feCSwap(X2, X3, -swap);
    feCSwap(Z2, Z3, -swap);
    swap = kt;
    ladderStep();
  }
  feCSwap(X2, X3, -swap);
  feCSwap(Z2, Z3, -swap);
  feInvert(Z2, Z2);
  feMul(X2, X2, Z2);
  feToBytes(out, X2);
  const zero = isAllZero32(out);
  // The ladder state depends on the secret scalar: wipe it.
  wipe(STATE, STATE_BYTES);
  feWipeScratch();
  return zero;
}

/**
 * out = X25519(k, 9), the public key of k (RFC 7748 §6.1), through the
 * fixed-base comb of edwards25519.ts: [k]B on edwards25519, whose base point
 * maps to u = 9, then u = (1 + y) / (1 - y) (RFC 7748 §4.1). Same result as
 * the ladder for every k (the clamped k is below 2^255 and [k]B is never the
 * identity), about 3x faster. Constant time. Returns 1 when the result is all
 * zeros (never, for this base point), else 0.
 */
export function x25519ScalarmultBase(out: usize, k: usize): i32 {
  clampScalar(K, k);
  geScalarMultBase(STATE, K);   // the point (160 bytes) sits over X1..Z3
  geToMontgomeryU(out, STATE);
  const zero = isAllZero32(out);
  wipe(STATE, STATE_BYTES);
  geWipeScratch();
  return zero;
}

/** Constant-time: 1 when the 32 bytes at p are all zero, else 0. */
export function isAllZero32(p: usize): i32 {
  let acc: u64 = 0;
  for (let i: usize = 0; i < 32; i += 8) acc |= load<u64>(p + i);
  return <i32>(((acc | (0 - acc)) >> 63) ^ 1);
}
