// HTML report of a run: one self-contained page (inline CSS and SVG, no script, no
// network: a Content-Security-Policy forbids every fetch) with
// - a map: every node at its coordinates (north up, metres to pixels at one scale),
//   links coloured by SNR with a legend, dead nodes greyed and crossed out, mobile
//   nodes outlined, and the sample message's path drawn hop by hop;
// - time series as SVG line charts: messages sent and delivered, channel
//   utilisation and route repairs over simulated time;
// - the metric table (one column per core when comparing), drops by reason, the
//   sample message's hops and the nodes that were killed.
// Every string taken from the result is escaped.
import { writeFile } from "node:fs/promises";
import type { MessagePath, RunResult, SeriesPoint, SimLink, SimNode } from "../result.js";
import { storageRows } from "./storage.js";
import {
  METRIC_ROWS, betterColumn, coreName, dropReasons, formatDurationS, formatInt, formatMs, runLabels, speedup,
} from "./format.js";

export type HtmlReportOptions = {
  /** A run of the same scenario and seed with another core, shown beside the first. */
  compare?: RunResult;
  /** Page title (default: "Outcaxt simulation: <scenario>"). */
  title?: string;
};

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for HTML/SVG content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}
const esc = escapeHtml;

/** A coordinate with one decimal (enough at screen scale, keeps big maps small). */
const c = (v: number) => (Math.round(v * 10) / 10).toString();

// ------------------------------------------------------------------ SNR scale

/** Link colour bins, strongest first: SNR at or above `minDb`. LongFast (SF11) decodes down to -17.5 dB. */
export const SNR_BINS: ReadonlyArray<{ minDb: number; color: string; label: string }> = [
  { minDb: 5, color: "#1a9641", label: "≥ 5 dB" },
  { minDb: 0, color: "#73c455", label: "0 to 5 dB" },
  { minDb: -5, color: "#e6b800", label: "−5 to 0 dB" },
  { minDb: -10, color: "#f07c28", label: "−10 to −5 dB" },
  { minDb: -Infinity, color: "#d7191c", label: "< −10 dB" },
];

export function snrBin(snrDb: number): number {
  const i = SNR_BINS.findIndex((b) => snrDb >= b.minDb);
  return i < 0 ? SNR_BINS.length - 1 : i;
}

/** Node colours: the scenario roles (sim/scenario.ts) always get the same colour, other roles the next ones. */
const ROLE_COLORS = ["#2b6cb0", "#805ad5", "#dd6b20", "#319795", "#b83280", "#2f855a", "#975a16", "#4a5568"];
const KNOWN_ROLES = ["client", "router", "mute"];
const DEAD_FILL = "#a0aec0";
const PATH_COLOR = "#1c3faa";
/** Series colours by quantity; the compared run uses the same colour, dashed. */
const SERIES_COLORS = { ratio: "#2f855a", sent: "#718096", delivered: "#2b6cb0", utilisation: "#dd6b20", repairs: "#b83280" };

// ------------------------------------------------------------------ map

type Projection = { width: number; height: number; x: (xM: number) => number; y: (yM: number) => number; pxPerM: number };

const MAP_MAX_W = 1060;
const MAP_MAX_H = 800;
/** Links drawn at most: beyond it the strongest are drawn (a 10,000-node map would otherwise weigh ~50 MB). */
export const MAX_DRAWN_LINKS = 60_000;
const MAP_PAD = 24;

function project(nodes: readonly SimNode[]): Projection {
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (const n of nodes) {
    minX = Math.min(minX, n.xM); maxX = Math.max(maxX, n.xM);
    minY = Math.min(minY, n.yM); maxY = Math.max(maxY, n.yM);
  }
  if (!Number.isFinite(minX)) { minX = 0; maxX = 1000; minY = 0; maxY = 1000; }
  // Leave room around a single node or a line of nodes.
  const span = Math.max(maxX - minX, maxY - minY, 200);
  if (maxX - minX < span / 20) { minX -= span / 20; maxX += span / 20; }
  if (maxY - minY < span / 20) { minY -= span / 20; maxY += span / 20; }
  const spanX = maxX - minX, spanY = maxY - minY;
  const pxPerM = Math.min((MAP_MAX_W - 2 * MAP_PAD) / spanX, (MAP_MAX_H - 2 * MAP_PAD) / spanY);
  return {
    width: Math.ceil(spanX * pxPerM + 2 * MAP_PAD),
    height: Math.ceil(spanY * pxPerM + 2 * MAP_PAD) + 28, // room for the scale bar
    x: (xM) => MAP_PAD + (xM - minX) * pxPerM,
    y: (yM) => MAP_PAD + (maxY - yM) * pxPerM,
    pxPerM,
  };
}

