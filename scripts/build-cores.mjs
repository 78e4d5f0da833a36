// Compiles every WebAssembly core under firmware/cores/<name>/index.ts to
// build/cores/<name>.wasm with the shared options of asconfig.json, or with
// firmware/cores/<name>/asconfig.json when a core has one (it extends the root).
// Usage: node scripts/build-cores.mjs [name ...]   (default: all cores)
import asc from "assemblyscript/asc";
import { mkdir, readdir, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const coresDir = path.join(root, "firmware", "cores");
const outDir = path.join(root, "build", "cores");

async function listCores() {
  const names = [];
  for (const name of await readdir(coresDir)) {
    try {
      await stat(path.join(coresDir, name, "index.ts"));
      names.push(name);
    } catch { /* a shared folder without an entry point */ }
  }
  return names.sort();
}

const wanted = process.argv.slice(2);
const names = wanted.length ? wanted : await listCores();
await mkdir(outDir, { recursive: true });
let failed = false;
for (const name of names) {
  const entry = path.relative(root, path.join(coresDir, name, "index.ts"));
  const outFile = path.relative(root, path.join(outDir, `${name}.wasm`));
  const textFile = path.relative(root, path.join(outDir, `${name}.wat`));
  const own = path.join(coresDir, name, "asconfig.json");
  const config = path.relative(root, (await stat(own).catch(() => null)) ? own : path.join(root, "asconfig.json"));
  const { error, stderr } = await asc.main(
    [entry, "--config", config, "--target", "release", "--outFile", outFile, "--textFile", textFile],
    { stdout: process.stdout, stderr: process.stderr },
  );
  if (error) {
    failed = true;
    console.error(`core ${name}: ${error.message}`);
    console.error(stderr.toString());
  } else {
    const { size } = await stat(path.join(root, outFile));
    console.log(`core ${name}: ${outFile} (${size} bytes)`);
  }
}
if (failed) process.exit(1);
