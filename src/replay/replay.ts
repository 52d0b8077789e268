// The replay engine: trace records in, emulated runtime calls out.
//
// One ReplayEngine drives one Runtime. It names objects (trace IDs or golog addresses),
// checks that each record makes sense for the objects it names (unknown, reused or dead IDs
// are trace errors with FILE:LINE), applies the record to the runtime and keeps the running
// figures the report needs (peaks, Johnstone–Wilson sums, fidelity). It never prints.
//
// Deterministic scheduling rules for what a real process does concurrently:
//   * the background sweeper and the finalizer goroutine run when the program is idle, which
//     a trace shows as the clock moving on (`t` records): then the sweeper finishes the
//     cycle's sweep and queued finalizers run (ending with a forced, non-eager GC);
//   * the scavenger ticks every 60 s of emulated clock.

import { stat } from "node:fs/promises";
import {
  bgsweep,
  bgsweepTo,
  checkInvariants,
  createRuntime,
  FlagNoGC,
  FlagNoInvokeGC,
  FlagNoProfiling,
  FlagNoScan,
  FlagTypesFromLog,
  TypeTableFlags,
  TinySize,
  GCForce,
  MaxSmallSize,
  MSpanState,
  RuntimeStack,
  RuntimeThrow,
  type GCListener,
  type ObjectFootprint,
  type ObservedRuntime,
  type MemProfileRecord,
  type Runtime,
  type RuntimeObserver,
  type RuntimeSnapshot,
  objectFootprint,
  sizeToClass,
  takeSnapshot,
} from "../runtime/index.js";
import { LiveSites, ProfileAtPeak, type LiveSnapshot } from "./live-sites.js";
import { DEFAULT_TIMELINE_INTERVAL, TimelineRecorder, type Timeline } from "./timeline.js";
import { openRecordSource, type ReaderThread } from "../trace/source.js";
import {
  FreeOrigin,
  RecordKind,
  TraceError,
  type RecordSink,
  type StackTable,
  type TraceFormat,
  type TraceRecord,
  TypeKind,
} from "../trace/record.js";
import { HandleTable, LiveTable, type LiveObject, type ObjectSlots } from "./live-table.js";
import { GologSequencer, type HeldRecord, type SequencerTarget } from "./golog-sequencer.js";
import { GologLookahead, isSweeponeFree } from "./golog-lookahead.js";
import type { LogProfile } from "../trace/golog-profile.js";
import { resolveSchedule, type ReplayOptions, type ResolvedReplayOptions, type Schedule } from "./options.js";
import { inferDataEnd, runPrologue, startUpCandidates, type PrologueAlloc, type StartUp } from "./prologue.js";
import { hex } from "../hex.js";

/** Allocations of a log replayed under each start-up candidate to choose between them. */
const StartUpProbeAllocs = 256;

/**
 * A RuntimeObserver of a replay (allocfreetrace output). It is attached once the untraced
 * start-up has run, and told what the runtime does next on behalf of the trace.
 */
export interface ReplayObserver extends RuntimeObserver {
  /** A record of this kind is applied next; for an allocation, its stack id (-1 = none) and type word. */
  beginRecord(kind: RecordKind, stack: number, typ: number): void;
  /** The replay is over (also after an error). */
  end(): void;
}

/** Makes the observer of one replay; `replay.rt` is the runtime its hooks come from. */
export type ObserverFactory = (replay: { readonly rt: ObservedRuntime }, stacks: StackTable, format: TraceFormat) => ReplayObserver;

export type { LiveObject } from "./live-table.js";

export interface PeakPoint {
  value: number;
  event: number;
  line: number;
}

export type PeakName = "HeapAlloc" | "HeapInuse" | "HeapSys" | "Sys" | "HeapObjects";
export const PEAK_NAMES: readonly PeakName[] = ["HeapAlloc", "HeapInuse", "HeapSys", "Sys", "HeapObjects"];

/**
 * The point of the replay the memory profile shows (`--memprofile-at`): gc, as of the last
 * collection (runtime.MemProfile's figures); end, as a collection at the end of the replay
 * would publish them; peak, as a collection at the HeapAlloc peak's event would have.
 */
export type MemProfilePoint = "gc" | "end" | "peak";
export const MEMPROFILE_POINTS: readonly MemProfilePoint[] = ["gc", "end", "peak"];

export interface TraceCounts {
  lines: number;
  events: number;
  allocs: number;
  frees: number;
  deaths: number;
  gcs: number;
  skippedLines: number;
  /** golog: tracefree records of objects the log never showed allocated (untraced start-up). */
  unknownFrees: number;
  /** golog: allocations at an address the log never showed freed (the earlier object is forgotten). */
  untracedReuse: number;
}

export interface Fidelity {
  allocs: number;
  addressMatches: number;
  firstDivergence: { line: number; expected: number; got: number } | null;
}

export interface ReplayError {
  kind: "trace" | "runtime";
  line: number;
  message: string;
}

/**
 * What a native trace must hold to replay a Go log the way its pacer replay does (see
 * replay/convert.ts): every call the engine makes on the runtime for the log, in its order.
 */
export interface NativeEventSink {
  /** Once, before the first event: the untraced start-up allocations, by their log keys. */
  begin(prologue: readonly { key: string | null; alloc: PrologueAlloc }[]): void;
  alloc(key: string, size: number, flags: number, stack: number, typeName: string | null, typeKind: TypeKind): void;
  /** An explicit free (runtime.free). */
  free(key: string): void;
  /** Unreachable from now on: the next collection's sweep reclaims it. */
  dead(key: string): void;
  /** runtime.GC (or debug.FreeOSMemory's collection). */
  collect(): void;
  /** The background sweeper has passed the first `position` spans of this cycle's snapshot (allspans order). */
  yielded(position: number): void;
}

