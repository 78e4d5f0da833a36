// Shared by the terminal summary (summary.ts) and the HTML report (html.ts): the
// metric rows, in display order, and the number formats. Both outputs show the same
// rows with the same formatting, so a number read in the terminal is the number in
// the report.
import type { RunResult, SimMetrics } from "../result.js";

/** Which way a metric is better (used to mark the better column when comparing cores). */
export type Better = "higher" | "lower" | null;

export type MetricRow = {
  group: string;
  label: string;
  value: (m: SimMetrics) => number | null;
  format: (v: number | null) => string;
  better: Better;
  /** One-line explanation (the HTML report shows it as a tooltip). */
  help: string;
  /** Shown in the terminal summary too (the HTML report shows every row). */
  short: boolean;
};

const DASH = "—";
const finite = (v: number | null): v is number => v !== null && Number.isFinite(v);

/** 0..1 as a percentage with one decimal ("98.2 %"). */
export function formatPercent(v: number | null): string {
  return finite(v) ? `${(v * 100).toFixed(1)} %` : DASH;
}

/** Milliseconds: "412 ms", "1.53 s", "2.5 min". */
export function formatMs(v: number | null): string {
  if (!finite(v)) return DASH;
  const a = Math.abs(v);
  if (a < 10) return `${v.toFixed(1)} ms`;
  if (a < 1000) return `${v.toFixed(0)} ms`;
  if (a < 120_000) return `${(v / 1000).toFixed(2)} s`;
  return `${(v / 60_000).toFixed(1)} min`;
}

/** Integer with thousands separators ("12,345"). */
export function formatInt(v: number | null): string {
  if (!finite(v)) return DASH;
  const s = Math.round(Math.abs(v)).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return v < 0 ? `-${s}` : s;
}

/** A ratio with two decimals ("3.41"). */
export function formatRatio(v: number | null): string {
  return finite(v) ? v.toFixed(2) : DASH;
}

/** Bytes as KiB with one decimal. */
export function formatKiB(v: number | null): string {
  return finite(v) ? `${(v / 1024).toFixed(1)} KiB` : DASH;
}

/** Seconds of simulated time: "45 s", "12 min", "1 h 30 min". */
export function formatDurationS(s: number): string {
  if (!Number.isFinite(s)) return DASH;
  if (s < 120) return `${+s.toFixed(1)} s`;
  if (s < 3600) return `${+(s / 60).toFixed(1)} min`;
  const h = Math.floor(s / 3600);
  const min = Math.round((s - h * 3600) / 60);
  return min ? `${h} h ${min} min` : `${h} h`;
}

/** Short name of a core: the file name of a path or URL ("node.wasm"), else the string. */
export function coreName(core: string): string {
  const tail = core.split(/[\\/]/).pop();
  return tail ? tail : core;
}

/** Column labels for runs; when two cores share a file name, the full strings are used. */
export function runLabels(runs: readonly RunResult[]): string[] {
  const names = runs.map((r) => coreName(r.core));
  return new Set(names).size === names.length ? names : runs.map((r) => r.core);
}

/** Simulated seconds per wall-clock second. */
export function speedup(r: RunResult): number {
  return r.wallMs > 0 ? (r.durationS * 1000) / r.wallMs : Infinity;
}

const row = (group: string, label: string, value: MetricRow["value"], format: MetricRow["format"], better: Better, help: string,
  short = false): MetricRow => ({ group, label, value, format, better, help, short });

