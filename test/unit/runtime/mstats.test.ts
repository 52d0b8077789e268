// Memory statistics (go1.3.3 mgc0.c updatememstats, ReadMemStats; malloc.h MStats): exact
// figures of a hand-checked heap, the identities ReadMemStats guarantees, and which fields are
// stale between two updatememstats.
import { describe, expect, it } from "vitest";
import {
  checkInvariants,
  class_to_size,
  createRuntime,
  FlagNoInvokeGC,
  FlagNoScan,
  GCForce,
  NumSizeClasses,
  VisibleSizeClasses,
  type MemStats,
  type Runtime,
} from "../../../src/runtime/index.js";
import { P } from "./helpers.js";

const KiB = 1024;
const MiB = 1024 * KiB;

/** The identities that hold right after ReadMemStats, and how they tie to the runtime's own counters. */
function checkIdentities(rt: Runtime, ms: MemStats): void {
  expect(ms.Sys).toBe(ms.HeapSys + ms.StackSys + ms.MSpanSys + ms.MCacheSys + ms.BuckHashSys + ms.GCSys + ms.OtherSys);
  expect(ms.HeapIdle + ms.HeapInuse).toBe(ms.HeapSys);
  expect(ms.HeapObjects).toBe(ms.Mallocs - ms.Frees);
  expect(ms.HeapObjects).toBe(rt.liveObjects);
  expect(ms.Alloc).toBe(ms.HeapAlloc);
  expect(ms.HeapReleased).toBeLessThanOrEqual(ms.HeapIdle);
  const st = rt.mstats;
  const h = rt.mheap;
  // All 67 classes, not only the 61 Go shows: small mallocs and frees, and the bytes they leave live.
  let smallMallocs = 0;
  let smallFrees = 0;
  let smallLive = 0;
  let smallFreed = 0;
  for (let cl = 1; cl < NumSizeClasses; cl++) {
    smallMallocs += st.by_size_nmalloc[cl]!;
    smallFrees += st.by_size_nfree[cl]!;
    smallLive += (st.by_size_nmalloc[cl]! - st.by_size_nfree[cl]!) * class_to_size[cl]!;
    smallFreed += st.by_size_nfree[cl]! * class_to_size[cl]!;
  }
  let largeLive = 0;
  let largeCount = 0;
  for (let i = 0; i < h.nspan; i++) {
    const s = h.spanId(i);
    if (h.spans.state[s] === 0 && h.spans.sizeclass[s] === 0) {
      largeLive += h.spans.npages[s]! * P;
      largeCount++;
    }
  }
  expect(ms.Frees).toBe(h.nlargefree + smallFrees);
  expect(ms.Mallocs).toBe(smallMallocs + largeCount + h.nlargefree);
  expect(ms.Alloc).toBe(smallLive + largeLive);
  expect(ms.TotalAlloc).toBe(ms.Alloc + h.largefree + smallFreed);
  expect(ms.BySize).toHaveLength(VisibleSizeClasses);
}

