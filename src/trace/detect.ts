// Opening a trace: stdin or a file, plain or compressed (gzip, xz, zstd: by magic bytes), native
// or golog (by sniffing), as a stream of Buffer chunks for a push parser. Nothing reads the whole
// input into memory.

import { spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { Readable, pipeline } from "node:stream";
import { createGunzip, type Gunzip } from "node:zlib";
import { GologParser } from "./golog.js";
import { NativeParser } from "./native.js";
import { TraceError, type RecordSink, type StackBuilder, type TraceFormat, type TraceParser } from "./record.js";
import { BOM, startsWithBOM } from "./lines.js";
import { profileLog, type LogProfile } from "./golog-profile.js";

/** How much of the (decompressed) input the format sniffer looks at first. */
export const SNIFF_BYTES = 64 * 1024;
/** How far it looks for a Go log's first record past the program's own output. */
export const SNIFF_LIMIT = 16 * 1024 * 1024;

const READ_CHUNK_BYTES = 256 * 1024;

/** The name used in messages for standard input (the path `-`). */
export const STDIN_NAME = "<stdin>";

export type FormatOption = "auto" | TraceFormat;

export interface OpenTraceOptions {
  /** Input format; "auto" (the default) sniffs the head of the input (see sniffHead). */
  format?: FormatOption;
  /** Stop at the first line containing this text (see the parsers for where it is checked). */
  until?: string;
  /** A native trace's stacks: see NativeParserOptions. */
  stackBuilder?: StackBuilder;
}

export interface OpenedTrace {
  parser: TraceParser;
  /** The decompressed input. Breaking out of a `for await` over it closes the file. */
  stream: AsyncIterable<Buffer>;
  /** How the input was compressed (null: plain text). */
  compression: Compression | null;
  /** A Go log: what its first records say of the run (null for a native trace). */
  profile: LogProfile | null;
  /** Stop reading a file without consuming `stream`: closes it, and the decompressor. */
  close(): void;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const HASH = 0x23;
/** Compressions recognised by their magic bytes: gzip by zlib, xz and zstd by their own tools. */
export type Compression = "gzip" | "xz" | "zstd";
const MAGIC: ReadonlyArray<readonly [Compression, Buffer]> = [
  ["gzip", Buffer.from([0x1f, 0x8b])],
  ["xz", Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])],
  ["zstd", Buffer.from([0x28, 0xb5, 0x2f, 0xfd])],
];
const MAGIC_BYTES = 6;
/**
 * The decompressors spawned for xz and zstd (Node has neither). zstd's window: a large log
 * compressed with --long=27 (or up to 31) needs the same window to be read back.
 */
const TOOLS: Readonly<Record<"xz" | "zstd", { command: string; args: string[]; pkg: string }>> = {
  xz: { command: "xz", args: ["-dc"], pkg: "xz-utils" },
  zstd: { command: "zstd", args: ["-dc", "--long=31"], pkg: "zstd" },
};

const NATIVE_HEADER = Buffer.from("goalloc-trace");
const GOLOG_RECORD_STARTS = [Buffer.from("tracealloc("), Buffer.from("tracefree("), Buffer.from("tracegc()")];

function startsWithAt(bytes: Buffer, start: number, end: number, prefix: Buffer): boolean {
  const prefixEnd = start + prefix.length;
  return prefixEnd <= end && bytes.compare(prefix, 0, prefix.length, start, prefixEnd) === 0;
}

/**
 * Where the first bytes decide the format: a `goalloc-trace` header as the first record line
 * means native; a line starting with `tracealloc(`, `tracefree(` or `tracegc()` means a Go log
 * (the offset of that line is returned). null: undecided within `bytes`.
 */
function scanFormat(bytes: Buffer): { format: TraceFormat; at: number } | null {
  const length = bytes.length;
  let sawRecordLine = false;
  for (let start = startsWithBOM(bytes, 0) ? BOM.length : 0; start < length; ) {
    const newline = bytes.indexOf(LF, start);
    const next = newline < 0 ? length : newline;
    const end = next > start && bytes[next - 1] === CR ? next - 1 : next;
    if (!sawRecordLine) {
      let first = start;
      while (first < end && (bytes[first] === SPACE || bytes[first] === TAB)) first++;
      if (first < end && bytes[first] !== HASH) {
        sawRecordLine = true;
        if (startsWithAt(bytes, first, end, NATIVE_HEADER)) return { format: "native", at: start };
      }
    }
    for (const prefix of GOLOG_RECORD_STARTS) {
      if (startsWithAt(bytes, start, end, prefix)) return { format: "golog", at: start };
    }
    start = next + 1;
  }
  return null;
}

