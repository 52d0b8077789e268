// Replaying gc Go 1.3-style allocfreetrace logs: the sequencing rules of golog-sequencer.ts
// on small hand-written logs (the oracle tests check the same on real logs).
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allocFreeTrace, replay, type ReplayOptions } from "../../../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "goalloc-golog-"));
let n = 0;

/** A gc 1.3 record: first line, goroutine header, frames as [func, file:line]. */
function rec(first: string, goroutine: string, frames: [string, string][]): string {
  return [first, goroutine, ...frames.flatMap(([f, loc]) => [f, `\t${loc} +0x10 fp=0x1 sp=0x2`]), ""].join("\n") + "\n";
}
const user: [string, string][] = [["main.main()", "/p/main.go:10"], ["runtime.main()", "/go/proc.c:247"]];
const alloc = (addr: string, size: string, what = "single object") =>
  rec(`tracealloc(${addr}, ${size}, ${what})`, "goroutine 16 [running]:", [["runtime.mallocgc(0x1, 0x0, 0x0)", "/go/malloc.goc:191"], ...user]);
const settype = (addr: string, size: string) =>
  rec(`tracealloc(${addr}, ${size}, single object)`, "goroutine 16 [running]:", [
    ["runtime.mallocgc(0x80, 0x0, 0x13)", "/go/malloc.goc:191"],
    ["settype(0x1, 0x2, 0x3)", "/go/malloc.goc:736"],
    ["runtime.mallocgc(0x80, 0x4, 0x0)", "/go/malloc.goc:185"],
    ...user,
  ]);
/** A sweep free printed by gc() itself; `site` is gc's line: 2390 sweeps what the last cycle left, 2512 the eager sweep. */
const gcSweepFree = (addr: string, size: string, site = 2512) =>
  rec(`tracefree(${addr}, ${size})`, "goroutine 0 [idle]:", [
    ["runtime.MSpan_Sweep(0x7f00)", "/go/mgc0.c:1894"],
    ["runtime.sweepone()", "/go/mgc0.c:2028"],
    ["gc(0x7f01)", `/go/mgc0.c:${site}`],
    ["mgc(0xc208002120)", "/go/mgc0.c:2349"],
  ]);
const forcedGC = () =>
  ["tracegc()", "", "goroutine 16 [garbage collection]:", "runtime.gc(0x2)", "\t/go/mgc0.c:2329 +0x1c6", "runtime.GC()", "\t/go/malloc.goc:853 +0x26", "end tracegc", "", ""].join("\n");
const freeOSMemoryGC = () =>
  ["tracegc()", "", "goroutine 16 [garbage collection]:", "runtime.gc(0x2)", "\t/go/mgc0.c:2329 +0x1c6", "runtime/debug.freeOSMemory()", "\t/go/mheap.c:558 +0x26", "runtime/debug.FreeOSMemory()", "\t/go/debug/garbage.go:104 +0x1a", "end tracegc", "", ""].join("\n");
const backgroundGC = () =>
  ["tracegc()", "", "goroutine 16 [garbage collection]:", "runtime.gc(0x0)", "\t/go/mgc0.c:2329 +0x1c6", "runtime.mallocgc(0x30, 0x0, 0x0)", "\t/go/malloc.goc:205 +0x1d6", "end tracegc", "", ""].join("\n");
/** A sweep free printed by a refill's walk of the central lists (MCentral_CacheSpan). */
const refillFree = (addr: string, size: string) =>
  rec(`tracefree(${addr}, ${size})`, "goroutine 16 [running]:", [
    ["runtime.MSpan_Sweep(0x7f00)", "/go/mgc0.c:1894"],
    ["runtime.MCentral_CacheSpan(0x5abee8)", "/go/mcentral.c:69"],
    ["runtime.MCache_Refill(0x7f3e, 0x1c)", "/go/mcache.c:78"],
    ["runtime.mallocgc(0x1000, 0x0, 0x0)", "/go/malloc.goc:152"],
    ...user,
  ]);
