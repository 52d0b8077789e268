// Central free lists: MCentral, one per size class.
//
// See malloc.ts for the overview. An MCentral owns the small-object spans of its class:
// `nonempty` holds spans with free objects (or being swept), `empty` spans with none and
// spans currently cached by an mcache. List discipline is LIFO almost everywhere (fresh
// spans, uncached spans and spans that get their first freed object go to the front of
// nonempty); a span handed to an mcache moves to the back of empty. CacheSpan sweeps the
// unswept spans it meets, in list order, before it takes one.
//
// Invariant owned here (invariants.ts checks it): for every in-use small span,
// ref + len(freelist) == objects per span (objects in the freebuf of a cached span still
// count in ref: MCentral_UncacheSpan moves them to the freelist and decrements ref).

import { ObjFlag, type MHeap } from "./mheap.js";
import type { Runtime } from "./malloc.js";
import { isGarbage, sweepSpan } from "./mgcsweep.js";
import { class_to_allocnpages, class_to_nobj, class_to_size } from "./sizeclasses.js";
import { RuntimeThrow } from "./throw.js";
import { FreeOrigin } from "../free-origin.js";

/** What a replayed log says the real empty-list walk did at an unswept span (MCentral.logWalk). */
const enum LogWalk {
  Sweep,
  Skip,
  Stop,
}

export class MCentral {
  nfree = 0;

  constructor(
    private readonly rt: Runtime,
    private readonly heap: MHeap,
    readonly sizeclass: number,
    readonly nonempty: number,
    readonly empty: number,
  ) {}

  /** MCentral_CacheSpan: a span with free objects for an mcache, or -1 (out of memory). */
  cacheSpan(): number {
    const sp = this.heap.spans;
    const sg = this.heap.sweepgen;
    for (;;) {
      let chosen = -1;
      let swept = false;
      for (let s = sp.next[this.nonempty]!; s !== this.nonempty; s = sp.next[s]!) {
        if (sp.sweepgen[s] === ((sg - 2) >>> 0)) {
          sp.sweepgen[s] = (sg - 1) >>> 0;
          sweepSpan(this.rt, s, FreeOrigin.CacheSpan);
          swept = true;
          break;
        }
        if (sp.sweepgen[s] === ((sg - 1) >>> 0)) continue;
        chosen = s;
        break;
      }
      if (swept) continue;
      if (chosen === -1) {
        for (let s = sp.next[this.empty]!; s !== this.empty; s = sp.next[s]!) {
          if (sp.sweepgen[s] === ((sg - 2) >>> 0)) {
            if (this.rt.logGuidedSweep) {
              const walk = this.logWalk(s);
              if (walk === LogWalk.Skip) continue;
              if (walk === LogWalk.Stop) break;
            }
            sp.sweepgen[s] = (sg - 1) >>> 0;
            sp.remove(s);
            sp.insertBack(this.empty, s);
            sweepSpan(this.rt, s, FreeOrigin.CacheSpan);
            swept = true;
            break;
          }
          if (sp.sweepgen[s] === ((sg - 1) >>> 0)) continue;
          break;
        }
        if (swept) continue;
        if (!this.grow()) return -1;
        continue;
      }
      const n = class_to_nobj[this.sizeclass]! - sp.ref[chosen]!;
      if (n === 0) throw new RuntimeThrow("empty span");
      if (sp.nfreelist[chosen] === 0) throw new RuntimeThrow("freelist empty");
      this.nfree -= n;
      sp.remove(chosen);
      sp.insertBack(this.empty, chosen);
      sp.incache[chosen] = 1;
      return chosen;
    }
  }

  /**
   * Replaying a log: what did the real walk of the empty list do at the unswept span s? It
   * sweeps every unswept span it meets and stops at the first swept one; the background
   * sweeper may have swept s already, which the log cannot show. The log still tells:
   *   0. the walk sweeps in list order, so the order of its printed frees is the real order
   *      of the spans it freed from (MSpans.refillOrder);
   *   1. s holds garbage the log shows freed by another sweeper, now or later in this cycle:
   *      the real walk did not sweep s. If the walk must go on past s (2.), s lies further
   *      down the real list than the emulated one: skip it; otherwise the walk stopped here.
   *   2. an unswept span from s on holds garbage the log shows this refill freeing, or a
   *      later refill of this cycle: the real walk reached it (a later walk could not have
   *      passed s had the background sweeper swept it), sweeping every unswept span on the way;
   *   3. the log shows sweepone sweeping a span at or before s later in this cycle: the
   *      background sweeper had not reached s, so the real walk swept it (nothing to free);
   *   4. otherwise the background sweeper is taken to have swept s: the walk stops.
   */
  private logWalk(s: number): LogWalk {
    const sp = this.heap.spans;
    const sg = this.heap.sweepgen;
    const evidence = this.rt.logEvidence;
    // 0. The log printed another unswept span's refill frees before s's: the real walk met
    //    that span first, so s lies further down the real list (a silent sweep moved it to
    //    the back earlier): pass it for now.
    const order = sp.refillOrder[s]!;
    if (order > 0) {
      for (let t = sp.next[s]!; t !== this.empty; t = sp.next[t]!) {
        const o = sp.refillOrder[t]!;
        if (o > 0 && o < order && sp.sweepgen[t] === ((sg - 2) >>> 0)) return LogWalk.Skip;
      }
    }
    let reached = false;
    for (let t = s; t !== this.empty && !reached; t = sp.next[t]!) {
      if (sp.sweepgen[t] !== ((sg - 2) >>> 0)) continue;
      reached = this.garbage(t, true) || (t !== s && evidence !== null && evidence.refilledLater(t));
    }
    if (this.garbage(s, false) || (evidence !== null && evidence.sweptLater(s))) return reached ? LogWalk.Skip : LogWalk.Stop;
    return reached || this.unsweptByBgsweep(s) ? LogWalk.Sweep : LogWalk.Stop;
  }

