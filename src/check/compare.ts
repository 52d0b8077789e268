// `goalloc compare`: one trace's reports under several arena layouts, side by side.
//
// Pure: the replays happen elsewhere (index.ts compare()); this turns their reports into
// columns. A layout whose replay failed (a 32-bit arena running out is a RuntimeThrow,
// report.error kind "runtime") keeps its column: its error says at which line and with which
// runtime message, its values are the state when it failed (marked partial), and the other
// columns are unaffected. Columns are normalised to the base column, the first
// one that completed, since a failed replay's figures are no yardstick.

import type { ReplayError } from "../replay/replay.js";
import type { Report } from "../report/report.js";
import { fieldValues } from "./fields.js";

export interface ComparisonColumn {
  arch: string;
  /** The `_end` that placed a 32-bit arena (null on 64-bit). */
  dataEnd: string | null;
  error: ReplayError | null;
  /** true when the replay stopped at `error`: `values` are the state at that point. */
  partial: boolean;
  arena: Report["arena"];
  values: Record<string, number>;
}

export interface Comparison {
  trace: { file: string; format: string; events: number };
  /** Index of the column the others are normalised to; null when every layout failed. */
  base: number | null;
  columns: ComparisonColumn[];
}

/** Columns in the order of `reports` (one report per layout, of the same trace). */
export function compareReports(reports: readonly Report[]): Comparison {
  if (reports.length === 0) throw new Error("compareReports needs at least one report");
  const columns = reports.map((r) => ({
    arch: r.options.arch,
    dataEnd: r.options.dataEnd,
    error: r.error,
    partial: r.partial,
    arena: r.arena,
    values: fieldValues(r),
  }));
  const base = columns.findIndex((c) => !c.partial);
  // The trace's own figures come from the longest replay: a failed one stopped early.
  const longest = reports.reduce((a, b) => (b.trace.events > a.trace.events ? b : a));
  return {
    trace: { file: longest.trace.file, format: longest.trace.format, events: longest.trace.events },
    base: base < 0 ? null : base,
    columns,
  };
}

/** `value` relative to `base` (0.25 = 25% more), or null when the base is 0. */
export function relativeChange(base: number, value: number): number | null {
  if (base === 0) return value === 0 ? 0 : null;
  return (value - base) / Math.abs(base);
}
