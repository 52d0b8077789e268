// Allocation sites (src/report/sites.ts): a stack named by its first frames outside the
// allocator, with file:line; the report's peak sites and the text tables built on them, for a
// Go log written inline (gc Go 1.3's frames) and, when the oracle is here, a real go1.3.3 log.

import { Chalk } from "chalk";
import { describe, expect, it } from "vitest";
import { replay } from "../../../src/index.js";
import { isAllocatorFrame, siteFrameIndex, siteFrames, siteLabel, type SiteStack } from "../../../src/report/sites.js";
import { peaksSection, profileSection } from "../../../src/report/table.js";
import { replayLines } from "./helpers.js";
import { needsOracle, oraclePath } from "../../oracle.js";

const plain = new Chalk({ level: 0 });

describe("the frame that names a site", () => {
  it("is the first past the allocator's, in gc 1.3, gccgo and modern spellings", () => {
    expect(siteFrameIndex(["runtime.mallocgc", "cnew", "runtime.cnewarray", "makeslice1", "runtime.makeslice", "main.main", "runtime.main"])).toBe(5);
    expect(siteFrameIndex(["runtime.mallocgc", "runtime.new", "main.main"])).toBe(2);
    // A span's type table is allocated inside the typed allocation's mallocgc.
    expect(siteFrameIndex(["runtime.mallocgc", "settype", "runtime.mallocgc", "cnew", "runtime.cnew", "runtime.allocm", "newm"])).toBe(5);
    expect(siteFrameIndex(["runtime.mallocgc", "gostringsize", "concatstring", "runtime.concatstring2", "main.f"])).toBe(4);
    expect(siteFrameIndex(["runtime.mallocgc", "cnew", "runtime.cnewarray", "hash_grow", "hash_insert", "runtime.mapassign1", "main.f"])).toBe(6);
    expect(siteFrameIndex(["runtime_mallocgc", "__go_make_slice2", "main.f"])).toBe(2);
    expect(siteFrameIndex(["runtime_mallocgc", "__go_alloc", "__go_map_index", "main.f"])).toBe(3);
    expect(siteFrameIndex(["runtime.mallocgc", "runtime.newobject", "runtime.mapassign_faststr", "main.f"])).toBe(3);
    expect(siteFrameIndex(["runtime.mallocgc", "runtime.growslice", "main.f"])).toBe(2);
  });

  it("is the innermost when every frame is the allocator's or the runtime allocates for itself", () => {
    expect(siteFrameIndex(["runtime.mallocgc", "runtime.new"])).toBe(0);
    expect(siteFrameIndex(["runtime.gc", "runtime.mallocgc", "cnew"])).toBe(0);
    expect(siteFrameIndex(["runtime.mallocgc", "runtime.malg", "runtime.newproc1"])).toBe(1);
    expect(siteFrameIndex(["main.a", "main.main"])).toBe(0);
    expect(siteFrameIndex([])).toBe(0);
    // The runtime's own work is not the allocator's: goroutines, stacks, defers name their sites.
    expect(isAllocatorFrame("runtime.malg")).toBe(false);
    expect(isAllocatorFrame("runtime.stackalloc")).toBe(false);
    expect(isAllocatorFrame("runtime.deferproc")).toBe(false);
  });

  it("reads `func file:line`, the file's base name, escaped", () => {
    const s: SiteStack = {
      stack: ["runtime.mallocgc", "runtime.new", "main.\u001b[7mf", "main.main", "runtime.main"],
      locations: ["/usr/local/go/src/pkg/runtime/malloc.goc:191", "/usr/local/go/src/pkg/runtime/malloc.goc:810", "/home/gopher/x.go:7", "/home/gopher/x.go:3", ""],
      siteFrame: 2,
    };
    expect(siteLabel(siteFrames(s))).toBe("main.\\x1b[7mf x.go:7 < main.main x.go:3 < runtime.main");
    expect(siteLabel(siteFrames(s, 1))).toBe("main.\\x1b[7mf x.go:7");
  });
});

/** A gc Go 1.3 tracealloc record: the allocator's frames, then the program's at `line`. */
function record(addr: string, size: string, via: string[], line: number): string[] {
  const frame = (func: string, file: string): string[] => [`${func}(0x1)`, `\t${file} +0x1 fp=0x1 sp=0x2`];
  return [
    `tracealloc(${addr}, ${size}, array)`,
    "goroutine 16 [running]:",
    ...frame("runtime.mallocgc", "/usr/local/go/src/pkg/runtime/malloc.goc:191"),
    ...frame("cnew", "/usr/local/go/src/pkg/runtime/malloc.goc:836"),
    ...frame("runtime.cnewarray", "/usr/local/go/src/pkg/runtime/malloc.goc:849"),
    ...via.flatMap((v) => frame(v, "/usr/local/go/src/pkg/runtime/hashmap.goc:600")),
    ...frame("main.main", `/home/gopher/m.go:${line}`),
    ...frame("runtime.main", "/usr/local/go/src/pkg/runtime/proc.c:247"),
    "",
  ];
}

