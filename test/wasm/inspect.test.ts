// The feature checker itself: it must flag every post-MVP feature wasm3 lacks,
// so that the core tests that rely on it can fail. Modules are built with
// binaryen (AssemblyScript's own backend) from text.
import binaryen from "binaryen";
import { describe, expect, it } from "vitest";
import { inspectWasm, unsupportedOnWasm3, WasmFormatError } from "../../host-tools/wasm/inspect.js";

function build(wat: string): Uint8Array {
  const mod = binaryen.parseText(wat);
  mod.setFeatures(binaryen.Features.All);
  const bytes = mod.emitBinary();
  mod.dispose();
  return bytes;
}

const features = (wat: string) => [...inspectWasm(build(wat)).features].sort();

describe("inspectWasm", () => {
  it("reports imports, exports and memory of a plain MVP module with no features", () => {
    const r = inspectWasm(build(`(module
      (import "env" "now_ms" (func $now (result i64)))
      (memory (export "memory") 1 2)
      (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))`));
    expect(r.imports).toEqual([{ module: "env", name: "now_ms", kind: "func", type: { params: [], results: ["i64"] } }]);
    expect(r.exports.map((e) => [e.name, e.kind])).toEqual([["memory", "memory"], ["add", "func"]]);
    expect(r.exports[1].type).toEqual({ params: ["i32", "i32"], results: ["i32"] });
    expect(r.memories).toEqual([{ minPages: 1, maxPages: 2, shared: false }]);
    expect([...r.features]).toEqual([]);
  });

  it("recognises the extensions wasm3 runs", () => {
    expect(features(`(module (memory 1) (func (param i32) (result i32)
      (memory.copy (i32.const 0) (i32.const 8) (i32.const 4))
      (memory.fill (i32.const 0) (i32.const 0) (i32.const 4))
      (i32.extend8_s (i32.trunc_sat_f32_s (f32.const 1.5)))))`))
      .toEqual(["bulk-memory-copy-fill", "nontrapping-f2i", "sign-extension"]);
  });

  it.each([
    ["simd", `(module (func (result i32) (i32x4.extract_lane 0 (v128.const i32x4 1 2 3 4))))`],
    ["bulk-memory-other", `(module (memory 1) (data $d "abc") (func (memory.init $d (i32.const 0) (i32.const 0) (i32.const 3)) (data.drop $d)))`],
    ["multi-value", `(module (func (result i32 i32) (i32.const 1) (i32.const 2)))`],
    ["reference-types", `(module (func (result i32) (ref.is_null (ref.null extern))))`],
    ["exceptions", `(module (tag $t) (func (throw $t)))`],
    ["tail-calls", `(module (func $f) (func (return_call $f)))`],
    ["threads", `(module (memory 1 1 shared) (func (result i32) (i32.atomic.load (i32.const 0))))`],
  ])("flags %s", (feature, wat) => {
    const r = inspectWasm(build(wat));
    expect([...r.features]).toContain(feature);
    expect(unsupportedOnWasm3(r)).toContain(feature);
  });

  it("rejects data that is not WebAssembly, or is cut short, with a WasmFormatError", () => {
    expect(() => inspectWasm(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(WasmFormatError);
    const ok = build(`(module (func (export "f") (result i32) (i32.const 7)))`);
    expect(() => inspectWasm(ok.subarray(0, ok.length - 3))).toThrow(WasmFormatError);
  });
});
