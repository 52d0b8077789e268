// The JSON report schema of cli.md, as data, and a checker that lists every place a parsed
// report departs from it (an empty list means it conforms). Extra keys are allowed, as
// cli.md allows additions; missing keys and wrong types are not.

type Leaf =
  /** A JSON string. */
  | "string"
  | "boolean"
  | "null"
  /** A safe integer ≥ 0 (byte counts, object counts, line numbers...). */
  | "count"
  /** A safe integer of either sign. */
  | "int"
  /** A finite number. */
  | "number"
  /** A finite number in [0, 1]. */
  | "ratio"
  /** A lowercase `0x` hex string. */
  | "address";

export type Shape =
  | Leaf
  | { kind: "literal"; values: readonly (string | number)[] }
  | { kind: "anyOf"; options: readonly Shape[] }
  | { kind: "array"; of: Shape; length?: number }
  | { kind: "record"; of: Shape }
  | { kind: "object"; keys: Readonly<Record<string, Shape>> };

export const literal = (...values: (string | number)[]): Shape => ({ kind: "literal", values });
export const anyOf = (...options: Shape[]): Shape => ({ kind: "anyOf", options });
export const arrayOf = (of: Shape, length?: number): Shape => (length === undefined ? { kind: "array", of } : { kind: "array", of, length });
export const recordOf = (of: Shape): Shape => ({ kind: "record", of });
export const object = (keys: Record<string, Shape>): Shape => ({ kind: "object", keys });

/** Go 1.3's runtime.MemStats fields, in the order encoding/json prints them. */
export const MEMSTATS_FIELDS = [
  "Alloc",
  "TotalAlloc",
  "Sys",
  "Lookups",
  "Mallocs",
  "Frees",
  "HeapAlloc",
  "HeapSys",
  "HeapIdle",
  "HeapInuse",
  "HeapReleased",
  "HeapObjects",
  "StackInuse",
  "StackSys",
  "MSpanInuse",
  "MSpanSys",
  "MCacheInuse",
  "MCacheSys",
  "BuckHashSys",
  "GCSys",
  "OtherSys",
  "NextGC",
  "LastGC",
  "PauseTotalNs",
  "PauseNs",
  "NumGC",
  "EnableGC",
  "DebugGC",
  "BySize",
] as const;

function memstatsShape(): Shape {
  const keys: Record<string, Shape> = {};
  for (const field of MEMSTATS_FIELDS) keys[field] = "count";
  keys.PauseNs = arrayOf("count", 256);
  keys.EnableGC = "boolean";
  keys.DebugGC = "boolean";
  keys.BySize = arrayOf(object({ Size: "count", Mallocs: "count", Frees: "count" }), 61);
  return object(keys);
}

const peakPoint = object({ value: "count", event: "count", line: "count" });

const profileFigures = { inuseObjects: "count", inuseBytes: "count", allocObjects: "count", allocBytes: "count" } as const;

/** A stack as reports keep it: names and `file:line` ("" when unknown), innermost first, and its site's frame. */
const siteStack = { stack: arrayOf("string"), locations: arrayOf("string"), siteFrame: "count" } as const;

const peakLive = object({
  liveBytes: "count",
  liveObjects: "count",
  siteDepth: "count",
  sites: arrayOf(object({ ...siteStack, liveBytes: "count", liveObjects: "count", stacks: "count" })),
});

