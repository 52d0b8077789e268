// Page heap: MHeap and MSpan.
//
// See malloc.ts for the overview. The heap hands out runs of 8 KiB pages (spans):
// free[k] holds free spans of exactly k pages (k < 128), freelarge the longer ones. An
// allocation takes the first span of the first non-empty free[k] with k ≥ npage (LIFO
// within a list), else the best fit in freelarge (fewest pages, then lowest address), else
// grows the arena. It keeps the low pages and frees the remainder, which may coalesce with
// the free span after it. A freed span coalesces with free neighbours found through the
// spans map, whose entries are exact for in-use spans and exact only at the first and last
// page for free spans.
//
// MSpan structs live in MSpans, a struct-of-typed-arrays indexed by span id. Ids below
// `firstSpanId` are list sentinels; span ids come from the MSpan FixAlloc (LIFO recycling)
// and their creation order is allspans order, the sweeper's order.
//
// Invariants owned here (invariants.ts checks them): heap_idle + heap_inuse == heap_sys (64-bit);
// heap_inuse = Σ pages of InUse spans; heap_idle = Σ pages of Free spans; two free spans
// never touch; a free span of k < 128 pages is on free[k], longer ones on freelarge.

import { Arena, HeapAllocChunk, roundUp } from "./arena.js";
import { FixAlloc } from "./mfixalloc.js";
import { MCentral } from "./mcentral.js";
import { MaxSmallSize, PageSize, sizeToClass } from "./msize.js";
import { NumSizeClasses, class_to_size } from "./sizeclasses.js";
import type { Runtime } from "./malloc.js";
import { ensureSwept, reclaim } from "./mgcsweep.js";
import { RuntimeThrow } from "./throw.js";
import { grown } from "../typed-arrays.js";
import { hex } from "../hex.js";

export const MaxMHeapList = 128;

/** MSpan.state. */
export const enum MSpanState {
  InUse = 0,
  Free = 1,
  ListHead = 2,
  Dead = 3,
}

/** MTypes compression (malloc.h MTypes_*, malloc.goc settype). */
export const enum MTypes {
  Empty = 0,
  Single = 1,
  Words = 2,
  Bytes = 3,
}

/** Per-object state bits kept beside each span (the emulated GC bitmap plus trace liveness). */
export const enum ObjFlag {
  /** Handed out: not on the span's freelist/freebuf nor an mcache's pending free list. */
  Allocated = 1,
  /** marknogc: the sweeper never frees it. */
  NoGC = 2,
  /**
   * Marked by the last collection although now unreachable (it died after the mark, or the
   * sweep found it dead with a finalizer and queued it): survives the pending sweep.
   */
  Keep = 4,
  /** A 16-byte block of the tiny allocator (its pins count sub-objects). */
  TinyBlock = 8,
  /**
   * Replaying a log: its free was printed by MCentral_CacheSpan's sweep, so a refill's walk
   * reaches its span (any other dead object is swept by someone else, see mcentral.ts).
   */
  FreedByRefill = 16,
  /**
   * Pacer replay of a log: released at the collection that found it dead, before the log
   * shows its free; the walk rules (mcentral.ts logWalk) count only garbage the log has shown.
   */
  Unshown = 32,
}

/** A special record (malloc.h Special, mheap.c addspecial): offset from the span start, kind, profile bucket id. */
export interface Special {
  offset: number;
  kind: 1 | 2;
  bucket: number;
}
export const KindSpecialFinalizer = 1;
export const KindSpecialProfile = 2;

/** Type information of a small span: the Bytes table or the Words array (malloc.h MTypes). */
export interface SpanTypes {
  /** Bytes: 8 type words, [0] always 0. */
  table: number[];
  /** Bytes: per-object index into table. */
  index: Uint8Array;
  /** Words: per-object type word. */
  words: Float64Array | null;
}

const NIL = -1;

/**
 * MSpan fields, one typed-array slot per struct id. `sweepgen` states, relative to
 * MHeap.sweepgen (incremented by 2 at every GC):
 *
 *   sweepgen == h.sweepgen - 2   the span needs sweeping
 *   sweepgen == h.sweepgen - 1   the span is being swept
 *   sweepgen == h.sweepgen       the span is swept and ready to use
 */
