import { describe, expect, it } from "vitest";
import {
  checkInvariants,
  createRuntime,
  FlagNoGC,
  FlagNoScan,
  GCForce,
  RuntimeThrow,
  bgsweep,
  type Runtime,
} from "../../../src/runtime/index.js";

const hex = (n: number) => "0x" + n.toString(16);

function checked(rt: Runtime, f: () => number): number {
  const v = f();
  checkInvariants(rt);
  return v;
}

describe("mallocgc: a hand-checked amd64 scenario (GC off)", () => {
  const rt = createRuntime({ arch: "amd64", gcpercent: -1 });
  const T = rt.typeWord("main.T", 0);
  const U = rt.typeWord("main.U", 0);
  const m = (size: number, typ = 0, flags = 0) => checked(rt, () => rt.mallocgc(size, typ, flags, -1));

  it("reuses the self-test object, then carves fresh spans page by page", () => {
    expect(hex(m(16))).toBe("0xc208000000");
    expect(hex(m(16))).toBe("0xc208000010");
    // 48 B, typed: class 4 span at the next page; its type table (64 + 170 = 234 B, class 16)
    // is allocated after the object, in a span of its own on the page after that.
    expect(hex(m(48, T))).toBe("0xc208002000");
    expect(hex(rt.mheap.spans.typesData[rt.mheap.lookup(0xc208002000)]!)).toBe("0xc208004000");
    expect(hex(m(48, T))).toBe("0xc208002030");
    expect(hex(m(48, U))).toBe("0xc208002060");
    expect(rt.gettype(0xc208002030)).toBe(T);
    expect(rt.gettype(0xc208002060)).toBe(U);
  });

  it("places a large object at the low end of the first fit and coalesces it back", () => {
    const L = m(40000, 0, FlagNoScan);
    expect(hex(L)).toBe("0xc208006000");
    const sp = rt.mheap.spans;
    expect(sp.npages[rt.mheap.lookup(L)]).toBe(5);
    checked(rt, () => (rt.free(L), 0));
    const s = rt.mheap.lookup(L);
    expect(sp.state[s]).toBe(1);
    expect(sp.npages[s]).toBe(125);
    expect(hex(m(40000, 0, FlagNoScan))).toBe("0xc208006000");
  });

  it("puts an explicitly freed object back on the front of its cached span", () => {
    checked(rt, () => (rt.free(0xc208002030), 0));
    expect(hex(m(48, T))).toBe("0xc208002030");
    expect(hex(m(48, T))).toBe("0xc208002090");
  });

  it("sub-allocates tiny blocks with the runtime's alignment rules (malloc.goc mallocgc; the offsets a real go1.3.3 returned)", () => {
    const sizes = [1, 1, 2, 3, 1, 4, 8, 1, 2, 4, 8, 8, 3];
    const got = sizes.map((n) => m(n, 0, FlagNoScan));
    expect(hex(got[0]!)).toBe("0xc208000020");
    expect(got.map((v) => v - got[0]!)).toEqual([0, 1, 2, 4, 7, 8, 0x10, 0x18, 0x1a, 0x1c, 0x20, 0x28, 0x30]);
    // Pointerful or NoGC requests never take the tiny path.
    expect(hex(m(8))).toBe("0xc208010000");
    expect(m(4, 0, FlagNoScan | FlagNoGC) % 8).toBe(0);
  });

  it("counts a tiny block once in Mallocs and keeps the stats identities (I5, I6)", () => {
    const ms = rt.readMemStats();
    checkInvariants(rt);
    expect(ms.HeapAlloc).toBe(ms.Alloc);
    expect(ms.HeapObjects).toBe(ms.Mallocs - ms.Frees);
    expect(ms.Sys).toBe(ms.HeapSys + ms.StackSys + ms.MSpanSys + ms.MCacheSys + ms.BuckHashSys + ms.GCSys + ms.OtherSys);
    expect(ms.HeapIdle + ms.HeapInuse).toBe(ms.HeapSys);
    // Self-test (freed), 16, 16 and 4 tiny blocks; five 48 B objects (one freed); the type
    // table; two large objects (one freed); an 8 B object and a NoGC 8 B one.
    expect(ms.BySize[2]).toEqual({ Size: 16, Mallocs: 1 + 2 + 4, Frees: 1 });
    expect(ms.BySize[4]).toEqual({ Size: 48, Mallocs: 5, Frees: 1 });
    expect(ms.Frees).toBe(3);
    expect(ms.Mallocs).toBe(7 + 5 + 1 + 2 + 2);
    expect(ms.BySize[16]).toEqual({ Size: 240, Mallocs: 1, Frees: 0 });
    expect(ms.MCacheInuse).toBe(2200);
    expect(ms.MSpanInuse % 128).toBe(0);
  });
});

