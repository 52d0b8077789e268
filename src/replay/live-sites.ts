// Live allocation sites at each peak: per-stack live bytes and objects, with an O(1) snapshot.
//
// The replay engine adds an object to its stack's counters when the trace allocates it and
// removes it when the trace frees it or lets it die (the trace's view of "live": referenced
// by the program; garbage awaiting a sweep is not). The report wants the counters as they
// were at the event where each peak was last raised. Copying every counter at each new peak
// would cost O(stacks) per event while a heap grows, so the snapshot is copy-on-write:
//
//   mark(k)      a peak k was raised: the current counters become snapshot k (epoch[k]++);
//   add/remove   before a counter changes, its value is saved for every snapshot that has
//                not saved it since its epoch began (savedEpoch[k][i] !== epoch[k]);
//   snapshot k   saved value where savedEpoch[k][i] === epoch[k], else the current one.
//
// A change costs one comparison when no peak moved since that stack last changed (a global
// generation, bumped by every mark, says so), else one per peak; a new peak costs two
// increments; memory grows with the number of distinct stacks, never with events or objects.

import { RuntimeStack, type ProfileListener, type Runtime } from "../runtime/index.js";
import { grown } from "../typed-arrays.js";

/** Stack ids below 0 name the runtime's own callers (RuntimeStack) or "no stack" (-1): indices start at the lowest. */
const StackOffset = -Math.min(-1, ...Object.values(RuntimeStack));

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

export class LiveSites {
  private capacity = 0;
  private bytes = new Float64Array(0);
  private objects = new Float64Array(0);
  /** Bumped by every mark; savedGeneration[i] === generation: stack i saved for every peak. */
  private generation = 1;
  private savedGeneration = new Float64Array(0);
  private readonly epoch: Float64Array;
  private savedEpoch: Float64Array<ArrayBuffer>[];
  private savedBytes: Float64Array<ArrayBuffer>[];
  private savedObjects: Float64Array<ArrayBuffer>[];

  /** `snapshots`: how many peaks keep a snapshot (indices 0 … snapshots−1). */
  constructor(readonly snapshots: number) {
    // Epochs start at 1 so that a zeroed savedEpoch means "not saved".
    this.epoch = new Float64Array(snapshots).fill(1);
    this.savedEpoch = Array.from({ length: snapshots }, () => new Float64Array(0));
    this.savedBytes = Array.from({ length: snapshots }, () => new Float64Array(0));
    this.savedObjects = Array.from({ length: snapshots }, () => new Float64Array(0));
  }

  add(stack: number, size: number): void {
    const i = stack + StackOffset;
    if (i >= this.capacity) this.grow(i);
    this.save(i);
    this.bytes[i] = this.bytes[i]! + size;
    this.objects[i] = this.objects[i]! + 1;
  }

  remove(stack: number, size: number): void {
    const i = stack + StackOffset;
    this.save(i);
    this.bytes[i] = this.bytes[i]! - size;
    this.objects[i] = this.objects[i]! - 1;
  }

  /** Peak k was raised by the event just applied. */
  mark(k: number): void {
    this.epoch[k] = this.epoch[k]! + 1;
    this.generation++;
  }

  private save(i: number): void {
    if (this.savedGeneration[i] === this.generation) return;
    this.savedGeneration[i] = this.generation;
    for (let k = 0; k < this.snapshots; k++) {
      const e = this.epoch[k]!;
      const seen = this.savedEpoch[k]!;
      if (seen[i] === e) continue;
      seen[i] = e;
      this.savedBytes[k]![i] = this.bytes[i]!;
      this.savedObjects[k]![i] = this.objects[i]!;
    }
  }

  private grow(i: number): void {
    const cap = Math.max(64, this.capacity * 2, i + 1);
    const grow = (a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => grown(a, cap);
    this.bytes = grow(this.bytes);
    this.objects = grow(this.objects);
    this.savedGeneration = grow(this.savedGeneration);
    this.savedEpoch = this.savedEpoch.map(grow);
    this.savedBytes = this.savedBytes.map(grow);
    this.savedObjects = this.savedObjects.map(grow);
    this.capacity = cap;
  }

  /** Snapshot k: the totals and the sites, as they were at the event that last raised peak k. */
  snapshot(k: number): LiveSnapshot {
    const e = this.epoch[k]!;
    const seen = this.savedEpoch[k]!;
    let liveBytes = 0;
    let liveObjects = 0;
    const sites: LiveSite[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const saved = seen[i] === e;
      const bytes = saved ? this.savedBytes[k]![i]! : this.bytes[i]!;
      const objects = saved ? this.savedObjects[k]![i]! : this.objects[i]!;
      if (objects === 0) continue;
      liveBytes += bytes;
      liveObjects += objects;
      sites.push({ stack: i - StackOffset, liveBytes: bytes, liveObjects: objects });
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
