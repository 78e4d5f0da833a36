// outcaxt sim [SCENARIO.json]: runs a scenario on the mesh simulator, prints a
// summary table, and writes the JSON result (--json) and the HTML report (--report).
// --compare runs the same scenario and seed with a second core and shows both.
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import cliProgress from "cli-progress";
import { DEFAULT_SCENARIO_PATH, ScenarioError, loadScenario, runScenario, type Scenario } from "../../../sim/run.js";
import type { RunResult } from "../../../sim/result.js";
import { writeHtmlReport } from "../../../sim/report/html.js";
import { writeResultJson } from "../../../sim/report/json.js";
import { formatSummary } from "../../../sim/report/summary.js";
import { coreName } from "../../../sim/report/format.js";
import { CliError, EXIT, usageError } from "../errors.js";

export type SimOptions = {
  seed?: number;
  json?: string;
  report?: string;
  core?: string;
  compare?: string;
  progress: boolean;
};

/** --seed: a non-negative integer (decimal digits only, at most 2^53 - 1). */
export function parseSeed(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError("It must be a non-negative integer, such as 1 or 42.");
  return n;
}

function requireFile(file: string, what: string): string {
  const abs = path.resolve(file);
  if (!existsSync(abs)) throw usageError(`${what} not found: ${file}`);
  if (!statSync(abs).isFile()) throw usageError(`${what} is not a file: ${file}`);
  return abs;
}

function requireWritable(file: string, what: string): string {
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw usageError(`cannot write the ${what} ${file}: folder ${dir} does not exist`);
  if (existsSync(abs) && statSync(abs).isDirectory()) throw usageError(`cannot write the ${what} ${file}: it is a folder`);
  return abs;
}

/** The message of a ScenarioError: one line per problem ("key: message"). */
function scenarioProblems(err: InstanceType<typeof ScenarioError>, file: string): string {
  const lines = err.issues.length ? err.issues.map((i) => `${i.key}: ${i.message}`) : [err.message];
  return `invalid scenario ${file}:\n${lines.map((l) => `  ${l}`).join("\n")}`;
}

/** Reads and validates the scenario: usage errors (exit 2) for a missing file, bad JSON or a ScenarioError. */
function readScenario(file: string | undefined): Scenario {
  const abs = file === undefined ? DEFAULT_SCENARIO_PATH : requireFile(file, "scenario file");
  const shown = file ?? abs;
  try {
    JSON.parse(readFileSync(abs, "utf8"));
  } catch (err) {
    if (err instanceof SyntaxError) throw usageError(`${shown} is not valid JSON: ${err.message}`);
    throw usageError(`cannot read ${shown}: ${(err as Error).message}`);
  }
  try {
    // From the file, so that a scenario without a name is named after it.
    return loadScenario(abs);
  } catch (err) {
    if (err instanceof ScenarioError) throw usageError(scenarioProblems(err, shown));
    throw err;
  }
}

/** A progress bar on stderr, or nothing when stderr is not a terminal or --no-progress is given. */
function progressBar(enabled: boolean, label: string): { update(simS: number, totalS: number): void; stop(): void } {
  if (!enabled) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: `${label} {bar} {percentage}% | {value}/{total} s simulated | ETA {eta_formatted}`,
    barsize: 30,
    // The run keeps the event loop busy, so Ctrl-C ends the process at once (no handler
    // could run): a hidden cursor would stay hidden.
    hideCursor: false,
    clearOnComplete: true,
    etaBuffer: 20,
    fps: 10,
  }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    update(simS, totalS) {
      const total = Math.max(1, Math.round(totalS));
      const value = Math.min(total, Math.max(0, Math.round(simS)));
      if (!started) { bar.start(total, value); started = true; return; }
      if (bar.getTotal() !== total) bar.setTotal(total);
      bar.update(value);
    },
    stop() { if (started) bar.stop(); },
  };
}

async function runOne(scenario: Scenario, seed: number | undefined, core: string | undefined, label: string,
  progress: boolean, shown: string): Promise<RunResult> {
  const bar = progressBar(progress, label);
  try {
    return await runScenario(scenario, { seed, core, onProgress: (simS, totalS) => bar.update(simS, totalS) });
  } catch (err) {
    if (err instanceof ScenarioError) throw usageError(scenarioProblems(err, shown));
    if (err instanceof CliError) throw err;
    throw new CliError(`the simulation failed (${label}): ${err instanceof Error ? err.message : String(err)}`, EXIT.FAILURE);
  } finally {
    bar.stop();
  }
}

export async function simAction(scenarioFile: string | undefined, opts: SimOptions): Promise<void> {
  // Check every input and output before the (possibly long) run. Cores are passed on as
  // given (the result names the core by that path).
  if (opts.core !== undefined) requireFile(opts.core, "core");
  if (opts.compare !== undefined) requireFile(opts.compare, "core to compare");
  const core = opts.core, compare = opts.compare;
  const jsonFile = opts.json === undefined ? undefined : requireWritable(opts.json, "JSON result");
  const reportFile = opts.report === undefined ? undefined : requireWritable(opts.report, "HTML report");
  const scenario = readScenario(scenarioFile);
  const progress = opts.progress && process.stderr.isTTY === true;

  const shown = scenarioFile ?? DEFAULT_SCENARIO_PATH;
  const result = await runOne(scenario, opts.seed, core, core ? coreName(core) : "node.wasm", progress, shown);
  // The compared run uses the seed the first run used (the scenario's when --seed is absent).
  const other = compare ? await runOne(scenario, result.seed, compare, coreName(compare), progress, shown) : undefined;

  process.stdout.write(formatSummary(other ? [result, other] : [result]) + "\n");
  try {
    if (jsonFile) {
      await writeResultJson(jsonFile, result, other);
      process.stdout.write(`\nJSON result: ${jsonFile}\n`);
    }
    if (reportFile) {
      await writeHtmlReport(reportFile, result, { compare: other });
      process.stdout.write(`${jsonFile ? "" : "\n"}HTML report: ${reportFile}\n`);
    }
  } catch (err) {
    throw new CliError(`cannot write the output: ${(err as Error).message}`, EXIT.FAILURE);
  }
}

export function registerSim(program: Command): void {
  program.command("sim")
    .summary("run a mesh scenario on the simulator")
    .description(
      "Runs a scenario on the mesh simulator (the real node core on a simulated LoRa channel) and prints a summary.\n" +
      "Without SCENARIO, runs the default scenario. The same scenario and seed always give the same result.")
    .argument("[scenario]", "scenario JSON file (default: the built-in default scenario)")
    .option("--seed <n>", "random seed (non-negative integer; default: the scenario's)", parseSeed)
    .option("--json <file>", "write the whole result (every metric, nodes, links, time series) as JSON")
    .option("--report <file.html>", "write a self-contained HTML report (map, charts, metric tables)")
    .option("--core <file.wasm>", "node core to run (default: build/cores/node.wasm)")
    .option("--compare <file.wasm>", "also run the same scenario and seed with this core and show both side by side")
    .option("--no-progress", "no progress bar (it is shown only when stderr is a terminal)")
    .addHelpText("after", [
      "",
      "Examples:",
      "  outcaxt sim",
      "  outcaxt sim sim/scenarios/city.json --seed 7 --report city.html",
      "  outcaxt sim --compare build/cores/node-flood.wasm --json result.json",
      "",
      "Exit codes: 0 success, 1 the run failed, 2 bad arguments or scenario.",
    ].join("\n"))
    .action(async (scenario: string | undefined, opts: SimOptions) => simAction(scenario, opts));
}