export class MSpans {
  capacity = 0;
  /** Doubly linked list links (MSpanList_*): the span's place on a free, busy or central list. */
  next = new Int32Array(0);
  prev = new Int32Array(0);
  /** First page number (address >> PageShift). */
  start = new Float64Array(0);
  /** Pages in the span. */
  npages = new Float64Array(0);
  /** MSpanInUse, MSpanFree, MSpanListHead or MSpanDead. */
  state = new Uint8Array(0);
  /** Size class of its objects; 0 for a large object (or a free span). */
  sizeclass = new Uint8Array(0);
  /** Bytes per object: the class size, or the whole span for a large object. */
  elemsize = new Float64Array(0);
  /** Objects handed out (in mcaches or in use), not on the freelist. */
  ref = new Uint32Array(0);
  /** Owned by an mcache (MCentral_CacheSpan); the sweeper must not give it back. */
  incache = new Uint8Array(0);
  /** Sweep state relative to MHeap.sweepgen (see above). */
  sweepgen = new Uint32Array(0);
  /** Its memory must be zeroed before reuse (set when freed to the heap, mheap.c MHeap_FreeLocked). */
  needzero = new Uint8Array(0);
  /** Emulated ns at which the span became free: the scavenger releases spans idle long enough. */
  unusedsince = new Float64Array(0);
  /** Pages released to the OS (SysUnused) while free. */
  npreleased = new Float64Array(0);
  /** End of the span's data (small: after its last whole object; large: base + object size); mlookup rejects addresses past it. */
  limit = new Float64Array(0);
  typesCompression = new Uint8Array(0);
  /** Address of the Bytes/Words block (0 if none), or the typ word of a large span. */
  typesData = new Float64Array(0);
  /** Objects the span was carved into (1 for large spans, 0 when free). */
  nelems = new Uint32Array(0);
  /** Free list as a stack of object indices: the list head is the top (last) entry. */
  nfreelist = new Uint32Array(0);
  freelist: Uint16Array[] = [];
  nfreebuf = new Uint32Array(0);
  freebuf: Uint16Array[] = [];
  /**
   * Replaying a log: when the log printed the first free of this span's pending garbage from
   * a refill's walk (Runtime.refillFrees at that free; 0 = none since the span's last sweep).
   * MCentral_CacheSpan sweeps in list order, so within one walk this is the real list order.
   */
  refillOrder = new Float64Array(0);
  objFlags: Uint8Array[] = [];
  /** Live trace references to each object (tiny blocks can carry up to 16). */
  objPins: Uint8Array[] = [];
  specials: (Special[] | null)[] = [];
  types: (SpanTypes | null)[] = [];

  ensure(id: number): void {
    if (id < this.capacity) return;
    const cap = Math.max(64, this.capacity * 2, id + 1);
    const grow = <T extends Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer> | Uint8Array<ArrayBuffer> | Uint32Array<ArrayBuffer>>(a: T, fill = 0): T =>
      grown(a, cap, fill);
    this.next = grow(this.next, NIL);
    this.prev = grow(this.prev, NIL);
    this.start = grow(this.start);
    this.npages = grow(this.npages);
    this.state = grow(this.state);
    this.sizeclass = grow(this.sizeclass);
    this.elemsize = grow(this.elemsize);
    this.ref = grow(this.ref);
    this.incache = grow(this.incache);
    this.sweepgen = grow(this.sweepgen);
    this.needzero = grow(this.needzero);
    this.unusedsince = grow(this.unusedsince);
    this.npreleased = grow(this.npreleased);
    this.limit = grow(this.limit);
    this.typesCompression = grow(this.typesCompression);
    this.typesData = grow(this.typesData);
    this.nelems = grow(this.nelems);
    this.nfreelist = grow(this.nfreelist);
    this.nfreebuf = grow(this.nfreebuf);
    this.refillOrder = grow(this.refillOrder);
    this.capacity = cap;
  }