const explicitFree = (addr: string, size: string, caller: [string, string]) =>
  rec(`tracefree(${addr}, ${size})`, "goroutine 0 [idle]:", [["runtime.free(0xc)", "/go/malloc.goc:302"], caller, ["gc(0x7f01)", "/go/mgc0.c:2519"]]);
const ensureSweptFree = (addr: string, size: string) =>
  rec(`tracefree(${addr}, ${size})`, "goroutine 0 [idle]:", [
    ["runtime.MSpan_Sweep(0x7f00)", "/go/mgc0.c:1894"],
    ["runtime.MSpan_EnsureSwept(0x7f00)", "/go/mgc0.c:1771"],
    ["runtime.free(0xc)", "/go/malloc.goc:302"],
    ["main.release(0x1)", "/p/main.go:20"],
  ]);

async function replayLog(text: string, options: Partial<ReplayOptions> = {}) {
  const file = join(dir, `log${n++}.txt`);
  writeFileSync(file, text);
  const { report, outcome } = await replay(file, { gc: "log", ...options });
  expect(report.error).toBeNull();
  return { report, outcome };
}

describe("golog sequencing (docs/exact-replay.md)", () => {
  it("allocates a span type table inside the typed object's mallocgc, and prints it first", async () => {
    // Class 9 (128 B): the first typed object takes slot 0 and its table (64 + 64 B) slot 1.
    const file = join(dir, `log${n++}.txt`);
    writeFileSync(file, settype("0xc208010080", "0x80") + alloc("0xc208010000", "0x80", "single object of main.T"));
    let out = "";
    const { report } = await replay(file, { gc: "log" }, allocFreeTrace((t) => (out += t)));
    expect(report.fidelity).toEqual({ allocs: 2, addressMatches: 2, firstDivergence: null, notComparable: null });
    expect(report.startUp).toMatchObject({ prologue: "go1.3", argc: 1, envc: 2, inferred: [] });
    // settype runs before mallocgc prints the object (malloc.goc): the log's order.
    expect(out.split("\n").filter((l) => l.startsWith("tracealloc("))).toEqual([
      "tracealloc(0xc208010080, 0x80, single object)",
      "tracealloc(0xc208010000, 0x80, single object of main.T)",
    ]);
    // The table is settype's own allocation (FlagNoProfiling): with every byte sampled, the
    // profile holds as many samples as without it.
    const sampled = (await replayLog(settype("0xc208010080", "0x80") + alloc("0xc208010000", "0x80", "single object of main.T"), { memprofilerate: 1 })).report;
    const withoutTable = (await replayLog(alloc("0xc208010000", "0x80", "single object of main.T"), { memprofilerate: 1 })).report;
    expect(sampled.profile.samples).toBeGreaterThan(0);
    expect(sampled.profile.samples).toBe(withoutTable.profile.samples);
  });

  it("keeps an object the eager sweep freed through the leftover sweep of the previous cycle", async () => {
    // A and B share a class-4 span that no one sweeps in cycle 1. At the forced collection 2,
    // gc's first sweep (line 2390) frees A, dead since before mark 1; its eager sweep (line
    // 2512) frees B, which died after mark 1. next_gc is computed between the two sweeps,
    // so the heap it sees still holds B.
    const log = (siteB: number) =>
      alloc("0xc208010000", "0x30") +
      alloc("0xc208010030", "0x30") +
      backgroundGC() +
      alloc("0xc208012000", "0x480") +
      forcedGC() +
      gcSweepFree("0xc208010000", "0x30", 2390) +
      gcSweepFree("0xc208010030", "0x30", siteB) +
      alloc("0xc208010030", "0x30");
    const eager = (await replayLog(log(2512))).outcome.snapshot;
    const leftover = (await replayLog(log(2390))).outcome.snapshot;
    expect(eager.gcs[1]!.heapAlloc - leftover.gcs[1]!.heapAlloc).toBe(0x30);
    expect(eager.memstats.Frees).toBe(leftover.memstats.Frees);
  });

  it("releases every free span after FreeOSMemory's collection (scvg-1)", async () => {
    const log = (gc: string) => alloc("0xc208010000", "0x8000") + gc + alloc("0xc208018000", "0x480") + gcSweepFree("0xc208010000", "0x8000");
    const released = await replayLog(log(freeOSMemoryGC()));
    const forced = await replayLog(log(forcedGC()));
    expect(released.report.fidelity).toEqual({ allocs: 2, addressMatches: 2, firstDivergence: null, notComparable: null });
    expect(released.report.memstats.HeapIdle).toBeGreaterThan(0x8000);
    expect(released.report.memstats.HeapReleased).toBe(released.report.memstats.HeapIdle);
    expect(released.outcome.snapshot.scavengerLog.map((l) => l.text.split(":")[0])).toEqual(["scvg-1", "scvg-1"]);
    expect(forced.report.memstats.HeapReleased).toBe(0);
  });

  it("applies a forced collection's sweep frees before running it, and checks its descriptor", async () => {
    const log =
      alloc("0xc208010000", "0x30") +
      alloc("0xc208010030", "0x30") +
      forcedGC() +
      alloc("0xc208012000", "0x480") + // gc's first-use parallel-for descriptor
      gcSweepFree("0xc208010000", "0x30") +
      alloc("0xc208010000", "0x30");
    const { report, outcome } = await replayLog(log);
    expect(report.fidelity).toEqual({ allocs: 4, addressMatches: 4, firstDivergence: null, notComparable: null });
    expect(report.trace).toMatchObject({ allocs: 4, deaths: 1, gcRecords: 1 });
    expect(outcome.snapshot.memstats.NumGC).toBe(1);
    // The eager sweep freed the object before the next allocation reused it.
    expect(report.memstats.Frees).toBe(1 + 1);
  });

  it("lets an explicit free wait for the frees its EnsureSwept printed after it", async () => {
    // A and B share a class-4 span. After a background (non-forced) collection, freeing A
    // explicitly sweeps the span first (EnsureSwept), which frees B: the log prints A's free,
    // then B's. Both must be known dead when the sweep runs, or B would survive it.
    const log =
      alloc("0xc208010000", "0x30") +
      alloc("0xc208010030", "0x30") +
      backgroundGC() +
      alloc("0xc208012000", "0x480") +
      explicitFree("0xc208010000", "0x30", ["main.release(0x1)", "/p/main.go:20"]) +
      ensureSweptFree("0xc208010030", "0x30") +
      alloc("0xc208010000", "0x30") +
      alloc("0xc208010030", "0x30");
    const { report } = await replayLog(log);
    expect(report.fidelity).toEqual({ allocs: 5, addressMatches: 5, firstDivergence: null, notComparable: null });
    expect(report.trace).toMatchObject({ frees: 1, deaths: 1 });
  });

  it("sweeps in a refill's walk in the order the log printed its frees (MCentral_CacheSpan)", async () => {
    // Class 0x1000 spans hold 2 objects: A = 0x10000, B = 0x12000, C = 0x14000 (cached at
    // the collection). The walk after it freed all of B (back to the heap) and then A's
    // first object, so B came before A on the real empty list although A was cached first:
    // a sweep the log could not show moved A to the back. The emulated list still has A
    // first; the walk must follow the printed order, B's frees then A's.
    const log =
      alloc("0xc208010000", "0x1000") +
      alloc("0xc208011000", "0x1000") +
      alloc("0xc208012000", "0x1000") +
      alloc("0xc208013000", "0x1000") +
      alloc("0xc208014000", "0x1000") +
      backgroundGC() +
      alloc("0xc208016000", "0x480") +
      alloc("0xc208015000", "0x1000") +
      refillFree("0xc208012000", "0x1000") +
      refillFree("0xc208013000", "0x1000") +
      refillFree("0xc208010000", "0x1000") +
      alloc("0xc208010000", "0x1000") +
      alloc("0xc208012000", "0x2000"); // B's page, from the heap
    const file = join(dir, `log${n++}.txt`);
    writeFileSync(file, log);
    let out = "";
    const { report } = await replay(file, { gc: "log" }, allocFreeTrace((t) => (out += t)));
    expect(report.fidelity).toEqual({ allocs: 9, addressMatches: 9, firstDivergence: null, notComparable: null });
    const records = (text: string) => text.split("\n").filter((l) => l.startsWith("tracealloc(") || l.startsWith("tracefree("));
    expect(records(out)).toEqual(records(log));
  });

  it("splits a shrinking 16 KiB stack in place and frees its low half (gc 1.3 shrinkstack)", async () => {
    const log =
      alloc("0xc208010000", "0x4000") + // class 58: one object on 2 pages
      forcedGC() +
      alloc("0xc208014000", "0x480") +
      explicitFree("0xc208010000", "0x2000", ["runtime.shrinkstack(0xc208002120)", "/go/stack.c:946"]) +
      alloc("0xc208010000", "0x2000") + // the freed low page, now a class-50 span
      explicitFree("0xc208012000", "0x2000", ["runtime.stackfree(0x1, 0x2, 0x3)", "/go/stack.c:159"]);
    const { report, outcome } = await replayLog(log);
    expect(report.fidelity).toEqual({ allocs: 3, addressMatches: 3, firstDivergence: null, notComparable: null });
    expect(report.trace).toMatchObject({ frees: 2, unknownFrees: 0 });
    const span = outcome.snapshot.heap.spans.find((s) => s.start * 8192 === 0xc208010000);
    expect(span).toMatchObject({ inUse: true, npages: 1 });
  });
});

