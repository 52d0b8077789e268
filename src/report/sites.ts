// Allocation sites: a call stack named by the program's frames, not the allocator's.
//
// A Go log's traceback starts inside the runtime: runtime.mallocgc, then the entry the
// compiler called for the statement (runtime.new, makeslice, growslice, mapassign1, ...). Those
// innermost frames are the same for every allocation of a kind, so a site named by them says
// nothing (`runtime.mallocgc < cnew < runtime.cnewarray` for every make). A site is named by
// the frames past that leading run of allocator frames, with the `file:line` the trace gives
// (Go logs; native traces name functions only), so that four makes in one function are four
// sites. When every frame is an allocator frame (the runtime allocating for itself), the whole
// stack names the site.
//
// Reports keep whole stacks (innermost first); this module only decides how a table names and
// groups them: two stacks are one site when their frames from the first one outside the
// allocator on are the same (function and location), up to the frames the table shows.

import { printable } from "../trace/record.js";

/** Frames shown per site by default, past the allocator's (`--depth`). */
export const DEFAULT_SITE_DEPTH = 3;

/**
 * Frames of the allocator, in every spelling a log may print: gc Go 1.3's runtime (C files
 * malloc.goc, slice.goc, hashmap.goc, chan.goc, string.goc, iface.goc; static C functions
 * print without `runtime.`), gccgo's libgo C runtime of that era (`runtime_*`, `__go_*`, and
 * gccgo 12's Go runtime with its `__` mangling) and the modern Go runtime (malloc.go, slice.go,
 * map.go, chan.go, string.go, iface.go). Each is a function that allocates on behalf of its
 * caller: the statement that asked for the memory is in a frame further out.
 */
const ALLOCATOR_FRAME_GROUPS: readonly (readonly string[])[] = [
  // The allocator itself: every heap allocation passes through it (malloc.goc runtime·mallocgc,
  // runtime·malloc, runtime·mal; gccgo runtime_mallocgc, __go_alloc; malloc.go mallocgc).
  ["runtime.mallocgc", "runtime_mallocgc", "runtime.malloc", "runtime_malloc", "runtime.mal", "runtime_mal", "__go_alloc"],
  // A span's type table, allocated inside the typed allocation's mallocgc (malloc.goc settype).
  ["settype"],
  // new(T), &T{...}, closures and escaping variables (malloc.goc runtime·new, cnew,
  // runtime·cnew, runtime·cnewarray; gccgo go-new.c; malloc.go newobject, newarray).
  ["runtime.new", "cnew", "runtime.cnew", "runtime.cnewarray", "runtime_cnew", "runtime_cnewarray", "__go_new", "__go_new_nopointers", "runtime.newobject", "runtime.newarray"],
  // make([]T, n) (slice.goc runtime·makeslice, makeslice1; gccgo go-make-slice.c; slice.go).
  [
    "runtime.makeslice",
    "makeslice1",
    "__go_make_slice1",
    "__go_make_slice2",
    "__go_make_slice1_big",
    "__go_make_slice2_big",
    "runtime.makeslice64",
    "runtime.makeslicecopy",
  ],
  // append past capacity (slice.goc runtime·growslice, growslice1; gccgo go-append.c; slice.go).
  ["runtime.growslice", "growslice1", "__go_append"],
  // make(map), map literals and m[k] = v: the map header, its buckets and their growth
  // (hashmap.goc runtime·makemap, makemap_c, runtime·mapassign1, hash_insert, hash_grow,
  // grow_work, evacuate; gccgo go-new-map.c, go-map-index.c, go-construct-map.c; map.go and
  // its fast variants, which gccgo 12 prints with `__` for `_`).
  [
    "runtime.makemap",
    "makemap_c",
    "runtime.mapassign1",
    "hash_insert",
    "hash_grow",
    "grow_work",
    "evacuate",
    "__go_new_map",
    "__go_map_index",
    "__go_map_rehash",
    "__go_construct_map",
    "runtime.makemap64",
    "runtime.makemap_small",
    "runtime.makemap__small",
    "runtime.makeBucketArray",
    "runtime.mapassign",
    "runtime.mapassign_fast32",
    "runtime.mapassign_fast32ptr",
    "runtime.mapassign_fast64",
    "runtime.mapassign_fast64ptr",
    "runtime.mapassign_faststr",
    "runtime.mapassign__fast32",
    "runtime.mapassign__fast32ptr",
    "runtime.mapassign__fast64",
    "runtime.mapassign__fast64ptr",
    "runtime.mapassign__faststr",
    "runtime.hashGrow",
    "runtime.growWork",
    "runtime.evacuate",
    "runtime.(*hmap).newoverflow",
    "runtime.hmap.newoverflow",
  ],
  // make(chan T, n) (chan.goc runtime·makechan, makechan_c; gccgo go-new-channel.c; chan.go).
  ["runtime.makechan", "makechan", "makechan_c", "__go_new_channel", "__go_new_channel_big", "runtime.makechan64"],
  // String building and conversions: s + t, string(b), []byte(s), string(r), []rune(s)
  // (string.goc gostringsize, concatstring, runtime·concatstring2..5, runtime·slicebytetostring,
  // ...; gccgo go-strplus.c, go-byte-array-to-string.c, ...; string.go rawstring, ...).
  [
    "gostringsize",
    "runtime.gostringsize",
    "runtime.gostring",
    "runtime.gostringn",
    "runtime.gobytes",
    "concatstring",
    "runtime.concatstring",
    "runtime.concatstring2",
    "runtime.concatstring3",
    "runtime.concatstring4",
    "runtime.concatstring5",
    "runtime.concatstrings",
    "runtime.slicebytetostring",
    "runtime.stringtoslicebyte",
    "runtime.slicerunetostring",
    "runtime.stringtoslicerune",
    "runtime.intstring",
    "runtime.rawstring",
    "runtime.rawstringtmp",
    "runtime.rawbyteslice",
    "runtime.rawruneslice",
    "__go_string_plus",
    "__go_byte_array_to_string",
    "__go_string_to_byte_array",
    "__go_int_array_to_string",
    "__go_string_to_int_array",
    "__go_int_to_string",
  ],
  // A value stored in an interface: its boxed copy (iface.goc copyin, runtime·convT2E,
  // runtime·convT2I; iface.go convT and its sized variants).
  [
    "copyin",
    "runtime.convT2E",
    "runtime.convT2I",
    "runtime.convT2Enoptr",
    "runtime.convT2Inoptr",
    "runtime.convT",
    "runtime.convTnoptr",
    "runtime.convT16",
    "runtime.convT32",
    "runtime.convT64",
    "runtime.convTstring",
    "runtime.convTslice",
  ],
];

