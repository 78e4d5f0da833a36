// Test entry with nothing but the scratch buffer every other entry has: its
// heapBase is the zero point for measuring how much static memory a module adds.
const SCRATCH: usize = memory.data(1024, 8);

/** Address of a 1024-byte scratch buffer. */
export function scratchPtr(): usize {
  return SCRATCH;
}

/** End of static data. */
export function heapBase(): usize {
  return __heap_base;
}
