// docs/report.schema.json against the reports goalloc writes: every shipped trace's `replay
// --json` conforms, the schema is strict (a key it does not list is a problem), and the
// validator of test/e2e/schema.ts checks each keyword it claims to.

import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPORT_VERSION, type Report } from "../../src/report/report.js";
import { replayJson, repoRoot, scratchDir } from "./goalloc.js";
import { MEMSTATS_FIELDS, REPORT_SCHEMA, schemaProblems, type JsonSchema } from "./schema.js";

scratchDir("goalloc-schema-");

const SHIPPED = readdirSync(path.join(repoRoot, "traces"))
  .filter((name) => name.endsWith(".trace") || name.endsWith(".log"))
  .sort();

describe("docs/report.schema.json", () => {
  it("ships a trace of each format, the go1.3.3 log among them", () => {
    expect(SHIPPED).toContain("go1.3.3-p0.log");
    expect(SHIPPED.filter((name) => name.endsWith(".trace")).length).toBeGreaterThan(0);
  });

  it.each(SHIPPED)("traces/%s: the JSON report conforms", (name) => {
    const { run, json } = replayJson([`traces/${name}`]);
    expect(run.status).toBe(0);
    expect(schemaProblems(json)).toEqual([]);
  });

  it("a report that stopped early (malformed trace, --until) conforms: error and stoppedAt are objects", () => {
    const bad = replayJson(["test/e2e/fixtures/unknown-record.trace"]);
    expect(bad.run.status).toBe(2);
    expect((bad.json as Report).error?.kind).toBe("trace");
    expect(schemaProblems(bad.json)).toEqual([]);
    const until = replayJson(["traces/scavenger.trace", "--until", "t 400000000000"]);
    expect((until.json as Report).trace.stoppedAt).toEqual({ line: 25, text: "t 400000000000" });
    expect(schemaProblems(until.json)).toEqual([]);
  });

  it("carries its format version, reportVersion: the schema's one value, REPORT_VERSION", () => {
    const report = replayJson(["traces/tiny.trace"]).json as Report;
    expect(Object.keys(report).slice(0, 2)).toEqual(["goalloc", "reportVersion"]);
    expect(report.reportVersion).toBe(REPORT_VERSION);
    expect(REPORT_SCHEMA.properties?.reportVersion?.enum).toEqual([REPORT_VERSION]);
  });

  it.each(["end", "peak"])("the profile at another point (--memprofile-at %s) conforms, with profile.at saying which", (at) => {
    const { json } = replayJson(["traces/profile.trace", "--memprofile-at", at]);
    expect((json as Report).profile.at).toBe(at);
    expect(schemaProblems(json)).toEqual([]);
  });

  it("a Go log replayed on a layout it was not logged on (notComparable a string) conforms", () => {
    const { json } = replayJson(["traces/go1.3.3-p0.log", "--arch", "arm64"]);
    expect(typeof (json as Report).fidelity?.notComparable).toBe("string");
    expect(schemaProblems(json)).toEqual([]);
  });

  it("gcs[] and trace.gcRecords use the documented names: scavenger.trace's fourth collection", () => {
    const report = replayJson(["traces/scavenger.trace"]).json as Report;
    expect(report.trace.gcRecords).toBe(2);
    // gctrace: `gc4(1): 0+0+0+0 us, 0 -> 0 MB, 5 (7-2) objects, 8/0/6 sweeps, ...`, the scavenger's forced GC at 180 s.
    expect(report.gcs[3]).toEqual({
      NumGC: 4,
      forced: true,
      eager: false,
      time: 180e9,
      heap0MB: 0,
      HeapAlloc: 190592,
      NextGC: 381184,
      HeapObjects: 5,
      Mallocs: 7,
      Frees: 2,
      nspan: 8,
      nbgsweep: 0,
      npausesweep: 6,
    });
  });

  it("rejects a key it does not list and the old names, anywhere in the report", () => {
    const report = replayJson(["traces/scavenger.trace"]).json as Record<string, unknown> & { gcs: Record<string, unknown>[]; trace: Record<string, unknown> };
    const { NumGC, ...rest } = report.gcs[0]!;
    report.gcs[0] = { numgc: NumGC, ...rest };
    report.trace.gcs = 2;
    report.extra = true;
    expect(schemaProblems(report)).toEqual([
      `$.trace: key "gcs" is not in the schema`,
      `$.gcs[0]: missing key "NumGC"`,
      `$.gcs[0]: key "numgc" is not in the schema`,
      `$: key "extra" is not in the schema`,
    ]);
  });

  it("is strict: every object schema lists its keys, requires them all, and allows no other", () => {
    const loose: string[] = [];
    const walk = (s: JsonSchema, at: string): void => {
      if (s.properties !== undefined) {
        if (s.additionalProperties !== false) loose.push(`${at}: additionalProperties is not false`);
        if (JSON.stringify(s.required) !== JSON.stringify(Object.keys(s.properties))) loose.push(`${at}: required is not every property`);
        for (const [key, p] of Object.entries(s.properties)) walk(p, `${at}.${key}`);
      } else if (s.type === "object" && s.additionalProperties === undefined) loose.push(`${at}: an object of any keys`);
      if (s.items !== undefined) walk(s.items, `${at}[]`);
      if (typeof s.additionalProperties === "object") walk(s.additionalProperties, `${at}.*`);
      s.anyOf?.forEach((option, i) => walk(option, `${at}|${i}`));
      for (const [name, def] of Object.entries(s.$defs ?? {})) walk(def, `#/$defs/${name}`);
    };
    walk(REPORT_SCHEMA, "$");
    expect(loose).toEqual([]);
    expect(REPORT_SCHEMA.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
  });

  it("lists MemStats' fields in Go 1.3's order", () => {
    expect(Object.keys(REPORT_SCHEMA.$defs?.memstats?.properties ?? {})).toEqual([...MEMSTATS_FIELDS]);
  });
});

describe("test/e2e/schema.ts: the JSON Schema subset", () => {
  const schema: JsonSchema = {
    $defs: { hex: { type: "string", pattern: "^0x[0-9a-f]+$" } },
    type: "object",
    properties: {
      n: { type: "integer", minimum: 0, maximum: 10 },
      kind: { enum: ["a", "b", null] },
      at: { anyOf: [{ $ref: "#/$defs/hex" }, { type: "null" }] },
      list: { type: "array", items: { type: "number" }, minItems: 1, maxItems: 2 },
      byName: { type: "object", propertyNames: { pattern: "^[1-9][0-9]*$" }, additionalProperties: { type: "boolean" } },
    },
    required: ["n", "kind", "at", "list", "byName"],
    additionalProperties: false,
  };

  it("accepts a conforming value", () => {
    expect(schemaProblems({ n: 10, kind: null, at: "0xc0", list: [0.5], byName: { "12": true } }, schema)).toEqual([]);
  });

  it("names each departure with its JSON path", () => {
    expect(schemaProblems({ n: -1, kind: "c", at: "0xC0", list: [1, "x", 3], byName: { "01": 1 }, more: 0 }, schema)).toEqual([
      "$.n: -1 is below the minimum 0",
      `$.kind: expected one of ["a","b",null], got "c"`,
      `$.at: matches none of the allowed shapes: "0xC0"`,
      "$.list: expected at most 2 entries, got 3",
      `$.list[1]: expected number, got "x"`,
      `$.byName.01 (name): "01" does not match ^[1-9][0-9]*$`,
      "$.byName.01: expected boolean, got 1",
      `$: key "more" is not in the schema`,
    ]);
    expect(schemaProblems({ n: 1.5, kind: "a", at: null, list: [] }, schema)).toEqual([
      '$: missing key "byName"',
      "$.n: expected integer, got 1.5",
      "$.list: expected at least 1 entries, got 0",
    ]);
  });

  it("throws on a keyword it does not check, rather than pass it", () => {
    expect(() => schemaProblems(1, JSON.parse('{"const": 1}') as JsonSchema)).toThrow("schema: keyword const at $ is not supported by test/e2e/schema.ts");
  });
});
