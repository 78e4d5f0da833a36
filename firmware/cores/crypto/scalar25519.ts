// Arithmetic modulo L = 2^252 + 27742317777372353535851937790883648493, the
// order of the edwards25519 base point (RFC 8032 §5.1).
//
// Numbers are held as 25 signed 64-bit limbs of 21 bits (525 bits, enough for
// a 512-bit hash). Reduction uses 2^252 = -c (mod L) with c = L - 2^252 < 2^125,
// and 2^252 = 2^(21 * 12), so limbs 12..24 are the multiple of 2^252:
//   x = h * 2^252 + l  ==>  x = l - h * c (mod L).
// Four such folds, each followed by a carry, bring any x < 2^512 into [0, L):
//   x < 2^512        -> r1 = l - h c in (-2^385, 2^252)
//   r1               -> r2 in [0, 2^252 + 2^258)      (h <= 0)
//   r2               -> r3 in (-2^132, 2^252)         (0 <= h < 2^7)
//   r3               -> r4 in [0, L)                  (h in {-1, 0}: r4 = l or l + c)
// Every limb product is below 2^42 and each limb collects at most 13 of them,
// so nothing overflows.
//
// Constant time: every function runs a fixed sequence of loads, multiplies,
// shifts and stores (no branch or index depends on the values), since the
// signing nonce r and the secret scalar a pass through scReduce64 and
// scMulAdd. scIsCanonical runs on the public S of a signature.

const LIMBS: i32 = 25;
const LIMB_BITS: i32 = 21;
const LIMB_MASK: i64 = (1 << 21) - 1;

/** c = L - 2^252 in 21-bit limbs (six limbs, 126 bits). */
const C: usize = memory.data<i64>([1430509, 1626855, 1442968, 997804, 1960495, 683900], 8);

// Working limbs, the folded-out high part, and a zero-padded byte copy for the
// bit reader (which reads up to 3 bytes past the last limb's first byte).
const S: usize = memory.data(LIMBS * 8, 8);
const H: usize = memory.data(13 * 8, 8);
const PAD: usize = memory.data(72, 8);
const PA: usize = memory.data(13 * 8, 8);
const PB: usize = memory.data(13 * 8, 8);

/** L as 32 little-endian bytes. */
const L_BYTES: usize = memory.data<u8>([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
]);

/** Bytes of static memory this file reserves (constants included). */
export const SCALAR_STATIC_BYTES: i32 = 6 * 8 + LIMBS * 8 + 13 * 8 + 72 + 2 * 13 * 8 + 32;

/** Reads `count` 21-bit limbs from the first `len` bytes at src (len <= 64) into dst. */
function loadLimbs(dst: usize, src: usize, len: i32, count: i32): void {
  memory.fill(PAD, 0, 72);
  memory.copy(PAD, src, len);
  for (let i = 0; i < count; i++) {
    const bit = i * LIMB_BITS;
    const word = load<u32>(PAD + <usize>(bit >> 3)) >> <u32>(bit & 7);
    store<i64>(dst + (<usize>i << 3), <i64>(word & <u32>LIMB_MASK));
  }
}

/** Floor-carries S[0..23] into the next limb, leaving S[0..23] in [0, 2^21). */
function carry(): void {
  for (let i = 0; i < LIMBS - 1; i++) {
    const p = S + (<usize>i << 3);
    const v = load<i64>(p);
    const c = v >> LIMB_BITS;
    store<i64>(p, v - (c << LIMB_BITS));
    store<i64>(p + 8, load<i64>(p + 8) + c);
  }
}

/** One fold x = h 2^252 + l -> l - h c, then a carry. */
function fold(): void {
  for (let i = 0; i < 13; i++) {
    const p = S + (<usize>(12 + i) << 3);
    store<i64>(H + (<usize>i << 3), load<i64>(p));
    store<i64>(p, 0);
  }
  for (let i = 0; i < 13; i++) {
    const h = load<i64>(H + (<usize>i << 3));
    for (let j = 0; j < 6; j++) {
      const p = S + (<usize>(i + j) << 3);
      store<i64>(p, load<i64>(p) - h * load<i64>(C + (<usize>j << 3)));
    }
  }
  carry();
}

/** Reduces the carried S (value in [0, 2^512)) mod L and writes 32 bytes to out. */
function reduceAndStore(out: usize): void {
  fold();
  fold();
  fold();
  fold();
  // S is now in [0, L) with limbs 0..11 full and limb 12 holding bit 252.
  let acc: u64 = 0;
  let bits: i32 = 0;
  let o: usize = 0;
  for (let i = 0; i < 13; i++) {
    acc |= <u64>load<i64>(S + (<usize>i << 3)) << <u64>bits;
    bits += LIMB_BITS;
    while (bits >= 8 && o < 32) {
      store<u8>(out + o, <u8>acc);
      acc >>= 8;
      bits -= 8;
      o++;
    }
  }
  while (o < 32) {
    store<u8>(out + o, <u8>acc);
    acc >>= 8;
    o++;
  }
  memory.fill(S, 0, LIMBS * 8);
  memory.fill(H, 0, 13 * 8);
}

/** out = x mod L for a 64-byte little-endian x (a SHA-512 digest, RFC 8032 §5.1.6/5.1.7). */
export function scReduce64(out: usize, x: usize): void {
  loadLimbs(S, x, 64, LIMBS);
  memory.fill(PAD, 0, 72);
  reduceAndStore(out);
}

/** out = (a * b + c) mod L for 32-byte little-endian a, b, c (RFC 8032 §5.1.6 step 5). */
export function scMulAdd(out: usize, a: usize, b: usize, c: usize): void {
  loadLimbs(PA, a, 32, 13);
  loadLimbs(PB, b, 32, 13);
  loadLimbs(S, c, 32, 13);
  memory.fill(S + 13 * 8, 0, (LIMBS - 13) * 8);
  for (let i = 0; i < 13; i++) {
    const ai = load<i64>(PA + (<usize>i << 3));
    for (let j = 0; j < 13; j++) {
      const p = S + (<usize>(i + j) << 3);
      store<i64>(p, load<i64>(p) + ai * load<i64>(PB + (<usize>j << 3)));
    }
  }
  carry();
  memory.fill(PAD, 0, 72);
  memory.fill(PA, 0, 13 * 8);
  memory.fill(PB, 0, 13 * 8);
  reduceAndStore(out);
}

/** True when the 32-byte little-endian s is below L (RFC 8032 §5.1.7 step 1). Variable time: public S only. */
export function scIsCanonical(s: usize): bool {
  for (let i = 31; i >= 0; i--) {
    const a = load<u8>(s + <usize>i);
    const b = load<u8>(L_BYTES + <usize>i);
    if (a < b) return true;
    if (a > b) return false;
  }
  return false; // s == L
}
