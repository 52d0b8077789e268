// Reader for Go runtime `GODEBUG=allocfreetrace=1` logs (as go1.3.3 malloc.goc runtime·tracealloc/tracefree and mgc0.c runtime·tracegc print them): gc Go 1.3/1.4,
// gccgo, and modern gc (1.5–1.21) forms, interleaved with whatever else the program printed.
//
// A record is a `tracealloc(...)` / `tracefree(...)` / `tracegc()` line, a goroutine header and a
// traceback, closed by an empty line (a tracegc block by the empty line after `end tracegc`).
// Facts from real logs that shape this reader:
// * Program output (`PHASE x`, `MEMSTATS_SNAPSHOT`) sits between records, after the closing
//   empty line, and the next record may start on the very next line with no empty line.
// * `end tracegc` follows the last goroutine's frames directly, with no empty line before it.
// * gccgo prints a frame without a function name as an empty line followed by its `\t:0`
//   location, so an empty line followed by a TAB line does not close a record. Such unnamed
//   frames carry nothing and are dropped.
// * The innermost frame that names a sweep or free entry point tells where a free came from:
//   `MSpan_Sweep < sweepone < MHeap_Reclaim < ... < MCentral_CacheSpan` is a Reclaim,
//   `MSpan_Sweep < MSpan_EnsureSwept < ... SetFinalizer` an EnsureSwept, and
//   `runtime.free < shrinkstack < gc` an explicit free made during a collection.
// tracefree records get no stack (-1): the sweeper's traceback says nothing about the object.
// Lines are classified on their bytes; only the parts a record keeps are decoded, and frame
// function names and locations, which tracebacks repeat endlessly, through StringCaches.

