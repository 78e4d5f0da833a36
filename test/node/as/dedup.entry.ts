// Test entry: the duplicate filter as wasm exports, plus a scratch buffer the
// tests write ids and tags into.
export * from "../../../firmware/cores/node/dedup";

const SCRATCH: usize = memory.data(1024, 8);

/** Address of a 1024-byte scratch buffer for test inputs and outputs. */
export function scratchPtr(): usize {
  return SCRATCH;
}

/** End of static data: everything the module reserves lies below it. */
export function heapBase(): usize {
  return __heap_base;
}
