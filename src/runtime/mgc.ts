// Garbage collection: pacing (GOGC), one collection, finalizers and the scavenger's clock
// (its release of idle spans is mheap.ts scavenge, where mheap.c keeps it).
//
// See malloc.ts for the overview. The mark phase is not emulated: reachability comes from
// the trace (an object is live until the trace says it died). What is emulated is
// everything the allocator can observe of a collection, in the runtime's order (go1.3.3 mgc0.c gc):
//   1. tracegc; the parallel-for descriptor on the first collection (a traced allocation);
//   2. finish the previous cycle's sweep (sweepone until done);
//   3. flush every mcache (ReleaseAll) and purge their statistics;
//   4. next_gc = heap_alloc + (heap_alloc - stacks_sys) * GOGC / 100;
//   5. bookkeeping (NumGC, pause, LastGC), the gctrace figures;
//   6. sweepgen += 2 and a fresh sweep snapshot; an eager (runtime.GC) cycle sweeps it all;
//   7. MProf_GC.
// Finalizers found during a sweep are queued; running them (finalizer goroutine) ends with
// a forced, non-eager collection. The scavenger runs on the emulated clock: every 60 s it
// forces a GC if none ran for 2 minutes and releases spans idle for 5 minutes.
//
// What gctrace would print of each collection and scavenger tick is kept only for the first
// and last GC_RECORDS_KEPT of each (a trace of a million `gc` lines must not hold a million
// records); a listener (GCListener) sees every one as it happens.

import type { Runtime } from "./malloc.js";
import { MSpanState, scavenge } from "./mheap.js";
import { sweepone } from "./mgcsweep.js";
import { FreeOrigin } from "../free-origin.js";

const WorkbufChunk = 1 << 20;
const FinBlockSize = 4096;
const ScavengeTickNs = 60e9;
const ForceGCPeriodNs = 120e9;
const ScavengeLimitNs = 300e9;

/** runtime_gc(force) levels. */
export const enum GCForce {
  /** Only if heap_alloc ≥ next_gc (mallocgc's trigger). */
  IfDue = 0,
  /** Always (scavenger, finalizer goroutine). */
  Always = 1,
  /** Always, and sweep everything before returning (runtime.GC, FreeOSMemory). */
  Eager = 2,
}

/** What GODEBUG=gctrace=1 prints for one collection (mgc0.c gc, its gctrace printf). */
export interface GCRecord {
  numgc: number;
  forced: GCForce;
  /** Emulated clock (ns) at the collection. */
  time: number;
  /** MB estimate of the live heap after the previous GC. */
  heap0: number;
  /** heap_alloc at mark (garbage included), bytes. */
  heapAlloc: number;
  nextGC: number;
  objects: number;
  mallocs: number;
  frees: number;
  /** Spans in the previous sweep snapshot; swept in background / inside pauses since the last GC. */
  nspan: number;
  nbgsweep: number;
  npausesweep: number;
}

/** Told of every collection and scavenger line as they happen, in that order (gctrace). */
export interface GCListener {
  collected(record: GCRecord): void;
  /** A line the scavenger prints with gctrace, after the collections so far. */
  scavenged(text: string): void;
}

/** Collections (and scavenger lines) kept at each end of a replay: the first N and the last N. */
export const GC_RECORDS_KEPT = 1024;

/** The first `kept` and the last `kept` items pushed, in order; those between are only counted. */
export class KeptEnds<T> {
  private readonly head: T[] = [];
  /** The last items, a ring once full: the oldest at `next`. */
  private readonly tail: T[] = [];
  private next = 0;
  /** Items pushed in all. */
  total = 0;

  constructor(readonly kept: number = GC_RECORDS_KEPT) {}

  push(item: T): void {
    this.total++;
    if (this.head.length < this.kept) this.head.push(item);
    else if (this.tail.length < this.kept) this.tail.push(item);
    else {
      this.tail[this.next] = item;
      this.next = (this.next + 1) % this.kept;
    }
  }

  /** The last item pushed. */
  last(): T | undefined {
    if (this.tail.length === 0) return this.head[this.head.length - 1];
    return this.tail[(this.next + this.tail.length - 1) % this.tail.length];
  }

  /** Items pushed but not kept (between the first and the last `kept`). */
  get elided(): number {
    return this.total - this.head.length - this.tail.length;
  }

  /** The kept items in the order they were pushed (a new array). */
  items(): T[] {
    return [...this.head, ...this.tail.slice(this.next), ...this.tail.slice(0, this.next)];
  }
}

/**
 * GOGC parsing (mgc0.c readgogc): unset → 100, "off" → -1 (disabled), else the runtime's
 * digits-only atoi into an int32 ("-5" → 0): a number past 2^31 - 1 wraps as it does in the
 * runtime, and a negative result turns collection off like "off".
 */
