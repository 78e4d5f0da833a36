// Poly1305 one-time authenticator (RFC 8439 §2.5).
// Constant time: the accumulator is four 32-bit limbs plus a small top limb,
// multiplied with 32x32->64-bit products; carries are shifts and masks, and the
// final reduction mod 2^130 - 5 selects with a mask. No branch or memory
// address depends on the key, the message bytes or the accumulator; branches
// depend on lengths only. This assumes the host's 64-bit multiply takes the
// same time for all operands (x86-64 imul; on the ESP32, wasm3's i64.mul built
// from the Xtensa mull/muluh instructions).
//
// Radix 2^32: h = h0 + h1 2^32 + h2 2^64 + h3 2^96 + h4 2^128 and
// r = r0 + r1 2^32 + r2 2^64 + r3 2^96. Clamping (§2.5) leaves every r limb
// below 2^28 and r1, r2, r3 divisible by 4, so a product that reaches 2^128,
// h_i r_j 2^(32(i+j)) with i + j >= 4 and j >= 1, equals
// h_i (r_j / 4) 2^130 2^(32(i+j-4)) = h_i (5 r_j / 4) 2^(32(i+j-4)) mod p.
// With s_j = 5 r_j / 4 = r_j + (r_j >> 2) < 2^28.4 and h_i < 2^32 (h4 <= 6
// while multiplying), every column is a sum of at most five products below
// 2^61, so below 2^64: a u64 never overflows.
//
// Context layout (POLY_CTX_BYTES, 4-byte aligned):
//   0   r     4 x u32  clamped r
//   16  s     4 x u32  the second key half, added at the end
//   32  h     5 x u32  accumulator (h4 <= 4 between blocks)
//   52  buf   16 bytes a message block still being filled
//   68  used  i32      bytes waiting in `buf`

export const POLY_CTX_BYTES: i32 = 72;
export const POLY_KEY_BYTES: i32 = 32;
export const POLY_TAG_BYTES: i32 = 16;

const OFF_R: usize = 0;
const OFF_S: usize = 16;
const OFF_H: usize = 32;
const OFF_BUF: usize = 52;
const OFF_USED: usize = 68;

const M32: u64 = 0xffffffff;

/** §2.5: loads r (clamped) and s from the 32-byte one-time key and clears the accumulator. */
export function polyInit(ctx: usize, key: usize): void {
  // clamp(r): r &= 0x0ffffffc0ffffffc0ffffffc0fffffff (little-endian words).
  store<u32>(ctx + OFF_R, load<u32>(key, 0) & 0x0fffffff, 0);
  store<u32>(ctx + OFF_R, load<u32>(key, 4) & 0x0ffffffc, 4);
  store<u32>(ctx + OFF_R, load<u32>(key, 8) & 0x0ffffffc, 8);
  store<u32>(ctx + OFF_R, load<u32>(key, 12) & 0x0ffffffc, 12);
  memory.copy(ctx + OFF_S, key + 16, 16);
  memory.fill(ctx + OFF_H, 0, 20);
  memory.fill(ctx + OFF_BUF, 0, 16);
  store<i32>(ctx + OFF_USED, 0);
}

/**
 * §2.5.1: for each of `blocks` 16-byte blocks at `m`, h = (h + block + hibit 2^128) * r
 * mod 2^130 - 5, partially reduced (h4 <= 4). `hibit` is 1 for full blocks and 0
 * for the final block of a raw MAC, which polyFinish pads with 0x01 itself.
 */
function polyBlocks(ctx: usize, m: usize, blocks: i32, hibit: u64): void {
  const r0 = <u64>load<u32>(ctx + OFF_R, 0);
  const r1 = <u64>load<u32>(ctx + OFF_R, 4);
  const r2 = <u64>load<u32>(ctx + OFF_R, 8);
  const r3 = <u64>load<u32>(ctx + OFF_R, 12);
  const s1 = r1 + (r1 >> 2);
  const s2 = r2 + (r2 >> 2);
  const s3 = r3 + (r3 >> 2);
  let h0 = <u64>load<u32>(ctx + OFF_H, 0);
  let h1 = <u64>load<u32>(ctx + OFF_H, 4);
  let h2 = <u64>load<u32>(ctx + OFF_H, 8);
  let h3 = <u64>load<u32>(ctx + OFF_H, 12);
  let h4 = <u64>load<u32>(ctx + OFF_H, 16);

  for (let b = 0; b < blocks; b++) {
    // h += block + hibit 2^128, carrying 32 bits at a time.
    h0 += <u64>load<u32>(m, 0);
    h1 += <u64>load<u32>(m, 4) + (h0 >> 32);
    h2 += <u64>load<u32>(m, 8) + (h1 >> 32);
    h3 += <u64>load<u32>(m, 12) + (h2 >> 32);
    h4 += hibit + (h3 >> 32);
    h0 &= M32;
    h1 &= M32;
    h2 &= M32;
    h3 &= M32;

    // h * r: column k collects h_i r_j with i + j = k, plus the wrapped columns.
    const d0 = h0 * r0 + h1 * s3 + h2 * s2 + h3 * s1;
    let d1 = h0 * r1 + h1 * r0 + h2 * s3 + h3 * s2 + h4 * s1;
    let d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s3 + h4 * s2;
    let d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s3;
    let d4 = h4 * r0;
    d1 += d0 >> 32;
    d2 += d1 >> 32;
    d3 += d2 >> 32;
    d4 += d3 >> 32;

    // Partial reduction: d4 2^128 = (d4 >> 2) 2^130 + (d4 & 3) 2^128, and 2^130 = 5 mod p.
    h0 = (d0 & M32) + (d4 >> 2) + (d4 & ~<u64>3);
    h1 = (d1 & M32) + (h0 >> 32);
    h2 = (d2 & M32) + (h1 >> 32);
    h3 = (d3 & M32) + (h2 >> 32);
    h4 = (d4 & 3) + (h3 >> 32);
    h0 &= M32;
    h1 &= M32;
    h2 &= M32;
    h3 &= M32;

    m += 16;
  }

  store<u32>(ctx + OFF_H, <u32>h0, 0);
  store<u32>(ctx + OFF_H, <u32>h1, 4);
  store<u32>(ctx + OFF_H, <u32>h2, 8);
  store<u32>(ctx + OFF_H, <u32>h3, 12);
  store<u32>(ctx + OFF_H, <u32>h4, 16);
}

