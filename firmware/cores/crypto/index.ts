// The crypto core: every export of crypto.wasm, grouped by primitive.
// The exported names, parameters and results are documented in firmware/ABI.md.
export * from "./abi/buffer";
export * from "./abi/hash";
export * from "./abi/aead";
export * from "./abi/curves";
