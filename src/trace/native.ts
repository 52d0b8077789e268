// Reader for goalloc's own trace format, `goalloc-trace 1` (docs/trace-format.md).
//
// Lines are read on their bytes: no regexes, no String.split, no Buffer.indexOf per field.
// Keys, flags and kinds are matched on their bytes. IDs become handles in the reader's table
// of live IDs (trace/ids.ts), with no string; frame names and type names are interned from
// their bytes (trace/names.ts), with no string either, and STACK names that are numbers are
// keyed by value. Strings are made for other STACK names, through a StringCache.
// Decoding text for messages is left to the error paths.
//
// Two paths read a line. fastLine takes the well-formed `a`, `d` and `f` lines that make up
// nearly all of a trace straight from the input chunk, in one pass. Everything else (other
// records, comments, lines split across chunks, any line with an error) goes through the
// LineSplitter and the general token-by-token parser, which alone reports errors. Both accept
// exactly the same lines with the same records (test/unit/trace/native-fast.test.ts).

import { LiveIds } from "./ids.js";
import { grown } from "../typed-arrays.js";
import { FlagNoGC, FlagNoInvokeGC, FlagNoProfiling, FlagNoScan, FlagNoZero } from "../runtime/malloc-flags.js";
import { LineSplitter, StringCache } from "./lines.js";
import { NameTable } from "./names.js";
import {
  FreeOrigin,
  HandleRecord,
  RecordKind,
  StackTable,
  TraceError,
  type StackBuilder,
  TypeKind,
  type RecordSink,
  type TraceParser,
  type TraceRecord,
} from "./record.js";

export interface NativeParserOptions {
  /** Stop at the first line containing this text (emitting an Until record). */
  until?: string;
  /**
   * What `s` records define their stacks with, and whose ids records carry (the reader
   * thread's StackDefinitions); by default `stacks`.
   */
  stackBuilder?: StackBuilder;
}

const SPACE = 0x20;
const TAB = 0x09;
const HASH = 0x23;
const LF = 0x0a;
const CR = 0x0d;
const EQUALS = 0x3d;
const SEMICOLON = 0x3b;
const COMMA = 0x2c;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const LOWER_A = 0x61;
const LOWER_D = 0x64;
const LOWER_F = 0x66;
const LOWER_K = 0x6b;
const LOWER_S = 0x73;
const LOWER_T = 0x74;
const LOWER_X = 0x78;
const UPPER_A = 0x41;
const UPPER_F = 0x46;

/** Bits of the `a` keys already seen on a line, to reject duplicates (`type=` ends the line). */
const enum AllocKey {
  Flags = 1,
  Stack = 2,
  Kind = 4,
  Type = 8,
}

const KEY_FLAGS = Buffer.from("flags");
const KEY_STACK = Buffer.from("stack");
const KEY_KIND = Buffer.from("kind");
const KEY_TYPE = Buffer.from("type");

/** Flag names and their bits, matched on bytes. */
const FLAG_NAMES: readonly Buffer[] = ["noscan", "nozero", "nogc", "noprof", "noinvokegc"].map((name) => Buffer.from(name));
const FLAG_VALUES: readonly number[] = [FlagNoScan, FlagNoZero, FlagNoGC, FlagNoProfiling, FlagNoInvokeGC];

/** `kind=` values and their TypeKinds, matched on bytes. */
const KIND_NAMES: readonly Buffer[] = ["single", "array", "chan"].map((name) => Buffer.from(name));
const KIND_VALUES: readonly TypeKind[] = [TypeKind.Single, TypeKind.Array, TypeKind.Chan];

/**
 * STACK tokens that are decimal numbers (no leading zero) below MaxNumberedStack are keyed by
 * their value, with no string (NativeParser.stackByNumber); those below DenseNumberedStacks,
 * or below a few times the stacks defined so far, index an array, the others a Map.
 */
const MaxNumberedStack = 2 ** 31;
const DenseNumberedStacks = 1 << 16;

/** Cache size: stack names are short. */
const TOKEN_CACHE_SLOTS = 1 << 12;
const TOKEN_CACHE_BYTES = 24;

