// The simulator's outputs: JSON result, terminal summary and HTML report, on
// hand-made RunResults. The HTML report is rendered in headless Chromium
// (test/helpers/chromium.ts): the map, the charts, no console errors, no network.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import type { RunResult, SimLink, SimNode } from "../../sim/result.js";
import { MAX_DRAWN_LINKS, escapeHtml, niceStep, pathNodes, renderHtml, snrBin, writeHtmlReport } from "../../sim/report/html.js";
import { parseResultJson, resultToJson, writeResultJson } from "../../sim/report/json.js";
import { formatSummary } from "../../sim/report/summary.js";
import { METRIC_ROWS, SHORT_METRIC_ROWS, betterColumn, formatMs, formatPercent, runLabels } from "../../sim/report/format.js";
import { SKIP_BROWSER, browserUnavailable, launchChromium, openFile, readReport } from "../helpers/chromium.js";

/** A small deterministic run: nodes on a grid with jitter, links within 2.6 km (some one-way), two dead, one mobile. */
function fixture(opts: { core?: string; scenario?: string; role?: string; scale?: number } = {}): RunResult {
  const scale = opts.scale ?? 1;
  const nodes: SimNode[] = [];
  for (let i = 0; i < 12; i++) {
    nodes.push({
      index: i,
      xM: (i % 4) * 1800 + ((i * 37) % 300),
      yM: Math.floor(i / 4) * 1600 + ((i * 91) % 250),
      role: i === 0 ? "router" : i % 3 === 0 ? (opts.role ?? "sensor") : "client",
      alive: i !== 5 && i !== 9,
      killedAtS: i === 5 ? 1200 : undefined,
      mobile: i === 7,
    });
  }
  const links: SimLink[] = [];
  for (const a of nodes) {
    for (const b of nodes) {
      if (a.index === b.index) continue;
      const d = Math.hypot(a.xM - b.xM, a.yM - b.yM);
      if (d > 2600) continue;
      // One-way links for a few pairs, both directions (with different SNR) for the rest.
      if ((a.index + b.index) % 5 === 0 && a.index > b.index) continue;
      links.push({ a: a.index, b: b.index, snrDb: +(12 - d / 150 + ((a.index * 7 + b.index) % 3)).toFixed(2) });
    }
  }
  const series = Array.from({ length: 61 }, (_, k) => ({
    tS: k * 60,
    sent: k * 3,
    delivered: Math.round(k * 3 * 0.9 * scale),
    channelUtilisation: 0.02 + 0.01 * Math.sin(k / 5) * scale,
    repairs: k < 20 ? 0 : Math.min(4, Math.floor((k - 20) / 4)),
  }));
  return {
    scenario: opts.scenario ?? "fixture",
    seed: 7,
    core: opts.core ?? "/repo/build/cores/node.wasm",
    durationS: 3600,
    wallMs: 2400,
    nodes,
    links,
    series,
    metrics: {
      broadcastReachability: 0.9 * scale,
      directDeliveryRatio: 0.95 * scale,
      channelLatencyMs: { p50: 820, p95: 2400, p99: 3900 },
      directLatencyMs: { p50: 1500 / scale, p95: 4100, p99: 6800 },
      transmissionsPerDelivered: 3.4 / scale,
      airtimeMsPerDelivered: 1500 / scale,
      channelUtilisation: 0.021,
      airtimeMsPerNode: 6300,
      airtimeSharePerNode: 0.00175,
      collisions: 14,
      halfDuplexLosses: 5,
      dutyDeferrals: 0,
      lbtDeferrals: 22,
      routeRepairs: 4,
      timeToRepairMs: 9500,
      repairDeliveryLatencyMs: 2100,
      routesBrokenByKills: 2,
      routesRepairedAfterKills: 2,
      coreMemoryBytesPerNode: 131072,
      dropsByReason: { duplicate: 120, hopsExhausted: 3, replay: 0 },
      framesSent: 610,
      airtimeMs: 75600,
      messagesSent: 180,
      messagesDelivered: 160,
      broadcastsSent: 20,
      channelTransmissionsPerBroadcast: 7.5,
      directSent: 160,
      directDelivered: 152,
      directAcked: 150,
      directRejected: 1,
      channelRejected: 0,
      announcesScripted: 6,
      kills: 2,
      revivals: 0,
    },
    samplePath: { kind: "channel", from: 0, to: 10, hops: [{ from: 0, tS: 600 }, { from: 1, tS: 600.9 }, { from: 6, tS: 601.7 }, { from: 11, tS: 602.5 }] },
  };
}