import { NameTable } from "./names.js";
import { LineSplitter, StringCache } from "./lines.js";
import {
  FreeOrigin,
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
import { hex } from "../hex.js";

export interface GologParserOptions {
  /**
   * Stop at the first line outside a record that contains this text (emitting an Until
   * record). Lines inside records are runtime output, not program output, so they are not
   * checked: a marker the program prints always falls between records.
   */
  until?: string;
}

const enum State {
  /** Between records: program output. */
  Outside,
  /** Inside a tracealloc/tracefree record. */
  Record,
  /** A tracealloc/tracefree record saw an empty line: it ends unless a TAB line follows. */
  RecordBlank,
  /** Inside a tracegc block (empty lines separate goroutines). */
  GCBlock,
  /** Saw `end tracegc`: the block ends, with the empty line that follows if any. */
  GCEnd,
}

const TAB = 0x09;
const SPACE = 0x20;
const COLON = 0x3a;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const LOWER_T = 0x74;

const TRACEALLOC = Buffer.from("tracealloc(");
const TRACEFREE = Buffer.from("tracefree(");
const TRACEGC = Buffer.from("tracegc()");
const GOROUTINE = Buffer.from("goroutine ");
const CREATED_BY = Buffer.from("created by ");
const END_TRACEGC = Buffer.from("end tracegc");
const ELIDED = Buffer.from("...");

/** Old-style kind words of `tracealloc(A, S, KIND[ of TYPE])` (go1.3.3 mprof.goc runtime·tracealloc: `typ & 3`). */
const KIND_WORDS: ReadonlyArray<readonly [string, TypeKind]> = [
  ["single object", TypeKind.Single],
  ["array", TypeKind.Array],
  ["channel", TypeKind.Chan],
];

/**
 * Frames that tell where a free came from, by normalised name (see frameKey). Covers gc 1.3
 * (`runtime.MCentral_CacheSpan`), gccgo C (`runtime_MCentral_CacheSpan`), gc 1.5+
 * (`runtime.(*mcentral).cacheSpan`) and gccgo 12 (`runtime.mcentral.cacheSpan`) spellings.
 */
const ORIGIN_BY_FRAME: ReadonlyMap<string, FreeOrigin> = new Map([
  ["mcentral.cachespan", FreeOrigin.CacheSpan],
  ["mheap.reclaim", FreeOrigin.Reclaim],
  ["mspan.ensureswept", FreeOrigin.EnsureSwept],
  ["bgsweep", FreeOrigin.BgSweep],
  // The collector itself: gc/mgc (1.3-era), runtime.GC's eager sweep, modern mark termination.
  ["gc", FreeOrigin.GCSweep],
  ["mgc", FreeOrigin.GCSweep],
  ["gcstart", FreeOrigin.GCSweep],
  ["gcmarktermination", FreeOrigin.GCSweep],
  ["finishsweep.m", FreeOrigin.GCSweep],
  // runtime.free, runtime_free, __go_free.
  ["free", FreeOrigin.Explicit],
  ["go.free", FreeOrigin.Explicit],
]);

/** Cache sizes for frame text: a log's distinct functions and call sites number in the thousands. */
const FUNC_CACHE_SLOTS = 1 << 12;
const LOCATION_CACHE_SLOTS = 1 << 14;
const FRAME_TEXT_BYTES = 128;

/** Sweep functions: a sweep on goroutine 0 with no other clue runs inside a collection. */
const SWEEP_FRAMES: ReadonlySet<string> = new Set(["mspan.sweep", "sweepone", "sweeplocked.sweep"]);

/** Lower-case, receiver syntax and closure suffixes removed, `_` as `.`, no `runtime.` prefix. */
function frameKey(func: string): string {
  return func
    .toLowerCase()
    .replace(/\(\*|\)/g, "")
    .replace(/[._]+/g, ".")
    .replace(/^\./, "")
    .replace(/(\.func\d+)+$/, "")
    .replace(/^runtime\./, "");
}

/** A collection is forced when the triggering goroutine is inside runtime.GC or FreeOSMemory. */
function isForcingFrame(func: string): boolean {
  return func === "runtime.GC" || func === "runtime_GC" || isFreeOSMemoryFrame(func);
}

/** debug.FreeOSMemory: its collection is followed by a release of every free span. */
function isFreeOSMemoryFrame(func: string): boolean {
  return func.toLowerCase().endsWith("freeosmemory");
}

/** End of the function name of a frame line: before a final `(args)` (gc), else the line end (gccgo). */
function functionEnd(bytes: Buffer, start: number, end: number): number {
  if (bytes[end - 1] !== CLOSE_PAREN) return end;
  let depth = 0;
  for (let i = end - 1; i >= start; i--) {
    if (bytes[i] === CLOSE_PAREN) depth++;
    else if (bytes[i] === OPEN_PAREN && --depth === 0) return i;
  }
  return end;
}

/** End of `file:line` in a location line: before ` +0x..`, ` fp=.. sp=..`, ` pc=..`. */
function locationEnd(bytes: Buffer, start: number, end: number): number {
  let colon = end - 1;
  while (colon >= start && bytes[colon] !== COLON) colon--;
  if (colon < start) return end;
  let space = colon;
  while (space < end && bytes[space] !== SPACE) space++;
  return space;
}

/** The line number of a `file:line` location (-1 when it has none). */
function locationLineNumber(bytes: Buffer, start: number, end: number): number {
  let n = 0;
  let digits = 0;
  let scale = 1;
  for (let i = end - 1; i >= start; i--) {
    const d = bytes[i]! - 48;
    if (d < 0 || d > 9) return bytes[i] === COLON && digits > 0 ? n : -1;
    n += d * scale;
    scale *= 10;
    digits++;
  }
  return -1;
}

/**
 * gccgo 12 writes package-qualified names as `\tPKGPATH\tNAME`: keep NAME, as the other runtimes
 * print it (`*\truntime\truntime.p` → `*runtime.p`).
 */
function normaliseTypeName(text: string): string {
  let result = text;
  for (let open = result.indexOf("\t"); open >= 0; open = result.indexOf("\t", open)) {
    const close = result.indexOf("\t", open + 1);
    if (close < 0) break;
    result = result.slice(0, open) + result.slice(close + 1);
  }
  return result;
}

/** `0x` + lowercase or uppercase hex digits → a safe integer, or -1. */
function parseHex(text: string): number {
  if (text.length < 3 || !text.startsWith("0x")) return -1;
  let value = 0;
  for (let i = 2; i < text.length; i++) {
    const c = text.charCodeAt(i) | 0x20;
    let digit: number;
    if (c >= DIGIT_0 && c <= DIGIT_9) digit = c - DIGIT_0;
    else if (c >= 0x61 && c <= 0x66) digit = c - 0x61 + 10;
    else return -1;
    value = value * 16 + digit;
    if (value > Number.MAX_SAFE_INTEGER) return -1;
  }
  return value;
}

/** The kind of record a tracealloc/tracefree/tracegc line starts, or null for any other line. */
function recordStart(bytes: Buffer, start: number, end: number): RecordKind | null {
  if (bytes[start] !== LOWER_T) return null;
  if (hasPrefix(bytes, start, end, TRACEALLOC)) return RecordKind.Alloc;
  if (hasPrefix(bytes, start, end, TRACEFREE)) return RecordKind.Dead;
  if (end - start === TRACEGC.length && hasPrefix(bytes, start, end, TRACEGC)) return RecordKind.GC;
  return null;
}

function hasPrefix(bytes: Buffer, start: number, end: number, prefix: Buffer): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (bytes[start + i] !== prefix[i]) return false;
  }
  return true;
}

