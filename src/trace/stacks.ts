// Interned call stacks: the same frame list always gets the same id (ids start at 0).
//
// A frame is a function name and a `file:line` location ("" when unknown), and is interned
// too, in a NameTable: its name and location are held once, as UTF-8 bytes, found again
// through an open-addressing index over typed arrays; a stack is a run of frame ids (IntRuns).
// So memory grows with the distinct frames and stacks and the bytes they hold, never with a
// string, an object or a Map entry per frame or stack (a trace may define millions), and a
// reader interns a frame straight from its input bytes. Names become strings only when asked
// for (func, location, frames): the report's shown sites, the profiles.
//
// A reader defines stacks through a StackBuilder: a StackTable, or on the reader thread
// StackDefinitions (trace/batch.ts), which holds only the definitions of one batch for the
// replay's table to intern (internFrames, internStack).

import { IntRuns } from "../int-runs.js";
import { grown } from "../typed-arrays.js";
import { NameTable, type NameDelta } from "./names.js";
import type { Frame } from "./record.js";

/** What a reader defines stacks with. */
export interface StackBuilder {
  /** The id of the frame named by the UTF-8 `bytes[start, end)` with no location. */
  frameFromBytes(bytes: Uint8Array, start: number, end: number): number;
  /** Start a stack: add its frames, innermost first, then endStack. */
  beginStack(): void;
  addFrameId(frame: number): void;
  /** The id of the stack of the frames added since beginStack. */
  endStack(): number;
}

const ZERO = 0x00;

export class StackTable implements StackBuilder {
  /**
   * Frame keys: a function name's bytes, then, when the frame has a location, a 0 byte and
   * the location's; the tag is what follows the name (0, or the location's length plus one).
   */
  private readonly keys = new NameTable();
  private readonly runs = new IntRuns();
  /** The frame ids of the stack being built (beginStack … endStack). */
  private pending = new Int32Array(64);
  private pendingCount = 0;

  /** The id of the frame named by the UTF-8 `bytes[start, end)` with no location, added if new. */
  frameFromBytes(bytes: Uint8Array, start: number, end: number): number {
    return this.keys.internBytes(bytes, start, end);
  }

  /** The id of a frame, added if new. */
  frame(func: string, location = ""): number {
    const keys = this.keys;
    const funcEnd = keys.encode(func, 0);
    if (location === "") return keys.internEncoded(funcEnd);
    const end = keys.encode(location, keys.encodeByte(ZERO, funcEnd));
    return keys.internEncoded(end, end - funcEnd);
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
    return this.keys.textPart(frame, 0, this.keys.length(frame) - this.keys.tag(frame));
  }

  /** A frame's `file:line`, "" when unknown. */
  location(frame: number): string {
    const tag = this.keys.tag(frame);
    const length = this.keys.length(frame);
    return tag === 0 ? "" : this.keys.textPart(frame, length - tag + 1, length);
  }

  /** How many frames a stack has (0 for an unknown id). */
  depth(id: number): number {
    return id < 0 || id >= this.runs.size ? 0 : this.runs.length(id);
  }

  get size(): number {
    return this.runs.size;
  }

  get frameCount(): number {
    return this.keys.size;
  }

  /** Intern another table's frames (names without locations, as frameFromBytes has them); returns their ids here. */
  internFrames(frames: NameDelta): Int32Array {
    return this.keys.internAll(frames);
  }

  /** The id of the stack whose frame ids are `frameIds[from, to)`, or -1 if there is none. */
  lookupStack(frameIds: Int32Array, from: number, to: number): number {
    return this.runs.lookup(frameIds, from, to);
  }

  /** The id of the stack whose frame ids are `frameIds[from, to)`, added if new. */
  internStack(frameIds: Int32Array, from: number, to: number): number {
    return this.runs.intern(frameIds, from, to);
  }
}
