// The node's clock: the host's clock_now_ms plus an offset the laptop may set
// over the serial link (a board has no date of its own and counts from boot).
// Never runs backwards: epochs, tags and every table deadline assume that.
import { clock_now_ms } from "./env";

/** Milliseconds to add to the host clock (0 until a laptop sets the time). */
let offsetMs: i64 = 0;
/** The last value handed out: the clock is monotonic. */
let lastMs: i64 = 0;

/** Host clock in whole ms; NaN, negative and infinite readings count as 0. */
function hostMs(): i64 {
  const t = clock_now_ms();
  if (!(t > 0) || !(t < 9.0e15)) return 0;
  return <i64>t;
}

/** Current time in ms since the Unix epoch (monotonic: never below an earlier reading). */
export function clockNowMs(): i64 {
  const ms = hostMs() + offsetMs;
  if (ms > lastMs) lastMs = ms;
  return lastMs;
}

/** Forget the monotonic floor (node_init: a restarted node reads the clock afresh). */
export function clockRestart(): void { lastMs = 0; }