/** True if `bytes[start, end)` is exactly `word`. */
function bytesAre(bytes: Buffer, start: number, end: number, word: Buffer): boolean {
  const length = word.length;
  if (end - start !== length) return false;
  for (let i = 0; i < length; i++) {
    if (bytes[start + i] !== word[i]) return false;
  }
  return true;
}

/**
 * The `a` key that starts at `i`, `=` included: AllocKey.Flags (`flags=`), Stack (`stack=`),
 * Kind (`kind=`) or Type (`type=`), or 0 for anything else. Unrolled byte compares: this runs
 * for every field of every allocation.
 */
function allocKeyAt(bytes: Buffer, i: number, limit: number): number {
  const room = limit - i;
  switch (bytes[i]) {
    case LOWER_F: // flags=
      if (room > 5 && bytes[i + 1] === 0x6c && bytes[i + 2] === 0x61 && bytes[i + 3] === 0x67 && bytes[i + 4] === 0x73) {
        return bytes[i + 5] === EQUALS ? AllocKey.Flags : 0;
      }
      return 0;
    case LOWER_S: // stack=
      if (room > 5 && bytes[i + 1] === 0x74 && bytes[i + 2] === 0x61 && bytes[i + 3] === 0x63 && bytes[i + 4] === 0x6b) {
        return bytes[i + 5] === EQUALS ? AllocKey.Stack : 0;
      }
      return 0;
    case LOWER_K: // kind=
      return room > 4 && bytes[i + 1] === 0x69 && bytes[i + 2] === 0x6e && bytes[i + 3] === 0x64 && bytes[i + 4] === EQUALS ? AllocKey.Kind : 0;
    case LOWER_T: // type=
      return room > 4 && bytes[i + 1] === 0x79 && bytes[i + 2] === 0x70 && bytes[i + 3] === 0x65 && bytes[i + 4] === EQUALS ? AllocKey.Type : 0;
    default:
      return 0;
  }
}

/** The TypeKind `bytes[start, end)` names (single, array, chan), or -1: unrolled, it runs per `kind=`. */
function kindAt(bytes: Buffer, start: number, end: number): number {
  const length = end - start;
  const c = bytes[start];
  if (length === 6 && c === 0x73) return bytesAre(bytes, start, end, KIND_NAMES[0]!) ? TypeKind.Single : -1;
  if (length === 5 && c === 0x61) return bytesAre(bytes, start, end, KIND_NAMES[1]!) ? TypeKind.Array : -1;
  if (length === 4 && c === 0x63) return bytesAre(bytes, start, end, KIND_NAMES[2]!) ? TypeKind.Chan : -1;
  return -1;
}

/** Index in `words` of the word `bytes[start, end)` is, or -1. */
function indexOfWord(bytes: Buffer, start: number, end: number, words: readonly Buffer[]): number {
  for (let i = 0; i < words.length; i++) {
    if (bytesAre(bytes, start, end, words[i]!)) return i;
  }
  return -1;
}

function isBlank(byte: number): boolean {
  return byte === SPACE || byte === TAB;
}

/** A record of this reader: its ID text is made from its handle only when read (messages). */
class NativeRecord extends HandleRecord {
  readonly #ids: LiveIds;
  readonly #types: NameTable;

  constructor(ids: LiveIds, types: NameTable) {
    super();
    this.#ids = ids;
    this.#types = types;
  }

  get id(): string {
    return this.handle < 0 ? "" : this.#ids.name(this.handle);
  }

  protected typeText(id: number): string {
    return this.#types.text(id);
  }
}

export class NativeParser implements TraceParser {
  readonly format = "native" as const;
  readonly stacks = new StackTable();
  /** The type names of `a` records (TraceRecord.typeId). */
  readonly types = new NameTable();
  readonly skippedLines = 0;
  stopped = false;

