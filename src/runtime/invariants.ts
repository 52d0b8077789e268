// Heap invariants, checked without changing any state (each runtime file names those it owns).
//
// See malloc.ts for the overview. checkInvariants walks every span, list and object and
// throws an InvariantError naming the first broken rule. It costs O(spans + objects), so
// replays run it only with --check-invariants; the test suite runs it after every event.
// Rules that need ReadMemStats (I5, I6), which flushes caches, are checked by the tests
// around explicit ReadMemStats calls instead.

import type { Runtime } from "./malloc.js";
import { MaxMHeapList, MSpanState, ObjFlag } from "./mheap.js";
import { PageSize } from "./msize.js";
import { class_to_allocnpages, class_to_nobj, class_to_size, NumSizeClasses } from "./sizeclasses.js";
import { hex } from "../hex.js";

export class InvariantError extends Error {
  constructor(
    readonly rule: string,
    detail: string,
  ) {
    super(`invariant ${rule} broken: ${detail}`);
    this.name = "InvariantError";
  }
}

function fail(rule: string, detail: string): never {
  throw new InvariantError(rule, detail);
}

function walk(rt: Runtime, head: number, visit: (s: number) => void): void {
  const sp = rt.mheap.spans;
  let n = 0;
  for (let s = sp.next[head]!; s !== head; s = sp.next[s]!) {
    if (sp.prev[sp.next[s]!] !== s) fail("list", `span ${s}: next.prev is not the span`);
    if (++n > sp.capacity) fail("list", `list ${head} does not return to its head`);
    visit(s);
  }
}

