// allocfreetrace writer: what the emulated gccgo runtime prints with GODEBUG=allocfreetrace=1.
//
// The emulated runtime calls the observer hooks where the real one prints (runtime/observer.ts),
// so records come out in the runtime's own order: type tables before the typed object, an
// explicit free before the sweep its EnsureSwept runs, a collection's sweep frees (ascending
// within a span) after its tracegc block; tiny sub-allocations print nothing. Each record is
// formatted as gccgo's C runtime prints it (libgo/runtime/mprof.goc runtime_tracealloc,
// runtime_tracefree, runtime_tracegc):
//
//   tracealloc(0xc208010000, 0x30, single object of main.T)   kind from typ & 3, TYPE if typ != 0
//   tracefree(0xc208010000, 0x30)                              sizes are the rounded ones
//   tracegc()  + empty line + the collecting goroutine + `end tracegc`
//
// then a goroutine header, the traceback (gccgo frames: the function on one line and
// `\t<file>:<line>` on the next, no arguments, no offsets) and one empty line.
//
// What an emulation cannot know is filled in by fixed rules, so the output is deterministic:
//   * Goroutines. The traced program runs on the main goroutine, 16 (gccgo hands out ids in
//     batches of 16 starting at 16, and runtime_main is the first goroutine); the scavenger
//     is 17; the background sweeper and the finalizer goroutine take the next ids when the
//     runtime creates them (first non-eager collection, first SetFinalizer). Sweeps inside
//     a collection run on g0: `goroutine 0 [idle]:`. Status: `running`, or `garbage
//     collection` for the goroutine that started a collection (also on its tracealloc of
//     gc's parallel-for descriptor, which gccgo prints with the current user goroutine).
//   * tracegc shows only the goroutine that started the collection, with no `created by`
//     line: the states of the other goroutines depend on scheduling that is not emulated.
//   * Frames of the program. A native trace names functions only; their location prints as
//     `\t:0`, gccgo's own form for an unknown file and line. A Go log's stacks are whole
//     tracebacks (runtime frames included) and are printed as the log had them.
//   * Frames of the runtime are gccgo's C function names with their libgo source file and
//     line 0 (the lines of that libgo are not modelled), but for gc's two sweeps, which
//     keep their libgo lines so that a reader can tell them apart. For a native trace an allocation is
//     `runtime_mallocgc` + the entry its type word implies (`__go_new` single object,
//     `__go_make_slice2` array, `__go_new_channel` channel, `__go_alloc` untyped) + the
//     program's frames. Type table: `runtime_mallocgc`, `settype`, then the typed allocation.
//     Explicit free: `__go_free` (the trace does not say who called it). Sweeps:
//     `runtime_MSpan_Sweep` then, by origin, `runtime_MCentral_CacheSpan` +
//     `runtime_MCache_Refill`, `MHeap_ReclaimList` (its busy-list walk) or `runtime_sweepone`
//     (its last resort) + `MHeap_Reclaim` + `runtime_MHeap_Alloc` (followed by the allocation
//     that needed the span), `runtime_sweepone` + `bgsweep`, `runtime_sweepone` + `gc` (with
//     the line of the sweep: leftover or eager) + `mgc` (g0), or `runtime_MSpan_EnsureSwept` + its caller (`__go_free`, profiling's
//     `addspecial` chain inside the allocation, or SetFinalizer's). A collection: `runtime_gc`
//     + `runtime.GC` when forced, + the allocation that triggered it, + `runfinq` or
//     `runtime_MHeap_Scavenger` when the finalizer goroutine or the scavenger forced it.
//     Frames the emulation cannot tell apart (largealloc or MCentral_Grow between
//     MHeap_Alloc and mallocgc, say) are left out.
// goalloc's golog reader reads this output back and classifies every free to its origin.
// Output is buffered and handed to the sink in pieces of about 256 KiB.

import { FreeOrigin, InternalAlloc, type ObservedRuntime, type RuntimeFreeOrigin } from "../runtime/index.js";
import type { ObserverFactory, ReplayObserver } from "../replay/replay.js";
import { RecordKind, type StackTable } from "../trace/record.js";

