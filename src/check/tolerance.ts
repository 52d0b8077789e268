// Tolerances of `goalloc check`: the --tolerance grammar, the defaults, and the test of one field.
//
//   spec    = rule *("," rule)                 HeapSys=+5%,NumGC=0,Sys=1MiB,peak.*=+2%
//   rule    = pattern "=" limit
//   pattern = a field name (fields.ts); "*" matches any run of characters: "peak.*", "*"
//   limit   = "off"                            the field is not compared
//           | [sign] number ["%" | unit]
//   sign    = "+"  only an increase past the limit fails (a decrease never does)
//           | "-"  only a decrease past the limit fails
//           |      (none) a change either way past the limit fails
//   number  = decimal digits with an optional fraction: 0, 5, 0.5
//   "%"     = relative to the baseline's value: HeapSys=5% allows 5% of the baseline's HeapSys
//   unit    = B | KiB | MiB | GiB | TiB (×1024) | kB | MB | GB | TB (×1000), byte fields only,
//             case-insensitive; a bare number is in the field's own unit (bytes, a count, a ratio)
//
// A change equal to the limit passes; "0" means exact. Rules apply in order after the defaults,
// and the last rule that matches a field wins, so "*=0,HeapSys=+1%" makes everything exact
// except HeapSys. A pattern that matches no field is an error, so that a misspelt name cannot
// silently leave a field at its default.
//
// Defaults, because the emulation is deterministic (an unchanged trace reproduces every value
// exactly): counts exact; bytes ±1%, enough to absorb a few more small objects without hiding a
// new span class or arena growth; ratios ±0.01 absolute (one percentage point).

import { FIELDS, type FieldDef, type FieldKind } from "./fields.js";

/** Which change counts against the limit: both ways, only increases, only decreases. */
export type Direction = "both" | "up" | "down";

export type Limit =
  | { off: true }
  | {
      off: false;
      direction: Direction;
      /** Allowed change: a percentage of the baseline's value when relative, else in the field's unit. */
      amount: number;
      relative: boolean;
      /** How the user wrote the amount (e.g. "1MiB"), for messages. */
      text: string;
    };

export interface ToleranceRule {
  pattern: string;
  limit: Limit;
}

export type Tolerance = readonly ToleranceRule[];

/** A --tolerance spec that does not parse or names no field. */
export class ToleranceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ToleranceError";
  }
}

const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
};

const DEFAULT_LIMITS: Readonly<Record<FieldKind, Limit>> = {
  count: { off: false, direction: "both", amount: 0, relative: false, text: "0" },
  bytes: { off: false, direction: "both", amount: 1, relative: true, text: "1%" },
  ratio: { off: false, direction: "both", amount: 0.01, relative: false, text: "0.01" },
};

export function defaultLimit(kind: FieldKind): Limit {
  return DEFAULT_LIMITS[kind];
}

function globRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

const RULE = /^([A-Za-z0-9_.*]+)\s*=\s*(?:(off)|([+-]?)(\d+(?:\.\d+)?)\s*(%|[A-Za-z]+)?)$/;

/** Parse one or more specs (several --tolerance options add up, in order). */
export function parseTolerance(specs: string | readonly string[]): Tolerance {
  const rules: ToleranceRule[] = [];
  for (const spec of typeof specs === "string" ? [specs] : specs) {
    for (const raw of spec.split(",")) {
      const text = raw.trim();
      if (text === "") continue;
      const m = RULE.exec(text);
      if (m === null) {
        throw new ToleranceError(`bad tolerance "${text}": expected FIELD=LIMIT, e.g. HeapSys=+5%, NumGC=0, Sys=1MiB or peak.*=off`);
      }
      // Groups that did not take part in the match are undefined (e.g. the amount with "off").
      const [, pattern = "", off, sign, number = "", suffix] = m;
      const matched = FIELDS.filter((f) => globRegExp(pattern).test(f.name));
      if (matched.length === 0) {
        throw new ToleranceError(`tolerance "${text}": no field is called ${pattern} (fields: ${FIELDS.map((f) => f.name).join(", ")})`);
      }
      if (off !== undefined) {
        rules.push({ pattern, limit: { off: true } });
        continue;
      }
      let amount = Number(number);
      const relative = suffix === "%";
      if (suffix !== undefined && !relative) {
        const factor = UNITS[suffix.toLowerCase()];
        if (factor === undefined) throw new ToleranceError(`tolerance "${text}": unknown unit ${suffix} (B, KiB, MiB, GiB, TiB, kB, MB, GB, TB or %)`);
        const notBytes = matched.filter((f) => f.kind !== "bytes");
        if (notBytes.length > 0) {
          throw new ToleranceError(`tolerance "${text}": ${notBytes.map((f) => f.name).join(", ")} ${notBytes.length === 1 ? "is not a byte count" : "are not byte counts"}; give a plain number or a %`);
        }
        amount *= factor;
      }
      const direction: Direction = sign === "+" ? "up" : sign === "-" ? "down" : "both";
      rules.push({ pattern, limit: { off: false, direction, amount, relative, text: `${number}${suffix ?? ""}` } });
    }
  }
  return rules;
}

/** The limit of one field: its kind's default, overridden by the last matching rule. */
export function limitFor(field: FieldDef, tolerance: Tolerance): Limit {
  let limit = defaultLimit(field.kind);
  for (const rule of tolerance) if (globRegExp(rule.pattern).test(field.name)) limit = rule.limit;
  return limit;
}

/** The largest change the limit allows from this baseline value (Infinity in the ignored direction). */
export function allowedChange(limit: Limit & { off: false }, baseline: number): { up: number; down: number } {
  const amount = limit.relative ? (Math.abs(baseline) * limit.amount) / 100 : limit.amount;
  return { up: limit.direction === "down" ? Infinity : amount, down: limit.direction === "up" ? Infinity : amount };
}

/** Whether going from `baseline` to `now` stays within the limit. */
export function withinLimit(limit: Limit, baseline: number, now: number): boolean {
  if (limit.off) return true;
  const allowed = allowedChange(limit, baseline);
  const delta = now - baseline;
  // Decimal limits on ratios meet binary rounding (1 - 0.999 > 0.001): allow a few ulps of
  // the values compared, far below 1, so byte counts and counts stay exact.
  const slack = 4 * Number.EPSILON * Math.max(Math.abs(baseline), Math.abs(now), 1);
  return delta >= 0 ? delta <= allowed.up + slack : -delta <= allowed.down + slack;
}

/** "exact", "±1%", "+5%", "-1MiB", "off". */
export function formatLimit(limit: Limit): string {
  if (limit.off) return "off";
  if (limit.amount === 0 && limit.direction === "both") return "exact";
  const sign = limit.direction === "both" ? "±" : limit.direction === "up" ? "+" : "-";
  return sign + limit.text;
}