  private readonly splitter: LineSplitter;
  private readonly builder: StackBuilder;
  /** `s` records read so far. */
  private stacksDefined = 0;
  private readonly until: Buffer | null;
  /** The live IDs and their handles: this reader checks that each record names its objects right. */
  private readonly ids = new LiveIds();
  private readonly record: TraceRecord = new NativeRecord(this.ids, this.types);
  /** STACK token of `s` records → id in `stacks`, for tokens that are not numbered (see MaxNumberedStack). */
  private readonly stackIds = new Map<string, number>();
  /** Numbered STACK tokens → id in `stacks`: by index (-1 = undefined), and beyond it by value. */
  private stackByNumber = new Int32Array(0);
  private readonly sparseStackByNumber = new Map<number, number>();
  /** Decoded STACK tokens (the same bytes are the same string). */
  private readonly tokens = new StringCache(TOKEN_CACHE_SLOTS, TOKEN_CACHE_BYTES, "utf8");
  private sawRecordLine = false;
  private clock = 0;

  // The line being parsed and the tokenizer's position in it.
  private bytes: Buffer = Buffer.alloc(0);
  private cursor = 0;
  private lineEnd = 0;
  private tokenStart = 0;
  private tokenEnd = 0;
  private idStart = 0;
  private idEnd = 0;

  constructor(
    readonly file: string,
    options: NativeParserOptions = {},
  ) {
    this.splitter = new LineSplitter(file);
    this.builder = options.stackBuilder ?? this.stacks;
    this.until = options.until ? Buffer.from(options.until, "utf8") : null;
  }

  get lines(): number {
    return this.splitter.lineNumber;
  }

  /** The numeric key of a handle's ID (trace/ids.ts), NaN when the ID is text. */
  idKey(handle: number): number {
    return this.ids.numericKey(handle);
  }

