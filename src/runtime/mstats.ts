// Memory statistics: the runtime's MStats (1.3 names) and Go's runtime.MemStats view of it.
//
// See malloc.ts for the overview. Some MStats fields are live (updated as the heap changes)
// and some are stale: recomputed only by updatememstats (ReadMemStats, gctrace, heap profile).
// toMemStats is the one place that turns MStats into the exported names; JSON keys come from
// MemStats only. Identities that hold right after ReadMemStats (invariants.ts checks them):
//   Sys == HeapSys + StackSys + MSpanSys + MCacheSys + BuckHashSys + GCSys + OtherSys
//   HeapAlloc == Alloc, HeapObjects == Mallocs - Frees, HeapIdle + HeapInuse == HeapSys.

import { NumSizeClasses, class_to_size } from "./sizeclasses.js";
import type { Runtime } from "./malloc.js";
import { MSpanState } from "./mheap.js";

/** Go's MemStats shows only the first 61 by_size entries (ReadMemStats copies a prefix). */
export const VisibleSizeClasses = 61;

/** The statistics a SysAlloc/SysMap/persistentalloc can charge. */
export type SysStat =
  | "heap_sys"
  | "stacks_sys"
  | "mspan_sys"
  | "mcache_sys"
  | "buckhash_sys"
  | "gc_sys"
  | "other_sys";

export class MStats {
  /** Stale: bytes of live objects (small: ref × elemsize, large: pages) over in-use spans. */
  alloc = 0;
  /** Stale: alloc + bytes ever freed (large + Σ nsmallfree × class size). */
  total_alloc = 0;
  /** Stale: Σ of the seven *_sys fields. */
  sys = 0;
  /** Pointer lookups (mlookup), flushed from mcaches at every purge. */
  nlookup = 0;
  /** Stale: live objects (unswept garbage included) + nfree. */
  nmalloc = 0;
  /** Stale: nlargefree + Σ nsmallfree. */
  nfree = 0;

  /** Live, but small allocations reach it only when a cache is flushed (mcache.c MCache_Refill, mgc0.c cachestats). */
  heap_alloc = 0;
  /** Arena bytes mapped; never decreases. */
  heap_sys = 0;
  /** Bytes in free spans. */
  heap_idle = 0;
  /** Bytes in in-use spans (small-object spans count whole, even with free slots). */
  heap_inuse = 0;
  /** Free-span bytes returned to the OS by the scavenger. */
  heap_released = 0;
  /** Large objects live count between purges; set to nmalloc - nfree by updatememstats. */
  heap_objects = 0;

  /** Always 0 in gccgo. */
  stacks_inuse = 0;
  stacks_sys = 0;
  /** Stale: live MSpan structs × sizeof(MSpan). */
  mspan_inuse = 0;
  /** 16 KiB per MSpan FixAlloc chunk. */
  mspan_sys = 0;
  /** Stale: live MCaches × sizeof(MCache). */
  mcache_inuse = 0;
  /** 16 KiB per MCache FixAlloc chunk. */
  mcache_sys = 0;
  /** Profile bucket hash table and buckets. */
  buckhash_sys = 0;
  /** GC bitmap mappings, GC work buffers, finalizer queue blocks. */
  gc_sys = 0;
  /** Everything else: persistentalloc chunks not re-accounted, spans map, allspans arrays. */
  other_sys = 0;

  /** Heap size that triggers the next collection; starts at 0 (GC #1 at the first chance). */
  next_gc = 0;
  /** Unix ns at the end of the last mark. */
  last_gc = 0;
  pause_total_ns = 0;
  readonly pause_ns = new Float64Array(256);
  readonly pause_end = new Float64Array(256);
  numgc = 0;
  enablegc = true;
  debuggc = false;

  /** Per class: mallocs and frees (stale, rebuilt by updatememstats). All 67 classes. */
  readonly by_size_nmalloc = new Float64Array(NumSizeClasses);
  readonly by_size_nfree = new Float64Array(NumSizeClasses);

  /** Sum of the *_sys fields, as updatememstats computes `sys`. */
  sumSys(): number {
    return (
      this.heap_sys +
      this.stacks_sys +
      this.mspan_sys +
      this.mcache_sys +
      this.buckhash_sys +
      this.gc_sys +
      this.other_sys
    );
  }
}

export interface BySizeEntry {
  Size: number;
  Mallocs: number;
  Frees: number;
}

/**
 * runtime.MemStats as Go 1.3's encoding/json prints it (field order kept; the 1.5 fields
 * PauseEnd and GCCPUFraction are left out, as the real 1.3.3 runtime has neither).
 * Each field is what ReadMemStats copies from MStats (see the MStats field docs).
 */
