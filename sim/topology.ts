// Node placement and the link graph of a medium.
import type { Rng } from "./engine/random.js";
import type { Medium, Position } from "./radio/medium.js";

/** `count` positions uniform in a widthM x heightM rectangle, at least minSpacingM apart (rejection sampling). */
export function randomPositions(rng: Rng, count: number, widthM: number, heightM: number, minSpacingM = 10): Position[] {
  const out: Position[] = [];
  let tries = 0;
  while (out.length < count) {
    if (++tries > count * 10_000) throw new Error(`cannot place ${count} nodes ${minSpacingM} m apart in ${widthM} x ${heightM} m`);
    const p = { xM: rng.uniform(0, widthM), yM: rng.uniform(0, heightM) };
    if (out.every((q) => Math.hypot(p.xM - q.xM, p.yM - q.yM) >= minSpacingM)) out.push(p);
  }
  return out;
}

/**
 * Directed adjacency: out[a] lists (ascending) the radios that can decode `a` when the
 * channel is otherwise quiet (both on, no partition between them). Built from the
 * medium's neighbour lists, so it costs O(links), not O(N^2).
 */
export function linkGraph(medium: Medium): number[][] {
  const out: number[][] = [];
  for (let a = 0; a < medium.radios.length; a++) out.push(medium.decodersOf(a));
  return out;
}

/** Hops from `source` to every node along directed links (Infinity when unreachable). */
export function hopCounts(graph: number[][], source: number): number[] {
  const hops = new Array<number>(graph.length).fill(Infinity);
  hops[source] = 0;
  const queue = [source];
  for (let k = 0; k < queue.length; k++) {
    const a = queue[k];
    for (const b of graph[a]) {
      if (hops[b] === Infinity) { hops[b] = hops[a] + 1; queue.push(b); }
    }
  }
  return hops;
}

export type GraphSummary = {
  nodes: number;
  /** Mean number of nodes that decode a node (out-degree). */
  meanNeighbours: number;
  /** Share of ordered pairs (a, b), a != b, with a directed path a -> b. */
  connectedPairs: number;
  /** Mean and largest hop count over connected ordered pairs. */
  meanHops: number;
  maxHops: number;
};

export function summarizeGraph(graph: number[][]): GraphSummary {
  const n = graph.length;
  let pairs = 0, hopSum = 0, maxHops = 0, degree = 0;
  for (let a = 0; a < n; a++) {
    degree += graph[a].length;
    const h = hopCounts(graph, a);
    for (let b = 0; b < n; b++) {
      if (b === a || h[b] === Infinity) continue;
      pairs++;
      hopSum += h[b];
      maxHops = Math.max(maxHops, h[b]);
    }
  }
  return {
    nodes: n,
    meanNeighbours: n ? degree / n : 0,
    connectedPairs: n > 1 ? pairs / (n * (n - 1)) : 0,
    meanHops: pairs ? hopSum / pairs : 0,
    maxHops,
  };
}
