// SHA-256 (FIPS 180-4 §6.2), the hash under HMAC-SHA256 and HKDF-SHA256.
// Constant time: the work done depends only on the message length.
//
// Context layout (SHA256_CTX_BYTES, 8-byte aligned):
//   0   H0..H7  8 x u32  running hash value (§6.2.2)
//   32  block   64 bytes partially filled message block
//   96  total   u64      bytes absorbed so far
//   104 used    i32      bytes waiting in `block`

export const SHA256_CTX_BYTES: i32 = 112;
export const SHA256_DIGEST_BYTES: i32 = 32;
export const SHA256_BLOCK_BYTES: i32 = 64;
const OFF_BLOCK: usize = 32;
const OFF_TOTAL: usize = 96;
const OFF_USED: usize = 104;

// §4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes.
const K: usize = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

// §5.3.3: initial hash value.
const H0: usize = memory.data<u32>([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** Message schedule W0..W63 (§6.2.2 step 1), shared by all contexts. */
const W: usize = memory.data(64 * 4, 4);

/** §6.2.2: processes one 64-byte block at `block` into the hash value at `h`. */
function compress(h: usize, block: usize): void {
  for (let t: usize = 0; t < 16; t++) store<u32>(W + (t << 2), bswap<u32>(load<u32>(block + (t << 2))));
  for (let t: usize = 16; t < 64; t++) {
    const w15 = load<u32>(W + ((t - 15) << 2));
    const w2 = load<u32>(W + ((t - 2) << 2));
    const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >> 3);   // σ0 (4.6)
    const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >> 10);    // σ1 (4.7)
    store<u32>(W + (t << 2), s1 + load<u32>(W + ((t - 7) << 2)) + s0 + load<u32>(W + ((t - 16) << 2)));
  }
  let a = load<u32>(h), b = load<u32>(h, 4), c = load<u32>(h, 8), d = load<u32>(h, 12);
  let e = load<u32>(h, 16), f = load<u32>(h, 20), g = load<u32>(h, 24), hh = load<u32>(h, 28);
  for (let t: usize = 0; t < 64; t++) {
    const S1 = rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25);  // Σ1 (4.5)
    const ch = (e & f) ^ (~e & g);                                     // Ch (4.2)
    const T1 = hh + S1 + ch + load<u32>(K + (t << 2)) + load<u32>(W + (t << 2));
    const S0 = rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22);  // Σ0 (4.4)
    const maj = (a & b) ^ (a & c) ^ (b & c);                           // Maj (4.3)
    const T2 = S0 + maj;
    hh = g; g = f; f = e; e = d + T1;
    d = c; c = b; b = a; a = T1 + T2;
  }
  store<u32>(h, load<u32>(h) + a);
  store<u32>(h, load<u32>(h, 4) + b, 4);
  store<u32>(h, load<u32>(h, 8) + c, 8);
  store<u32>(h, load<u32>(h, 12) + d, 12);
  store<u32>(h, load<u32>(h, 16) + e, 16);
  store<u32>(h, load<u32>(h, 20) + f, 20);
  store<u32>(h, load<u32>(h, 24) + g, 24);
  store<u32>(h, load<u32>(h, 28) + hh, 28);
}

/** Starts a new hash in the context at `ctx`. */
export function sha256Init(ctx: usize): void {
  memory.copy(ctx, H0, 32);
  store<u64>(ctx + OFF_TOTAL, 0);
  store<i32>(ctx + OFF_USED, 0);
}

/** Absorbs `len` bytes at `data`. */
export function sha256Update(ctx: usize, data: usize, len: i32): void {
  if (len <= 0) return;
  store<u64>(ctx + OFF_TOTAL, load<u64>(ctx + OFF_TOTAL) + <u64>len);
  let used = load<i32>(ctx + OFF_USED);
  const block = ctx + OFF_BLOCK;
  if (used > 0) {
    const take = min(SHA256_BLOCK_BYTES - used, len);
    memory.copy(block + used, data, take);
    used += take; data += take; len -= take;
    if (used < SHA256_BLOCK_BYTES) { store<i32>(ctx + OFF_USED, used); return; }
    compress(ctx, block);
    used = 0;
  }
  while (len >= SHA256_BLOCK_BYTES) {
    compress(ctx, data);
    data += SHA256_BLOCK_BYTES; len -= SHA256_BLOCK_BYTES;
  }
  memory.copy(block, data, len);
  store<i32>(ctx + OFF_USED, len);
}

/** §5.1.1 padding, then writes the 32-byte digest to `out`. Re-initialise the context to reuse it. */
export function sha256Final(ctx: usize, out: usize): void {
  const block = ctx + OFF_BLOCK;
  const used = load<i32>(ctx + OFF_USED);
  const bits = load<u64>(ctx + OFF_TOTAL) << 3;
  store<u8>(block + used, 0x80);
  if (used + 1 > SHA256_BLOCK_BYTES - 8) {
    memory.fill(block + used + 1, 0, SHA256_BLOCK_BYTES - used - 1);
    compress(ctx, block);
    memory.fill(block, 0, SHA256_BLOCK_BYTES - 8);
  } else {
    memory.fill(block + used + 1, 0, SHA256_BLOCK_BYTES - 8 - used - 1);
  }
  store<u64>(block + SHA256_BLOCK_BYTES - 8, bswap<u64>(bits));
  compress(ctx, block);
  for (let i: usize = 0; i < 8; i++) store<u32>(out + (i << 2), bswap<u32>(load<u32>(ctx + (i << 2))));
}