export function parseGOGC(value: string | undefined): number {
  if (value === undefined || value === "") return 100;
  if (value === "off") return -1;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    n = (Math.imul(n, 10) + d) | 0;
  }
  return n;
}

export class GC {
  gcpercent: number;
  private readonly history = new KeptEnds<GCRecord>();
  private readonly scavengerLines = new KeptEnds<{ afterGC: number; text: string }>();
  /** Sees every collection and scavenger line (the kept ones are only the first and last). */
  listener: GCListener | null = null;
  /** Background-swept and pause-swept span counts since the last gctrace line. */
  nbgsweep = 0;
  npausesweep = 0;
  private parforAllocated = false;
  private workbufAllocated = false;
  /** Finalizers waiting for the finalizer goroutine, and the 4 KiB blocks they need. */
  finq = 0;
  /**
   * The objects of the queued finalizers: the queue is a root of every collection until the
   * finalizer goroutine has run them (mgc0.c markroot, RootFinalizers), so each collection
   * marks them again.
   */
  private readonly finqObjects: number[] = [];
  private finBlocks = 0;
  /** Finalizers run so far. */
  finalizersRun = 0;
  private lastScavengeTick = 0;
  private scavengeRound = 0;
  /** Account repeated idle collections in bulk (see advanceClock); tests turn it off to compare. */
  repeatIdle = true;

  constructor(
    private readonly rt: Runtime,
    gcpercent: number,
  ) {
    this.gcpercent = gcpercent;
  }

  /** What gctrace prints of the first and the last GC_RECORDS_KEPT collections, in order. */
  get records(): GCRecord[] {
    return this.history.items();
  }

  /** Collections between those `records` keeps (NumGC − records.length). */
  get recordsElided(): number {
    return this.history.elided;
  }

  /**
   * The first and the last GC_RECORDS_KEPT lines the scavenger would print with gctrace, each
   * after the gctrace line of GC `afterGC`.
   */
  get scavengerLog(): { afterGC: number; text: string }[] {
    return this.scavengerLines.items();
  }

  private record(r: GCRecord): void {
    this.history.push(r);
    this.listener?.collected(r);
  }

  /** runtime_gc(force). Returns true if a collection ran. */
  collect(force: GCForce): boolean {
    const rt = this.rt;
    const stats = rt.mstats;
    if (!stats.enablegc || this.gcpercent < 0) return false;
    if (force === GCForce.IfDue && stats.heap_alloc < stats.next_gc) return false;
    for (const c of rt.mcaches) {
      c.tiny = 0;
      c.tinysize = 0;
    }
    this.gc(force);
    return true;
  }

  private gc(force: GCForce): void {
    const rt = this.rt;
    const heap = rt.mheap;
    const stats = rt.mstats;
    rt.observer?.tracegc(force === GCForce.Eager);
    if (!this.parforAllocated) {
      this.parforAllocated = true;
      rt.allocParFor();
    }
    const prevNspan = heap.sweepNspan;
    while (sweepone(rt, FreeOrigin.GCSweep) !== -1) this.npausesweep++;

    for (const c of rt.mcaches) c.releaseAll();
    if (!this.workbufAllocated) {
      this.workbufAllocated = true;
      rt.persistent.sysAlloc(WorkbufChunk, "gc_sys");
    }
    for (const c of rt.mcaches) c.purgeCachedStats();

    const heap0 = Math.floor((stats.next_gc * 100) / (this.gcpercent + 100));
    stats.next_gc =
      stats.heap_alloc + Math.floor(((stats.heap_alloc - stats.stacks_sys) * this.gcpercent) / 100);
    const now = rt.nanotime();
    stats.last_gc = rt.unixnanotime();
    const pause = 0;
    stats.pause_ns[stats.numgc % 256] = pause;
    stats.pause_end[stats.numgc % 256] = stats.last_gc;
    stats.pause_total_ns += pause;
    stats.numgc++;

    const counts = rt.updatememstats();
    this.record({
      numgc: stats.numgc,
      forced: force,
      time: now,
      heap0: Math.floor(heap0 / 2 ** 20),
      heapAlloc: stats.heap_alloc,
      nextGC: stats.next_gc,
      objects: counts.nmalloc - counts.nfree,
      mallocs: counts.nmalloc,
      frees: counts.nfree,
      nspan: prevNspan,
      nbgsweep: this.nbgsweep,
      npausesweep: this.npausesweep,
    });
    this.nbgsweep = 0;
    this.npausesweep = 0;

    // The snapshot array of the last cycle is freed once allspans has moved on (mheap.c RecordSpan, mgc0.c gc).
    if (heap.sweepspansGeneration !== -1 && heap.sweepspansGeneration !== heap.allspansGeneration) {
      stats.other_sys -= heap.sweepNspan * rt.arch.ptrSize;
    }
    heap.sweepspansGeneration = heap.allspansGeneration;
    heap.sweepNspan = heap.nspan;
    heap.sweepSpanidx = 0;
    heap.sweepgen = (heap.sweepgen + 2) >>> 0;
    heap.sweepdone = false;
    for (const p of this.finqObjects) rt.keepForFinalizer(p);

    if (force === GCForce.Eager) {
      while (sweepone(rt, FreeOrigin.GCEager) !== -1) this.npausesweep++;
      rt.prof.gc();
    }
    rt.prof.gc();
  }

