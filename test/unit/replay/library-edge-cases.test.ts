// Edge cases at the library level (the bin's are in test/e2e/reliability.test.ts): stopping a
// replay with an AbortSignal, what the emulated runtime does with frees it does not check
// (interior pointers, tiny sub-objects, a large block freed twice), the MaxMem boundary on
// 32-bit, and the crashes the fuzzer found (test/fuzz), each kept as a regression test.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replay, type ReplayResult } from "../../../src/index.js";
import { createRuntime, FlagNoScan, RuntimeThrow, type Runtime } from "../../../src/runtime/index.js";

let tmp = "";

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), "goalloc-edge-cases-"));
});

afterAll(() => {
  if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
});

function traceFile(name: string, text: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, text);
  return file;
}

/** What a runtime call throws (a RuntimeThrow's full text), or "" when it returns. */
function thrown(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof RuntimeThrow) return error.message;
    throw error;
  }
  return "";
}

describe("replay() with an AbortSignal", () => {
  // 100,000 records of 9 to 11 bytes: several 256 KiB chunks of input.
  const lines = ["goalloc-trace 1", ...Array.from({ length: 100_000 }, (_, i) => `a o${i} 48`)];

  it("an already aborted signal replays nothing: a partial report without an error", async () => {
    const file = traceFile("aborted.trace", lines.join("\n") + "\n");
    const { report, outcome } = await replay(file, {}, undefined, { signal: AbortSignal.abort() });
    expect(outcome.interrupted).toBe(true);
    expect(report).toMatchObject({ partial: true, error: null, trace: { lines: 0, events: 0 } });
  });

  it("aborting after the first chunk stops before the second; the half line at the cut is not read", async () => {
    const file = traceFile("abort-midway.trace", lines.join("\n") + "\n");
    const controller = new AbortController();
    const { report, outcome } = await replay(file, {}, undefined, { signal: controller.signal, progress: () => controller.abort() });
    expect(outcome.interrupted).toBe(true);
    expect(report.partial).toBe(true);
    expect(report.error).toBeNull();
    expect(report.trace.lines).toBeGreaterThan(1000);
    expect(report.trace.lines).toBeLessThan(lines.length);
    expect(report.trace.allocs).toBe(report.trace.lines - 1);
  });

  it("a signal never aborted changes nothing", async () => {
    const file = traceFile("not-aborted.trace", lines.slice(0, 100).join("\n") + "\n");
    const signal = new AbortController().signal;
    const withSignal = await replay(file, {}, undefined, { signal });
    const without = await replay(file);
    expect(withSignal.outcome.interrupted).toBe(false);
    expect(withSignal.report).toEqual(without.report);
  });
});

describe("frees the runtime does not check", () => {
  /** A runtime past its first collection (GC 1 runs at the first allocation and empties the tiny block). */
  function warmRuntime(): Runtime {
    const rt = createRuntime({});
    rt.mallocgc(64, 0, 0, -1);
    return rt;
  }

  it("free of an interior pointer frees the object that contains it (runtime.free does not check the base)", () => {
    const rt = warmRuntime();
    const v = rt.mallocgc(64, 0, 0, -1);
    const before = rt.readMemStats().Frees;
    rt.free(v + 8);
    expect(rt.isAllocated(v)).toBe(false);
    expect(rt.readMemStats().Frees).toBe(before + 1);
  });

  it("free of a tiny sub-object frees its whole 16-byte block, with the other sub-objects in it", () => {
    const rt = warmRuntime();
    const a = rt.mallocgc(4, 0, FlagNoScan, -1);
    const b = rt.mallocgc(4, 0, FlagNoScan, -1);
    expect(b).toBe(a + 4);
    rt.free(b);
    expect(rt.isAllocated(a)).toBe(false);
  });

  it("a large block freed twice: the runtime's mlookup fails the second time", () => {
    const rt = warmRuntime();
    const v = rt.mallocgc(100_000, 0, 0, -1);
    rt.free(v);
    expect(thrown(() => rt.free(v))).toBe(`free 0x${v.toString(16)}: not an allocated block\nfatal error: free runtime_mlookup`);
  });

  it("a class-1 block is too small to free (its neighbours may be tiny sub-objects of other blocks)", () => {
    const rt = warmRuntime();
    const v = rt.mallocgc(8, 0, 0, -1);
    expect(thrown(() => rt.free(v))).toBe("fatal error: freeing too small block");
  });
});

