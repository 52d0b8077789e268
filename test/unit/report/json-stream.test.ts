// The JSON report written in pieces must be the text JSON.stringify(value, null, 2) gives,
// byte for byte: for every shipped trace's report and for the corners of JSON.stringify.

import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { jsonChunks } from "../../../src/report/json-stream.js";
import { replay } from "../../../src/index.js";

const traces = path.resolve(import.meta.dirname, "../../../traces");

function streamed(value: unknown, chunkChars?: number): string {
  return [...jsonChunks(value, chunkChars)].join("");
}

describe("jsonChunks", () => {
  it("gives JSON.stringify(report, null, 2) + newline for every shipped trace, in any chunk size", async () => {
    const names = readdirSync(traces).filter((name) => name.endsWith(".trace") || name.endsWith(".log"));
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) {
      const { report } = await replay(path.join(traces, name));
      const text = JSON.stringify(report, null, 2) + "\n";
      expect(streamed(report), name).toBe(text);
      expect(streamed(report, 1), name).toBe(text);
    }
  });

  it("gives the same text for reports that stopped early: at --until, a trace error, a runtime throw", async () => {
    const fixtures = path.resolve(import.meta.dirname, "../../e2e/fixtures");
    const until = (await replay(path.join(traces, "go1.3.3-p0.log"), { until: "MEMSTATS_SNAPSHOT" })).report;
    const traceError = (await replay(path.join(fixtures, "reused-id.trace"))).report;
    const thrown = (await replay(path.join(fixtures, "free-class1.trace"))).report;
    expect([until.trace.stoppedAt !== null, traceError.error?.kind, thrown.error?.kind]).toEqual([true, "trace", "runtime"]);
    for (const report of [until, traceError, thrown]) expect(streamed(report)).toBe(JSON.stringify(report, null, 2) + "\n");
  });

  it("follows JSON.stringify in its corners: empty and nested containers, left-out members, toJSON, escapes", () => {
    const nullProto = Object.create(null) as Record<string, unknown>;
    nullProto.a = [1, { b: [] }];
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    const values: unknown[] = [
      {},
      [],
      { a: {}, b: [], c: [[]], d: [{}], e: { f: { g: { h: { i: [1, [2, { j: "deep" }]] } } } } },
      { gone: undefined, fn: () => 1, kept: 1, sym: Symbol("s") },
      { onlyGone: undefined },
      [undefined, () => 1, Symbol("s"), null, 0, -0, 1.5e300, NaN, Infinity],
      { when: new Date(0), nested: { when: new Date(86_400_000) }, custom: { toJSON: () => ({ x: [1, 2] }) } },
      { text: 'line\nbreak "quoted" \\ tab\t \u0000 \u2028 é 😀', "key\nwith\"escapes": true },
      nullProto,
      { point: new Point(1, 2), boxed: [new Number(3), new String("s"), new Boolean(false)] },
      [[[[[{ a: [{ b: 1 }] }]]]]],
      "top-level string",
      42,
      null,
      true,
    ];
    for (const value of values) {
      for (const size of [1, 7, 1 << 20]) expect(streamed(value, size)).toBe(JSON.stringify(value, null, 2) + "\n");
    }
  });

  it("hands out chunks of about the size asked for, never the whole text at once", () => {
    const value = { rows: Array.from({ length: 20_000 }, (_, i) => ({ i, name: `row ${i}` })) };
    const chunks = [...jsonChunks(value, 64 * 1024)];
    const text = JSON.stringify(value, null, 2) + "\n";
    expect(chunks.join("")).toBe(text);
    expect(chunks.length).toBeGreaterThan(Math.floor(text.length / (64 * 1024)) - 1);
    // Each chunk closes once it reaches the size, at the end of a piece (a row is about 60 characters).
    for (const chunk of chunks.slice(0, -1)) expect(chunk.length).toBeLessThan(64 * 1024 + 200);
  });
});
