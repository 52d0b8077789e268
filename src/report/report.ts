// The report: one plain object built from a replay's outcome, in the shape of cli.md's JSON.
// Every writer (table, json, ...) renders this object; none of them looks at the runtime.

import {
  class_to_allocnpages,
  class_to_nobj,
  class_to_size,
  MSpanState,
  NumSizeClasses,
  ObjFlag,
  runtimeStackName,
  type GCRecord,
  type MemStats,
} from "../runtime/index.js";
import type { Fidelity, PeakName, PeakPoint, ReplayError, ReplayOutcome } from "../replay/replay.js";
import { VERSION } from "../version.js";

const PageSize = 8192;

export interface ClassUsage {
  class: number;
  size: number;
  pages: number;
  objectsPerSpan: number;
  /** In-use spans of the class now, objects allocated in them, their capacity and bytes. */
  spans: number;
  objects: number;
  capacity: number;
  utilisation: number;
  bytes: number;
  /** Over the whole replay (MemStats.BySize semantics, all 67 classes). */
  mallocs: number;
  frees: number;
}

export interface ProfileSite {
  stack: string[];
  inuseObjects: number;
  inuseBytes: number;
  allocObjects: number;
  allocBytes: number;
}

export interface Fragmentation {
  internal: {
    requestedBytes: number | null;
    allocatedBytes: number;
    wasteBytes: number | null;
    tinySlackBytes: number;
  };
  span: {
    heapInuseMinusHeapAlloc: number;
    byClass: { class: number; size: number; spans: number; objects: number; capacity: number; utilisation: number }[];
  };
  external: {
    freeSpansByPages: Record<string, number>;
    largestFreeRunPages: number;
    idleBytes: number;
    releasedBytes: number;
  };
  johnstoneWilson: {
    allocatorMeasure: "HeapInuse";
    jw1: number | null;
    jw2: number | null;
    jw3: number | null;
    jw4: number | null;
  };
}

export interface Report {
  goalloc: string;
  partial: boolean;
  error: ReplayError | null;
  options: {
    arch: string;
    gogc: number | "off";
    memprofilerate: number;
    efence: boolean;
    seed: number;
    dataEnd: string | null;
    gc: string;
    format: string;
    until: string | null;
  };
  trace: {
    file: string;
    format: string;
    lines: number;
    events: number;
    allocs: number;
    frees: number;
    deaths: number;
    gcs: number;
    skippedLines: number;
    unknownFrees: number;
    untracedReuse: number;
    stoppedAt: { line: number; text: string } | null;
  };
  arena: { spansStart: string; bitmapStart: string; arenaStart: string; arenaUsed: string; arenaEnd: string };
  memstats: MemStats;
  peak: Record<PeakName, PeakPoint>;
  fragmentation: Fragmentation;
  sizeClasses: ClassUsage[];
  profile: { rate: number; samples: number; sites: ProfileSite[] };
  fidelity: { allocs: number; addressMatches: number; firstDivergence: { line: number; expected: string; got: string } | null } | null;
  gcs: GCRecord[];
  /** The untraced start-up allocations replayed before the first event. */
  startUp: { prologue: string; argc: number; envc: number; dataEnd: string | null; inferred: string[] } | null;
  /** MemStats fields a replay of this input cannot reproduce, and why. */
  memstatsNotReproduced: { field: string; why: string }[];
}

/**
 * What a Go 1.3 log cannot show. The heap fields (HeapSys, HeapAlloc, HeapInuse, HeapIdle,
 * HeapObjects, Mallocs, Frees, NumGC, NextGC, BySize, ...) follow from the logged events.
 */
