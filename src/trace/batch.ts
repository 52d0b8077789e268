// Native records in flat typed arrays, so that the reader can run on its own thread
// (trace/parse-worker.ts) and hand the replay thousands of records per message, transferred,
// not copied. BatchWriter is the reader's sink; BatchReader feeds the records back, in order,
// to the replay's sink, as the reader would have on the same thread.
//
// A batch also carries what the other thread needs to read the records, and the replay's
// thread interns it, once: the reader thread keeps nothing that grows with the trace but its
// table of live IDs and its map of STACK names.
//
// - The stacks the trace defined (StackDefinitions): the batch's frame names, each once, as
//   bytes, and each `s` record as its frames. Records name a stack by the number of its
//   definition; the replay's StackTable interns each definition where the reader read it,
//   before the first record that uses it, and maps its number to the stack's id, so the ids
//   are those one thread gives (two definitions of the same frames are one stack).
// - The type names its records use, as bytes: the reader's type table holds one batch's
//   names (BatchWriter clears it with each batch) and the replay interns them, in order of
//   first use, as one thread would have.
//
// Strings travel in the message beside the arrays: `until` text and the rare IDs that are
// not numbers.

import { numericIdText } from "./ids.js";
import type { NativeParser } from "./native.js";
import { NameTable, type NameDelta } from "./names.js";
import { HandleRecord, RecordKind, StackTable, type RecordSink, type StackBuilder, type TraceRecord } from "./record.js";
import { grown } from "../typed-arrays.js";

/** Batch entries that are not records (RecordKind values stay below these). */
const enum Entry {
  /** Stacks the trace defined: stack = how many definitions there are now (the batch's `stacks` has the new ones). */
  Stacks = 100,
}

// Per entry: F64 numbers (sizes, times, keys, lines stay exact doubles), I32 small integers.
const F64_FIELDS = 3;
const F64_VALUE = 0; // Alloc: size; Clock: time; Yield: position; Finalizer: offset
const F64_ID_KEY = 1; // numericIdKey of the ID, NaN when I32_STRING holds its text
const F64_LINE = 2;
const I32_FIELDS = 7;
const I32_KIND = 0;
const I32_HANDLE = 1;
const I32_FLAGS = 2;
const I32_STACK = 3;
const I32_TYPE = 4; // type name id, -1 for none
const I32_TYPE_KIND_ORIGIN = 5; // Alloc: TypeKind; Dead/Free: FreeOrigin
const I32_STRING = 6; // index in strings, or -1

/** A batch as it crosses threads: `count` entries, the arrays' buffers are transferred. */
export interface Batch {
  count: number;
  f64: Float64Array<ArrayBuffer>;
  i32: Int32Array<ArrayBuffer>;
  strings: string[];
  /** The stacks defined in this batch (interned at Stacks entries). */
  stacks: StackDefinitionBatch;
  /** The type names this batch's records use: their typeId indexes these. */
  types: NameDelta;
}

/** A batch of no entries (a reader that failed before it had a parser). */
export function emptyBatch(): Batch {
  const none = (): Int32Array<ArrayBuffer> => new Int32Array(0);
  const names = (): NameDelta => ({ bytes: new Uint8Array(0), lengths: none(), tags: none() });
  const stacks: StackDefinitionBatch = { frames: names(), first: 0, lengths: none(), frameIds: none() };
  return { count: 0, f64: new Float64Array(0), i32: new Int32Array(0), strings: [], stacks, types: names() };
}

/** The buffers a batch's message transfers. */
export function batchTransfers(batch: Batch): ArrayBuffer[] {
  const names = (d: NameDelta): ArrayBuffer[] => [d.bytes.buffer, d.lengths.buffer, d.tags.buffer];
  const s = batch.stacks;
  return [batch.f64.buffer, batch.i32.buffer, ...names(s.frames), s.lengths.buffer, s.frameIds.buffer, ...names(batch.types)];
}

/** One batch's stack definitions (see StackDefinitions.take). */
export interface StackDefinitionBatch {
  /** The frame names the definitions use: their frame ids index these. */
  frames: NameDelta;
  /** The number of the first definition. */
  first: number;
  /** Per definition, its number of frames; their frame ids end to end in frameIds. */
  lengths: Int32Array<ArrayBuffer>;
  frameIds: Int32Array<ArrayBuffer>;
}

/**
 * The reader thread's StackBuilder: it keeps the stacks defined since the last batch was
 * taken, frame names interned per batch, and names a stack by the number of its definition
 * (0, 1, 2, ... over the whole trace). The replay's thread interns them (BatchReader).
 */
export class StackDefinitions implements StackBuilder {
  private readonly frames = new NameTable();
  private lengths = new Int32Array(1024);
  private frameIds = new Int32Array(4096);
  /** Definitions in this batch, their frames, and definitions before it. */
  private count = 0;
  private frameCount = 0;
  private first = 0;
  private stackStart = 0;