/** 1, 2 or 5 times a power of ten, at most `max`. */
function niceBelow(max: number): number {
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [5, 2, 1]) if (m * p <= max) return m * p;
  return p;
}

const formatDistance = (m: number) => (m >= 1000 ? `${+(m / 1000).toFixed(1)} km` : `${+m.toFixed(0)} m`);

type UndirectedLink = { a: number; b: number; snrDb: number; snrs: string };

/** One line per pair of nodes: links given in both directions are merged (coloured by the better SNR). */
function mergeLinks(links: readonly SimLink[], known: Map<number, SimNode>): UndirectedLink[] {
  const pairs = new Map<string, { a: number; b: number; dirs: Array<{ from: number; to: number; snrDb: number }> }>();
  for (const l of links) {
    if (!known.has(l.a) || !known.has(l.b) || l.a === l.b || !Number.isFinite(l.snrDb)) continue;
    const [a, b] = l.a < l.b ? [l.a, l.b] : [l.b, l.a];
    const key = `${a}-${b}`;
    let p = pairs.get(key);
    if (!p) pairs.set(key, (p = { a, b, dirs: [] }));
    p.dirs.push({ from: l.a, to: l.b, snrDb: l.snrDb });
  }
  const out: UndirectedLink[] = [];
  for (const p of pairs.values()) {
    const best = Math.max(...p.dirs.map((d) => d.snrDb));
    const snrs = p.dirs.map((d) => `${d.from} → ${d.to}: ${d.snrDb.toFixed(1)} dB`).join(", ");
    out.push({ a: p.a, b: p.b, snrDb: best, snrs });
  }
  // Weak links first, so strong ones are drawn on top.
  return out.sort((x, y) => x.snrDb - y.snrDb);
}

/**
 * The nodes the sample message went through, in order: the sender, every node that
 * transmitted the copy, and the node it reached (`to`: the recipient of a direct message,
 * the node a broadcast's sample copy reached).
 */
export function pathNodes(path: MessagePath): number[] {
  const seq: number[] = [path.from];
  for (const h of path.hops) if (seq[seq.length - 1] !== h.from) seq.push(h.from);
  if (path.to !== undefined && path.to !== null && seq[seq.length - 1] !== path.to) seq.push(path.to);
  return seq;
}

function describeNode(n: SimNode): string {
  const parts = [`node ${n.index}`, n.role, `(${n.xM.toFixed(0)} m, ${n.yM.toFixed(0)} m)`];
  if (n.mobile) parts.push("mobile");
  const killed = n.killedAtS !== undefined ? ` (killed at ${n.killedAtS.toFixed(1)} s)` : "";
  if (!n.alive) parts.push(`dead${killed}`);
  else if (killed) parts.push(`revived${killed}`);
  return parts.join(", ");
}

/** Colour index of every role present, known roles first. */
function roleIndex(nodes: readonly SimNode[]): Map<string, number> {
  const present = new Set(nodes.map((n) => n.role));
  const roles = new Map<string, number>();
  KNOWN_ROLES.forEach((role, i) => { if (present.has(role)) roles.set(role, i); });
  let next = KNOWN_ROLES.length;
  for (const n of nodes) if (!roles.has(n.role)) roles.set(n.role, next++);
  return roles;
}

