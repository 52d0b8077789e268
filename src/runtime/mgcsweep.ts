// Sweeping: MSpan_Sweep, sweepone, EnsureSwept and Reclaim.
//
// See malloc.ts for the overview. After each collection every in-use span needs sweeping
// (MHeap.sweepgen moved on by 2). Spans are swept lazily, by whoever needs them first:
//   1. CacheSpan sweeps the unswept spans it meets on its lists before taking one;
//   2. Reclaim, before a page allocation, sweeps large-object spans from the busy lists
//      and then calls sweepone until enough spans went back to the heap;
//   3. EnsureSwept sweeps the span of an object being explicitly freed or given a special;
//   4. the background sweeper, and gc() itself (leftover sweep; all of it when eager), call
//      sweepone, which walks the allspans snapshot in MSpan creation order.
//
// An object is garbage when it is allocated, not NoGC, has no live trace reference and was
// not marked at the last collection (ObjFlag.Keep: it died after the mark, or a finalizer
// resurrected it). Within one span, objects are freed in ascending address order.

import type { Runtime } from "./malloc.js";
import { MaxMHeapList, MSpanState, ObjFlag, freespecial } from "./mheap.js";
import { FreeOrigin, type RuntimeFreeOrigin } from "../free-origin.js";
import { RuntimeThrow } from "./throw.js";

/**
 * An object the pending sweep frees: allocated, not NoGC, not kept by the last mark (Keep),
 * and no live trace reference (pins).
 */
export function isGarbage(flags: number, pins: number): boolean {
  return (flags & ObjFlag.Allocated) !== 0 && (flags & (ObjFlag.NoGC | ObjFlag.Keep)) === 0 && pins === 0;
}

/** MSpan_Sweep: the caller has claimed s (sweepgen == h.sweepgen - 1). True if s went to the heap. */
export function sweepSpan(rt: Runtime, s: number, origin: RuntimeFreeOrigin): boolean {
  const heap = rt.mheap;
  const sp = heap.spans;
  const cl = sp.sizeclass[s]!;
  const size = sp.elemsize[s]!;
  const n = sp.nelems[s]!;
  const base = sp.base(s);
  const flags = sp.objFlags[s]!;
  const pins = sp.objPins[s]!;
  const c = rt.mcache();
  const gcpercent = rt.gc.gcpercent;
  sp.refillOrder[s] = 0;

  const specials = sp.specials[s];
  if (specials) {
    for (let i = 0; i < specials.length; ) {
      const rec = specials[i]!;
      const obj = Math.floor(rec.offset / size);
      const f = flags[obj]!;
      if (!isGarbage(f, pins[obj]!)) {
        i++;
        continue;
      }
      specials.splice(i, 1);
      // A finalizer resurrects the object until its finalizer has run.
      if (!freespecial(rt, rec, base + obj * size, size, false)) flags[obj] = f | ObjFlag.Keep;
    }
    if (specials.length === 0) sp.specials[s] = null;
  }

  let nfree = 0;
  let freedToHeap = false;
  const types = sp.types[s];
  for (let i = 0; i < n; i++) {
    const f = flags[i]!;
    if ((f & ObjFlag.Allocated) === 0 || (f & ObjFlag.NoGC) !== 0) continue;
    if (pins[i] !== 0 || (f & ObjFlag.Keep) !== 0) {
      flags[i] = f & ~ObjFlag.Keep;
      continue;
    }
    const p = base + i * size;
    rt.observer?.tracefree(p, size, origin);
    flags[i] = 0;
    if (!rt.efence) rt.liveObjects--;
    if (cl === 0) {
      sp.needzero[s] = 1;
      sp.sweepgen[s] = heap.sweepgen;
      if (!rt.efence) heap.free(s, true);
      c.local_nlargefree++;
      c.local_largefree += size;
      rt.mstats.next_gc -= Math.floor((size * (gcpercent + 100)) / 100);
      freedToHeap = !rt.efence;
    } else {
      if (types) {
        if (types.words) types.words[i] = 0;
        else types.index[i] = 0;
      }
      heap.freedScratch[nfree++] = i;
    }
  }
  if (cl === 0) {
    sp.sweepgen[s] = heap.sweepgen;
    return freedToHeap;
  }
  if (nfree === 0) {
    sp.sweepgen[s] = heap.sweepgen;
    return false;
  }
  c.local_nsmallfree[cl] = c.local_nsmallfree[cl]! + nfree;
  c.local_cachealloc -= nfree * size;
  rt.mstats.next_gc -= Math.floor((nfree * size * (gcpercent + 100)) / 100);
  return heap.central[cl]!.freeSpan(s, heap.freedScratch, nfree);
}

