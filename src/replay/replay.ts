// Replaying a trace: read its records, apply them to an emulated runtime, gather the outcome.
//
// replayFile opens the input and hands its records to the replay for its format, one
// ReplayCore (replay-core.ts: the runtime and the running figures every replay keeps) with
// the input's own strategy: NativeReplay (native-replay.ts) for `goalloc-trace 1` traces,
// GologReplay (golog-replay.ts) for Go allocfreetrace logs. It never prints.

import { stat } from "node:fs/promises";
import {
  objectFootprint,
  RuntimeThrow,
  takeSnapshot,
  type GCListener,
  type ObjectFootprint,
  type ObservedRuntime,
  type RuntimeSnapshot,
} from "../runtime/index.js";
import type { PeakCounters } from "./live-sites.js";
import type { Timeline } from "./timeline.js";
import { openRecordSource, type ReaderThread } from "../trace/source.js";
import { TraceError, type StackTable, type TraceFormat } from "../trace/record.js";
import type { LogProfile } from "../trace/golog-profile.js";
import { resolveSchedule, type ReplayOptions, type ResolvedReplayOptions, type Schedule } from "./options.js";
import type { StartUp } from "./prologue.js";
import type {
  Fidelity,
  JWSums,
  MemProfilePoint,
  PeakName,
  PeakPoint,
  ReplayCore,
  ReplayObserver,
  TraceCounts,
} from "./replay-core.js";
import { NativeReplay } from "./native-replay.js";
import { GologReplay, type NativeEventSink } from "./golog-replay.js";

export {
  MEMPROFILE_POINTS,
  PEAK_NAMES,
  type Fidelity,
  type JWSums,
  type MemProfilePoint,
  type PeakName,
  type PeakPoint,
  type ReplayObserver,
  type TraceCounts,
} from "./replay-core.js";
export type { NativeEventSink } from "./golog-replay.js";
export type { LiveObject } from "./live-table.js";

/** Makes the observer of one replay; `replay.rt` is the runtime its hooks come from. */
export type ObserverFactory = (replay: { readonly rt: ObservedRuntime }, stacks: StackTable, format: TraceFormat) => ReplayObserver;

export interface ReplayError {
  kind: "trace" | "runtime";
  line: number;
  message: string;
}

/** Everything a replay produced; reports are built from this. */
export interface ReplayOutcome {
  file: string;
  format: TraceFormat;
  /** The options with what was left to the input decided (arch, collection schedule). */
  options: ResolvedReplayOptions;
  /** Why collections happen where they do, and whether logged addresses are comparable. */
  schedule: Schedule;
  /** A Go log: what its first records say of the run that printed it. */
  logProfile: LogProfile | null;
  /** The runtime when the replay ended (after the error, if one stopped it). */
  snapshot: RuntimeSnapshot;
  stacks: StackTable;
  counts: TraceCounts;
  peaks: Record<PeakName, PeakPoint>;
  /** Johnstone–Wilson inputs: allocator memory (HeapInuse) and live requested bytes. */
  jw: JWSums;
  /** Live requested bytes now, and whether sizes were requested (native) or rounded (golog). */
  liveRequestedBytes: number;
  liveTinyRequestedBytes: number;
  requestedSizesKnown: boolean;
  fidelity: Fidelity | null;
  error: ReplayError | null;
  /** The `--until` line that stopped the replay, if any. */
  stoppedAt: { line: number; text: string } | null;
  /** monitor.signal stopped the replay before the end of its input. */
  interrupted: boolean;
  /** The start-up prologue that ran before the first event. */
  startUp: StartUp | null;
  /** Where the objects the trace still references at the end sit in the heap (fragmentation.internal). */
  liveFootprint: ObjectFootprint;
  /** Live bytes and objects per allocation stack at each peak's event. */
  liveAtPeaks: Record<PeakName, PeakCounters>;
  /** HeapAlloc, HeapInuse, HeapSys, NextGC, NumGC and HeapObjects over the replay. */
  timeline: Timeline;
  /** The point the memory profile of the snapshot shows (monitor.memprofileAt). */
  memprofileAt: MemProfilePoint;
}

/** What a caller watches or tunes while a replay runs, besides the runtime itself. */
export interface ReplayMonitor {
  /** Timeline sample every N events besides every collection (0: collections only). */
  timelineInterval?: number;
  /**
   * Called after each chunk of input: bytes read so far (decompressed), the input's size when
   * known (a plain file, not gzip or stdin), and events replayed so far.
   */
  progress?: (bytesRead: number, totalBytes: number | null, events: number) => void;
  /** Once aborted (Ctrl-C), the replay stops before the next chunk of input: outcome.interrupted. */
  signal?: AbortSignal;
  /** Which thread parses the trace (default "auto"); the outcome is the same. */
  readerThread?: ReaderThread;
  /** Told of every collection and scavenger line as they happen (the runtime keeps only the first and last). */
  collections?: GCListener;
  /** A Go log replayed with the pacer: where its events go as native records (convert.ts). */
  nativeSink?: (options: ResolvedReplayOptions, stacks: StackTable) => NativeEventSink;
  /** The point the memory profile shows (default gc); only peak makes the replay follow the profile's buckets. */
  memprofileAt?: MemProfilePoint;
}

