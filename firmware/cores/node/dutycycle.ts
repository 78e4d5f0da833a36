// Duty-cycle ledger: our transmit time over a rolling hour.
//
// Rule (shared/reference/lora-phy.md, hardware/regions.json): the duty cycle is
// counted over a rolling window of dutyCycleWindowSeconds = 3600 s of transmit
// time per device, e.g. 10 % in EU868 g3 = 360 000 ms of airtime per hour.
// Regions without a duty cycle (US915, ANZ, JP, IN: dutyCyclePercent null) pass
// a budget of DUTY_NO_LIMIT (0): every check then succeeds.
//
// Storage: DUTY_BUCKETS one-minute buckets, each holding the minute it counts
// and the airtime of the transmissions that ENDED in that minute. Resolution is
// one minute and the ledger is conservative, it never under-counts:
//   * call dutyRecord when a transmission has finished, with its end time; a
//     transmission in the window is then always in a bucket still summed;
//   * the hour before `now` touches 61 minutes (the partial oldest one too), so
//     61 buckets are summed. The sum may include up to one minute of airtime
//     that is just older than the hour, never less than the true figure.
// Sending only when used + airtime <= budget then keeps every rolling hour at or
// under the budget (test/node/dutycycle.test.ts checks it on random patterns).
//
// Clock going backwards: the ledger keeps its own clock, `now + shift`, and
// raises `shift` whenever the host clock would make it go back, so the ledger's
// clock never decreases and a backward jump counts as zero time elapsed. Past
// transmissions then look at most as old as they really are (conservative) and
// everything still expires within the hour after the jump.
//
// Memory (8-byte aligned, DUTY_MEMORY_BYTES = 992):
//   STATE    shiftMs i64, latestMs i64 (the ledger's clock, never decreasing)
//   BUCKETS  61 x { minute i64, airtimeMs i64 }

/** Rolling window: hardware/regions.json dutyCycleWindowSeconds (3600 s in every region that has one). */
export const DUTY_WINDOW_MS: i64 = 3600 * 1000;
/** Bucket width, the ledger's time resolution. */
export const DUTY_BUCKET_MS: i64 = 60 * 1000;
/** One bucket per minute of the window, plus one for the minute the window starts in. */
export const DUTY_BUCKETS: i32 = <i32>(DUTY_WINDOW_MS / DUTY_BUCKET_MS) + 1;
/** Budget meaning "no duty-cycle limit" (regions whose dutyCyclePercent is null). Any budget <= 0 means the same. */
export const DUTY_NO_LIMIT: i64 = 0;
/** Largest clock value accepted (2^52 ms, about 142 000 years); later times are clamped, so sums cannot overflow. */
export const DUTY_CLOCK_MAX_MS: i64 = <i64>1 << 52;
/** Static memory used by this module in bytes. */
export const DUTY_MEMORY_BYTES: i32 = 16 + DUTY_BUCKETS * 16;

const STATE: usize = memory.data(16, 8);
const OFF_SHIFT: usize = 0;
const OFF_LATEST: usize = 8;
const BUCKETS: usize = memory.data(DUTY_BUCKETS * 16, 8);
const BUCKET_MINUTE: usize = 0;
const BUCKET_AIRTIME: usize = 8;

/** Forgets all recorded airtime and the clock correction. */
export function dutyReset(): void {
  memory.fill(STATE, 0, 16);
  memory.fill(BUCKETS, 0, DUTY_BUCKETS * 16);
}

/** The ledger's clock for host time `nowMs`: never decreasing (see the header). */
function ledgerNowMs(nowMs: i64): i64 {
  const clamped = nowMs < 0 ? 0 : nowMs > DUTY_CLOCK_MAX_MS ? DUTY_CLOCK_MAX_MS : nowMs;
  let shift = load<i64>(STATE + OFF_SHIFT);
  const latest = load<i64>(STATE + OFF_LATEST);
  let t = clamped + shift;
  if (t < latest) {
    shift += latest - t;           // the host clock went back: hold the ledger's clock still
    store<i64>(STATE + OFF_SHIFT, shift);
    t = latest;
  }
  store<i64>(STATE + OFF_LATEST, t);
  return t;
}

// @ts-ignore: decorator
@inline
function bucketAt(minute: i64): usize {
  return BUCKETS + (<usize>(minute % <i64>DUTY_BUCKETS) << 4);   // minute >= 0 here
}

