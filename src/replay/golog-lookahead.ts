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

import { grown } from "../typed-arrays.js";
import { FreeOrigin, newRecord, RecordKind, TypeKind, type TraceRecord } from "../trace/record.js";
import { hex } from "../hex.js";

/** Records held at most: past that the oldest is applied, seeing only MaxHeld records ahead. */
const MaxHeld = 1 << 18;

/** A free that sweepone printed: the background sweeper, or MHeap_Reclaim's sweepone loop. */
export function isSweeponeFree(kind: number, origin: number, viaSweepone: boolean): boolean {
  return kind === RecordKind.Dead && (origin === FreeOrigin.BgSweep || (origin === FreeOrigin.Reclaim && viaSweepone));
}

/** A free printed by a sweep (not runtime.free): the object was garbage since the last mark. */
function isSweepFree(kind: number, origin: number): boolean {
  return kind === RecordKind.Dead && origin !== FreeOrigin.Explicit && origin !== FreeOrigin.ShrinkStack;
}

// Bits of HeldRecords.bits.
const ViaSweepone = 1;
const Forced = 2;
const FreeOSMemory = 4;
const Counted = 8;

/**
 * The held records, one column each, in a ring-less queue (head..length): a cycle of a large
 * log holds hundreds of thousands of records, so they are kept as numbers, not objects. A
 * log names an object by its address, so the ID is not kept: it is the address's text.
 */
class HeldRecords {
  kind = new Uint8Array(1024);
  origin = new Uint8Array(1024);
  typeKind = new Uint8Array(1024);
  bits = new Uint8Array(1024);
  line = new Float64Array(1024);
  address = new Float64Array(1024);
  size = new Float64Array(1024);
  stack = new Int32Array(1024);
  sweepSite = new Int32Array(1024);
  goroutine = new Int32Array(1024);
  /** Sweep frees: the emulated span of the object when the record was read. */
  span = new Int32Array(1024);
  typeName: (string | null)[] = [];
  length = 0;

  push(r: TraceRecord): number {
    const i = this.length++;
    if (i === this.kind.length) this.grow(i * 2);
    this.kind[i] = r.kind;
    this.origin[i] = r.origin;
    this.typeKind[i] = r.typeKind;
    this.bits[i] = (r.viaSweepone ? ViaSweepone : 0) | (r.forced ? Forced : 0) | (r.freeOSMemory ? FreeOSMemory : 0);
    this.line[i] = r.line;
    this.address[i] = r.address;
    this.size[i] = r.size;
    this.stack[i] = r.stack;
    this.sweepSite[i] = r.sweepSite;
    this.goroutine[i] = r.goroutine;
    this.typeName[i] = r.typeName;
    return i;
  }

  /** Fill r with held record i. */
  read(i: number, r: TraceRecord): void {
    r.kind = this.kind[i]! as RecordKind;
    r.origin = this.origin[i]! as FreeOrigin;
    r.typeKind = this.typeKind[i]! as TypeKind;
    const bits = this.bits[i]!;
    r.viaSweepone = (bits & ViaSweepone) !== 0;
    r.forced = (bits & Forced) !== 0;
    r.freeOSMemory = (bits & FreeOSMemory) !== 0;
    r.line = this.line[i]!;
    r.address = this.address[i]!;
    r.id = r.address >= 0 ? hex(r.address) : "";
    r.size = this.size[i]!;
    r.stack = this.stack[i]!;
    r.sweepSite = this.sweepSite[i]!;
    r.goroutine = this.goroutine[i]!;
    r.typeName = this.typeName[i]!;
  }

  /** Drop records [0, from): the rest moves to the front. */
  shift(from: number): void {
    const n = this.length - from;
    for (const a of [this.kind, this.origin, this.typeKind, this.bits, this.line, this.address, this.size, this.stack, this.sweepSite, this.goroutine, this.span]) {
      a.copyWithin(0, from, this.length);
    }
    this.typeName.copyWithin(0, from, this.length);
    this.typeName.length = n;
    this.length = n;
  }

