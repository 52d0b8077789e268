// Memory allocator: an exact emulation of gccgo's malloc.goc (the Go 1.3 allocator).
//
// The allocator works in runs of 8 KiB pages (spans). Small objects (up to 32 KiB) are
// rounded to one of 66 size classes, and each class has its own spans carved into equal
// objects. Large objects get whole spans.
//
// The data structures:
//   FixAlloc  a free-list allocator for fixed-size runtime metadata (mfixalloc.ts)
//   MHeap     the page heap, managed at page granularity (mheap.ts)
//   MSpan     a run of pages managed by the MHeap (mheap.ts)
//   MCentral  the spans of one size class, shared by all Ps (mcentral.ts)
//   MCache    a per-P cache of one span per class, plus the tiny block (mcache.ts)
//   MStats    allocation statistics (mstats.ts)
//
// Allocating a small object walks up a hierarchy of caches:
//   1. Round the size to a class and look at the MCache's span for that class. If it has a
//      free object, take it: no locks, no shared state.
//   2. Otherwise Refill: give the span back to its MCentral and take one with free objects,
//      sweeping unswept spans met on the way (CacheSpan).
//   3. If the MCentral has none, it gets a fresh span from the MHeap (MCentral.grow), which
//      first reclaims (sweeps) about as many pages as it needs.
//   4. If the MHeap has no free run big enough, it grows the arena by at least 1 MiB.
// Pointer-free requests under 16 bytes share 16-byte blocks (the tiny allocator). Large
// objects go straight to the MHeap.
//
// Freeing: explicitly freed small objects go back to their span's freelist (or, if another
// cache holds the span, to its freebuf), large ones straight to the heap. After a
// collection, sweeping frees what died (mgcsweep.ts), span by span, lazily.
//
// Not emulated: the mark phase (reachability comes from the trace), memory contents
// (zeroing is tracked as flags only), GOMAXPROCS > 1 interleavings (every event runs on
// P0 unless the caller selects another P), cgo callbacks, goroutine stacks on the heap,
// and the finalizer goroutine's own allocations.

import { ARCHES, Arena, OSMemory, roundUp, type Arch, type ArchName } from "./arena.js";
import { PersistentAlloc } from "./mfixalloc.js";
import { MCache } from "./mcache.js";
import { GC, GCForce } from "./mgc.js";
import { KindSpecialFinalizer, KindSpecialProfile, MHeap, MSpanState, MTypes, ObjFlag, addspecial, freeallspecials, removespecial } from "./mheap.js";
import { ensureSwept } from "./mgcsweep.js";
import { DefaultMemProfileRate, FastrandSeedBase, MProf } from "./mprof.js";
import { MaxSmallSize, PageSize, TinySize, TinySizeClass, sizeToClass } from "./msize.js";
import { MStats, purgedHeapAlloc, toMemStats, updatememstats, type MemStats } from "./mstats.js";
import { InternalAlloc, RuntimeStack, type RuntimeObserver } from "./observer.js";
import { class_to_size } from "./sizeclasses.js";
import { RuntimeThrow, hex } from "./throw.js";
import { FreeOrigin } from "../free-origin.js";

import { FlagNoGC, FlagNoInvokeGC, FlagNoProfiling, FlagNoScan, FlagNoZero } from "./malloc-flags.js";
export { FlagNoGC, FlagNoInvokeGC, FlagNoProfiling, FlagNoScan, FlagNoZero };
/**
 * Not a runtime flag: goalloc's own, for replaying logs. The log prints the span type
 * tables the runtime allocated as records of their own, so the emulation must not make them
 * again; the object keeps its type word for output only.
 */
export const FlagTypesFromLog = 256;
/** settype's own allocation of a span type table (malloc.goc settype): never sampled, never scanned, never collecting. */
export const TypeTableFlags = FlagNoProfiling | FlagNoScan | FlagNoInvokeGC;

/** gc's parallel-for descriptor request (0x480 once rounded, on 64- and 32-bit alike). */
const ParForDescSize = 1152;