/** Airtime in the bucket of `minute`, 0 when the bucket holds another minute. */
function bucketAirtime(minute: i64): i64 {
  if (minute < 0) return 0;
  const b = bucketAt(minute);
  return load<i64>(b + BUCKET_MINUTE) == minute ? load<i64>(b + BUCKET_AIRTIME) : 0;
}

/** Sum over the 61 minutes that the hour ending at ledger minute `current` touches. */
function usedAt(current: i64): i64 {
  let sum: i64 = 0;
  for (let k: i64 = 0; k < <i64>DUTY_BUCKETS; k++) sum += bucketAirtime(current - k);
  return sum;
}

/**
 * Records a finished transmission: `nowMs` is when it ENDED, `airtimeMs` how long
 * it lasted. A negative airtime is refused (false). An airtime above the window is
 * counted as the window (no transmission can fill more than all of it).
 */
export function dutyRecord(nowMs: i64, airtimeMs: i64): bool {
  if (airtimeMs < 0) return false;
  const minute = ledgerNowMs(nowMs) / DUTY_BUCKET_MS;
  const b = bucketAt(minute);
  let sum: i64 = 0;
  if (load<i64>(b + BUCKET_MINUTE) == minute) sum = load<i64>(b + BUCKET_AIRTIME);
  sum += airtimeMs > DUTY_WINDOW_MS ? DUTY_WINDOW_MS : airtimeMs;
  if (sum > DUTY_CLOCK_MAX_MS) sum = DUTY_CLOCK_MAX_MS;   // saturate; far beyond any budget
  store<i64>(b + BUCKET_MINUTE, minute);
  store<i64>(b + BUCKET_AIRTIME, sum);
  return true;
}

/** Airtime counted in the rolling hour ending at `nowMs` (conservative, see the header). */
export function dutyUsedMs(nowMs: i64): i64 {
  return usedAt(ledgerNowMs(nowMs) / DUTY_BUCKET_MS);
}

/**
 * How long to wait from `nowMs` until a transmission of `airtimeMs` fits the
 * budget: 0 = send now, -1 = never (airtime larger than the whole budget, or
 * negative). `budgetMs` <= 0 is DUTY_NO_LIMIT and always gives 0.
 * The answer is exact for this ledger: at nowMs + wait the check passes, at
 * nowMs + wait - 1 it does not (as long as nothing new is recorded).
 */
export function dutyWaitMs(nowMs: i64, airtimeMs: i64, budgetMs: i64): i64 {
  if (airtimeMs < 0) return -1;
  if (budgetMs <= DUTY_NO_LIMIT) return 0;
  const airtime = airtimeMs > DUTY_WINDOW_MS ? DUTY_WINDOW_MS : airtimeMs;
  if (airtime > budgetMs) return -1;
  const t = ledgerNowMs(nowMs);
  const current = t / DUTY_BUCKET_MS;
  const excess = usedAt(current) + airtime - budgetMs;
  if (excess <= 0) return 0;
  // Buckets leave the sum oldest first: minute m stops counting once the ledger
  // reaches minute m + DUTY_BUCKETS.
  let freed: i64 = 0;
  for (let k: i64 = <i64>DUTY_BUCKETS - 1; k >= 0; k--) {
    const minute = current - k;
    freed += bucketAirtime(minute);
    if (freed >= excess) return (minute + <i64>DUTY_BUCKETS) * DUTY_BUCKET_MS - t;
  }
  return (current + <i64>DUTY_BUCKETS) * DUTY_BUCKET_MS - t;   // not reached: all buckets expire by then
}

/** True when a transmission of `airtimeMs` may start at `nowMs` under `budgetMs` (<= 0: no limit). */
export function dutyCanSend(nowMs: i64, airtimeMs: i64, budgetMs: i64): bool {
  return dutyWaitMs(nowMs, airtimeMs, budgetMs) == 0;
}

/**
 * The hourly airtime budget for a region's dutyCyclePercent (hardware/regions.json):
 * floor(percent / 100 * DUTY_WINDOW_MS), at least 1 ms. 10 % gives 360 000 ms, 1 %
 * 36 000 ms, 0.1 % 3 600 ms. NaN, <= 0 (null in the JSON) and >= 100 give
 * DUTY_NO_LIMIT.
 */
export function dutyBudgetMs(dutyCyclePercent: f64): i64 {
  if (!(dutyCyclePercent > 0.0) || dutyCyclePercent >= 100.0) return DUTY_NO_LIMIT;
  const ms = <i64>Math.floor(dutyCyclePercent * <f64>DUTY_WINDOW_MS / 100.0);
  return ms < 1 ? 1 : ms;
}