  /** MSpan_Init: a struct (new or recycled) now describes pages [start, start+npages). */
  init(s: number, start: number, npages: number): void {
    this.ensure(s);
    this.next[s] = NIL;
    this.prev[s] = NIL;
    this.start[s] = start;
    this.npages[s] = npages;
    this.state[s] = MSpanState.InUse;
    this.sizeclass[s] = 0;
    this.elemsize[s] = 0;
    this.ref[s] = 0;
    this.incache[s] = 0;
    this.sweepgen[s] = 0;
    this.needzero[s] = 0;
    this.unusedsince[s] = 0;
    this.npreleased[s] = 0;
    this.limit[s] = 0;
    this.typesCompression[s] = MTypes.Empty;
    this.typesData[s] = 0;
    this.nelems[s] = 0;
    this.nfreelist[s] = 0;
    this.nfreebuf[s] = 0;
    this.refillOrder[s] = 0;
    this.specials[s] = null;
    this.types[s] = null;
  }

  /** Size the per-object arrays of span s for n objects, all free and unflagged. */
  carveObjects(s: number, n: number): void {
    this.nelems[s] = n;
    if ((this.objFlags[s]?.length ?? 0) < n) {
      this.objFlags[s] = new Uint8Array(n);
      this.objPins[s] = new Uint8Array(n);
      this.freelist[s] = new Uint16Array(n);
      this.freebuf[s] = new Uint16Array(n);
    } else {
      this.objFlags[s]!.fill(0, 0, n);
      this.objPins[s]!.fill(0, 0, n);
    }
    this.nfreelist[s] = 0;
    this.nfreebuf[s] = 0;
  }

  base(s: number): number {
    return this.start[s]! * PageSize;
  }

  // Circular doubly linked lists with sentinel heads (MSpanList_*).
  listInit(head: number): void {
    this.ensure(head);
    this.state[head] = MSpanState.ListHead;
    this.next[head] = head;
    this.prev[head] = head;
  }
  isEmpty(head: number): boolean {
    return this.next[head] === head;
  }
  insert(head: number, s: number): void {
    if (this.next[s] !== NIL) throw new RuntimeThrow("MSpanList_Insert");
    const first = this.next[head]!;
    this.next[s] = first;
    this.prev[s] = head;
    this.prev[first] = s;
    this.next[head] = s;
  }
  insertBack(head: number, s: number): void {
    if (this.next[s] !== NIL) throw new RuntimeThrow("MSpanList_InsertBack");
    const last = this.prev[head]!;
    this.next[s] = head;
    this.prev[s] = last;
    this.next[last] = s;
    this.prev[head] = s;
  }
  remove(s: number): void {
    const p = this.prev[s]!;
    const n = this.next[s]!;
    if (p === NIL && n === NIL) return;
    this.next[p] = n;
    this.prev[n] = p;
    this.next[s] = NIL;
    this.prev[s] = NIL;
  }
}

export class MHeap {
  readonly spans = new MSpans();
  /** Sentinel ids. */
  readonly freeLists = new Int32Array(MaxMHeapList);
  readonly freelarge: number;
  readonly busy = new Int32Array(MaxMHeapList);
  readonly busylarge: number;
  /** The mcaches' "empty" span: no free objects, never on a list. */
  readonly emptySpan: number;
  readonly central: MCentral[] = [];
  /** First id the MSpan FixAlloc hands out; allspans[i] = firstSpanId + i. */
  readonly firstSpanId: number;

  readonly spanalloc: FixAlloc;
  readonly cachealloc: FixAlloc;
  /** MSpan_Sweep's scratch: the ascending chain of one span's freed objects (at most 1024). */
  readonly freedScratch = new Uint16Array(1024);
  readonly specialfinalizeralloc: FixAlloc;
  readonly specialprofilealloc: FixAlloc;

  /** allspans length and capacity (capacity drives the other_sys accounting of its arrays). */
  nspan = 0;
  nspancap = 0;
  /** Bumped whenever allspans is reallocated; the sweep snapshot remembers the one it took. */
  allspansGeneration = 0;

  sweepgen = 0;
  sweepdone = false;
  /** The sweeper's snapshot: spans [0, sweepNspan) of allspans, next index sweepSpanidx. */
  sweepNspan = 0;
  sweepSpanidx = 0;
  sweepspansGeneration = -1;

