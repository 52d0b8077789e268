// End-to-end tests of the goalloc command line: the built bin is spawned on the shipped
// traces and on the error fixtures in test/e2e/fixtures/, and its exit code, stdout and
// stderr are checked. The MemStats figures asserted here were worked out by hand from the
// go1.3.3 runtime's sources (each table row says how); the algorithms themselves are tested in
// test/unit.

import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { Report } from "../../src/report/report.js";
import { goalloc, goallocOnTerminal, replayJson, repoRoot, scratchDir, scriptPath, type Run } from "./goalloc.js";
import { MEMSTATS_FIELDS, REPORT_SCHEMA, schemaProblems } from "./schema.js";

const VERSION = (JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string }).version;
const NATIVE_TRACES = readdirSync(path.join(repoRoot, "traces"))
  .filter((name) => name.endsWith(".trace"))
  .sort();
const GOLOG_EXCERPT = "traces/go1.3.3-p0.log";
const FIXTURES = "test/e2e/fixtures";
const ESC = "\u001b";

const scratch = scratchDir("goalloc-e2e-");

/** The parsed report, after checking it against docs/report.schema.json. */
function checkedReport(json: unknown): Report {
  expect(schemaProblems(json, REPORT_SCHEMA)).toEqual([]);
  return json as Report;
}

/** The cells of a cli-table3 row (`│ a │ b │`), trimmed. */
function cells(line: string): string[] {
  return line
    .split("│")
    .slice(1, -1)
    .map((cell) => cell.trim());
}

describe("goalloc: help, version and usage errors", () => {
  it("--help prints the program's usage with both commands, exit 0", () => {
    const run = goalloc(["--help"]);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout.startsWith("Usage: goalloc [options] [command]\n")).toBe(true);
    expect(run.stdout).toMatch(/^ {2}replay \[options\] <trace> /m);
    expect(run.stdout).toMatch(/^ {2}sizeclasses \[options\] /m);
  });

  it("--version prints package.json's version, exit 0", () => {
    expect(goalloc(["--version"])).toEqual({ status: 0, stdout: `${VERSION}\n`, stderr: "" });
  });

  it("replay --help lists every replay option, exit 0", () => {
    const run = goalloc(["replay", "--help"]);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout.startsWith("Usage: goalloc replay [options] <trace>\n")).toBe(true);
    for (const option of ["--arch <arch>", "--data-end <addr>", "--gogc <n|off>", "--memprofilerate <bytes>", "--seed <n>", "--efence", "--format <format>", "--gc <mode>", "--until <text>", "--check-invariants", "--json [file]", "--memprofile <file>", "--memprofile-format <format>", "--memprofile-at <point>", "--top <n>", "--depth <n>"]) {
      expect(run.stdout).toContain(`  ${option}`);
    }
  });

  it("every command's --help shows only meaningful defaults (no empty list)", () => {
    for (const command of ["replay", "check", "compare", "diff", "convert", "gen", "sizeclasses"]) {
      const run = goalloc([command, "--help"]);
      expect([command, run.status]).toEqual([command, 0]);
      expect(run.stdout).not.toContain("(default: [])");
    }
  });

  it("an unknown command is a usage error: exit 2, the message and a pointer to --help on stderr", () => {
    const run = goalloc(["frobnicate"]);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe("error: unknown command 'frobnicate'\n(goalloc --help for usage)\n");
  });

  it("no command at all prints the usage on stderr, exit 2", () => {
    const run = goalloc([]);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr.startsWith("Usage: goalloc [options] [command]\n")).toBe(true);
  });

  it("an unknown option is a usage error: exit 2, nothing replayed", () => {
    const run = goalloc(["replay", "traces/tiny.trace", "--frobnicate"]);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    // The message and where to look, not ninety lines of help.
    expect(run.stderr).toBe("error: unknown option '--frobnicate'\n(goalloc replay --help for usage)\n");
  });

  it("a 32-bit --data-end whose arena would not fit below 4 GiB is a usage error, exit 2", () => {
    const run = goalloc(["replay", "traces/tiny.trace", "--arch", "386", "--data-end", "0xffffffff"]);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      "goalloc: --data-end 0xffffffff: a 386 arena reserved after that image would end at 0x130202000, past the 32-bit address space\n",
    );
    // The highest image end that fits replays.
    expect(goalloc(["replay", "traces/tiny.trace", "--arch", "386", "--data-end", "0xcfd00000"]).status).toBe(0);
  });

  it("a bad --arch is a usage error naming the choices, exit 2", () => {
    const run = goalloc(["replay", "traces/tiny.trace", "--arch", "sparc"]);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr.startsWith("error: option '--arch <arch>' argument 'sparc' is invalid. Allowed choices are amd64, arm64, 386, arm.\n")).toBe(true);
  });

  it("bad numbers for --gogc and --memprofilerate are usage errors, exit 2", () => {
    const gogc = goalloc(["replay", "traces/tiny.trace", "--gogc", "lots"]);
    expect(gogc.status).toBe(2);
    expect(gogc.stderr.startsWith(`error: option '--gogc <n|off>' argument 'lots' is invalid. expected a number or "off", got "lots"\n`)).toBe(true);
    const rate = goalloc(["replay", "traces/tiny.trace", "--memprofilerate", "1.5"]);
    expect(rate.status).toBe(2);
    expect(rate.stderr).toContain(`expected a non-negative integer (decimal or 0x hex), got "1.5"`);
  });

  it("a missing trace is an input error naming the file: exit 2, no report", () => {
    const run = goalloc(["replay", `${FIXTURES}/no-such.trace`]);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    // No line was read: the message names the file, and says what is wrong in plain words.
    expect(run.stderr).toBe(`goalloc: ${FIXTURES}/no-such.trace: no such file\n`);
  });
});

