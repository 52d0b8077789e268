// Arena layout: where mallocinit reserves the heap and how MHeap_SysAlloc grows it.
//
// See malloc.ts for the overview. The arena is one reservation holding, from low to high,
// the spans array (page -> MSpan), the GC bitmap (used downwards from arena_start) and the
// arena proper. 64-bit targets reserve 128 GiB of arena at a fixed hint; 32-bit targets
// reserve 512 MiB just past the program image and extend the reservation in 256 MiB steps,
// up to 2 GiB past arena_start, before falling back to plain mmap.
//
// Invariants owned here:
//   arena_start ≤ arena_used ≤ arena_end; arena_start is 8 KiB aligned;
//   every byte in [arena_start, arena_used) is mapped and charged to heap_sys;
//   bitmap_mapped and spans_mapped cover arena_used (MapBits, MapSpans).

import { PageSize } from "./msize.js";
import type { MStats, SysStat } from "./mstats.js";
import { hex } from "../hex.js";

export type ArchName = "amd64" | "arm64" | "386" | "arm";
export const ARCH_NAMES: readonly ArchName[] = ["amd64", "arm64", "386", "arm"];

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export const MaxArena32 = 2 * GiB;
export const HeapAllocChunk = MiB;
/** gccgo rounds span-map and bitmap mappings to the OS page (getpagesize), 4 KiB here. */
const OSPageSize = 4 * KiB;

/** Everything that differs between targets. Struct sizes are the C structs of this runtime. */
export interface Arch {
  name: ArchName;
  ptrSize: 4 | 8;
  /** 64-bit reservation hints, tried in order (gccgo: 128 `0xXXc0<<32` hints; aarch64: one). */
  heapBases: readonly number[];
  /** 32-bit: default `_end` of the program image. */
  defaultDataEnd: number;
  /** Where the emulated kernel places mmap(NULL, ...) mappings, top-down. */
  mmapTop: number;
  /** cputicks() contributes to the fastrand seed (x86-64 rdtsc); 0 elsewhere, i386 included. */
  seedHasTicks: boolean;
  sizeofMSpan: number;
  sizeofMCache: number;
  sizeofSpecialFinalizer: number;
  sizeofSpecialProfile: number;
  /** persistentalloc size of a profile bucket: base + perFrame * nstk. */
  sizeofBucketBase: number;
  sizeofLocation: number;
}

const amd64HeapBases = Array.from({ length: 0x80 }, (_, i) => i * 2 ** 40 + 0xc0 * 2 ** 32);

const arch64 = {
  ptrSize: 8 as const,
  defaultDataEnd: 0x00601040,
  mmapTop: 0x7f0000000000,
  sizeofMSpan: 128,
  sizeofMCache: 2200,
  sizeofSpecialFinalizer: 40,
  sizeofSpecialProfile: 24,
  sizeofBucketBase: 192,
  sizeofLocation: 48,
};

const arch32 = {
  ptrSize: 4 as const,
  heapBases: [] as number[],
  mmapTop: 0xf7000000,
  seedHasTicks: false,
  sizeofMSpan: 72,
  sizeofMCache: 1100,
  sizeofSpecialFinalizer: 20,
  sizeofSpecialProfile: 12,
  sizeofBucketBase: 96,
  sizeofLocation: 24,
};

export const ARCHES: Readonly<Record<ArchName, Arch>> = {
  amd64: { ...arch64, name: "amd64", heapBases: amd64HeapBases, seedHasTicks: true },
  arm64: { ...arch64, name: "arm64", heapBases: [0x40 * 2 ** 32], seedHasTicks: false },
  // The Go 1.3.3 386 binaries of the oracle logs end their image here (arena at 0x18300000).
  "386": { ...arch32, name: "386", defaultDataEnd: 0x0812f3a4 },
  // ARM EABI aligns int64 to 8: MSpan.unusedsince and the Bucket union move, the rest matches 386.
  arm: {
    ...arch32,
    name: "arm",
    defaultDataEnd: 0x00140000,
    sizeofMSpan: 80,
    sizeofBucketBase: 104,
  },
};

/**
 * The 32-bit arena's first reservation (malloc.goc mallocinit): spans map, bitmap and a
 * 512 MiB arena, from the first MiB boundary 256 KiB past the program image's end.
 */
export function reservation32(ptrSize: number, dataEnd: number): { p: number; pSize: number; bitmapSize: number; spansSize: number } {
  const bitmapSize = MaxArena32 / ((ptrSize * 8) / 4);
  const spansSize = roundUp((MaxArena32 / PageSize) * ptrSize, PageSize);
  const pSize = bitmapSize + spansSize + 512 * MiB + PageSize;
  return { p: roundUp(dataEnd + 256 * KiB, MiB), pSize, bitmapSize, spansSize };
}

/** Where a 32-bit program image ending at dataEnd puts the end of its arena's reservation. */
export function reservationEnd32(dataEnd: number): number {
  const r = reservation32(4, dataEnd);
  return r.p + r.pSize;
}

export function roundUp(x: number, n: number): number {
  return Math.ceil(x / n) * n;
}

/**
 * The emulated kernel's mmap(NULL, ...): mappings placed top-down from arch.mmapTop. Their
 * addresses are never traced; they matter only for the 32-bit SysAlloc fallback range check.
 */