  /** Page index (relative to arena_start) -> span id; -1 = nil. */
  spansMap = new Int32Array(0);

  largefree = 0;
  nlargefree = 0;
  readonly nsmallfree = new Float64Array(NumSizeClasses);

  constructor(
    private readonly rt: Runtime,
    readonly arena: Arena,
  ) {
    let next = 0;
    for (let k = 0; k < MaxMHeapList; k++) this.spans.listInit((this.freeLists[k] = next++));
    this.spans.listInit((this.freelarge = next++));
    for (let k = 0; k < MaxMHeapList; k++) this.spans.listInit((this.busy[k] = next++));
    this.spans.listInit((this.busylarge = next++));
    this.emptySpan = next++;
    this.spans.init(this.emptySpan, 0, 0);
    this.spans.state[this.emptySpan] = MSpanState.Dead;
    for (let cl = 0; cl < NumSizeClasses; cl++) {
      const nonempty = next++;
      const empty = next++;
      this.spans.listInit(nonempty);
      this.spans.listInit(empty);
      this.central.push(new MCentral(rt, this, cl, nonempty, empty));
    }
    this.firstSpanId = next;
    const arch = rt.arch;
    this.spanalloc = new FixAlloc(arch.sizeofMSpan, rt.persistent, "mspan_sys", () => this.recordSpan());
    this.cachealloc = new FixAlloc(arch.sizeofMCache, rt.persistent, "mcache_sys");
    this.specialfinalizeralloc = new FixAlloc(arch.sizeofSpecialFinalizer, rt.persistent, "other_sys");
    this.specialprofilealloc = new FixAlloc(arch.sizeofSpecialProfile, rt.persistent, "other_sys");
  }

  /** RecordSpan: a newly carved MSpan struct joins allspans (growing the array if full). */
  private recordSpan(): void {
    if (this.nspan >= this.nspancap) {
      const P = this.rt.arch.ptrSize;
      const cap = Math.max(Math.floor(65536 / P), Math.floor((this.nspancap * 3) / 2));
      this.rt.persistent.sysAlloc(cap * P, "other_sys");
      // The old array is freed unless the sweeper still walks it (mgc0.c gc frees the old sweep.spans).
      if (this.nspancap > 0 && this.allspansGeneration !== this.sweepspansGeneration) {
        this.rt.mstats.other_sys -= this.nspancap * P;
      }
      this.nspancap = cap;
      this.allspansGeneration++;
    }
    this.nspan++;
  }

  /** A new or recycled MSpan struct id. */
  newSpanStruct(): number {
    return this.firstSpanId + this.spanalloc.alloc();
  }

  private freeSpanStruct(s: number): void {
    this.spans.state[s] = MSpanState.Dead;
    this.spanalloc.free(s - this.firstSpanId);
  }

  // --- spans map -------------------------------------------------------------------------

  private pageIndex(page: number): number {
    return page - this.arena.arena_start / PageSize;
  }

  /** Cover the pages the spans array has mapped (MapSpans grows it with the arena). */
  private growSpansMap(): void {
    const want = this.arena.spans_mapped / this.rt.arch.ptrSize;
    if (this.spansMap.length >= want) return;
    this.spansMap = grown(this.spansMap, want, NIL);
  }

  private setSpanAt(pageIdx: number, s: number): void {
    this.spansMap[pageIdx] = s;
  }

  /** MHeap_Lookup: the span map entry for v (no checks). */
  lookup(v: number): number {
    return this.spansMap[Math.floor((v - this.arena.arena_start) / PageSize)] ?? NIL;
  }

  /** MHeap_LookupMaybe: the in-use span holding v below its limit, or -1. */
  lookupMaybe(v: number): number {
    if (v < this.arena.arena_start || v >= this.arena.arena_used) return NIL;
    const s = this.lookup(v);
    if (s === NIL) return NIL;
    const sp = this.spans;
    if (Math.floor(v / PageSize) < sp.start[s]! || v >= sp.limit[s]! || sp.state[s] !== MSpanState.InUse) {
      return NIL;
    }
    return s;
  }

  // --- allocation ------------------------------------------------------------------------

