// The scenario runner: builds the mesh a scenario describes (node.wasm, or any core
// with its ABI, on the simulated medium), drives its traffic, faults and mobility on
// the virtual clock, and measures it (sim/result.ts). A seed fixes everything: the
// same scenario, seed and core give the same RunResult except wallMs.
//
// Scripted announces. Nodes run with noAutoAnnounce: a direct message needs a
// verified announce from its recipient (and the recipient needs one from the sender
// to open it), and every announce costs every node an Ed25519 verification, so the
// runner announces only the nodes that take part in direct traffic: one after
// another, announceSpacingS apart, from announceStartS on; a revived node of a pair
// announces again 1 s after its reboot, and its partners after it (the reboot wiped
// its contacts).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadCoreModule, loadNodeModule } from "../host-tools/node/host.js";
import type { NodeEvent } from "../host-tools/node/protocol.js";
import { Rng } from "./engine/random.js";
import { FrameType, Mesh, frameType } from "./mesh.js";
import { RandomWaypoint } from "./mobility.js";
import { decodableGraph, gridPositions, meshConnected, nodeSpecs, spacedPositions, type NodeSpec } from "./placement.js";
import { presetModulation, type Modulation } from "./radio/lora.js";
import { Medium, insideRect, type Position, type Transmission } from "./radio/medium.js";
import { LogDistancePathLoss, OkumuraHataSuburbanPathLoss, ThreeGppMacroPathLoss, type PathLossModel } from "./radio/pathloss.js";
import { Scheduler } from "./engine/scheduler.js";
import { DROP_REASON_NAMES, type MessagePath, type Percentiles, type RunResult, type SeriesPoint, type SimLink, type SimNode } from "./result.js";
import { ScenarioError, loadScenario, type Fault, type PathLossName, type Scenario } from "./scenario.js";
import { MAIL_ANNOUNCE_SPACING_MS, MAIL_ANNOUNCE_START_MS, StorageRun, type StorageHost } from "./storage.js";

export { ScenarioError, loadScenario } from "./scenario.js";
export type { Scenario } from "./scenario.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const fromDist = import.meta.url.includes("/dist/sim/");
/** sim/scenarios/default.json (found from the source or the compiled module). */
export const DEFAULT_SCENARIO_PATH = path.resolve(here, fromDist ? "../../sim/scenarios" : "scenarios", "default.json");
/** The core used when RunOptions.core is not given. */
export const DEFAULT_CORE = "build/cores/node.wasm";

export type RunOptions = {
  /** Overrides the scenario's seed. */
  seed?: number;
  /** Path of a .wasm with node.wasm's ABI (default build/cores/node.wasm; build/cores/node-flood.wasm is the plain-flooding baseline). */
  core?: string;
  /** Called as the virtual clock advances (at least every 1 % of the run). */
  onProgress?: (simS: number, totalS: number) => void;
};

/** The channel every node joins (slot 0). */
export const SIM_CHANNEL = { slot: 0, name: "sim", passphrase: "outcaxt-simulator-channel" } as const;
/** Traces of frames (for message paths) are dropped this long after the frame first went on air. */
const TRACE_TTL_MS = 30 * 60_000;
/** Channel frames traced for the sample path (direct frames are all traced). */
const TRACED_CHANNEL_FRAMES = 32;
/** Longest path followed back (hops). */
const MAX_PATH_HOPS = 32;
/** App references of channel sends start here; direct messages use 1..2^31-1. */
const CHANNEL_REF_BASE = 0x8000_0000;

export function pathLossModel(name: PathLossName, frequencyHz: number, shadowingSigmaDb: number | null): PathLossModel {
  const sh = shadowingSigmaDb ?? undefined;
  switch (name) {
    case "3gpp-suburban": return new ThreeGppMacroPathLoss({ frequencyHz, environment: "suburban", shadowingSigmaDb: sh });
    case "3gpp-urban": return new ThreeGppMacroPathLoss({ frequencyHz, environment: "urban", shadowingSigmaDb: sh });
    case "log-distance": return new LogDistancePathLoss({ frequencyHz, shadowingSigmaDb: sh });
    case "okumura-hata-suburban": return new OkumuraHataSuburbanPathLoss({ frequencyHz, shadowingSigmaDb: sh });
  }
}

type RadioSetup = { seed: number; modulation: Modulation; frequencyHz: number; pathLoss: PathLossModel };

function radioSetup(sc: Scenario, seed: number): RadioSetup {
  const frequencyHz = Math.round(sc.radio.frequencyMHz * 1e6);
  return { seed, modulation: presetModulation(sc.radio.preset), frequencyHz, pathLoss: pathLossModel(sc.radio.pathLoss, frequencyHz, sc.radio.shadowingSigmaDb) };
}

