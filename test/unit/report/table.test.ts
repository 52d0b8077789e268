// The human report's new sections, to the character, without colour: the heap chart and the
// fragmentation table of traces/large.trace (whose figures test/e2e/cli.test.ts derives),
// once from the renderer and once from the real command on a terminal with NO_COLOR set.
// Also the --help list of definitions.

import { describe, expect, it } from "vitest";
import { Chalk } from "chalk";
import { replay } from "../../../src/index.js";
import { FRAGMENTATION_DEFINITIONS } from "../../../src/report/report.js";
import { fragmentationSection, peaksSection, profileSection, ratio, renderDefinitions, renderReport, timelineSection } from "../../../src/report/table.js";
import { formatValue } from "../../../src/check/render.js";
import { ensureBuilt, goalloc, goallocOnTerminal, scriptPath } from "../../e2e/goalloc.js";

const CHART = [
  "events 1–10, 10 columns of 1 event; each column is the maximum over its events",
  "HeapSys     ▃▃▃▃▃▃▃███  3.9 MiB",
  "HeapInuse   ▁▁▁▁▁▁▁▇▁▅  3.0 MiB",
  "HeapAlloc   ▁▁▁▁▁▁▁▇▁▅  3.0 MiB",
  "HeapObjects ▃▄▆▆▄▆▇█▇█  6 objects",
  "GC          |·|·|··|··  4 collections",
];

const FRAGMENTATION = `┌─────────────────────────────────┬─────────────────────────────────────────────────────────────────────────────┐
│ measure                         │ value                                                                       │
├─────────────────────────────────┼─────────────────────────────────────────────────────────────────────────────┤
│ internal: live requested        │ 2.0 MiB                                                                     │
│ internal: live rounded          │ 2.0 MiB                                                                     │
│ internal: size-class rounding   │ 0 B                                                                         │
│ internal: large-object pages    │ 8.8 KiB                                                                     │
│ internal: tiny-block slack      │ 0 B                                                                         │
│ span: HeapInuse − HeapAlloc     │ 6.9 KiB (free slots 6.8 KiB, span tails 128 B)                              │
│ span: partly filled small spans │ 1 of 3                                                                      │
│ external: free spans × pages    │ 1×1, 1×234                                                                  │
│ external: largest free run      │ 234 pages (0.4% of free pages outside it)                                   │
│ external: idle / released       │ 1.8 MiB / 0 B                                                               │
│ external: arena holes           │ 0 pages                                                                     │
│ Johnstone–Wilson #1–#4          │ 0.02598  0.005311  0.005311  0.005311 (HeapInuse over live requested bytes) │
└─────────────────────────────────┴─────────────────────────────────────────────────────────────────────────────┘
definitions: goalloc replay --help, or fragmentation.definitions in --json`;

const SECTIONS = ["Heap over time", ...CHART, "", "Fragmentation", FRAGMENTATION, ""].join("\n");

const plain = new Chalk({ level: 0 });