describe("ReadMemStats (mgc0.c updatememstats): a hand-checked amd64 heap", () => {
  it("reports every field as the runtime computes it", () => {
    const rt = createRuntime({ gcpercent: -1, memProfileRate: 0 });
    const x = [0, 1, 2].map(() => rt.mallocgc(48, 0, 0, -1));
    rt.mallocgc(40000, 0, FlagNoScan, -1);
    const t1 = rt.mallocgc(4, 0, FlagNoScan, -1);
    const t2 = rt.mallocgc(4, 0, FlagNoScan, -1);
    expect(t2).toBe(t1 + 4); // one tiny block
    rt.free(x[1]!);
    const ms = rt.readMemStats();
    checkInvariants(rt);
    const { BySize, PauseNs, ...fields } = ms;
    expect(fields).toEqual({
      // Live: two 48 B objects, the 40000 B object's 5 pages, one 16 B tiny block.
      Alloc: 2 * 48 + 5 * P + 16,
      // Plus the freed 48 B object and mallocinit's self-test 16 B object.
      TotalAlloc: 2 * 48 + 5 * P + 16 + 48 + 16,
      Sys: MiB + 16 * KiB + 16 * KiB + 64 * KiB + 303104,
      // runtime·free's mlookup: the self-test free and x[1].
      Lookups: 2,
      Mallocs: 1 + 3 + 1 + 1,
      Frees: 2,
      HeapAlloc: 2 * 48 + 5 * P + 16,
      HeapSys: MiB,
      // Pages 0 (class 2), 1 (class 4), 2-6 (the large object) are in use.
      HeapIdle: MiB - 7 * P,
      HeapInuse: 7 * P,
      HeapReleased: 0,
      HeapObjects: 4,
      StackInuse: 0,
      StackSys: 0,
      // Four MSpans: three in use and the free rest of the arena.
      MSpanInuse: 4 * 128,
      MSpanSys: 16 * KiB,
      MCacheInuse: 2200,
      MCacheSys: 16 * KiB,
      BuckHashSys: 0,
      // The GC bitmap for 1 MiB of arena (4 bits per 8-byte word).
      GCSys: MiB / 16,
      // The spans map page (128 pages × 8 B, rounded to 8 KiB), the persistentalloc chunk
      // less the MSpan and MCache FixAlloc chunks, the allspans array (8192 pointers).
      OtherSys: P + (256 * KiB - 2 * 16 * KiB) + 64 * KiB,
      NextGC: 0,
      LastGC: 0,
      PauseTotalNs: 0,
      NumGC: 0,
      EnableGC: true,
      DebugGC: false,
    });
    expect(PauseNs).toEqual(new Array(256).fill(0));
    expect(BySize.filter((e) => e.Mallocs > 0)).toEqual([
      { Size: 16, Mallocs: 2, Frees: 1 },
      { Size: 48, Mallocs: 3, Frees: 1 },
    ]);
    expect(BySize.map((e) => e.Size)).toEqual(Array.from(class_to_size.slice(0, 61)));
    checkIdentities(rt, ms);
  });

  it("counts objects of classes 61-66 in Mallocs but shows only classes 0-60 in BySize", () => {
    const rt = createRuntime({ gcpercent: -1, memProfileRate: 0 });
    rt.mallocgc(20000, 0, FlagNoScan, -1); // class 61 (20480 B)
    rt.mallocgc(32768, 0, FlagNoScan, -1); // class 66
    const ms = rt.readMemStats();
    expect(ms.Mallocs).toBe(3);
    expect(ms.BySize.reduce((n, e) => n + e.Mallocs, 0)).toBe(1); // the self-test object
    expect([rt.mstats.by_size_nmalloc[61], rt.mstats.by_size_nmalloc[66]]).toEqual([1, 1]);
    expect(ms.Alloc).toBe(20480 + 32768);
    checkIdentities(rt, ms);
  });
});

