// The per-P cache (go1.3.3 mcache.c): allocmcache, MCache_Refill, MCache_Free,
// MCache_ReleaseAll and purgecachedstats, checked on exact span lists and addresses.
import { describe, expect, it } from "vitest";
import { checkInvariants, createRuntime, FlagNoScan } from "../../../src/runtime/index.js";
import { ids, P } from "./helpers.js";

/** Class 30: 896-byte objects, 9 to a one-page span. */
const CL = 30;
const SIZE = 896;
const NOBJ = 9;

function setup(options: { gomaxprocs?: number } = {}) {
  const rt = createRuntime({ gcpercent: -1, ...options });
  const h = rt.mheap;
  const central = h.central[CL]!;
  const m = (size = SIZE) => {
    const v = rt.mallocgc(size, 0, FlagNoScan, -1);
    checkInvariants(rt);
    return v;
  };
  return { rt, h, sp: h.spans, central, c: rt.mcaches[0]!, m, empty: () => ids(rt, central.empty), nonempty: () => ids(rt, central.nonempty) };
}

describe("allocmcache (mcache.c)", () => {
  it("starts every class on the empty span; MCache structs come from 16 KiB FixAlloc chunks (7 per chunk on amd64)", () => {
    const one = createRuntime({ gcpercent: -1 });
    const c = one.mcaches[0]!;
    // The self-test allocation and free of mallocinit left class 2 cached; every other class is on the empty span.
    for (let cl = 0; cl < c.alloc.length; cl++) if (cl !== 2) expect(c.alloc[cl]).toBe(one.mheap.emptySpan);
    expect(one.mheap.spans.base(c.alloc[2]!)).toBe(one.arena.arena_start);
    expect(one.mheap.cachealloc.inuse).toBe(2200);
    expect(one.mstats.mcache_sys).toBe(16384);

    // sizeof(MCache) = 2200: a chunk holds 7 of them (15400 bytes); the 8th needs a second chunk.
    const seven = createRuntime({ gcpercent: -1, gomaxprocs: 7 });
    expect(seven.mcaches).toHaveLength(7);
    expect(seven.mheap.cachealloc.inuse).toBe(7 * 2200);
    expect(seven.mstats.mcache_sys).toBe(16384);
    const eight = createRuntime({ gcpercent: -1, gomaxprocs: 8 });
    expect(eight.mheap.cachealloc.inuse).toBe(8 * 2200);
    expect(eight.mstats.mcache_sys).toBe(2 * 16384);
    expect(eight.readMemStats().MCacheInuse).toBe(8 * 2200);

    // 386: sizeof(MCache) = 1100, 14 to a chunk.
    expect(createRuntime({ arch: "386", gcpercent: -1, gomaxprocs: 14 }).mstats.mcache_sys).toBe(16384);
    expect(createRuntime({ arch: "386", gcpercent: -1, gomaxprocs: 15 }).mstats.mcache_sys).toBe(2 * 16384);
  });
});

describe("MCache_Refill (mcache.c)", () => {
  it("the first allocation of a class caches a fresh span at the back of empty, incache set", () => {
    const { h, sp, central, c, m, empty, nonempty } = setup();
    const v = m();
    const A = c.alloc[CL]!;
    expect(A).not.toBe(h.emptySpan);
    expect(h.lookup(v)).toBe(A);
    expect(v).toBe(sp.base(A));
    expect(sp.incache[A]).toBe(1);
    expect(empty()).toEqual([A]);
    expect(nonempty()).toEqual([]);
    // MCentral_Grow added 9 free objects, CacheSpan took them all out of nfree.
    expect(central.nfree).toBe(0);
    expect(sp.ref[A]).toBe(1);
    expect(sp.nfreelist[A]).toBe(NOBJ - 1);
  });

  it("an exhausted span is uncached (full: it stays on empty) and the next one joins it at the back", () => {
    const { sp, central, c, m, empty, nonempty } = setup();
    const first = Array.from({ length: NOBJ }, () => m());
    const A = c.alloc[CL]!;
    expect(sp.nfreelist[A]).toBe(0);
    // Refill happens on the next allocation, not when the span runs out.
    expect(sp.incache[A]).toBe(1);
    const v = m();
    const B = c.alloc[CL]!;
    expect(v).toBe(sp.base(B));
    expect(v).toBe(first[0]! + P);
    expect(sp.incache[A]).toBe(0);
    expect(sp.incache[B]).toBe(1);
    expect(empty()).toEqual([A, B]);
    expect(nonempty()).toEqual([]);
    expect(central.nfree).toBe(0);
  });

  it("returns the pending frees of the class to the central lists before it takes a span", () => {
    const { rt, h, sp, c, m, empty, nonempty } = setup();
    const a = Array.from({ length: NOBJ }, () => m());
    const A = h.lookup(a[0]!);
    Array.from({ length: NOBJ }, () => m()); // B, now cached and full
    const B = c.alloc[CL]!;
    // A is not the cached span: its freed objects wait on the cache's free list (MCache_Free).
    rt.free(a[4]!);
    rt.free(a[2]!);
    checkInvariants(rt);
    expect(c.free[CL]).toEqual([a[4], a[2]]);
    expect(sp.ref[A]).toBe(NOBJ);
    expect(sp.nfreelist[A]).toBe(0);
    // The refill uncaches B (full), frees the list into A, which moves to nonempty, then takes A.
    expect(m()).toBe(a[4]);
    expect(c.free[CL]).toEqual([]);
    expect(c.alloc[CL]).toBe(A);
    expect(sp.incache[A]).toBe(1);
    expect(empty()).toEqual([B, A]);
    expect(nonempty()).toEqual([]);
    // The list is freed head first (a[2], then a[4]), each pushed on A's freelist.
    expect(m()).toBe(a[2]);
    // A is exhausted again: nothing on nonempty, so MCentral_Grow gives a fresh span.
    const v = m();
    expect(h.lookup(v)).not.toBe(A);
    expect(h.lookup(v)).not.toBe(B);
    expect(empty()).toEqual([B, A, h.lookup(v)]);
  });

  it("throws if the cached span still has free objects", () => {
    const { c, m } = setup();
    m();
    expect(() => c.refill(CL)).toThrow("fatal error: refill on a nonempty span");
  });
});

