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

import {
  bgsweep,
  checkInvariants,
  createRuntime,
  FlagNoGC,
  FlagNoInvokeGC,
  FlagNoScan,
  FlagTypesFromLog,
  GCForce,
  RuntimeThrow,
  type Runtime,
} from "../runtime/index.js";
import { openTrace } from "../trace/detect.js";
import {
  FreeOrigin,
  RecordKind,
  TraceError,
  type RecordSink,
  type StackTable,
  type TraceFormat,
  type TraceParser,
  type TraceRecord,
} from "../trace/record.js";
import { GologSequencer, type HeldRecord, type SequencerTarget } from "./golog-sequencer.js";
import type { ReplayOptions } from "./options.js";
import { runPrologue } from "./prologue.js";

/** A live object of the trace. */
interface LiveObject {
  addr: number;
  /** Requested (native) or logged (golog) size. */
  size: number;
  /** Pointer-free and under 16 bytes: SetFinalizer may name an interior byte of it. */
  tiny: boolean;
}

export interface PeakPoint {
  value: number;
  event: number;
  line: number;
}

export type PeakName = "HeapAlloc" | "HeapInuse" | "HeapSys" | "Sys" | "HeapObjects";
export const PEAK_NAMES: readonly PeakName[] = ["HeapAlloc", "HeapInuse", "HeapSys", "Sys", "HeapObjects"];

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

/** Everything a replay produced; reports are built from this. */
export interface ReplayOutcome {
  file: string;
  format: TraceFormat;
  options: ReplayOptions;
  runtime: Runtime;
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
}

export interface JWSums {
  events: number;
  /** Σ over events of HeapInuse / live bytes (events with live bytes only). */
  ratioSum: number;
  ratioEvents: number;
  maxLive: number;
  allocatorAtMaxLive: number;
  maxAllocator: number;
  liveAtMaxAllocator: number;
}

export class ReplayEngine implements RecordSink, SequencerTarget {
  readonly rt: Runtime;
  readonly counts: TraceCounts = { lines: 0, events: 0, allocs: 0, frees: 0, deaths: 0, gcs: 0, skippedLines: 0, unknownFrees: 0 };
  readonly peaks: Record<PeakName, PeakPoint>;
  readonly jw: JWSums = {
    events: 0,
    ratioSum: 0,
    ratioEvents: 0,
    maxLive: 0,
    allocatorAtMaxLive: 0,
    maxAllocator: 0,
    liveAtMaxAllocator: 0,
  };
  liveRequestedBytes = 0;
  /** Requested bytes of live tiny sub-objects (they share 16-byte blocks). */
  liveTinyRequestedBytes = 0;
  fidelity: Fidelity | null = null;
  /** Line of the record being applied (for runtime throws). */
  line = 0;
  stoppedAt: { line: number; text: string } | null = null;
  private readonly objects = new Map<string, LiveObject>();
  private readonly golog: boolean;
  private readonly sequencer: GologSequencer | null;

  constructor(
    readonly file: string,
    format: TraceFormat,
    readonly options: ReplayOptions,
    stacks: StackTable,
  ) {
    this.golog = format === "golog";
    this.rt = createRuntime({
      arch: options.arch,
      dataEnd: options.dataEnd ?? undefined,
      gcpercent: options.gogc,
      memProfileRate: options.memprofilerate,
      seed: options.seed,
      efence: options.efence,
      unixEpochNs: options.unixEpochNs,
      stackDepth: (stack) => (stack < 0 ? 1 : Math.max(1, stacks.frames(stack).length)),
    });
    const zero = (): PeakPoint => ({ value: 0, event: 0, line: 0 });
    this.peaks = { HeapAlloc: zero(), HeapInuse: zero(), HeapSys: zero(), Sys: zero(), HeapObjects: zero() };
    this.sequencer = this.golog ? new GologSequencer(this, stacks, options.gc === "log") : null;
    if (this.golog) this.fidelity = { allocs: 0, addressMatches: 0, firstDivergence: null };
    const prologue = options.prologue === "auto" ? (this.golog ? "go1.3" : "none") : options.prologue;
    for (const o of runPrologue(this.rt, prologue, options.argc, options.envc)) {
      this.objects.set("0x" + o.addr.toString(16), { addr: o.addr, size: o.size, tiny: false });
    }
  }