describe("goalloc sizeclasses", () => {
  it("prints the 66 classes; class 4 is 48 B, 1 page, 170 objects, 32 B tail, 31.52% max waste", () => {
    const run = goalloc(["sizeclasses"]);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe("");
    const rows = run.stdout
      .split("\n")
      .map(cells)
      .filter((row) => /^\d+$/.test(row[0] ?? ""));
    expect(rows).toHaveLength(66);
    // Max waste: (15 B lost per object to a 33-byte request × 170 objects + 32 B tail) / 8192.
    expect(rows[3]).toEqual(["4", "48", "1", "170", "32", "31.52%"]);
    // Thousands separators, as everywhere else.
    expect(rows[0]).toEqual(["1", "8", "1", "1,024", "0", "87.50%"]);
    // (32768 − 28417) / 32768: the smallest request of class 66 follows class 65's 28416.
    expect(rows[65]).toEqual(["66", "32,768", "4", "1", "0", "13.28%"]);
    expect(run.stdout.split("\n")[0]).toBe("size classes (the same on every arch)");
  });

  it("--json gives 66 rows, the first one exactly; there is no --arch (the table is the same on every arch)", () => {
    const run = goalloc(["sizeclasses", "--json"]);
    expect(run.status).toBe(0);
    const rows = JSON.parse(run.stdout) as Array<Record<string, number>>;
    expect(rows).toHaveLength(66);
    expect(rows[0]).toEqual({ class: 1, size: 8, pages: 1, objectsPerSpan: 1024, tailWaste: 0, maxWaste: 0.875, smallestRequest: 1, alignment: 8 });
    expect(rows.map((row) => row.class)).toEqual(Array.from({ length: 66 }, (_, i) => i + 1));
    expect(goalloc(["sizeclasses", "--arch", "386"]).status).toBe(2);
  });
});

/**
 * Hand-checked MemStats at the end of each shipped trace (amd64, GOGC=100). Common to all:
 * the untraced mallocinit self-test (16 B, allocated and freed: +1 Mallocs, +1 Frees), GC 1
 * at the trace's first allocation (next_gc starts at 0) with its 1152-byte parallel-for
 * descriptor, and a first 1 MiB heap growth.
 */
const EXPECTED_MEMSTATS: Record<string, Partial<Record<(typeof MEMSTATS_FIELDS)[number], number>>> = {
  // self-test, name's tiny block, descriptor, n1-n3's 240 B type table, n1-n4, buf, scratch(), big;
  // freed: self-test, scratch() (f), name and n2 (runtime.GC), buf (the last runtime.GC).
  // big (128 pages) does not fit the 116 free pages of the first MiB: a second MiB.
  // In use: descriptor + type table + 3 × 48 + 1 MiB; pages: 3 small spans + 128.
  // GCs: 1, at buf (pacer), gc, at big (pacer), gc. NextGC: 2 × (in use + buf) − 2 × buf.
  "quickstart.trace": { Mallocs: 11, Frees: 5, HeapObjects: 6, HeapAlloc: 1050112, TotalAlloc: 1116752, HeapSys: 2097152, HeapInuse: 1073152, HeapIdle: 1024000, NumGC: 5, NextGC: 2100224 },
  // self-test, 5 tiny blocks (GC 1 empties the first), descriptor, p (class 1) and its type
  // table (1088 B → class 32): 80 + 2 × 1152 + 8 B; pages: classes 2, 32 and 1.
  // NextGC = 2 × (16 + 1152), heap_alloc at GC 1.
  "tiny.trace": { Mallocs: 9, Frees: 1, HeapObjects: 8, HeapAlloc: 2392, TotalAlloc: 2408, HeapSys: 1048576, HeapInuse: 24576, HeapIdle: 1024000, NumGC: 1, NextGC: 2336 },
  // 8 objects, 4 span type tables (320, 144, 128 and 80 B), descriptor, self-test; 19 pages
  // of spans (c2's class 41 has 2 pages, d1's class 61 5, d2's class 66 4); GCs at a1, c2, d2.
  "small.trace": { Mallocs: 14, Frees: 1, HeapObjects: 13, HeapAlloc: 59984, TotalAlloc: 60000, HeapSys: 1048576, HeapInuse: 155648, NumGC: 3, NextGC: 119968 },
  // L1, L3 (5 pages each), s3, s2, again (245 pages) and the descriptor live; huge's 367
  // pages need a 368-page growth: HeapSys = 1 MiB + 368 × 8 KiB. GCs at L1, L3, gc, huge.
  "large.trace": { Mallocs: 9, Frees: 3, HeapObjects: 6, HeapAlloc: 2131072, TotalAlloc: 5178512, HeapSys: 4063232, HeapInuse: 2138112, HeapIdle: 1925120, NumGC: 4, NextGC: 6260992 },
  // a, c, d (64 B), descriptor and big2 (13 pages) live; b and big were freed explicitly.
  "explicit-free.trace": { Mallocs: 8, Frees: 3, HeapObjects: 5, HeapAlloc: 107840, TotalAlloc: 214416, HeapSys: 1048576, HeapInuse: 122880, HeapIdle: 925696, NumGC: 2, NextGC: 215680 },
  // o1, o3, o4 freed by runtime.GC; x1 and x2 died after the last sweep: still counted.
  "gc.trace": { Mallocs: 16, Frees: 4, HeapObjects: 12, HeapAlloc: 178288, TotalAlloc: 178736, HeapSys: 1048576, HeapInuse: 196608, NumGC: 4, NextGC: 356576 },
  // keep, f3, descriptor and two type tables (192, 240 B) live; f2 freed by runtime.GC, f1
  // by the sweep after the finalizer's GC; NextGC = 2 × (1696 + 48) − 2 × 48.
  "finalizers.trace": { Mallocs: 8, Frees: 3, HeapObjects: 5, HeapAlloc: 1696, TotalAlloc: 1808, HeapSys: 1048576, HeapInuse: 40960, NumGC: 3, NextGC: 3392 },
  // Released: old's 37 pages, the 65 never-used pages and the self-test's page (idle since
  // 0–1 s, released at the 360 s tick); young's 13 pages are idle for 160 s only.
  "scavenger.trace": { Mallocs: 7, Frees: 3, HeapObjects: 4, HeapAlloc: 84096, TotalAlloc: 493712, HeapSys: 1048576, HeapInuse: 98304, HeapIdle: 950272, HeapReleased: 843776, NumGC: 6, NextGC: 168192 },
};

