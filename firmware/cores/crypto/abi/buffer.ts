// ABI: where the host puts inputs and finds outputs.
import { IO_BUFFER, IO_BUFFER_BYTES } from "../memory";

/** Address of the I/O buffer in linear memory. */
export function io_buffer_ptr(): i32 {
  return <i32>IO_BUFFER;
}

/** Size of the I/O buffer in bytes. */
export function io_buffer_len(): i32 {
  return IO_BUFFER_BYTES;
}
