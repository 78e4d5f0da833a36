// Mesh-kept files through the serial link (firmware/STORAGE.md "Files", SERIAL.md
// requests 0x10..0x14, events 0x90..0x92): uploads streamed to the node in
// FILE_PUT_DATA chunks, one request at a time (each waits for its RESULT, as the
// link does for every request), and fetches assembled from FILE_DATA by offset.
// Used by NodeService (service.ts), so the WebSocket API and `--port` clients
// behave the same.
import {
  FILE_MAX_BYTES, FILE_PUT_CHUNK_MAX, type NodeEvent,
} from "../node/protocol.js";
import { request as requests, type Request } from "../serial/codec.js";
import { CAPABILITY_BYTES, CapabilityError, formatCapability, parseCapability } from "../store/capability.js";
import { LinkError, type SerialLink } from "./link.js";
import { statusText } from "./messages.js";

/** RESULT statuses of the file commands (STORAGE.md). */
const ERR_STATE = -3;
const ERR_LENGTH = -4;
const ERR_INVALID = -5;
const ERR_BUSY = -7;

/** `file` events of the API (API.md): progress and outcome of an upload or a fetch. */
export type FileEvent =
  | { type: "file"; op: "put"; ref: number; id?: string; state: "uploading" | "stored" | "replicated" | "failed";
      length: number; sent?: number; holders?: number; capability?: string; error?: string }
  | { type: "file"; op: "get"; ref: number; id?: string; state: "fetching" | "complete" | "not_found" | "corrupt" | "failed";
      received: number; length?: number; blocks?: number; elapsedMs?: number; error?: string };

export type FileErrorCode = "bad_request" | "node_error" | "not_connected" | "link_error" | "not_found" | "corrupt" | "file_failed" | "timeout";

export class FileError extends Error {
  constructor(readonly code: FileErrorCode, message: string) {
    super(message);
    this.name = "FileError";
  }
}

export type PutOptions = {
  /** Holders wanted, 1..255; 0 or absent = the node's default (3). */
  copies?: number;
  /** The API request's id, repeated in `file` events. */
  id?: string;
  /** How long to wait for the node to report the file stored (capability ready), ms. */
  timeoutMs?: number;
};

export type PutResult = {
  ref: number;
  length: number;
  /** `ocx1:…` (store/capability.ts). */
  capability: string;
  /** "replicated" when the node reported copies on other nodes already. */
  state: "stored" | "replicated";
  holders: number;
};

export type GetOptions = { id?: string; timeoutMs?: number };

export type GetResult = { ref: number; data: Uint8Array; blocks: number; elapsedMs: number };

/** Progress events at most every this many bytes (and at the end). */
const PROGRESS_EVERY = 2048;
/** A node busy with another transfer (RESULT -7) is asked again for this long. */
const BUSY_RETRY_MS = 5000;
const BUSY_STEP_MS = 250;
/** Uploads remembered after their capability, for their replication events. */
const MAX_FINISHED = 256;

type PutWaiter = {
  ref: number; id?: string; length: number;
  settle: (e: Extract<NodeEvent, { type: "fileStored" }>) => void;
};

type GetWaiter = {
  ref: number; id?: string;
  buf: Uint8Array;
  have: Uint8Array;
  received: number;
  reported: number;
  settle: (e: Extract<NodeEvent, { type: "fileDone" }>) => void;
};

/** One mutex: uploads (and fetches) go to the node one at a time. */
class Turns {
  private tail: Promise<void> = Promise.resolve();
  run<T>(f: () => Promise<T>): Promise<T> {
    const result = this.tail.then(f);
    this.tail = result.then(() => undefined, () => undefined);
    return result;
  }
}

export class FileTransfers {
  private readonly puts = new Map<number, PutWaiter>();
  private readonly gets = new Map<number, GetWaiter>();
  /** Uploads whose capability is known: ref → its id and length (replication events come later). */
  private readonly finished = new Map<number, { id?: string; length: number; capability: string; copies: number }>();
  private readonly putTurns = new Turns();
  private readonly getTurns = new Turns();
  /** Waits for stored/done unless the request says otherwise. */
  putTimeoutMs = 60_000;
  getTimeoutMs = 300_000;

