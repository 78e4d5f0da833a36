// A token bucket measured in milliseconds of airtime: the MQTT uplink may inject
// into the local mesh only as much airtime as the radio's duty cycle allows.
//
// The bucket refills at `ratePerMs` ms of airtime per ms of wall time (the duty
// cycle as a fraction) up to `capacityMs`; a frame is let through when its whole
// airtime is in the bucket, otherwise it is refused (the caller drops and counts it).

export class AirtimeBucket {
  private tokens: number;
  private last: number;

  constructor(readonly ratePerMs: number, readonly capacityMs: number, private readonly now: () => number = Date.now) {
    if (!(ratePerMs > 0) || !(capacityMs > 0)) throw new RangeError("airtime bucket rate and capacity must be positive");
    this.tokens = capacityMs;
    this.last = now();
  }

  /** Airtime (ms) available now. */
  available(): number {
    const t = this.now();
    if (t > this.last) {
      this.tokens = Math.min(this.capacityMs, this.tokens + (t - this.last) * this.ratePerMs);
      this.last = t;
    }
    return this.tokens;
  }

  /** Takes `airtimeMs` when the bucket holds it: true; otherwise takes nothing: false. */
  take(airtimeMs: number): boolean {
    if (this.available() < airtimeMs) return false;
    this.tokens -= airtimeMs;
    return true;
  }
}
