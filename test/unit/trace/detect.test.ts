// Tests of format sniffing and of opening traces: plain and gzip files (by magic bytes), stdin,
// explicit formats, until, and read errors.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { profileLog } from "../../../src/trace/golog-profile.js";
import {
  SNIFF_BYTES,
  SNIFF_LIMIT,
  STDIN_NAME,
  detectFormat,
  openTrace,
  readTrace,
  type OpenTraceOptions,
} from "../../../src/trace/detect.js";
import { RecordKind, TraceError, type TraceParser, type TraceRecord } from "../../../src/trace/record.js";
import { repoRoot } from "./helpers.js";
import { needsOracle, oraclePath } from "../../oracle.js";

function hasTool(name: string): boolean {
  return spawnSync(name, ["--version"]).status === 0;
}

const golog = `PHASE main
tracealloc(0xc208010000, 0x900, single object)
goroutine 0 [idle]:
runtime.mallocgc(0x900, 0x0, 0x10)
\t/usr/local/go/src/pkg/runtime/malloc.goc:191 +0x145 fp=0x7ffec8044f68 sp=0x7ffec8044f00

tracefree(0xc208010000, 0x900)
goroutine 16 [running]:
runtime.MSpan_Sweep(0x7f2119aa5200)
\t/usr/local/go/src/pkg/runtime/mgc0.c:1894 +0x514 fp=0x7f2119912ce0 sp=0x7f2119912c08

MEMSTATS_SNAPSHOT
tracegc()

goroutine 16 [garbage collection]:
runtime.gc(0x2)
\t/usr/local/go/src/pkg/runtime/mgc0.c:2329 +0x1c6 fp=0x7f2119912e20 sp=0x7f2119912df0
end tracegc

`;

const native = "goalloc-trace 1\na 1 16\nd 1\ngc\n";

describe("detectFormat", () => {
  const cases: Array<[string, string, "native" | "golog"]> = [
    ["a header", "goalloc-trace 1\na 1 8\n", "native"],
    ["a header after comments and blanks", "# made by hand\n\n  goalloc-trace 1\n", "native"],
    ["a headerless native trace", "# no header\na 1 8\nd 1\n", "native"],
    ["a Go log", golog, "golog"],
    ["a Go log with CRLF", golog.replace(/\n/g, "\r\n"), "golog"],
    ["program output before the first record", "a = 5\nhello\ntracegc()\n", "golog"],
    ["a lone tracefree line", "tracefree(0x10, 0x10)", "golog"],
    ["a header followed by golog-looking lines", "goalloc-trace 1\ntracealloc(0x1, 0x10)\n", "native"],
    ["trace words not at a line start", "x tracealloc(0x1, 0x10)\n", "native"],
    ["empty input", "", "native"],
    ["anything else", "hello world\n", "native"],
  ];

  it.each(cases)("%s", (_name, text, format) => {
    expect(detectFormat(Buffer.from(text))).toBe(format);
  });

  it("finds a record line anywhere in the bytes it is given", () => {
    const filler = "hello\n".repeat(Math.ceil(SNIFF_BYTES / 6));
    expect(detectFormat(Buffer.from(filler + "tracegc()\n"))).toBe("golog");
    expect(detectFormat(Buffer.from(filler + "tracegc"))).toBe("native");
  });
});

describe("profileLog", () => {
  it("reads a go1.3 log's generation and layout off its first record", () => {
    expect(profileLog(Buffer.from(golog))).toStrictEqual({ generation: "go1.3", ptrSize: 8, layout: "amd64", firstAddress: "0xc208010000" });
  });

  it("tells 386 from arm by the start-up frame, and arm64 by gccgo's heap hint", () => {
    const first = (addr: string, asm: string): string =>
      `tracealloc(${addr}, 0x480, single object)\ngoroutine 0 [idle]:\nruntime.mallocgc(0x480, 0x0, 0x10)\n\t/usr/local/go/src/pkg/runtime/malloc.goc:191 +0x13d\n_rt0_go()\n\t/usr/local/go/src/pkg/runtime/${asm}:95 +0xf6\n\n`;
    expect(profileLog(Buffer.from(first("0x18310000", "asm_386.s")))).toMatchObject({ ptrSize: 4, layout: "386" });
    expect(profileLog(Buffer.from(first("0x18310000", "asm_arm.s")))).toMatchObject({ ptrSize: 4, layout: "arm" });
    expect(profileLog(Buffer.from(first("0x4000010000", "asm_arm64.s")))).toMatchObject({ ptrSize: 8, layout: "arm64" });
    expect(profileLog(Buffer.from(first("0x6000010000", "asm_arm64.s")))).toMatchObject({ ptrSize: 8, layout: "amd64" });
  });

  it("knows a Go 1.4+ log by its malloc.go frame, and says nothing without a tracealloc", () => {
    const modern = "tracealloc(0xc000014008, 0x8, *runtime.p)\ngoroutine 0 [idle]:\nruntime.mallocgc(0x8, 0x4a8620, 0x1)\n\t/usr/lib/go-1.19/src/runtime/malloc.go:1131 +0x7b1\n\n";
    expect(profileLog(Buffer.from(modern))).toStrictEqual({ generation: "modern", ptrSize: 8, layout: "amd64", firstAddress: "0xc000014008" });
    expect(profileLog(Buffer.from("tracegc()\nend tracegc\n"))).toStrictEqual({ generation: null, ptrSize: null, layout: null, firstAddress: null });
  });
});

