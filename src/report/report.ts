// The report: one plain object built from a replay's outcome, in the shape of the JSON report
// (docs/reports.md, docs/report.schema.json).
// Every writer (table, json, html, ...) renders this object; none of them looks at the
// runtime, only at the snapshot the replay took of it when it ended (runtime/snapshot.ts).
// The one exception is the arena map (buildArenaMap), computed from the snapshot's spans
// only for the HTML report, because it is too big to belong in every JSON report.
//
// Fragmentation measures and their one-line definitions (FRAGMENTATION_DEFINITIONS, printed
// by `goalloc replay --help`, listed in docs/reports.md and copied into the JSON):
//   internal  rounding of each live object: size classes, large-object pages, tiny slack;
//   span      free room inside in-use spans (HeapInuse − HeapAlloc), per size class;
//   external  free spans: their lengths, the largest run, idle vs released, arena holes;
//   Johnstone–Wilson #1–#4: allocator memory (HeapInuse) over live memory, four ways.

import {
  class_to_allocnpages,
  class_to_nobj,
  class_to_size,
  GCForce,
  NumSizeClasses,
  PageSize,
  runtimeStackName,
  TinySize,
  type GCRecord,
  type HeapSnapshot,
  type MemStats,
} from "../runtime/index.js";
import type { Fidelity, MemProfilePoint, PeakName, PeakPoint, ReplayError, ReplayOutcome, TraceCounts } from "../replay/replay.js";
import { VERSION } from "../version.js";
import { scaleHeapSample } from "./pprof.js";
import { DEFAULT_SITE_DEPTH, siteFrameIndex } from "./sites.js";
import { peakSiteGrouper } from "./peak-sites.js";
import type { Timeline } from "../replay/timeline.js";

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

/** A profile's figures for one bucket or site: objects and bytes in use and ever allocated. */
export interface ProfileFigures {
  inuseObjects: number;
  inuseBytes: number;
  allocObjects: number;
  allocBytes: number;
}

/**
 * One bucket of the memory profile (runtime.MemProfile): a stack and an object size, with the
 * sampled figures as the runtime recorded them and, in `estimated`, those figures scaled as
 * go tool pprof scales a heap profile of this runtime (pprof.ts, scaleHeapSample).
 */
export interface ProfileSite extends ProfileFigures {
  /** Function names, innermost first. */
  stack: string[];
  /** The `file:line` of each frame of `stack` ("" when the trace gives none: native traces). */
  locations: string[];
  /** Index in `stack` of the frame that names the site: the first outside the allocator (sites.ts). */
  siteFrame: number;
  /** The bucket's object size: a stack has one bucket per size it allocated. */
  size: number;
  estimated: ProfileFigures;
}

/** One size class at the end of the replay (JSON `fragmentation.span.byClass[i]`). */
export interface SpanClassUsage {
  class: number;
  size: number;
  spans: number;
  objects: number;
  capacity: number;
  utilisation: number;
  partialSpans: number;
  freeSlotBytes: number;
  tailWasteBytes: number;
}

export interface Fragmentation {
  internal: {
    requestedSizesKnown: boolean;
    requestedBytes: number | null;
    allocatedBytes: number;
    wasteBytes: number | null;
    sizeClassWasteBytes: number | null;
    pageWasteBytes: number | null;
    tinySlackBytes: number;
  };
  span: {
    heapInuseMinusHeapAlloc: number;
    freeSlotBytes: number;
    tailWasteBytes: number;
    byClass: SpanClassUsage[];
  };
  external: {
    freeSpansByPages: Record<string, number>;
    largestFreeRunPages: number;
    freeOutsideLargestRun: number | null;
    idleBytes: number;
    releasedBytes: number;
    arenaHolePages: number;
  };
  johnstoneWilson: {
    allocatorMeasure: "HeapInuse";
    liveMeasure: "requested bytes" | "logged bytes";
    jw1: number | null;
    jw2: number | null;
    jw3: number | null;
    jw4: number | null;
  };
  /** One line per measure, keyed by its JSON path under `fragmentation`. */
  definitions: Record<string, string>;
}

/**
 * The one-line definition of each fragmentation measure. `goalloc replay --help` prints
 * these, docs/reports.md lists them (a test keeps the two in step), and the JSON carries them.
 */
