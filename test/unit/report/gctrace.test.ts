import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { needsOracle, oraclePath } from "../../oracle.js";
import { createRuntime, FlagNoScan, GCForce } from "../../../src/runtime/index.js";
import { GctraceWriter, gctraceLine, renderGctrace } from "../../../src/report/gctrace.js";

describe("gctrace lines (go1.3.3 mgc0.c gc)", () => {
  it("prints heap0 -> heap1 MB, objects and sweeps of each collection", () => {
    const rt = createRuntime();
    rt.mallocgc(3 << 20, 0, FlagNoScan, -1); // GC 1 at the first eligible allocation
    const big = rt.mallocgc(2 << 20, 0, FlagNoScan, -1);
    rt.release(big);
    rt.gc.collect(GCForce.Eager); // GC 2: 5 MiB marked, then the eager sweep frees 2 MiB
    rt.gc.collect(GCForce.Eager); // GC 3
    const lines = rt.gc.records.map(gctraceLine);
    // GC 1: heap_alloc 3 MiB (+ the 1152-byte descriptor, allocated by GC 1 itself, is not yet counted)
    expect(lines[0]).toBe("gc1(1): 0+0+0+0 us, 0 -> 3 MB, 2 (3-1) objects, 0/0/0 sweeps, 0(0) handoff, 0(0) steal, 0/0/0 yields");
    // GC 2: NextGC after GC 1 was 2 × 3 MiB → heap0 = 3; the descriptor's span is swept in this pause.
    expect(lines[1]).toMatch(/^gc2\(1\): 0\+0\+0\+0 us, 3 -> 5 MB, 3 \(4-1\) objects, \d+\/0\/\d+ sweeps, 0\(0\) handoff, 0\(0\) steal, 0\/0\/0 yields$/);
    expect(lines[2]).toMatch(/^gc3\(1\): 0\+0\+0\+0 us, 3 -> 3 MB, 2 \(4-2\) objects, /);
  });

  it("puts the scavenger's lines after the collection they follow", () => {
    const rt = createRuntime();
    rt.mallocgc(1 << 20, 0, FlagNoScan, -1);
    rt.gc.advanceClock(200e9);
    const text = renderGctrace(rt.gc.records, rt.gc.scavengerLog).split("\n");
    expect(text[0]).toMatch(/^gc1\(1\)/);
    expect(text[1]).toBe("scvg0: inuse: 1, idle: 0, sys: 2, released: 0, consumed: 2 (MB)");
    expect(text[2]).toBe("scvg1: inuse: 1, idle: 0, sys: 2, released: 0, consumed: 2 (MB)");
    expect(text[3]).toMatch(/^gc2\(1\)/);
    expect(text[4]).toBe("scvg2: GC forced");
  });

  it("streams the same text as it happens (GctraceWriter), in pieces", () => {
    const rt = createRuntime();
    const pieces: string[] = [];
    const writer = new GctraceWriter((text) => pieces.push(text));
    rt.gc.listener = writer;
    rt.mallocgc(1 << 20, 0, FlagNoScan, -1);
    rt.gc.advanceClock(200e9);
    for (let i = 0; i < 1000; i++) rt.gc.collect(GCForce.Eager);
    writer.flush();
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join("")).toBe(renderGctrace(rt.gc.records, rt.gc.scavengerLog));
  });

  const oracle = oraclePath("go1.3.3-amd64", "p2_large.gctrace.txt");
  it("has the shape of a real go1.3.3 gctrace line", needsOracle(oracle), () => {
    const shape = (l: string) => l.replace(/\d+/g, "N");
    const real = readFileSync(oracle, "utf8").split("\n").filter((l) => l.startsWith("gc"));
    const rt = createRuntime();
    rt.mallocgc(64, 0, 0, -1);
    expect(shape(gctraceLine(rt.gc.records[0]!))).toBe(shape(real[0]!));
  });
});
