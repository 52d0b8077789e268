// Internals for tests only (the role of Go's export_test.go). Nothing outside test/ imports it.

export { MHeap, MSpans, MSpanState, ObjFlag, MTypes, MaxMHeapList } from "./mheap.js";
export { MCache } from "./mcache.js";
export { MCentral } from "./mcentral.js";
export { FixAlloc, PersistentAlloc } from "./mfixalloc.js";
export { Arena, OSMemory, MaxArena32 } from "./arena.js";
export { sweepone, ensureSwept } from "./mgcsweep.js";
export { MStats } from "./mstats.js";
export { MProf } from "./mprof.js";
export * as sizeclasses from "./sizeclasses.js";
