// Runtime metadata allocation (go1.3.3 mfixalloc.c FixAlloc_Alloc/Free, malloc.goc
// persistentalloc): 16 KiB chunks carved from 256 KiB persistent chunks, LIFO reuse, and the
// *_sys / inuse figures they charge.
import { describe, expect, it } from "vitest";
import { ARCHES, checkInvariants, createRuntime, FlagNoInvokeGC, FlagNoScan, RuntimeThrow } from "../../../src/runtime/index.js";
import { FixAlloc, MStats, OSMemory, PersistentAlloc } from "../../../src/runtime/testing.js";

const KiB = 1024;
const mmapTop = ARCHES.amd64.mmapTop;

function persistent() {
  const stats = new MStats();
  return { stats, pa: new PersistentAlloc(stats, new OSMemory(ARCHES.amd64)) };
}

describe("persistentalloc (malloc.goc)", () => {
  it("bump-allocates from 256 KiB chunks charged to other_sys, and re-accounts each block to its own statistic", () => {
    const { stats, pa } = persistent();
    const chunk = mmapTop - 256 * KiB;
    expect(pa.alloc(100, 0, "gc_sys")).toBe(chunk);
    expect([stats.gc_sys, stats.other_sys]).toEqual([100, 256 * KiB - 100]);
    // Default alignment 8: 100 rounds up to 104.
    expect(pa.alloc(10, 0, "other_sys")).toBe(chunk + 104);
    expect([stats.gc_sys, stats.other_sys]).toEqual([100, 256 * KiB - 100]);
    expect(pa.alloc(1, 64, "buckhash_sys")).toBe(chunk + 128);
    expect([stats.buckhash_sys, stats.other_sys]).toEqual([1, 256 * KiB - 101]);
  });

  it("maps blocks of 64 KiB or more on their own; a block that does not fit starts a new chunk and strands the rest", () => {
    const { stats, pa } = persistent();
    const chunk1 = mmapTop - 256 * KiB;
    expect(pa.alloc(8, 0, "other_sys")).toBe(chunk1);
    expect(pa.alloc(64 * KiB, 0, "gc_sys")).toBe(chunk1 - 64 * KiB);
    expect(stats.gc_sys).toBe(64 * KiB);
    expect(pa.alloc(64 * KiB - 8, 0, "other_sys")).toBe(chunk1 + 8);
    expect(pa.alloc(64 * KiB - 8, 0, "other_sys")).toBe(chunk1 + 64 * KiB);
    expect(pa.alloc(64 * KiB - 8, 0, "other_sys")).toBe(chunk1 + 128 * KiB - 8);
    expect(pa.alloc(64 * KiB - 8, 0, "other_sys")).toBe(chunk1 + 192 * KiB - 16);
    // 24 bytes are left: a 32-byte block opens a new chunk (below the 64 KiB mapping) and the
    // 24 stay unused, still in other_sys.
    expect(pa.alloc(32, 0, "other_sys")).toBe(chunk1 - 64 * KiB - 256 * KiB);
    expect(pa.alloc(24, 0, "other_sys")).toBe(chunk1 - 64 * KiB - 256 * KiB + 32);
    expect(stats.other_sys).toBe(2 * 256 * KiB);
  });

  it("rejects an alignment above a page or not a power of two", () => {
    const { pa } = persistent();
    expect(() => pa.alloc(8, 16 * KiB, "other_sys")).toThrow(new RuntimeThrow("persistentalloc: align is too large"));
    expect(() => pa.alloc(8, 24, "other_sys")).toThrow(new RuntimeThrow("persistentalloc: align is not a power of 2"));
    expect(pa.alloc(8, 8 * KiB, "other_sys")).toBe(mmapTop - 256 * KiB);
  });
});