/**
 * Guess the format from the first bytes of the decompressed input (see scanFormat); input
 * that shows neither is read as native, whose parser then reports what is wrong with it.
 */
export function detectFormat(firstBytes: Buffer): TraceFormat {
  return scanFormat(firstBytes)?.format ?? "native";
}

/**
 * Read the head of the input: until the format is decided (a program may print up to
 * SNIFF_LIMIT bytes before its first allocation is traced) and, for a Go log, SNIFF_BYTES past
 * its first record, so that its profile (golog-profile.ts) sees the first record's frames.
 */
async function sniffHead(
  data: AsyncIterator<Buffer>,
  format: FormatOption,
): Promise<{ head: Buffer[]; format: TraceFormat; profile: LogProfile | null; failure: unknown }> {
  const head: Buffer[] = [];
  let total = 0;
  let ended = false;
  // A read error after some data (a truncated compressed file) comes after that data: the
  // records before it are still replayed and reported.
  let failure: unknown = null;
  const readTo = async (bytes: number): Promise<void> => {
    while (total < bytes && !ended) {
      let next: IteratorResult<Buffer>;
      try {
        next = await data.next();
      } catch (error) {
        if (total === 0) throw error;
        failure = error;
        ended = true;
        return;
      }
      if (next.done === true) ended = true;
      else {
        head.push(next.value);
        total += next.value.length;
      }
    }
  };
  await readTo(SNIFF_BYTES);
  let found = scanFormat(Buffer.concat(head, total));
  // Double the look each time: a long preamble costs a few copies, not one per chunk.
  while (found === null && format === "auto" && !ended && total < SNIFF_LIMIT) {
    await readTo(Math.min(2 * total, SNIFF_LIMIT));
    found = scanFormat(Buffer.concat(head, total));
  }
  const decided: TraceFormat = format === "auto" ? (found?.format ?? "native") : format;
  if (decided !== "golog") return { head, format: decided, profile: null, failure };
  if (found !== null) await readTo(found.at + SNIFF_BYTES);
  return { head, format: decided, profile: profileLog(Buffer.concat(head, total)), failure };
}

export function createParser(
  format: TraceFormat,
  file: string,
  options: { until?: string; stackBuilder?: StackBuilder } = {},
): TraceParser {
  return format === "golog" ? new GologParser(file, options) : new NativeParser(file, options);
}

/** Read chunks until at least `bytes` bytes or the end of the input. */
async function readAtLeast(chunks: AsyncIterator<Buffer>, bytes: number): Promise<Buffer[]> {
  const head: Buffer[] = [];
  let total = 0;
  while (total < bytes) {
    const next = await chunks.next();
    if (next.done === true) break;
    head.push(next.value);
    total += next.value.length;
  }
  return head;
}

/** An input that fails at once with `error` (what is left of one that failed while sniffed). */
async function* failing(error: unknown): AsyncGenerator<Buffer> {
  yield* [];
  throw error;
}

/** `head`, then the rest of `rest`; closes `rest` when the consumer stops early. */
async function* prepend(head: Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* head;
    for (let next = await rest.next(); next.done !== true; next = await rest.next()) yield next.value;
  } finally {
    await rest.return?.();
  }
}

/** What a user reads for the usual reasons a file cannot be opened. */
const OPEN_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: "no such file",
  EISDIR: "is a directory, not a trace",
  EACCES: "permission denied",
  ENOTDIR: "no such file (a part of the path is not a directory)",
};

function readError(file: string, error: unknown, compressed: boolean): TraceError {
  if (error instanceof TraceError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code !== undefined && OPEN_ERRORS[code] !== undefined) return new TraceError(file, 0, OPEN_ERRORS[code]!);
  const message = error instanceof Error ? error.message : String(error);
  return new TraceError(file, 0, `${compressed ? "cannot decompress" : "cannot read"}: ${message}`);
}

/**
 * Decompress through the tool's standard input and output. A tool that is not installed, or
 * that fails on the data, ends the stream with a TraceError saying what to run instead.
 */