function renderMap(r: RunResult): string {
  const nodes = r.nodes;
  if (nodes.length === 0) return `<p class="empty">This run has no nodes.</p>`;
  const known = new Map(nodes.map((n) => [n.index, n]));
  const p = project(nodes);
  const roles = roleIndex(nodes);
  const allLinks = mergeLinks(r.links, known);
  // Sorted weak to strong: the strongest are at the end.
  const links = allLinks.length > MAX_DRAWN_LINKS ? allLinks.slice(allLinks.length - MAX_DRAWN_LINKS) : allLinks;
  const radius = Math.max(2, Math.min(7, 130 / Math.sqrt(nodes.length)));
  // Dense maps get thinner, fainter links so that the nodes stay visible.
  const linkWidth = links.length > 5000 ? 0.5 : links.length > 1000 ? 0.8 : 1.2;
  const linkOpacity = Math.min(0.6, Math.max(0.12, 0.6 * Math.sqrt(2000 / Math.max(1, links.length))));
  const linkTitles = links.length <= 20_000;
  const out: string[] = [];
  out.push(`<svg id="map" class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${p.width} ${p.height}" ` +
    `width="${p.width}" height="${p.height}" role="img" aria-label="Map of ${nodes.length} nodes and ${allLinks.length} links">`);
  out.push(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="4" markerHeight="4" orient="auto-start-reverse">` +
    `<path d="M0,0 L10,5 L0,10 z" fill="${PATH_COLOR}"/></marker></defs>`);
  out.push(`<rect class="map-bg" x="0" y="0" width="${p.width}" height="${p.height}"/>`);

  out.push(`<g class="links" stroke-width="${linkWidth}" stroke-opacity="${linkOpacity.toFixed(2)}">`);
  for (const l of links) {
    const a = known.get(l.a)!, b = known.get(l.b)!;
    const title = linkTitles ? `<title>${esc(`link ${l.a} – ${l.b}: ${l.snrs}`)}</title>` : "";
    out.push(`<line class="link snr${snrBin(l.snrDb)}" data-a="${l.a}" data-b="${l.b}" x1="${c(p.x(a.xM))}" y1="${c(p.y(a.yM))}" ` +
      `x2="${c(p.x(b.xM))}" y2="${c(p.y(b.yM))}">${title}</line>`);
  }
  out.push(`</g>`);

  // The sample message's path, under the nodes so that the nodes stay readable.
  const path = r.samplePath;
  if (path) {
    const seq = pathNodes(path).filter((i) => known.has(i));
    out.push(`<g class="sample-path">`);
    for (let k = 1; k < seq.length; k++) {
      const a = known.get(seq[k - 1])!, b = known.get(seq[k])!;
      const x1 = p.x(a.xM), y1 = p.y(a.yM), x2 = p.x(b.xM), y2 = p.y(b.yM);
      const len = Math.hypot(x2 - x1, y2 - y1);
      // Stop the arrow at the edge of the next node's circle.
      const cut = len > radius * 2 ? (len - radius - 1.5) / len : 1;
      const ends = `x1="${c(x1)}" y1="${c(y1)}" x2="${c(x1 + (x2 - x1) * cut)}" y2="${c(y1 + (y2 - y1) * cut)}"`;
      out.push(`<line class="path-halo" ${ends}/><line class="path-seg" marker-end="url(#arrow)" ${ends}>` +
        `<title>${esc(`hop ${k}: node ${seq[k - 1]} → node ${seq[k]}`)}</title></line>`);
    }
    out.push(`</g>`);
  }

  out.push(`<g class="nodes">`);
  const deadMarks: string[] = [];
  for (const n of nodes) {
    const x = p.x(n.xM), y = p.y(n.yM);
    const cls = ["node", `role${roles.get(n.role)! % ROLE_COLORS.length}`];
    if (!n.alive) cls.push("dead");
    if (n.mobile) cls.push("mobile");
    out.push(`<circle class="${cls.join(" ")}" data-index="${n.index}" cx="${c(x)}" cy="${c(y)}" r="${c(radius)}">` +
      `<title>${esc(describeNode(n))}</title></circle>`);
    if (!n.alive) {
      const d = radius * 1.25;
      deadMarks.push(`<path class="dead-mark" data-index="${n.index}" d="M${c(x - d)},${c(y - d)} L${c(x + d)},${c(y + d)} ` +
        `M${c(x - d)},${c(y + d)} L${c(x + d)},${c(y - d)}"/>`);
    }
  }
  out.push(`</g><g class="dead-marks">${deadMarks.join("")}</g>`);

  if (path) {
    const seq = pathNodes(path).filter((i) => known.has(i));
    out.push(`<g class="path-labels">`);
    seq.forEach((i, k) => {
      const n = known.get(i)!;
      const label = k === 0 ? "S" : path.to !== undefined && path.to !== null && k === seq.length - 1 ? "D" : String(k);
      out.push(`<text class="path-label" x="${c(p.x(n.xM) + radius + 2)}" y="${c(p.y(n.yM) - radius - 2)}">${esc(label)}</text>`);
    });
    out.push(`</g>`);
  }

  // Scale bar, bottom left.
  const barM = niceBelow((p.width - 2 * MAP_PAD) / 4 / p.pxPerM);
  const barPx = barM * p.pxPerM;
  const by = p.height - 14;
  out.push(`<g class="scale"><path d="M${MAP_PAD},${by - 5} V${by} H${c(MAP_PAD + barPx)} V${by - 5}"/>` +
    `<text x="${c(MAP_PAD + barPx + 6)}" y="${by + 1}">${esc(formatDistance(barM))}</text>` +
    `<text class="north" x="${p.width - MAP_PAD}" y="${by + 1}" text-anchor="end">north ↑</text></g>`);
  out.push(`</svg>`);

  const swatchLine = (color: string) =>
    `<svg class="swatch" width="26" height="10" aria-hidden="true"><line x1="1" y1="5" x2="25" y2="5" stroke="${color}" stroke-width="3"/></svg>`;
  const swatchDot = (fill: string) =>
    `<svg class="swatch" width="14" height="14" aria-hidden="true"><circle cx="7" cy="7" r="5" fill="${fill}"/></svg>`;
  const legend: string[] = [];
  legend.push(`<div class="legend-group"><span class="legend-title">Link SNR</span>` +
    SNR_BINS.map((b) => `<span class="legend-item">${swatchLine(b.color)}${esc(b.label)}</span>`).join("") + `</div>`);
  const roleCounts = new Map<string, number>();
  for (const n of nodes) roleCounts.set(n.role, (roleCounts.get(n.role) ?? 0) + 1);
  const dead = nodes.filter((n) => !n.alive).length;
  const mobile = nodes.filter((n) => n.mobile).length;
  legend.push(`<div class="legend-group"><span class="legend-title">Nodes</span>` +
    [...roles].map(([role, i]) => `<span class="legend-item">${swatchDot(ROLE_COLORS[i % ROLE_COLORS.length])}` +
      `${esc(role)} (${formatInt(roleCounts.get(role)!)})</span>`).join("") +
    (dead ? `<span class="legend-item"><svg class="swatch" width="14" height="14" aria-hidden="true"><circle cx="7" cy="7" r="5" fill="${DEAD_FILL}"/>` +
      `<path d="M1,1 L13,13 M1,13 L13,1" stroke="#c53030" stroke-width="2"/></svg>dead (${formatInt(dead)})</span>` : "") +
    (mobile ? `<span class="legend-item"><svg class="swatch" width="14" height="14" aria-hidden="true"><circle cx="7" cy="7" r="5" fill="#fff" ` +
      `stroke="#1a202c" stroke-width="2" stroke-dasharray="2 1.5"/></svg>mobile (${formatInt(mobile)})</span>` : "") + `</div>`);
  if (path) {
    legend.push(`<div class="legend-group"><span class="legend-title">Sample message</span><span class="legend-item">` +
      `${swatchLine(PATH_COLOR)}S sender, then 1, 2… the relays in order${path.to !== undefined && path.to !== null ? ", D the node it reached" : ""}</span></div>`);
  }
  const capped = links.length < allLinks.length
    ? `<p class="note">${esc(`Showing the ${formatInt(links.length)} strongest of ${formatInt(allLinks.length)} links.`)}</p>` : "";
  return out.join("\n") + `\n<div class="legend">${legend.join("")}</div>${capped}`;
}