/** Receives the output text, piece by piece, in order. */
export type TextSink = (text: string) => void;

const FlushBytes = 256 * 1024;
const MainGoroutine = 16;
const ScavengerGoroutine = 17;

/** A runtime frame: libgo's function and file; line 0 (not modelled) unless it tells something. */
function frame(func: string, file: string, line = 0): string {
  return `${func}\n\t../../../src/libgo/runtime/${file}:${line}\n`;
}

const MALLOCGC = frame("runtime_mallocgc", "malloc.goc");
const GO_ALLOC = frame("__go_alloc", "malloc.goc");
const GO_FREE = frame("__go_free", "malloc.goc");
const SETTYPE = frame("settype", "malloc.goc");
const PROFILEALLOC = frame("runtime_profilealloc", "malloc.goc");
const SETFINALIZER = frame("runtime.SetFinalizer", "malloc.goc");
/** Entry points by TypeInfo kind (typ & 3): single object, array, channel. */
const ENTRY = [frame("__go_new", "go-new.c"), frame("__go_make_slice2", "go-make-slice.c"), frame("__go_new_channel", "chan.goc")];
const MSPAN_SWEEP = frame("runtime_MSpan_Sweep", "mgc0.c");
const SWEEPONE = frame("runtime_sweepone", "mgc0.c");
const BGSWEEP = frame("bgsweep", "mgc0.c");
const GC_ON_G0 = frame("gc", "mgc0.c") + frame("mgc", "mgc0.c");
// gc()'s two sweepone loops print with their libgo line (mgc0.c, gc): the first sweeps what
// the last cycle left, the second is the eager sweep; a reader tells them apart by the line.
const GC_LEFTOVER_SWEEP = frame("gc", "mgc0.c", 2253) + frame("mgc", "mgc0.c");
const GC_EAGER_SWEEP = frame("gc", "mgc0.c", 2376) + frame("mgc", "mgc0.c");
const ENSURESWEPT = frame("runtime_MSpan_EnsureSwept", "mgc0.c");
const RUNTIME_GC = frame("runtime_gc", "mgc0.c");
const FORCED_GC = frame("runtime.GC", "mgc0.c");
const RUNFINQ = frame("runfinq", "mgc0.c");
const PARFORALLOC = frame("runtime_parforalloc", "parfor.c");
/** Stacks whose text allocFrames keeps (a power of two). */
const STACK_TEXT_SLOTS = 1 << 14;

const CACHESPAN = frame("runtime_MCentral_CacheSpan", "mcentral.c") + frame("runtime_MCache_Refill", "mcache.c");
const RECLAIM = frame("MHeap_Reclaim", "mheap.c") + frame("runtime_MHeap_Alloc", "mheap.c");
const RECLAIM_LIST = frame("MHeap_ReclaimList", "mheap.c");
const ADDSPECIAL = frame("addspecial", "mheap.c");
const PROFILE_SPECIAL = ADDSPECIAL + frame("runtime_setprofilebucket", "mheap.c") + frame("runtime_MProf_Malloc", "mprof.goc") + PROFILEALLOC;
const ADD_FINALIZER = ADDSPECIAL + frame("runtime_addfinalizer", "mheap.c") + SETFINALIZER;
const REMOVE_FINALIZER = frame("removespecial", "mheap.c") + frame("runtime_removefinalizer", "mheap.c") + SETFINALIZER;
const SCAVENGER = frame("runtime_MHeap_Scavenger", "mheap.c");
const KIND_WORDS = ["single object", "array", "channel"];

const MAIN_RUNNING = `goroutine ${MainGoroutine} [running]:\n`;
const G0_IDLE = "goroutine 0 [idle]:\n";

function hex(n: number): string {
  return "0x" + n.toString(16);
}

