// Mesh-kept files through the bridge's own parts, against a fake device that speaks
// the file commands of STORAGE.md / SERIAL.md (no node core needed): the NodeService
// streams an upload in FILE_PUT_DATA chunks one request at a time, assembles a fetch
// from FILE_DATA arriving out of order, and reports every outcome; the WebSocket API
// (file_put / file_get) and WsClient carry them. The same with node.wasm's files runs
// in store.test.ts.
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WsClient } from "../../host-tools/bridge/client.js";
import type { SerialLink } from "../../host-tools/bridge/link.js";
import { BridgeServer } from "../../host-tools/bridge/server.js";
import { ApiError, NodeService, type ApiEvent } from "../../host-tools/bridge/service.js";
import {
  decodeEvent, encodeFileDataEvent, encodeFileDoneEvent, encodeFileStoredEvent, type NodeEvent,
} from "../../host-tools/node/protocol.js";
import { Req, type Request } from "../../host-tools/serial/codec.js";
import { formatCapability, parseCapability } from "../../host-tools/store/capability.js";

const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);

/** A serial link to a fake node: answers file requests as the core would (RESULT after the replies). */
class FakeDevice extends EventEmitter {
  readonly path = "/fake/tty";
  readonly state = "connected";
  readonly connected = true;
  readonly queued = 0;
  readonly connects = 1;
  readonly lastFailure = "";
  readonly localSerialErrors = null;
  readonly identity = { contactId: "0123456789abcdef", edPublic: "00", xPublic: "00" };
  /** Files "in the mesh", by capability (hex). */
  readonly mesh = new Map<string, Uint8Array>();
  readonly log: { type: number; payload: Uint8Array }[] = [];
  inflight = 0;
  maxInflight = 0;
  /** What FILE_STORED says after FILE_PUT_END (1 stored; 3 failed; 0 nothing at all). */
  storedState = 1;
  /** Then, after a moment: 2 replicated, 3 failed, 0 nothing. */
  replicationState = 2;
  /** Fetch: FILE_DONE state for a capability not in `mesh` (2 not found, 3 corrupt, 0 never). */
  missingState = 2;
  /** Leave out one chunk of a fetch (a link that lost a frame). */
  dropChunk = false;
  /** RESULT -7 for the next n FILE_PUT_BEGIN. */
  busyFor = 0;
  private put: { ref: number; length: number; copies: number; parts: Uint8Array[]; got: number } | null = null;

  private event(bytes: Uint8Array): void {
    this.emit("event", decodeEvent(bytes) as NodeEvent);
  }

  request(req: Request): Promise<{ status: number; replies: never[] }> {
    this.log.push({ type: req.type, payload: req.payload.slice() });
    this.inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    return new Promise((resolve) => setImmediate(() => {
      const status = this.handle(req);
      this.inflight--;
      resolve({ status, replies: [] });
    }));
  }

  private handle(req: Request): number {
    const p = req.payload;
    switch (req.type) {
      case Req.FILE_PUT_BEGIN: {
        if (p.length !== 9) return -4;
        if (this.busyFor > 0) { this.busyFor--; return -7; }
        if (this.put) return -7;
        const length = u32(p, 4);
        if (length < 1 || length > 32768) return -5;
        this.put = { ref: u32(p, 0), length, copies: p[8], parts: [], got: 0 };
        return 0;
      }
      case Req.FILE_PUT_DATA: {
        if (!this.put) return -5;
        const n = p[4];
        if (p.length !== 5 + n || n < 1 || n > 200) return -4;
        if (u32(p, 0) !== this.put.got || this.put.got + n > this.put.length) return -5;
        this.put.parts.push(p.slice(5));
        this.put.got += n;
        return 0;
      }
      case Req.FILE_PUT_END: {
        const put = this.put;
        if (!put || put.got !== put.length) return -5;
        this.put = null;
        const data = Buffer.concat(put.parts);
        const cap = new Uint8Array(createHash("sha512").update(data).digest().subarray(0, 40));
        this.mesh.set(Buffer.from(cap).toString("hex"), new Uint8Array(data));
        if (this.storedState) this.event(encodeFileStoredEvent(put.ref, this.storedState, 1, cap));
        if (this.storedState === 1 && this.replicationState) {
          setTimeout(() => this.event(encodeFileStoredEvent(put.ref, this.replicationState, put.copies || 3, cap)), 20);
        }
        return 0;
      }
      case Req.FILE_GET: {
        if (p.length !== 44) return -4;
        const ref = u32(p, 0);
        const data = this.mesh.get(Buffer.from(p.subarray(4)).toString("hex"));
        setTimeout(() => {
          if (!data) {
            if (this.missingState) this.event(encodeFileDoneEvent(ref, this.missingState, 0, 0, 4321));
            return;
          }
          // 160-byte pieces, last first, the first one twice.
          const offsets: number[] = [];
          for (let o = 0; o < data.length; o += 160) offsets.push(o);
          offsets.reverse();
          offsets.push(0);
          if (this.dropChunk) offsets.splice(1, 1);
          for (const o of offsets) this.event(encodeFileDataEvent(ref, o, data.subarray(o, Math.min(data.length, o + 160))));
          this.event(encodeFileDoneEvent(ref, 1, data.length, Math.ceil(data.length / 160), 1500));
        }, 5);
        return 0;
      }
      case Req.FILE_CANCEL:
        if (p.length !== 1) return -4;
        if (p[0] === 1) this.put = null;
        return 0;
      default:
        return -5;
    }
  }
}

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff);

