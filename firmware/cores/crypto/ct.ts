// Constant-time helpers.
// Constant time: the running time and memory access pattern depend only on
// the lengths, never on the byte values compared or selected.

/** Returns 0 when the n bytes at a and b are equal, -1 otherwise, without early exit. */
export function verifyBytes(a: usize, b: usize, n: i32): i32 {
  let diff: u32 = 0;
  for (let i = 0; i < n; i++) {
    diff |= <u32>(load<u8>(a + i) ^ load<u8>(b + i));
  }
  // (diff - 1) >> 8 has bit 0 set only when diff == 0.
  return (<i32>((diff - 1) >>> 8) & 1) - 1;
}

/** Overwrites n bytes at p with zeros (used to wipe secrets). */
export function wipe(p: usize, n: i32): void {
  memory.fill(p, 0, n);
}
