// Replay of a Go allocfreetrace log: the runtime's calls read back from what it printed.
//
// Objects are named by their logged address. A log prints some records before the work
// that caused them: GologLookahead holds each collection cycle's records until the cycle is
// complete, and GologSequencer puts them back in the order the runtime performed them, calling
// the SequencerTarget methods here. The log's untraced start-up is inferred from its first
// records; every logged address is compared with the emulated one (fidelity). With the pacer
// (--gc pacer) the emulated collections follow the log's while they are the log's, and the
// replay can write the log's events as native records (`goalloc convert`, NativeEventSink).

import {
  FlagNoInvokeGC,
  FlagNoProfiling,
  FlagNoScan,
  FlagTypesFromLog,
  TypeTableFlags,
  TinySize,
  GCForce,
  MaxSmallSize,
  MSpanState,
  type Runtime,
  sizeToClass,
} from "../runtime/index.js";
import { FreeOrigin, RecordKind, type StackTable, type TraceRecord, TypeKind } from "../trace/record.js";
import { LiveTable, type LiveObject } from "./live-table.js";
import { GologSequencer, type HeldRecord, type SequencerTarget } from "./golog-sequencer.js";
import { GologLookahead, isSweeponeFree } from "./golog-lookahead.js";
import type { ResolvedReplayOptions, Schedule } from "./options.js";
import { inferDataEnd, runPrologue, startUpCandidates, type PrologueAlloc, type StartUp } from "./prologue.js";
import { ReplayCore, type Fidelity, type MemProfilePoint } from "./replay-core.js";
import { hex } from "../hex.js";
import type { NameTable } from "../trace/names.js";

/** Allocations of a log replayed under each start-up candidate to choose between them. */
const StartUpProbeAllocs = 256;

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

export class GologReplay extends ReplayCore implements SequencerTarget {
  readonly fidelity: Fidelity = { allocs: 0, addressMatches: 0, firstDivergence: null };
  /** The log's objects, by address text. */
  private readonly named = new LiveTable();
  private readonly sequencer: GologSequencer;
  /** The log's records, held until their collection cycle is complete (see golog-lookahead.ts). */
  private readonly lookahead: GologLookahead;
  private startUpPending = false;
  /** The log's first records, held until its start-up parameters are settled. */
  private startUpBuffer: TraceRecord[] = [];
  private startUpAllocs = 0;
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
  /** The start-up allocations that ran, by the key the log names them with. */
  private prologue: { key: string | null; alloc: PrologueAlloc }[] = [];
  /** `goalloc convert`: the log's events as a native trace would replay them (pacer mode). */
  private events: NativeEventSink | null = null;
  private eventsStarted = false;

  constructor(
    file: string,
    options: ResolvedReplayOptions,
    private readonly schedule: Schedule,
    stacks: StackTable,
    types: NameTable | null,
    timelineInterval?: number,
    memprofileAt?: MemProfilePoint,
  ) {
    // Pacer replays follow the log's evidence while their collections are the log's.
    super(file, options, stacks, true, types, timelineInterval, memprofileAt);
    const sequencer = new GologSequencer(this, stacks, options.gc === "log");
    this.sequencer = sequencer;
    this.lookahead = new GologLookahead(
      (r) => this.applyLogged(r),
      (site) => sequencer.isLeftoverSite(site),
      (addr) => this.rt.mheap.lookupMaybe(addr),
      options.gc === "pacer" ? (addrs) => this.deadAtLoggedCollection(addrs) : null,
    );
    const prologue = options.prologue === "auto" ? "go1.3" : options.prologue;
    const open = options.argc === null || options.envc === null || (this.runtime.arch.ptrSize === 4 && options.dataEnd === null);
    if (prologue === "go1.3" && open) this.startUpPending = true;
    else this.runStartUp({ kind: prologue, argc: options.argc ?? 1, envc: options.envc ?? 2, dataEnd: options.dataEnd, inferred: [] });
  }

