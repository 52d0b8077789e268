// Baselines (src/check/baseline.ts) and the library's check(): what a baseline holds, reading
// one back, refusing one made with other options, and judging a changed run field by field.

import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baselineFromReport, BaselineError, evaluateCheck, formatBaseline, optionDifferences, parseBaseline, type Baseline } from "../../../src/check/baseline.js";
import { parseTolerance } from "../../../src/check/tolerance.js";
import { checkLine, renderCheckFailures } from "../../../src/check/render.js";
import { check, replay, type Report } from "../../../src/index.js";
import { repoRoot } from "../trace/helpers.js";

const GC_TRACE = path.join(repoRoot, "traces/gc.trace");
/** Stand-ins for the SHA-256 of two traces (a baseline holds the digest in hex). */
const DIGEST = "d1".repeat(32);
const OTHER_DIGEST = "0e".repeat(32);
let tmp = "";
let report: Report;
let baseline: Baseline;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), "goalloc-check-"));
  report = (await replay(GC_TRACE)).report;
  baseline = baselineFromReport(report, DIGEST);
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of gc.trace with `extra` appended, in the temporary directory. */
function gcTraceWith(name: string, extra: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, readFileSync(GC_TRACE, "utf8") + extra);
  return file;
}

/** Whether the BaselineError `action` throws says that making the baseline again is the fix. */
function regenerate(action: () => unknown): boolean {
  try {
    action();
  } catch (e) {
    if (e instanceof BaselineError) return e.regenerate;
  }
  throw new Error("no BaselineError");
}

function baselineError(action: () => unknown): string {
  try {
    action();
    return "";
  } catch (e) {
    expect(e).toBeInstanceOf(BaselineError);
    return (e as Error).message;
  }
}

