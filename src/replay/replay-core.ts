// The shared core of a replay: one runtime, trace records in, running figures out.
//
// A ReplayCore drives one Runtime and keeps what the report needs whatever the input: the
// counts, the peaks (with the live sites and, when asked, the profile at the HeapAlloc peak),
// the Johnstone–Wilson sums, the timeline, and the requested bytes the trace still
// references. It never prints. How records name objects and reach the runtime is each
// input's own (a strategy per input, see replay.ts):
//   * NativeReplay (native-replay.ts): `goalloc-trace 1` records, objects by the reader's handle;
//   * GologReplay (golog-replay.ts): Go allocfreetrace logs, objects by address text, records
//     put back in the order the runtime performed them, start-up inferred from the log.

import {
  checkInvariants,
  createRuntime,
  RuntimeStack,
  type GCListener,
  type MemProfileRecord,
  type Runtime,
  type RuntimeObserver,
} from "../runtime/index.js";
import { LiveSites, ProfileAtPeak, type PeakCounters } from "./live-sites.js";
import type { NameTable } from "../trace/names.js";
import { DEFAULT_TIMELINE_INTERVAL, TimelineRecorder } from "./timeline.js";
import { TraceError, type RecordKind, type RecordSink, type StackTable, type TraceRecord } from "../trace/record.js";
import type { LiveObject, ObjectSlots } from "./live-table.js";
import type { ResolvedReplayOptions } from "./options.js";
import { runPrologue, type PrologueAlloc, type PrologueObject, type StartUp } from "./prologue.js";

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

/** A start-up allocation as the prologue made it (runPrologue). */
export type StartUpObject = PrologueObject & { alloc: PrologueAlloc };

export abstract class ReplayCore implements RecordSink {
  protected runtime: Runtime;
  /** A runtime as the options make it, with `dataEnd` for its arena (start-up inference makes several). */
  protected readonly makeRuntime: (dataEnd: number | null) => Runtime;
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
  /** How many logged addresses the emulation reproduced (a Go log; null for a native trace). */
  abstract readonly fidelity: Fidelity | null;
  /** Live bytes per allocation site, with a snapshot at each peak (see live-sites.ts). */
  readonly liveSites = new LiveSites(PEAK_NAMES.length);
  /** The profile's buckets at the HeapAlloc peak, when the profile is asked for there. */
  readonly profileAtPeak: ProfileAtPeak | null;
  readonly timeline: TimelineRecorder;
  /** Line of the record being applied (for runtime throws). */
  line = 0;
  stoppedAt: { line: number; text: string } | null = null;
  protected observer: ReplayObserver | null = null;
  private collections: GCListener | null = null;

  constructor(
    readonly file: string,
    readonly options: ResolvedReplayOptions,
    protected readonly stacks: StackTable,
    /** Pacer replays of a log follow its evidence of the sweeper while their collections are the log's. */
    logGuidedSweep: boolean,
    /** The trace's table of type names (native traces: records name types by id), or null. */
    protected readonly types: NameTable | null,
    timelineInterval = DEFAULT_TIMELINE_INTERVAL,
    /** The point the memory profile shows. */
    readonly memprofileAt: MemProfilePoint = "gc",
  ) {
    this.timeline = new TimelineRecorder(timelineInterval);
    this.profileAtPeak = memprofileAt === "peak" ? new ProfileAtPeak() : null;
    this.makeRuntime = (dataEnd) =>
      createRuntime({
        arch: options.arch,
        dataEnd: dataEnd ?? undefined,
        gcpercent: options.gogc,
        memProfileRate: options.memprofilerate,
        seed: options.seed,
        efence: options.efence,
        unixEpochNs: options.unixEpochNs,
        logGuidedSweep,
        stackDepth: (stack) => (stack < 0 ? 1 : Math.max(1, stacks.depth(stack))),
        ...(types !== null ? { traceTypes: types } : {}),
      });
    this.runtime = this.makeRuntime(options.dataEnd);
    const zero = (): PeakPoint => ({ value: 0, event: 0, line: 0 });
    this.peaks = { HeapAlloc: zero(), HeapInuse: zero(), HeapSys: zero(), Sys: zero(), HeapObjects: zero() };
  }

