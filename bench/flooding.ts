// Flooding-rule benchmark: which managed-flooding rule should the node core use?
//
// Runs the real node core (build/cores/node.wasm) on the simulated LoRa medium
// (sim/) over random geometric meshes at LongFast, several seeds each, and sends
// channel messages one at a time from random nodes. For every rule
// (relayCancelCopies 1, 2, 3 or never, each with SNR-weighted or uniform
// contention) it measures per broadcast:
// - reachability: share of the nodes connected to the sender (a directed path of
//   links above sensitivity, at most hopLimit + 1 hops) that delivered the message;
// - transmissions of the frame (the origin's plus every relay);
// - collisions: receptions of the frame (above sensitivity) destroyed by another frame;
// - latency from the send command to each delivery.
// Every rule sees the same topologies, senders and node seeds (common random
// numbers), so differences come from the rule. Boot announces are discarded by the
// medium (Mesh discardFrameTypes) so that only the measured floods are on air.
// The best rule: highest mean reachability over the scenarios; rules within
// `tieTolerance` of the best count as tied and the fewest transmissions wins.
import { pathToFileURL } from "node:url";
import { loadNodeModule } from "../host-tools/node/host.js";
import { Rng } from "../sim/engine/random.js";
import { FrameType, Mesh, frameIdHex, frameType } from "../sim/mesh.js";
import { hopCounts, linkGraph, randomPositions, summarizeGraph, type GraphSummary } from "../sim/topology.js";

export type FloodingRule = { name: string; relayCancelCopies: number; uniformContention: boolean };

/** relayCancelCopies 1, 2, 3 and 255 (never cancel), each with SNR-weighted and uniform contention. */
export const FLOODING_RULES: readonly FloodingRule[] = [1, 2, 3, 255].flatMap((c) => [false, true].map((u) => ({
  name: `${c === 255 ? "never" : `cancel@${c}`} ${u ? "uniform" : "snr"}`, relayCancelCopies: c, uniformContention: u,
})));

export type FloodingScenario = {
  name: string;
  nodes: number;
  widthM: number;
  heightM: number;
  seeds: number[];
  /** Broadcasts per seed. */
  broadcasts: number;
  /**
   * Offered load: when set, broadcasts start at random (Poisson) times with this mean
   * gap, so floods overlap; when absent they go one at a time, `intervalMs` apart.
   */
  meanIntervalMs?: number;
};

/**
 * Areas chosen with the default radio (22 dBm, 0 dBi, 1.5 m, 3GPP suburban macro at
 * 869.525 MHz: about 1.8 km range at LongFast) so that the mesh is multi-hop:
 * 30 nodes in 8 x 8 km are sparse (about 4 neighbours each, two thirds of the pairs
 * connected, paths up to 11 hops); 30 nodes in 6 x 6 km have about 6.5 neighbours and
 * are almost fully connected (paths up to 9 hops); 100 nodes in 8 x 8 km are dense
 * (about 14 neighbours, up to 8 hops). Two scenarios add load: random (Poisson)
 * broadcasts every 15 s or 20 s on average, so that floods overlap.
 */
const seeds = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
export const DEFAULT_FLOODING_SCENARIOS: readonly FloodingScenario[] = [
  { name: "30 nodes 8x8 km", nodes: 30, widthM: 8000, heightM: 8000, seeds: seeds(16), broadcasts: 30 },
  { name: "30 nodes 6x6 km", nodes: 30, widthM: 6000, heightM: 6000, seeds: seeds(16), broadcasts: 30 },
  { name: "30 nodes 6x6 km, 1 per 15 s", nodes: 30, widthM: 6000, heightM: 6000, seeds: seeds(12), broadcasts: 40, meanIntervalMs: 15_000 },
  { name: "100 nodes 8x8 km", nodes: 100, widthM: 8000, heightM: 8000, seeds: seeds(6), broadcasts: 25 },
  { name: "100 nodes 8x8 km, 1 per 20 s", nodes: 100, widthM: 8000, heightM: 8000, seeds: seeds(6), broadcasts: 40, meanIntervalMs: 20_000 },
];

export type FloodingOptions = {
  scenarios?: readonly FloodingScenario[];
  rules?: readonly FloodingRule[];
  /** Hop limit of the broadcasts (default: the node config default, 7). */
  hopLimit?: number;
  /** Virtual time between broadcasts; long enough for a flood to die out. */
  intervalMs?: number;
  /** Channel text length in bytes (20: the smallest frame, 106 bytes). */
  textBytes?: number;
  /**
   * Reachability difference (share) below which two rules count as tied. Default 0.01
   * (one point: one node in a hundred), about the paired 95 % interval of the default run,
   * so smaller differences are not resolved by the measurement anyway.
   */
  tieTolerance?: number;
  /** Progress lines. */
  progress?: (line: string) => void;
};