/** Everything a replay produced; reports are built from this. */
export interface ReplayOutcome {
  file: string;
  format: TraceFormat;
  /** The options with what was left to the input decided (arch, collection schedule). */
  options: ResolvedReplayOptions;
  /** Why collections happen where they do, and whether logged addresses are comparable. */
  schedule: Schedule;
  /** A Go log: what its first records say of the run that printed it. */
  logProfile: LogProfile | null;
  /** The runtime when the replay ended (after the error, if one stopped it). */
  snapshot: RuntimeSnapshot;
  stacks: StackTable;
  counts: TraceCounts;
  peaks: Record<PeakName, PeakPoint>;
  /** Johnstone–Wilson inputs: allocator memory (HeapInuse) and live requested bytes. */
  jw: JWSums;
  /** Live requested bytes now, and whether sizes were requested (native) or rounded (golog). */
  liveRequestedBytes: number;
  liveTinyRequestedBytes: number;
  requestedSizesKnown: boolean;
  fidelity: Fidelity | null;
  error: ReplayError | null;
  /** The `--until` line that stopped the replay, if any. */
  stoppedAt: { line: number; text: string } | null;
  /** monitor.signal stopped the replay before the end of its input. */
  interrupted: boolean;
  /** The start-up prologue that ran before the first event. */
  startUp: StartUp | null;
  /** Where the objects the trace still references at the end sit in the heap (fragmentation.internal). */
  liveFootprint: ObjectFootprint;
  /** Live bytes and objects per allocation stack at each peak's event. */
  liveAtPeaks: Record<PeakName, LiveSnapshot>;
  /** HeapAlloc, HeapInuse, HeapSys, NextGC, NumGC and HeapObjects over the replay. */
  timeline: Timeline;
  /** The point the memory profile of the snapshot shows (monitor.memprofileAt). */
  memprofileAt: MemProfilePoint;
}

/** What a caller watches or tunes while a replay runs, besides the runtime itself. */
export interface ReplayMonitor {
  /** Timeline sample every N events besides every collection (0: collections only). */
  timelineInterval?: number;
  /**
   * Called after each chunk of input: bytes read so far (decompressed), the input's size when
   * known (a plain file, not gzip or stdin), and events replayed so far.
   */
  progress?: (bytesRead: number, totalBytes: number | null, events: number) => void;
  /** Once aborted (Ctrl-C), the replay stops before the next chunk of input: outcome.interrupted. */
  signal?: AbortSignal;
  /** Which thread parses the trace (default "auto"); the outcome is the same. */
  readerThread?: ReaderThread;
  /** Told of every collection and scavenger line as they happen (the runtime keeps only the first and last). */
  collections?: GCListener;
  /** A Go log replayed with the pacer: where its events go as native records (convert.ts). */
  nativeSink?: (options: ResolvedReplayOptions, stacks: StackTable) => NativeEventSink;
  /** The point the memory profile shows (default gc); only peak makes the replay follow the profile's buckets. */
  memprofileAt?: MemProfilePoint;
}

export interface JWSums {
  events: number;
  /** Σ over events of HeapInuse and of live bytes: their ratio is the ratio of the time averages. */
  allocatorSum: number;
  liveSum: number;
  maxLive: number;
  allocatorAtMaxLive: number;
  maxAllocator: number;
  liveAtMaxAllocator: number;
}

export class ReplayEngine implements RecordSink, SequencerTarget {
  private runtime: Runtime;
  private readonly makeRuntime: (dataEnd: number | null) => Runtime;
  private startUpPending = false;
  /** A log's first records, held until its start-up parameters are settled. */
  private startUpBuffer: TraceRecord[] = [];
  private startUpAllocs = 0;
  /** The start-up prologue that ran, with what was inferred. */
  startUp: StartUp | null = null;
  readonly counts: TraceCounts = { lines: 0, events: 0, allocs: 0, frees: 0, deaths: 0, gcs: 0, skippedLines: 0, unknownFrees: 0, untracedReuse: 0 };
  readonly peaks: Record<PeakName, PeakPoint>;
  readonly jw: JWSums = {
    events: 0,
    allocatorSum: 0,
    liveSum: 0,
    maxLive: 0,
    allocatorAtMaxLive: 0,
    maxAllocator: 0,
    liveAtMaxAllocator: 0,
  };
  liveRequestedBytes = 0;
  /** Requested bytes of live tiny sub-objects (they share 16-byte blocks). */
  liveTinyRequestedBytes = 0;
  fidelity: Fidelity | null = null;
  /** Live bytes per allocation site, with a snapshot at each peak (see live-sites.ts). */
  readonly liveSites = new LiveSites(PEAK_NAMES.length);
  /** The profile's buckets at the HeapAlloc peak, when the profile is asked for there. */
  readonly profileAtPeak: ProfileAtPeak | null;
  readonly timeline: TimelineRecorder;
  /** Line of the record being applied (for runtime throws). */
  line = 0;
  stoppedAt: { line: number; text: string } | null = null;
  /** A native trace's objects, by the handle the reader gave their ID (null for a golog). */
  private readonly handles: HandleTable | null;
  /** A golog's objects, by address text (null for a native trace). */
  private readonly named: LiveTable | null;
  /** A native trace's start-up objects: live, but no ID names them. */
  private readonly unnamed: LiveObject[] = [];
  private readonly golog: boolean;
  private readonly sequencer: GologSequencer | null;
  /** A log's records, held until their collection cycle is complete (see golog-lookahead.ts). */
  private readonly lookahead: GologLookahead | null;
  /** The span index of the first MHeap_Reclaim sweepone free before the coming allocation, or -1. */
  private reclaimBound = -1;
  /** Pacer: objects made dead at their logged collection, whose tracefree is still to come. */
  private readonly deadEarly = new Map<string, number>();
  /**
   * Pacer: every emulated collection so far started where the log's did (its trigger
   * allocation, or runtime.GC), so the log's evidence of the sweeper is of the emulated cycle.
   */
  private scheduleAligned = true;
  /** Pacer: the goroutine whose allocation started the latest emulated collection not yet logged, or null. */
  private emulatedTrigger: { goroutine: number } | null = null;
  /** The line of the last record that showed sweepone's progress (a sweepone free, a collection). */
  private sweeponeSeenLine = 0;
  private observer: ReplayObserver | null = null;
  private collections: GCListener | null = null;
  /** The start-up allocations that ran, by the key a log names them with. */
  private prologue: { key: string | null; alloc: PrologueAlloc }[] = [];
  /** `goalloc convert`: the log's events as a native trace would replay them (pacer mode). */
  private events: NativeEventSink | null = null;
  private eventsStarted = false;