describe("stale statistics (mgc0.c updatememstats, malloc.goc mallocgc, mheap.c MHeap_Alloc/Free)", () => {
  it("Alloc, TotalAlloc, Sys, Mallocs, Frees, MSpanInuse, MCacheInuse and BySize move only at updatememstats", () => {
    const rt = createRuntime({ gcpercent: -1, memProfileRate: 0 });
    const first = rt.readMemStats();
    const stale = () => {
      const st = rt.mstats;
      return [st.alloc, st.total_alloc, st.sys, st.nmalloc, st.nfree, st.mspan_inuse, st.mcache_inuse, Array.from(st.by_size_nmalloc), Array.from(st.by_size_nfree)];
    };
    const before = stale();
    const small = Array.from({ length: 200 }, () => rt.mallocgc(64, 0, FlagNoScan, -1));
    const large = rt.mallocgc(40000, 0, FlagNoScan, -1);
    const huge = rt.mallocgc(2 * MiB, 0, FlagNoScan, -1); // grows the arena
    rt.free(small[0]!);
    rt.free(large);
    expect(stale()).toEqual(before);
    // The live fields moved: the heap's pages at once, heap_objects by the large objects.
    expect(rt.mstats.heap_sys).toBe(MiB + 2 * MiB);
    expect(rt.mstats.heap_inuse).toBe(first.HeapInuse + 2 * P + 256 * P);
    expect(rt.mstats.heap_objects).toBe(first.HeapObjects + 1);
    // heap_alloc: large objects' pages at once; small bytes (allocated or freed) when
    // MHeap_Alloc or MHeap_Free flushes the cache, here last at the free of `large`.
    expect(rt.mstats.heap_alloc).toBe(first.HeapAlloc + 199 * 64 + 256 * P);
    expect(rt.mcaches[0]!.local_cachealloc).toBe(0);
    for (let i = 0; i < 5; i++) rt.mallocgc(64, 0, FlagNoScan, -1);
    expect(rt.mstats.heap_alloc).toBe(first.HeapAlloc + 199 * 64 + 256 * P);
    expect(rt.mcaches[0]!.local_cachealloc).toBe(5 * 64);
    expect(stale()).toEqual(before);
    const ms = rt.readMemStats();
    expect(stale()).not.toEqual(before);
    expect(ms.Mallocs - first.Mallocs).toBe(207);
    expect(ms.Frees - first.Frees).toBe(2);
    expect(ms.HeapAlloc - first.HeapAlloc).toBe(204 * 64 + 256 * P);
    expect(ms.TotalAlloc - first.TotalAlloc).toBe(205 * 64 + 5 * P + 256 * P);
    expect(ms.Sys - first.Sys).toBe(ms.HeapSys - first.HeapSys + ms.GCSys - first.GCSys + ms.OtherSys - first.OtherSys);
    expect(ms.BySize[5]).toEqual({ Size: 64, Mallocs: 205, Frees: 1 });
    expect(rt.mheap.spans.state[rt.mheap.lookup(huge)]).toBe(0);
    checkIdentities(rt, ms);
  });

  it("ReadMemStats flushes every mcache, which changes where the next allocation goes", () => {
    const run = (read: boolean) => {
      const rt = createRuntime({ gcpercent: -1, memProfileRate: 0 });
      const a = Array.from({ length: 128 }, () => rt.mallocgc(64, 0, FlagNoScan, -1)); // span A, full
      rt.mallocgc(64, 0, FlagNoScan, -1); // span B, cached
      rt.free(a[7]!); // A is not cached: the object waits in the cache's free list
      if (read) rt.readMemStats();
      return { next: rt.mallocgc(64, 0, FlagNoScan, -1), a };
    };
    const quiet = run(false);
    expect(quiet.next).toBe(quiet.a[0]! + P + 64);
    // ReleaseAll uncaches B, then frees the list into A: A heads nonempty and the refill takes it.
    const read = run(true);
    expect(read.next).toBe(read.a[7]);
  });
});

describe("collections in MemStats (mgc0.c gc)", () => {
  it("NumGC, LastGC, NextGC, the work buffers in GCSys and the collector's own allocation", () => {
    const rt = createRuntime({ memProfileRate: 0, unixEpochNs: 1_400_000_000e9 });
    const objs = Array.from({ length: 100 }, () => rt.mallocgc(1000, 0, FlagNoScan | FlagNoInvokeGC, -1));
    const before = rt.readMemStats();
    rt.gc.advanceClock(5e9);
    rt.gc.collect(GCForce.Eager);
    const ms = rt.readMemStats();
    expect(ms.NumGC).toBe(1);
    expect(ms.LastGC).toBe(1_400_000_000e9 + 5e9);
    // The parallel-for descriptor (1152 B, class 32) is the first collection's own allocation.
    expect(ms.Mallocs - before.Mallocs).toBe(1);
    expect(ms.BySize[32]).toEqual({ Size: 1152, Mallocs: 1, Frees: 0 });
    expect(ms.NextGC).toBe(2 * ms.HeapAlloc);
    expect(ms.GCSys - before.GCSys).toBe(MiB);
    expect(ms.PauseNs.slice(0, 2)).toEqual([0, 0]);
    // Everything freed by the sweep shows up at once: an eager collection sweeps it all.
    for (const v of objs.slice(0, 40)) rt.release(v);
    rt.gc.collect(GCForce.Eager);
    const after = rt.readMemStats();
    expect(after.NumGC).toBe(2);
    expect(after.Frees - ms.Frees).toBe(40);
    expect(after.BySize[31]).toEqual({ Size: 1024, Mallocs: 100, Frees: 40 });
    expect(after.HeapAlloc).toBe(ms.HeapAlloc - 40 * 1024);
    checkIdentities(rt, after);
  });
});

