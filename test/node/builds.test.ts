// Every node building block, built with the cores' options (asconfig.json), must
// stay inside what wasm3 runs on the ESP32 (firmware/ABI.md "Rules for every core"):
// no imports, no feature beyond MVP + sign-extension, non-trapping f2i, mutable
// globals and memory.copy/fill, one fixed 64 KiB page, no trap instruction, and
// exactly the static memory each module documents.
import binaryen from "binaryen";
import { describe, expect, it } from "vitest";
import { buildAs, fn } from "../helpers/as-build.js";

const MODULES: { name: string; memoryConst: string | null }[] = [
  { name: "airtime", memoryConst: null },
  { name: "dutycycle", memoryConst: "DUTY_MEMORY_BYTES" },
  { name: "dedup", memoryConst: "DEDUP_MEMORY_BYTES" },
  { name: "routes", memoryConst: "ROUTE_MEMORY_BYTES" },
  { name: "txqueue", memoryConst: "TX_MEMORY_BYTES" },
];

const entry = (name: string) => `test/node/as/${name}.entry.ts`;

describe.each(MODULES)("node/$name.ts built for wasm3", ({ name, memoryConst }) => {
  it("imports nothing and uses only features wasm3 runs", async () => {
    const b = await buildAs(entry(name));
    expect(b.report.imports).toEqual([]);
    expect(b.unsupported).toEqual([]);
    expect([...b.report.features].filter((f) => f === "simd")).toEqual([]);
  });

  it("lives in one 64 KiB page that cannot grow", async () => {
    const b = await buildAs(entry(name));
    expect(b.report.memories).toEqual([{ minPages: 1, maxPages: 1, shared: false }]);
    expect(b.exports.memory.buffer.byteLength).toBe(65536);
  });

  it("contains no trap instruction (no unreachable: nothing can abort)", async () => {
    const b = await buildAs(entry(name));
    const mod = binaryen.readBinary(b.binary);
    try {
      expect(mod.emitText()).not.toMatch(/\bunreachable\b/);
    } finally {
      mod.dispose();
    }
  });

  it("reserves exactly the static memory it documents", async () => {
    const b = await buildAs(entry(name));
    const base = await buildAs(entry("baseline"));
    const added = fn<() => number>(b.exports, "heapBase")() - fn<() => number>(base.exports, "heapBase")();
    const documented = memoryConst ? (b.exports[memoryConst] as unknown as WebAssembly.Global).value : 0;
    expect(added).toBe(documented);
  });
});

it("all building blocks together fit one page with room to spare", async () => {
  let total = 0;
  for (const { name, memoryConst } of MODULES) {
    if (!memoryConst) continue;
    const b = await buildAs(entry(name));
    total += (b.exports[memoryConst] as unknown as WebAssembly.Global).value as number;
  }
  expect(total).toBeLessThan(32 * 1024);
});
