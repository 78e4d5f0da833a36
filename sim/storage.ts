// Storage in the simulator (firmware/STORAGE.md): the scenario's scripted storage
// actions (mail to absent nodes, nodes going offline, rebooting or dying, files put
// and fetched) and their measurement (RunResult.storage, sim/result.ts).
//
// Mail: a message action sends direct messages with app references from MAIL_REF_BASE
// and texts tagged "@<k>|"; the sender's DELIVERY events (4 stored with the keepers so
// far, 5 delivered through keepers) and the recipient's DIRECT_MESSAGE events are
// matched to them. Files: a filePut feeds N seeded random bytes to the node
// (FILE_PUT_BEGIN, DATA in 200-byte pieces, END) and keeps the capability of its
// FILE_STORED event; a fileGet asks for the last put's capability and reassembles the
// FILE_DATA events, compared byte for byte with what was put at FILE_DONE.
// Storage frames: every transmission whose flags byte says STORE (type 4) is counted
// with its airtime, over the run and in the window of each file operation.
import type { NodeHost } from "../host-tools/node/host.js";
import { encodeFileGet, encodeFilePutBegin, encodeFilePutData, encodeFilePutEnd, type NodeEvent } from "../host-tools/node/protocol.js";
import { Rng } from "./engine/random.js";
import { FrameType, frameType, type Mesh } from "./mesh.js";
import type { Transmission } from "./radio/medium.js";
import type { FileGetResult, FilePutResult, MailMessageResult, StorageActionLog, StorageResult } from "./result.js";
import type { NodeFilter, NodeSelector, Scenario, StorageAction } from "./scenario.js";

/** App references of storage messages (direct traffic uses 1..2^30-1, channel broadcasts 2^31..). */
export const MAIL_REF_BASE = 0x4000_0000;
/** App references of file puts and gets. */
export const FILE_REF_BASE = 0x6000_0000;
/** FILE_PUT_DATA piece (ABI: at most 200 bytes). */
const PUT_PIECE = 200;
/** The core's boot announce comes 1 s + 0..30 s after node_init (node.ts ANNOUNCE_BOOT_DELAY_MAX_MS); scripted nodes do the same. */
const BOOT_ANNOUNCE_MIN_MS = 1000;
const BOOT_ANNOUNCE_SPREAD_MS = 30_000;
/** Message endpoints announce one after another from this time, this far apart. */
export const MAIL_ANNOUNCE_START_MS = 2000;
export const MAIL_ANNOUNCE_SPACING_MS = 15_000;
/** Node counters of the storage layer (firmware/cores/node/stats.ts), by result name. */
export const STORAGE_COUNTERS: Readonly<Record<string, number>> = Object.freeze({
  mailDeposited: 44, mailKept: 45, keeperDeliveries: 46, mailReceivedFromKeepers: 47, receiptsSent: 48, mailReleased: 49,
  mailExpired: 50, mailRefused: 51, storeBad: 52, blocksHeld: 53, blocksServed: 54, blocksFetched: 55, blockHashBad: 56,
  fileReplications: 57,
});
/** node_command status of a command the core does not implement (ERR_INVALID). */
const ERR_INVALID = -5;

/** What the storage layer needs from the scenario runner. */
export type StorageHost = {
  readonly mesh: Mesh;
  readonly seed: number;
  readonly sc: Scenario;
  readonly relays: boolean[];
  /** Role of each node ("client", "router", "mute"). */
  readonly roles: string[];
  readonly identity: string[];
  readonly totalMs: number;
  kill(nodes: number[]): void;
  revive(nodes: number[]): Promise<void>;
  announce(i: number): void;
};