  /**
   * runtime/debug.FreeOSMemory (mheap.c): an eager collection, then every free span is
   * released whatever its age (scavenge(-1, ~0, 0), which gctrace reports as scvg-1).
   */
  freeOSMemory(): void {
    this.collect(GCForce.Eager);
    scavenge(this.rt, -1, Number.MAX_SAFE_INTEGER, 0);
  }

  /** queuefinalizer: one more entry in the finalizer queue (4 KiB blocks from gc_sys), for the object at p. */
  queueFinalizer(p: number): void {
    const perBlock = this.rt.arch.ptrSize === 8 ? 127 : 255;
    this.finq++;
    this.finqObjects.push(p);
    const need = Math.ceil(this.finq / perBlock);
    while (this.finBlocks < need) {
      this.rt.persistent.alloc(FinBlockSize, 0, "gc_sys");
      this.finBlocks++;
    }
  }

  /** The finalizer goroutine: run the queued finalizers, then runtime_gc(1). */
  runFinalizers(): boolean {
    if (this.finq === 0) return false;
    this.finalizersRun += this.finq;
    this.finq = 0;
    this.finqObjects.length = 0;
    this.collect(GCForce.Always);
    return true;
  }

  /**
   * Move the emulated clock to `now` (ns since start), running the scavenger's 60 s ticks
   * that fall on the way, each at its own time.
   *
   * A long idle stretch forces a collection every 3 ticks. Once two of them in a row leave
   * the heap exactly as it was, every later one would too (nothing left to free, nothing
   * allocated): those are accounted without walking the heap (repeatIdleCollection), so that
   * a clock jump of months costs time in proportion to its ticks, not ticks × spans.
   */
  advanceClock(now: number): void {
    const rt = this.rt;
    let previous = "";
    let steady: GCRecord | null = null;
    let repeated = false;
    while (this.lastScavengeTick + ScavengeTickNs <= now) {
      this.lastScavengeTick += ScavengeTickNs;
      const k = this.scavengeRound++;
      const tick = this.lastScavengeTick;
      rt.clock = tick;
      if (rt.unixnanotime() - rt.mstats.last_gc > ForceGCPeriodNs) {
        if (steady !== null && this.repeatIdle) {
          this.repeatIdleCollection(steady, tick);
          repeated = true;
          this.scvg(`scvg${k}: GC forced`);
        } else if (this.collect(GCForce.Always)) {
          this.scvg(`scvg${k}: GC forced`);
          const now = this.idleSignature();
          if (now === previous) steady = this.history.last()!;
          previous = now;
        }
      }
      if (scavenge(this.rt, k, tick, ScavengeLimitNs) > 0) {
        steady = null;
        previous = "";
      }
    }
    if (repeated) this.afterRepeatedCollections();
    rt.clock = now;
  }

  /** What an idle collection could change: equal before and after means a fixed point. */
  private idleSignature(): string {
    const st = this.rt.mstats;
    const h = this.rt.mheap;
    return [st.heap_alloc, st.heap_inuse, st.heap_idle, st.heap_released, st.next_gc, this.rt.liveObjects, h.nspan, this.finq].join(",");
  }

  /** One more collection identical to `steady` but for its number and time. */
  private repeatIdleCollection(steady: GCRecord, tick: number): void {
    const rt = this.rt;
    const stats = rt.mstats;
    rt.observer?.tracegc(false);
    stats.last_gc = rt.unixnanotime();
    stats.pause_ns[stats.numgc % 256] = 0;
    stats.pause_end[stats.numgc % 256] = stats.last_gc;
    stats.numgc++;
    rt.mheap.sweepgen = (rt.mheap.sweepgen + 2) >>> 0;
    this.record({ ...steady, numgc: stats.numgc, time: tick });
    rt.prof.gc();
  }

  /** Leave the heap as the last repeated collection would: every span swept before it. */
  private afterRepeatedCollections(): void {
    const heap = this.rt.mheap;
    const sp = heap.spans;
    const unswept = (heap.sweepgen - 2) >>> 0;
    for (let i = 0; i < heap.nspan; i++) {
      const s = heap.spanId(i);
      if (sp.state[s] === MSpanState.InUse) sp.sweepgen[s] = unswept;
    }
    heap.sweepSpanidx = 0;
    heap.sweepdone = false;
  }

  /** A line the scavenger prints with gctrace (mheap.c scavenge), kept and told to the listener. */
  scvg(text: string): void {
    this.scavengerLines.push({ afterGC: this.rt.mstats.numgc, text });
    this.listener?.scavenged(text);
  }
}
