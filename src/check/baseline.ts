// Baselines of `goalloc check`: what one is, how it is made from a report, read back, and
// compared with a new report. Pure functions: the caller reads and writes the files.
//
// A baseline is a versioned JSON object:
//
//   { "goalloc-baseline": 1,            format version; a newer one is refused, not misread
//     "goalloc": "0.1.0",               the goalloc that wrote it (information only)
//     "arch": "amd64",
//     "options": { "gogc": 100, "memprofilerate": 524288, "efence": false, "seed": N,
//                  "dataEnd": null | "0x...", "gc": "pacer", "bgsweep": "clock", "until": null,
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
//
// Reading one back checks it against that format (parseBaseline): a key missing, unknown or of
// the wrong type is an error, not a field left uncompared. The format's version is the only
// compatibility rule: every version-1 baseline has every key above and every field the run has.

import type { Report } from "../report/report.js";
import { printable } from "../trace/record.js";
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
  /**
   * true when the file is a goalloc baseline that lacks, adds or garbles something --update
   * writes: making it again is the fix. Never for a file that is no baseline at all: --baseline
   * may name the wrong file, and --update would overwrite it.
   */
  readonly regenerate: boolean;

  constructor(message: string, options: { regenerate?: boolean } = {}) {
    super(message);
    this.name = "BaselineError";
    this.regenerate = options.regenerate === true;
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

/** What a value of a baseline must be: `what` names it in errors. */
interface Shape {
  what: string;
  test(value: unknown): boolean;
}

const STRING: Shape = { what: "a string", test: (v) => typeof v === "string" };
const BOOLEAN: Shape = { what: "true or false", test: (v) => typeof v === "boolean" };
const NATURAL: Shape = { what: "a non-negative integer", test: (v) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0 };
const NUMBER: Shape = { what: "a number", test: (v) => typeof v === "number" };
const OBJECT: Shape = { what: "an object", test: isRecord };

function orNull(shape: Shape): Shape {
  return { what: `${shape.what} or null`, test: (v) => v === null || shape.test(v) };
}

const TOP_SHAPES: { readonly [K in Exclude<keyof Baseline, "goalloc-baseline">]-?: Shape } = {
  goalloc: STRING,
  arch: STRING,
  options: OBJECT,
  trace: OBJECT,
  values: OBJECT,
};

// Mapped over BaselineOptions, so an option the report gains cannot be left out of the check.
const OPTION_SHAPES: { readonly [K in keyof BaselineOptions]-?: Shape } = {
  gogc: { what: 'a non-negative integer or "off"', test: (v) => v === "off" || NATURAL.test(v) },
  memprofilerate: NATURAL,
  efence: BOOLEAN,
  seed: NATURAL,
  dataEnd: orNull(STRING),
  gc: STRING,
  bgsweep: STRING,
  until: orNull(STRING),
  prologue: STRING,
  argc: orNull(NATURAL),
  envc: orNull(NATURAL),
};

const TRACE_SHAPES: { readonly [K in keyof Baseline["trace"]]-?: Shape } = {
  file: STRING,
  format: STRING,
  sha256: orNull({ what: "a SHA-256 in hex", test: (v) => typeof v === "string" && /^[0-9a-f]{64}$/.test(v) }),
  events: NATURAL,
};

/** Byte and count fields are whole numbers; ratios any number (JSON has no NaN or Infinity). */
function valueShape(kind: FieldKind): Shape {
  return kind === "ratio" ? NUMBER : NATURAL;
}

/**
 * Read a baseline file's text; `file` names it in errors. The whole file is checked against the
 * format --update writes: a missing field would otherwise never be compared, and an unknown
 * one (a misspelt field, a key of a newer goalloc) silently ignored.
 */
export function parseBaseline(text: string, file: string): Baseline {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    // JSON.parse quotes the text, newlines included: one printable line, as for traces.
    throw new BaselineError(printable(`${file}: not a goalloc baseline (not JSON: ${e instanceof Error ? e.message : String(e)})`));
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
  const fail = (what: string): never => {
    // Keys come from the file: a hand-edited one may hold control characters.
    throw new BaselineError(printable(`${file}: ${what}`), { regenerate: true });
  };
  // The parts: each with its own keys, its path in messages ("" for the top level) and the
  // shape of each key's value.
  const valueShapes: Record<string, Shape> = {};
  for (const f of FIELDS) valueShapes[f.name] = valueShape(f.kind);
  const parts: { path: string; object: unknown; shapes: Readonly<Record<string, Shape>>; required: readonly string[] }[] = [
    { path: "", object: json, shapes: TOP_SHAPES, required: Object.keys(TOP_SHAPES) },
    { path: "options", object: json.options, shapes: OPTION_SHAPES, required: Object.keys(OPTION_SHAPES) },
    { path: "trace", object: json.trace, shapes: TRACE_SHAPES, required: Object.keys(TRACE_SHAPES) },
    // Only the fields every report has: the others are checked against the run (evaluateCheck).
    { path: "values", object: json.values, shapes: valueShapes, required: FIELDS.filter((f) => f.inEveryReport).map((f) => f.name) },
  ];
  const at = (path: string, key: string): string => (path === "" ? key : `${path}.${key}`);
  for (const { path, object } of parts) if (path !== "" && object !== undefined && !isRecord(object)) fail(`malformed goalloc baseline (${path} is not an object)`);
  const present = parts.filter((p): p is typeof p & { object: Record<string, unknown> } => isRecord(p.object));

  // The fields of `values` by their own names, as reports and --tolerance name them.
  const missing = present.flatMap(({ path, object, required }) => required.filter((k) => !(k in object)).map((k) => (path === "values" ? k : at(path, k))));
  if (missing.length > 0) fail(`baseline is missing ${missing.join(", ")}`);
  const unknown = present.flatMap(({ path, object, shapes }) => {
    const keys = Object.keys(object).filter((k) => !Object.hasOwn(shapes, k) && !(path === "" && k === "goalloc-baseline"));
    if (keys.length === 0) return [];
    return [`unknown field${keys.length === 1 ? "" : "s"} ${keys.map((k) => JSON.stringify(k)).join(", ")}${path === "" ? "" : ` in ${path}`}`];
  });
  if (unknown.length > 0) fail(unknown.join("; "));
  for (const { path, object, shapes } of present) {
    for (const [key, value] of Object.entries(object)) {
      const shape = shapes[key];
      if (shape !== undefined && !shape.test(value)) fail(`malformed goalloc baseline (${at(path, key)} is not ${shape.what})`);
    }
  }
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
  baseline: number;
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
 * from the baseline's, naming each difference, and when the baseline lacks a field the run has
 * (parseBaseline can only require the fields every report has).
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
  const missing = FIELDS.filter((f) => baseline.values[f.name] === undefined && f.get(report) !== null).map((f) => f.name);
  if (missing.length > 0) throw new BaselineError(`${baselineFile}: baseline is missing ${missing.join(", ")}`, { regenerate: true });
  const fields: FieldResult[] = [];
  for (const f of FIELDS) {
    const base = baseline.values[f.name];
    if (base === undefined) continue;
    const now = f.get(report);
    const limit = limitFor(f, tolerance);
    const ok = limit.off || (now !== null && withinLimit(limit, base, now));
    fields.push({ field: f.name, kind: f.kind, baseline: base, now, limit, ok });
  }
  const failures = fields.filter((r) => !r.ok);
  const known = baseline.trace.sha256 !== null && sha256 !== null;
  return { ok: failures.length === 0, fields, failures, traceChanged: known ? baseline.trace.sha256 !== sha256 : null };
}