describe("MCache_Free (mcache.c)", () => {
  it("batches explicitly freed objects of an uncached span until a span's worth (class_to_nobj) is pending", () => {
    const { rt, h, sp, central, c, m, nonempty } = setup();
    const a = Array.from({ length: NOBJ }, () => m());
    const A = h.lookup(a[0]!);
    m(); // B cached
    for (let i = 0; i < NOBJ - 1; i++) rt.free(a[i]!);
    expect(c.free[CL]).toHaveLength(NOBJ - 1);
    expect(sp.ref[A]).toBe(NOBJ);
    expect(central.nfree).toBe(0);
    checkInvariants(rt);
    // The 9th free flushes the list: the whole span comes back and goes to the heap.
    const idle = rt.mstats.heap_idle;
    rt.free(a[NOBJ - 1]!);
    expect(c.free[CL]).toEqual([]);
    expect(sp.ref[A]).toBe(0);
    // Between the class-2 span and B: a free span of its own, on free[1].
    expect([sp.state[A], sp.npages[A], sp.next[h.freeLists[1]!]]).toEqual([1, 1, A]);
    expect(rt.mstats.heap_idle).toBe(idle + P);
    expect(nonempty()).toEqual([]);
    expect(central.nfree).toBe(0);
    checkInvariants(rt);
  });

  it("an object freed into the cached span goes straight onto its freelist, and is handed out next", () => {
    const { rt, sp, c, m } = setup();
    const a = Array.from({ length: 4 }, () => m());
    rt.free(a[1]!);
    expect(c.free[CL]).toEqual([]);
    expect(sp.nfreelist[c.alloc[CL]!]).toBe(NOBJ - 3);
    expect(m()).toBe(a[1]);
    expect(m()).toBe(a[3]! + SIZE);
  });

  it("an object of a span cached by another P waits in that span's freebuf until the owner uncaches it", () => {
    const { rt, h, sp, central, m, nonempty } = setup({ gomaxprocs: 2 });
    rt.currentP = 1;
    const a = Array.from({ length: 3 }, () => m());
    const A = h.lookup(a[0]!);
    expect(rt.mcaches[1]!.alloc[CL]).toBe(A);
    rt.currentP = 0;
    rt.free(a[1]!);
    expect(rt.mcaches[0]!.free[CL]).toEqual([a[1]]);
    // P0 flushes its cache: the object reaches A while P1 holds A, so it goes to the freebuf.
    rt.mcaches[0]!.releaseAll();
    expect(sp.nfreebuf[A]).toBe(1);
    expect(sp.ref[A]).toBe(3);
    expect(sp.nfreelist[A]).toBe(NOBJ - 3);
    checkInvariants(rt);
    // P1 gives A back: the freebuf joins the freelist, A (with 7 free) goes to the front of nonempty.
    rt.mcaches[1]!.releaseAll();
    expect(sp.nfreebuf[A]).toBe(0);
    expect(sp.ref[A]).toBe(2);
    expect(sp.nfreelist[A]).toBe(NOBJ - 2);
    expect(sp.incache[A]).toBe(0);
    expect(nonempty()).toEqual([A]);
    expect(central.nfree).toBe(NOBJ - 2);
    checkInvariants(rt);
    // The freebuf object was pushed last: it is the freelist head.
    expect(m()).toBe(a[1]);
  });
});