  constructor(
    readonly file: string,
    format: TraceFormat,
    readonly options: ResolvedReplayOptions,
    private readonly schedule: Schedule,
    private readonly stacks: StackTable,
    timelineInterval = DEFAULT_TIMELINE_INTERVAL,
    memprofileAt: MemProfilePoint = "gc",
  ) {
    this.timeline = new TimelineRecorder(timelineInterval);
    this.profileAtPeak = memprofileAt === "peak" ? new ProfileAtPeak() : null;
    this.golog = format === "golog";
    this.handles = this.golog ? null : new HandleTable();
    this.named = this.golog ? new LiveTable() : null;
    this.makeRuntime = (dataEnd) =>
      createRuntime({
        arch: options.arch,
        dataEnd: dataEnd ?? undefined,
        gcpercent: options.gogc,
        memProfileRate: options.memprofilerate,
        seed: options.seed,
        efence: options.efence,
        unixEpochNs: options.unixEpochNs,
        // Pacer replays follow the log's evidence while their collections are the log's.
        logGuidedSweep: this.golog,
        stackDepth: (stack) => (stack < 0 ? 1 : Math.max(1, stacks.depth(stack))),
      });
    this.runtime = this.makeRuntime(options.dataEnd);
    const zero = (): PeakPoint => ({ value: 0, event: 0, line: 0 });
    this.peaks = { HeapAlloc: zero(), HeapInuse: zero(), HeapSys: zero(), Sys: zero(), HeapObjects: zero() };
    const sequencer = this.golog ? new GologSequencer(this, stacks, options.gc === "log") : null;
    this.sequencer = sequencer;
    this.lookahead =
      sequencer === null
        ? null
        : new GologLookahead(
            (r) => this.applyLogged(r),
            (site) => sequencer.isLeftoverSite(site),
            (addr) => this.rt.mheap.lookupMaybe(addr),
            options.gc === "pacer" ? (addrs) => this.deadAtLoggedCollection(addrs) : null,
          );
    if (this.golog) this.fidelity = { allocs: 0, addressMatches: 0, firstDivergence: null };
    const prologue = options.prologue === "auto" ? (this.golog ? "go1.3" : "none") : options.prologue;
    const open = options.argc === null || options.envc === null || (this.runtime.arch.ptrSize === 4 && options.dataEnd === null);
    if (prologue === "go1.3" && this.golog && open) this.startUpPending = true;
    else {
      this.startUp = { kind: prologue, argc: options.argc ?? 1, envc: options.envc ?? 2, dataEnd: options.dataEnd, inferred: [] };
      this.runStartUp();
    }
  }

  /** The emulated runtime (replaced only before the first event, when start-up is inferred). */
  get rt(): Runtime {
    return this.runtime;
  }

  /**
   * Settle a log's start-up parameters. Those the user left open are chosen by replaying the
   * buffered first records under each candidate (see startUpCandidates) and keeping the one
   * that puts the most allocations at their logged addresses: the first address alone cannot
   * tell, say, five arguments and two variables from two arguments and three variables.
   */
  private settleStartUp(): void {
    this.startUpPending = false;
    const records = this.startUpBuffer;
    this.startUpBuffer = [];
    const opts = this.options;
    const inferred: StartUp["inferred"] = [];
    let dataEnd = opts.dataEnd;
    // The first allocation the runtime made: a type table printed first happened second.
    const first = records.find((r) => r.kind === RecordKind.Alloc && r.address >= 0 && !this.sequencer!.isSettype(r.stack));
    // Another layout's addresses say nothing of this one's program image.
    if (first && dataEnd === null && this.schedule.addressesComparable) {
      dataEnd = inferDataEnd(this.runtime, first.address);
      if (dataEnd !== null) inferred.push("dataEnd");
    }
    let best = { argc: opts.argc ?? 1, envc: opts.envc ?? 2 };
    if (first && (opts.argc === null || opts.envc === null)) {
      const concreteEnd = dataEnd ?? (this.runtime.arch.ptrSize === 4 ? this.runtime.arch.defaultDataEnd : null);
      let bestMatches = -1;
      for (const c of startUpCandidates(this.runtime.arch.ptrSize, opts.argc, opts.envc)) {
        const probe = this.makeRuntime(concreteEnd);
        runPrologue(probe, "go1.3", c.argc, c.envc);
        if (probe.mallocgc(first.size, 0, this.loggedFlags(first.size), -1) !== first.address) continue;
        const trial = new ReplayEngine(this.file, "golog", { ...opts, dataEnd: concreteEnd, argc: c.argc, envc: c.envc, until: null }, this.schedule, this.stacks);
        try {
          for (const r of records) if (r.kind !== RecordKind.Until) trial.record(r);
          trial.finish();
        } catch {
          // A candidate that makes the log impossible simply scores what it matched so far.
        }
        const matches = trial.fidelity!.addressMatches;
        if (matches > bestMatches) {
          bestMatches = matches;
          best = c;
        }
      }
      if (opts.argc === null && best.argc !== 1) inferred.push("argc");
      if (opts.envc === null && best.envc !== 2) inferred.push("envc");
    }
    this.startUp = { kind: "go1.3", argc: best.argc, envc: best.envc, dataEnd, inferred };
    this.runtime = this.makeRuntime(dataEnd);
    this.runStartUp();
    for (const r of records) this.record(r);
  }

