// Opening a trace: stdin or a file, gzip or not (by magic bytes), native or golog (by sniffing),
// as a stream of Buffer chunks for a push parser. Nothing reads the whole input into memory.

import { createReadStream } from "node:fs";
import { Readable, pipeline } from "node:stream";
import { createGunzip, type Gunzip } from "node:zlib";
import { GologParser } from "./golog.js";
import { NativeParser } from "./native.js";
import { TraceError, type RecordSink, type TraceFormat, type TraceParser } from "./record.js";
import { BOM, startsWithBOM } from "./lines.js";

/** How much of the (decompressed) input the format sniffer looks at. */
export const SNIFF_BYTES = 64 * 1024;

const READ_CHUNK_BYTES = 256 * 1024;

/** The name used in messages for standard input (the path `-`). */
export const STDIN_NAME = "<stdin>";

export type FormatOption = "auto" | TraceFormat;

export interface OpenTraceOptions {
  /** Input format; "auto" (the default) sniffs the first SNIFF_BYTES. */
  format?: FormatOption;
  /** Stop at the first line containing this text (see the parsers for where it is checked). */
  until?: string;
}

export interface OpenedTrace {
  parser: TraceParser;
  /** The decompressed input. Breaking out of a `for await` over it closes the file. */
  stream: AsyncIterable<Buffer>;
  /** The input was gzip-compressed. */
  gzip: boolean;
  /** Stop reading a file without consuming `stream`: closes it, and the decompressor. */
  close(): void;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const HASH = 0x23;
const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

const NATIVE_HEADER = Buffer.from("goalloc-trace");
const GOLOG_RECORD_STARTS = [Buffer.from("tracealloc("), Buffer.from("tracefree("), Buffer.from("tracegc()")];

function startsWithAt(bytes: Buffer, start: number, end: number, prefix: Buffer): boolean {
  const prefixEnd = start + prefix.length;
  return prefixEnd <= end && bytes.compare(prefix, 0, prefix.length, start, prefixEnd) === 0;
}

/**
 * Guess the format from the first bytes of the decompressed input: a `goalloc-trace` header as
 * the first record line means native; otherwise a line starting with `tracealloc(`,
 * `tracefree(` or `tracegc()` within the first SNIFF_BYTES means a Go log; anything else is
 * read as native (whose parser then reports what is wrong with it).
 */
export function detectFormat(firstBytes: Buffer): TraceFormat {
  const length = Math.min(firstBytes.length, SNIFF_BYTES);
  let sawRecordLine = false;
  for (let start = startsWithBOM(firstBytes, 0) ? BOM.length : 0; start < length; ) {
    const newline = firstBytes.indexOf(LF, start);
    const next = newline < 0 || newline >= length ? length : newline;
    const end = next > start && firstBytes[next - 1] === CR ? next - 1 : next;
    if (!sawRecordLine) {
      let first = start;
      while (first < end && (firstBytes[first] === SPACE || firstBytes[first] === TAB)) first++;
      if (first < end && firstBytes[first] !== HASH) {
        sawRecordLine = true;
        if (startsWithAt(firstBytes, first, end, NATIVE_HEADER)) return "native";
      }
    }
    for (const prefix of GOLOG_RECORD_STARTS) {
      if (startsWithAt(firstBytes, start, end, prefix)) return "golog";
    }
    start = next + 1;
  }
  return "native";
}

export function createParser(
  format: TraceFormat,
  file: string,
  options: { until?: string } = {},
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

function readError(file: string, error: unknown, gzip: boolean): TraceError {
  if (error instanceof TraceError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code !== undefined && OPEN_ERRORS[code] !== undefined) return new TraceError(file, 0, OPEN_ERRORS[code]!);
  const message = error instanceof Error ? error.message : String(error);
  return new TraceError(file, 0, `${gzip ? "cannot decompress" : "cannot read"}: ${message}`);
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
 * decompressed on the fly; with format "auto" the format is sniffed from the first
 * SNIFF_BYTES of decompressed data, which are then replayed at the start of `stream`.
 */
export async function openTrace(path: string, options: OpenTraceOptions = {}): Promise<OpenedTrace> {
  const file = path === "-" ? STDIN_NAME : path;
  // Large reads: fewer chunks to hand through the stream machinery, fewer lines split across them.
  const raw: Readable = path === "-" ? process.stdin : createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
  const rawChunks: AsyncIterator<Buffer> = raw[Symbol.asyncIterator]();
  let magic: Buffer[];
  try {
    magic = await readAtLeast(rawChunks, 2);
  } catch (error) {
    raw.destroy();
    throw readError(file, error, false);
  }
  const start = Buffer.concat(magic);
  const gzip = start.length >= 2 && start[0] === GZIP_MAGIC_0 && start[1] === GZIP_MAGIC_1;
  const rawData = prepend(magic, rawChunks);
  let data: AsyncIterator<Buffer> = rawData;
  let gunzip: Gunzip | null = null;
  if (gzip) {
    gunzip = createGunzip();
    // Errors of either side reach the consumer through gunzip, which pipeline destroys with them.
    pipeline(Readable.from(rawData), gunzip, () => {});
    data = gunzip[Symbol.asyncIterator]();
  }
  let format = options.format ?? "auto";
  let sniffed: Buffer[] = [];
  if (format === "auto") {
    try {
      sniffed = await readAtLeast(data, SNIFF_BYTES);
    } catch (error) {
      await data.return?.();
      throw readError(file, error, gzip);
    }
    format = detectFormat(Buffer.concat(sniffed));
  }
  const parser = createParser(format, file, { until: options.until });
  const close = (): void => {
    if (path === "-") return;
    // Nothing reads the decompressor any more: what it may still report (a truncated stream,
    // once its input is cut) goes nowhere.
    gunzip?.on("error", () => {}).destroy();
    raw.destroy();
  };
  return { parser, stream: withReadErrors(prepend(sniffed, data), file, gzip), gzip, close };
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