// ------------------------------------------------------------------ charts

type ChartLine = { name: string; color: string; dashed: boolean; points: Array<[number, number]> };

/** Tick step of 1, 2 or 5 times a power of ten giving about `count` ticks over `range`. */
export function niceStep(range: number, count: number): number {
  if (!(range > 0)) return 1;
  const raw = range / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/** Time axis unit for a run length: seconds up to 3 min, minutes up to 3 h, then hours. */
function timeUnit(maxS: number): { div: number; suffix: string } {
  if (maxS <= 180) return { div: 1, suffix: "s" };
  if (maxS <= 3 * 3600) return { div: 60, suffix: "min" };
  return { div: 3600, suffix: "h" };
}

const CHART_W = 520, CHART_H = 230;
const M = { left: 58, right: 14, top: 12, bottom: 36 };

/**
 * An SVG line chart over simulated time. The y axis starts at 0 and ends at `yFixedTop`,
 * or at a nice value above the data (at least `yMinTop`); counts get whole-number ticks.
 */
function lineChart(id: string, title: string, yLabel: string, lines: ChartLine[], xMaxS: number, yFormat: (v: number) => string,
  opts: { yMinTop?: number; yFixedTop?: number; integer?: boolean } = {}): string {
  const { yMinTop = 1, yFixedTop, integer = false } = opts;
  const withData = lines.filter((l) => l.points.some(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  const head = `<figure class="chart" id="${esc(id)}"><figcaption>${esc(title)}</figcaption>`;
  if (withData.length === 0) return `${head}<p class="empty">No time series in this run.</p></figure>`;
  let xMax = xMaxS > 0 ? xMaxS : 0;
  let yMax = 0;
  for (const l of withData) for (const [x, y] of l.points) { xMax = Math.max(xMax, x); if (Number.isFinite(y)) yMax = Math.max(yMax, y); }
  if (!(xMax > 0)) xMax = 1;
  const yStep = Math.max(integer ? 1 : 0, niceStep(yFixedTop ?? Math.max(yMax, yMinTop), 4));
  const yTop = yFixedTop ?? Math.max(yStep, Math.ceil(yMax / yStep - 1e-9) * yStep);
  const pw = CHART_W - M.left - M.right, ph = CHART_H - M.top - M.bottom;
  const sx = (x: number) => M.left + (x / xMax) * pw;
  // 4 % headroom, so a line at the top value stays clear of the frame.
  const sy = (y: number) => M.top + ph - (Math.max(0, y) / (yTop * 1.04)) * ph;
  const unit = timeUnit(xMax);
  const xStep = niceStep(xMax / unit.div, 6) * unit.div;
  const out: string[] = [head];
  out.push(`<svg class="chart-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${CHART_W} ${CHART_H}" width="${CHART_W}" height="${CHART_H}" ` +
    `role="img" aria-label="${esc(title)}">`);
  out.push(`<g class="grid">`);
  for (let y = 0; y <= yTop * (1 + 1e-9); y += yStep) {
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${c(sy(y))}" y2="${c(sy(y))}"/>`);
  }
  out.push(`</g><g class="axis">`);
  for (let y = 0; y <= yTop * (1 + 1e-9); y += yStep) {
    out.push(`<text x="${M.left - 6}" y="${c(sy(y) + 4)}" text-anchor="end">${esc(yFormat(y))}</text>`);
  }
  for (let x = 0; x <= xMax * (1 + 1e-9); x += xStep) {
    out.push(`<line x1="${c(sx(x))}" x2="${c(sx(x))}" y1="${M.top + ph}" y2="${M.top + ph + 4}"/>` +
      `<text x="${c(sx(x))}" y="${M.top + ph + 16}" text-anchor="middle">${esc(+(x / unit.div).toFixed(2))}</text>`);
  }
  out.push(`<path class="frame" d="M${M.left},${M.top} V${M.top + ph} H${M.left + pw}"/>`);
  out.push(`<text class="axis-label" x="${M.left + pw / 2}" y="${CHART_H - 4}" text-anchor="middle">simulated time (${unit.suffix})</text>`);
  out.push(`<text class="axis-label" transform="translate(12 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  out.push(`</g>`);
  for (const l of withData) {
    // A point without a value (NaN) breaks the line.
    const parts: string[] = [];
    let pen = false;
    for (const [x, y] of l.points) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) { pen = false; continue; }
      parts.push(`${pen ? "L" : "M"}${c(sx(x))},${c(sy(y))}`);
      pen = true;
    }
    if (parts.length === 0) continue;
    const lone = (i: number) => parts[i].startsWith("M") && (i === parts.length - 1 || parts[i + 1].startsWith("M"));
    const d = parts.map((p, i) => (lone(i) ? `${p} h0` : p)).join(" ");
    out.push(`<path class="series" data-series="${esc(l.name)}" d="${d}" stroke="${l.color}"${l.dashed ? ` stroke-dasharray="6 4"` : ""}>` +
      `<title>${esc(l.name)}</title></path>`);
    // A sample between two gaps is a dot.
    const dots = parts.filter((_, i) => lone(i)).map((p) => `${p} h0`).join(" ");
    if (dots) out.push(`<path class="series-dots" d="${dots}" stroke="${l.color}"/>`);
  }
  out.push(`</svg>`);
  out.push(`<div class="legend chart-legend">` + withData.map((l) =>
    `<span class="legend-item"><svg class="swatch" width="26" height="10" aria-hidden="true"><line x1="1" y1="5" x2="25" y2="5" ` +
    `stroke="${l.color}" stroke-width="2.5"${l.dashed ? ` stroke-dasharray="6 4"` : ""}/></svg>${esc(l.name)}</span>`).join("") + `</div>`);
  out.push(`</figure>`);
  return out.join("\n");
}

function seriesLines(runs: readonly RunResult[], labels: string[], pick: Array<{ name: string; color: string; get: (p: SeriesPoint) => number }>): ChartLine[] {
  const lines: ChartLine[] = [];
  runs.forEach((r, i) => {
    for (const q of pick) {
      lines.push({
        name: runs.length > 1 ? `${q.name} (${labels[i]})` : q.name,
        color: q.color,
        dashed: i > 0,
        points: r.series.map((s) => [s.tS, q.get(s)]),
      });
    }
  });
  return lines;
}

/**
 * The charts. Each series point covers one interval ending at tS; `sent` and `delivered`
 * belong to the messages sent in it (deliveries due and made), so delivered / sent is
 * that interval's success ratio (no value where nothing was due).
 */
function renderCharts(runs: readonly RunResult[], labels: string[]): string {
  const xMax = Math.max(...runs.map((r) => r.durationS));
  const count = (v: number) => formatInt(v);
  return `<div class="charts">` + [
    lineChart("chart-delivery", "Delivery ratio of the messages sent in each interval", "delivered / due", seriesLines(runs, labels, [
      { name: "delivered / due", color: SERIES_COLORS.ratio, get: (s) => (s.sent > 0 ? s.delivered / s.sent : NaN) },
    ]), xMax, (v) => `${+(v * 100).toFixed(0)} %`, { yFixedTop: 1 }),
    lineChart("chart-deliveries", "Deliveries due and made, by send interval", "deliveries", seriesLines(runs, labels, [
      { name: "due", color: SERIES_COLORS.sent, get: (s) => s.sent },
      { name: "delivered", color: SERIES_COLORS.delivered, get: (s) => s.delivered },
    ]), xMax, count, { integer: true }),
    lineChart("chart-utilisation", "Channel utilisation per interval", "share of time on air", seriesLines(runs, labels, [
      { name: "channel utilisation", color: SERIES_COLORS.utilisation, get: (s) => s.channelUtilisation },
    ]), xMax, (v) => `${+(v * 100).toFixed(2)} %`, { yMinTop: 0.01 }),
    lineChart("chart-repairs", "Route repairs per interval", "repairs", seriesLines(runs, labels, [
      { name: "route repairs", color: SERIES_COLORS.repairs, get: (s) => s.repairs },
    ]), xMax, count, { integer: true }),
  ].join("\n") + `</div>`;
}

// ------------------------------------------------------------------ tables

function renderMetricTable(runs: readonly RunResult[], labels: string[]): string {
  const head = `<tr><th scope="col">metric</th>${labels.map((l) => `<th scope="col" class="num">${esc(l)}</th>`).join("")}</tr>`;
  const body: string[] = [];
  let group = "";
  for (const row of METRIC_ROWS) {
    if (row.group !== group) {
      group = row.group;
      body.push(`<tr class="group"><th colspan="${runs.length + 1}" scope="rowgroup">${esc(group)}</th></tr>`);
    }
    const values = runs.map((r) => row.value(r.metrics));
    const best = betterColumn(values, row.better);
    body.push(`<tr><th scope="row" title="${esc(row.help)}">${esc(row.label)}</th>` +
      values.map((v, i) => `<td class="num${i === best ? " better" : ""}">${esc(row.format(v))}</td>`).join("") + `</tr>`);
  }
  const reasons = dropReasons(runs);
  body.push(`<tr class="group"><th colspan="${runs.length + 1}" scope="rowgroup">Drops by reason</th></tr>`);
  if (reasons.length === 0) body.push(`<tr><th scope="row">none</th>${runs.map(() => `<td class="num">0</td>`).join("")}</tr>`);
  // (reasons lists only those that occurred; the JSON result has every counter.)
  for (const reason of reasons) {
    body.push(`<tr><th scope="row">${esc(reason)}</th>` +
      runs.map((r) => `<td class="num">${esc(formatInt(r.metrics.dropsByReason?.[reason] ?? 0))}</td>`).join("") + `</tr>`);
  }
  const note = runs.length > 1 ? `<p class="note">The better value of each row is highlighted.</p>` : "";
  return `<table id="metrics" class="metrics"><thead>${head}</thead><tbody>${body.join("\n")}</tbody></table>${note}`;
}

/** The storage section (mail and files) of the primary run; absent without storage actions. */
function renderStorage(r: RunResult): string {
  const rows = storageRows(r);
  if (!rows.length) return "";
  const body: string[] = [];
  let group = "";
  for (const row of rows) {
    if (row.group !== group) { group = row.group; body.push(`<tr class="group"><th colspan="2" scope="rowgroup">${esc(group)}</th></tr>`); }
    body.push(`<tr><th scope="row" title="${esc(row.help)}">${esc(row.label)}</th><td>${esc(row.value)}</td></tr>`);
  }
  const log = (r.storage?.actions ?? []).map((a) => `<tr><td class="num">${esc(a.tS.toFixed(1))}</td><td>${esc(a.type)}</td>` +
    `<td>${esc(a.nodes.join(", ") || "—")}</td><td>${esc([a.keptMail?.length ? `kept mail: ${a.keptMail.join(", ")}` : "",
      a.heldBlocks?.length ? `held blocks: ${a.heldBlocks.join(", ")}` : "", a.note ?? ""].filter(Boolean).join("; "))}</td></tr>`);
  const sec = (v: number | null) => (v === null ? "—" : v.toFixed(1));
  const mails = (r.storage?.mail.list ?? []).map((m) => `<tr><td class="num">${esc(m.from)}</td><td class="num">${esc(m.to)}</td>` +
    `<td class="num">${esc(m.sentS.toFixed(1))}</td><td>${m.recipientAbsent ? "yes" : "no"}</td><td class="num">${esc(sec(m.storedS))}</td>` +
    `<td class="num">${esc(m.keepers)}</td><td class="num">${esc(sec(m.returnS))}</td><td class="num">${esc(sec(m.deliveredS))}</td>` +
    `<td class="num">${esc(formatMs(m.returnToDeliveryMs))}</td><td class="num">${esc(sec(m.deliveredViaKeepersS))}</td></tr>`);
  const mailTable = mails.length ? `<h3>Messages</h3>
<table class="path"><thead><tr><th class="num">from</th><th class="num">to</th><th class="num">sent (s)</th><th>recipient away</th>` +
    `<th class="num">stored (s)</th><th class="num">keepers</th><th class="num">return (s)</th><th class="num">delivered (s)</th>` +
    `<th class="num">return to delivery</th><th class="num">state 5 (s)</th></tr></thead><tbody>${mails.join("")}</tbody></table>` : "";
  return `<h2>Storage</h2>
<table id="storage" class="metrics"><tbody>${body.join("\n")}</tbody></table>
${mailTable}
<h3>Storage actions</h3>
<table class="path"><thead><tr><th class="num">at (s)</th><th>action</th><th>nodes</th><th>notes</th></tr></thead><tbody>${log.join("")}</tbody></table>`;
}

function renderRunTable(runs: readonly RunResult[], labels: string[]): string {
  const rows: Array<[string, (r: RunResult) => string]> = [
    ["core", (r) => r.core],
    ["nodes", (r) => formatInt(r.nodes.length)],
    ["dead at the end", (r) => formatInt(r.nodes.filter((n) => !n.alive).length)],
    ["mobile", (r) => formatInt(r.nodes.filter((n) => n.mobile).length)],
    ["links", (r) => formatInt(r.links.length)],
    ["simulated time", (r) => formatDurationS(r.durationS)],
    ["wall time", (r) => `${(r.wallMs / 1000).toFixed(1)} s`],
    ["speed", (r) => { const s = speedup(r); return Number.isFinite(s) ? `${s >= 100 ? s.toFixed(0) : s.toPrecision(3)}× real time` : "—"; }],
  ];
  const head = `<tr><th scope="col"></th>${labels.map((l) => `<th scope="col">${esc(l)}</th>`).join("")}</tr>`;
  const body = rows.map(([label, get]) => `<tr><th scope="row">${esc(label)}</th>${runs.map((r) => `<td>${esc(get(r))}</td>`).join("")}</tr>`);
  return `<table class="runs"><thead>${head}</thead><tbody>${body.join("")}</tbody></table>`;
}

function renderPathTable(r: RunResult, label: string): string {
  const path = r.samplePath;
  if (!path) return `<p class="empty">${esc(label)}: no sample message was traced in this run.</p>`;
  const known = new Map(r.nodes.map((n) => [n.index, n]));
  const start = path.hops.length ? path.hops[0].tS : 0;
  const what = path.kind === "direct"
    ? `Direct message from node ${path.from} to node ${path.to ?? "?"}`
    : `Channel message from node ${path.from}`;
  const rows = path.hops.map((h, k) => `<tr><td class="num">${k + 1}</td><td class="num">${esc(h.from)}</td>` +
    `<td>${esc(known.get(h.from)?.role ?? "")}</td><td class="num">${esc(h.tS.toFixed(3))}</td>` +
    `<td class="num">${esc(formatMs((h.tS - start) * 1000))}</td></tr>`);
  return `<h3>${esc(label)}: ${esc(what)}, ${path.hops.length} transmission${path.hops.length === 1 ? "" : "s"}</h3>` +
    `<table class="path"><thead><tr><th class="num">#</th><th class="num">transmitter</th><th>role</th>` +
    `<th class="num">at (s)</th><th class="num">after the first</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** Nodes dead at the end or killed at some point (and revived), by time of the last kill. */
function renderDeadTable(r: RunResult): string {
  const hit = r.nodes.filter((n) => !n.alive || n.killedAtS !== undefined)
    .sort((a, b) => (a.killedAtS ?? Infinity) - (b.killedAtS ?? Infinity) || a.index - b.index);
  if (hit.length === 0) return `<p class="empty">No node was killed in this run.</p>`;
  const rows = hit.map((n) => `<tr><td class="num">${esc(n.index)}</td><td>${esc(n.role)}</td>` +
    `<td class="num">${n.killedAtS === undefined ? "—" : esc(n.killedAtS.toFixed(1))}</td><td>${n.alive ? "revived" : "dead"}</td></tr>`);
  return `<table class="dead"><thead><tr><th class="num">node</th><th>role</th><th class="num">last killed at (s)</th>` +
    `<th>at the end</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function headline(r: RunResult): string {
  const pick = ["Broadcast reachability", "Direct delivery ratio", "Channel latency p95", "Transmissions per delivered", "Channel utilisation"];
  return `<div class="cards">` + METRIC_ROWS.filter((row) => pick.includes(row.label)).map((row) =>
    `<div class="card" title="${esc(row.help)}"><div class="card-value">${esc(row.format(row.value(r.metrics)))}</div>` +
    `<div class="card-label">${esc(row.label)}</div></div>`).join("") + `</div>`;
}

// ------------------------------------------------------------------ page

const CSS = `
:root { color-scheme: light; --fg: #1a202c; --muted: #5a6677; --line: #e2e8f0; --bg: #ffffff; --panel: #f7fafc; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1120px; margin: 0 auto; padding: 20px 24px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 16px 0 6px; }
.sub { color: var(--muted); margin: 0 0 14px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 150px; }
.card-value { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card-label { color: var(--muted); font-size: 12px; }
.map { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
.map-bg { fill: #fbfcfd; }
.link { stroke-linecap: round; }
${SNR_BINS.map((b, i) => `.snr${i} { stroke: ${b.color}; }`).join("\n")}
.node { stroke: #ffffff; stroke-width: 1; }
${ROLE_COLORS.map((col, i) => `.role${i} { fill: ${col}; }`).join("\n")}
.node.mobile { stroke: #1a202c; stroke-width: 1.5; stroke-dasharray: 2 1.5; }
.node.dead { fill: ${DEAD_FILL}; }
.dead-mark { stroke: #c53030; stroke-width: 2; stroke-linecap: round; fill: none; pointer-events: none; }
.path-seg { stroke: ${PATH_COLOR}; stroke-width: 3; stroke-opacity: 0.9; stroke-linecap: round; }
.path-halo { stroke: #ffffff; stroke-width: 7; stroke-opacity: 0.8; stroke-linecap: round; }
.path-label { font: 600 12px system-ui, sans-serif; fill: ${PATH_COLOR}; paint-order: stroke; stroke: #ffffff; stroke-width: 3px; }
.scale path { fill: none; stroke: var(--fg); stroke-width: 1.5; }
.scale text { font-size: 11px; fill: var(--fg); }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 8px 0; font-size: 12px; color: var(--muted); }
.legend-group { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: center; }
.legend-title { font-weight: 600; color: var(--fg); }
.legend-item { display: inline-flex; align-items: center; gap: 4px; }
.swatch { vertical-align: middle; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 12px 20px; }
.chart { margin: 0; }
.chart figcaption { font-weight: 600; margin-bottom: 2px; }
.chart-svg { display: block; max-width: 100%; height: auto; }
.chart-svg .grid line { stroke: var(--line); }
.chart-svg .axis text { font-size: 11px; fill: var(--muted); font-variant-numeric: tabular-nums; }
.chart-svg .axis line, .chart-svg .frame { stroke: #a0aec0; fill: none; }
.chart-svg .axis-label { font-size: 11px; fill: var(--muted); }
.series { fill: none; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
.series-dots { fill: none; stroke-width: 5; stroke-linecap: round; }
table { border-collapse: collapse; margin: 6px 0 10px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 12px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: var(--panel); }
tr.group th { background: none; padding-top: 12px; font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
.num { text-align: right; }
td.better { font-weight: 600; background: #e6f6ec; }
tbody th { font-weight: normal; }
.note, .empty { color: var(--muted); font-size: 12px; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print { main { max-width: none; } .charts { grid-template-columns: 1fr 1fr; } }
`;

/** The report page for `result` (and `opts.compare`, a run of the same scenario with another core). */
export function renderHtml(result: RunResult, opts: HtmlReportOptions = {}): string {
  const runs = opts.compare ? [result, opts.compare] : [result];
  const labels = runLabels(runs);
  const title = opts.title ?? `Outcaxt simulation: ${result.scenario}`;
  const sub = `seed ${result.seed} · ${formatInt(result.nodes.length)} nodes · ${formatDurationS(result.durationS)} simulated · ` +
    (opts.compare ? `${coreName(result.core)} compared with ${coreName(opts.compare.core)}` : `core ${coreName(result.core)}`);
  const paths = runs.map((r, i) => renderPathTable(r, labels[i])).join("\n");
  const mapCaption = result.samplePath
    ? `Map of the ${esc(labels[0])} run with its sample ${result.samplePath.kind} message.`
    : `Map of the ${esc(labels[0])} run.`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${esc(title)}</h1>
<p class="sub">${esc(sub)}</p>
${headline(result)}
<h2>Map</h2>
<p class="note">${mapCaption} Nodes at their positions at the end of the run; links are the pairs of which at least one direction decodes on a quiet channel, coloured by the better direction's SNR. Hover a node or link for details.</p>
${renderMap(result)}
<h2>Over time</h2>
${renderCharts(runs, labels)}
<h2>Metrics</h2>
${renderMetricTable(runs, labels)}
${renderStorage(result)}
<h2>Sample message</h2>
${paths}
<h2>Nodes killed</h2>
${renderDeadTable(result)}
<h2>Run</h2>
${renderRunTable(runs, labels)}
<footer>Generated by outcaxt sim. Scenario ${esc(result.scenario)}, seed ${esc(result.seed)}: the same seed reproduces the same run.</footer>
</main>
</body>
</html>
`;
}

export async function writeHtmlReport(file: string, result: RunResult, opts: HtmlReportOptions = {}): Promise<void> {
  await writeFile(file, renderHtml(result, opts));
}