  /** Definitions so far. */
  get size(): number {
    return this.first + this.count;
  }

  frameFromBytes(bytes: Uint8Array, start: number, end: number): number {
    return this.frames.internBytes(bytes, start, end);
  }

  beginStack(): void {
    this.frameCount = this.stackStart;
  }

  addFrameId(frame: number): void {
    if (this.frameCount === this.frameIds.length) this.frameIds = grown(this.frameIds, 2 * this.frameIds.length);
    this.frameIds[this.frameCount++] = frame;
  }

  endStack(): number {
    if (this.count === this.lengths.length) this.lengths = grown(this.lengths, 2 * this.lengths.length);
    this.lengths[this.count++] = this.frameCount - this.stackStart;
    this.stackStart = this.frameCount;
    return this.first + this.count - 1;
  }

  /** This batch's definitions; the next batch starts empty. */
  take(): StackDefinitionBatch {
    const batch: StackDefinitionBatch = {
      frames: this.frames.delta(),
      first: this.first,
      lengths: this.lengths.slice(0, this.count),
      frameIds: this.frameIds.slice(0, this.stackStart),
    };
    this.frames.clear();
    this.first += this.count;
    this.count = 0;
    this.frameCount = 0;
    this.stackStart = 0;
    return batch;
  }
}

/** Spare arrays a consumer has handed back, for the next batch. */
export interface BatchArrays {
  f64: Float64Array<ArrayBuffer>;
  i32: Int32Array<ArrayBuffer>;
}

/** Collects the records a NativeParser emits into batches. */
export class BatchWriter implements RecordSink {
  count = 0;
  private f64: Float64Array<ArrayBuffer>;
  private i32: Int32Array<ArrayBuffer>;
  private strings: string[] = [];
  /** Stack definitions announced by a Stacks entry. */
  private stacksSent = 0;

  /** `stacks`: the parser's stack builder. */
  constructor(
    private readonly parser: NativeParser,
    private readonly stacks: StackDefinitions,
    private readonly capacity: number,
  ) {
    this.f64 = new Float64Array(capacity * F64_FIELDS);
    this.i32 = new Int32Array(capacity * I32_FIELDS);
  }

  record(r: TraceRecord): void {
    if (this.stacksSent !== this.stacks.size) this.sendNewStacks();
    const kind = r.kind;
    const handle = r.handle;
    const key = handle >= 0 ? this.parser.idKey(handle) : Number.NaN;
    // Text IDs and `until` text travel as strings; fields a kind does not use are left as they are.
    const string = kind === RecordKind.Until ? this.string(r.text) : key !== key && handle >= 0 ? this.string(r.id) : -1;
    const at = this.count++;
    if (at * I32_FIELDS === this.i32.length) this.grow();
    const i = at * I32_FIELDS;
    const i32 = this.i32;
    i32[i + I32_KIND] = kind;
    i32[i + I32_HANDLE] = handle;
    i32[i + I32_FLAGS] = r.flags;
    i32[i + I32_STACK] = r.stack;
    i32[i + I32_TYPE] = kind === RecordKind.Alloc ? r.typeId : -1;
    i32[i + I32_TYPE_KIND_ORIGIN] = kind === RecordKind.Alloc ? r.typeKind : r.origin;
    i32[i + I32_STRING] = string;
    const f = at * F64_FIELDS;
    const f64 = this.f64;
    f64[f + F64_VALUE] = kind === RecordKind.Alloc ? r.size : kind === RecordKind.Clock || kind === RecordKind.Yield ? r.time : r.offset;
    f64[f + F64_ID_KEY] = key;
    f64[f + F64_LINE] = r.line;
  }

  /** Stacks the parser defined since the last record (also called before a batch is taken). */
  sendNewStacks(): void {
    const size = this.stacks.size;
    if (this.stacksSent === size) return;
    this.stacksSent = size;
    const at = this.entry(Entry.Stacks, 0);
    this.i32[at * I32_FIELDS + I32_STACK] = size;
  }

  /** The entries so far as a batch; the next ones go to `spare` arrays (or new ones). */
  take(spare: BatchArrays | undefined): Batch {
    this.sendNewStacks();
    const stacks = this.stacks.take();
    const types = this.parser.types.delta();
    this.parser.types.clear();
    const batch: Batch = { count: this.count, f64: this.f64, i32: this.i32, strings: this.strings, stacks, types };
    const fits = spare !== undefined && spare.i32.length >= this.capacity * I32_FIELDS;
    this.f64 = fits ? spare.f64 : new Float64Array(this.capacity * F64_FIELDS);
    this.i32 = fits ? spare.i32 : new Int32Array(this.capacity * I32_FIELDS);
    this.strings = [];
    this.count = 0;
    return batch;
  }

