// Allocation sites at each peak: the live stacks the replay counted (replay/live-sites.ts)
// grouped into sites as docs/sites.md defines them.

import { IntRuns } from "../int-runs.js";
import { StackOffset, type PeakCounters } from "../replay/live-sites.js";
import type { StackTable } from "../trace/record.js";
import { isAllocatorFrame } from "./sites.js";

/** A site at a peak: its stack (its member with the most live bytes, the lowest id among equals) and sums. */
export interface PeakSite {
  stack: number;
  liveBytes: number;
  liveObjects: number;
  /** Live stacks that are this site. */
  stacks: number;
}

/**
 * Groups the live stacks of a peak (replay/live-sites.ts counters) into sites (sites.ts: the frames from the first
 * outside the allocator on, `depth` of them) and returns the totals and the `keep` sites with
 * the most live bytes (among equals, the one whose stack has the most bytes, then the lowest
 * stack id), most first. Each stack's site is found once for all the snapshots asked for,
 * from frame ids (interned: equal ids, equal frames), so a million stacks cost no string: a
 * site is a run of frame ids, named by the stack whose whole run it is when there is one
 * (most stacks are their own site: no lookup at all), else interned apart.
 */
export function peakSiteGrouper(stacks: StackTable, depth: number): (counters: PeakCounters, keep: number) => { totals: { liveBytes: number; liveObjects: number }; sites: PeakSite[] } {
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
  return (counters, keep) => {
    bytes.fill(0);
    objects.fill(0);
    count.fill(0);
    let sites = 0;
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
