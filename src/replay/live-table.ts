// The replay's tables of live trace objects: emulated address, size, stack and tiny flag of
// each, in typed arrays indexed by slot (no object per allocation).
//
// A native trace's reader gives each live ID a dense handle (trace/ids.ts), so HandleTable's
// slot is that handle. A golog's objects are named by address text and looked up here:
// LiveTable is open addressing with linear probing over a power-of-two table kept at most
// half full, deletion by shifting later entries back (no tombstones, so probe chains never
// grow with churn). Memory follows the live set in both.

import { grown } from "../typed-arrays.js";

/** A live object of the trace, as reports see it. */
export interface LiveObject {
  addr: number;
  /** Requested (native) or logged (golog) size. */
  size: number;
  /** Pointer-free and under 16 bytes: SetFinalizer may name an interior byte of it. */
  tiny: boolean;
  /** Stack id of its allocation (negative: none or a runtime-internal one). */
  stack: number;
}

/** FNV-1a over UTF-16 code units, with the high bits folded into the low ones for masking. */
function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 15)) | 0;
}

/** The fields of live objects, by slot. */
export abstract class ObjectSlots {
  addr = new Float64Array(0);
  size = new Float64Array(0);
  stack = new Int32Array(0);
  tiny = new Uint8Array(0);

  /** The object at slot i is no longer live. */
  abstract removeAt(i: number): void;

  /** Every live object (reports only). */
  abstract objects(): IterableIterator<LiveObject>;

  /** The entry at slot i as an object (reports only). */
  object(i: number): LiveObject {
    return { addr: this.addr[i]!, size: this.size[i]!, tiny: this.tiny[i] === 1, stack: this.stack[i]! };
  }
}

/** Objects of a native trace, by the handle of their ID. */
export class HandleTable extends ObjectSlots {
  private live = new Uint8Array(0);

  /** Put an object at `handle` (not live). */
  put(handle: number, addr: number, size: number, tiny: boolean, stack: number): void {
    if (handle >= this.live.length) this.grow(handle + 1);
    this.addr[handle] = addr;
    this.size[handle] = size;
    this.tiny[handle] = tiny ? 1 : 0;
    this.stack[handle] = stack;
    this.live[handle] = 1;
  }

  removeAt(i: number): void {
    this.live[i] = 0;
  }

  *objects(): IterableIterator<LiveObject> {
    for (let i = 0; i < this.live.length; i++) if (this.live[i] === 1) yield this.object(i);
  }

  private grow(needed: number): void {
    const capacity = Math.max(needed, this.live.length * 2, 1024);
    this.live = grown(this.live, capacity);
    this.addr = grown(this.addr, capacity);
    this.size = grown(this.size, capacity);
    this.stack = grown(this.stack, capacity);
    this.tiny = grown(this.tiny, capacity);
  }
}

/** Objects of a golog, by the address text that names them. */
export class LiveTable extends ObjectSlots {
  private mask = 0;
  private keys: (string | null)[] = [];
  private hashes = new Int32Array(0);
  private count = 0;

  constructor() {
    super();
    this.allocate(1024);
  }

  private allocate(capacity: number): void {
    this.mask = capacity - 1;
    this.keys = new Array<string | null>(capacity).fill(null);
    this.hashes = new Int32Array(capacity);
    this.addr = new Float64Array(capacity);
    this.size = new Float64Array(capacity);
    this.stack = new Int32Array(capacity);
    this.tiny = new Uint8Array(capacity);
  }

  /** The slot holding id (hash h), or the bitwise complement of the empty slot where it would go. */
  private probe(id: string, h: number): number {
    const keys = this.keys;
    const hashes = this.hashes;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === null) return ~i;
      if (hashes[i] === h && k === id) return i;
    }
  }

  /** The slot of id, or -1. */
  find(id: string): number {
    const i = this.probe(id, hashId(id));
    return i >= 0 ? i : -1;
  }

  /** Make room for one more entry; call before probing for an insert. */
  private reserve(): void {
    if ((this.count + 1) * 2 <= this.mask + 1) return;
    const old = { keys: this.keys, hashes: this.hashes, addr: this.addr, size: this.size, stack: this.stack, tiny: this.tiny };
    this.allocate((this.mask + 1) * 2);
    for (let i = 0; i < old.keys.length; i++) {
      const k = old.keys[i];
      if (k === null || k === undefined) continue;
      const slot = ~this.probe(k, old.hashes[i]!);
      this.fill(slot, k, old.hashes[i]!, old.addr[i]!, old.size[i]!, old.tiny[i] === 1, old.stack[i]!);
    }
  }

  /** Insert or replace. */
  set(id: string, o: LiveObject): void {
    const existing = this.find(id);
    if (existing >= 0) this.removeAt(existing);
    this.reserve();
    const h = hashId(id);
    this.fill(~this.probe(id, h), id, h, o.addr, o.size, o.tiny, o.stack);
    this.count++;
  }

  private fill(i: number, id: string, h: number, addr: number, size: number, tiny: boolean, stack: number): void {
    this.keys[i] = id;
    this.hashes[i] = h;
    this.addr[i] = addr;
    this.size[i] = size;
    this.tiny[i] = tiny ? 1 : 0;
    this.stack[i] = stack;
  }

  /** Remove the entry at slot i, moving back later entries of its probe chain. */
  removeAt(i: number): void {
    const keys = this.keys;
    const hashes = this.hashes;
    const mask = this.mask;
    this.count--;
    for (let j = (i + 1) & mask; keys[j] !== null; j = (j + 1) & mask) {
      const home = hashes[j]! & mask;
      // Entry j may move to the hole at i only if i lies on its probe path (home .. j).
      if (((j - home) & mask) >= ((j - i) & mask)) {
        this.fill(i, keys[j]!, hashes[j]!, this.addr[j]!, this.size[j]!, this.tiny[j] === 1, this.stack[j]!);
        i = j;
      }
    }
    keys[i] = null;
  }

  /** Every live object, in slot order (reports only). */
  *objects(): IterableIterator<LiveObject> {
    for (let i = 0; i <= this.mask; i++) if (this.keys[i] !== null) yield this.object(i);
  }
}
