// Read-only snapshots of the runtime: what reports read, as plain data.
//
// See malloc.ts for the overview. A snapshot is taken once, when a replay ends (replay.ts):
// runtime.ReadMemStats first (mgc0.c updatememstats: it flushes every mcache, as the real call
// does), then the heap's spans in address order, the memory profile (mprof.goc MemProfile) and
// the collections gctrace would print. Nothing in it refers back to the runtime, so a report
// built from it cannot change the emulated process.

import type { Arch } from "./arena.js";
import type { Runtime } from "./malloc.js";
import type { GCRecord } from "./mgc.js";
import { MSpanState, ObjFlag } from "./mheap.js";
import type { MemProfileRecord } from "./mprof.js";
import { PageSize, TinySize } from "./msize.js";
import type { MemStats } from "./mstats.js";

/** One in-use or free span. */
export interface SpanSnapshot {
  /** First page: the span's address / PageSize. */
  readonly start: number;
  readonly npages: number;
  /** In use (objects are carved from it) or free (idle or released). */
  readonly inUse: boolean;
  /** Size class of an in-use span (0: one large object; 0 for free spans too). */
  readonly sizeclass: number;
  /** In-use spans: objects allocated in it, live or awaiting a sweep (their Allocated bit). */
  readonly allocCount: number;
  /** Free spans: pages the scavenger returned to the OS (MSpan npreleased). */
  readonly npreleased: number;
}

/** The page heap: its arena bounds and every in-use and free span. */
export interface HeapSnapshot {
  readonly arenaStart: number;
  readonly arenaUsed: number;
  /** In-use and free spans in address order. */
  readonly spans: readonly SpanSnapshot[];
}

/** The runtime at the end of a replay. */
export interface RuntimeSnapshot {
  /** runtime.ReadMemStats. */
  readonly memstats: MemStats;
  /** Mallocs and frees per size class, all NumSizeClasses (MemStats.BySize shows the first VisibleSizeClasses). */
  readonly bySizeMallocs: readonly number[];
  readonly bySizeFrees: readonly number[];
  readonly arch: Arch;
  /** mallocinit's reservation: the spans map, the GC bitmap, the arena and how much of it is used. */
  readonly arena: { readonly spans: number; readonly bitmap: number; readonly arenaStart: number; readonly arenaUsed: number; readonly arenaEnd: number };
  readonly heap: HeapSnapshot;
  /** The memory profile's records (runtime.MemProfile's unless asked otherwise), newest bucket first; the rate and samples taken. */
  readonly profile: { readonly rate: number; readonly samples: number; readonly records: readonly MemProfileRecord[] };
  /** The collections and scavenger lines gctrace would print, first and last GC_RECORDS_KEPT of each. */
  readonly gcs: readonly GCRecord[];
  readonly scavengerLog: readonly { readonly afterGC: number; readonly text: string }[];
}

/**
 * Take the snapshot. ReadMemStats flushes the mcaches, which changes the addresses later
 * allocations get: take it when the runtime has nothing more to do. `profile` gives the
 * memory profile's records (by default runtime.MemProfile's, as of the last collection).
 */
export function takeSnapshot(rt: Runtime, profile: (rt: Runtime) => MemProfileRecord[] = (r) => r.prof.memProfile()): RuntimeSnapshot {
  const memstats = rt.readMemStats();
  const heap = heapShape(rt);
  return {
    memstats,
    bySizeMallocs: Array.from(rt.mstats.by_size_nmalloc),
    bySizeFrees: Array.from(rt.mstats.by_size_nfree),
    arch: rt.arch,
    arena: {
      spans: rt.arena.spans,
      bitmap: rt.arena.bitmap,
      arenaStart: rt.arena.arena_start,
      arenaUsed: rt.arena.arena_used,
      arenaEnd: rt.arena.arena_end,
    },
    heap,
    profile: { records: profile(rt), rate: rt.prof.rate, samples: rt.prof.samples },
    gcs: rt.gc.records,
    scavengerLog: rt.gc.scavengerLog,
  };
}