export function checkInvariants(rt: Runtime): void {
  const heap = rt.mheap;
  const sp = heap.spans;
  const st = rt.mstats;
  const arena = rt.arena;

  // I1, I2, I3: page accounting (the 32-bit SysAlloc fallback leaves holes and slack).
  const exact = arena.contiguous;
  if (exact && st.heap_idle + st.heap_inuse !== st.heap_sys) {
    fail("I1", `HeapIdle ${st.heap_idle} + HeapInuse ${st.heap_inuse} != HeapSys ${st.heap_sys}`);
  }
  if (st.heap_released > st.heap_idle) fail("I2", `HeapReleased ${st.heap_released} > HeapIdle ${st.heap_idle}`);
  for (const [name, v] of [
    ["HeapIdle", st.heap_idle],
    ["HeapInuse", st.heap_inuse],
    ["HeapSys", st.heap_sys],
    ["HeapReleased", st.heap_released],
  ] as const) {
    if (v % PageSize !== 0) fail("I2", `${name} ${v} is not a multiple of 8192`);
  }
  if (exact && st.heap_sys !== arena.arena_used - arena.arena_start) {
    fail("I3", `HeapSys ${st.heap_sys} != arena_used - arena_start ${arena.arena_used - arena.arena_start}`);
  }
  const bitmapPerByte = rt.arch.ptrSize === 8 ? 16 : 8;
  if (st.gc_sys < Math.ceil(st.heap_sys / bitmapPerByte / PageSize) * PageSize) {
    fail("I3", `GCSys ${st.gc_sys} does not cover the bitmap of HeapSys ${st.heap_sys}`);
  }

  // I4: spans tile the arena; free spans are coalesced and on the right list.
  const onList = new Map<number, number>();
  for (let k = 0; k < MaxMHeapList; k++) walk(rt, heap.freeLists[k]!, (s) => onList.set(s, k));
  walk(rt, heap.freelarge, (s) => onList.set(s, MaxMHeapList));
  const live: number[] = [];
  let inuse = 0;
  let idle = 0;
  let structs = 0;
  for (let i = 0; i < heap.nspan; i++) {
    const s = heap.spanId(i);
    const state = sp.state[s];
    if (state === MSpanState.Dead) continue;
    structs++;
    live.push(s);
    const bytes = sp.npages[s]! * PageSize;
    if (state === MSpanState.InUse) inuse += bytes;
    else if (state === MSpanState.Free) {
      idle += bytes;
      const n = sp.npages[s]!;
      const want = n < MaxMHeapList ? n : MaxMHeapList;
      if (onList.get(s) !== want) fail("I4", `free span ${hex(sp.base(s))} (${n} pages) is not on free[${want}]`);
      if (sp.npreleased[s]! > n) fail("I2", `span ${hex(sp.base(s))} released more pages than it has`);
    } else fail("I4", `span ${s} has state ${state}`);
  }
  if (onList.size !== live.filter((s) => sp.state[s] === MSpanState.Free).length) {
    fail("I4", "a span on a free list is not a free span");
  }
  if (inuse !== st.heap_inuse) fail("I4", `Σ in-use span bytes ${inuse} != HeapInuse ${st.heap_inuse}`);
  if (idle !== st.heap_idle) fail("I4", `Σ free span bytes ${idle} != HeapIdle ${st.heap_idle}`);
  if (heap.spanalloc.inuse !== structs * rt.arch.sizeofMSpan) {
    fail("I7", `MSpan FixAlloc in use ${heap.spanalloc.inuse} != ${structs} structs`);
  }
  live.sort((a, b) => sp.start[a]! - sp.start[b]!);
  let expect = arena.arena_start / PageSize;
  for (let i = 0; i < live.length; i++) {
    const s = live[i]!;
    if (exact && sp.start[s] !== expect) fail("I4", `span at ${hex(sp.base(s))} does not start where the previous ends (${hex(expect * PageSize)})`);
    expect += sp.npages[s]!;
    if (i > 0 && sp.state[s] === MSpanState.Free && sp.state[live[i - 1]!] === MSpanState.Free) {
      fail("I4", `free spans at ${hex(sp.base(live[i - 1]!))} and ${hex(sp.base(s))} touch`);
    }
    // The spans map: every page of an in-use span, the first and last of a free one.
    const p0 = sp.start[s]! - arena.arena_start / PageSize;
    const n = sp.npages[s]!;
    if (heap.spansMap[p0] !== s || heap.spansMap[p0 + n - 1] !== s) fail("spans", `span ${hex(sp.base(s))} ends are not mapped to it`);
    if (sp.state[s] === MSpanState.InUse) {
      for (let j = 1; j < n - 1; j++) if (heap.spansMap[p0 + j] !== s) fail("spans", `page ${j} of span ${hex(sp.base(s))} is not mapped to it`);
    }
  }
  if (exact && expect * PageSize !== arena.arena_used) fail("I4", `spans end at ${hex(expect * PageSize)}, arena_used is ${hex(arena.arena_used)}`);

  // MCentral lists, I10 and sweep states.
  const cached = new Map<number, number>();
  const pending = new Map<number, number>();
  for (const c of rt.mcaches) {
    for (let cl = 1; cl < NumSizeClasses; cl++) {
      const s = c.alloc[cl]!;
      if (s !== heap.emptySpan) {
        if (cached.has(s)) fail("I10", `span ${hex(sp.base(s))} cached twice`);
        cached.set(s, cl);
        if (!sp.incache[s]) fail("I10", `cached span ${hex(sp.base(s))} is not marked incache`);
      }
      for (const v of c.free[cl]!) {
        const s2 = heap.lookup(v);
        pending.set(s2, (pending.get(s2) ?? 0) + 1);
      }
    }
    if (c.tinysize < 0 || c.tinysize >= 16) fail("I8", `tinysize ${c.tinysize}`);
  }
  const listOf = new Map<number, string>();
  for (let cl = 1; cl < NumSizeClasses; cl++) {
    const central = heap.central[cl]!;
    walk(rt, central.nonempty, (s) => listOf.set(s, `nonempty ${cl}`));
    walk(rt, central.empty, (s) => listOf.set(s, `empty ${cl}`));
  }
  const sg = heap.sweepgen;
  for (const s of live) {
    if (sp.state[s] !== MSpanState.InUse) continue;
    const g = sp.sweepgen[s]!;
    if (g !== sg && g !== ((sg - 2) >>> 0)) fail("sweep", `span ${hex(sp.base(s))} sweepgen ${g}, heap ${sg}`);
    if (heap.sweepdone && g !== sg) fail("sweep", `sweep done but span ${hex(sp.base(s))} is unswept`);
    const cl = sp.sizeclass[s]!;
    const flags = sp.objFlags[s]!;
    if (cl === 0) {
      if (listOf.has(s)) fail("I10", `large span ${hex(sp.base(s))} on a central list`);
      if (sp.nelems[s] !== 1) fail("I10", `large span ${hex(sp.base(s))} has ${sp.nelems[s]} objects`);
      continue;
    }
    const nobj = class_to_nobj[cl]!;
    if (sp.npages[s] !== class_to_allocnpages[cl]) fail("I10", `class ${cl} span has ${sp.npages[s]} pages`);
    if (sp.elemsize[s] !== class_to_size[cl]) fail("I10", `class ${cl} span elemsize ${sp.elemsize[s]}`);
    const where = listOf.get(s);
    if (where === undefined) fail("I10", `small span ${hex(sp.base(s))} is on no central list`);
    if (!where.endsWith(" " + cl)) fail("I10", `class ${cl} span on ${where}`);
    if (cached.has(s) && !where.startsWith("empty")) fail("I10", `cached span ${hex(sp.base(s))} on ${where}`);
    if (!cached.has(s) && sp.incache[s]) fail("I10", `span ${hex(sp.base(s))} marked incache but not cached`);
    if (where.startsWith("nonempty") && sp.nfreelist[s] === 0) fail("I10", `span ${hex(sp.base(s))} on nonempty with an empty freelist`);
    // Objects in the freebuf still count in ref until MCentral_UncacheSpan moves them to the freelist.
    if (sp.ref[s]! + sp.nfreelist[s]! !== nobj) {
      fail("I10", `span ${hex(sp.base(s))}: ref ${sp.ref[s]} + freelist ${sp.nfreelist[s]} != ${nobj}`);
    }
    if (sp.ref[s] === 0 && !cached.has(s)) fail("I10", `span ${hex(sp.base(s))} has ref 0 and is not cached`);
    let allocated = 0;
    for (let i = 0; i < nobj; i++) if (flags[i]! & ObjFlag.Allocated) allocated++;
    const inFlight = sp.nfreebuf[s]! + (pending.get(s) ?? 0);
    if (allocated + inFlight !== sp.ref[s]) {
      fail("I9", `span ${hex(sp.base(s))}: ${allocated} allocated + ${inFlight} being freed != ref ${sp.ref[s]}`);
    }
    const seen = new Uint8Array(nobj);
    const list = sp.freelist[s]!;
    for (let k = 0; k < sp.nfreelist[s]!; k++) {
      const o = list[k]!;
      if (seen[o]) fail("I9", `object ${o} twice on the freelist of ${hex(sp.base(s))}`);
      seen[o] = 1;
      if (flags[o]! & ObjFlag.Allocated) fail("I9", `allocated object ${hex(sp.base(s) + o * sp.elemsize[s]!)} on a freelist`);
    }
  }
  for (const [s] of cached) {
    if (sp.state[s] !== MSpanState.InUse) fail("I10", `cached span ${hex(sp.base(s))} is not in use`);
  }
}
