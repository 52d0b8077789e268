import { describe, expect, it } from "vitest";
import {
  bgsweep,
  checkInvariants,
  createRuntime,
  FlagNoInvokeGC,
  FlagNoScan,
  GC_RECORDS_KEPT,
  GCForce,
  KeptEnds,
  parseGOGC,
  RuntimeThrow,
  type GCRecord,
} from "../../../src/runtime/index.js";

describe("GOGC parsing (mgc0.c readgogc)", () => {
  it("follows the runtime's digits-only atoi", () => {
    expect(parseGOGC(undefined)).toBe(100);
    expect(parseGOGC("")).toBe(100);
    expect(parseGOGC("off")).toBe(-1);
    expect(parseGOGC("50")).toBe(50);
    expect(parseGOGC("-5")).toBe(0);
    expect(parseGOGC("1x")).toBe(1);
    expect(parseGOGC("OFF")).toBe(0);
  });

  it("reads into an int32 as the runtime's atoi does: past 2^31 - 1 it wraps, and negative means off", () => {
    expect(parseGOGC("2147483647")).toBe(2147483647);
    expect(parseGOGC("2147483648")).toBe(-2147483648);
    // 99999999999999999999 mod 2^32, as an int32.
    expect(parseGOGC("99999999999999999999")).toBe(1661992959);
  });
});

describe("pacing (malloc.goc mallocgc, mgc0.c gc and MSpan_Sweep)", () => {
  for (const gogc of [100, 50, 0, 300]) {
    it(`sets NextGC = H + floor(H·${gogc}/100) at the end of mark`, () => {
      const rt = createRuntime({ gcpercent: gogc });
      for (let i = 0; i < 300; i++) rt.mallocgc(700, 0, FlagNoScan | FlagNoInvokeGC, -1);
      rt.gc.collect(GCForce.Always);
      const last = rt.gc.records[rt.gc.records.length - 1]!;
      const H = last.heapAlloc;
      expect(rt.mstats.next_gc).toBe(H + Math.floor((H * gogc) / 100));
      expect(rt.mstats.numgc).toBe(rt.gc.records.length);
    });
  }

  it("does nothing at all with GOGC=off, even for runtime.GC", () => {
    const rt = createRuntime({ gcpercent: -1 });
    rt.mallocgc(1 << 20, 0, FlagNoScan, -1);
    expect(rt.gc.collect(GCForce.Eager)).toBe(false);
    expect(rt.mstats.numgc).toBe(0);
  });

  it("triggers on the stale heap_alloc: small allocations count only once their cache is flushed", () => {
    const rt = createRuntime();
    rt.mallocgc(1 << 20, 0, FlagNoScan, -1); // GC 1 at the first eligible allocation (next_gc = 0)
    rt.gc.collect(GCForce.Eager);
    const n = rt.mstats.numgc;
    const nextGC = rt.mstats.next_gc;
    // 64-byte objects from one cached span: heap_alloc does not move until a refill.
    let allocated = 0;
    while (allocated + 64 < nextGC && allocated < 127 * 64) {
      rt.mallocgc(64, 0, FlagNoScan, -1);
      allocated += 64;
    }
    expect(rt.mstats.numgc).toBe(n);
    expect(rt.mcaches[0]!.local_cachealloc).toBeGreaterThan(0);
  });

  it("decrements NextGC per swept span by nfree·size·(GOGC+100)/100 (mgc0.c MSpan_Sweep)", () => {
    const rt = createRuntime();
    rt.gc.collect(GCForce.Eager);
    const objs = Array.from({ length: 40 }, () => rt.mallocgc(96, 0, FlagNoScan, -1));
    const big = rt.mallocgc(50000, 0, FlagNoScan, -1);
    for (const v of objs.slice(0, 7)) rt.release(v);
    rt.release(big);
    rt.gc.collect(GCForce.Always);
    const before = rt.mstats.next_gc;
    bgsweep(rt, 1 << 20);
    expect(before - rt.mstats.next_gc).toBe(Math.floor((7 * 96 * 200) / 100) + Math.floor((7 * 8192 * 200) / 100));
    checkInvariants(rt);
  });
});

