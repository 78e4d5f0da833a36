// What the bridge does with a node, whoever asks: the WebSocket API
// (server.ts) and the commands that talk to a port directly (`--port`).
// It picks app references for outgoing messages, keeps the node's contacts and
// identity, resolves contact names, and turns device packets into API events
// (host-tools/API.md).
import { EventEmitter } from "node:events";
import type { NodeConfig, NodeEvent } from "../node/protocol.js";
import { request as requests, type NodeStatus, type Request, type SerialCounters } from "../serial/codec.js";
import { FileError, FileTransfers, type FileEvent, type GetOptions, type GetResult, type PutOptions, type PutResult } from "./files.js";
import { LinkError, type Identity, type LinkState, type SerialLink } from "./link.js";
import { namedCounters, statusText } from "./messages.js";

export type Contact = { id: string; name: string; edPublic: string };

/**
 * sent, acked (end to end), failed; stored: kept by keepers for a recipient that did not
 * answer (attempts = keepers so far); delivered: through the keepers (a verified receipt).
 */
export type DeliveryState = "sent" | "acked" | "failed" | "stored" | "delivered";

/** Events of the API (host-tools/API.md, "Events"). */
export type ApiEvent =
  | { type: "message"; kind: "direct"; from: string; fromName: string | null; msgId: number; time: number; text: string }
  | { type: "message"; kind: "channel"; slot: number; from: string; fromName: string | null; seq: number; time: number; text: string }
  | { type: "delivery"; ref: number; id?: string; to?: string; channel?: number; state: DeliveryState; attempts: number; error?: string }
  | { type: "contact"; contact: Contact }
  | { type: "link"; state: LinkState; connected: boolean; node: Identity | null; detail?: string }
  | FileEvent;

export type SendRequest = { to?: string; channel?: number; text: string; id?: string };
export type SendAccepted = { ref: number; to?: string; channel?: number; queued: boolean };

/** A request the API refuses: bad input (400-like) or a node that said no. */
export class ApiError extends Error {
  constructor(readonly code: "bad_request" | "unknown_contact" | "ambiguous_contact" | "node_error" | "not_connected" | "link_error"
    | "not_found" | "corrupt" | "file_failed" | "timeout", message: string) {
    super(message);
    this.name = "ApiError";
  }
}

type Outgoing = { id?: string; to?: string; channel?: number; done: boolean };

const HEX_ID = /^[0-9a-f]{16}$/;
/** RESULT of a send to a contact or channel the node does not know (ABI.md node_command). */
const ERR_UNKNOWN = -6;
/** Outgoing messages remembered for their delivery reports. */
const MAX_OUTGOING = 4096;

export interface NodeServiceEvents {
  api: [event: ApiEvent];
}

export class NodeService extends EventEmitter<NodeServiceEvents> {
  private readonly contactMap = new Map<string, Contact>();
  private readonly outgoing = new Map<number, Outgoing>();
  private ref = (Math.random() * 0x1_0000_0000) >>> 0;
  private lastStatus: NodeStatus | null = null;
  private lastSerialErrors: SerialCounters | null = null;
  private _config: NodeConfig | null = null;
  private readonly held = new Map<number, { to: string; request: Request; timer: NodeJS.Timeout }>();
  /** How long a direct message waits for a contact the node forgot in a restart. */
  holdMs = 10 * 60_000;
  /** Extra sections for status replies (the MQTT uplink's counters). */
  readonly statusExtras = new Map<string, () => unknown>();
  /** Mesh-kept files (files.ts). */
  readonly files: FileTransfers;

  constructor(readonly link: SerialLink) {
    super();
    this.files = new FileTransfers(link, () => this.nextRef(), (e) => this.emit("api", e));
    link.on("event", (e) => this.onEvent(e));
    link.on("state", (state, detail) => {
      this.emit("api", { type: "link", state, connected: state === "connected", node: link.identity, ...(detail ? { detail } : {}) });
    });
    link.on("connected", () => {
      void this.refreshContacts().catch(() => undefined);
      void this.refreshConfig().catch(() => undefined);
    });
    link.on("serialErrors", (c) => { this.lastSerialErrors = c; });
  }