export interface MemStats {
  /** = HeapAlloc after ReadMemStats. */
  Alloc: number;
  /** ≥ Alloc; never decreases. */
  TotalAlloc: number;
  /** = HeapSys + StackSys + MSpanSys + MCacheSys + BuckHashSys + GCSys + OtherSys. */
  Sys: number;
  Lookups: number;
  /** ≥ Frees; HeapObjects = Mallocs − Frees. */
  Mallocs: number;
  Frees: number;
  HeapAlloc: number;
  /** = HeapIdle + HeapInuse (64-bit and the 32-bit reservation path). */
  HeapSys: number;
  HeapIdle: number;
  /** HeapInuse − HeapAlloc bounds the bytes lost to partly used spans. */
  HeapInuse: number;
  /** ≤ HeapIdle. */
  HeapReleased: number;
  HeapObjects: number;
  StackInuse: number;
  StackSys: number;
  MSpanInuse: number;
  MSpanSys: number;
  MCacheInuse: number;
  MCacheSys: number;
  BuckHashSys: number;
  GCSys: number;
  OtherSys: number;
  /** HeapAlloc that triggers the next GC: H + H·GOGC/100 after a mark of H bytes. */
  NextGC: number;
  LastGC: number;
  PauseTotalNs: number;
  PauseNs: number[];
  NumGC: number;
  EnableGC: boolean;
  DebugGC: boolean;
  /** Classes 0…60 only, as Go programs see them. */
  BySize: BySizeEntry[];
}

/** Copy MStats into Go's names. Call right after updatememstats, as ReadMemStats does. */
export function toMemStats(s: MStats): MemStats {
  const bySize: BySizeEntry[] = [];
  for (let i = 0; i < VisibleSizeClasses; i++) {
    bySize.push({ Size: class_to_size[i]!, Mallocs: s.by_size_nmalloc[i]!, Frees: s.by_size_nfree[i]! });
  }
  return {
    Alloc: s.alloc,
    TotalAlloc: s.total_alloc,
    Sys: s.sys,
    Lookups: s.nlookup,
    Mallocs: s.nmalloc,
    Frees: s.nfree,
    HeapAlloc: s.heap_alloc,
    HeapSys: s.heap_sys,
    HeapIdle: s.heap_idle,
    HeapInuse: s.heap_inuse,
    HeapReleased: s.heap_released,
    HeapObjects: s.heap_objects,
    StackInuse: s.stacks_inuse,
    StackSys: s.stacks_sys,
    MSpanInuse: s.mspan_inuse,
    MSpanSys: s.mspan_sys,
    MCacheInuse: s.mcache_inuse,
    MCacheSys: s.mcache_sys,
    BuckHashSys: s.buckhash_sys,
    GCSys: s.gc_sys,
    OtherSys: s.other_sys,
    NextGC: s.next_gc,
    LastGC: s.last_gc,
    PauseTotalNs: s.pause_total_ns,
    PauseNs: Array.from(s.pause_ns),
    NumGC: s.numgc,
    EnableGC: s.enablegc,
    DebugGC: s.debuggc,
    BySize: bySize,
  };
}

/**
 * heap_alloc as mgc0.c cachestats would leave it, every mcache's local_cachealloc purged
 * into it (mheap.c purgecachedstats), without purging anything: the HeapAlloc a
 * ReadMemStats would see of the small objects, read without the flush that changes later
 * allocation addresses.
 */
export function purgedHeapAlloc(rt: Runtime): number {
  let cached = 0;
  const mcaches = rt.mcaches;
  for (let i = 0; i < mcaches.length; i++) cached += mcaches[i]!.local_cachealloc;
  return rt.mstats.heap_alloc + cached;
}

/**
 * mgc0.c updatememstats: flush every mcache (as runtime.ReadMemStats does, changing later
 * allocation addresses) and recompute the statistics the allocator keeps stale.
 */
export function updatememstats(rt: Runtime): { nmalloc: number; nfree: number } {
  const st = rt.mstats;
  const heap = rt.mheap;
  const sp = heap.spans;
  st.stacks_inuse = 0;
  st.mcache_inuse = heap.cachealloc.inuse;
  st.mspan_inuse = heap.spanalloc.inuse;
  st.sys = st.sumSys();
  st.by_size_nmalloc.fill(0);
  st.by_size_nfree.fill(0);
  for (const c of rt.mcaches) c.releaseAll();
  for (const c of rt.mcaches) c.purgeCachedStats();
  let alloc = 0;
  let nmalloc = 0;
  for (let i = 0; i < heap.nspan; i++) {
    const s = heap.spanId(i);
    if (sp.state[s] !== MSpanState.InUse) continue;
    const cl = sp.sizeclass[s]!;
    if (cl === 0) {
      nmalloc++;
      alloc += sp.elemsize[s]!;
    } else {
      nmalloc += sp.ref[s]!;
      st.by_size_nmalloc[cl] = st.by_size_nmalloc[cl]! + sp.ref[s]!;
      alloc += sp.ref[s]! * sp.elemsize[s]!;
    }
  }
  let nfree = heap.nlargefree;
  let smallfree = 0;
  for (let i = 0; i < heap.nsmallfree.length; i++) {
    const n = heap.nsmallfree[i]!;
    nfree += n;
    st.by_size_nfree[i] = n;
    st.by_size_nmalloc[i] = st.by_size_nmalloc[i]! + n;
    smallfree += n * class_to_size[i]!;
  }
  nmalloc += nfree;
  st.alloc = alloc;
  st.nmalloc = nmalloc;
  st.nfree = nfree;
  st.total_alloc = alloc + heap.largefree + smallfree;
  st.heap_alloc = alloc;
  st.heap_objects = nmalloc - nfree;
  return { nmalloc, nfree };
}