describe("FixAlloc (mfixalloc.c)", () => {
  it("carves 16 KiB chunks from persistentalloc: 128 MSpans (128 B) per chunk, charged to mspan_sys", () => {
    const { stats, pa } = persistent();
    const carved: number[] = [];
    const f = new FixAlloc(128, pa, "mspan_sys", (id) => carved.push(id));
    expect(f.alloc()).toBe(0);
    expect([f.inuse, stats.mspan_sys, stats.other_sys]).toEqual([128, 16 * KiB, 256 * KiB - 16 * KiB]);
    // The chunk came first out of the persistent chunk: the next persistent block follows it.
    expect(pa.alloc(8, 0, "other_sys")).toBe(mmapTop - 256 * KiB + 16 * KiB);
    for (let i = 1; i < 128; i++) expect(f.alloc()).toBe(i);
    expect(stats.mspan_sys).toBe(16 * KiB);
    expect(f.alloc()).toBe(128);
    expect([f.inuse, stats.mspan_sys, f.carved]).toEqual([129 * 128, 32 * KiB, 129]);
    expect(carved).toEqual(Array.from({ length: 129 }, (_, i) => i));
  });

  it("hands freed structs out again last-freed first, before carving; sys never goes down", () => {
    const { stats, pa } = persistent();
    const carved: number[] = [];
    const f = new FixAlloc(128, pa, "mspan_sys", (id) => carved.push(id));
    for (let i = 0; i < 10; i++) f.alloc();
    f.free(5);
    f.free(2);
    f.free(7);
    expect([f.inuse, stats.mspan_sys]).toEqual([7 * 128, 16 * KiB]);
    expect([f.alloc(), f.alloc(), f.alloc(), f.alloc()]).toEqual([7, 2, 5, 10]);
    expect(f.inuse).toBe(11 * 128);
    // The first-use hook (RecordSpan) ran only for carved structs.
    expect(carved).toEqual(Array.from({ length: 11 }, (_, i) => i));
  });

  it("leaves the tail of a chunk that a struct does not fit: MCache (2200 B) is 7 to a chunk", () => {
    const { stats, pa } = persistent();
    const f = new FixAlloc(2200, pa, "mcache_sys");
    for (let i = 0; i < 7; i++) f.alloc();
    expect(stats.mcache_sys).toBe(16 * KiB);
    f.alloc();
    expect([stats.mcache_sys, f.inuse]).toEqual([32 * KiB, 8 * 2200]);
  });

  it("a 17th chunk needs a second persistent chunk (16 × 16 KiB fill the first)", () => {
    const { stats, pa } = persistent();
    const f = new FixAlloc(16 * KiB, pa, "gc_sys");
    for (let i = 0; i < 16; i++) f.alloc();
    expect([stats.gc_sys, stats.other_sys]).toEqual([256 * KiB, 0]);
    f.alloc();
    expect([stats.gc_sys, stats.other_sys]).toEqual([272 * KiB, 256 * KiB - 16 * KiB]);
  });
});

describe("the runtime's FixAllocs (mheap.c, mcache.c)", () => {
  it("allspans holds every MSpan ever carved; a struct freed by coalescing is the next one handed out", () => {
    const rt = createRuntime({ gcpercent: -1 });
    const h = rt.mheap;
    const m = (n: number) => rt.mallocgc(n, 0, FlagNoScan | FlagNoInvokeGC, -1);
    // MSpans: the first 1 MiB, split for the self-test span; its rest.
    expect([h.nspan, h.spanalloc.carved, h.spanalloc.inuse]).toEqual([2, 2, 2 * 128]);
    m(40000);
    const b = m(40000);
    const rest = h.lookup(b + 5 * 8192);
    expect(rest - h.firstSpanId).toBe(3);
    expect(h.nspan).toBe(4);
    // b comes back and coalesces with the free rest: the rest's struct is freed (dead).
    rt.free(b);
    expect(h.spans.state[rest]).toBe(3);
    expect(h.spanalloc.inuse).toBe(3 * 128);
    // The next split takes that struct for its remainder; nothing new is carved.
    const c = m(40000);
    expect(c).toBe(b);
    expect(h.lookup(c + 5 * 8192)).toBe(rest);
    expect([h.nspan, h.spanalloc.carved, h.spanalloc.inuse]).toEqual([4, 4, 4 * 128]);
    expect(rt.readMemStats().MSpanInuse).toBe(4 * 128);
    expect(rt.mstats.mspan_sys).toBe(16 * KiB);
    checkInvariants(rt);
  });

  it("386: 227 MSpans (72 B) to a chunk; the 228th costs another 16 KiB of MSpanSys", () => {
    const rt = createRuntime({ arch: "386", gcpercent: -1 });
    const h = rt.mheap;
    // One-page, one-object spans (class 50, 8192 B): one new MSpan each for the remainder.
    while (h.spanalloc.carved < 227) rt.mallocgc(8192, 0, FlagNoScan, -1);
    expect(h.spanalloc.carved).toBe(227);
    expect(rt.mstats.mspan_sys).toBe(16 * KiB);
    rt.mallocgc(8192, 0, FlagNoScan, -1);
    expect(h.spanalloc.carved).toBe(228);
    expect(rt.mstats.mspan_sys).toBe(32 * KiB);
    expect(h.spanalloc.inuse).toBe(228 * 72);
    checkInvariants(rt);
  });

  it("special records: a finalizer costs 40 B of a FixAlloc charged to other_sys, where its chunk already was", () => {
    const rt = createRuntime({ gcpercent: -1 });
    const v = rt.mallocgc(64, 0, 0, -1);
    const w = rt.mallocgc(64, 0, 0, -1);
    const otherSys = rt.mstats.other_sys;
    rt.setFinalizer(v, false);
    rt.setFinalizer(w, false);
    expect(rt.mheap.specialfinalizeralloc.inuse).toBe(2 * 40);
    // persistentalloc does not re-account a block charged to other_sys.
    expect(rt.mstats.other_sys).toBe(otherSys);
    rt.removeFinalizer(v);
    expect(rt.mheap.specialfinalizeralloc.inuse).toBe(40);
    expect(rt.mheap.specialfinalizeralloc.carved).toBe(2);
  });
});