describe("native background mode (--bgsweep)", () => {
  it("runs the sweeper and finalizers on clock records, or never", async () => {
    const file = join(dir, "bg.trace");
    writeFileSync(file, "goalloc-trace 1\na x 64\nfin x\nd x\ngc\nt 1000\nt 2000\n");
    const clock = (await replay(file, {})).report;
    const off = (await replay(file, { bgsweep: "off" })).report;
    // clock: the finalizer ran at t 1000 (a forced GC), and the sweep at t 2000 freed x.
    expect(clock.memstats.NumGC - off.memstats.NumGC).toBe(1);
    expect(clock.memstats.Frees - off.memstats.Frees).toBe(1);
  });

  it("keeps an object whose finalizer is queued through every collection until it has run", async () => {
    // The finalizer queue is a root (mgc0.c markroot): x, found dead by the first gc's
    // sweep, survives the next two; it is freed only after its finalizer ran (t 1000) and a
    // later collection's sweep reached it (t 2000).
    const file = join(dir, "finq.trace");
    const objects = async (text: string) => {
      writeFileSync(file, "goalloc-trace 1\n" + text);
      const { report } = await replay(file, {});
      expect(report.error).toBeNull();
      return [report.memstats.HeapObjects, report.memstats.Frees];
    };
    const queued = await objects("a x 64\nfin x\nd x\ngc\ngc\ngc\n");
    const plain = await objects("a x 64\nd x\ngc\ngc\ngc\n");
    expect(queued[0]! - plain[0]!).toBe(1);
    expect(plain[1]! - queued[1]!).toBe(1);
    expect(await objects("a x 64\nfin x\nd x\ngc\ngc\nt 1000\nt 2000\n")).toEqual(plain);
  });

  it("lets the sweeper pass the cycle's first N spans at a y record, or never", async () => {
    // The 4 MiB object starts a collection (heap_alloc ≥ next_gc); y 2 lets the background
    // sweeper sweep the first 2 spans of its snapshot, one per turn; y 1 then finds it past
    // span 1 already. runtime.GC's own gc line counts the sweeper's spans.
    const file = join(dir, "yield.trace");
    writeFileSync(file, "goalloc-trace 1\na x1 64\na x2 128\na x3 256\nd x1\nd x2\nd x3\na big 4194304\ny 2\ny 1\ngc\n");
    for (const [bgsweep, swept] of [["clock", 2], ["off", 0]] as const) {
      const { outcome, report } = await replay(file, { bgsweep });
      expect(report.error).toBeNull();
      expect(outcome.snapshot.gcs.at(-1)!.nbgsweep).toBe(swept);
    }
    writeFileSync(file, "goalloc-trace 1\ny\n");
    expect((await replay(file, {})).report.error).toMatchObject({ line: 2, message: `${file}:2: y: missing N` });
  });
});
