// goalloc's library API: everything the command line does, as functions.

import { ARCHES, initSizes, sizeClassRows, type ArchName, type SizeClassRow } from "./runtime/index.js";
import { resolveReplayOptions, type ReplayOptions } from "./replay/options.js";
import { replayFile, type ObserverFactory, type ReplayMonitor, type ReplayOutcome } from "./replay/replay.js";
import { convertHeader, NativeTraceWriter, type ConvertCounts } from "./replay/convert.js";
import { buildReport, type Report, type ReportOptions } from "./report/report.js";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { baselineFromReport, evaluateCheck, type Baseline, type CheckVerdict } from "./check/baseline.js";
import { compareReports, type Comparison } from "./check/compare.js";
import { diffReports, type Diff } from "./check/diff.js";
import { parseTolerance, type Tolerance } from "./check/tolerance.js";
import { DEFAULT_SITE_DEPTH } from "./report/sites.js";

export { createRuntime, Runtime, RuntimeThrow, checkInvariants } from "./runtime/index.js";
export type { ArchName, GCListener, GCRecord, HeapSnapshot, MemStats, ObjectFootprint, RuntimeOptions, RuntimeSnapshot, SpanSnapshot } from "./runtime/index.js";
export { GC_RECORDS_KEPT } from "./runtime/index.js";
export { GctraceWriter, gctraceLine } from "./report/gctrace.js";
export { jsonChunks } from "./report/json-stream.js";
export { defaultReplayOptions, resolveReplayOptions, type ReplayOptions, type GCMode } from "./replay/options.js";
export type { ReplayOutcome, ReplayError, ReplayObserver, ObserverFactory, ReplayMonitor } from "./replay/replay.js";
export { MEMPROFILE_POINTS, type MemProfilePoint } from "./replay/replay.js";
export type { Collection, Report, ReportOptions } from "./report/report.js";
export { REPORT_VERSION } from "./report/report.js";
export { DEFAULT_SITE_DEPTH, isAllocatorFrame, siteFrameIndex, siteFrames, siteLabel, type SiteFrame } from "./report/sites.js";
export { allocFreeTrace, AllocFreeTraceWriter, type TextSink } from "./report/allocfreetrace.js";
export { heapProfile, heapProfileProto, heapProfileText, HEAP_PROFILE_FORMATS, type HeapProfileFormat, type HeapProfileInput } from "./report/pprof.js";
export { TraceError } from "./trace/record.js";
export { READER_THREAD_BYTES, type ReaderThread } from "./trace/source.js";
export { generateTrace, type GenerateOptions } from "./gen/generator.js";
export { VERSION } from "./version.js";
export { NativeTraceWriter, type ConvertCounts } from "./replay/convert.js";
export { BaselineError, BaselineVersion, baselineFromReport, evaluateCheck, formatBaseline, optionDifferences, parseBaseline } from "./check/baseline.js";
export type { Baseline, BaselineOptions, CheckVerdict, FieldResult, OptionDifference } from "./check/baseline.js";
export { FIELDS, FIELD_NAMES, fieldValues, type FieldDef, type FieldKind } from "./check/fields.js";
export { parseTolerance, limitFor, withinLimit, formatLimit, ToleranceError, type Limit, type Tolerance, type ToleranceRule } from "./check/tolerance.js";
export { compareReports, type Comparison, type ComparisonColumn } from "./check/compare.js";
export { diffReports, type Diff, type FieldDelta, type SiteDelta } from "./check/diff.js";
export { benchLine, benchUnitLines, benchmarkName } from "./check/bench.js";
export { checkMarkdown } from "./check/markdown.js";

/** What watches and tunes a replay, and how its report groups allocation sites (`--depth`, `--top`). */
export interface ReplayTuning extends ReplayMonitor, ReportOptions {}

export interface ReplayResult {
  report: Report;
  outcome: ReplayOutcome;
}

/** Replay a trace file (`-` for stdin) and build its report. Trace errors and runtime throws
 * do not reject: they end the replay early and come back as `report.error` (partial report).
 * `observe` watches the runtime as it replays (e.g. allocFreeTrace(sink)); `monitor.signal`
 * stops it early (Ctrl-C): a partial report, with `outcome.interrupted`. */
export async function replay(path: string, options: Partial<ReplayOptions> = {}, observe?: ObserverFactory, monitor?: ReplayTuning): Promise<ReplayResult> {
  const outcome = await replayFile(path, resolveReplayOptions(options), observe, monitor);
  return { report: buildReport(outcome, { siteDepth: monitor?.siteDepth, topSites: monitor?.topSites }), outcome };
}

export interface ConvertResult {
  counts: ConvertCounts;
  /** The pacer replay of the log that placed the events (error / interrupted as in replay). */
  outcome: ReplayOutcome;
}

/**
 * Convert a Go log (`-` for stdin) into a native trace, written to `write` in pieces: the
 * log replayed with the pacer, each of its runtime calls a native record (replay/convert.ts).
 */
export async function convertLog(path: string, options: Partial<ReplayOptions>, write: (text: string) => void, monitor: ReplayMonitor = {}): Promise<ConvertResult> {
  let writer: NativeTraceWriter | null = null;
  const outcome = await replayFile(path, resolveReplayOptions({ ...options, format: "golog", gc: "pacer" }), undefined, {
    ...monitor,
    nativeSink: (resolved, stacks) => {
      const file = path === "-" ? "<stdin>" : path;
      writer = new NativeTraceWriter(stacks, write, convertHeader(file, resolved));
      return writer;
    },
  });
  const done = writer as NativeTraceWriter | null;
  done?.flush();
  return { counts: done?.counts ?? { allocs: 0, frees: 0, deaths: 0, collections: 0, stacks: 0 }, outcome };
}

