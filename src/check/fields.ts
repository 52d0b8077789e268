// The figures `check`, `compare` and `diff` measure: one named number each, read from a Report.
//
// A field's kind decides its default tolerance (tolerance.ts), how it is printed, and its
// benchmark unit (bench.ts): bytes (byte counts, printed exactly), count (objects, GCs, pages)
// and ratio (fractions such as the Johnstone–Wilson measures). The names are MemStats' own for
// MemStats, `peak.<MemStats name>` for the replay's peaks, `frag.*` for the fragmentation
// summary and `fidelity.matchRate` for Go logs; docs/ci.md lists them with
// their JSON report paths. Wall-clock fields (LastGC, PauseNs, PauseTotalNs), fields the
// gccgo runtime leaves at 0 (StackInuse, StackSys) and duplicates (Alloc = HeapAlloc) are left
// out. A field whose value the report does not have (requested sizes of a Go log, a
// Johnstone–Wilson ratio without live bytes, fidelity of a native trace) reads as null.
//
// `better` is the way a field improves, where there is one: less memory, fewer objects, fewer
// collections, less waste; a longer free run and more addresses matched. For four fields
// neither way is better in itself, and `check` says only that they changed: Frees (more frees
// can be more garbage reclaimed or just more allocations), HeapIdle (it grows when the heap
// frees spans and when the arena grows ahead of use), HeapReleased (memory the scavenger gave
// back, which depends on how long spans sat idle) and NextGC (the pacer's goal: lower after a
// smaller live heap, but collections come sooner).

import type { Report } from "../report/report.js";

export type FieldKind = "bytes" | "count" | "ratio";

export interface FieldDef {
  name: string;
  kind: FieldKind;
  /** Which way is an improvement (benchstat's `better` unit metadata); null: neither in itself. */
  better: "lower" | "higher" | null;
  /** false: some complete reports have no value for it (a Go log, no live bytes, a native trace). */
  inEveryReport: boolean;
  get(report: Report): number | null;
}

type MemStatsNumber = { [K in keyof Report["memstats"]]: Report["memstats"][K] extends number ? K : never }[keyof Report["memstats"]];

function memstat(name: MemStatsNumber, kind: FieldKind, better: FieldDef["better"] = "lower"): FieldDef {
  return { name, kind, better, inEveryReport: true, get: (r) => r.memstats[name] };
}

function peak(name: keyof Report["peak"], kind: FieldKind): FieldDef {
  return { name: `peak.${name}`, kind, better: "lower", inEveryReport: true, get: (r) => r.peak[name].value };
}

/** Every compared field, in the order reports print them. */
export const FIELDS: readonly FieldDef[] = [
  memstat("TotalAlloc", "bytes"),
  memstat("Sys", "bytes"),
  memstat("Mallocs", "count"),
  memstat("Frees", "count", null),
  memstat("HeapAlloc", "bytes"),
  memstat("HeapSys", "bytes"),
  memstat("HeapIdle", "bytes", null),
  memstat("HeapInuse", "bytes"),
  memstat("HeapReleased", "bytes", null),
  memstat("HeapObjects", "count"),
  memstat("MSpanInuse", "bytes"),
  memstat("MSpanSys", "bytes"),
  memstat("MCacheInuse", "bytes"),
  memstat("MCacheSys", "bytes"),
  memstat("BuckHashSys", "bytes"),
  memstat("GCSys", "bytes"),
  memstat("OtherSys", "bytes"),
  memstat("NextGC", "bytes", null),
  memstat("NumGC", "count"),
  peak("HeapAlloc", "bytes"),
  peak("HeapInuse", "bytes"),
  peak("HeapSys", "bytes"),
  peak("Sys", "bytes"),
  peak("HeapObjects", "count"),
  { name: "frag.internalWaste", kind: "bytes", better: "lower", inEveryReport: false, get: (r) => r.fragmentation.internal.wasteBytes },
  { name: "frag.tinySlack", kind: "bytes", better: "lower", inEveryReport: true, get: (r) => r.fragmentation.internal.tinySlackBytes },
  { name: "frag.spanWaste", kind: "bytes", better: "lower", inEveryReport: true, get: (r) => r.fragmentation.span.heapInuseMinusHeapAlloc },
  // The longest run of free pages: larger means less external fragmentation.
  { name: "frag.largestFreeRunPages", kind: "count", better: "higher", inEveryReport: true, get: (r) => r.fragmentation.external.largestFreeRunPages },
  { name: "frag.jw1", kind: "ratio", better: "lower", inEveryReport: false, get: (r) => r.fragmentation.johnstoneWilson.jw1 },
  { name: "frag.jw2", kind: "ratio", better: "lower", inEveryReport: false, get: (r) => r.fragmentation.johnstoneWilson.jw2 },
  { name: "frag.jw3", kind: "ratio", better: "lower", inEveryReport: false, get: (r) => r.fragmentation.johnstoneWilson.jw3 },
  { name: "frag.jw4", kind: "ratio", better: "lower", inEveryReport: false, get: (r) => r.fragmentation.johnstoneWilson.jw4 },
  {
    name: "fidelity.matchRate",
    kind: "ratio",
    better: "higher",
    inEveryReport: false,
    get: (r) => (r.fidelity === null ? null : r.fidelity.allocs === 0 ? 1 : r.fidelity.addressMatches / r.fidelity.allocs),
  },
];

export const FIELD_NAMES: readonly string[] = FIELDS.map((f) => f.name);

const BY_NAME = new Map(FIELDS.map((f) => [f.name, f]));

export function fieldDef(name: string): FieldDef | undefined {
  return BY_NAME.get(name);
}

/** The report's value of every field it has (nulls left out), in FIELDS order. */
export function fieldValues(report: Report): Record<string, number> {
  const values: Record<string, number> = {};
  for (const f of FIELDS) {
    const v = f.get(report);
    if (v !== null) values[f.name] = v;
  }
  return values;
}
