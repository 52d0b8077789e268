// Fixed-size object allocator (FixAlloc) and persistentalloc.
//
// See malloc.ts for the overview. Runtime metadata (MSpan, MCache, special records, profile
// buckets) lives outside the heap. Only two things about it are observable: the *_sys
// statistic each allocation charges, and, for MSpan structs, their identity: a freed struct
// goes on a LIFO list and is handed out again before a new one is carved, and the order in
// which structs were first carved is the sweep order (allspans).
//
// Struct identities are small integers; the caller maps them to whatever it stores.

import { roundUp, type OSMemory } from "./arena.js";
import type { MStats, SysStat } from "./mstats.js";
import { RuntimeThrow } from "./throw.js";

const PersistentAllocChunk = 256 * 1024;
const PersistentAllocMaxBlock = 64 * 1024;
export const FixAllocChunk = 16384;

/** persistentalloc: bump allocation in 256 KiB chunks charged to other_sys, then re-accounted. */
export class PersistentAlloc {
  private pos = 0;
  private end = 0;

  constructor(
    private readonly stats: MStats,
    private readonly os: OSMemory,
  ) {}

  /** SysAlloc(n, stat): a fresh mapping outside the arena. */
  sysAlloc(n: number, stat: SysStat): number {
    const p = this.os.mmapAnywhere(n);
    if (p < 0) throw new RuntimeThrow("runtime: cannot allocate memory");
    this.stats[stat] += n;
    return p;
  }

  alloc(size: number, align: number, stat: SysStat): number {
    if (align === 0) align = 8;
    if ((align & (align - 1)) !== 0) throw new RuntimeThrow("persistentalloc: align is not a power of 2");
    if (align > 8192) throw new RuntimeThrow("persistentalloc: align is too large");
    if (size >= PersistentAllocMaxBlock) return this.sysAlloc(size, stat);
    this.pos = roundUp(this.pos, align);
    if (this.pos + size > this.end) {
      this.pos = this.sysAlloc(PersistentAllocChunk, "other_sys");
      this.end = this.pos + PersistentAllocChunk;
    }
    const p = this.pos;
    this.pos += size;
    if (stat !== "other_sys") {
      this.stats[stat] += size;
      this.stats.other_sys -= size;
    }
    return p;
  }
}

/** FixAlloc: fixed-size structs carved from 16 KiB persistentalloc chunks, recycled LIFO. */
export class FixAlloc {
  /** Bytes of live structs (mspan_inuse / mcache_inuse come from here). */
  inuse = 0;
  private nchunk = 0;
  private nextId = 0;
  private readonly freeIds: number[] = [];

  constructor(
    readonly size: number,
    private readonly persistent: PersistentAlloc,
    private readonly stat: SysStat,
    /** Called with a newly carved struct's id (RecordSpan for the MSpan allocator). */
    private readonly onFirstUse: ((id: number) => void) | null = null,
  ) {}

  alloc(): number {
    const recycled = this.freeIds.pop();
    if (recycled !== undefined) {
      this.inuse += this.size;
      return recycled;
    }
    if (this.nchunk < this.size) {
      this.persistent.alloc(FixAllocChunk, 0, this.stat);
      this.nchunk = FixAllocChunk;
    }
    const id = this.nextId++;
    if (this.onFirstUse) this.onFirstUse(id);
    this.nchunk -= this.size;
    this.inuse += this.size;
    return id;
  }

  free(id: number): void {
    this.inuse -= this.size;
    this.freeIds.push(id);
  }

  /** Structs ever carved (ids are 0 … carved-1). */
  get carved(): number {
    return this.nextId;
  }
}
