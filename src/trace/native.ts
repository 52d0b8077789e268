// Reader for goalloc's own trace format, `goalloc-trace 1` (trace-format.md §1).
//
// Lines are tokenised on their bytes: no regexes, no String.split, and strings are only made
// for the tokens a record keeps (IDs, type names, stack frames).

import { LineSplitter } from "./lines.js";
import {
  FreeOrigin,
  MallocFlag,
  RecordKind,
  StackTable,
  TraceError,
  TypeKind,
  newRecord,
  type Frame,
  type RecordSink,
  type TraceParser,
  type TraceRecord,
} from "./record.js";

export interface NativeParserOptions {
  /** Stop at the first line containing this text (emitting an Until record). */
  until?: string;
}

const SPACE = 0x20;
const TAB = 0x09;
const HASH = 0x23;
const EQUALS = 0x3d;
const SEMICOLON = 0x3b;
const COMMA = 0x2c;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const LOWER_A = 0x61;
const LOWER_F = 0x66;
const LOWER_X = 0x78;
const UPPER_A = 0x41;
const UPPER_F = 0x46;

/** Bits of the `a` keys already seen on a line, to reject duplicates. */
const enum AllocKey {
  Flags = 1,
  Stack = 2,
  Kind = 4,
}

const ALLOC_KEYS: ReadonlyMap<string, AllocKey> = new Map([
  ["flags", AllocKey.Flags],
  ["stack", AllocKey.Stack],
  ["kind", AllocKey.Kind],
]);

const FLAG_BITS: ReadonlyMap<string, number> = new Map([
  ["noscan", MallocFlag.NoScan],
  ["nozero", MallocFlag.NoZero],
  ["nogc", MallocFlag.NoGC],
  ["noprof", MallocFlag.NoProfiling],
  ["noinvokegc", MallocFlag.NoInvokeGC],
]);

const TYPE_KINDS: ReadonlyMap<string, TypeKind> = new Map([
  ["single", TypeKind.Single],
  ["array", TypeKind.Array],
  ["chan", TypeKind.Chan],
]);

function isBlank(byte: number): boolean {
  return byte === SPACE || byte === TAB;
}

export class NativeParser implements TraceParser {
  readonly format = "native" as const;
  readonly stacks = new StackTable();
  readonly skippedLines = 0;
  stopped = false;

  private readonly splitter: LineSplitter;
  private readonly until: Buffer | null;
  private readonly record: TraceRecord = newRecord();
  /** STACK token of `s` records → id in `stacks`. */
  private readonly stackIds = new Map<string, number>();
  private sawRecordLine = false;
  private clock = 0;

  // The line being parsed and the tokenizer's position in it.
  private bytes: Buffer = Buffer.alloc(0);
  private cursor = 0;
  private lineEnd = 0;
  private tokenStart = 0;
  private tokenEnd = 0;

  constructor(
    readonly file: string,
    options: NativeParserOptions = {},
  ) {
    this.splitter = new LineSplitter(file);
    this.until = options.until ? Buffer.from(options.until, "utf8") : null;
  }

  get lines(): number {
    return this.splitter.lineNumber;
  }

  push(chunk: Buffer, sink: RecordSink): void {
    if (this.stopped) return;
    const splitter = this.splitter;
    splitter.push(chunk);
    while (splitter.next()) {
      this.parseLine(sink);
      if (this.stopped) return;
    }
  }

  end(sink: RecordSink): void {
    if (this.stopped) return;
    if (this.splitter.finish()) this.parseLine(sink);
  }

  private parseLine(sink: RecordSink): void {
    const { bytes, start, end, lineNumber } = this.splitter;
    if (this.until !== null && bytes.subarray(start, end).includes(this.until)) {
      const r = this.record;
      r.kind = RecordKind.Until;
      r.line = lineNumber;
      r.text = bytes.toString("utf8", start, end);
      this.stopped = true;
      sink.record(r);
      return;
    }
    this.bytes = bytes;
    this.cursor = start;
    this.lineEnd = end;
    if (!this.nextToken() || bytes[this.tokenStart] === HASH) return;
    const isHeader = this.tokenIs("goalloc-trace");
    const firstRecordLine = !this.sawRecordLine;
    this.sawRecordLine = true;
    if (isHeader) {
      if (!firstRecordLine) this.fail("the goalloc-trace header must be the first record line");
      this.parseHeader();
      return;
    }
    this.parseRecord(sink);
  }

