// Central free lists: MCentral, one per size class.
//
// See malloc.ts for the overview. An MCentral owns the small-object spans of its class:
// `nonempty` holds spans with free objects (or being swept), `empty` spans with none and
// spans currently cached by an mcache. List discipline is LIFO almost everywhere (fresh
// spans, uncached spans and spans that get their first freed object go to the front of
// nonempty); a span handed to an mcache moves to the back of empty. CacheSpan sweeps the
// unswept spans it meets, in list order, before it takes one.
//
// Invariant owned here (spec §16 I10): for every in-use small span,
// ref + len(freelist) + len(freebuf) == objects per span.

import { ObjFlag, type MHeap } from "./mheap.js";
import type { Runtime } from "./malloc.js";
import { sweepSpan } from "./mgcsweep.js";
import { class_to_allocnpages, class_to_nobj, class_to_size } from "./sizeclasses.js";
import { RuntimeThrow } from "./throw.js";
import { SweepOrigin } from "./observer.js";

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
          sweepSpan(this.rt, s, SweepOrigin.CacheSpan);
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
            if (this.rt.logGuidedSweep && !this.knownGarbageFrom(s)) break;
            sp.sweepgen[s] = (sg - 1) >>> 0;
            sp.remove(s);
            sp.insertBack(this.empty, s);
            sweepSpan(this.rt, s, SweepOrigin.CacheSpan);
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
   * Replaying a log: does an unswept span from s on (in empty-list order) hold garbage the
   * log has already shown freed? A real walk that reached such a span would have swept it
   * and printed its frees there; when no such span lies ahead, the real walk stopped first
   * (at a span its background sweeper had swept, which the log cannot show).
   */
  private knownGarbageFrom(s: number): boolean {
    const sp = this.heap.spans;
    const sg = this.heap.sweepgen;
    for (let t = s; t !== this.empty; t = sp.next[t]!) {
      if (sp.sweepgen[t] !== ((sg - 2) >>> 0)) continue;
      const flags = sp.objFlags[t]!;
      const pins = sp.objPins[t]!;
      for (let i = 0; i < sp.nelems[t]!; i++) {
        const f = flags[i]!;
        if ((f & ObjFlag.Allocated) !== 0 && (f & (ObjFlag.NoGC | ObjFlag.Keep)) === 0 && pins[i] === 0) return true;
      }
    }
    return false;
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
