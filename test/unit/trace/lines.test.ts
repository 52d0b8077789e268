// Tests of the byte-level line splitter: chunk boundaries, CRLF, last line, length limit.

import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_LINE_BYTES, LineSplitter } from "../../../src/trace/lines.js";
import { TraceError } from "../../../src/trace/record.js";
import { errorOf } from "./helpers.js";

/** Split `input` fed in `chunkSize`-byte chunks; returns [lineNumber, text] pairs. */
function split(input: string | Buffer, chunkSize: number, maxLineBytes?: number): Array<[number, string]> {
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  const splitter = new LineSplitter("in.txt", maxLineBytes);
  const lines: Array<[number, string]> = [];
  const take = (): void => {
    lines.push([splitter.lineNumber, splitter.bytes.toString("utf8", splitter.start, splitter.end)]);
  };
  for (let at = 0; at < bytes.length; at += chunkSize) {
    splitter.push(bytes.subarray(at, at + chunkSize));
    while (splitter.next()) take();
  }
  if (splitter.finish()) take();
  return lines;
}

const sample = "alpha\nbeta\r\n\r\n\ngamma delta\r\nlast";
const sampleLines: Array<[number, string]> = [
  [1, "alpha"],
  [2, "beta"],
  [3, ""],
  [4, ""],
  [5, "gamma delta"],
  [6, "last"],
];

describe("LineSplitter", () => {
  it("splits \\n and \\r\\n lines and keeps a last line without newline", () => {
    expect(split(sample, 1000)).toEqual(sampleLines);
  });

  it("gives the same lines for every chunk size, including one byte at a time", () => {
    for (let size = 1; size <= sample.length; size++) {
      expect(split(sample, size)).toEqual(sampleLines);
    }
  });

  it("handles a \\r\\n split across chunks", () => {
    expect(split("ab\r\ncd\r\n", 3)).toEqual([
      [1, "ab"],
      [2, "cd"],
    ]);
  });

  it("does not invent a line after a final newline, nor for empty input", () => {
    expect(split("one\n", 2)).toEqual([[1, "one"]]);
    expect(split("", 4)).toEqual([]);
  });

  it("keeps multi-byte UTF-8 characters that straddle chunks", () => {
    expect(split("héllo→\nwörld", 1)).toEqual([
      [1, "héllo→"],
      [2, "wörld"],
    ]);
  });

  it("accepts a line of exactly the limit, with or without \\r", () => {
    expect(split("12345\n", 2, 5)).toEqual([[1, "12345"]]);
    expect(split("12345\r\n", 2, 5)).toEqual([[1, "12345"]]);
    expect(split("12345\r\n", 100, 5)).toEqual([[1, "12345"]]);
  });

  it("rejects a longer line, whatever the chunking, with one message", () => {
    const input = "ok\n1234567890\r\nnext\n";
    expect(() => split(input, 100, 5)).toThrow(TraceError);
    for (const size of [1, 3, 7, 100]) {
      expect(errorOf(() => split(input, size, 5))).toBe("in.txt:2: line too long (more than 5 bytes)");
    }
  });

  it("rejects a line of the limit and a \r followed by anything but \n", () => {
    for (const size of [1, 6, 100]) expect(errorOf(() => split("12345\rx\n", size, 5))).toBe("in.txt:1: line too long (more than 5 bytes)");
  });

  it("rejects an over-long last line without newline", () => {
    expect(errorOf(() => split("ok\n123456", 2, 5))).toBe("in.txt:2: line too long (more than 5 bytes)");
  });

  it("rejects a line as soon as it passes the limit, before it ends", () => {
    const splitter = new LineSplitter("in.txt", 5);
    splitter.push(Buffer.from("ok\n123"));
    expect(splitter.next()).toBe(true);
    expect(splitter.next()).toBe(false);
    splitter.push(Buffer.from("456"));
    // No newline has come and none may ever come: the sixth byte is enough.
    expect(errorOf(() => splitter.next())).toBe("in.txt:2: line too long (more than 5 bytes)");
  });

  it("defaults to a 1 MiB limit", () => {
    expect(DEFAULT_MAX_LINE_BYTES).toBe(1048576);
    const fits = Buffer.alloc(DEFAULT_MAX_LINE_BYTES, 0x61);
    expect(split(Buffer.concat([fits, Buffer.from("\n")]), 65536)).toHaveLength(1);
    const tooLong = Buffer.alloc(DEFAULT_MAX_LINE_BYTES + 1, 0x61);
    expect(errorOf(() => split(tooLong, 65536))).toBe("in.txt:1: line too long (more than 1048576 bytes)");
  });
});
