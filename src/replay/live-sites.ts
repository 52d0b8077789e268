// Live allocation sites at each peak: per-stack live bytes and objects, with an O(1) snapshot.
//
// The replay engine adds an object to its stack's counters when the trace allocates it and
// removes it when the trace frees it or lets it die (the trace's view of "live": referenced
// by the program; garbage awaiting a sweep is not). The report wants the counters as they
// were at the event where each peak was last raised. Copying every counter at each new peak
// would cost O(stacks) per event while a heap grows, so the snapshot is copy-on-write:
//
//   mark(k)      a peak k was raised: the current counters become snapshot k. A generation
//                counter is bumped, and snapshot k remembers the one it began at (since[k]),
//                and forgets what it had saved.
//   add/remove   before a stack's counters change for the first time in a generation, their
//                values are saved for every snapshot that began after they were last saved
//                (savedAt[i] < since[k]): appended to that snapshot's log, at most once per
//                stack. A stack's first change saves nothing: before it, the stack held 0
//                everywhere, which bornAt (the generation of that change) says.
//   snapshot k   the current counters, those in its log replaced by the saved values, and the
//                stacks born since it began left out.
//
// A change costs one comparison when no peak moved since that stack last changed, else one
// per peak; a new peak costs two increments. Memory is four numbers per distinct stack, plus
// the logs: the stacks that changed since each peak, never more entries than stacks.

import { RuntimeStack, type ProfileListener, type Runtime } from "../runtime/index.js";
import { grown } from "../typed-arrays.js";

/** Stack ids below 0 name the runtime's own callers (RuntimeStack) or "no stack" (-1): indices start at the lowest. */
export const StackOffset = -Math.min(-1, ...Object.values(RuntimeStack));

/** One site at a peak (JSON `peakSites.NAME.sites[i]`, with its stack's frames). */
export interface LiveSite {
  /** Stack id in the trace's stack table (negative: runtime or none, see runtimeStackName). */
  stack: number;
  liveBytes: number;
  liveObjects: number;
}

export interface LiveSnapshot {
  /** Bytes and objects the trace referenced at that moment (requested sizes; logged sizes for Go logs). */
  liveBytes: number;
  liveObjects: number;
  /** Every site with live objects, most bytes first (ties: lower stack id first). */
  sites: LiveSite[];
}

/** Live bytes and objects per stack at a peak, indexed by stack id + StackOffset (plain data for the report). */
export interface PeakCounters {
  bytes: Float64Array<ArrayBuffer>;
  objects: Float64Array<ArrayBuffer>;
}

export class LiveSites {
  private capacity = 0;
  private bytes = new Float64Array(0);
  private objects = new Float64Array(0);
  /** Per stack: the generation its counters were last saved in, and that of its first change (0: never changed). */
  private savedAt = new Float64Array(0);
  private bornAt = new Float64Array(0);
  /** Bumped by every mark. */
  private generation = 1;
  /** Per snapshot: the generation it began at (1: it holds the state before any change). */
  private readonly since: Float64Array;
  /** Per snapshot: its saved counters, [stack index, bytes, objects] each, and how many. */
  private logs: Float64Array<ArrayBuffer>[];
  private readonly logLength: Int32Array;

  /** `snapshots`: how many peaks keep a snapshot (indices 0 … snapshots−1). */
  constructor(readonly snapshots: number) {
    this.since = new Float64Array(snapshots).fill(1);
    this.logs = Array.from({ length: snapshots }, () => new Float64Array(0));
    this.logLength = new Int32Array(snapshots);
  }

  add(stack: number, size: number): void {
    const i = stack + StackOffset;
    if (i >= this.capacity) this.grow(i);
    if (this.savedAt[i] !== this.generation) this.save(i);
    this.bytes[i] = this.bytes[i]! + size;
    this.objects[i] = this.objects[i]! + 1;
  }

  remove(stack: number, size: number): void {
    const i = stack + StackOffset;
    if (this.savedAt[i] !== this.generation) this.save(i);
    this.bytes[i] = this.bytes[i]! - size;
    this.objects[i] = this.objects[i]! - 1;
  }

  /** Peak k was raised by the event just applied. */
  mark(k: number): void {
    this.since[k] = ++this.generation;
    this.logLength[k] = 0;
  }