export class OSMemory {
  private top: number;
  constructor(arch: Arch) {
    this.top = arch.mmapTop;
  }
  /** The address of a new mapping of n bytes, or -1 when the address space below is too small. */
  mmapAnywhere(n: number): number {
    const size = roundUp(n, OSPageSize);
    if (size > this.top) return -1;
    this.top -= size;
    return this.top;
  }
}

/** The arena reservation and its growth (the MHeap fields arena_*, bitmap*, spans*). */
export class Arena {
  readonly spans: number;
  readonly bitmap: number;
  readonly arena_start: number;
  arena_used: number;
  arena_end: number;
  arena_reserved: boolean;
  bitmap_mapped = 0;
  spans_mapped = 0;
  /** False once the 32-bit fallback mapped memory off the reservation (holes, slack). */
  contiguous = true;
  readonly wordsPerBitmapWord: number;

  constructor(
    readonly arch: Arch,
    private readonly stats: MStats,
    private readonly os: OSMemory,
    dataEnd: number,
    /** stderr lines the runtime prints (kept by the runtime object). */
    private readonly printed: string[],
  ) {
    const P = arch.ptrSize;
    this.wordsPerBitmapWord = (P * 8) / 4;
    let p: number;
    let pSize: number;
    let bitmapSize: number;
    let spansSize: number;
    if (P === 8 && arch.heapBases.length > 0) {
      // 64-bit: SysReserve probes the hint; the emulation assumes the first hint is free.
      const arenaSize = 2 ** 37;
      bitmapSize = arenaSize / this.wordsPerBitmapWord;
      spansSize = roundUp((arenaSize / PageSize) * P, PageSize);
      pSize = bitmapSize + spansSize + arenaSize + PageSize;
      p = arch.heapBases[0]!;
      this.arena_reserved = false;
    } else {
      ({ p, pSize, bitmapSize, spansSize } = reservation32(P, dataEnd));
      this.arena_reserved = true;
    }
    const p1 = roundUp(p, PageSize);
    this.spans = p1;
    this.bitmap = p1 + spansSize;
    this.arena_start = p1 + spansSize + bitmapSize;
    this.arena_used = this.arena_start;
    this.arena_end = p + pSize;
  }

  /** Pages of the arena that the spans map must cover. */
  get usedPages(): number {
    return (this.arena_used - this.arena_start) / PageSize;
  }

  private sysMap(n: number, stat: SysStat): void {
    this.stats[stat] += n;
  }

  /** MHeap_SysAlloc(n): n more bytes of arena (n a multiple of 8 KiB), or null. */
  sysAlloc(n: number): number | null {
    const P = this.arch.ptrSize;
    if (n > this.arena_end - this.arena_used) {
      // Extend the reservation past arena_end; the emulated kernel always honours the hint.
      const pSize = roundUp(n + PageSize, 256 * MiB);
      const newEnd = this.arena_end + pSize;
      if (newEnd <= this.arena_start + MaxArena32) {
        this.arena_end = newEnd;
        this.arena_reserved = true;
      }
    }
    if (n <= this.arena_end - this.arena_used) {
      const p = this.arena_used;
      this.sysMap(n, "heap_sys");
      this.arena_used += n;
      this.mapBits();
      this.mapSpans();
      return p;
    }
    if (this.arena_end - this.arena_start >= MaxArena32 || P === 8) {
      return null;
    }
    // 32-bit last resort: any mapping the kernel gives, if it lies in the usable range.
    const pSize = roundUp(n, PageSize) + PageSize;
    let p = this.os.mmapAnywhere(pSize);
    if (p < 0) return null;
    this.stats.heap_sys += pSize;
    if (p < this.arena_start || p + pSize - this.arena_start >= MaxArena32) {
      this.printed.push(
        `runtime: memory allocated by OS (${hex(p)}) not in usable range ` +
          `[${hex(this.arena_start)},${hex(this.arena_start + MaxArena32)})`,
      );
      this.stats.heap_sys -= pSize;
      return null;
    }
    const pEnd = p + pSize;
    this.contiguous = false;
    p = roundUp(p, PageSize);
    if (p + n > this.arena_used) {
      this.arena_used = p + n;
      if (pEnd > this.arena_end) this.arena_end = pEnd;
      this.mapBits();
      this.mapSpans();
    }
    return p;
  }

  /** Map GC bitmap for the arena in use (4 bits per heap word), charged to gc_sys. */
  private mapBits(): void {
    const want = roundUp(
      roundUp((this.arena_used - this.arena_start) / this.wordsPerBitmapWord, PageSize),
      OSPageSize,
    );
    if (this.bitmap_mapped >= want) return;
    this.sysMap(want - this.bitmap_mapped, "gc_sys");
    this.bitmap_mapped = want;
  }

  /** Map the page -> span array for the arena in use, charged to other_sys. */
  private mapSpans(): void {
    const want = roundUp(
      roundUp(((this.arena_used - this.arena_start) / PageSize) * this.arch.ptrSize, PageSize),
      OSPageSize,
    );
    if (this.spans_mapped >= want) return;
    this.sysMap(want - this.spans_mapped, "other_sys");
    this.spans_mapped = want;
  }
}