  /** A new entry of `kind` that is not a record (fields not set by the caller are -1 or NaN); returns its index. */
  private entry(kind: number, line: number): number {
    const at = this.count++;
    if (at * I32_FIELDS === this.i32.length) this.grow();
    const i = at * I32_FIELDS;
    this.i32.fill(-1, i, i + I32_FIELDS);
    this.i32[i + I32_KIND] = kind;
    this.f64[at * F64_FIELDS + F64_ID_KEY] = Number.NaN;
    this.f64[at * F64_FIELDS + F64_LINE] = line;
    return at;
  }

  /** One input chunk can hold more records than a batch: the batch grows for it. */
  private grow(): void {
    this.f64 = grown(this.f64, this.f64.length * 2);
    this.i32 = grown(this.i32, this.i32.length * 2);
  }

  private string(text: string): number {
    this.strings.push(text);
    return this.strings.length - 1;
  }
}

/** A record read back from a batch: its ID text is made only when read (messages). */
class BatchRecord extends HandleRecord {
  idKey = Number.NaN;
  idText = "";

  readonly #types: NameTable;

  constructor(types: NameTable) {
    super();
    this.#types = types;
  }

  protected typeText(id: number): string {
    return this.#types.text(id);
  }

  get id(): string {
    if (this.handle < 0) return "";
    return this.idKey === this.idKey ? numericIdText(this.idKey) : this.idText;
  }
}

/** Feeds the records of successive batches to a sink, rebuilding stacks and type names. */
export class BatchReader {
  private readonly record: BatchRecord;
  /** Stack definition number → id in `stacks`. */
  private stackOf = new Int32Array(1024);
  private definitions = 0;
  /** A definition's frames, as ids in `stacks`. */
  private frames = new Int32Array(64);
  /** An Until record was read: the reader stopped there. */
  sawUntil = false;
  /** Line of the last record fed to the sink. */
  line = 0;

  constructor(
    readonly stacks: StackTable,
    readonly types: NameTable,
  ) {
    this.record = new BatchRecord(types);
  }

  read(batch: Batch, sink: RecordSink): void {
    const { f64, i32, strings } = batch;
    const defined = batch.stacks;
    if (defined.first !== this.definitions) throw new Error(`stack definition ${defined.first} of the reader thread read as ${this.definitions}`);
    const frameIds = this.stacks.internFrames(defined.frames);
    let definedAt = 0;
    const typeIds = this.types.internAll(batch.types);
    const r = this.record;
    for (let at = 0; at < batch.count; at++) {
      const i = at * I32_FIELDS;
      const f = at * F64_FIELDS;
      const kind = i32[i + I32_KIND]!;
      const string = i32[i + I32_STRING]!;
      if (kind === Entry.Stacks) {
        const size = i32[i + I32_STACK]!;
        while (this.definitions < size) {
          const length = defined.lengths[this.definitions - defined.first]!;
          if (length > this.frames.length) this.frames = new Int32Array(Math.max(length, 2 * this.frames.length));
          for (let k = 0; k < length; k++) this.frames[k] = frameIds[defined.frameIds[definedAt + k]!]!;
          definedAt += length;
          if (this.definitions === this.stackOf.length) this.stackOf = grown(this.stackOf, 2 * this.stackOf.length);
          this.stackOf[this.definitions++] = this.stacks.internStack(this.frames, 0, length);
        }
        continue;
      }
      r.kind = kind;
      r.line = this.line = f64[f + F64_LINE]!;
      r.handle = i32[i + I32_HANDLE]!;
      r.idKey = f64[f + F64_ID_KEY]!;
      if (string >= 0) r.idText = strings[string]!;
      switch (kind) {
        case RecordKind.Alloc: {
          r.size = f64[f + F64_VALUE]!;
          r.flags = i32[i + I32_FLAGS]!;
          const stack = i32[i + I32_STACK]!;
          r.stack = stack < 0 ? stack : this.stackOf[stack]!;
          const type = i32[i + I32_TYPE]!;
          r.typeId = type < 0 ? -1 : typeIds[type]!;
          r.typeKind = i32[i + I32_TYPE_KIND_ORIGIN]!;
          break;
        }
        case RecordKind.Dead:
        case RecordKind.Free:
          r.origin = i32[i + I32_TYPE_KIND_ORIGIN]!;
          break;
        case RecordKind.Clock:
        case RecordKind.Yield:
          r.time = f64[f + F64_VALUE]!;
          break;
        case RecordKind.Finalizer:
          r.offset = f64[f + F64_VALUE]!;
          break;
        case RecordKind.Until:
          r.text = strings[string]!;
          this.sawUntil = true;
          break;
      }
      sink.record(r);
    }
  }
}
