// Peak attribution: the event and line of each peak, and the allocation sites the trace
// referenced at that event (not at the end of the replay). Also LiveSites, the copy-on-write
// snapshots behind it, against a naive model that copies every counter at every peak.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LiveSites } from "../../../src/replay/live-sites.js";
import { replayLines } from "./helpers.js";

// Large objects (40000 B = 5 pages, 30000 B = 4 pages) so that HeapAlloc moves page by page.
// GC 1 runs at the first allocation (its descriptor adds 1152 B); line numbers count the
// header and the two stack definitions.
const PEAK_TRACE = [
  "goalloc-trace 1",
  "s 1 main.a;main.main",
  "s 2 main.b;main.main",
  "a 1 40000 flags=noscan stack=1", // line 4, event 1
  "a 2 30000 flags=noscan stack=2", // line 5, event 2
  "a 3 30000 flags=noscan stack=2", // line 6, event 3: the peak
  "f 1", // event 4
  "a 4 100 flags=noscan stack=1", // event 5
  "d 3", // event 6
  "gc", // event 7
];

describe("peaks", () => {
  it("name the event and the trace line where each maximum was first reached", async () => {
    const { report } = await replayLines(PEAK_TRACE);
    expect(report.peak.HeapAlloc).toEqual({ value: 40960 + 32768 + 32768 + 1152, event: 3, line: 6 });
    expect(report.peak.HeapInuse).toEqual({ value: (5 + 4 + 4 + 1) * 8192, event: 3, line: 6 });
    expect(report.peak.HeapObjects).toEqual({ value: 4, event: 3, line: 6 });
    // The arena's first MiB is mapped before the first event; event 1 is where it first shows.
    expect(report.peak.HeapSys).toEqual({ value: 1 << 20, event: 1, line: 4 });
  });

  it("come with the sites live at that event, not at the end", async () => {
    const { report } = await replayLines(PEAK_TRACE);
    // A native trace has no file:line, and no allocator frames: the whole stack names the site.
    const site = (name: string, liveBytes: number, liveObjects: number) => ({ stack: [name, "main.main"], locations: ["", ""], siteFrame: 0, liveBytes, liveObjects, stacks: 1 });
    const atPeak = { liveBytes: 100000, liveObjects: 3, siteDepth: 3, sites: [site("main.b", 60000, 2), site("main.a", 40000, 1)] };
    expect(report.peakSites.HeapAlloc).toEqual(atPeak);
    expect(report.peakSites.HeapInuse).toEqual(atPeak);
    expect(report.peakSites.HeapObjects).toEqual(atPeak);
    // At event 1 only main.a's object existed.
    expect(report.peakSites.HeapSys).toEqual({ liveBytes: 40000, liveObjects: 1, siteDepth: 3, sites: [site("main.a", 40000, 1)] });
    // Whereas at the end: 30000 B of main.b and 100 B of main.a.
    expect(report.fragmentation.internal.requestedBytes).toBe(30100);
  });

  it("attribute a Go log's untraced start-up objects to runtime.schedinit", async () => {
    const { report } = await replayLines(["tracealloc(0xc208010000, 0x70, 0x0)", "goroutine 1 [running]:", "main.main()", "\t/tmp/x.go:3 +0x1", ""]);
    const names = report.peakSites.HeapAlloc.sites.map((s) => s.stack[0]);
    expect(names).toContain("runtime.schedinit");
    expect(names).toContain("main.main");
  });
});

/** A naive model: full copies of the counters at every mark. */
class NaiveSites {
  private readonly live = new Map<number, { bytes: number; objects: number }>();
  private readonly snaps: Map<number, { bytes: number; objects: number }>[];
  constructor(k: number) {
    this.snaps = Array.from({ length: k }, () => new Map());
  }
  add(stack: number, size: number, sign: 1 | -1): void {
    const c = this.live.get(stack) ?? { bytes: 0, objects: 0 };
    this.live.set(stack, { bytes: c.bytes + sign * size, objects: c.objects + sign });
  }
  mark(k: number): void {
    this.snaps[k] = new Map([...this.live].map(([s, c]) => [s, { ...c }]));
  }
  snapshot(k: number): { stack: number; liveBytes: number; liveObjects: number }[] {
    return [...this.snaps[k]!]
      .filter(([, c]) => c.objects !== 0)
      .map(([stack, c]) => ({ stack, liveBytes: c.bytes, liveObjects: c.objects }))
      .sort((a, b) => b.liveBytes - a.liveBytes || a.stack - b.stack);
  }
}

describe("LiveSites", () => {
  it("keeps the counters of each peak's last mark, however they change afterwards", () => {
    type Op = { kind: "alloc"; stack: number; size: number } | { kind: "free"; pick: number } | { kind: "mark"; k: number };
    const op = fc.oneof(
      fc.record({ kind: fc.constant("alloc" as const), stack: fc.integer({ min: -4, max: 200 }), size: fc.integer({ min: 0, max: 5000 }) }),
      fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant("mark" as const), k: fc.integer({ min: 0, max: 2 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops: Op[]) => {
        const sites = new LiveSites(3);
        const naive = new NaiveSites(3);
        const objects: { stack: number; size: number }[] = [];
        for (const o of ops) {
          if (o.kind === "alloc") {
            sites.add(o.stack, o.size);
            naive.add(o.stack, o.size, 1);
            objects.push({ stack: o.stack, size: o.size });
          } else if (o.kind === "free" && objects.length > 0) {
            const [obj] = objects.splice(o.pick % objects.length, 1);
            sites.remove(obj!.stack, obj!.size);
            naive.add(obj!.stack, obj!.size, -1);
          } else if (o.kind === "mark") {
            sites.mark(o.k);
            naive.mark(o.k);
          }
        }
        for (let k = 0; k < 3; k++) {
          const snap = sites.snapshot(k);
          const want = naive.snapshot(k);
          expect(snap.sites).toEqual(want);
          expect(snap.liveBytes).toBe(want.reduce((n, s) => n + s.liveBytes, 0));
          expect(snap.liveObjects).toBe(want.reduce((n, s) => n + s.liveObjects, 0));
        }
      }),
    );
  });

  it("a peak never marked is the state before the first object", () => {
    const sites = new LiveSites(2);
    sites.add(3, 100);
    sites.mark(1);
    sites.add(3, 50);
    expect(sites.snapshot(0)).toEqual({ liveBytes: 0, liveObjects: 0, sites: [] });
    expect(sites.snapshot(1)).toEqual({ liveBytes: 100, liveObjects: 1, sites: [{ stack: 3, liveBytes: 100, liveObjects: 1 }] });
  });
});