async function* spawnDecompressor(kind: "xz" | "zstd", input: AsyncIterable<Buffer>, file: string): AsyncGenerator<Buffer> {
  const tool = TOOLS[kind];
  const child = spawn(tool.command, tool.args, { stdio: ["pipe", "pipe", "pipe"] });
  let spawnError: NodeJS.ErrnoException | null = null;
  const stderr: Buffer[] = [];
  child.stderr.on("data", (b: Buffer) => stderr.push(b));
  const exited = new Promise<number | null>((resolve) => {
    child.on("error", (e: NodeJS.ErrnoException) => {
      spawnError = e;
      resolve(null);
    });
    child.on("close", (code) => resolve(code));
  });
  // The tool may stop reading (bad data, or the consumer stopped): its closed stdin is not an error here.
  child.stdin.on("error", () => {});
  pipeline(Readable.from(input), child.stdin, () => {});
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    const code = await exited;
    if (spawnError !== null) {
      const missing = (spawnError as NodeJS.ErrnoException).code === "ENOENT";
      throw new TraceError(
        file,
        0,
        missing
          ? `${kind}-compressed, and ${tool.command} is not installed: install it (Debian: apt-get install ${tool.pkg}) or run ${tool.command} ${tool.args.join(" ")} ${file} | goalloc replay -`
          : `cannot decompress with ${tool.command}: ${(spawnError as Error).message}`,
      );
    }
    if (code !== 0) {
      // The tool names itself and its input ("xz: (stdin): ..."): keep what it says.
      const why = (Buffer.concat(stderr).toString("utf8").trim().split("\n")[0] ?? "").replace(/^[^:]*: \(stdin\)\s*: /, "");
      throw new TraceError(file, 0, `cannot decompress: ${tool.command} says ${why === "" ? `exit ${String(code)}` : why}`);
    }
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

/** Read errors (missing file, corrupt gzip data...) become TraceError(file, 0, ...). */
async function* withReadErrors(
  chunks: AsyncIterable<Buffer>,
  file: string,
  gzip: boolean,
): AsyncGenerator<Buffer> {
  try {
    yield* chunks;
  } catch (error) {
    throw readError(file, error, gzip);
  }
}

/**
 * Open a trace for streaming: `-` is standard input; gzip is recognised by its magic bytes and
 * decompressed on the fly; the format (with "auto") and a Go log's profile are sniffed from
 * the head of the decompressed data (see sniffHead), which is then replayed at the start of
 * `stream`.
 */
export async function openTrace(path: string, options: OpenTraceOptions = {}): Promise<OpenedTrace> {
  const file = path === "-" ? STDIN_NAME : path;
  // Large reads: fewer chunks to hand through the stream machinery, fewer lines split across them.
  const raw: Readable = path === "-" ? process.stdin : createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
  const rawChunks: AsyncIterator<Buffer> = raw[Symbol.asyncIterator]();
  let magic: Buffer[];
  try {
    magic = await readAtLeast(rawChunks, MAGIC_BYTES);
  } catch (error) {
    raw.destroy();
    throw readError(file, error, false);
  }
  const start = Buffer.concat(magic);
  const compression = MAGIC.find(([, m]) => start.length >= m.length && start.compare(m, 0, m.length, 0, m.length) === 0)?.[0] ?? null;
  const gzip = compression === "gzip";
  const rawData = prepend(magic, rawChunks);
  let data: AsyncIterator<Buffer> = rawData;
  let gunzip: Gunzip | null = null;
  if (gzip) {
    gunzip = createGunzip();
    // Errors of either side reach the consumer through gunzip, which pipeline destroys with them.
    pipeline(Readable.from(rawData), gunzip, () => {});
    data = gunzip[Symbol.asyncIterator]();
  } else if (compression !== null) {
    data = spawnDecompressor(compression, { [Symbol.asyncIterator]: () => rawData }, file);
  }
  const compressed = compression !== null;
  let format = options.format ?? "auto";
  let sniffed: Buffer[] = [];
  let profile: LogProfile | null = null;
  if (format !== "native") {
    let failure: unknown = null;
    try {
      ({ head: sniffed, format, profile, failure } = await sniffHead(data, format));
    } catch (error) {
      await data.return?.();
      throw readError(file, error, compressed);
    }
    if (failure !== null) data = failing(failure);
  }
  const parser = createParser(format, file, { until: options.until, ...(options.stackBuilder !== undefined ? { stackBuilder: options.stackBuilder } : {}) });
  const close = (): void => {
    if (path === "-") return;
    // Nothing reads the decompressor any more: what it may still report (a truncated stream,
    // once its input is cut) goes nowhere.
    gunzip?.on("error", () => {}).destroy();
    void data.return?.();
    raw.destroy();
  };
  return { parser, stream: withReadErrors(prepend(sniffed, data), file, compressed), compression, profile, close };
}

/** Stream a whole trace into `sink` (stopping early once the parser has stopped); returns the parser. */
export async function readTrace(
  path: string,
  options: OpenTraceOptions,
  sink: RecordSink,
): Promise<TraceParser> {
  const { parser, stream } = await openTrace(path, options);
  for await (const chunk of stream) {
    parser.push(chunk, sink);
    if (parser.stopped) break;
  }
  parser.end(sink);
  return parser;
}