describe("identities after a mixed workload", () => {
  it("hold at every ReadMemStats: two Ps, GC on, profiling, tiny, small and large objects, frees, finalizers, the scavenger", () => {
    const rt = createRuntime({ gomaxprocs: 2, memProfileRate: 4096 });
    const live: number[] = [];
    let seed = 12345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const sizes = [3, 8, 12, 24, 48, 100, 500, 1024, 3000, 9000, 20000, 32768, 40000, 100000, 600000];
    let reads = 0;
    for (let i = 0; i < 6000; i++) {
      rt.currentP = rand(2);
      const op = rand(100);
      if (op < 60 || live.length === 0) {
        const size = sizes[rand(sizes.length)]!;
        const v = rt.mallocgc(size, 0, size < 16 || rand(2) === 0 ? FlagNoScan : 0, -1);
        live.push(v);
        if (size >= 16 && rand(50) === 0) rt.setFinalizer(v, false);
      } else if (op < 90) {
        const v = live.splice(rand(live.length), 1)[0]!;
        rt.release(v);
      } else if (op < 95) {
        rt.gc.runFinalizers();
      } else if (op < 97) {
        rt.gc.advanceClock(rt.clock + 70e9);
      } else {
        checkIdentities(rt, rt.readMemStats());
        checkInvariants(rt);
        reads++;
      }
    }
    expect(reads).toBeGreaterThan(100);
    expect(rt.mstats.numgc).toBeGreaterThan(10);
    const ms = rt.readMemStats();
    checkIdentities(rt, ms);
    expect(ms.HeapReleased).toBeGreaterThan(0);
    expect(ms.BuckHashSys).toBeGreaterThan(0);
  });
});

describe("purgedHeapAlloc: heap_alloc with the mcaches' counts purged in (mgc0.c cachestats), without flushing", () => {
  it("counts the cached small objects and changes nothing", () => {
    const rt = createRuntime({ gcpercent: -1, memProfileRate: 0 });
    const twin = createRuntime({ gcpercent: -1, memProfileRate: 0 });
    for (const r of [rt, twin]) {
      // The large object's MHeap_Alloc purges the cache; the small ones after it stay cached.
      r.mallocgc(40000, 0, FlagNoScan, -1);
      [0, 1, 2].map(() => r.mallocgc(48, 0, 0, -1));
    }
    const cached = rt.mcaches.reduce((n, c) => n + c.local_cachealloc, 0);
    expect(cached).toBeGreaterThan(0);
    const before = rt.mstats.heap_alloc;
    expect(rt.purgedHeapAlloc()).toBe(before + cached);
    // Nothing was flushed: the stale figure and the caches are as they were, and the next
    // allocation lands where it does in a runtime that was never asked.
    expect(rt.mstats.heap_alloc).toBe(before);
    expect(rt.mcaches.reduce((n, c) => n + c.local_cachealloc, 0)).toBe(cached);
    expect(rt.mallocgc(48, 0, 0, -1)).toBe(twin.mallocgc(48, 0, 0, -1));
    // What ReadMemStats then reports as HeapAlloc (it flushes).
    const purged = rt.purgedHeapAlloc();
    expect(rt.readMemStats().HeapAlloc).toBe(purged);
  });
});