export interface RuntimeOptions {
  arch?: ArchName;
  /** 32-bit: end of the program image (`_end`), which places the arena. */
  dataEnd?: number;
  /** GOGC as parsed by the runtime (-1 = off). */
  gcpercent?: number;
  memProfileRate?: number;
  /** Initial fastrand state of the M: 0x49f6428a + cputicks (cputicks = 0 by default). */
  seed?: number;
  efence?: boolean;
  gomaxprocs?: number;
  /** Unix ns at emulated time 0 (LastGC = epoch + clock). */
  unixEpochNs?: number;
  /**
   * Replaying a log: sweep in CacheSpan's empty-list walk only towards garbage the log has
   * shown (see MCentral.knownGarbageFrom). Off for native traces.
   */
  logGuidedSweep?: boolean;
  /** Frames of a stack id, for profile bucket sizes (-1 = a runtime-internal allocation). */
  stackDepth?: (stack: number) => number;
  /** The trace's table of type names, which traceTypeWord's ids index (see typeWord). */
  traceTypes?: { text(id: number): string };
  observer?: RuntimeObserver | null;
}


/**
 * What a log shows of the rest of the current collection cycle (replay/golog-lookahead.ts),
 * for the sweeps a log does not print (see mcentral.ts, MCentral.logWalk).
 */
export interface LogSweepEvidence {
  /**
   * Where the background sweeper (sweepone's allspans index) is taken to be: the spans from
   * there on are unswept; -1 when the log gives no bound.
   */
  bgsweepPosition(): number;
  /** Does a sweep free an object of span s later in this cycle (so s is unswept until then)? */
  sweptLater(s: number): boolean;
  /** Does a refill's walk of the central lists free an object of span s later in this cycle? */
  refilledLater(s: number): boolean;
}

export class Runtime {
  readonly arch: Arch;
  readonly mstats = new MStats();
  readonly os: OSMemory;
  readonly persistent: PersistentAlloc;
  readonly arena: Arena;
  readonly mheap: MHeap;
  readonly mcaches: MCache[] = [];
  readonly gc: GC;
  readonly prof: MProf;
  readonly efence: boolean;
  /** The zero-size allocation address (runtime.zerobase, in the program image). */
  readonly zerobase: number;
  /** malloc.h MaxMem: 1 << 37 on 64-bit (the arena), ((uintptr)-1) on 32-bit; cnew panics past it. */
  readonly maxMem: number;
  observer: RuntimeObserver | null;
  /** Lines the runtime printed to stderr since the last takePrinted(). */
  readonly printed: string[] = [];
  /** Index of the P (mcache) the current event runs on. */
  currentP = 0;
  /**
   * Replaying a log whose collection cycle is the emulation's: refill walks follow the log's
   * evidence (mcentral.ts logWalk). A pacer replay turns it off once its collections part
   * from the log's, whose evidence then describes another cycle.
   */
  logGuidedSweep: boolean;
  /** Replaying a log (logGuidedSweep): what the log says ahead of the current record. */
  logEvidence: LogSweepEvidence | null = null;
  /** gc's parallel-for descriptor, once the first collection allocated it (0 before). */
  parforAddr = 0;
  /** Replaying a log: frees the log printed from refill walks so far (MSpans.refillOrder). */
  refillFrees = 0;
  /** Objects allocated and not yet freed or swept (Mallocs − Frees at this instant). */
  liveObjects = 0;
  /** Emulated monotonic clock, ns since start. */
  clock = 0;
  readonly unixEpochNs: number;
  private readonly stackDepthOf: (stack: number) => number;
  private readonly traceTypes: { text(id: number): string } | null;
  private readonly typeNames: string[] = [];
  private readonly typeIds = new Map<string, number>();

  constructor(options: RuntimeOptions = {}) {
    this.arch = ARCHES[options.arch ?? "amd64"];
    this.efence = options.efence ?? false;
    this.logGuidedSweep = options.logGuidedSweep ?? false;
    this.observer = null;
    this.unixEpochNs = options.unixEpochNs ?? 0;
    this.stackDepthOf = options.stackDepth ?? (() => 1);
    this.traceTypes = options.traceTypes ?? null;
    const dataEnd = options.dataEnd ?? this.arch.defaultDataEnd;
    this.zerobase = roundUp(dataEnd, 8) - 64;
    this.maxMem = this.arch.ptrSize === 8 ? 2 ** 37 : 0xffffffff;
    this.os = new OSMemory(this.arch);
    this.persistent = new PersistentAlloc(this.mstats, this.os);
    this.arena = new Arena(this.arch, this.mstats, this.os, dataEnd, this.printed);
    this.gc = new GC(this, options.gcpercent ?? 100);
    this.prof = new MProf(this, options.memProfileRate ?? DefaultMemProfileRate);
    this.mheap = new MHeap(this, this.arena);
    this.mallocinit(options.gomaxprocs ?? 1, options.seed ?? FastrandSeedBase);
    this.observer = options.observer ?? null;
  }

