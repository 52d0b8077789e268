// Interned call stacks: the same frame list always gets the same id (ids start at 0).
//
// A frame is a function name and a `file:line` location ("" when unknown), and is interned
// too: its name and location are held once, as UTF-8 bytes end to end in one buffer, found
// again through an open-addressing index over typed arrays; a stack is a run of frame ids
// (IntRuns). So memory grows with the distinct frames and stacks and the bytes they hold,
// never with a string, an object or a Map entry per frame or stack (a trace may define
// millions), and a reader interns a frame straight from its input bytes. Names become strings
// only when asked for (func, location, frames): the report's shown sites, the profiles.
//
// A table can copy another's growth in order (delta, then appendFrames and appendStack): the
// reader thread's table crosses to the replay's this way, as bytes and frame ids, with nothing
// looked up or hashed again on arrival.

import { IntRuns } from "../int-runs.js";
import { grown } from "../typed-arrays.js";
import type { Frame } from "./record.js";

/** What a StackTable added since some point, as one table hands it to another (see delta). */
export interface StackDelta {
  firstFrame: number;
  /** The new frames' keys (see StackTable) end to end, and per frame its key's and its name's length. */
  frameBytes: Uint8Array<ArrayBuffer>;
  keyLengths: Int32Array<ArrayBuffer>;
  funcLengths: Int32Array<ArrayBuffer>;
  firstStack: number;
  /** Per new stack, its number of frames; their frame ids end to end in frameIds. */
  lengths: Int32Array<ArrayBuffer>;
  frameIds: Int32Array<ArrayBuffer>;
}

const ZERO = 0x00;

export class StackTable {
  /**
   * Frame i's key is keys[keyStart[i], keyStart[i + 1]): its function name's UTF-8 bytes
   * (funcLength[i] of them), then, when it has a location, a 0 byte and the location's bytes.
   * Frames are equal when their keys and name lengths are. Bytes are canonical UTF-8 (what
   * encoding the decoded text gives), so equal names are equal bytes.
   */
  private keys = Buffer.alloc(4096);
  private keyStart = new Int32Array(1024);
  private funcLength = new Int32Array(1024);
  private frames_ = 0;
  /** Open addressing over frames, at most half full: per slot a frame id (-1 = empty) and its hash. */
  private slotFrame = new Int32Array(1024).fill(-1);
  private slotHash = new Int32Array(1024);
  private mask = 1023;
  /** Frames 0 … indexed−1 are in the slots (appended ones are indexed when a frame is next interned). */
  private indexed = 0;
  private readonly runs = new IntRuns();
  /** The frame ids of the stack being built (beginStack … endStack). */
  private pending = new Int32Array(64);
  private pendingCount = 0;
  /** Where frame(func, location) encodes its key. */
  private scratch = Buffer.alloc(256);

  /** The id of the frame named by the UTF-8 `bytes[start, end)` with no location, added if new. */
  frameFromBytes(bytes: Uint8Array, start: number, end: number): number {
    let ascii = 0;
    for (let i = start; i < end; i++) ascii |= bytes[i]!;
    if (ascii < 0x80) return this.internKey(bytes, start, end, end - start);
    // Not ASCII: the bytes the text encodes to (an invalid sequence decodes to U+FFFD).
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8", start, end);
    return this.frame(text);
  }

  /** The id of a frame, added if new. */
  frame(func: string, location = ""): number {
    const most = 3 * (func.length + location.length) + 1;
    if (most > this.scratch.length) this.scratch = Buffer.alloc(Math.max(most, 2 * this.scratch.length));
    const scratch = this.scratch;
    const funcLength = scratch.write(func, 0, "utf8");
    let end = funcLength;
    if (location !== "") {
      scratch[end++] = ZERO;
      end += scratch.write(location, end, "utf8");
    }
    return this.internKey(scratch, 0, end, funcLength);
  }

  /** Start a stack: add its frames, innermost first (addFrame, addFrameId), then endStack. */
  beginStack(): void {
    this.pendingCount = 0;
  }

