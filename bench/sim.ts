// Simulator scale benchmark: the 1,000-node city (sim/scenarios/city.json) for one
// simulated hour, and (with BENCH_SIM_10K=1, it is long) the same city grown to
// 10,000 nodes at the same density and traffic per node for ten simulated minutes.
//
// Targets: 1,000 nodes x 1 h in under 60 s of wall time; 10,000 nodes x 10 min within
// 8 GiB of memory. Each case runs in a child process of its own, so that its peak
// memory (process.resourceUsage().maxRSS: the most resident memory the process ever
// had, node.wasm instances and JS heap together) is its own. Printed: wall time of
// runScenario, simulated seconds per wall second, peak memory, and whether the case
// met its target.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";
import { runScenario } from "../sim/run.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const fromDist = import.meta.url.includes("/dist/bench/");
const CITY = path.resolve(HERE, fromDist ? "../../sim/scenarios" : "../sim/scenarios", "city.json");
const GiB = 1024 ** 3;

export type SimBenchCase = {
  name: string;
  /** Builds the scenario from city.json. */
  scenario: (city: CityScenario) => CityScenario;
  target: { wallS?: number; memoryBytes?: number };
  /** Node flags of the child process. */
  nodeArgs: string[];
};

type CityScenario = {
  name: string; description?: string; durationS: number;
  area: { widthM: number; heightM: number };
  nodes: { count: number; [k: string]: unknown };
  traffic: { channel?: { meanIntervalS: number; [k: string]: unknown } | null; direct?: { pairs: number; [k: string]: unknown } | null };
  faults?: Array<Record<string, unknown>>;
  [k: string]: unknown;
};

/**
 * The city at 10x the nodes: the area grows by 10 (each side by sqrt 10) so the density
 * and the link graph per node stay the same, channel traffic per node stays the same
 * (meanIntervalS is per node), direct pairs grow by 10. The faults keep their shape
 * inside the shorter run: 5 % of the nodes killed at minute 4 and back at minute 7,
 * the top-right district (a third of each side, as in the city) cut off from minute 8 to 9.
 */
export function tenThousandCity(city: CityScenario): CityScenario {
  const side = Math.sqrt(10);
  const w = Math.round(city.area.widthM * side), h = Math.round(city.area.heightM * side);
  return {
    ...city,
    name: "city-10k",
    description: `city.json grown to 10,000 nodes in ${(w / 1000).toFixed(1)} x ${(h / 1000).toFixed(1)} km, 10 minutes`,
    durationS: 600,
    area: { widthM: w, heightM: h },
    nodes: { ...city.nodes, count: 10_000 },
    traffic: {
      channel: city.traffic.channel ?? null,
      direct: city.traffic.direct ? { ...city.traffic.direct, pairs: city.traffic.direct.pairs * 10 } : null,
    },
    faults: [
      { type: "kill", atS: 240, fraction: 0.05, reviveAfterS: 180 },
      { type: "partition", atS: 480, untilS: 540, area: { xM: (w * 2) / 3, yM: (h * 2) / 3, widthM: w / 3, heightM: h / 3 } },
    ],
  };
}

export const SIM_BENCH_CASES: readonly SimBenchCase[] = [
  { name: "1,000 nodes x 1 h (city.json)", scenario: (c) => c, target: { wallS: 60 }, nodeArgs: [] },
  { name: "10,000 nodes x 10 min", scenario: tenThousandCity, target: { memoryBytes: 8 * GiB }, nodeArgs: ["--max-old-space-size=8192"] },
];

export type SimBenchRow = {
  name: string;
  nodes: number;
  simulatedS: number;
  wallS: number;
  /** CPU time of the run (user + system): close to wallS unless other processes took the CPU. */
  cpuS: number;
  simSPerWallS: number;
  peakRssBytes: number;
  target: string;
  met: boolean;
  /** Set when the case was not run or failed. */
  note?: string;
};

type ChildReport = { nodes: number; simulatedS: number; wallMs: number; cpuMs: number; maxRssKiB: number };

/** In the child: runs one case and prints its report as JSON on stdout. */
async function runChild(index: number): Promise<void> {
  const c = SIM_BENCH_CASES[index];
  const city = JSON.parse(readFileSync(CITY, "utf8")) as CityScenario;
  const scenario = c.scenario(city);
  let nextTenth = 0.1;
  const cpuStart = process.cpuUsage();
  const result = await runScenario(scenario, {
    onProgress: (simS, totalS) => {
      if (simS / totalS >= nextTenth - 1e-9) {
        process.stderr.write(`  ${c.name}: ${Math.round((simS / totalS) * 100)} % simulated\n`);
        nextTenth += 0.1;
      }
    },
  });
  const report: ChildReport = {
    nodes: result.nodes.length,
    simulatedS: result.durationS,
    wallMs: result.wallMs,
    cpuMs: ((cpu) => (cpu.user + cpu.system) / 1000)(process.cpuUsage(cpuStart)),
    maxRssKiB: process.resourceUsage().maxRSS,
  };
  process.stdout.write(JSON.stringify(report) + "\n");
}