  private fail(message: string): never {
    throw new TraceError(this.file, this.line, message);
  }

  private live(id: string): LiveObject {
    const o = this.objects.get(id);
    if (o === undefined) this.fail(`unknown object ${id} (never allocated, or already freed or dead)`);
    return o;
  }

  /** The trace no longer names o. */
  private forget(id: string, o: LiveObject): void {
    this.objects.delete(id);
    this.liveRequestedBytes -= o.size;
    if (o.tiny) this.liveTinyRequestedBytes -= o.size;
  }

  record(r: TraceRecord): void {
    this.line = r.line;
    const rt = this.rt;
    if (this.sequencer !== null && r.kind !== RecordKind.Until) {
      this.sequencer.record(r);
      this.countRecord(r);
      this.afterEvent();
      return;
    }
    switch (r.kind) {
      case RecordKind.Alloc:
        this.alloc(r);
        break;
      case RecordKind.Free: {
        const o = this.live(r.id);
        this.forget(r.id, o);
        this.counts.frees++;
        if (!rt.isAllocated(o.addr)) this.fail(`object ${r.id}: its tiny block was already freed`);
        rt.free(o.addr);
        break;
      }
      case RecordKind.Dead:
        this.dead(r);
        break;
      case RecordKind.GC:
        this.counts.gcs++;
        rt.gc.collect(GCForce.Eager);
        break;
      case RecordKind.Finalizer: {
        const o = this.live(r.id);
        rt.setFinalizer(o.addr + r.offset, o.tiny);
        break;
      }
      case RecordKind.Unfinalizer:
        rt.removeFinalizer(this.live(r.id).addr);
        break;
      case RecordKind.Clock:
        if (r.time < rt.clock) this.fail(`the clock goes backwards (${r.time} < ${rt.clock})`);
        rt.clock = r.time;
        bgsweep(rt, Number.MAX_SAFE_INTEGER);
        rt.gc.runFinalizers();
        rt.gc.scavengerAdvance(r.time);
        break;
      case RecordKind.Until:
        this.sequencer?.flushAll();
        this.stoppedAt = { line: r.line, text: r.text };
        return;
    }
    this.afterEvent();
  }

  /** End of input: apply what the golog sequencer still holds. */
  finish(): void {
    this.sequencer?.flushAll();
  }

  private afterEvent(): void {
    this.counts.events++;
    this.observe();
    if (this.options.checkInvariants) checkInvariants(this.rt);
  }

  private countRecord(r: TraceRecord): void {
    if (r.kind === RecordKind.Alloc) this.counts.allocs++;
    else if (r.kind === RecordKind.GC) this.counts.gcs++;
    else if (r.kind === RecordKind.Dead) {
      if (r.origin === FreeOrigin.Explicit) this.counts.frees++;
      else this.counts.deaths++;
    }
  }

  // --- SequencerTarget: golog records, in the order the runtime performed them -----------

  allocLogged(r: HeldRecord): void {
    const rt = this.rt;
    if (this.objects.has(r.id)) this.fail(`object ${r.id} is already live`);
    const typ = r.typeName !== null ? rt.typeWord(r.typeName, r.typeKind) : 0;
    // Logs print rounded sizes and no flags. An object of the logged size lands in the same
    // class; under 16 bytes it cannot have been a tiny block (those print as 0x10), so it
    // must not take the tiny path. The log's own type-table records stand in for settype.
    // With --gc log only the log's tracegc collects.
    const flags =
      (r.size < 16 ? 0 : FlagNoScan) | FlagTypesFromLog | (this.options.gc === "log" ? FlagNoInvokeGC : 0);
    const addr = rt.mallocgc(r.size, typ, flags, r.stack);
    this.objects.set(r.id, { addr, size: r.size, tiny: false });
    this.liveRequestedBytes += r.size;
    this.checkAddress(r.line, r.address, addr);
  }

  freeLogged(id: string, explicit: boolean, line: number): void {
    this.line = line;
    const o = this.objects.get(id);
    if (o === undefined) {
      this.counts.unknownFrees++;
      return;
    }
    this.forget(id, o);
    if (explicit) this.rt.free(o.addr);
    else this.rt.release(o.addr, false);
  }

