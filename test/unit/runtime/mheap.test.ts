// The page heap's placement rules (go1.3.3 mheap.c), checked on exact addresses.
import { describe, expect, it } from "vitest";
import { checkInvariants, createRuntime, FlagNoScan, GCForce, type Runtime } from "../../../src/runtime/index.js";
import { P } from "./helpers.js";

const large = (rt: Runtime, pages: number) => rt.mallocgc(pages * P, 0, FlagNoScan, -1);
const free = (rt: Runtime, v: number) => {
  rt.free(v);
  checkInvariants(rt);
};

describe("MHeap (mheap.c)", () => {
  it("takes the low end of a span and puts the remainder back", () => {
    const rt = createRuntime({ gcpercent: -1 });
    const a = large(rt, 5);
    // Self-test span (1 page) then a.
    expect(a).toBe(rt.arena.arena_start + P);
    const h = rt.mheap;
    const rest = h.lookup(a + 5 * P);
    expect(h.spans.state[rest]).toBe(1);
    expect(h.spans.npages[rest]).toBe(128 - 1 - 5);
    checkInvariants(rt);
  });

  it("searches free[npage..127] first fit, most recently freed first", () => {
    const rt = createRuntime({ gcpercent: -1 });
    const [a, , b, , c] = [large(rt, 5), large(rt, 5), large(rt, 5), large(rt, 5), large(rt, 5)];
    free(rt, a!);
    free(rt, c!); // c merges with the free rest of the arena
    free(rt, b!);
    // a and b are on free[5], b inserted last: a 5-page request takes b.
    expect(large(rt, 5)).toBe(b);
    // A 4-page request finds free[4] empty and takes the head of free[5] (a), low end.
    expect(large(rt, 4)).toBe(a);
    // Its remainder (1 page) went to free[1]; a 1-page request takes it.
    expect(large(rt, 1)).toBe(a! + 4 * P);
    checkInvariants(rt);
  });

  it("coalesces a freed span with free neighbours on both sides", () => {
    const rt = createRuntime({ gcpercent: -1 });
    const [a, b, c] = [large(rt, 5), large(rt, 6), large(rt, 7)];
    large(rt, 5); // keeps c from merging with the free rest of the arena
    free(rt, a!);
    free(rt, c!);
    free(rt, b!);
    const h = rt.mheap;
    const s = h.lookup(a!);
    expect(h.spans.base(s)).toBe(a);
    expect(h.spans.npages[s]).toBe(18);
    expect(large(rt, 18)).toBe(a);
    checkInvariants(rt);
  });

  it("best-fits freelarge: fewest pages, then the lowest address", () => {
    const rt = createRuntime({ gcpercent: -1 });
    // Each span is followed by a 1-page guard so that no two of them coalesce.
    const spans = [200, 150, 300, 150].map((n) => {
      const v = large(rt, n);
      large(rt, 1);
      return v;
    });
    for (const v of spans) free(rt, v);
    // Two 150-page candidates for 140 pages: the lower address wins; the rest goes to free[10].
    expect(large(rt, 140)).toBe(spans[1]);
    expect(large(rt, 150)).toBe(spans[3]);
    expect(large(rt, 180)).toBe(spans[0]);
    checkInvariants(rt);
  });

  it("grows by at least 1 MiB, in 128 KiB steps, contiguous with the arena", () => {
    const rt = createRuntime({ gcpercent: -1 });
    expect(rt.mstats.heap_sys).toBe(1 << 20);
    large(rt, 127); // uses the rest of the first MiB
    expect(rt.mstats.heap_sys).toBe(1 << 20);
    large(rt, 129); // needs 129 pages: roundUp(129, 16) = 144 pages > 1 MiB
    expect(rt.mstats.heap_sys).toBe((1 << 20) + 144 * P);
    large(rt, 1); // 15 pages remain from that growth
    large(rt, 20); // a 1 MiB growth
    expect(rt.mstats.heap_sys).toBe((1 << 20) + 144 * P + (1 << 20));
    checkInvariants(rt);
  });

  it("a request of 32769 bytes is large: 5 pages, page aligned; 32768 is the last small size", () => {
    const rt = createRuntime({ gcpercent: -1 });
    const small = rt.mallocgc(32768, 0, FlagNoScan, -1);
    const big = rt.mallocgc(32769, 0, FlagNoScan, -1);
    const h = rt.mheap;
    expect(h.spans.sizeclass[h.lookup(small)]).toBe(66);
    expect(h.spans.sizeclass[h.lookup(big)]).toBe(0);
    expect(h.spans.npages[h.lookup(big)]).toBe(5);
    expect(big % P).toBe(0);
  });

  it("reclaims large spans from the busy lists before allocating pages", () => {
    const rt = createRuntime();
    rt.gc.collect(GCForce.Eager);
    const a = large(rt, 10);
    const b = large(rt, 10);
    rt.release(a);
    rt.gc.collect(GCForce.Always); // not eager: a is still allocated, its span unswept
    expect(rt.isAllocated(a)).toBe(true);
    // A 10-page request sweeps busy[10] first, frees a, and takes its pages.
    expect(large(rt, 10)).toBe(a);
    expect(rt.isAllocated(b)).toBe(true);
    checkInvariants(rt);
  });
});
