// Byte-level line splitter: turns a stream of Buffer chunks into lines without decoding them;
// and StringCache, which decodes the tokens a reader keeps without a new string per line.
//
// The readers work on the bytes of each line directly, so the splitter hands out a view
// (`bytes`, `start`, `end`) instead of a string. A line that spans chunks is assembled in a
// carry buffer that is reused from line to line; memory stays bounded by the line limit. A
// line is rejected as soon as it passes the limit, not when it ends: an input that never ends
// its line (/dev/zero) must not be read forever.

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
/** The UTF-8 byte order mark. */
export const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Does `bytes` hold a UTF-8 byte order mark at `at`? */
export function startsWithBOM(bytes: Buffer, at: number): boolean {
  return bytes.length >= at + 3 && bytes[at] === 0xef && bytes[at + 1] === 0xbb && bytes[at + 2] === 0xbf;
}

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
  /** No byte of input seen yet (a leading byte order mark is skipped). */
  private atStart = true;
  private position = 0;
  private carry: Buffer = EMPTY;
  private carryLength = 0;

  constructor(
    private readonly file: string,
    readonly maxLineBytes: number = DEFAULT_MAX_LINE_BYTES,
  ) {}

  /**
   * For readers that split the lines of a chunk themselves (a fast path): when nothing is
   * carried over from earlier chunks, the unread rest of the current chunk starts a line at
   * `chunkPosition()` in `chunkBytes()`; `skipLine(next)` then consumes the line that ends just
   * before `next` (its `\n` included) as next() would, without making it current. Such a reader
   * must leave to next() any line longer than `maxLineBytes` or that it cannot end in the chunk.
   */
  inPlace(): boolean {
    return this.carryLength === 0;
  }

  chunkBytes(): Buffer {
    return this.chunk;
  }

  chunkPosition(): number {
    return this.position;
  }

  skipLine(next: number): void {
    this.lineNumber++;
    this.position = next;
  }

  /** Make `chunk` the input; any unread rest of the previous chunk is dropped. */
  push(chunk: Buffer): void {
    this.chunk = chunk;
    this.position = 0;
    if (this.atStart && chunk.length > 0) {
      // A UTF-8 byte order mark (some editors write one) is not part of the first line.
      this.atStart = false;
      if (startsWithBOM(chunk, 0)) this.position = BOM.length;
    }
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
    if (this.carryLength === 0) {
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
    if (this.carryLength === 0) return false;
    this.takeCarry();
    return true;
  }

  private setLine(bytes: Buffer, start: number, end: number): void {
    this.lineNumber++;
    if (end > start && bytes[end - 1] === CR) end--;
    if (end - start > this.maxLineBytes) this.tooLong();
    this.bytes = bytes;
    this.start = start;
    this.end = end;
  }

  private takeCarry(): void {
    const length = this.carryLength;
    this.carryLength = 0;
    this.setLine(this.carry, 0, length);
  }

  /**
   * Append part of a line to the carry. Past the limit the line is rejected at once: only a
   * `\r` that a `\n` may still follow can take it one byte over.
   */
  private keep(source: Buffer, from: number, to: number): void {
    const length = to - from;
    if (length === 0) return;
    const needed = this.carryLength + length;
    if (needed > this.maxLineBytes + 1 || (needed === this.maxLineBytes + 1 && source[to - 1] !== CR)) {
      // The line is current, as one that ended would be: its number counts as read.
      this.carryLength = 0;
      this.lineNumber++;
      this.tooLong();
    }
    if (needed > this.carry.length) {
      const capacity = Math.min(Math.max(needed, this.carry.length * 2, 256), this.maxLineBytes + 1);
      const grown = Buffer.allocUnsafe(capacity);
      this.carry.copy(grown, 0, 0, this.carryLength);
      this.carry = grown;
    }
    source.copy(this.carry, this.carryLength, from, to);
    this.carryLength = needed;
  }

  /** One message whether the line had ended or was still going (its length then unknown). */
  private tooLong(): never {
    throw new TraceError(this.file, this.lineNumber, `line too long (more than ${this.maxLineBytes} bytes)`);
  }
}

/** FNV-1a over bytes: start from HashSeed, then `hash = hashByte(hash, byte)` per byte. */
export const HashSeed = 0x811c9dc5;

export function hashByte(hash: number, byte: number): number {
  return Math.imul(hash ^ byte, 0x01000193);
}

/**
 * Decodes byte ranges (tokens) to strings through a direct-mapped cache keyed by their bytes.
 * A trace names the same few things over and over (object IDs that are reused, stack names,
 * type names, frames): a token seen before then costs a hash and a compare instead of a
 * Buffer.toString call, and comes back as the same string object, whose hash a Map has
 * already computed. An entry is the token's 32-bit hash and its string; a hit compares the
 * string's char codes with the bytes, so only tokens whose text has one char per byte (ASCII)
 * are kept. Memory is fixed (`slots` entries); a token over `maxBytes` is decoded every time,
 * and a colliding token simply replaces the entry.
 */
export class StringCache {
  private readonly hashes: Int32Array;
  /** Per slot: the cached text ("" = empty: empty tokens are never cached). */
  private readonly strings: string[];
  private readonly mask: number;

  /** `slots` must be a power of two. */
  constructor(
    slots: number,
    private readonly maxBytes: number,
    private readonly encoding: "latin1" | "utf8",
  ) {
    this.hashes = new Int32Array(slots);
    this.strings = new Array<string>(slots).fill("");
    this.mask = slots - 1;
  }

  /** `bytes[start, end)` decoded. */
  get(bytes: Buffer, start: number, end: number): string {
    let hash = HashSeed;
    for (let i = start; i < end; i++) hash = hashByte(hash, bytes[i]!);
    return this.getHashed(bytes, start, end, hash);
  }

  /** `bytes[start, end)` decoded, when the caller has hashed them already (hashByte). */
  getHashed(bytes: Buffer, start: number, end: number, hash: number): string {
    const length = end - start;
    if (length === 0 || length > this.maxBytes) return bytes.toString(this.encoding, start, end);
    // Fold the high bits into the low ones, which pick the slot.
    const slot = (hash ^ (hash >>> 15)) & this.mask;
    const cached = this.strings[slot]!;
    if (this.hashes[slot] === hash && cached.length === length) {
      let i = 0;
      while (i < length && cached.charCodeAt(i) === bytes[start + i]) i++;
      if (i === length) return cached;
    }
    const text = bytes.toString(this.encoding, start, end);
    // As many chars as bytes: each char decoded from one byte, the byte itself when ASCII (a
    // multi-byte UTF-8 sequence makes the text shorter; an invalid byte becomes U+FFFD, which
    // equals no byte), so a later hit on these bytes is exact.
    if (text.length === length) {
      this.hashes[slot] = hash;
      this.strings[slot] = text;
    }
    return text;
  }
}