const ALLOCATOR_FRAMES: ReadonlySet<string> = new Set(ALLOCATOR_FRAME_GROUPS.flat());

export function isAllocatorFrame(func: string): boolean {
  return ALLOCATOR_FRAMES.has(func);
}

/**
 * Index of the frame that names a stack's site: the first past the leading run of allocator
 * frames, or 0 when every frame is the allocator's (the runtime allocating for itself).
 */
export function siteFrameIndex(stack: readonly string[]): number {
  let i = 0;
  while (i < stack.length && ALLOCATOR_FRAMES.has(stack[i]!)) i++;
  return i === stack.length ? 0 : i;
}

/** What a report keeps of a stack: function names and their `file:line` ("" when unknown), innermost first. */
export interface SiteStack {
  stack: readonly string[];
  locations: readonly string[];
  /** siteFrameIndex(stack). */
  siteFrame: number;
}

/** One frame of a site, as a table shows it. */
export interface SiteFrame {
  func: string;
  /** `file:line` as the trace gave it; "" when it gave none. */
  location: string;
}

/** The frames that name a site: from siteFrame on, at most `depth` of them. */
export function siteFrames(s: SiteStack, depth = DEFAULT_SITE_DEPTH): SiteFrame[] {
  const frames: SiteFrame[] = [];
  for (let i = s.siteFrame; i < s.stack.length && frames.length < depth; i++) frames.push({ func: s.stack[i]!, location: s.locations[i] ?? "" });
  return frames;
}

/** Two sites are one when this key is equal. */
export function siteKey(frames: readonly SiteFrame[]): string {
  return frames.map((f) => f.func + "\u0000" + f.location).join("\u0001");
}

/**
 * A site as one line: `func file:line < caller file:line`, innermost first; the file's base
 * name only (its function names its package). Trace text, so escaped.
 */
export function siteLabel(frames: readonly SiteFrame[]): string {
  return printable(
    frames
      .map((f) => {
        if (f.location === "") return f.func;
        return `${f.func} ${f.location.slice(f.location.lastIndexOf("/") + 1)}`;
      })
      .join(" < "),
  );
}

/** Entries merged by site: the site's frames and the merged figures, in first-seen order. */
export function groupBySite<T extends SiteStack, F>(entries: readonly T[], depth: number, figures: (e: T) => F, add: (into: F, e: T) => void): { frames: SiteFrame[]; figures: F }[] {
  const bySite = new Map<string, { frames: SiteFrame[]; figures: F }>();
  for (const e of entries) {
    const frames = siteFrames(e, depth);
    const key = siteKey(frames);
    const known = bySite.get(key);
    if (known === undefined) bySite.set(key, { frames, figures: figures(e) });
    else add(known.figures, e);
  }
  return [...bySite.values()];
}