  /**
   * mallocinit and what follows it before any traced event: the bootstrap mcache (made while
   * fastrand is still 0, so next_sample = 0), the 16-byte self-test allocation and free, the
   * M's fastrand seed, and one mcache per further P.
   */
  private mallocinit(gomaxprocs: number, seed: number): void {
    this.mcaches.push(this.allocmcache());
    const v = this.mallocgcInternal(16, 0, FlagNoInvokeGC, RuntimeStack.SelfTest, InternalAlloc.SelfTest);
    this.free(v);
    this.prof.fastrand = seed >>> 0;
    for (let i = 1; i < gomaxprocs; i++) this.mcaches.push(this.allocmcache());
  }

  private allocmcache(): MCache {
    this.mheap.cachealloc.alloc();
    const c = new MCache(this);
    c.next_sample = this.prof.initialNextSample();
    return c;
  }

  /** The current P's mcache. */
  mcache(): MCache {
    return this.mcaches[this.currentP]!;
  }

  nanotime(): number {
    return this.clock;
  }

  unixnanotime(): number {
    return this.unixEpochNs + this.clock;
  }

  stackDepth(stack: number): number {
    return this.stackDepthOf(stack);
  }

  takePrinted(): string[] {
    return this.printed.splice(0, this.printed.length);
  }

  // --- types -----------------------------------------------------------------------------

  // A type word is a type's index times 4 plus its TypeInfo kind (0 single, 1 array, 2 chan);
  // index 0 is no type. A type of the trace's table (traceTypes), named by its id there, has
  // the odd index 2·id + 1, so the table is the only place its name is held; a type named by
  // text (a Go log's, the start-up's) has an even one, 2 + 2·its place in typeNames.

  /** The type word for a Go type name and TypeInfo kind. */
  typeWord(name: string, kind: number): number {
    let id = this.typeIds.get(name);
    if (id === undefined) {
      id = this.typeNames.length;
      this.typeNames.push(name);
      this.typeIds.set(name, id);
    }
    return (2 + 2 * id) * 4 + kind;
  }

  /** The type word for type `id` of the trace's table and a TypeInfo kind. */
  traceTypeWord(id: number, kind: number): number {
    return (2 * id + 1) * 4 + kind;
  }

  typeName(typ: number): string {
    const index = Math.floor(typ / 4);
    if (index === 0) return "";
    if (index % 2 === 1) return this.traceTypes?.text((index - 1) / 2) ?? "";
    return this.typeNames[(index - 2) / 2] ?? "";
  }

  // --- allocation ------------------------------------------------------------------------

  /**
   * mallocgc(size, typ, flag) for an allocation of the trace. With FlagTypesFromLog,
   * `loggedSettype` stands in for settype: it runs where mallocgc calls settype (after the
   * object is allocated, before tracealloc prints it), so a type table the log shows is
   * allocated, and printed, in the runtime's order (malloc.goc, mallocgc).
   */
  mallocgc(size: number, typ: number, flags: number, stack: number, loggedSettype?: () => void): number {
    return this.mallocgcInternal(size, typ, flags, stack, InternalAlloc.None, loggedSettype);
  }

  /**
   * A span type table a log shows: settype's own mallocgc (FlagNoProfiling | FlagNoScan |
   * FlagNoInvokeGC; malloc.goc, settype), made from inside the typed object's mallocgc.
   */
  allocLoggedTypeTable(size: number, stack: number): number {
    return this.mallocgcInternal(size, 0, TypeTableFlags, stack, InternalAlloc.TypeTable);
  }

