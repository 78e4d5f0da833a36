// The built crypto core must run unchanged on wasm3 and match firmware/ABI.md.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { defaultCryptoWasmUrl } from "../../host-tools/crypto/core.js";
import { inspectWasm, unsupportedOnWasm3 } from "../../host-tools/wasm/inspect.js";
import { readAbiDoc } from "../helpers/abi-doc.js";

const report = inspectWasm(new Uint8Array(readFileSync(defaultCryptoWasmUrl())));
const doc = readAbiDoc("crypto.wasm");

describe("crypto.wasm on wasm3", () => {
  it("uses no feature outside MVP + sign-extension, non-trapping f2i, mutable globals, memory.copy/fill", () => {
    expect(unsupportedOnWasm3(report)).toEqual([]);
  });

  it("imports exactly what ABI.md documents (nothing: no env.abort)", () => {
    const imported = report.imports.map((i) => `${i.module}.${i.name}`).sort();
    expect(imported).toEqual(doc.imports.map((i) => i.name).sort());
    expect(imported).not.toContain("env.abort");
  });

  it("exports linear memory of exactly one 64 KiB page that cannot grow", () => {
    expect(report.exports.find((e) => e.name === "memory")?.kind).toBe("memory");
    expect(report.memories).toEqual([{ minPages: 1, maxPages: 1, shared: false }]);
  });

  it("exports exactly the functions ABI.md documents, with the documented signatures", () => {
    const built = report.exports.filter((e) => e.kind === "func")
      .map((e) => ({ name: e.name, params: e.type!.params, results: e.type!.results }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const documented = [...doc.exports].sort((a, b) => a.name.localeCompare(b.name));
    expect(built).toEqual(documented);
  });
});