type Mail = {
  from: number; to: number; sentMs: number; status: number; absent: boolean;
  storedMs: number; keepers: number; viaKeepersMs: number; ackedMs: number; failedMs: number; deliveredMs: number;
};
type Put = {
  from: number; bytes: Uint8Array; copies: number; startMs: number; status: number;
  storedMs: number; replicatedMs: number; failedMs: number; holders: number; holderNodes: number[]; capability: Uint8Array | null;
  framesAt: number; airtimeAt: number; frames: number; airtimeMs: number;
};
type Get = {
  from: number; put: number; hops: number | null; startMs: number; status: number; doneMs: number; state: string;
  length: number; blocks: number; elapsedMs: number; data: Uint8Array; received: number; putterAlive: boolean; holdersAlive: number;
  framesAt: number; airtimeAt: number; frames: number; airtimeMs: number;
};

const nowS = (ms: number) => Math.round(ms) / 1000;
const orNull = (ms: number) => (ms >= 0 ? nowS(ms) : null);

/** Whether a storage record is in use (a free mail slot is one zero byte). */
function inUse(v: Uint8Array | undefined): boolean {
  return !!v && v.length > 1;
}

/** Keys of node storage that hold kept mail / file blocks. */
export function keepsMail(store: { map: Map<string, Uint8Array> }): boolean {
  for (const [k, v] of store.map) if (k.startsWith("mail.") && inUse(v)) return true;
  return false;
}
export function holdsFileBlocks(store: { map: Map<string, Uint8Array> }): boolean {
  for (const [k, v] of store.map) if (k.startsWith("fb.") && v.length > 0) return true;
  return false;
}

export function messageText(tag: string, bytes: number): string {
  return tag.length >= bytes ? tag : tag.padEnd(bytes, "x");
}

export class StorageRun {
  readonly mails: Mail[] = [];
  readonly puts: Put[] = [];
  readonly gets: Get[] = [];
  readonly log: StorageActionLog[] = [];
  /** Boot times (ms) of each node after the first (revivals, returns, reboots). */
  readonly boots = new Map<number, number[]>();
  storeFrames = 0;
  storeAirtimeMs = 0;
  private startGraph: number[][] | null = null;
  private readonly hopCache = new Map<number, Uint16Array>();

  constructor(readonly host: StorageHost) {}

  get active(): boolean { return this.host.sc.actions.length > 0; }

  private get now(): number { return this.host.mesh.nowMs; }

  /** The link graph at the start of the run (for farthestFrom); call before any fault. */
  captureStartGraph(graph: number[][]): void { this.startGraph = graph; }

  /** Hops from `source` in the start-of-run link graph, through relaying nodes (65535: not reached). */
  hopsFrom(source: number): Uint16Array {
    let h = this.hopCache.get(source);
    if (h) return h;
    const graph = this.startGraph ?? [];
    h = new Uint16Array(this.host.relays.length).fill(65535);
    h[source] = 0;
    const queue = [source];
    for (let k = 0; k < queue.length; k++) {
      const a = queue[k];
      if (a !== source && !this.host.relays[a]) continue;
      for (const b of graph[a] ?? []) if (h[b] === 65535) { h[b] = h[a] + 1; queue.push(b); }
    }
    this.hopCache.set(source, h);
    return h;
  }

  /** Nodes that are endpoints of message actions, in a seeded order (they announce at the start). */
  mailAnnouncers(): number[] {
    const set = new Set<number>();
    for (const a of this.host.sc.actions) if (a.type === "message") { set.add(a.to); set.add(a.from); }
    return new Rng(this.host.seed, "mail-announce-order").shuffle([...set].sort((x, y) => x - y));
  }

  // ---------------------------------------------------------------- hooks

  onTransmit(tx: Transmission): void {
    if (frameType(tx.payload) !== FrameType.STORE) return;
    this.storeFrames++;
    this.storeAirtimeMs += tx.endMs - tx.startMs;
  }

  onBoot(node: number): void {
    const list = this.boots.get(node) ?? [];
    list.push(this.now);
    this.boots.set(node, list);
  }