  private mallocgcInternal(
    size: number,
    typ: number,
    flags: number,
    stack: number,
    internal: InternalAlloc,
    loggedSettype?: () => void,
  ): number {
    if (size === 0) return this.zerobase;
    if (size > this.maxMem) throw new RuntimeThrow("runtime: allocation size out of range", [], "panic");
    const c = this.mcache();
    const sp = this.mheap.spans;
    let v: number;
    let s: number;
    if (!this.efence && size <= MaxSmallSize) {
      if ((flags & (FlagNoScan | FlagNoGC)) === FlagNoScan && size < TinySize) {
        if (size <= c.tinysize) {
          let t = c.tiny;
          if (size % 8 === 0) t = roundUp(t, 8);
          else if (size % 4 === 0) t = roundUp(t, 4);
          else if (size % 2 === 0) t = roundUp(t, 2);
          const need = size + (t - c.tiny);
          if (need <= c.tinysize) {
            c.tiny += need;
            c.tinysize -= need;
            this.pin(t);
            return t;
          }
        }
        s = c.alloc[TinySizeClass]!;
        if (sp.nfreelist[s] === 0) s = c.refill(TinySizeClass);
        v = this.popObject(s);
        const obj = this.objectIndex(s, v);
        sp.objFlags[s]![obj] = sp.objFlags[s]![obj]! | ObjFlag.TinyBlock;
        if (TinySize - size > c.tinysize) {
          c.tiny = v + size;
          c.tinysize = TinySize - size;
        }
        size = TinySize;
      } else {
        const cl = sizeToClass(size);
        size = class_to_size[cl]!;
        s = c.alloc[cl]!;
        if (sp.nfreelist[s] === 0) s = c.refill(cl);
        v = this.popObject(s);
      }
      c.local_cachealloc += size;
    } else {
      s = this.largealloc(size);
      v = sp.base(s);
      size = sp.npages[s]! * PageSize;
    }
    if (flags & FlagNoGC) {
      const i = this.objectIndex(s, v);
      sp.objFlags[s]![i] = sp.objFlags[s]![i]! | ObjFlag.NoGC;
    }
    if ((flags & (FlagNoScan | FlagTypesFromLog)) === 0 && typ !== 0) this.settype(s, v, typ);
    else if (loggedSettype !== undefined) loggedSettype();
    this.observer?.tracealloc(v, size, typ, stack, internal);
    if ((flags & FlagNoProfiling) === 0 && this.prof.rate > 0) this.prof.maybeSample(v, size, stack);
    if ((flags & FlagNoInvokeGC) === 0 && this.mstats.heap_alloc >= this.mstats.next_gc) {
      this.gc.collect(GCForce.IfDue);
    }
    return v;
  }

  /** Take the freelist head of span s: allocated, one trace reference. */
  private popObject(s: number): number {
    const sp = this.mheap.spans;
    const top = --sp.nfreelist[s]!;
    const obj = sp.freelist[s]![top]!;
    sp.ref[s]!++;
    this.liveObjects++;
    sp.objFlags[s]![obj] = ObjFlag.Allocated;
    sp.objPins[s]![obj] = 1;
    return sp.base(s) + obj * sp.elemsize[s]!;
  }

  /** largealloc: a span of its own for one object. */
  private largealloc(size: number): number {
    const npages = Math.ceil(size / PageSize);
    const s = this.mheap.alloc(npages, 0, true);
    if (s === -1) throw new RuntimeThrow("out of memory", this.takePrinted());
    const sp = this.mheap.spans;
    sp.limit[s] = sp.base(s) + size;
    sp.carveObjects(s, 1);
    this.liveObjects++;
    sp.objFlags[s]![0] = ObjFlag.Allocated;
    sp.objPins[s]![0] = 1;
    return s;
  }

  /** gc's first-use allocation of its parallel-for descriptor (runtime_malloc: traced, kept). */
  allocParFor(): void {
    this.parforAddr = this.mallocgcInternal(ParForDescSize, 0, FlagNoInvokeGC, RuntimeStack.GC, InternalAlloc.ParFor);
  }

  private objectIndex(s: number, v: number): number {
    const sp = this.mheap.spans;
    return Math.floor((v - sp.base(s)) / sp.elemsize[s]!);
  }

  // --- type information (malloc.goc settype, gettype) --------------------------------------

