// End-to-end tests of `goalloc check`, `compare` and `diff`: the built bin is spawned (through
// test/e2e/goalloc.ts) on shipped traces and on traces written to a temporary directory, and
// its exit code, stdout, stderr and written files are checked.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, goalloc, repoRoot, scratchDir } from "./goalloc.js";

const MiB = 1 << 20;
const scratch = scratchDir("goalloc-e2e-check-");

/** A fresh copy of traces/gc.trace in the temporary directory (and a baseline path beside it). */
function gcCopy(name: string): { trace: string; baseline: string } {
  const trace = path.join(scratch(), `${name}.trace`);
  copyFileSync(path.join(repoRoot, "traces/gc.trace"), trace);
  return { trace, baseline: path.join(scratch(), `${name}.baseline.json`) };
}

/** The cells of a cli-table3 row (`│ a │ b │`), trimmed. */
function cells(line: string): string[] {
  return line
    .split("│")
    .slice(1, -1)
    .map((cell) => cell.trim());
}

function row(stdout: string, name: string): string[] {
  const line = stdout.split("\n").find((l) => l.startsWith(`│ ${name} `));
  if (line === undefined) throw new Error(`no row ${name} in:\n${stdout}`);
  return cells(line);
}

describe("goalloc check", () => {
  it("without a baseline file: exit 2 and how to make one", () => {
    const { trace, baseline } = gcCopy("missing");
    const run = goalloc(["check", trace, "--baseline", baseline]);
    expect(run).toEqual({
      status: 2,
      stdout: "",
      stderr: `goalloc: baseline ${baseline} does not exist; make it with: goalloc check ${trace} --baseline ${baseline} --update\n`,
    });
  });

  it("--update writes the baseline; the unchanged trace then passes with exit 0", () => {
    const { trace, baseline } = gcCopy("same");
    const made = goalloc(["check", trace, "--baseline", baseline, "--update"]);
    expect(made).toEqual({ status: 0, stdout: `goalloc check: wrote baseline ${baseline} (32 fields, amd64, GOGC=100)\n`, stderr: "" });
    const b = JSON.parse(readFileSync(baseline, "utf8")) as {
      "goalloc-baseline": number;
      arch: string;
      options: { gogc: number };
      trace: { sha256: string };
      values: Record<string, number>;
    };
    expect(b["goalloc-baseline"]).toBe(1);
    expect(b.arch).toBe("amd64");
    expect(b.options.gogc).toBe(100);
    expect(b.trace.sha256).toBe(createHash("sha256").update(readFileSync(trace)).digest("hex"));
    // gc.trace allocates 15 objects (plus the runtime's 16-byte self-test object, freed) and
    // kills 3 before a collection (see traces/README.md for the runtime's own allocations).
    expect(b.values.Frees).toBe(4);

    const again = goalloc(["check", trace, "--baseline", baseline]);
    expect(again).toEqual({ status: 0, stdout: `goalloc check: ok, 32 fields within tolerance of ${baseline} (amd64, GOGC=100)\n`, stderr: "" });
  });

  it("--update makes the baseline's missing directories; a file in the way is one line, exit 2", () => {
    const { trace } = gcCopy("mkdir");
    const baseline = path.join(scratch(), "ci", "baselines", "gc.json");
    expect(goalloc(["check", trace, "--baseline", baseline, "--update"])).toEqual({
      status: 0,
      stdout: `goalloc check: wrote baseline ${baseline} (32 fields, amd64, GOGC=100)\n`,
      stderr: "",
    });
    expect(readdirSync(path.dirname(baseline))).toEqual(["gc.json"]);
    expect(goalloc(["check", trace, "--baseline", baseline]).status).toBe(0);
    const blocked = path.join(trace, "gc.json");
    expect(goalloc(["check", trace, "--baseline", blocked, "--update"])).toEqual({
      status: 2,
      stdout: "",
      stderr: `goalloc: cannot write ${blocked}: ${trace} exists and is not a directory\n`,
    });
    const deeper = path.join(trace, "ci", "gc.json");
    expect(goalloc(["check", trace, "--baseline", deeper, "--update"])).toEqual({
      status: 2,
      stdout: "",
      stderr: `goalloc: cannot write ${deeper}: ENOTDIR: not a directory\n`,
    });
  });

  it("a changed trace fails: exit 1, one line per field past its limit, a note that the trace changed", () => {
    const { trace, baseline } = gcCopy("changed");
    expect(goalloc(["check", trace, "--baseline", baseline, "--update"]).status).toBe(0);
    writeFileSync(trace, readFileSync(trace, "utf8") + "a extra 144 flags=noscan stack=1\n");
    const run = goalloc(["check", trace, "--baseline", baseline]);
    expect(run.status).toBe(1);
    // One more object: the counts move by 1 (exact by default); the byte fields by 144,
    // within their 1%; the Johnstone–Wilson ratios of so small a heap move past 0.01.
    expect(run.stdout.split("\n")).toEqual([
      "Mallocs: 16 → 17 (+1, +6.25%, limit exact)",
      "HeapObjects: 12 → 13 (+1, +8.33%, limit exact)",
      "peak.HeapObjects: 12 → 13 (+1, +8.33%, limit exact)",
      expect.stringMatching(/^frag\.jw1: [\d.]+ → [\d.]+ \(-[\d.]+, limit ±0\.01\)$/),
      expect.stringMatching(/^frag\.jw2: [\d.]+ → [\d.]+ \(\+[\d.]+, limit ±0\.01\)$/),
      `goalloc check: 5 of 32 fields past tolerance of ${baseline} (amd64, GOGC=100)`,
      `to accept the change: goalloc check ${trace} --baseline ${baseline} --update`,
      "",
    ]);
    const digest = (file: string): string => createHash("sha256").update(readFileSync(file)).digest("hex").slice(0, 12);
    const madeFrom = (JSON.parse(readFileSync(baseline, "utf8")) as { trace: { sha256: string } }).trace.sha256.slice(0, 12);
    expect(madeFrom).not.toBe(digest(trace));
    expect(run.stderr).toBe(`goalloc check: note: ${trace} differs from the trace ${baseline} was made from (SHA-256 ${madeFrom}… → ${digest(trace)}…)\n`);

    // Tolerances that admit the change pass it; a misspelt field is a usage error.
    const lenient = goalloc(["check", trace, "--baseline", baseline, "--tolerance", "Mallocs=+1,*HeapObjects=+1", "--tolerance", "frag.jw*=off"]);
    expect(lenient.status).toBe(0);
    expect(lenient.stdout).toBe(`goalloc check: ok, 32 fields within tolerance of ${baseline} (amd64, GOGC=100)\n`);
    const typo = goalloc(["check", trace, "--baseline", baseline, "--tolerance", "Malocs=+1"]);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/^goalloc: tolerance "Malocs=\+1": no field is called Malocs \(fields: TotalAlloc, /);
  });

  it("another option or arch than the baseline's is an error naming the differences (exit 2), never a pass", () => {
    const { trace, baseline } = gcCopy("options");
    expect(goalloc(["check", trace, "--baseline", baseline, "--update"]).status).toBe(0);
    const hint = "run with the baseline's options, use a baseline made with these, or --update to replace it\n";
    expect(goalloc(["check", trace, "--baseline", baseline, "--gogc", "200"])).toEqual({
      status: 2,
      stdout: "",
      stderr: `goalloc: ${baseline} was made with other options than this run:\n  gogc: 100 in the baseline, 200 now\n${hint}`,
    });
    // GOGC from the environment counts as much as --gogc.
    const env = goalloc(["check", trace, "--baseline", baseline], { env: { GOGC: "off" } });
    expect(env.status).toBe(2);
    expect(env.stderr).toContain('  gogc: 100 in the baseline, "off" now\n');
    const arch = goalloc(["check", trace, "--baseline", baseline, "--arch", "386"]);
    expect(arch.status).toBe(2);
    expect(arch.stderr).toContain('  arch: "amd64" in the baseline, "386" now\n');
    expect(arch.stderr).toMatch(/ {2}dataEnd: null in the baseline, "0x[0-9a-f]+" now\n/);
  });

  it("a baseline edited by hand is refused (exit 2): missing fields with the command that remakes it, unknown ones named", () => {
    const { trace, baseline } = gcCopy("edited");
    const options = ["--arch", "386", "--gogc", "off"];
    expect(goalloc(["check", trace, "--baseline", baseline, "--update", ...options]).status).toBe(0);
    const made = JSON.parse(readFileSync(baseline, "utf8")) as { values: Record<string, number> };
    const { HeapSys: _heapSys, NumGC: _numGC, ...values } = made.values;
    writeFileSync(baseline, JSON.stringify({ ...made, values }));
    expect(goalloc(["check", trace, "--baseline", baseline, ...options])).toEqual({
      status: 2,
      stdout: "",
      stderr: `goalloc: ${baseline}: baseline is missing HeapSys, NumGC (regenerate it with: goalloc check ${trace} --baseline ${baseline} --update --arch 386 --gogc off)\n`,
    });
    writeFileSync(baseline, JSON.stringify({ ...made, values: { ...made.values, Foo: 1 } }));
    expect(goalloc(["check", trace, "--baseline", baseline, ...options])).toEqual({
      status: 2,
      stdout: "",
      stderr: `goalloc: ${baseline}: unknown field "Foo" in values (regenerate it with: goalloc check ${trace} --baseline ${baseline} --update --arch 386 --gogc off)\n`,
    });
    // The command it gives makes a baseline that checks.
    expect(goalloc(["check", trace, "--baseline", baseline, "--update", ...options]).status).toBe(0);
    expect(goalloc(["check", trace, "--baseline", baseline, ...options]).status).toBe(0);
  });

  it("a file that is no baseline is not offered for overwriting; the JSON error is one line", () => {
    const { trace } = gcCopy("not-baseline");
    const run = goalloc(["check", trace, "--baseline", "README.md"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`goalloc: README.md: not a goalloc baseline (not JSON: Unexpected token '#', "# goalloc\\x0a"... is not valid JSON)\n`);
  });

  it("a runtime throw compares nothing: the runtime's message and exit 3", () => {
    const trace = path.join(scratch(), "oom386.trace");
    writeFileSync(trace, ["goalloc-trace 1", ...Array.from({ length: 6 }, (_, i) => `a m${i} ${256 * MiB} flags=noscan`)].join("\n") + "\n");
    const baseline = path.join(scratch(), "oom386.json");
    const run = goalloc(["check", trace, "--baseline", baseline, "--update", "--arch", "386", "--gogc", "off"]);
    expect(run.status).toBe(3);
    expect(run.stderr).toContain("fatal error: out of memory\n");
    expect(run.stderr.endsWith(`goalloc: the emulated runtime threw at ${trace}:7; nothing was compared\n`)).toBe(true);
    expect(existsSync(baseline)).toBe(false);
  });

  it("--markdown appends a summary table; --bench-format prints benchmark lines, failures on stderr", () => {
    const { trace, baseline } = gcCopy("ci");
    expect(goalloc(["check", trace, "--baseline", baseline, "--update"]).status).toBe(0);
    writeFileSync(trace, readFileSync(trace, "utf8") + "a extra 144 flags=noscan stack=1\n");
    const summary = path.join(scratch(), "step-summary.md");
    writeFileSync(summary, "## earlier step output\n");
    const run = goalloc(["check", trace, "--baseline", baseline, "--markdown", summary, "--bench-format"]);
    expect(run.status).toBe(1);
    const md = readFileSync(summary, "utf8");
    expect(md.startsWith("## earlier step output\n### goalloc check: ")).toBe(true);
    expect(md).toContain(" ❌ 5 fields past tolerance\n");
    expect(md).toContain("| ❌ Mallocs | 16 | 17 | +1 (+6.25%) | exact | **regression** |\n");
    expect(md).toContain("| HeapAlloc | 178,288 | 178,432 | +144 (+0.08%) | ±1% | within tolerance |\n");
    expect(md.endsWith(`To accept the change, update the baseline and commit it:\n\n\`\`\`sh\ngoalloc check ${trace} --baseline ${baseline} --update\n\`\`\`\n\n`)).toBe(true);

    const lines = run.stdout.trimEnd().split("\n");
    expect(lines.filter((l) => l.startsWith("Unit ")).length).toBe(33);
    const bench = lines.filter((l) => l.startsWith("Benchmark"));
    expect(bench).toHaveLength(1);
    expect(bench[0]).toMatch(/^BenchmarkReplay\/ci 1( -?[\d.e+-]+ \S+)+$/);
    expect(bench[0]).toContain(" 17 Mallocs ");
    expect(bench[0]).toContain(" 178432 HeapAlloc-B ");
    expect(run.stderr).toContain("Mallocs: 16 → 17 (+1, +6.25%, limit exact)\n");
    expect(run.stderr.endsWith(`to accept the change: goalloc check ${trace} --baseline ${baseline} --update\n`)).toBe(true);
  });

  it("a field that moved the better way past its limit still fails, labelled improved, and the accept command keeps the run's options", () => {
    const { trace, baseline } = gcCopy("smaller");
    const original = readFileSync(trace, "utf8");
    // The baseline is made with one more 256 KiB object; the run drops it.
    writeFileSync(trace, original + "a big 262144 flags=noscan stack=1\n# end of run\n");
    const options = ["--arch", "386", "--seed", "7", "--until", "end of run"];
    expect(goalloc(["check", trace, "--baseline", baseline, "--update", ...options]).status).toBe(0);
    writeFileSync(trace, original + "# end of run\n");
    const summary = path.join(scratch(), "smaller.md");
    const run = goalloc(["check", trace, "--baseline", baseline, "--tolerance", "*=off,HeapAlloc=1%,NextGC=1%", "--markdown", summary, ...options]);
    expect(run.status).toBe(1);
    const update = `goalloc check ${trace} --baseline ${baseline} --update --arch 386 --seed 7 --until 'end of run'`;
    expect(run.stdout).toBe(
      "HeapAlloc: 325,744 → 178,288 (-147,456, -45.27%, limit ±1%)\n" +
        "NextGC: 651,488 → 356,576 (-294,912, -45.27%, limit ±1%)\n" +
        `goalloc check: 2 of 32 fields past tolerance of ${baseline} (386, GOGC=100)\n` +
        `to accept the change: ${update}\n`,
    );
    const md = readFileSync(summary, "utf8");
    expect(md).toContain("| ❌ HeapAlloc | 325,744 | 178,288 | -147,456 (-45.27%) | ±1% | **improved** |\n");
    expect(md).toContain("| ❌ NextGC | 651,488 | 356,576 | -294,912 (-45.27%) | ±1% | **changed** |\n");
    expect(md).not.toContain("regression");
    expect(md.endsWith(`\`\`\`sh\n${update}\n\`\`\`\n\n`)).toBe(true);
    // The command it gives accepts the change.
    const shell = spawnSync("sh", ["-c", update.replace(/^goalloc /, `'${process.execPath}' bin/goalloc.js `)], { cwd: repoRoot, env: cleanEnv() });
    expect(shell.status).toBe(0);
    expect(goalloc(["check", trace, "--baseline", baseline, ...options]).status).toBe(0);
  });
});

describe("goalloc compare --fail-on-throw", () => {
  it("exits 1 naming the layouts where the runtime threw, 0 when none did", () => {
    const trace = path.join(scratch(), "arena-2g-gate.trace");
    writeFileSync(trace, ["goalloc-trace 1", ...Array.from({ length: 8 }, (_, i) => `a big${i} ${256 * MiB} flags=noscan`)].join("\n") + "\n");
    const gate = goalloc(["compare", trace, "--arch", "amd64,386,arm", "--gogc", "off", "--fail-on-throw"]);
    expect(gate.status).toBe(1);
    expect(gate.stderr).toBe("goalloc: the emulated runtime threw on 386, arm (--fail-on-throw)\n");
    expect(goalloc(["compare", trace, "--arch", "amd64,arm64", "--gogc", "off", "--fail-on-throw"]).status).toBe(0);
  });
});

describe("goalloc compare", () => {
  let trace = "";
  beforeAll(() => {
    // Eight 256 MiB objects with GOGC off (2 GiB live): the 64-bit arenas (128 GiB) hold them,
    // the 32-bit ones (2 GiB from arena_start) five, and the sixth, on line 7, throws.
    trace = path.join(scratch(), "arena-2g.trace");
    writeFileSync(trace, ["goalloc-trace 1", ...Array.from({ length: 8 }, (_, i) => `a big${i} ${256 * MiB} flags=noscan`)].join("\n") + "\n");
  });

  it("prints the layouts side by side: numbers for amd64 and arm64, line and message where 386 and arm run out", () => {
    const run = goalloc(["compare", trace, "--arch", "amd64,386,arm64,arm", "--gogc", "off"]);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout.split("\n")[0]).toBe(`goalloc compare of ${trace} (native, 8 events); changes relative to amd64`);
    expect(row(run.stdout, "")).toEqual(["", "amd64", "386", "arm64", "arm"]);
    const threw = "threw at line 7: fatal error: out of memory";
    expect(row(run.stdout, "result")).toEqual(["result", "ok", threw, "ok", threw]);
    // A failed layout shows its state at the failing line (five objects), never compared.
    const atFailure = (v: string): string => `${v} (at the failure)`;
    expect(row(run.stdout, "HeapAlloc")).toEqual(["HeapAlloc", "2,147,483,648", atFailure("1,342,177,280"), "2,147,483,648 (=)", atFailure("1,342,177,280")]);
    expect(row(run.stdout, "HeapObjects")).toEqual(["HeapObjects", "8", atFailure("5"), "8 (=)", atFailure("5")]);
    expect(row(run.stdout, "NumGC")).toEqual(["NumGC", "0", atFailure("0"), "0 (=)", atFailure("0")]);
    // amd64 and arm64 put the arena at their hints 0x00c0<<32 and 0x40<<32 (+ spans and bitmap).
    expect(row(run.stdout, "arena_start")[1]).toMatch(/^0xc2/);
    expect(row(run.stdout, "arena_start")[3]).toMatch(/^0x42/);
    // Five 256 MiB objects and the 1 MiB first chunk were in use when the sixth failed.
    expect(run.stdout).toContain(`386: the emulated runtime threw at ${trace}:7:\n`);
    expect(run.stdout).toContain(`  runtime: out of memory: cannot allocate ${256 * MiB}-byte block (${5 * 256 * MiB + MiB} in use)\n  fatal error: out of memory\n`);
  });

  it("--json keeps every column, the failed ones with their error and partial values", () => {
    const run = goalloc(["compare", trace, "--arch", "386,amd64", "--gogc", "off", "--json"]);
    expect(run.status).toBe(0);
    const json = JSON.parse(run.stdout) as {
      base: number;
      columns: { arch: string; partial: boolean; error: { kind: string; line: number } | null; values: Record<string, number> }[];
    };
    expect(json.base).toBe(1);
    expect(json.columns.map((c) => [c.arch, c.partial, c.error?.kind ?? null, c.error?.line ?? null])).toEqual([
      ["386", true, "runtime", 7],
      ["amd64", false, null, null],
    ]);
    expect(json.columns[0]!.values.HeapObjects).toBe(5);
    expect(json.columns[1]!.values.HeapAlloc).toBe(8 * 256 * MiB);
  });

  it("--bench-format prints a line per layout that completed and a comment for one that failed", () => {
    const run = goalloc(["compare", trace, "--arch", "amd64,arm", "--gogc", "off", "--bench-format"]);
    expect(run.status).toBe(0);
    const lines = run.stdout.trimEnd().split("\n").filter((l) => !l.startsWith("Unit "));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^BenchmarkReplay\/arena-2g\/arch=amd64 1 .* 2147483648 HeapAlloc-B .* 0 NumGC /);
    expect(lines[1]).toBe("# arena-2g/arch=arm: threw at line 7: fatal error: out of memory");
  });

  it("rejects an unknown arch and standard input (exit 2)", () => {
    const bad = goalloc(["compare", trace, "--arch", "amd64,sparc"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`option '--arch <list>' argument 'amd64,sparc' is invalid. "sparc" is not an arch (amd64, arm64, 386, arm)`);
    const stdin = goalloc(["compare", "-"]);
    expect(stdin).toEqual({ status: 2, stdout: "", stderr: "goalloc: compare replays the trace once per layout: give it a file, not standard input\n" });
  });
});

