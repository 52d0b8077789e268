// Terminal charts: the timeline as rows of Unicode block sparklines, for the human report.
//
// The x axis is events: column j of w covers events (j·E/w, (j+1)·E/w] of the E replayed.
// A timeline point holds the maxima over the events since the previous point, so it lights
// every column its event range touches, and a column shows the maximum of those points: the
// chart is an upper envelope, like the points themselves. The byte rows share one scale (so
// HeapAlloc ≤ HeapInuse ≤ HeapSys reads off the heights); live objects have their own. The
// GC row marks the columns in which at least one collection ran.
// Pure functions of the points: no colour here, so the layout is the same on any terminal.

import type { TimelinePoint } from "../replay/timeline.js";

const BLOCKS = "▁▂▃▄▅▆▇█";

/** Columns of the chart by default (plus a 12-column label and the peak on the right). */
export const CHART_WIDTH = 60;

/** The block for v on a 0…max scale: a space for 0, else one of eight heights (never empty for v > 0). */
function block(v: number, max: number): string {
  if (v <= 0 || max <= 0) return " ";
  const level = Math.min(BLOCKS.length, Math.max(1, Math.ceil((v / max) * BLOCKS.length)));
  return BLOCKS[level - 1]!;
}

/** The column (0 … columns−1) of event e (1 ≤ e ≤ last) on a chart of `last` events. */
function columnOf(e: number, columns: number, last: number): number {
  return Math.min(columns - 1, Math.max(0, Math.ceil((e * columns) / last) - 1));
}

/** Per-column maxima of one field over the points (see the file comment for the x axis). */
export function columnMaxima(points: readonly TimelinePoint[], field: (p: TimelinePoint) => number, columns: number): number[] {
  const out = new Array<number>(columns).fill(0);
  const last = points.length === 0 ? 0 : points[points.length - 1]!.event;
  if (last === 0) return out;
  let previous = 0;
  for (const p of points) {
    const v = field(p);
    const to = columnOf(p.event, columns, last);
    for (let j = columnOf(previous + 1, columns, last); j <= to; j++) if (v > out[j]!) out[j] = v;
    previous = p.event;
  }
  return out;
}

export interface ChartRow {
  label: string;
  field: (p: TimelinePoint) => number;
  /** Rows with the same scale name share one vertical scale. */
  scale: string;
  /** Renders the row's peak on the right. */
  format: (n: number) => string;
}

/** The chart's lines: what the axis covers, a sparkline per row, then the GC row. None without points. */
export function timelineChart(points: readonly TimelinePoint[], rows: readonly ChartRow[], width = CHART_WIDTH): string[] {
  if (points.length === 0) return [];
  const events = points[points.length - 1]!.event;
  const columns = Math.max(1, Math.min(width, events));
  const filled = rows.map((row) => ({ row, cols: columnMaxima(points, row.field, columns) }));
  const scaleMax = new Map<string, number>();
  for (const { row, cols } of filled) scaleMax.set(row.scale, Math.max(scaleMax.get(row.scale) ?? 0, ...cols));
  const per = events / columns;
  const span = per === 1 ? "1 event" : `${Number.isInteger(per) ? per : per.toFixed(1)} events`;
  const lines = [`events 1–${events.toLocaleString("en-US")}, ${columns} columns of ${span}; each column is the maximum over its events`];
  const label = (s: string): string => s.padEnd(12);
  for (const { row, cols } of filled) {
    const max = scaleMax.get(row.scale)!;
    lines.push(label(row.label) + cols.map((v) => block(v, max)).join("") + "  " + row.format(Math.max(...cols)));
  }
  const gcCols = new Array<boolean>(columns).fill(false);
  let gcs = 0;
  for (const p of points) {
    if (p.NumGC > gcs) gcCols[columnOf(p.event, columns, events)] = true;
    gcs = Math.max(gcs, p.NumGC);
  }
  lines.push(label("GC") + gcCols.map((g) => (g ? "|" : "·")).join("") + `  ${gcs} collection${gcs === 1 ? "" : "s"}`);
  return lines;
}
