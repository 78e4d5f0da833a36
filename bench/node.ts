// Node core per received frame, in V8: the time the core spends on one frame
// (decode, duplicate check, decrypt-if-ours, relay decision) and the frame rate
// that allows, against the fastest frame rate a LoRa channel can carry.
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { NodeHost, defaultNodeWasmUrl, loadNodeModule } from "../host-tools/node/host.js";
import { DEFAULT_CONFIG } from "../host-tools/node/protocol.js";
import { inspectWasm } from "../host-tools/wasm/inspect.js";
import { fmt } from "./measure.js";

/** Semtech AN1200.13 airtime of the shortest Outcaxt frame (106 B) at ShortTurbo (SF7, 500 kHz): the busiest a channel gets. */
function fastestFrameMs(): number {
  const sf = 7, bw = 500_000, cr = 1, pre = 16, pl = 106;
  const tSym = 2 ** sf / bw;
  const n = 8 + Math.max(Math.ceil((8 * pl - 4 * sf + 28 + 16) / (4 * sf)) * (cr + 4), 0);
  return ((pre + 4.25) * tSym + n * tSym) * 1000;
}

export type NodeRow = { case: string; usPerFrame: number; framesPerSecond: number; headroom: number };

export async function benchNode(ms: number): Promise<{ rows: NodeRow[]; wasmBytes: number; memoryBytes: number; fuzzFrames: number; fuzzMs: number }> {
  let now = Date.UTC(2026, 10, 25);
  const sent: Uint8Array[] = [];
  const module = await loadNodeModule();
  const make = (name: string) => NodeHost.create({
    config: { ...DEFAULT_CONFIG, dutyCyclePermille: 0, nodeName: name },
    now: () => now, transmit: (f) => { sent.push(f); return true; },
  }, module);
  const a = await make("a");
  const b = await make("b");
  // Let a announce and join a channel with b, so b has frames that are "for it".
  a.joinChannel(0, "bench", "pass"); b.joinChannel(0, "bench", "pass");
  a.sendChannel(0, 1, "a channel message of typical length for a chat");
  a.poll(); a.transmitDone();
  const channelFrame = sent.at(-1)!;
  const other = await make("c");
  other.joinChannel(0, "elsewhere", "other pass");
  other.sendChannel(0, 1, "a frame for a channel b is not in");
  other.poll(); other.transmitDone();
  const foreignFrame = sent.at(-1)!;

  const withId = (frame: Uint8Array, i: number) => {
    const f = frame.slice();
    new DataView(f.buffer).setUint32(10, i, true); // a new frame id each time (nonce bytes 0..3)
    return f;
  };
  const garbage = Array.from({ length: 4096 }, () => randomBytes(106));
  // Fresh, valid channel frames from a (each one new to b): decrypt, replay check, deliver.
  const fresh: Uint8Array[] = [];
  for (let i = 0; i < 4000; i++) {
    a.sendChannel(0, i, `message ${i} of a typical chat length`);
    a.poll(); a.transmitDone();
    fresh.push(sent.at(-1)!);
  }

  const cases: Array<[string, (i: number) => void, number?]> = [
    ["garbage (fails the header check)", (i) => b.receive(garbage[i & 4095], -100, 0)],
    ["duplicate of a frame already seen", () => b.receive(foreignFrame, -100, 0)],
    ["foreign frame, relay decision", (i) => { b.receive(withId(foreignFrame, i + 100_000), -100, 0); b.poll(); b.transmitDone(); }],
    ["channel message for us (decrypt + deliver)", (i) => { b.receive(fresh[i % fresh.length], -100, 0); b.poll(); b.transmitDone(); }, fresh.length],
    ["forged channel frame (tag matches, AEAD rejects)", (i) => { b.receive(withId(channelFrame, i + 200_000), -100, 0); }],
  ];
  const rows: NodeRow[] = [];
  const limit = 1000 / fastestFrameMs();
  for (const [name, run, maxFrames = Infinity] of cases) {
    let i = 0;
    for (; i < 200; i++) run(i);
    const start = performance.now();
    let n = 0;
    // Stop before the fresh frames run out (a repeat would only measure a duplicate).
    while (performance.now() - start < ms && i + 50 < maxFrames) for (let k = 0; k < 50; k++, n++) run(i++);
    const us = ((performance.now() - start) * 1000) / n;
    rows.push({ case: name, usPerFrame: us, framesPerSecond: 1e6 / us, headroom: 1e6 / us / limit });
    now += 1;
  }

  // The longer fuzz run: a million random and mutated frames; a trap would throw.
  const fuzzFrames = Number(process.env.FUZZ_FRAMES ?? 1_000_000);
  const fuzzStart = performance.now();
  const memBefore = b.memoryBytes();
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8);
  for (let i = 0; i < fuzzFrames; i++) {
    let f: Uint8Array;
    if (i % 3 === 0) f = randomBytes(rnd() % 300);
    else {
      f = (i % 3 === 1 ? channelFrame : foreignFrame).slice();
      for (let k = 1 + (rnd() % 4); k > 0; k--) f[rnd() % f.length] ^= 1 << (rnd() % 8);
      if (rnd() % 8 === 0) f = f.subarray(0, rnd() % f.length);
    }
    b.receive(f, -120 + (rnd() % 60), (rnd() % 60) - 30);
    if (i % 64 === 0) { b.poll(); b.transmitDone(); now += 50; }
  }
  if (b.memoryBytes() !== memBefore) throw new Error("node memory grew during the fuzz run");
  return {
    rows, wasmBytes: readFileSync(defaultNodeWasmUrl()).length, memoryBytes: b.memoryBytes(),
    fuzzFrames, fuzzMs: performance.now() - fuzzStart,
  };
}

export function printNode(r: Awaited<ReturnType<typeof benchNode>>): void {
  console.log(`\nNode core (build/cores/node.wasm): ${r.wasmBytes} bytes of wasm (target < 65536), ${r.memoryBytes / 65536} pages of memory (target <= 2)`);
  console.log(`baseline: the fastest frame rate of a LoRa channel, ${fmt(1000 / fastestFrameMs())} frames/s (106-byte frames at SF7/500 kHz)`);
  const w = Math.max(...r.rows.map((x) => x.case.length));
  for (const x of r.rows) {
    console.log(`${x.case.padEnd(w)}  ${x.usPerFrame.toFixed(2)} us/frame  ${fmt(x.framesPerSecond)} frames/s  ${fmt(x.headroom)}x the channel`);
  }
  console.log(`fuzz: ${r.fuzzFrames} random and mutated frames in ${(r.fuzzMs / 1000).toFixed(1)} s, no trap, memory unchanged`);
}
