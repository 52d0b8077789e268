// Trace records: the one shape both readers (native.ts, golog.ts) hand to the replay engine.
//
// Readers are push parsers: they are fed Buffer chunks and call `sink.record(r)` once per
// record with a record object they reuse, so nothing is allocated per trace line on the hot
// path. A sink copies whatever it keeps.

import { FreeOrigin } from "../free-origin.js";

/** What a record asks the emulated runtime to do. */
export const enum RecordKind {
  /** `a ID SIZE ...` / golog `tracealloc(ADDR, SIZE, ...)`. */
  Alloc = 1,
  /** `f ID`: explicit free (`runtime.free` / `__go_free`), immediate. */
  Free = 2,
  /** `d ID` / golog `tracefree` from a sweep: the object is unreachable from now on. */
  Dead = 3,
  /** `gc` / golog `tracegc()`: a collection point. */
  GC = 4,
  /** `fin ID [OFFSET]`: runtime.SetFinalizer. */
  Finalizer = 5,
  /** `unfin ID`: runtime.SetFinalizer(ID, nil). */
  Unfinalizer = 6,
  /** `t NS`: the emulated clock moves to NS. */
  Clock = 7,
  /** A line matched the `until` pattern: the replay stops here and reports. */
  Until = 8,
  /** `y N`: the program yielded until the background sweeper had passed the cycle's first N spans. */
  Yield = 9,
}

/** TypeInfo kinds, the low two bits of the runtime's `typ` word. */
export const enum TypeKind {
  Single = 0,
  Array = 1,
  Chan = 2,
}

/** Where a golog `tracefree` came from, read off its traceback (golog.ts ORIGIN_BY_FRAME). */
export { FreeOrigin };

/** One parsed record. Fields that a kind does not use keep stale values: read only yours. */
export interface TraceRecord {
  kind: RecordKind;
  /** 1-based line number of the record's first line. */
  line: number;
  /**
   * Object name: the native ID token, or the golog address as lowercase `0x...` text. The
   * native reader makes this string only when it is read (messages): the replay of a native
   * trace names objects by `handle`.
   */
  id: string;
  /**
   * Native records naming an object: the handle its ID holds in the reader's live-ID table
   * (trace/ids.ts), dense and reused once the object is freed or dead. -1 in golog records.
   */
  handle: number;
  /** Alloc: the address the log printed (golog), or -1 when the trace carries none. */
  address: number;
  /** Alloc: requested size (native) or the rounded size the log printed (golog). Dead: logged size. */
  size: number;
  /** Alloc: malloc.h flag bits (runtime/malloc-flags.ts). */
  flags: number;
  /** Alloc: stack id from `stacks` of the reader, or -1. */
  stack: number;
  /** Alloc: Go type name, or null when untyped. A native record's is its typeId's text, made when read. */
  typeName: string | null;
  /**
   * Alloc (native readers): the type name's id in the reader's `types` table, or -1 when
   * untyped; the replay keys types by it. -1 in golog records, which give typeName.
   */
  typeId: number;
  /** Alloc: TypeKind (meaningful when typeName is not null, or when `kind=` was given). */
  typeKind: TypeKind;
  /** Finalizer: byte offset into the object. */
  offset: number;
  /** Clock: nanoseconds since start. Yield: the sweeper's position N. */
  time: number;
  /** Dead/Free (golog): where the free was printed from. */
  origin: FreeOrigin;
  /**
   * Dead (golog), origin GCSweep: the source line of the collector frame that called the
   * sweep, or -1. gc() sweeps twice (mgc0.c, gc): first what the last cycle left unswept,
   * later, for runtime.GC and FreeOSMemory, the whole new cycle; the call site tells which.
   */
  sweepSite: number;
  /**
   * Dead (golog): the sweep that printed it was sweepone's, the one that walks allspans in
   * order (the background sweeper, MHeap_Reclaim's last resort, gc's own sweeps), as opposed
   * to a sweep of a span picked from a list (MCentral_CacheSpan, MHeap_ReclaimList).
   */
  viaSweepone: boolean;
  /** GC (golog): true when the collection was forced by runtime.GC / debug.FreeOSMemory. */
  forced: boolean;
  /** GC (golog): debug.FreeOSMemory's collection, after which every free span is released (mheap.c). */
  freeOSMemory: boolean;
  /** golog: goroutine id of the record's header, or -1. */
  goroutine: number;
  /** Until: the text of the matching line. */
  text: string;
}

