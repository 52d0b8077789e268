// Tests of the heap profile writer: the legacy text lines for a small replay, and what the
// real `go tool pprof` (when `go` is on PATH) reads from both forms.

import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { heapProfile, replay, type HeapProfileFormat, type MemProfilePoint, type ReplayOptions, type ReplayResult } from "../../../src/index.js";

const scratch = mkdtempSync(join(tmpdir(), "goalloc-pprof-"));
let files = 0;

// Two call sites; a2 dies but no collection runs, so it is still in use for the profile.
const scenario = `goalloc-trace 1
s 1 main.leaf;main.someMuchLongerFunctionName;main.main
s 2 main.other;main.main
a a1 100 flags=noscan,noinvokegc stack=1
a a2 100 flags=noscan,noinvokegc stack=1
a b1 5000 flags=noscan,noinvokegc stack=2
d a2
`;

async function replayText(text: string, options: Partial<ReplayOptions>): Promise<ReplayResult> {
  const file = join(scratch, `t${files++}.trace`);
  writeFileSync(file, text);
  return replay(file, options);
}

/** Write the profile of a replay in `format`; returns the file. */
function writeProfile(result: ReplayResult, format: HeapProfileFormat): string {
  const file = join(scratch, `heap${files++}.${format === "proto" ? "pb.gz" : "txt"}`);
  writeFileSync(file, heapProfile(result.outcome, format));
  return file;
}

describe("legacy text heap profile", () => {
  it("has runtime/pprof's header, records by in-use bytes and aligned frames (--memprofilerate 1)", async () => {
    const result = await replayText(scenario, { memprofilerate: 1 });
    const text = heapProfile(result.outcome, "text").toString("utf8");
    const [profile, memstats] = text.split("\n\n# runtime.MemStats\n");
    // Nothing was published yet, so MemProfile ran MProf_GC twice: every sample shows. The
    // mallocinit self-test (16 bytes, freed) has no trace stack; its runtime frame is shown
    // because hiding the leading runtime frames would leave nothing.
    expect(profile).toBe(
      [
        "heap profile: 3: 5600 [4: 5616] @ heap/2",
        "1: 5376 [1: 5376] @ 0x401010 0x401040",
        "#\t0x401010\tmain.other+0x10\t?:0",
        "#\t0x401040\tmain.main+0x10\t?:0",
        "",
        "2: 224 [2: 224] @ 0x401070 0x4010a0 0x401040",
        "#\t0x401070\tmain.leaf+0x10\t\t\t\t?:0",
        "#\t0x4010a0\tmain.someMuchLongerFunctionName+0x10\t?:0",
        "#\t0x401040\tmain.main+0x10\t\t\t\t?:0",
        "",
        "0: 0 [1: 16] @ 0x4010d0",
        "#\t0x4010d0\truntime.mallocinit+0x10\t?:0",
        "",
      ].join("\n"),
    );
    const s = result.report.memstats;
    expect(memstats).toBe(
      [
        `# Alloc = ${s.Alloc}`,
        `# TotalAlloc = ${s.TotalAlloc}`,
        `# Sys = ${s.Sys}`,
        `# Lookups = ${s.Lookups}`,
        `# Mallocs = ${s.Mallocs}`,
        `# Frees = ${s.Frees}`,
        `# HeapAlloc = ${s.HeapAlloc}`,
        `# HeapSys = ${s.HeapSys}`,
        `# HeapIdle = ${s.HeapIdle}`,
        `# HeapInuse = ${s.HeapInuse}`,
        `# HeapReleased = ${s.HeapReleased}`,
        `# HeapObjects = ${s.HeapObjects}`,
        `# Stack = ${s.StackInuse} / ${s.StackSys}`,
        `# MSpan = ${s.MSpanInuse} / ${s.MSpanSys}`,
        `# MCache = ${s.MCacheInuse} / ${s.MCacheSys}`,
        `# BuckHashSys = ${s.BuckHashSys}`,
        `# NextGC = ${s.NextGC}`,
        `# PauseNs = [${new Array(256).fill(0).join(" ")}]`,
        `# NumGC = 0`,
        `# EnableGC = true`,
        `# DebugGC = false`,
        "",
      ].join("\n"),
    );
  });
});

