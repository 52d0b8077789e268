// Tests of the native `goalloc-trace 1` reader: every record, every error, chunking, CRLF, hex.

import { describe, expect, it } from "vitest";
import { NativeParser } from "../../../src/trace/native.js";
import { FlagNoGC, FlagNoInvokeGC, FlagNoProfiling, FlagNoScan, FlagNoZero } from "../../../src/runtime/malloc-flags.js";
import {
  FreeOrigin,
  RecordKind,
  TraceError,
  TypeKind,
  type TraceRecord,
} from "../../../src/trace/record.js";
import { collect, errorOf } from "./helpers.js";

function parse(text: string, chunkSize?: number, until?: string): { records: TraceRecord[]; parser: NativeParser } {
  const parser = new NativeParser("t.trace", until === undefined ? {} : { until });
  return { records: collect(parser, text, chunkSize), parser };
}

function records(text: string): TraceRecord[] {
  return parse(text).records;
}

/** The FILE:LINE message that parsing `text` fails with. */
function failure(text: string): string {
  return errorOf(() => parse(text));
}

const specExample = `goalloc-trace 1
# a tiny string, a small struct, a large buffer
s 1 main.parse;main.main
a 1 5 flags=noscan stack=1 type=string
a 2 48 kind=single type=main.node
a 3 65536 flags=noscan kind=array type=[]byte
d 1
t 2000000
y 3
gc
f 3
`;

describe("NativeParser records", () => {
  it("reads the example of docs/trace-format.md", () => {
    const { records: rs, parser } = parse(specExample);
    expect(parser.format).toBe("native");
    expect(parser.lines).toBe(11);
    expect(parser.skippedLines).toBe(0);
    expect(parser.stopped).toBe(false);
    expect(rs.map((r) => [r.kind, r.line])).toEqual([
      [RecordKind.Alloc, 4],
      [RecordKind.Alloc, 5],
      [RecordKind.Alloc, 6],
      [RecordKind.Dead, 7],
      [RecordKind.Clock, 8],
      [RecordKind.Yield, 9],
      [RecordKind.GC, 10],
      [RecordKind.Free, 11],
    ]);
    expect(rs[0]).toMatchObject({
      id: "1",
      size: 5,
      address: -1,
      flags: FlagNoScan,
      stack: 0,
      typeName: "string",
      typeKind: TypeKind.Single,
    });
    expect(parser.stacks.frames(0)).toEqual([
      { func: "main.parse", location: "" },
      { func: "main.main", location: "" },
    ]);
    expect(rs[1]).toMatchObject({ id: "2", size: 48, flags: 0, stack: -1, typeName: "main.node" });
    expect(rs[1]?.typeKind).toBe(TypeKind.Single);
    expect(rs[2]).toMatchObject({ id: "3", size: 65536, flags: FlagNoScan, typeName: "[]byte" });
    expect(rs[2]?.typeKind).toBe(TypeKind.Array);
    expect(rs[3]).toMatchObject({ id: "1", origin: FreeOrigin.Unknown });
    expect(rs[4]).toMatchObject({ time: 2000000 });
    expect(rs[5]).toMatchObject({ time: 3 });
    expect(rs[6]).toMatchObject({ forced: true });
    expect(rs[7]).toMatchObject({ id: "3", origin: FreeOrigin.Explicit });
  });

  it("reads an a record without keys as untyped, unflagged, without stack", () => {
    expect(records("a x 0\n")[0]).toMatchObject({
      kind: RecordKind.Alloc,
      id: "x",
      size: 0,
      flags: 0,
      stack: -1,
      typeName: null,
      typeKind: TypeKind.Single,
    });
  });

  it("reads every flag and kind", () => {
    const rs = records("a p 8 flags=noscan,nozero,nogc,noprof,noinvokegc kind=chan\na q 8 kind=array flags=nogc\n");
    expect(rs[0]?.flags).toBe(
      FlagNoScan | FlagNoZero | FlagNoGC | FlagNoProfiling | FlagNoInvokeGC,
    );
    expect(rs[0]?.typeKind).toBe(TypeKind.Chan);
    expect(rs[0]?.typeName).toBeNull();
    expect(rs[1]).toMatchObject({ flags: FlagNoGC, typeKind: TypeKind.Array });
  });

  it("takes the rest of the line for type=, spaces and key-like text included", () => {
    const rs = records("a 1 16 type=struct { a int; b map[string]int } flags=x  \t\n");
    expect(rs[0]?.typeName).toBe("struct { a int; b map[string]int } flags=x");
  });

  it("reads fin with and without offset, and unfin", () => {
    const rs = records("a obj 32\nfin obj\nfin obj 0x18\nunfin obj\n").slice(1);
    expect(rs.map((r) => [r.kind, r.id, r.offset])).toEqual([
      [RecordKind.Finalizer, "obj", 0],
      [RecordKind.Finalizer, "obj", 24],
      [RecordKind.Unfinalizer, "obj", 24],
    ]);
  });

  it("lets the clock stand still but not go back", () => {
    expect(records("t 5\nt 5\nt 0x10\n").map((r) => r.time)).toEqual([5, 5, 16]);
    expect(failure("t 10\nt 9\n")).toBe("t.trace:2: t: clock goes backwards (9 < 10)");
  });

  it("interns identical s stacks once and maps each STACK token", () => {
    const { records: rs, parser } = parse("s a f;g\ns b f;g\ns c h\na 1 1 stack=b\na 2 1 stack=c\n");
    expect(rs.map((r) => r.stack)).toEqual([0, 1]);
    expect(parser.stacks.size).toBe(2);
    expect(parser.stacks.frames(1)).toEqual([{ func: "h", location: "" }]);
  });

  it("accepts no header, comments, blank lines, tabs and leading blanks", () => {
    const rs = records("\n# comment\n   \t\n  # indented comment\n\ta\t7\t 9 \n  d 7\n");
    expect(rs.map((r) => [r.kind, r.id, r.line])).toEqual([
      [RecordKind.Alloc, "7", 5],
      [RecordKind.Dead, "7", 6],
    ]);
  });

  it("accepts a header after comments and blank lines", () => {
    expect(records("# hello\n\ngoalloc-trace 1\ngc\n").map((r) => r.line)).toEqual([4]);
  });

  it("reads decimal and 0x hex numbers up to 2^53-1", () => {
    const rs = records("a 1 0x10\na 2 0xFFff\na 3 007\na 4 9007199254740991\na 5 0x1fffffffffffff\n");
    expect(rs.map((r) => r.size)).toEqual([16, 65535, 7, 9007199254740991, 9007199254740991]);
  });

  it("treats CRLF input like LF input", () => {
    const lf = records(specExample);
    expect(records(specExample.replace(/\n/g, "\r\n"))).toEqual(lf);
  });

  it("reads a last line without newline", () => {
    expect(records("a 1 8\nd 1").map((r) => r.kind)).toEqual([RecordKind.Alloc, RecordKind.Dead]);
  });

  it("gives the same records when fed one byte at a time", () => {
    const whole = records(specExample);
    expect(parse(specExample, 1).records).toEqual(whole);
    expect(parse(specExample.replace(/\n/g, "\r\n"), 1).records).toEqual(whole);
  });
});