export class GologParser implements TraceParser {
  readonly format = "golog" as const;
  readonly stacks = new StackTable();
  readonly types = new NameTable();
  skippedLines = 0;
  stopped = false;

  private readonly splitter: LineSplitter;
  private readonly until: Buffer | null;
  private readonly record: TraceRecord = newRecord();
  private state = State.Outside;

  // The record under construction.
  private kind = RecordKind.Alloc;
  private startLine = 0;
  private id = "";
  private address = 0;
  private size = 0;
  private typeName: string | null = null;
  private typeKind = TypeKind.Single;
  private goroutine = -1;
  /** tracegc: goroutine headers seen so far in the block. */
  private headers = 0;
  /** Frames are kept for the stack: tracealloc, and the first goroutine of tracegc. */
  private keepFrames = false;
  /**
   * Ids (in `frames`) of the kept frames, as 32-bit words over `stackKeyBytes`, whose bytes
   * read as latin1 are the stack's key in `stackIds`: one flat string per stack, made with one
   * call (a key grown with `+=` per frame would stay a rope of one string per frame).
   */
  private stackKeyBytes = Buffer.alloc(256);
  private stackFrameIds = new Uint32Array(this.stackKeyBytes.buffer, this.stackKeyBytes.byteOffset, 64);
  private frameCount = 0;
  /** Every distinct frame once, so that stacks share Frame objects and strings. */
  private readonly frames: Frame[] = [];
  private readonly frameIds = new Map<string, Map<string, number>>();
  /** Decoded function names and `file:line` locations of frame lines. */
  private readonly funcNames = new StringCache(FUNC_CACHE_SLOTS, FRAME_TEXT_BYTES, "utf8");
  private readonly locations = new StringCache(LOCATION_CACHE_SLOTS, FRAME_TEXT_BYTES, "utf8");
  /** Stack key → id in `stacks`, so a known stack costs one short lookup. */
  private readonly stackIds = new Map<string, number>();
  /** A function line waiting for its location line; its text when it is needed. */
  private funcPending = false;
  private pendingFunc = "";
  /** The next TAB line is the location of a `created by` line, not of a frame. */
  private skipLocation = false;
  private origin = FreeOrigin.Unknown;
  private sweepSite = -1;
  private viaSweepone = false;
  private originFound = false;
  private callerChecked = false;
  private sawSweep = false;
  private forced = false;
  private freeOSMemory = false;

