// Replay of a native trace (`goalloc-trace 1`): each record is one runtime call.
//
// Objects are named by the handle the reader gave their ID; the reader has checked that each
// record names objects it may (unknown, reused or dead IDs are trace errors with FILE:LINE).
// Deterministic scheduling rules for what a real process does concurrently:
//   * the background sweeper and the finalizer goroutine run when the program is idle, which
//     a trace shows as the clock moving on (`t` records): then the sweeper finishes the
//     cycle's sweep and queued finalizers run (ending with a forced, non-eager GC);
//   * a `y N` record yields until the background sweeper has passed the cycle's first N spans;
//   * the scavenger ticks every 60 s of emulated clock.

import { bgsweep, bgsweepTo, FlagNoGC, FlagNoScan, GCForce, TinySize } from "../runtime/index.js";
import { RecordKind, type StackTable, type TraceRecord } from "../trace/record.js";
import { HandleTable, type LiveObject } from "./live-table.js";
import type { ResolvedReplayOptions } from "./options.js";
import { ReplayCore, type MemProfilePoint } from "./replay-core.js";
import type { NameTable } from "../trace/names.js";

export class NativeReplay extends ReplayCore {
  /** Addresses are the emulation's own: there is nothing to compare them with. */
  readonly fidelity = null;
  /** The trace's objects, by the handle the reader gave their ID. */
  private readonly handles = new HandleTable();
  /** The start-up objects: live, but no ID names them. */
  private readonly unnamed: LiveObject[] = [];

  constructor(file: string, options: ResolvedReplayOptions, stacks: StackTable, types: NameTable | null, timelineInterval?: number, memprofileAt?: MemProfilePoint) {
    super(file, options, stacks, false, types, timelineInterval, memprofileAt);
    const kind = options.prologue === "auto" ? "none" : options.prologue;
    const startUp = { kind, argc: options.argc ?? 1, envc: options.envc ?? 2, dataEnd: options.dataEnd, inferred: [] };
    for (const o of this.startRuntime(startUp)) {
      // A zero-size object is runtime.zerobase, outside the heap.
      if (o.addr === this.runtime.zerobase) continue;
      const object = this.startUpObject(o);
      this.unnamed.push(object);
      this.counted(object.size, object.tiny, object.stack);
    }
  }

  record(r: TraceRecord): void {
    this.line = r.line;
    const rt = this.rt;
    if (this.observer !== null && r.kind !== RecordKind.Alloc) this.observer.beginRecord(r.kind, -1, 0);
    switch (r.kind) {
      case RecordKind.Alloc:
        this.alloc(r);
        break;
      case RecordKind.Free: {
        const addr = this.forget(this.handles, r.handle);
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
        const addr = this.handles.addr[r.handle]!;
        if (addr !== rt.zerobase) rt.setFinalizer(addr + r.offset, this.handles.tiny[r.handle] === 1);
        break;
      }
      case RecordKind.Unfinalizer: {
        const addr = this.handles.addr[r.handle]!;
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
        this.stopAt(r);
        return;
    }
    this.afterEvent();
  }

  /** Each record was applied as it came: nothing is held. */
  finish(): void {}

  /** An allocation: its reader has checked that its ID was not live. */
  private alloc(r: TraceRecord): void {
    const rt = this.rt;
    const typ = r.typeId >= 0 ? rt.traceTypeWord(r.typeId, r.typeKind) : r.typeName !== null ? rt.typeWord(r.typeName, r.typeKind) : 0;
    this.observer?.beginRecord(RecordKind.Alloc, r.stack, typ);
    const flags = r.flags;
    const tiny = !this.options.efence && (flags & (FlagNoScan | FlagNoGC)) === FlagNoScan && r.size > 0 && r.size < TinySize;
    const addr = rt.mallocgc(r.size, typ, flags, r.stack);
    this.handles.put(r.handle, addr, r.size, tiny, r.stack);
    this.counted(r.size, tiny, r.stack);
    this.counts.allocs++;
  }

  private dead(r: TraceRecord): void {
    const addr = this.forget(this.handles, r.handle);
    this.counts.deaths++;
    // A zero-size object is runtime.zerobase, outside the heap: nothing to collect.
    if (addr === this.rt.zerobase) return;
    if (!this.rt.release(addr)) this.fail(`object ${r.id}: its tiny block was already freed`);
  }

  liveObjects(): Iterable<LiveObject> {
    const handles = this.handles;
    const unnamed = this.unnamed;
    return {
      *[Symbol.iterator]() {
        yield* unnamed;
        yield* handles.objects();
      },
    };
  }
}
