// Fixed memory of the crypto core.
//
// The core never allocates: every buffer is a static region reserved with
// `memory.data`, and the whole module lives in one 64 KiB page (asconfig.json
// sets initialMemory = maximumMemory = 1).
//
// The host talks to the core through one exchange buffer, the "I/O buffer".
// Every pointer an exported function takes must lie inside it; a pointer or
// length outside it is refused with ERR_RANGE instead of trapping or touching
// the core's own state. See firmware/ABI.md.

/** Size of the host exchange buffer in bytes. Large inputs are streamed through it. */
export const IO_BUFFER_BYTES: i32 = 16384;

/** Start of the host exchange buffer (16-byte aligned). */
export const IO_BUFFER: usize = memory.data(IO_BUFFER_BYTES, 16);

/** Status codes returned by every exported function that can fail. */
export const OK: i32 = 0;
/** A pointer/length pair does not lie inside the I/O buffer, or a length is negative. */
export const ERR_RANGE: i32 = -1;
/** Authentication failed: AEAD tag or signature mismatch. Nothing was written. */
export const ERR_AUTH: i32 = -2;
/** A streaming call came out of order (for example decrypt before the tag was verified). */
export const ERR_STATE: i32 = -3;
/** A length argument is not one the primitive accepts (nonce size, output size...). */
export const ERR_LENGTH: i32 = -4;
/** An input that is well-formed but unusable: all-zero X25519 result, non-canonical point or scalar. */
export const ERR_INVALID: i32 = -5;

/** True when [ptr, ptr + len) lies inside the I/O buffer and len >= 0. */
// @ts-ignore: decorator
@inline
export function inBuffer(ptr: i32, len: i32): bool {
  const start = <i64>ptr - <i64>IO_BUFFER;
  return len >= 0 && start >= 0 && start + <i64>len <= <i64>IO_BUFFER_BYTES;
}
