// The baseline node core: the same node as firmware/cores/node/ with plain
// flooding (no contention, no cancel, no learned routes, no implicit ACKs), so
// the simulator can compare strategies on one scenario and seed. Same ABI as
// node.wasm (firmware/ABI.md, "Core: node.wasm").
import { setBaselineFlooding } from "../node/node";
import { node_init as init } from "../node/index";

export { io_buffer_ptr, io_buffer_len, node_receive, node_tx_done, node_command, node_poll, node_counter, serial_receive } from "../node/index";

export function node_init(ptr: i32, len: i32): i32 {
  setBaselineFlooding(true);
  return init(ptr, len);
}