describe("the human report without colour", () => {
  it("heap chart and fragmentation table of large.trace", async () => {
    const { report } = await replay("traces/large.trace");
    expect(timelineSection(report)).toEqual(CHART);
    expect(fragmentationSection(report, plain).join("\n")).toBe(FRAGMENTATION);
    expect(renderReport(report, { color: false })).toContain(SECTIONS);
  });

  it("ratio fields read as check, compare and diff print them: Johnstone–Wilson and the match rate as ratios", async () => {
    const { report } = await replay("traces/large.trace");
    const jw = report.fragmentation.johnstoneWilson;
    expect([jw.jw1, jw.jw2, jw.jw3, jw.jw4].map(ratio)).toEqual([jw.jw1, jw.jw2, jw.jw3, jw.jw4].map((v) => formatValue("ratio", v)));
    expect([ratio(0.000006781684), ratio(-0.25), ratio(1), ratio(null)]).toEqual(["0.000006782", "-0.25", "1", "n/a"]);
    const log = await replay("traces/go1.3.3-p0.log", { until: "MEMSTATS_SNAPSHOT" });
    expect(renderReport(log.report, { color: false })).toContain("\n105 of 105 allocations at the logged address (match rate 1)\n");
  });

  it("peaks: the live sites at the heap peak follow the table", async () => {
    const { report } = await replay("traces/large.trace");
    const text = peaksSection(report, plain).join("\n");
    expect(text).toContain("│ HeapAlloc   │ 3.0 MiB │ 8     │ 12   │ 3.0 MiB in 5 objects         │");
    expect(text).toContain("Live at the HeapAlloc, HeapInuse, HeapSys, Sys and HeapObjects peaks (event 8, line 12), by allocation site:");
    expect(text).toContain("│ 3.0 MiB    │ 5       │ (no stack in the trace) │");
  });

  it("profile: sampled figures as recorded and estimated ones as go tool pprof scales them", async () => {
    const { report } = await replay("traces/profile.trace");
    // bytes.makeSlice's four size buckets are one row; each is scaled on its own, so its
    // estimate is not its sampled bytes scaled at one size. pprof's -unit=B figures for this
    // profile: image.NewRGBA 2,425,393 B in use (2.31MB), bytes.makeSlice 2,664,949 B.
    const section = profileSection(report, plain).join("\n");
    expect(section).toBe(
      [
        "sampled: as the runtime recorded them (a sample per MemProfileRate bytes on average); estimated: each bucket scaled as go tool pprof scales a heap profile",
        "┌──────────────┬─────────────┬─────────────┬────────────┬──────────────┬─────────────┬───────────────────────────────────────────────────────────────────┐",
        "│ in-use bytes │ in-use objs │ alloc bytes │ alloc objs │ in-use bytes │ alloc bytes │ site                                                              │",
        "│ sampled      │ sampled     │ sampled     │ sampled    │ estimated    │ estimated   │                                                                   │",
        "├──────────────┼─────────────┼─────────────┼────────────┼──────────────┼─────────────┼───────────────────────────────────────────────────────────────────┤",
        "│ 2.0 MiB      │ 2           │ 3.0 MiB     │ 3          │ 2.3 MiB      │ 3.5 MiB     │ image.NewRGBA < main.decode < main.main                           │",
        "│ 1.0 MiB      │ 4           │ 1.4 MiB     │ 9          │ 2.5 MiB      │ 5.2 MiB     │ bytes.makeSlice < bytes.(*Buffer).grow < bytes.(*Buffer).ReadFrom │",
        "│ 40.0 KiB     │ 2           │ 60.0 KiB    │ 3          │ 1.0 MiB      │ 1.5 MiB     │ main.newRecord < main.parse < main.main                           │",
        "│ 0 B          │ 0           │ 16 B        │ 1          │ 0 B          │ 512.0 KiB   │ runtime.mallocinit                                                │",
        "└──────────────┴─────────────┴─────────────┴────────────┴──────────────┴─────────────┴───────────────────────────────────────────────────────────────────┘",
      ].join("\n"),
    );
    const rgba = report.profile.sites.find((s) => s.stack[0] === "image.NewRGBA")!;
    expect(rgba.estimated).toEqual({ inuseObjects: 2, inuseBytes: 2425393, allocObjects: 3, allocBytes: 3638089 });
    const makeSlice = report.profile.sites.filter((s) => s.stack[0] === "bytes.makeSlice");
    expect(makeSlice.map((s) => s.size)).toEqual([262144, 131072, 65536, 32768]);
    expect(makeSlice.reduce((n, s) => n + s.estimated.inuseBytes, 0)).toBe(2664949);
    // Under its section title, in the whole report.
    expect(renderReport(report, { color: false })).toContain(`Top allocation sites (profile as of the last collection: 16 samples, MemProfileRate 524,288)\n${section}\n`);
  });

  it("profile at MemProfileRate 1: every allocation sampled, one set of figures; --top and --depth", async () => {
    const { report } = await replay("traces/profile.trace", { memprofilerate: 1 });
    expect(profileSection(report, plain, 2, 1).join("\n")).toBe(
      [
        "every allocation sampled (MemProfileRate 1): the figures are exact",
        "┌──────────────┬─────────────┬─────────────┬────────────┬─────────────────┐",
        "│ in-use bytes │ in-use objs │ alloc bytes │ alloc objs │ site            │",
        "├──────────────┼─────────────┼─────────────┼────────────┼─────────────────┤",
        "│ 2.0 MiB      │ 8           │ 3.8 MiB     │ 32         │ bytes.makeSlice │",
        "│ 2.0 MiB      │ 2           │ 3.0 MiB     │ 3          │ image.NewRGBA   │",
        "└──────────────┴─────────────┴─────────────┴────────────┴─────────────────┘",
      ].join("\n"),
    );
  });

  const script = scriptPath();
  it.skipIf(script === null)("is what the command prints on a terminal with NO_COLOR set", () => {
    ensureBuilt();
    const run = goallocOnTerminal(script!, ["replay", "traces/large.trace"], { NO_COLOR: "1" });
    expect(run.status).toBe(0);
    expect(run.stdout.replace(/\r\n/g, "\n")).toContain(SECTIONS);
    expect(run.stdout).not.toContain("\u001b[");
  });
});

describe("replay --help", () => {
  it("lists every fragmentation measure with its definition", () => {
    ensureBuilt();
    const run = goalloc(["replay", "--help"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Fragmentation measures (report, --html, and fragmentation.definitions in --json):\n${renderDefinitions(FRAGMENTATION_DEFINITIONS)}\n`);
    expect(run.stdout).toContain("--timeline-interval <events>");
    expect(run.stdout).toContain("--html <file>");
  });
});