  private runStartUp(): void {
    const s = this.startUp!;
    // The runtime that replays the trace: the profile follows it from its mallocinit on.
    this.profileAtPeak?.attach(this.runtime);
    const lookahead = this.lookahead;
    if (lookahead !== null) {
      this.runtime.logEvidence = {
        bgsweepPosition: () => this.bgsweepPosition(),
        sweptLater: (span) => lookahead.sweptLaterInCycle(span),
        refilledLater: (span) => lookahead.refilledLaterInCycle(span),
      };
    }
    this.prologue = [];
    for (const o of runPrologue(this.runtime, s.kind, s.argc, s.envc)) {
      // A zero-size object is runtime.zerobase, outside the heap: no log can name it.
      const key = o.addr === this.runtime.zerobase ? null : hex(o.addr);
      if (key !== null) this.remember(key, { addr: o.addr, size: o.size, tiny: false, stack: RuntimeStack.StartUp });
      this.prologue.push({ key, alloc: o.alloc });
    }
    this.runtime.observer = this.observer;
    this.runtime.gc.listener = this.collections;
  }

  /** Write the log's events as native records (pacer mode only: the log's own collections are not the program's). */
  emitNative(sink: NativeEventSink): void {
    if (this.options.gc !== "pacer" || !this.golog) throw new Error("emitNative needs a Go log replayed with the pacer");
    this.events = sink;
  }

  private emitter(): NativeEventSink | null {
    const sink = this.events;
    if (sink !== null && !this.eventsStarted) {
      this.eventsStarted = true;
      sink.begin(this.prologue);
    }
    return sink;
  }

  /** Be told of every collection of the runtime from now on (start-up collects nothing: enablegc is off). */
  watchCollections(listener: GCListener): void {
    this.collections = listener;
    this.runtime.gc.listener = listener;
  }

  /** Observe the runtime from now on (start-up allocations are never traced). */
  observe(observer: ReplayObserver): void {
    this.observer = observer;
    this.runtime.observer = observer;
  }

  private fail(message: string): never {
    throw new TraceError(this.file, this.line, message);
  }

  /**
   * o is live from now on, named by `id` in a golog (start-up objects and split stacks); a
   * native trace names only its own allocations, so its start-up objects stay unnamed.
   */
  private remember(id: string, o: LiveObject): void {
    if (this.named !== null) this.named.set(id, o);
    else this.unnamed.push(o);
    this.counted(o.size, o.tiny, o.stack);
  }

  private counted(size: number, tiny: boolean, stack: number): void {
    this.liveRequestedBytes += size;
    if (tiny) this.liveTinyRequestedBytes += size;
    this.liveSites.add(stack, size);
  }

  /** The trace no longer names the object at slot of t; returns its emulated address. */
  private forget(t: ObjectSlots, slot: number): number {
    const size = t.size[slot]!;
    this.liveRequestedBytes -= size;
    if (t.tiny[slot] === 1) this.liveTinyRequestedBytes -= size;
    this.liveSites.remove(t.stack[slot]!, size);
    const addr = t.addr[slot]!;
    t.removeAt(slot);
    return addr;
  }