  constructor(
    readonly file: string,
    options: GologParserOptions = {},
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
    if (this.stopped || this.state === State.Outside) return;
    this.state = State.Outside;
    this.emit(sink);
  }

  private parseLine(sink: RecordSink): void {
    const { bytes, start, end } = this.splitter;
    switch (this.state) {
      case State.Record:
      case State.GCBlock:
        this.insideLine(bytes, start, end, sink);
        return;
      case State.RecordBlank:
        if (end > start && bytes[start] === TAB) {
          // The location of a gccgo frame with no name: the record goes on.
          this.state = State.Record;
          return;
        }
        this.state = State.Outside;
        this.emit(sink);
        break;
      case State.GCEnd:
        this.state = State.Outside;
        this.emit(sink);
        if (end === start) return;
        break;
      case State.Outside:
        break;
    }
    this.outsideLine(bytes, start, end, sink);
  }

  private outsideLine(bytes: Buffer, start: number, end: number, sink: RecordSink): void {
    if (this.until !== null && bytes.subarray(start, end).includes(this.until)) {
      const r = this.record;
      r.kind = RecordKind.Until;
      r.line = this.splitter.lineNumber;
      r.text = bytes.toString("utf8", start, end);
      this.stopped = true;
      sink.record(r);
      return;
    }
    const kind = recordStart(bytes, start, end);
    if (kind === null) this.skippedLines++;
    else this.startRecord(kind, bytes.toString("utf8", start, end));
  }

  private startRecord(kind: RecordKind, text: string): void {
    this.kind = kind;
    if (kind === RecordKind.Alloc) {
      this.parseTraceAlloc(text);
      this.keepFrames = true;
      this.state = State.Record;
    } else if (kind === RecordKind.Dead) {
      this.parseTraceFree(text);
      this.keepFrames = false;
      this.state = State.Record;
    } else {
      this.keepFrames = false;
      this.state = State.GCBlock;
    }
    this.startLine = this.splitter.lineNumber;
    this.goroutine = -1;
    this.headers = 0;
    this.frameCount = 0;
    this.funcPending = false;
    this.skipLocation = false;
    this.origin = FreeOrigin.Unknown;
    this.sweepSite = -1;
    this.viaSweepone = false;
    this.originFound = false;
    this.callerChecked = false;
    this.sawSweep = false;
    this.forced = false;
    this.freeOSMemory = false;
  }

  /** `tracealloc(ADDR, SIZE)`, `tracealloc(ADDR, SIZE, TYPE)`, `tracealloc(ADDR, SIZE, KIND[ of TYPE])`. */
  private parseTraceAlloc(text: string): void {
    const args = this.arguments(text, "tracealloc");
    const afterAddress = args.indexOf(", ");
    if (afterAddress < 0) this.fail(`malformed tracealloc line: ${text}`);
    const afterSize = args.indexOf(", ", afterAddress + 2);
    const sizeEnd = afterSize < 0 ? args.length : afterSize;
    this.parseAddressAndSize(args.slice(0, afterAddress), args.slice(afterAddress + 2, sizeEnd), text);
    this.typeKind = TypeKind.Single;
    this.typeName = null;
    if (afterSize < 0) return;
    const typeText = args.slice(afterSize + 2);
    for (const [word, kind] of KIND_WORDS) {
      if (typeText === word || typeText.startsWith(word + " of ")) {
        this.typeKind = kind;
        if (typeText !== word) this.typeName = normaliseTypeName(typeText.slice(word.length + 4));
        return;
      }
    }
    this.typeName = normaliseTypeName(typeText);
  }

  /** `tracefree(ADDR, SIZE)`. */
  private parseTraceFree(text: string): void {
    const args = this.arguments(text, "tracefree");
    const comma = args.indexOf(", ");
    if (comma < 0) this.fail(`malformed tracefree line: ${text}`);
    this.parseAddressAndSize(args.slice(0, comma), args.slice(comma + 2), text);
  }

