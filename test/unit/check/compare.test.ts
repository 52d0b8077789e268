// compare and diff as library functions (src/index.ts compare()/diff(), src/check/compare.ts,
// diff.ts) and their writers: text tables, Go benchmark lines, markdown.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { benchLine, benchmarkName, benchUnitLines } from "../../../src/check/bench.js";
import { evaluateCheck, baselineFromReport, type FieldResult } from "../../../src/check/baseline.js";
import { parseTolerance } from "../../../src/check/tolerance.js";
import { compareReports, relativeChange } from "../../../src/check/compare.js";
import { diffReports } from "../../../src/check/diff.js";
import { FIELDS } from "../../../src/check/fields.js";
import { errorCell, formatValue, movement, renderComparison, renderDiff } from "../../../src/check/render.js";
import { compare, diff, replay } from "../../../src/index.js";
import { checkMarkdown } from "../../../src/check/markdown.js";
import { repoRoot } from "../trace/helpers.js";

const MiB = 1 << 20;
let tmp = "";
let oomTrace = "";

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), "goalloc-compare-"));
  // Eight 256 MiB objects with GOGC off: 2 GiB live. A 64-bit arena (128 GiB) holds them; the
  // 32-bit arena, limited to 2 GiB from arena_start, holds five, and the sixth throws.
  const lines = ["goalloc-trace 1"];
  for (let i = 1; i <= 8; i++) lines.push(`a big${i} ${256 * MiB} flags=noscan`);
  oomTrace = path.join(tmp, "arena-256m.trace");
  writeFileSync(oomTrace, lines.join("\n") + "\n");
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("compare()", () => {
  it("reports 64-bit layouts and keeps a column, with line and message, for each 32-bit one that runs out", async () => {
    const { comparison, reports } = await compare(oomTrace, ["amd64", "386", "arm64", "arm"], { gogc: -1 });
    expect(comparison.columns.map((c) => c.arch)).toEqual(["amd64", "386", "arm64", "arm"]);
    expect(comparison.base).toBe(0);
    for (const i of [0, 2]) {
      const col = comparison.columns[i]!;
      expect(col.error).toBe(null);
      expect(col.values.HeapAlloc).toBe(8 * 256 * MiB);
      expect(col.values.HeapObjects).toBe(8);
      expect(col.values.NumGC).toBe(0);
    }
    for (const i of [1, 3]) {
      const col = comparison.columns[i]!;
      expect(col.partial).toBe(true);
      // Line 7 is the sixth allocation (line 1 is the header).
      expect(col.error).toMatchObject({ kind: "runtime", line: 7 });
      expect(col.error!.message).toContain(`runtime: out of memory: cannot allocate ${256 * MiB}-byte block (${5 * 256 * MiB + MiB} in use)`);
      expect(errorCell(col.error!)).toBe("threw at line 7: fatal error: out of memory");
    }
    expect(comparison.columns[1]!.arena.arenaStart).toBe(reports[1]!.arena.arenaStart);
    expect(comparison.trace.events).toBe(8);

    const text = renderComparison(comparison, false);
    const row = (name: string): string[] =>
      text
        .split("\n")
        .find((l) => l.startsWith(`│ ${name} `))!
        .split("│")
        .slice(2, -1)
        .map((c) => c.trim());
    expect(row("result")).toEqual(["ok", "threw at line 7: fatal error: out of memory", "ok", "threw at line 7: fatal error: out of memory"]);
    expect(row("HeapAlloc")).toEqual(["2,147,483,648", "1,342,177,280 (at the failure)", "2,147,483,648 (=)", "1,342,177,280 (at the failure)"]);
    expect(row("arena_start")).toEqual(reports.map((r) => r.arena.arenaStart));
    expect(text).toContain(`386: the emulated runtime threw at ${oomTrace}:7:\n  runtime: memory allocated by OS`);
  });

  it("normalises to the first layout that completed", async () => {
    const failed = (await replay(oomTrace, { arch: "386", gogc: -1 })).report;
    const ok = (await replay(oomTrace, { arch: "arm64", gogc: -1 })).report;
    const cmp = compareReports([failed, ok]);
    expect(cmp.base).toBe(1);
    expect(renderComparison(cmp, false).split("\n")[0]).toBe(`goalloc compare of ${oomTrace} (native, 8 events); changes relative to arm64`);
    expect(compareReports([failed]).base).toBe(null);
  });

  it("refuses standard input, which it could read only once", async () => {
    await expect(compare("-", ["amd64", "386"])).rejects.toThrow("compare replays the trace once per layout: it needs a file, not standard input");
  });

  it("relativeChange is relative to the base, and undefined on a zero base", () => {
    expect(relativeChange(200, 250)).toBe(0.25);
    expect(relativeChange(200, 150)).toBe(-0.25);
    expect(relativeChange(0, 0)).toBe(0);
    expect(relativeChange(0, 5)).toBe(null);
  });
});