describe("MCache_ReleaseAll (mcache.c)", () => {
  it("uncaches every class's span and returns the pending frees; the tiny block stays", () => {
    const { rt, h, sp, c, m } = setup();
    const small = m(48);
    const x = m(SIZE);
    const tiny = rt.mallocgc(3, 0, FlagNoScan, -1);
    const S48 = h.lookup(small);
    const S896 = h.lookup(x);
    const tinyCursor = c.tiny;
    expect(tinyCursor).toBe(tiny + 3);
    c.releaseAll();
    for (let cl = 0; cl < c.alloc.length; cl++) expect(c.alloc[cl]).toBe(h.emptySpan);
    for (const s of [S48, S896]) {
      expect(sp.incache[s]).toBe(0);
      // Each had free objects: it is now the first span of its class's nonempty list.
      const central = h.central[sp.sizeclass[s]!]!;
      expect(sp.next[central.nonempty]).toBe(s);
    }
    expect(c.tiny).toBe(tinyCursor);
    expect(c.tinysize).toBe(16 - 3);
    checkInvariants(rt);
    // The next allocation of class 30 refills from the front of nonempty: the same span, next slot.
    expect(m(SIZE)).toBe(x + SIZE);
  });

  it("a span whose last object came back while it was cached goes to the heap when uncached", () => {
    const { rt, h, sp, m, empty, nonempty } = setup({ gomaxprocs: 2 });
    rt.currentP = 1;
    const a = Array.from({ length: 2 }, () => m());
    const A = h.lookup(a[0]!);
    rt.currentP = 0;
    rt.free(a[0]!);
    rt.free(a[1]!);
    rt.mcaches[0]!.releaseAll();
    expect(sp.nfreebuf[A]).toBe(2);
    const idle = rt.mstats.heap_idle;
    rt.mcaches[1]!.releaseAll();
    // MCentral_UncacheSpan: ref 0 after the freebuf, MCentral_ReturnToHeap.
    expect(rt.mstats.heap_idle).toBe(idle + P);
    // It coalesced with the free rest of the arena after it, and with page 0: P0's ReleaseAll
    // gave back mallocinit's self-test span (class 2, ref 0). One free span of 128 pages.
    expect([sp.state[A], sp.base(A), sp.npages[A]]).toEqual([1, rt.arena.arena_start, 128]);
    expect(empty()).toEqual([]);
    expect(nonempty()).toEqual([]);
    checkInvariants(rt);
  });
});

describe("purgecachedstats (mgc0.c cachestats)", () => {
  it("small allocations reach heap_alloc only when the cache is purged or the heap is asked for pages", () => {
    const { rt, c, m } = setup();
    m(); // grows a span: MHeap_Alloc flushes local_cachealloc (0 so far)
    const base = rt.mstats.heap_alloc;
    m();
    m();
    expect(c.local_cachealloc).toBe(3 * SIZE);
    expect(rt.mstats.heap_alloc).toBe(base);
    // A large allocation: MHeap_Alloc flushes the cache's bytes, then adds its own pages.
    rt.mallocgc(40000, 0, FlagNoScan, -1);
    expect(rt.mstats.heap_alloc).toBe(base + 3 * SIZE + 5 * P);
    expect(c.local_cachealloc).toBe(0);
    m();
    rt.free(m());
    expect(c.local_cachealloc).toBe(SIZE);
    expect(c.local_nsmallfree[CL]).toBe(1);
    // runtime·free looks its pointer up (mlookup): mallocinit's self-test free, then this one.
    expect(c.local_nlookup).toBe(2);
    expect(rt.mstats.nlookup).toBe(0);
    c.purgeCachedStats();
    expect(rt.mstats.heap_alloc).toBe(base + 4 * SIZE + 5 * P);
    expect(rt.mstats.nlookup).toBe(2);
    expect(rt.mheap.nsmallfree[CL]).toBe(1);
    expect([c.local_cachealloc, c.local_nlookup, c.local_nsmallfree[CL]]).toEqual([0, 0, 0]);
  });

  it("large frees are counted per cache until purged", () => {
    const { rt, c } = setup();
    const L = rt.mallocgc(40000, 0, FlagNoScan, -1);
    const freesBefore = rt.mheap.nlargefree;
    rt.free(L);
    expect([c.local_nlargefree, c.local_largefree]).toEqual([1, 5 * P]);
    expect(rt.mheap.nlargefree).toBe(freesBefore);
    c.purgeCachedStats();
    expect([rt.mheap.nlargefree, rt.mheap.largefree]).toEqual([freesBefore + 1, 5 * P]);
    expect([c.local_nlargefree, c.local_largefree]).toEqual([0, 0]);
  });
});
