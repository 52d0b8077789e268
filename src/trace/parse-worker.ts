// The reader thread of a native trace (see trace/source.ts): opens the file, parses it and
// posts the records in batches (trace/batch.ts). At most MAX_BATCHES_AHEAD batches are ahead of
// the replay: the replay hands each batch's arrays back once read, and the reader waits for them,
// so memory stays bounded however fast it reads.

import { parentPort, workerData } from "node:worker_threads";
import { BatchWriter, StackDefinitions, batchTransfers, emptyBatch, type BatchArrays } from "./batch.js";
import { openTrace } from "./detect.js";
import type { NativeParser } from "./native.js";
import { TraceError, readErrorAt } from "./record.js";
import type { ReaderMessage, ReaderStart } from "./source.js";

/** Records per batch: large enough that messages are rare, small enough to keep both threads busy. */
const BATCH_RECORDS = 16 * 1024;
const MAX_BATCHES_AHEAD = 4;

const port = parentPort!;
const start = workerData as ReaderStart;
const spares: BatchArrays[] = [];
let ahead = 0;
let wake: (() => void) | null = null;

port.on("message", (arrays: BatchArrays) => {
  spares.push(arrays);
  ahead--;
  const waiting = wake;
  wake = null;
  waiting?.();
});

function roomAhead(): Promise<void> {
  return ahead < MAX_BATCHES_AHEAD ? Promise.resolve() : new Promise((resolve) => (wake = resolve));
}

async function read(): Promise<void> {
  let writer: BatchWriter | null = null;
  let parser: NativeParser | null = null;
  let bytesRead = 0;
  const post = (message: Pick<ReaderMessage, "end" | "error">): void => {
    const batch = writer !== null ? writer.take(spares.pop()) : emptyBatch();
    const full: ReaderMessage = { ...message, batch, bytesRead, lines: parser?.lines ?? 0 };
    ahead++;
    port.postMessage(full, batchTransfers(batch));
  };
  try {
    const stacks = new StackDefinitions();
    const opened = await openTrace(start.path, { format: "native", stackBuilder: stacks, ...(start.until !== null ? { until: start.until } : {}) });
    parser = opened.parser as NativeParser;
    writer = new BatchWriter(parser, stacks, BATCH_RECORDS);
    for await (const chunk of opened.stream) {
      parser.push(chunk, writer);
      bytesRead += chunk.length;
      if (parser.stopped) break;
      if (writer.count >= BATCH_RECORDS) {
        post({ end: false, error: null });
        await roomAhead();
      }
    }
    if (!parser.stopped) parser.end(writer);
    post({ end: true, error: null });
  } catch (e) {
    if (!(e instanceof TraceError)) throw e;
    const at = readErrorAt(e, parser?.lines ?? 0);
    post({ end: true, error: { file: at.file, line: at.line, detail: at.detail } });
  }
}

void read();