describe("finalizers (malloc.goc SetFinalizer, mheap.c addfinalizer, mgc0.c queuefinalizer)", () => {
  it("rejects a pointer that is not the start of a block, and a second finalizer", () => {
    const rt = createRuntime({ gcpercent: -1 });
    const v = rt.mallocgc(64, rt.typeWord("main.T", 0), 0, -1);
    expect(() => rt.setFinalizer(v + 8, false)).toThrow(
      new RuntimeThrow("runtime.SetFinalizer", ["runtime.SetFinalizer: pointer not at beginning of allocated block"]),
    );
    rt.setFinalizer(v, false);
    expect(() => rt.setFinalizer(v, false)).toThrow("runtime.SetFinalizer: finalizer already set\nfatal error: runtime.SetFinalizer");
    expect(() => rt.free(v)).toThrow("fatal error: can't explicitly free an object with a finalizer");
  });

  it("allows an interior pointer of a tiny pointer-free object", () => {
    const rt = createRuntime({ gcpercent: -1 });
    rt.mallocgc(3, 0, FlagNoScan, -1);
    const t = rt.mallocgc(4, 0, FlagNoScan, -1);
    expect(t % 16).not.toBe(0);
    rt.setFinalizer(t, true);
    rt.removeFinalizer(t);
    rt.removeFinalizer(t); // removing a finalizer that is not set is fine
  });

  it("keeps an unreachable object with a finalizer for one more cycle, then frees it", () => {
    const rt = createRuntime();
    rt.gc.collect(GCForce.Eager);
    const v = rt.mallocgc(64, 0, FlagNoScan, -1);
    rt.setFinalizer(v, false);
    const otherSys = rt.mstats.other_sys;
    rt.release(v);
    const gcSys = rt.mstats.gc_sys;
    rt.gc.collect(GCForce.Eager);
    expect(rt.isAllocated(v)).toBe(true);
    expect(rt.gc.finq).toBe(1);
    // The first finalizer queue block, carved from a persistentalloc chunk and re-accounted.
    expect(rt.mstats.gc_sys - gcSys).toBe(4096);
    expect(otherSys - rt.mstats.other_sys).toBe(4096);
    expect(rt.gc.runFinalizers()).toBe(true); // ends with a forced, non-eager GC
    bgsweep(rt, 1 << 20);
    expect(rt.isAllocated(v)).toBe(false);
    checkInvariants(rt);
  });
});

describe("scavenger (mheap.c MHeap_Scavenger, scavenge)", () => {
  it("forces a GC after 2 minutes without one and releases spans idle for 5 minutes", () => {
    const rt = createRuntime();
    const big = rt.mallocgc(4 << 20, 0, FlagNoScan, -1);
    rt.gc.collect(GCForce.Eager);
    rt.release(big);
    rt.gc.collect(GCForce.Eager); // frees 512 pages at t = 0
    const n = rt.mstats.numgc;
    // Ticks at 60 and 120 s: not more than 120 s since the last GC (t = 0), nothing idle 300 s.
    rt.gc.advanceClock(170e9);
    expect(rt.mstats.numgc).toBe(n);
    expect(rt.mstats.heap_released).toBe(0);
    // Ticks 180 (GC forced), 240, 300, 360 (GC forced again; the 4 MiB freed at t = 0 is released).
    rt.gc.advanceClock(400e9);
    expect(rt.clock).toBe(400e9);
    expect(rt.mstats.numgc).toBe(n + 2);
    expect(rt.mstats.last_gc).toBe(360e9);
    expect(rt.mstats.heap_released).toBeGreaterThanOrEqual(4 << 20);
    expect(rt.gc.scavengerLog).toContainEqual({ afterGC: n + 1, text: "scvg2: GC forced" });
    expect(rt.gc.scavengerLog.some((l) => /^scvg5: [4-9] MB released$/.test(l.text))).toBe(true);
    checkInvariants(rt);
    // Reusing a released span takes it back from the released count.
    rt.mallocgc(1 << 20, 0, FlagNoScan, -1);
    expect(rt.mstats.heap_released).toBeLessThan(rt.mstats.heap_idle + 1);
    checkInvariants(rt);
  });
});

