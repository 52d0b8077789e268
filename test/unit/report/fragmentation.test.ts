// Fragmentation figures of small hand-made traces, each worked out by hand from the size
// classes and the page heap's placement rules (the comments show the sums). Every replay
// starts the same way: mallocinit's self-test takes page 0 for a class-2 (16 B) span, the
// first allocation starts GC 1, which allocates gc's parallel-for descriptor (1152 B, class
// 32: 7 objects on one page, 128 B tail) and hands the then empty class-2 span back to the
// heap. The arena grows by 1 MiB: 128 pages.

import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FRAGMENTATION_DEFINITIONS } from "../../../src/report/report.js";
import { repoRoot } from "../trace/helpers.js";
import { replayLines } from "./helpers.js";

const ParFor = { class: 32, size: 1152, spans: 1, objects: 1, capacity: 7, utilisation: 1 / 7, partialSpans: 1, freeSlotBytes: 6 * 1152, tailWasteBytes: 128 };

describe("internal fragmentation", () => {
  it("size-class rounding, large-object pages and tiny slack, of the objects the trace still references", async () => {
    const { report } = await replayLines([
      "goalloc-trace 1",
      "a 1 100 flags=noscan", // class 8: 112 B, 12 B of rounding
      "a 2 33 flags=noscan", // class 4: 48 B, dead below, so not counted
      "a 3 40000 flags=noscan", // large: 5 pages = 40960 B, 960 B of rounding
      "a 4 5 flags=noscan", // tiny: a new 16-byte block, bytes 0-4
      "a 5 3 flags=noscan", // tiny: same block, bytes 5-7
      "d 2",
    ]);
    expect(report.fragmentation.internal).toEqual({
      requestedSizesKnown: true,
      requestedBytes: 100 + 40000 + 5 + 3,
      allocatedBytes: 112 + 40960 + 16,
      wasteBytes: 12 + 960,
      sizeClassWasteBytes: 12,
      pageWasteBytes: 960,
      tinySlackBytes: 16 - (5 + 3),
    });
  });

  it("leaves out the runtime's own objects (gc's descriptor, type tables): they are nobody's rounding", async () => {
    const { report } = await replayLines(["goalloc-trace 1", "a 1 64 type=main.T", "a 2 64 type=main.U"]);
    // Two 64-byte objects of class 5: no rounding, although the heap also holds the 1152-byte
    // descriptor and the span's type table.
    expect(report.fragmentation.internal).toMatchObject({ requestedBytes: 128, allocatedBytes: 128, wasteBytes: 0, tinySlackBytes: 0 });
    expect(report.memstats.HeapAlloc).toBeGreaterThan(128 + 1152);
  });

  it("says unknown rather than guessing for a Go log, whose sizes are already rounded", async () => {
    const { report } = await replayLines([
      "tracealloc(0xc208010000, 0x70, 0x0)",
      "goroutine 1 [running]:",
      "main.main()",
      "\t/tmp/x.go:3 +0x1",
      "",
    ]);
    expect(report.trace.format).toBe("golog");
    const internal = report.fragmentation.internal;
    expect(internal.requestedSizesKnown).toBe(false);
    expect(internal.requestedBytes).toBeNull();
    expect(internal.wasteBytes).toBeNull();
    expect(internal.sizeClassWasteBytes).toBeNull();
    expect(internal.pageWasteBytes).toBeNull();
    expect(report.fragmentation.johnstoneWilson.liveMeasure).toBe("logged bytes");
  });
});

describe("span-level fragmentation", () => {
  it("free slots and span tails add up to HeapInuse − HeapAlloc, per class", async () => {
    const { report } = await replayLines(["goalloc-trace 1", "a 1 1024 flags=noscan", "a 2 1024 flags=noscan", "a 3 1024 flags=noscan"]);
    // Class 31 (1024 B): 8 objects on one page, no tail; 3 used, 5 free.
    const c31 = { class: 31, size: 1024, spans: 1, objects: 3, capacity: 8, utilisation: 3 / 8, partialSpans: 1, freeSlotBytes: 5 * 1024, tailWasteBytes: 0 };
    const span = report.fragmentation.span;
    expect(span.byClass).toEqual([c31, ParFor]);
    expect(span.freeSlotBytes).toBe(5 * 1024 + 6 * 1152);
    expect(span.tailWasteBytes).toBe(128);
    expect(span.heapInuseMinusHeapAlloc).toBe(5 * 1024 + 6 * 1152 + 128);
    expect(report.memstats.HeapInuse - report.memstats.HeapAlloc).toBe(span.heapInuseMinusHeapAlloc);
  });

  it("counts an object that died but awaits its sweep as allocated", async () => {
    const { report } = await replayLines(["goalloc-trace 1", "a 1 1024 flags=noscan", "a 2 1024 flags=noscan", "d 2"]);
    expect(report.fragmentation.span.byClass[0]).toMatchObject({ class: 31, objects: 2, freeSlotBytes: 6 * 1024 });
  });
});

