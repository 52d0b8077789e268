// Sweeping (go1.3.3 mgc0.c MSpan_Sweep, sweepone, bgsweep, MSpan_EnsureSwept; mheap.c
// MHeap_Reclaim): the order spans are swept in, what a sweep frees and the counters it moves.
import { describe, expect, it } from "vitest";
import { bgsweep, bgsweepTo, checkInvariants, createRuntime, FlagNoGC, FlagNoInvokeGC, FlagNoScan, FreeOrigin, GCForce, type Runtime } from "../../../src/runtime/index.js";
import { ensureSwept, sweepone } from "../../../src/runtime/testing.js";
import { P } from "./helpers.js";


/** A runtime past its first collection whose allocations never start one. */
function setup(gcpercent = 100) {
  const rt = createRuntime({ gcpercent });
  rt.gc.collect(GCForce.Eager);
  const m = (size: number, flags = 0) => rt.mallocgc(size, 0, FlagNoScan | FlagNoInvokeGC | flags, -1);
  return { rt, h: rt.mheap, sp: rt.mheap.spans, c: rt.mcaches[0]!, m };
}

const page = (rt: Runtime, v: number) => (v - rt.arena.arena_start) / P;

describe("sweepone (mgc0.c)", () => {
  it("walks the collection's snapshot of allspans in MSpan creation order, not address order", () => {
    const { rt, h, sp, m } = setup();
    const L1 = m(40000);
    const L2 = m(40000);
    const L3 = m(40000);
    rt.free(L1);
    // L1's 5 free pages: a 2-page class-36 span keeps L1's MSpan; the 3 pages left get a new
    // MSpan, created last, which a 3-page class-42 span then takes.
    const a = m(1664);
    const b = m(3328);
    expect([page(rt, L1), page(rt, a), page(rt, b), page(rt, L2), page(rt, L3)]).toEqual([2, 2, 4, 7, 12]);
    expect(h.lookup(a)).toBe(h.lookup(L1));
    const bSpan = h.lookup(b);
    expect(bSpan - h.firstSpanId).toBe(h.nspan - 1);
    for (const v of [a, b, L2, L3]) rt.release(v);
    rt.gc.collect(GCForce.Always);
    expect([h.sweepNspan, h.sweepSpanidx, h.sweepdone]).toEqual([7, 0, false]);

    // allspans: [0] page 0 (free: skipped), [1] the collector's parfor span (live: 0 pages),
    // [2] a's span (2 pages back to the heap), [3] L2, [4] L3, [5] the free rest of the arena
    // (dead by then: merged into L3's free span), [6] b's span (3 pages), swept last.
    const got: number[] = [];
    const allocatedB: boolean[] = [];
    for (let n = 0; n !== -1; ) {
      n = sweepone(rt, FreeOrigin.BgSweep);
      got.push(n);
      allocatedB.push(rt.isAllocated(b));
      checkInvariants(rt);
    }
    expect(got).toEqual([0, 2, 5, 5, 3, -1]);
    expect(allocatedB).toEqual([true, true, true, true, false, false]);
    expect(h.sweepdone).toBe(true);
    // Everything from page 2 on coalesced into b's MSpan: the others are dead.
    expect([sp.state[bSpan], page(rt, sp.base(bSpan)), sp.npages[bSpan]]).toEqual([1, 2, 126]);
    expect(sweepone(rt, FreeOrigin.BgSweep)).toBe(-1);
  });

  it("passes spans someone else swept, and spans that are not in use (their sweepgen is brought up to date)", () => {
    const { rt, h, sp, m } = setup();
    const x = [m(40000), m(40000), m(40000)];
    const spans = x.map((v) => h.lookup(v));
    rt.release(x[1]!);
    rt.release(x[2]!);
    rt.gc.collect(GCForce.Always);
    const sg = h.sweepgen;
    // MSpan_EnsureSwept (SetFinalizer) sweeps the first one out of turn.
    rt.setFinalizer(x[0]!, false);
    expect(sp.sweepgen[spans[0]!]).toBe(sg);
    const freePage0 = h.spanId(0);
    expect([sp.state[freePage0], sp.sweepgen[freePage0]]).toEqual([1, sg - 2]);
    // [0] free, [1] parfor (0), [2] x[0] already swept, passed: the call sweeps x[1].
    expect(sweepone(rt, FreeOrigin.BgSweep)).toBe(0);
    expect(sp.sweepgen[freePage0]).toBe(sg);
    expect(sweepone(rt, FreeOrigin.BgSweep)).toBe(5);
    expect(rt.isAllocated(x[1]!)).toBe(false);
    expect(rt.isAllocated(x[2]!)).toBe(true);
    expect(h.sweepSpanidx).toBe(4);
  });
});

