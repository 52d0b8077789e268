// The timeline recorder: samples at every collection and every N events, maxima kept between
// samples, and pairwise merging that bounds the points for any trace length. Also the
// terminal chart's columns.

import { describe, expect, it } from "vitest";
import { columnMaxima, timelineChart, type ChartRow } from "../../../src/report/chart.js";
import { TIMELINE_POINTS, TimelineRecorder, type TimelinePoint } from "../../../src/replay/timeline.js";
import { replayLines } from "./helpers.js";

/** Feed events 1…n: HeapAlloc = value(e), HeapObjects = e, NumGC = gcs(e); line = e + 1. */
function feed(rec: TimelineRecorder, n: number, value: (e: number) => number, gcs: (e: number) => number = () => 0): void {
  for (let e = 1; e <= n; e++) rec.observe(e, e + 1, value(e), value(e), 1 << 20, 0, gcs(e), e);
}

describe("TimelineRecorder", () => {
  it("samples every N events and after every collection, restarting the interval there", () => {
    const rec = new TimelineRecorder(10);
    feed(rec, 100, (e) => e, (e) => (e >= 15 ? 1 : 0));
    const events = rec.timeline().points.map((p) => p.event);
    expect(events).toEqual([10, 15, 25, 35, 45, 55, 65, 75, 85, 95, 100]);
    expect(rec.timeline().points.map((p) => p.NumGC)).toEqual([0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it("interval 0: only at collections, and the open point at the end", () => {
    const rec = new TimelineRecorder(0);
    feed(rec, 50, (e) => e, (e) => (e >= 20 ? 1 : 0) + (e >= 40 ? 1 : 0));
    expect(rec.timeline().points.map((p) => [p.event, p.line, p.NumGC])).toEqual([
      [20, 21, 1],
      [40, 41, 2],
      [50, 51, 2],
    ]);
  });

  it("a point holds the maxima of the events it covers: a spike between samples shows", () => {
    const rec = new TimelineRecorder(10);
    feed(rec, 30, (e) => (e === 13 ? 1000 : 5));
    const points = rec.timeline().points;
    expect(points.map((p) => p.HeapAlloc)).toEqual([5, 1000, 5]);
    expect(points.map((p) => p.HeapObjects)).toEqual([10, 20, 30]);
  });

  it("halves when full: points stay evenly spread, maxima survive, memory stays bounded", () => {
    const rec = new TimelineRecorder(1);
    // 5000 samples: 2048 points, halved to 1024 of 2 samples, refilled to 2048 at event 4096,
    // halved to 1024 of 4, then 226 more points of 4 samples each.
    feed(rec, 5000, (e) => (e === 3333 ? 99999 : e % 7));
    const tl = rec.timeline();
    expect(tl.samplesPerPoint).toBe(4);
    expect(tl.points).toHaveLength(1250);
    expect(tl.points.map((p) => p.event)).toEqual(Array.from({ length: 1250 }, (_, i) => 4 * (i + 1)));
    expect(Math.max(...tl.points.map((p) => p.HeapAlloc))).toBe(99999);
    expect(tl.points.find((p) => p.HeapAlloc === 99999)?.event).toBe(3336);
  });

  it("never holds more than TIMELINE_POINTS points, the open one included", () => {
    for (const n of [TIMELINE_POINTS - 1, TIMELINE_POINTS, TIMELINE_POINTS + 1, 3 * TIMELINE_POINTS + 5, 100_000]) {
      const rec = new TimelineRecorder(1);
      feed(rec, n, (e) => e);
      const points = rec.timeline().points;
      expect(points.length).toBeLessThanOrEqual(TIMELINE_POINTS);
      expect(points[points.length - 1]!.event).toBe(n);
      expect(points[points.length - 1]!.HeapAlloc).toBe(n);
    }
  });

  it("rejects a negative or fractional interval", () => {
    expect(() => new TimelineRecorder(-1)).toThrow(RangeError);
    expect(() => new TimelineRecorder(1.5)).toThrow(RangeError);
  });
});

describe("the replay's timeline", () => {
  it("one point per event by default, with the runtime's figures after each", async () => {
    const { report } = await replayLines(["goalloc-trace 1", "a 1 8192 flags=noscan", "d 1", "gc"]);
    const pick = (p: TimelinePoint): number[] => [p.event, p.line, p.HeapInuse, p.NumGC, p.HeapObjects];
    expect(report.timeline.interval).toBe(1);
    expect(report.timeline.points.map(pick)).toEqual([
      [1, 2, 16384, 1, 2],
      [2, 3, 16384, 1, 2],
      [3, 4, 8192, 2, 1],
    ]);
  });

  it("follows --timeline-interval (the library's monitor.timelineInterval)", async () => {
    const lines = ["goalloc-trace 1", ...Array.from({ length: 40 }, (_, i) => `a ${i + 1} 64 flags=noscan`)];
    const { report } = await replayLines(lines, {}, { timelineInterval: 16 });
    // GC 1 at event 1, then samples at 17 and 33, and the open point at 40.
    expect(report.timeline.points.map((p) => p.event)).toEqual([1, 17, 33, 40]);
  });
});

describe("terminal chart", () => {
  const point = (event: number, v: number, gc = 0): TimelinePoint => ({
    event,
    line: event,
    HeapAlloc: v,
    HeapInuse: v,
    HeapSys: v,
    NextGC: 0,
    NumGC: gc,
    HeapObjects: v,
  });

  it("a point lights every column its events cover; a column keeps the maximum", () => {
    // 3 points over 12 events on 4 columns of 3 events: (0,2] (2,9] (9,12].
    const pts = [point(2, 10), point(9, 4), point(12, 7)];
    expect(columnMaxima(pts, (p) => p.HeapAlloc, 4)).toEqual([10, 4, 4, 7]);
  });

  it("rows share a scale by name; the GC row marks the columns where NumGC rose", () => {
    const pts = [point(1, 8, 1), point(2, 4, 1), point(3, 2, 2), point(4, 0, 2)];
    const rows: ChartRow[] = [
      { label: "a", field: (p) => p.HeapAlloc, scale: "s", format: String },
      { label: "b", field: (p) => p.HeapAlloc / 2, scale: "s", format: String },
      { label: "c", field: (p) => p.HeapAlloc / 2, scale: "own", format: String },
    ];
    expect(timelineChart(pts, rows)).toEqual([
      "events 1–4, 4 columns of 1 event; each column is the maximum over its events",
      "a           █▄▂   8",
      "b           ▄▂▁   4",
      "c           █▄▂   4",
      "GC          |·|·  2 collections",
    ]);
  });
});