  /**
   * MHeap_Alloc: npage pages for a span of sizeclass (0 = large object), or -1. The runtime
   * also clears the span when the caller asks and needzero is set; memory contents are not
   * emulated, so only the flag's lifecycle is kept.
   */
  alloc(npage: number, sizeclass: number, large: boolean): number {
    const stats = this.rt.mstats;
    const c = this.rt.mcache();
    stats.heap_alloc += c.local_cachealloc;
    c.local_cachealloc = 0;
    const s = this.allocLocked(npage, sizeclass);
    if (s !== NIL) {
      stats.heap_inuse += npage * PageSize;
      if (large) {
        stats.heap_objects++;
        stats.heap_alloc += npage * PageSize;
        const n = this.spans.npages[s]!;
        this.spans.insertBack(n < MaxMHeapList ? this.busy[n]! : this.busylarge, s);
      }
      this.spans.needzero[s] = 0;
    }
    return s;
  }

  private allocLocked(npage: number, sizeclass: number): number {
    const sp = this.spans;
    const stats = this.rt.mstats;
    if (!this.sweepdone) reclaim(this.rt, npage);

    let s = NIL;
    for (let n = npage; n < MaxMHeapList; n++) {
      if (!sp.isEmpty(this.freeLists[n]!)) {
        s = sp.next[this.freeLists[n]!]!;
        break;
      }
    }
    if (s === NIL) {
      s = this.bestFit(npage);
      if (s === NIL) {
        if (!this.grow(npage)) return NIL;
        s = this.bestFit(npage);
        if (s === NIL) return NIL;
      }
    }

    if (sp.state[s] !== MSpanState.Free) throw new RuntimeThrow("MHeap_AllocLocked - MSpan not free");
    if (sp.npages[s]! < npage) throw new RuntimeThrow("MHeap_AllocLocked - bad npages");
    sp.remove(s);
    sp.sweepgen[s] = this.sweepgen;
    sp.state[s] = MSpanState.InUse;
    stats.heap_idle -= sp.npages[s]! * PageSize;
    stats.heap_released -= sp.npreleased[s]! * PageSize;
    sp.npreleased[s] = 0;

    if (sp.npages[s]! > npage) {
      // Keep the low pages; the high remainder goes back to the free lists.
      const t = this.newSpanStruct();
      sp.init(t, sp.start[s]! + npage, sp.npages[s]! - npage);
      sp.npages[s] = npage;
      const p = this.pageIndex(sp.start[t]!);
      if (p > 0) this.setSpanAt(p - 1, s);
      this.setSpanAt(p, t);
      this.setSpanAt(p + sp.npages[t]! - 1, t);
      sp.needzero[t] = sp.needzero[s]!;
      sp.sweepgen[t] = this.sweepgen;
      sp.state[t] = MSpanState.InUse;
      this.freeLocked(t);
      sp.unusedsince[t] = sp.unusedsince[s]!;
    }
    sp.unusedsince[s] = 0;
    sp.sizeclass[s] = sizeclass;
    sp.elemsize[s] = sizeclass === 0 ? npage * PageSize : class_to_size[sizeclass]!;
    sp.typesCompression[s] = MTypes.Empty;
    const p = this.pageIndex(sp.start[s]!);
    for (let j = 0; j < npage; j++) this.setSpanAt(p + j, s);
    return s;
  }

  /** Fewest pages ≥ npage in freelarge; ties go to the lowest address. */
  private bestFit(npage: number): number {
    const sp = this.spans;
    let best = NIL;
    for (let s = sp.next[this.freelarge]!; s !== this.freelarge; s = sp.next[s]!) {
      const n = sp.npages[s]!;
      if (n < npage) continue;
      if (best === NIL || n < sp.npages[best]! || (n === sp.npages[best]! && sp.start[s]! < sp.start[best]!)) {
        best = s;
      }
    }
    return best;
  }