/** The size-class table (the same on every arch; the arch only checks the name). */
export function sizeClasses(arch: ArchName = "amd64"): SizeClassRow[] {
  if (!(arch in ARCHES)) throw new Error(`unknown arch ${arch}`);
  return sizeClassRows(initSizes());
}

/**
 * SHA-256 (hex) of a trace file's bytes as stored (compressed or not); null for standard input
 * or a pipe (read once, by the replay), and when `signal` is aborted before the end.
 */
export async function traceDigest(path: string, signal?: AbortSignal): Promise<string | null> {
  if (path === "-" || !(await stat(path)).isFile()) return null;
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) {
    if (signal?.aborted === true) return null;
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}

/** Where a signal (monitor.signal) stopped check, compare or diff: the trace and its last line read. */
export interface Interruption {
  file: string;
  line: number;
}

/** Where a replay stopped when monitor.signal stopped it (null: it ran to its end, or to an error). */
function stoppedBySignal(result: ReplayResult): Interruption | null {
  return result.outcome.interrupted ? { file: result.report.trace.file, line: result.report.trace.lines } : null;
}

export interface CheckRun {
  report: Report;
  sha256: string | null;
  /** The baseline this run makes (what --update writes); null for a partial replay. */
  current: Baseline | null;
  /** The comparison with the given baseline; null without one, or for a partial replay. */
  verdict: CheckVerdict | null;
  /** Where monitor.signal stopped the run (then nothing is compared: current and verdict are null). */
  interrupted: Interruption | null;
}

/**
 * Replay a trace and compare it with a baseline (null: only make one). A partial replay
 * (report.error, or stopped by `monitor.signal`) is neither compared nor made a baseline of.
 * Throws BaselineError when the baseline was made with other options, and ToleranceError for
 * a bad tolerance spec.
 */
export async function check(
  trace: string,
  baseline: Baseline | null,
  options: Partial<ReplayOptions> = {},
  tolerance: Tolerance | string = [],
  baselineFile?: string,
  monitor: ReplayMonitor = {},
): Promise<CheckRun> {
  const rules = typeof tolerance === "string" ? parseTolerance(tolerance) : tolerance;
  const result = await replay(trace, options, undefined, monitor);
  const { report } = result;
  if (report.partial) return { report, sha256: null, current: null, verdict: null, interrupted: stoppedBySignal(result) };
  const sha256 = await traceDigest(trace, monitor.signal);
  if (monitor.signal?.aborted === true) {
    // Stopped while the trace was hashed: the replay was whole, but nothing is compared.
    return { report, sha256: null, current: null, verdict: null, interrupted: { file: report.trace.file, line: report.trace.lines } };
  }
  const verdict = baseline === null ? null : evaluateCheck(baseline, report, rules, sha256, baselineFile);
  return { report, sha256, current: baselineFromReport(report, sha256), verdict, interrupted: null };
}

/**
 * Replay one trace under several arena layouts, one after another, and put the reports side
 * by side. A layout whose replay fails keeps its column (with the error). The replays share
 * this thread on purpose: worker threads were measured slower on a 2-core machine (each
 * starts with cold JIT code, doubling the CPU time of traces up to a few MB, and gained at
 * most 17% on a 52 MB trace for 2.4 times the memory).
 */
export async function compare(
  trace: string,
  arches: readonly ArchName[],
  options: Partial<ReplayOptions> = {},
  monitor: ReplayMonitor = {},
): Promise<{ comparison: Comparison; reports: Report[]; interrupted: Interruption | null }> {
  if (trace === "-") throw new TypeError("compare replays the trace once per layout: it needs a file, not standard input");
  const reports: Report[] = [];
  for (const arch of arches) {
    const result = await replay(trace, { ...options, arch }, undefined, monitor);
    reports.push(result.report);
    // Stopped by monitor.signal: the layouts after it are not replayed (interrupted says where).
    const interrupted = stoppedBySignal(result);
    if (interrupted !== null) return { comparison: compareReports(reports), reports, interrupted };
  }
  return { comparison: compareReports(reports), reports, interrupted: null };
}

/** One side of a diff: a trace and its replay options. */
export interface DiffInput {
  trace: string;
  options?: Partial<ReplayOptions>;
}

/**
 * Replay two traces (or one trace under two option sets) and diff the reports: `topSites`
 * sites of `siteDepth` frames. When `monitor.signal` stops A, B's replay stops before its
 * first line; `interrupted` says where the signal stopped them, and the diff is of partial
 * reports.
 */
export async function diff(
  a: DiffInput,
  b: DiffInput,
  topSites = 10,
  siteDepth = DEFAULT_SITE_DEPTH,
  monitor: ReplayMonitor = {},
): Promise<{ diff: Diff; reports: [Report, Report]; interrupted: Interruption | null }> {
  if (a.trace === "-" && b.trace === "-") throw new TypeError("diff cannot read standard input twice: give the trace as a file");
  const ra = await replay(a.trace, a.options, undefined, monitor);
  const rb = await replay(b.trace, b.options, undefined, monitor);
  return { diff: diffReports(ra.report, rb.report, topSites, siteDepth), reports: [ra.report, rb.report], interrupted: stoppedBySignal(ra) ?? stoppedBySignal(rb) };
}