/** The in-use and free spans in address order (allspans holds them in the order their structs were carved). */
export function heapShape(rt: Runtime): HeapSnapshot {
  const heap = rt.mheap;
  const sp = heap.spans;
  const ids: number[] = [];
  for (let i = 0; i < heap.nspan; i++) {
    const s = heap.spanId(i);
    if (sp.state[s] === MSpanState.InUse || sp.state[s] === MSpanState.Free) ids.push(s);
  }
  ids.sort((a, b) => sp.start[a]! - sp.start[b]!);
  const spans = ids.map((s): SpanSnapshot => {
    const inUse = sp.state[s] === MSpanState.InUse;
    return {
      start: sp.start[s]!,
      npages: sp.npages[s]!,
      inUse,
      sizeclass: inUse ? sp.sizeclass[s]! : 0,
      allocCount: inUse ? allocatedObjects(rt, s) : 0,
      npreleased: inUse ? 0 : sp.npreleased[s]!,
    };
  });
  return { arenaStart: rt.arena.arena_start, arenaUsed: rt.arena.arena_used, spans };
}

/** Allocated objects (live or awaiting a sweep) of an in-use span. */
function allocatedObjects(rt: Runtime, s: number): number {
  const sp = rt.mheap.spans;
  const flags = sp.objFlags[s]!;
  let n = 0;
  for (let k = 0; k < sp.nelems[s]!; k++) if ((flags[k]! & ObjFlag.Allocated) !== 0) n++;
  return n;
}

/** An object a program still references: its address, the size it asked for, whether it is tiny. */
export interface HeldObject {
  addr: number;
  size: number;
  tiny: boolean;
}

/** What a set of objects asked for and what the heap gave them (the report's internal fragmentation). */
export interface ObjectFootprint {
  /** Σ asked-for sizes, tiny objects included. */
  readonly requestedBytes: number;
  /** Σ blocks of the objects that are not tiny: their class's object size, or their span's pages. */
  readonly blockBytes: number;
  /** Small objects: class object size minus asked-for size, summed. */
  readonly sizeClassWasteBytes: number;
  /** Large (and efence) objects: whole pages minus asked-for size, summed. */
  readonly pageWasteBytes: number;
  /** Σ asked-for sizes of the tiny objects. */
  readonly tinyRequestedBytes: number;
  /** TinySize blocks holding at least one of the tiny objects. */
  readonly tinyBlocks: number;
}

/** Where the objects sit in the heap (mlookup of each), summed. Zero-size objects (runtime.zerobase) occupy nothing. */
export function objectFootprint(rt: Runtime, objects: Iterable<HeldObject>): ObjectFootprint {
  const heap = rt.mheap;
  const sp = heap.spans;
  let requested = 0;
  let blocks = 0;
  let classWaste = 0;
  let pageWaste = 0;
  let tinyRequested = 0;
  const tinyBlocks = new Set<number>();
  for (const obj of objects) {
    if (obj.size === 0) continue;
    requested += obj.size;
    if (obj.tiny) {
      tinyRequested += obj.size;
      tinyBlocks.add(obj.addr - (obj.addr % TinySize));
      continue;
    }
    const s = heap.lookup(obj.addr);
    if (sp.sizeclass[s] === 0) {
      const bytes = sp.npages[s]! * PageSize;
      blocks += bytes;
      pageWaste += bytes - obj.size;
    } else {
      blocks += sp.elemsize[s]!;
      classWaste += sp.elemsize[s]! - obj.size;
    }
  }
  return {
    requestedBytes: requested,
    blockBytes: blocks,
    sizeClassWasteBytes: classWaste,
    pageWasteBytes: pageWaste,
    tinyRequestedBytes: tinyRequested,
    tinyBlocks: tinyBlocks.size,
  };
}
