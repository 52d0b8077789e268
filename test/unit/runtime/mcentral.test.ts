// The central free lists (go1.3.3 mcentral.c): MCentral_Grow, CacheSpan, UncacheSpan,
// FreeList, FreeSpan and ReturnToHeap, checked on exact list orders, counts and addresses.
import { describe, expect, it } from "vitest";
import { bgsweep, checkInvariants, class_to_nobj, createRuntime, FlagNoInvokeGC, FlagNoScan, GCForce, RuntimeThrow } from "../../../src/runtime/index.js";
import { ids, P } from "./helpers.js";

/** Class 30: 896-byte objects, 9 to a one-page span (8064 bytes used, 128 left over). */
const CL = 30;
const SIZE = 896;
const NOBJ = 9;

/**
 * A runtime past its first collection (GC on, but allocations never start one), so that a
 * later GCForce.Always leaves every span unswept for the code under test to sweep.
 */
function setup(options: { gomaxprocs?: number } = {}) {
  const rt = createRuntime(options);
  rt.gc.collect(GCForce.Eager);
  const h = rt.mheap;
  const central = h.central[CL]!;
  const m = (size = SIZE) => {
    const v = rt.mallocgc(size, 0, FlagNoScan | FlagNoInvokeGC, -1);
    checkInvariants(rt);
    return v;
  };
  const many = (n: number) => Array.from({ length: n }, () => m());
  return { rt, h, sp: h.spans, central, m, many, empty: () => ids(rt, central.empty), nonempty: () => ids(rt, central.nonempty) };
}

describe("MCentral_Grow (mcentral.c)", () => {
  it("carves class_to_nobj objects in ascending order and puts the span at the front of nonempty", () => {
    const { rt, h, sp, central, nonempty } = setup();
    expect(class_to_nobj[CL]).toBe(NOBJ);
    expect(central.grow()).toBe(true);
    const A = nonempty()[0]!;
    expect(central.grow()).toBe(true);
    const B = nonempty()[0]!;
    expect(nonempty()).toEqual([B, A]);
    expect(central.nfree).toBe(2 * NOBJ);
    expect([sp.sizeclass[A], sp.npages[A], sp.elemsize[A], sp.nelems[A], sp.ref[A], sp.nfreelist[A]]).toEqual([CL, 1, SIZE, NOBJ, 0, NOBJ]);
    // limit: after the last whole object; the 128 bytes past it belong to no object.
    expect(sp.limit[A]).toBe(sp.base(A) + NOBJ * SIZE);
    expect(h.lookupMaybe(sp.base(A) + NOBJ * SIZE - 1)).toBe(A);
    expect(h.lookupMaybe(sp.base(A) + NOBJ * SIZE)).toBe(-1);
    // (No checkInvariants here: outside CacheSpan a span never sits uncached with nothing allocated.)
    // CacheSpan takes the front span (B, grown last); its objects come out in address order.
    const got = Array.from({ length: NOBJ }, () => rt.mallocgc(SIZE, 0, FlagNoScan | FlagNoInvokeGC, -1));
    expect(got).toEqual(Array.from({ length: NOBJ }, (_, i) => sp.base(B) + i * SIZE));
  });

  it("a multi-page class: class 36 (1664 B) spans have 2 pages and 9 objects", () => {
    const { rt, h, sp } = setup();
    const v = rt.mallocgc(1600, 0, FlagNoScan | FlagNoInvokeGC, -1);
    const s = h.lookup(v);
    expect([sp.sizeclass[s], sp.npages[s], sp.nelems[s], sp.limit[s]! - sp.base(s)]).toEqual([36, 2, 9, 9 * 1664]);
    expect(h.lookup(v + P)).toBe(s);
  });
});