  record(r: TraceRecord): void {
    this.line = r.line;
    if (this.startUpPending) {
      this.startUpBuffer.push({ ...r });
      if (r.kind === RecordKind.Alloc) this.startUpAllocs++;
      if (this.startUpAllocs >= StartUpProbeAllocs || r.kind === RecordKind.Until) this.settleStartUp();
      return;
    }
    const rt = this.rt;
    if (this.lookahead !== null && r.kind !== RecordKind.Until) {
      this.lookahead.push(r);
      return;
    }
    if (this.observer !== null && r.kind !== RecordKind.Alloc) this.observer.beginRecord(r.kind, -1, 0);
    switch (r.kind) {
      case RecordKind.Alloc:
        this.alloc(r);
        break;
      case RecordKind.Free: {
        const addr = this.forget(this.handles!, r.handle);
        this.counts.frees++;
        // A zero-size object is runtime.zerobase, outside the heap: runtime·free throws on it
        // ("not an allocated block"), as the emulated runtime does.
        if (addr !== rt.zerobase && !rt.isAllocated(addr)) this.fail(`object ${r.id}: its tiny block was already freed`);
        rt.free(addr);
        break;
      }
      case RecordKind.Dead:
        this.dead(r);
        break;
      case RecordKind.GC:
        this.counts.gcs++;
        rt.gc.collect(GCForce.Eager);
        break;
      // runtime.SetFinalizer returns at once for zero-sized objects (all at runtime.zerobase).
      case RecordKind.Finalizer: {
        const addr = this.handles!.addr[r.handle]!;
        if (addr !== rt.zerobase) rt.setFinalizer(addr + r.offset, this.handles!.tiny[r.handle] === 1);
        break;
      }
      case RecordKind.Unfinalizer: {
        const addr = this.handles!.addr[r.handle]!;
        if (addr !== rt.zerobase) rt.removeFinalizer(addr);
        break;
      }
      case RecordKind.Clock:
        if (r.time < rt.clock) this.fail(`the clock goes backwards (${r.time} < ${rt.clock})`);
        // The program was idle until r.time: the background sweeper and the finalizer
        // goroutine get to run first (see BackgroundMode), then the scavenger ticks that fall
        // on the way.
        if (this.options.bgsweep === "clock") {
          bgsweep(rt, Number.MAX_SAFE_INTEGER);
          rt.gc.runFinalizers();
        }
        rt.gc.advanceClock(r.time);
        break;
      case RecordKind.Yield:
        // The program yielded until the background sweeper, one span per turn (mgc0.c
        // bgsweep: sweepone, then gosched), had passed the cycle's first r.time spans.
        // --bgsweep off: it never runs.
        if (this.options.bgsweep === "clock") bgsweepTo(rt, r.time);
        break;
      case RecordKind.Until:
        this.lookahead?.drain();
        this.sequencer?.flushAll();
        this.stoppedAt = { line: r.line, text: r.text };
        return;
    }
    this.afterEvent();
  }

  /** End of input (or an error in it): apply what the lookahead and the golog sequencer still hold. */
  finish(): void {
    if (this.startUpPending) this.settleStartUp();
    this.lookahead?.drain();
    this.sequencer?.flushAll();
  }

  /**
   * With the pacer, a log's tracefree says which collection found an object dead, not when:
   * the sweep frees of a logged cycle are deaths just before the logged collection that
   * began it (before its trigger), the earliest point any collection could have found them.
   * (The log's own collections do not run; the emulated pacer's do.)
   */
  private deadAtLoggedCollection(addrs: number[]): void {
    const named = this.named!;
    for (const a of addrs) {
      const id = hex(a);
      const slot = named.find(id);
      if (slot < 0) continue;
      this.emitter()?.dead(id);
      this.rt.release(this.forget(named, slot), true, false, true);
      this.deadEarly.set(id, a);
    }
  }

  /** A log record whose lookahead is known, in log order. */
  private applyLogged(r: TraceRecord): void {
    this.line = r.line;
    const sequencer = this.sequencer!;
    // MHeap_Reclaim's sweepone frees print before the allocation that needed pages, but its
    // refill's walk of the central lists came first (mallocgc → MCache_Refill →
    // MCentral_CacheSpan → MCentral_Grow → MHeap_Alloc → MHeap_Reclaim): for that walk the
    // first of them bounds where the background sweeper was.
    const sweepone = isSweeponeFree(r.kind, r.origin, r.viaSweepone);
    if (sweepone && r.origin === FreeOrigin.Reclaim && this.reclaimBound < 0) this.reclaimBound = this.spanIndexOf(r.id);
    sequencer.record(r);
    if ((r.kind === RecordKind.Alloc && !sequencer.isSettype(r.stack)) || r.kind === RecordKind.GC) this.reclaimBound = -1;
    if (sweepone || r.kind === RecordKind.GC) this.sweeponeSeenLine = r.line;
    this.countRecord(r);
    if (r.kind === RecordKind.GC && this.options.gc === "pacer") this.loggedCollection(r);
    this.afterEvent();
  }

  /** The allspans index of the span holding the live log object `id`, or -1. */
  private spanIndexOf(id: string): number {
    const addr = this.addressOf(id);
    if (addr < 0) return -1;
    const heap = this.rt.mheap;
    const s = heap.lookupMaybe(addr);
    return s < 0 ? -1 : s - heap.firstSpanId;
  }

  /**
   * For the emulated runtime (mcentral.ts): the allspans index of the span the next sweepone
   * free of this cycle comes from, a bound the real sweeper had not passed; -1 when unknown.
   */
  private bgsweepPosition(): number {
    const lookahead = this.lookahead!;
    const addr = lookahead.nextSweeponeFree();
    const upper = addr < 0 ? -1 : this.spanIndexOf(hex(addr));
    if (upper < 0) return this.reclaimBound;
    // Between the last sweep the log showed (the emulation's sweepone index) and the next,
    // the background sweeper is taken to advance at a steady pace: one span per scheduling
    // turn, the turns (sysmon's preemptions) evenly spread over the program's running time,
    // of which the log's lines are the measure. This allocation's own MHeap_Reclaim sweeps
    // (reclaimBound) come after its refill's walk: they only bound the sweeper from above.
    const lower = Math.min(this.rt.mheap.sweepSpanidx, upper);
    const from = this.sweeponeSeenLine;
    const to = lookahead.nextSweeponeFreeLine();
    let position = to <= from ? upper : lower + Math.floor(((upper - lower) * Math.max(0, this.line - from)) / (to - from));
    if (this.reclaimBound >= 0) position = Math.min(position, this.reclaimBound);
    return position;
  }

  private afterEvent(): void {
    this.counts.events++;
    this.updatePeaks();
    if (this.options.checkInvariants) checkInvariants(this.rt);
  }

  private countRecord(r: TraceRecord): void {
    if (r.kind === RecordKind.Alloc) this.counts.allocs++;
    else if (r.kind === RecordKind.GC) this.counts.gcs++;
    else if (r.kind === RecordKind.Dead) {
      if (r.origin === FreeOrigin.Explicit || r.origin === FreeOrigin.ShrinkStack) this.counts.frees++;
      else this.counts.deaths++;
    }
  }

