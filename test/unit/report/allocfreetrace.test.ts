// Tests of the allocfreetrace writer: exact gccgo-format text for small native traces, the
// origins goalloc's own golog reader reads back from it, streaming, and a replay round trip.

import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { allocFreeTrace, replay, type ReplayOptions, type ReplayResult } from "../../../src/index.js";
import { GologParser } from "../../../src/trace/golog.js";
import { FreeOrigin, RecordKind } from "../../../src/trace/record.js";
import { collect } from "../trace/helpers.js";
import { needsOracle, oraclePath } from "../../oracle.js";

const scratch = mkdtempSync(join(tmpdir(), "goalloc-allocfreetrace-"));
let traces = 0;

/** Replay a native trace text and return the allocfreetrace output and the pieces it came in. */
async function traceOf(text: string, options: Partial<ReplayOptions> = {}): Promise<{ out: string; pieces: string[]; result: ReplayResult }> {
  const file = join(scratch, `t${traces++}.trace`);
  writeFileSync(file, text);
  const pieces: string[] = [];
  const result = await replay(file, options, allocFreeTrace((piece) => pieces.push(piece)));
  return { out: pieces.join(""), pieces, result };
}

const frame = (func: string, file: string): string => `${func}\n\t../../../src/libgo/runtime/${file}:0\n`;
const MALLOCGC = frame("runtime_mallocgc", "malloc.goc");
const SETTYPE = frame("settype", "malloc.goc");
const GO_NEW = frame("__go_new", "go-new.c");
const GO_ALLOC = frame("__go_alloc", "malloc.goc");
const GO_FREE = frame("__go_free", "malloc.goc");
const GC_ON_G0 = frame("gc", "mgc0.c") + frame("mgc", "mgc0.c");
/** gc()'s eager sweep keeps its libgo line, which tells it from the leftover sweep (line 2253). */
const GC_EAGER_SWEEP = "gc\n\t../../../src/libgo/runtime/mgc0.c:2376\n" + frame("mgc", "mgc0.c");
const PROGRAM = "main.work\n\t:0\nmain.main\n\t:0\n";
const RUNNING = "goroutine 16 [running]:\n";