// Class sizes (112, 5376), so requested bytes are the profile's. The HeapAlloc peak is b1's
// allocation (event 3): a2's death leaves it allocated until a sweep, b1's free lowers it.
const points = `goalloc-trace 1
s 1 main.leaf;main.main
s 2 main.other;main.main
a a1 112 flags=noscan,noinvokegc stack=1
a a2 112 flags=noscan,noinvokegc stack=1
a b1 5376 flags=noscan,noinvokegc stack=2
d a2
f b1
a a3 112 flags=noscan,noinvokegc stack=1
`;

describe("--memprofile-at: the point the profile shows", () => {
  const header = (result: ReplayResult): string => heapProfile(result.outcome, "text").toString("utf8").split("\n")[0]!;
  const inuse = (result: ReplayResult): number[] => {
    const sites = result.report.profile.sites;
    return [sites.reduce((n, s) => n + s.inuseObjects, 0), sites.reduce((n, s) => n + s.inuseBytes, 0)];
  };

  it("gc (the default): as runtime.MemProfile returns it; nothing published yet, so a2 (dead, unswept) is in use", async () => {
    const result = await replayText(points, { memprofilerate: 1 });
    expect(result.report.profile.at).toBe("gc");
    expect(result.report.memstats.NumGC).toBe(0);
    expect(header(result)).toBe("heap profile: 3: 336 [5: 5728] @ heap/2");
    expect(header(await replayText(points, { memprofilerate: 1 }))).toBe(header(await replayMonitored(points, "gc")));
  });

  it("end: every sampled allocation; in use, the objects still referenced at the end (a1, a3)", async () => {
    const result = await replayMonitored(points, "end");
    expect(result.report.profile.at).toBe("end");
    expect(header(result)).toBe("heap profile: 2: 224 [5: 5728] @ heap/2");
    // At rate 1, the live bytes at the end (requested bytes here are the rounded sizes).
    expect(inuse(result)).toEqual([2, result.report.fragmentation.internal.requestedBytes]);
    expect(result.report.fragmentation.internal.requestedBytes).toBe(224);
  });

  it("peak: the allocations up to the HeapAlloc peak's event, in use those referenced then (a1, a2, b1)", async () => {
    const result = await replayMonitored(points, "peak");
    expect(result.report.profile.at).toBe("peak");
    expect(result.report.peak.HeapAlloc.event).toBe(3);
    // a3 came after the peak: three allocations and the mallocinit self-test, freed.
    expect(header(result)).toBe("heap profile: 3: 5600 [4: 5616] @ heap/2");
    const live = result.report.peakSites.HeapAlloc;
    expect(inuse(result)).toEqual([live.liveObjects, live.liveBytes]);
    expect(live.liveBytes).toBe(5600);
    // The report's table and the profile agree: b1, then a1 and a2.
    expect(result.report.profile.sites.map((s) => [s.stack[0], s.inuseObjects, s.allocObjects])).toEqual([
      ["main.other", 1, 1],
      ["main.leaf", 2, 2],
      ["runtime.mallocinit", 0, 1],
    ]);
  });

  it("peak at the default rate: what was sampled up to the peak, and no more", async () => {
    const grow = ["goalloc-trace 1", "s 1 main.grow;main.main"];
    for (let i = 0; i < 40; i++) grow.push(`a x${i} 65536 flags=noscan stack=1`);
    for (let i = 0; i < 40; i++) grow.push(`f x${i}`);
    for (let i = 0; i < 10; i++) grow.push(`a y${i} 65536 flags=noscan stack=1`);
    const text = grow.join("\n") + "\n";
    const peak = await replayMonitored(text, "peak", 524288);
    const end = await replayMonitored(text, "end", 524288);
    const figures = (r: ReplayResult): number[][] => r.report.profile.sites.filter((s) => s.stack[0] === "main.grow").map((s) => [s.inuseObjects, s.allocObjects]);
    const [atPeak] = figures(peak);
    const [atEnd] = figures(end);
    // The peak is the last x: every sample up to it is in use there; the end has more
    // samples (the y), fewer in use (the x are freed).
    expect(peak.report.peak.HeapAlloc.event).toBe(40);
    expect(atPeak![0]).toBe(atPeak![1]);
    expect(atPeak![1]).toBeGreaterThan(0);
    expect(atEnd![1]).toBeGreaterThan(atPeak![1]!);
    expect(atEnd![0]).toBeLessThan(atEnd![1]!);
    expect(peak.report.profile.samples).toBe(end.report.profile.samples);
  });
});