function probeMedium(sc: Scenario, rs: RadioSetup, specs: NodeSpec[]): Medium {
  const m = new Medium(new Scheduler(), {
    seed: rs.seed, pathLoss: rs.pathLoss, linkOffsetSigmaDb: sc.radio.linkOffsetSigmaDb, interferenceDbm: sc.radio.interferenceDbm,
    defaults: { modulation: rs.modulation, frequencyHz: rs.frequencyHz, noiseFigureDb: sc.radio.noiseFigureDb },
  });
  for (const s of specs) m.addRadio({ position: s.position, heightM: s.heightM, antennaGainDbi: s.antennaGainDbi, txPowerDbm: s.txPowerDbm });
  return m;
}

/**
 * Where the nodes go and what they are. Random placement with `connected` is re-drawn
 * until the link graph (before any fault) lets every node reach every other through
 * relaying nodes; after maxAttempts draws it throws a ScenarioError.
 */
export function placeNodes(sc: Scenario, seed: number): NodeSpec[] {
  const p = sc.nodes.placement;
  const { widthM, heightM } = sc.area;
  const n = sc.nodes.count;
  switch (p.type) {
    case "grid": return nodeSpecs(sc, seed, gridPositions(new Rng(seed, "placement"), n, widthM, heightM, p.columns, p.jitterM));
    case "line": return nodeSpecs(sc, seed, Array.from({ length: n }, (_, i) => ({ xM: p.xM + i * p.spacingM, yM: p.yM })));
    case "explicit": return nodeSpecs(sc, seed, p.positions.map((q) => ({ xM: q.xM, yM: q.yM })));
    case "random": {
      const rs = radioSetup(sc, seed);
      let largest = 0;
      for (let attempt = 0; attempt < p.maxAttempts; attempt++) {
        let positions: Position[];
        try {
          positions = spacedPositions(new Rng(seed, "placement", attempt), n, widthM, heightM, p.minDistanceM);
        } catch (err) {
          throw new ScenarioError([{ key: "nodes.placement.minDistanceM", message: (err as Error).message }]);
        }
        const specs = nodeSpecs(sc, seed, positions);
        if (!p.connected) return specs;
        const c = meshConnected(decodableGraph(probeMedium(sc, rs, specs), true), specs.map((s) => s.role !== "mute"));
        if (c.connected) return specs;
        largest = Math.max(largest, c.largest);
      }
      throw new ScenarioError([{
        key: "nodes.placement",
        message: `no connected placement of ${n} nodes in ${widthM} x ${heightM} m after ${p.maxAttempts} attempts (the largest cluster had ${largest} nodes):`
          + " add nodes, shrink the area, raise antennas or power, or set nodes.placement.connected to false",
      }]);
    }
  }
}

/** Hops from `source` along decodable links, expanding only through relays, up to maxHops (255 = not reached). */
function hopsFrom(graph: number[][], relays: boolean[], source: number, maxHops: number): Uint8Array {
  const hops = new Uint8Array(graph.length).fill(255);
  hops[source] = 0;
  const queue = [source];
  for (let k = 0; k < queue.length; k++) {
    const a = queue[k];
    if (hops[a] >= maxHops || (a !== source && !relays[a])) continue;
    for (const b of graph[a]) if (hops[b] === 255) { hops[b] = hops[a] + 1; queue.push(b); }
  }
  return hops;
}