  /** The text between `NAME(` and the final `)`. */
  private arguments(text: string, name: string): string {
    if (!text.endsWith(")")) this.fail(`malformed ${name} line: ${text}`);
    return text.slice(name.length + 1, -1);
  }

  private parseAddressAndSize(addressText: string, sizeText: string, text: string): void {
    const address = parseHex(addressText);
    const size = parseHex(sizeText);
    if (address < 0) this.fail(`bad address "${addressText}" in: ${text}`);
    if (size < 0) this.fail(`bad size "${sizeText}" in: ${text}`);
    this.address = address;
    // A log names objects by address: the canonical text, however the runtime padded it.
    this.id = hex(address);
    this.size = size;
  }

  /** A line inside a record or tracegc block. */
  private insideLine(bytes: Buffer, start: number, end: number, sink: RecordSink): void {
    if (end > start && bytes[start] === TAB) {
      this.locationLine(bytes, start, end);
      return;
    }
    this.dropStrayFunction();
    if (end === start) {
      if (this.state === State.Record) this.state = State.RecordBlank;
      return;
    }
    const nextKind = recordStart(bytes, start, end);
    if (nextKind !== null) {
      // A record that was not closed by an empty line (interrupted output): close it here.
      this.state = State.Outside;
      this.emit(sink);
      this.startRecord(nextKind, bytes.toString("utf8", start, end));
      return;
    }
    if (hasPrefix(bytes, start, end, GOROUTINE) && this.goroutineHeader(bytes, start + GOROUTINE.length, end)) {
      return;
    }
    if (hasPrefix(bytes, start, end, CREATED_BY)) {
      this.skipLocation = true;
      return;
    }
    if (hasPrefix(bytes, start, end, ELIDED)) return;
    const isEnd = end - start === END_TRACEGC.length && hasPrefix(bytes, start, end, END_TRACEGC);
    if (isEnd && this.state === State.GCBlock) {
      this.state = State.GCEnd;
      return;
    }
    this.funcPending = true;
    if (this.keepFrames || (this.kind === RecordKind.Dead && this.classifying())) {
      this.pendingFunc = this.funcNames.get(bytes, start, functionEnd(bytes, start, end));
    }
  }

  /** A function line with no location line after it was not a frame but stray output. */
  private dropStrayFunction(): void {
    if (!this.funcPending) return;
    this.funcPending = false;
    this.skippedLines++;
  }

  /** `goroutine N [status...]:`; false when the digits are missing (then it is a frame line). */
  private goroutineHeader(bytes: Buffer, from: number, end: number): boolean {
    let id = 0;
    let i = from;
    for (; i < end && bytes[i] >= DIGIT_0 && bytes[i] <= DIGIT_9; i++) id = id * 10 + bytes[i] - DIGIT_0;
    if (i === from) return false;
    this.skipLocation = false;
    if (this.kind === RecordKind.GC) {
      this.headers++;
      this.keepFrames = this.headers === 1;
    }
    if (this.goroutine < 0) this.goroutine = id;
    return true;
  }

  private locationLine(bytes: Buffer, start: number, end: number): void {
    if (this.skipLocation) {
      this.skipLocation = false;
      return;
    }
    // Without a pending function this is an unnamed frame's location or a note such as
    // `\tgoroutine running on other thread; stack unavailable`.
    if (!this.funcPending) return;
    this.funcPending = false;
    if (this.keepFrames) {
      const location = this.locations.get(bytes, start + 1, locationEnd(bytes, start + 1, end));
      const id = this.frameId(this.pendingFunc, location === ":0" ? "" : location);
      if (this.frameCount === this.stackFrameIds.length) this.growStackKey();
      this.stackFrameIds[this.frameCount++] = id;
      if (this.kind === RecordKind.GC && isForcingFrame(this.pendingFunc)) {
        this.forced = true;
        if (isFreeOSMemoryFrame(this.pendingFunc)) this.freeOSMemory = true;
      }
    } else if (this.kind === RecordKind.Dead && this.classifying()) {
      this.classifyFreeFrame(this.pendingFunc);
      if (this.originFound && this.origin === FreeOrigin.GCSweep && this.sweepSite < 0) {
        this.sweepSite = locationLineNumber(bytes, start + 1, locationEnd(bytes, start + 1, end));
      }
    }
  }