export type FloodingRow = {
  scenario: string;
  rule: string;
  relayCancelCopies: number;
  uniformContention: boolean;
  /** Broadcasts measured (with at least one node connected to the sender). */
  broadcasts: number;
  reachability: number;
  /** 95 % confidence half-width of the reachability (normal approximation over broadcasts). */
  reachabilityCi95: number;
  transmissions: number;
  collisions: number;
  halfDuplexLosses: number;
  latencyMeanMs: number;
  latencyP95Ms: number;
  lbtDeferrals: number;
  /**
   * Reachability of each measured broadcast, one block per scenario (an overall row has
   * one block per scenario), in the same order for every rule: paired samples.
   */
  samples: number[][];
};

export type FloodingResult = {
  hopLimit: number;
  tieTolerance: number;
  rows: FloodingRow[];
  /** One row per rule: the mean of its scenario rows (each scenario weighs the same). */
  overall: FloodingRow[];
  best: FloodingRow;
  topologies: { scenario: string; seed: number; summary: GraphSummary }[];
};

const CHANNEL_NAME = "bench";
const CHANNEL_PASSPHRASE = "flooding-benchmark-passphrase";
const START_MS = 5_000;

type BroadcastStats = { connected: number; reached: number; transmissions: number; collisions: number; halfDuplex: number; latenciesMs: number[] };

async function runOnce(sc: FloodingScenario, seed: number, rule: FloodingRule, opts: Required<Omit<FloodingOptions, "progress" | "scenarios" | "rules">>, module: WebAssembly.Module) {
  const runSeed = `${sc.name}/${seed}`;
  const mesh = await Mesh.create({
    seed: runSeed,
    module,
    node: { hopLimit: opts.hopLimit, relayCancelCopies: rule.relayCancelCopies, uniformContention: rule.uniformContention },
    discardFrameTypes: [FrameType.ANNOUNCE],
  });
  for (const p of randomPositions(new Rng(runSeed, "positions"), sc.nodes, sc.widthM, sc.heightM)) await mesh.addNode(p);
  for (let i = 0; i < mesh.size; i++) {
    const st = mesh.act(i, (n) => n.joinChannel(0, CHANNEL_NAME, CHANNEL_PASSPHRASE));
    if (st !== 0) throw new Error(`joinChannel failed on node ${i}: ${st}`);
  }
  const graph = linkGraph(mesh.medium);
  const senderRng = new Rng(runSeed, "senders");
  const stats: BroadcastStats[] = [];
  const sentAtMs: number[] = [];
  const frameOf = new Map<string, number>();
  const seen: Set<number>[] = [];
  /** Broadcasts commanded at each node whose frame has not gone on air yet (in order). */
  const unsent: number[][] = Array.from({ length: mesh.size }, () => []);

  mesh.hooks = {
    transmit(tx) {
      if (frameType(tx.payload) !== FrameType.CHANNEL) return;
      const id = frameIdHex(tx.payload);
      let k = frameOf.get(id);
      // A frame id never seen on air, sent by a node with a broadcast waiting: its origin copy.
      if (k === undefined && unsent[tx.from].length > 0) { k = unsent[tx.from].shift()!; frameOf.set(id, k); }
      if (k !== undefined) stats[k].transmissions++;
    },
    lost(_to, tx, reason) {
      const k = frameOf.get(frameIdHex(tx.payload));
      if (k === undefined) return;
      if (reason === "collision") stats[k].collisions++; else stats[k].halfDuplex++;
    },
    event(e) {
      if (e.event.type !== "channel") return;
      const m = /^b(\d+) /.exec(e.event.text);
      if (!m) return;
      const k = Number(m[1]);
      if (seen[k].has(e.node)) return;
      seen[k].add(e.node);
      stats[k].latenciesMs.push(e.atMs - sentAtMs[k]);
    },
  };

  let atMs = START_MS;
  for (let k = 0; k < sc.broadcasts; k++) {
    const s = senderRng.int(mesh.size);
    const hops = hopCounts(graph, s);
    const connected = hops.filter((h, i) => i !== s && h <= opts.hopLimit + 1).length;
    stats.push({ connected, reached: 0, transmissions: 0, collisions: 0, halfDuplex: 0, latenciesMs: [] });
    seen.push(new Set());
    const text = `b${k} `.padEnd(opts.textBytes, "x");
    if (k > 0) atMs += sc.meanIntervalMs === undefined ? opts.intervalMs : -Math.log(senderRng.floatOpen()) * sc.meanIntervalMs;
    mesh.runUntil(atMs);
    sentAtMs[k] = mesh.nowMs;
    unsent[s].push(k);
    const st = mesh.act(s, (n) => n.sendChannel(0, k + 1, text));
    if (st !== 0) throw new Error(`sendChannel failed on node ${s}: ${st}`);
  }
  mesh.runUntil(atMs + opts.intervalMs);
  for (const b of stats) b.reached = b.latenciesMs.length;
  return { stats, graph, lbtDeferrals: mesh.stats.lbtDeferrals };
}