describe("bgsweep and the leftover sweep of the next collection (mgc0.c bgsweep, gc)", () => {
  it("counts spans swept in the background and in the pause, reported by the next collection", () => {
    const { rt, h, m } = setup();
    for (let i = 0; i < 6; i++) m(40000);
    rt.gc.collect(GCForce.Always);
    // Snapshot: page 0 (free), parfor, 6 large spans, the free rest: 7 spans in use.
    expect(h.sweepNspan).toBe(9);
    expect(bgsweep(rt, 2)).toBe(2);
    expect(rt.gc.nbgsweep).toBe(2);
    // bgsweepTo: one span per turn until sweepone's index has passed the first 5 spans.
    expect(bgsweepTo(rt, 5)).toBe(2);
    expect(h.sweepSpanidx).toBe(5);
    expect(rt.gc.nbgsweep).toBe(4);
    rt.gc.collect(GCForce.Always);
    const r = rt.gc.records[rt.gc.records.length - 1]!;
    expect([r.nspan, r.nbgsweep, r.npausesweep]).toEqual([9, 4, 3]);
    expect([rt.gc.nbgsweep, rt.gc.npausesweep]).toEqual([0, 0]);
  });
});

describe("MSpan_Sweep (mgc0.c)", () => {
  it("lowers next_gc by floor(freed·(GOGC+100)/100) per span, and counts frees in the sweeping P's cache", () => {
    const { rt, h, c, m } = setup(33);
    const small = Array.from({ length: 10 }, () => m(48)); // class 4
    const mid = Array.from({ length: 5 }, () => m(896)); // class 30
    const L = m(40000);
    for (const v of small.slice(0, 7)) rt.release(v);
    for (const v of mid.slice(2)) rt.release(v);
    rt.release(L);
    rt.gc.collect(GCForce.Always);
    const next = rt.mstats.next_gc;
    const heapAlloc = rt.mstats.heap_alloc;
    expect(c.local_cachealloc).toBe(0);
    const smallfree4 = h.nsmallfree[4]!;
    ensureSwept(rt, h.lookup(small[0]!));
    // 7 × 48 × 133 / 100 = 446.88
    expect(next - rt.mstats.next_gc).toBe(446);
    expect([c.local_nsmallfree[4], c.local_cachealloc]).toEqual([7, -7 * 48]);
    expect(rt.mstats.heap_alloc).toBe(heapAlloc);
    ensureSwept(rt, h.lookup(mid[0]!));
    // 3 × 896 × 133 / 100 = 3575.04
    expect(next - rt.mstats.next_gc).toBe(446 + 3575);
    expect([c.local_nsmallfree[30], c.local_cachealloc]).toEqual([3, -7 * 48 - 3 * 896]);
    // A large span goes straight to the heap (MHeap_Free flushes the cache's bytes, then takes its pages).
    ensureSwept(rt, h.lookup(L));
    // 40960 × 133 / 100 = 54476.8; floored per span, not over the sum (58498.72).
    expect(next - rt.mstats.next_gc).toBe(446 + 3575 + 54476);
    expect([c.local_nlargefree, c.local_largefree, c.local_cachealloc]).toEqual([1, 5 * P, 0]);
    expect(rt.mstats.heap_alloc).toBe(heapAlloc - 7 * 48 - 3 * 896 - 5 * P);
    checkInvariants(rt);
    // The frees reach the heap's counters and BySize at the next purge.
    expect(h.nsmallfree[4]).toBe(smallfree4);
    const ms = rt.readMemStats();
    expect(h.nsmallfree[4]).toBe(smallfree4 + 7);
    expect(ms.BySize[4]!.Frees).toBe(smallfree4 + 7);
    expect(ms.BySize[30]!.Frees).toBe(3);
  });

  it("frees nothing marked: NoGC objects, objects that died after the mark, free slots", () => {
    const { rt, h, sp, m } = setup();
    const a = Array.from({ length: 4 }, () => m(64));
    const pinned = m(64, FlagNoGC);
    for (const v of [...a, pinned]) rt.release(v);
    const late = m(64);
    rt.gc.collect(GCForce.Always);
    rt.release(late); // after the mark: the collection saw it alive
    const s = h.lookup(a[0]!);
    expect(sp.ref[s]).toBe(6);
    ensureSwept(rt, s);
    expect(sp.ref[s]).toBe(2);
    expect(a.map((v) => rt.isAllocated(v))).toEqual([false, false, false, false]);
    expect([rt.isAllocated(pinned), rt.isAllocated(late)]).toEqual([true, true]);
    // The freed objects are prepended to the freelist in ascending order: a[0] is the head.
    expect(sp.freelist[s]![sp.nfreelist[s]! - 1]).toBe(0);
    expect(sp.freelist[s]!.slice(sp.nfreelist[s]! - 4, sp.nfreelist[s]!)).toEqual(new Uint16Array([3, 2, 1, 0]));
    // Sweeping again in the same cycle does nothing.
    ensureSwept(rt, s);
    expect(sp.ref[s]).toBe(2);
    // The next cycle frees `late`; `pinned` stays for good.
    rt.gc.collect(GCForce.Eager);
    expect([rt.isAllocated(pinned), rt.isAllocated(late)]).toEqual([true, false]);
    checkInvariants(rt);
  });

  it("releases the profile records of the objects it frees", () => {
    const rt = createRuntime({ memProfileRate: 1 });
    rt.gc.collect(GCForce.Eager);
    const h = rt.mheap;
    const objs = Array.from({ length: 5 }, () => rt.mallocgc(64, 0, FlagNoScan | FlagNoInvokeGC, -1));
    const s = h.lookup(objs[0]!);
    expect(h.spans.specials[s]!.map((r) => r.offset)).toEqual([0, 64, 128, 192, 256]);
    const inuse = h.specialprofilealloc.inuse;
    rt.release(objs[1]!);
    rt.release(objs[3]!);
    rt.gc.collect(GCForce.Eager);
    expect(h.spans.specials[s]!.map((r) => r.offset)).toEqual([0, 128, 256]);
    expect(h.specialprofilealloc.inuse).toBe(inuse - 2 * 24);
    checkInvariants(rt);
  });
});

