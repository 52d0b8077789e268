// Putting a Go allocfreetrace log back in the order the runtime did things (docs/exact-replay.md).
//
// A log prints some events later or earlier than they happened, and prints frees when a
// sweep reclaims them, not when the objects died. The sequencer holds back what the log
// shows early and releases what it shows late, so that the emulated runtime sees each
// death before the sweep that reclaims it and each allocation in the order it happened:
//   * a span type table (a tracealloc with a `settype` frame) is printed before the typed
//     object whose allocation made it: it is allocated right after that object;
//   * a collection's tracegc block is followed by what the collection itself printed:
//     its first-use parallel-for descriptor and the frees of its sweeps. Those deaths are
//     known before the emulated collection runs, which happens at the next other record;
//   * an explicit free is followed by the frees of the sweep its EnsureSwept ran: the free
//     waits for them (gc 1.3's shrinkstack first splits the stack's span in two and frees
//     the low half, an event the log shows only as that free);
//   * frees printed by the background sweeper make the emulation sweep, in allspans order,
//     up to and including that span (spans it swept with nothing to free are invisible);
//     frees printed by an EnsureSwept that no logged free explains (SetFinalizer, profile
//     records) make the emulation sweep that span there;
//   * frees printed from CacheSpan or Reclaim need nothing more: the emulated runtime sweeps
//     the same spans at the same points once it knows the deaths.

import { GCForce, type Runtime } from "../runtime/index.js";
import { bgsweep, ensureSwept } from "../runtime/mgcsweep.js";
import { FreeOrigin, RecordKind, TypeKind, type Frame, type StackTable, type TraceRecord } from "../trace/record.js";

/** The parts of a record the sequencer keeps while it holds the record back. */
export interface HeldRecord {
  id: string;
  address: number;
  size: number;
  line: number;
  stack: number;
  typeName: string | null;
  typeKind: TypeKind;
  /** The goroutine of the record's header (-1: none). */
  goroutine: number;
}

/** What the sequencer asks of the replay engine. */
export interface SequencerTarget {
  readonly rt: Runtime;
  /**
   * Allocate a log record (records its address for fidelity); `table` is the span type table
   * the log printed before it, which settype allocates inside the record's mallocgc.
   */
  allocLogged(r: HeldRecord, table?: HeldRecord | null): void;
  /**
   * A tracefree: the object is dead (explicit: freed now). afterMark: it died after the last
   * collection's mark, so that cycle's sweep must keep it (see Runtime.release).
   */
  freeLogged(id: string, explicit: boolean, line: number, afterMark?: boolean, origin?: FreeOrigin): void;
  /** gc 1.3's shrinkstack: split the stack's span in place and free its low half. */
  shrinkStackLogged(id: string, line: number): void;
  /** Where the log showed it sweeping, the background sweeper passed the first `position` spans of the cycle. */
  bgsweptTo(position: number): void;
  /** runtime.GC or debug.FreeOSMemory collects now (after its eager frees were applied). */
  forcedCollection(freeOSMemory: boolean): void;
  /** The emulated address of a live logged object, or -1. */
  addressOf(id: string): number;
  /** Compare a runtime-internal allocation with the address the log printed for it. */
  checkAddress(line: number, logged: number, emulated: number): void;
  /** Line of the record being applied, for errors. */
  line: number;
}

const SETTYPE = /(^|[._])settype$/;

/**
 * Frames under which an allocation cannot start a collection: runtime·gc returns at once
 * before schedinit sets enablegc, on g0 and while the M holds locks (mgc0.c runtime·gc;
 * proc.c: newproc1, allocm, starttheworld, ready, exitsyscall, entersyscallblock take
 * m->locks; newstack, mstart and what mcall runs are on g0; ReadMemStats and deferreturn
 * hold locks too). gc, gccgo and modern spellings alike.
 */
const NO_INVOKE_GC = /(^|[._])(schedinit|newproc1|allocm|newm|mcommoninit|starttheworld|ready|exitsyscall|entersyscallblock|newstack|morestack|mstart|mcall|ReadMemStats|deferreturn)$/i;
const MALLOCGC = /(^|[._])mallocgc$/;
const PARFORALLOC = /(^|[._])parforalloc$/;
const RUNTIME_GC = /^runtime[._]gc$/;

function hold(r: TraceRecord): HeldRecord {
  return {
    id: r.id,
    address: r.address,
    size: r.size,
    line: r.line,
    stack: r.stack,
    typeName: r.typeName,
    typeKind: r.typeKind,
    goroutine: r.goroutine,
  };
}

export class GologSequencer {
  private pendingTable: HeldRecord | null = null;
  private pendingFree: HeldRecord | null = null;
  private pendingFreeShrinks = false;
  private pendingGC: { forced: boolean; freeOSMemory: boolean; line: number; firstSite: number; eager: boolean } | null = null;
  /** Call sites (source lines) of gc()'s two sweeps, as learnt from the log (-1: not yet). */
  private leftoverSite = -1;
  private eagerSite = -1;
  private pendingParFor: HeldRecord | null = null;
  /** Pacer: the log's one parallel-for descriptor has been met. */
  private parForSeen = false;
  /** Span a sweep was printing frees for, and which sweep (BgSweep or EnsureSwept). */
  private sweptSpan = -1;
  private sweptBy: FreeOrigin = FreeOrigin.Unknown;
  /** Per stack id, what its traceback says (computed once a stack): see stackSays. */
  private readonly settypeStacks: (0 | 1)[] = [];
  private readonly invokeGCStacks: (0 | 1)[] = [];
  private readonly parForStacks: (0 | 1)[] = [];