describe("openTrace and readTrace", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "goalloc-trace-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function write(name: string, content: string | Buffer): string {
    const file = path.join(dir, name);
    writeFileSync(file, content);
    return file;
  }

  async function read(
    file: string,
    options: OpenTraceOptions = {},
  ): Promise<{ parser: TraceParser; records: TraceRecord[] }> {
    const records: TraceRecord[] = [];
    const parser = await readTrace(file, options, { record: (r) => records.push({ ...r, id: r.id, typeName: r.typeName }) });
    return { parser, records };
  }

  async function failure(action: () => Promise<unknown>): Promise<TraceError> {
    try {
      await action();
    } catch (error) {
      if (error instanceof TraceError) return error;
      throw error;
    }
    throw new Error("expected a TraceError");
  }

  it("reads a plain native file", async () => {
    const { parser, records } = await read(write("plain.trace", native));
    expect(parser.format).toBe("native");
    expect(records.map((r) => r.kind)).toEqual([RecordKind.Alloc, RecordKind.Dead, RecordKind.GC]);
  });

  it("skips a UTF-8 byte order mark before the first line, in native traces and Go logs", async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const nativeWithBom = await read(write("bom.trace", Buffer.concat([bom, Buffer.from(native)])));
    expect(nativeWithBom.parser.format).toBe("native");
    expect(nativeWithBom.records.map((r) => r.kind)).toEqual([RecordKind.Alloc, RecordKind.Dead, RecordKind.GC]);
    // A log whose first line is a record: with the mark, that record must not be lost.
    const records = golog.slice(golog.indexOf("tracealloc("));
    const plainLog = await read(write("plain.log", records));
    const logWithBom = await read(write("bom.log", Buffer.concat([bom, Buffer.from(records)])));
    expect(logWithBom.parser.format).toBe("golog");
    expect(logWithBom.records.map((r) => [r.kind, r.line, r.id])).toEqual(plainLog.records.map((r) => [r.kind, r.line, r.id]));
    expect(logWithBom.records[0]).toMatchObject({ kind: RecordKind.Alloc, id: "0xc208010000" });
  });

  it("recognises gzip by its magic bytes, not by the file name", async () => {
    const gz = await read(write("compressed.trace", gzipSync(native)));
    expect(gz.parser.format).toBe("native");
    expect(gz.records).toHaveLength(3);
    const notGz = await read(write("plain.gz", golog));
    expect(notGz.parser.format).toBe("golog");
    expect(notGz.records.map((r) => r.kind)).toEqual([RecordKind.Alloc, RecordKind.Dead, RecordKind.GC]);
    const opened = await openTrace(path.join(dir, "compressed.trace"));
    expect(opened.compression).toBe("gzip");
    for await (const chunk of opened.stream) expect(chunk.length).toBeGreaterThan(0);
  });

  it("finds a Go log's first record past a long program preamble, up to SNIFF_LIMIT", async () => {
    const preamble = "PHASE output line\n".repeat(Math.ceil((3 * SNIFF_BYTES) / 18));
    const opened = await openTrace(write("preamble.log", preamble + golog));
    opened.close();
    expect(opened.parser.format).toBe("golog");
    expect(opened.profile).toMatchObject({ generation: "go1.3", layout: "amd64" });
    const tooLong = await openTrace(write("toolong.log", Buffer.concat([Buffer.alloc(SNIFF_LIMIT + 1, "x"), Buffer.from("\n" + golog)])));
    tooLong.close();
    expect(tooLong.parser.format).toBe("native");
  });

  it.skipIf(!hasTool("xz") || !hasTool("zstd"))("decompresses xz and zstd by their magic bytes, through the installed tools", async () => {
    for (const [tool, args] of [["xz", ["-c"]], ["zstd", ["-c", "-q"]]] as const) {
      const file = write(`log.${tool}`, execFileSync(tool, [...args], { input: golog }));
      const opened = await read(file);
      expect(opened.parser.format).toBe("golog");
      expect(opened.records.map((r) => r.kind)).toEqual([RecordKind.Alloc, RecordKind.Dead, RecordKind.GC]);
    }
  });

  it.skipIf(!hasTool("xz"))("reports truncated xz data in the tool's words", async () => {
    const whole = execFileSync("xz", ["-c"], { input: golog.repeat(50) });
    const error = await failure(() => read(write("cut.xz", whole.subarray(0, 200))));
    expect(error.line).toBe(0);
    expect(error.message).toBe(`${path.join(dir, "cut.xz")}: cannot decompress: xz says Unexpected end of input`);
  });

  it("sniffs a gzipped Go log and honours until", async () => {
    const file = write("log.gz", gzipSync(golog));
    const all = await read(file);
    expect(all.parser.format).toBe("golog");
    expect(all.parser.skippedLines).toBe(2);
    const part = await read(file, { until: "MEMSTATS_SNAPSHOT" });
    expect(part.parser.stopped).toBe(true);
    expect(part.records.map((r) => r.kind)).toEqual([RecordKind.Alloc, RecordKind.Dead, RecordKind.Until]);
  });

  it("streams inputs larger than the sniff window, and stops early on until", async () => {
    const lines = ["goalloc-trace 1"];
    for (let i = 0; i < 50_000; i++) lines.push(`a o${i} ${i % 4096}`, `d o${i}`);
    const text = lines.join("\n") + "\n";
    expect(text.length).toBeGreaterThan(10 * SNIFF_BYTES);
    for (const file of [write("big.trace", text), write("big.trace.gz", gzipSync(text))]) {
      const { parser, records } = await read(file);
      expect(records).toHaveLength(100_000);
      expect(parser.lines).toBe(100_001);
      expect(records.at(-1)).toMatchObject({ kind: RecordKind.Dead, id: "o49999", line: 100_001 });
      const stopped = await read(file, { until: "a o100 " });
      expect(stopped.records).toHaveLength(201);
      expect(stopped.records.at(-1)).toMatchObject({ kind: RecordKind.Until, line: 202, text: "a o100 100" });
    }
  });

  it("uses an explicit format instead of sniffing", async () => {
    const file = write("forced.log", golog);
    const error = await failure(() => read(file, { format: "native" }));
    expect(error.message).toBe(`${file}:1: unknown record "PHASE"`);
    expect((await read(file, { format: "golog" })).records).toHaveLength(3);
  });

  it("reports a missing file or a directory as a TraceError at line 0, in plain words", async () => {
    const missing = path.join(dir, "missing.trace");
    const error = await failure(() => read(missing));
    expect(error.line).toBe(0);
    expect(error.message).toBe(`${missing}: no such file`);
    const folder = path.join(dir, "folder");
    mkdirSync(folder);
    expect((await failure(() => read(folder))).message).toBe(`${folder}: is a directory, not a trace`);
  });

  it("reports corrupt gzip data, when sniffing and when streaming", async () => {
    const valid = gzipSync("goalloc-trace 1\n" + "gc\n".repeat(100_000));
    const truncated = write("truncated.gz", valid.subarray(0, valid.length - 20));
    const garbage = write("garbage.gz", Buffer.from([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    for (const file of [truncated, garbage]) {
      for (const format of ["auto", "native"] as const) {
        const error = await failure(() => read(file, { format }));
        expect(error.line).toBe(0);
        expect(error.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: cannot decompress: `));
      }
    }
  });

  it("reads an empty file as an empty native trace", async () => {
    const { parser, records } = await read(write("empty.trace", ""));
    expect(parser.format).toBe("native");
    expect(records).toEqual([]);
    expect(parser.lines).toBe(0);
  });

  it("reads standard input for the path -", () => {
    const script = `
      import { readTrace } from ${JSON.stringify(path.join(repoRoot, "src/trace/detect.ts"))};
      const kinds = [];
      const parser = await readTrace("-", {}, { record: (r) => kinds.push(r.kind) });
      console.log(JSON.stringify({ format: parser.format, file: parser.file, kinds }));
    `;
    const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: repoRoot,
      input: gzipSync(golog),
      encoding: "utf8",
    });
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      format: "golog",
      file: STDIN_NAME,
      kinds: [RecordKind.Alloc, RecordKind.Dead, RecordKind.GC],
    });
  });

  const oracleLog = oraclePath("go1.3.3-amd64", "p0_baseline.allocfreetrace.txt.xz");
  it("reads a gzipped oracle log like the original", needsOracle(oracleLog), async () => {
    const file = write("p0.log.gz", gzipSync(execFileSync("xz", ["-dc", oracleLog], { maxBuffer: 1 << 30 })));
    const { parser, records } = await read(file);
    const count = (kind: RecordKind): number => records.filter((r) => r.kind === kind).length;
    expect([count(RecordKind.Alloc), count(RecordKind.Dead), count(RecordKind.GC)]).toEqual([303, 18, 2]);
    expect(parser.lines).toBe(12168);
  });
});
