// Interned names held as UTF-8 bytes: the same name always gets the same id (ids start at 0).
//
// The names sit end to end in one buffer and the index is open addressing over typed arrays,
// so a name costs its bytes and a few slots, never a string, an object or a Map entry (a trace
// may hold millions of distinct type names or frames), and a reader interns a name straight
// from its input bytes. Each name has a tag, an integer that is part of its identity (the
// stack table tags a frame's key with the length of the location that follows its function name). Names become strings
// only when asked for (text).
//
// A table's names can be interned into another's (delta, then internAll): names cross from the
// reader thread to the replay's tables this way, as bytes.

import { grown } from "../typed-arrays.js";

/** A table's names as one table hands them to another (see delta). */
export interface NameDelta {
  /** The names end to end, and per name its length and tag. */
  bytes: Uint8Array<ArrayBuffer>;
  lengths: Int32Array<ArrayBuffer>;
  tags: Int32Array<ArrayBuffer>;
}

export class NameTable {
  /** Name i is bytes[start[i], start[i + 1]), canonical UTF-8 (what encoding its text gives back). */
  private bytes = Buffer.alloc(4096);
  private start = new Int32Array(1024);
  /** Per name its tag; null while every tag is 0. */
  private tags: Int32Array<ArrayBuffer> | null = null;
  private count = 0;
  /** Open addressing, at most half full: per slot a name id (-1 = empty) and its hash. */
  private slotName = new Int32Array(1024).fill(-1);
  private slotHash = new Int32Array(1024);
  private mask = 1023;
  /** Where intern(text) encodes. */
  private scratch = Buffer.alloc(256);

  get size(): number {
    return this.count;
  }

  /** The id of the UTF-8 name `bytes[start, end)` with `tag`, added if new. Invalid UTF-8 is read as U+FFFD, as text decoding does. */
  internBytes(bytes: Uint8Array, start: number, end: number, tag = 0): number {
    // Hashed and checked for ASCII in one pass.
    let h = 0x811c9dc5 ^ tag;
    let ascii = 0;
    for (let i = start; i < end; i++) {
      const byte = bytes[i]!;
      ascii |= byte;
      h = Math.imul(h ^ byte, 0x01000193);
    }
    if (ascii < 0x80) return this.internHashed(bytes, start, end, tag, mix(h));
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8", start, end);
    return this.intern(text, tag);
  }

  /** The id of a name given as text, added if new. */
  intern(text: string, tag = 0): number {
    const length = this.encode(text, 0);
    return this.internCanonical(this.scratch, 0, length, tag);
  }

  /**
   * Encode `text` as UTF-8 into the scratch buffer at `at` (kept from `0` to `at`); returns the
   * end. With internEncoded, a name made of parts (the stack table's frame keys) is built there.
   */
  encode(text: string, at: number): number {
    const most = at + 3 * text.length + 1;
    if (most > this.scratch.length) {
      const bigger = Buffer.alloc(Math.max(most, 2 * this.scratch.length));
      this.scratch.copy(bigger, 0, 0, at);
      this.scratch = bigger;
    }
    return at + this.scratch.write(text, at, "utf8");
  }

  /** Write one byte into the scratch buffer at `at` (see encode); returns the end. */
  encodeByte(byte: number, at: number): number {
    if (at >= this.scratch.length) this.encode("", at);
    this.scratch[at] = byte;
    return at + 1;
  }

  /** The id of the name encoded into the scratch buffer from 0 to `end`, with `tag`. */
  internEncoded(end: number, tag = 0): number {
    return this.internCanonical(this.scratch, 0, end, tag);
  }

  /** Name id's text. */
  text(id: number): string {
    return this.bytes.toString("utf8", this.start[id]!, this.start[id + 1]!);
  }

  /** Bytes `from` to `to` of name id (a part of it), as text. */
  textPart(id: number, from: number, to: number): string {
    const start = this.start[id]!;
    return this.bytes.toString("utf8", start + from, start + to);
  }

  /** Name id's length in bytes. */
  length(id: number): number {
    return this.start[id + 1]! - this.start[id]!;
  }

  tag(id: number): number {
    return this.tags === null ? 0 : this.tags[id]!;
  }

