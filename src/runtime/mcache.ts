// Per-P cache: MCache.
//
// See malloc.ts for the overview. Each P allocates small objects from its own cached span
// per class (alloc[cl]) without touching shared state; when that span runs out, Refill
// gives it back to the MCentral and takes another. The cache also holds the tiny block,
// objects explicitly freed from spans it does not cache (free[cl], returned in batches) and
// local statistics that reach MStats only at flush points (mcache.c, mgc0.c cachestats): heap_alloc is stale
// between them, which is what the GC trigger sees.
//
// Invariant owned here (invariants.ts checks it): after a GC every alloc[cl] is the empty span and the
// tiny block is empty.

import type { Runtime } from "./malloc.js";
import { NumSizeClasses, class_to_nobj } from "./sizeclasses.js";
import { RuntimeThrow } from "./throw.js";

export class MCache {
  next_sample = 0;
  /** Bytes allocated (or freed) through this cache since its last flush; may go negative. */
  local_cachealloc = 0;
  /** Tiny block cursor (address) and bytes left in it; 0 = none. */
  tiny = 0;
  tinysize = 0;
  /** Cached span id per class; heap.emptySpan when none. */
  readonly alloc = new Int32Array(NumSizeClasses);
  /** Explicitly freed objects per class, head = last element. */
  readonly free: number[][] = [];

  local_nlookup = 0;
  local_largefree = 0;
  local_nlargefree = 0;
  readonly local_nsmallfree = new Float64Array(NumSizeClasses);

  constructor(private readonly rt: Runtime) {
    this.alloc.fill(rt.mheap.emptySpan);
    for (let i = 0; i < NumSizeClasses; i++) this.free.push([]);
  }

  /** MCache_Refill: the cached span of class cl is exhausted; take another. */
  refill(cl: number): number {
    const heap = this.rt.mheap;
    const sp = heap.spans;
    let s = this.alloc[cl]!;
    if (sp.nfreelist[s] !== 0) throw new RuntimeThrow("refill on a nonempty span");
    if (s !== heap.emptySpan) heap.central[cl]!.uncacheSpan(s);
    const pending = this.free[cl]!;
    if (pending.length > 0) {
      heap.central[cl]!.freeList(pending);
      pending.length = 0;
    }
    s = heap.central[cl]!.cacheSpan();
    if (s === -1) throw new RuntimeThrow("out of memory", this.rt.takePrinted());
    if (sp.nfreelist[s] === 0) {
      throw new RuntimeThrow("empty span", [`${sp.ref[s]} ${class_to_nobj[cl]}`]);
    }
    this.alloc[cl] = s;
    return s;
  }

  /** MCache_Free: an explicitly freed object whose span this cache does not hold. */
  freeObject(v: number, cl: number): void {
    const pending = this.free[cl]!;
    pending.push(v);
    if (pending.length >= class_to_nobj[cl]!) {
      this.rt.mheap.central[cl]!.freeList(pending);
      pending.length = 0;
    }
  }

  /** MCache_ReleaseAll: uncache every span and return every pending free. Tiny stays. */
  releaseAll(): void {
    const heap = this.rt.mheap;
    for (let cl = 0; cl < NumSizeClasses; cl++) {
      const s = this.alloc[cl]!;
      if (s !== heap.emptySpan) {
        heap.central[cl]!.uncacheSpan(s);
        this.alloc[cl] = heap.emptySpan;
      }
      const pending = this.free[cl]!;
      if (pending.length > 0) {
        heap.central[cl]!.freeList(pending);
        pending.length = 0;
      }
    }
  }

  /** purgecachedstats: move the local counters into MStats and the heap. */
  purgeCachedStats(): void {
    const stats = this.rt.mstats;
    const heap = this.rt.mheap;
    stats.heap_alloc += this.local_cachealloc;
    this.local_cachealloc = 0;
    stats.nlookup += this.local_nlookup;
    this.local_nlookup = 0;
    heap.largefree += this.local_largefree;
    this.local_largefree = 0;
    heap.nlargefree += this.local_nlargefree;
    this.local_nlargefree = 0;
    for (let i = 0; i < NumSizeClasses; i++) {
      heap.nsmallfree[i] = heap.nsmallfree[i]! + this.local_nsmallfree[i]!;
      this.local_nsmallfree[i] = 0;
    }
  }
}