  /** Handles an app event; true when it belonged to a storage action. */
  onEvent(node: number, e: NodeEvent): boolean {
    switch (e.type) {
      case "delivery": {
        if (e.ref < MAIL_REF_BASE || e.ref >= FILE_REF_BASE) return false;
        const m = this.mails[e.ref - MAIL_REF_BASE];
        if (!m || m.from !== node) return true;
        if (e.state === "stored") {
          if (m.storedMs < 0) m.storedMs = this.now;
          m.keepers = Math.max(m.keepers, e.attempts);
        } else if (e.state === "delivered") {
          if (m.viaKeepersMs < 0) m.viaKeepersMs = this.now;
        } else if (e.state === "acked") {
          if (m.ackedMs < 0) m.ackedMs = this.now;
        } else if (e.state === "failed") {
          m.failedMs = this.now;
        }
        return true;
      }
      case "direct": {
        if (!e.text.startsWith("@")) return false;
        const bar = e.text.indexOf("|");
        const m = this.mails[parseInt(e.text.slice(1, bar), 36)];
        if (m && m.to === node && m.deliveredMs < 0) m.deliveredMs = this.now;
        return true;
      }
      case "fileStored": {
        const p = this.puts[e.ref - FILE_REF_BASE];
        if (!p || p.from !== node) return true;
        // The capability comes whole with the first event (state 1); later ones carry the root address only
        // (the putter keeps no key), so the first is kept.
        if (!p.capability && e.capability.some((b) => b !== 0)) p.capability = e.capability.slice();
        if (e.state === "stored" && p.storedMs < 0) p.storedMs = this.now;
        if (e.state === "replicated") {
          if (p.replicatedMs < 0) p.replicatedMs = this.now;
          p.holders = Math.max(p.holders, e.holders);
          p.holderNodes = this.nodesWhere((i) => holdsFileBlocks(this.host.mesh.storage(i)) && i !== p.from);
        }
        if (e.state === "failed") { p.failedMs = this.now; p.holders = Math.max(p.holders, e.holders); }
        if (e.state === "replicated" || e.state === "failed") this.closeWindow(p);
        return true;
      }
      case "fileData": {
        const g = this.gets[e.ref - FILE_REF_BASE - 0x0100_0000];
        if (!g || g.from !== node) return true;
        if (e.offset + e.data.length > g.data.length) {
          const grown = new Uint8Array(e.offset + e.data.length);
          grown.set(g.data);
          g.data = grown;
        }
        g.data.set(e.data, e.offset);
        g.received += e.data.length;
        return true;
      }
      case "fileDone": {
        const g = this.gets[e.ref - FILE_REF_BASE - 0x0100_0000];
        if (!g || g.from !== node || g.doneMs >= 0) return true;
        g.doneMs = this.now;
        g.state = e.state;
        g.length = e.length;
        g.blocks = e.blocks;
        g.elapsedMs = e.elapsedMs;
        this.closeWindow(g);
        return true;
      }
      default:
        return false;
    }
  }

  private closeWindow(w: { framesAt: number; airtimeAt: number; frames: number; airtimeMs: number }): void {
    w.frames = this.storeFrames - w.framesAt;
    w.airtimeMs = this.storeAirtimeMs - w.airtimeAt;
  }

