// Text output of `check`, `compare` and `diff` for people: short lines for check, tables
// (cli-table3) for compare and diff; colour only when the caller allows it.
//
// Byte counts are printed exactly (with thousands separators), not as KiB/MiB: the emulation is
// exact, and a rounded figure could hide the one-span change a check is looking for.

import Table from "cli-table3";
import { Chalk, type ChalkInstance } from "chalk";
import type { ReplayError } from "../replay/replay.js";
import type { CheckVerdict, FieldResult } from "./baseline.js";
import { relativeChange, type Comparison } from "./compare.js";
import type { Diff, SiteDelta, SiteFigures } from "./diff.js";
import { siteLabel } from "../report/sites.js";
import { ratio } from "../report/table.js";
import { fieldDef, FIELDS, type FieldKind } from "./fields.js";
import { formatLimit } from "./tolerance.js";

/**
 * Counts and bytes exactly; ratios as ratios to 4 significant digits (Johnstone–Wilson ratios can
 * be 1e-6), as the text and HTML reports show them (report/table.ts, ratio).
 */
export function formatValue(kind: FieldKind, v: number | null): string {
  if (v === null) return "n/a";
  return kind === "ratio" ? ratio(v) : v.toLocaleString("en-US");
}

export function formatDelta(kind: FieldKind, d: number): string {
  const sign = d > 0 ? "+" : d < 0 ? "-" : "";
  return sign + formatValue(kind, Math.abs(d));
}

export function formatPercent(x: number): string {
  return `${x > 0 ? "+" : x < 0 ? "-" : ""}${(Math.abs(x) * 100).toFixed(2)}%`;
}

/** `FIELD: baseline → now (delta, relative delta, limit)` for one field of a check. */
export function checkLine(r: FieldResult): string {
  const base = formatValue(r.kind, r.baseline);
  if (r.now === null) return `${r.field}: ${base} → none (the run has no value; limit ${formatLimit(r.limit)})`;
  const now = formatValue(r.kind, r.now);
  const delta = r.now - r.baseline;
  const rel = relativeChange(r.baseline, r.now);
  const parts = [formatDelta(r.kind, delta)];
  if (r.kind !== "ratio" && rel !== null) parts.push(formatPercent(rel));
  return `${r.field}: ${base} → ${now} (${parts.join(", ")}, limit ${formatLimit(r.limit)})`;
}

/**
 * Which way a field moved, as its direction in fields.ts reads it: "regression" the worse way,
 * "improved" the better way, "changed" where neither way is better or the run has no value.
 * A field past its tolerance fails the check whichever way it moved.
 */
export function movement(r: FieldResult): "regression" | "improved" | "changed" {
  const better = fieldDef(r.field)?.better ?? null;
  if (better === null || r.now === null || r.now === r.baseline) return "changed";
  return r.now < r.baseline === (better === "lower") ? "improved" : "regression";
}

/** The failed fields, one line each (nothing when the check passed). */
export function renderCheckFailures(verdict: CheckVerdict): string {
  return verdict.failures.map((f) => checkLine(f) + "\n").join("");
}

function table(head: string[], c: ChalkInstance): Table.Table {
  return new Table({ head: head.map((h) => c.bold(h)), style: { head: [], border: [], compact: true } });
}

/** The one-line form of a replay error for a table cell: where, and the runtime's last line. */
export function errorCell(e: ReplayError): string {
  if (e.kind === "trace") return `trace error at line ${e.line}`;
  const lines = e.message.split("\n");
  return `threw at line ${e.line}: ${lines[lines.length - 1]}`;
}