  /** MHeap_Grow: map at least 1 MiB (a multiple of 128 KiB) and free it into the heap. */
  private grow(npage: number): boolean {
    npage = roundUp(npage, 16);
    let ask = npage * PageSize;
    if (ask < HeapAllocChunk) ask = HeapAllocChunk;
    let v = this.arena.sysAlloc(ask);
    if (v === null && ask > npage * PageSize) {
      ask = npage * PageSize;
      v = this.arena.sysAlloc(ask);
    }
    if (v === null) {
      this.rt.printed.push(
        `runtime: out of memory: cannot allocate ${ask}-byte block (${this.rt.mstats.heap_sys} in use)`,
      );
      return false;
    }
    this.growSpansMap();
    const s = this.newSpanStruct();
    const sp = this.spans;
    sp.init(s, v / PageSize, ask / PageSize);
    const p = this.pageIndex(sp.start[s]!);
    this.setSpanAt(p, s);
    this.setSpanAt(p + sp.npages[s]! - 1, s);
    sp.sweepgen[s] = this.sweepgen;
    sp.state[s] = MSpanState.InUse;
    this.freeLocked(s);
    return true;
  }

  // --- free ------------------------------------------------------------------------------

  /** MHeap_Free: a span comes back; acct = a large object (heap_alloc/heap_objects drop). */
  free(s: number, acct: boolean): void {
    const stats = this.rt.mstats;
    const c = this.rt.mcache();
    stats.heap_alloc += c.local_cachealloc;
    c.local_cachealloc = 0;
    stats.heap_inuse -= this.spans.npages[s]! * PageSize;
    if (acct) {
      stats.heap_alloc -= this.spans.npages[s]! * PageSize;
      stats.heap_objects--;
    }
    this.freeLocked(s);
  }

  private freeLocked(s: number): void {
    const sp = this.spans;
    this.dropTypes(s);
    if (sp.state[s] !== MSpanState.InUse || sp.ref[s] !== 0 || sp.sweepgen[s] !== this.sweepgen) {
      throw new RuntimeThrow("MHeap_FreeLocked - invalid free", [
        `MHeap_FreeLocked - span ${hex(sp.base(s))} ptr ${hex(sp.base(s))} ` +
          `state ${sp.state[s]} ref ${sp.ref[s]} sweepgen ${sp.sweepgen[s]}/${this.sweepgen}`,
      ]);
    }
    this.rt.mstats.heap_idle += sp.npages[s]! * PageSize;
    sp.state[s] = MSpanState.Free;
    sp.sizeclass[s] = 0;
    sp.nelems[s] = 0;
    sp.remove(s);
    sp.unusedsince[s] = this.rt.nanotime();
    sp.npreleased[s] = 0;

    let p = this.pageIndex(sp.start[s]!);
    if (p > 0) {
      const t = this.spansMap[p - 1]!;
      if (t !== NIL && sp.state[t] !== MSpanState.InUse) {
        sp.start[s] = sp.start[t]!;
        sp.npages[s] = sp.npages[s]! + sp.npages[t]!;
        sp.npreleased[s] = sp.npreleased[t]!;
        sp.needzero[s] = sp.needzero[s]! | sp.needzero[t]!;
        p -= sp.npages[t]!;
        this.setSpanAt(p, s);
        sp.remove(t);
        this.freeSpanStruct(t);
      }
    }
    if ((p + sp.npages[s]!) * this.rt.arch.ptrSize < this.arena.spans_mapped) {
      const t = this.spansMap[p + sp.npages[s]!] ?? NIL;
      if (t !== NIL && sp.state[t] !== MSpanState.InUse) {
        sp.npages[s] = sp.npages[s]! + sp.npages[t]!;
        sp.npreleased[s] = sp.npreleased[s]! + sp.npreleased[t]!;
        sp.needzero[s] = sp.needzero[s]! | sp.needzero[t]!;
        this.setSpanAt(p + sp.npages[s]! - 1, s);
        sp.remove(t);
        this.freeSpanStruct(t);
      }
    }
    const n = sp.npages[s]!;
    sp.insert(n < MaxMHeapList ? this.freeLists[n]! : this.freelarge, s);
  }

