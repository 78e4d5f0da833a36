// Opens a local HTML file in headless Chromium (Debian's `chromium`, driven by
// playwright-core) and reads what rendered. Used by the report tests.
//
// Chromium is required: when it is missing, browserUnavailable() explains how to
// install it, and the tests fail with that message, unless OUTCAXT_SKIP_BROWSER=1
// (then they are skipped, and say so). .ci/run installs it.
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";

/** Chromium executable: $OUTCAXT_CHROMIUM or Debian's /usr/bin/chromium. */
export const CHROMIUM_PATH = process.env.OUTCAXT_CHROMIUM ?? "/usr/bin/chromium";
export const SKIP_BROWSER = process.env.OUTCAXT_SKIP_BROWSER === "1";

/** Why the browser tests cannot run, or null when Chromium is there. */
export function browserUnavailable(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null;
  return `Chromium not found at ${CHROMIUM_PATH}: the report tests render the HTML report in headless Chromium. ` +
    `Install it with 'apt-get update && apt-get install -y chromium' (Debian), or point OUTCAXT_CHROMIUM at a Chromium binary, ` +
    `or set OUTCAXT_SKIP_BROWSER=1 to skip these tests.`;
}

/** Flags for a closed network (no background connections, no component updates). */
const CHROMIUM_ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
];

export async function launchChromium(): Promise<Browser> {
  const why = browserUnavailable();
  if (why) throw new Error(why);
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

export type OpenedPage = {
  page: Page;
  /** Every request the page made (the file itself included). */
  requests: string[];
  /** Console messages of type error, and uncaught page errors. */
  errors: string[];
  fileUrl: string;
};

/** Opens `file` in a new page and waits for it to load. */
export async function openFile(browser: Browser, file: string): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  const fileUrl = pathToFileURL(file).href;
  await page.goto(fileUrl, { waitUntil: "load" });
  return { page, requests, errors, fileUrl };
}

export type RenderedReport = {
  circles: number;
  nodeIndexes: number[];
  links: number;
  dead: number[];
  deadMarks: number[];
  pathSegments: number;
  chartPaths: Array<{ chart: string; d: string }>;
  mapBox: { width: number; height: number } | null;
  title: string;
  metricColumns: string[];
};

/** What the report page rendered: counts of the map's elements and the chart paths. */
export async function readReport(page: Page): Promise<RenderedReport> {
  return page.evaluate(() => {
    const map = document.querySelector("svg#map");
    const box = map?.getBoundingClientRect();
    const num = (el: Element, attr: string) => Number(el.getAttribute(attr));
    return {
      circles: map ? map.querySelectorAll("circle.node").length : 0,
      nodeIndexes: map ? [...map.querySelectorAll("circle.node")].map((e) => num(e, "data-index")) : [],
      links: map ? map.querySelectorAll("line.link").length : 0,
      dead: map ? [...map.querySelectorAll("circle.node.dead")].map((e) => num(e, "data-index")) : [],
      deadMarks: map ? [...map.querySelectorAll(".dead-mark")].map((e) => num(e, "data-index")) : [],
      pathSegments: map ? map.querySelectorAll("line.path-seg").length : 0,
      chartPaths: [...document.querySelectorAll("figure.chart")].flatMap((f) =>
        [...f.querySelectorAll("path.series")].map((p) => ({ chart: f.id, d: p.getAttribute("d") ?? "" }))),
      mapBox: box ? { width: box.width, height: box.height } : null,
      title: document.title,
      metricColumns: [...document.querySelectorAll("table#metrics thead th")].map((th) => th.textContent ?? ""),
    };
  });
}