  get contacts(): Contact[] {
    return [...this.contactMap.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  /** The node's radio config (CONFIG_GET), once read after a connect. */
  get config(): NodeConfig | null {
    return this._config;
  }

  async refreshConfig(): Promise<NodeConfig | null> {
    const r = await this.link.request(requests.configGet());
    const c = r.replies.find((m) => m.kind === "config");
    if (r.status === 0 && c && c.kind === "config") this._config = c.config;
    return this._config;
  }

  /** Asks the node for its contacts (one CONTACT each, then RESULT). */
  async refreshContacts(): Promise<Contact[]> {
    const r = await this.link.request(requests.contactsGet());
    if (r.status !== 0) throw new ApiError("node_error", `the node refused CONTACTS_GET: ${statusText(r.status)}`);
    return this.contacts;
  }

  /** The contact id for a contact id, a unique id prefix (4+ hex digits) or a name. */
  resolveContact(to: string): string {
    const t = to.trim();
    if (HEX_ID.test(t.toLowerCase())) return t.toLowerCase();
    const all = this.contacts;
    let hits = all.filter((c) => c.name === t);
    if (hits.length === 0) hits = all.filter((c) => c.name.toLowerCase() === t.toLowerCase());
    if (hits.length === 0 && /^[0-9a-f]{4,15}$/i.test(t)) hits = all.filter((c) => c.id.startsWith(t.toLowerCase()));
    if (hits.length === 1) return hits[0].id;
    if (hits.length > 1) {
      throw new ApiError("ambiguous_contact", `"${to}" names ${hits.length} contacts: ${hits.map((c) => `${c.name} (${c.id})`).join(", ")}; use the contact id`);
    }
    throw new ApiError("unknown_contact", `no contact "${to}" (known: ${all.length ? all.map((c) => `${c.name} (${c.id})`).join(", ") : "none yet; a contact appears when its announce is heard"})`);
  }

  /** Stores a file (1..32768 bytes) on the node; resolves with its capability once the node has it. */
  async putFile(data: Uint8Array, opts: PutOptions = {}): Promise<PutResult> {
    try {
      return await this.files.put(data, opts);
    } catch (err) {
      throw err instanceof FileError ? new ApiError(err.code, err.message) : err;
    }
  }

  /** Fetches a file by capability (`ocx1:…`); resolves with its bytes. */
  async getFile(capability: string, opts: GetOptions = {}): Promise<GetResult> {
    try {
      return await this.files.get(capability, opts);
    } catch (err) {
      throw err instanceof FileError ? new ApiError(err.code, err.message) : err;
    }
  }

  private nextRef(): number {
    do this.ref = (this.ref + 1) >>> 0; while (this.ref === 0 || this.outgoing.has(this.ref));
    return this.ref;
  }

  private remember(ref: number, o: Outgoing): void {
    this.outgoing.set(ref, o);
    if (this.outgoing.size > MAX_OUTGOING) {
      // Forget finished messages first, then the oldest.
      for (const [k, v] of this.outgoing) if (v.done) { this.outgoing.delete(k); if (this.outgoing.size <= MAX_OUTGOING) return; }
      this.outgoing.delete(this.outgoing.keys().next().value as number);
    }
  }

  /**
   * Sends a direct message (`to`) or a channel message (`channel`). Returns at once
   * with the app reference; delivery events follow. Throws ApiError for bad input.
   * While the node is disconnected the message waits in the link's queue.
   */
  send(req: SendRequest): SendAccepted {
    if (typeof req.text !== "string" || req.text.length === 0) throw new ApiError("bad_request", "text must be a non-empty string");
    const hasTo = req.to !== undefined && req.to !== null;
    const hasChannel = req.channel !== undefined && req.channel !== null;
    if (hasTo === hasChannel) throw new ApiError("bad_request", "give exactly one of `to` (a contact) and `channel` (slot 0..3)");
    const ref = this.nextRef();
    let request: Request;
    let target: { to?: string; channel?: number };
    try {
      if (hasTo) {
        if (typeof req.to !== "string") throw new ApiError("bad_request", "`to` must be a contact id or name");
        const to = this.resolveContact(req.to);
        request = requests.sendDirect(to, ref, req.text);
        target = { to };
      } else {
        const slot = req.channel as number;
        if (!Number.isInteger(slot) || slot < 0 || slot > 3) throw new ApiError("bad_request", "`channel` must be a slot 0..3");
        request = requests.sendChannel(slot, ref, req.text);
        target = { channel: slot };
      }
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw new ApiError("bad_request", (err as Error).message);
    }
    const queued = !this.link.connected || this.link.queued > 0;
    this.remember(ref, { id: req.id, ...target, done: false });
    this.submit(ref, request, target.to, this.link.connects);
    return { ref, ...target, queued };
  }

  /**
   * Hands a send to the link. A direct message that waited across a reconnect may
   * meet a node that rebooted and forgot its contacts (RESULT -6): it is held until
   * the node hears that contact's announce again (at most `holdMs`), then sent again.
   */
  private submit(ref: number, request: Request, to: string | undefined, connectsAtQueue: number): void {
    this.link.request(request).then(
      (r) => {
        if (r.status === 0) return;
        if (r.status === ERR_UNKNOWN && to !== undefined && this.link.connects > connectsAtQueue && this.contactMap.has(to)) {
          this.contactMap.delete(to); // the node forgot it: known again when its CONTACT comes
          this.hold(ref, request, to);
          return;
        }
        this.delivery(ref, "failed", 0, `the node refused the message: ${statusText(r.status)}`);
      },
      (err: Error) => this.delivery(ref, "failed", 0, err.message),
    );
  }

  private hold(ref: number, request: Request, to: string): void {
    const timer = setTimeout(() => {
      this.held.delete(ref);
      this.delivery(ref, "failed", 0, `the node restarted and has not heard ${to} again within ${Math.round(this.holdMs / 1000)} s`);
    }, this.holdMs);
    timer.unref();
    this.held.set(ref, { to, request, timer });
  }

  /** A contact is known (again): send the messages held for it. */
  private releaseHeld(id: string): void {
    for (const [ref, h] of this.held) {
      if (h.to !== id) continue;
      clearTimeout(h.timer);
      this.held.delete(ref);
      this.submit(ref, h.request, h.to, this.link.connects);
    }
  }

  /** Messages held for a contact the node forgot after a restart. */
  get heldCount(): number {
    return this.held.size;
  }

  private delivery(ref: number, state: DeliveryState, attempts: number, error?: string): void {
    const o = this.outgoing.get(ref);
    if (o) o.done = state === "acked" || state === "failed" || state === "delivered" || o.channel !== undefined;
    this.emit("api", {
      type: "delivery", ref, state, attempts,
      ...(o?.id !== undefined ? { id: o.id } : {}),
      ...(o?.to !== undefined ? { to: o.to } : {}),
      ...(o?.channel !== undefined ? { channel: o.channel } : {}),
      ...(error ? { error } : {}),
    });
  }

  /** Joins channel slot 0..3 with a name and passphrase (JOIN_CHANNEL). */
  async join(slot: number, name: string, passphrase: string): Promise<void> {
    let req: Request;
    try {
      if (!Number.isInteger(slot) || slot < 0 || slot > 3) throw new RangeError("the channel slot must be 0..3");
      req = requests.joinChannel(slot, name, passphrase);
    } catch (err) {
      throw new ApiError("bad_request", (err as Error).message);
    }
    await this.checked(req, "JOIN_CHANNEL");
  }

  /** Asks the node to send a signed announce now. */
  async announce(): Promise<void> {
    await this.checked(requests.announce(), "ANNOUNCE");
  }

  private async checked(req: Request, name: string) {
    let r;
    try {
      r = await this.link.request(req);
    } catch (err) {
      throw new ApiError(err instanceof LinkError && err.code === "not_connected" ? "not_connected" : "link_error", (err as Error).message);
    }
    if (r.status !== 0) throw new ApiError("node_error", `the node refused ${name}: ${statusText(r.status)}`);
    return r;
  }

  /** The node's counters when connected (fresh), otherwise the last ones, plus link facts. */
  async status(): Promise<Record<string, unknown>> {
    if (this.link.connected) {
      try {
        const r = await this.link.request(requests.statusGet(), { onlyWhenConnected: true });
        const s = r.replies.find((m) => m.kind === "status");
        if (r.status === 0 && s && s.kind === "status") this.lastStatus = s.status;
      } catch { /* keep the last counters; the link state tells why */ }
    }
    const extras: Record<string, unknown> = {};
    for (const [k, f] of this.statusExtras) extras[k] = f();
    return {
      link: {
        path: this.link.path, state: this.link.state, connected: this.link.connected, queued: this.link.queued,
        connects: this.link.connects, held: this.held.size, ...(this.link.lastFailure ? { lastFailure: this.link.lastFailure } : {}),
      },
      node: this.link.identity,
      ...(this._config ? { config: this._config } : {}),
      ...(this.lastStatus ? {
        queue: { frames: this.lastStatus.queued, pendingDirect: this.lastStatus.pendingDirect },
        routes: this.lastStatus.routes,
        channels: this.lastStatus.channels,
        airtime: { lastHourMs: this.lastStatus.airtimeLastHourMs, budgetMs: this.lastStatus.dutyBudgetMs },
      } : {}),
      counters: namedCounters(this.lastStatus?.counters ?? []),
      ...(this.lastSerialErrors ? { serialErrors: this.lastSerialErrors } : {}),
      ...(this.link.localSerialErrors ? { laptopSerialErrors: this.link.localSerialErrors } : {}),
      contacts: this.contactMap.size,
      ...extras,
    };
  }

  private nameOf(id: string): string | null {
    return this.contactMap.get(id)?.name ?? null;
  }

  private onEvent(e: NodeEvent): void {
    switch (e.type) {
      case "contact": {
        const c: Contact = { id: e.contactId, name: e.name, edPublic: Buffer.from(e.edPublic).toString("hex") };
        const old = this.contactMap.get(c.id);
        this.contactMap.set(c.id, c);
        if (!old || old.name !== c.name || old.edPublic !== c.edPublic) this.emit("api", { type: "contact", contact: c });
        this.releaseHeld(c.id);
        return;
      }
      case "direct":
        this.emit("api", { type: "message", kind: "direct", from: e.contactId, fromName: this.nameOf(e.contactId), msgId: e.msgId, time: e.unixS, text: e.text });
        return;
      case "channel":
        this.emit("api", { type: "message", kind: "channel", slot: e.slot, from: e.senderId, fromName: this.nameOf(e.senderId), seq: e.seq, time: e.unixS, text: e.text });
        return;
      case "delivery":
        this.delivery(e.ref, e.state, e.attempts);
        return;
      case "fileStored":
      case "fileData":
      case "fileDone":
        this.files.onEvent(e);
        return;
      default:
        return;
    }
  }
}