  constructor(
    private readonly target: SequencerTarget,
    private readonly stacks: StackTable,
    /** Collect at the log's tracegc (true) or leave collections to the pacer. */
    private readonly followLogGC: boolean,
  ) {}

  /**
   * Is a free printed with gc's call site `site` one of its first (leftover) sweep, as far
   * as the log has taught the two sites (see sweptEagerly)?
   */
  isLeftoverSite(site: number): boolean {
    return site >= 0 && (site === this.leftoverSite || (this.eagerSite >= 0 && site < this.eagerSite));
  }

  /**
   * May an allocation with this traceback, on this goroutine, start a collection? Not on g0
   * (goroutine 0, or a traceback that does not start in mallocgc: the runtime prints the
   * user goroutine's stack for an allocation made on the scheduler's), nor under a frame of
   * NO_INVOKE_GC.
   */
  mayInvokeGC(stack: number, goroutine: number): boolean {
    return goroutine !== 0 && this.stackSays(this.invokeGCStacks, stack, (frames) => MALLOCGC.test(frames[0]?.func ?? "") && !frames.some((f) => NO_INVOKE_GC.test(f.func)));
  }

  /**
   * A tracealloc with this stack is gc's parallel-for descriptor: parforalloc on the stack
   * or, made on g0, the collecting goroutine's traceback, which starts in runtime.gc.
   */
  private isParFor(stack: number): boolean {
    return this.stackSays(this.parForStacks, stack, (frames) => RUNTIME_GC.test(frames[0]?.func ?? "") || frames.some((f) => PARFORALLOC.test(f.func)));
  }

  /** A tracealloc with this stack is a span type table (settype's own allocation). */
  isSettype(stack: number): boolean {
    return this.stackSays(this.settypeStacks, stack, (frames) => frames.some((f) => SETTYPE.test(f.func)));
  }

  /** test(frames of stack), remembered per stack id in memo (false for no stack). */
  private stackSays(memo: (0 | 1)[], stack: number, test: (frames: readonly Frame[]) => boolean): boolean {
    if (stack < 0) return false;
    let known = memo[stack];
    if (known === undefined) {
      known = test(this.stacks.frames(stack)) ? 1 : 0;
      memo[stack] = known;
    }
    return known === 1;
  }

  /** Apply one record (or hold it back). Returns true when the caller counts it as an event. */
  record(r: TraceRecord): void {
    const isDead = r.kind === RecordKind.Dead;
    if (this.pendingFree && !(isDead && r.origin === FreeOrigin.EnsureSwept)) this.flushFree();
    if (this.pendingGC) {
      if (isDead && r.origin === FreeOrigin.GCSweep) {
        this.target.freeLogged(r.id, false, r.line, this.sweptEagerly(r));
        return;
      }
      if (r.kind === RecordKind.Alloc && this.followLogGC && this.target.rt.parforAddr === 0 && r.typeName === null && this.pendingParFor === null) {
        // The collection's first-use descriptor, allocated by the emulated gc itself.
        this.pendingParFor = hold(r);
        return;
      }
      this.flushGC();
    }
    if (this.sweptSpan !== -1 && !(isDead && r.origin === this.sweptBy)) this.flushSweep();
    if (!this.followLogGC && r.kind === RecordKind.Alloc && !this.parForSeen && r.typeName === null && this.isParFor(r.stack)) {
      this.parForSeen = true;
      // gc's parallel-for descriptor: with the pacer, the emulated first collection makes
      // its own (wherever it happens); the log's is compared with it.
      this.flushAll();
      this.target.checkAddress(r.line, r.address, this.target.rt.parforAddr);
      return;
    }
    switch (r.kind) {
      case RecordKind.Alloc:
        if (this.isSettype(r.stack)) {
          if (this.pendingTable) this.flushTable();
          this.pendingTable = hold(r);
          return;
        }
        if (this.pendingTable) {
          const table = this.pendingTable;
          this.pendingTable = null;
          this.target.allocLogged(r, table);
        } else this.target.allocLogged(r);
        return;
      case RecordKind.Dead:
        if (this.pendingTable) this.flushTable();
        this.dead(r);
        return;
      case RecordKind.GC:
        this.flushAll();
        this.pendingGC = { forced: r.forced, freeOSMemory: r.freeOSMemory, line: r.line, firstSite: -1, eager: false };
        return;
      default:
        this.flushAll();
    }
  }

