// Synthetic trace generator: a seeded, Go-like native trace (`goalloc-trace 1`) of any length.
//
// The program it pretends to be allocates a mix of tiny pointer-free objects (< 16 B), small
// objects (16 B – 1 KiB, most of them), medium ones (1 – 32 KiB) and a few large ones (over
// 32 KiB), typed as a Go program's would be, from a fixed set of call stacks. Objects live in
// three pools of slots whose sizes set their lifetimes:
//
//   pool      slots   chosen   mean lifetime (events)   holds
//   nursery      64    60 %    ~ 100                    tiny, small and medium
//   young      4096    37 %    ~ 11 000                 any size, large included
//   old       16384     3 %    ~ 540 000                tiny, small and medium
//
// Every event picks a pool and a slot in it: an empty slot gets a new object (`a`), a full
// one loses its object (`d`, or now and then an explicit `f` when the object is at least 16
// bytes, which is never a tiny block). So each pool stays about half full; the old pool starts
// that way, filled by the trace's first OldSlots/2 events (the program's start-up). A slot's
// ID names one object at a time and is reused only after that object's `d` or `f`, as
// the native format allows. Between these events come clock ticks (`t`, every ~1000 events,
// 1–120 ms each, so the scavenger runs too) and forced collections (`gc`, every ~60 000 events).
//
// The live set is bounded by the pools, not by the trace length: a 10M-event trace has the
// live set of a 1M-event one (the 1M trace is even a prefix of the 10M one with the same
// seed), and live requested bytes never exceed LiveBytesCap, so replays stay within a
// realistic heap on every arch. All randomness is a 32-bit SplitMix in integer math: a seed
// gives the same bytes on every platform and Node version.
//
// The text is produced in chunks of ChunkBytes written byte by byte into Buffers (no string
// building per line); memory use is the pools plus one chunk.

export interface GenerateOptions {
  /** Records to emit after the header and stack definitions (`a`, `d`, `f`, `t`, `gc`). */
  events: number;
  /** Any safe integer ≥ 0 (folded into the generator's 32-bit state). */
  seed: number;
}

/** Size of the Buffers the generator yields (the last one may be shorter). */
const ChunkBytes = 1 << 20;

/** Room kept at the end of a chunk: more than the longest line the generator writes. */
const LineRoom = 256;

/** Upper bound of live requested bytes; a larger allocation is made small instead. */
const LiveBytesCap = 48 << 20;

const NurserySlots = 64;
const YoungSlots = 4096;
const OldSlots = 16384;
const TotalSlots = NurserySlots + YoungSlots + OldSlots;
const YoungBase = NurserySlots;
const OldBase = NurserySlots + YoungSlots;

/**
 * The first events fill (about) every other slot of the old pool, as a program builds its
 * long-lived data at start: the old pool starts at the half occupancy that random picks keep
 * it at (which they alone would take ~OldSlots × 1024/31 events to reach).
 */
const WarmUpEvents = OldSlots / 2;

/** Out of 1024 events: the nursery is chosen below NurseryPick, the young pool below YoungPick. */
const NurseryPick = 614;
const YoungPick = 993;

/** Out of 1024 deaths of an object of at least 16 bytes: an explicit free below FreePick. */
const FreePick = 40;

/** Events between clock ticks: uniform in [TickMin, TickMin + TickSpread). */
const TickMin = 500;
const TickSpread = 1000;
/** Clock advance of a tick, in ns: uniform in [1 ms, 121 ms). */
const TickNsMin = 1_000_000;
const TickNsSpread = 120_000_000;

/** Events between forced collections: uniform in [GCMin, GCMin + GCSpread). */
const GCMin = 20_000;
const GCSpread = 80_000;

/** Size categories, with their share (out of 1024) of the allocations that may draw them. */
const enum SizeCategory {
  Tiny,
  Small,
  Medium,
  Large,
}
const TinyPick = 307;
const SmallPick = 307 + 614;
const MediumPick = 307 + 614 + 100;
// The rest (3 in 1024) are large, except in the nursery and old pools (then medium).