  constructor(
    private readonly link: SerialLink,
    private readonly nextRef: () => number,
    private readonly emit: (e: FileEvent) => void,
  ) {}

  /** Events of the node: FILE_STORED, FILE_DATA, FILE_DONE (others are ignored). */
  onEvent(e: NodeEvent): void {
    switch (e.type) {
      case "fileStored": {
        const w = this.puts.get(e.ref);
        if (w) { w.settle(e); return; }
        const f = this.finished.get(e.ref);
        if (!f) return;
        if (e.state === "replicated" || e.state === "failed") {
          this.emit({
            type: "file", op: "put", ref: e.ref, ...(f.id !== undefined ? { id: f.id } : {}), state: e.state, length: f.length,
            holders: e.holders, capability: f.capability,
            ...(e.state === "failed" ? { error: e.holders === 0
              ? "no other node confirmed a copy: the file is on this node only"
              : `only ${e.holders} node${e.holders === 1 ? "" : "s"} confirmed a copy, fewer than the ${f.copies || 3} wanted` } : {}),
          });
        }
        return;
      }
      case "fileData": {
        const w = this.gets.get(e.ref);
        if (!w) return;
        const end = e.offset + e.data.length;
        if (end > FILE_MAX_BYTES) return; // never in a file of at most 32768 bytes
        w.buf.set(e.data, e.offset);
        for (let i = e.offset; i < end; i++) if (!w.have[i]) { w.have[i] = 1; w.received++; }
        if (w.received - w.reported >= PROGRESS_EVERY) {
          w.reported = w.received;
          this.emit({ type: "file", op: "get", ref: w.ref, ...(w.id !== undefined ? { id: w.id } : {}), state: "fetching", received: w.received });
        }
        return;
      }
      case "fileDone": {
        this.gets.get(e.ref)?.settle(e);
        return;
      }
      default:
        return;
    }
  }

  /** Sends one request; link failures and refusals become FileErrors. -7 (busy) to a start (BEGIN, GET) is retried for a while. */
  private async ask(req: Request, name: string, what: string): Promise<void> {
    const start = name === "FILE_PUT_BEGIN" || name === "FILE_GET";
    const end = Date.now() + BUSY_RETRY_MS;
    for (;;) {
      let status: number;
      try {
        status = (await this.link.request(req)).status;
      } catch (err) {
        throw new FileError(err instanceof LinkError && err.code === "not_connected" ? "not_connected" : "link_error", (err as Error).message);
      }
      if (status === 0) return;
      if (status === ERR_BUSY && start && Date.now() < end) { await new Promise((r) => setTimeout(r, BUSY_STEP_MS)); continue; }
      throw new FileError("node_error", refusal(name, status, what));
    }
  }

  private cancel(which: "put" | "get"): void {
    void this.link.request(requests.fileCancel(which)).catch(() => undefined);
  }

  /** Stores a file of 1..32768 bytes on the node; resolves once the node reports it stored (capability ready). */
  put(data: Uint8Array, opts: PutOptions = {}): Promise<PutResult> {
    if (!(data instanceof Uint8Array)) throw new FileError("bad_request", "the file's bytes are missing");
    if (data.length === 0) throw new FileError("bad_request", "the file is empty: a file is 1..32768 bytes");
    if (data.length > FILE_MAX_BYTES) throw new FileError("bad_request", `the file is too large: ${data.length} bytes, at most ${FILE_MAX_BYTES} (32 KiB) can be kept by the mesh`);
    const copies = opts.copies ?? 0;
    if (!Number.isInteger(copies) || copies < 0 || copies > 255) throw new FileError("bad_request", `copies must be a whole number 1..255 (0 = the node's default), not ${String(opts.copies)}`);
    const timeoutMs = opts.timeoutMs ?? this.putTimeoutMs;
    return this.putTurns.run(() => this.putNow(data, copies, opts.id, timeoutMs));
  }

