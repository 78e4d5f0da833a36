// JSON output of a run: the whole RunResult (every metric, the nodes, links, time
// series and the sample path). When cores are compared, the second run is kept
// whole under `compare`, so the file is still a RunResult for readers that ignore it.
//
// Layout: objects are indented, arrays of objects hold one element per line (a
// 1,000-node run stays readable and diffable without growing several-fold).
// Non-finite numbers become null, as JSON.stringify does.
import { writeFile } from "node:fs/promises";
import type { RunResult } from "../result.js";

export type ResultFile = RunResult & { compare?: RunResult };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function layout(value: unknown, indent: string): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    if (!value.some((e) => typeof e === "object" && e !== null)) return JSON.stringify(value);
    const inner = indent + "  ";
    return `[\n${value.map((e) => inner + (JSON.stringify(e) ?? "null")).join(",\n")}\n${indent}]`;
  }
  if (isPlainObject(value)) {
    const inner = indent + "  ";
    const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== "function");
    if (entries.length === 0) return "{}";
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${layout(v, inner)}`).join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** The JSON text of a run (and of the compared run, under `compare`). */
export function resultToJson(result: RunResult, compare?: RunResult): string {
  const file: ResultFile = compare ? { ...result, compare } : result;
  return layout(file, "") + "\n";
}

export async function writeResultJson(file: string, result: RunResult, compare?: RunResult): Promise<void> {
  await writeFile(file, resultToJson(result, compare));
}

function checkRun(v: unknown, where: string): RunResult {
  if (!isPlainObject(v)) throw new TypeError(`${where}: not an object`);
  for (const key of ["scenario", "core"]) if (typeof v[key] !== "string") throw new TypeError(`${where}.${key}: not a string`);
  for (const key of ["seed", "durationS", "wallMs"]) if (typeof v[key] !== "number") throw new TypeError(`${where}.${key}: not a number`);
  for (const key of ["nodes", "links", "series"]) if (!Array.isArray(v[key])) throw new TypeError(`${where}.${key}: not an array`);
  if (!isPlainObject(v.metrics)) throw new TypeError(`${where}.metrics: not an object`);
  return v as unknown as RunResult;
}

/** Reads what resultToJson wrote. Throws SyntaxError for bad JSON, TypeError for a file that is not a run. */
export function parseResultJson(text: string): { result: RunResult; compare?: RunResult } {
  const v = JSON.parse(text) as unknown;
  const result = checkRun(v, "result");
  const compare = (v as ResultFile).compare;
  if (compare === undefined) return { result };
  const { compare: _, ...primary } = v as ResultFile;
  return { result: primary as RunResult, compare: checkRun(compare, "result.compare") };
}