  // --- SequencerTarget: golog records, in the order the runtime performed them -----------

  /**
   * Logs print rounded sizes and no flags. An object of the logged size lands in the same
   * class; under 16 bytes it cannot have been a tiny block (those print as 0x10), so it must
   * not take the tiny path. The log's own type-table records stand in for settype. With
   * --gc log only the log's tracegc collects.
   */
  private loggedFlags(size: number): number {
    return (size < TinySize ? 0 : FlagNoScan) | FlagTypesFromLog | (this.options.gc === "log" ? FlagNoInvokeGC : 0);
  }

  allocLogged(r: HeldRecord, table: HeldRecord | null = null): void {
    const rt = this.rt;
    this.forgetStale(r.id);
    const typ = r.typeName !== null ? rt.typeWord(r.typeName, r.typeKind) : 0;
    this.observer?.beginRecord(RecordKind.Alloc, r.stack, typ);
    this.flushIfLogShowsReadMemStats(r);
    const settype = table === null ? undefined : (): void => this.allocTypeTable(table);
    // The pacer collects only where the runtime could have: the traceback tells.
    const noInvokeGC = this.options.gc === "pacer" && !this.sequencer!.mayInvokeGC(r.stack, r.goroutine) ? FlagNoInvokeGC : 0;
    const events = this.emitter();
    if (events !== null) {
      // A native trace has no FlagTypesFromLog: the table goes first, as its own object (the
      // same heap, the same trigger check), and a type under 16 bytes, where the object is
      // not noscan, is dropped so that settype does not make a table the log did not show.
      if (table !== null) events.alloc(table.id, table.size, TypeTableFlags, table.stack, null, TypeKind.Single);
      events.alloc(r.id, r.size, (this.loggedFlags(r.size) & ~FlagTypesFromLog) | noInvokeGC, r.stack, r.size < TinySize ? null : r.typeName, r.typeKind);
    }
    // A collection this allocation starts belongs to its line.
    this.line = r.line;
    const pacer = this.options.gc === "pacer";
    const numgc = rt.mstats.numgc;
    if (pacer) this.followSchedule(r);
    const addr = rt.mallocgc(r.size, typ, this.loggedFlags(r.size) | noInvokeGC, r.stack, settype);
    if (pacer && rt.mstats.numgc !== numgc) this.emulatedTrigger = { goroutine: r.goroutine };
    this.remember(r.id, { addr, size: r.size, tiny: false, stack: r.stack });
    this.checkAddress(r.line, r.address, addr);
  }

  /**
   * Pacer: the log's sweeper evidence guides the emulated refill walks only while the
   * emulated cycle is the log's: as many collections as the log has shown, every one
   * started where the log's did. Another allocation of the goroutine that started an
   * emulated collection before the log shows one means the real trigger came later.
   */
  private followSchedule(r: HeldRecord): void {
    if (this.emulatedTrigger !== null && this.emulatedTrigger.goroutine === r.goroutine) this.scheduleAligned = false;
    this.rt.logGuidedSweep = this.scheduleAligned && this.rt.mstats.numgc === this.counts.gcs;
  }

  /** Pacer: the log shows a collection; it must be the one the emulation started (or runtime.GC's). */
  private loggedCollection(r: TraceRecord): void {
    if (r.forced) return;
    const started = this.emulatedTrigger;
    this.emulatedTrigger = null;
    if (started === null || started.goroutine !== r.goroutine || this.rt.mstats.numgc !== this.counts.gcs) this.scheduleAligned = false;
  }

  /**
   * A log shows runtime.ReadMemStats only through what it does: it flushes every mcache
   * (mgc0.c, updatememstats), and an mcache's span with no object left goes back to the
   * heap. When a logged allocation lands in the pages of such a span, one the emulation
   * still has cached for another size class, the real runtime had flushed its caches: the
   * emulation does too, before this allocation.
   */
  private flushIfLogShowsReadMemStats(r: HeldRecord): void {
    if (r.address < 0) return;
    const heap = this.rt.mheap;
    const s = heap.lookupMaybe(r.address);
    if (s < 0) return;
    const sp = heap.spans;
    if (sp.state[s] !== MSpanState.InUse || sp.incache[s] !== 1 || sp.ref[s] !== 0) return;
    if (r.size <= MaxSmallSize && sp.sizeclass[s] === sizeToClass(r.size)) return;
    this.rt.updatememstats();
  }

  /** The span type table the log printed before r: settype makes it inside r's mallocgc. */
  private allocTypeTable(t: HeldRecord): void {
    const line = this.line;
    // (A native trace got the table from allocLogged.)
    this.line = t.line;
    this.forgetStale(t.id);
    const addr = this.rt.allocLoggedTypeTable(t.size, t.stack);
    this.remember(t.id, { addr, size: t.size, tiny: false, stack: t.stack });
    this.checkAddress(t.line, t.address, addr);
    // The rest of mallocgc (a collection it may start) belongs to the typed object's record.
    this.line = line;
  }

  /**
   * The log reuses an address it never showed freed: the earlier object went untraced
   * (start-up) or the emulation diverged. Forget it; it stays allocated in the emulation.
   */
  private forgetStale(id: string): void {
    const named = this.named!;
    const stale = named.find(id);
    if (stale < 0) return;
    this.forget(named, stale);
    this.counts.untracedReuse++;
  }

