import { describe, expect, it } from "vitest";
import { createRuntime, FastrandSeedBase, fastrandStep, FlagNoProfiling, FlagNoScan, GCForce } from "../../src/runtime/index.js";

describe("fastrand1 (libgo/runtime/runtime.c runtime_fastrand1)", () => {
  it("doubles and xors 0x88888eef: the sequence from the default seed", () => {
    const got: number[] = [];
    let x = FastrandSeedBase;
    for (let i = 0; i < 8; i++) got.push((x = fastrandStep(x)));
    expect(got.map((v) => "0x" + v.toString(16).padStart(8, "0"))).toEqual([
      "0x1b640bfb", "0x36c817f6", "0x6d902fec", "0x53a8d137", "0x2fd92c81", "0x5fb25902", "0x37ec3ceb", "0x6fd879d6",
    ]);
    expect(fastrandStep(0)).toBe(0);
  });
});

describe("MemProfileRate sampling (malloc.goc mallocgc, profilealloc; mprof.goc MProf_Malloc)", () => {
  it("samples the self-test and the first allocation, then counts down by rounded sizes", () => {
    const rt = createRuntime({ gcpercent: -1 });
    // The bootstrap mcache had next_sample 0: the self-test was sampled, and left it at 0.
    expect(rt.prof.samples).toBe(1);
    expect(rt.mcache().next_sample).toBe(0);
    rt.mallocgc(40, 0, FlagNoScan, -1); // rounded to 48; fastrand1() = 0x1b640bfb
    expect(rt.prof.samples).toBe(2);
    expect(rt.mcache().next_sample).toBe((0x1b640bfb % (2 * 524288)) - 48);
    expect(rt.mcache().next_sample).toBe(265163);
    // 5524 more 48-byte objects leave next_sample at 11; the next one overshoots by 37.
    for (let i = 0; i < 5524; i++) rt.mallocgc(48, 0, FlagNoScan, -1);
    expect(rt.prof.samples).toBe(2);
    expect(rt.mcache().next_sample).toBe(11);
    rt.mallocgc(48, 0, FlagNoScan, -1);
    expect(rt.prof.samples).toBe(3);
    expect(rt.mcache().next_sample).toBe((0x36c817f6 % (2 * 524288)) - 37);
  });

  it("never samples NoProfiling or tiny sub-allocations, and always samples ≥ rate without resetting", () => {
    const rt = createRuntime({ gcpercent: -1, memProfileRate: 4096 });
    rt.mallocgc(64, 0, FlagNoScan, -1);
    const n = rt.mcache().next_sample;
    rt.mallocgc(64, 0, FlagNoScan | FlagNoProfiling, -1);
    rt.mallocgc(3, 0, FlagNoScan, -1); // opens a tiny block: counts 16
    rt.mallocgc(3, 0, FlagNoScan, -1); // fits in it: invisible
    expect(rt.mcache().next_sample).toBe(n - 16);
    const before = rt.prof.samples;
    rt.mallocgc(8192, 0, FlagNoScan, -1);
    expect(rt.prof.samples).toBe(before + 1);
    expect(rt.mcache().next_sample).toBe(n - 16);
  });

  it("publishes counts with the MProf_GC lag; runtime.GC publishes everything", () => {
    const rt = createRuntime({ memProfileRate: 1 });
    rt.gc.collect(GCForce.Eager);
    const a = rt.mallocgc(100, 0, FlagNoScan, 7);
    const b = rt.mallocgc(100, 0, FlagNoScan, 7);
    rt.release(a);
    rt.free(b);
    const bucket = () => rt.prof.buckets.find((x) => x.stack === 7)!;
    expect(bucket().allocs).toBe(0);
    expect(bucket().recent_allocs).toBe(2);
    expect(bucket().recent_frees).toBe(1); // the explicit free
    rt.gc.collect(GCForce.Eager); // sweeps a (prev_frees), then MProf_GC twice
    expect(bucket()).toMatchObject({ allocs: 2, alloc_bytes: 224, frees: 2, free_bytes: 224 });
  });

  it("charges the bucket hash table and each bucket to BuckHashSys", () => {
    const rt = createRuntime({ gcpercent: -1, memProfileRate: 1, stackDepth: (s) => (s === 3 ? 5 : 1) });
    const base = rt.mstats.buckhash_sys;
    expect(base).toBe(179999 * 8 + 192 + 48); // table + the self-test's one-frame bucket
    rt.mallocgc(64, 0, FlagNoScan, 3);
    expect(rt.mstats.buckhash_sys - base).toBe(192 + 48 * 5);
    rt.mallocgc(64, 0, FlagNoScan, 3); // same (size, stack): same bucket
    expect(rt.mstats.buckhash_sys - base).toBe(192 + 48 * 5);
  });
});