describe("MCentral_CacheSpan and MCentral_UncacheSpan (mcentral.c)", () => {
  it("takes the first nonempty span, moves it to the back of empty with incache set, and subtracts its free objects from nfree", () => {
    const { rt, sp, central, m, empty, nonempty } = setup({ gomaxprocs: 2 });
    rt.currentP = 1;
    const y = m();
    rt.currentP = 0;
    const x = m();
    const X = rt.mheap.lookup(x);
    const Y = rt.mheap.lookup(y);
    expect(empty()).toEqual([Y, X]);
    // Both caches give their spans back, P0 first: each goes to the front of nonempty.
    rt.mcaches[0]!.releaseAll();
    rt.mcaches[1]!.releaseAll();
    expect(nonempty()).toEqual([Y, X]);
    expect(empty()).toEqual([]);
    expect([sp.incache[X], sp.incache[Y]]).toEqual([0, 0]);
    expect(central.nfree).toBe(2 * (NOBJ - 1));
    checkInvariants(rt);
    // P0's next allocation takes Y, the front span, from its second object.
    expect(m()).toBe(y + SIZE);
    expect(rt.mcaches[0]!.alloc[CL]).toBe(Y);
    expect(sp.incache[Y]).toBe(1);
    expect(nonempty()).toEqual([X]);
    expect(empty()).toEqual([Y]);
    expect(central.nfree).toBe(NOBJ - 1);
  });

  it("UncacheSpan leaves a full span where it is (on empty)", () => {
    const { rt, sp, central, many, empty, nonempty } = setup();
    const a = many(NOBJ);
    const A = rt.mheap.lookup(a[0]!);
    rt.mcaches[0]!.releaseAll();
    expect(sp.incache[A]).toBe(0);
    expect(empty()).toEqual([A]);
    expect(nonempty()).toEqual([]);
    expect(central.nfree).toBe(0);
    checkInvariants(rt);
  });

  it("sweeps an unswept span met on nonempty and retries: one all garbage goes to the heap, the next is taken", () => {
    const { rt, h, sp, central, m, many, empty, nonempty } = setup({ gomaxprocs: 2 });
    rt.currentP = 1;
    const y = many(2);
    rt.currentP = 0;
    const x = many(3);
    const X = h.lookup(x[0]!);
    const Y = h.lookup(y[0]!);
    for (const v of [...y, x[1]!]) rt.release(v);
    rt.gc.collect(GCForce.Always); // ReleaseAll: nonempty = [Y, X], both unswept
    expect(nonempty()).toEqual([Y, X]);
    const sg = h.sweepgen;
    expect([sp.sweepgen[X], sp.sweepgen[Y]]).toEqual([sg - 2, sg - 2]);
    const idle = rt.mstats.heap_idle;
    const nfree = central.nfree;
    expect(nfree).toBe(NOBJ - 2 + (NOBJ - 3));
    // Y: swept, both objects free, back to the heap; then X: swept (x[1] freed) and taken.
    expect(m()).toBe(x[1]);
    expect([sp.state[Y], sp.sweepgen[X]]).toEqual([1, sg]);
    expect(rt.mstats.heap_idle).toBe(idle + P);
    expect(nonempty()).toEqual([]);
    expect(empty()).toEqual([X]);
    expect(rt.mcaches[0]!.alloc[CL]).toBe(X);
    // nfree: Y's 7 free objects and the 2 swept left with Y; X's 6 and x[1] went to the cache.
    expect(central.nfree).toBe(0);
    // X's freelist: x[1] (swept onto the front), then the never-used objects 3…8.
    expect(m()).toBe(x[2]! + SIZE);
  });

  it("then sweeps the unswept spans of empty in order, each moved to the back, until one has room", () => {
    const { rt, h, sp, m, many, empty, nonempty } = setup();
    const objs = many(3 * NOBJ); // A, B, C full; C cached
    const [A, B, C] = [0, NOBJ, 2 * NOBJ].map((i) => h.lookup(objs[i]!));
    rt.release(objs[2 * NOBJ + 4]!);
    rt.gc.collect(GCForce.Always);
    expect(empty()).toEqual([A, B, C]);
    expect(nonempty()).toEqual([]);
    const inuse = rt.mstats.heap_inuse;
    // A (nothing to free) to the back, B (nothing) to the back, C frees one and moves to nonempty;
    // C is then taken and goes to the back of empty again.
    expect(m()).toBe(objs[2 * NOBJ + 4]);
    expect(empty()).toEqual([A, B, C]);
    expect([A, B, C].map((s) => sp.sweepgen[s])).toEqual([h.sweepgen, h.sweepgen, h.sweepgen]);
    expect(rt.mstats.heap_inuse).toBe(inuse);
    checkInvariants(rt);
  });

  it("stops at the first swept span of empty (all after it are taken as swept) and grows instead", () => {
    const { rt, h, sp, m, many, empty } = setup();
    const objs = many(3 * NOBJ);
    const [A, B, C] = [0, NOBJ, 2 * NOBJ].map((i) => h.lookup(objs[i]!));
    const L = m(40000); // 5 pages, right after C
    const dead = objs[2 * NOBJ + 4]!;
    rt.release(dead);
    rt.release(L);
    rt.gc.collect(GCForce.Always);
    // SetFinalizer sweeps A (MSpan_EnsureSwept in addspecial) and leaves it first on empty.
    rt.setFinalizer(objs[0]!, false);
    expect(sp.sweepgen[A]).toBe(h.sweepgen);
    const inuse = rt.mstats.heap_inuse;
    // CacheSpan meets A, swept, first on empty: it stops and grows. MHeap_Alloc's reclaim
    // sweeps busy[5] first; L's span going back to the heap is enough, and the new span
    // takes its low page.
    const v = m();
    const D = h.lookup(v);
    expect(v).toBe(L);
    expect(sp.base(D)).toBe(L);
    expect([A, B, C]).not.toContain(D);
    expect(rt.mstats.heap_inuse).toBe(inuse - 4 * P);
    expect(empty()).toEqual([A, B, C, D]);
    // B and C were not swept; C's garbage is still there.
    expect([sp.sweepgen[B], sp.sweepgen[C]]).toEqual([h.sweepgen - 2, h.sweepgen - 2]);
    expect(rt.isAllocated(dead)).toBe(true);
    checkInvariants(rt);
  });
});