function mean(xs: number[]): number { return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0; }

function percentile(xs: number[], p: number): number {
  if (!xs.length) return 0;
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
}

function ci95(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  const v = xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1);
  return 1.96 * Math.sqrt(v / xs.length);
}

/**
 * Difference of reachability a - b over the same broadcasts (same topology, sender and
 * time for every rule) and its 95 % confidence half-width. With several blocks
 * (scenarios) the difference is the mean of the block differences.
 */
export function pairedDifference(a: FloodingRow, b: FloodingRow): { mean: number; ci95: number } {
  if (a.samples.length !== b.samples.length) throw new Error("rows from different scenario sets");
  let sum = 0, variance = 0;
  a.samples.forEach((block, k) => {
    const other = b.samples[k];
    if (block.length !== other.length) throw new Error("rows with different broadcasts");
    const d = block.map((x, i) => x - other[i]);
    const m = mean(d);
    sum += m;
    if (d.length > 1) variance += d.reduce((acc, x) => acc + (x - m) ** 2, 0) / (d.length - 1) / d.length;
  });
  const blocks = Math.max(1, a.samples.length);
  return { mean: sum / blocks, ci95: (1.96 * Math.sqrt(variance)) / blocks };
}

/**
 * The best rule: the highest reachability wins; a rule whose reachability is within
 * `tol` of the top one, or not distinguishable from it (the paired 95 % confidence
 * interval of the difference includes 0), counts as tied, and among tied rules the
 * fewest transmissions win.
 */
export function pickBest(rows: readonly FloodingRow[], tol: number): FloodingRow {
  const top = rows.reduce((a, b) => (b.reachability > a.reachability ? b : a));
  const tied = rows.filter((r) => {
    if (r === top) return true;
    const d = pairedDifference(top, r);
    return d.mean <= tol || d.mean <= d.ci95;
  });
  return tied.reduce((a, b) => (b.transmissions < a.transmissions || (b.transmissions === a.transmissions && b.reachability > a.reachability) ? b : a));
}