  private parseHeader(): void {
    if (!this.nextToken()) this.fail('malformed header: expected "goalloc-trace 1"');
    const version = this.tokenText();
    if (version !== "1") {
      this.fail(`unsupported trace version "${version}" (this reader knows goalloc-trace 1)`);
    }
    this.expectLineEnd("goalloc-trace");
  }

  private parseRecord(sink: RecordSink): void {
    const r = this.record;
    r.line = this.splitter.lineNumber;
    if (this.tokenIs("a")) {
      this.parseAlloc(r);
    } else if (this.tokenIs("f")) {
      r.kind = RecordKind.Free;
      r.id = this.expectToken("f", "ID");
      r.origin = FreeOrigin.Explicit;
      this.expectLineEnd("f");
    } else if (this.tokenIs("d")) {
      r.kind = RecordKind.Dead;
      r.id = this.expectToken("d", "ID");
      r.origin = FreeOrigin.Unknown;
      this.expectLineEnd("d");
    } else if (this.tokenIs("t")) {
      r.kind = RecordKind.Clock;
      this.expectToken("t", "NS");
      const time = this.tokenNumber("t", "NS");
      if (time < this.clock) this.fail(`t: clock goes backwards (${time} < ${this.clock})`);
      this.clock = time;
      r.time = time;
      this.expectLineEnd("t");
    } else if (this.tokenIs("s")) {
      this.parseStack();
      return;
    } else if (this.tokenIs("gc")) {
      r.kind = RecordKind.GC;
      r.forced = true;
      this.expectLineEnd("gc");
    } else if (this.tokenIs("fin")) {
      r.kind = RecordKind.Finalizer;
      r.id = this.expectToken("fin", "ID");
      r.offset = this.nextToken() ? this.tokenNumber("fin", "OFFSET") : 0;
      this.expectLineEnd("fin");
    } else if (this.tokenIs("unfin")) {
      r.kind = RecordKind.Unfinalizer;
      r.id = this.expectToken("unfin", "ID");
      this.expectLineEnd("unfin");
    } else {
      this.fail(`unknown record "${this.tokenText()}"`);
    }
    sink.record(r);
  }

  private parseAlloc(r: TraceRecord): void {
    r.kind = RecordKind.Alloc;
    r.id = this.expectToken("a", "ID");
    this.expectToken("a", "SIZE");
    r.size = this.tokenNumber("a", "SIZE");
    r.address = -1;
    r.flags = 0;
    r.stack = -1;
    r.typeName = null;
    r.typeKind = TypeKind.Single;
    let seen = 0;
    while (this.nextToken()) {
      const equals = this.bytes.indexOf(EQUALS, this.tokenStart);
      if (equals < 0 || equals >= this.tokenEnd) {
        this.fail(`a: unexpected field "${this.tokenText()}" (expected key=value)`);
      }
      const key = this.bytes.toString("latin1", this.tokenStart, equals);
      const valueStart = equals + 1;
      if (key === "type") {
        r.typeName = this.restOfLine(valueStart);
        if (r.typeName === "") this.fail("a: empty type=");
        return;
      }
      const bit = ALLOC_KEYS.get(key);
      if (bit === undefined) this.fail(`a: unknown key "${key}=" (expected flags=, stack=, kind= or type=)`);
      if ((seen & bit) !== 0) this.fail(`a: duplicate ${key}=`);
      seen |= bit;
      if (valueStart === this.tokenEnd) this.fail(`a: empty ${key}=`);
      if (bit === AllocKey.Flags) {
        r.flags = this.parseFlags(valueStart);
        continue;
      }
      const value = this.bytes.toString("utf8", valueStart, this.tokenEnd);
      if (bit === AllocKey.Stack) {
        const id = this.stackIds.get(value);
        if (id === undefined) this.fail(`a: stack=${value} is not defined by an earlier "s" record`);
        r.stack = id;
      } else {
        const kind = TYPE_KINDS.get(value);
        if (kind === undefined) this.fail(`a: unknown kind=${value} (expected single, array or chan)`);
        r.typeKind = kind;
      }
    }
  }

