// Compiles an AssemblyScript entry file in memory with the project's core options
// (asconfig.json, target "release": the same flags scripts/build-cores.mjs uses),
// instantiates it and reports its imports and features. Builds are cached per entry
// file for the life of the test file's worker.
import asc from "assemblyscript/asc";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { inspectWasm, unsupportedOnWasm3, type WasmFeature, type WasmReport } from "../../host-tools/wasm/inspect.js";

/** The repository root (asconfig.json lives there). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Exports of a test build: linear memory plus numeric functions (i64 values are BigInt). */
export type AsExports = {
  memory: WebAssembly.Memory;
  [name: string]: WebAssembly.Memory | ((...args: (number | bigint)[]) => number | bigint);
};

export type AsBuild = {
  /** The .wasm bytes. */
  binary: Uint8Array;
  /** What host-tools/wasm/inspect.ts reads from them. */
  report: WasmReport;
  /** Features outside what wasm3 runs (must be empty). */
  unsupported: WasmFeature[];
  /** One shared instance without imports, created on first use; instantiate() gives another with its own memory. */
  readonly exports: AsExports;
  /** A new instance with its own memory; `imports` for entries that import from the host. */
  instantiate(imports?: WebAssembly.Imports): AsExports;
};

const cache = new Map<string, Promise<AsBuild>>();

async function compile(entry: string): Promise<AsBuild> {
  const rel = path.relative(ROOT, path.resolve(ROOT, entry));
  const outName = "as-build-output.wasm";
  let binary: Uint8Array<ArrayBuffer> | null = null;
  const stderr = asc.createMemoryStream();
  const { error } = await asc.main(
    [rel, "--baseDir", ROOT, "--config", "asconfig.json", "--target", "release", "--outFile", outName],
    {
      stdout: asc.createMemoryStream(),
      stderr,
      writeFile(name: string, contents: Uint8Array | string) {
        if (path.basename(name) === outName && typeof contents !== "string") binary = new Uint8Array(contents);
      },
    },
  );
  if (error) throw new Error(`asc ${rel}: ${error.message}\n${stderr.toString()}`);
  if (!binary) throw new Error(`asc ${rel}: no binary written`);
  const bytes: Uint8Array<ArrayBuffer> = binary;
  const module = new WebAssembly.Module(bytes);
  const report = inspectWasm(bytes);
  const instantiate = (imports: WebAssembly.Imports = {}) =>
    new WebAssembly.Instance(module, imports).exports as unknown as AsExports;
  let shared: AsExports | null = null;
  return {
    binary: bytes,
    report,
    unsupported: unsupportedOnWasm3(report),
    get exports() { return (shared ??= instantiate()); },
    instantiate,
  };
}

/** Compiles (once per test file) the AssemblyScript entry at `entry`, a path from the repository root. */
export function buildAs(entry: string): Promise<AsBuild> {
  const key = path.resolve(ROOT, entry);
  let build = cache.get(key);
  if (!build) {
    build = compile(entry);
    cache.set(key, build);
  }
  return build;
}

/** A numeric export by name; throws when the build lacks it. */
export function fn<T extends (...args: never[]) => unknown = (...args: (number | bigint)[]) => number | bigint>(
  exports: AsExports, name: string,
): T {
  const f = exports[name];
  if (typeof f !== "function") throw new Error(`test build has no export ${name}`);
  return f as unknown as T;
}