// Line 12 inserts into a map twice, once growing it: two stacks, one site. Line 13 makes a slice.
const LOG = [
  ...record("0xc208010000", "0x70", ["hash_insert", "runtime.mapassign1"], 12),
  ...record("0xc208010080", "0x70", ["hash_grow", "hash_insert", "runtime.mapassign1"], 12),
  ...record("0xc208011000", "0x1000", ["makeslice1", "runtime.makeslice"], 13),
];

describe("the sites of a Go log", () => {
  it("are its program's lines: stacks through different allocator frames from one line are one site", async () => {
    const { report } = await replayLines(LOG, { memprofilerate: 1 });
    const live = report.peakSites.HeapAlloc;
    expect(live.siteDepth).toBe(3);
    const line12 = live.sites.find((s) => s.locations[s.siteFrame] === "/home/gopher/m.go:12")!;
    expect(line12).toMatchObject({ siteFrame: 5, liveBytes: 224, liveObjects: 2, stacks: 2 });
    // The biggest of the site's stacks, whole, as the log printed it.
    expect(line12.stack).toEqual(["runtime.mallocgc", "cnew", "runtime.cnewarray", "hash_insert", "runtime.mapassign1", "main.main", "runtime.main"]);
    expect(peaksSection(report, plain).slice(1, 3).join("\n")).toBe(
      [
        "Live at the HeapAlloc, HeapInuse and HeapObjects peaks (event 3, line 37), by allocation site:",
        "┌────────────┬─────────┬─────────────────────────────────────────────┐",
        "│ live bytes │ objects │ site                                        │",
        "├────────────┼─────────┼─────────────────────────────────────────────┤",
        "│ 32.3 KiB   │ 4       │ runtime.schedinit                           │",
        "│ 4.0 KiB    │ 1       │ main.main m.go:13 < runtime.main proc.c:247 │",
        "│ 224 B      │ 2       │ main.main m.go:12 < runtime.main proc.c:247 │",
        "└────────────┴─────────┴─────────────────────────────────────────────┘",
      ].join("\n"),
    );
    // The profile keeps one bucket per stack; its table sums a site's buckets.
    expect(report.profile.sites.filter((s) => s.locations[s.siteFrame] === "/home/gopher/m.go:12")).toHaveLength(2);
    expect(profileSection(report, plain).join("\n")).toBe(
      [
        "every allocation sampled (MemProfileRate 1): the figures are exact",
        "┌──────────────┬─────────────┬─────────────┬────────────┬─────────────────────────────────────────────┐",
        "│ in-use bytes │ in-use objs │ alloc bytes │ alloc objs │ site                                        │",
        "├──────────────┼─────────────┼─────────────┼────────────┼─────────────────────────────────────────────┤",
        "│ 4.0 KiB      │ 1           │ 4.0 KiB     │ 1          │ main.main m.go:13 < runtime.main proc.c:247 │",
        "│ 336 B        │ 3           │ 336 B       │ 3          │ runtime.schedinit                           │",
        "│ 224 B        │ 2           │ 224 B       │ 2          │ main.main m.go:12 < runtime.main proc.c:247 │",
        "│ 0 B          │ 0           │ 16 B        │ 1          │ runtime.mallocinit                          │",
        "└──────────────┴─────────────┴─────────────┴────────────┴─────────────────────────────────────────────┘",
      ].join("\n"),
    );
  });

  it("group coarser with a smaller depth: one frame, function and line", async () => {
    const { report } = await replayLines(LOG, { memprofilerate: 1 }, { siteDepth: 1 });
    expect(report.peakSites.HeapAlloc.sites.map((s) => [siteLabel(siteFrames(s, 1)), s.liveBytes, s.stacks])).toEqual([
      ["runtime.schedinit", 33104, 1],
      ["main.main m.go:13", 4096, 1],
      ["main.main m.go:12", 224, 2],
    ]);
  });
});

const P1_SMALL = oraclePath("go1.3.3-amd64", "p1_small.allocfreetrace.txt.xz");