describe("NativeParser until", () => {
  it("stops at the first line containing the text, before parsing it", () => {
    const { records: rs, parser } = parse("a 1 8\n# MARK here\nnot a record\na 2 8\n", undefined, "MARK");
    expect(rs.map((r) => r.kind)).toEqual([RecordKind.Alloc, RecordKind.Until]);
    expect(rs[1]).toMatchObject({ line: 2, text: "# MARK here" });
    expect(parser.stopped).toBe(true);
    expect(parser.lines).toBe(2);
  });

  it("ignores input pushed after stopping, also byte by byte", () => {
    const { records: rs } = parse("a 1 8\nbad record MARK\n@@@\n", 1, "MARK");
    expect(rs.map((r) => r.kind)).toEqual([RecordKind.Alloc, RecordKind.Until]);
  });

  it("checks the line even when it would not parse", () => {
    expect(parse("goalloc-trace 2 STOP\n", undefined, "STOP").records[0]?.kind).toBe(RecordKind.Until);
  });
});

describe("NativeParser errors", () => {
  const FLAG_NAMES = "(expected noscan, nozero, nogc, noprof or noinvokegc)";
  const cases: Array<[string, string, string]> = [
    ["unknown record", "a 1 8\nx 1\n", 't.trace:2: unknown record "x"'],
    ["unknown long record", "alloc 1 8\n", 't.trace:1: unknown record "alloc"'],
    ["header later", "a 1 8\ngoalloc-trace 1\n", "t.trace:2: the goalloc-trace header must be the first record line"],
    ["header twice", "goalloc-trace 1\ngoalloc-trace 1\n", "t.trace:2: the goalloc-trace header must be the first record line"],
    ["version 2", "goalloc-trace 2\n", 't.trace:1: unsupported trace version "2" (this reader knows goalloc-trace 1)'],
    ["version missing", "goalloc-trace\n", 't.trace:1: malformed header: expected "goalloc-trace 1"'],
    ["header extra", "goalloc-trace 1 x\n", 't.trace:1: goalloc-trace: unexpected field "x"'],
    ["a without ID", "a\n", "t.trace:1: a: missing ID"],
    ["a without SIZE", "a 1\n", "t.trace:1: a: missing SIZE"],
    ["negative size", "a 1 -1\n", 't.trace:1: a: SIZE "-1" is not a decimal or 0x-hex integer'],
    ["fractional size", "a 1 1.5\n", 't.trace:1: a: SIZE "1.5" is not a decimal or 0x-hex integer'],
    ["bare 0x", "a 1 0x\n", 't.trace:1: a: SIZE "0x" is not a decimal or 0x-hex integer'],
    ["bad hex digit", "a 1 0x1g\n", 't.trace:1: a: SIZE "0x1g" is not a decimal or 0x-hex integer'],
    ["upper-case 0X", "a 1 0X10\n", 't.trace:1: a: SIZE "0X10" is not a decimal or 0x-hex integer'],
    ["exponent", "a 1 1e3\n", 't.trace:1: a: SIZE "1e3" is not a decimal or 0x-hex integer'],
    ["2^53", "a 1 9007199254740992\n", 't.trace:1: a: SIZE "9007199254740992" is too large (over 2^53-1)'],
    ["hex 2^53", "a 1 0x20000000000000\n", 't.trace:1: a: SIZE "0x20000000000000" is too large (over 2^53-1)'],
    ["field without =", "a 1 8 noscan\n", 't.trace:1: a: unexpected field "noscan" (expected key=value)'],
    ["unknown key", "a 1 8 color=red\n", 't.trace:1: a: unknown key "color=" (expected flags=, stack=, kind= or type=)'],
    ["duplicate key", "a 1 8 kind=array kind=chan\n", "t.trace:1: a: duplicate kind="],
    ["duplicate flags", "a 1 8 flags=nogc flags=noscan\n", "t.trace:1: a: duplicate flags="],
    ["empty flags", "a 1 8 flags=\n", "t.trace:1: a: empty flags="],
    ["unknown flag", "a 1 8 flags=noscan,fast\n", `t.trace:1: a: unknown flag "fast" ${FLAG_NAMES}`],
    ["empty flag in list", "a 1 8 flags=noscan,\n", `t.trace:1: a: unknown flag "" ${FLAG_NAMES}`],
    ["unknown kind", "a 1 8 kind=map\n", "t.trace:1: a: unknown kind=map (expected single, array or chan)"],
    ["empty type", "a 1 8 type=  \n", "t.trace:1: a: empty type="],
    ["undefined stack", "s 1 f\na 1 8 stack=2\n", 't.trace:2: a: stack=2 is not defined by an earlier "s" record'],
    ["f without ID", "f\n", "t.trace:1: f: missing ID"],
    ["f extra", "f 1 2\n", 't.trace:1: f: unexpected field "2"'],
    ["d without ID", "d\n", "t.trace:1: d: missing ID"],
    ["d extra", "d 1 2\n", 't.trace:1: d: unexpected field "2"'],
    ["gc extra", "gc now\n", 't.trace:1: gc: unexpected field "now"'],
    ["fin without ID", "fin\n", "t.trace:1: fin: missing ID"],
    ["fin bad offset", "fin 1 x\n", 't.trace:1: fin: OFFSET "x" is not a decimal or 0x-hex integer'],
    ["fin extra", "fin 1 8 9\n", 't.trace:1: fin: unexpected field "9"'],
    ["unfin without ID", "unfin\n", "t.trace:1: unfin: missing ID"],
    ["unfin extra", "unfin 1 2\n", 't.trace:1: unfin: unexpected field "2"'],
    ["t without NS", "t\n", "t.trace:1: t: missing NS"],
    ["t bad", "t soon\n", 't.trace:1: t: NS "soon" is not a decimal or 0x-hex integer'],
    ["t extra", "t 1 2\n", 't.trace:1: t: unexpected field "2"'],
    ["y without N", "y\n", "t.trace:1: y: missing N"],
    ["y bad", "y -1\n", 't.trace:1: y: N "-1" is not a decimal or 0x-hex integer'],
    ["y extra", "y 1 2\n", 't.trace:1: y: unexpected field "2"'],
    ["s without STACK", "s\n", "t.trace:1: s: missing STACK"],
    ["s without frames", "s 1\n", "t.trace:1: s: missing FRAME;FRAME;..."],
    ["s redefined", "s 1 f\ns 1 g\n", "t.trace:2: s: stack 1 is already defined"],
    ["s empty frame", "s 1 f;;g\n", "t.trace:1: s: empty frame in stack 1"],
    ["s trailing ;", "s 1 f;\n", "t.trace:1: s: empty frame in stack 1"],
    ["s extra", "s 1 f;g h\n", 't.trace:1: s: unexpected field "h"'],
    ["CRLF line number", "a 1 8\r\n\r\nd\r\n", "t.trace:3: d: missing ID"],
  ];

  it.each(cases)("%s", (_name, text, message) => {
    expect(failure(text)).toBe(message);
  });

  it("throws TraceError carrying file and line", () => {
    try {
      parse("a 1 8\n\nbogus\n");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(TraceError);
      expect(error).toMatchObject({ file: "t.trace", line: 3, detail: 'unknown record "bogus"' });
    }
  });

  it("reports the same line when fed byte by byte", () => {
    expect(errorOf(() => parse("a 1 8\nd 1\nt 3\nt 2\n", 1))).toBe("t.trace:4: t: clock goes backwards (2 < 3)");
  });

  it("rejects a line longer than 1 MiB", () => {
    const long = "a 1 8 type=" + "x".repeat(1024 * 1024);
    expect(failure("gc\n" + long + "\n")).toBe("t.trace:2: line too long (more than 1048576 bytes)");
  });
});
