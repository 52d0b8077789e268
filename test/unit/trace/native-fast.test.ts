// The native reader's fast path (NativeParser.fastLine) against its general path: any input,
// valid or not, gives the same records and the same error whether its lines are read in place
// from a whole chunk (fast path) or assembled byte by byte (general path only).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NativeParser } from "../../../src/trace/native.js";
import type { TraceRecord } from "../../../src/trace/record.js";
import { collect, errorOf } from "./helpers.js";

/** Records (or the error message) of `text` fed in chunks of `chunkSize` bytes (all at once when omitted). */
function outcome(text: string, chunkSize?: number): TraceRecord[] | string {
  let records: TraceRecord[] = [];
  const message = errorOf(() => {
    records = collect(new NativeParser("t.trace"), text, chunkSize);
  });
  return message === "" ? records : message;
}

const blank = fc.constantFrom(" ", "\t", "  ", " \t");
const id = fc.constantFrom("1", "42", "0", "01", "x", "obj-7", "é", "0x10");
const size = fc.constantFrom("8", "0", "007", "16", "0x10", "-1", "1.5", "123456789012345", "1234567890123456", "9007199254740992", "");
const field = fc.constantFrom(
  "flags=noscan",
  "flags=noscan,nozero",
  "flags=nogc,noprof,noinvokegc",
  "flags=",
  "flags=noscan,",
  "flags=fast",
  "stack=1",
  "stack=2",
  "stack=01",
  "stack=s",
  "stack=9",
  "stack=",
  "kind=single",
  "kind=array",
  "kind=chan",
  "kind=map",
  "kind=",
  "type=main.node",
  "type=struct { a int; b map[string]int } flags=x  ",
  "type=  ",
  "type=é",
  "color=red",
  "noscan",
  "flagsx=noscan",
);
const allocLine = fc
  .tuple(fc.option(blank), id, size, fc.array(field, { maxLength: 4 }), fc.option(blank))
  .map(([lead, i, s, fields, trail]) => `${lead ?? ""}a ${i} ${s}${fields.map((f) => " " + f).join("")}${trail ?? ""}`);
const otherLine = fc.oneof(
  id.map((i) => `d ${i}`),
  id.map((i) => `f ${i}`),
  fc.tuple(fc.constantFrom("d", "f"), id, fc.constantFrom("", " 2", "\t")).map(([k, i, rest]) => `${k} ${i}${rest}`),
  fc.constantFrom("gc", "t 5", "t 3", "# comment", "", "   ", "a", "a ", "d", "x 1", "alloc 1 8", "goalloc-trace 1", "fin 1", "unfin 1"),
);
const line = fc.oneof({ weight: 3, arbitrary: allocLine }, { weight: 2, arbitrary: otherLine });
const trace = fc
  .tuple(fc.array(line, { minLength: 1, maxLength: 12 }), fc.constantFrom("\n", "\r\n"), fc.boolean())
  .map(([lines, eol, lastNewline]) => "s 1 f;g\ns s h\ns 01 k\n" + lines.join(eol) + (lastNewline ? eol : ""));

describe("NativeParser fast path", () => {
  it("reads any input exactly as the general path does", () => {
    fc.assert(
      fc.property(trace, (text) => {
        expect(outcome(text)).toEqual(outcome(text, 1));
      }),
      { numRuns: 2000 },
    );
  });

  it("leaves lines split across chunks to the splitter, and takes them back after", () => {
    const text = "s 3 f\n" + Array.from({ length: 50 }, (_, i) => `a ${i} ${i + 1} stack=3 kind=array type=uint8\nd ${i}\n`).join("");
    const whole = outcome(text);
    for (const chunkSize of [7, 64, 100]) expect(outcome(text, chunkSize)).toEqual(whole);
  });

  it("numbers a line it reads in place like any other", () => {
    const records = outcome("# c\n\na 1 8\nd 1\n");
    expect(Array.isArray(records) && records.map((r) => r.line)).toEqual([3, 4]);
  });
});