export function renderComparison(cmp: Comparison, color: boolean): string {
  const c = new Chalk({ level: color ? 1 : 0 });
  const base = cmp.base === null ? null : cmp.columns[cmp.base]!;
  const out: string[] = [];
  out.push(
    c.bold(`goalloc compare`) +
      ` of ${cmp.trace.file} (${cmp.trace.format}, ${cmp.trace.events.toLocaleString("en-US")} events)` +
      (base === null ? "; every layout failed" : `; changes relative to ${base.arch}`),
  );
  const t = table(["", ...cmp.columns.map((col) => col.arch)], c);
  t.push(["result", ...cmp.columns.map((col) => (col.error === null ? c.green("ok") : c.red(errorCell(col.error))))]);
  t.push(["arena_start", ...cmp.columns.map((col) => col.arena.arenaStart)]);
  t.push(["arena_end", ...cmp.columns.map((col) => col.arena.arenaEnd)]);
  for (const f of FIELDS) {
    if (cmp.columns.every((col) => col.values[f.name] === undefined)) continue;
    const cells = cmp.columns.map((col) => {
      const v = col.values[f.name];
      if (v === undefined) return "—";
      const text = formatValue(f.kind, v);
      // A failed layout's figures are its state at the failing line: shown, never compared.
      if (col.partial) return `${text} (at the failure)`;
      const b = base?.values[f.name];
      if (col === base || b === undefined) return text;
      if (v === b) return `${text} (=)`;
      if (f.kind === "ratio") return `${text} (${formatDelta(f.kind, v - b)})`;
      const rel = relativeChange(b, v);
      return `${text} (${rel === null ? "base 0" : formatPercent(rel)})`;
    });
    t.push([f.name, ...cells]);
  }
  out.push(t.toString());
  for (const col of cmp.columns) {
    if (col.error === null) continue;
    const where = col.error.kind === "runtime" ? `the emulated runtime threw at ${cmp.trace.file}:${col.error.line}` : "the trace is malformed";
    out.push(`${c.bold(col.arch)}: ${where}:`);
    for (const line of col.error.message.split("\n")) out.push(`  ${line}`);
  }
  return out.join("\n") + "\n";
}

function describeSide(side: Diff["a"]): string {
  const o = side.options;
  return `${side.trace} (${o.arch}, GOGC=${o.gogc}${o.efence ? ", efence" : ""})`;
}

function siteCells(s: SiteFigures | null): [string, string] {
  return s === null ? ["—", "—"] : [s.inuseBytes.toLocaleString("en-US"), s.allocBytes.toLocaleString("en-US")];
}

function diffSiteLabel(s: SiteDelta): string {
  return siteLabel(s.stack.map((func, i) => ({ func, location: s.locations[i] ?? "" })));
}

export function renderDiff(d: Diff, color: boolean): string {
  const c = new Chalk({ level: color ? 1 : 0 });
  const out: string[] = [];
  out.push(`${c.bold("goalloc diff")}: A = ${describeSide(d.a)}, B = ${describeSide(d.b)}`);
  if (d.optionChanges.length > 0) {
    out.push(`options that differ: ${d.optionChanges.map((o) => `${o.option} ${String(o.a)} → ${String(o.b)}`).join(", ")}`);
  }
  for (const [label, side] of [["A", d.a], ["B", d.b]] as const) {
    if (side.error !== null) out.push(c.red(`${label} is partial: ${errorCell(side.error)}`));
  }
  const t = table(["field", "A", "B", "delta", "change"], c);
  for (const f of d.fields) {
    const moved = f.delta !== null && f.delta !== 0;
    const delta = f.delta === null ? "n/a" : f.delta === 0 ? "" : formatDelta(f.kind, f.delta);
    const change = !moved || f.kind === "ratio" ? "" : f.relative === null ? "from 0" : formatPercent(f.relative);
    t.push([moved ? c.bold(f.field) : f.field, formatValue(f.kind, f.a), formatValue(f.kind, f.b), delta, change]);
  }
  out.push(t.toString());
  out.push(`${d.changed} of ${d.fields.length} fields differ`);
  out.push("");
  out.push(c.bold.underline("Top allocation sites (sampled profile bytes, as the runtime recorded them)"));
  if (d.sites.length === 0) out.push("no samples on either side");
  else {
    const st = table(["site", "A in-use", "B in-use", "delta in-use", "A alloc", "B alloc", "delta alloc"], c);
    for (const s of d.sites) {
      const [ai, aa] = siteCells(s.a);
      const [bi, ba] = siteCells(s.b);
      st.push([diffSiteLabel(s), ai, bi, formatDelta("bytes", s.deltaInuseBytes), aa, ba, formatDelta("bytes", s.deltaAllocBytes)]);
    }
    out.push(st.toString());
  }
  return out.join("\n") + "\n";
}