  private grow(capacity: number): void {
    this.kind = grown(this.kind, capacity);
    this.origin = grown(this.origin, capacity);
    this.typeKind = grown(this.typeKind, capacity);
    this.bits = grown(this.bits, capacity);
    this.line = grown(this.line, capacity);
    this.address = grown(this.address, capacity);
    this.size = grown(this.size, capacity);
    this.stack = grown(this.stack, capacity);
    this.sweepSite = grown(this.sweepSite, capacity);
    this.goroutine = grown(this.goroutine, capacity);
    this.span = grown(this.span, capacity);
  }
}

function count(map: Map<number, number>, key: number, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n === 0) map.delete(key);
  else map.set(key, n);
}

export class GologLookahead {
  private readonly held = new HeldRecords();
  private head = 0;
  /** Index of a tracegc whose sweep frees may still be arriving, or -1. */
  private gcAt = -1;
  /** The tracegc at gcAt is a forced one: of its frees only the leftover sweep's belong to this cycle. */
  private gcForced = false;
  /** Cached answer of nextSweeponeFree: held index (-1: none in this cycle), valid for `cachedHead`. */
  private cachedAt = -1;
  private cachedHead = -1;
  /**
   * Spans (emulated span ids) whose objects a sweep frees in the held records of this cycle,
   * with how many such frees; and those of them that a refill (MCentral_CacheSpan) frees.
   * An object a sweep frees in this cycle was allocated before this cycle's mark, so its span
   * is already known when the record is read, and stays its span until the free.
   */
  private readonly sweptLater = new Map<number, number>();
  private readonly refilledLater = new Map<number, number>();
  /** The record handed to `apply` (reused: the sequencer copies what it keeps). */
  private readonly record = newRecord();

  constructor(
    private readonly apply: (r: TraceRecord) => void,
    /** Is a free with gc's call site `site`, printed after a forced collection's tracegc, from gc's leftover sweep? */
    private readonly leftoverSweep: (site: number) => boolean,
    /** The emulated span holding the object at addr now, or -1. */
    private readonly spanOf: (addr: number) => number,
    /**
     * With the pacer: called, when a logged cycle is complete, with the addresses of the
     * objects its sweeps free, before the record that triggered the collection beginning
     * that cycle is applied (records are then held from that trigger on): those objects
     * died before that collection's mark.
     */
    private readonly foundDead: ((addrs: number[]) => void) | null = null,
  ) {}

  /** foundDead: the first held record after the last complete collection's own frees. */
  private cycleStart = 0;

  /** A record read from the log (its fields are copied: readers reuse their record). */
  push(r: TraceRecord): void {
    const held = this.held;
    const at = held.push(r);
    this.cachedHead = -1;
    const gcFree = r.kind === RecordKind.Dead && r.origin === FreeOrigin.GCSweep;
    if (this.gcAt >= 0 && !gcFree) {
      // The collection's own frees are all in: the cycle before it is complete.
      const gcAt = this.gcAt;
      this.gcAt = -1;
      this.gcForced = false;
      if (this.foundDead === null) this.applyBefore(at);
      else this.placeDeaths(at, gcAt);
    }
    if (isSweepFree(r.kind, r.origin) && r.address >= 0 && (!this.gcForced || !gcFree || this.leftoverSweep(r.sweepSite))) {
      const span = this.spanOf(r.address);
      if (span >= 0) {
        const i = held.length - 1;
        held.span[i] = span;
        held.bits[i] = held.bits[i]! | Counted;
        count(this.sweptLater, span, 1);
        if (r.origin === FreeOrigin.CacheSpan) count(this.refilledLater, span, 1);
      }
    }
    if (r.kind === RecordKind.GC) {
      this.gcAt = held.length - 1;
      this.gcForced = r.forced;
    }
    if (held.length - this.head > MaxHeld) this.applyBefore(this.head + 1);
  }

