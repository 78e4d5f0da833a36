// Clients of a node for the command-line tools: through a running bridge's
// WebSocket API (WsClient), or straight over a serial port (DirectClient, the
// same NodeService the bridge uses, without the WebSocket in between).
import { EventEmitter } from "node:events";
import WebSocket from "ws";
import type { Identity } from "./link.js";
import { SerialLink } from "./link.js";
import { FILE_MAX_BYTES } from "../node/protocol.js";
import type { GetResult, PutResult } from "./files.js";
import { ApiError, NodeService, type ApiEvent, type Contact, type SendAccepted, type SendRequest } from "./service.js";

/** Options of a file upload: copies 1..255 (0/absent = the node's default), how long to wait for the node (s). */
export type FilePutOptions = { copies?: number; timeoutS?: number };
export type FileGetOptions = { timeoutS?: number };

export interface MeshClientEvents {
  event: [event: ApiEvent];
  closed: [reason: string];
}

export interface MeshClient extends EventEmitter<MeshClientEvents> {
  /** The node's identity (null until known). */
  readonly node: Identity | null;
  send(req: Omit<SendRequest, "id">): Promise<SendAccepted>;
  contacts(refresh?: boolean): Promise<Contact[]>;
  status(): Promise<Record<string, unknown>>;
  join(slot: number, name: string, passphrase: string): Promise<void>;
  announce(): Promise<void>;
  /** Stores a file (1..32768 bytes) on the node; resolves with its capability (API.md "file_put"). */
  putFile(data: Uint8Array, opts?: FilePutOptions): Promise<PutResult>;
  /** Fetches a file by its capability string (API.md "file_get"). */
  getFile(capability: string, opts?: FileGetOptions): Promise<GetResult>;
  close(): Promise<void>;
}

/** A refusal by the bridge or a failed connection, with the close code when there is one. */
export class ClientError extends Error {
  constructor(message: string, readonly code?: string | number) {
    super(message);
    this.name = "ClientError";
  }
}

type Waiter = { resolve: (msg: Record<string, unknown>) => void; reject: (e: Error) => void };

export class WsClient extends EventEmitter<MeshClientEvents> implements MeshClient {
  private nextId = 1;
  private readonly waiting = new Map<string, Waiter>();
  private _node: Identity | null = null;
  private closedReason: string | null = null;
  private closing = false;

  private constructor(private readonly ws: WebSocket) {
    super();
  }

  get node(): Identity | null {
    return this._node;
  }

