// Memory profiling: MemProfileRate sampling, fastrand1 and the profile buckets.
//
// See malloc.ts for the overview. mallocgc samples an allocation when its rounded size
// reaches next_sample (counted down by rounded sizes) or the rate itself; after a sample of
// a small object, the next interval is fastrand1() % 2·rate minus the overshoot, clamped at 0.
// fastrand1 is the runtime's per-M generator: double, and xor 0x88888eef when the top bit
// is set. Its seed is 0x49f6428a + cputicks(): cputicks is the TSC on x86-64 (a replay
// option) and 0 elsewhere, 386 included. The bootstrap mcache is made before the seed, so
// the first eligible allocation is always sampled.
//
// Buckets are keyed by (size, stack) and published with a lag (mprof.goc MProf_GC): mallocs and
// explicit frees count in recent_*, sweeper frees in prev_*; every MProf_GC folds prev_*
// into the published counts and moves recent_* to prev_*.
//
// Besides what the runtime publishes (memProfile, as of the last collection), a replay can ask
// for the profile at another point (`--memprofile-at`): a sampled object is *in use* there when
// a collection at that point would keep it, i.e. the trace still references it (its pins) or it
// is NoGC. Runtime.profileInuse counts those per bucket now; a ProfileListener is told of every
// change as it happens, so that a replay can snapshot them at its HeapAlloc peak.

import type { Runtime } from "./malloc.js";

export const DefaultMemProfileRate = 524288;
export const FastrandSeedBase = 0x49f6428a;
const BuckHashSize = 179999;
const MaxStack = 32;

export interface Bucket {
  /** Creation index. */
  id: number;
  stack: number;
  size: number;
  allocs: number;
  frees: number;
  alloc_bytes: number;
  free_bytes: number;
  prev_allocs: number;
  prev_frees: number;
  prev_alloc_bytes: number;
  prev_free_bytes: number;
  recent_allocs: number;
  recent_frees: number;
  recent_alloc_bytes: number;
  recent_free_bytes: number;
}

/** One runtime.MemProfileRecord. */
export interface MemProfileRecord {
  stack: number;
  size: number;
  allocObjects: number;
  allocBytes: number;
  freeObjects: number;
  freeBytes: number;
}

/**
 * Told of every change to the buckets' sampled allocations and in-use objects (see the file
 * comment), when set (MProf.listener): null costs the allocation and liveness paths one test.
 */
export interface ProfileListener {
  /** An allocation of bucket `bucket` (object size `size`) was sampled: allocated and in use. */
  sampled(bucket: number, size: number): void;
  /** A sampled object stopped (−1: unreferenced or freed) or started again (+1) being in use. */
  inuseChanged(bucket: number, size: number, delta: 1 | -1): void;
}

export function fastrandStep(x: number): number {
  x = (x + x) >>> 0;
  if (x & 0x80000000) x = (x ^ 0x88888eef) >>> 0;
  return x;
}

export class MProf {
  /** runtime.MemProfileRate. */
  rate: number;
  /** The M's fastrand state (0 until the M is initialised). */
  fastrand = 0;
  readonly buckets: Bucket[] = [];
  private readonly byKey = new Map<string, number>();
  private hashAllocated = false;
  /** Allocations sampled so far. */
  samples = 0;
  /** Told of every sample and in-use change (`--memprofile-at peak`); null: nobody asked. */
  listener: ProfileListener | null = null;

  constructor(
    private readonly rt: Runtime,
    rate: number,
  ) {
    this.rate = rate;
  }

  fastrand1(): number {
    this.fastrand = fastrandStep(this.fastrand);
    return this.fastrand;
  }

  /** The interval drawn for a fresh mcache (allocmcache). */
  initialNextSample(): number {
    const rate = Math.min(this.rate, 0x3fffffff);
    if (rate === 0) return 0;
    return this.fastrand1() % (2 * rate);
  }

  /**
   * mallocgc step 8: count the allocation down or sample it. Called only when the
   * allocation may be profiled and rate > 0.
   */
  maybeSample(v: number, size: number, stack: number): void {
    const c = this.rt.mcache();
    const rate = this.rate;
    const next = c.next_sample >>> 0;
    if (size < rate && size < next) {
      c.next_sample -= size;
      return;
    }
    if (size < rate) {
      const r = Math.min(rate, 0x3fffffff);
      let nxt = this.fastrand1() % (2 * r);
      nxt = (nxt - (size - c.next_sample)) | 0;
      c.next_sample = nxt < 0 ? 0 : nxt;
    }
    this.malloc(v, size, stack);
  }

