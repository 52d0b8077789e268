// Interned runs of integers: the same run of int32 values always gets the same id (ids start
// at 0). The runs sit end to end in one flat array and the index is open addressing over
// typed arrays, so a run costs its values and a few slots, never a string or an object: the
// call stacks of a trace (runs of frame ids) and the sites of a report (their first frames)
// can number in the millions.

import { grown } from "./typed-arrays.js";

/** murmur3's fmix32 over an FNV-style fold of the values. */
function runHash(values: ArrayLike<number>, from: number, to: number): number {
  let h = 0x811c9dc5 ^ (to - from);
  for (let i = from; i < to; i++) h = Math.imul(h ^ values[i]!, 0x01000193) ^ (h >>> 13);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class IntRuns {
  /** Run i's values are flat[start[i] .. start[i + 1]). */
  private flat = new Int32Array(1024);
  private start = new Int32Array(256);
  private count = 0;
  /** Open addressing, at most half full: per slot the run id there (-1 = empty) and its hash. */
  private slotRun = new Int32Array(256).fill(-1);
  private slotHash = new Int32Array(256);
  private mask = 255;

  get size(): number {
    return this.count;
  }

  /** The id of the run `values[from, to)`, added if new. */
  intern(values: ArrayLike<number>, from: number, to: number): number {
    const hash = runHash(values, from, to);
    const slot = this.find(values, from, to, hash);
    const known = this.slotRun[slot]!;
    if (known >= 0) return known;
    const id = this.append(values, from, to);
    this.place(slot, id, hash);
    return id;
  }

  /** The id of the run `values[from, to)` if interned, else -1. */
  lookup(values: ArrayLike<number>, from: number, to: number): number {
    return this.slotRun[this.find(values, from, to, runHash(values, from, to))]!;
  }

  /** Store a run as the next id (the caller indexes it). */
  private append(values: ArrayLike<number>, from: number, to: number): number {
    const n = to - from;
    const at = this.start[this.count]!;
    if (at + n > this.flat.length) this.flat = grown(this.flat, Math.max(2 * this.flat.length, at + n));
    const flat = this.flat;
    for (let i = 0; i < n; i++) flat[at + i] = values[from + i]!;
    const id = this.count++;
    if (this.count + 1 > this.start.length) this.start = grown(this.start, 2 * this.start.length);
    this.start[this.count] = at + n;
    return id;
  }

  length(id: number): number {
    return this.start[id + 1]! - this.start[id]!;
  }

  /** Value i of run id. */
  at(id: number, i: number): number {
    return this.flat[this.start[id]! + i]!;
  }

  /** The slot holding the run, or the empty slot where it would go. */
  private find(values: ArrayLike<number>, from: number, to: number, hash: number): number {
    const mask = this.mask;
    const n = to - from;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = this.slotRun[slot]!;
      if (id < 0) return slot;
      if (this.slotHash[slot] !== hash) continue;
      const at = this.start[id]!;
      if (this.start[id + 1]! - at !== n) continue;
      let i = 0;
      while (i < n && this.flat[at + i] === values[from + i]) i++;
      if (i === n) return slot;
    }
  }

  /** Put run `id` in the empty `slot`, growing the slots when half full. */
  private place(slot: number, id: number, hash: number): void {
    this.slotRun[slot] = id;
    this.slotHash[slot] = hash;
    if (2 * (id + 1) > this.mask + 1) this.resize(2 * (this.mask + 1));
  }

  private resize(capacity: number): void {
    const runs = this.slotRun;
    const hashes = this.slotHash;
    this.mask = capacity - 1;
    this.slotRun = new Int32Array(capacity).fill(-1);
    this.slotHash = new Int32Array(capacity);
    for (let i = 0; i < runs.length; i++) {
      const id = runs[i]!;
      if (id < 0) continue;
      let slot = hashes[i]! & this.mask;
      while (this.slotRun[slot]! >= 0) slot = (slot + 1) & this.mask;
      this.slotRun[slot] = id;
      this.slotHash[slot] = hashes[i]!;
    }
  }
}
