// Outcaxt mesh simulator: discrete-event engine, LoRa radio medium, and a mesh of
// real node cores (build/cores/node.wasm) on top of them.
export * from "./engine/scheduler.js";
export * from "./engine/random.js";
export * from "./radio/lora.js";
export * from "./radio/pathloss.js";
export * from "./radio/medium.js";
export * from "./mesh.js";
export * from "./topology.js";
export * from "./mobility.js";
export * from "./placement.js";
export * from "./result.js";
export * from "./scenario.js";
export * from "./run.js";