export const FRAGMENTATION_DEFINITIONS: Readonly<Record<string, string>> = {
  "internal.requestedSizesKnown": "false for Go logs: they print rounded sizes, so the bytes programs asked for are unknown",
  "internal.requestedBytes": "bytes the objects the trace still references asked for (null when requested sizes are unknown)",
  "internal.allocatedBytes": "bytes those objects occupy: the size class's object size, whole pages for large objects, 16 per live tiny block",
  "internal.wasteBytes": "sizeClassWasteBytes + pageWasteBytes: rounding of the objects that are not tiny (null when requested sizes are unknown)",
  "internal.sizeClassWasteBytes": "small objects: size-class object size minus requested size, summed",
  "internal.pageWasteBytes": "large (and efence) objects: whole pages minus requested size, summed",
  "internal.tinySlackBytes": "live 16-byte tiny blocks minus the requested bytes of the tiny objects in them (0 when requested sizes are unknown)",
  "span.heapInuseMinusHeapAlloc": "HeapInuse − HeapAlloc: bytes of in-use spans holding no allocated object; = freeSlotBytes + tailWasteBytes",
  "span.freeSlotBytes": "free object slots of in-use small-object spans, in bytes",
  "span.tailWasteBytes": "the end of each in-use small-object span too short for one more object",
  "span.byClass": "per size class: in-use spans, allocated objects (live or awaiting a sweep), capacity, objects/capacity, spans neither empty nor full",
  "external.freeSpansByPages": "free spans (idle or released) counted by length in 8 KiB pages",
  "external.largestFreeRunPages": "the longest free span: the largest allocation the heap can serve without growing",
  "external.freeOutsideLargestRun": "share of free pages outside the longest free span (0: one run holds all free memory; null: none free)",
  "external.idleBytes": "HeapIdle: bytes of free spans, released ones included",
  "external.releasedBytes": "HeapReleased: the part of idleBytes returned to the OS by the scavenger",
  "external.arenaHolePages": "pages between arena_start and arena_used that belong to no span (the arena grew with a gap)",
  "johnstoneWilson.allocatorMeasure": "the allocator's memory in the four ratios: HeapInuse, bytes of in-use spans",
  "johnstoneWilson.liveMeasure":
    "the live memory: bytes of the objects the trace still references (Go logs: logged sizes, already rounded); garbage awaiting a sweep is not live",
  "johnstoneWilson.jw1": "#1: time-averaged allocator memory over time-averaged live memory, minus 1 (averages over all events)",
  "johnstoneWilson.jw2": "#2: allocator memory at the event of peak live memory, over that peak, minus 1",
  "johnstoneWilson.jw3": "#3: peak allocator memory over the live memory at that event, minus 1",
  "johnstoneWilson.jw4": "#4: peak allocator memory over peak live memory, minus 1 (the two peaks may be at different events)",
};

/**
 * One allocation site live at a peak (JSON `peakSites.NAME.sites[i]`): the stacks whose frames
 * from the first outside the allocator on agree over the report's site depth (sites.ts), summed.
 */
export interface PeakSite {
  /**
   * The whole stack of the site's stack holding the most live bytes: function names, innermost
   * first, their `file:line` ("" when unknown) and the site's frame, as in ProfileSite.
   */
  stack: string[];
  locations: string[];
  siteFrame: number;
  liveBytes: number;
  liveObjects: number;
  /** Stacks merged into the site. */
  stacks: number;
}

/** What the trace referenced at one peak's event (JSON `peakSites.NAME`). */
export interface PeakLive {
  /** Totals over every site: requested bytes (logged bytes for Go logs) and objects. */
  liveBytes: number;
  liveObjects: number;
  /** Frames per site past the allocator's (`--depth`): how `sites` are grouped. */
  siteDepth: number;
  /** The sites holding the most live bytes, most first: PEAK_SITES, or `--top` if more. */
  sites: PeakSite[];
}

/** Sites kept per peak in the report, at least. */
export const PEAK_SITES = 10;

/** How a report groups the allocation sites live at its peaks. */
export interface ReportOptions {
  /** Frames per site past the allocator's (default DEFAULT_SITE_DEPTH). */
  siteDepth?: number;
  /** Sites kept per peak when more than PEAK_SITES. */
  topSites?: number;
}