/** Absorbs `len` bytes at `m`: whole blocks straight from memory, a tail into `buf`. */
export function polyUpdate(ctx: usize, m: usize, len: i32): void {
  const buf = ctx + OFF_BUF;
  let used = load<i32>(ctx + OFF_USED);
  if (used > 0) {
    let take = 16 - used;
    if (take > len) take = len;
    memory.copy(buf + <usize>used, m, take);
    used += take;
    m += <usize>take;
    len -= take;
    if (used < 16) {
      store<i32>(ctx + OFF_USED, used);
      return;
    }
    polyBlocks(ctx, buf, 1, 1);
    used = 0;
  }
  const blocks = len >> 4;
  if (blocks > 0) {
    polyBlocks(ctx, m, blocks, 1);
    m += <usize>(blocks << 4);
    len &= 15;
  }
  if (len > 0) {
    memory.copy(buf, m, len);
    used = len;
  }
  store<i32>(ctx + OFF_USED, used);
}

/**
 * RFC 8439 §2.8.1 pad16: completes a waiting partial block with zero bytes and
 * absorbs it as a full block. Does nothing on a block boundary.
 */
export function polyPad16(ctx: usize): void {
  const used = load<i32>(ctx + OFF_USED);
  if (used > 0) {
    memory.fill(ctx + OFF_BUF + <usize>used, 0, 16 - used);
    polyBlocks(ctx, ctx + OFF_BUF, 1, 1);
    store<i32>(ctx + OFF_USED, 0);
  }
}

/**
 * Absorbs one full block made of two little-endian u64 values (the lengths block
 * of RFC 8439 §2.8). Call on a block boundary.
 */
export function polyLengths(ctx: usize, a: u64, b: u64): void {
  const buf = ctx + OFF_BUF;
  store<u64>(buf, a, 0);
  store<u64>(buf, b, 8);
  polyBlocks(ctx, buf, 1, 1);
}

/**
 * §2.5.1: absorbs a waiting partial block (padded with 0x01 then zeros, no
 * 2^128 bit), reduces h fully mod 2^130 - 5, adds s mod 2^128 and writes the
 * 16-byte tag to `out`.
 */
export function polyFinish(ctx: usize, out: usize): void {
  const used = load<i32>(ctx + OFF_USED);
  if (used > 0) {
    const buf = ctx + OFF_BUF;
    store<u8>(buf + <usize>used, 1);
    memory.fill(buf + <usize>used + 1, 0, 15 - used);
    polyBlocks(ctx, buf, 1, 0);
  }

  const h0 = <u64>load<u32>(ctx + OFF_H, 0);
  const h1 = <u64>load<u32>(ctx + OFF_H, 4);
  const h2 = <u64>load<u32>(ctx + OFF_H, 8);
  const h3 = <u64>load<u32>(ctx + OFF_H, 12);
  const h4 = <u64>load<u32>(ctx + OFF_H, 16);

  // h < 5 * 2^128 < 2p, so h mod p is h or h - p. g = h + 5 = h - p + 2^130
  // reaches 2^130 exactly when h >= p; then the low 128 bits of g are h - p.
  const g0 = h0 + 5;
  const g1 = h1 + (g0 >> 32);
  const g2 = h2 + (g1 >> 32);
  const g3 = h3 + (g2 >> 32);
  const g4 = h4 + (g3 >> 32);
  const useG = <u64>0 - (g4 >> 2); // all ones when h >= p (g4 >> 2 is 0 or 1)
  const useH = ~useG;
  const w0 = (h0 & useH) | (g0 & useG);
  const w1 = (h1 & useH) | (g1 & useG);
  const w2 = (h2 & useH) | (g2 & useG);
  const w3 = (h3 & useH) | (g3 & useG);

  // tag = (h + s) mod 2^128.
  let f = (w0 & M32) + <u64>load<u32>(ctx + OFF_S, 0);
  store<u32>(out, <u32>f, 0);
  f = (w1 & M32) + <u64>load<u32>(ctx + OFF_S, 4) + (f >> 32);
  store<u32>(out, <u32>f, 4);
  f = (w2 & M32) + <u64>load<u32>(ctx + OFF_S, 8) + (f >> 32);
  store<u32>(out, <u32>f, 8);
  f = (w3 & M32) + <u64>load<u32>(ctx + OFF_S, 12) + (f >> 32);
  store<u32>(out, <u32>f, 12);
}

/** Overwrites the context (r, s, accumulator, buffered bytes) with zeros. */
export function polyWipe(ctx: usize): void {
  memory.fill(ctx, 0, POLY_CTX_BYTES);
}