describe("goalloc replay's counts line", () => {
  it("says 1 alloc, 1 free (singular), 0 deaths", () => {
    const file = path.join(scratch(), "one-each.trace");
    writeFileSync(file, "goalloc-trace 1\na x 32\nf x\n");
    const run = goalloc(["replay", file]);
    expect(run.status).toBe(0);
    expect(run.stdout.split("\n")[1]).toBe("3 lines, 2 events: 1 alloc, 1 free, 0 deaths, 0 GC records, 0 other lines skipped");
  });
});

describe("goalloc replay of the shipped traces", () => {
  it("has a hand-checked MemStats row for every native trace but profile.trace", () => {
    expect(Object.keys(EXPECTED_MEMSTATS).sort()).toEqual(NATIVE_TRACES.filter((name) => name !== "profile.trace"));
  });

  describe.each(NATIVE_TRACES)("%s", (name) => {
    const file = `traces/${name}`;

    // One run gives both reports: the text on stdout, the JSON in the --json FILE.
    it("exit 0, the text report on stdout, the JSON report (docs/report.schema.json) in --json FILE", () => {
      const out = path.join(scratch(), `${name}.json`);
      const run = goalloc(["replay", file, "--json", out]);
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      expect(run.stdout.split("\n")[0]).toBe(`goalloc ${VERSION} replay of ${file} (native) on amd64, GOGC=100`);
      for (const section of ["Arena", "MemStats", "Peaks", "Fragmentation", "Size classes in use", "Top allocation sites"]) {
        expect(run.stdout).toMatch(new RegExp(`^${section}`, "m"));
      }
      const json: unknown = JSON.parse(readFileSync(out, "utf8"));
      const report = checkedReport(json);
      expect(report.partial).toBe(false);
      expect(report.error).toBeNull();
      expect(report.goalloc).toBe(VERSION);
      expect(report.trace.file).toBe(file);
      expect(report.trace.format).toBe("native");
      expect(report.fidelity).toBeNull();
      expect(report.options).toMatchObject({ arch: "amd64", gogc: 100, memprofilerate: 524288, efence: false });
      // amd64's fixed reservation (malloc.goc mallocinit): spans, bitmap, arena at 0xc208000000.
      expect(report.arena).toMatchObject({ spansStart: "0xc000000000", bitmapStart: "0xc008000000", arenaStart: "0xc208000000", arenaEnd: "0xe208002000" });
      const m = report.memstats;
      expect(Object.keys(m)).toEqual([...MEMSTATS_FIELDS]);
      expect(m.Sys).toBe(m.HeapSys + m.StackSys + m.MSpanSys + m.MCacheSys + m.BuckHashSys + m.GCSys + m.OtherSys);
      expect(m.HeapSys).toBe(m.HeapIdle + m.HeapInuse);
      expect(m.HeapObjects).toBe(m.Mallocs - m.Frees);
      expect(m.Alloc).toBe(m.HeapAlloc);
      // Class 0 (large objects) and the first 60 classes of msize.c's table.
      expect(m.BySize.map((entry) => entry.Size).slice(0, 9)).toEqual([0, 8, 16, 32, 48, 64, 80, 96, 112]);
      expect(m.BySize[60]?.Size).toBe(17664);
      expect(m.EnableGC).toBe(true);
      expect(m.DebugGC).toBe(false);
      expect(report.fragmentation.external.idleBytes).toBe(m.HeapIdle);
      expect(report.fragmentation.external.releasedBytes).toBe(m.HeapReleased);
      if (name !== "profile.trace") expect(m).toMatchObject(EXPECTED_MEMSTATS[name]!);
    });
  });

  it("tiny.trace: BySize counts 6 class-2 blocks (5 tiny blocks and the self-test), p in class 1", () => {
    const report = checkedReport(replayJson(["traces/tiny.trace"]).json);
    const bySize = report.memstats.BySize;
    expect(bySize[1]).toEqual({ Size: 8, Mallocs: 1, Frees: 0 });
    expect(bySize[2]).toEqual({ Size: 16, Mallocs: 6, Frees: 1 });
    expect(bySize[32]).toEqual({ Size: 1152, Mallocs: 2, Frees: 0 });
    // 13 tiny requests of 46 bytes in all, plus p's 8; the 5 blocks hold 80 bytes.
    expect(report.fragmentation.internal.requestedBytes).toBe(54);
    expect(report.fragmentation.internal.tinySlackBytes).toBe(5 * 16 - 46);
  });

  it("large.trace: trace counts, peaks, free spans and the classes of s3 and s2", () => {
    const report = checkedReport(replayJson(["traces/large.trace"]).json);
    expect(report.trace).toMatchObject({ lines: 14, events: 10, allocs: 7, frees: 1, deaths: 1, gcRecords: 1, skippedLines: 0 });
    // Event 8 (line 12) is huge: the most bytes and objects live at once, and the growth.
    expect(report.peak.HeapAlloc).toEqual({ value: 3130496, event: 8, line: 12 });
    expect(report.peak.HeapInuse).toEqual({ value: 383 * 8192, event: 8, line: 12 });
    expect(report.peak.HeapSys).toEqual({ value: 4063232, event: 8, line: 12 });
    expect(report.peak.HeapObjects).toEqual({ value: 6, event: 8, line: 12 });
    // Free: the self-test's page, and 479 − 245 pages after again took the low end.
    expect(report.fragmentation.external.freeSpansByPages).toEqual({ "1": 1, "234": 1 });
    expect(report.fragmentation.external.largestFreeRunPages).toBe(234);
    expect(report.fragmentation.internal.requestedBytes).toBe(40000 + 40000 + 24576 + 16384 + 2000000);
    const classes = report.sizeClasses.map((u) => [u.class, u.size, u.pages, u.objectsPerSpan, u.spans, u.objects]);
    expect(classes).toEqual([
      [2, 16, 1, 512, 0, 0],
      [32, 1152, 1, 7, 1, 1],
      [58, 16384, 2, 1, 1, 1],
      [63, 24576, 3, 1, 1, 1],
    ]);
  });

  it("scavenger.trace: the report shows the released bytes", () => {
    const run = goalloc(["replay", "traces/scavenger.trace"]);
    expect(run.status).toBe(0);
    expect(cells(run.stdout.split("\n").find((line) => line.includes("HeapReleased"))!)).toEqual(["HeapReleased", "843,776", "HeapObjects", "4"]);
  });

  it("scavenger.trace: nothing is released before the 360 s tick; the scavenger collects at 180 and 360 s", () => {
    const before = checkedReport(replayJson(["traces/scavenger.trace", "--until", "t 400000000000"]).json);
    expect(before.trace.stoppedAt).toEqual({ line: 25, text: "t 400000000000" });
    expect(before.memstats).toMatchObject({ HeapReleased: 0, HeapIdle: 950272, NumGC: 5 });
    const after = checkedReport(replayJson(["traces/scavenger.trace"]).json);
    // [forced, eager, seconds]: pacer at keep and old (time 0), runtime.GC at 1 s, scavenger
    // at 180 s (2 minutes without a GC), runtime.GC at 200 s, scavenger at 360 s.
    expect(after.gcs.map((gc) => [gc.forced, gc.eager, gc.time / 1e9])).toEqual([
      [false, false, 0],
      [false, false, 0],
      [true, true, 1],
      [true, false, 180],
      [true, true, 200],
      [true, false, 360],
    ]);
    expect(after.memstats.LastGC).toBe(360e9);
  });

  it("--until TEXT that matches no line: the whole trace's report, marked partial, and exit 2 saying so", () => {
    const run = goalloc(["replay", "traces/tiny.trace", "--until", "NOPE"]);
    expect(run.status).toBe(2);
    expect(run.stdout.split("\n")[0]).toBe(`goalloc ${VERSION} replay of traces/tiny.trace (native) on amd64, GOGC=100 [partial]`);
    expect(run.stderr).toBe('goalloc: traces/tiny.trace:22: --until "NOPE" matched no line up to here, the end; the report is of the whole trace\n');
  });

  it("finalizers.trace: f1 survives runtime.GC, is collected by its finalizer's GC, freed by the next sweep", () => {
    const counts = (until: string): number[] => {
      const m = checkedReport(replayJson(["traces/finalizers.trace", "--until", until]).json).memstats;
      return [m.Mallocs, m.Frees, m.NumGC];
    };
    // After runtime.GC: only the self-test and f2 freed, f1 kept for its finalizer.
    expect(counts("t 1000000")).toEqual([8, 2, 2]);
    // The finalizer has run and its collection found f1 dead, but has not swept it yet.
    expect(counts("t 2000000")).toEqual([8, 2, 3]);
    // (At the end, EXPECTED_MEMSTATS: the background sweeper freed it, Frees 3.)
  });

  it("profile.trace: the 1 MiB images are always sampled; --memprofilerate 1 samples everything", () => {
    const decode = ["image.NewRGBA", "main.decode", "main.main"];
    const parse = ["main.newRecord", "main.parse", "main.main"];
    const atDefault = checkedReport(replayJson(["traces/profile.trace"]).json).profile;
    expect(atDefault.rate).toBe(524288);
    // Estimated: ×1/(1−e^(−1048576/524288)) per bucket, truncated, as go tool pprof scales a
    // legacy heap profile (its -unit=B figures for this profile's text form).
    expect(atDefault.sites.find((site) => site.stack.join(";") === decode.join(";"))).toEqual({
      stack: decode,
      locations: ["", "", ""],
      siteFrame: 0,
      size: 1048576,
      inuseObjects: 2,
      inuseBytes: 2 * 1048576,
      allocObjects: 3,
      allocBytes: 3 * 1048576,
      estimated: { inuseObjects: 2, inuseBytes: 2425393, allocObjects: 3, allocBytes: 3638089 },
    });
    const everything = checkedReport(replayJson(["traces/profile.trace", "--memprofilerate", "1"]).json).profile;
    expect(everything.rate).toBe(1);
    // 64 records of 20000 B in class 61 (20480 B), the first 32 dropped.
    // At rate 1 nothing is scaled.
    expect(everything.sites.find((site) => site.stack.join(";") === parse.join(";"))).toEqual({
      stack: parse,
      locations: ["", "", ""],
      siteFrame: 0,
      size: 20480,
      inuseObjects: 32,
      inuseBytes: 32 * 20480,
      allocObjects: 64,
      allocBytes: 64 * 20480,
      estimated: { inuseObjects: 32, inuseBytes: 32 * 20480, allocObjects: 64, allocBytes: 64 * 20480 },
    });
  });

  it("--memprofile-at end|peak: the profile (report and --memprofile) at the end or at the HeapAlloc peak; gc, as of the last collection, by default", () => {
    // At rate 1 every allocation is sampled, so the figures in use are the live objects then,
    // at their rounded sizes (main.newRecord's 20000 B in 20480), plus the collector's
    // parallel-for descriptor (runtime.gc, 1152 B), which the runtime allocated and keeps.
    const rate = ["traces/profile.trace", "--memprofilerate", "1"];
    const header = (...args: string[]): string => goalloc(["replay", ...rate, ...args, "--memprofile", "-", "--memprofile-format", "text"]).stdout.split("\n")[0]!;
    const inuse = (r: Report): Record<string, number> => {
      const by: Record<string, number> = {};
      for (const s of r.profile.sites) by[s.stack[0]!] = (by[s.stack[0]!] ?? 0) + s.inuseObjects;
      return by;
    };
    const end = checkedReport(replayJson([...rate, "--memprofile-at", "end"]).json);
    expect(end.profile.at).toBe("end");
    expect(end.fragmentation.internal.allocatedBytes + 1152).toBe(4850816);
    expect(header("--memprofile-at", "end")).toBe("heap profile: 43: 4850816 [101: 8389776] @ heap/2");
    // The trace ends with runtime.GC(), which publishes everything: gc reads as end.
    expect(header()).toBe(header("--memprofile-at", "end"));
    expect(checkedReport(replayJson(rate).json).profile.at).toBe("gc");

    const peak = checkedReport(replayJson([...rate, "--memprofile-at", "peak"]).json);
    expect(peak.profile.at).toBe("peak");
    expect(peak.peak.HeapAlloc.event).toBe(155);
    // The three images were live at the peak; the first was dropped after it.
    expect(inuse(peak)).toEqual({ "image.NewRGBA": 3, "bytes.makeSlice": 8, "main.newRecord": 32, "runtime.gc": 1, "runtime.mallocinit": 0 });
    expect(inuse(end)).toEqual({ ...inuse(peak), "image.NewRGBA": 2 });
    const live = peak.peakSites.HeapAlloc;
    expect(live.sites.map((s) => [s.stack[0], s.liveObjects])).toEqual([["image.NewRGBA", 3], ["bytes.makeSlice", 8], ["main.newRecord", 32]]);
    expect(live.liveBytes - 32 * 20000 + 32 * 20480 + 1152).toBe(5899392);
    expect(header("--memprofile-at", "peak")).toBe("heap profile: 44: 5899392 [101: 8389776] @ heap/2");

    // The text report's title says which point its table shows.
    const title = (...args: string[]): string => goalloc(["replay", ...rate, ...args]).stdout.split("\n").find((l) => l.startsWith("Top allocation sites"))!;
    expect(title()).toBe("Top allocation sites (profile as of the last collection: 101 samples, MemProfileRate 1)");
    expect(title("--memprofile-at", "end")).toBe("Top allocation sites (profile at the end of the replay: 101 samples, MemProfileRate 1)");
    expect(title("--memprofile-at", "peak")).toBe("Top allocation sites (profile at the HeapAlloc peak, event 155: 101 samples, MemProfileRate 1)");
    expect(goalloc(["replay", ...rate, "--memprofile-at", "start"]).status).toBe(2);
  });

  it("--top and --depth: rows of every site table, frames per site; the JSON's peak sites are grouped at --depth", () => {
    const run = goalloc(["replay", "traces/profile.trace", "--memprofilerate", "1", "--top", "1", "--depth", "2"]);
    expect(run.status).toBe(0);
    const siteRows = (title: string): string[] => {
      const rest = run.stdout.slice(run.stdout.indexOf(title));
      const table = rest.slice(0, rest.indexOf("└"));
      return table.split("\n").filter((l) => l.startsWith("│ ")).slice(1).map((l) => cells(l).at(-1)!);
    };
    // The three images are live at the peak; the profile's biggest is the buffers (8 in use).
    expect(siteRows("Live at the HeapAlloc")).toEqual(["image.NewRGBA < main.decode"]);
    expect(siteRows("Top allocation sites")).toEqual(["bytes.makeSlice < bytes.(*Buffer).grow"]);
    const json = checkedReport(replayJson(["traces/profile.trace", "--top", "12", "--depth", "1"]).json);
    expect(json.peakSites.HeapAlloc.siteDepth).toBe(1);
    // Every stack the trace referenced then, by site: the 32 records of main.newRecord are one.
    expect(json.peakSites.HeapAlloc.sites.map((s) => [s.stack[0], s.liveBytes, s.liveObjects, s.stacks])).toEqual([
      ["image.NewRGBA", 3 * 1048576, 3, 1],
      ["bytes.makeSlice", 8 * 262144, 8, 1],
      ["main.newRecord", 32 * 20000, 32, 1],
    ]);
    expect(goalloc(["replay", "traces/profile.trace", "--depth", "0"]).status).toBe(2);
  });

  it("lays the arena out per arch (malloc.goc mallocinit) and reports 32-bit _end", () => {
    const arena = (arch: string, ...extra: string[]): [Report["arena"], string | null] => {
      const report = checkedReport(replayJson(["traces/quickstart.trace", "--arch", arch, ...extra]).json);
      return [report.arena, report.options.dataEnd];
    };
    expect(arena("arm64")).toEqual([{ spansStart: "0x4000000000", bitmapStart: "0x4008000000", arenaStart: "0x4208000000", arenaUsed: "0x4208200000", arenaEnd: "0x6208002000" }, null]);
    expect(arena("386")).toEqual([{ spansStart: "0x8200000", bitmapStart: "0x8300000", arenaStart: "0x18300000", arenaUsed: "0x18500000", arenaEnd: "0x38302000" }, "0x812f3a4"]);
    expect(arena("386", "--data-end", "0x08200000")[0]).toMatchObject({ arenaStart: "0x18400000", arenaEnd: "0x38402000" });
  });

  it("the scavenger ticks inside one long `t` record as in 60 s steps", () => {
    const steps = Array.from({ length: 16 }, (_, i) => `t ${(i + 1) * 60}000000000`).join("\n");
    const stepped = path.join(scratch(), "idle-stepped.trace");
    const oneJump = path.join(scratch(), "idle-one-jump.trace");
    writeFileSync(stepped, `goalloc-trace 1\na x 1000 flags=noscan\n${steps}\nt 1000000000000\n`);
    writeFileSync(oneJump, "goalloc-trace 1\na x 1000 flags=noscan\nt 1000000000000\n");
    const collections = (file: string): [number, number][] => checkedReport(replayJson([file]).json).gcs.map((gc) => [gc.NumGC, gc.time]);
    // GC 1 at the allocation (time 0), then one forced by the scavenger at every tick that
    // finds no collection in the last 2 minutes: 180, 360, 540, 720 and 900 s.
    const expected = [0, 180, 360, 540, 720, 900].map((s, i): [number, number] => [i + 1, s * 1e9]);
    expect(collections(stepped)).toEqual(expected);
    expect(collections(oneJump)).toEqual(expected);
  });

  it("--json FILE writes the JSON report to FILE and the text report to stdout", () => {
    const out = path.join(scratch(), "large.json");
    const run = goalloc(["replay", "traces/large.trace", "--json", out]);
    expect(run.status).toBe(0);
    expect(run.stdout.startsWith(`goalloc ${VERSION} replay of traces/large.trace`)).toBe(true);
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(replayJson(["traces/large.trace"]).json);
  });

  it("GOGC from the environment applies when --gogc is absent, and --gogc wins", () => {
    const fromEnv = checkedReport(replayJson(["traces/gc.trace"], { env: { GOGC: "off" } }).json);
    expect(fromEnv.options.gogc).toBe("off");
    expect(fromEnv.memstats.NumGC).toBe(0);
    const fromFlag = checkedReport(replayJson(["traces/gc.trace", "--gogc", "100"], { env: { GOGC: "off" } }).json);
    expect(fromFlag.memstats.NumGC).toBe(4);
  });

  it("reads standard input for `-`", () => {
    const { run, json } = replayJson(["-"], { input: readFileSync(path.join(repoRoot, "traces/gc.trace")) });
    expect(run.status).toBe(0);
    const report = checkedReport(json);
    expect(report.trace.file).toBe("<stdin>");
    expect(report.memstats).toEqual(checkedReport(replayJson(["traces/gc.trace"]).json).memstats);
  });

  it("reads a gzipped trace, recognised by its magic bytes", () => {
    const gz = path.join(scratch(), "quickstart.trace.gz");
    writeFileSync(gz, gzipSync(readFileSync(path.join(repoRoot, "traces/quickstart.trace"))));
    const report = checkedReport(replayJson([gz]).json);
    expect(report.trace).toMatchObject({ file: gz, format: "native", lines: 21 });
    expect(report.memstats).toEqual(checkedReport(replayJson(["traces/quickstart.trace"]).json).memstats);
  });

  it("--reader-thread worker (the compiled reader thread) gives the report of --reader-thread main", () => {
    for (const trace of ["traces/profile.trace", "traces/finalizers.trace"]) {
      const worker = replayJson([trace, "--reader-thread", "worker"]);
      expect(worker.run.status).toBe(0);
      expect(worker.json).toEqual(replayJson([trace, "--reader-thread", "main"]).json);
    }
  });

  it("replays the Go 1.3.3 log excerpt up to MEMSTATS_SNAPSHOT with the log's collections, by default", () => {
    const args = [GOLOG_EXCERPT, "--until", "MEMSTATS_SNAPSHOT"];
    const run = goalloc(["replay", ...args]);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout.split("\n")[0]).toBe(
      `goalloc ${VERSION} replay of ${GOLOG_EXCERPT} (go1.3 log) on amd64 (the log's), GOGC=100; collections: the log's (a go1.3 log replayed with the options it ran with)`,
    );
    const what = goalloc(["replay", GOLOG_EXCERPT, "--gogc", "50", "--until", "MEMSTATS_SNAPSHOT"]);
    expect(what.stdout.split("\n")[0]).toBe(
      `goalloc ${VERSION} replay of ${GOLOG_EXCERPT} (go1.3 log) on amd64 (the log's), GOGC=50; collections: the emulated pacer's (GOGC=50 is not the default the log is assumed to have run with)`,
    );
    expect(run.stdout).toContain("\nstopped at line 2601: MEMSTATS_SNAPSHOT\n");
    const report = checkedReport(replayJson(args).json);
    // The oracle README's counts before the marker: 105 tracealloc, 0 tracefree, 2 tracegc.
    expect(report.trace).toMatchObject({ format: "golog", lines: 2601, allocs: 105, frees: 0, deaths: 0, gcRecords: 2 });
    expect(report.trace.stoppedAt).toEqual({ line: 2601, text: "MEMSTATS_SNAPSHOT" });
    // What the real run's runtime.ReadMemStats returned at the marker
    // (oracle/go1.3.3-amd64/p0_baseline.allocfreetrace.memstats.json): the 105 traced
    // allocations and the 6 of the untraced start-up, the self-test freed.
    expect(report.memstats).toMatchObject({
      Alloc: 168360,
      TotalAlloc: 168376,
      Mallocs: 111,
      Frees: 1,
      HeapAlloc: 168360,
      HeapSys: 1048576,
      HeapIdle: 729088,
      HeapInuse: 319488,
      HeapReleased: 0,
      HeapObjects: 110,
      MSpanInuse: 3072,
      NextGC: 336592,
      NumGC: 2,
    });
    expect(report.fragmentation.internal.requestedBytes).toBeNull();
    expect(report.fidelity).toEqual({ allocs: 105, addressMatches: 105, firstDivergence: null, notComparable: null });
  });
});

