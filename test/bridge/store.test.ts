// Mesh-kept files and kept mail end to end, through real parts: virtual nodes
// (`outcaxt node`, node.wasm on socat ptys, UDP radio), a bridge, and the built CLI.
//   files: `outcaxt store put` through the bridge on n1 of a line n1 - n2 - n3, then
//          `outcaxt store get` straight on n3's port returns identical bytes; a
//          capability naming unknown content fails with the clear error (exit 1).
//   mail:  a direct message to a node that is switched off is stored by keepers
//          (`outcaxt send` prints "stored by N keepers", exit 0), and delivered
//          through them when the node comes back.
// Both depend on the node core implementing them (firmware/STORAGE.md); they are
// skipped, by a probe of build/cores/node.wasm, on a core without them.
// OUTCAXT_TEST_CORE=FILE runs them on another build of the core (`outcaxt node --core`).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeHost, loadCoreModule } from "../../host-tools/node/host.js";
import { DEFAULT_CONFIG } from "../../host-tools/node/protocol.js";
import { SerialDecoder, encodeRequest, parseDeviceMessage, request, type DeviceMessage } from "../../host-tools/serial/codec.js";
import { formatCapability } from "../../host-tools/store/capability.js";
import {
  CLI, ROOT, Recorder, ensureBuilt, freeUdpPort, haveCommand, startBridge, startNode, until, type BridgeProc, type NodeProc,
} from "./procs.js";

/** What build/cores/node.wasm implements: files (a FILE_CANCEL over the serial link is not ERR_INVALID) and mail (counter 44). */
const CORE_FILE = process.env.OUTCAXT_TEST_CORE ? path.resolve(process.env.OUTCAXT_TEST_CORE) : undefined;
const CORE_ARGS = [...(CORE_FILE ? ["--core", CORE_FILE] : []), "--duty", "0"];

async function probeCore(): Promise<{ files: boolean; mail: boolean }> {
  try {
    const module = CORE_FILE ? await loadCoreModule(CORE_FILE) : undefined;
    const decoder = new SerialDecoder();
    const out: DeviceMessage[] = [];
    const host = await NodeHost.create({
      config: { ...DEFAULT_CONFIG, serial: true }, now: () => Date.now(), transmit: () => true,
      onSerial: (b) => { for (const p of decoder.push(b)) out.push(parseDeviceMessage(p)); },
    }, module);
    host.serialReceive(encodeRequest(request.fileCancel("get"), 77));
    const r = out.find((m) => m.kind === "result" && m.seq === 77);
    return { files: r?.kind === "result" && r.status === 0, mail: host.counter(44) >= 0 };
  } catch {
    return { files: false, mail: false };
  }
}

const CORE = await probeCore();
const SOCAT = haveCommand("socat");

type Run = { code: number | null; stdout: Buffer; stderr: string };

/** The built CLI, binary-safe (stdout as bytes), without blocking the event loop. */
function outcaxt(args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, OUTCAXT_STATE: "/nonexistent/outcaxt-state" },
  });
  const out: Buffer[] = [];
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => out.push(b));
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (s: string) => { stderr += s; });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out), stderr })));
}

