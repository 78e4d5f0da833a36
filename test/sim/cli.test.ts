// The built `outcaxt` CLI (dist/host-tools/cli/index.js), run as a user runs it:
// `outcaxt sim` on the default scenario with --json and --report, --compare, the
// errors and exit codes (0 success, 1 runtime failure, 2 usage), and --help. The
// report it writes is opened in headless Chromium (unless OUTCAXT_SKIP_BROWSER=1).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunResult } from "../../sim/result.js";
import { SKIP_BROWSER, browserUnavailable, launchChromium, openFile, readReport } from "../helpers/chromium.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = path.join(ROOT, "dist/host-tools/cli/index.js");
const FLOOD_CORE = path.join(ROOT, "build/cores/node-flood.wasm");
/** The default scenario (sim/scenarios/default.json): name, seed and node count as the file says. */
const DEFAULT = JSON.parse(readFileSync(path.join(ROOT, "sim/scenarios/default.json"), "utf8")) as { name: string; seed: number; nodes: { count: number } };

type Run = { code: number | null; stdout: string; stderr: string };

/** Runs the CLI in the repository root, stdin closed, stdout and stderr piped (not terminals). */
function outcaxt(...args: string[]): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000, stdio: ["ignore", "pipe", "pipe"] });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir = "";