describe("MSpan_EnsureSwept (mgc0.c) on an explicit free", () => {
  it("runtime·free sweeps the object's span first: its other garbage is freed with it", () => {
    const { rt, h, sp, c, m } = setup();
    const a = Array.from({ length: 5 }, () => m(64));
    rt.release(a[2]!);
    rt.gc.collect(GCForce.Always);
    const s = h.lookup(a[0]!);
    expect(sp.sweepgen[s]).toBe(h.sweepgen - 2);
    const frees = c.local_nsmallfree[5]!;
    rt.free(a[0]!);
    expect(sp.sweepgen[s]).toBe(h.sweepgen);
    expect(rt.isAllocated(a[2]!)).toBe(false);
    expect(c.local_nsmallfree[5]).toBe(frees + 2);
    // The sweep gave a[2] back to the span; a[0] waits in the cache (MCache_Free: the span is not cached).
    expect(sp.ref[s]).toBe(4);
    expect(c.free[5]).toEqual([a[0]]);
    checkInvariants(rt);
  });
});

describe("MHeap_Reclaim (mheap.c)", () => {
  it("sweeps the busy lists of large spans of at least npage pages first, and stops at the first list that gave a span back", () => {
    const { rt, h, sp, m } = setup();
    const live5 = m(40000);
    const dead5 = m(40000);
    const dead5b = m(40000);
    const dead10 = m(80000);
    const small = m(64);
    for (const v of [dead5, dead5b, dead10, small]) rt.release(v);
    rt.gc.collect(GCForce.Always);
    expect([live5, dead5, dead5b].map((v) => sp.npages[h.lookup(v)])).toEqual([5, 5, 5]);
    expect(sp.npages[h.lookup(dead10)]).toBe(10);
    // A 5-page request: busy[5] first. Its unswept spans are swept in list order, each moved to
    // the back; the loop counts spans given back against the 5 pages wanted, so it sweeps on
    // until busy[5] has no unswept span left. busy[10] and the small span are not swept.
    const v = m(40000);
    expect(rt.isAllocated(dead10)).toBe(true);
    expect(sp.sweepgen[h.lookup(small)]).toBe(h.sweepgen - 2);
    expect(sp.sweepgen[h.lookup(live5)]).toBe(h.sweepgen);
    // dead5 and dead5b were adjacent: they coalesced into one 10-page free span; the request
    // takes its low half.
    expect(v).toBe(dead5);
    expect(rt.isAllocated(dead5b)).toBe(false);
    const busy5: number[] = [];
    for (let s = sp.next[h.busy[5]!]!; s !== h.busy[5]; s = sp.next[s]!) busy5.push(s);
    expect(busy5).toEqual([h.lookup(live5), h.lookup(v)]);
    checkInvariants(rt);
  });

  it("falls back to sweepone, in allspans order, until npage pages came back", () => {
    const { rt, h, sp, m } = setup();
    const objs = Array.from({ length: 3 * 128 }, () => m(64)); // three class-5 spans
    const spans = [0, 128, 256].map((i) => h.lookup(objs[i]!));
    for (const v of objs.slice(0, 256)) rt.release(v);
    rt.gc.collect(GCForce.Always);
    // One page wanted: no large spans; sweepone sweeps the parfor span (0 pages), then the
    // first class-5 span, which goes back to the heap. The second is left for later.
    const v = m(2048);
    // The freed page heads free[1] (LIFO, ahead of page 0): the class-37 span takes it, and its MSpan.
    expect(v).toBe(sp.base(spans[0]!));
    expect(h.lookup(v)).toBe(spans[0]);
    expect(rt.isAllocated(objs[128]!)).toBe(true);
    expect(sp.sweepgen[spans[1]!]).toBe(h.sweepgen - 2);
    expect(h.sweepdone).toBe(false);
    checkInvariants(rt);
  });
});