  private save(i: number): void {
    const last = this.savedAt[i]!;
    this.savedAt[i] = this.generation;
    if (last === 0) {
      this.bornAt[i] = this.generation;
      return;
    }
    for (let k = 0; k < this.snapshots; k++) {
      if (last >= this.since[k]!) continue;
      let log = this.logs[k]!;
      const at = 3 * this.logLength[k]!;
      if (at === log.length) log = this.logs[k] = grown(log, Math.max(96, 2 * log.length));
      log[at] = i;
      log[at + 1] = this.bytes[i]!;
      log[at + 2] = this.objects[i]!;
      this.logLength[k]!++;
    }
  }

  private grow(i: number): void {
    // By half: a trace of a million stacks met in order would get twice what it needs.
    const cap = Math.max(64, Math.ceil(this.capacity * 1.5), i + 1);
    this.bytes = grown(this.bytes, cap);
    this.objects = grown(this.objects, cap);
    this.savedAt = grown(this.savedAt, cap);
    this.bornAt = grown(this.bornAt, cap);
    this.capacity = cap;
  }

  /**
   * Snapshot k's counters, indexed by stack id + StackOffset (new arrays): a stack that had no
   * live object then has 0 objects (and bytes that mean nothing).
   */
  counters(k: number): PeakCounters {
    const since = this.since[k]!;
    const bytes = this.bytes.slice(0, this.capacity);
    const objects = this.objects.slice(0, this.capacity);
    const log = this.logs[k]!;
    for (let at = 0; at < 3 * this.logLength[k]!; at += 3) {
      const i = log[at]!;
      bytes[i] = log[at + 1]!;
      objects[i] = log[at + 2]!;
    }
    for (let i = 0; i < this.capacity; i++) {
      const born = this.bornAt[i]!;
      if (born === 0 || born >= since) objects[i] = 0;
    }
    return { bytes, objects };
  }

  /** Snapshot k: the totals and the sites, as they were at the event that last raised peak k. */
  snapshot(k: number): LiveSnapshot {
    const { bytes, objects } = this.counters(k);
    const sites: LiveSite[] = [];
    let liveBytes = 0;
    let liveObjects = 0;
    for (let i = 0; i < objects.length; i++) {
      if (objects[i] === 0) continue;
      liveBytes += bytes[i]!;
      liveObjects += objects[i]!;
      sites.push({ stack: i - StackOffset, liveBytes: bytes[i]!, liveObjects: objects[i]! });
    }
    sites.sort((a, b) => b.liveBytes - a.liveBytes || a.stack - b.stack);
    return { liveBytes, liveObjects, sites };
  }
}

/**
 * The memory profile's buckets at the HeapAlloc peak (`--memprofile-at peak`): per bucket, the
 * sampled allocations so far and the sampled objects in use (mprof.ts), snapshotted as
 * LiveSites does, at the event that last raised the peak. Attached to a runtime, it starts from
 * the runtime's figures (start-up samples, the mallocinit self-test) and is told of every change
 * (MProf.listener), so it costs nothing unless asked for.
 */
export class ProfileAtPeak implements ProfileListener {
  private readonly allocs = new LiveSites(1);
  private readonly inuse = new LiveSites(1);

  /** Take the runtime's figures as they are now, then follow its changes. */
  attach(rt: Runtime): void {
    const prof = rt.prof;
    const inuse = rt.profileInuse();
    for (const b of prof.buckets) {
      for (let n = prof.allocsSoFar(b); n > 0; n--) this.allocs.add(b.id, b.size);
      for (let n = inuse[b.id]!; n > 0; n--) this.inuse.add(b.id, b.size);
    }
    prof.listener = this;
  }

  sampled(bucket: number, size: number): void {
    this.allocs.add(bucket, size);
    this.inuse.add(bucket, size);
  }

  inuseChanged(bucket: number, size: number, delta: 1 | -1): void {
    if (delta > 0) this.inuse.add(bucket, size);
    else this.inuse.remove(bucket, size);
  }

  /** The peak was raised by the event just applied. */
  mark(): void {
    this.allocs.mark(0);
    this.inuse.mark(0);
  }

  /** Per bucket id, sampled allocations and in-use objects at the last mark (MProf.recordsOf). */
  snapshot(): { allocs: Float64Array; inuse: Float64Array } {
    const allocs = this.allocs.snapshot(0).sites;
    const inuse = this.inuse.snapshot(0).sites;
    const n = allocs.reduce((m, s) => Math.max(m, s.stack + 1), 0);
    const out = { allocs: new Float64Array(n), inuse: new Float64Array(n) };
    for (const s of allocs) out.allocs[s.stack] = s.liveObjects;
    for (const s of inuse) out.inuse[s.stack] = s.liveObjects;
    return out;
  }
}