  private async putNow(data: Uint8Array, copies: number, id: string | undefined, timeoutMs: number): Promise<PutResult> {
    const ref = this.nextRef();
    const ids = id !== undefined ? { id } : {};
    let settle!: (e: Extract<NodeEvent, { type: "fileStored" }>) => void;
    const stored = new Promise<Extract<NodeEvent, { type: "fileStored" }>>((resolve) => { settle = resolve; });
    this.puts.set(ref, { ref, id, length: data.length, settle });
    let begun = false;
    try {
      await this.ask(requests.filePutBegin(ref, data.length, copies), "FILE_PUT_BEGIN", copies ? `${data.length} bytes, ${copies} copies` : `${data.length} bytes`);
      begun = true;
      let reported = 0;
      for (let offset = 0; offset < data.length; offset += FILE_PUT_CHUNK_MAX) {
        const chunk = data.subarray(offset, Math.min(data.length, offset + FILE_PUT_CHUNK_MAX));
        await this.ask(requests.filePutData(offset, chunk), "FILE_PUT_DATA", `offset ${offset}`);
        const sent = offset + chunk.length;
        if (sent - reported >= PROGRESS_EVERY || sent === data.length) {
          reported = sent;
          this.emit({ type: "file", op: "put", ref, ...ids, state: "uploading", length: data.length, sent });
        }
      }
      await this.ask(requests.filePutEnd(), "FILE_PUT_END", "");
      let timer: NodeJS.Timeout | undefined;
      const e = await Promise.race([
        stored,
        new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); }),
      ]).finally(() => clearTimeout(timer));
      if (!e) {
        this.cancel("put");
        throw new FileError("timeout", `the node did not report the file stored within ${Math.round(timeoutMs / 1000)} s`);
      }
      if (e.state !== "stored" && e.state !== "replicated") {
        throw new FileError("file_failed", "the node could not store the file (FILE_STORED: failed)");
      }
      if (e.capability.length !== CAPABILITY_BYTES) throw new FileError("file_failed", "the node reported no capability");
      const capability = formatCapability(e.capability);
      this.finished.set(ref, { id, length: data.length, capability, copies });
      if (this.finished.size > MAX_FINISHED) this.finished.delete(this.finished.keys().next().value as number);
      this.emit({ type: "file", op: "put", ref, ...ids, state: e.state, length: data.length, holders: e.holders, capability });
      return { ref, length: data.length, capability, state: e.state, holders: e.holders };
    } catch (err) {
      const fe = err instanceof FileError ? err : new FileError("link_error", (err as Error).message);
      if (begun && fe.code !== "timeout" && fe.code !== "file_failed") this.cancel("put");
      this.emit({ type: "file", op: "put", ref, ...ids, state: "failed", length: data.length, error: fe.message });
      throw fe;
    } finally {
      this.puts.delete(ref);
    }
  }

  /** Fetches the file a capability (`ocx1:…` or its 40 bytes) names; resolves with its bytes. */
  get(capability: string | Uint8Array, opts: GetOptions = {}): Promise<GetResult> {
    let cap: Uint8Array;
    if (typeof capability === "string") {
      try {
        cap = parseCapability(capability).bytes;
      } catch (err) {
        throw new FileError("bad_request", err instanceof CapabilityError ? err.message : String(err));
      }
    } else if (capability instanceof Uint8Array && capability.length === CAPABILITY_BYTES) {
      cap = capability;
    } else {
      throw new FileError("bad_request", `a capability is a string "ocx1:…" (or ${CAPABILITY_BYTES} bytes)`);
    }
    const timeoutMs = opts.timeoutMs ?? this.getTimeoutMs;
    return this.getTurns.run(() => this.getNow(cap, opts.id, timeoutMs));
  }

  private async getNow(cap: Uint8Array, id: string | undefined, timeoutMs: number): Promise<GetResult> {
    const ref = this.nextRef();
    const ids = id !== undefined ? { id } : {};
    let settle!: (e: Extract<NodeEvent, { type: "fileDone" }>) => void;
    const done = new Promise<Extract<NodeEvent, { type: "fileDone" }>>((resolve) => { settle = resolve; });
    const w: GetWaiter = { ref, id, buf: new Uint8Array(FILE_MAX_BYTES), have: new Uint8Array(FILE_MAX_BYTES), received: 0, reported: 0, settle };
    this.gets.set(ref, w);
    let asked = false;
    const fail = (fe: FileError, state: "not_found" | "corrupt" | "failed", extra: Record<string, number> = {}): never => {
      this.emit({ type: "file", op: "get", ref, ...ids, state, received: w.received, ...extra, error: fe.message });
      throw fe;
    };
    try {
      try {
        await this.ask(requests.fileGet(ref, cap), "FILE_GET", "");
      } catch (err) {
        return fail(err as FileError, "failed");
      }
      asked = true;
      this.emit({ type: "file", op: "get", ref, ...ids, state: "fetching", received: w.received });
      let timer: NodeJS.Timeout | undefined;
      const e = await Promise.race([
        done,
        new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); }),
      ]).finally(() => clearTimeout(timer));
      if (!e) {
        this.cancel("get");
        return fail(new FileError("timeout", `the file did not arrive within ${Math.round(timeoutMs / 1000)} s (${w.received} bytes so far); the fetch was cancelled`), "failed");
      }
      const facts = { length: e.length, blocks: e.blocks, elapsedMs: e.elapsedMs };
      if (e.state === "notFound") {
        return fail(new FileError("not_found", `file not found: no node of the mesh answered for this capability (the node gave up after ${(e.elapsedMs / 1000).toFixed(1)} s)`), "not_found", facts);
      }
      if (e.state === "corrupt") {
        return fail(new FileError("corrupt", "the file could not be verified: its blocks do not match the capability (a wrong or altered capability, or corrupt copies)"), "corrupt", facts);
      }
      if (e.state !== "complete") return fail(new FileError("node_error", "the node ended the fetch with an unknown state"), "failed", facts);
      if (e.length > FILE_MAX_BYTES) return fail(new FileError("node_error", `the node reported a file of ${e.length} bytes (at most ${FILE_MAX_BYTES})`), "failed", facts);
      let missing = 0;
      for (let i = 0; i < e.length; i++) if (!w.have[i]) missing++;
      if (missing > 0) {
        return fail(new FileError("link_error", `the node reported the file complete, but ${missing} of its ${e.length} bytes never arrived over the serial link`), "failed", facts);
      }
      const data = w.buf.slice(0, e.length);
      this.emit({ type: "file", op: "get", ref, ...ids, state: "complete", received: e.length, ...facts });
      return { ref, data, blocks: e.blocks, elapsedMs: e.elapsedMs };
    } catch (err) {
      if (err instanceof FileError) throw err;
      if (asked) this.cancel("get");
      throw new FileError("link_error", (err as Error).message);
    } finally {
      this.gets.delete(ref);
    }
  }
}

/** Why the node refused a file command, for people. */
function refusal(name: string, status: number, what: string): string {
  const detail = what ? ` (${what})` : "";
  switch (status) {
    case ERR_BUSY:
      if (name === "FILE_GET") return "the node is busy with another fetch (FILE_GET: busy); try again later";
      if (name === "FILE_PUT_BEGIN") return `the node is busy with another upload (still placing its copies) or has no room for this file's blocks (FILE_PUT_BEGIN${detail}: busy); try again later`;
      return `the node ran out of room for the file's blocks (${name}${detail}: busy); the upload was abandoned`;
    case ERR_STATE: return `the node has no upload in progress (${name}${detail}): it restarted or cancelled it`;
    case ERR_LENGTH: return `the node refused ${name}${detail}: bad length`;
    case ERR_INVALID: return `the node refused ${name}${detail}: bad value (firmware without mesh-kept files answers this too)`;
    default: return `the node refused ${name}${detail}: ${statusText(status)}`;
  }
}