describe("MaxMem on 32-bit layouts", () => {
  it.each(["386", "arm"] as const)("%s: 2^32 bytes panic in the size check, before the heap is asked", (arch) => {
    const rt = createRuntime({ arch });
    expect(thrown(() => rt.mallocgc(2 ** 32, 0, FlagNoScan, -1))).toBe("panic: runtime error: runtime: allocation size out of range");
    expect(rt.readMemStats().HeapSys).toBe(1048576);
  });
});

// What the fuzzer (npm run fuzz) and these tests found, minimised, kept as regression tests.
describe("fuzz findings, fixed", () => {
  /** The replay ends with exit 0, 2 or 3 (an error or none), never an exception. */
  async function settles(text: string): Promise<ReplayResult["report"]["error"]> {
    const { report } = await replay(traceFile("bug.trace", text));
    return report.error;
  }

  // A tiny block freed explicitly while the tiny allocator still points into it (as the
  // runtime leaves it): q lives in the freed block, which w then reuses. The replay stops
  // with a trace error naming the object, never an internal error.
  it("a tiny block freed while the tiny allocator still points into it", async () => {
    const error = await settles("goalloc-trace 1\na pre 64\na x 4 flags=noscan\nf x\na q 4 flags=noscan\na w 16 flags=noscan\nd q\nd w\n");
    expect(error).toMatchObject({ kind: "trace", line: 8, message: expect.stringMatching(/bug\.trace:8: object w: its tiny block was already freed$/) });
  });

  // y outlives the block that `f x` freed; w reuses the block; `d y` takes w's reference.
  it("a sub-object of a freed tiny block dies after the block is reused", async () => {
    const error = await settles("goalloc-trace 1\na pre 64\na x 4 flags=noscan\na y 4 flags=noscan\nf x\na w 16 flags=noscan\nd y\nd w\n");
    expect(error).toMatchObject({ kind: "trace", line: 8 });
  });

  // A zero-size object lives at runtime.zerobase, outside the heap: its death is a no-op.
  it("a zero-size object may die", async () => {
    expect(await settles("goalloc-trace 1\na z 0\nd z\ngc\n")).toBeNull();
  });

  // A clock jump of 104 days forces a collection every 3 minutes, 50,000 of them: past the
  // first idle ones they are accounted in bulk (GC.advanceClock), not by walking every span.
  it("a long idle period with live objects replays every forced collection", async () => {
    const lines = ["goalloc-trace 1", ...Array.from({ length: 200 }, (_, i) => `a o${i} 40000`), "t 9007199254740991"];
    const { report } = await replay(traceFile("idle.trace", lines.join("\n") + "\n"));
    expect(report.error).toBeNull();
    // 150,119 scavenger ticks of 60 s; an idle collection is forced every third one.
    expect(report.memstats.NumGC).toBeGreaterThan(50_000);
    expect(report.memstats.NumGC).toBeLessThan(50_100);
  });

  // runtime.SetFinalizer returns at once for zero-sized objects (all at &runtime.zerobase).
  it("SetFinalizer on a zero-size object does nothing, as in the runtime", async () => {
    expect(await settles("goalloc-trace 1\na z 0 type=struct{}\nfin z\nunfin z\n")).toBeNull();
  });
});

describe("the text report never passes a trace's control characters to the terminal", () => {
  it("escapes them in stack frames and the --until line", async () => {
    const { renderReport } = await import("../../../src/report/table.js");
    const file = traceFile("evil.trace", "goalloc-trace 1\ns 1 main.\u001b[7mEVIL;main.main\na x 600000 stack=1\n# stop \u001b[2J here\n");
    const { report } = await replay(file, { until: "stop" });
    const text = renderReport(report, { color: false });
    expect(text).not.toMatch(/\u001b/);
    expect(text).toContain("main.\\x1b[7mEVIL < main.main");
    expect(text).toContain("stopped at line 4: # stop \\x1b[2J here");
  });
});