/**
 * Allocation sites: innermost frame first. The generator picks stack k with weight
 * proportional to 1/(k+1) (a few hot sites, a long tail), using StackPick.
 */
const STACKS: readonly string[] = [
  "strings.Join;main.render;main.main",
  "main.newNode;main.parse;main.main",
  "bytes.makeSlice;bytes.(*Buffer).grow;bytes.(*Buffer).Write;main.render;main.main",
  "runtime.makemap;main.index;main.main",
  "strconv.FormatInt;main.render;main.main",
  "main.(*tree).insert;main.index;main.main",
  "runtime.growslice;main.collect;main.main",
  "runtime.concatstrings;main.label;main.render;main.main",
  "bufio.NewReaderSize;main.load;main.main",
  "io/ioutil.readAll;main.load;main.main",
  "runtime.makechan;main.pipeline;main.main",
  "fmt.Sprintf;main.label;main.render;main.main",
  "encoding/json.(*decodeState).object;main.load;main.main",
  "sort.Strings;main.index;main.main",
  "main.(*cache).put;main.lookup;main.main",
  "regexp.(*Regexp).FindAllString;main.match;main.main",
];

/** Cumulative weights (×1000) of STACKS for 1/(k+1) popularity. */
const StackPick: Uint32Array = (() => {
  const cumulative = new Uint32Array(STACKS.length);
  let total = 0;
  for (let k = 0; k < STACKS.length; k++) {
    total += Math.round(1000 / (k + 1));
    cumulative[k] = total;
  }
  return cumulative;
})();

/**
 * What an allocation is: its size category, the flags, kind and type written after `stack=`,
 * and a fixed size for a single (non-array) type (0 for arrays and untyped bytes, whose size
 * is drawn). Array types name their element type, as the runtime's TypeInfo does; pointer-free
 * types carry `flags=noscan`, which is what sends objects under 16 bytes to the tiny allocator.
 */
interface Shape {
  readonly category: SizeCategory;
  /** ` flags=noscan` or nothing, written before `stack=`. */
  readonly flags: Buffer;
  /** ` kind=... type=...` or nothing, and the newline. */
  readonly suffix: Buffer;
  readonly size: number;
}

const NOSCAN = Buffer.from(" flags=noscan", "latin1");
const NO_FLAGS = Buffer.alloc(0);

function shape(category: SizeCategory, noscan: boolean, typeText: string, size = 0): Shape {
  return { category, flags: noscan ? NOSCAN : NO_FLAGS, suffix: Buffer.from(`${typeText}\n`, "latin1"), size };
}

/** Shapes per size category; the generator picks one uniformly. */
const SHAPES: readonly (readonly Shape[])[] = [
  // Tiny: string bytes (untyped), small scalars and byte slices.
  [
    shape(SizeCategory.Tiny, true, ""),
    shape(SizeCategory.Tiny, true, ""),
    shape(SizeCategory.Tiny, true, " kind=single type=int64", 8),
    shape(SizeCategory.Tiny, true, " kind=array type=uint8"),
    shape(SizeCategory.Tiny, true, " kind=single type=float64", 8),
  ],
  // Small: structs, pointer slices, strings and byte slices, maps and channels.
  [
    shape(SizeCategory.Small, false, " kind=single type=main.node", 48),
    shape(SizeCategory.Small, false, " kind=single type=main.entry", 32),
    shape(SizeCategory.Small, false, " kind=single type=main.tree", 64),
    shape(SizeCategory.Small, false, " kind=array type=*main.node"),
    shape(SizeCategory.Small, true, " kind=array type=uint8"),
    shape(SizeCategory.Small, true, ""),
    shape(SizeCategory.Small, false, " kind=single type=runtime.hmap", 48),
    shape(SizeCategory.Small, false, " kind=array type=map.bucket[string]int"),
    shape(SizeCategory.Small, false, " kind=chan type=chan int", 96),
  ],
  // Medium: buffers and slices of structs or pointers.
  [
    shape(SizeCategory.Medium, true, " kind=array type=uint8"),
    shape(SizeCategory.Medium, false, " kind=array type=main.entry"),
    shape(SizeCategory.Medium, false, " kind=array type=*main.node"),
    shape(SizeCategory.Medium, true, " kind=array type=int64"),
  ],
  // Large: big buffers and tables.
  [
    shape(SizeCategory.Large, true, " kind=array type=uint8"),
    shape(SizeCategory.Large, false, " kind=array type=*main.node"),
    shape(SizeCategory.Large, true, ""),
  ],
];

