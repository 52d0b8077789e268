// The emulated runtime's public surface: createRuntime(options) and the types around it.
//
// See malloc.ts for the overview. One Runtime object is one emulated process: there is no
// module-level mutable state, so several (one per arch, say) can live side by side.

import { Runtime, type RuntimeOptions } from "./malloc.js";

export { Runtime, FlagTypesFromLog, FlagNoGC, FlagNoInvokeGC, FlagNoProfiling, FlagNoScan, FlagNoZero, TypeTableFlags } from "./malloc.js";
export type { RuntimeOptions } from "./malloc.js";
export { ARCHES, ARCH_NAMES, reservationEnd32, type Arch, type ArchName } from "./arena.js";
export { RuntimeThrow } from "./throw.js";
export { checkInvariants, InvariantError } from "./invariants.js";
export { GC_RECORDS_KEPT, GCForce, KeptEnds, parseGOGC, type GCListener, type GCRecord } from "./mgc.js";
export { bgsweep, bgsweepTo } from "./mgcsweep.js";
export { toMemStats, VisibleSizeClasses, type MemStats, type BySizeEntry } from "./mstats.js";
export { InternalAlloc, RuntimeStack, runtimeStackName, type ObservedRuntime, type RuntimeObserver } from "./observer.js";
export { FreeOrigin, type RuntimeFreeOrigin } from "../free-origin.js";
export { MSpanState, ObjFlag } from "./mheap.js";
export { MaxSmallSize, PageSize, TinySize, sizeToClass } from "./msize.js";
export { NumSizeClasses, class_to_size, class_to_allocnpages, class_to_nobj } from "./sizeclasses.js";
export { initSizes, sizeClassRows, type SizeClassRow, type SizeTables } from "./msize.js";
export { heapShape, objectFootprint, takeSnapshot } from "./snapshot.js";
export type { HeapSnapshot, HeldObject, ObjectFootprint, RuntimeSnapshot, SpanSnapshot } from "./snapshot.js";
export { DefaultMemProfileRate, FastrandSeedBase, fastrandStep, type MemProfileRecord, type ProfileListener } from "./mprof.js";

export function createRuntime(options: RuntimeOptions = {}): Runtime {
  return new Runtime(options);
}
