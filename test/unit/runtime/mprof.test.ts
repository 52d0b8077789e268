import { describe, expect, it } from "vitest";
import { createRuntime, FastrandSeedBase, fastrandStep, FlagNoProfiling, FlagNoScan, GCForce, type MemProfileRecord, type Runtime } from "../../../src/runtime/index.js";
import { ProfileAtPeak } from "../../../src/replay/live-sites.js";

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

/** A seeded mix of allocations (tiny, small, large), deaths, explicit frees and collections. */
function churn(rt: Runtime, steps: number, seed: number, onStep?: (step: number) => void): void {
  let x = seed;
  const rand = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const live: { addr: number; tiny: boolean }[] = [];
  for (let step = 0; step < steps; step++) {
    const op = rand(100);
    if (op < 55 || live.length === 0) {
      const kind = rand(10);
      const size = kind < 4 ? 1 + rand(15) : kind < 9 ? 16 + rand(2000) : 33000 + rand(40000);
      live.push({ addr: rt.mallocgc(size, 0, FlagNoScan, rand(6)), tiny: size < 16 });
    } else if (op < 85) {
      rt.release(live.splice(rand(live.length), 1)[0]!.addr);
    } else if (op < 97) {
      const i = live.findIndex((o) => !o.tiny);
      if (i >= 0) rt.free(live.splice(i, 1)[0]!.addr);
    } else rt.gc.collect(op === 99 ? GCForce.Eager : GCForce.Always);
    onStep?.(step);
  }
}

describe("the profile at another point than the last collection (--memprofile-at)", () => {
  it.each([1, 256])("end (rate %i): what runtime.GC() would then publish, without running it", (rate) => {
    const rt = createRuntime({ memProfileRate: rate });
    rt.gc.collect(GCForce.Eager); // the collector's first-use allocation, out of the way
    churn(rt, 3000, rate);
    const now = rt.prof.profileNow();
    expect(now.some((r) => r.freeObjects > 0 && r.freeObjects < r.allocObjects)).toBe(true);
    rt.gc.collect(GCForce.Eager);
    expect(rt.prof.memProfile()).toEqual(now);
  });

  it("in use: referenced by the trace; a tiny block while any of its objects is", () => {
    const rt = createRuntime({ memProfileRate: 1, gcpercent: -1 });
    const inuse = (stack: number): number => {
      const r = rt.prof.profileNow().find((b) => b.stack === stack)!;
      return r.allocObjects - r.freeObjects;
    };
    const a = rt.mallocgc(4, 0, FlagNoScan, 1); // opens a tiny block: sampled, bucket (16, 1)
    const b = rt.mallocgc(4, 0, FlagNoScan, 2); // in the same block: not sampled
    rt.release(a);
    expect(inuse(1)).toBe(1);
    rt.release(b);
    expect(inuse(1)).toBe(0);
    rt.mallocgc(4, 0, FlagNoScan, 2); // the block again, unswept: in use again
    expect(inuse(1)).toBe(1);
    const c = rt.mallocgc(100, 0, FlagNoScan, 3);
    rt.free(c);
    expect(rt.prof.profileNow().find((r) => r.stack === 3)).toMatchObject({ allocObjects: 1, allocBytes: 112, freeObjects: 1, freeBytes: 112 });
  });

  it.each([1, 256])("peak (rate %i): the snapshot at the last mark is the profile then", (rate) => {
    const rt = createRuntime({ memProfileRate: rate });
    const peak = new ProfileAtPeak();
    peak.attach(rt);
    let atMark: MemProfileRecord[] = [];
    churn(rt, 3000, 7 * rate, (step) => {
      if (step % 701 === 0) {
        peak.mark();
        atMark = rt.prof.profileNow();
      }
    });
    const snap = peak.snapshot();
    expect(rt.prof.recordsOf(snap.allocs, snap.inuse)).toEqual(atMark);
    expect(rt.prof.profileNow()).not.toEqual(atMark);
    peak.mark();
    const end = peak.snapshot();
    expect(rt.prof.recordsOf(end.allocs, end.inuse)).toEqual(rt.prof.profileNow());
  });
});