  private settype(s: number, v: number, typ: number): void {
    const heap = this.mheap;
    const sp = heap.spans;
    if (sp.sizeclass[s] === 0) {
      sp.typesCompression[s] = MTypes.Single;
      sp.typesData[s] = typ;
      return;
    }
    const P = this.arch.ptrSize;
    const size = sp.elemsize[s]!;
    const i = this.objectIndex(s, v);
    const ntypes = Math.floor((sp.npages[s]! * PageSize) / size);
    const flags = FlagNoProfiling | FlagNoScan | FlagNoInvokeGC;
    switch (sp.typesCompression[s]) {
      case MTypes.Empty: {
        const data = this.mallocgcInternal(8 * P + ntypes, 0, flags, -1, InternalAlloc.TypeTable);
        const table = [0, typ, 0, 0, 0, 0, 0, 0];
        const index = new Uint8Array(ntypes);
        index[i] = 1;
        sp.typesCompression[s] = MTypes.Bytes;
        sp.typesData[s] = data;
        sp.types[s] = { table, index, words: null };
        return;
      }
      case MTypes.Words:
        sp.types[s]!.words![i] = typ;
        return;
      case MTypes.Bytes: {
        const t = sp.types[s]!;
        for (let j = 1; j < 8; j++) {
          if (t.table[j] === typ) {
            t.index[i] = j;
            return;
          }
          if (t.table[j] === 0) {
            t.table[j] = typ;
            t.index[i] = j;
            return;
          }
        }
        const data = this.mallocgcInternal(ntypes * P, 0, flags, -1, InternalAlloc.TypeTable);
        const words = new Float64Array(ntypes);
        for (let k = 0; k < ntypes; k++) words[k] = t.table[t.index[k]!]!;
        words[i] = typ;
        const old = sp.typesData[s]!;
        sp.typesCompression[s] = MTypes.Words;
        sp.typesData[s] = data;
        sp.types[s] = { table: t.table, index: t.index, words };
        this.releaseInternal(old);
        return;
      }
    }
  }

  /** gettype(v): the recorded type word of the object at v, or 0. */
  gettype(v: number): number {
    const s = this.mheap.lookupMaybe(v);
    if (s === -1) return 0;
    const sp = this.mheap.spans;
    switch (sp.typesCompression[s]) {
      case MTypes.Single:
        return sp.typesData[s]!;
      case MTypes.Words:
        return sp.types[s]!.words![this.objectIndex(s, v)]!;
      case MTypes.Bytes: {
        const t = sp.types[s]!;
        return t.table[t.index[this.objectIndex(s, v)]!]!;
      }
      default:
        return 0;
    }
  }

  // --- liveness from the trace -----------------------------------------------------------

  /** One more trace reference to the block holding v (tiny sub-allocations share blocks). */
  private pin(v: number): void {
    const s = this.mheap.lookup(v);
    const i = this.objectIndex(s, v);
    const pins = this.mheap.spans.objPins[s]!;
    if (pins[i] === 0 && this.prof.listener !== null && !this.profileInuseAt(s, i)) this.profileInuseMoved(s, i, 1);
    pins[i] = pins[i]! + 1;
  }

  /**
   * The object (or tiny sub-object) at v became unreachable. A death after the last
   * collection's mark (`afterMark`, the default) means that collection saw it alive: if it
   * has not swept the span yet, the object survives that sweep. A death known to predate the
   * mark (a log's tracefree) makes it garbage for the pending sweep. False (and nothing
   * changes) when v is not in a live object, e.g. a tiny block freed explicitly.
   * `freedByRefill`: the log printed its free from MCentral_CacheSpan (ObjFlag.FreedByRefill).
   * `unshown`: the log has not printed its free yet (ObjFlag.Unshown, see logShowsFree).
   */
  release(v: number, afterMark = true, freedByRefill = false, unshown = false): boolean {
    const heap = this.mheap;
    const sp = heap.spans;
    const s = heap.lookup(v);
    if (s === -1 || sp.state[s] !== MSpanState.InUse) return false;
    const i = this.objectIndex(s, v);
    const pins = sp.objPins[s]!;
    if (pins[i] === 0 || (sp.objFlags[s]![i]! & ObjFlag.Allocated) === 0) return false;
    pins[i] = pins[i]! - 1;
    if (pins[i] === 0 && this.prof.listener !== null && !this.profileInuseAt(s, i)) this.profileInuseMoved(s, i, -1);
    if (afterMark && pins[i] === 0 && sp.sweepgen[s] === ((heap.sweepgen - 2) >>> 0)) {
      sp.objFlags[s]![i] = sp.objFlags[s]![i]! | ObjFlag.Keep;
    }
    if (freedByRefill) {
      sp.objFlags[s]![i] = sp.objFlags[s]![i]! | ObjFlag.FreedByRefill;
      if (!unshown && pins[i] === 0) this.noteRefillFree(s);
    }
    if (unshown && pins[i] === 0) sp.objFlags[s]![i] = sp.objFlags[s]![i]! | ObjFlag.Unshown;
    return true;
  }

