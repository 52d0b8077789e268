// Malloc small size classes: the 1.3-era InitSizes algorithm.
//
// See malloc.ts for the overview. This file computes the table from first principles; the
// generator (scripts/mksizeclasses.ts) writes its result to sizeclasses.ts, which is what the
// allocator uses, and a unit test recomputes it to catch any drift.
//
// The rules (msize.c runtime·InitSizes): sizes step by 8, then 16, then size/8 from 128 and 256 from 2048,
// each size gets the smallest page run whose tail waste is at most 1/8 of the run, and a size
// that needs the same pages *and* yields the same object count as the previous class widens
// that class instead of opening a new one. The table does not depend on the pointer size.

import { size_to_class128, size_to_class8 } from "./sizeclasses.js";

export const PageShift = 13;
export const PageSize = 1 << PageShift;
export const MaxSmallSize = 32768;
export const NumSizeClasses = 67;
export const TinySize = 16;
export const TinySizeClass = 2;

export interface SizeTables {
  classToSize: number[];
  classToAllocNPages: number[];
  /** 129 entries; index (n+7)>>3 for n ≤ 1016; entry 128 stays 0 and is never read. */
  sizeToClass8: number[];
  /** 249 entries; index (n-1024+127)>>7 for 1016 < n ≤ 32768. */
  sizeToClass128: number[];
}

export function initSizes(): SizeTables {
  const classToSize = [0];
  const classToAllocNPages = [0];
  let align = 8;
  for (let size = align; size <= MaxSmallSize; size += align) {
    if ((size & (size - 1)) === 0) {
      if (size >= 2048) align = 256;
      else if (size >= 128) align = size / 8;
      else if (size >= 16) align = 16;
    }
    let run = PageSize;
    while (run % size > run / 8) run += PageSize;
    const npages = run / PageSize;
    const last = classToSize.length - 1;
    if (
      last > 0 &&
      npages === classToAllocNPages[last] &&
      Math.floor(run / size) === Math.floor(run / classToSize[last]!)
    ) {
      classToSize[last] = size;
      continue;
    }
    classToAllocNPages.push(npages);
    classToSize.push(size);
  }
  if (classToSize.length !== NumSizeClasses) {
    throw new Error(`InitSizes - bad NumSizeClasses (${classToSize.length})`);
  }
  if (classToSize[TinySizeClass] !== TinySize) throw new Error("bad TinySizeClass");

  const sizeToClass8 = new Array<number>(1024 / 8 + 1).fill(0);
  const sizeToClass128 = new Array<number>((MaxSmallSize - 1024) / 128 + 1).fill(0);
  let next = 0;
  for (let cl = 1; cl < NumSizeClasses; cl++) {
    const size = classToSize[cl]!;
    for (; next < 1024 && next <= size; next += 8) sizeToClass8[next >> 3] = cl;
    if (next >= 1024) {
      for (; next <= size; next += 128) sizeToClass128[(next - 1024) >> 7] = cl;
    }
  }
  return { classToSize, classToAllocNPages, sizeToClass8, sizeToClass128 };
}

/** Per-class row of the table that `goalloc sizeclasses` prints. */
export interface SizeClassRow {
  class: number;
  size: number;
  pages: number;
  objectsPerSpan: number;
  /** Bytes left at the end of each span. */
  tailWaste: number;
  /** Worst case bytes lost to rounding plus tail, per span, as a fraction of the span. */
  maxWaste: number;
  /** Smallest request that maps to the class. */
  smallestRequest: number;
  /** Largest power of two dividing the size (at most one page): the guaranteed alignment. */
  alignment: number;
}

export function sizeClassRows(t: SizeTables): SizeClassRow[] {
  const rows: SizeClassRow[] = [];
  for (let cl = 1; cl < NumSizeClasses; cl++) {
    const size = t.classToSize[cl]!;
    const spanBytes = t.classToAllocNPages[cl]! * PageSize;
    const objects = Math.floor(spanBytes / size);
    const tail = spanBytes - objects * size;
    const smallest = t.classToSize[cl - 1]! + 1;
    // Each object may hold the smallest request of the class: (size - smallest) bytes lost
    // per object, plus the tail, over the whole span (mksizeclasses.go's "max waste").
    const maxWaste = ((size - smallest) * objects + tail) / spanBytes;
    rows.push({
      class: cl,
      size,
      pages: t.classToAllocNPages[cl]!,
      objectsPerSpan: objects,
      tailWaste: tail,
      maxWaste,
      smallestRequest: smallest,
      alignment: Math.min(size & -size, PageSize),
    });
  }
  return rows;
}

/** msize.c runtime·SizeToClass: the class of a small request, from the generated tables. */
export function sizeToClass(size: number): number {
  if (size <= 1016) return size_to_class8[(size + 7) >> 3]!;
  return size_to_class128[(size - 1024 + 127) >> 7]!;
}