  addFrame(func: string, location = ""): void {
    this.addFrameId(this.frame(func, location));
  }

  addFrameId(frame: number): void {
    if (this.pendingCount === this.pending.length) this.pending = grown(this.pending, 2 * this.pending.length);
    this.pending[this.pendingCount++] = frame;
  }

  /** The id of the stack of the frames added since beginStack. */
  endStack(): number {
    return this.runs.intern(this.pending, 0, this.pendingCount);
  }

  intern(frames: readonly Frame[]): number {
    this.beginStack();
    for (const f of frames) this.addFrame(f.func, f.location);
    return this.endStack();
  }

  /** The frames of a stack, innermost first (new objects). */
  frames(id: number): Frame[] {
    if (id < 0 || id >= this.runs.size) return [];
    const n = this.runs.length(id);
    const out = new Array<Frame>(n);
    for (let i = 0; i < n; i++) {
      const f = this.runs.at(id, i);
      out[i] = { func: this.func(f), location: this.location(f) };
    }
    return out;
  }

  /** Frame i of a stack (0: innermost), for i below its depth. */
  frameAt(id: number, i: number): number {
    return this.runs.at(id, i);
  }

  /** A frame's function name. */
  func(frame: number): string {
    const start = this.keyStart[frame]!;
    return this.keys.toString("utf8", start, start + this.funcLength[frame]!);
  }

  /** A frame's `file:line`, "" when unknown. */
  location(frame: number): string {
    const start = this.keyStart[frame]! + this.funcLength[frame]!;
    const end = this.keyStart[frame + 1]!;
    return start === end ? "" : this.keys.toString("utf8", start + 1, end);
  }

  /** How many frames a stack has (0 for an unknown id). */
  depth(id: number): number {
    return id < 0 || id >= this.runs.size ? 0 : this.runs.length(id);
  }

  get size(): number {
    return this.runs.size;
  }

  get frameCount(): number {
    return this.frames_;
  }

  /** The frames from `firstFrame` and the stacks from `firstStack` on, for another table to copy. */
  delta(firstFrame: number, firstStack: number): StackDelta {
    const frames = Math.max(0, this.frames_ - firstFrame);
    const keyLengths = new Int32Array(frames);
    const funcLengths = new Int32Array(frames);
    for (let i = 0; i < frames; i++) {
      const f = firstFrame + i;
      keyLengths[i] = this.keyStart[f + 1]! - this.keyStart[f]!;
      funcLengths[i] = this.funcLength[f]!;
    }
    const frameBytes = new Uint8Array(frames === 0 ? 0 : this.keyStart[this.frames_]! - this.keyStart[firstFrame]!);
    if (frames > 0) frameBytes.set(this.keys.subarray(this.keyStart[firstFrame]!, this.keyStart[this.frames_]!));
    const stacks = Math.max(0, this.runs.size - firstStack);
    const lengths = new Int32Array(stacks);
    for (let i = 0; i < stacks; i++) lengths[i] = this.runs.length(firstStack + i);
    const frameIds = stacks === 0 ? new Int32Array(0) : this.runs.valuesOf(firstStack, this.runs.size);
    return { firstFrame, frameBytes, keyLengths, funcLengths, firstStack, lengths, frameIds };
  }

  /** Copy the delta's frames, which must be this table's next ones. Its stacks follow through appendStack. */
  appendFrames(delta: StackDelta): void {
    if (delta.firstFrame !== this.frames_) throw new Error(`frame ${delta.firstFrame} of another stack table copied as ${this.frames_}`);
    for (let i = 0, at = 0; i < delta.keyLengths.length; at += delta.keyLengths[i++]!) {
      this.addKey(delta.frameBytes, at, at + delta.keyLengths[i]!, delta.funcLengths[i]!);
    }
  }

  /** Copy the stack whose frame ids are `frameIds[from, to)`, as the next id; returns it. */
  appendStack(frameIds: Int32Array, from: number, to: number): number {
    return this.runs.append(frameIds, from, to);
  }