export class AllocFreeTraceWriter implements ReplayObserver {
  private readonly chunks: string[] = [];
  private buffered = 0;
  /** The record being applied: its kind and, for an allocation, its stack and type word. */
  private kind: RecordKind | null = null;
  private allocStack = -1;
  private allocTyp = 0;
  /** An explicit free was just printed: EnsureSwept sweeps that follow belong to it. */
  private afterFree = false;
  /** Header of the goroutine that started the current collection. */
  private gcHeader = `goroutine ${MainGoroutine} [garbage collection]:\n`;
  private nextGoroutine = ScavengerGoroutine + 1;
  private bgsweepGoroutine = 0;
  private finalizerGoroutine = 0;
  /** Finalizers run when the last record began (a rise means runfinq forced the next GC). */
  private finalizersRun = 0;
  /**
   * The frames' text of recently printed stacks, direct-mapped by stack id: a trace prints the
   * same few stacks over and over, and one of a million stacks keeps no million strings.
   */
  private readonly stackTextId = new Int32Array(STACK_TEXT_SLOTS).fill(-1);
  private readonly stackText: string[] = new Array<string>(STACK_TEXT_SLOTS).fill("");

  /**
   * @param replay the replay whose runtime calls the hooks (its `rt` may be replaced before
   *   the first event, so it is read at each use)
   * @param completeStacks stacks are whole tracebacks (Go logs), printed without runtime frames
   */
  constructor(
    private readonly replay: { readonly rt: ObservedRuntime },
    private readonly stacks: StackTable,
    private readonly completeStacks: boolean,
    private readonly sink: TextSink,
  ) {}

  beginRecord(kind: RecordKind, stack: number, typ: number): void {
    this.kind = kind;
    this.allocStack = stack;
    this.allocTyp = typ;
    this.afterFree = false;
    this.finalizersRun = this.replay.rt.gc.finalizersRun;
    // runtime.SetFinalizer creates the finalizer goroutine on first use.
    if (kind === RecordKind.Finalizer && this.finalizerGoroutine === 0) this.finalizerGoroutine = this.nextGoroutine++;
  }

  tracealloc(addr: number, size: number, typ: number, stack: number, internal: InternalAlloc): void {
    const kind = typ === 0 ? "single object" : `${KIND_WORDS[typ & 3]} of ${this.replay.rt.typeName(typ)}`;
    let header = MAIN_RUNNING;
    let frames: string;
    switch (internal) {
      case InternalAlloc.TypeTable:
        // A log's table has its own whole traceback (settype's frames included).
        frames = this.completeStacks && stack >= 0 ? this.programFrames(stack) : MALLOCGC + SETTYPE + this.allocFrames(this.allocStack, this.allocTyp);
        break;
      case InternalAlloc.ParFor:
        header = this.gcHeader;
        frames = MALLOCGC + GO_ALLOC + PARFORALLOC + GC_ON_G0;
        break;
      default:
        this.afterFree = false;
        frames = this.allocFrames(stack, typ);
    }
    this.write(`tracealloc(${hex(addr)}, ${hex(size)}, ${kind})\n${header}${frames}\n`);
  }

  tracefree(addr: number, size: number, origin: RuntimeFreeOrigin): void {
    let header = MAIN_RUNNING;
    let frames: string;
    switch (origin) {
      case FreeOrigin.Explicit:
        this.afterFree = true;
        frames = GO_FREE;
        break;
      case FreeOrigin.CacheSpan:
        frames = MSPAN_SWEEP + CACHESPAN + this.allocFrames(this.allocStack, this.allocTyp);
        break;
      case FreeOrigin.Reclaim:
        frames = MSPAN_SWEEP + RECLAIM_LIST + RECLAIM + this.allocFrames(this.allocStack, this.allocTyp);
        break;
      case FreeOrigin.ReclaimSweepone:
        frames = MSPAN_SWEEP + SWEEPONE + RECLAIM + this.allocFrames(this.allocStack, this.allocTyp);
        break;
      case FreeOrigin.BgSweep:
        if (this.bgsweepGoroutine === 0) this.bgsweepGoroutine = this.nextGoroutine++;
        header = `goroutine ${this.bgsweepGoroutine} [running]:\n`;
        frames = MSPAN_SWEEP + SWEEPONE + BGSWEEP;
        break;
      case FreeOrigin.GCSweep:
        header = G0_IDLE;
        frames = MSPAN_SWEEP + SWEEPONE + GC_LEFTOVER_SWEEP;
        break;
      case FreeOrigin.GCEager:
        header = G0_IDLE;
        frames = MSPAN_SWEEP + SWEEPONE + GC_EAGER_SWEEP;
        break;
      case FreeOrigin.EnsureSwept:
        frames = MSPAN_SWEEP + ENSURESWEPT + this.ensureSweptCaller();
        break;
    }
    this.write(`tracefree(${hex(addr)}, ${hex(size)})\n${header}${frames}\n`);
  }

