// Random malloc/free/death/GC sequences with every heap invariant checked after each step.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  bgsweep,
  checkInvariants,
  createRuntime,
  FlagNoGC,
  FlagNoScan,
  GCForce,
  initSizes,
  sizeToClass,
  type ArchName,
} from "../../src/runtime/index.js";

type Op =
  | { op: "malloc"; size: number; flags: number; typed: number }
  | { op: "free"; pick: number }
  | { op: "release"; pick: number }
  | { op: "gc"; force: GCForce }
  | { op: "readmemstats" }
  | { op: "bgsweep"; n: number }
  | { op: "clock"; dt: number };

const sizeArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 15 }) },
  { weight: 6, arbitrary: fc.integer({ min: 16, max: 1024 }) },
  { weight: 3, arbitrary: fc.integer({ min: 1025, max: 32768 }) },
  { weight: 1, arbitrary: fc.integer({ min: 32769, max: 400000 }) },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      op: fc.constant("malloc" as const),
      size: sizeArb,
      flags: fc.constantFrom(0, FlagNoScan, FlagNoScan, FlagNoGC, FlagNoScan | 2, FlagNoScan | 8, 16),
      typed: fc.integer({ min: 0, max: 9 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("free" as const), pick: fc.nat() }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant("release" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("gc" as const), force: fc.constantFrom(GCForce.Always, GCForce.Eager) }) },
  { weight: 1, arbitrary: fc.constant({ op: "readmemstats" as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("bgsweep" as const), n: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("clock" as const), dt: fc.integer({ min: 1e9, max: 400e9 }) }) },
);

const classToSize = initSizes().classToSize;

interface Obj {
  addr: number;
  size: number;
  tiny: boolean;
  freeable: boolean;
}

function run(arch: ArchName, ops: Op[], gcpercent: number): void {
  const rt = createRuntime({ arch, gcpercent, memProfileRate: 4096 });
  const types = Array.from({ length: 9 }, (_, i) => rt.typeWord(`main.T${i}`, i % 3));
  const live: Obj[] = [];
  checkInvariants(rt);
  for (const o of ops) {
    switch (o.op) {
      case "malloc": {
        const typ = o.typed === 0 ? 0 : types[o.typed - 1]!;
        const v = rt.mallocgc(o.size, typ, o.flags, -1);
        const tiny = (o.flags & (FlagNoScan | FlagNoGC)) === FlagNoScan && o.size < 16;
        expect(v).toBeGreaterThanOrEqual(rt.arena.arena_start);
        expect(v + o.size).toBeLessThanOrEqual(rt.arena.arena_used);
        if (tiny) {
          const a = o.size % 8 === 0 ? 8 : o.size % 4 === 0 ? 4 : o.size % 2 === 0 ? 2 : 1;
          expect(v % a).toBe(0);
          expect(Math.floor(v / 16)).toBe(Math.floor((v + o.size - 1) / 16));
        } else if (o.size > 32768) {
          expect(v % 8192).toBe(0);
        } else {
          const csize = classToSize[sizeToClass(o.size)]!;
          expect(rt.mheap.spans.elemsize[rt.mheap.lookup(v)]).toBe(csize);
          expect((v - rt.mheap.spans.base(rt.mheap.lookup(v))) % csize).toBe(0);
          // Natural alignment of the class (msize.c InitSizes).
          expect(v % Math.min(csize & -csize, 8192)).toBe(0);
        }
        if (!tiny) {
          for (const other of live) {
            if (other.tiny) continue;
            expect(v + o.size <= other.addr || other.addr + other.size <= v).toBe(true);
          }
        }
        const elem = rt.mheap.spans.elemsize[rt.mheap.lookup(v)]!;
        live.push({ addr: v, size: o.size, tiny, freeable: !tiny && elem >= 16 });
        break;
      }
      case "free": {
        const candidates = live.filter((x) => x.freeable);
        if (candidates.length === 0) break;
        const victim = candidates[o.pick % candidates.length]!;
        rt.free(victim.addr);
        live.splice(live.indexOf(victim), 1);
        break;
      }
      case "release": {
        if (live.length === 0) break;
        const [victim] = live.splice(o.pick % live.length, 1);
        rt.release(victim!.addr);
        break;
      }
      case "gc":
        rt.gc.collect(o.force);
        if (rt.gc.gcpercent >= 0) {
          for (const c of rt.mcaches) {
            expect(c.tiny).toBe(0);
            for (const s of c.alloc) expect(s).toBe(rt.mheap.emptySpan);
          }
        }
        // Live objects are never swept.
        for (const x of live) expect(rt.isAllocated(x.addr)).toBe(true);
        break;
      case "readmemstats": {
        const ms = rt.readMemStats();
        expect(ms.HeapAlloc).toBe(ms.Alloc);
        expect(ms.HeapObjects).toBe(ms.Mallocs - ms.Frees);
        expect(ms.Mallocs).toBeGreaterThanOrEqual(ms.Frees);
        expect(ms.TotalAlloc).toBeGreaterThanOrEqual(ms.Alloc);
        expect(ms.Sys).toBe(ms.HeapSys + ms.StackSys + ms.MSpanSys + ms.MCacheSys + ms.BuckHashSys + ms.GCSys + ms.OtherSys);
        expect(ms.MSpanSys % 16384).toBe(0);
        expect(ms.MCacheSys % 16384).toBe(0);
        break;
      }
      case "bgsweep":
        bgsweep(rt, o.n);
        break;
      case "clock":
        rt.gc.advanceClock(rt.clock + o.dt);
        break;
    }
    checkInvariants(rt);
  }
}

describe("random operation sequences keep every invariant", () => {
  for (const arch of ["amd64", "386", "arm64", "arm"] as const) {
    it(`on ${arch}`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 1, maxLength: 400, size: "max" }), fc.constantFrom(100, 100, 0, 50, -1), (ops, gogc) =>
          run(arch, ops, gogc),
        ),
        { numRuns: 60, seed: 20261125 },
      );
    });
  }
});