async function replayMonitored(text: string, memprofileAt: MemProfilePoint, memprofilerate = 1): Promise<ReplayResult> {
  const file = join(scratch, `t${files++}.trace`);
  writeFileSync(file, text);
  return replay(file, { memprofilerate }, undefined, { memprofileAt });
}

const hasGo = spawnSync("go", ["version"]).status === 0;

/** `go tool pprof -top -unit=B -nodefraction=0` of a file: the total line and the function column. */
function pprofTop(file: string, ...flags: string[]): { total: string; functions: string[] } {
  const run = spawnSync("go", ["tool", "pprof", "-top", "-unit=B", "-nodefraction=0", ...flags, file], { encoding: "utf8" });
  expect(run.status, run.stderr).toBe(0);
  const lines = run.stdout.split("\n");
  const total = lines.find((l) => l.startsWith("Showing nodes accounting for")) ?? "";
  const header = lines.findIndex((l) => l.trim().startsWith("flat"));
  const functions = lines.slice(header + 1).filter((l) => l.trim() !== "").map((l) => l.trim().split(/\s+/).slice(5).join(" "));
  return { total, functions };
}

describe.skipIf(!hasGo)("the real go tool pprof", () => {
  it("reads the proto profile with its totals and function names", async () => {
    const file = writeProfile(await replayText(scenario, { memprofilerate: 1 }), "proto");
    const inuse = pprofTop(file);
    expect(inuse.total).toBe("Showing nodes accounting for 5600B, 100% of 5600B total");
    expect(inuse.functions).toEqual(["main.other", "main.leaf", "main.main", "main.someMuchLongerFunctionName"]);
    const alloc = pprofTop(file, "-sample_index=alloc_space");
    expect(alloc.total).toBe("Showing nodes accounting for 5616B, 100% of 5616B total");
    expect(alloc.functions).toContain("runtime.mallocinit");
  });

  it("reads the text profile's totals, but cannot name frames without the binary", async () => {
    const file = writeProfile(await replayText(scenario, { memprofilerate: 1 }), "text");
    const inuse = pprofTop(file);
    expect(inuse.total).toBe("Showing nodes accounting for 5600B, 100% of 5600B total");
    expect(inuse.functions).toEqual(["<unknown>"]);
  });

  it("reads the text profile as the report estimates it: each bucket scaled, then summed", async () => {
    const result = await replay("traces/profile.trace");
    const sites = result.report.profile.sites;
    const inuse = sites.reduce((n, s) => n + s.estimated.inuseBytes, 0);
    const alloc = sites.reduce((n, s) => n + s.estimated.allocBytes, 0);
    const file = writeProfile(result, "text");
    expect(pprofTop(file).total).toBe(`Showing nodes accounting for ${inuse}B, 100% of ${inuse}B total`);
    expect(pprofTop(file, "-sample_index=alloc_space").total).toBe(`Showing nodes accounting for ${alloc}B, 100% of ${alloc}B total`);
    // ... and not as the sampled bytes: the default rate's estimate is above them.
    expect(inuse).toBeGreaterThan(sites.reduce((n, s) => n + s.inuseBytes, 0));
  });

  it("unsamples the proto the way pprof unsamples the text (default rate)", async () => {
    const result = await replayText(scenario.replaceAll("5000", "2000000"), {});
    const proto = pprofTop(writeProfile(result, "proto"), "-sample_index=alloc_space");
    const text = pprofTop(writeProfile(result, "text"), "-sample_index=alloc_space");
    expect(proto.total).toMatch(/^Showing nodes accounting for \d+B/);
    expect(proto.total).toBe(text.total);
  });
});