  /**
   * MHeap_SplitSpan: split the in-use span of one object into two halves, each holding one
   * object (a one-page span becomes two half-page objects of one span). gccgo never calls it;
   * gc Go 1.3/1.4 do, to shrink a goroutine stack in place, so replaying their logs needs it.
   * Returns the address of the upper half, which stays allocated.
   */
  splitSpan(s: number): number {
    const sp = this.spans;
    if (sp.state[s] !== MSpanState.InUse) throw new RuntimeThrow("MHeap_SplitSpan on a free span");
    if (sp.sizeclass[s] !== 0 && sp.ref[s] !== 1) throw new RuntimeThrow("MHeap_SplitSpan doesn't have an allocated object");
    const npages = sp.npages[s]!;
    const flags = sp.objFlags[s]![0]!;
    sp.remove(s);
    const rt = this.rt;
    rt.liveObjects++;
    if (npages === 1) {
      const cl = sizeToClass(PageSize / 2);
      sp.sizeclass[s] = cl;
      sp.elemsize[s] = PageSize / 2;
      sp.carveObjects(s, 2);
      sp.ref[s] = 2;
      for (let i = 0; i < 2; i++) {
        sp.objFlags[s]![i] = flags;
        sp.objPins[s]![i] = 1;
      }
      sp.insertBack(this.central[cl]!.empty, s);
      return sp.base(s) + PageSize / 2;
    }
    if (npages % 2 !== 0) throw new RuntimeThrow("MHeap_SplitSpan on an odd size span");
    const half = npages / 2;
    const halfBytes = half * PageSize;
    const p = this.pageIndex(sp.start[s]!);
    const t = this.newSpanStruct();
    sp.init(t, sp.start[s]!, half);
    sp.limit[t] = sp.base(t) + halfBytes;
    sp.state[t] = MSpanState.InUse;
    sp.elemsize[t] = halfBytes;
    sp.sweepgen[t] = sp.sweepgen[s]!;
    sp.start[s] = sp.start[s]! + half;
    sp.npages[s] = half;
    sp.elemsize[s] = halfBytes;
    for (const span of [t, s]) {
      if (halfBytes <= MaxSmallSize) {
        sp.sizeclass[span] = sizeToClass(halfBytes);
        sp.ref[span] = 1;
      } else sp.sizeclass[span] = 0;
      sp.carveObjects(span, 1);
      sp.objFlags[span]![0] = flags;
      sp.objPins[span]![0] = 1;
    }
    for (let i = p; i < p + half; i++) this.setSpanAt(i, t);
    const cl = sp.sizeclass[s]!;
    if (cl > 0) sp.insertBack(this.central[cl]!.empty, s);
    else sp.insertBack(half < MaxMHeapList ? this.busy[half]! : this.busylarge, s);
    return sp.base(s);
  }

  /** types.compression = Empty: the span's Bytes/Words block is no longer referenced. */
  dropTypes(s: number): void {
    const sp = this.spans;
    const c = sp.typesCompression[s]!;
    if (c === MTypes.Bytes || c === MTypes.Words) this.rt.releaseInternal(sp.typesData[s]!);
    sp.typesCompression[s] = MTypes.Empty;
    sp.typesData[s] = 0;
    sp.types[s] = null;
  }

  /** Iterate the spans of allspans (creation order). */
  spanId(i: number): number {
    return this.firstSpanId + i;
  }
}

// --- specials (mheap.c addspecial, removespecial, freespecial, freeallspecials) --------------
//
// A span's special records (finalizers, profile samples) are kept sorted by offset, then
// kind; each costs a FixAlloc record (OtherSys). Adding or removing one sweeps the span first
// (MSpan_EnsureSwept), so that a sweep never sees a record added after its mark.

function fixallocOf(heap: MHeap, kind: 1 | 2): FixAlloc {
  return kind === KindSpecialFinalizer ? heap.specialfinalizeralloc : heap.specialprofilealloc;
}

/** The span of v, swept, and v's offset in it; `caller` names the runtime function that throws. */
function specialSpan(rt: Runtime, v: number, caller: string): { s: number; offset: number } {
  const s = rt.mheap.lookupMaybe(v);
  if (s === -1) throw new RuntimeThrow(`${caller} on invalid pointer`);
  ensureSwept(rt, s);
  return { s, offset: v - rt.mheap.spans.base(s) };
}