describe("MCentral_FreeList and MCentral_Free (mcentral.c)", () => {
  it("a span's first freed object moves it to the front of nonempty; its last sends it to the heap", () => {
    const { rt, h, sp, central, m, many, empty, nonempty } = setup();
    const c = rt.mcaches[0]!;
    const a = many(NOBJ);
    const b = many(NOBJ);
    const C = h.lookup(many(1)[0]!); // cached: A and B are full and uncached
    const [A, B] = [h.lookup(a[0]!), h.lookup(b[0]!)];
    expect(empty()).toEqual([A, B, C]);
    // runtime·free of objects of uncached spans: they wait in the cache (MCache_Free) until
    // ReleaseAll, which uncaches C (to the front of nonempty), then frees the list into A.
    rt.free(a[3]!);
    c.releaseAll();
    expect(nonempty()).toEqual([A, C]);
    expect(empty()).toEqual([B]);
    rt.free(b[0]!);
    rt.free(b[5]!);
    c.releaseAll();
    expect(nonempty()).toEqual([B, A, C]);
    expect([sp.ref[A], sp.ref[B], sp.ref[C]]).toEqual([NOBJ - 1, NOBJ - 2, 1]);
    expect(central.nfree).toBe(1 + 2 + (NOBJ - 1));
    checkInvariants(rt);
    const idle = rt.mstats.heap_idle;
    for (const v of a) if (v !== a[3]) rt.free(v);
    c.releaseAll();
    expect(sp.state[A]).toBe(1);
    expect(nonempty()).toEqual([B, C]);
    expect(empty()).toEqual([]);
    expect(central.nfree).toBe(2 + (NOBJ - 1));
    expect(rt.mstats.heap_idle).toBe(idle + P);
    checkInvariants(rt);
    // The cache's list is freed head first (b[5], then b[0]), each onto the front of B's freelist.
    expect(m()).toBe(b[0]);
    expect(m()).toBe(b[5]);
    // B is full again: the next refill leaves it on empty and takes C, at its second object.
    expect(m()).toBe(sp.base(C) + SIZE);
    expect(empty()).toEqual([B, C]);
  });

  it("throws for an object whose span has nothing allocated, and for an unswept span", () => {
    const { rt, central, many } = setup();
    const a = many(2);
    expect(() => central.freeList([rt.arena.arena_start + 100 * P])).toThrow(new RuntimeThrow("invalid free"));
    rt.gc.collect(GCForce.Always);
    expect(() => central.freeList([a[0]!])).toThrow(new RuntimeThrow("free into unswept span"));
  });
});

describe("MCentral_FreeSpan and MCentral_ReturnToHeap (mcentral.c)", () => {
  it("a sweep that frees every object returns the span to the heap; the next one-page MHeap_Alloc reuses it", () => {
    const { rt, h, sp, central, many, empty, nonempty } = setup();
    const a = many(NOBJ);
    const B = h.lookup(many(1)[0]!);
    const A = h.lookup(a[0]!);
    const base = sp.base(A);
    for (const v of a) rt.release(v);
    rt.gc.collect(GCForce.Always);
    const idle = rt.mstats.heap_idle;
    const inuse = rt.mstats.heap_inuse;
    const nfree = central.nfree;
    bgsweep(rt, 1 << 20);
    expect(h.sweepdone).toBe(true);
    expect(sp.state[A]).toBe(1);
    expect(sp.needzero[A]).toBe(1);
    expect(rt.mstats.heap_idle).toBe(idle + P);
    expect(rt.mstats.heap_inuse).toBe(inuse - P);
    // B, uncached by the collection with 8 free objects, is on nonempty; A is on no list.
    expect(nonempty()).toEqual([B]);
    expect(empty()).toEqual([]);
    // FreeSpan added 9 to nfree, ReturnToHeap took them away.
    expect(central.nfree).toBe(nfree);
    checkInvariants(rt);
    // A 480-byte object needs a fresh one-page span (class 24): it is A's page, A's struct.
    const v = rt.mallocgc(480, 0, FlagNoScan | FlagNoInvokeGC, -1);
    expect(v).toBe(base);
    expect(h.lookup(v)).toBe(A);
    expect(sp.sizeclass[A]).toBe(24);
    expect(sp.needzero[A]).toBe(0);
    checkInvariants(rt);
  });

  it("throws for a span an mcache holds", () => {
    const { rt, h, central, m } = setup();
    const v = m();
    expect(() => central.freeSpan(h.lookup(v), new Uint16Array([0]), 1)).toThrow(new RuntimeThrow("freespan into cached span"));
    expect(rt.isAllocated(v)).toBe(true);
  });
});