function setup() {
  const dev = new FakeDevice();
  const service = new NodeService(dev as unknown as SerialLink);
  const events: ApiEvent[] = [];
  service.on("api", (e) => events.push(e));
  return { dev, service, events };
}

describe("files through the NodeService (fake device)", () => {
  it("an upload goes in 200-byte chunks, one request at a time, and returns the capability", async () => {
    const { dev, service, events } = setup();
    const data = bytes(32768);
    const r = await service.putFile(data, { copies: 4, id: "up1" });
    expect(r).toMatchObject({ length: 32768, state: "stored", holders: 1 });
    expect(parseCapability(r.capability).bytes.length).toBe(40);
    expect(dev.maxInflight).toBe(1);
    const types = dev.log.map((x) => x.type);
    expect(types[0]).toBe(Req.FILE_PUT_BEGIN);
    expect(types.at(-1)).toBe(Req.FILE_PUT_END);
    const chunks = dev.log.filter((x) => x.type === Req.FILE_PUT_DATA);
    expect(chunks.length).toBe(Math.ceil(32768 / 200));
    expect(chunks.map((c) => u32(c.payload, 0))).toEqual(chunks.map((_, i) => i * 200));
    expect(dev.log[0].payload[8]).toBe(4); // copies
    // Progress, then stored; replication follows as an event with the request's id.
    const mine = events.filter((e) => e.type === "file" && e.op === "put" && e.ref === r.ref);
    expect(mine.some((e) => e.type === "file" && e.state === "uploading")).toBe(true);
    expect(mine.at(-1)).toMatchObject({ state: "stored", id: "up1", capability: r.capability });
    await new Promise((res) => setTimeout(res, 50));
    expect(events.at(-1)).toMatchObject({ type: "file", op: "put", ref: r.ref, id: "up1", state: "replicated", holders: 4, capability: r.capability });
  });

  it("a fetch assembles FILE_DATA by offset (out of order, repeated) and returns identical bytes", async () => {
    const { service, events } = setup();
    const data = bytes(1000, 5);
    const { capability } = await service.putFile(data);
    const got = await service.getFile(capability, { id: "g" });
    expect(got.data).toEqual(data);
    expect(got).toMatchObject({ blocks: 7, elapsedMs: 1500 });
    expect(events.filter((e) => e.type === "file" && e.op === "get").map((e) => e.type === "file" && e.state)).toEqual(["fetching", "complete"]);
    const one = await service.getFile(` ${capability}\n`);
    expect(one.data).toEqual(data);
  });

  it("unknown content, a corrupt file, a bad capability: clear errors", async () => {
    const { dev, service, events } = setup();
    const unknown = formatCapability(new Uint8Array(40).fill(9));
    await expect(service.getFile(unknown, { id: "nf" })).rejects.toMatchObject({ code: "not_found", message: expect.stringMatching(/file not found: no node of the mesh answered .*gave up after 4\.3 s/) });
    expect(events.at(-1)).toMatchObject({ type: "file", op: "get", id: "nf", state: "not_found" });
    dev.missingState = 3;
    await expect(service.getFile(unknown)).rejects.toMatchObject({ code: "corrupt", message: expect.stringMatching(/do not match the capability/) });
    await expect(service.getFile("ocx1:nope")).rejects.toMatchObject({ code: "bad_request", message: expect.stringMatching(/expected 54 base64url characters/) });
    await expect(service.getFile("hello")).rejects.toBeInstanceOf(ApiError);
    dev.missingState = 0;
    await expect(service.getFile(unknown, { timeoutMs: 100 })).rejects.toMatchObject({ code: "timeout", message: expect.stringMatching(/did not arrive within 0 s .*cancelled/) });
    expect(dev.log.at(-1)).toMatchObject({ type: Req.FILE_CANCEL, payload: Uint8Array.of(2) });
  });

  it("a fetch the node calls complete but with bytes missing is an error, not a short file", async () => {
    const { dev, service } = setup();
    const { capability } = await service.putFile(bytes(800));
    dev.dropChunk = true;
    await expect(service.getFile(capability)).rejects.toMatchObject({ code: "link_error", message: expect.stringMatching(/160 of its 800 bytes never arrived/) });
  });

  it("too large, empty, bad copies: refused before the node is asked", async () => {
    const { dev, service } = setup();
    await expect(service.putFile(new Uint8Array(32769))).rejects.toMatchObject({ code: "bad_request", message: "the file is too large: 32769 bytes, at most 32768 (32 KiB) can be kept by the mesh" });
    await expect(service.putFile(new Uint8Array(0))).rejects.toMatchObject({ code: "bad_request", message: expect.stringMatching(/empty/) });
    await expect(service.putFile(bytes(10), { copies: 300 })).rejects.toMatchObject({ code: "bad_request" });
    expect(dev.log.length).toBe(0);
  });

  it("the node failing to store, or staying silent, or busy for long", async () => {
    const { dev, service } = setup();
    dev.storedState = 3;
    await expect(service.putFile(bytes(10))).rejects.toMatchObject({ code: "file_failed" });
    dev.storedState = 0;
    await expect(service.putFile(bytes(10), { timeoutMs: 100 })).rejects.toMatchObject({ code: "timeout" });
    expect(dev.log.at(-1)).toMatchObject({ type: Req.FILE_CANCEL, payload: Uint8Array.of(1) });
    dev.storedState = 1;
    dev.busyFor = 2; // busy for a moment: asked again
    await expect(service.putFile(bytes(10))).resolves.toMatchObject({ state: "stored" });
    dev.busyFor = 1000;
    await expect(service.putFile(bytes(10))).rejects.toMatchObject({ code: "node_error", message: expect.stringMatching(/busy with another upload .*try again later/) });
  }, 15_000);

  it("two uploads at once are sent one after the other", async () => {
    const { dev, service } = setup();
    const [a, b] = await Promise.all([service.putFile(bytes(500, 1)), service.putFile(bytes(500, 2))]);
    expect(a.capability).not.toBe(b.capability);
    expect(dev.maxInflight).toBe(1);
    const begins = dev.log.map((x, i) => (x.type === Req.FILE_PUT_BEGIN ? i : -1)).filter((i) => i >= 0);
    const ends = dev.log.map((x, i) => (x.type === Req.FILE_PUT_END ? i : -1)).filter((i) => i >= 0);
    expect(begins[1]).toBeGreaterThan(ends[0]);
  });
});