  /** Connects to a bridge at `url` with `token` and waits for its "ready" message. */
  static connect(url: string, token: string, timeoutMs = 10_000): Promise<WsClient> {
    const u = new URL(url);
    u.searchParams.set("token", token);
    const ws = new WebSocket(u);
    const client = new WsClient(ws);
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => fail(new ClientError(`no answer from the bridge at ${url} within ${timeoutMs} ms`)), timeoutMs);
      const fail = (e: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.terminate();
        reject(e);
      };
      ws.on("error", (err: NodeJS.ErrnoException) => {
        fail(new ClientError(err.code === "ECONNREFUSED" ? `no bridge listening at ${url} (is \`outcaxt bridge\` running?)` : `cannot reach the bridge at ${url}: ${err.message}`, err.code));
      });
      ws.on("close", (code, reason) => {
        const why = `the bridge closed the connection (${code}${reason.length ? `: ${reason.toString()}` : ""})`;
        client.closedReason = why;
        for (const w of client.waiting.values()) w.reject(new ClientError(why, code));
        client.waiting.clear();
        if (!settled) fail(new ClientError(why, code));
        else if (!client.closing) client.emit("closed", why);
      });
      ws.on("message", (data) => {
        let msg: Record<string, unknown>;
        try { msg = JSON.parse(data.toString()) as Record<string, unknown>; } catch { return; }
        if (msg.type === "ready") {
          client._node = (msg.node as Identity | null) ?? null;
          if (!settled) { settled = true; clearTimeout(timer); resolve(client); }
          return;
        }
        client.onMessage(msg);
      });
    });
  }

  private onMessage(msg: Record<string, unknown>): void {
    if (typeof msg.id === "string" && ["accepted", "status", "contacts", "ok", "error", "file_stored", "file_data"].includes(msg.type as string)) {
      const w = this.waiting.get(msg.id);
      if (w) {
        this.waiting.delete(msg.id);
        if (msg.type === "error") w.reject(new ApiError((msg.code as ApiError["code"]) ?? "bad_request", String(msg.message)));
        else w.resolve(msg);
        return;
      }
    }
    if (msg.type === "link" && msg.node) this._node = msg.node as Identity;
    if (["message", "delivery", "contact", "link", "file"].includes(msg.type as string)) this.emit("event", msg as unknown as ApiEvent);
  }

  private call(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.closedReason) return Promise.reject(new ClientError(this.closedReason));
    const id = `c${this.nextId++}`;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ ...body, id }));
    });
  }

  async send(req: Omit<SendRequest, "id">): Promise<SendAccepted> {
    const r = await this.call({ type: "send", ...req });
    return { ref: r.ref as number, queued: r.queued as boolean, ...(r.to !== undefined ? { to: r.to as string } : {}), ...(r.channel !== undefined ? { channel: r.channel as number } : {}) };
  }

  async contacts(refresh = false): Promise<Contact[]> {
    return (await this.call({ type: "contacts", refresh })).contacts as Contact[];
  }

  async status(): Promise<Record<string, unknown>> {
    const { type: _t, id: _i, ...rest } = await this.call({ type: "status" });
    return rest;
  }

  async join(slot: number, name: string, passphrase: string): Promise<void> {
    await this.call({ type: "join", slot, name, passphrase });
  }

  async announce(): Promise<void> {
    await this.call({ type: "announce" });
  }

  async putFile(data: Uint8Array, opts: FilePutOptions = {}): Promise<PutResult> {
    // Checked here too: a request over the API's 64 KiB message limit would close the connection.
    if (data.length > FILE_MAX_BYTES) throw new ApiError("bad_request", `the file is too large: ${data.length} bytes, at most ${FILE_MAX_BYTES} (32 KiB) can be kept by the mesh`);
    const r = await this.call({ type: "file_put", data: Buffer.from(data).toString("base64"),
      ...(opts.copies ? { copies: opts.copies } : {}), ...(opts.timeoutS ? { timeout: opts.timeoutS } : {}) });
    return { ref: r.ref as number, length: r.length as number, capability: r.capability as string, state: r.state as PutResult["state"], holders: r.holders as number };
  }

  async getFile(capability: string, opts: FileGetOptions = {}): Promise<GetResult> {
    const r = await this.call({ type: "file_get", capability, ...(opts.timeoutS ? { timeout: opts.timeoutS } : {}) });
    return { ref: r.ref as number, data: new Uint8Array(Buffer.from(String(r.data ?? ""), "base64")), blocks: r.blocks as number, elapsedMs: r.elapsedMs as number };
  }

  close(): Promise<void> {
    this.closing = true;
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once("close", () => resolve());
      this.ws.close(1000, "done");
      setTimeout(() => { this.ws.terminate(); resolve(); }, 1000).unref();
    });
  }
}

export class DirectClient extends EventEmitter<MeshClientEvents> implements MeshClient {
  readonly service: NodeService;
  private closing = false;

  private constructor(readonly link: SerialLink) {
    super();
    this.service = new NodeService(link);
    this.service.on("api", (e) => this.emit("event", e));
    link.on("disconnected", (reason) => { if (!this.closing) this.emit("closed", `the node went away: ${reason}`); });
  }

  get node(): Identity | null {
    return this.link.identity;
  }

  /** Opens the port, says HELLO and reads the contacts. Fails when the port cannot be opened or the node does not answer. */
  static async open(path: string, baudRate?: number): Promise<DirectClient> {
    const link = new SerialLink({ path, baudRate, reconnect: false });
    const client = new DirectClient(link);
    await link.start();
    await client.service.refreshContacts();
    return client;
  }

  async send(req: Omit<SendRequest, "id">): Promise<SendAccepted> {
    return this.service.send(req);
  }

  async contacts(refresh = false): Promise<Contact[]> {
    return refresh ? this.service.refreshContacts() : this.service.contacts;
  }

  status(): Promise<Record<string, unknown>> {
    return this.service.status();
  }

  join(slot: number, name: string, passphrase: string): Promise<void> {
    return this.service.join(slot, name, passphrase);
  }

  announce(): Promise<void> {
    return this.service.announce();
  }

  putFile(data: Uint8Array, opts: FilePutOptions = {}): Promise<PutResult> {
    return this.service.putFile(data, { copies: opts.copies, ...(opts.timeoutS ? { timeoutMs: opts.timeoutS * 1000 } : {}) });
  }

  getFile(capability: string, opts: FileGetOptions = {}): Promise<GetResult> {
    return this.service.getFile(capability, opts.timeoutS ? { timeoutMs: opts.timeoutS * 1000 } : {});
  }

  close(): Promise<void> {
    this.closing = true;
    return this.link.close();
  }
}
