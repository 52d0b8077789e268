// What the head of a Go log says about the run that printed it: which runtime generation (the
// go1.3-era C allocator goalloc emulates, or Go 1.4+'s Go-language one), the pointer size of its
// addresses and the arena layout they come from. The replay uses it to choose the collection
// schedule (docs/exact-replay.md) and to refuse an --arch the log cannot have come from.

/** go1.3: malloc.goc (gc 1.3, gccgo's libgo of that era); modern: malloc.go (gc 1.4+, gccgo 5+). */
export type LogGeneration = "go1.3" | "modern";

/** The arena layouts goalloc knows, as the log shows them. */
export type LogLayout = "amd64" | "arm64" | "386" | "arm";

export interface LogProfile {
  /** null: the head holds no tracealloc record that tells. */
  generation: LogGeneration | null;
  /** 8 when the first traced address needs more than 32 bits; null without one. */
  ptrSize: 4 | 8 | null;
  /** The layout the addresses (and, on 32 bits, the start-up frames) point to. */
  layout: LogLayout | null;
  /** The first traced address, as printed. */
  firstAddress: string | null;
}

const GiB = 2 ** 30;
/** gccgo's aarch64 arena hint (0x40 << 32) and the 128 GiB it reserves there (malloc.goc mallocinit). */
const ARM64_ARENA = { start: 0x40 * 2 ** 32, end: 0x40 * 2 ** 32 + 128 * GiB };

/** go1.3's runtime·tracealloc prints the kind before the type: `single object of T`, `array of T`. */
const KIND_WORD = /^(single object|array|channel)( of |$)/;
const TRACEALLOC = /^tracealloc\((0x[0-9a-f]+), (0x[0-9a-f]+)(?:, (.*))?\)\s*$/;
/** A frame inside the allocator tells its source file: malloc.goc (C) or malloc.go (Go). */
const MALLOC_FILE = /\/malloc\.go(c?):\d+/;
/** The 32-bit start-up frame `_rt0_go` names its assembly file (gc only; gccgo has none). */
const ASM_FILE = /\/asm_(amd64|386|arm|arm64)\.s:\d+/;

/** Read the profile off the first records of a log (the format sniffer's bytes). */
export function profileLog(head: Buffer): LogProfile {
  const profile: LogProfile = { generation: null, ptrSize: null, layout: null, firstAddress: null };
  const text = head.toString("latin1");
  let asm: string | null = null;
  let sawAlloc = false;
  for (const raw of text.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const alloc = TRACEALLOC.exec(line);
    if (alloc !== null) {
      if (profile.firstAddress !== null) {
        // A second record: the first one's frames have been read.
        if (profile.generation !== null) break;
        continue;
      }
      profile.firstAddress = alloc[1]!;
      const kind = alloc[3];
      if (kind !== undefined && KIND_WORD.test(kind)) profile.generation = "go1.3";
      sawAlloc = true;
      continue;
    }
    if (!sawAlloc) continue;
    const file = MALLOC_FILE.exec(line);
    if (file !== null && profile.generation === null) profile.generation = file[1] === "c" ? "go1.3" : "modern";
    const a = ASM_FILE.exec(line);
    if (a !== null && asm === null) asm = a[1]!;
  }
  if (profile.firstAddress !== null) {
    const addr = Number.parseInt(profile.firstAddress.slice(2), 16);
    profile.ptrSize = addr >= 2 ** 32 ? 8 : 4;
    if (profile.ptrSize === 8) profile.layout = addr >= ARM64_ARENA.start && addr < ARM64_ARENA.end ? "arm64" : "amd64";
    else profile.layout = asm === "arm" ? "arm" : "386";
  }
  return profile;
}

/** How a report names the runtime that printed a log. */
export function generationName(generation: string | null): string {
  return generation === "go1.3" ? "go1.3 log" : generation === "modern" ? "Go 1.4+ log" : "golog";
}