  /** The names, for another table to intern (internAll). */
  delta(): NameDelta {
    const n = this.count;
    const lengths = new Int32Array(n);
    for (let i = 0; i < n; i++) lengths[i] = this.start[i + 1]! - this.start[i]!;
    const bytes = new Uint8Array(this.bytes.subarray(0, this.start[n]!));
    return { bytes, lengths, tags: this.tags === null ? new Int32Array(n) : this.tags.slice(0, n) };
  }

  /** Intern each of the delta's names (from any table); returns their ids here, in the delta's order. */
  internAll(delta: NameDelta): Int32Array {
    const ids = new Int32Array(delta.lengths.length);
    for (let i = 0, at = 0; i < ids.length; at += delta.lengths[i++]!) ids[i] = this.internCanonical(delta.bytes, at, at + delta.lengths[i]!, delta.tags[i]!);
    return ids;
  }

  /** Forget every name (ids start at 0 again); the memory is kept for the next ones. */
  clear(): void {
    this.count = 0;
    this.slotName.fill(-1);
  }

  private internCanonical(bytes: Uint8Array, start: number, end: number, tag: number): number {
    return this.internHashed(bytes, start, end, tag, nameHash(bytes, start, end, tag));
  }

  private internHashed(bytes: Uint8Array, start: number, end: number, tag: number, hash: number): number {
    const slot = this.find(bytes, start, end, tag, hash);
    const known = this.slotName[slot]!;
    if (known >= 0) return known;
    const id = this.add(bytes, start, end, tag);
    this.slotName[slot] = id;
    this.slotHash[slot] = hash;
    if (2 * this.count > this.mask + 1) this.resize(2 * (this.mask + 1));
    return id;
  }

  /** Store a name as the next id (the caller indexes it); returns its id. */
  private add(bytes: Uint8Array, start: number, end: number, tag: number): number {
    const id = this.count++;
    if (this.count + 1 > this.start.length) {
      this.start = grown(this.start, 2 * this.start.length);
      if (this.tags !== null) this.tags = grown(this.tags, 2 * this.tags.length);
    }
    const at = this.start[id]!;
    const n = end - start;
    if (at + n > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, at + n));
      this.bytes.copy(bigger, 0, 0, at);
      this.bytes = bigger;
    }
    const to = this.bytes;
    for (let i = 0; i < n; i++) to[at + i] = bytes[start + i]!;
    this.start[id + 1] = at + n;
    if (tag !== 0 && this.tags === null) this.tags = new Int32Array(this.start.length);
    if (this.tags !== null) this.tags[id] = tag;
    return id;
  }

  /** The slot holding the name, or the empty slot where it would go. */
  private find(bytes: Uint8Array, start: number, end: number, tag: number, hash: number): number {
    const mask = this.mask;
    const n = end - start;
    const names = this.bytes;
    const tags = this.tags;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = this.slotName[slot]!;
      if (id < 0) return slot;
      if (this.slotHash[slot] !== hash || (tags === null ? 0 : tags[id]!) !== tag) continue;
      const at = this.start[id]!;
      if (this.start[id + 1]! - at !== n) continue;
      let i = 0;
      while (i < n && names[at + i] === bytes[start + i]) i++;
      if (i === n) return slot;
    }
  }

  private resize(capacity: number): void {
    const names = this.slotName;
    const hashes = this.slotHash;
    this.mask = capacity - 1;
    this.slotName = new Int32Array(capacity).fill(-1);
    this.slotHash = new Int32Array(capacity);
    for (let i = 0; i < names.length; i++) {
      const id = names[i]!;
      if (id < 0) continue;
      let slot = hashes[i]! & this.mask;
      while (this.slotName[slot]! >= 0) slot = (slot + 1) & this.mask;
      this.slotName[slot] = id;
      this.slotHash[slot] = hashes[i]!;
    }
  }
}

/** FNV-1a over the bytes, the tag mixed in, then murmur3's fmix32. */
function nameHash(bytes: Uint8Array, start: number, end: number, tag: number): number {
  let h = 0x811c9dc5 ^ tag;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return mix(h);
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