/**
 * Replay a trace file (`-` = stdin). Errors in the trace or runtime throws end it early.
 * `observe` makes an observer of the runtime (allocfreetrace output).
 */
export async function replayFile(path: string, options: ReplayOptions, observe?: ObserverFactory, monitor: ReplayMonitor = {}): Promise<ReplayOutcome> {
  const source = await openRecordSource(path, {
    format: options.format,
    until: options.until,
    ...(monitor.readerThread !== undefined ? { thread: monitor.readerThread } : {}),
  });
  const file = path === "-" ? "<stdin>" : path;
  let resolved: ReturnType<typeof resolveSchedule>;
  try {
    resolved = resolveSchedule(options, source.format, source.profile, file);
  } catch (e) {
    await source.close();
    throw e;
  }
  const memprofileAt = monitor.memprofileAt ?? "gc";
  const golog =
    source.format === "golog" ? new GologReplay(file, resolved.options, resolved.schedule, source.stacks, source.types, monitor.timelineInterval, memprofileAt) : null;
  const engine: ReplayCore = golog ?? new NativeReplay(file, resolved.options, source.stacks, source.types, monitor.timelineInterval, memprofileAt);
  if (monitor.nativeSink !== undefined) {
    if (golog === null) throw new Error("emitNative needs a Go log replayed with the pacer");
    golog.emitNative(monitor.nativeSink(resolved.options, source.stacks));
  }
  const progress = monitor.progress;
  const input = progress === undefined || source.compressed || path === "-" ? null : await stat(path);
  const totalBytes = input?.isFile() ? input.size : null;
  if (monitor.collections !== undefined) engine.watchCollections(monitor.collections);
  const observer = observe ? observe(engine, source.stacks, source.format) : null;
  if (observer !== null) engine.observe(observer);
  let error: ReplayError | null = null;
  let interrupted = false;
  try {
    // Ctrl-C is looked at before each chunk (or batch) of input.
    for await (const bytesRead of source.feed(engine, monitor.signal)) {
      progress?.(bytesRead, totalBytes, engine.counts.events);
    }
    interrupted = source.interrupted;
    // An interrupted reader may hold half a line: only a complete input has a last line.
    if (!interrupted && !source.stopped) source.end(engine);
    engine.finish();
    if (!interrupted && options.until !== null && !source.stopped) {
      // The state at TEXT was asked for: the end of the trace is not it.
      error = { kind: "trace", line: source.lines, message: `${file}:${source.lines}: --until ${JSON.stringify(options.until)} matched no line up to here, the end; the report is of the whole trace` };
    }
  } catch (e) {
    if (e instanceof TraceError) {
      error = { kind: "trace", line: e.line, message: e.message };
      // A log's records before the bad line may still be held for lookahead: a partial
      // report includes them (unless applying them makes the runtime throw first).
      try {
        engine.finish();
      } catch (held) {
        if (held instanceof RuntimeThrow) error = { kind: "runtime", line: engine.line, message: held.message };
        else if (!(held instanceof TraceError)) throw held;
      }
    } else if (e instanceof RuntimeThrow) error = { kind: "runtime", line: engine.line, message: e.message };
    else throw e;
  } finally {
    await source.close();
  }
  observer?.end();
  engine.counts.lines = source.lines;
  engine.counts.skippedLines = source.skippedLines;
  const snapshot = takeSnapshot(engine.rt, (rt) => engine.memProfile(rt));
  return {
    file,
    format: source.format,
    options: resolved.options,
    schedule: resolved.schedule,
    logProfile: source.profile,
    snapshot,
    stacks: source.stacks,
    counts: engine.counts,
    peaks: engine.peaks,
    jw: engine.jw,
    liveRequestedBytes: engine.liveRequestedBytes,
    liveTinyRequestedBytes: engine.liveTinyRequestedBytes,
    requestedSizesKnown: source.format === "native",
    fidelity: engine.fidelity,
    error,
    stoppedAt: engine.stoppedAt,
    interrupted,
    startUp: engine.startUp,
    liveFootprint: objectFootprint(engine.rt, engine.liveObjects()),
    liveAtPeaks: engine.liveAtPeaks(),
    timeline: engine.timeline.timeline(),
    memprofileAt,
  };
}
