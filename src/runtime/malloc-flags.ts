// The malloc flags of malloc.h (FlagNoScan ...), alone in this module so that the trace
// readers, which parse them off `a` records, can name them without loading the runtime.

export const FlagNoScan = 1;
export const FlagNoProfiling = 2;
export const FlagNoGC = 4;
export const FlagNoZero = 8;
export const FlagNoInvokeGC = 16;