  /** The emulated runtime (replaced only before the first event, when start-up is inferred). */
  get rt(): Runtime {
    return this.runtime;
  }

  /** Apply one record of the input. */
  abstract record(r: TraceRecord): void;

  /** End of input (or an error in it): apply what is still held back. */
  abstract finish(): void;

  /** The objects the trace references now (each iteration walks the current set afresh). */
  abstract liveObjects(): Iterable<LiveObject>;

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

  /**
   * Run the untraced start-up `s` on the runtime the trace replays on, which the profile
   * follows from its mallocinit on; then hand the runtime to the observer and the collection
   * listener. Returns the start-up objects, for the input to name.
   */
  protected startRuntime(s: StartUp): StartUpObject[] {
    this.startUp = s;
    this.profileAtPeak?.attach(this.runtime);
    this.prepareRuntime(this.runtime);
    const objects = runPrologue(this.runtime, s.kind, s.argc, s.envc);
    this.runtime.observer = this.observer;
    this.runtime.gc.listener = this.collections;
    return objects;
  }

  /** What an input sets on its runtime before the start-up allocations run. */
  protected prepareRuntime(_rt: Runtime): void {}

  protected fail(message: string): never {
    throw new TraceError(this.file, this.line, message);
  }

  /** An object of `size` requested bytes, allocated at `stack`, is referenced from now on. */
  protected counted(size: number, tiny: boolean, stack: number): void {
    this.liveRequestedBytes += size;
    if (tiny) this.liveTinyRequestedBytes += size;
    this.liveSites.add(stack, size);
  }

  /** The trace no longer names the object at slot of t; returns its emulated address. */
  protected forget(t: ObjectSlots, slot: number): number {
    const size = t.size[slot]!;
    this.liveRequestedBytes -= size;
    if (t.tiny[slot] === 1) this.liveTinyRequestedBytes -= size;
    this.liveSites.remove(t.stack[slot]!, size);
    const addr = t.addr[slot]!;
    t.removeAt(slot);
    return addr;
  }

  /** A start-up object, live but allocated before the trace began. */
  protected startUpObject(o: StartUpObject): LiveObject {
    return { addr: o.addr, size: o.size, tiny: false, stack: RuntimeStack.StartUp };
  }

  /** The `--until` line: the replay stops here. */
  protected stopAt(r: TraceRecord): void {
    this.stoppedAt = { line: r.line, text: r.text };
  }

  /** An event was applied: count it and update the running figures. */
  protected afterEvent(): void {
    this.counts.events++;
    this.updatePeaks();
    if (this.options.checkInvariants) checkInvariants(this.rt);
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

  /**
   * The memory profile's records at the point asked for: as of the last collection (what
   * runtime.MemProfile returns, mprof.goc), at the end of the replay, or at the HeapAlloc peak
   * (the buckets ProfileAtPeak kept there). `rt` is this replay's runtime.
   */
  memProfile(rt: Runtime): MemProfileRecord[] {
    if (this.profileAtPeak !== null) {
      const { allocs, inuse } = this.profileAtPeak.snapshot();
      return rt.prof.recordsOf(allocs, inuse);
    }
    return this.memprofileAt === "end" ? rt.prof.profileNow() : rt.prof.memProfile();
  }

  /** What the trace referenced at each peak's event, by allocation stack. */
  liveAtPeaks(): Record<PeakName, PeakCounters> {
    const at = (name: PeakName): PeakCounters => this.liveSites.counters(PEAK_NAMES.indexOf(name));
    return { HeapAlloc: at("HeapAlloc"), HeapInuse: at("HeapInuse"), HeapSys: at("HeapSys"), Sys: at("Sys"), HeapObjects: at("HeapObjects") };
  }
}