  /**
   * The log now prints the free of an object released earlier (`unshown`), from a refill's
   * walk (MCentral_CacheSpan) or not: the walk rules (mcentral.ts logWalk) may count it, if
   * no sweep has reclaimed it yet.
   */
  logShowsFree(v: number, byRefill: boolean): void {
    const heap = this.mheap;
    const s = heap.lookupMaybe(v);
    if (s === -1 || heap.spans.state[s] !== MSpanState.InUse) return;
    const i = this.objectIndex(s, v);
    const flags = heap.spans.objFlags[s]!;
    if ((flags[i]! & ObjFlag.Allocated) === 0 || heap.spans.objPins[s]![i] !== 0) return;
    flags[i] = (flags[i]! & ~ObjFlag.Unshown) | (byRefill ? ObjFlag.FreedByRefill : 0);
    if (byRefill) this.noteRefillFree(s);
  }

  /** A collection marks the object at p through the finalizer queue: its sweep keeps it (ObjFlag.Keep). */
  keepForFinalizer(p: number): void {
    const s = this.mheap.lookupMaybe(p);
    if (s === -1 || this.mheap.spans.state[s] !== MSpanState.InUse) return;
    const i = this.objectIndex(s, p);
    const flags = this.mheap.spans.objFlags[s]!;
    if ((flags[i]! & ObjFlag.Allocated) !== 0) flags[i] = flags[i]! | ObjFlag.Keep;
  }

  /** The log printed a refill's free of garbage in span s: the first since its sweep orders s (MSpans.refillOrder). */
  private noteRefillFree(s: number): void {
    this.refillFrees++;
    const sp = this.mheap.spans;
    if (sp.refillOrder[s] === 0) sp.refillOrder[s] = this.refillFrees;
  }

  /** A runtime-internal block (type table) is no longer referenced. */
  releaseInternal(v: number): void {
    if (!this.release(v)) throw new Error(`runtime-internal block ${hex(v)} is not live`);
  }

  /** True if the object at v is allocated (not freed, not swept). */
  isAllocated(v: number): boolean {
    const s = this.mheap.lookupMaybe(v);
    if (s === -1) return false;
    return (this.mheap.spans.objFlags[s]![this.objectIndex(s, v)]! & ObjFlag.Allocated) !== 0;
  }

  // --- explicit free (malloc.goc runtime·free) ---------------------------------------------

  /** mlookup(v): the in-use span holding v, or -1. Counts a lookup. */
  mlookup(v: number): number {
    this.mcache().local_nlookup++;
    return this.mheap.lookupMaybe(v);
  }

  /** __go_free(v) / runtime_free. The runtime does not check that v is the block's base. */
  free(v: number): void {
    if (v === 0) return;
    const s = this.mlookup(v);
    if (s === -1) throw new RuntimeThrow("free runtime_mlookup", [`free ${hex(v)}: not an allocated block`]);
    const heap = this.mheap;
    const sp = heap.spans;
    const size = sp.elemsize[s]!;
    const cl = sp.sizeclass[s]!;
    if (size < TinySize) throw new RuntimeThrow("freeing too small block");
    this.observer?.tracefree(v, size, FreeOrigin.Explicit);
    ensureSwept(this, s);
    const i = this.objectIndex(s, v);
    if (this.prof.listener !== null && this.profileInuseAt(s, i)) this.profileInuseMoved(s, i, -1);
    freeallspecials(this, s, i * size, size);
    sp.objFlags[s]![i] = 0;
    sp.objPins[s]![i] = 0;
    // A freed efence object's span stays in use: ReadMemStats keeps counting it.
    if (!this.efence) this.liveObjects--;
    const c = this.mcache();
    if (cl === 0) {
      sp.needzero[s] = 1;
      if (!this.efence) heap.free(s, true);
      c.local_nlargefree++;
      c.local_largefree += size;
      return;
    }
    c.local_nsmallfree[cl] = c.local_nsmallfree[cl]! + 1;
    c.local_cachealloc -= size;
    if (c.alloc[cl] === s) {
      sp.freelist[s]![sp.nfreelist[s]!] = i;
      sp.nfreelist[s]!++;
      sp.ref[s]!--;
    } else {
      c.freeObject(sp.base(s) + i * size, cl);
    }
  }