describe("goalloc diff", () => {
  const gc = "traces/gc.trace";

  it("of one trace under GOGC 100 and 200 shows NumGC changing", () => {
    const run = goalloc(["diff", gc, "--a-gogc", "100", "--b-gogc", "200"]);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe("");
    const lines = run.stdout.split("\n");
    expect(lines[0]).toBe(`goalloc diff: A = ${gc} (amd64, GOGC=100), B = ${gc} (amd64, GOGC=200)`);
    expect(lines[1]).toBe("options that differ: gogc 100 → 200");
    // At GOGC=200 the pacer waits for the heap to triple, not double: one collection fewer.
    expect(row(run.stdout, "NumGC")).toEqual(["NumGC", "4", "3", "-1", "-25.00%"]);
    expect(row(run.stdout, "HeapAlloc")).toEqual(["HeapAlloc", "178,288", "178,288", "", ""]);
    expect(run.stdout).toMatch(/\n\d+ of 32 fields differ\n/);
    expect(row(run.stdout, "main.work < main.main")).toEqual(["main.work < main.main", "4,096", "4,096", "0", "4,096", "4,096", "0"]);
  });

  it("--json and --fail-on-diff (exit 1 when a field differs)", () => {
    const run = goalloc(["diff", gc, "--a-gogc", "100", "--b-gogc", "200", "--json", "--fail-on-diff"]);
    expect(run.status).toBe(1);
    const json = JSON.parse(run.stdout) as { optionChanges: unknown; fields: { field: string; a: number; b: number; delta: number }[] };
    expect(json.optionChanges).toEqual([{ option: "gogc", a: 100, b: 200 }]);
    expect(json.fields.find((f) => f.field === "NumGC")).toMatchObject({ a: 4, b: 3, delta: -1 });
    const same = goalloc(["diff", gc, gc, "--fail-on-diff"]);
    expect(same.status).toBe(0);
    expect(same.stdout).toContain("\n0 of 32 fields differ\n");
  });

  it("sums the size buckets of a site: bytes.makeSlice's four buffer sizes, on both sides", () => {
    const run = goalloc(["diff", "traces/profile.trace", "--a-gogc", "50", "--b-gogc", "200", "--memprofilerate", "1"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("Top allocation sites (sampled profile bytes, as the runtime recorded them)\n");
    // The last 256 KiB buffer of each of eight files is in use; 8 × (32 + 64 + 128 + 256) KiB allocated.
    const site = "bytes.makeSlice < bytes.(*Buffer).grow < bytes.(*Buffer).ReadFrom";
    expect(row(run.stdout, site)).toEqual([site, "2,097,152", "2,097,152", "0", "3,932,160", "3,932,160", "0"]);
    const json = JSON.parse(goalloc(["diff", "traces/profile.trace", "--a-gogc", "50", "--b-gogc", "200", "--memprofilerate", "1", "--depth", "1", "--json"]).stdout) as {
      sites: { stack: string[]; locations: string[]; a: { inuseBytes: number; allocBytes: number } }[];
    };
    expect(json.sites.find((s) => s.stack[0] === "bytes.makeSlice")).toMatchObject({ stack: ["bytes.makeSlice"], locations: [""], a: { inuseBytes: 2097152, allocBytes: 3932160 } });
  });

  it("--top and --depth: rows and frames per site; a depth of 0 is a usage error", () => {
    const run = goalloc(["diff", "traces/profile.trace", "--a-gogc", "50", "--b-gogc", "200", "--memprofilerate", "1", "--top", "2", "--depth", "1"]);
    expect(run.status).toBe(0);
    const table = run.stdout.slice(run.stdout.indexOf("Top allocation sites"));
    expect(table.split("\n").filter((l) => l.startsWith("│ ")).map((l) => cells(l)[0])).toEqual(["site", "bytes.makeSlice", "image.NewRGBA"]);
    const zero = goalloc(["diff", "traces/profile.trace", "--a-gogc", "50", "--depth", "0"]);
    expect(zero.status).toBe(2);
    expect(zero.stderr).toContain(`option '--depth <n>' argument '0' is invalid. expected at least 1 frame, got "0"`);
  });

  it("of two traces compares their sites; one trace without side options is a usage error", () => {
    const run = goalloc(["diff", gc, "traces/profile.trace", "--b-arch", "386"]);
    expect(run.status).toBe(0);
    expect(run.stdout.split("\n")[1]).toBe("options that differ: arch amd64 → 386, dataEnd null → 0x812f3a4");
    // profile.trace's biggest site is not in gc.trace: it leads the site table, with no A side.
    const site = row(run.stdout, "image.NewRGBA < main.decode < main.main");
    expect(site.slice(1, 2)).toEqual(["—"]);
    expect(site[3]).toBe(`+${site[2]}`);
    expect(run.stdout.indexOf("image.NewRGBA")).toBeLessThan(run.stdout.indexOf("main.work < main.main"));
    expect(goalloc(["diff", gc])).toEqual({
      status: 2,
      stdout: "",
      stderr: "goalloc: diff of a trace with itself: give a second trace, or options for one side (e.g. --a-gogc 100 --b-gogc 200)\n",
    });
    const bad = goalloc(["diff", gc, "--a-arch", "sparc"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("option '--a-arch <arch>' argument 'sparc' is invalid. Allowed choices are amd64, arm64, 386, arm.");
  });
});
