// The HTML report as text: self-contained (no scripts, no external references), escaped,
// deterministic, with every chart; the arena map's merging bound; the charts' axes.
// test/e2e/html.test.ts renders it in Chromium.

import { describe, expect, it } from "vitest";
import { replay } from "../../../src/index.js";
import { axis, gcColumns, htmlReport, labelCentre, renderHtml } from "../../../src/report/html.js";
import { peakGroups } from "../../../src/report/table.js";
import type { TimelinePoint } from "../../../src/replay/timeline.js";
import { buildArenaMap } from "../../../src/report/report.js";
import { replayLines } from "./helpers.js";

describe("the HTML report", () => {
  it("is one self-contained page: inline SVG charts, no scripts, no external references", async () => {
    const { report, outcome } = await replay("traces/profile.trace");
    const html = htmlReport(report, outcome.snapshot);
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    for (const id of ["heap-chart", "objects-chart", "class-chart", "arena-map"]) expect(html).toContain(`<svg id="${id}"`);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|\ssrc=|\shref=/i);
    // The only URL is the SVG namespace, which is a name, not a fetch.
    expect(html.match(/[a-z]+:\/\/[^"' )]+/gi)?.filter((u) => u !== "http://www.w3.org/2000/svg") ?? []).toEqual([]);
    for (const key of Object.keys(report.fragmentation.definitions)) expect(html).toContain(`<td>${key}</td>`);
    // Ratio fields as ratios, as the text report and check print them (docs/reports.md).
    const large = await replay("traces/large.trace");
    expect(htmlReport(large.report, large.outcome.snapshot)).toContain("<tr><td>johnstoneWilson.jw1</td><td>0.02598</td>");
  });

  it("is the same bytes for the same replay", async () => {
    const a = await replay("traces/gc.trace");
    const b = await replay("traces/gc.trace");
    expect(htmlReport(a.report, a.outcome.snapshot)).toBe(htmlReport(b.report, b.outcome.snapshot));
  });

  it("escapes what the trace names", async () => {
    const { report, outcome } = await replayLines(["goalloc-trace 1", `s 1 main.<script>alert("x")</script>;main.main`, "a 1 64 stack=1"]);
    const html = renderHtml(report, buildArenaMap(outcome.snapshot.heap));
    expect(html).not.toContain("<script>");
    expect(html).toContain("main.&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;");
  });

  it("ticks the collections in a strip above the plot, every collection counted once, the lines drawn apart", async () => {
    const { report, outcome } = await replay("traces/gc.trace");
    const html = htmlReport(report, outcome.snapshot);
    const heap = html.slice(html.indexOf('<svg id="heap-chart"'), html.indexOf("</svg>", html.indexOf('<svg id="heap-chart"')));
    const strip = heap.slice(heap.indexOf('<g class="gc-strip">'), heap.indexOf("</g>", heap.indexOf('<g class="gc-strip">')));
    // Every mark is in the strip, none among the lines.
    expect(heap.match(/<line class="gc"/g)).toHaveLength(strip.match(/<line class="gc"/g)!.length);
    expect(Array.from(strip.matchAll(/data-gcs="(\d+)"/g), (m) => Number(m[1])).reduce((a, b) => a + b, 0)).toBe(report.memstats.NumGC);
    expect(Array.from(strip.matchAll(/ y1="(\d+)" y2="(\d+)"/g), (m) => [m[1], m[2]])).toEqual(Array(strip.match(/<line class="gc"/g)!.length).fill(["10", "24"]));
    expect(heap).toContain('<rect class="plot" x="80" y="30" width="860" height="288"/>');
    const lines = heap.slice(heap.indexOf('<g class="lines"'));
    expect(lines.match(/data-series="(\w+)"/g)).toEqual(['data-series="HeapSys"', 'data-series="HeapInuse"', 'data-series="HeapAlloc"', 'data-series="NextGC"']);
  });

  it("keeps every x-axis label inside the SVG on a 10M-event timeline", async () => {
    const { report, outcome } = await replay("traces/gc.trace");
    // The same points spread over ten million events: the last label is "10,000,000".
    const last = report.timeline.points[report.timeline.points.length - 1]!.event;
    const points = report.timeline.points.map((p) => ({ ...p, event: Math.round((p.event / last) * 10_000_000) }));
    const html = renderHtml({ ...report, timeline: { ...report.timeline, points } }, buildArenaMap(outcome.snapshot.heap));
    const heap = html.slice(html.indexOf('<svg id="heap-chart"'), html.indexOf("</svg>", html.indexOf('<svg id="heap-chart"')));
    const labels = Array.from(heap.matchAll(/<text class="tick" x="([\d.]+)" y="334" text-anchor="middle">([^<]+)<\/text>/g), (m) => ({ x: Number(m[1]), text: m[2]! }));
    expect(labels.map((l) => l.text)).toEqual(["0", "2,000,000", "4,000,000", "6,000,000", "8,000,000", "10,000,000"]);
    // 6.5 px per character bounds an 11px label; the ends move in, the middle ones stay on their ticks.
    expect(labels.map((l) => l.x)).toEqual([80, 252, 424, 596, 768, 926.5]);
    for (const l of labels) {
      expect(l.x - (l.text.length * 6.5) / 2).toBeGreaterThanOrEqual(0);
      expect(l.x + (l.text.length * 6.5) / 2).toBeLessThanOrEqual(960);
    }
  });

  it("lists the live sites once per distinct peak event, peaks at one event sharing a table", async () => {
    const { report, outcome } = await replay("traces/profile.trace");
    const html = htmlReport(report, outcome.snapshot);
    const groups = peakGroups(report);
    expect(groups.flat().sort()).toEqual(["HeapAlloc", "HeapInuse", "HeapObjects", "HeapSys", "Sys"]);
    expect(new Set(groups.map((g) => report.peak[g[0]!].event)).size).toBe(groups.length);
    for (const g of groups) for (const name of g) expect(report.peak[name].event).toBe(report.peak[g[0]!].event);
    expect(Array.from(html.matchAll(/<div class="peak-sites" data-peaks="([^"]+)"/g), (m) => m[1])).toEqual(groups.map((g) => g.join(" ")));
  });
});

describe("collection ticks", () => {
  const point = (event: number, NumGC: number): TimelinePoint => ({ event, line: event + 1, HeapAlloc: 0, HeapInuse: 0, HeapSys: 0, NextGC: 0, NumGC, HeapObjects: 0 });

  it("merge the collections of one pixel column into one tick", () => {
    // 100 pixels over 1,000 events: events 1–9 fall in column 0, 10–19 in column 1.
    const pts = [point(3, 1), point(5, 1), point(8, 3), point(12, 4), point(999, 4), point(1000, 6)];
    expect(gcColumns(pts, 100, 1000)).toEqual([
      { column: 0, first: 1, last: 3, fromEvent: 3, toEvent: 8, line: 4 },
      { column: 1, first: 4, last: 4, fromEvent: 12, toEvent: 12, line: 13 },
      { column: 99, first: 5, last: 6, fromEvent: 1000, toEvent: 1000, line: 1001 },
    ]);
    expect(gcColumns([point(10, 0)], 100, 1000)).toEqual([]);
  });

  it("centre labels on their tick unless that would cut them at an edge", () => {
    expect(labelCentre(500, "1,000")).toBe(500);
    expect(labelCentre(940, "10,000,000")).toBe(926.5);
    expect(labelCentre(2, "0")).toBe(4.25);
  });
});

describe("the arena map", () => {
  // 60 large objects of 5 pages, every other one freed: free and in-use spans alternate.
  const LINES = ["goalloc-trace 1", ...Array.from({ length: 60 }, (_, i) => `a ${i} 40000 flags=noscan`), ...Array.from({ length: 30 }, (_, i) => `f ${2 * i}`)];

  it("lists every span in address order, covering the arena without overlaps", async () => {
    const { outcome } = await replayLines(LINES);
    const map = buildArenaMap(outcome.snapshot.heap);
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
    const full = buildArenaMap(outcome.snapshot.heap);
    const merged = buildArenaMap(outcome.snapshot.heap, 10);
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
