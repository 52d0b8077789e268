// Reading a Go log ahead, one collection cycle at a time: what the background sweeper did.
//
// With GOMAXPROCS=1 the background sweeper (bgsweep, mgc0.c) sweeps one span each time the
// program yields, and a span swept with nothing to free prints nothing: the log shows the
// sweeper's progress only when it frees something. When the emulated runtime must know
// whether the real sweeper had already swept a span (MCentral_CacheSpan's walk of its empty
// list stops at the first swept span, see mcentral.ts), the rest of the cycle answers:
//   * a span whose objects the log shows freed later in this cycle, by anyone, was not
//     swept yet (sweeping it would have freed them then);
//   * the next free that sweepone prints is an upper bound on where the sweeper is:
//     sweepone walks allspans in order, so a later sweepone free of span j means it had
//     not passed span j yet.
// So a cycle's records are held until the cycle is complete (its tracegc, and the frees of
// that collection's leftover sweep, have been read), then applied in order with the rest of
// the cycle known. A cycle longer than MaxHeld records is applied without looking past
// MaxHeld records ahead.

import { FreeOrigin, RecordKind, type TraceRecord } from "../trace/record.js";

/** Records held at most: past that the oldest is applied, seeing only MaxHeld records ahead. */
const MaxHeld = 1 << 18;

/** A free that sweepone printed: the background sweeper, or MHeap_Reclaim's sweepone loop. */
function isSweeponeFree(r: TraceRecord): boolean {
  return r.kind === RecordKind.Dead && (r.origin === FreeOrigin.BgSweep || (r.origin === FreeOrigin.Reclaim && r.viaSweepone));
}

function isGCSweepFree(r: TraceRecord): boolean {
  return r.kind === RecordKind.Dead && r.origin === FreeOrigin.GCSweep;
}

/** A free printed by a sweep (not runtime.free): the object was garbage since the last mark. */
function isSweepFree(r: TraceRecord): boolean {
  return r.kind === RecordKind.Dead && r.origin !== FreeOrigin.Explicit && r.origin !== FreeOrigin.ShrinkStack;
}

export class GologLookahead {
  private queue: (TraceRecord | undefined)[] = [];
  private head = 0;
  /** Index of a tracegc whose sweep frees may still be arriving, or -1. */
  private gcAt = -1;
  /** Cached answer of nextSweeponeFree: queue index (-1: none in this cycle), valid for `cachedHead`. */
  private cachedAt = -1;
  private cachedHead = -1;
  /** Objects (log IDs) a sweep frees in the held records of this cycle, with how many such frees. */
  private readonly sweptLater = new Map<string, number>();
  /** The held records counted in sweptLater. */
  private readonly counted = new WeakSet<TraceRecord>();
  /** The tracegc at gcAt is a forced one: of its frees only the leftover sweep's belong to this cycle. */
  private gcForced: TraceRecord | null = null;

  constructor(
    private readonly apply: (r: TraceRecord) => void,
    /** Is this free, printed after a forced collection's tracegc, from gc's leftover sweep? */
    private readonly leftoverSweep: (gc: TraceRecord, free: TraceRecord) => boolean,
  ) {}

  /** A record read from the log (copied: readers reuse theirs). */
  push(r: TraceRecord): void {
    const at = this.queue.length;
    const held = { ...r };
    this.queue.push(held);
    this.cachedHead = -1;
    if (this.gcAt >= 0 && !isGCSweepFree(r)) {
      // The collection's own frees are all in: the cycle before it is complete.
      this.gcAt = -1;
      this.gcForced = null;
      this.applyBefore(at);
    }
    if (isSweepFree(r) && (this.gcForced === null || !isGCSweepFree(r) || this.leftoverSweep(this.gcForced, r))) {
      this.sweptLater.set(r.id, (this.sweptLater.get(r.id) ?? 0) + 1);
      this.counted.add(held);
    }
    if (r.kind === RecordKind.GC) {
      this.gcAt = this.queue.length - 1;
      this.gcForced = r.forced ? held : null;
    }
    if (this.queue.length - this.head > MaxHeld) this.applyBefore(this.head + 1);
  }

  /** Does a sweep free the object with this log ID later in the current cycle? */
  sweptLaterInCycle(id: string): boolean {
    return this.sweptLater.has(id);
  }

  /** Apply everything held (end of input, --until, an error). */
  drain(): void {
    this.gcAt = -1;
    this.gcForced = null;
    this.applyBefore(this.queue.length);
  }

  /**
   * The next free sweepone prints in the current cycle, among the records not applied yet
   * (null: none before the cycle ends, or not read yet).
   */
  nextSweeponeFree(): TraceRecord | null {
    if (this.cachedHead !== this.head) {
      this.cachedHead = this.head;
      this.cachedAt = this.find();
    }
    return this.cachedAt < 0 ? null : this.queue[this.cachedAt]!;
  }

  private find(): number {
    const q = this.queue;
    for (let i = this.head; i < q.length; i++) {
      const r = q[i]!;
      if (r.kind === RecordKind.GC) {
        // gc() first finishes this cycle's sweep with sweepone: its first free is the last word.
        const f = q[i + 1];
        return f !== undefined && isGCSweepFree(f) && (!r.forced || this.leftoverSweep(r, f)) ? i + 1 : -1;
      }
      if (isSweeponeFree(r)) return i;
    }
    return -1;
  }

  private applyBefore(end: number): void {
    while (this.head < end) {
      const r = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      if (this.counted.has(r)) {
        const n = this.sweptLater.get(r.id);
        if (n === 1) this.sweptLater.delete(r.id);
        else if (n !== undefined) this.sweptLater.set(r.id, n - 1);
      }
      this.apply(r);
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      this.gcAt = -1;
      this.gcForced = null;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      if (this.gcAt >= 0) this.gcAt -= this.head;
      this.head = 0;
    }
    this.cachedHead = -1;
  }
}