beforeAll(() => {
  // npm install / npm ci build dist (the "prepare" script); build it here only if it is missing.
  if (!existsSync(CLI)) {
    const b = spawnSync("npm", ["run", "build:ts"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    if (b.status !== 0) throw new Error(`npm run build:ts failed:\n${b.stdout}\n${b.stderr}`);
  }
  dir = mkdtempSync(path.join(tmpdir(), "outcaxt-cli-"));
}, 180_000);

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe("outcaxt sim on the default scenario", () => {
  let run: Run;
  let json: RunResult;
  const jsonFile = () => path.join(dir, "result.json");
  const reportFile = () => path.join(dir, "report.html");

  beforeAll(() => {
    run = outcaxt("sim", "--json", jsonFile(), "--report", reportFile());
    if (run.code === 0) json = JSON.parse(readFileSync(jsonFile(), "utf8")) as RunResult;
  }, 120_000);

  it("exits 0 and prints the summary table, with no progress bar when stderr is not a terminal", () => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.startsWith(`Scenario ${DEFAULT.name}, seed ${DEFAULT.seed}\n`)).toBe(true);
    expect(run.stdout).toContain(`node.wasm: ${DEFAULT.nodes.count} nodes`);
    expect(run.stdout).toMatch(/Broadcast reachability\s+\d+\.\d %/);
    expect(run.stdout).toMatch(/Core memory per node\s+\d+\.\d KiB/);
    expect(run.stdout).toContain(`JSON result: ${jsonFile()}`);
    expect(run.stdout).toContain(`HTML report: ${reportFile()}`);
    expect(run.stderr).toBe("");
  });

  it("writes the whole RunResult as JSON", () => {
    expect(Object.keys(json).sort()).toEqual(["core", "durationS", "links", "metrics", "nodes", "samplePath", "scenario", "seed", "series", "wallMs"]);
    expect(json.scenario).toBe(DEFAULT.name);
    expect(json.seed).toBe(DEFAULT.seed);
    expect(json.nodes).toHaveLength(DEFAULT.nodes.count);
    expect(json.links.length).toBeGreaterThan(0);
    expect(json.series.length).toBeGreaterThan(0);
    for (const key of ["broadcastReachability", "directDeliveryRatio", "channelLatencyMs", "directLatencyMs", "transmissionsPerDelivered",
      "airtimeMsPerDelivered", "channelUtilisation", "collisions", "dutyDeferrals", "routeRepairs", "timeToRepairMs",
      "coreMemoryBytesPerNode", "dropsByReason", "framesSent", "messagesSent", "messagesDelivered"]) {
      expect(json.metrics, key).toHaveProperty(key);
    }
    expect(json.metrics.messagesSent).toBeGreaterThan(0);
  });

  it("writes a self-contained HTML report with one circle per node", () => {
    const html = readFileSync(reportFile(), "utf8");
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html.match(/<circle class="node /g)).toHaveLength(json.nodes.length);
    expect(html.match(/<line class="link /g)).toHaveLength(json.links.length);
    expect(html).not.toMatch(/<script|<link /i);
  });

  it.skipIf(SKIP_BROWSER)("renders the report in headless Chromium without errors or network requests", async () => {
    const why = browserUnavailable();
    if (why) throw new Error(why);
    const browser = await launchChromium();
    try {
      const { page, requests, errors, fileUrl } = await openFile(browser, reportFile());
      const seen = await readReport(page);
      expect(seen.circles).toBe(json.nodes.length);
      expect(seen.links).toBe(json.links.length);
      expect(seen.dead.length).toBe(json.nodes.filter((n) => !n.alive).length);
      if (json.samplePath) expect(seen.pathSegments).toBeGreaterThan(0);
      expect(seen.chartPaths.length).toBeGreaterThanOrEqual(4);
      for (const p of seen.chartPaths) expect(p.d).toMatch(/^M/);
      expect(errors).toEqual([]);
      expect(requests).toEqual([fileUrl]);
    } finally {
      await browser.close();
    }
  });

  it("gives the same result for the same seed, another for another seed", () => {
    const again = path.join(dir, "again.json");
    const other = path.join(dir, "other.json");
    expect(outcaxt("sim", "--json", again).code).toBe(0);
    expect(outcaxt("sim", "--seed", String(DEFAULT.seed + 1), "--json", other).code).toBe(0);
    const strip = (r: RunResult) => ({ ...r, wallMs: 0 });
    const a = JSON.parse(readFileSync(again, "utf8")) as RunResult;
    const b = JSON.parse(readFileSync(other, "utf8")) as RunResult;
    expect(strip(a)).toEqual(strip(json));
    expect(b.seed).toBe(DEFAULT.seed + 1);
    expect(b.nodes.map((n) => [n.xM, n.yM])).not.toEqual(json.nodes.map((n) => [n.xM, n.yM]));
  });
});

describe("outcaxt sim --compare", () => {
  it("runs the same scenario and seed with both cores and shows them side by side", () => {
    const jsonFile = path.join(dir, "compare.json");
    const reportFile = path.join(dir, "compare.html");
    const run = outcaxt("sim", "--seed", "3", "--compare", FLOOD_CORE, "--json", jsonFile, "--report", reportFile);
    expect(run.code, run.stderr).toBe(0);
    const header = run.stdout.split("\n").find((l) => l.startsWith("metric"));
    expect(header).toMatch(/node\.wasm\s+node-flood\.wasm$/);
    expect(run.stdout).toContain(`node-flood.wasm: ${DEFAULT.nodes.count} nodes`);
    const v = JSON.parse(readFileSync(jsonFile, "utf8")) as RunResult & { compare: RunResult };
    expect(v.seed).toBe(3);
    expect(v.compare.seed).toBe(3);
    expect(v.compare.core).toBe(FLOOD_CORE);
    expect(v.compare.nodes.map((n) => n.index)).toEqual(v.nodes.map((n) => n.index));
    const html = readFileSync(reportFile, "utf8");
    expect(html).toContain(`<th scope="col" class="num">node.wasm</th><th scope="col" class="num">node-flood.wasm</th>`);
  }, 120_000);
});

describe("outcaxt errors and exit codes", () => {
  it("exits 2 naming the key for a scenario with an unknown key", () => {
    const file = path.join(dir, "unknown-key.json");
    writeFileSync(file, JSON.stringify({ name: "bad", durationS: 60, area: { widthM: 1000, heightM: 1000 }, nodes: { count: 5 }, colour: "red" }));
    const run = outcaxt("sim", file);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`outcaxt: error: invalid scenario ${file}:`);
    expect(run.stderr).toMatch(/^ {2}colour: .*unknown/m);
    expect(run.stdout).toBe("");
  });

  it("exits 2 for a missing scenario file", () => {
    const run = outcaxt("sim", "no/such/scenario.json");
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("outcaxt: error: scenario file not found: no/such/scenario.json\n");
  });

  it("exits 2 for a scenario that is not JSON", () => {
    const file = path.join(dir, "broken.json");
    writeFileSync(file, '{ "name": "x", ');
    const run = outcaxt("sim", file);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`outcaxt: error: ${file} is not valid JSON:`);
  });

  it("exits 2 for a bad --seed, an unknown option or command, a missing core or output folder", () => {
    for (const seed of ["abc", "-1", "1.5", "1e3"]) {
      const run = outcaxt("sim", "--seed", seed);
      expect(run.code, seed).toBe(2);
      expect(run.stderr).toContain(`argument '${seed}' is invalid. It must be a non-negative integer`);
    }
    const unknown = outcaxt("sim", "--frobnicate");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--frobnicate'");
    expect(outcaxt("frobnicate").code).toBe(2);
    const core = outcaxt("sim", "--core", "no/such/core.wasm");
    expect(core.code).toBe(2);
    expect(core.stderr).toContain("core not found: no/such/core.wasm");
    const out = outcaxt("sim", "--report", path.join(dir, "missing-folder", "r.html"));
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("folder");
    expect(out.stderr).toContain("does not exist");
  });

  it("exits 1 when the run itself fails (a core that is not WebAssembly)", () => {
    const core = path.join(dir, "not-a-core.wasm");
    writeFileSync(core, "this is not wasm");
    const run = outcaxt("sim", "--core", core);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^outcaxt: error: the simulation failed \(not-a-core\.wasm\): /);
  });

  it("shows help on every command and exits 0", () => {
    for (const args of [["--help"], ["sim", "--help"], ["help", "sim"]]) {
      const run = outcaxt(...args);
      expect(run.code, args.join(" ")).toBe(0);
      expect(run.stdout).toMatch(/^Usage: outcaxt/);
    }
    expect(outcaxt("--help").stdout).toMatch(/sim \[options\] \[scenario\]\s+run a mesh scenario/);
    const sim = outcaxt("sim", "--help").stdout;
    for (const opt of ["--seed <n>", "--json <file>", "--report <file.html>", "--core <file.wasm>", "--compare <file.wasm>"]) {
      expect(sim).toContain(opt);
    }
    expect(outcaxt("--version").stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("without a command prints the help on stderr and exits 2", () => {
    const run = outcaxt();
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^Usage: outcaxt/);
  });
});