  tracegc(forced: boolean): void {
    const rt = this.replay.rt;
    let goroutine = MainGoroutine;
    let frames = RUNTIME_GC;
    if (forced) frames += FORCED_GC;
    else if (this.kind === RecordKind.Alloc) frames += this.allocFrames(this.allocStack, this.allocTyp);
    else if (this.kind === RecordKind.Clock) {
      // The program was idle: runfinq (after running finalizers) or the scavenger collects.
      if (rt.gc.finalizersRun > this.finalizersRun) {
        if (this.finalizerGoroutine === 0) this.finalizerGoroutine = this.nextGoroutine++;
        goroutine = this.finalizerGoroutine;
        frames += RUNFINQ;
      } else {
        goroutine = ScavengerGoroutine;
        frames += SCAVENGER;
      }
    }
    this.finalizersRun = rt.gc.finalizersRun;
    this.gcHeader = `goroutine ${goroutine} [garbage collection]:\n`;
    this.write(`tracegc()\n\n${this.gcHeader}${frames}end tracegc\n\n`);
    // A non-eager collection starts the background sweeper (after printing).
    if (!forced && this.bgsweepGoroutine === 0) this.bgsweepGoroutine = this.nextGoroutine++;
  }

  end(): void {
    this.flush();
  }

  private write(text: string): void {
    this.chunks.push(text);
    this.buffered += text.length;
    if (this.buffered >= FlushBytes) this.flush();
  }

  private flush(): void {
    if (this.buffered === 0) return;
    this.sink(this.chunks.join(""));
    this.chunks.length = 0;
    this.buffered = 0;
  }

  /** Frames of an allocation of the trace: its stack, under the runtime's entry frames. */
  private allocFrames(stack: number, typ: number): string {
    const program = this.programFrames(stack);
    if (this.completeStacks) return program;
    return MALLOCGC + (typ === 0 ? GO_ALLOC : ENTRY[typ & 3]) + program;
  }

  private programFrames(stack: number): string {
    if (stack < 0) return "";
    const slot = stack & (STACK_TEXT_SLOTS - 1);
    if (this.stackTextId[slot] === stack) return this.stackText[slot]!;
    const text = this.stacks
      .frames(stack)
      .map((f) => `${f.func}\n\t${f.location === "" ? ":0" : f.location}\n`)
      .join("");
    this.stackTextId[slot] = stack;
    this.stackText[slot] = text;
    return text;
  }

  /** Who called MSpan_EnsureSwept: an explicit free, or the record's SetFinalizer or profiling. */
  private ensureSweptCaller(): string {
    if (this.afterFree) return GO_FREE;
    if (this.kind === RecordKind.Finalizer) return ADD_FINALIZER;
    if (this.kind === RecordKind.Unfinalizer) return REMOVE_FINALIZER;
    return PROFILE_SPECIAL + this.allocFrames(this.allocStack, this.allocTyp);
  }
}

/** Stream a replay's allocfreetrace output to `sink` (pass to replay() / replayFile()). */
export function allocFreeTrace(sink: TextSink): ObserverFactory {
  return (replay, stacks, format) => new AllocFreeTraceWriter(replay, stacks, format === "golog", sink);
}
