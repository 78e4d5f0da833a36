// Terminal summary of one or more runs of the same scenario: a header line per run
// and one table with a column per core (side by side when comparing cores). It shows
// the main metrics (format.ts SHORT_METRIC_ROWS) and the drop reasons that occurred;
// the JSON result and the HTML report have every metric.
import type { RunResult } from "../result.js";
import { SHORT_METRIC_ROWS, dropReasons, formatDurationS, formatInt, runLabels, speedup } from "./format.js";
import { storageRows } from "./storage.js";

/** Display width of a string (every code point counts one column: the table uses no wide characters). */
const width = (s: string) => [...s].length;
const padEnd = (s: string, w: number) => s + " ".repeat(Math.max(0, w - width(s)));
const padStart = (s: string, w: number) => " ".repeat(Math.max(0, w - width(s))) + s;

/** One line describing a run: nodes, simulated time, wall time and speed. */
export function runLine(r: RunResult, label = r.core): string {
  const dead = r.nodes.filter((n) => !n.alive).length;
  const mobile = r.nodes.filter((n) => n.mobile).length;
  const extra = [dead ? `${dead} dead` : "", mobile ? `${mobile} mobile` : ""].filter(Boolean).join(", ");
  const s = speedup(r);
  const speed = Number.isFinite(s) ? `, ${s >= 100 ? s.toFixed(0) : s.toPrecision(3)}x real time` : "";
  return `${label}: ${formatInt(r.nodes.length)} nodes${extra ? ` (${extra})` : ""}, ` +
    `${formatDurationS(r.durationS)} simulated in ${(r.wallMs / 1000).toFixed(1)} s${speed}`;
}

/**
 * The summary table. `runs` are runs of one scenario and seed with different cores;
 * the first is the primary one.
 */
export function formatSummary(runs: readonly RunResult[]): string {
  if (runs.length === 0) throw new RangeError("formatSummary needs at least one run");
  const first = runs[0];
  const labels = runLabels(runs);
  const rows: Array<{ group?: string; label: string; cells: string[] }> = [];
  let group = "";
  for (const row of SHORT_METRIC_ROWS) {
    if (row.group !== group) { group = row.group; rows.push({ group, label: group, cells: [] }); }
    rows.push({ label: row.label, cells: runs.map((r) => row.format(row.value(r.metrics))) });
  }
  const reasons = dropReasons(runs);
  if (reasons.length) {
    rows.push({ group: "Drops by reason", label: "Drops by reason", cells: [] });
    for (const reason of reasons) {
      rows.push({ label: reason, cells: runs.map((r) => formatInt(r.metrics.dropsByReason?.[reason] ?? 0)) });
    }
  }

  const labelWidth = Math.max(width("metric"), ...rows.map((r) => width(r.label) + (r.group ? 0 : 2)));
  const colWidths = labels.map((l, i) => Math.max(width(l), ...rows.map((r) => width(r.cells[i] ?? ""))));
  const total = labelWidth + colWidths.reduce((a, w) => a + 3 + w, 0);
  const out: string[] = [];
  out.push(`Scenario ${first.scenario}, seed ${first.seed}`);
  for (let i = 0; i < runs.length; i++) out.push(`  ${runLine(runs[i], labels[i])}`);
  out.push("");
  out.push(padEnd("metric", labelWidth) + labels.map((l, i) => "   " + padStart(l, colWidths[i])).join(""));
  out.push("─".repeat(total));
  for (const r of rows) {
    if (r.group) { out.push(r.group); continue; }
    out.push(padEnd(`  ${r.label}`, labelWidth) + r.cells.map((c, i) => "   " + padStart(c, colWidths[i])).join(""));
  }
  // Storage (the first run's): label and value, left-aligned (the values are phrases).
  const storage = storageRows(first);
  if (storage.length) {
    const w = Math.max(...storage.map((r) => width(r.label))) + 2;
    let group = "";
    out.push("");
    for (const r of storage) {
      if (r.group !== group) { group = r.group; out.push(runs.length > 1 ? `${group} (${labels[0]})` : group); }
      out.push(padEnd(`  ${r.label}`, w + 2) + "   " + r.value);
    }
  }
  return out.join("\n");
}
