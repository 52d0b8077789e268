// The HTML report in a real browser: `goalloc replay --html` is spawned, the page is opened
// from disk in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core), and
// the charts are checked as rendered: present, with non-empty boxes, no console errors, no
// network requests. A screenshot is left in a temporary directory for people to look at.
// Skipped when /usr/bin/chromium is absent (.ci/run installs it).

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, goalloc } from "./goalloc.js";

const CHROMIUM = "/usr/bin/chromium";
// Headless as root in a sandboxless container; no background traffic to Google's hosts.
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const haveChromium = existsSync(CHROMIUM);

describe.skipIf(!haveChromium)("the HTML report in Chromium", () => {
  let work = "";
  let shots = "";
  let browser: Browser | null = null;

  beforeAll(async () => {
    ensureBuilt();
    work = mkdtempSync(path.join(tmpdir(), "goalloc-html-"));
    shots = mkdtempSync(path.join(tmpdir(), "goalloc-html-screenshots-"));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (work !== "") rmSync(work, { recursive: true, force: true });
  });

  it("--html writes the page atomically, beside the usual report on stdout", () => {
    const out = path.join(work, "gc.html");
    const run = goalloc(["replay", "traces/gc.trace", "--html", out]);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/^Heap over time$/m);
    expect(readFileSync(out, "utf8")).toMatch(/^<!DOCTYPE html>/);
    // Only the page: its temporary was renamed into place.
    expect(readdirSync(work)).toEqual(["gc.html"]);
  });

  it("renders every chart, with no console errors and no network requests", async () => {
    const out = path.join(work, "profile.html");
    expect(goalloc(["replay", "traces/profile.trace", "--html", out]).status).toBe(0);
    const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("request", (r) => {
      if (!r.url().startsWith("file:")) problems.push(`request: ${r.url()}`);
    });
    await page.goto(pathToFileURL(out).href, { waitUntil: "load" });

    for (const id of ["heap-chart", "objects-chart", "class-chart", "arena-map"]) {
      const box = await page.locator(`svg#${id}`).boundingBox();
      expect(box, id).not.toBeNull();
      expect(box!.width, id).toBeGreaterThan(100);
      expect(box!.height, id).toBeGreaterThan(20);
    }
    // Every heap series is a drawn line, not an empty one.
    const series = await page.locator("#heap-chart polyline.series").evaluateAll((lines) =>
      lines.map((l) => {
        const b = (l as SVGGraphicsElement).getBBox();
        return { name: l.getAttribute("data-series"), width: b.width, points: (l as SVGPolylineElement).points.length };
      }),
    );
    expect(series.map((s) => s.name)).toEqual(["HeapSys", "HeapInuse", "HeapAlloc", "NextGC"]);
    for (const s of series) {
      expect(s.width, s.name ?? "").toBeGreaterThan(500);
      expect(s.points, s.name ?? "").toBeGreaterThan(10);
    }
    expect(await page.locator("#heap-chart line.gc").count()).toBeGreaterThan(0);
    // Size-class bars and arena spans have area on screen.
    const areas = async (selector: string): Promise<number[]> =>
      page.locator(selector).evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => r.width * r.height));
    const bars = await areas("#class-chart rect.span-bytes");
    expect(bars.length).toBeGreaterThan(0);
    expect(bars.every((a) => a > 0)).toBe(true);
    const spans = await areas("#arena-map rect.span");
    expect(spans.length).toBeGreaterThan(3);
    expect(spans.every((a) => a > 0)).toBe(true);
    // The fragmentation tables carry the definitions.
    await expect(page.locator("#fragmentation table.defs").count()).resolves.toBe(4);

    const shot = path.join(shots, "profile.png");
    await page.screenshot({ path: shot, fullPage: true });
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
    expect(png.length).toBeGreaterThan(20_000);
    await page.close();
    expect(problems).toEqual([]);
  });

  it("keeps a generated trace's many collections apart from the lines, every label inside its SVG, sites for every peak event", async () => {
    const trace = path.join(work, "300k.trace");
    expect(goalloc(["gen", "--events", "300000", "--seed", "1", "--out", trace]).status).toBe(0);
    const out = path.join(work, "300k.html");
    expect(goalloc(["replay", trace, "--html", out]).status).toBe(0);
    const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(pathToFileURL(out).href, { waitUntil: "load" });

    // Every text of every chart lies within its viewBox as Chromium lays it out.
    const outside = await page.locator("svg.chart").evaluateAll((svgs) =>
      svgs.flatMap((svg) => {
        const view = (svg as SVGSVGElement).viewBox.baseVal;
        return Array.from(svg.querySelectorAll("text"), (t) => ({ id: svg.id, text: t.textContent, box: t.getBBox() }))
          .filter(({ box }) => box.x < view.x || box.y < view.y || box.x + box.width > view.x + view.width || box.y + box.height > view.y + view.height)
          .map(({ id, text, box }) => `${id}: "${text}" at x ${box.x}..${box.x + box.width}`);
      }),
    );
    expect(outside).toEqual([]);

    for (const id of ["heap-chart", "objects-chart"]) {
      // The collection ticks are all in their strip, above the plot; the 26 collections are all counted.
      const marks = await page.locator(`#${id} line.gc`).evaluateAll((lines) =>
        lines.map((l) => ({ inStrip: l.closest("g.gc-strip") !== null, bottom: l.getBoundingClientRect().bottom, gcs: Number(l.getAttribute("data-gcs")) })),
      );
      const plotTop = (await page.locator(`#${id} rect.plot`).boundingBox())!.y;
      expect(marks.length, id).toBe(22);
      expect(marks.every((m) => m.inStrip && m.bottom <= plotTop), id).toBe(true);
      expect(marks.reduce((n, m) => n + m.gcs, 0), id).toBe(26);
    }

    // One sites table per distinct peak event: HeapAlloc, HeapInuse and HeapObjects peak at event 120,693, HeapSys and Sys at 234,097.
    const groups = await page.locator("#peaks .peak-sites").evaluateAll((divs) =>
      divs.map((d) => ({ peaks: d.getAttribute("data-peaks"), event: d.getAttribute("data-event"), rows: d.querySelectorAll("tbody tr").length })),
    );
    expect(groups).toEqual([
      { peaks: "HeapAlloc HeapInuse HeapObjects", event: "120693", rows: 10 },
      { peaks: "HeapSys Sys", event: "234097", rows: 10 },
    ]);
    await page.screenshot({ path: path.join(shots, "300k.png"), fullPage: true });
    await page.close();
  }, 120_000);
});