  push(chunk: Buffer, sink: RecordSink): void {
    if (this.stopped) return;
    const splitter = this.splitter;
    splitter.push(chunk);
    for (;;) {
      // Lines the fast path reads straight from the chunk (see fastLine); the rest, and
      // everything while an `until` text is watched for, go through the splitter.
      if (this.until === null && splitter.inPlace()) {
        const next = this.fastLine(splitter.chunkBytes(), splitter.chunkPosition(), splitter.maxLineBytes);
        if (next >= 0) {
          splitter.skipLine(next);
          this.sawRecordLine = true;
          this.record.line = splitter.lineNumber;
          sink.record(this.record);
          continue;
        }
      }
      if (!splitter.next()) return;
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

  /**
   * The fast path for the records that make up nearly all of a trace: `a` (decimal SIZE, any
   * keys), `d` and `f`, well formed, on a line that starts at `i` and ends with `\n` in `bytes`.
   * One pass over the line with local variables: the line end is found on the way, the ID is
   * looked up in LiveIds, STACK names and the type name are hashed while they are scanned
   * (StringCache.getHashed), keys and names are matched on bytes. It fills
   * `this.record`, updates the live IDs and returns the index after the `\n`, or returns -1 at
   * the first thing it does not expect (another record, a comment, hex, a `\r`, no `\n` before
   * the chunk ends, a line over `maxLineBytes`, an unknown or reused ID, an error...), having
   * changed nothing: the general path then reads the line and reports its errors, so both
   * paths accept exactly the same lines.
   */
  private fastLine(bytes: Buffer, i: number, maxLineBytes: number): number {
    // A `\n` at `limit` or later ends a line of maxLineBytes or more: left to the splitter.
    const limit = Math.min(bytes.length, i + maxLineBytes);
    while (i < limit && isBlank(bytes[i])) i++;
    if (i + 2 >= limit || !isBlank(bytes[i + 1])) return -1;
    const letter = bytes[i];
    if (letter !== LOWER_A && letter !== LOWER_D && letter !== LOWER_F) return -1;
    i += 2;
    while (i < limit && isBlank(bytes[i])) i++;
    const idStart = i;
    for (; i < limit; i++) {
      const byte = bytes[i];
      if (isBlank(byte) || byte === LF || byte === CR) break;
    }
    if (i === idStart) return -1;
    const idEnd = i;
    const r = this.record;
    while (i < limit && isBlank(bytes[i])) i++;
    if (letter !== LOWER_A) {
      if (i >= limit || bytes[i] !== LF) return -1;
      const handle = this.ids.find(bytes, idStart, idEnd);
      if (handle < 0) return -1;
      this.ids.release(handle);
      r.kind = letter === LOWER_D ? RecordKind.Dead : RecordKind.Free;
      r.origin = letter === LOWER_D ? FreeOrigin.Unknown : FreeOrigin.Explicit;
      r.handle = handle;
      return i + 1;
    }
    // SIZE: up to 15 decimal digits, always under 2^53.
    const sizeStart = i;
    let size = 0;
    for (; i < limit; i++) {
      const digit = bytes[i] - DIGIT_0;
      if (digit < 0 || digit > 9) break;
      size = size * 10 + digit;
    }
    if (i === sizeStart || i - sizeStart > 15 || i >= limit || !(isBlank(bytes[i]) || bytes[i] === LF)) return -1;
    let flags = 0;
    let stack = -1;
    let typeKind = TypeKind.Single;
    // The type name's bytes, interned once the line is known good.
    let typeFrom = -1;
    let typeTo = -1;
    let seen = 0;
    for (;;) {
      while (i < limit && isBlank(bytes[i])) i++;
      if (i >= limit) return -1;
      if (bytes[i] === LF) break;
      const bit = allocKeyAt(bytes, i, limit);
      if (bit === 0) return -1;
      if (bit === AllocKey.Type) {
        // The rest of the line, trailing blanks dropped.
        const from = i + 5;
        let to = from;
        for (i = from; i < limit; i++) {
          const byte = bytes[i];
          if (byte === LF || byte === CR) break;
          if (!isBlank(byte)) to = i + 1;
        }
        if (i >= limit || bytes[i] !== LF || to === from) return -1;
        typeFrom = from;
        typeTo = to;
        break;
      }
      i += bit === AllocKey.Kind ? 5 : 6;
      if ((seen & bit) !== 0) return -1;
      seen |= bit;
      const valueStart = i;
      for (; i < limit; i++) {
        const byte = bytes[i];
        if (isBlank(byte) || byte === LF || byte === CR) break;
      }
      if (i === valueStart) return -1;
      if (bit === AllocKey.Flags) {
        for (let from = valueStart; from <= i; ) {
          let to = from;
          while (to < i && bytes[to] !== COMMA) to++;
          const flag = indexOfWord(bytes, from, to, FLAG_NAMES);
          if (flag < 0) return -1;
          flags |= FLAG_VALUES[flag]!;
          from = to + 1;
        }
      } else if (bit === AllocKey.Stack) {
        const id = this.stackOf(bytes, valueStart, i);
        if (id < 0) return -1;
        stack = id;
      } else {
        const kind = kindAt(bytes, valueStart, i);
        if (kind < 0) return -1;
        typeKind = kind;
      }
    }
    const notFound = this.ids.find(bytes, idStart, idEnd);
    if (notFound >= 0) return -1;
    r.kind = RecordKind.Alloc;
    r.handle = this.ids.insert(bytes, idStart, idEnd, notFound);
    r.size = size;
    r.address = -1;
    r.flags = flags;
    r.stack = stack;
    r.typeId = typeFrom < 0 ? -1 : this.types.internBytes(bytes, typeFrom, typeTo);
    r.typeKind = typeKind;
    return i + 1;
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
      const notFound = this.ids.find(this.bytes, this.idStart, this.idEnd);
      if (notFound >= 0) this.fail(`object ${this.text(this.idStart, this.idEnd)} is already live`);
      r.handle = this.ids.insert(this.bytes, this.idStart, this.idEnd, notFound);
    } else if (this.tokenIs("f")) {
      r.kind = RecordKind.Free;
      this.expectId("f");
      r.origin = FreeOrigin.Explicit;
      this.expectLineEnd("f");
      r.handle = this.liveHandle();
      this.ids.release(r.handle);
    } else if (this.tokenIs("d")) {
      r.kind = RecordKind.Dead;
      this.expectId("d");
      r.origin = FreeOrigin.Unknown;
      this.expectLineEnd("d");
      r.handle = this.liveHandle();
      this.ids.release(r.handle);
    } else if (this.tokenIs("t")) {
      r.kind = RecordKind.Clock;
      const time = this.expectNumber("t", "NS");
      if (time < this.clock) this.fail(`t: clock goes backwards (${time} < ${this.clock})`);
      this.clock = time;
      r.time = time;
      this.expectLineEnd("t");
    } else if (this.tokenIs("y")) {
      r.kind = RecordKind.Yield;
      r.time = this.expectNumber("y", "N");
      this.expectLineEnd("y");
    } else if (this.tokenIs("s")) {
      this.parseStack();
      return;
    } else if (this.tokenIs("gc")) {
      r.kind = RecordKind.GC;
      r.forced = true;
      this.expectLineEnd("gc");
    } else if (this.tokenIs("fin")) {
      r.kind = RecordKind.Finalizer;
      this.expectId("fin");
      r.offset = this.nextToken() ? this.tokenNumber("fin", "OFFSET") : 0;
      this.expectLineEnd("fin");
      r.handle = this.liveHandle();
    } else if (this.tokenIs("unfin")) {
      r.kind = RecordKind.Unfinalizer;
      this.expectId("unfin");
      this.expectLineEnd("unfin");
      r.handle = this.liveHandle();
    } else {
      this.fail(`unknown record "${this.tokenText()}"`);
    }
    sink.record(r);
  }

  private parseAlloc(r: TraceRecord): void {
    r.kind = RecordKind.Alloc;
    this.expectId("a");
    r.size = this.expectNumber("a", "SIZE");
    r.address = -1;
    r.flags = 0;
    r.stack = -1;
    r.typeId = -1;
    r.typeKind = TypeKind.Single;
    let seen = 0;
    const bytes = this.bytes;
    while (this.nextToken()) {
      const start = this.tokenStart;
      const end = this.tokenEnd;
      let equals = start;
      while (equals < end && bytes[equals] !== EQUALS) equals++;
      if (equals === end) this.fail(`a: unexpected field "${this.tokenText()}" (expected key=value)`);
      const valueStart = equals + 1;
      if (bytesAre(bytes, start, equals, KEY_TYPE)) {
        r.typeId = this.restOfLineType(valueStart);
        return;
      }
      const bit = bytesAre(bytes, start, equals, KEY_FLAGS)
        ? AllocKey.Flags
        : bytesAre(bytes, start, equals, KEY_STACK)
          ? AllocKey.Stack
          : bytesAre(bytes, start, equals, KEY_KIND)
            ? AllocKey.Kind
            : 0;
      if (bit === 0) this.fail(`a: unknown key "${this.text(start, equals)}=" (expected flags=, stack=, kind= or type=)`);
      if ((seen & bit) !== 0) this.fail(`a: duplicate ${this.text(start, equals)}=`);
      seen |= bit;
      if (valueStart === end) this.fail(`a: empty ${this.text(start, equals)}=`);
      if (bit === AllocKey.Flags) {
        r.flags = this.parseFlags(valueStart);
      } else if (bit === AllocKey.Stack) {
        const id = this.stackOf(bytes, valueStart, end);
        if (id < 0) this.fail(`a: stack=${this.text(valueStart, end)} is not defined by an earlier "s" record`);
        r.stack = id;
      } else {
        const kind = indexOfWord(bytes, valueStart, end, KIND_NAMES);
        if (kind < 0) this.fail(`a: unknown kind=${this.text(valueStart, end)} (expected single, array or chan)`);
        r.typeKind = KIND_VALUES[kind]!;
      }
    }
  }

  /** The comma list of flag names from `from` to the end of the current token. */
  private parseFlags(from: number): number {
    const bytes = this.bytes;
    const end = this.tokenEnd;
    let flags = 0;
    while (from <= end) {
      let to = from;
      while (to < end && bytes[to] !== COMMA) to++;
      const flag = indexOfWord(bytes, from, to, FLAG_NAMES);
      if (flag < 0) this.fail(`a: unknown flag "${this.text(from, to)}" (expected noscan, nozero, nogc, noprof or noinvokegc)`);
      flags |= FLAG_VALUES[flag]!;
      from = to + 1;
    }
    return flags;
  }

  /** `s STACK FRAME;FRAME;...`: frames innermost first, function names only. */
  private parseStack(): void {
    if (!this.nextToken()) this.fail("s: missing STACK");
    const tokenStart = this.tokenStart;
    const tokenEnd = this.tokenEnd;
    if (this.stackOf(this.bytes, tokenStart, tokenEnd) >= 0) this.fail(`s: stack ${this.text(tokenStart, tokenEnd)} is already defined`);
    if (!this.nextToken()) this.fail("s: missing FRAME;FRAME;...");
    const bytes = this.bytes;
    const stacks = this.builder;
    stacks.beginStack();
    let from = this.tokenStart;
    while (from <= this.tokenEnd) {
      let to = from;
      while (to < this.tokenEnd && bytes[to] !== SEMICOLON) to++;
      if (to === from) this.fail(`s: empty frame in stack ${this.text(tokenStart, tokenEnd)}`);
      stacks.addFrameId(stacks.frameFromBytes(bytes, from, to));
      from = to + 1;
    }
    this.expectLineEnd("s");
    const id = stacks.endStack();
    this.stacksDefined++;
    const number = numberedToken(bytes, tokenStart, tokenEnd);
    if (number < 0) {
      this.stackIds.set(this.tokens.get(bytes, tokenStart, tokenEnd), id);
    } else if (number < this.stackByNumber.length) {
      this.stackByNumber[number] = id;
    } else if (number < Math.max(DenseNumberedStacks, 4 * this.stacksDefined)) {
      this.stackByNumber = grown(this.stackByNumber, Math.max(number + 1, this.stackByNumber.length * 2), -1);
      this.stackByNumber[number] = id;
    } else {
      this.sparseStackByNumber.set(number, id);
    }
  }

  /** The stack id a STACK token names, or -1 if no `s` record defined it. */
  private stackOf(bytes: Buffer, start: number, end: number): number {
    const number = numberedToken(bytes, start, end);
    if (number < 0) return this.stackIds.get(this.tokens.get(bytes, start, end)) ?? -1;
    const id = number < this.stackByNumber.length ? this.stackByNumber[number]! : -1;
    if (id >= 0 || this.sparseStackByNumber.size === 0) return id;
    return this.sparseStackByNumber.get(number) ?? -1;
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

  /** The next token is the record's ID (see liveHandle): only its place in the line is kept. */
  private expectId(record: string): void {
    if (!this.nextToken()) this.fail(`${record}: missing ID`);
    this.idStart = this.tokenStart;
    this.idEnd = this.tokenEnd;
  }

  /** The handle of the record's ID, which must name a live object; checked once the line has parsed. */
  private liveHandle(): number {
    const handle = this.ids.find(this.bytes, this.idStart, this.idEnd);
    if (handle < 0) this.fail(`unknown object ${this.text(this.idStart, this.idEnd)} (never allocated, or already freed or dead)`);
    return handle;
  }

  private expectLineEnd(record: string): void {
    if (this.nextToken()) this.fail(`${record}: unexpected field "${this.tokenText()}"`);
  }

  /** The next token as a number (see tokenNumber). */
  private expectNumber(record: string, field: string): number {
    if (!this.nextToken()) this.fail(`${record}: missing ${field}`);
    return this.tokenNumber(record, field);
  }

  private tokenText(): string {
    return this.text(this.tokenStart, this.tokenEnd);
  }

  /** Bytes of the current line decoded, uncached: for messages. */
  private text(start: number, end: number): string {
    return this.bytes.toString("utf8", start, end);
  }

  private tokenIs(word: string): boolean {
    const length = this.tokenEnd - this.tokenStart;
    if (length !== word.length) return false;
    for (let i = 0; i < length; i++) {
      if (this.bytes[this.tokenStart + i] !== word.charCodeAt(i)) return false;
    }
    return true;
  }

  /** The type name from `from` to the end of the line, trailing blanks dropped, interned; consumes the line. */
  private restOfLineType(from: number): number {
    let to = this.lineEnd;
    while (to > from && isBlank(this.bytes[to - 1])) to--;
    if (to === from) this.fail("a: empty type=");
    this.cursor = this.lineEnd;
    return this.types.internBytes(this.bytes, from, to);
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

/** The value of a STACK token that is numbered (see MaxNumberedStack), else -1. */
function numberedToken(bytes: Buffer, start: number, end: number): number {
  const length = end - start;
  if (length === 0 || length > 10 || (length > 1 && bytes[start] === DIGIT_0)) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = bytes[i]! - DIGIT_0;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value < MaxNumberedStack ? value : -1;
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