describe("format", () => {
  it("formats percentages, durations and missing values", () => {
    expect(formatPercent(0.9821)).toBe("98.2 %");
    expect(formatPercent(null)).toBe("—");
    expect(formatMs(412.4)).toBe("412 ms");
    expect(formatMs(1530)).toBe("1.53 s");
    expect(formatMs(NaN)).toBe("—");
  });

  it("marks the better column only when one value wins", () => {
    expect(betterColumn([0.9, 0.95], "higher")).toBe(1);
    expect(betterColumn([3, 2], "lower")).toBe(1);
    expect(betterColumn([2, 2], "lower")).toBe(-1);
    expect(betterColumn([null, 2], "lower")).toBe(-1);
    expect(betterColumn([1, 2], null)).toBe(-1);
  });

  it("labels runs by core file name, or by the whole string when names clash", () => {
    expect(runLabels([fixture(), fixture({ core: "build/cores/node-flood.wasm" })])).toEqual(["node.wasm", "node-flood.wasm"]);
    expect(runLabels([fixture({ core: "a/node.wasm" }), fixture({ core: "b/node.wasm" })])).toEqual(["a/node.wasm", "b/node.wasm"]);
  });
});

describe("JSON result", () => {
  it("keeps the whole RunResult, and the compared run under `compare`", () => {
    const r = fixture();
    const back = parseResultJson(resultToJson(r));
    expect(back.result).toEqual(JSON.parse(JSON.stringify(r)));
    expect(back.compare).toBeUndefined();
    const other = fixture({ core: "node-flood.wasm", scale: 0.8 });
    const both = parseResultJson(resultToJson(r, other));
    expect(both.result.metrics).toEqual(r.metrics);
    expect(both.compare?.core).toBe("node-flood.wasm");
    expect(both.compare?.links.length).toBe(other.links.length);
  });

  it("writes one array element per line and null for non-finite numbers", () => {
    const r = fixture();
    r.metrics.timeToRepairMs = null;
    r.metrics.channelLatencyMs.p99 = NaN;
    const text = resultToJson(r);
    expect(text.split("\n").filter((l) => l.trim().startsWith('{"a":')).length).toBe(r.links.length);
    const v = JSON.parse(text);
    expect(v.metrics.timeToRepairMs).toBeNull();
    expect(v.metrics.channelLatencyMs.p99).toBeNull();
    expect(v.metrics.dropsByReason).toEqual({ duplicate: 120, hopsExhausted: 3, replay: 0 });
  });

  it("writes the file and rejects what is not a run", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "outcaxt-json-"));
    try {
      const file = path.join(dir, "r.json");
      await writeResultJson(file, fixture());
      expect(parseResultJson(readFileSync(file, "utf8")).result.nodes).toHaveLength(12);
      expect(() => parseResultJson('{"scenario": 1}')).toThrow(TypeError);
      expect(() => parseResultJson("{")).toThrow(SyntaxError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("terminal summary", () => {
  it("shows the short metric rows, the drop reasons that occurred and the run line", () => {
    const text = formatSummary([fixture()]);
    for (const row of SHORT_METRIC_ROWS) expect(text).toContain(row.label);
    expect(text).not.toContain("Half-duplex losses");
    expect(text).toContain("Scenario fixture, seed 7");
    expect(text).toMatch(/node\.wasm: 12 nodes \(2 dead, 1 mobile\), 1 h simulated in 2\.4 s, 1500x real time/);
    expect(text).toMatch(/Broadcast reachability\s+90\.0 %/);
    expect(text).toMatch(/duplicate\s+120/);
    expect(text).toMatch(/hopsExhausted\s+3/);
    // Zero counters are left out of the summary.
    expect(text).not.toContain("replay");
  });

  it("puts compared cores side by side with aligned columns", () => {
    const text = formatSummary([fixture(), fixture({ core: "build/cores/node-flood.wasm", scale: 0.5 })]);
    const header = text.split("\n").find((l) => l.startsWith("metric"))!;
    expect(header).toMatch(/node\.wasm\s+node-flood\.wasm$/);
    const row = text.split("\n").find((l) => l.includes("Broadcast reachability"))!;
    expect(row).toMatch(/90\.0 %\s+45\.0 %$/);
    // Every table line ends at the same column (right-aligned values).
    const lines = text.split("\n").slice(text.split("\n").indexOf(header));
    const widths = new Set(lines.filter((l) => /\d|wasm/.test(l) && !l.startsWith("─")).map((l) => l.length));
    expect(widths.size).toBe(1);
  });
});

describe("HTML report (markup)", () => {
  it("is one self-contained page: no script, no external URL, a CSP that forbids fetches", () => {
    const html = renderHtml(fixture());
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\((?!#)/i);
    expect(html.match(/https?:\/\/[^"\s]+/g)?.filter((u) => u !== "http://www.w3.org/2000/svg") ?? []).toEqual([]);
  });

  it("escapes every string from the result", () => {
    const evil = `<script>alert("x")</script>&'`;
    const html = renderHtml(fixture({ scenario: evil, role: evil, core: `a/${evil}.wasm` }));
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
    expect(escapeHtml(`<a href="x">&'`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  });

  it("draws one circle per node, one line per linked pair, crosses on dead nodes and the sample path", () => {
    const r = fixture();
    const html = renderHtml(r);
    expect(html.match(/<circle class="node /g)).toHaveLength(r.nodes.length);
    const pairs = new Set(r.links.map((l) => `${Math.min(l.a, l.b)}-${Math.max(l.a, l.b)}`));
    expect(html.match(/<line class="link /g)).toHaveLength(pairs.size);
    expect(html.match(/class="dead-mark"/g)).toHaveLength(2);
    expect(pathNodes(r.samplePath!)).toEqual([0, 1, 6, 11, 10]);
    expect(html.match(/class="path-seg"/g)).toHaveLength(4);
    for (const row of METRIC_ROWS) expect(html).toContain(`>${row.label}</th>`);
    expect(html).toContain("last killed at (s)");
  });

  it("draws a direct message's path to its recipient", () => {
    expect(pathNodes({ kind: "direct", from: 2, to: 9, hops: [{ from: 2, tS: 1 }, { from: 6, tS: 2 }] })).toEqual([2, 6, 9]);
    expect(pathNodes({ kind: "direct", from: 2, to: 6, hops: [{ from: 2, tS: 1 }] })).toEqual([2, 6]);
  });

  it("shows both cores in the metric table when comparing", () => {
    const html = renderHtml(fixture(), { compare: fixture({ core: "node-flood.wasm", scale: 0.5 }) });
    expect(html).toMatch(/<th scope="col" class="num">node\.wasm<\/th><th scope="col" class="num">node-flood\.wasm<\/th>/);
    expect(html).toMatch(/Broadcast reachability<\/th><td class="num better">90\.0 %<\/td><td class="num">45\.0 %<\/td>/);
    // Both runs in every chart: the compared one dashed.
    expect(html.match(/class="series" data-series="delivered \(node-flood\.wasm\)"[^>]*stroke-dasharray/g)).toHaveLength(1);
  });

  it("draws only the strongest links of a very dense map, and says so", () => {
    const r = fixture();
    r.nodes = Array.from({ length: 400 }, (_, i) => ({ index: i, xM: (i % 20) * 100, yM: Math.floor(i / 20) * 100, role: "client", alive: true, mobile: false }));
    r.links = [];
    for (let a = 0; a < 400; a++) for (let b = a + 1; b < 400; b++) r.links.push({ a, b, snrDb: -15 + ((a * 31 + b * 17) % 250) / 10 });
    const html = renderHtml(r);
    expect(r.links.length).toBeGreaterThan(MAX_DRAWN_LINKS);
    expect(html.match(/<line class="link /g)).toHaveLength(MAX_DRAWN_LINKS);
    expect(html).toContain(`Showing the 60,000 strongest of 79,800 links.`);
    const weakest = [...r.links].sort((x, y) => x.snrDb - y.snrDb)[0];
    expect(html).not.toContain(`data-a="${weakest.a}" data-b="${weakest.b}"`);
  });

  it("copes with an empty run", () => {
    const r = fixture();
    r.nodes = []; r.links = []; r.series = []; r.samplePath = null;
    const html = renderHtml(r);
    expect(html).toContain("This run has no nodes.");
    expect(html.match(/No time series in this run\./g)).toHaveLength(4);
    expect(html).toContain("no sample message was traced");
  });

  it("bins SNR and picks nice steps", () => {
    expect(snrBin(7)).toBe(0);
    expect(snrBin(-7)).toBe(3);
    expect(snrBin(-30)).toBe(4);
    expect(niceStep(3600, 6)).toBe(1000);
    expect(niceStep(0.043, 4)).toBe(0.02);
  });
});

// ------------------------------------------------------------------ browser

const unavailable = browserUnavailable();
if (SKIP_BROWSER) console.warn("OUTCAXT_SKIP_BROWSER=1: skipping the HTML report tests in headless Chromium.");

describe.skipIf(SKIP_BROWSER)("HTML report in headless Chromium", () => {
  let browser: Browser | undefined;
  let dir = "";

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "outcaxt-report-"));
    if (!unavailable) browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("needs Chromium (install it, or set OUTCAXT_SKIP_BROWSER=1)", () => {
    expect(unavailable, unavailable ?? "").toBeNull();
  });

  it("renders the map and the charts without errors or network requests", async () => {
    if (unavailable) throw new Error(unavailable);
    const r = fixture();
    const file = path.join(dir, "report.html");
    await writeHtmlReport(file, r, { compare: fixture({ core: "node-flood.wasm", scale: 0.8 }) });
    const { page, requests, errors, fileUrl } = await openFile(browser!, file);
    const seen = await readReport(page);
    await page.screenshot({ path: path.join(dir, "report.png"), fullPage: true });
    await page.close();

    expect(seen.circles).toBe(r.nodes.length);
    expect(seen.nodeIndexes.sort((a, b) => a - b)).toEqual(r.nodes.map((n) => n.index));
    expect(seen.links).toBeGreaterThan(0);
    const dead = r.nodes.filter((n) => !n.alive).map((n) => n.index);
    expect(seen.dead).toEqual(dead);
    expect(seen.deadMarks).toEqual(dead);
    expect(seen.pathSegments).toBe(4);
    expect(seen.mapBox!.width).toBeGreaterThan(300);
    expect(seen.mapBox!.height).toBeGreaterThan(150);
    // Delivery ratio, deliveries (due + made), utilisation and repairs, for both cores.
    expect(new Set(seen.chartPaths.map((p) => p.chart))).toEqual(new Set(["chart-delivery", "chart-deliveries", "chart-utilisation", "chart-repairs"]));
    expect(seen.chartPaths).toHaveLength(10);
    for (const p of seen.chartPaths) expect(p.d).toMatch(/^M[\d.]+,[\d.]+( L[\d.]+,[\d.]+)+$/);
    expect(seen.metricColumns).toEqual(["metric", "node.wasm", "node-flood.wasm"]);
    expect(errors).toEqual([]);
    expect(requests).toEqual([fileUrl]);
  });

  it("renders the escaped page without running injected markup", async () => {
    if (unavailable) throw new Error(unavailable);
    const evil = `<img src="http://127.0.0.1:9/x.png" onerror="document.title='pwned'">`;
    const file = path.join(dir, "evil.html");
    writeFileSync(file, renderHtml(fixture({ scenario: evil, role: evil })));
    const { page, requests, errors, fileUrl } = await openFile(browser!, file);
    const seen = await readReport(page);
    await page.close();
    expect(seen.title).toContain("<img");
    expect(seen.title).not.toBe("pwned");
    expect(seen.circles).toBe(12);
    expect(errors).toEqual([]);
    expect(requests).toEqual([fileUrl]);
  });
});