describe("colour", () => {
  const ansi = (text: string): boolean => text.includes(ESC);

  it("is off when stdout is not a terminal, with or without NO_COLOR", () => {
    const envs: Record<string, string>[] = [{}, { NO_COLOR: "1" }];
    for (const env of envs) {
      for (const args of [["replay", "traces/quickstart.trace"], ["sizeclasses"], ["replay", `${FIXTURES}/reused-id.trace`]]) {
        const run = goalloc(args, { env });
        expect(run.stdout.length).toBeGreaterThan(0);
        expect(ansi(run.stdout)).toBe(false);
        expect(ansi(run.stderr)).toBe(false);
      }
    }
  });

  const script = scriptPath();
  it.skipIf(script === null)("is on for a terminal, and off there too with NO_COLOR set", () => {
    const tty = goallocOnTerminal(script!, ["replay", "traces/tiny.trace"]);
    expect(tty.status).toBe(0);
    expect(tty.stdout).toContain(`${ESC}[1mgoalloc ${VERSION}${ESC}[22m replay of traces/tiny.trace`);
    const noColor = goallocOnTerminal(script!, ["replay", "traces/tiny.trace"], { NO_COLOR: "1" });
    expect(noColor.stdout).toContain(`goalloc ${VERSION} replay of traces/tiny.trace`);
    expect(ansi(noColor.stdout)).toBe(false);
  });
});

