// Go benchmark lines (`--bench-format`), so that benchstat can compare goalloc runs.
//
// The format (golang.org/x/perf/benchfmt): a result line is "Benchmark" NAME, an iteration
// count, then VALUE UNIT pairs, separated by white space; NAME's "/key=value" parts are
// sub-benchmark keys benchstat can group by (`-col /arch`). A line "Unit UNIT key=value..."
// sets unit metadata: every goalloc figure is `assume=exact` (the emulation is deterministic,
// so one run is the whole distribution and benchstat needs no repeated samples) and carries
// `better=` from fields.ts where a way is better. benchstat keeps one value per unit in a line, so each field has
// its own unit; byte fields end in "-B", which benchunit reads as bytes and scales by 1024.
// Other lines (such as "# ..." comments) are ignored by benchstat.

import { FIELDS, type FieldDef } from "./fields.js";

export function benchUnit(field: FieldDef): string {
  return field.kind === "bytes" ? `${field.name}-B` : field.name;
}

/** The benchmark name of a trace: its file name without .gz and extension, safe for benchfmt. */
export function benchmarkName(tracePath: string): string {
  const base = tracePath.split(/[\\/]/).pop() ?? "";
  const stem = base.replace(/\.gz$/i, "").replace(/\.[^.]*$/, "");
  // White space would end the name, "/" and "=" would make sub-benchmark keys of it.
  const safe = stem.replace(/[^A-Za-z0-9._+-]/g, "_");
  return safe === "" || tracePath === "-" || tracePath === "<stdin>" ? "stdin" : safe;
}

/** The unit metadata lines for every field (they may precede any result lines). */
export function benchUnitLines(): string[] {
  return FIELDS.map((f) => `Unit ${benchUnit(f)} assume=exact${f.better === null ? "" : ` better=${f.better}`}`);
}

/** One result line: `BenchmarkReplay/NAME 1 VALUE UNIT ...` for the fields in `values`. */
export function benchLine(name: string, values: Readonly<Record<string, number>>): string {
  const pairs: string[] = [];
  for (const f of FIELDS) {
    const v = values[f.name];
    if (v !== undefined) pairs.push(`${v} ${benchUnit(f)}`);
  }
  return `BenchmarkReplay/${name} 1 ${pairs.join(" ")}`;
}
