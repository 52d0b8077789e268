// Baselines of `goalloc check`: what one is, how it is made from a report, read back, and
// compared with a new report. Pure functions: the caller reads and writes the files.
//
// A baseline is a versioned JSON object:
//
//   { "goalloc-baseline": 1,            format version; a newer one is refused, not misread
//     "goalloc": "0.1.0",               the goalloc that wrote it (information only)
//     "arch": "amd64",
//     "options": { "gogc": 100, "memprofilerate": 524288, "efence": false, "seed": N,
//                  "dataEnd": null | "0x...", "gc": "pacer", "until": null,
//                  "prologue": "none", "argc": null, "envc": null },
//     "trace": { "file": "traces/gc.trace", "format": "native", "sha256": "..." | null, "events": N },
//     "values": { "HeapSys": N, "NumGC": N, ... } }    every field of fields.ts the report had
//
// `arch` and `options` are the resolved replay options that change results: every key of the
// report's `options` but `format` (whose outcome is trace.format), so that an option the report
// gains is compared too, plus the start-up prologue a Go log was replayed with. A baseline used
// with a run whose options differ is an error naming each difference, never a comparison of
// unlike runs; an option one side did not record counts as a difference. The
// trace is recorded by name and by the SHA-256 of its bytes (null for standard input), but
// neither decides anything: a changed trace is what `check` exists to catch, through the
// values; the hash only lets the output say that the trace changed. The trace's name is not
// compared because CI checkouts and developer machines put it at different paths.

import type { Report } from "../report/report.js";
import { FIELDS, fieldValues, type FieldKind } from "./fields.js";
import { limitFor, withinLimit, type Limit, type Tolerance } from "./tolerance.js";

export const BaselineVersion = 1;

export type BaselineOptions = Omit<Report["options"], "arch" | "format"> & {
  /** The untraced start-up replayed before a Go log ("none" for native traces). */
  prologue: string;
  argc: number | null;
  envc: number | null;
};

export interface Baseline {
  "goalloc-baseline": typeof BaselineVersion;
  goalloc: string;
  arch: string;
  options: BaselineOptions;
  trace: { file: string; format: string; sha256: string | null; events: number };
  values: Record<string, number>;
}

/** A baseline that cannot be read, or that was made with other options than the run. */
export class BaselineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BaselineError";
  }
}

function baselineOptions(report: Report): BaselineOptions {
  const { arch: _arch, format: _format, ...options } = report.options;
  const s = report.startUp;
  return { ...options, prologue: s?.prologue ?? "none", argc: s?.argc ?? null, envc: s?.envc ?? null };
}

/** The baseline a complete report gives; `sha256` is the trace file's digest (null: unknown). */
export function baselineFromReport(report: Report, sha256: string | null): Baseline {
  if (report.partial) throw new BaselineError("a baseline cannot be made from a partial replay");
  return {
    "goalloc-baseline": BaselineVersion,
    goalloc: report.goalloc,
    arch: report.options.arch,
    options: baselineOptions(report),
    trace: { file: report.trace.file, format: report.trace.format, sha256, events: report.trace.events },
    values: fieldValues(report),
  };
}

export function formatBaseline(baseline: Baseline): string {
  return JSON.stringify(baseline, null, 2) + "\n";
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** Read a baseline file's text; `file` names it in errors. */
export function parseBaseline(text: string, file: string): Baseline {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new BaselineError(`${file}: not a goalloc baseline (not JSON: ${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isRecord(json) || !("goalloc-baseline" in json)) throw new BaselineError(`${file}: not a goalloc baseline (no "goalloc-baseline" key)`);
  const version = json["goalloc-baseline"];
  if (version !== BaselineVersion) {
    throw new BaselineError(
      typeof version === "number" && version > BaselineVersion
        ? `${file}: baseline format ${version} is newer than this goalloc reads (${BaselineVersion}); update goalloc`
        : `${file}: unknown baseline format ${JSON.stringify(version)}`,
    );
  }
  const bad = (what: string): BaselineError => new BaselineError(`${file}: malformed goalloc baseline (${what})`);
  if (typeof json.arch !== "string") throw bad("arch is not a string");
  if (!isRecord(json.options)) throw bad("no options object");
  if (!isRecord(json.trace)) throw bad("no trace object");
  if (!isRecord(json.values)) throw bad("no values object");
  for (const [field, value] of Object.entries(json.values)) if (typeof value !== "number") throw bad(`values.${field} is not a number`);
  return json as unknown as Baseline;
}

export interface OptionDifference {
  option: string;
  /** undefined: the side did not record the option (a goalloc of another version wrote it). */
  baseline: unknown;
  now: unknown;
}

/** The options (arch first, then the run's order) in which the run differs from the baseline. */
export function optionDifferences(baseline: Baseline, report: Report): OptionDifference[] {
  const diffs: OptionDifference[] = [];
  if (baseline.arch !== report.options.arch) diffs.push({ option: "arch", baseline: baseline.arch, now: report.options.arch });
  const was: Record<string, unknown> = baseline.options;
  const now: Record<string, unknown> = baselineOptions(report);
  for (const key of new Set([...Object.keys(now), ...Object.keys(was)])) {
    if (JSON.stringify(was[key]) !== JSON.stringify(now[key])) diffs.push({ option: key, baseline: was[key], now: now[key] });
  }
  return diffs;
}

function optionValue(v: unknown): string {
  return v === undefined ? "not recorded" : JSON.stringify(v);
}

export interface FieldResult {
  field: string;
  kind: FieldKind;
  /** null: the baseline does not have the field (made by an older goalloc); it is not compared. */
  baseline: number | null;
  /** null: the run has no value (e.g. a Johnstone–Wilson ratio without live bytes). */
  now: number | null;
  limit: Limit;
  ok: boolean;
}

export interface CheckVerdict {
  ok: boolean;
  fields: FieldResult[];
  failures: FieldResult[];
  /** Whether the trace's bytes differ from the baseline's (null when either digest is unknown). */
  traceChanged: boolean | null;
}

/**
 * Compare a complete report with a baseline. Throws BaselineError when the run's options differ
 * from the baseline's, naming each difference.
 */
export function evaluateCheck(baseline: Baseline, report: Report, tolerance: Tolerance, sha256: string | null, baselineFile = "the baseline"): CheckVerdict {
  const diffs = optionDifferences(baseline, report);
  if (diffs.length > 0) {
    const lines = diffs.map((d) => `  ${d.option}: ${optionValue(d.baseline)} in the baseline, ${optionValue(d.now)} now`);
    throw new BaselineError(
      `${baselineFile} was made with other options than this run:\n${lines.join("\n")}\n` +
        `run with the baseline's options, use a baseline made with these, or --update to replace it`,
    );
  }
  const fields: FieldResult[] = [];
  for (const f of FIELDS) {
    const base = baseline.values[f.name] ?? null;
    const now = f.get(report);
    if (base === null && now === null) continue;
    const limit = limitFor(f, tolerance);
    const ok = base === null || limit.off || (now !== null && withinLimit(limit, base, now));
    fields.push({ field: f.name, kind: f.kind, baseline: base, now, limit, ok });
  }
  const failures = fields.filter((r) => !r.ok);
  const known = baseline.trace.sha256 !== null && sha256 !== null;
  return { ok: failures.length === 0, fields, failures, traceChanged: known ? baseline.trace.sha256 !== sha256 : null };
}
