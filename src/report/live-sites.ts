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

import { IntRuns } from "../int-runs.js";
import type { StackTable } from "../trace/record.js";
import { grown } from "../typed-arrays.js";
import { isAllocatorFrame } from "./sites.js";

/** Stack ids below 0 name the runtime's own callers (RuntimeStack, down to -4) or "no stack" (-1). */
const StackOffset = 4;

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
  counters(k: number): { bytes: Float64Array<ArrayBuffer>; objects: Float64Array<ArrayBuffer> } {
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

/** A site at a peak: its stack (its member with the most live bytes, the lowest id among equals) and sums. */
export interface PeakSite {
  stack: number;
  liveBytes: number;
  liveObjects: number;
  /** Live stacks that are this site. */
  stacks: number;
}

/**
 * Groups the live stacks of a snapshot into sites (report/sites.ts: the frames from the first
 * outside the allocator on, `depth` of them) and returns the totals and the `keep` sites with
 * the most live bytes (among equals, the one whose stack has the most bytes, then the lowest
 * stack id), most first. Each stack's site is found once for all the snapshots asked for,
 * from frame ids (interned: equal ids, equal frames), so a million stacks cost no string: a
 * site is a run of frame ids, named by the stack whose whole run it is when there is one
 * (most stacks are their own site: no lookup at all), else interned apart.
 */
export function peakSiteGrouper(stacks: StackTable, depth: number): (live: LiveSites, k: number, keep: number) => { totals: { liveBytes: number; liveObjects: number }; sites: PeakSite[] } {
  /** Per frame: 1 allocator, 2 not, 0 not known yet. */
  const allocator = new Int8Array(stacks.frameCount);
  const isAllocator = (frame: number): boolean => {
    let known = allocator[frame]!;
    if (known === 0) allocator[frame] = known = isAllocatorFrame(stacks.func(frame)) ? 1 : 2;
    return known === 1;
  };
  // Site keys: below n, the run of stack `key`; then one per runtime stack (-4 … -1); then
  // the runs that are no stack's, interned in `others`.
  const n = stacks.size;
  const others = new IntRuns();
  const siteOf = new Int32Array(n + StackOffset);
  for (let at = 0; at < StackOffset; at++) siteOf[at] = n + at;
  let scratch = new Int32Array(64);
  for (let stack = 0; stack < n; stack++) {
    const frames = stacks.depth(stack);
    let start = 0;
    while (start < frames && isAllocator(stacks.frameAt(stack, start))) start++;
    if (start === frames) start = 0;
    const end = Math.min(frames, start + depth);
    let key = stack;
    if (start !== 0 || end !== frames) {
      if (end - start > scratch.length) scratch = new Int32Array(end - start);
      for (let i = start; i < end; i++) scratch[i - start] = stacks.frameAt(stack, i);
      key = stacks.lookupStack(scratch, 0, end - start);
      if (key < 0) key = n + StackOffset + others.intern(scratch, 0, end - start);
    }
    siteOf[stack + StackOffset] = key;
  }
  const keys = n + StackOffset + others.size;
  const bytes = new Float64Array(keys);
  const objects = new Float64Array(keys);
  const count = new Int32Array(keys);
  const best = new Int32Array(keys);
  const bestBytes = new Float64Array(keys);
  /** The sites with live stacks in this snapshot. */
  const touched = new Int32Array(keys);
  return (live, k, keep) => {
    bytes.fill(0);
    objects.fill(0);
    count.fill(0);
    let sites = 0;
    const counters = live.counters(k);
    const stackBytes = counters.bytes;
    const stackObjects = counters.objects;
    let liveBytes = 0;
    let liveObjects = 0;
    for (let at = 0; at < stackObjects.length; at++) {
      const o = stackObjects[at]!;
      if (o === 0) continue;
      const b = stackBytes[at]!;
      const stack = at - StackOffset;
      liveBytes += b;
      liveObjects += o;
      const i = siteOf[at]!;
      if (count[i] === 0) {
        touched[sites++] = i;
        best[i] = stack;
        bestBytes[i] = b;
      } else if (b > bestBytes[i]!) {
        // Stacks come in id order: among equal bytes the first stays.
        best[i] = stack;
        bestBytes[i] = b;
      }
      bytes[i] = bytes[i]! + b;
      objects[i] = objects[i]! + o;
      count[i] = count[i]! + 1;
    }
    const totals = { liveBytes, liveObjects };
    const before = (a: number, b: number): boolean =>
      bytes[a]! > bytes[b]! || (bytes[a] === bytes[b] && (bestBytes[a]! > bestBytes[b]! || (bestBytes[a] === bestBytes[b] && best[a]! < best[b]!)));
    const top: number[] = [];
    for (let t = 0; t < sites && keep > 0; t++) {
      const i = touched[t]!;
      if (top.length === keep && !before(i, top[keep - 1]!)) continue;
      let at = top.length === keep ? keep - 1 : top.length;
      top[at] = i;
      while (at > 0 && before(i, top[at - 1]!)) {
        top[at] = top[at - 1]!;
        top[--at] = i;
      }
    }
    return { totals, sites: top.map((i) => ({ stack: best[i]!, liveBytes: bytes[i]!, liveObjects: objects[i]!, stacks: count[i]! })) };
  };
}