  freeLogged(id: string, explicit: boolean, line: number, afterMark = false, origin = FreeOrigin.Unknown): void {
    this.line = line;
    const early = this.deadEarly.get(id);
    if (early !== undefined) {
      this.deadEarly.delete(id);
      this.rt.logShowsFree(early, origin === FreeOrigin.CacheSpan);
      return;
    }
    const named = this.named!;
    const slot = named.find(id);
    if (slot < 0) {
      this.counts.unknownFrees++;
      return;
    }
    const addr = this.forget(named, slot);
    const events = this.emitter();
    if (explicit) {
      events?.free(id);
      this.rt.free(addr);
    } else {
      events?.dead(id);
      this.rt.release(addr, afterMark, origin === FreeOrigin.CacheSpan);
    }
  }

  bgsweptTo(position: number): void {
    this.emitter()?.yielded(position);
  }

  forcedCollection(freeOSMemory: boolean): void {
    this.emitter()?.collect();
    if (freeOSMemory) this.rt.gc.freeOSMemory();
    else this.rt.gc.collect(GCForce.Eager);
  }

  shrinkStackLogged(id: string, line: number): void {
    this.line = line;
    const named = this.named!;
    const slot = named.find(id);
    if (slot < 0) {
      this.counts.unknownFrees++;
      return;
    }
    const rt = this.rt;
    const { size, stack } = named.object(slot);
    const addr = this.forget(named, slot);
    const upper = rt.mheap.splitSpan(rt.mheap.lookup(addr));
    const half = upper - addr;
    // The upper half stays the goroutine's stack: a log names it by its logged address.
    const loggedUpper = Number.parseInt(id, 16) + half;
    // A native trace cannot split a span: there the stack is freed and its upper half made anew.
    const events = this.emitter();
    if (events !== null) {
      events.free(id);
      events.alloc(hex(loggedUpper), size - half, FlagNoScan | FlagNoProfiling | FlagNoInvokeGC, stack, null, TypeKind.Single);
    }
    this.remember(hex(loggedUpper), { addr: upper, size: size - half, tiny: false, stack });
    rt.free(addr);
  }

  addressOf(id: string): number {
    const named = this.named!;
    const slot = named.find(id);
    // An object the pacer made dead early still holds its slot until a sweep frees it.
    return slot < 0 ? (this.deadEarly.get(id) ?? -1) : named.addr[slot]!;
  }

  checkAddress(line: number, logged: number, emulated: number): void {
    const f = this.fidelity;
    if (f === null || logged < 0) return;
    f.allocs++;
    if (logged === emulated) f.addressMatches++;
    else if (f.firstDivergence === null) f.firstDivergence = { line, expected: logged, got: emulated };
  }

  /** A native allocation: its reader has checked that its ID was not live. */
  private alloc(r: TraceRecord): void {
    const rt = this.rt;
    const typ = r.typeName !== null ? rt.typeWord(r.typeName, r.typeKind) : 0;
    this.observer?.beginRecord(RecordKind.Alloc, r.stack, typ);
    const flags = r.flags;
    const tiny = !this.options.efence && (flags & (FlagNoScan | FlagNoGC)) === FlagNoScan && r.size > 0 && r.size < 16;
    const addr = rt.mallocgc(r.size, typ, flags, r.stack);
    this.handles!.put(r.handle, addr, r.size, tiny, r.stack);
    this.counted(r.size, tiny, r.stack);
    this.counts.allocs++;
  }

  private dead(r: TraceRecord): void {
    const addr = this.forget(this.handles!, r.handle);
    this.counts.deaths++;
    // A zero-size object is runtime.zerobase, outside the heap: nothing to collect.
    if (addr === this.rt.zerobase) return;
    if (!this.rt.release(addr)) this.fail(`object ${r.id}: its tiny block was already freed`);
  }

  /** Running figures after each event: peaks (with their live sites), the timeline and the Johnstone–Wilson sums. */
  private updatePeaks(): void {
    const rt = this.rt;
    const st = rt.mstats;
    const heapAlloc = rt.purgedHeapAlloc();
    const p = this.peaks;
    // Indices are PEAK_NAMES order, the LiveSites snapshot numbers. Most events raise no peak:
    // the comparisons are made here, the rest in bump.
    if (heapAlloc > p.HeapAlloc.value) this.bump(0, p.HeapAlloc, heapAlloc);
    if (st.heap_inuse > p.HeapInuse.value) this.bump(1, p.HeapInuse, st.heap_inuse);
    if (st.heap_sys > p.HeapSys.value) this.bump(2, p.HeapSys, st.heap_sys);
    const sys = st.sumSys();
    if (sys > p.Sys.value) this.bump(3, p.Sys, sys);
    if (rt.liveObjects > p.HeapObjects.value) this.bump(4, p.HeapObjects, rt.liveObjects);
    this.timeline.observe(this.counts.events, this.line, heapAlloc, st.heap_inuse, st.heap_sys, st.next_gc, st.numgc, rt.liveObjects);
    const jw = this.jw;
    const live = this.liveRequestedBytes;
    const allocator = st.heap_inuse;
    jw.events++;
    jw.allocatorSum += allocator;
    jw.liveSum += live;
    if (live > jw.maxLive) {
      jw.maxLive = live;
      jw.allocatorAtMaxLive = allocator;
    }
    if (allocator > jw.maxAllocator) {
      jw.maxAllocator = allocator;
      jw.liveAtMaxAllocator = live;
    }
  }

  /** Peak k rose to value with the event just applied. */
  private bump(k: number, peak: PeakPoint, value: number): void {
    peak.value = value;
    peak.event = this.counts.events;
    peak.line = this.line;
    this.liveSites.mark(k);
    if (k === 0) this.profileAtPeak?.mark();
  }

