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
});