/** addspecial: false if a record of that kind already exists at that offset. */
export function addspecial(rt: Runtime, v: number, kind: 1 | 2, bucket: number): boolean {
  const heap = rt.mheap;
  const { s, offset } = specialSpan(rt, v, "addspecial");
  let list = heap.spans.specials[s];
  if (!list) {
    list = [];
    heap.spans.specials[s] = list;
  }
  let at = 0;
  while (at < list.length && (list[at]!.offset < offset || (list[at]!.offset === offset && list[at]!.kind < kind))) at++;
  if (at < list.length && list[at]!.offset === offset && list[at]!.kind === kind) return false;
  fixallocOf(heap, kind).alloc();
  list.splice(at, 0, { offset, kind, bucket });
  return true;
}

/** removespecial: true if a record was removed. */
export function removespecial(rt: Runtime, v: number, kind: 1 | 2): boolean {
  const heap = rt.mheap;
  const { s, offset } = specialSpan(rt, v, "removespecial");
  const list = heap.spans.specials[s];
  if (!list) return false;
  const at = list.findIndex((r) => r.offset === offset && r.kind === kind);
  if (at < 0) return false;
  list.splice(at, 1);
  fixallocOf(heap, kind).free(0);
  if (list.length === 0) heap.spans.specials[s] = null;
  return true;
}

/**
 * freespecial: the record of the object at p being freed (`freed`: explicitly, not by a
 * sweep) is released. A finalizer queues the object for the finalizer goroutine and returns
 * false: the object must live on (the sweep keeps it). A profile record tells the profiler.
 */
export function freespecial(rt: Runtime, rec: Special, p: number, size: number, freed: boolean): boolean {
  fixallocOf(rt.mheap, rec.kind).free(0);
  if (rec.kind === KindSpecialFinalizer) {
    rt.gc.queueFinalizer(p);
    return false;
  }
  rt.prof.free(rec.bucket, size, freed);
  return true;
}

/** freeallspecials: an object at span offset [off, off+size) is freed explicitly (runtime.free). */
export function freeallspecials(rt: Runtime, s: number, off: number, size: number): void {
  const sp = rt.mheap.spans;
  const list = sp.specials[s];
  if (!list) return;
  for (let i = 0; i < list.length; ) {
    const rec = list[i]!;
    if (rec.offset < off || rec.offset >= off + size) {
      i++;
      continue;
    }
    list.splice(i, 1);
    if (!freespecial(rt, rec, sp.base(s) + rec.offset, size, true)) throw new RuntimeThrow("can't explicitly free an object with a finalizer");
  }
  if (list.length === 0) sp.specials[s] = null;
}

/**
 * mheap.c scavenge: release (SysUnused) the free spans idle for longer than `limit` ns at
 * `now`, counting HeapReleased, and print the scvgK lines gctrace shows. The bytes released.
 */
export function scavenge(rt: Runtime, k: number, now: number, limit: number): number {
  const heap = rt.mheap;
  const sp = heap.spans;
  const stats = rt.mstats;
  let sumreleased = 0;
  const visit = (head: number): void => {
    for (let s = sp.next[head]!; s !== head; s = sp.next[s]!) {
      if (sp.state[s] !== MSpanState.Free) continue;
      if (now - sp.unusedsince[s]! > limit && sp.npreleased[s] !== sp.npages[s]) {
        const released = (sp.npages[s]! - sp.npreleased[s]!) * PageSize;
        stats.heap_released += released;
        sumreleased += released;
        sp.npreleased[s] = sp.npages[s]!;
      }
    }
  };
  for (let i = 0; i < heap.freeLists.length; i++) visit(heap.freeLists[i]!);
  visit(heap.freelarge);
  const MB = 2 ** 20;
  if (sumreleased > 0) rt.gc.scvg(`scvg${k}: ${Math.floor(sumreleased / MB)} MB released`);
  rt.gc.scvg(
    `scvg${k}: inuse: ${Math.floor(stats.heap_inuse / MB)}, idle: ${Math.floor(stats.heap_idle / MB)}, ` +
      `sys: ${Math.floor(stats.heap_sys / MB)}, released: ${Math.floor(stats.heap_released / MB)}, ` +
      `consumed: ${Math.floor((stats.heap_sys - stats.heap_released) / MB)} (MB)`,
  );
  return sumreleased;
}
