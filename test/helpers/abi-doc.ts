// Reads the import/export tables of one core from firmware/ABI.md, so tests can
// hold the built .wasm to what the document promises (and the reverse).
//
// In ABI.md each core has a section `## Core: <file>.wasm`; inside it, tables
// under headings containing "Imports" or "Exports" have rows of the form
//   | `name` | `(a: i32, b: i32) -> i32` | meaning |
// (imports name their module as `env.name`).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

export type DocFunction = { name: string; params: string[]; results: string[] };
export type DocCore = { imports: DocFunction[]; exports: DocFunction[] };

export const ABI_DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../firmware/ABI.md");

function parseSignature(sig: string, where: string): { params: string[]; results: string[] } {
  const m = /^\((.*)\)\s*->\s*(.+)$/.exec(sig.trim());
  if (!m) throw new Error(`ABI.md: cannot read signature ${sig} of ${where}`);
  const params = m[1].trim() === "" ? [] : m[1].split(",").map((p) => p.split(":").pop()!.trim());
  const results = m[2].trim() === "void" ? [] : [m[2].trim()];
  return { params, results };
}

export function readAbiDoc(coreFile: string): DocCore {
  const text = readFileSync(ABI_DOC, "utf8");
  const start = text.indexOf(`## Core: ${coreFile}`);
  if (start < 0) throw new Error(`ABI.md has no section "## Core: ${coreFile}"`);
  const next = text.indexOf("\n## ", start + 1);
  const section = text.slice(start, next < 0 ? undefined : next);
  const core: DocCore = { imports: [], exports: [] };
  let list: DocFunction[] | null = null;
  for (const line of section.split("\n")) {
    if (line.startsWith("#")) {
      list = /imports/i.test(line) ? core.imports : /exports/i.test(line) ? core.exports : null;
      continue;
    }
    const row = /^\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|/.exec(line);
    if (row && list) list.push({ name: row[1], ...parseSignature(row[2], row[1]) });
  }
  return core;
}
