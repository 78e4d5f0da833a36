// Tiny benchmark harness: runs each candidate in the same process, alternating,
// and reports operations per second. Baselines run beside ours, so ratios are
// comparable even on a busy machine.

export type Candidate = { name: string; run: () => unknown };

/** Ops/s of `run`, measured over about `ms` milliseconds after a warm-up. */
export function opsPerSecond(run: () => unknown, ms: number): number {
  const warmUntil = performance.now() + ms / 4;
  while (performance.now() < warmUntil) run();
  let ops = 0;
  let batch = 1;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < batch; i++) run();
    ops += batch;
    elapsed = performance.now() - start;
    if (elapsed < ms / 20) batch *= 2;
  }
  return (ops * 1000) / elapsed;
}

/** Measures candidates in `rounds` interleaved rounds and keeps each one's best. */
export function compare(candidates: Candidate[], ms = 300, rounds = 3): Map<string, number> {
  const best = new Map<string, number>();
  for (let r = 0; r < rounds; r++) {
    for (const c of candidates) {
      const ops = opsPerSecond(c.run, ms / rounds);
      best.set(c.name, Math.max(best.get(c.name) ?? 0, ops));
    }
  }
  return best;
}

export const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toPrecision(3));