  private nodesWhere(f: (i: number) => boolean): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.host.mesh.size; i++) if (f(i)) out.push(i);
    return out;
  }

  // ---------------------------------------------------------------- selection

  /** Nodes matching a selector now; `count` of them at random (seeded by the action), else all (indices) or one (a filter). */
  select(sel: NodeSelector, count: number | undefined, index: number): { nodes: number[]; matched: number } {
    let matching: number[];
    let defaultCount: number;
    if (typeof sel === "number") { matching = [sel]; defaultCount = 1; }
    else if (Array.isArray(sel)) { matching = sel.slice(); defaultCount = sel.length; }
    else { matching = this.filter(sel); defaultCount = 1; }
    const want = Math.min(count ?? defaultCount, matching.length);
    const nodes = want === matching.length ? matching : new Rng(this.host.seed, "action", index).shuffle(matching).slice(0, want);
    return { nodes: nodes.sort((a, b) => a - b), matched: matching.length };
  }

  private filter(f: NodeFilter): number[] {
    const mesh = this.host.mesh;
    const alive = f.alive ?? true;
    const exclude = new Set(f.exclude ?? []);
    let out = this.nodesWhere((i) => {
      if (exclude.has(i) || mesh.isAlive(i) !== alive) return false;
      if (f.role && this.host.roles[i] !== f.role) return false;
      if (f.keepsMail !== undefined && keepsMail(mesh.storage(i)) !== f.keepsMail) return false;
      if (f.holdsFile !== undefined && holdsFileBlocks(mesh.storage(i)) !== f.holdsFile) return false;
      return true;
    });
    if (f.farthestFrom !== undefined) {
      const src = f.farthestFrom === "putter" ? this.puts[this.puts.length - 1]?.from : f.farthestFrom;
      if (src === undefined) return [];
      const h = this.hopsFrom(src);
      out = out.filter((i) => i !== src && h[i] !== 65535);
      const far = Math.max(-1, ...out.map((i) => h[i]));
      out = out.filter((i) => h[i] === far);
    }
    return out;
  }

  // ---------------------------------------------------------------- actions

  /** The scenario's storage actions as timed runner actions (same-time actions keep the file order). */
  actions(): Array<{ atMs: number; run: () => void | Promise<void> }> {
    const out: Array<{ atMs: number; run: () => void | Promise<void> }> = [];
    this.host.sc.actions.forEach((a, index) => {
      const at = a.atS * 1000;
      switch (a.type) {
        case "message":
          for (let k = 0; k < a.count; k++) out.push({ atMs: at + k * a.spacingS * 1000, run: () => this.sendMail(a, index) });
          break;
        case "offline": {
          let chosen: number[] = [];
          // Only the nodes this action takes down come back (not ones that were already dead).
          out.push({ atMs: at, run: () => { chosen = this.takeDown(a, index, a.nodes, a.count); } });
          out.push({ atMs: a.untilS * 1000, run: () => this.bringBack(chosen, index, "back") });
          break;
        }
        case "reboot": {
          let chosen: number[] = [];
          out.push({ atMs: at, run: () => { chosen = this.takeDown(a, index, a.nodes, a.count); } });
          out.push({ atMs: at + a.downS * 1000, run: () => this.bringBack(chosen, index, "rebooted") });
          break;
        }
        case "kill":
          out.push({ atMs: at, run: () => this.host.kill(this.selectAndLog(a, index, a.nodes, a.count)) });
          break;
        case "announce":
          out.push({ atMs: at, run: () => { for (const i of this.selectAndLog(a, index, a.nodes, a.count)) this.host.announce(i); } });
          break;
        case "filePut":
          out.push({ atMs: at, run: () => this.filePut(a, index) });
          break;
        case "fileGet":
          out.push({ atMs: at, run: () => this.fileGet(a, index) });
          break;
      }
    });
    return out;
  }

  private selectAndLog(a: StorageAction, index: number, sel: NodeSelector, count: number | undefined): number[] {
    const { nodes, matched } = this.select(sel, count, index);
    const entry: StorageActionLog = { action: index, type: a.type, tS: nowS(this.now), nodes, matched };
    const want = count ?? (typeof sel === "object" && !Array.isArray(sel) ? 1 : nodes.length);
    if (nodes.length < want) entry.note = `only ${matched} node(s) matched, ${want} wanted`;
    if (a.type === "kill" || a.type === "offline" || a.type === "reboot") {
      entry.keptMail = nodes.filter((i) => keepsMail(this.host.mesh.storage(i)));
      entry.heldBlocks = nodes.filter((i) => holdsFileBlocks(this.host.mesh.storage(i)));
    }
    this.log.push(entry);
    return nodes;
  }

  /** Kills the chosen nodes that are alive; returns those. */
  private takeDown(a: StorageAction, index: number, sel: NodeSelector, count: number | undefined): number[] {
    const alive = this.selectAndLog(a, index, sel, count).filter((i) => this.host.mesh.isAlive(i));
    this.host.kill(alive);
    return alive;
  }

  /** Reboots killed nodes (storage kept); each announces 1..31 s later, as the core does after node_init. */
  private async bringBack(nodes: number[], index: number, what: string): Promise<void> {
    const dead = nodes.filter((i) => !this.host.mesh.isAlive(i));
    await this.host.revive(dead);
    for (const i of dead) {
      const delay = BOOT_ANNOUNCE_MIN_MS + new Rng(this.host.seed, "boot-announce", i, this.now).int(BOOT_ANNOUNCE_SPREAD_MS);
      this.host.mesh.scheduler.after(delay, () => this.host.announce(i));
    }
    const store = (i: number) => this.host.mesh.storage(i);
    this.log.push({
      action: index, type: what, tS: nowS(this.now), nodes: dead, matched: dead.length,
      keptMail: dead.filter((i) => keepsMail(store(i))), heldBlocks: dead.filter((i) => holdsFileBlocks(store(i))),
    });
  }

  private sendMail(a: Extract<StorageAction, { type: "message" }>, index: number): void {
    const mesh = this.host.mesh;
    if (!mesh.isAlive(a.from)) {
      this.log.push({ action: index, type: "message", tS: nowS(this.now), nodes: [a.from, a.to], matched: 0, note: `sender ${a.from} is dead: not sent` });
      return;
    }
    const k = this.mails.length;
    const m: Mail = {
      from: a.from, to: a.to, sentMs: this.now, status: 0, absent: !mesh.isAlive(a.to),
      storedMs: -1, keepers: 0, viaKeepersMs: -1, ackedMs: -1, failedMs: -1, deliveredMs: -1,
    };
    this.mails.push(m);
    const id = this.host.identity[a.to];
    m.status = id ? mesh.act(a.from, (n) => n.sendDirect(id, MAIL_REF_BASE + k, messageText(`@${k.toString(36)}|`, a.payloadBytes))) : -6;
  }

  private filePut(a: Extract<StorageAction, { type: "filePut" }>, index: number): void {
    const mesh = this.host.mesh;
    const { nodes } = this.select(a.from, 1, index);
    const from = nodes[0];
    const bytes = new Uint8Array(a.bytes);
    new Rng(this.host.seed, "file", index).fill(bytes);
    const k = this.puts.length;
    const p: Put = {
      from: from ?? -1, bytes, copies: a.copies, startMs: this.now, status: 0, storedMs: -1, replicatedMs: -1, failedMs: -1,
      holders: 0, holderNodes: [], capability: null, framesAt: this.storeFrames, airtimeAt: this.storeAirtimeMs, frames: 0, airtimeMs: 0,
    };
    this.puts.push(p);
    this.log.push({ action: index, type: "filePut", tS: nowS(this.now), nodes: from === undefined ? [] : [from], matched: nodes.length });
    if (from === undefined || !mesh.isAlive(from)) { p.status = -100; return; }
    p.status = mesh.act(from, (n) => n.command(encodeFilePutBegin(FILE_REF_BASE + k, bytes.length, a.copies)));
    if (p.status !== 0) return;
    this.feed(p, from);
  }

  /** FILE_PUT_DATA in 200-byte pieces, then FILE_PUT_END; the first refusal ends the put (the core aborts it). */
  private feed(p: Put, from: number): void {
    const mesh = this.host.mesh;
    for (let offset = 0; offset < p.bytes.length; offset += PUT_PIECE) {
      const piece = p.bytes.subarray(offset, Math.min(p.bytes.length, offset + PUT_PIECE));
      const st = mesh.act(from, (n: NodeHost) => n.command(encodeFilePutData(offset, piece)));
      if (st !== 0) { p.status = st; return; }
    }
    p.status = mesh.act(from, (n) => n.command(encodeFilePutEnd()));
  }

  private fileGet(a: Extract<StorageAction, { type: "fileGet" }>, index: number): void {
    const mesh = this.host.mesh;
    const put = this.puts.length - 1;
    const p = this.puts[put];
    const { nodes } = this.select(a.from, 1, index);
    const from = nodes[0];
    const k = this.gets.length;
    const g: Get = {
      from: from ?? -1, put, hops: from === undefined || !p || p.from < 0 ? null : this.hopsFrom(p.from)[from],
      startMs: this.now, status: 0, doneMs: -1, state: "none", length: 0, blocks: 0, elapsedMs: 0, data: new Uint8Array(0), received: 0,
      putterAlive: p ? p.from >= 0 && mesh.isAlive(p.from) : false,
      holdersAlive: p ? p.holderNodes.filter((i) => mesh.isAlive(i)).length : 0,
      framesAt: this.storeFrames, airtimeAt: this.storeAirtimeMs, frames: 0, airtimeMs: 0,
    };
    if (g.hops === 65535) g.hops = null;
    if (p && p.holderNodes.length === 0) {
      // No replication report (yet): the holders are the nodes with blocks now, alive or dead.
      p.holderNodes = this.nodesWhere((i) => i !== p.from && holdsFileBlocks(mesh.storage(i)));
      g.holdersAlive = p.holderNodes.filter((i) => mesh.isAlive(i)).length;
    }
    this.gets.push(g);
    this.log.push({ action: index, type: "fileGet", tS: nowS(this.now), nodes: from === undefined ? [] : [from], matched: nodes.length });
    if (from === undefined || !mesh.isAlive(from)) { g.status = -100; return; }
    if (!p?.capability) { g.status = -101; return; }
    g.status = mesh.act(from, (n) => n.command(encodeFileGet(FILE_REF_BASE + 0x0100_0000 + k, p.capability!)));
  }

  // ---------------------------------------------------------------- result

  result(): StorageResult {
    const mesh = this.host.mesh;
    // Operations still open at the end count their STORE frames up to the end.
    for (const p of this.puts) if (p.replicatedMs < 0 && p.failedMs < 0 && p.status === 0) this.closeWindow(p);
    for (const g of this.gets) if (g.doneMs < 0 && g.status === 0) this.closeWindow(g);
    const counters: Record<string, number> = {};
    for (const [name, id] of Object.entries(STORAGE_COUNTERS)) counters[name] = mesh.counterSum(id);
    const returnOf = (m: Mail): number => {
      const list = this.boots.get(m.to) ?? [];
      let r = -1;
      for (const t of list) if (t > m.sentMs && (m.deliveredMs < 0 || t <= m.deliveredMs)) r = t;
      return r;
    };
    const messages: MailMessageResult[] = this.mails.map((m) => {
      const ret = m.absent ? returnOf(m) : -1;
      return {
        from: m.from, to: m.to, sentS: nowS(m.sentMs), recipientAbsent: m.absent, status: m.status,
        storedS: orNull(m.storedMs), keepers: m.keepers, deliveredS: orNull(m.deliveredMs), deliveredViaKeepersS: orNull(m.viaKeepersMs),
        ackedS: orNull(m.ackedMs), failedS: orNull(m.failedMs), returnS: orNull(ret),
        returnToDeliveryMs: ret >= 0 && m.deliveredMs >= ret ? Math.round(m.deliveredMs - ret) : null,
      };
    });
    const stored = messages.filter((m) => m.storedS !== null);
    const absent = messages.filter((m) => m.recipientAbsent);
    const afterReturn = absent.filter((m) => m.returnToDeliveryMs !== null);
    const delays = afterReturn.map((m) => m.returnToDeliveryMs!).sort((a, b) => a - b);
    const pick = (p: number) => (delays.length ? delays[Math.min(delays.length - 1, Math.max(0, Math.ceil(p * delays.length) - 1))] : null);
    const perStored = (x: number) => (stored.length ? x / stored.length : null);
    const puts: FilePutResult[] = this.puts.map((p) => ({
      from: p.from, bytes: p.bytes.length, copies: p.copies, startS: nowS(p.startMs), status: p.status,
      storedS: orNull(p.storedMs), replicatedS: orNull(p.replicatedMs), failedS: orNull(p.failedMs),
      putTimeMs: p.replicatedMs >= 0 ? Math.round(p.replicatedMs - p.startMs) : null,
      holders: p.holders, holderNodes: p.holderNodes, capability: p.capability !== null,
      frames: p.frames, airtimeMs: Math.round(p.airtimeMs),
    }));
    const gets: FileGetResult[] = this.gets.map((g) => {
      const p = this.puts[g.put];
      const want = p?.bytes;
      const bytesMatch = !!want && g.data.length === want.length && g.state === "complete" && Buffer.compare(Buffer.from(g.data), Buffer.from(want)) === 0;
      return {
        from: g.from, hopsFromPutter: g.hops, startS: nowS(g.startMs), status: g.status, state: g.state,
        doneS: orNull(g.doneMs), fetchTimeMs: g.doneMs >= 0 ? Math.round(g.doneMs - g.startMs) : null, coreElapsedMs: g.doneMs >= 0 ? g.elapsedMs : null,
        length: g.length, blocks: g.blocks, bytesReceived: g.received, bytesPut: want?.length ?? 0, bytesMatch,
        putterAlive: g.putterAlive, holdersAlive: g.holdersAlive, frames: g.frames, airtimeMs: Math.round(g.airtimeMs),
      };
    });
    return {
      mail: {
        messages: messages.length,
        sentToAbsent: absent.length,
        refused: messages.filter((m) => m.status !== 0).length,
        stored: stored.length,
        keepersPerStored: stored.length ? stored.reduce((a, m) => a + m.keepers, 0) / stored.length : null,
        keepersMin: stored.length ? Math.min(...stored.map((m) => m.keepers)) : null,
        delivered: messages.filter((m) => m.deliveredS !== null).length,
        deliveredAfterReturn: afterReturn.length,
        deliveredViaKeepers: messages.filter((m) => m.deliveredViaKeepersS !== null).length,
        failed: messages.filter((m) => m.failedS !== null && m.deliveredS === null).length,
        returnToDeliveryMs: { p50: pick(0.5), p95: pick(0.95), max: delays.length ? delays[delays.length - 1] : null },
        storeFramesPerStored: perStored(this.storeFrames),
        storeAirtimeMsPerStored: perStored(Math.round(this.storeAirtimeMs)),
        nodesKeepingMailAtEnd: this.nodesWhere((i) => keepsMail(mesh.storage(i))).length,
        list: messages,
      },
      files: { puts, gets, nodesHoldingBlocksAtEnd: this.nodesWhere((i) => holdsFileBlocks(mesh.storage(i))).length },
      storeFrames: this.storeFrames,
      storeAirtimeMs: Math.round(this.storeAirtimeMs),
      counters,
      actions: this.log,
    };
  }
}

