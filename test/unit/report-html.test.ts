// The HTML report as text: self-contained (no scripts, no external references), escaped,
// deterministic, with every chart; the arena map's merging bound; the charts' axes.
// test/e2e/html.test.ts renders it in Chromium.

import { describe, expect, it } from "vitest";
import { replay } from "../../src/index.js";
import { axis, htmlReport, renderHtml } from "../../src/report/html.js";
import { buildArenaMap } from "../../src/report/report.js";
import { replayLines } from "./report-helpers.js";

describe("the HTML report", () => {
  it("is one self-contained page: inline SVG charts, no scripts, no external references", async () => {
    const { report, outcome } = await replay("traces/profile.trace");
    const html = htmlReport(report, outcome);
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    for (const id of ["heap-chart", "objects-chart", "class-chart", "arena-map"]) expect(html).toContain(`<svg id="${id}"`);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|\ssrc=|\shref=/i);
    // The only URL is the SVG namespace, which is a name, not a fetch.
    expect(html.match(/[a-z]+:\/\/[^"' )]+/gi)?.filter((u) => u !== "http://www.w3.org/2000/svg") ?? []).toEqual([]);
    for (const key of Object.keys(report.fragmentation.definitions)) expect(html).toContain(`<td>${key}</td>`);
  });

  it("is the same bytes for the same replay", async () => {
    const a = await replay("traces/gc.trace");
    const b = await replay("traces/gc.trace");
    expect(htmlReport(a.report, a.outcome)).toBe(htmlReport(b.report, b.outcome));
  });

  it("escapes what the trace names", async () => {
    const { report, outcome } = await replayLines(["goalloc-trace 1", `s 1 main.<script>alert("x")</script>;main.main`, "a 1 64 stack=1"]);
    const html = renderHtml(report, buildArenaMap(outcome));
    expect(html).not.toContain("<script>");
    expect(html).toContain("main.&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;");
  });

  it("draws a GC mark per point where NumGC rose, and one polyline per heap series", async () => {
    const { report, outcome } = await replay("traces/gc.trace");
    const html = htmlReport(report, outcome);
    const heap = html.slice(html.indexOf('<svg id="heap-chart"'), html.indexOf("</svg>", html.indexOf('<svg id="heap-chart"')));
    let rises = 0;
    let gcs = 0;
    for (const p of report.timeline.points) {
      if (p.NumGC > gcs) rises++;
      gcs = Math.max(gcs, p.NumGC);
    }
    expect(heap.match(/<line class="gc"/g)).toHaveLength(rises);
    expect(heap.match(/data-series="(\w+)"/g)).toEqual(['data-series="HeapSys"', 'data-series="HeapInuse"', 'data-series="HeapAlloc"', 'data-series="NextGC"']);
  });
});

describe("the arena map", () => {
  // 60 large objects of 5 pages, every other one freed: free and in-use spans alternate.
  const LINES = ["goalloc-trace 1", ...Array.from({ length: 60 }, (_, i) => `a ${i} 40000 flags=noscan`), ...Array.from({ length: 30 }, (_, i) => `f ${2 * i}`)];

  it("lists every span in address order, covering the arena without overlaps", async () => {
    const { outcome } = await replayLines(LINES);
    const map = buildArenaMap(outcome);
    expect(map.entries).toHaveLength(map.spanCount);
    let next = 0;
    for (const e of map.entries) {
      expect(e.page).toBeGreaterThanOrEqual(next);
      next = e.page + e.pages;
    }
    expect(map.entries.reduce((n, e) => n + e.pages, 0)).toBe(map.pages);
    expect(map.entries.filter((e) => e.state === "large")).toHaveLength(30);
  });

  it("merges neighbours beyond the bound, keeping the page coverage", async () => {
    const { outcome } = await replayLines(LINES);
    const full = buildArenaMap(outcome);
    const merged = buildArenaMap(outcome, 10);
    expect(merged.entries.length).toBeLessThanOrEqual(10);
    expect(merged.spanCount).toBe(full.spanCount);
    expect(merged.entries.reduce((n, e) => n + e.spans, 0)).toBe(full.spanCount);
    expect(merged.entries.reduce((n, e) => n + e.pages, 0)).toBe(full.pages);
    expect(merged.entries[0]!.page).toBe(0);
  });
});

describe("chart axes", () => {
  it("binary axes count in one unit that the maximum holds twice, in steps of 1, 2 or 5 × 10^k", () => {
    const mib = axis(1 << 20, true);
    expect(mib.ticks).toEqual([0, 500, 1000, 1500].map((k) => k * 1024));
    expect(mib.ticks.map(mib.label)).toEqual(["0 KiB", "500 KiB", "1,000 KiB", "1,500 KiB"]);
    const big = axis(3.9 * (1 << 20), true);
    expect(big.ticks.map(big.label)).toEqual(["0 MiB", "1 MiB", "2 MiB", "3 MiB", "4 MiB"]);
    const huge = axis(12 * (1 << 30), true);
    expect(huge.ticks.map(huge.label)).toEqual(["0 GiB", "5 GiB", "10 GiB", "15 GiB"]);
    expect(axis(100, true).ticks.map(axis(100, true).label)).toEqual(["0 B", "20 B", "40 B", "60 B", "80 B", "100 B"]);
  });

  it("counts whole events and objects", () => {
    expect(axis(3, false, 8).ticks).toEqual([0, 1, 2, 3]);
    expect(axis(10, false, 8).ticks).toEqual([0, 2, 4, 6, 8, 10]);
    expect(axis(0, false).ticks).toEqual([0]);
  });
});
