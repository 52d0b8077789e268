// Running one fuzz case in-process, through the library path the command line takes: the
// input is written to a file, replayed with replay(), and every output the CLI can make from
// the result is rendered (text report, JSON, heap profile in both formats, allocfreetrace).
//
// The verdict is the exit code the CLI would give (0, 2 or 3) or a failure: an exception
// escaping the library (the CLI's internal error, exit 70), an error message without FILE:LINE
// or with a stack trace, a runtime error without the runtime's own text, an impossible count.

import { writeFileSync } from "node:fs";
import { allocFreeTrace, heapProfile, replay, TraceError } from "../../src/index.js";
import { renderReport } from "../../src/report/table.js";
import type { FuzzCase } from "./cases.js";

export type Verdict = "exit 0" | "exit 2" | "exit 3" | "failure";

export interface CaseResult {
  index: number;
  verdict: Verdict;
  /** What went wrong (failures), or the error message (exits 2 and 3), first line. */
  detail: string;
  /** Wall time of the replay and rendering. */
  ms: number;
  lines: number;
  events: number;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** One case in this many is also replayed with a reader thread (it costs a thread start). */
const READER_THREAD_EVERY = 50;

/** A stack trace line as V8 prints it. */
const STACK_LINE = /\n\s+at .+/;

/** Control characters other than newline: a message must not drive the terminal. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

/** A message quotes at most a few hundred characters of the input (record.ts). */
const MAX_MESSAGE_CHARS = 1000;

/**
 * Why a trace error's message is not `FILE:LINE: one printable line` (`FILE: ...` for an
 * error of the file as a whole, line 0), or null when it is.
 */
function traceMessageProblem(message: string, line: number, file: string): string | null {
  if (STACK_LINE.test(message)) return `stack trace in the message: ${message}`;
  if (CONTROL.test(message)) return `control character in the message: ${JSON.stringify(message.slice(0, 300))}`;
  if (message.length > file.length + MAX_MESSAGE_CHARS) return `a message of ${message.length} characters: ${message.slice(0, 300)}`;
  const where = new RegExp(`^${escapeRegExp(file)}(?::(\\d+))?: [^\\n]+$`).exec(message);
  if (where === null) return `trace error without FILE:LINE: ${JSON.stringify(message)}`;
  if (Number(where[1] ?? 0) !== line) return `message line ${where[1] ?? "(none)"} != error line ${line}`;
  return null;
}

/** Replay `c` from `file` (a scratch file of this worker) and judge the outcome. */
export async function runCase(c: FuzzCase, file: string): Promise<CaseResult> {
  writeFileSync(file, c.bytes);
  const started = performance.now();
  const result = (verdict: Verdict, detail: string, lines = 0, events = 0): CaseResult => ({
    index: c.index,
    verdict,
    detail,
    ms: performance.now() - started,
    lines,
    events,
  });
  const o = c.options;
  const options = {
    arch: o.arch,
    gogc: o.gogc,
    memprofilerate: o.memprofilerate,
    efence: o.efence,
    format: o.format,
    gc: o.gc,
    bgsweep: o.bgsweep,
    prologue: o.prologue,
    until: o.until,
    checkInvariants: o.checkInvariants,
    ...(o.inferStartUp ? {} : { argc: 1, envc: 2 }),
  };
  try {
    const { report, outcome } = await replay(file, options, o.allocfreetrace ? allocFreeTrace(() => {}) : undefined, { readerThread: "main" });
    if (o.textReport) renderReport(report, { color: false });
    const json = JSON.stringify(report);
    // Every READER_THREAD_EVERY-th case is replayed again with its trace parsed on a reader
    // thread (native traces): the report must be the same.
    if (c.index % READER_THREAD_EVERY === 0) {
      const threaded = await replay(file, options, undefined, { readerThread: "worker" });
      if (JSON.stringify(threaded.report) !== json) return result("failure", "the report differs when a reader thread parses the trace");
    }
    heapProfile(outcome, "proto");
    heapProfile(outcome, "text");
    const { lines, events } = report.trace;
    const judged = (verdict: Verdict, detail: string): CaseResult => result(verdict, detail, lines, events);
    // Every event comes from a record of at least one line.
    if (events > lines) return judged("failure", `${events} events from ${lines} lines`);
    const e = report.error;
    if (e === null) return report.partial ? judged("failure", "partial report without an error") : judged("exit 0", "");
    if (!report.partial) return judged("failure", `an error in a report not marked partial: ${e.message}`);
    if (STACK_LINE.test(e.message)) return judged("failure", `stack trace in the message: ${e.message}`);
    if (e.kind === "trace") {
      const problem = traceMessageProblem(e.message, e.line, file);
      if (problem !== null) return judged("failure", problem);
      if (e.line > lines) return judged("failure", `error at line ${e.line} of ${lines}`);
      return judged("exit 2", e.message.slice(file.length + 1));
    }
    if (CONTROL.test(e.message)) return judged("failure", `control character in the runtime's message: ${JSON.stringify(e.message)}`);
    const last = e.message.split("\n").pop() ?? "";
    if (!last.startsWith("fatal error: ") && !last.startsWith("panic: runtime error: ")) {
      return judged("failure", `runtime error without the runtime's text: ${JSON.stringify(e.message)}`);
    }
    if (e.line < 1 || e.line > lines) return judged("failure", `runtime error at line ${e.line} of ${lines}`);
    return judged("exit 3", last);
  } catch (error) {
    // Opening the input (a missing file, gzip data broken within the sniffed start) fails
    // before there is a report: the CLI prints the message and exits 2.
    if (error instanceof TraceError) {
      const problem = traceMessageProblem(error.message, error.line, file);
      return problem === null ? result("exit 2", error.message.slice(file.length + 1)) : result("failure", problem);
    }
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return result("failure", `uncaught exception: ${text}`);
  }
}
