// The node core's imports: what every host (ESP32 shell, simulator, laptop)
// supplies. Names and signatures are fixed by firmware/ABI.md ("Core: node.wasm").

/** Starts transmitting `len` bytes at `ptr`; 0 when the radio took the frame, else busy. The host calls node_tx_done when it is on air no more. */
// @ts-ignore: decorator
@external("env", "radio_transmit")
export declare function radio_transmit(ptr: usize, len: i32): i32;

/** Milliseconds since the Unix epoch (or since boot when the host does not know the date). */
// @ts-ignore: decorator
@external("env", "clock_now_ms")
export declare function clock_now_ms(): f64;

/** Fills `len` bytes at `ptr` with cryptographically secure random bytes. */
// @ts-ignore: decorator
@external("env", "random_fill")
export declare function random_fill(ptr: usize, len: i32): void;

/** One event for the app / serial side (layout in firmware/ABI.md, "App events"). */
// @ts-ignore: decorator
@external("env", "app_event")
export declare function app_event(ptr: usize, len: i32): void;

/** Reads the value of a key into [valPtr, valPtr + valCap): its length, -1 when absent, -2 when larger than valCap. */
// @ts-ignore: decorator
@external("env", "storage_get")
export declare function storage_get(keyPtr: usize, keyLen: i32, valPtr: usize, valCap: i32): i32;

/** Stores (overwrites) the value of a key; 0 on success. */
// @ts-ignore: decorator
@external("env", "storage_put")
export declare function storage_put(keyPtr: usize, keyLen: i32, valPtr: usize, valLen: i32): i32;

/** Writes `len` bytes of whole serial-link frames (firmware/SERIAL.md) to the USB line. */
// @ts-ignore: decorator
@external("env", "serial_write")
export declare function serial_write(ptr: usize, len: i32): void;