export async function benchFlooding(options: FloodingOptions = {}): Promise<FloodingResult> {
  const scenarios = options.scenarios ?? DEFAULT_FLOODING_SCENARIOS;
  const rules = options.rules ?? FLOODING_RULES;
  const opts = {
    hopLimit: options.hopLimit ?? 7,
    intervalMs: options.intervalMs ?? 60_000,
    textBytes: options.textBytes ?? 20,
    tieTolerance: options.tieTolerance ?? 0.01,
  };
  const module = await loadNodeModule();
  const rows: FloodingRow[] = [];
  const topologies: FloodingResult["topologies"] = [];
  for (const sc of scenarios) {
    for (const rule of rules) {
      const all: BroadcastStats[] = [];
      let lbt = 0;
      for (const seed of sc.seeds) {
        const r = await runOnce(sc, seed, rule, opts, module);
        if (rule === rules[0]) topologies.push({ scenario: sc.name, seed, summary: summarizeGraph(r.graph) });
        all.push(...r.stats.filter((b) => b.connected > 0));
        lbt += r.lbtDeferrals;
      }
      const reach = all.map((b) => b.reached / b.connected);
      const lat = all.flatMap((b) => b.latenciesMs);
      rows.push({
        scenario: sc.name, rule: rule.name, relayCancelCopies: rule.relayCancelCopies, uniformContention: rule.uniformContention,
        broadcasts: all.length,
        reachability: mean(reach),
        reachabilityCi95: ci95(reach),
        transmissions: mean(all.map((b) => b.transmissions)),
        collisions: mean(all.map((b) => b.collisions)),
        halfDuplexLosses: mean(all.map((b) => b.halfDuplex)),
        latencyMeanMs: mean(lat),
        latencyP95Ms: percentile(lat, 0.95),
        lbtDeferrals: all.length ? lbt / all.length : 0,
        samples: [reach],
      });
      options.progress?.(`${sc.name}: ${rule.name} done`);
    }
  }
  const overall = rules.map((rule) => {
    const rs = rows.filter((r) => r.rule === rule.name);
    const avg = (f: (r: FloodingRow) => number) => mean(rs.map(f));
    return {
      scenario: "all (mean of scenarios)", rule: rule.name, relayCancelCopies: rule.relayCancelCopies, uniformContention: rule.uniformContention,
      broadcasts: rs.reduce((a, r) => a + r.broadcasts, 0),
      reachability: avg((r) => r.reachability),
      reachabilityCi95: Math.sqrt(rs.reduce((a, r) => a + r.reachabilityCi95 ** 2, 0)) / Math.max(1, rs.length),
      transmissions: avg((r) => r.transmissions),
      collisions: avg((r) => r.collisions),
      halfDuplexLosses: avg((r) => r.halfDuplexLosses),
      latencyMeanMs: avg((r) => r.latencyMeanMs),
      latencyP95Ms: avg((r) => r.latencyP95Ms),
      lbtDeferrals: avg((r) => r.lbtDeferrals),
      samples: rs.map((r) => r.samples[0]),
    };
  });
  return { hopLimit: opts.hopLimit, tieTolerance: opts.tieTolerance, rows, overall, best: pickBest(overall, opts.tieTolerance), topologies };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function formatFlooding(result: FloodingResult): string {
  const lines: string[] = [];
  for (const sc of new Set(result.topologies.map((t) => t.scenario))) {
    const ts = result.topologies.filter((t) => t.scenario === sc).map((t) => t.summary);
    const avg = (f: (g: GraphSummary) => number) => mean(ts.map(f));
    lines.push(`  ${sc} (${ts.length} seeds): ${avg((g) => g.meanNeighbours).toFixed(1)} neighbours/node, ${pct(avg((g) => g.connectedPairs))} of pairs connected,`
      + ` mean ${avg((g) => g.meanHops).toFixed(1)} hops, longest ${Math.max(...ts.map((g) => g.maxHops))}`);
  }
  const head = ["scenario", "rule", "bcasts", "reach", "±95%", "tx/bcast", "coll/bcast", "hdx/bcast", "lat mean s", "lat p95 s", "lbt/bcast"];
  const body = [...result.rows, ...result.overall].map((r) => [
    r.scenario, r.rule, String(r.broadcasts), pct(r.reachability), pct(r.reachabilityCi95), r.transmissions.toFixed(1),
    r.collisions.toFixed(1), r.halfDuplexLosses.toFixed(1), (r.latencyMeanMs / 1000).toFixed(2), (r.latencyP95Ms / 1000).toFixed(2),
    r.lbtDeferrals.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]) => "  " + cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  lines.push(fmt(head));
  let last = "";
  for (const b of body) {
    if (b[0] !== last && last !== "") lines.push("");
    last = b[0];
    lines.push(fmt(b));
  }
  const best = result.best;
  const top = result.overall.reduce((a, b) => (b.reachability > a.reachability ? b : a));
  lines.push("");
  for (const sc of new Set(result.rows.map((r) => r.scenario))) {
    const b = pickBest(result.rows.filter((r) => r.scenario === sc), result.tieTolerance);
    lines.push(`  best in "${sc}": ${b.rule}`);
  }
  lines.push(`  best rule overall: ${best.rule} (reachability ${pct(best.reachability)}, ${best.transmissions.toFixed(1)} transmissions per broadcast;`
    + ` ties: within ${(result.tieTolerance * 100).toFixed(1)} points or a paired 95 % interval that includes 0, then fewest transmissions)`);
  for (const r of result.overall) {
    if (r === best) continue;
    const d = pairedDifference(best, r);
    const tx = 100 * (1 - best.transmissions / r.transmissions);
    lines.push(`    vs ${r.rule.padEnd(16)} reachability ${d.mean >= 0 ? "+" : ""}${(d.mean * 100).toFixed(1)} ± ${(d.ci95 * 100).toFixed(1)} points,`
      + ` transmissions ${tx >= 0 ? "-" : "+"}${Math.abs(tx).toFixed(0)} %${r === top ? " (highest reachability)" : ""}`);
  }
  return lines.join("\n");
}

export function printFlooding(result: FloodingResult): void {
  console.log(`\nFlooding rules (sim/: node.wasm on the simulated LoRa medium, LongFast, hop limit ${result.hopLimit})`);
  console.log(formatFlooding(result));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const t = performance.now();
  const result = await benchFlooding({ progress: (l) => console.error(l) });
  printFlooding(result);
  console.log(`  (${((performance.now() - t) / 1000).toFixed(1)} s)`);
}