describe.skipIf(!SOCAT || !CORE.files)("mesh-kept files over a line of three virtual nodes", () => {
  let dir = "";
  const nodes: Record<string, NodeProc> = {};
  let b1: BridgeProc;

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(path.join(tmpdir(), "outcaxt-files-"));
    const ports: Record<string, number> = {};
    for (const n of ["n1", "n2", "n3"]) ports[n] = await freeUdpPort();
    const peers: Record<string, string[]> = { n1: ["n2"], n2: ["n1", "n3"], n3: ["n2"] };
    await Promise.all(Object.entries(peers).map(async ([n, ps]) => {
      // SF7: a 255-byte frame is ~0.1 s on air, so the 35 blocks cross the line in seconds, not minutes.
      nodes[n] = await startNode(n, { udp: ports[n], peers: ps.map((p) => ports[p]), pty: path.join(dir, `${n}.pty`), state: path.join(dir, n), extra: [...CORE_ARGS, "--sf", "7"] });
    }));
    b1 = await startBridge("b1", { port: nodes.n1.pty, state: path.join(dir, "b1") });
    const c = await Recorder.connect(b1);
    await c.connected();
    await c.client.close();
  }, 60_000);

  afterAll(async () => {
    await Promise.all([b1, ...Object.values(nodes)].filter(Boolean).map((x) => x.proc.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("store put on n1 (through its bridge), store get on n3 (its port): identical bytes", async () => {
    const original = randomBytes(5000);
    const file = path.join(dir, "original.bin");
    writeFileSync(file, original);
    // Two copies: n2 and n3 are the only other nodes (with more wanted, the putter waits out its confirm time).
    const put = await outcaxt(["store", "put", file, "--copies", "2", "--state", path.join(dir, "b1"), "--wait-replicated", "--json", "--timeout", "150"]);
    expect(put.code, put.stderr).toBe(0);
    const stored = JSON.parse(put.stdout.toString()) as { capability: string; length: number; state: string; holders: number };
    expect(stored).toMatchObject({ length: 5000, state: "replicated" });
    expect(stored.capability).toMatch(/^ocx1:[A-Za-z0-9_-]{54}$/);
    expect(stored.holders).toBe(2);

    const out = path.join(dir, "copy.bin");
    const get = await outcaxt(["store", "get", stored.capability, "--port", nodes.n3.pty, "-o", out, "--timeout", "150"]);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout.toString()).toMatch(new RegExp(`^fetched 5000 bytes \\(\\d+ blocks?, [\\d.]+ s\\) to ${out.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    expect(Buffer.compare(readFileSync(out), original)).toBe(0);

    // To standard output, byte for byte (n2, through its port).
    const piped = await outcaxt(["store", "get", stored.capability, "--port", nodes.n2.pty, "--timeout", "150"]);
    expect(piped.code, piped.stderr).toBe(0);
    expect(Buffer.compare(piped.stdout, original)).toBe(0);
    expect(piped.stderr).toMatch(/fetched 5000 bytes/);
  }, 300_000);

  it("a capability naming unknown content: exit 1, \"file not found\"", async () => {
    const unknown = formatCapability(new Uint8Array(randomBytes(40)));
    const r = await outcaxt(["store", "get", unknown, "--state", path.join(dir, "b1"), "-o", path.join(dir, "nothing.bin"), "--timeout", "200"]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/outcaxt: error: file not found: no node of the mesh answered for this capability/);
  }, 240_000);
});

describe.skipIf(!SOCAT || !CORE.mail)("mail kept by keepers for a node that is switched off", () => {
  let dir = "";
  const nodes: Record<string, NodeProc> = {};
  const bridges: BridgeProc[] = [];
  const ports: Record<string, number> = {};
  let c1: Recorder;

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(path.join(tmpdir(), "outcaxt-mail-"));
    for (const n of ["m1", "m2", "m3"]) ports[n] = await freeUdpPort();
    const peers: Record<string, string[]> = { m1: ["m2"], m2: ["m1", "m3"], m3: ["m2"] };
    await Promise.all(Object.entries(peers).map(async ([n, ps]) => {
      nodes[n] = await startNode(n, { udp: ports[n], peers: ps.map((p) => ports[p]), pty: path.join(dir, `${n}.pty`), state: path.join(dir, n), extra: CORE_ARGS });
    }));
    const b1 = await startBridge("b1", { port: nodes.m1.pty, state: path.join(dir, "b1") });
    const b3 = await startBridge("b3", { port: nodes.m3.pty, state: path.join(dir, "b3") });
    bridges.push(b1, b3);
    c1 = await Recorder.connect(b1);
    const c3 = await Recorder.connect(b3);
    await Promise.all([c1.connected(), c3.connected()]);
    await c1.knows(nodes.m3.contactId, () => c3.client.announce());
    await c3.knows(nodes.m1.contactId, () => c1.client.announce());
    await c3.client.close();
  }, 90_000);

  afterAll(async () => {
    await c1?.client.close();
    await Promise.all([...bridges.map((b) => b.proc.stop()), ...Object.values(nodes).map((n) => n.proc.stop())]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("send says \"stored by N keepers\" (exit 0); the message is delivered when the node is back", async () => {
    // m3 (and its bridge) go away; its identity and contacts stay in its state folder.
    await bridges[1].proc.stop();
    await nodes.m3.proc.stop();
    const sent = await outcaxt(["send", "--state", path.join(dir, "b1"), "--to", "m3", "--timeout", "240", "while you were away"]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout.toString()).toMatch(/^✓ stored by \d+ keepers?, waiting for the recipient \(ref (\d+);/);
    const ref = Number(/\(ref (\d+);/.exec(sent.stdout.toString())![1]);
    expect(c1.deliveries(ref).some((d) => d.state === "stored" && d.attempts >= 1)).toBe(true);

    // m3 comes back (same identity, same place); it announces, a keeper delivers, the receipt comes back.
    nodes.m3 = await startNode("m3", { udp: ports.m3, peers: [ports.m2], pty: path.join(dir, "m3.pty"), state: path.join(dir, "m3"), extra: CORE_ARGS });
    const b3 = await startBridge("b3'", { port: nodes.m3.pty, state: path.join(dir, "b3") });
    bridges.push(b3);
    const c3 = await Recorder.connect(b3);
    try {
      // Its boot announce makes the keepers deliver; announces again in case that one was missed.
      let last = Date.now();
      await until("delivered through the keepers", async () => {
        if (Date.now() - last > 20_000) { last = Date.now(); await c3.client.announce().catch(() => undefined); }
        return c1.deliveries(ref).find((d) => d.state === "delivered" || d.state === "failed");
      }, 180_000, 500);
      // The receipt proves m3 opened it (only the recipient can derive its key).
      expect(c1.deliveries(ref).at(-1)?.state).toBe("delivered");
    } finally {
      await c3.client.close();
    }
  }, 480_000);
});
