// Shared helpers for the trace reader tests: feeding parsers and keeping copies of records.

import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TraceParser, TraceRecord } from "../../../src/trace/record.js";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * Feed `input` to `parser` in chunks of `chunkSize` bytes (the whole input at once when
 * omitted), end it, and return copies of the records it emitted.
 */
export function collect(parser: TraceParser, input: string | Buffer, chunkSize?: number): TraceRecord[] {
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  const records: TraceRecord[] = [];
  // `id` and `typeName` may be getters (native records make their text on demand): copied as values.
  const sink = { record: (r: TraceRecord) => records.push({ ...r, id: r.id, typeName: r.typeName }) };
  const step = chunkSize ?? Math.max(bytes.length, 1);
  for (let at = 0; at < bytes.length && !parser.stopped; at += step) {
    parser.push(bytes.subarray(at, at + step), sink);
  }
  parser.end(sink);
  return records;
}

/** The message of what `action` throws, or "" when it does not throw. */
export function errorOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return "";
}