/** sweepone: sweep the next unswept span of the snapshot; its pages if it went to the heap, 0, or -1 when done. */
export function sweepone(rt: Runtime, origin: RuntimeFreeOrigin): number {
  const heap = rt.mheap;
  const sp = heap.spans;
  const sg = heap.sweepgen;
  for (;;) {
    const idx = heap.sweepSpanidx++;
    if (idx >= heap.sweepNspan) {
      heap.sweepdone = true;
      return -1;
    }
    const s = heap.spanId(idx);
    if (sp.state[s] !== MSpanState.InUse) {
      sp.sweepgen[s] = sg;
      continue;
    }
    if (sp.sweepgen[s] !== ((sg - 2) >>> 0)) continue;
    sp.sweepgen[s] = (sg - 1) >>> 0;
    // Every collection uncaches all spans first (mcache.c MCache_ReleaseAll).
    if (sp.incache[s]) throw new RuntimeThrow("sweep of incache span");
    const npages = sp.npages[s]!;
    return sweepSpan(rt, s, origin) ? npages : 0;
  }
}

/** MSpan_EnsureSwept: sweep s now if this cycle has not swept it yet. */
export function ensureSwept(rt: Runtime, s: number): void {
  const heap = rt.mheap;
  const sp = heap.spans;
  if (sp.sweepgen[s] === heap.sweepgen) return;
  if (sp.sweepgen[s] === ((heap.sweepgen - 2) >>> 0)) {
    sp.sweepgen[s] = (heap.sweepgen - 1) >>> 0;
    sweepSpan(rt, s, FreeOrigin.EnsureSwept);
  }
}

/** MHeap_ReclaimList: sweep unswept spans of a busy list; counts spans (not pages) freed. */
function reclaimList(rt: Runtime, list: number, want: number): number {
  const heap = rt.mheap;
  const sp = heap.spans;
  const sg = heap.sweepgen;
  let got = 0;
  retry: for (;;) {
    for (let s = sp.next[list]!; s !== list; s = sp.next[s]!) {
      if (sp.sweepgen[s] === ((sg - 2) >>> 0)) {
        sp.sweepgen[s] = (sg - 1) >>> 0;
        // Swept spans go to the end of the list, so the unswept ones stay in front.
        sp.remove(s);
        sp.insertBack(list, s);
        if (sweepSpan(rt, s, FreeOrigin.Reclaim)) got++;
        if (got >= want) return got;
        // The sweep may have moved spans (one went to the heap): start over.
        continue retry;
      }
      // Being swept by someone else: pass it.
      if (sp.sweepgen[s] === ((sg - 1) >>> 0)) continue;
      // Already swept: every span after it is swept or being swept too.
      break;
    }
    return got;
  }
}

/** MHeap_Reclaim: before allocating npage pages, sweep until about that much came back. */
export function reclaim(rt: Runtime, npage: number): void {
  const heap = rt.mheap;
  for (let k = npage; k < MaxMHeapList; k++) {
    if (reclaimList(rt, heap.busy[k]!, npage) > 0) return;
  }
  if (reclaimList(rt, heap.busylarge, npage) > 0) return;
  let reclaimed = 0;
  for (let k = 0; k < Math.min(npage, MaxMHeapList); k++) {
    reclaimed += reclaimList(rt, heap.busy[k]!, npage - reclaimed);
    if (reclaimed >= npage) return;
  }
  for (;;) {
    const n = sweepone(rt, FreeOrigin.ReclaimSweepone);
    if (n === -1) break;
    reclaimed += n;
    if (reclaimed >= npage) break;
  }
}

/**
 * The background sweeper takes turns (one span each, as bgsweep: sweepone, then gosched)
 * until sweepone has passed the first `position` spans of this cycle's snapshot.
 */
export function bgsweepTo(rt: Runtime, position: number): number {
  let swept = 0;
  while (rt.mheap.sweepSpanidx < position && !rt.mheap.sweepdone) {
    if (bgsweep(rt, 1) === 0) break;
    swept++;
  }
  return swept;
}

/** The emulated background sweeper: sweep up to `spans` spans (one per scheduling turn). */
export function bgsweep(rt: Runtime, spans: number): number {
  let swept = 0;
  while (swept < spans && !rt.mheap.sweepdone) {
    if (sweepone(rt, FreeOrigin.BgSweep) === -1) break;
    swept++;
  }
  rt.gc.nbgsweep += swept;
  return swept;
}
