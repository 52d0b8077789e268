// Where the replay's records come from: a reader on the replay's own thread, or, for a large
// native trace file, a reader thread (trace/parse-worker.ts) that parses while the replay
// emulates. Both feed the sink the same records in the same order, and stop at the same error:
// the choice changes speed, never output.

import { stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { BatchReader, type Batch, type BatchArrays } from "./batch.js";
import { openTrace, type FormatOption } from "./detect.js";
import type { LogProfile } from "./golog-profile.js";
import { NameTable } from "./names.js";
import { StackTable, TraceError, readErrorAt, type RecordSink, type TraceFormat } from "./record.js";

/**
 * Which thread parses: "auto" uses a reader thread for native trace files of
 * READER_THREAD_BYTES or more, when the process may run on more than one CPU (on one, two
 * threads only add the cost of handing records over).
 */
export type ReaderThread = "auto" | "main" | "worker";

/** Below this size a reader thread costs more to start than it saves. */
export const READER_THREAD_BYTES = 4 * 1024 * 1024;

export interface RecordSource {
  readonly format: TraceFormat;
  readonly stacks: StackTable;
  /** The type names of native records (TraceRecord.typeId). */
  readonly types: NameTable;
  /** The input is compressed (its size says nothing of its length). */
  readonly compressed: boolean;
  /** A Go log: what its first records say of the run (null for a native trace). */
  readonly profile: LogProfile | null;
  /** Lines consumed so far (all of them once the input has ended). */
  readonly lines: number;
  readonly skippedLines: number;
  /** An Until record was emitted. */
  readonly stopped: boolean;
  /** feed stopped because `signal` was aborted, before the end of the input. */
  readonly interrupted: boolean;
  /**
   * Feeds records to sink, yielding the input bytes read so far after each chunk or batch.
   * Once `signal` is aborted it stops before the next one (interrupted).
   */
  feed(sink: RecordSink, signal?: AbortSignal): AsyncIterable<number>;
  /** After feed, unless stopped early: the last records. */
  end(sink: RecordSink): void;
  /** Stop reading (after an interrupt or an error); idempotent. */
  close(): Promise<void>;
}

export interface OpenSourceOptions {
  format: FormatOption;
  until: string | null;
  thread?: ReaderThread;
}

/** What the reader thread is started with. */
export interface ReaderStart {
  path: string;
  until: string | null;
}

/** What the reader thread posts: a batch, and with the last one, how the input ended. */
export interface ReaderMessage {
  batch: Batch;
  bytesRead: number;
  /** Lines the reader has consumed: those of the records up to this batch's last. */
  lines: number;
  /** The reader is done: this is the last batch. */
  end: boolean;
  /** A TraceError's fields, to be thrown after the batch's records. */
  error: { file: string; line: number; detail: string } | null;
}

/** Open `path` (`-` = stdin) for replay. */
export async function openRecordSource(path: string, options: OpenSourceOptions): Promise<RecordSource> {
  const opened = await openTrace(path, { format: options.format, ...(options.until !== null ? { until: options.until } : {}) });
  const parser = opened.parser;
  const thread = options.thread ?? "auto";
  // The reader thread opens the file again: only a regular file reads the same twice (not
  // standard input, a pipe or a FIFO, whose first bytes the format sniffer has taken).
  const threaded = async (): Promise<boolean> => {
    if (parser.format !== "native" || path === "-" || thread === "main") return false;
    const input = await stat(path);
    if (!input.isFile()) return false;
    return thread === "worker" || (input.size >= READER_THREAD_BYTES && availableParallelism() > 1);
  };
  if (await threaded()) {
    opened.close();
    return new ThreadSource(path, options.until, opened.compression !== null);
  }
  let closed = false;
  let interrupted = false;
  return {
    format: parser.format,
    stacks: parser.stacks,
    types: parser.types,
    compressed: opened.compression !== null,
    profile: opened.profile,
    get lines() {
      return parser.lines;
    },
    get skippedLines() {
      return parser.skippedLines;
    },
    get stopped() {
      return parser.stopped;
    },
    get interrupted() {
      return interrupted;
    },
    async *feed(sink, signal) {
      let bytesRead = 0;
      const aborted = (): boolean => signal?.aborted === true;
      if (aborted()) {
        interrupted = true;
        return;
      }
      try {
        for await (const chunk of opened.stream) {
          if (aborted()) {
            interrupted = true;
            return;
          }
          parser.push(chunk, sink);
          bytesRead += chunk.length;
          yield bytesRead;
          if (parser.stopped || closed) return;
        }
      } catch (e) {
        throw e instanceof TraceError ? readErrorAt(e, parser.lines) : e;
      }
    },
    end(sink) {
      parser.end(sink);
    },
    close() {
      closed = true;
      opened.close();
      return Promise.resolve();
    },
  };
}

/** A native trace file parsed on a reader thread. */
class ThreadSource implements RecordSource {
  readonly format = "native";
  readonly profile = null;
  readonly stacks = new StackTable();
  readonly types = new NameTable();
  readonly skippedLines = 0;
  lines = 0;
  stopped = false;
  interrupted = false;
  private readonly worker: Worker;
  private readonly reader = new BatchReader(this.stacks, this.types);
  private readonly queue: ReaderMessage[] = [];
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(
    path: string,
    until: string | null,
    readonly compressed: boolean,
  ) {
    const start: ReaderStart = { path, until };
    this.worker = startReaderThread(start);
    this.worker.on("message", (message: ReaderMessage) => {
      this.queue.push(message);
      this.notify();
    });
    this.worker.on("error", (error) => {
      this.failure = error;
      this.notify();
    });
    this.worker.on("exit", (code) => {
      this.failure ??= new Error(`the trace reader thread exited (code ${code}) before the end of its input`);
      this.notify();
    });
  }

  async *feed(sink: RecordSink, signal?: AbortSignal): AsyncIterable<number> {
    try {
      for (;;) {
        // Batches may be waiting already: let the event loop run first, or a Ctrl-C would only
        // be seen at the end of the input.
        await new Promise((resolve) => setImmediate(resolve));
        if (signal?.aborted === true) {
          this.interrupted = true;
          return;
        }
        const message = await this.next();
        const { batch } = message;
        try {
          this.reader.read(batch, sink);
        } catch (e) {
          // The sink stopped at a record: the lines consumed end with it, as on one thread.
          this.lines = this.reader.line;
          throw e;
        }
        this.lines = message.lines;
        if (message.error !== null) throw new TraceError(message.error.file, message.error.line, message.error.detail);
        if (message.end) {
          this.stopped = this.reader.sawUntil;
          yield message.bytesRead;
          return;
        }
        const spare: BatchArrays = { f64: batch.f64, i32: batch.i32 };
        this.worker.postMessage(spare, [spare.f64.buffer, spare.i32.buffer]);
        yield message.bytesRead;
      }
    } finally {
      await this.close();
    }
  }

  /** The reader thread ended the parser itself. */
  end(): void {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.terminate();
  }

  private async next(): Promise<ReaderMessage> {
    for (;;) {
      const message = this.queue.shift();
      if (message !== undefined) return message;
      if (this.failure !== null) throw this.failure;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

/**
 * The reader thread runs the compiled parse-worker.js next to this module. Run from the
 * TypeScript sources (the test suite), it is parse-worker.ts, loaded through tsx.
 */
function startReaderThread(start: ReaderStart): Worker {
  const compiled = new URL("./parse-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, { workerData: start });
  const source = new URL("./parse-worker.ts", import.meta.url).href;
  // tsx's ESM entry, as an import would resolve it (its exports' "import" condition).
  const manifest = createRequire(import.meta.url).resolve("tsx/package.json");
  const exports = (JSON.parse(readFileSync(manifest, "utf8")) as { exports: Record<string, { import: { default: string } }> }).exports;
  const tsx = pathToFileURL(path.join(path.dirname(manifest), exports["./esm/api"]!.import.default)).href;
  const code = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(source)});`;
  return new Worker(new URL("data:text/javascript," + encodeURIComponent(code)), { workerData: start });
}
