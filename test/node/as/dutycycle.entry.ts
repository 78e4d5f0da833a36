// Test entry: the duty-cycle ledger as wasm exports (i64 times are BigInt in JS), plus the scratch buffer every entry has.
export * from "../../../firmware/cores/node/dutycycle";

const SCRATCH: usize = memory.data(1024, 8);

/** Address of a 1024-byte scratch buffer for test inputs and outputs. */
export function scratchPtr(): usize {
  return SCRATCH;
}

/** End of static data: everything the module reserves lies below it. */
export function heapBase(): usize {
  return __heap_base;
}
