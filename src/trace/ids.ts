// The native reader's table of live trace IDs (docs/trace-format.md: an ID names one live
// object at a time). Each live ID holds a dense handle, 0, 1, 2, ..., reused once its object is freed or
// dead, so the replay keeps its objects in plain arrays indexed by handle: no strings and no
// hashing after the reader, which may run on another thread (see trace/worker.ts).
//
// IDs are mostly numbers (counters, or addresses in hex), so a canonical decimal or lowercase
// 0x-hex token is keyed by its value and costs no string; any other token is keyed by a copy of
// its bytes. The table is open addressing with linear probing, at most half full, with
// backward-shift deletion: memory follows the live set, probe chains never grow with churn.

import { grown } from "../typed-arrays.js";
import { hex } from "../hex.js";

/** The key of an ID that is not a canonical number: its bytes are the key. */
const TEXT_KEY = Number.NaN;

const DIGIT_0 = 0x30;
const LOWER_A = 0x61;
const LOWER_F = 0x66;
const LOWER_X = 0x78;

/**
 * The numeric key of an ID token: a decimal without leading zeros and of at most 15 digits
 * is its value (≥ 0); `0x` and 1–13 lowercase hex digits without leading zeros is -1 minus
 * its value; anything else is NaN (keyed by its bytes). Distinct tokens never share a key.
 */
export function numericIdKey(bytes: Uint8Array, start: number, end: number): number {
  const length = end - start;
  if (length > 2 && bytes[start] === DIGIT_0 && bytes[start + 1] === LOWER_X) {
    if (length > 15 || bytes[start + 2] === DIGIT_0) return TEXT_KEY;
    let value = 0;
    for (let i = start + 2; i < end; i++) {
      const byte = bytes[i]!;
      let digit = byte - DIGIT_0;
      if (digit < 0 || digit > 9) {
        if (byte < LOWER_A || byte > LOWER_F) return TEXT_KEY;
        digit = byte - LOWER_A + 10;
      }
      value = value * 16 + digit;
    }
    return -1 - value;
  }
  if (length === 0 || length > 15 || (length > 1 && bytes[start] === DIGIT_0)) return TEXT_KEY;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = bytes[i]! - DIGIT_0;
    if (digit < 0 || digit > 9) return TEXT_KEY;
    value = value * 10 + digit;
  }
  return value;
}

/** The ID token a numeric key (not NaN) stands for. */
export function numericIdText(key: number): string {
  return key >= 0 ? String(key) : hex(-1 - key);
}

/** Slot hash of a numeric key: both 32-bit halves mixed, high bits folded down for masking. */
function numberHash(key: number): number {
  // Counters stay in small-integer arithmetic; larger keys (addresses) mix in their high half.
  const low = key >= 0 && key <= 0x3fffffff ? key : (key | 0) ^ Math.imul((key / 4294967296) | 0, 0x85ebca6b);
  const h = Math.imul(low, 0x9e3779b1);
  return h ^ (h >>> 15);
}

/** Slot hash of a text key (FNV-1a over its bytes). */
function textHash(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h ^ (h >>> 15);
}

export class LiveIds {
  private mask = 0;
  /** Per slot: the handle there, or -1. */
  private slotHandle = new Int32Array(0);
  private slotHash = new Int32Array(0);
  /** Per handle: its numeric key (NaN for a text key), its text key's bytes, its slot. */
  private key = new Float64Array(0);
  private text: (Uint8Array | null)[] = [];
  private slotOf = new Int32Array(0);
  /** Released handles, reused last-in first-out. */
  private freeHandles = new Int32Array(0);
  private freeCount = 0;
  /** Key and slot hash of the last find, for the insert that may follow it. */
  private foundKey = TEXT_KEY;
  private foundHash = 0;
  /** Handles issued so far: every handle is below this. */
  handleLimit = 0;

  /** Live IDs: every issued handle is live or released. */
  get count(): number {
    return this.handleLimit - this.freeCount;
  }

  constructor() {
    this.resizeSlots(1024);
  }

  /**
   * The handle of the live ID `bytes[start, end)`, or the bitwise complement of the slot where
   * it would go (pass that to insert, with no other insert or release in between).
   */
  find(bytes: Uint8Array, start: number, end: number): number {
    const key = numericIdKey(bytes, start, end);
    if (key === key) return this.findNumber(key);
    this.foundKey = key;
    this.foundHash = textHash(bytes, start, end);
    return this.findText(bytes, start, end, this.foundHash);
  }