describe("long idle stretches (advanceClock)", () => {
  function idleRun(repeatIdle: boolean) {
    const rt = createRuntime();
    rt.gc.repeatIdle = repeatIdle;
    const objs = Array.from({ length: 50 }, (_, i) => rt.mallocgc(1000 + 40000 * (i % 3), 0, FlagNoScan, -1));
    for (const v of objs.slice(0, 20)) rt.release(v);
    rt.gc.advanceClock(6 * 3600e9); // six idle hours: 120 forced collections
    const after = Array.from({ length: 30 }, () => rt.mallocgc(40000, 0, FlagNoScan, -1));
    checkInvariants(rt);
    return { rt, stats: rt.readMemStats(), after };
  }

  it("accounts repeated idle collections in bulk with exactly the same result", () => {
    const bulk = idleRun(true);
    const slow = idleRun(false);
    expect(bulk.stats).toEqual(slow.stats);
    expect(bulk.stats.NumGC).toBeGreaterThan(120); // 120 idle ones, and those the allocations started
    expect(bulk.after).toEqual(slow.after);
    expect(bulk.rt.gc.records).toEqual(slow.rt.gc.records);
    expect(bulk.rt.gc.scavengerLog).toEqual(slow.rt.gc.scavengerLog);
    expect(bulk.rt.mheap.sweepgen).toBe(slow.rt.mheap.sweepgen);
  });
});

describe("collection records: the first and the last kept, every one told to a listener", () => {
  it("KeptEnds keeps the first N and the last N items in order and counts those between", () => {
    const kept = new KeptEnds<number>(3);
    expect([kept.items(), kept.last(), kept.elided]).toEqual([[], undefined, 0]);
    for (let i = 1; i <= 5; i++) kept.push(i);
    expect([kept.items(), kept.last(), kept.elided]).toEqual([[1, 2, 3, 4, 5], 5, 0]);
    kept.push(6);
    expect([kept.items(), kept.last(), kept.elided]).toEqual([[1, 2, 3, 4, 5, 6], 6, 0]);
    for (let i = 7; i <= 11; i++) kept.push(i);
    expect([kept.items(), kept.last(), kept.elided, kept.total]).toEqual([[1, 2, 3, 9, 10, 11], 11, 5, 11]);
  });

  it("a runtime keeps 2 × 1024 records however many collections run; the listener sees each one", () => {
    const rt = createRuntime();
    const seen: number[] = [];
    rt.gc.listener = { collected: (r: GCRecord) => void seen.push(r.numgc), scavenged: () => {} };
    rt.mallocgc(64, 0, FlagNoScan, -1);
    const n = 5000;
    while (rt.mstats.numgc < n) rt.gc.collect(GCForce.Eager);
    expect(GC_RECORDS_KEPT).toBe(1024);
    const numbers = rt.gc.records.map((r) => r.numgc);
    expect(numbers).toEqual([...Array.from({ length: 1024 }, (_, i) => i + 1), ...Array.from({ length: 1024 }, (_, i) => n - 1023 + i)]);
    expect(rt.gc.recordsElided).toBe(n - 2048);
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  });

  it("a long idle stretch keeps the first and last scavenger lines; the listener sees them all, in order with the collections", () => {
    const rt = createRuntime();
    const lines: string[] = [];
    rt.gc.listener = { collected: (r: GCRecord) => void lines.push(`gc${r.numgc}`), scavenged: (text) => void lines.push(text) };
    rt.mallocgc(1 << 20, 0, FlagNoScan, -1);
    // 60 days idle: a scavenger tick a minute, a forced collection every third.
    rt.gc.advanceClock(60 * 86_400e9);
    const ticks = 60 * 24 * 60;
    expect(lines.filter((l) => l.endsWith("(MB)"))).toHaveLength(ticks);
    expect(lines.filter((l) => l.startsWith("gc"))).toHaveLength(rt.mstats.numgc);
    expect(lines.indexOf("scvg2: GC forced")).toBe(lines.indexOf(`gc2`) + 1);
    expect(rt.gc.scavengerLog).toHaveLength(2 * 1024);
    expect(rt.gc.scavengerLog.map((l) => l.text)).toEqual([
      ...lines.filter((l) => l.startsWith("scvg")).slice(0, 1024),
      ...lines.filter((l) => l.startsWith("scvg")).slice(-1024),
    ]);
  });
});