/**
 * One collection as GODEBUG=gctrace=1 shows it (JSON `gcs[i]`). Figures MemStats has keep
 * MemStats' names, as `memstats` and `timeline` do; the gctrace-only ones keep the names of
 * the variables Go 1.3's gc() (mgc0.c) prints. docs/reports.md lists them.
 */
export interface Collection {
  /** MemStats.NumGC after this collection: the `gc#` of its gctrace line. */
  NumGC: number;
  /** runtime_gc(force ≥ 1): collected whatever HeapAlloc was, not by the pacer's trigger. */
  forced: boolean;
  /** runtime_gc(2) (runtime.GC, debug.FreeOSMemory): gc_args.eagersweep, every span swept before returning. */
  eager: boolean;
  /** The emulated clock (ns) at the collection. */
  time: number;
  /** mgc0.c's heap0 as gctrace prints it (heap0>>20): NextGC before the collection × 100 / (GOGC + 100), in MiB. */
  heap0MB: number;
  /** Bytes allocated at the collection, garbage included (gctrace prints it >>20 as heap1). */
  HeapAlloc: number;
  NextGC: number;
  /** Mallocs − Frees (gctrace's `obj`). */
  HeapObjects: number;
  Mallocs: number;
  Frees: number;
  /** sweep.nspan: spans in the previous sweep snapshot. */
  nspan: number;
  /** gcstats.nbgsweep, gcstats.npausesweep: spans swept in the background / inside pauses since the last collection. */
  nbgsweep: number;
  npausesweep: number;
}

/** A runtime GCRecord under the report's names. */
function collection(g: GCRecord): Collection {
  return {
    NumGC: g.numgc,
    forced: g.forced !== GCForce.IfDue,
    eager: g.forced === GCForce.Eager,
    time: g.time,
    heap0MB: g.heap0,
    HeapAlloc: g.heapAlloc,
    NextGC: g.nextGC,
    HeapObjects: g.objects,
    Mallocs: g.mallocs,
    Frees: g.frees,
    nspan: g.nspan,
    nbgsweep: g.nbgsweep,
    npausesweep: g.npausesweep,
  };
}

/**
 * The format of the JSON report (`reportVersion`): it goes up when a key is renamed or removed
 * or its meaning changes; a key added leaves it.
 */
export const REPORT_VERSION = 1;

export interface Report {
  goalloc: string;
  /** REPORT_VERSION: the format of this report, as `goalloc` is the program's version. */
  reportVersion: number;
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
    bgsweep: string;
    format: string;
    until: string | null;
  };
  /** `gcRecords`: the trace's `g` events or a Go log's collection lines (TraceCounts.gcs); `gcs` is the collections. */
  trace: Omit<TraceCounts, "gcs"> & {
    gcRecords: number;
    file: string;
    format: string;
    /** A Go log's runtime: go1.3 (malloc.goc, the allocator emulated) or modern (Go 1.4+); null: native or unknown. */
    runtime: string | null;
    stoppedAt: { line: number; text: string } | null;
  };
  arena: { spansStart: string; bitmapStart: string; arenaStart: string; arenaUsed: string; arenaEnd: string };
  memstats: MemStats;
  peak: Record<PeakName, PeakPoint>;
  /** The allocation sites the trace referenced at each peak's event. */
  peakSites: Record<PeakName, PeakLive>;
  timeline: Timeline;
  fragmentation: Fragmentation;
  sizeClasses: ClassUsage[];
  /**
   * The memory profile at `at` (--memprofile-at): gc, as of the last collection; end, the end of
   * the replay; peak, the HeapAlloc peak's event. `samples`: allocations sampled over the whole replay.
   */
  profile: { rate: number; samples: number; at: MemProfilePoint; sites: ProfileSite[] };
  /** Who decided when the runtime collects, and why (the report's first line says it). */
  schedule: { collections: "log" | "pacer"; why: string; archFromLog: boolean };
  fidelity: {
    allocs: number;
    addressMatches: number;
    firstDivergence: { line: number; expected: string; got: string } | null;
    /** null: the emulated addresses can equal the logged ones; else why they cannot. */
    notComparable: string | null;
  } | null;
  gcs: Collection[];
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

