// Discrete-event scheduler on a virtual clock.
//
// Events live in a binary min-heap ordered by (atMs, seq): seq is a counter
// taken when the event is scheduled, so events due at the same virtual time
// run in the order they were scheduled (a stable order, hence deterministic
// runs). Cancelling marks an event dead; the heap drops it when it surfaces.
// There is no wall clock anywhere: `nowMs` moves only when an event runs or a
// run ends at its horizon.

export type EventFn = () => void;

/** A scheduled event; pass it to Scheduler.cancel to drop it. */
export interface ScheduledEvent {
  readonly atMs: number;
  readonly seq: number;
}

type Entry = { atMs: number; seq: number; run: EventFn; live: boolean };

function before(a: Entry, b: Entry): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}

export class Scheduler {
  private heap: Entry[] = [];
  private seq = 0;
  private liveCount = 0;
  private executed = 0;

  /** Virtual time in ms since the start of the simulation. */
  nowMs: number;

  constructor(startMs = 0) {
    if (!Number.isFinite(startMs)) throw new RangeError("startMs must be finite");
    this.nowMs = startMs;
  }

  /** Events scheduled and not yet run or cancelled. */
  get pending(): number { return this.liveCount; }

  /** Events run so far. */
  get eventsRun(): number { return this.executed; }

  /** Schedules `run` at virtual time `atMs` (not before now). */
  at(atMs: number, run: EventFn): ScheduledEvent {
    if (Number.isNaN(atMs)) throw new RangeError("event time is NaN");
    if (atMs < this.nowMs) throw new RangeError(`event at ${atMs} ms is before now (${this.nowMs} ms)`);
    const e: Entry = { atMs, seq: this.seq++, run, live: true };
    this.push(e);
    this.liveCount++;
    return e;
  }

  /** Schedules `run` after `delayMs` (>= 0) of virtual time. */
  after(delayMs: number, run: EventFn): ScheduledEvent {
    if (!(delayMs >= 0)) throw new RangeError(`delay ${delayMs} ms is negative or NaN`);
    return this.at(this.nowMs + delayMs, run);
  }

  /** Drops a scheduled event; false when it already ran or was cancelled. */
  cancel(event: ScheduledEvent): boolean {
    const e = event as Entry;
    if (!e.live) return false;
    e.live = false;
    this.liveCount--;
    return true;
  }

  /** Time of the next live event, Infinity when none. */
  nextEventMs(): number {
    this.dropDead();
    return this.heap.length ? this.heap[0].atMs : Infinity;
  }

  /** Runs the next live event; false when there is none. */
  step(): boolean {
    this.dropDead();
    const e = this.pop();
    if (!e) return false;
    e.live = false;
    this.liveCount--;
    this.nowMs = e.atMs;
    this.executed++;
    e.run();
    return true;
  }

  /**
   * Runs events due at or before `endMs`, then sets the clock to `endMs`.
   * Stops early (clock at the last event run) when `stop` returns true; it is
   * checked before each event.
   */
  runUntil(endMs: number, stop?: () => boolean): void {
    if (endMs < this.nowMs) throw new RangeError(`end ${endMs} ms is before now (${this.nowMs} ms)`);
    for (;;) {
      if (stop?.()) return;
      const next = this.nextEventMs();
      if (next > endMs) break;
      this.step();
    }
    this.nowMs = endMs;
  }

  /** Runs for `forMs` of virtual time (see runUntil). */
  runFor(forMs: number, stop?: () => boolean): void {
    this.runUntil(this.nowMs + forMs, stop);
  }

  private dropDead(): void {
    while (this.heap.length && !this.heap[0].live) this.pop();
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