describe("explicit free errors", () => {
  it("throws for a pointer outside any block and for class-1 objects", () => {
    const rt = createRuntime({ gcpercent: -1 });
    expect(() => rt.free(0xc300000000)).toThrow("free 0xc300000000: not an allocated block\nfatal error: free runtime_mlookup");
    const v = rt.mallocgc(8, 0, 0, -1);
    expect(() => rt.free(v)).toThrow(new RuntimeThrow("freeing too small block"));
  });
});

describe("efence (malloc.goc mallocgc, mgc0.c MSpan_Sweep)", () => {
  it("gives every allocation its own span and never reuses freed pages", () => {
    const rt = createRuntime({ efence: true, gcpercent: -1 });
    const a = checked(rt, () => rt.mallocgc(8, 0, FlagNoScan, -1));
    const b = checked(rt, () => rt.mallocgc(8, 0, FlagNoScan, -1));
    expect(a % 8192).toBe(0);
    expect(b - a).toBe(8192);
    const inuse = rt.mstats.heap_inuse;
    rt.free(a);
    checkInvariants(rt);
    expect(rt.mstats.heap_inuse).toBe(inuse);
    const c = checked(rt, () => rt.mallocgc(8, 0, FlagNoScan, -1));
    expect(c - b).toBe(8192);
    const ms = rt.readMemStats();
    // Freed efence objects stay counted as live (their span is still in use).
    expect(ms.Frees).toBe(2);
    expect(ms.HeapAlloc).toBe(4 * 8192);
    expect(ms.Mallocs).toBe(4 + 2);
  });
});

describe("collections (mgc0.c gc; the figures of a real go1.3.3)", () => {
  it("sets NextGC to 2 × HeapAlloc after runtime.GC at GOGC=100", () => {
    const rt = createRuntime();
    for (let i = 0; i < 100; i++) rt.mallocgc(1000, 0, 0, -1);
    rt.gc.collect(GCForce.Eager);
    checkInvariants(rt);
    const ms = rt.readMemStats();
    expect(ms.NextGC).toBe(2 * ms.HeapAlloc);
    expect(rt.mcaches[0]!.tiny).toBe(0);
  });

  it("frees dead objects in ascending order onto the front of the freelist", () => {
    const rt = createRuntime();
    rt.gc.collect(GCForce.Eager);
    const objs = Array.from({ length: 10 }, () => rt.mallocgc(144, 0, FlagNoScan, -1));
    for (let i = 1; i < 10; i++) expect(objs[i]! - objs[i - 1]!).toBe(144);
    for (const k of [2, 5, 7]) rt.release(objs[k]!);
    rt.gc.collect(GCForce.Eager);
    checkInvariants(rt);
    const again = Array.from({ length: 5 }, () => (rt.mallocgc(144, 0, FlagNoScan, -1) - objs[0]!) / 144);
    expect(again).toEqual([2, 5, 7, 10, 11]);
  });

  it("reuses a freed large span from its low end, the remainder from free[2]", () => {
    const rt = createRuntime();
    rt.gc.collect(GCForce.Eager);
    const L = [0, 1, 2].map(() => rt.mallocgc(40000, 0, FlagNoScan, -1));
    expect(L[1]! - L[0]!).toBe(5 * 8192);
    expect(L[2]! - L[1]!).toBe(5 * 8192);
    rt.release(L[1]!);
    rt.gc.collect(GCForce.Eager);
    checkInvariants(rt);
    expect(rt.mallocgc(24576, 0, FlagNoScan, -1)).toBe(L[1]);
    expect(rt.mallocgc(16384, 0, FlagNoScan, -1)).toBe(L[1]! + 3 * 8192);
  });

  it("keeps an object that died after the mark until the next cycle's sweep", () => {
    const rt = createRuntime();
    const big = rt.mallocgc(100000, 0, FlagNoScan, -1);
    rt.gc.collect(GCForce.Always);
    expect(rt.mheap.sweepdone).toBe(false);
    rt.release(big);
    bgsweep(rt, 1 << 20);
    expect(rt.mheap.sweepdone).toBe(true);
    expect(rt.isAllocated(big)).toBe(true);
    rt.gc.collect(GCForce.Eager);
    expect(rt.isAllocated(big)).toBe(false);
    checkInvariants(rt);
  });
});