/** cli.md's `replay --json` schema. */
export const REPORT_SCHEMA: Shape = object({
  goalloc: "string",
  partial: "boolean",
  error: anyOf("null", object({ line: "count", message: "string", kind: literal("trace", "runtime") })),
  options: object({ arch: literal("amd64", "arm64", "386", "arm"), gogc: anyOf("count", literal("off")), memprofilerate: "count", efence: "boolean" }),
  trace: object({
    file: "string",
    format: literal("native", "golog"),
    runtime: anyOf("null", literal("go1.3", "modern")),
    lines: "count",
    events: "count",
    allocs: "count",
    frees: "count",
    deaths: "count",
    gcs: "count",
    skippedLines: "count",
  }),
  schedule: object({ collections: literal("log", "pacer"), why: "string", archFromLog: "boolean" }),
  arena: object({ spansStart: "address", bitmapStart: "address", arenaStart: "address", arenaUsed: "address", arenaEnd: "address" }),
  memstats: memstatsShape(),
  peak: object({ HeapAlloc: peakPoint, HeapInuse: peakPoint, HeapSys: peakPoint, Sys: peakPoint, HeapObjects: peakPoint }),
  peakSites: object({ HeapAlloc: peakLive, HeapInuse: peakLive, HeapSys: peakLive, Sys: peakLive, HeapObjects: peakLive }),
  fragmentation: object({
    internal: object({
      requestedBytes: anyOf("count", "null"),
      allocatedBytes: "count",
      wasteBytes: anyOf("int", "null"),
      tinySlackBytes: "int",
    }),
    span: object({
      heapInuseMinusHeapAlloc: "int",
      byClass: arrayOf(object({ class: "count", size: "count", spans: "count", objects: "count", capacity: "count", utilisation: "ratio" })),
    }),
    external: object({ freeSpansByPages: recordOf("count"), largestFreeRunPages: "count", idleBytes: "count", releasedBytes: "count" }),
    johnstoneWilson: object({ jw1: anyOf("number", "null"), jw2: anyOf("number", "null"), jw3: anyOf("number", "null"), jw4: anyOf("number", "null") }),
  }),
  sizeClasses: arrayOf(object({ class: "count", size: "count", pages: "count", objectsPerSpan: "count" })),
  profile: object({
    rate: "count",
    samples: "count",
    sites: arrayOf(object({ ...siteStack, size: "count", ...profileFigures, estimated: object(profileFigures) })),
  }),
  fidelity: anyOf(
    "null",
    object({
      allocs: "count",
      addressMatches: "count",
      firstDivergence: anyOf("null", object({ line: "count", expected: "address", got: "address" })),
      notComparable: anyOf("null", "string"),
    }),
  ),
});

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function leafProblem(value: unknown, leaf: Leaf): string | null {
  const ok = ((): boolean => {
    switch (leaf) {
      case "string":
        return typeof value === "string";
      case "boolean":
        return typeof value === "boolean";
      case "null":
        return value === null;
      case "count":
        return Number.isSafeInteger(value) && (value as number) >= 0;
      case "int":
        return Number.isSafeInteger(value);
      case "number":
        return typeof value === "number" && Number.isFinite(value);
      case "ratio":
        return typeof value === "number" && value >= 0 && value <= 1;
      case "address":
        return typeof value === "string" && /^0x[0-9a-f]+$/.test(value);
    }
  })();
  return ok ? null : `expected ${leaf}, got ${JSON.stringify(value)}`;
}

/** Every departure of `value` from `shape`, as "path: problem" lines. */
export function schemaProblems(value: unknown, shape: Shape, at = "$"): string[] {
  if (typeof shape === "string") {
    const problem = leafProblem(value, shape);
    return problem === null ? [] : [`${at}: ${problem}`];
  }
  switch (shape.kind) {
    case "literal":
      return shape.values.includes(value as string | number) ? [] : [`${at}: expected one of ${JSON.stringify(shape.values)}, got ${JSON.stringify(value)}`];
    case "anyOf":
      return shape.options.some((option) => schemaProblems(value, option, at).length === 0)
        ? []
        : [`${at}: matches none of the allowed shapes: ${JSON.stringify(value)?.slice(0, 200)}`];
    case "array": {
      if (!Array.isArray(value)) return [`${at}: expected an array`];
      const problems = shape.length !== undefined && value.length !== shape.length ? [`${at}: expected ${shape.length} entries, got ${value.length}`] : [];
      return problems.concat(value.flatMap((item, i) => schemaProblems(item, shape.of, `${at}[${i}]`)));
    }
    case "record":
      if (!isRecord(value)) return [`${at}: expected an object`];
      return Object.entries(value).flatMap(([key, item]) => schemaProblems(item, shape.of, `${at}.${key}`));
    case "object": {
      if (!isRecord(value)) return [`${at}: expected an object`];
      return Object.entries(shape.keys).flatMap(([key, keyShape]) =>
        key in value ? schemaProblems(value[key], keyShape, `${at}.${key}`) : [`${at}: missing key "${key}"`],
      );
    }
  }
}