  private findNumber(key: number): number {
    const hash = numberHash(key);
    this.foundKey = key;
    this.foundHash = hash;
    const mask = this.mask;
    const slotHandle = this.slotHandle;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const handle = slotHandle[i]!;
      if (handle < 0) return ~i;
      if (this.key[handle] === key) return handle;
    }
  }

  private findText(bytes: Uint8Array, start: number, end: number, hash: number): number {
    const mask = this.mask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const handle = this.slotHandle[i]!;
      if (handle < 0) return ~i;
      if (this.slotHash[i] === hash && sameBytes(this.text[handle] ?? null, bytes, start, end)) return handle;
    }
  }

  /** Make `bytes[start, end)` live at the empty slot find returned (as ~slot); returns its handle. */
  insert(bytes: Uint8Array, start: number, end: number, notFound: number): number {
    let slot = ~notFound;
    if ((this.count + 1) * 2 > this.mask + 1) {
      this.resizeSlots((this.mask + 1) * 2);
      slot = ~this.find(bytes, start, end);
    }
    const handle = this.freeCount > 0 ? this.freeHandles[--this.freeCount]! : this.newHandle();
    const key = this.foundKey;
    this.key[handle] = key;
    // A copy: `bytes` may be a Buffer, whose slice() is a view of input that is reused.
    this.text[handle] = key === key ? null : new Uint8Array(bytes.subarray(start, end));
    this.slotHandle[slot] = handle;
    this.slotHash[slot] = this.foundHash;
    this.slotOf[handle] = slot;
    return handle;
  }

  /** The ID of `handle` is dead: it may name a new object. Its text stays readable until reused. */
  release(handle: number): void {
    const mask = this.mask;
    const slotHandle = this.slotHandle;
    const slotHash = this.slotHash;
    let hole = this.slotOf[handle]!;
    // Backward shift: an entry after the hole moves into it if the hole is on its probe path.
    for (let j = (hole + 1) & mask; slotHandle[j]! >= 0; j = (j + 1) & mask) {
      const home = slotHash[j]! & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        const moved = slotHandle[j]!;
        slotHandle[hole] = moved;
        slotHash[hole] = slotHash[j]!;
        this.slotOf[moved] = hole;
        hole = j;
      }
    }
    slotHandle[hole] = -1;
    if (this.freeCount === this.freeHandles.length) this.freeHandles = grown(this.freeHandles, this.freeCount * 2 || 256);
    this.freeHandles[this.freeCount++] = handle;
  }

  /** The ID text of a live handle, or of a released one until it is reused. */
  name(handle: number): string {
    const key = this.key[handle]!;
    if (key === key) return numericIdText(key);
    return Buffer.from(this.text[handle]!).toString("utf8");
  }

  /** The numeric key of a handle's ID (NaN for a text ID: see name). */
  numericKey(handle: number): number {
    return this.key[handle]!;
  }

  private newHandle(): number {
    const handle = this.handleLimit++;
    if (handle === this.key.length) {
      const capacity = Math.max(256, handle * 2);
      this.key = grown(this.key, capacity);
      this.slotOf = grown(this.slotOf, capacity);
      this.text.length = capacity;
    }
    return handle;
  }

  private resizeSlots(capacity: number): void {
    const oldHandles = this.slotHandle;
    const oldHashes = this.slotHash;
    this.mask = capacity - 1;
    this.slotHandle = new Int32Array(capacity).fill(-1);
    this.slotHash = new Int32Array(capacity);
    for (let i = 0; i < oldHandles.length; i++) {
      const handle = oldHandles[i]!;
      if (handle < 0) continue;
      let slot = oldHashes[i]! & this.mask;
      while (this.slotHandle[slot]! >= 0) slot = (slot + 1) & this.mask;
      this.slotHandle[slot] = handle;
      this.slotHash[slot] = oldHashes[i]!;
      this.slotOf[handle] = slot;
    }
  }
}

function sameBytes(key: Uint8Array | null, bytes: Uint8Array, start: number, end: number): boolean {
  if (key === null || key.length !== end - start) return false;
  for (let i = 0; i < key.length; i++) if (key[i] !== bytes[start + i]) return false;
  return true;
}
