// Node placement for scenarios: random (with a minimum distance, re-drawn until the
// link graph is connected), grid, line, or explicit coordinates; and the node
// properties (role, antenna height and gain, power) from the scenario's groups.
import { Rng, type SeedPart } from "./engine/random.js";
import type { Medium, Position } from "./radio/medium.js";
import type { Role, Scenario } from "./scenario.js";

export type NodeSpec = { position: Position; role: Role; heightM: number; antennaGainDbi: number; txPowerDbm: number; mobile: boolean };

/**
 * `count` positions uniform in the rectangle, each at least minDistanceM from the others
 * (rejection sampling against a grid of minDistanceM cells, so O(count) per draw).
 * Throws when a point cannot be placed after 10,000 tries.
 */
export function spacedPositions(rng: Rng, count: number, widthM: number, heightM: number, minDistanceM: number): Position[] {
  const out: Position[] = [];
  const cell = minDistanceM > 0 ? minDistanceM : Infinity;
  const grid = new Map<number, number[]>();
  const key = (cx: number, cy: number) => (cx + 32768) * 65536 + (cy + 32768);
  const cellOf = (v: number) => (Number.isFinite(cell) ? Math.floor(v / cell) : 0);
  while (out.length < count) {
    let placed = false;
    for (let tries = 0; tries < 10_000 && !placed; tries++) {
      const p = { xM: rng.uniform(0, widthM), yM: rng.uniform(0, heightM) };
      const cx = cellOf(p.xM), cy = cellOf(p.yM);
      let ok = true;
      if (minDistanceM > 0) {
        for (let dx = -1; dx <= 1 && ok; dx++) {
          for (let dy = -1; dy <= 1 && ok; dy++) {
            for (const j of grid.get(key(cx + dx, cy + dy)) ?? []) {
              if (Math.hypot(out[j].xM - p.xM, out[j].yM - p.yM) < minDistanceM) { ok = false; break; }
            }
          }
        }
      }
      if (!ok) continue;
      const k = key(cx, cy);
      let list = grid.get(k);
      if (!list) grid.set(k, (list = []));
      list.push(out.length);
      out.push(p);
      placed = true;
    }
    if (!placed) throw new RangeError(`cannot place node ${out.length} of ${count} at least ${minDistanceM} m from the others in ${widthM} x ${heightM} m`);
  }
  return out;
}

/** Grid: `columns` columns, rows as needed, nodes at the centres of equal cells, each moved by up to jitterM. */
export function gridPositions(rng: Rng, count: number, widthM: number, heightM: number, columns: number, jitterM: number): Position[] {
  const rows = Math.ceil(count / columns);
  const dx = widthM / columns, dy = heightM / rows;
  const clamp = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
  const out: Position[] = [];
  for (let i = 0; i < count; i++) {
    const c = i % columns, r = Math.floor(i / columns);
    const jx = jitterM > 0 ? rng.uniform(-jitterM, jitterM) : 0;
    const jy = jitterM > 0 ? rng.uniform(-jitterM, jitterM) : 0;
    out.push({ xM: clamp((c + 0.5) * dx + jx, widthM), yM: clamp((r + 0.5) * dy + jy, heightM) });
  }
  return out;
}

