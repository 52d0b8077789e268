// goalloc's library API: everything the command line does, as functions.

import { ARCHES, initSizes, sizeClassRows, type ArchName, type SizeClassRow } from "./runtime/index.js";
import { resolveReplayOptions, type ReplayOptions } from "./replay/options.js";
import { replayFile, type ObserverFactory, type ReplayOutcome } from "./replay/replay.js";
import { buildReport, type Report } from "./report/report.js";

export { createRuntime, Runtime, RuntimeThrow, checkInvariants } from "./runtime/index.js";
export type { ArchName, MemStats, RuntimeOptions } from "./runtime/index.js";
export { defaultReplayOptions, resolveReplayOptions, type ReplayOptions, type GCMode } from "./replay/options.js";
export type { ReplayOutcome, ReplayError, ReplayObserver, ObserverFactory } from "./replay/replay.js";
export type { Report } from "./report/report.js";
export { allocFreeTrace, AllocFreeTraceWriter, type TextSink } from "./report/allocfreetrace.js";
export { heapProfile, heapProfileProto, heapProfileText, HEAP_PROFILE_FORMATS, type HeapProfileFormat, type HeapProfileInput } from "./report/pprof.js";
export { TraceError } from "./trace/record.js";
export { VERSION } from "./version.js";

export interface ReplayResult {
  report: Report;
  outcome: ReplayOutcome;
}

/** Replay a trace file (`-` for stdin) and build its report. Trace errors and runtime throws
 * do not reject: they end the replay early and come back as `report.error` (partial report).
 * `observe` watches the runtime as it replays (e.g. allocFreeTrace(sink)). */
export async function replay(path: string, options: Partial<ReplayOptions> = {}, observe?: ObserverFactory): Promise<ReplayResult> {
  const outcome = await replayFile(path, resolveReplayOptions(options), observe);
  return { report: buildReport(outcome), outcome };
}

/** The size-class table (the same on every arch; the arch only checks the name). */
export function sizeClasses(arch: ArchName = "amd64"): SizeClassRow[] {
  if (!(arch in ARCHES)) throw new Error(`unknown arch ${arch}`);
  return sizeClassRows(initSizes());
}