  /**
   * Settle the log's start-up parameters. Those the user left open are chosen by replaying the
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
    const first = records.find((r) => r.kind === RecordKind.Alloc && r.address >= 0 && !this.sequencer.isSettype(r.stack));
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
        const trial = new GologReplay(this.file, { ...opts, dataEnd: concreteEnd, argc: c.argc, envc: c.envc, until: null }, this.schedule, this.stacks, this.types);
        try {
          for (const r of records) if (r.kind !== RecordKind.Until) trial.record(r);
          trial.finish();
        } catch {
          // A candidate that makes the log impossible simply scores what it matched so far.
        }
        const matches = trial.fidelity.addressMatches;
        if (matches > bestMatches) {
          bestMatches = matches;
          best = c;
        }
      }
      if (opts.argc === null && best.argc !== 1) inferred.push("argc");
      if (opts.envc === null && best.envc !== 2) inferred.push("envc");
    }
    this.runtime = this.makeRuntime(dataEnd);
    this.runStartUp({ kind: "go1.3", argc: best.argc, envc: best.envc, dataEnd, inferred });
    for (const r of records) this.record(r);
  }

  private runStartUp(s: StartUp): void {
    this.prologue = [];
    for (const o of this.startRuntime(s)) {
      // A zero-size object is runtime.zerobase, outside the heap: no log can name it.
      const key = o.addr === this.runtime.zerobase ? null : hex(o.addr);
      if (key !== null) this.remember(key, this.startUpObject(o));
      this.prologue.push({ key, alloc: o.alloc });
    }
  }

  /** The runtime reads the log's evidence of the sweeper ahead of the current record. */
  protected override prepareRuntime(rt: Runtime): void {
    const lookahead = this.lookahead;
    rt.logEvidence = {
      bgsweepPosition: () => this.bgsweepPosition(),
      sweptLater: (span) => lookahead.sweptLaterInCycle(span),
      refilledLater: (span) => lookahead.refilledLaterInCycle(span),
    };
  }

  /** Write the log's events as native records (pacer mode only: the log's own collections are not the program's). */
  emitNative(sink: NativeEventSink): void {
    if (this.options.gc !== "pacer") throw new Error("emitNative needs a Go log replayed with the pacer");
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

  /** o is live from now on, named by `id` (also start-up objects and split stacks). */
  private remember(id: string, o: LiveObject): void {
    this.named.set(id, o);
    this.counted(o.size, o.tiny, o.stack);
  }

  record(r: TraceRecord): void {
    this.line = r.line;
    if (this.startUpPending) {
      this.startUpBuffer.push({ ...r });
      if (r.kind === RecordKind.Alloc) this.startUpAllocs++;
      if (this.startUpAllocs >= StartUpProbeAllocs || r.kind === RecordKind.Until) this.settleStartUp();
      return;
    }
    if (r.kind !== RecordKind.Until) {
      this.lookahead.push(r);
      return;
    }
    this.observer?.beginRecord(r.kind, -1, 0);
    this.lookahead.drain();
    this.sequencer.flushAll();
    this.stopAt(r);
  }

  /** Apply what the lookahead and the sequencer still hold. */
  finish(): void {
    if (this.startUpPending) this.settleStartUp();
    this.lookahead.drain();
    this.sequencer.flushAll();
  }

  /**
   * With the pacer, a log's tracefree says which collection found an object dead, not when:
   * the sweep frees of a logged cycle are deaths just before the logged collection that
   * began it (before its trigger), the earliest point any collection could have found them.
   * (The log's own collections do not run; the emulated pacer's do.)
   */
  private deadAtLoggedCollection(addrs: number[]): void {
    const named = this.named;
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
    const sequencer = this.sequencer;
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
    const lookahead = this.lookahead;
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

  private countRecord(r: TraceRecord): void {
    if (r.kind === RecordKind.Alloc) this.counts.allocs++;
    else if (r.kind === RecordKind.GC) this.counts.gcs++;
    else if (r.kind === RecordKind.Dead) {
      if (r.origin === FreeOrigin.Explicit || r.origin === FreeOrigin.ShrinkStack) this.counts.frees++;
      else this.counts.deaths++;
    }
  }

  // --- SequencerTarget: log records, in the order the runtime performed them -------------

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
    const noInvokeGC = this.options.gc === "pacer" && !this.sequencer.mayInvokeGC(r.stack, r.goroutine) ? FlagNoInvokeGC : 0;
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
    const stale = this.named.find(id);
    if (stale < 0) return;
    this.forget(this.named, stale);
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
    const named = this.named;
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
    const named = this.named;
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
    const named = this.named;
    const slot = named.find(id);
    // An object the pacer made dead early still holds its slot until a sweep frees it.
    return slot < 0 ? (this.deadEarly.get(id) ?? -1) : named.addr[slot]!;
  }

  checkAddress(line: number, logged: number, emulated: number): void {
    const f = this.fidelity;
    if (logged < 0) return;
    f.allocs++;
    if (logged === emulated) f.addressMatches++;
    else if (f.firstDivergence === null) f.firstDivergence = { line, expected: logged, got: emulated };
  }

  liveObjects(): Iterable<LiveObject> {
    const named = this.named;
    return {
      *[Symbol.iterator]() {
        yield* named.objects();
      },
    };
  }
}