describe("files through the WebSocket API (fake device)", () => {
  let server: BridgeServer;
  let client: WsClient;
  let dev: FakeDevice;
  const token = "t0ken-for-files";

  beforeAll(async () => {
    const s = setup();
    dev = s.dev;
    server = new BridgeServer({ service: s.service, token });
    const url = await server.listen();
    client = await WsClient.connect(url, token);
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  it("file_put and file_get round trip 32768 bytes, with file events", async () => {
    const events: ApiEvent[] = [];
    client.on("event", (e) => events.push(e));
    const data = bytes(32768, 3);
    const put = await client.putFile(data, { copies: 2 });
    expect(put).toMatchObject({ length: 32768, state: "stored", holders: 1 });
    const got = await client.getFile(put.capability);
    expect(Buffer.compare(got.data, data)).toBe(0);
    for (let i = 0; i < 50 && !events.some((e) => e.type === "file" && e.op === "put" && e.state === "replicated"); i++) await new Promise((res) => setTimeout(res, 20));
    expect(events.some((e) => e.type === "file" && e.op === "put" && e.state === "replicated" && e.holders === 2 && e.ref === put.ref)).toBe(true);
    expect(events.some((e) => e.type === "file" && e.op === "get" && e.state === "complete")).toBe(true);
  });

  it("errors: too large (checked by the client), unknown content, malformed requests", async () => {
    await expect(client.putFile(new Uint8Array(40000))).rejects.toMatchObject({ code: "bad_request", message: expect.stringMatching(/too large: 40000 bytes, at most 32768/) });
    await expect(client.getFile(formatCapability(new Uint8Array(40)))).rejects.toMatchObject({ code: "not_found", message: expect.stringMatching(/^file not found/) });
    await expect(client.getFile("ocx1:AAAA")).rejects.toMatchObject({ code: "bad_request", message: expect.stringMatching(/wrong capability length/) });
    // Raw requests: bad base64, a file over the limit sent anyway (under the message limit), bad fields.
    const raw = (body: Record<string, unknown>) => (client as unknown as { call(b: Record<string, unknown>): Promise<Record<string, unknown>> }).call(body);
    await expect(raw({ type: "file_put", data: "@@@" })).rejects.toMatchObject({ code: "bad_request", message: expect.stringMatching(/not valid base64/) });
    await expect(raw({ type: "file_put", data: Buffer.alloc(32769).toString("base64") })).rejects.toMatchObject({ code: "bad_request", message: expect.stringMatching(/too large: 32769 bytes/) });
    await expect(raw({ type: "file_put" })).rejects.toMatchObject({ code: "bad_request" });
    await expect(raw({ type: "file_put", data: "AAAA", copies: 1.5 })).rejects.toMatchObject({ code: "bad_request", message: expect.stringMatching(/copies/) });
    await expect(raw({ type: "file_get", capability: 5 })).rejects.toMatchObject({ code: "bad_request" });
    await expect(raw({ type: "file_get", capability: formatCapability(new Uint8Array(40)), timeout: -1 })).rejects.toMatchObject({ code: "bad_request", message: expect.stringMatching(/timeout/) });
    const ok = await raw({ type: "file_put", data: Buffer.from("hello").toString("base64"), id: "x" });
    expect(ok).toMatchObject({ type: "file_stored", length: 5, state: "stored" });
    expect(dev.maxInflight).toBe(1);
  });
});