  addressOf(id: string): number {
    return this.objects.get(id)?.addr ?? -1;
  }

  checkAddress(line: number, logged: number, emulated: number): void {
    const f = this.fidelity;
    if (f === null || logged < 0) return;
    f.allocs++;
    if (logged === emulated) f.addressMatches++;
    else if (f.firstDivergence === null) f.firstDivergence = { line, expected: logged, got: emulated };
  }

  private alloc(r: TraceRecord): void {
    const rt = this.rt;
    if (this.objects.has(r.id)) this.fail(`object ${r.id} is already live`);
    const typ = r.typeName !== null ? rt.typeWord(r.typeName, r.typeKind) : 0;
    const flags = r.flags;
    const tiny = !this.options.efence && (flags & (FlagNoScan | FlagNoGC)) === FlagNoScan && r.size > 0 && r.size < 16;
    const addr = rt.mallocgc(r.size, typ, flags, r.stack);
    this.objects.set(r.id, { addr, size: r.size, tiny });
    this.liveRequestedBytes += r.size;
    if (tiny) this.liveTinyRequestedBytes += r.size;
    this.counts.allocs++;
  }

  private dead(r: TraceRecord): void {
    const o = this.live(r.id);
    this.forget(r.id, o);
    this.counts.deaths++;
    if (!this.rt.isAllocated(o.addr)) this.fail(`object ${r.id}: its tiny block was already freed`);
    this.rt.release(o.addr);
  }

  /** Running figures after each event: peaks and the Johnstone–Wilson sums. */
  private observe(): void {
    const rt = this.rt;
    const st = rt.mstats;
    const events = this.counts.events;
    let cached = 0;
    for (const c of rt.mcaches) cached += c.local_cachealloc;
    const p = this.peaks;
    const bump = (peak: PeakPoint, value: number): void => {
      if (value > peak.value) {
        peak.value = value;
        peak.event = events;
        peak.line = this.line;
      }
    };
    bump(p.HeapAlloc, st.heap_alloc + cached);
    bump(p.HeapInuse, st.heap_inuse);
    bump(p.HeapSys, st.heap_sys);
    bump(p.Sys, st.sumSys());
    bump(p.HeapObjects, rt.liveObjects);
    const jw = this.jw;
    const live = this.liveRequestedBytes;
    const allocator = st.heap_inuse;
    jw.events++;
    if (live > 0) {
      jw.ratioSum += allocator / live;
      jw.ratioEvents++;
    }
    if (live > jw.maxLive) {
      jw.maxLive = live;
      jw.allocatorAtMaxLive = allocator;
    }
    if (allocator > jw.maxAllocator) {
      jw.maxAllocator = allocator;
      jw.liveAtMaxAllocator = live;
    }
  }
}

/** Replay a trace file (`-` = stdin). Errors in the trace or runtime throws end it early. */
export async function replayFile(path: string, options: ReplayOptions): Promise<ReplayOutcome> {
  const opened = await openTrace(path, {
    format: options.format,
    ...(options.until !== null ? { until: options.until } : {}),
  });
  const parser: TraceParser = opened.parser;
  const file = path === "-" ? "<stdin>" : path;
  const engine = new ReplayEngine(file, parser.format, options, parser.stacks);
  let error: ReplayError | null = null;
  try {
    for await (const chunk of opened.stream) {
      parser.push(chunk, engine);
      if (parser.stopped) break;
    }
    parser.end(engine);
    engine.finish();
  } catch (e) {
    if (e instanceof TraceError) error = { kind: "trace", line: e.line, message: e.message };
    else if (e instanceof RuntimeThrow) error = { kind: "runtime", line: engine.line, message: e.message };
    else throw e;
  }
  engine.counts.lines = parser.lines;
  engine.counts.skippedLines = parser.skippedLines;
  return {
    file,
    format: parser.format,
    options,
    runtime: engine.rt,
    stacks: parser.stacks,
    counts: engine.counts,
    peaks: engine.peaks,
    jw: engine.jw,
    liveRequestedBytes: engine.liveRequestedBytes,
    liveTinyRequestedBytes: engine.liveTinyRequestedBytes,
    requestedSizesKnown: parser.format === "native",
    fidelity: engine.fidelity,
    error,
    stoppedAt: engine.stoppedAt,
  };
}