interface ErrorCase {
  fixture: string;
  line: number;
  /** The message after `FILE:LINE: ` (trace errors) or the runtime's text (throws). */
  message: string;
  /** Allocations replayed before the failing line. */
  allocs: number;
}

/** Malformed traces: exit 2, `goalloc: FILE:LINE: message`, the partial report still printed. */
const TRACE_ERRORS: ErrorCase[] = [
  { fixture: "malformed-line", line: 3, message: "a: missing SIZE", allocs: 0 },
  { fixture: "unknown-record", line: 4, message: 'unknown record "zap"', allocs: 1 },
  { fixture: "bad-number", line: 3, message: 'a: SIZE "12q" is not a decimal or 0x-hex integer', allocs: 0 },
  { fixture: "free-unknown-id", line: 4, message: "unknown object y (never allocated, or already freed or dead)", allocs: 1 },
  { fixture: "dead-unknown-id", line: 4, message: "unknown object y (never allocated, or already freed or dead)", allocs: 1 },
  { fixture: "reused-id", line: 4, message: "object x is already live", allocs: 1 },
  { fixture: "free-dead", line: 6, message: "unknown object x (never allocated, or already freed or dead)", allocs: 1 },
  { fixture: "undefined-stack", line: 4, message: 'a: stack=2 is not defined by an earlier "s" record', allocs: 0 },
  { fixture: "clock-backwards", line: 5, message: "t: clock goes backwards (4000 < 5000)", allocs: 1 },
];