/**
 * What the core implements, found by trying it on a line of 3 or 5 nodes: mail (a message to
 * a dead node is deposited with a keeper: its sender reports state 4) and files (a 16 KiB
 * file is put and, once the putter reported the outcome, fetched whole by a node without
 * blocks after the putter died). Used by tests to skip the experiments a core cannot run yet; each takes about a
 * second at most.
 */
export async function probeStorage(module?: WebAssembly.Module): Promise<{ mail: boolean; files: boolean }> {
  return { mail: await probeMail(module), files: await probeFiles(module) };
}

/** Nodes on a line 500 m apart (each hears its neighbours), 10 % duty cycle as in EU868. */
async function probeMesh(label: string, count: number, module?: WebAssembly.Module): Promise<{ mesh: Mesh; ids: string[] }> {
  const { Mesh: M } = await import("./mesh.js");
  const mesh = await M.create({ seed: label, linkOffsetSigmaDb: 0, node: { noAutoAnnounce: true, dutyCyclePermille: 100 }, module });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    await mesh.addNode({ xM: i * 500, yM: 0 });
    const e = mesh.nodeEvents(i).find((x) => x.type === "identity");
    ids.push(e && e.type === "identity" ? e.contactId : "");
  }
  return { mesh, ids };
}

export async function probeMail(module?: WebAssembly.Module): Promise<boolean> {
  const { mesh, ids } = await probeMesh("storage-probe-mail", 3, module);
  mesh.act(2, (n) => n.announce());
  mesh.run(10_000);
  mesh.act(0, (n) => n.announce());
  mesh.run(10_000);
  mesh.kill(2);
  mesh.act(0, (n) => n.sendDirect(ids[2], 7, "probe"));
  const done = () => mesh.nodeEvents(0).some((e) => e.type === "delivery" && e.ref === 7 && (e.state === "stored" || e.state === "failed"));
  mesh.run(3_600_000, done);
  return mesh.nodeEvents(0).some((e) => e.type === "delivery" && e.ref === 7 && e.state === "stored");
}

