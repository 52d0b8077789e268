// The JSON report's schema, docs/report.schema.json (JSON Schema draft 2020-12), and a
// validator for the part of JSON Schema that file uses, listing every place a parsed report
// departs from it (an empty list means it conforms).
//
// Why not ajv: the schema needs a dozen keywords, and ~100 lines here check them with
// messages that name the JSON path. A keyword the validator does not know throws rather
// than pass unchecked, so the schema cannot come to rely on one silently.

import { readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../../scripts/build-if-stale.js";

type JsonType = "object" | "array" | "string" | "integer" | "number" | "boolean" | "null";
type JsonScalar = string | number | boolean | null;

export interface JsonSchema {
  $schema?: string;
  title?: string;
  description?: string;
  $defs?: Record<string, JsonSchema>;
  /** `#/$defs/NAME` only. */
  $ref?: string;
  type?: JsonType | JsonType[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  /** Scalars only: the report's enums are strings (and null), and reportVersion's number. */
  enum?: JsonScalar[];
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
}

const KEYWORDS = new Set<string>([
  "$schema",
  "title",
  "description",
  "$defs",
  "$ref",
  "type",
  "properties",
  "required",
  "additionalProperties",
  "propertyNames",
  "items",
  "minItems",
  "maxItems",
  "enum",
  "anyOf",
  "minimum",
  "maximum",
  "pattern",
]);

export const SCHEMA_FILE = path.join(repoRoot, "docs/report.schema.json");

/** docs/report.schema.json: the `replay --json` report. */
export const REPORT_SCHEMA = JSON.parse(readFileSync(SCHEMA_FILE, "utf8")) as JsonSchema;

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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hasType(value: unknown, type: JsonType): boolean {
  switch (type) {
    case "object":
      return isRecord(value);
    case "array":
      return Array.isArray(value);
    case "string":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    case "null":
      return value === null;
    // JSON numbers past 2^53 lose digits in JSON.parse: a count there is already wrong.
    case "integer":
      return Number.isSafeInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
  }
}

function resolve(ref: string, root: JsonSchema): JsonSchema {
  const name = /^#\/\$defs\/([^/]+)$/.exec(ref)?.[1];
  const target = name === undefined ? undefined : root.$defs?.[name];
  if (target === undefined) throw new Error(`schema: unresolved $ref ${ref}`);
  return target;
}

const show = (value: unknown): string => JSON.stringify(value)?.slice(0, 200) ?? String(value);

/** Every departure of `value` from `schema`, as "path: problem" lines. */
export function schemaProblems(value: unknown, schema: JsonSchema = REPORT_SCHEMA, at = "$", root: JsonSchema = schema): string[] {
  for (const key of Object.keys(schema)) if (!KEYWORDS.has(key)) throw new Error(`schema: keyword ${key} at ${at} is not supported by test/e2e/schema.ts`);
  const problems: string[] = [];
  if (schema.$ref !== undefined) problems.push(...schemaProblems(value, resolve(schema.$ref, root), at, root));
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    // A value of the wrong type fails every other keyword too: one line says it.
    if (!types.some((t) => hasType(value, t))) return [...problems, `${at}: expected ${types.join(" or ")}, got ${show(value)}`];
  }
  if (schema.enum !== undefined && !schema.enum.includes(value as JsonScalar)) problems.push(`${at}: expected one of ${JSON.stringify(schema.enum)}, got ${show(value)}`);
  if (schema.anyOf !== undefined && !schema.anyOf.some((option) => schemaProblems(value, option, at, root).length === 0)) {
    problems.push(`${at}: matches none of the allowed shapes: ${show(value)}`);
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${at}: ${value} is below the minimum ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${at}: ${value} is above the maximum ${schema.maximum}`);
  }
  if (typeof value === "string" && schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value)) {
    problems.push(`${at}: ${show(value)} does not match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) problems.push(`${at}: expected at least ${schema.minItems} entries, got ${value.length}`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) problems.push(`${at}: expected at most ${schema.maxItems} entries, got ${value.length}`);
    const items = schema.items;
    if (items !== undefined) value.forEach((item, i) => problems.push(...schemaProblems(item, items, `${at}[${i}]`, root)));
  }
  if (isRecord(value)) {
    for (const key of schema.required ?? []) if (!(key in value)) problems.push(`${at}: missing key "${key}"`);
    for (const [key, item] of Object.entries(value)) {
      const where = `${at}.${key}`;
      if (schema.propertyNames !== undefined) problems.push(...schemaProblems(key, schema.propertyNames, `${where} (name)`, root));
      const declared = schema.properties?.[key];
      if (declared !== undefined) problems.push(...schemaProblems(item, declared, where, root));
      else if (schema.additionalProperties === false) problems.push(`${at}: key "${key}" is not in the schema`);
      else if (isRecord(schema.additionalProperties)) problems.push(...schemaProblems(item, schema.additionalProperties, where, root));
    }
  }
  return problems;
}