const BYTES_A = Buffer.from("a ", "latin1");
const BYTES_D = Buffer.from("d ", "latin1");
const BYTES_F = Buffer.from("f ", "latin1");
const BYTES_T = Buffer.from("t ", "latin1");
const BYTES_GC = Buffer.from("gc\n", "latin1");
const BYTES_STACK = Buffer.from(" stack=", "latin1");
const SPACE = 0x20;
const LF = 0x0a;
const DIGIT_0 = 0x30;

/** SplitMix32: a 32-bit state stepped by the golden ratio, then a 32-bit finaliser. */
class SplitMix32 {
  private state: number;

  constructor(seed: number) {
    // Fold the high bits of a 53-bit seed into the low 32.
    this.state = (seed ^ Math.floor(seed / 0x1_0000_0000) ^ 0x5bd1e995) >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform in [0, n) for n ≤ 2^21 (the product stays an exact double). */
  below(n: number): number {
    return Math.floor((this.next() * n) / 0x1_0000_0000);
  }
}

/** Appends ASCII to a chunk; the generator hands the chunk out when it is nearly full. */
class ChunkWriter {
  bytes: Buffer = Buffer.allocUnsafe(ChunkBytes);
  length = 0;

  /** True when the next line might not fit. */
  full(): boolean {
    return this.length > ChunkBytes - LineRoom;
  }

  /** The written part of the chunk, and a fresh chunk for what follows. */
  take(): Buffer {
    const done = this.bytes.subarray(0, this.length);
    this.bytes = Buffer.allocUnsafe(ChunkBytes);
    this.length = 0;
    return done;
  }

  /** Byte by byte: the pieces are a few bytes long, where Buffer.copy's call costs more. */
  put(source: Buffer): void {
    const bytes = this.bytes;
    let at = this.length;
    for (let i = 0; i < source.length; i++) bytes[at++] = source[i]!;
    this.length = at;
  }

  byte(value: number): void {
    this.bytes[this.length++] = value;
  }