/** Emulated runtime throws: exit 3, the runtime's own text, then the trace line. */
const RUNTIME_THROWS: ErrorCase[] = [
  { fixture: "free-class1", line: 5, message: "fatal error: freeing too small block", allocs: 1 },
  { fixture: "finalizer-twice", line: 5, message: "runtime.SetFinalizer: finalizer already set\nfatal error: runtime.SetFinalizer", allocs: 1 },
  {
    fixture: "finalizer-offset",
    line: 5,
    message: "runtime.SetFinalizer: pointer not at beginning of allocated block\nfatal error: runtime.SetFinalizer",
    allocs: 1,
  },
  { fixture: "free-finalized", line: 5, message: "fatal error: can't explicitly free an object with a finalizer", allocs: 1 },
];

/** Replay a fixture with `--json FILE`: the run, and the JSON report it wrote. */
function replayFixture(file: string, extra: string[] = []): { run: Run; report: Report } {
  const out = path.join(scratch(), `${path.basename(file)}.json`);
  const run = goalloc(["replay", file, ...extra, "--json", out]);
  return { run, report: checkedReport(JSON.parse(readFileSync(out, "utf8"))) };
}

describe("goalloc replay of a malformed trace", () => {
  it.each(TRACE_ERRORS)("$fixture: exit 2, FILE:LINE: message on stderr, the partial report on stdout and in --json", ({ fixture, line, message, allocs }) => {
    const file = `${FIXTURES}/${fixture}.trace`;
    const { run, report } = replayFixture(file);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`goalloc: ${file}:${line}: ${message}\n`);
    expect(run.stdout.split("\n")[0]).toBe(`goalloc ${VERSION} replay of ${file} (native) on amd64, GOGC=100 [partial]`);
    expect(run.stdout).toContain("\nMemStats\n");
    expect(report.partial).toBe(true);
    expect(report.error).toEqual({ kind: "trace", line, message: `${file}:${line}: ${message}` });
    expect(report.trace.allocs).toBe(allocs);
  });

  it("--json to stdout carries the partial report too", () => {
    const file = `${FIXTURES}/reused-id.trace`;
    const { run, json } = replayJson([file]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`goalloc: ${file}:4: object x is already live\n`);
    expect(checkedReport(json)).toMatchObject({ partial: true, error: { kind: "trace", line: 4 }, trace: { allocs: 1 } });
  });
});