function targetText(t: SimBenchCase["target"]): string {
  const parts: string[] = [];
  if (t.wallS !== undefined) parts.push(`wall < ${t.wallS} s`);
  if (t.memoryBytes !== undefined) parts.push(`peak memory <= ${t.memoryBytes / GiB} GiB`);
  return parts.join(", ");
}

function spawnCase(index: number): Promise<ChildReport> {
  const c = SIM_BENCH_CASES[index];
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...c.nodeArgs, script, "--case", String(index)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d: string) => { out += d; });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code !== 0) { reject(new Error(`exited with ${signal ?? `code ${code}`}`)); return; }
      try {
        resolve(JSON.parse(out.trim().split("\n").pop() ?? "") as ChildReport);
      } catch {
        reject(new Error(`printed no report: ${out.slice(0, 200)}`));
      }
    });
  });
}

/** Runs the cases (the 10,000-node one only when `tenK`, default: BENCH_SIM_10K=1), each in its own process. */
export async function benchSim(opts: { tenK?: boolean } = {}): Promise<SimBenchRow[]> {
  const tenK = opts.tenK ?? process.env.BENCH_SIM_10K === "1";
  if (!fromDist) throw new Error("bench/sim.ts runs from dist (npm run bench, or node dist/bench/sim.js): it starts itself in child processes");
  const rows: SimBenchRow[] = [];
  for (let i = 0; i < SIM_BENCH_CASES.length; i++) {
    const c = SIM_BENCH_CASES[i];
    const base = { name: c.name, target: targetText(c.target) };
    if (i === 1 && !tenK) {
      rows.push({ ...base, nodes: 10_000, simulatedS: 600, wallS: NaN, cpuS: NaN, simSPerWallS: NaN, peakRssBytes: NaN, met: false, note: "not run (set BENCH_SIM_10K=1)" });
      continue;
    }
    try {
      const r = await spawnCase(i);
      const wallS = r.wallMs / 1000;
      const peak = r.maxRssKiB * 1024;
      const met = (c.target.wallS === undefined || wallS < c.target.wallS) && (c.target.memoryBytes === undefined || peak <= c.target.memoryBytes);
      rows.push({ ...base, nodes: r.nodes, simulatedS: r.simulatedS, wallS, cpuS: r.cpuMs / 1000, simSPerWallS: r.simulatedS / wallS, peakRssBytes: peak, met });
    } catch (err) {
      rows.push({ ...base, nodes: NaN, simulatedS: NaN, wallS: NaN, cpuS: NaN, simSPerWallS: NaN, peakRssBytes: NaN, met: false, note: `failed: ${(err as Error).message}` });
    }
  }
  return rows;
}

const pad = (s: string, w: number, right = false) => (right ? s.padStart(w) : s.padEnd(w));

export function formatSim(rows: readonly SimBenchRow[]): string {
  const head = ["case", "wall", "cpu", "sim s / wall s", "peak memory", "target", "met"];
  const cells = rows.map((r) => [
    r.name,
    Number.isFinite(r.wallS) ? `${r.wallS.toFixed(1)} s` : "—",
    Number.isFinite(r.cpuS) ? `${r.cpuS.toFixed(1)} s` : "—",
    Number.isFinite(r.simSPerWallS) ? r.simSPerWallS.toFixed(1) : "—",
    Number.isFinite(r.peakRssBytes) ? `${(r.peakRssBytes / GiB).toFixed(2)} GiB` : "—",
    r.target,
    r.note ?? (r.met ? "yes" : "NO"),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const right = [false, true, true, true, true, false, false];
  const line = (c: string[]) => "  " + c.map((x, i) => pad(x, widths[i], right[i])).join("   ").trimEnd();
  return [line(head), ...cells.map(line)].join("\n");
}

export function printSim(rows: readonly SimBenchRow[]): void {
  console.log(`\nMesh simulator scale (sim/: node.wasm, sim/scenarios/city.json; one process per case, peak memory = maxRSS)`);
  console.log(formatSim(rows));
  if (rows.some((r) => r.cpuS < r.wallS * 0.9)) console.log("  (cpu well under wall: other processes took the CPU, the wall time is pessimistic)");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf("--case");
  if (at >= 0) {
    await runChild(Number(process.argv[at + 1]));
  } else {
    printSim(await benchSim());
  }
}