  // --- profile figures at another point than the last collection (mprof.ts) ---------------

  /**
   * Sampled objects in use now, per profile bucket (index: bucket id): those with a profile
   * record that a collection now would keep, referenced by the trace (pins) or NoGC.
   */
  profileInuse(): Float64Array {
    const heap = this.mheap;
    const sp = heap.spans;
    const inuse = new Float64Array(this.prof.buckets.length);
    for (let k = 0; k < heap.nspan; k++) {
      const s = heap.spanId(k);
      const list = sp.specials[s];
      if (!list || sp.state[s] !== MSpanState.InUse) continue;
      for (const rec of list) {
        if (rec.kind !== KindSpecialProfile) continue;
        const i = Math.floor(rec.offset / sp.elemsize[s]!);
        if (this.profileInuseAt(s, i)) inuse[rec.bucket] = inuse[rec.bucket]! + 1;
      }
    }
    return inuse;
  }

  /** Whether object i of span s counts as in use for the profile (see profileInuse). */
  private profileInuseAt(s: number, i: number): boolean {
    const sp = this.mheap.spans;
    return sp.objPins[s]![i] !== 0 || (sp.objFlags[s]![i]! & ObjFlag.NoGC) !== 0;
  }

  /**
   * Object i of span s starts (+1: a trace reference again, not NoGC) or stops (−1: its last
   * reference went, not NoGC; or it is freed explicitly) being in use: tell the profile
   * listener if the object was sampled.
   */
  private profileInuseMoved(s: number, i: number, delta: 1 | -1): void {
    const sp = this.mheap.spans;
    const list = sp.specials[s];
    if (!list) return;
    // The records are sorted by offset, then kind; a profile record is at the object's start.
    const offset = i * sp.elemsize[s]!;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const r = list[mid]!;
      if (r.offset < offset || (r.offset === offset && r.kind < KindSpecialProfile)) lo = mid + 1;
      else hi = mid;
    }
    const rec = list[lo];
    if (rec === undefined || rec.offset !== offset || rec.kind !== KindSpecialProfile) return;
    this.prof.listener!.inuseChanged(rec.bucket, this.prof.buckets[rec.bucket]!.size, delta);
  }

  // --- specials: the records live in mheap.ts (mheap.c addspecial, removespecial) ------------

  /** setprofilebucket: tag a sampled object with its bucket. */
  setProfileBucket(v: number, bucket: number): void {
    if (!addspecial(this, v, KindSpecialProfile, bucket)) throw new RuntimeThrow("setprofilebucket: profile already set");
  }

  /**
   * runtime.SetFinalizer(obj, f) for the pointer v, which the program got from an allocation
   * of a pointer-free object smaller than 16 bytes when `tinyInterior` (the runtime allows an
   * interior pointer then).
   */
  setFinalizer(v: number, tinyInterior: boolean): void {
    if (!tinyInterior) {
      const s = this.mlookup(v);
      if (s === -1 || this.mheap.spans.base(s) + this.objectIndex(s, v) * this.mheap.spans.elemsize[s]! !== v) {
        throw new RuntimeThrow("runtime.SetFinalizer", [
          "runtime.SetFinalizer: pointer not at beginning of allocated block",
        ]);
      }
    }
    if (!addspecial(this, v, KindSpecialFinalizer, -1)) {
      throw new RuntimeThrow("runtime.SetFinalizer", ["runtime.SetFinalizer: finalizer already set"]);
    }
  }

  /** runtime.SetFinalizer(obj, nil): removing a finalizer that is not set is fine. */
  removeFinalizer(v: number): void {
    removespecial(this, v, KindSpecialFinalizer);
  }

  // --- statistics ---------------------------------------------------------------------------

  /** updatememstats (mstats.ts): flush every cache and recompute the stale statistics. */
  updatememstats(): { nmalloc: number; nfree: number } {
    return updatememstats(this);
  }

  /** heap_alloc with the mcaches' counts purged in, without flushing them (mstats.ts purgedHeapAlloc). */
  purgedHeapAlloc(): number {
    return purgedHeapAlloc(this);
  }

  /** runtime.ReadMemStats. Flushes every mcache, which changes later allocation addresses. */
  readMemStats(): MemStats {
    this.updatememstats();
    return toMemStats(this.mstats);
  }
}