export const METRIC_ROWS: readonly MetricRow[] = [
  row("Delivery", "Broadcast reachability", (m) => m.broadcastReachability, formatPercent, "higher",
    "Channel broadcasts: deliveries / nodes each could reach when sent (alive, connected within hop limit + 1 hops)", true),
  row("Delivery", "Direct delivery ratio", (m) => m.directDeliveryRatio, formatPercent, "higher",
    "Direct messages delivered to the recipient's app / direct messages the apps tried to send", true),
  row("Delivery", "Messages sent", (m) => m.messagesSent, formatInt, null, "Channel broadcasts and direct messages the apps sent", true),
  row("Delivery", "Messages delivered", (m) => m.messagesDelivered, formatInt, "higher",
    "Copies delivered to apps (a broadcast counts once per node that got it)", true),
  row("Delivery", "Channel broadcasts sent", (m) => m.broadcastsSent, formatInt, null, "Channel messages the apps sent"),
  row("Delivery", "Direct messages sent", (m) => m.directSent, formatInt, null, "Direct messages the apps sent"),
  row("Delivery", "Direct messages delivered", (m) => m.directDelivered, formatInt, "higher", "Direct messages that reached the recipient's app"),
  row("Delivery", "Direct messages acknowledged", (m) => m.directAcked, formatInt, "higher", "Direct messages the sender saw acknowledged end to end"),
  row("Delivery", "Direct sends refused", (m) => m.directRejected, formatInt, "lower", "Send commands the core refused (no contact, queue or pending table full)"),
  row("Delivery", "Channel sends refused", (m) => m.channelRejected, formatInt, "lower", "Channel send commands the core refused"),
  row("Latency", "Channel latency p50", (m) => m.channelLatencyMs.p50, formatMs, "lower", "Median time from the send command to the app event at a recipient", true),
  row("Latency", "Channel latency p95", (m) => m.channelLatencyMs.p95, formatMs, "lower", "95th percentile of the channel message latency", true),
  row("Latency", "Channel latency p99", (m) => m.channelLatencyMs.p99, formatMs, "lower", "99th percentile of the channel message latency"),
  row("Latency", "Direct latency p50", (m) => m.directLatencyMs.p50, formatMs, "lower", "Median time from the send command to the recipient's app event", true),
  row("Latency", "Direct latency p95", (m) => m.directLatencyMs.p95, formatMs, "lower", "95th percentile of the direct message latency", true),
  row("Latency", "Direct latency p99", (m) => m.directLatencyMs.p99, formatMs, "lower", "99th percentile of the direct message latency"),
  row("Air", "Frames sent", (m) => m.framesSent, formatInt, "lower", "Every frame on air (originals, relays, ACKs, retries, announces)", true),
  row("Air", "Airtime, all nodes", (m) => m.airtimeMs, formatMs, "lower", "Time on air of every frame, added up"),
  row("Air", "Transmissions per delivered", (m) => m.transmissionsPerDelivered, formatRatio, "lower", "Frames on air per delivered message copy", true),
  row("Air", "Airtime per delivered", (m) => m.airtimeMsPerDelivered, formatMs, "lower", "Time on air per delivered message copy", true),
  row("Air", "Frames per broadcast", (m) => m.channelTransmissionsPerBroadcast, formatRatio, "lower",
    "Frames of channel broadcasts on air (origin and relays) per broadcast sent"),
  row("Air", "Airtime per node", (m) => m.airtimeMsPerNode, formatMs, "lower", "Total airtime / nodes"),
  row("Air", "Airtime share per node", (m) => m.airtimeSharePerNode, formatPercent, "lower", "Airtime per node / run time (the mean duty cycle)"),
  row("Air", "Channel utilisation", (m) => m.channelUtilisation, formatPercent, "lower", "Share of the run with at least one frame on air somewhere", true),
  row("Air", "Collisions", (m) => m.collisions, formatInt, "lower", "Receptions above sensitivity destroyed by another frame", true),
  row("Air", "Half-duplex losses", (m) => m.halfDuplexLosses, formatInt, "lower", "Receptions lost because the receiver was transmitting"),
  row("Air", "Duty-cycle deferrals", (m) => m.dutyDeferrals, formatInt, "lower", "Checks at which a due frame was held back by the duty-cycle budget", true),
  row("Air", "Listen-before-talk deferrals", (m) => m.lbtDeferrals, formatInt, "lower", "Transmissions refused because the channel was busy"),
  row("Air", "Scripted announces", (m) => m.announcesScripted, formatInt, null, "Announce commands the scenario gave"),
  row("Self-healing", "Kills", (m) => m.kills, formatInt, null, "Node kills by the scenario's faults"),
  row("Self-healing", "Revivals", (m) => m.revivals, formatInt, null, "Nodes brought back by the scenario's faults"),
  row("Self-healing", "Route repairs", (m) => m.routeRepairs, formatInt, null, "A unicast hop stayed silent: the route was dropped and the frame flooded", true),
  row("Self-healing", "Routes broken by kills", (m) => m.routesBrokenByKills, formatInt, null,
    "Direct-message directions whose last delivery before a kill was relayed by a killed node"),
  row("Self-healing", "Routes repaired after kills", (m) => m.routesRepairedAfterKills, formatInt, "higher", "Of those, the directions delivered again"),
  row("Self-healing", "Time to repair", (m) => m.timeToRepairMs, formatMs, "lower",
    "From a kill to the next delivery on an affected direction, mean (— when none was affected or none recovered)", true),
  row("Self-healing", "Repair delivery latency", (m) => m.repairDeliveryLatencyMs, formatMs, "lower",
    "Send-to-delivery latency of the first message after a kill on the affected directions, mean"),
  row("Resources", "Core memory per node", (m) => m.coreMemoryBytesPerNode, formatKiB, "lower", "The node core's WebAssembly linear memory, mean over nodes", true),
];

/** The rows of the terminal summary. */
export const SHORT_METRIC_ROWS: readonly MetricRow[] = METRIC_ROWS.filter((r) => r.short);

/** Drop reasons with a count above zero in any run, largest count (over the runs) first. */
export function dropReasons(runs: readonly RunResult[]): string[] {
  const total = new Map<string, number>();
  for (const r of runs) {
    for (const [k, v] of Object.entries(r.metrics.dropsByReason ?? {})) if (v > 0) total.set(k, Math.max(total.get(k) ?? 0, v));
  }
  return [...total].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k]) => k);
}

/** Index of the better column, or -1 (no direction, a tie, or a missing value). */
export function betterColumn(values: readonly (number | null)[], better: Better): number {
  if (!better || values.length < 2 || !values.every(finite)) return -1;
  const nums = values as number[];
  const best = better === "higher" ? Math.max(...nums) : Math.min(...nums);
  const at = nums.filter((v) => v === best).length === 1 ? nums.indexOf(best) : -1;
  return at;
}
