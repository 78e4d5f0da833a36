// node.wasm must run unchanged on wasm3, match firmware/ABI.md, and stay small.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { baselineNodeWasmUrl, defaultNodeWasmUrl } from "../../host-tools/node/host.js";
import { inspectWasm, unsupportedOnWasm3 } from "../../host-tools/wasm/inspect.js";
import { readAbiDoc } from "../helpers/abi-doc.js";

const doc = readAbiDoc("node.wasm");
const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

// The baseline core (plain flooding) has node.wasm's ABI exactly.
describe.each([["node.wasm", defaultNodeWasmUrl()], ["node-flood.wasm", baselineNodeWasmUrl()]])("%s", (_name, url) => {
  const bytes = new Uint8Array(readFileSync(url));
  const report = inspectWasm(bytes);

  it("uses no feature wasm3 lacks", () => {
    expect(unsupportedOnWasm3(report)).toEqual([]);
  });

  it("imports exactly what ABI.md documents, with the documented signatures", () => {
    const built = report.imports.map((i) => ({ name: `${i.module}.${i.name}`, params: i.type!.params, results: i.type!.results }));
    expect(built.sort(byName)).toEqual([...doc.imports].sort(byName));
  });

  it("exports exactly what ABI.md documents, with the documented signatures", () => {
    const built = report.exports.filter((e) => e.kind === "func")
      .map((e) => ({ name: e.name, params: e.type!.params, results: e.type!.results }));
    expect(built.sort(byName)).toEqual([...doc.exports].sort(byName));
    expect(report.exports.find((e) => e.name === "memory")?.kind).toBe("memory");
  });

  it("fits the targets: under 64 KiB of code and data, two fixed pages of memory", () => {
    expect(bytes.length).toBeLessThan(64 * 1024);
    expect(report.memories).toEqual([{ minPages: 2, maxPages: 2, shared: false }]);
  });
});