  /** Still reading a free's frames: no origin yet, or an explicit free whose caller may be shrinkstack. */
  private classifying(): boolean {
    return !this.originFound || (this.origin === FreeOrigin.Explicit && !this.callerChecked);
  }

  /** Frames arrive innermost first: the first one that names an entry point decides. */
  private classifyFreeFrame(func: string): void {
    const key = frameKey(func);
    if (this.originFound) {
      // The frame calling runtime.free: gc 1.3's in-place stack shrink frees half a split span.
      this.callerChecked = true;
      if (key === "shrinkstack") this.origin = FreeOrigin.ShrinkStack;
      return;
    }
    const origin = ORIGIN_BY_FRAME.get(key);
    if (origin !== undefined) {
      this.origin = origin;
      this.originFound = true;
    } else if (SWEEP_FRAMES.has(key)) {
      this.sawSweep = true;
      if (key === "sweepone") this.viaSweepone = true;
    }
  }

  /** Without a telling frame, a sweep on goroutine 0 (g0) is one a collection runs. */
  private freeOrigin(): FreeOrigin {
    if (this.originFound) return this.origin;
    return this.sawSweep && this.goroutine === 0 ? FreeOrigin.GCSweep : FreeOrigin.Unknown;
  }

  private emit(sink: RecordSink): void {
    this.dropStrayFunction();
    const r = this.record;
    r.kind = this.kind;
    r.line = this.startLine;
    r.goroutine = this.goroutine;
    switch (this.kind) {
      case RecordKind.Alloc:
        r.id = this.id;
        r.address = this.address;
        r.size = this.size;
        r.flags = 0;
        r.typeName = this.typeName;
        r.typeKind = this.typeKind;
        r.stack = this.internStack();
        break;
      case RecordKind.Dead:
        r.id = this.id;
        r.address = this.address;
        r.size = this.size;
        r.stack = -1;
        r.origin = this.freeOrigin();
        r.sweepSite = this.sweepSite;
        r.viaSweepone = this.viaSweepone;
        break;
      default:
        r.forced = this.forced;
        r.freeOSMemory = this.freeOSMemory;
        r.stack = this.internStack();
        break;
    }
    sink.record(r);
  }

  private frameId(func: string, location: string): number {
    let byLocation = this.frameIds.get(func);
    if (byLocation === undefined) {
      byLocation = new Map();
      this.frameIds.set(func, byLocation);
    }
    let id = byLocation.get(location);
    if (id === undefined) {
      id = this.frames.length;
      this.frames.push({ func, location });
      byLocation.set(location, id);
    }
    return id;
  }

  private growStackKey(): void {
    const bytes = Buffer.alloc(this.stackKeyBytes.length * 2);
    this.stackKeyBytes.copy(bytes);
    this.stackKeyBytes = bytes;
    this.stackFrameIds = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  }

  private internStack(): number {
    const key = this.stackKeyBytes.toString("latin1", 0, 4 * this.frameCount);
    const known = this.stackIds.get(key);
    if (known !== undefined) return known;
    const frames = new Array<Frame>(this.frameCount);
    for (let i = 0; i < this.frameCount; i++) frames[i] = this.frames[this.stackFrameIds[i]!]!;
    const id = this.stacks.intern(frames);
    this.stackIds.set(key, id);
    return id;
  }

  private fail(message: string): never {
    throw new TraceError(this.file, this.splitter.lineNumber, message);
  }
}