  /** Does span t hold garbage whose free the log printed from a refill (byRefill) or from elsewhere? */
  private garbage(t: number, byRefill: boolean): boolean {
    const sp = this.heap.spans;
    const flags = sp.objFlags[t]!;
    const pins = sp.objPins[t]!;
    const want = byRefill ? ObjFlag.FreedByRefill : 0;
    for (let i = 0; i < sp.nelems[t]!; i++) {
      const f = flags[i]!;
      if (isGarbage(f, pins[i]!) && (f & ObjFlag.Unshown) === 0 && (f & ObjFlag.FreedByRefill) === want) return true;
    }
    return false;
  }

  /**
   * Replaying a log: is s certainly not yet swept by the background sweeper? sweepone walks
   * allspans in order, and the log shows it sweeping a span at or before s later in this
   * cycle: then the real walk met s unswept and swept it (with nothing to free).
   */
  private unsweptByBgsweep(s: number): boolean {
    const bound = this.rt.logEvidence?.bgsweepPosition() ?? -1;
    return bound >= 0 && bound <= s - this.heap.firstSpanId;
  }

  /** MCentral_UncacheSpan: an mcache gives its span back. */
  uncacheSpan(s: number): void {
    const sp = this.heap.spans;
    sp.incache[s] = 0;
    // Objects freed by other Ps while the span was cached join the freelist now.
    const buf = sp.freebuf[s]!;
    const list = sp.freelist[s]!;
    for (let i = sp.nfreebuf[s]!; i > 0; i--) {
      const obj = buf[i - 1]!;
      list[sp.nfreelist[s]!] = obj;
      sp.nfreelist[s]!++;
      sp.ref[s]!--;
    }
    sp.nfreebuf[s] = 0;
    if (sp.ref[s] === 0) {
      this.returnToHeap(s);
      return;
    }
    const n = class_to_nobj[this.sizeclass]! - sp.ref[s]!;
    if (n > 0) {
      this.nfree += n;
      sp.remove(s);
      sp.insert(this.nonempty, s);
    }
  }

  /** MCentral_FreeList: return a chain of explicitly freed objects (head first). */
  freeList(addrs: number[]): void {
    for (let i = addrs.length - 1; i >= 0; i--) this.free(addrs[i]!);
  }

  /** MCentral_Free: one explicitly freed object goes back to its span. */
  private free(v: number): void {
    const heap = this.heap;
    const sp = heap.spans;
    const s = heap.lookup(v);
    if (s === -1 || sp.ref[s] === 0) throw new RuntimeThrow("invalid free");
    if (sp.sweepgen[s] !== heap.sweepgen) throw new RuntimeThrow("free into unswept span");
    const obj = Math.floor((v - sp.base(s)) / sp.elemsize[s]!);
    if (sp.incache[s]) {
      sp.freebuf[s]![sp.nfreebuf[s]!] = obj;
      sp.nfreebuf[s]!++;
      return;
    }
    if (sp.nfreelist[s] === 0) {
      sp.remove(s);
      sp.insert(this.nonempty, s);
    }
    sp.freelist[s]![sp.nfreelist[s]!] = obj;
    sp.nfreelist[s]!++;
    sp.ref[s]!--;
    this.nfree++;
    if (sp.ref[s] === 0) this.returnToHeap(s);
  }

  /**
   * MCentral_FreeSpan, called by the sweeper: `objs[0..n)` (ascending) are freed; they are
   * prepended to the freelist in that order. True if the span went back to the heap.
   */
  freeSpan(s: number, objs: Uint16Array, n: number): boolean {
    const sp = this.heap.spans;
    if (sp.incache[s]) throw new RuntimeThrow("freespan into cached span");
    if (sp.nfreelist[s] === 0) {
      sp.remove(s);
      sp.insert(this.nonempty, s);
    }
    const list = sp.freelist[s]!;
    let top = sp.nfreelist[s]!;
    for (let i = n - 1; i >= 0; i--) list[top++] = objs[i]!;
    sp.nfreelist[s] = top;
    sp.ref[s] = sp.ref[s]! - n;
    this.nfree += n;
    sp.sweepgen[s] = this.heap.sweepgen;
    if (sp.ref[s] === 0) {
      this.returnToHeap(s);
      return true;
    }
    return false;
  }

  /** MCentral_Grow: a fresh span carved into objects, ascending, at the front of nonempty. */
  grow(): boolean {
    const cl = this.sizeclass;
    const npages = class_to_allocnpages[cl]!;
    const size = class_to_size[cl]!;
    const n = class_to_nobj[cl]!;
    const s = this.heap.alloc(npages, cl, false);
    if (s === -1) return false;
    const sp = this.heap.spans;
    sp.carveObjects(s, n);
    const list = sp.freelist[s]!;
    for (let i = 0; i < n; i++) list[i] = n - 1 - i;
    sp.nfreelist[s] = n;
    sp.limit[s] = sp.base(s) + size * n;
    this.nfree += n;
    sp.insert(this.nonempty, s);
    return true;
  }

  /** MCentral_ReturnToHeap: an empty small span goes back to the page heap. */
  private returnToHeap(s: number): void {
    const sp = this.heap.spans;
    const n = class_to_nobj[this.sizeclass]!;
    sp.remove(s);
    sp.needzero[s] = 1;
    sp.nfreelist[s] = 0;
    if (sp.ref[s] !== 0) throw new RuntimeThrow("ref wrong");
    this.nfree -= n;
    this.heap.free(s, false);
  }
}