describe("a baseline", () => {
  it("holds the format version, the resolved options and every field the report has", () => {
    expect(baseline["goalloc-baseline"]).toBe(1);
    expect(baseline.arch).toBe("amd64");
    expect(baseline.options).toMatchObject({
      gogc: 100,
      memprofilerate: 524288,
      efence: false,
      seed: 0x49f6428a,
      dataEnd: null,
      gc: "pacer",
      until: null,
      prologue: "none",
      argc: null,
      envc: null,
    });
    expect("format" in baseline.options).toBe(false);
    expect(baseline.trace).toEqual({ file: GC_TRACE, format: "native", sha256: DIGEST, events: 20 });
    expect(baseline.values.HeapSys).toBe(report.memstats.HeapSys);
    expect(baseline.values.NumGC).toBe(report.memstats.NumGC);
    expect(baseline.values["peak.HeapInuse"]).toBe(report.peak.HeapInuse.value);
    expect(baseline.values["frag.spanWaste"]).toBe(report.memstats.HeapInuse - report.memstats.HeapAlloc);
    // A native trace has no logged addresses, so no fidelity to record.
    expect("fidelity.matchRate" in baseline.values).toBe(false);
    expect(Object.keys(baseline.values)).toHaveLength(32);
  });

  it("reads back what formatBaseline writes", () => {
    expect(parseBaseline(formatBaseline(baseline), "b.json")).toEqual(baseline);
  });

  it("is not made from a partial replay", async () => {
    const file = gcTraceWith("bad.trace", "f nosuchobject\n");
    const partial = (await replay(file)).report;
    expect(partial.partial).toBe(true);
    expect(baselineError(() => baselineFromReport(partial, null))).toBe("a baseline cannot be made from a partial replay");
  });

  it("that is not one is refused with the file's name, without offering to overwrite it", () => {
    expect(baselineError(() => parseBaseline("{", "b.json"))).toMatch(/^b\.json: not a goalloc baseline \(not JSON: /);
    expect(baselineError(() => parseBaseline('{"goalloc": "0.1.0"}', "b.json"))).toBe('b.json: not a goalloc baseline (no "goalloc-baseline" key)');
    expect(baselineError(() => parseBaseline('{"goalloc-baseline": 2}', "b.json"))).toBe(
      "b.json: baseline format 2 is newer than this goalloc reads (1); update goalloc",
    );
    expect(baselineError(() => parseBaseline('{"goalloc-baseline": "1"}', "b.json"))).toBe('b.json: unknown baseline format "1"');
    for (const text of ["{", "[]", '{"goalloc-baseline": 2}']) expect(regenerate(() => parseBaseline(text, "b.json"))).toBe(false);
  });

  it("reads back a Go log's baseline: fidelity and no requested sizes", async () => {
    const log = baselineFromReport((await replay(path.join(repoRoot, "traces/go1.3.3-p0.log"))).report, null);
    expect(log.values["fidelity.matchRate"]).toBe(1);
    expect("frag.internalWaste" in log.values).toBe(false);
    expect(parseBaseline(formatBaseline(log), "log.json")).toEqual(log);
  });
});

describe("a baseline file edited by hand", () => {
  /** The baseline's JSON text after `edit` changed a copy of it. */
  function edited(edit: (b: Record<string, Record<string, unknown>>) => void): string {
    const copy = JSON.parse(formatBaseline(baseline)) as Record<string, Record<string, unknown>>;
    edit(copy);
    return JSON.stringify(copy);
  }

  it("that lacks a field is refused, naming every missing one", () => {
    const text = edited((b) => {
      delete b.values!.HeapSys;
      delete b.values!.NumGC;
    });
    expect(baselineError(() => parseBaseline(text, "b.json"))).toBe("b.json: baseline is missing HeapSys, NumGC");
    expect(regenerate(() => parseBaseline(text, "b.json"))).toBe(true);
  });

  it("that lacks an option, a trace key or a part is refused the same way", () => {
    const text = edited((b) => {
      delete b.options!.until;
      delete b.trace!.sha256;
      delete b.arch;
    });
    expect(baselineError(() => parseBaseline(text, "b.json"))).toBe("b.json: baseline is missing arch, options.until, trace.sha256");
    expect(baselineError(() => parseBaseline(edited((b) => delete b.values), "b.json"))).toBe("b.json: baseline is missing values");
  });

  it("with an unknown field is refused: a misspelt name would never be compared", () => {
    const one = edited((b) => (b.values!.Foo = 1));
    expect(baselineError(() => parseBaseline(one, "b.json"))).toBe('b.json: unknown field "Foo" in values');
    expect(regenerate(() => parseBaseline(one, "b.json"))).toBe(true);
    const many = edited((b) => {
      b.values!.Foo = 1;
      b.values!["peak.heapSys"] = 2;
      b.options!.bgSweep = "off";
      b.comment = {};
    });
    expect(baselineError(() => parseBaseline(many, "b.json"))).toBe('b.json: unknown field "comment"; unknown field "bgSweep" in options; unknown fields "Foo", "peak.heapSys" in values');
  });

  it("that misses one field and misspells another names the missing one first", () => {
    const text = edited((b) => {
      b.values!.HeapSyss = b.values!.HeapSys;
      delete b.values!.HeapSys;
    });
    expect(baselineError(() => parseBaseline(text, "b.json"))).toBe("b.json: baseline is missing HeapSys");
  });

  it("with a value of the wrong type is refused, naming the key and what it must be", () => {
    const cases: Array<[(b: Record<string, Record<string, unknown>>) => void, string]> = [
      [(b) => (b.values!.HeapSys = "big"), "values.HeapSys is not a non-negative integer"],
      [(b) => (b.values!.NumGC = 4.5), "values.NumGC is not a non-negative integer"],
      [(b) => (b.values!["frag.jw1"] = null), "values.frag.jw1 is not a number"],
      [(b) => (b.options!.gogc = "100"), 'options.gogc is not a non-negative integer or "off"'],
      [(b) => (b.options!.efence = "no"), "options.efence is not true or false"],
      [(b) => (b.options!.argc = -1), "options.argc is not a non-negative integer or null"],
      [(b) => (b.trace!.sha256 = "abc"), "trace.sha256 is not a SHA-256 in hex or null"],
      [(b) => (b.trace!.events = "20"), "trace.events is not a non-negative integer"],
      [(b) => ((b as Record<string, unknown>).arch = 386), "arch is not a string"],
      [(b) => ((b as Record<string, unknown>).values = [1, 2]), "values is not an object"],
    ];
    for (const [edit, what] of cases) expect(baselineError(() => parseBaseline(edited(edit), "b.json"))).toBe(`b.json: malformed goalloc baseline (${what})`);
    // A ratio may be negative (allocator memory below the live bytes gives jw < 0) and "off" is GOGC off.
    const fine = edited((b) => {
      b.values!["frag.jw1"] = -0.25;
      b.options!.gogc = "off";
    });
    expect(parseBaseline(fine, "b.json").values["frag.jw1"]).toBe(-0.25);
  });
});

describe("evaluateCheck", () => {
  it("passes the report the baseline was made from, every field unchanged", () => {
    const v = evaluateCheck(baseline, report, [], DIGEST);
    expect(v.ok).toBe(true);
    expect(v.failures).toEqual([]);
    expect(v.fields).toHaveLength(32);
    expect(v.fields.every((f) => f.baseline === f.now)).toBe(true);
    expect(v.traceChanged).toBe(false);
    expect(renderCheckFailures(v)).toBe("");
  });

  it("refuses a run with other options, naming each difference", async () => {
    const other = (await replay(GC_TRACE, { gogc: 200, efence: true })).report;
    expect(optionDifferences(baseline, other)).toEqual([
      { option: "gogc", baseline: 100, now: 200 },
      { option: "efence", baseline: false, now: true },
    ]);
    expect(baselineError(() => evaluateCheck(baseline, other, [], DIGEST, "ci/gc.json"))).toBe(
      "ci/gc.json was made with other options than this run:\n" +
        "  gogc: 100 in the baseline, 200 now\n" +
        "  efence: false in the baseline, true now\n" +
        "run with the baseline's options, use a baseline made with these, or --update to replace it",
    );
  });

  it("refuses a baseline that did not record an option the run has", () => {
    const { until: _until, ...older } = baseline.options;
    const withoutUntil = { ...baseline, options: older } as unknown as Baseline;
    expect(optionDifferences(withoutUntil, report)).toEqual([{ option: "until", baseline: undefined, now: null }]);
    expect(baselineError(() => evaluateCheck(withoutUntil, report, [], null))).toContain("  until: not recorded in the baseline, null now\n");
  });

  it("refuses a run on another arch (whose 32-bit data end differs too)", async () => {
    const on386 = (await replay(GC_TRACE, { arch: "386" })).report;
    const diffs = optionDifferences(baseline, on386);
    expect(diffs[0]).toEqual({ option: "arch", baseline: "amd64", now: "386" });
    expect(diffs.map((d) => d.option)).toContain("dataEnd");
  });

  it("fails exactly the fields a changed trace moves past their limits", async () => {
    // One more 144-byte object: counts move by one, byte fields by 144 (well inside 1%).
    const changed = (await replay(gcTraceWith("more.trace", "a extra 144 flags=noscan stack=1\n"))).report;
    const v = evaluateCheck(baseline, changed, [], OTHER_DIGEST);
    expect(v.ok).toBe(false);
    expect(v.traceChanged).toBe(true);
    expect(v.failures.map((f) => f.field)).toEqual(["Mallocs", "HeapObjects", "peak.HeapObjects", "frag.jw1", "frag.jw2"]);
    const mallocs = v.failures[0]!;
    expect(checkLine(mallocs)).toBe(`Mallocs: ${report.memstats.Mallocs} → ${report.memstats.Mallocs + 1} (+1, +${(100 / report.memstats.Mallocs).toFixed(2)}%, limit exact)`);
    const heapAlloc = v.fields.find((f) => f.field === "HeapAlloc")!;
    expect(heapAlloc.now! - heapAlloc.baseline!).toBe(144);
    expect(heapAlloc.ok).toBe(true);

    // Tolerances that admit the change pass it.
    const lenient = evaluateCheck(baseline, changed, parseTolerance("Mallocs=+1,*HeapObjects=+1,frag.jw*=off"), null);
    expect(lenient.ok).toBe(true);
    expect(lenient.traceChanged).toBe(null);
    // "+0" fails any increase; "-0" fails any decrease, so the extra object passes it.
    const others = ",*HeapObjects=+1,frag.jw*=off";
    expect(evaluateCheck(baseline, changed, parseTolerance("Mallocs=+0" + others), null).failures.map((f) => f.field)).toEqual(["Mallocs"]);
    expect(evaluateCheck(baseline, changed, parseTolerance("Mallocs=-0" + others), null).ok).toBe(true);
  });

  it("fails a field the baseline has and the run has not", () => {
    const withRate: Baseline = { ...baseline, values: { ...baseline.values, "fidelity.matchRate": 1 } };
    const v = evaluateCheck(withRate, report, [], null);
    expect(v.failures.map((f) => checkLine(f))).toEqual(["fidelity.matchRate: 1 → none (the run has no value; limit ±0.01)"]);
  });

  it("refuses a baseline without a field the run has, even one not every report has", () => {
    const { "frag.jw1": _jw1, "frag.jw3": _jw3, ...values } = baseline.values;
    // parseBaseline lets it through: a Johnstone–Wilson ratio is absent without live bytes.
    const text = JSON.stringify({ ...baseline, values });
    const lacking = parseBaseline(text, "ci/gc.json");
    expect(baselineError(() => evaluateCheck(lacking, report, [], null, "ci/gc.json"))).toBe("ci/gc.json: baseline is missing frag.jw1, frag.jw3");
    expect(regenerate(() => evaluateCheck(lacking, report, [], null, "ci/gc.json"))).toBe(true);
    // Even with the field's limit off: the file is not what --update writes.
    expect(baselineError(() => evaluateCheck(lacking, report, parseTolerance("frag.jw*=off"), null, "ci/gc.json"))).toBe(
      "ci/gc.json: baseline is missing frag.jw1, frag.jw3",
    );
  });
});

describe("check() (library)", () => {
  it("makes a baseline with the trace's SHA-256, then passes the same trace against it", async () => {
    const first = await check(GC_TRACE, null);
    expect(first.verdict).toBe(null);
    const digest = createHash("sha256").update(readFileSync(GC_TRACE)).digest("hex");
    expect(first.sha256).toBe(digest);
    expect(first.current!.trace.sha256).toBe(digest);
    const second = await check(GC_TRACE, first.current, {}, "");
    expect(second.verdict!.ok).toBe(true);
    expect(second.verdict!.traceChanged).toBe(false);
  });

  it("compares nothing for a replay that stopped early", async () => {
    const run = await check(gcTraceWith("bad2.trace", "f nosuchobject\n"), baseline);
    expect(run.report.error!.kind).toBe("trace");
    expect(run.current).toBe(null);
    expect(run.verdict).toBe(null);
  });
});