describe("allocfreetrace output", () => {
  const scenario = `goalloc-trace 1
s 1 main.work;main.main
a x 48 flags=noinvokegc stack=1 kind=single type=main.T
a t1 5 flags=noscan,noinvokegc stack=1
a t2 3 flags=noscan,noinvokegc stack=1
a b 64 flags=noscan,noinvokegc stack=1
a c1 64 flags=noscan,noinvokegc stack=1
a c2 64 flags=noscan,noinvokegc stack=1
a c3 64 flags=noscan,noinvokegc stack=1
f b
d c3
d c1
gc
`;

  it("prints each record as gccgo does, in the runtime's order", async () => {
    const { out } = await traceOf(scenario);
    const alloc = (addr: string, size: string, kind: string, frames: string): string => `tracealloc(${addr}, ${size}, ${kind})\n${RUNNING}${frames}\n`;
    expect(out).toBe(
      // The span type table of x's class-3 span (64 + 170 bytes), printed before x itself.
      alloc("0xc208004000", "0xf0", "single object", MALLOCGC + SETTYPE + MALLOCGC + GO_NEW + PROGRAM) +
        alloc("0xc208002000", "0x30", "single object of main.T", MALLOCGC + GO_NEW + PROGRAM) +
        // t1 opens a tiny block (on the self-test's freed slot); t2 fits in it and prints nothing.
        alloc("0xc208000000", "0x10", "single object", MALLOCGC + GO_ALLOC + PROGRAM) +
        alloc("0xc208006000", "0x40", "single object", MALLOCGC + GO_ALLOC + PROGRAM) +
        alloc("0xc208006040", "0x40", "single object", MALLOCGC + GO_ALLOC + PROGRAM) +
        alloc("0xc208006080", "0x40", "single object", MALLOCGC + GO_ALLOC + PROGRAM) +
        alloc("0xc2080060c0", "0x40", "single object", MALLOCGC + GO_ALLOC + PROGRAM) +
        `tracefree(0xc208006000, 0x40)\n${RUNNING}${GO_FREE}\n` +
        "tracegc()\n\ngoroutine 16 [garbage collection]:\n" +
        frame("runtime_gc", "mgc0.c") +
        frame("runtime.GC", "mgc0.c") +
        "end tracegc\n\n" +
        // The collection's first-use parallel-for descriptor, then its sweep, ascending.
        "tracealloc(0xc208008000, 0x480, single object)\ngoroutine 16 [garbage collection]:\n" +
        MALLOCGC +
        GO_ALLOC +
        frame("runtime_parforalloc", "parfor.c") +
        GC_ON_G0 +
        "\n" +
        `tracefree(0xc208006040, 0x40)\ngoroutine 0 [idle]:\n${frame("runtime_MSpan_Sweep", "mgc0.c")}${frame("runtime_sweepone", "mgc0.c")}${GC_EAGER_SWEEP}\n` +
        `tracefree(0xc2080060c0, 0x40)\ngoroutine 0 [idle]:\n${frame("runtime_MSpan_Sweep", "mgc0.c")}${frame("runtime_sweepone", "mgc0.c")}${GC_EAGER_SWEEP}\n`,
    );
  });

  it("reads back through the golog reader: addresses, sizes, types, stacks", async () => {
    const { out } = await traceOf(scenario);
    const parser = new GologParser("emulated.log");
    const records = collect(parser, out);
    expect(parser.skippedLines).toBe(0);
    expect(records.map((r) => [r.kind, r.id, r.size])).toEqual([
      [RecordKind.Alloc, "0xc208004000", 0xf0],
      [RecordKind.Alloc, "0xc208002000", 0x30],
      [RecordKind.Alloc, "0xc208000000", 0x10],
      [RecordKind.Alloc, "0xc208006000", 0x40],
      [RecordKind.Alloc, "0xc208006040", 0x40],
      [RecordKind.Alloc, "0xc208006080", 0x40],
      [RecordKind.Alloc, "0xc2080060c0", 0x40],
      [RecordKind.Dead, "0xc208006000", 0x40],
      [RecordKind.GC, expect.any(String), expect.any(Number)],
      [RecordKind.Alloc, "0xc208008000", 0x480],
      [RecordKind.Dead, "0xc208006040", 0x40],
      [RecordKind.Dead, "0xc2080060c0", 0x40],
    ]);
    expect(records[1]!.typeName).toBe("main.T");
    expect(parser.stacks.frames(records[1]!.stack).map((f) => f.func)).toEqual(["runtime_mallocgc", "__go_new", "main.work", "main.main"]);
    expect(records[8]!.forced).toBe(true);
    // The eager sweep's frees name gc's call site, which the reader keeps.
    expect([records[10]!.origin, records[10]!.sweepSite, records[11]!.sweepSite]).toEqual([FreeOrigin.GCSweep, 2376, 2376]);
  });

  it("every free classifies to the origin that printed it", async () => {
    // Deaths before a pacer collection, then: an explicit free whose EnsureSwept sweeps its
    // span, a refill (CacheSpan), a page allocation (Reclaim), runtime.GC, idle time (the
    // finalizer goroutine's collection and the background sweeper) and the scavenger.
    const { out, result } = await traceOf(`goalloc-trace 1
s 1 main.work;main.main
s 2 main.other;main.main
a keep 4096 flags=noscan stack=1
a o1 144 flags=noscan stack=1
a o2 144 flags=noscan stack=1
a o3 144 flags=noscan stack=1
a e1 144 flags=noscan stack=1
a s1 32 flags=noscan stack=1
a s2 32 flags=noscan stack=1
a L1 50000 flags=noscan stack=2
a L2 50000 flags=noscan stack=2
d o1
d o3
d s1
d L1
a big 3000000 flags=noscan stack=2
f e1
a s3 32 flags=noscan stack=1
a p1 2048 flags=noscan stack=1
d o2
d big
t 1000000
a f1 64 stack=1 kind=single type=main.F
fin f1
d f1
gc
t 2000000
t 200000000000
`);
    expect(result.report.error).toBeNull();
    const records = collect(new GologParser("emulated.log"), out);
    const frees = records.filter((r) => r.kind === RecordKind.Dead).map((r) => [r.id, r.origin, r.goroutine]);
    expect(frees).toEqual([
      ["0xc2080001b0", FreeOrigin.Explicit, 16],
      ["0xc208000000", FreeOrigin.EnsureSwept, 16],
      ["0xc208000120", FreeOrigin.EnsureSwept, 16],
      ["0xc208006000", FreeOrigin.CacheSpan, 16],
      ["0xc208008000", FreeOrigin.Reclaim, 16],
      ["0xc208000090", FreeOrigin.GCSweep, 0],
      ["0xc208024000", FreeOrigin.GCSweep, 0],
      ["0xc20800a000", FreeOrigin.BgSweep, 18],
    ]);
    // Collections: three by the pacer (main goroutine), runtime.GC, runfinq, the scavenger.
    const gcs = records.filter((r) => r.kind === RecordKind.GC).map((r) => [r.goroutine, r.forced]);
    expect(gcs).toEqual([
      [16, false],
      [16, false],
      [16, false],
      [16, true],
      [19, false],
      [17, false],
    ]);
  });

  it("replays back to the same addresses (a golog replay of the output)", async () => {
    const { out, result } = await traceOf(`goalloc-trace 1
s 1 main.work;main.main
a keep 4096 flags=noscan stack=1
a n1 48 stack=1 kind=single type=main.T
a n2 48 stack=1 kind=single type=*main.U
a n3 100 flags=noscan stack=1
d n1
d n3
a big 300000 flags=noscan stack=1
f big
a n4 100 flags=noscan stack=1
gc
a n5 48 stack=1 kind=single type=main.T
`);
    const log = join(scratch, "roundtrip.log");
    writeFileSync(log, out);
    const back = await replay(log, { format: "golog", gc: "log", prologue: "none" });
    expect(back.report.error).toBeNull();
    expect(back.report.fidelity).toEqual({ allocs: expect.any(Number), addressMatches: back.report.fidelity!.allocs, firstDivergence: null, notComparable: null });
    expect(back.report.fidelity!.allocs).toBe(out.split("\n").filter((l) => l.startsWith("tracealloc(")).length);
    expect(back.report.memstats.HeapAlloc).toBe(result.report.memstats.HeapAlloc);
  });

  it("streams in large pieces and flushes what is left when the replay ends, even on an error", async () => {
    let text = "goalloc-trace 1\ns 1 main.work;main.main\n";
    for (let i = 0; i < 2000; i++) text += `a o${i} 64 flags=noscan,noinvokegc stack=1\n`;
    text += "f nosuchobject\n";
    const { out, pieces, result } = await traceOf(text);
    expect(result.report.error?.kind).toBe("trace");
    expect(pieces.length).toBeGreaterThan(1);
    for (const piece of pieces.slice(0, -1)) expect(piece.length).toBeGreaterThanOrEqual(256 * 1024);
    expect(out.split("\n").filter((l) => l.startsWith("tracealloc(")).length).toBe(2000);
    expect(out.endsWith("\n\n")).toBe(true);
  });
});

const P2_LARGE = oraclePath("go1.3.3-amd64", "p2_large.allocfreetrace.txt.xz");

describe("allocfreetrace of a replayed go1.3.3 log", needsOracle(P2_LARGE), () => {
  it("p2_large: replaying the output gives the same addresses and MemStats", async () => {
    const original = join(scratch, "p2_large.log");
    writeFileSync(original, execFileSync("xz", ["-dc", P2_LARGE], { maxBuffer: 1 << 26 }));
    const pieces: string[] = [];
    const first = await replay(original, { gc: "log" }, allocFreeTrace((piece) => pieces.push(piece)));
    const emulated = join(scratch, "p2_large.emulated.log");
    writeFileSync(emulated, pieces.join(""));
    const startUp = first.outcome.startUp!;
    const second = await replay(emulated, { gc: "log", argc: startUp.argc, envc: startUp.envc });
    expect(second.report.error).toBeNull();
    expect(second.report.fidelity).toEqual(first.report.fidelity);
    expect(second.report.fidelity!.addressMatches).toBe(second.report.fidelity!.allocs);
    expect(second.report.memstats).toEqual(first.report.memstats);
  });
});