  /** The comma list of flag names from `from` to the end of the current token. */
  private parseFlags(from: number): number {
    let flags = 0;
    while (from <= this.tokenEnd) {
      let to = this.bytes.indexOf(COMMA, from);
      if (to < 0 || to > this.tokenEnd) to = this.tokenEnd;
      const name = this.bytes.toString("latin1", from, to);
      const bit = FLAG_BITS.get(name);
      if (bit === undefined) {
        this.fail(`a: unknown flag "${name}" (expected noscan, nozero, nogc, noprof or noinvokegc)`);
      }
      flags |= bit;
      from = to + 1;
    }
    return flags;
  }

  /** `s STACK FRAME;FRAME;...`: frames innermost first, function names only. */
  private parseStack(): void {
    const token = this.expectToken("s", "STACK");
    if (this.stackIds.has(token)) this.fail(`s: stack ${token} is already defined`);
    this.expectToken("s", "FRAME;FRAME;...");
    const frames: Frame[] = [];
    let from = this.tokenStart;
    while (from <= this.tokenEnd) {
      let to = this.bytes.indexOf(SEMICOLON, from);
      if (to < 0 || to > this.tokenEnd) to = this.tokenEnd;
      if (to === from) this.fail(`s: empty frame in stack ${token}`);
      frames.push({ func: this.bytes.toString("utf8", from, to), location: "" });
      from = to + 1;
    }
    this.expectLineEnd("s");
    this.stackIds.set(token, this.stacks.intern(frames));
  }

  /** Advance to the next blank-separated token of the line; false at the end of the line. */
  private nextToken(): boolean {
    const bytes = this.bytes;
    let i = this.cursor;
    const end = this.lineEnd;
    while (i < end && isBlank(bytes[i])) i++;
    if (i >= end) {
      this.cursor = end;
      return false;
    }
    this.tokenStart = i;
    while (i < end && !isBlank(bytes[i])) i++;
    this.tokenEnd = i;
    this.cursor = i;
    return true;
  }

  private expectToken(record: string, field: string): string {
    if (!this.nextToken()) this.fail(`${record}: missing ${field}`);
    return this.tokenText();
  }

  private expectLineEnd(record: string): void {
    if (this.nextToken()) this.fail(`${record}: unexpected field "${this.tokenText()}"`);
  }

  private tokenText(): string {
    return this.bytes.toString("utf8", this.tokenStart, this.tokenEnd);
  }

  private tokenIs(word: string): boolean {
    const length = this.tokenEnd - this.tokenStart;
    if (length !== word.length) return false;
    for (let i = 0; i < length; i++) {
      if (this.bytes[this.tokenStart + i] !== word.charCodeAt(i)) return false;
    }
    return true;
  }

  /** From `from` to the end of the line, trailing blanks dropped; consumes the line. */
  private restOfLine(from: number): string {
    let to = this.lineEnd;
    while (to > from && isBlank(this.bytes[to - 1])) to--;
    this.cursor = this.lineEnd;
    return this.bytes.toString("utf8", from, to);
  }

  /** The current token as a decimal or 0x-hex safe integer ≥ 0. */
  private tokenNumber(record: string, field: string): number {
    const bytes = this.bytes;
    const start = this.tokenStart;
    const end = this.tokenEnd;
    const hex = end - start > 2 && bytes[start] === DIGIT_0 && bytes[start + 1] === LOWER_X;
    const base = hex ? 16 : 10;
    let value = 0;
    for (let i = hex ? start + 2 : start; i < end; i++) {
      const digit = digitValue(bytes[i], base);
      if (digit < 0) {
        this.fail(`${record}: ${field} "${this.tokenText()}" is not a decimal or 0x-hex integer`);
      }
      value = value * base + digit;
      if (value > Number.MAX_SAFE_INTEGER) {
        this.fail(`${record}: ${field} "${this.tokenText()}" is too large (over 2^53-1)`);
      }
    }
    return value;
  }

  private fail(message: string): never {
    throw new TraceError(this.file, this.splitter.lineNumber, message);
  }
}

/** Value of one digit byte in base 10 or 16, or -1. */
function digitValue(byte: number, base: number): number {
  if (byte >= DIGIT_0 && byte <= DIGIT_9) return byte - DIGIT_0;
  if (base === 16) {
    if (byte >= LOWER_A && byte <= LOWER_F) return byte - LOWER_A + 10;
    if (byte >= UPPER_A && byte <= UPPER_F) return byte - UPPER_A + 10;
  }
  return -1;
}