/**
 * A record whose `id` text a subclass makes only when it is read (messages): the native
 * readers name objects by handle, and a string per record would cost more than the rest.
 * Its type name is likewise read from its `types` table only when asked for.
 */
export abstract class HandleRecord implements TraceRecord {
  kind = RecordKind.Alloc;
  line = 0;
  handle = -1;
  address = -1;
  size = 0;
  flags = 0;
  stack = -1;
  typeId = -1;
  typeKind = TypeKind.Single;
  offset = 0;
  time = 0;
  origin = FreeOrigin.Unknown;
  sweepSite = -1;
  viaSweepone = false;
  forced = true;
  freeOSMemory = false;
  goroutine = -1;
  text = "";

  abstract get id(): string;
  /** The text of type name `id` (typeId). */
  protected abstract typeText(id: number): string;

  get typeName(): string | null {
    return this.typeId < 0 ? null : this.typeText(this.typeId);
  }
}

export function newRecord(): TraceRecord {
  return {
    kind: RecordKind.Alloc,
    line: 0,
    id: "",
    handle: -1,
    address: -1,
    size: 0,
    flags: 0,
    stack: -1,
    typeName: null,
    typeId: -1,
    typeKind: TypeKind.Single,
    offset: 0,
    time: 0,
    origin: FreeOrigin.Unknown,
    sweepSite: -1,
    viaSweepone: false,
    forced: false,
    freeOSMemory: false,
    goroutine: -1,
    text: "",
  };
}

/** One traceback frame: function name and `file:line` (empty when unknown). */
export interface Frame {
  func: string;
  location: string;
}

export { StackTable, type StackBuilder } from "./stacks.js";
import type { NameTable } from "./names.js";
import type { StackTable } from "./stacks.js";

export interface RecordSink {
  record(r: TraceRecord): void;
}

export type TraceFormat = "native" | "golog";

/** A push parser for one trace format. */
export interface TraceParser {
  readonly format: TraceFormat;
  readonly stacks: StackTable;
  /** The type names records name by typeId (a Go log's records give typeName: its table stays empty). */
  readonly types: NameTable;
  /** Lines consumed so far. */
  readonly lines: number;
  /** Lines that were not part of any record (golog: program output, gctrace lines...). */
  readonly skippedLines: number;
  /** Feed the next chunk; calls sink.record for every complete record in it. */
  push(chunk: Buffer, sink: RecordSink): void;
  /** End of input: flush the last record. */
  end(sink: RecordSink): void;
  /** True once an Until record was emitted: the caller stops feeding. */
  readonly stopped: boolean;
}

/** The most of a detail a message shows: details quote the input, and a line can be 1 MiB. */
const MAX_DETAIL_CHARS = 400;

/**
 * Text from the input as one printable line: control characters (and bidirectional
 * overrides) escaped, so that a trace's bytes cannot move the cursor, clear the screen or
 * reorder what a terminal shows of the message.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`;
  });
}

function shortened(detail: string): string {
  if (detail.length <= MAX_DETAIL_CHARS) return detail;
  // Do not cut a surrogate pair in two.
  const end = /[\ud800-\udbff]/.test(detail[MAX_DETAIL_CHARS - 1]!) ? MAX_DETAIL_CHARS - 1 : MAX_DETAIL_CHARS;
  return `${detail.slice(0, end)}... (${detail.length - end} more characters)`;
}

/** A malformed trace: FILE:LINE: message (one printable line), exit code 2. `detail` is kept as given. */
/**
 * A read error (line 0: the input as a whole) met after `linesDone` complete lines, e.g. a
 * compressed input that breaks off: said at the last line read, which is where it stopped.
 */
export function readErrorAt(e: TraceError, linesDone: number): TraceError {
  if (e.line !== 0 || linesDone === 0) return e;
  return new TraceError(e.file, linesDone, `${e.detail}, after this line (the last complete one)`);
}

export class TraceError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    // Line 0: the file as a whole (it cannot be opened, its compression is broken).
    super(printable(`${file}${line > 0 ? `:${line}` : ""}: ${shortened(detail)}`));
    this.name = "TraceError";
  }
}