  /** MProf_Malloc: count a sampled allocation in its bucket and tag the object. */
  private malloc(v: number, size: number, stack: number): void {
    const b = this.bucketFor(size, stack);
    b.recent_allocs++;
    b.recent_alloc_bytes += size;
    this.samples++;
    this.rt.setProfileBucket(v, b.id);
    this.listener?.sampled(b.id, size);
  }

  private bucketFor(size: number, stack: number): Bucket {
    const key = stack + ":" + size;
    const known = this.byKey.get(key);
    if (known !== undefined) return this.buckets[known]!;
    const arch = this.rt.arch;
    if (!this.hashAllocated) {
      this.rt.persistent.sysAlloc(BuckHashSize * arch.ptrSize, "buckhash_sys");
      this.hashAllocated = true;
    }
    const nstk = Math.min(this.rt.stackDepth(stack), MaxStack);
    this.rt.persistent.alloc(arch.sizeofBucketBase + arch.sizeofLocation * nstk, 0, "buckhash_sys");
    const b: Bucket = {
      id: this.buckets.length,
      stack,
      size,
      allocs: 0,
      frees: 0,
      alloc_bytes: 0,
      free_bytes: 0,
      prev_allocs: 0,
      prev_frees: 0,
      prev_alloc_bytes: 0,
      prev_free_bytes: 0,
      recent_allocs: 0,
      recent_frees: 0,
      recent_alloc_bytes: 0,
      recent_free_bytes: 0,
    };
    this.buckets.push(b);
    this.byKey.set(key, b.id);
    return b;
  }

  /** MProf_Free: an explicit free counts as recent, a sweep as prev. */
  free(bucket: number, size: number, explicit: boolean): void {
    const b = this.buckets[bucket]!;
    if (explicit) {
      b.recent_frees++;
      b.recent_free_bytes += size;
    } else {
      b.prev_frees++;
      b.prev_free_bytes += size;
    }
  }

  /** MProf_GC: publish prev_*, then recent_* becomes prev_*. */
  gc(): void {
    for (const b of this.buckets) {
      b.allocs += b.prev_allocs;
      b.frees += b.prev_frees;
      b.alloc_bytes += b.prev_alloc_bytes;
      b.free_bytes += b.prev_free_bytes;
      b.prev_allocs = b.recent_allocs;
      b.prev_frees = b.recent_frees;
      b.prev_alloc_bytes = b.recent_alloc_bytes;
      b.prev_free_bytes = b.recent_free_bytes;
      b.recent_allocs = 0;
      b.recent_frees = 0;
      b.recent_alloc_bytes = 0;
      b.recent_free_bytes = 0;
    }
  }

  /** Sampled allocations of a bucket so far, published or not. */
  allocsSoFar(b: Bucket): number {
    return b.allocs + b.prev_allocs + b.recent_allocs;
  }

  /**
   * Records from per-bucket figures (index: bucket id), newest bucket first as memProfile:
   * `allocs` sampled allocations and `inuse` of them in use. A bucket with no allocation there
   * (made later, or past the arrays) has no record.
   */
  recordsOf(allocs: ArrayLike<number>, inuse: ArrayLike<number>): MemProfileRecord[] {
    const out: MemProfileRecord[] = [];
    for (let i = Math.min(this.buckets.length, allocs.length) - 1; i >= 0; i--) {
      const b = this.buckets[i]!;
      const n = allocs[i]!;
      if (n === 0) continue;
      const freed = n - (inuse[i] ?? 0);
      out.push({ stack: b.stack, size: b.size, allocObjects: n, allocBytes: n * b.size, freeObjects: freed, freeBytes: freed * b.size });
    }
    return out;
  }

  /**
   * The profile as a collection now would publish it, without one: every sampled allocation,
   * and in use those Runtime.profileInuse counts (the others are freed or garbage).
   */
  profileNow(): MemProfileRecord[] {
    return this.recordsOf(
      this.buckets.map((b) => this.allocsSoFar(b)),
      this.rt.profileInuse(),
    );
  }

  /**
   * runtime.MemProfile(inuseZero = true): published records, newest bucket first. Like the
   * runtime, when nothing is published yet it runs MProf_GC twice first (mutating state).
   */
  memProfile(): MemProfileRecord[] {
    if (!this.buckets.some((b) => b.alloc_bytes !== 0 || b.free_bytes !== 0 || b.allocs !== 0)) {
      this.gc();
      this.gc();
    }
    const out: MemProfileRecord[] = [];
    for (let i = this.buckets.length - 1; i >= 0; i--) {
      const b = this.buckets[i]!;
      out.push({
        stack: b.stack,
        size: b.size,
        allocObjects: b.allocs,
        allocBytes: b.alloc_bytes,
        freeObjects: b.frees,
        freeBytes: b.free_bytes,
      });
    }
    return out;
  }
}
