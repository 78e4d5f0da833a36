// The node's clock: the host's clock_now_ms plus an offset the laptop may set
// over the serial link (a board has no date of its own and counts from boot).
// Never runs backwards: epochs, tags and every table deadline assume that.
import { clock_now_ms } from "./env";

/** 2020-01-01T00:00:00Z in ms: the earliest time clockSet accepts, and the line between "counting from boot" and "has a date". */
export const CLOCK_MIN_MS: i64 = 1577836800000;
/** 2100-01-01T00:00:00Z in ms: the latest time clockSet accepts. */
export const CLOCK_MAX_MS: i64 = 4102444800000;
/** Once the clock has a date, clockSet may move it back by at most this much (and the clock then holds). */
export const CLOCK_MAX_BACK_MS: i64 = 3600000;

/** clockState: counting from boot (the reading is before 2020). */
export const CLOCK_NO_DATE: i32 = 0;
/** clockState: the host's clock has a date of its own (a laptop, a board with an RTC). */
export const CLOCK_HOST_DATE: i32 = 1;
/** clockState: set over the serial link (clockSet). */
export const CLOCK_SET: i32 = 2;

/** Milliseconds to add to the host clock (0 until a laptop sets the time). */
let offsetMs: i64 = 0;
/** The last value handed out: the clock is monotonic. */
let lastMs: i64 = 0;
/** clockSet accepted a value at least once (kept across node_init, like the offset). */
let wasSet = false;

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

/**
 * Sets the clock to unixMs (SERIAL.md SET_TIME). 0 = accepted, -5 (ERR_INVALID) = refused:
 * a value before 2020-01-01 or from 2100-01-01 on, or, once the clock reads a date
 * (2020 or later), a value more than one hour before the current reading. Any value in
 * range is accepted while the clock has no date (a board counting from boot reads 1970).
 * A value up to an hour back is accepted, but the clock stays monotonic: it holds at
 * its current reading until the host clock has caught up.
 */
export function clockSet(unixMs: i64): i32 {
  if (unixMs < CLOCK_MIN_MS || unixMs >= CLOCK_MAX_MS) return -5;
  const now = clockNowMs();
  if (now >= CLOCK_MIN_MS && unixMs < now - CLOCK_MAX_BACK_MS) return -5;
  offsetMs = unixMs - hostMs();
  wasSet = true;
  clockNowMs();
  return 0;
}

/** CLOCK_SET after an accepted clockSet, else CLOCK_HOST_DATE when the reading is a date (2020 or later), else CLOCK_NO_DATE. */
export function clockState(): i32 {
  if (wasSet) return CLOCK_SET;
  return clockNowMs() >= CLOCK_MIN_MS ? CLOCK_HOST_DATE : CLOCK_NO_DATE;
}