  /** A safe integer ≥ 0 in decimal. */
  decimal(value: number): void {
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    const bytes = this.bytes;
    let at = this.length + digits;
    this.length = at;
    do {
      bytes[--at] = DIGIT_0 + (value % 10);
      value = Math.floor(value / 10);
    } while (value > 0);
  }
}

/**
 * The trace for `options`, as Buffers of at most ChunkBytes (each a new Buffer, so a consumer
 * may keep them). Deterministic: the same options give the same bytes.
 */
export function* generateTrace(options: GenerateOptions): Generator<Buffer, void, undefined> {
  const { events, seed } = options;
  if (!Number.isSafeInteger(events) || events < 0) throw new RangeError(`events must be a safe integer ≥ 0, got ${events}`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a safe integer ≥ 0, got ${seed}`);
  const rng = new SplitMix32(seed);
  const out = new ChunkWriter();
  out.put(Buffer.from(`goalloc-trace 1\n# synthetic Go-like trace: goalloc gen --seed ${seed}\n`, "latin1"));
  for (let k = 0; k < STACKS.length; k++) out.put(Buffer.from(`s ${k + 1} ${STACKS[k]}\n`, "latin1"));

  // Per slot: requested size of its object (0 = empty slot; the generator never asks for 0).
  const slotSize = new Uint32Array(TotalSlots);
  let liveBytes = 0;
  let clock = 0;
  let nextTick = TickMin + rng.below(TickSpread);
  let nextGC = GCMin + rng.below(GCSpread);

  for (let event = 0; event < events; event++) {
    if (out.full()) yield out.take();
    if (event === nextTick) {
      nextTick += TickMin + rng.below(TickSpread);
      clock += TickNsMin + rng.below(TickNsSpread / 64) * 64;
      out.put(BYTES_T);
      out.decimal(clock);
      out.byte(LF);
      continue;
    }
    if (event === nextGC) {
      nextGC += GCMin + rng.below(GCSpread);
      out.put(BYTES_GC);
      continue;
    }
    const slot = event < WarmUpEvents ? OldBase + 2 * event : pickSlot(rng);
    const occupant = slotSize[slot]!;
    if (occupant !== 0) {
      // 16 bytes or more is never a tiny block and never class 1 (8 B): free may take it.
      out.put(occupant >= 16 && rng.below(1024) < FreePick ? BYTES_F : BYTES_D);
      out.decimal(slot);
      out.byte(LF);
      slotSize[slot] = 0;
      liveBytes -= occupant;
      continue;
    }
    let s = pickShape(rng, pickCategory(rng.below(1024), slot));
    let size = s.size !== 0 ? s.size : drawSize(rng, s.category);
    if (liveBytes + size > LiveBytesCap) {
      s = pickShape(rng, SizeCategory.Small);
      size = s.size !== 0 ? s.size : drawSize(rng, SizeCategory.Small);
    }
    slotSize[slot] = size;
    liveBytes += size;
    out.put(BYTES_A);
    out.decimal(slot);
    out.byte(SPACE);
    out.decimal(size);
    out.put(s.flags);
    out.put(BYTES_STACK);
    out.decimal(pickStack(rng.below(StackPick[StackPick.length - 1]!)) + 1);
    out.put(s.suffix);
  }
  if (out.length > 0) yield out.take();
}

function pickShape(rng: SplitMix32, category: SizeCategory): Shape {
  const shapes = SHAPES[category]!;
  return shapes[rng.below(shapes.length)]!;
}

/** The slot an event acts on: a pool by its share of events, then a slot in it. */
function pickSlot(rng: SplitMix32): number {
  const pick = rng.below(1024);
  if (pick < NurseryPick) return rng.below(NurserySlots);
  if (pick < YoungPick) return YoungBase + rng.below(YoungSlots);
  return OldBase + rng.below(OldSlots);
}

/** The size category of a new object in `slot` for a draw in [0, 1024). */
function pickCategory(draw: number, slot: number): SizeCategory {
  if (draw < TinyPick) return SizeCategory.Tiny;
  if (draw < SmallPick) return SizeCategory.Small;
  // Large objects live in the young pool only, so long lives never pin big spans.
  if (draw < MediumPick || slot < YoungBase || slot >= OldBase) return SizeCategory.Medium;
  return SizeCategory.Large;
}

/** A requested size for a category; small sizes lean to the low end, as in Go programs. */
function drawSize(rng: SplitMix32, category: SizeCategory): number {
  switch (category) {
    case SizeCategory.Tiny:
      return 1 + rng.below(15);
    case SizeCategory.Small: {
      // The smaller of two uniform draws: density falls linearly from 16 B to 1 KiB.
      const a = rng.below(1009);
      const b = rng.below(1009);
      return 16 + (a < b ? a : b);
    }
    case SizeCategory.Medium:
      // Log-uniform over [1 KiB, 32 KiB): a power-of-two octave, then uniform within it.
      return powerOfTwoOctave(rng, 10, 5);
    case SizeCategory.Large:
      // Log-uniform over [32 KiB + 1, 1 MiB]: the octave's low end is just past 32 KiB.
      return 1 + powerOfTwoOctave(rng, 15, 5);
  }
}

/** Uniform within [2^k, 2^(k+1)) for k uniform in [lowExponent, lowExponent + octaves). */
function powerOfTwoOctave(rng: SplitMix32, lowExponent: number, octaves: number): number {
  const low = 2 ** (lowExponent + rng.below(octaves));
  return low + rng.below(low);
}

/** The stack index whose cumulative weight first exceeds `draw`. */
function pickStack(draw: number): number {
  let k = 0;
  while (StackPick[k]! <= draw) k++;
  return k;
}