/** A stack's function names and locations, innermost first; the runtime's name for its own callers. */
function stackOf(o: ReplayOutcome, stack: number): { stack: string[]; locations: string[]; siteFrame: number } {
  if (stack < 0) return { stack: [runtimeStackName(stack) ?? "?"], locations: [""], siteFrame: 0 };
  const frames = o.stacks.frames(stack);
  const names = frames.map((f) => f.func);
  return { stack: names, locations: frames.map((f) => f.location), siteFrame: siteFrameIndex(names) };
}

/** internal: what the objects the trace still references asked for and occupy. */
function internalFragmentation(o: ReplayOutcome): Fragmentation["internal"] {
  const f = o.liveFootprint;
  const known = o.requestedSizesKnown;
  const classWaste = f.sizeClassWasteBytes;
  const pageWaste = f.pageWasteBytes;
  return {
    requestedSizesKnown: known,
    requestedBytes: known ? f.requestedBytes : null,
    allocatedBytes: f.blockBytes + f.tinyBlocks * TinySize,
    wasteBytes: known ? classWaste + pageWaste : null,
    sizeClassWasteBytes: known ? classWaste : null,
    pageWasteBytes: known ? pageWaste : null,
    tinySlackBytes: known ? f.tinyBlocks * TinySize - f.tinyRequestedBytes : 0,
  };
}

/** One span, or a run of neighbouring spans merged to keep the map bounded. */
export interface ArenaMapEntry {
  /** First page, counted from arena_start. */
  page: number;
  pages: number;
  /** large = an in-use span of one large object; idle and released are free spans. */
  state: "small" | "large" | "idle" | "released";
  /** Size class of a small span (0 otherwise). */
  class: number;
  /** Small spans: allocated objects over capacity (0 for the others). */
  utilisation: number;
  /** Spans merged into this entry (1 unless the heap had more spans than the map allows). */
  spans: number;
}

/** The arena as spans at the end of the replay (HTML report). */
export interface ArenaMap {
  arenaStart: string;
  /** Pages from arena_start to arena_used (or to the end of the last span past it). */
  pages: number;
  /** In-use and free spans in the heap. */
  spanCount: number;
  entries: ArenaMapEntry[];
}

/** Entries of an arena map at most, by default: an SVG with more rectangles gets slow. */
export const ARENA_MAP_ENTRIES = 20000;

/**
 * The arena map: every in-use and free span in address order. Beyond `maxEntries` spans,
 * runs of neighbouring spans are merged into one entry each, which takes the state and class
 * of the member covering the most pages and the page-weighted utilisation of its members.
 */
export function buildArenaMap(heap: HeapSnapshot, maxEntries = ARENA_MAP_ENTRIES): ArenaMap {
  const spans = heap.spans;
  const base = heap.arenaStart / PageSize;
  const group = Math.max(1, Math.ceil(spans.length / maxEntries));
  const entries: ArenaMapEntry[] = [];
  let end = (heap.arenaUsed - heap.arenaStart) / PageSize;
  for (let g = 0; g < spans.length; g += group) {
    const members = spans.slice(g, g + group);
    let best = members[0]!;
    let usedWeighted = 0;
    let smallPages = 0;
    for (const s of members) {
      if (s.npages > best.npages) best = s;
      if (s.inUse && s.sizeclass !== 0) {
        usedWeighted += s.npages * (s.allocCount / class_to_nobj[s.sizeclass]!);
        smallPages += s.npages;
      }
    }
    const last = members[members.length - 1]!;
    const page = members[0]!.start - base;
    const stop = last.start + last.npages - base;
    if (stop > end) end = stop;
    const cl = best.inUse ? best.sizeclass : 0;
    entries.push({
      page,
      pages: stop - page,
      state: best.inUse ? (cl === 0 ? "large" : "small") : best.npreleased > 0 ? "released" : "idle",
      class: cl,
      utilisation: smallPages === 0 ? 0 : usedWeighted / smallPages,
      spans: members.length,
    });
  }
  return { arenaStart: hexAddr(heap.arenaStart), pages: end, spanCount: spans.length, entries };
}