// p1_small.go's main.main: make at lines 46-50 (the keep slices), 56 (tiny), 70 (small
// noscan), 75 (small scan), 85 (medium); new at 58, 62 and 76. Every one of its stacks used
// to read `runtime.mallocgc < cnew < runtime.cnewarray`, a row per size bucket.
describe("go1.3.3 p1_small (oracle)", needsOracle(P1_SMALL), () => {
  it("names each make of main.main by its line, and merges a stack's size buckets", async () => {
    const { report } = await replay(P1_SMALL);
    // Line 70's four size buckets (8 samples) are one row.
    expect(profileSection(report, plain).join("\n")).toBe(
      [
        "sampled: as the runtime recorded them (a sample per MemProfileRate bytes on average); estimated: each bucket scaled as go tool pprof scales a heap profile",
        "┌──────────────┬─────────────┬─────────────┬────────────┬──────────────┬─────────────┬─────────────────────────────────────────────────────────────────────────────────┐",
        "│ in-use bytes │ in-use objs │ alloc bytes │ alloc objs │ in-use bytes │ alloc bytes │ site                                                                            │",
        "│ sampled      │ sampled     │ sampled     │ sampled    │ estimated    │ estimated   │                                                                                 │",
        "├──────────────┼─────────────┼─────────────┼────────────┼──────────────┼─────────────┼─────────────────────────────────────────────────────────────────────────────────┤",
        "│ 472.0 KiB    │ 1           │ 472.0 KiB   │ 1          │ 783.8 KiB    │ 783.8 KiB   │ main.main p1_small.go:46 < runtime.main proc.c:247 < runtime.goexit proc.c:1445 │",
        "│ 14.4 KiB     │ 8           │ 14.4 KiB    │ 8          │ 4.0 MiB      │ 4.0 MiB     │ main.main p1_small.go:70 < runtime.main proc.c:247 < runtime.goexit proc.c:1445 │",
        "│ 288 B        │ 1           │ 288 B       │ 1          │ 512.1 KiB    │ 512.1 KiB   │ runtime.schedinit                                                               │",
        "│ 0 B          │ 0           │ 16 B        │ 1          │ 0 B          │ 512.0 KiB   │ runtime.mallocinit                                                              │",
        "│ 0 B          │ 0           │ 0 B         │ 0          │ 0 B          │ 0 B         │ main.main p1_small.go:85 < runtime.main proc.c:247 < runtime.goexit proc.c:1445 │",
        "│ 0 B          │ 0           │ 0 B         │ 0          │ 0 B          │ 0 B         │ main.main p1_small.go:75 < runtime.main proc.c:247 < runtime.goexit proc.c:1445 │",
        "└──────────────┴─────────────┴─────────────┴────────────┴──────────────┴─────────────┴─────────────────────────────────────────────────────────────────────────────────┘",
      ].join("\n"),
    );
  }, 60_000);

  it("--memprofile-at end at rate 1: the sampled objects in use at the end, not those of the last collection", async () => {
    const { report } = await replay(P1_SMALL, { memprofilerate: 1 }, undefined, { memprofileAt: "end" });
    const sites = report.profile.sites;
    const inuse = [sites.reduce((n, s) => n + s.inuseObjects, 0), sites.reduce((n, s) => n + s.inuseBytes, 0)];
    expect(inuse).toEqual([10503, 17605824]);
    // 16.8 MiB: the bytes the log still references at its end (its HeapAlloc peak), but for
    // those never sampled (NoProfiling: settype's 184 tables, 21,952 B, and the signal
    // goroutine's 32 KiB stack), plus the collector's parallel-for descriptor (runtime.gc).
    expect(report.peak.HeapAlloc.event).toBe(report.trace.events);
    expect(report.peakSites.HeapAlloc.liveBytes - 21952 - 32768 + 1152).toBe(17605824);
    // As of the last collection (GC 6), what runtime.MemProfile returns: a quarter of it.
    const published = (await replay(P1_SMALL, { memprofilerate: 1 })).outcome.snapshot.profile.records;
    expect([published.reduce((n, r) => n + r.allocObjects - r.freeObjects, 0), published.reduce((n, r) => n + r.allocBytes - r.freeBytes, 0)]).toEqual([5229, 4597192]);
  }, 60_000);

  it("at depth 1, the live sites at the peak are main.main's lines", async () => {
    const { report } = await replay(P1_SMALL, {}, undefined, { siteDepth: 1 });
    // Line 75's 2,162 objects: 2,000 slices and the type tables of their spans (settype).
    expect(peaksSection(report, plain, 8).slice(1, 3).join("\n")).toBe(
      [
        "Live at the HeapAlloc and HeapObjects peaks (event 10,734, line 214,733), by allocation site:",
        "┌────────────┬─────────┬──────────────────────────────────────┐",
        "│ live bytes │ objects │ site                                 │",
        "├────────────┼─────────┼──────────────────────────────────────┤",
        "│ 10.8 MiB   │ 600     │ main.main p1_small.go:85             │",
        "│ 4.2 MiB    │ 4,000   │ main.main p1_small.go:70             │",
        "│ 1.0 MiB    │ 2,162   │ main.main p1_small.go:75             │",
        "│ 472.0 KiB  │ 1       │ main.main p1_small.go:46             │",
        "│ 120.0 KiB  │ 1       │ main.main p1_small.go:47             │",
        "│ 65.0 KiB   │ 2,008   │ main.main p1_small.go:76             │",
        "│ 33.7 KiB   │ 4       │ runtime.notetsleepg lock_futex.c:198 │",
        "│ 32.3 KiB   │ 4       │ runtime.schedinit                    │",
        "└────────────┴─────────┴──────────────────────────────────────┘",
      ].join("\n"),
    );
  }, 60_000);
});