  /** Does a sweep free an object of this span later in the current cycle? */
  sweptLaterInCycle(span: number): boolean {
    return this.sweptLater.has(span);
  }

  /** Does a refill's walk (MCentral_CacheSpan) free an object of this span later in the current cycle? */
  refilledLaterInCycle(span: number): boolean {
    return this.refilledLater.has(span);
  }

  /** Apply everything held (end of input, --until, an error). */
  drain(): void {
    this.gcAt = -1;
    this.gcForced = false;
    if (this.foundDead !== null) this.reportDead(this.held.length);
    this.applyBefore(this.held.length);
    this.cycleStart = 0;
  }

  /**
   * A logged cycle is complete: its sweep frees are the held records from cycleStart up to
   * `end` (the tracegc at gcAt ends it, with its leftover frees). Report them, then apply
   * the records before the trigger of that tracegc: the allocation printed just before it
   * (mallocgc collects after printing), or the tracegc itself when nothing precedes it.
   */
  private placeDeaths(end: number, gcAt: number): void {
    this.reportDead(end);
    const trigger = gcAt - 1 >= this.head && this.held.kind[gcAt - 1] === RecordKind.Alloc ? gcAt - 1 : gcAt;
    this.cycleStart = end;
    this.applyBefore(trigger);
  }

  private reportDead(end: number): void {
    const h = this.held;
    const dead: number[] = [];
    for (let i = Math.max(this.cycleStart, this.head); i < end; i++) if ((h.bits[i]! & Counted) !== 0) dead.push(h.address[i]!);
    if (dead.length > 0) this.foundDead!(dead);
  }

  /**
   * The address of the object freed by the next free sweepone prints in the current cycle,
   * among the records not applied yet; -1 when none before the cycle ends.
   */
  nextSweeponeFree(): number {
    if (this.cachedHead !== this.head) {
      this.cachedHead = this.head;
      this.cachedAt = this.find();
    }
    return this.cachedAt < 0 ? -1 : this.held.address[this.cachedAt]!;
  }

  /** The line of that free (after nextSweeponeFree found one). */
  nextSweeponeFreeLine(): number {
    return this.cachedAt < 0 ? -1 : this.held.line[this.cachedAt]!;
  }

  private find(): number {
    const h = this.held;
    for (let i = this.head; i < h.length; i++) {
      const kind = h.kind[i]!;
      if (kind === RecordKind.GC) {
        // gc() first finishes this cycle's sweep with sweepone: its first free is the last word.
        const f = i + 1;
        if (f >= h.length || h.kind[f] !== RecordKind.Dead || h.origin[f] !== FreeOrigin.GCSweep) return -1;
        return (h.bits[i]! & Forced) === 0 || this.leftoverSweep(h.sweepSite[f]!) ? f : -1;
      }
      if (isSweeponeFree(kind, h.origin[i]!, (h.bits[i]! & ViaSweepone) !== 0)) return i;
    }
    return -1;
  }

  private applyBefore(end: number): void {
    const h = this.held;
    const r = this.record;
    while (this.head < end) {
      const i = this.head++;
      if ((h.bits[i]! & Counted) !== 0) {
        count(this.sweptLater, h.span[i]!, -1);
        if (h.origin[i] === FreeOrigin.CacheSpan) count(this.refilledLater, h.span[i]!, -1);
      }
      h.read(i, r);
      h.typeName[i] = null;
      this.apply(r);
    }
    if (this.head === h.length) {
      h.length = 0;
      h.typeName.length = 0;
      this.head = 0;
      this.gcAt = -1;
      this.gcForced = false;
      this.cycleStart = 0;
    } else if (this.head > 4096 && this.head * 2 > h.length) {
      h.shift(this.head);
      if (this.gcAt >= 0) this.gcAt -= this.head;
      this.cycleStart = Math.max(0, this.cycleStart - this.head);
      this.head = 0;
    }
    this.cachedHead = -1;
  }
}