/** Build the report from a replay's outcome and its snapshot of the runtime. */
export function buildReport(o: ReplayOutcome, options: ReportOptions = {}): Report {
  const snap = o.snapshot;
  const memstats = snap.memstats;

  // In-use spans per class and the objects allocated in them; free spans by length.
  const spans = new Float64Array(NumSizeClasses);
  const objects = new Float64Array(NumSizeClasses);
  const partial = new Float64Array(NumSizeClasses);
  const freeByPages = new Map<number, number>();
  let largestFree = 0;
  let freePages = 0;
  let coveredPages = 0;
  const arenaPages = (snap.heap.arenaUsed - snap.heap.arenaStart) / PageSize;
  const base = snap.heap.arenaStart / PageSize;
  for (const s of snap.heap.spans) {
    const first = Math.max(s.start - base, 0);
    const last = Math.min(s.start - base + s.npages, arenaPages);
    if (last > first) coveredPages += last - first;
    if (!s.inUse) {
      const n = s.npages;
      freeByPages.set(n, (freeByPages.get(n) ?? 0) + 1);
      freePages += n;
      if (n > largestFree) largestFree = n;
      continue;
    }
    const cl = s.sizeclass;
    spans[cl] = spans[cl]! + 1;
    const n = s.allocCount;
    objects[cl] = objects[cl]! + n;
    if (cl !== 0 && n > 0 && n < class_to_nobj[cl]!) partial[cl] = partial[cl]! + 1;
  }

  const sizeClasses: ClassUsage[] = [];
  const byClass: SpanClassUsage[] = [];
  let freeSlotBytes = 0;
  let tailWasteBytes = 0;
  for (let cl = 1; cl < NumSizeClasses; cl++) {
    const mallocs = snap.bySizeMallocs[cl]!;
    if (mallocs === 0 && spans[cl] === 0) continue;
    const size = class_to_size[cl]!;
    const capacity = spans[cl]! * class_to_nobj[cl]!;
    const utilisation = capacity === 0 ? 0 : objects[cl]! / capacity;
    sizeClasses.push({
      class: cl,
      size,
      pages: class_to_allocnpages[cl]!,
      objectsPerSpan: class_to_nobj[cl]!,
      spans: spans[cl]!,
      objects: objects[cl]!,
      capacity,
      utilisation,
      bytes: spans[cl]! * class_to_allocnpages[cl]! * PageSize,
      mallocs,
      frees: snap.bySizeFrees[cl]!,
    });
    if (spans[cl]! > 0) {
      const free = (capacity - objects[cl]!) * size;
      const tail = spans[cl]! * (class_to_allocnpages[cl]! * PageSize - class_to_nobj[cl]! * size);
      freeSlotBytes += free;
      tailWasteBytes += tail;
      byClass.push({
        class: cl,
        size,
        spans: spans[cl]!,
        objects: objects[cl]!,
        capacity,
        utilisation,
        partialSpans: partial[cl]!,
        freeSlotBytes: free,
        tailWasteBytes: tail,
      });
    }
  }

  const jw = o.jw;
  const ratio = (a: number, b: number): number | null => (b > 0 ? a / b - 1 : null);
  const freeSpansByPages: Record<string, number> = {};
  for (const n of [...freeByPages.keys()].sort((a, b) => a - b)) freeSpansByPages[String(n)] = freeByPages.get(n)!;
  const fragmentation: Fragmentation = {
    internal: internalFragmentation(o),
    span: { heapInuseMinusHeapAlloc: memstats.HeapInuse - memstats.HeapAlloc, freeSlotBytes, tailWasteBytes, byClass },
    external: {
      freeSpansByPages,
      largestFreeRunPages: largestFree,
      freeOutsideLargestRun: freePages === 0 ? null : 1 - largestFree / freePages,
      idleBytes: memstats.HeapIdle,
      releasedBytes: memstats.HeapReleased,
      arenaHolePages: arenaPages - coveredPages,
    },
    johnstoneWilson: {
      allocatorMeasure: "HeapInuse",
      liveMeasure: o.requestedSizesKnown ? "requested bytes" : "logged bytes",
      jw1: ratio(jw.allocatorSum, jw.liveSum),
      jw2: ratio(jw.allocatorAtMaxLive, jw.maxLive),
      jw3: ratio(jw.maxAllocator, jw.liveAtMaxAllocator),
      jw4: ratio(jw.maxAllocator, jw.maxLive),
    },
    definitions: { ...FRAGMENTATION_DEFINITIONS },
  };

  const rate = snap.profile.rate;
  const sites: ProfileSite[] = snap.profile.records
    .map((r) => {
      const [eio, eib] = scaleHeapSample(r.allocObjects - r.freeObjects, r.allocBytes - r.freeBytes, rate);
      const [eao, eab] = scaleHeapSample(r.allocObjects, r.allocBytes, rate);
      return {
        ...stackOf(o, r.stack),
        size: r.size,
        inuseObjects: r.allocObjects - r.freeObjects,
        inuseBytes: r.allocBytes - r.freeBytes,
        allocObjects: r.allocObjects,
        allocBytes: r.allocBytes,
        estimated: { inuseObjects: eio, inuseBytes: eib, allocObjects: eao, allocBytes: eab },
      };
    })
    .sort((a, b) => b.inuseBytes - a.inuseBytes || b.allocBytes - a.allocBytes);

  // Every live stack counts towards its site, so a site's figures are exact whatever the
  // number kept; a site's stack is that of its member with the most live bytes.
  const siteDepth = options.siteDepth ?? DEFAULT_SITE_DEPTH;
  const keep = Math.max(PEAK_SITES, options.topSites ?? 0);
  const peakSiteOf = peakSiteGrouper(o.stacks, siteDepth);
  const peakLive = (name: PeakName): PeakLive => {
    const { totals, sites } = peakSiteOf(o.liveAtPeaks[name], keep);
    return {
      liveBytes: totals.liveBytes,
      liveObjects: totals.liveObjects,
      siteDepth,
      sites: sites.map((site) => ({ ...stackOf(o, site.stack), liveBytes: site.liveBytes, liveObjects: site.liveObjects, stacks: site.stacks })),
    };
  };
  const peakSites: Record<PeakName, PeakLive> = {
    HeapAlloc: peakLive("HeapAlloc"),
    HeapInuse: peakLive("HeapInuse"),
    HeapSys: peakLive("HeapSys"),
    Sys: peakLive("Sys"),
    HeapObjects: peakLive("HeapObjects"),
  };

  const f: Fidelity | null = o.fidelity;
  const opts = o.options;
  return {
    goalloc: VERSION,
    reportVersion: REPORT_VERSION,
    partial: o.error !== null || o.interrupted,
    error: o.error,
    options: {
      arch: opts.arch,
      gogc: opts.gogc < 0 ? "off" : opts.gogc,
      memprofilerate: opts.memprofilerate,
      efence: opts.efence,
      seed: opts.seed,
      dataEnd: snap.arch.ptrSize === 4 ? hexAddr(o.startUp?.dataEnd ?? opts.dataEnd ?? snap.arch.defaultDataEnd) : null,
      gc: opts.gc,
      bgsweep: opts.bgsweep,
      format: opts.format,
      until: opts.until,
    },
    trace: {
      file: o.file,
      format: o.format,
      runtime: o.logProfile?.generation ?? null,
      lines: o.counts.lines,
      events: o.counts.events,
      allocs: o.counts.allocs,
      frees: o.counts.frees,
      deaths: o.counts.deaths,
      gcRecords: o.counts.gcs,
      skippedLines: o.counts.skippedLines,
      unknownFrees: o.counts.unknownFrees,
      untracedReuse: o.counts.untracedReuse,
      stoppedAt: o.stoppedAt,
    },
    schedule: { collections: o.schedule.gc, why: o.schedule.why, archFromLog: o.schedule.archFromLog },
    arena: {
      spansStart: hexAddr(snap.arena.spans),
      bitmapStart: hexAddr(snap.arena.bitmap),
      arenaStart: hexAddr(snap.arena.arenaStart),
      arenaUsed: hexAddr(snap.arena.arenaUsed),
      arenaEnd: hexAddr(snap.arena.arenaEnd),
    },
    memstats,
    peak: o.peaks,
    peakSites,
    timeline: o.timeline,
    fragmentation,
    sizeClasses,
    profile: { rate: snap.profile.rate, samples: snap.profile.samples, at: o.memprofileAt, sites },
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
            notComparable: o.schedule.notComparableWhy,
          },
    gcs: snap.gcs.map(collection),
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
