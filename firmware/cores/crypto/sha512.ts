// SHA-512 (FIPS 180-4 §6.4), used by Ed25519 (RFC 8032 §5.1).
// Constant time: the work done depends only on the message length.
//
// Context layout (SHA512_CTX_BYTES, 8-byte aligned):
//   0   H0..H7      8 x u64  running hash value (§6.4.2)
//   64  block       128 bytes partially filled message block
//   192 total       u64      bytes absorbed so far
//   200 used        i32      bytes waiting in `block`

export const SHA512_CTX_BYTES: i32 = 208;
const OFF_BLOCK: usize = 64;
const OFF_TOTAL: usize = 192;
const OFF_USED: usize = 200;
const BLOCK_BYTES: i32 = 128;

// §4.2.3: the first 64 bits of the fractional parts of the cube roots of the first 80 primes.
const K: usize = memory.data<u64>([
  0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
  0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
  0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
  0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
  0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
  0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
  0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
  0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
  0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
  0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
  0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
  0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
  0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
  0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
  0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
  0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
  0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
  0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
  0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
  0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
]);

// §5.3.5: initial hash value.
const H0: usize = memory.data<u64>([
  0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
  0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
]);

/** Message schedule W0..W79 (§6.4.2 step 1), shared by all contexts. */
const W: usize = memory.data(80 * 8, 8);

// @ts-ignore: decorator
@inline function loadBE64(p: usize): u64 {
  return bswap<u64>(load<u64>(p));
}

// @ts-ignore: decorator
@inline function storeBE64(p: usize, v: u64): void {
  store<u64>(p, bswap<u64>(v));
}

/** §6.4.2: processes one 128-byte block at `block` into the hash value at `h`. */
function compress(h: usize, block: usize): void {
  for (let t: usize = 0; t < 16; t++) store<u64>(W + (t << 3), loadBE64(block + (t << 3)));
  for (let t: usize = 16; t < 80; t++) {
    const w15 = load<u64>(W + ((t - 15) << 3));
    const w2 = load<u64>(W + ((t - 2) << 3));
    const s0 = rotr<u64>(w15, 1) ^ rotr<u64>(w15, 8) ^ (w15 >> 7);   // σ0 (4-12)
    const s1 = rotr<u64>(w2, 19) ^ rotr<u64>(w2, 61) ^ (w2 >> 6);    // σ1 (4-13)
    store<u64>(W + (t << 3), s1 + load<u64>(W + ((t - 7) << 3)) + s0 + load<u64>(W + ((t - 16) << 3)));
  }
  let a = load<u64>(h), b = load<u64>(h, 8), c = load<u64>(h, 16), d = load<u64>(h, 24);
  let e = load<u64>(h, 32), f = load<u64>(h, 40), g = load<u64>(h, 48), hh = load<u64>(h, 56);
  for (let t: usize = 0; t < 80; t++) {
    const S1 = rotr<u64>(e, 14) ^ rotr<u64>(e, 18) ^ rotr<u64>(e, 41); // Σ1 (4-11)
    const ch = (e & f) ^ (~e & g);                                     // Ch (4-8)
    const T1 = hh + S1 + ch + load<u64>(K + (t << 3)) + load<u64>(W + (t << 3));
    const S0 = rotr<u64>(a, 28) ^ rotr<u64>(a, 34) ^ rotr<u64>(a, 39); // Σ0 (4-10)
    const maj = (a & b) ^ (a & c) ^ (b & c);                           // Maj (4-9)
    const T2 = S0 + maj;
    hh = g; g = f; f = e; e = d + T1;
    d = c; c = b; b = a; a = T1 + T2;
  }
  store<u64>(h, load<u64>(h) + a);
  store<u64>(h, load<u64>(h, 8) + b, 8);
  store<u64>(h, load<u64>(h, 16) + c, 16);
  store<u64>(h, load<u64>(h, 24) + d, 24);
  store<u64>(h, load<u64>(h, 32) + e, 32);
  store<u64>(h, load<u64>(h, 40) + f, 40);
  store<u64>(h, load<u64>(h, 48) + g, 48);
  store<u64>(h, load<u64>(h, 56) + hh, 56);
}

/** Starts a new hash in the context at `ctx`. */
export function sha512Init(ctx: usize): void {
  memory.copy(ctx, H0, 64);
  store<u64>(ctx + OFF_TOTAL, 0);
  store<i32>(ctx + OFF_USED, 0);
}

/** Absorbs `len` bytes at `data`. */
export function sha512Update(ctx: usize, data: usize, len: i32): void {
  if (len <= 0) return;
  store<u64>(ctx + OFF_TOTAL, load<u64>(ctx + OFF_TOTAL) + <u64>len);
  let used = load<i32>(ctx + OFF_USED);
  const block = ctx + OFF_BLOCK;
  if (used > 0) {
    const take = min(BLOCK_BYTES - used, len);
    memory.copy(block + used, data, take);
    used += take; data += take; len -= take;
    if (used < BLOCK_BYTES) { store<i32>(ctx + OFF_USED, used); return; }
    compress(ctx, block);
    used = 0;
  }
  while (len >= BLOCK_BYTES) {
    compress(ctx, data);
    data += BLOCK_BYTES; len -= BLOCK_BYTES;
  }
  memory.copy(block, data, len);
  store<i32>(ctx + OFF_USED, len);
}

/** §5.1.2 padding, then writes the 64-byte digest to `out`. The context must be re-initialised to reuse it. */
export function sha512Final(ctx: usize, out: usize): void {
  const block = ctx + OFF_BLOCK;
  const used = load<i32>(ctx + OFF_USED);
  const bits = load<u64>(ctx + OFF_TOTAL) << 3;
  store<u8>(block + used, 0x80);
  if (used + 1 > BLOCK_BYTES - 16) {
    memory.fill(block + used + 1, 0, BLOCK_BYTES - used - 1);
    compress(ctx, block);
    memory.fill(block, 0, BLOCK_BYTES - 16);
  } else {
    memory.fill(block + used + 1, 0, BLOCK_BYTES - 16 - used - 1);
  }
  // 128-bit big-endian length: the high 64 bits are zero for any message we can absorb.
  store<u64>(block + BLOCK_BYTES - 16, 0);
  storeBE64(block + BLOCK_BYTES - 8, bits);
  compress(ctx, block);
  for (let i: usize = 0; i < 8; i++) storeBE64(out + (i << 3), load<u64>(ctx + (i << 3)));
}
