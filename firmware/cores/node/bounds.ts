// Guards shared by the node core's tables (dedup.ts, routes.ts, txqueue.ts).

/** Times are clamped to 0..2^62 ms so that sums and differences of two times never overflow i64. */
export const TIME_MAX_MS: i64 = <i64>1 << 62;

/** True when [ptr, ptr + len) lies inside linear memory (a host pointer never makes a table trap). */
// @ts-ignore: decorator
@inline
export function spanInMemory(ptr: usize, len: i32): bool {
  return <u64>ptr + <u64>len <= (<u64>memory.size() << 16);
}

/** The host's clock clamped to 0..TIME_MAX_MS. */
// @ts-ignore: decorator
@inline
export function clampTime(t: i64): i64 {
  return t < 0 ? 0 : t > TIME_MAX_MS ? TIME_MAX_MS : t;
}
