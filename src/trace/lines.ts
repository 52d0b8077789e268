// Byte-level line splitter: turns a stream of Buffer chunks into lines without decoding them.
//
// The readers work on the bytes of each line directly, so the splitter hands out a view
// (`bytes`, `start`, `end`) instead of a string. A line that spans chunks is assembled in a
// carry buffer that is reused from line to line; memory stays bounded by the line limit.

import { TraceError } from "./record.js";

/** Lines longer than this (without their terminator) are rejected: a trace is not a blob. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

/**
 * Pull-style splitter. Usage: `push(chunk)`, then call `next()` until it returns false; at end
 * of input call `finish()` once for a last line without a newline. After a true return the
 * current line is `bytes[start, end)`, without `\n` or `\r\n`; it stays valid until the next
 * call.
 */
export class LineSplitter {
  /** Buffer holding the current line. */
  bytes: Buffer = EMPTY;
  /** Offset of the current line's first byte in `bytes`. */
  start = 0;
  /** Offset just past the current line's last byte in `bytes`. */
  end = 0;
  /** 1-based number of the current line (0 before the first). */
  lineNumber = 0;

  private chunk: Buffer = EMPTY;
  private position = 0;
  private carry: Buffer = EMPTY;
  private carryLength = 0;
  /** Bytes of the pending partial line that did not fit under the limit (then not stored). */
  private overflowLength = 0;
  private overflowLastByte = 0;

  constructor(
    private readonly file: string,
    private readonly maxLineBytes: number = DEFAULT_MAX_LINE_BYTES,
  ) {}

  /** Make `chunk` the input; any unread rest of the previous chunk is dropped. */
  push(chunk: Buffer): void {
    this.chunk = chunk;
    this.position = 0;
  }

  /** Advance to the next complete line of the current chunk; false when it needs more input. */
  next(): boolean {
    const chunk = this.chunk;
    const from = this.position;
    if (from >= chunk.length) return false;
    const newline = chunk.indexOf(LF, from);
    if (newline < 0) {
      this.keep(chunk, from, chunk.length);
      this.position = chunk.length;
      return false;
    }
    this.position = newline + 1;
    if (this.carryLength === 0 && this.overflowLength === 0) {
      this.setLine(chunk, from, newline);
    } else {
      this.keep(chunk, from, newline);
      this.takeCarry();
    }
    return true;
  }

  /** End of input: true (and the line is current) if a last line had no newline. */
  finish(): boolean {
    this.chunk = EMPTY;
    this.position = 0;
    if (this.carryLength === 0 && this.overflowLength === 0) return false;
    this.takeCarry();
    return true;
  }

  private setLine(bytes: Buffer, start: number, end: number): void {
    this.lineNumber++;
    if (end > start && bytes[end - 1] === CR) end--;
    if (end - start > this.maxLineBytes) this.tooLong(end - start);
    this.bytes = bytes;
    this.start = start;
    this.end = end;
  }

  private takeCarry(): void {
    const length = this.carryLength;
    this.carryLength = 0;
    if (this.overflowLength > 0) {
      this.lineNumber++;
      const total = length + this.overflowLength - (this.overflowLastByte === CR ? 1 : 0);
      this.overflowLength = 0;
      this.tooLong(total);
    }
    this.setLine(this.carry, 0, length);
  }

  /** Append part of a line to the carry; past the limit only count it (plus room for a `\r`). */
  private keep(source: Buffer, from: number, to: number): void {
    const length = to - from;
    if (length === 0) return;
    if (this.overflowLength > 0 || this.carryLength + length > this.maxLineBytes + 1) {
      this.overflowLength += length;
      this.overflowLastByte = source[to - 1];
      return;
    }
    const needed = this.carryLength + length;
    if (needed > this.carry.length) {
      const capacity = Math.min(Math.max(needed, this.carry.length * 2, 256), this.maxLineBytes + 1);
      const grown = Buffer.allocUnsafe(capacity);
      this.carry.copy(grown, 0, 0, this.carryLength);
      this.carry = grown;
    }
    source.copy(this.carry, this.carryLength, from, to);
    this.carryLength = needed;
  }

  private tooLong(length: number): never {
    throw new TraceError(this.file, this.lineNumber, `line too long (${length} bytes)`);
  }
}
