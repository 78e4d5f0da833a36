// Test entry: LoRa airtime functions and constants as wasm exports, plus the scratch buffer every entry has.
export * from "../../../firmware/cores/node/airtime";

const SCRATCH: usize = memory.data(1024, 8);

/** Address of a 1024-byte scratch buffer for test inputs and outputs. */
export function scratchPtr(): usize {
  return SCRATCH;
}

/** End of static data: everything the module reserves lies below it. */
export function heapBase(): usize {
  return __heap_base;
}