describe("goalloc replay when the emulated runtime throws", () => {
  it.each(RUNTIME_THROWS)("$fixture: exit 3, the runtime's fatal error and the trace line on stderr, the partial report", ({ fixture, line, message, allocs }) => {
    const file = `${FIXTURES}/${fixture}.trace`;
    const { run, report } = replayFixture(file);
    expect(run.status).toBe(3);
    expect(run.stderr).toBe(`${message}\ngoalloc: the emulated runtime threw at ${file}:${line}\n`);
    expect(run.stdout.split("\n")[0]).toBe(`goalloc ${VERSION} replay of ${file} (native) on amd64, GOGC=100 [partial]`);
    expect(report.partial).toBe(true);
    expect(report.error).toEqual({ kind: "runtime", line, message });
    expect(report.trace.allocs).toBe(allocs);
  });

  it("a 32-bit arena running out: out of memory at the sixth 256 MiB object", () => {
    const file = `${FIXTURES}/oom-386.trace`;
    const { run, report } = replayFixture(file, ["--arch", "386", "--gogc", "off"]);
    expect(run.status).toBe(3);
    // arena_start 0x18300000 (default _end): the usable range ends 2 GiB above it. The heap
    // holds the first MiB and five 256 MiB objects: 1281 MiB in use.
    expect(run.stderr).toMatch(
      new RegExp(
        "^runtime: memory allocated by OS \\(0x[0-9a-f]+\\) not in usable range \\[0x18300000,0x98300000\\)\n" +
          "runtime: out of memory: cannot allocate 268435456-byte block \\(1343225856 in use\\)\n" +
          "fatal error: out of memory\n" +
          `goalloc: the emulated runtime threw at ${file.replace(/\./g, "\\.")}:11\n$`,
      ),
    );
    expect(run.stdout.split("\n")[0]).toBe(`goalloc ${VERSION} replay of ${file} (native) on 386, GOGC=off [partial]`);
    expect(report.partial).toBe(true);
    expect(report.error?.kind).toBe("runtime");
    expect(report.error?.line).toBe(11);
    expect(report.trace.allocs).toBe(5);
    expect(report.memstats.HeapSys).toBe(1343225856);
  });
});