  /** What the trace referenced at each peak's event, by allocation stack. */
  liveAtPeaks(): Record<PeakName, LiveSnapshot> {
    const at = (name: PeakName): LiveSnapshot => this.liveSites.snapshot(PEAK_NAMES.indexOf(name));
    return { HeapAlloc: at("HeapAlloc"), HeapInuse: at("HeapInuse"), HeapSys: at("HeapSys"), Sys: at("Sys"), HeapObjects: at("HeapObjects") };
  }

  /** The objects the trace references now (each iteration walks the current set afresh). */
  liveObjects(): Iterable<LiveObject> {
    const table: ObjectSlots = this.handles ?? this.named!;
    const unnamed = this.unnamed;
    return {
      *[Symbol.iterator]() {
        yield* unnamed;
        yield* table.objects();
      },
    };
  }
}

/**
 * The memory profile's records at the point asked for: as of the last collection (what
 * runtime.MemProfile returns, mprof.goc), at the end of the replay, or at the HeapAlloc peak
 * (the buckets ProfileAtPeak kept there).
 */
function profileAt(rt: Runtime, at: MemProfilePoint, peak: ProfileAtPeak | null): MemProfileRecord[] {
  switch (at) {
    case "gc":
      return rt.prof.memProfile();
    case "end":
      return rt.prof.profileNow();
    case "peak": {
      const { allocs, inuse } = peak!.snapshot();
      return rt.prof.recordsOf(allocs, inuse);
    }
  }
}

/**
 * Replay a trace file (`-` = stdin). Errors in the trace or runtime throws end it early.
 * `observe` makes an observer of the runtime (allocfreetrace output).
 */
export async function replayFile(path: string, options: ReplayOptions, observe?: ObserverFactory, monitor: ReplayMonitor = {}): Promise<ReplayOutcome> {
  const source = await openRecordSource(path, {
    format: options.format,
    until: options.until,
    ...(monitor.readerThread !== undefined ? { thread: monitor.readerThread } : {}),
  });
  const file = path === "-" ? "<stdin>" : path;
  let resolved: ReturnType<typeof resolveSchedule>;
  try {
    resolved = resolveSchedule(options, source.format, source.profile, file);
  } catch (e) {
    await source.close();
    throw e;
  }
  const memprofileAt = monitor.memprofileAt ?? "gc";
  const engine = new ReplayEngine(file, source.format, resolved.options, resolved.schedule, source.stacks, monitor.timelineInterval, memprofileAt);
  if (monitor.nativeSink !== undefined) engine.emitNative(monitor.nativeSink(resolved.options, source.stacks));
  const progress = monitor.progress;
  const input = progress === undefined || source.compressed || path === "-" ? null : await stat(path);
  const totalBytes = input?.isFile() ? input.size : null;
  if (monitor.collections !== undefined) engine.watchCollections(monitor.collections);
  const observer = observe ? observe(engine, source.stacks, source.format) : null;
  if (observer !== null) engine.observe(observer);
  let error: ReplayError | null = null;
  let interrupted = false;
  try {
    // Ctrl-C is looked at before each chunk (or batch) of input.
    for await (const bytesRead of source.feed(engine, monitor.signal)) {
      progress?.(bytesRead, totalBytes, engine.counts.events);
    }
    interrupted = source.interrupted;
    // An interrupted reader may hold half a line: only a complete input has a last line.
    if (!interrupted && !source.stopped) source.end(engine);
    engine.finish();
    if (!interrupted && options.until !== null && !source.stopped) {
      // The state at TEXT was asked for: the end of the trace is not it.
      error = { kind: "trace", line: source.lines, message: `${file}:${source.lines}: --until ${JSON.stringify(options.until)} matched no line up to here, the end; the report is of the whole trace` };
    }
  } catch (e) {
    if (e instanceof TraceError) {
      error = { kind: "trace", line: e.line, message: e.message };
      // A log's records before the bad line may still be held for lookahead: a partial
      // report includes them (unless applying them makes the runtime throw first).
      if (source.format === "golog") {
        try {
          engine.finish();
        } catch (held) {
          if (held instanceof RuntimeThrow) error = { kind: "runtime", line: engine.line, message: held.message };
          else if (!(held instanceof TraceError)) throw held;
        }
      }
    } else if (e instanceof RuntimeThrow) error = { kind: "runtime", line: engine.line, message: e.message };
    else throw e;
  } finally {
    await source.close();
  }
  observer?.end();
  engine.counts.lines = source.lines;
  engine.counts.skippedLines = source.skippedLines;
  const snapshot = takeSnapshot(engine.rt, (rt) => profileAt(rt, memprofileAt, engine.profileAtPeak));
  return {
    file,
    format: source.format,
    options: resolved.options,
    schedule: resolved.schedule,
    logProfile: source.profile,
    snapshot,
    stacks: source.stacks,
    counts: engine.counts,
    peaks: engine.peaks,
    jw: engine.jw,
    liveRequestedBytes: engine.liveRequestedBytes,
    liveTinyRequestedBytes: engine.liveTinyRequestedBytes,
    requestedSizesKnown: source.format === "native",
    fidelity: engine.fidelity,
    error,
    stoppedAt: engine.stoppedAt,
    interrupted,
    startUp: engine.startUp,
    liveFootprint: objectFootprint(engine.rt, engine.liveObjects()),
    liveAtPeaks: engine.liveAtPeaks(),
    timeline: engine.timeline.timeline(),
    memprofileAt,
  };
}