describe("diff()", () => {
  it("shows NumGC falling when GOGC goes from 100 to 200 on gc.trace", async () => {
    const trace = path.join(repoRoot, "traces/gc.trace");
    const { diff: d, reports } = await diff({ trace, options: { gogc: 100 } }, { trace, options: { gogc: 200 } });
    expect(d.optionChanges).toEqual([{ option: "gogc", a: 100, b: 200 }]);
    const numgc = d.fields.find((f) => f.field === "NumGC")!;
    // GOGC=200 lets the heap grow to three times the live heap before a collection, not
    // twice: the pacer starts one fewer collection (runtime.GC() calls still count).
    expect(numgc).toMatchObject({ a: 4, b: 3, delta: -1, relative: -0.25 });
    const nextgc = d.fields.find((f) => f.field === "NextGC")!;
    expect(nextgc.a).toBe(reports[0].memstats.NextGC);
    expect(nextgc.b).toBe(reports[1].memstats.NextGC);
    // The traced objects are the same, so every byte and object count of the heap is too.
    expect(d.fields.find((f) => f.field === "HeapAlloc")!.delta).toBe(0);
    expect(d.changed).toBe(d.fields.filter((f) => f.delta !== 0).length);
    expect(d.changed).toBeGreaterThanOrEqual(1);

    const lines = renderDiff(d, false).split("\n");
    expect(lines[1]).toBe("options that differ: gogc 100 → 200");
    const row = lines.find((l) => l.startsWith("│ NumGC "))!.split("│").map((c) => c.trim());
    expect(row.slice(1, -1)).toEqual(["NumGC", "4", "3", "-1", "-25.00%"]);
  });

  it("sums a site's profile buckets on each side (one per object size), at the given depth", async () => {
    const trace = path.join(repoRoot, "traces/profile.trace");
    const { diff: d, reports } = await diff({ trace, options: { gogc: 50, memprofilerate: 1 } }, { trace, options: { gogc: 200, memprofilerate: 1 } });
    // bytes.makeSlice has a bucket per buffer size: 32, 64, 128 and 256 KiB.
    expect(reports[0].profile.sites.filter((s) => s.stack[0] === "bytes.makeSlice")).toHaveLength(4);
    const makeSlice = d.sites.find((s) => s.stack[0] === "bytes.makeSlice")!;
    // Eight files: the last 256 KiB buffer of each in use; 8 buffers of each size allocated.
    const figures = { inuseObjects: 8, inuseBytes: 8 * 262144, allocObjects: 32, allocBytes: 8 * (32768 + 65536 + 131072 + 262144) };
    expect(makeSlice).toEqual({
      stack: ["bytes.makeSlice", "bytes.(*Buffer).grow", "bytes.(*Buffer).ReadFrom"],
      locations: ["", "", ""],
      a: figures,
      b: figures,
      deltaInuseBytes: 0,
      deltaAllocBytes: 0,
    });
    expect(diffReports(reports[0], reports[1], 10, 1).sites.find((s) => s.stack[0] === "bytes.makeSlice")!.stack).toEqual(["bytes.makeSlice"]);
  });

  it("matches allocation sites by site, listing the one that moved most first", async () => {
    const a = (await replay(path.join(repoRoot, "traces/gc.trace"))).report;
    const b = (await replay(path.join(repoRoot, "traces/profile.trace"))).report;
    const d = diffReports(a, b, 3);
    expect(d.sites).toHaveLength(3);
    const top = d.sites[0]!;
    const biggest = [...b.profile.sites].sort((x, y) => y.inuseBytes - x.inuseBytes)[0]!;
    expect(top.stack).toEqual(biggest.stack);
    expect(top.a).toBe(null);
    expect(top.deltaInuseBytes).toBe(biggest.inuseBytes);
    const shared = diffReports(a, a).sites;
    expect(shared.every((s) => s.deltaInuseBytes === 0 && s.a !== null && s.b !== null)).toBe(true);
  });

  it("refuses standard input on both sides", async () => {
    await expect(diff({ trace: "-" }, { trace: "-" })).rejects.toThrow("diff cannot read standard input twice");
  });
});

describe("Go benchmark lines", () => {
  it("name the benchmark after the trace file, safe for benchfmt", () => {
    expect(benchmarkName("traces/gc.trace")).toBe("gc");
    expect(benchmarkName("/x/y/app run=1.log.gz")).toBe("app_run_1");
    expect(benchmarkName("-")).toBe("stdin");
  });

  it("give each field its own unit, bytes ending in -B, in benchfmt's NAME ITERS (VALUE UNIT)+ form", () => {
    const line = benchLine("gc", { HeapSys: 1048576, NumGC: 4, "frag.jw1": 0.5 });
    expect(line).toBe("BenchmarkReplay/gc 1 1048576 HeapSys-B 4 NumGC 0.5 frag.jw1");
    const fields = line.split(/\s+/);
    expect(fields[0]!.startsWith("Benchmark")).toBe(true);
    expect(Number.isInteger(Number(fields[1]))).toBe(true);
    const units = fields.filter((_, i) => i >= 3 && i % 2 === 1);
    expect(new Set(units).size).toBe(units.length);
  });

  it("mark every unit exact, with the direction of improvement", () => {
    const lines = benchUnitLines();
    expect(lines).toHaveLength(FIELDS.length);
    expect(lines).toContain("Unit HeapSys-B assume=exact better=lower");
    expect(lines).toContain("Unit fidelity.matchRate assume=exact better=higher");
    // Neither way is better for NextGC: no `better=` rather than a wrong one.
    expect(lines).toContain("Unit NextGC-B assume=exact");
  });
});