// Bugs found while writing these tests, now fixed: each stays as a regression test.
describe("regressions", () => {
  // Outputs are opened before the replay, and a write error is a UsageError.
  it("an unwritable --json FILE is an input/output error (exit 2, one line), not an internal error", () => {
    const run = goalloc(["replay", "traces/tiny.trace", "--json", path.join(scratch(), "no-such-dir", "out.json")]);
    expect(run.stderr).not.toContain("internal error");
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(run.status).toBe(2);
  });

  // `--json -` is bare --json.
  it("--json - writes only the JSON report to stdout", () => {
    const run = goalloc(["replay", "traces/tiny.trace", "--json", "-"]);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(replayJson(["traces/tiny.trace"]).json);
  });

  // A sampled allocation of the trace without `stack=` is labelled as such, not as the
  // runtime's own self-test.
  it("a sampled trace allocation without stack= is not attributed to runtime.mallocinit", () => {
    const file = path.join(scratch(), "no-stack.trace");
    // x is the first allocation after mallocinit: next_sample is still 0, so it is sampled;
    // runtime.GC() publishes it.
    writeFileSync(file, "goalloc-trace 1\na x 8\ngc\n");
    const sites = checkedReport(replayJson([file]).json).profile.sites;
    const x = sites.find((site) => site.allocBytes === 8);
    expect(x).toBeDefined();
    expect(x?.stack).toEqual(["(no stack in the trace)"]);
  });
});
