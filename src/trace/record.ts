// Trace records: the one shape both readers (native.ts, golog.ts) hand to the replay engine.
//
// Readers are push parsers: they are fed Buffer chunks and call `sink.record(r)` once per
// record with a record object they reuse, so nothing is allocated per trace line on the hot
// path. A sink copies whatever it keeps.

import { FreeOrigin } from "../free-origin.js";
import { grown } from "../typed-arrays.js";

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
  /** Alloc: Go type name, or null when untyped. */
  typeName: string | null;
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
 */
export abstract class HandleRecord implements TraceRecord {
  kind = RecordKind.Alloc;
  line = 0;
  handle = -1;
  address = -1;
  size = 0;
  flags = 0;
  stack = -1;
  typeName: string | null = null;
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

/**
 * Interned call stacks: the same frame list always gets the same id (ids start at 0).
 * Frames are interned too (one Frame object per distinct function and location) and a stack
 * is a run of frame ids in one flat array, so memory grows with distinct frames and stacks,
 * not with their text (deep Go tracebacks repeat the same frames) nor with one object per
 * frame of every stack.
 */
export class StackTable {
  private readonly frameIds = new Map<string, number>();
  private readonly frameList: Frame[] = [];
  /** A stack's key: its frame ids, comma-joined. */
  private readonly byKey = new Map<string, number>();
  /** Stack i's frame ids are flat[start[i] .. start[i + 1]). */
  private start = new Int32Array(1024);
  private flat = new Int32Array(4096);
  private count = 0;

  intern(frames: readonly Frame[]): number {
    const n = frames.length;
    const at = this.start[this.count]!;
    if (at + n > this.flat.length) this.flat = grown(this.flat, Math.max(2 * this.flat.length, at + n));
    const flat = this.flat;
    for (let i = 0; i < n; i++) {
      const frame = frames[i]!;
      const text = frame.func + "\u0000" + frame.location;
      let id = this.frameIds.get(text);
      if (id === undefined) {
        id = this.frameList.length;
        this.frameIds.set(text, id);
        this.frameList.push({ func: frame.func, location: frame.location });
      }
      flat[at + i] = id;
    }
    // join makes one flat string; `key += ...` per frame would keep a rope node per frame.
    const key = flat.subarray(at, at + n).join(",");
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    const id = this.count++;
    if (this.count + 1 > this.start.length) this.start = grown(this.start, 2 * this.start.length);
    this.start[this.count] = at + n;
    this.byKey.set(key, id);
    return id;
  }

  /** The frames of a stack, innermost first (a new array; the Frame objects are shared). */
  frames(id: number): readonly Frame[] {
    if (id < 0 || id >= this.count) return [];
    const out: Frame[] = [];
    for (let i = this.start[id]!; i < this.start[id + 1]!; i++) out.push(this.frameList[this.flat[i]!]!);
    return out;
  }

  /** How many frames a stack has (0 for an unknown id). */
  depth(id: number): number {
    return id < 0 || id >= this.count ? 0 : this.start[id + 1]! - this.start[id]!;
  }

  get size(): number {
    return this.count;
  }
}

export interface RecordSink {
  record(r: TraceRecord): void;
}

export type TraceFormat = "native" | "golog";

/** A push parser for one trace format. */
export interface TraceParser {
  readonly format: TraceFormat;
  readonly stacks: StackTable;
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
