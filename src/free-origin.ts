// Which code path of the runtime freed an object: the one vocabulary of the trace readers (a
// log's tracefree, classified by its traceback: trace/golog.ts) and of the emulated runtime
// (the origin it hands its observer's tracefree: runtime/observer.ts).

export const enum FreeOrigin {
  /** Not known: a native `d` record, or a log's traceback that names no path below. */
  Unknown = 0,
  /** `runtime.free` / `__go_free` / `runtime_free`: an explicit free, printed at once. */
  Explicit = 1,
  /** Sweep inside `MCentral_CacheSpan` (refill). */
  CacheSpan = 2,
  /** Sweep inside `MHeap_Reclaim`'s walk of the busy lists (before a page allocation). */
  Reclaim = 3,
  /** The background sweeper (`bgsweep` / `sweepone` outside a GC). */
  BgSweep = 4,
  /**
   * A sweep inside `gc`, on g0. The runtime reports gc()'s first sweep (what the previous cycle
   * left unswept) so; a log's GCSweep also covers the eager sweep (told apart by its sweepSite).
   */
  GCSweep = 5,
  /** `MSpan_EnsureSwept` (explicit free, SetFinalizer, profiling). */
  EnsureSwept = 6,
  /**
   * gc Go 1.3/1.4's `shrinkstack`: the stack's span was split in two in place
   * (MHeap_SplitSpan) and its low half explicitly freed. Logs only.
   */
  ShrinkStack = 7,
  /** gc()'s eager sweep of the new cycle (runtime.GC, FreeOSMemory), on g0. Runtime only. */
  GCEager = 8,
  /**
   * MHeap_Reclaim's last resort: sweepone until enough pages came back. Runtime only: a log
   * shows it as Reclaim, with the sweepone frame.
   */
  ReclaimSweepone = 9,
}

/** The origins the emulated runtime reports: every free it makes has a known gccgo path. */
export type RuntimeFreeOrigin = Exclude<FreeOrigin, FreeOrigin.Unknown | FreeOrigin.ShrinkStack>;