/** Roles and radio settings of every node: explicit position fields, then groups, then the node defaults. */
export function nodeSpecs(sc: Scenario, seed: SeedPart, positions: Position[]): NodeSpec[] {
  const n = sc.nodes.count;
  const r = sc.radio;
  const specs: NodeSpec[] = positions.map((position) => ({
    position, role: sc.nodes.role, heightM: sc.nodes.heightM, antennaGainDbi: sc.nodes.antennaGainDbi, txPowerDbm: r.txPowerDbm, mobile: false,
  }));
  const taken = new Uint8Array(n);
  const apply = (i: number, g: { role: Role; heightM?: number; antennaGainDbi?: number; txPowerDbm?: number }) => {
    taken[i] = 1;
    const s = specs[i];
    s.role = g.role;
    if (g.heightM !== undefined) s.heightM = g.heightM;
    if (g.antennaGainDbi !== undefined) s.antennaGainDbi = g.antennaGainDbi;
    if (g.txPowerDbm !== undefined) s.txPowerDbm = g.txPowerDbm;
  };
  // Groups with fixed indices first, so that random groups draw from the rest.
  for (const g of sc.nodes.groups) if (g.indices) for (const i of g.indices) apply(i, g);
  const rng = new Rng(seed, "groups");
  for (const g of sc.nodes.groups) {
    if (g.indices) continue;
    const want = g.count ?? Math.round((g.share ?? 0) * n);
    const free = rng.shuffle(Array.from({ length: n }, (_, i) => i).filter((i) => !taken[i]));
    for (const i of free.slice(0, want)) apply(i, g);
  }
  if (sc.nodes.placement.type === "explicit") {
    sc.nodes.placement.positions.forEach((p, i) => {
      const s = specs[i];
      if (p.role !== undefined) s.role = p.role;
      if (p.heightM !== undefined) s.heightM = p.heightM;
      if (p.antennaGainDbi !== undefined) s.antennaGainDbi = p.antennaGainDbi;
      if (p.txPowerDbm !== undefined) s.txPowerDbm = p.txPowerDbm;
    });
  }
  const m = sc.nodes.mobility;
  if (m) {
    const eligible = Array.from({ length: n }, (_, i) => i).filter((i) => specs[i].role !== "router");
    const want = Math.min(eligible.length, Math.round(m.share * n));
    for (const i of new Rng(seed, "mobile").shuffle(eligible).slice(0, want)) specs[i].mobile = true;
  }
  return specs;
}

/**
 * Whether every node can reach every other along decodable links whose intermediate
 * nodes relay (roles other than "mute"), the hop limit aside. That holds exactly when
 * one relay reaches every node and every node reaches it. `largest` is the size of the
 * largest cluster (nodes joined by links in either direction), for error messages.
 */
export function meshConnected(graph: number[][], relays: boolean[]): { connected: boolean; largest: number } {
  const n = graph.length;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => { while (parent[x] !== x) { parent[x] = parent[parent[x]]; x = parent[x]; } return x; };
  for (let a = 0; a < n; a++) for (const b of graph[a]) { const ra = find(a), rb = find(b); if (ra !== rb) parent[ra] = rb; }
  const sizes = new Map<number, number>();
  let largest = 0;
  for (let i = 0; i < n; i++) { const r = find(i); const s = (sizes.get(r) ?? 0) + 1; sizes.set(r, s); largest = Math.max(largest, s); }
  const start = relays.indexOf(true);
  if (start < 0) return { connected: graph.every((row) => row.length === n - 1), largest };
  const reverse: number[][] = Array.from({ length: n }, () => []);
  for (let a = 0; a < n; a++) for (const b of graph[a]) reverse[b].push(a);
  const reach = (adj: number[][]) => {
    const seen = new Uint8Array(n);
    seen[start] = 1;
    const queue = [start];
    for (let k = 0; k < queue.length; k++) {
      const a = queue[k];
      if (!relays[a]) continue; // a mute node is reached (or reaches) but relays nothing
      for (const b of adj[a]) if (!seen[b]) { seen[b] = 1; queue.push(b); }
    }
    return queue.length;
  };
  return { connected: reach(graph) === n && reach(reverse) === n, largest };
}

/**
 * Directed decodable links of a medium (both ends on, no partition): out[a] = the radios
 * that decode a. With `quiet`, external interference is ignored (the topology, not the
 * channel condition).
 */
export function decodableGraph(medium: Medium, quiet = false): number[][] {
  const out: number[][] = [];
  for (let a = 0; a < medium.radios.length; a++) out.push(medium.decodersOf(a, quiet));
  return out;
}