  /** The frame whose key is `bytes[start, end)`, the name's `funcLength` bytes first; added if new. */
  private internKey(bytes: Uint8Array, start: number, end: number, funcLength: number): number {
    if (this.indexed < this.frames_) this.indexFrames();
    const hash = keyHash(bytes, start, end, funcLength);
    const slot = this.findKey(bytes, start, end, funcLength, hash);
    const known = this.slotFrame[slot]!;
    if (known >= 0) return known;
    const id = this.addKey(bytes, start, end, funcLength);
    this.slotFrame[slot] = id;
    this.slotHash[slot] = hash;
    this.indexed = this.frames_;
    if (2 * this.frames_ > this.mask + 1) this.resize(2 * (this.mask + 1));
    return id;
  }

  /** Store a key as the next frame, without indexing it; returns its id. */
  private addKey(bytes: Uint8Array, start: number, end: number, funcLength: number): number {
    const id = this.frames_++;
    if (this.frames_ + 1 > this.keyStart.length) {
      this.keyStart = grown(this.keyStart, 2 * this.keyStart.length);
      this.funcLength = grown(this.funcLength, 2 * this.funcLength.length);
    }
    const at = this.keyStart[id]!;
    const n = end - start;
    if (at + n > this.keys.length) {
      const bigger = Buffer.alloc(Math.max(2 * this.keys.length, at + n));
      this.keys.copy(bigger, 0, 0, at);
      this.keys = bigger;
    }
    const keys = this.keys;
    for (let i = 0; i < n; i++) keys[at + i] = bytes[start + i]!;
    this.keyStart[id + 1] = at + n;
    this.funcLength[id] = funcLength;
    return id;
  }

  /** The slot holding the key, or the empty slot where it would go. */
  private findKey(bytes: Uint8Array, start: number, end: number, funcLength: number, hash: number): number {
    const mask = this.mask;
    const n = end - start;
    const keys = this.keys;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = this.slotFrame[slot]!;
      if (id < 0) return slot;
      if (this.slotHash[slot] !== hash || this.funcLength[id] !== funcLength) continue;
      const at = this.keyStart[id]!;
      if (this.keyStart[id + 1]! - at !== n) continue;
      let i = 0;
      while (i < n && keys[at + i] === bytes[start + i]) i++;
      if (i === n) return slot;
    }
  }

  private resize(capacity: number): void {
    const frames = this.slotFrame;
    const hashes = this.slotHash;
    this.mask = capacity - 1;
    this.slotFrame = new Int32Array(capacity).fill(-1);
    this.slotHash = new Int32Array(capacity);
    for (let i = 0; i < frames.length; i++) {
      const id = frames[i]!;
      if (id < 0) continue;
      let slot = hashes[i]! & this.mask;
      while (this.slotFrame[slot]! >= 0) slot = (slot + 1) & this.mask;
      this.slotFrame[slot] = id;
      this.slotHash[slot] = hashes[i]!;
    }
  }

  /** Index the appended frames. */
  private indexFrames(): void {
    let capacity = this.mask + 1;
    while (2 * this.frames_ > capacity) capacity *= 2;
    if (capacity !== this.mask + 1) this.resize(capacity);
    const keys = this.keys;
    for (let id = this.indexed; id < this.frames_; id++) {
      const start = this.keyStart[id]!;
      const end = this.keyStart[id + 1]!;
      const hash = keyHash(keys, start, end, this.funcLength[id]!);
      const slot = this.findKey(keys, start, end, this.funcLength[id]!, hash);
      if (this.slotFrame[slot]! >= 0) continue;
      this.slotFrame[slot] = id;
      this.slotHash[slot] = hash;
    }
    this.indexed = this.frames_;
  }
}

/** FNV-1a over a key's bytes, its name's length mixed in, then murmur3's fmix32. */
function keyHash(bytes: Uint8Array, start: number, end: number, funcLength: number): number {
  let h = 0x811c9dc5 ^ funcLength;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