function percentiles(xs: number[]): Percentiles {
  if (xs.length === 0) return { p50: null, p95: null, p99: null };
  const s = Float64Array.from(xs).sort();
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

/** The 8-byte frame id (frame bytes 10..17) as a string key. */
function frameKey(frame: Uint8Array): string {
  return String.fromCharCode(frame[10], frame[11], frame[12], frame[13], frame[14], frame[15], frame[16], frame[17]);
}

function messageText(k: number, bytes: number): string {
  const tag = `${k.toString(36)}|`;
  return tag.length >= bytes ? tag : tag.padEnd(bytes, "x");
}

function messageTag(text: string): number {
  const bar = text.indexOf("|");
  return bar > 0 ? parseInt(text.slice(0, bar), 36) : -1;
}

type Broadcast = { from: number; atMs: number; series: number; eligible: Uint8Array; eligibleCount: number; reached: Uint8Array; reachedEligible: number };
type DirectMessage = { from: number; to: number; atMs: number; series: number; deliveredMs: number; acked: boolean };
type Trace = { origin: number; firstMs: number; heard: Map<number, { from: number; tMs: number }> };
type Affected = { dir: number; killMs: number; repairedMs: number; firstMsg: number };
type Action = { atMs: number; run: () => void | Promise<void> };

class ScenarioRun implements StorageHost {
  readonly n: number;
  readonly relays: boolean[];
  readonly roles: string[];
  readonly storage: StorageRun;
  readonly traffic: number[];
  readonly identity: string[] = [];
  readonly killedAtMs: (number | undefined)[];
  readonly totalMs: number;
  readonly intervalMs: number;
  readonly seriesCount: number;
  readonly seriesSent: number[];
  readonly seriesDelivered: number[];
  readonly seriesBusyMs: number[];
  readonly seriesRepairs: number[];
  readonly broadcasts: Broadcast[] = [];
  readonly directs: DirectMessage[] = [];
  readonly channelLatencies: number[] = [];
  readonly directLatencies: number[] = [];
  readonly traces = new Map<string, Trace>();
  readonly txTrace = new WeakMap<Transmission, Trace>();
  readonly lastPath = new Map<number, number[]>();
  readonly affected: Affected[] = [];
  readonly partners = new Map<number, number[]>();
  readonly framesByType = [0, 0, 0, 0, 0];
  tracedChannel = 0;
  busyUntilMs = 0;
  channelFrames = 0;
  messagesDelivered = 0;
  channelRejected = 0;
  directRejected = 0;
  directNoContact = 0;
  directSkipped = 0;
  announcesScripted = 0;
  kills = 0;
  revivals = 0;
  bestDirect: MessagePath | null = null;
  bestChannel: MessagePath | null = null;
  private graphVersion = -1;
  private graph: number[][] = [];

  constructor(readonly sc: Scenario, readonly seed: number, readonly mesh: Mesh, readonly specs: NodeSpec[]) {
    this.n = specs.length;
    this.relays = specs.map((s) => s.role !== "mute");
    this.roles = specs.map((s) => s.role);
    this.storage = new StorageRun(this);
    this.traffic = specs.map((s, i) => (s.role === "router" ? -1 : i)).filter((i) => i >= 0);
    this.killedAtMs = new Array(this.n).fill(undefined);
    this.totalMs = sc.durationS * 1000;
    this.intervalMs = sc.seriesIntervalS * 1000;
    this.seriesCount = Math.max(1, Math.ceil(this.totalMs / this.intervalMs - 1e-9));
    this.seriesSent = new Array(this.seriesCount).fill(0);
    this.seriesDelivered = new Array(this.seriesCount).fill(0);
    this.seriesBusyMs = new Array(this.seriesCount).fill(0);
    this.seriesRepairs = new Array(this.seriesCount).fill(0);
  }

  get now(): number { return this.mesh.nowMs; }

  seriesOf(ms: number): number { return Math.min(this.seriesCount - 1, Math.max(0, Math.floor(ms / this.intervalMs))); }

  /**
   * The link graph now (cached until a link changes): decodable links between live nodes
   * with no partition between them, external interference ignored (a channel condition,
   * like collisions, that reachability is meant to show).
   */
  linkGraph(): number[][] {
    if (this.graphVersion !== this.mesh.medium.linkVersion) {
      this.graph = decodableGraph(this.mesh.medium, true);
      this.graphVersion = this.mesh.medium.linkVersion;
    }
    return this.graph;
  }

  // ---------------------------------------------------------------- hooks

  onTransmit(tx: Transmission): void {
    // Union of on-air intervals, split over the series intervals.
    let a = Math.max(tx.startMs, this.busyUntilMs);
    const b = Math.min(tx.endMs, this.totalMs);
    if (tx.endMs > this.busyUntilMs) this.busyUntilMs = tx.endMs;
    while (a < b) {
      const k = this.seriesOf(a);
      const end = Math.min(b, (k + 1) * this.intervalMs, this.totalMs);
      this.seriesBusyMs[k] += end - a;
      if (end <= a) break;
      a = end;
    }
    const type = frameType(tx.payload);
    if (type < this.framesByType.length) this.framesByType[type]++;
    if (type === FrameType.STORE) this.storage.onTransmit(tx);
    if (type === FrameType.CHANNEL) this.channelFrames++;
    if (type !== FrameType.DIRECT && type !== FrameType.CHANNEL) return;
    const key = frameKey(tx.payload);
    let tr = this.traces.get(key);
    if (!tr) {
      if (type === FrameType.CHANNEL) {
        if (this.tracedChannel >= TRACED_CHANNEL_FRAMES) return;
        this.tracedChannel++;
      }
      tr = { origin: tx.from, firstMs: tx.startMs, heard: new Map() };
      this.traces.set(key, tr);
    }
    this.txTrace.set(tx, tr);
  }

  onReceive(to: number, tx: Transmission): void {
    const tr = this.txTrace.get(tx);
    if (tr && !tr.heard.has(to)) tr.heard.set(to, { from: tx.from, tMs: tx.startMs });
  }

  /** The chain of first receptions that brought the frame being received now to its receiver, origin first. */
  private receivedPath(): Array<{ from: number; tS: number }> | null {
    const r = this.mesh.receiving;
    if (!r) return null;
    const tr = this.txTrace.get(r.tx);
    if (!tr) return null;
    const back = [{ from: r.tx.from, tS: r.tx.startMs / 1000 }];
    let cur = r.tx.from;
    for (let g = 0; g < MAX_PATH_HOPS && cur !== tr.origin; g++) {
      const h = tr.heard.get(cur);
      if (!h) break;
      back.push({ from: h.from, tS: h.tMs / 1000 });
      cur = h.from;
    }
    return back.reverse();
  }

  onEvent(node: number, event: NodeEvent): void {
    if (this.storage.onEvent(node, event)) return;
    switch (event.type) {
      case "identity":
        this.identity[node] = event.contactId;
        return;
      case "channel": {
        const k = messageTag(event.text);
        const b = this.broadcasts[k];
        if (!b || b.reached[node]) return;
        b.reached[node] = 1;
        this.messagesDelivered++;
        this.channelLatencies.push(this.now - b.atMs);
        if (b.eligible[node]) { b.reachedEligible++; this.seriesDelivered[b.series]++; }
        const hops = this.receivedPath();
        if (hops && (!this.bestChannel || hops.length >= this.bestChannel.hops.length)) this.bestChannel = { kind: "channel", from: b.from, to: node, hops };
        return;
      }
      case "direct": {
        const k = messageTag(event.text);
        const d = this.directs[k];
        if (!d || d.to !== node || d.deliveredMs >= 0) return;
        d.deliveredMs = this.now;
        this.messagesDelivered++;
        this.seriesDelivered[d.series]++;
        this.directLatencies.push(this.now - d.atMs);
        const dir = d.from * 65536 + d.to;
        const hops = this.receivedPath();
        if (hops) {
          this.lastPath.set(dir, hops.map((h) => h.from).filter((x) => x !== d.from && x !== d.to));
          if (!this.bestDirect || hops.length >= this.bestDirect.hops.length) this.bestDirect = { kind: "direct", from: d.from, to: d.to, hops };
        }
        for (const a of this.affected) if (a.dir === dir && a.repairedMs < 0 && this.now > a.killMs) a.repairedMs = this.now;
        return;
      }
      case "delivery": {
        if (event.ref >= CHANNEL_REF_BASE || event.state !== "acked") return;
        const d = this.directs[event.ref - 1];
        if (d && d.from === node) d.acked = true;
        return;
      }
      default:
    }
  }

  // ---------------------------------------------------------------- traffic

  sendBroadcast(from: number): void {
    const k = this.broadcasts.length;
    const hops = hopsFrom(this.linkGraph(), this.relays, from, this.sc.radio.hopLimit + 1);
    const eligible = new Uint8Array(this.n);
    let eligibleCount = 0;
    for (let i = 0; i < this.n; i++) if (i !== from && hops[i] !== 255 && this.mesh.isAlive(i)) { eligible[i] = 1; eligibleCount++; }
    const series = this.seriesOf(this.now);
    this.broadcasts.push({ from, atMs: this.now, series, eligible, eligibleCount, reached: new Uint8Array(this.n), reachedEligible: 0 });
    this.seriesSent[series] += eligibleCount;
    const st = this.mesh.act(from, (node) => node.sendChannel(SIM_CHANNEL.slot, CHANNEL_REF_BASE + k, messageText(k, this.sc.traffic.channel!.payloadBytes)));
    if (st !== 0) this.channelRejected++;
  }

  sendDirect(from: number, to: number): void {
    if (!this.mesh.isAlive(to)) { this.directSkipped++; return; }
    const k = this.directs.length;
    const series = this.seriesOf(this.now);
    this.directs.push({ from, to, atMs: this.now, series, deliveredMs: -1, acked: false });
    this.seriesSent[series]++;
    const dir = from * 65536 + to;
    for (const a of this.affected) if (a.dir === dir && a.firstMsg < 0) a.firstMsg = k;
    const st = this.mesh.act(from, (node) => node.sendDirect(this.identity[to], k + 1, messageText(k, this.sc.traffic.direct!.payloadBytes)));
    if (st === -6) this.directNoContact++;
    if (st !== 0) this.directRejected++;
  }

  announce(i: number): void {
    if (!this.mesh.isAlive(i)) return;
    this.mesh.act(i, (node) => node.announce());
    this.announcesScripted++;
  }

  /** A Poisson process with the given mean gap from startS to stopS, skipping times when `from` is dead. */
  poisson(rng: Rng, meanS: number, startS: number, stopS: number, fire: () => void, from: number): void {
    const next = (t: number) => t + -Math.log(rng.floatOpen()) * meanS * 1000;
    const step = (t: number) => {
      if (t > stopS * 1000) return;
      this.mesh.scheduler.at(t, () => {
        if (this.mesh.isAlive(from)) fire();
        step(next(t));
      });
    };
    step(next(startS * 1000));
  }

  /** Random pairs of traffic nodes that reach each other within hopLimit + 1 hops (at the start). */
  pickPairs(spec: number | Array<[number, number]>): Array<[number, number]> {
    if (Array.isArray(spec)) return spec.map(([a, b]) => [a, b] as [number, number]);
    const count = spec;
    const nodes = this.traffic;
    if (nodes.length < 2) throw new ScenarioError([{ key: "traffic.direct", message: "needs at least two nodes whose role is client or mute" }]);
    const rng = new Rng(this.seed, "pairs");
    const graph = this.linkGraph();
    const maxHops = this.sc.radio.hopLimit + 1;
    const reach = new Map<number, Uint8Array>();
    const hopsOf = (a: number) => { let h = reach.get(a); if (!h) reach.set(a, (h = hopsFrom(graph, this.relays, a, maxHops))); return h; };
    const seen = new Set<number>();
    const out: Array<[number, number]> = [];
    for (let tries = 0; out.length < count && tries < count * 200; tries++) {
      let a = nodes[rng.int(nodes.length)], b = nodes[rng.int(nodes.length)];
      if (a === b) continue;
      if (a > b) [a, b] = [b, a];
      const key = a * 65536 + b;
      if (seen.has(key)) continue;
      seen.add(key);
      if (hopsOf(a)[b] === 255 || hopsOf(b)[a] === 255) continue;
      out.push([a, b]);
    }
    if (out.length < count) {
      throw new ScenarioError([{ key: "traffic.direct.pairs", message: `found only ${out.length} of ${count} pairs of client/mute nodes within ${maxHops} hops of each other` }]);
    }
    return out;
  }

  // ---------------------------------------------------------------- faults

  kill(nodes: number[]): void {
    const killed = new Set<number>();
    for (const i of nodes) {
      if (!this.mesh.isAlive(i)) continue;
      this.mesh.kill(i);
      this.killedAtMs[i] = this.now;
      this.kills++;
      killed.add(i);
    }
    if (killed.size === 0) return;
    for (const [dir, relays] of this.lastPath) {
      const from = Math.floor(dir / 65536), to = dir % 65536;
      if (!this.mesh.isAlive(from) || !this.mesh.isAlive(to)) continue;
      if (relays.some((r) => killed.has(r))) this.affected.push({ dir, killMs: this.now, repairedMs: -1, firstMsg: -1 });
    }
  }

  async revive(nodes: number[]): Promise<void> {
    for (const i of nodes) {
      if (this.mesh.isAlive(i)) continue;
      await this.mesh.revive(i);
      this.revivals++;
      this.storage.onBoot(i);
      this.mesh.act(i, (node) => node.joinChannel(SIM_CHANNEL.slot, SIM_CHANNEL.name, SIM_CHANNEL.passphrase));
      const partners = this.partners.get(i);
      if (partners && this.sc.traffic.direct) {
        const gap = Math.max(1000, this.sc.traffic.direct.announceSpacingS * 1000);
        this.mesh.scheduler.after(1000, () => this.announce(i));
        partners.forEach((p, j) => this.mesh.scheduler.after(1000 + gap * (j + 1), () => this.announce(p)));
      }
    }
  }

  faultActions(faults: Fault[]): Action[] {
    const actions: Action[] = [];
    const medium = this.mesh.medium;
    faults.forEach((f, index) => {
      const at = f.atS * 1000;
      switch (f.type) {
        case "kill": {
          actions.push({
            atMs: at,
            run: () => {
              let chosen: number[];
              if (f.nodes) chosen = f.nodes.slice();
              else {
                const alive = Array.from({ length: this.n }, (_, i) => i).filter((i) => this.mesh.isAlive(i));
                const want = f.count ?? Math.round((f.fraction ?? 0) * this.n);
                chosen = new Rng(this.seed, "fault", index).shuffle(alive).slice(0, want).sort((a, b) => a - b);
              }
              this.kill(chosen);
              if (f.reviveAfterS !== undefined && at + f.reviveAfterS * 1000 <= this.totalMs) {
                insertAction(actions, { atMs: at + f.reviveAfterS * 1000, run: () => this.revive(chosen) });
              }
            },
          });
          break;
        }
        case "revive":
          actions.push({
            atMs: at,
            run: () => this.revive(f.nodes === "all" ? Array.from({ length: this.n }, (_, i) => i).filter((i) => !this.mesh.isAlive(i)) : f.nodes),
          });
          break;
        case "partition": {
          let id = -1;
          actions.push({ atMs: at, run: () => { id = medium.addPartition(f.area); } });
          if (f.untilS !== undefined) actions.push({ atMs: f.untilS * 1000, run: () => medium.removePartition(id) });
          break;
        }
        case "interference": {
          const area = f.area;
          let inside: number[] = [];
          actions.push({
            atMs: at,
            run: () => {
              if (!area) { medium.setInterference(f.levelDbm); return; }
              inside = medium.radios.filter((r) => insideRect(area, r.position)).map((r) => r.index);
              for (const i of inside) medium.setRadioInterference(i, f.levelDbm);
            },
          });
          if (f.untilS !== undefined) {
            actions.push({
              atMs: f.untilS * 1000,
              run: () => {
                if (!area) medium.setInterference(this.sc.radio.interferenceDbm);
                else for (const i of inside) medium.setRadioInterference(i, undefined);
              },
            });
          }
          break;
        }
      }
    });
    return actions.sort((a, b) => a.atMs - b.atMs); // stable: same-time actions keep the scenario's order
  }

  // ---------------------------------------------------------------- results

  result(wallStart: number, core: string): RunResult {
    const mesh = this.mesh;
    const medium = mesh.medium;
    const nodes: SimNode[] = this.specs.map((s, i) => {
      const p = medium.radios[i].position;
      const node: SimNode = { index: i, xM: round(p.xM, 2), yM: round(p.yM, 2), role: s.role, alive: mesh.isAlive(i), mobile: s.mobile };
      if (this.killedAtMs[i] !== undefined) node.killedAtS = this.killedAtMs[i]! / 1000;
      return node;
    });
    const best = new Map<number, number>();
    for (let a = 0; a < this.n; a++) {
      const l = medium.linksFrom(a);
      for (let k = 0; k < l.to.length; k++) {
        const b = l.to[k];
        if (medium.linkCut(a, b) || l.powerDbm[k] < medium.sensitivityDbm(b)) continue;
        const snr = l.powerDbm[k] - medium.noiseFloorDbm(b);
        const key = Math.min(a, b) * 65536 + Math.max(a, b);
        const prev = best.get(key);
        if (prev === undefined || snr > prev) best.set(key, snr);
      }
    }
    const links: SimLink[] = [...best.entries()].sort((x, y) => x[0] - y[0])
      .map(([key, snr]) => ({ a: Math.floor(key / 65536), b: key % 65536, snrDb: round(snr, 1) }));

    const series: SeriesPoint[] = [];
    for (let k = 0; k < this.seriesCount; k++) {
      const start = k * this.intervalMs, end = Math.min(this.totalMs, (k + 1) * this.intervalMs);
      series.push({
        tS: end / 1000, delivered: this.seriesDelivered[k], sent: this.seriesSent[k],
        channelUtilisation: end > start ? this.seriesBusyMs[k] / (end - start) : 0, repairs: this.seriesRepairs[k],
      });
    }

    let eligible = 0, reached = 0;
    for (const b of this.broadcasts) { eligible += b.eligibleCount; reached += b.reachedEligible; }
    const directDelivered = this.directs.filter((d) => d.deliveredMs >= 0).length;
    const drops: Record<string, number> = {};
    for (let id = 1; id <= 15; id++) drops[DROP_REASON_NAMES[id]] = mesh.counterSum(id);
    const busy = this.seriesBusyMs.reduce((a, b) => a + b, 0);
    const repaired = this.affected.filter((a) => a.repairedMs >= 0);
    const repairLat = this.affected
      .filter((a) => a.firstMsg >= 0 && this.directs[a.firstMsg].deliveredMs >= 0)
      .map((a) => this.directs[a.firstMsg].deliveredMs - this.directs[a.firstMsg].atMs);
    const framesSent = medium.stats.transmissions;
    const airtimeMs = medium.stats.airtimeMs;
    const memory = mesh.nodes.reduce((a, node) => a + node.memoryBytes(), 0) / Math.max(1, this.n);
    return {
      scenario: this.sc.name,
      seed: this.seed,
      core,
      durationS: this.sc.durationS,
      wallMs: Math.round(performance.now() - wallStart),
      nodes,
      links,
      series,
      metrics: {
        broadcastReachability: ratio(reached, eligible),
        directDeliveryRatio: ratio(directDelivered, this.directs.length),
        channelLatencyMs: percentiles(this.channelLatencies),
        directLatencyMs: percentiles(this.directLatencies),
        transmissionsPerDelivered: ratio(framesSent, this.messagesDelivered),
        airtimeMsPerDelivered: ratio(airtimeMs, this.messagesDelivered),
        channelUtilisation: busy / this.totalMs,
        airtimeMsPerNode: airtimeMs / this.n,
        airtimeSharePerNode: airtimeMs / this.n / this.totalMs,
        collisions: medium.stats.lostCollision,
        halfDuplexLosses: medium.stats.lostHalfDuplex,
        dutyDeferrals: mesh.counterSum(26),
        lbtDeferrals: mesh.stats.lbtDeferrals,
        routeRepairs: mesh.counterSum(25),
        timeToRepairMs: mean(repaired.map((a) => a.repairedMs - a.killMs)),
        repairDeliveryLatencyMs: mean(repairLat),
        routesBrokenByKills: this.affected.length,
        routesRepairedAfterKills: repaired.length,
        coreMemoryBytesPerNode: memory,
        dropsByReason: drops,
        framesSent,
        framesByType: {
          announce: this.framesByType[0], channel: this.framesByType[1], direct: this.framesByType[2], ack: this.framesByType[3], store: this.framesByType[4],
        },
        airtimeMs,
        messagesSent: this.broadcasts.length + this.directs.length,
        messagesDelivered: this.messagesDelivered,
        broadcastsSent: this.broadcasts.length,
        channelTransmissionsPerBroadcast: ratio(this.channelFrames, this.broadcasts.length),
        directSent: this.directs.length,
        directDelivered,
        directAcked: this.directs.filter((d) => d.acked).length,
        directRejected: this.directRejected,
        directRejectedNoContact: this.directNoContact,
        directSkippedDeadRecipient: this.directSkipped,
        channelRejected: this.channelRejected,
        announcesScripted: this.announcesScripted,
        kills: this.kills,
        revivals: this.revivals,
      },
      samplePath: this.bestDirect ?? this.bestChannel,
      // Only with storage actions (older readers of the JSON see the same keys as before).
      ...(this.storage.active ? { storage: this.storage.result() } : {}),
    };
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Inserts an action after every action due at or before its time. */
function insertAction(actions: Action[], a: Action): void {
  let k = actions.length;
  while (k > 0 && actions[k - 1].atMs > a.atMs) k--;
  actions.splice(k, 0, a);
}

/**
 * Runs a scenario (validated again, so a raw object works too) and measures it.
 * Throws ScenarioError for what the scenario cannot do with this seed (no connected
 * placement, too few reachable pairs for direct traffic).
 */
export async function runScenario(scenario: Scenario | unknown, opts: RunOptions = {}): Promise<RunResult> {
  const wallStart = performance.now();
  const sc = loadScenario(scenario);
  const seed = opts.seed ?? sc.seed;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ScenarioError([{ key: "seed", message: `must be a non-negative integer, got ${seed}` }]);
  const core = opts.core ?? DEFAULT_CORE;
  const module = opts.core ? await loadCoreModule(opts.core) : await loadNodeModule();
  const specs = placeNodes(sc, seed);
  const rs = radioSetup(sc, seed);
  const mesh = await Mesh.create({
    seed, module, modulation: rs.modulation, frequencyHz: rs.frequencyHz, pathLoss: rs.pathLoss,
    linkOffsetSigmaDb: sc.radio.linkOffsetSigmaDb, interferenceDbm: sc.radio.interferenceDbm,
    radio: { noiseFigureDb: sc.radio.noiseFigureDb },
    node: {
      hopLimit: sc.radio.hopLimit,
      dutyCyclePermille: sc.radio.dutyCyclePercent === null ? 0 : Math.round(sc.radio.dutyCyclePercent * 10),
      noAutoAnnounce: true,
    },
    listenBeforeTalk: sc.radio.listenBeforeTalk,
    keepEvents: false,
  });
  const run = new ScenarioRun(sc, seed, mesh, specs);
  mesh.hooks = {
    transmit: (tx) => run.onTransmit(tx),
    receive: (to, tx) => run.onReceive(to, tx),
    event: (e) => run.onEvent(e.node, e.event),
  };
  for (const s of specs) {
    await mesh.addNode(s.position, {
      config: { relay: s.role !== "mute", relayCancelCopies: s.role === "router" ? 255 : 0 },
      radio: { heightM: s.heightM, antennaGainDbi: s.antennaGainDbi, txPowerDbm: s.txPowerDbm },
    });
  }
  for (let i = 0; i < run.n; i++) mesh.act(i, (node) => node.joinChannel(SIM_CHANNEL.slot, SIM_CHANNEL.name, SIM_CHANNEL.passphrase));

  // Traffic.
  const ch = sc.traffic.channel;
  if (ch) for (const i of ch.senders ?? run.traffic) run.poisson(new Rng(seed, "channel", i), ch.meanIntervalS, ch.startS, ch.stopS, () => run.sendBroadcast(i), i);
  const dm = sc.traffic.direct;
  if (dm) {
    const pairs = run.pickPairs(dm.pairs);
    for (const [a, b] of pairs) {
      run.partners.set(a, [...(run.partners.get(a) ?? []), b]);
      run.partners.set(b, [...(run.partners.get(b) ?? []), a]);
    }
    const announcers = new Rng(seed, "announce-order").shuffle([...run.partners.keys()].sort((x, y) => x - y));
    announcers.forEach((i, k) => mesh.scheduler.at((dm.announceStartS + k * dm.announceSpacingS) * 1000, () => run.announce(i)));
    for (const [a, b] of pairs) {
      run.poisson(new Rng(seed, "direct", a, b), dm.meanIntervalS, dm.startS, dm.stopS, () => run.sendDirect(a, b), a);
      run.poisson(new Rng(seed, "direct", b, a), dm.meanIntervalS, dm.startS, dm.stopS, () => run.sendDirect(b, a), b);
    }
  }

  // Storage actions: the endpoints of messages announce one after another (after the
  // direct traffic's announcers, if any), so that senders and recipients know each other.
  if (run.storage.active) {
    run.storage.captureStartGraph(run.linkGraph());
    const mailAnnounceStartMs = Math.max(MAIL_ANNOUNCE_START_MS,
      dm ? (dm.announceStartS + run.partners.size * dm.announceSpacingS) * 1000 : 0);
    run.storage.mailAnnouncers().forEach((i, k) => mesh.scheduler.at(mailAnnounceStartMs + k * MAIL_ANNOUNCE_SPACING_MS, () => run.announce(i)));
  }

  // Mobility: every mobile node steps at once, every updateS.
  const mob = sc.nodes.mobility;
  const walkers = specs.map((s, i) => (s.mobile && mob ? new RandomWaypoint(seed, i, s.position, sc.area, mob.speedMps, mob.pauseS) : null));
  if (mob && walkers.some((w) => w)) {
    const stepMs = mob.updateS * 1000;
    const tick = () => {
      walkers.forEach((w, i) => { if (w) mesh.medium.moveRadio(i, w.step(mob.updateS)); });
      if (mesh.nowMs + stepMs <= run.totalMs) mesh.scheduler.after(stepMs, tick);
    };
    mesh.scheduler.at(stepMs, tick);
  }

  // The clock: run to each fault, series boundary and progress tick in turn.
  const actions = run.faultActions(sc.faults);
  // Storage actions join the same list (sorted in place: fault actions insert their revivals into it).
  actions.push(...run.storage.actions());
  actions.sort((a, b) => a.atMs - b.atMs);
  const progressMs = Math.min(run.intervalMs, run.totalMs / 100);
  let nextProgress = progressMs;
  let seriesK = 0;
  let repairsBefore = 0;
  let reported = 0;
  opts.onProgress?.(0, sc.durationS);
  for (let ai = 0; ;) {
    const seriesEnd = Math.min(run.totalMs, (seriesK + 1) * run.intervalMs);
    const next = Math.min(ai < actions.length ? actions[ai].atMs : Infinity, seriesEnd, nextProgress, run.totalMs);
    mesh.runUntil(next);
    while (ai < actions.length && actions[ai].atMs <= next) await actions[ai++].run();
    if (next >= seriesEnd && seriesK < run.seriesCount) {
      const repairs = mesh.counterSum(25);
      run.seriesRepairs[seriesK] = repairs - repairsBefore;
      repairsBefore = repairs;
      seriesK++;
      for (const [key, tr] of run.traces) if (tr.firstMs < next - TRACE_TTL_MS) run.traces.delete(key);
      for (const node of mesh.nodes) node.events.length = 0;
    }
    if (next >= nextProgress || (next >= run.totalMs && reported < run.totalMs)) {
      opts.onProgress?.(next / 1000, sc.durationS);
      reported = next;
      while (nextProgress <= next) nextProgress += progressMs;
    }
    if (next >= run.totalMs && ai >= actions.length) break;
  }
  return run.result(wallStart, core);
}