const LOG_BLIND_FIELDS: { field: string; why: string }[] = [
  { field: "StackInuse", why: "gc Go has its own stack allocator; gccgo (emulated) has none, so it is 0 here" },
  { field: "StackSys", why: "gc Go's stack allocator maps its own memory; gccgo's runtime charges none" },
  { field: "Lookups", why: "pointer lookups (mlookup) leave no trace in the log" },
  { field: "BuckHashSys", why: "profile buckets cost persistentalloc bytes per frame of the real call stacks, and gc Go's bucket layout differs from gccgo's" },
  { field: "OtherSys", why: "holds runtime structures the log does not show (stack-allocator metadata, profile specials, netpoll)" },
  { field: "Sys", why: "the sum of the *Sys fields, so it inherits StackSys, BuckHashSys and OtherSys" },
  { field: "LastGC, PauseNs, PauseTotalNs", why: "wall-clock times; the emulation's clock is the trace's" },
];

export function hexAddr(n: number): string {
  return "0x" + n.toString(16);
}

/** Build the report. Reads MemStats the way runtime.ReadMemStats does (flushing caches). */
export function buildReport(o: ReplayOutcome): Report {
  const rt = o.runtime;
  const memstats = rt.readMemStats();
  const heap = rt.mheap;
  const sp = heap.spans;

  const spans = new Float64Array(NumSizeClasses);
  const objects = new Float64Array(NumSizeClasses);
  let liveBytes = 0;
  let tinyBlocks = 0;
  const freeByPages = new Map<number, number>();
  let largestFree = 0;
  for (let i = 0; i < heap.nspan; i++) {
    const s = heap.spanId(i);
    if (sp.state[s] === MSpanState.Free) {
      const n = sp.npages[s]!;
      freeByPages.set(n, (freeByPages.get(n) ?? 0) + 1);
      if (n > largestFree) largestFree = n;
      continue;
    }
    if (sp.state[s] !== MSpanState.InUse) continue;
    const cl = sp.sizeclass[s]!;
    spans[cl] = spans[cl]! + 1;
    const flags = sp.objFlags[s]!;
    const pins = sp.objPins[s]!;
    for (let k = 0; k < sp.nelems[s]!; k++) {
      const f = flags[k]!;
      if ((f & ObjFlag.Allocated) === 0) continue;
      objects[cl] = objects[cl]! + 1;
      // Live from the trace's view: referenced, or never collectable.
      if (pins[k]! > 0 || (f & ObjFlag.NoGC) !== 0) {
        liveBytes += sp.elemsize[s]!;
        if (f & ObjFlag.TinyBlock) tinyBlocks++;
      }
    }
  }

  const sizeClasses: ClassUsage[] = [];
  const byClass: Fragmentation["span"]["byClass"] = [];
  for (let cl = 1; cl < NumSizeClasses; cl++) {
    const mallocs = rt.mstats.by_size_nmalloc[cl]!;
    if (mallocs === 0 && spans[cl] === 0) continue;
    const capacity = spans[cl]! * class_to_nobj[cl]!;
    const utilisation = capacity === 0 ? 0 : objects[cl]! / capacity;
    sizeClasses.push({
      class: cl,
      size: class_to_size[cl]!,
      pages: class_to_allocnpages[cl]!,
      objectsPerSpan: class_to_nobj[cl]!,
      spans: spans[cl]!,
      objects: objects[cl]!,
      capacity,
      utilisation,
      bytes: spans[cl]! * class_to_allocnpages[cl]! * PageSize,
      mallocs,
      frees: rt.mstats.by_size_nfree[cl]!,
    });
    if (spans[cl]! > 0) {
      byClass.push({ class: cl, size: class_to_size[cl]!, spans: spans[cl]!, objects: objects[cl]!, capacity, utilisation });
    }
  }

  const jw = o.jw;
  const ratio = (a: number, b: number): number | null => (b > 0 ? a / b - 1 : null);
  const freeSpansByPages: Record<string, number> = {};
  for (const n of [...freeByPages.keys()].sort((a, b) => a - b)) freeSpansByPages[String(n)] = freeByPages.get(n)!;
  const requested = o.requestedSizesKnown ? o.liveRequestedBytes : null;
  const fragmentation: Fragmentation = {
    internal: {
      requestedBytes: requested,
      allocatedBytes: liveBytes,
      wasteBytes: requested === null ? null : liveBytes - requested,
      tinySlackBytes: o.requestedSizesKnown ? tinyBlocks * 16 - o.liveTinyRequestedBytes : 0,
    },
    span: { heapInuseMinusHeapAlloc: memstats.HeapInuse - memstats.HeapAlloc, byClass },
    external: {
      freeSpansByPages,
      largestFreeRunPages: largestFree,
      idleBytes: memstats.HeapIdle,
      releasedBytes: memstats.HeapReleased,
    },
    johnstoneWilson: {
      allocatorMeasure: "HeapInuse",
      jw1: jw.ratioEvents > 0 ? jw.ratioSum / jw.ratioEvents - 1 : null,
      jw2: ratio(jw.allocatorAtMaxLive, jw.maxLive),
      jw3: ratio(jw.maxAllocator, jw.liveAtMaxAllocator),
      jw4: ratio(jw.maxAllocator, jw.maxLive),
    },
  };

  const sites: ProfileSite[] = rt.prof
    .memProfile()
    .map((r) => ({
      stack: r.stack < 0 ? [runtimeStackName(r.stack) ?? "?"] : o.stacks.frames(r.stack).map((f) => f.func),
      inuseObjects: r.allocObjects - r.freeObjects,
      inuseBytes: r.allocBytes - r.freeBytes,
      allocObjects: r.allocObjects,
      allocBytes: r.allocBytes,
    }))
    .sort((a, b) => b.inuseBytes - a.inuseBytes || b.allocBytes - a.allocBytes);

  const f: Fidelity | null = o.fidelity;
  const opts = o.options;
  return {
    goalloc: VERSION,
    partial: o.error !== null,
    error: o.error,
    options: {
      arch: opts.arch,
      gogc: opts.gogc < 0 ? "off" : opts.gogc,
      memprofilerate: opts.memprofilerate,
      efence: opts.efence,
      seed: opts.seed,
      dataEnd: rt.arch.ptrSize === 4 ? hexAddr(o.startUp?.dataEnd ?? opts.dataEnd ?? rt.arch.defaultDataEnd) : null,
      gc: opts.gc,
      format: opts.format,
      until: opts.until,
    },
    trace: {
      file: o.file,
      format: o.format,
      lines: o.counts.lines,
      events: o.counts.events,
      allocs: o.counts.allocs,
      frees: o.counts.frees,
      deaths: o.counts.deaths,
      gcs: o.counts.gcs,
      skippedLines: o.counts.skippedLines,
      unknownFrees: o.counts.unknownFrees,
      untracedReuse: o.counts.untracedReuse,
      stoppedAt: o.stoppedAt,
    },
    arena: {
      spansStart: hexAddr(rt.arena.spans),
      bitmapStart: hexAddr(rt.arena.bitmap),
      arenaStart: hexAddr(rt.arena.arena_start),
      arenaUsed: hexAddr(rt.arena.arena_used),
      arenaEnd: hexAddr(rt.arena.arena_end),
    },
    memstats,
    peak: o.peaks,
    fragmentation,
    sizeClasses,
    profile: { rate: rt.prof.rate, samples: rt.prof.samples, sites },
    fidelity:
      f === null
        ? null
        : {
            allocs: f.allocs,
            addressMatches: f.addressMatches,
            firstDivergence:
              f.firstDivergence === null
                ? null
                : { line: f.firstDivergence.line, expected: hexAddr(f.firstDivergence.expected), got: hexAddr(f.firstDivergence.got) },
          },
    gcs: rt.gc.records,
    startUp:
      o.startUp === null || o.startUp.kind === "none"
        ? null
        : {
            prologue: o.startUp.kind,
            argc: o.startUp.argc,
            envc: o.startUp.envc,
            dataEnd: o.startUp.dataEnd === null ? null : hexAddr(o.startUp.dataEnd),
            inferred: o.startUp.inferred,
          },
    memstatsNotReproduced: o.format === "golog" ? LOG_BLIND_FIELDS : [],
  };
}