  /**
   * Was this free, printed by the collection just logged, made by its eager sweep? gc()
   * (mgc0.c) first sweeps what the previous cycle left unswept (objects dead at the previous
   * mark), and a forced collection (runtime.GC, FreeOSMemory: eagersweep) then sweeps the
   * whole new cycle (objects that died since). The two sweepone loops are two call sites in
   * gc(), the earlier one first: the log's traceback names the line. A non-forced collection
   * runs only the first loop, which teaches its line; a forced one that shows two lines
   * teaches both. Until both are known, a free from a span the previous cycle already swept
   * can only come from the second loop.
   */
  private sweptEagerly(r: TraceRecord): boolean {
    const gc = this.pendingGC!;
    const site = r.sweepSite;
    if (!gc.forced) {
      if (site >= 0 && this.leftoverSite < 0) this.leftoverSite = site;
      return false;
    }
    if (gc.eager || site < 0) return gc.eager;
    if (site === this.eagerSite) gc.eager = true;
    else if (site === this.leftoverSite) gc.eager = false;
    else if (gc.firstSite >= 0 && site !== gc.firstSite) {
      gc.eager = site > gc.firstSite;
      if (gc.eager) {
        this.eagerSite = site;
        this.leftoverSite = gc.firstSite;
      }
    } else if (this.leftoverSite >= 0 && site !== this.leftoverSite) {
      gc.eager = true;
      this.eagerSite = site;
    } else {
      const addr = this.target.addressOf(r.id);
      const rt = this.target.rt;
      const span = addr < 0 ? -1 : rt.mheap.lookup(addr);
      gc.eager = span >= 0 && rt.mheap.spans.sweepgen[span] === rt.mheap.sweepgen;
      if (gc.eager) this.eagerSite = site;
    }
    if (gc.firstSite < 0) gc.firstSite = site;
    return gc.eager;
  }

  private dead(r: TraceRecord): void {
    switch (r.origin) {
      case FreeOrigin.Explicit:
      case FreeOrigin.ShrinkStack:
        this.pendingFree = hold(r);
        this.pendingFreeShrinks = r.origin === FreeOrigin.ShrinkStack;
        return;
      case FreeOrigin.EnsureSwept:
      case FreeOrigin.BgSweep: {
        // After an explicit free, that free's EnsureSwept sweeps (it waits, see record()).
        // Otherwise SetFinalizer or a profile record swept the span: the log has no other
        // trace of that call, so the sweep is replayed here.
        if (r.origin === FreeOrigin.EnsureSwept && this.pendingFree) {
          this.target.freeLogged(r.id, false, r.line);
          return;
        }
        const addr = this.target.addressOf(r.id);
        const span = addr < 0 ? -1 : this.target.rt.mheap.lookup(addr);
        if (span !== this.sweptSpan || r.origin !== this.sweptBy) this.flushSweep();
        this.target.freeLogged(r.id, false, r.line);
        this.sweptSpan = span;
        this.sweptBy = r.origin;
        return;
      }
      default:
        this.target.freeLogged(r.id, false, r.line, false, r.origin);
    }
  }

  private flushTable(): void {
    const t = this.pendingTable!;
    this.pendingTable = null;
    this.target.line = t.line;
    this.target.allocLogged(t);
  }

  private flushFree(): void {
    const f = this.pendingFree!;
    this.pendingFree = null;
    this.target.line = f.line;
    if (this.pendingFreeShrinks) this.target.shrinkStackLogged(f.id, f.line);
    else this.target.freeLogged(f.id, true, f.line);
  }

  private flushGC(): void {
    const gc = this.pendingGC!;
    this.pendingGC = null;
    // The pacer decides when the runtime collects by itself; runtime.GC and FreeOSMemory
    // are the program's own calls and collect either way.
    if (!this.followLogGC && !gc.forced) return;
    const rt = this.target.rt;
    this.target.line = gc.line;
    if (gc.forced) this.target.forcedCollection(gc.freeOSMemory);
    else rt.gc.collect(GCForce.Always);
    const parfor = this.pendingParFor;
    if (parfor) {
      this.pendingParFor = null;
      this.target.checkAddress(parfor.line, parfor.address, rt.parforAddr);
    }
  }

  /**
   * The log showed a sweep of this span: the background sweeper (which walks the snapshot
   * in order, so every span before it is swept too) or an EnsureSwept.
   */
  private flushSweep(): void {
    const span = this.sweptSpan;
    this.sweptSpan = -1;
    if (span < 0) return;
    const rt = this.target.rt;
    if (this.sweptBy === FreeOrigin.EnsureSwept) {
      ensureSwept(rt, span);
      return;
    }
    const sp = rt.mheap.spans;
    let swept = false;
    while (sp.sweepgen[span] !== rt.mheap.sweepgen && !rt.mheap.sweepdone && bgsweep(rt, 1) === 1) swept = true;
    if (swept) this.target.bgsweptTo(rt.mheap.sweepSpanidx);
  }

  /** Apply everything held back (before a marker, another kind of record, or the end). */
  flushAll(): void {
    if (this.pendingFree) this.flushFree();
    if (this.pendingGC) this.flushGC();
    if (this.pendingTable) this.flushTable();
    if (this.sweptSpan !== -1) this.flushSweep();
  }
}