describe("external fragmentation", () => {
  it("free spans by length, the largest run and the share of free pages outside it", async () => {
    const { report } = await replayLines([
      "goalloc-trace 1",
      "a 1 81920 flags=noscan", // pages 1-10; GC 1 puts the descriptor on page 11, frees page 0
      "a 2 81920 flags=noscan", // pages 12-21
      "a 3 81920 flags=noscan", // pages 22-31, leaving 32-127 free
      "f 2", // pages 12-21 free again, between two in-use spans
    ]);
    const external = report.fragmentation.external;
    expect(external.freeSpansByPages).toEqual({ "1": 1, "10": 1, "96": 1 });
    expect(external.largestFreeRunPages).toBe(96);
    expect(external.freeOutsideLargestRun).toBeCloseTo(11 / 107, 12);
    expect(external.idleBytes).toBe(107 * 8192);
    expect(external.releasedBytes).toBe(0);
    expect(external.arenaHolePages).toBe(0);
  });
});

describe("Johnstone–Wilson", () => {
  it("#1–#4 from HeapInuse and the live requested bytes at every event", async () => {
    // HeapInuse is two pages (class 31 and the descriptor) after each event; live bytes are
    // 1024, 2048, 3072. #1 = 3·16384 / 6144 − 1; #2 = #4 = 16384 / 3072 − 1; #3 takes the
    // first event at peak HeapInuse, where 1024 bytes were live.
    const { report } = await replayLines(["goalloc-trace 1", "a 1 1024 flags=noscan", "a 2 1024 flags=noscan", "a 3 1024 flags=noscan"]);
    const jw = report.fragmentation.johnstoneWilson;
    expect(jw.allocatorMeasure).toBe("HeapInuse");
    expect(jw.liveMeasure).toBe("requested bytes");
    expect(jw.jw1).toBeCloseTo(7, 12);
    expect(jw.jw2).toBeCloseTo(16384 / 3072 - 1, 12);
    expect(jw.jw3).toBeCloseTo(15, 12);
    expect(jw.jw4).toBeCloseTo(16384 / 3072 - 1, 12);
  });

  it("garbage counts as allocator memory; live memory ends at the death, not at the sweep", async () => {
    // Events: a (HeapInuse 2 pages, 8192 live), d (2 pages, 0 live), gc (1 page, 0 live).
    const { report } = await replayLines(["goalloc-trace 1", "a 1 8192 flags=noscan", "d 1", "gc"]);
    const jw = report.fragmentation.johnstoneWilson;
    expect(jw.jw1).toBeCloseTo((16384 + 16384 + 8192) / 8192 - 1, 12);
    expect([jw.jw2, jw.jw3, jw.jw4]).toEqual([1, 1, 1]);
    expect(report.fragmentation.external.freeSpansByPages).toEqual({ "2": 1, "125": 1 });
  });
});

describe("definitions", () => {
  it("every measure in the JSON has one, and only those", async () => {
    const { report } = await replayLines(["goalloc-trace 1", "a 1 8 flags=noscan"]);
    const { definitions, ...measures } = report.fragmentation;
    const keys = Object.entries(measures).flatMap(([group, values]) => Object.keys(values).map((k) => `${group}.${k}`));
    expect(Object.keys(definitions).sort()).toEqual(keys.sort());
    expect(definitions).toEqual(FRAGMENTATION_DEFINITIONS);
    for (const text of Object.values(definitions)) expect(text).not.toMatch(/\n/);
  });

  it("docs/reports.md lists each one, word for word", () => {
    const readme = readFileSync(path.join(repoRoot, "docs", "reports.md"), "utf8");
    for (const [key, text] of Object.entries(FRAGMENTATION_DEFINITIONS)) expect(readme).toContain(`| \`${key}\` | ${text} |`);
  });
});