/** A file of `bytes` (default 16 KiB, the file experiment's size) put with 2 copies on 5 nodes, then fetched whole after the putter died. */
export async function probeFiles(module?: WebAssembly.Module, size = 16384): Promise<boolean> {
  const { mesh } = await probeMesh("storage-probe-files", 5, module);
  const bytes = new Uint8Array(size);
  new Rng("storage-probe-files").fill(bytes);
  if (mesh.act(0, (n) => n.command(encodeFilePutBegin(1, bytes.length, 2))) !== 0) return false;
  for (let at = 0; at < bytes.length; at += PUT_PIECE) {
    if (mesh.act(0, (n) => n.command(encodeFilePutData(at, bytes.subarray(at, at + PUT_PIECE)))) !== 0) return false;
  }
  if (mesh.act(0, (n) => n.command(encodeFilePutEnd())) !== 0) return false;
  const stored = () => mesh.nodeEvents(0).find((e) => e.type === "fileStored" && (e.state === "replicated" || e.state === "failed"));
  mesh.run(3_600_000, () => stored() !== undefined);
  const st = stored();
  const first = mesh.nodeEvents(0).find((e) => e.type === "fileStored");
  // The fetch decides, not the putter's report (a put can be reported failed while the holders have it).
  if (!st || !first || first.type !== "fileStored") return false;
  mesh.kill(0);
  // The fetcher: a node that holds no block of the file.
  const getter = [4, 3, 2, 1].find((i) => ![...mesh.storage(i).map].some(([k, v]) => k.startsWith("fb.") && v.length > 0));
  if (getter === undefined) return false;
  if (mesh.act(getter, (n) => n.command(encodeFileGet(2, first.capability))) !== 0) return false;
  const done = () => mesh.nodeEvents(getter).find((e) => e.type === "fileDone");
  mesh.run(3_600_000, () => done() !== undefined);
  const got = new Uint8Array(bytes.length);
  for (const e of mesh.nodeEvents(getter)) if (e.type === "fileData" && e.offset + e.data.length <= got.length) got.set(e.data, e.offset);
  const d = done();
  return !!d && d.type === "fileDone" && d.state === "complete" && Buffer.compare(Buffer.from(got), Buffer.from(bytes)) === 0;
}