describe("markdown summary", () => {
  it("puts failures first, then fields moved within tolerance, and folds the unchanged ones", async () => {
    const trace = path.join(repoRoot, "traces/gc.trace");
    const base = baselineFromReport((await replay(trace)).report, null);
    const more = path.join(tmp, "gc-more.trace");
    writeFileSync(more, readFileSync(trace, "utf8") + "a extra 144 flags=noscan stack=1\n");
    const v = evaluateCheck(base, (await replay(more)).report, [], null);
    const update = "goalloc check gc_more.trace --baseline ci/gc.json --update --arch amd64";
    const md = checkMarkdown(v, { trace: "gc_more.trace", baselineFile: "ci/gc.json", arch: "amd64", gogc: 100, update });
    const lines = md.split("\n");
    expect(lines[0]).toBe("### goalloc check: gc\\_more.trace ❌ 5 fields past tolerance");
    expect(lines[2]).toBe("amd64, GOGC=100; baseline `ci/gc.json`");
    expect(lines[4]).toBe("| field | baseline | now | delta | limit | |");
    expect(lines[6]).toBe("| ❌ Mallocs | 16 | 17 | +1 (+6.25%) | exact | **regression** |");
    expect(md).toContain("| HeapAlloc | 178,288 | 178,432 | +144 (+0.08%) | ±1% | within tolerance |");
    expect(md).toContain(`<details><summary>${v.fields.filter((f) => f.baseline === f.now).length} fields unchanged</summary>`);
    expect(formatValue("ratio", 0.000006781684)).toBe("0.000006782");
    // A failed check ends with the command that accepts the change; a passed one does not.
    expect(md.endsWith(`</details>\n\nTo accept the change, update the baseline and commit it:\n\n\`\`\`sh\n${update}\n\`\`\`\n\n`)).toBe(true);
    const passed = checkMarkdown(evaluateCheck(base, (await replay(more)).report, parseTolerance("*=off"), null), {
      trace: "gc_more.trace",
      baselineFile: "ci/gc.json",
      arch: "amd64",
      gogc: 100,
      update,
    });
    expect(passed).not.toContain("To accept");
  });

  it("says which way a failed field moved: a regression, improved, or changed where neither way is better", async () => {
    // The baseline has one more 256 KiB object than the run: less memory now, and one
    // collection fewer, so two fewer frees and one more object in the heap.
    const trace = path.join(repoRoot, "traces/gc.trace");
    const bigger = path.join(tmp, "gc-bigger.trace");
    writeFileSync(bigger, readFileSync(trace, "utf8") + "a big 262144 flags=noscan stack=1\n");
    const base = baselineFromReport((await replay(bigger)).report, null);
    const v = evaluateCheck(base, (await replay(trace)).report, [], null);
    const md = checkMarkdown(v, { trace: "gc.trace", baselineFile: "ci/gc.json", arch: "amd64", gogc: 100, update: "goalloc check gc.trace --baseline ci/gc.json --update" });
    for (const row of [
      "| ❌ HeapAlloc | 325,744 | 178,288 | -147,456 (-45.27%) | ±1% | **improved** |",
      "| ❌ NumGC | 5 | 4 | -1 (-20.00%) | exact | **improved** |",
      "| ❌ frag.largestFreeRunPages | 72 | 104 | +32 (+44.44%) | exact | **improved** |",
      "| ❌ HeapObjects | 11 | 12 | +1 (+9.09%) | exact | **regression** |",
      "| ❌ frag.jw4 | 0.08453 | 2.568 | +2.483 | ±0.01 | **regression** |",
      "| ❌ Frees | 6 | 4 | -2 (-33.33%) | exact | **changed** |",
      "| ❌ HeapIdle | 704,512 | 851,968 | +147,456 (+20.93%) | ±1% | **changed** |",
      "| ❌ NextGC | 651,488 | 356,576 | -294,912 (-45.27%) | ±1% | **changed** |",
    ]) {
      expect(md).toContain(`${row}\n`);
    }
    expect(v.ok).toBe(false);
  });

  it("reads a field's direction from fields.ts: lower is better, but higher for the address match rate", () => {
    const result = (field: string, baseline: number, now: number | null): FieldResult => ({
      field,
      kind: "ratio",
      baseline,
      now,
      limit: { off: false, direction: "both", amount: 0, relative: false, text: "0" },
      ok: false,
    });
    expect(movement(result("fidelity.matchRate", 1, 0.5))).toBe("regression");
    expect(movement(result("fidelity.matchRate", 0.5, 1))).toBe("improved");
    expect(movement(result("frag.jw1", 0.5, 0.25))).toBe("improved");
    expect(movement(result("frag.jw1", 0.5, null))).toBe("changed");
    expect(movement(result("HeapReleased", 0, 8192))).toBe("changed");
  });
});
