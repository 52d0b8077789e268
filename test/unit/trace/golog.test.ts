// Tests of the Go allocfreetrace log reader on excerpts of real logs (gc 1.3.3, gccgo 12, gc 1.19,
// and the go1.3.3 gofmt log) and on hand-made edge cases.

import { describe, expect, it } from "vitest";
import { GologParser } from "../../../src/trace/golog.js";
import { FreeOrigin, RecordKind, TypeKind, type TraceRecord } from "../../../src/trace/record.js";
import { collect, errorOf } from "./helpers.js";

function parse(text: string, chunkSize?: number, until?: string): { records: TraceRecord[]; parser: GologParser } {
  const parser = new GologParser("go.log", until === undefined ? {} : { until });
  return { records: collect(parser, text, chunkSize), parser };
}

/** gc go1.3.3 linux/amd64 (oracle p0_baseline, p1_small, p2_large), records copied verbatim. */
const go133 = `tracealloc(0xc208010000, 0x900, single object)
goroutine 0 [idle]:
runtime.mallocgc(0x900, 0x0, 0x10)
\t/usr/local/go/src/pkg/runtime/malloc.goc:191 +0x145 fp=0x7ffec8044f68 sp=0x7ffec8044f00
runtime.malloc(0x808)
\t/usr/local/go/src/pkg/runtime/malloc.goc:264 +0x39 fp=0x7ffec8044f88 sp=0x7ffec8044f68
runtime.schedinit()
\t/usr/local/go/src/pkg/runtime/proc.c:175 +0xca fp=0x7ffec8044fc0 sp=0x7ffec8044f88
_rt0_go()
\t/usr/local/go/src/pkg/runtime/asm_amd64.s:91 +0x114 fp=0x7ffec8044fc8 sp=0x7ffec8044fc0

tracealloc(0xc208002120, 0x120, single object of runtime.g)
goroutine 0 [idle]:
runtime.mallocgc(0x120, 0x4e3a20, 0x0)
\t/usr/local/go/src/pkg/runtime/malloc.goc:191 +0x145 fp=0x7ffec8044ea8 sp=0x7ffec8044e40
cnew(0x4e3a20, 0x1, 0x0)
\t/usr/local/go/src/pkg/runtime/malloc.goc:836 +0xc1 fp=0x7ffec8044ec8 sp=0x7ffec8044ea8
runtime.cnew(0x4e3a20)
\t/usr/local/go/src/pkg/runtime/malloc.goc:843 +0x3b fp=0x7ffec8044ee8 sp=0x7ffec8044ec8
allocg()
\t/usr/local/go/src/pkg/runtime/proc.c:701 +0x55 fp=0x7ffec8044f10 sp=0x7ffec8044ee8
runtime.malg(0xc200002000)
\t/usr/local/go/src/pkg/runtime/proc.c:1780 +0x1e fp=0x7ffec8044f38 sp=0x7ffec8044f10
runtime.newproc1(0x521cf0, 0x7ffec8044fc0, 0x0, 0x425740)
\t/usr/local/go/src/pkg/runtime/proc.c:1855 +0x290 fp=0x7ffec8044f78 sp=0x7ffec8044f38
runtime.newproc(0x0, 0x521cf0)
\t/usr/local/go/src/pkg/runtime/proc.c:1819 +0x53 fp=0x7ffec8044fb0 sp=0x7ffec8044f78
_rt0_go()
\t/usr/local/go/src/pkg/runtime/asm_amd64.s:97 +0x120 fp=0x7ffec8044fc8 sp=0x7ffec8044fb0

PHASE tiny
tracealloc(0xc208000170, 0x10, array of uint8)
goroutine 16 [running]:
runtime.mallocgc(0x10, 0x4b3261, 0x1)
\t/usr/local/go/src/pkg/runtime/malloc.goc:191 +0x145 fp=0x7fb671808d50 sp=0x7fb671808ce8
cnew(0x4b3260, 0x4, 0x1)
\t/usr/local/go/src/pkg/runtime/malloc.goc:836 +0xc1 fp=0x7fb671808d70 sp=0x7fb671808d50
runtime.cnewarray(0x4b3260, 0x4)
\t/usr/local/go/src/pkg/runtime/malloc.goc:849 +0x3a fp=0x7fb671808d90 sp=0x7fb671808d70
makeslice1(0x4ad800, 0x4, 0x4, 0x7fb671808df0)
\t/usr/local/go/src/pkg/runtime/slice.goc:55 +0x4d fp=0x7fb671808da8 sp=0x7fb671808d90
runtime.makeslice(0x4ad800, 0x4, 0x4, 0x0, 0x4, 0x4)
\t/usr/local/go/src/pkg/runtime/slice.goc:36 +0xb3 fp=0x7fb671808dd8 sp=0x7fb671808da8
main.main()
\t/home/gopher/progs/p1_small.go:56 +0x22f fp=0x7fb671808f50 sp=0x7fb671808dd8
runtime.main()
\t/usr/local/go/src/pkg/runtime/proc.c:247 +0x11a fp=0x7fb671808fa8 sp=0x7fb671808f50
runtime.goexit()
\t/usr/local/go/src/pkg/runtime/proc.c:1445 fp=0x7fb671808fb0 sp=0x7fb671808fa8
created by _rt0_go
\t/usr/local/go/src/pkg/runtime/asm_amd64.s:97 +0x120

tracefree(0xc20800e020, 0x20)
goroutine 16 [running]:
runtime.MSpan_Sweep(0x7f2119aa5200)
\t/usr/local/go/src/pkg/runtime/mgc0.c:1894 +0x514 fp=0x7f2119912ce0 sp=0x7f2119912c08
runtime.MCentral_CacheSpan(0x5a7df0)
\t/usr/local/go/src/pkg/runtime/mcentral.c:48 +0x2b5 fp=0x7f2119912d10 sp=0x7f2119912ce0
runtime.MCache_Refill(0x7f2119aa1000, 0x3)
\t/usr/local/go/src/pkg/runtime/mcache.c:78 +0x119 fp=0x7f2119912d40 sp=0x7f2119912d10
runtime.mallocgc(0x20, 0x4b2fe1, 0x1)
\t/usr/local/go/src/pkg/runtime/malloc.goc:152 +0x30e fp=0x7f2119912da8 sp=0x7f2119912d40
main.main()
\t/home/gopher/progs/p2_large.go:38 +0x2a9 fp=0x7f2119912f50 sp=0x7f2119912e30
created by _rt0_go
\t/usr/local/go/src/pkg/runtime/asm_amd64.s:97 +0x120

PHASE drop_and_gc
tracegc()

goroutine 16 [garbage collection]:
runtime.gc(0x2)
\t/usr/local/go/src/pkg/runtime/mgc0.c:2329 +0x1c6 fp=0x7f2119912e20 sp=0x7f2119912df0
runtime.GC()
\t/usr/local/go/src/pkg/runtime/malloc.goc:853 +0x26 fp=0x7f2119912e30 sp=0x7f2119912e20
main.main()
\t/home/gopher/progs/p2_large.go:51 +0x6d6 fp=0x7f2119912f50 sp=0x7f2119912e30
runtime.main()
\t/usr/local/go/src/pkg/runtime/proc.c:247 +0x11a fp=0x7f2119912fa8 sp=0x7f2119912f50
runtime.goexit()
\t/usr/local/go/src/pkg/runtime/proc.c:1445 fp=0x7f2119912fb0 sp=0x7f2119912fa8
created by _rt0_go
\t/usr/local/go/src/pkg/runtime/asm_amd64.s:97 +0x120

goroutine 17 [runnable]:
runtime.MHeap_Scavenger()
\t/usr/local/go/src/pkg/runtime/mheap.c:507 fp=0x7f211992efa8 sp=0x7f211992efa0
runtime.goexit()
\t/usr/local/go/src/pkg/runtime/proc.c:1445 fp=0x7f211992efb0 sp=0x7f211992efa8
created by runtime.main
\t/usr/local/go/src/pkg/runtime/proc.c:207

goroutine 18 [runnable]:
bgsweep()
\t/usr/local/go/src/pkg/runtime/mgc0.c:1976 fp=0x7f211992cfa8 sp=0x7f211992cfa0
runtime.goexit()
\t/usr/local/go/src/pkg/runtime/proc.c:1445 fp=0x7f211992cfb0 sp=0x7f211992cfa8
created by runtime.gc
\t/usr/local/go/src/pkg/runtime/mgc0.c:2268
end tracegc

tracefree(0xc208040000, 0xa000)
goroutine 0 [idle]:
runtime.MSpan_Sweep(0x7f2119aa5b00)
\t/usr/local/go/src/pkg/runtime/mgc0.c:1894 +0x514 fp=0x7ffdf0f1c9b8 sp=0x7ffdf0f1c8e0
runtime.sweepone()
\t/usr/local/go/src/pkg/runtime/mgc0.c:2028 +0x11c fp=0x7ffdf0f1c9e8 sp=0x7ffdf0f1c9b8
gc(0x7f2119912e08)
\t/usr/local/go/src/pkg/runtime/mgc0.c:2512 +0x632 fp=0x7ffdf0f1cb18 sp=0x7ffdf0f1c9e8
mgc(0xc208002120)
\t/usr/local/go/src/pkg/runtime/mgc0.c:2349 +0x2e fp=0x7ffdf0f1cb28 sp=0x7ffdf0f1cb18
runtime.mcall(0x4261b7)
\t/usr/local/go/src/pkg/runtime/asm_amd64.s:181 +0x4b fp=0x7ffdf0f1cb38 sp=0x7ffdf0f1cb28

PHASE end
MEMSTATS_SNAPSHOT
MEMSTATS_DONE
`;

/** gccgo 12.2 (oracle gccgo12-amd64): no args, TABs in type strings, an unnamed last frame. */
const gccgo12 = `tracealloc(0xc00000c000, 0x8, *\truntime\truntime.p)
goroutine 0 [idle]:
runtime.mallocgc
\t../../../src/libgo/go/runtime/malloc.go:1212
runtime.makeslice
\t../../../src/libgo/go/runtime/slice.go:101
runtime.procresize
\t../../../src/libgo/go/runtime/proc.go:4488
runtime.schedinit
\t../../../src/libgo/go/runtime/proc.go:714
main
\t../../../src/libgo/runtime/go-main.c:56
__libc_start_call_main
\t../sysdeps/nptl/libc_start_call_main.h:58
__libc_start_main_impl
\t../csu/libc-start.c:360
_start
\t:0

\t:0

PHASE tiny
tracealloc(0xc00000a4c0, 0x10, int64)
goroutine 1 [running]:
runtime.mallocgc
\t../../../src/libgo/go/runtime/malloc.go:1212
runtime.newobject
\t../../../src/libgo/go/runtime/malloc.go:1292
main.main
\tprogs/p1_small.go:58
runtime.main
\t../../../src/libgo/go/runtime/proc.go:285

tracegc()

goroutine 6 [garbage collection]:
runtime.mcall
\t../../../src/libgo/runtime/proc.c:346
runtime.gcBgMarkWorker
\t../../../src/libgo/go/runtime/mgc.go:1330
runtime.kickoff
\t../../../src/libgo/go/runtime/proc.go:1316
created by runtime.gcStart
\t../../../src/libgo/go/runtime/mgc.go:640 +0x250

goroutine 1 [runnable]:
runtime.mcall
\t../../../src/libgo/runtime/proc.c:346
main.main
\tprogs/p1_small.go:70
end tracegc

tracefree(0xc00000c008, 0x8)
goroutine 0 [idle]:
runtime.sweepLocked.sweep
\t../../../src/libgo/go/runtime/mgcsweep.go:581
runtime.mcentral.uncacheSpan
\t../../../src/libgo/go/runtime/mcentral.go:226
runtime.mcache.releaseAll
\t../../../src/libgo/go/runtime/mcache.go:251
runtime.procresize
\t../../../src/libgo/go/runtime/proc.go:4525
runtime.startTheWorldWithSema
\t../../../src/libgo/go/runtime/proc.go:1235
runtime.gcMarkTermination..func3
\t../../../src/libgo/go/runtime/mgc.go:1036
runtime.systemstack..func1
\t../../../src/libgo/go/runtime/stubs.go:64
runtime_mstart
\t../../../src/libgo/runtime/proc.c:596

`;

/** gc go1.19.8 (oracle go1.19.8-amd64): modern form, `?` args, `(...)`, pc=, sweep from GC. */
const go119 = `tracealloc(0xc000014008, 0x8, *runtime.p)
goroutine 0 [idle]:
runtime.mallocgc(0x8, 0x4a8620, 0x1)
\t/usr/lib/go-1.19/src/runtime/malloc.go:1131 +0x7b1 fp=0x7ffcaf3cfe90 sp=0x7ffcaf3cfe18 pc=0x40c231
runtime.makeslice(0xc66125026e?, 0x1?, 0xc000000018?)
\t/usr/lib/go-1.19/src/runtime/slice.go:103 +0x52 fp=0x7ffcaf3cfeb8 sp=0x7ffcaf3cfe90 pc=0x447fd2
runtime.rt0_go()
\t/usr/lib/go-1.19/src/runtime/asm_amd64.s:345 +0x11c fp=0x7ffcaf3cffd8 sp=0x7ffcaf3cffd0 pc=0x45cd1c

tracealloc(0xc00001a010, 0x10)
goroutine 0 [idle]:
runtime.mallocgc(0x4, 0x0, 0x0)
\t/usr/lib/go-1.19/src/runtime/malloc.go:1131 +0x7b1 fp=0x7ffcaf3cfe70 sp=0x7ffcaf3cfdf8 pc=0x40c231

tracegc()

goroutine 6 [garbage collection]:
runtime.systemstack_switch()
\t/usr/lib/go-1.19/src/runtime/asm_amd64.s:459 fp=0xc000030538 sp=0xc000030530 pc=0x45ce40
runtime.gcMarkTermination()
\t/usr/lib/go-1.19/src/runtime/mgc.go:943 +0x173 fp=0xc0000306f0 sp=0xc000030538 pc=0x418153
created by runtime.gcBgMarkStartWorkers
\t/usr/lib/go-1.19/src/runtime/mgc.go:1159 +0x25

goroutine 2 [force gc (idle)]:
runtime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)
\t/usr/lib/go-1.19/src/runtime/proc.go:363 +0xd6 fp=0xc00002efb0 sp=0xc00002ef90 pc=0x435b16
runtime.goparkunlock(...)
\t/usr/lib/go-1.19/src/runtime/proc.go:369
end tracegc

tracefree(0xc000014010, 0x8)
goroutine 0 [idle]:
runtime.(*sweepLocked).sweep(0x7ffcaf3cfdf8?, 0x0)
\t/usr/lib/go-1.19/src/runtime/mgcsweep.go:577 +0x97e fp=0x7ffcaf3cfdb0 sp=0x7ffcaf3cfcd8 pc=0x422fbe
runtime.(*mcentral).uncacheSpan(0x0?, 0xe?)
\t/usr/lib/go-1.19/src/runtime/mcentral.go:226 +0xa5 fp=0x7ffcaf3cfdd8 sp=0x7ffcaf3cfdb0 pc=0x414de5
runtime.gcMarkTermination.func3()
\t/usr/lib/go-1.19/src/runtime/mgc.go:1059 +0x1e fp=0x7ffcaf3cff98 sp=0x7ffcaf3cff80 pc=0x417f3e
runtime.systemstack()
\t/usr/lib/go-1.19/src/runtime/asm_amd64.s:492 +0x49 fp=0x7ffcaf3cffa0 sp=0x7ffcaf3cff98 pc=0x45cea9

`;

/** Frees from the go1.3.3 gofmt log (oracle large/), shortened: bgsweep, EnsureSwept, explicit frees. */
const gofmtFrees = `tracefree(0xc208026000, 0x70)
goroutine 18 [running]:
runtime.MSpan_Sweep(0x7fe5bed4a600)
\t/usr/local/go/src/pkg/runtime/mgc0.c:1894 +0x514 fp=0x7fe5bebd1f60 sp=0x7fe5bebd1e88
runtime.sweepone()
\t/usr/local/go/src/pkg/runtime/mgc0.c:2028 +0x11c fp=0x7fe5bebd1f90 sp=0x7fe5bebd1f60
bgsweep()
\t/usr/local/go/src/pkg/runtime/mgc0.c:1980 +0x2e fp=0x7fe5bebd1fa8 sp=0x7fe5bebd1f90
runtime.goexit()
\t/usr/local/go/src/pkg/runtime/proc.c:1445 fp=0x7fe5bebd1fb0 sp=0x7fe5bebd1fa8
created by runtime.gc
\t/usr/local/go/src/pkg/runtime/mgc0.c:2268

tracefree(0xc2080b2000, 0x30)
goroutine 16 [running]:
runtime.MSpan_Sweep(0x7fe5bed4c100)
\t/usr/local/go/src/pkg/runtime/mgc0.c:1894 +0x514 fp=0xc2080956e8 sp=0xc208095610
runtime.MSpan_EnsureSwept(0x7fe5bed4c100)
\t/usr/local/go/src/pkg/runtime/mgc0.c:1771 +0xab fp=0xc208095708 sp=0xc2080956e8
removespecial(0xc2080b2810, 0x41ba01)
\t/usr/local/go/src/pkg/runtime/mheap.c:705 +0x6d fp=0xc208095740 sp=0xc208095708
runtime.removefinalizer(0xc2080b2810)
\t/usr/local/go/src/pkg/runtime/mheap.c:757 +0x30 fp=0xc208095760 sp=0xc208095740
runtime.SetFinalizer(0x552160, 0xc2080b2810, 0x0, 0x0)
\t/usr/local/go/src/pkg/runtime/malloc.goc:931 +0x373 fp=0xc2080957e0 sp=0xc208095760
os.(*file).close(0xc2080b2810, 0x0, 0x0)
\t/usr/local/go/src/pkg/os/file_unix.go:111 +0x146 fp=0xc208095848 sp=0xc2080957e0

tracefree(0xc208064000, 0x2000)
goroutine 0 [idle]:
runtime.free(0xc208064000)
\t/usr/local/go/src/pkg/runtime/malloc.goc:302 +0x104 fp=0x7fe5bebcdd68 sp=0x7fe5bebcdd20
runtime.stackfree(0xc208002120, 0xc208064000, 0xc208065fa8)
\t/usr/local/go/src/pkg/runtime/stack.c:159 +0x5e fp=0x7fe5bebcdd98 sp=0x7fe5bebcdd68
copystack(0xc208002120, 0x34, 0x4000)
\t/usr/local/go/src/pkg/runtime/stack.c:645 +0x25f fp=0x7fe5bebcde50 sp=0x7fe5bebcdd98
runtime.newstack()
\t/usr/local/go/src/pkg/runtime/stack.c:765 +0x442 fp=0x7fe5bebcdf98 sp=0x7fe5bebcde50
runtime.morestack()
\t/usr/local/go/src/pkg/runtime/asm_amd64.s:228 +0x61 fp=0x7fe5bebcdfa0 sp=0x7fe5bebcdf98

tracefree(0xc208062000, 0x2000)
goroutine 0 [idle]:
runtime.free(0xc208062000)
\t/usr/local/go/src/pkg/runtime/malloc.goc:302 +0x104 fp=0x7fe5bebcddf0 sp=0x7fe5bebcdda8
runtime.shrinkstack(0xc208002120)
\t/usr/local/go/src/pkg/runtime/stack.c:946 +0x1fe fp=0x7fe5bebcde50 sp=0x7fe5bebcddf0
gc(0xc208065580)
\t/usr/local/go/src/pkg/runtime/mgc0.c:2519 +0x66d fp=0x7fe5bebcdf80 sp=0x7fe5bebcde50
mgc(0xc208002120)
\t/usr/local/go/src/pkg/runtime/mgc0.c:2349 +0x2e fp=0x7fe5bebcdf90 sp=0x7fe5bebcdf80

tracefree(0xc2080aa000, 0x20)
goroutine 16 [running]:
runtime.MSpan_Sweep(0x7fe5bed4a000)
\t/usr/local/go/src/pkg/runtime/mgc0.c:1894 +0x514 fp=0xc208065410 sp=0xc208065338
runtime.sweepone()
\t/usr/local/go/src/pkg/runtime/mgc0.c:2028 +0x11c fp=0x7f2119912c60 sp=0x7f2119912c30
MHeap_ReclaimList(0x5a9c40, 0x5a9c60, 0x1, 0x0)
\t/usr/local/go/src/pkg/runtime/mheap.c:84 +0x67 fp=0xc208065448 sp=0xc208065410
MHeap_Reclaim(0x5a9c40, 0x1)
\t/usr/local/go/src/pkg/runtime/mheap.c:116 +0x44 fp=0xc208065478 sp=0xc208065448
MCentral_Grow(0x5abd38)
\t/usr/local/go/src/pkg/runtime/mcentral.c:213 +0x8a fp=0xc208065500 sp=0xc2080654d0
runtime.MCentral_CacheSpan(0x5abd38)
\t/usr/local/go/src/pkg/runtime/mcentral.c:85 +0x167 fp=0xc208065538 sp=0xc208065500

`;

function framesOf(parser: GologParser, stack: number): string[] {
  return parser.stacks.frames(stack).map((f) => `${f.func} @ ${f.location}`);
}

describe("GologParser on gc go1.3.3", () => {
  const { records: rs, parser } = parse(go133);

  it("finds every record, with its first line", () => {
    expect(rs.map((r) => [r.kind, r.line])).toEqual([
      [RecordKind.Alloc, 1],
      [RecordKind.Alloc, 12],
      [RecordKind.Alloc, 32],
      [RecordKind.Dead, 53],
      [RecordKind.GC, 69],
      [RecordKind.Dead, 102],
    ]);
    expect(parser.skippedLines).toBe(5);
    expect(parser.lines).toBe(117);
  });

  it("reads addresses, sizes, kinds and types of the old form", () => {
    expect(rs[0]).toMatchObject({
      id: "0xc208010000",
      address: 0xc208010000,
      size: 0x900,
      typeName: null,
      typeKind: TypeKind.Single,
      goroutine: 0,
    });
    expect(rs[1]).toMatchObject({ id: "0xc208002120", size: 0x120, typeName: "runtime.g", typeKind: TypeKind.Single });
    expect(rs[2]).toMatchObject({
      id: "0xc208000170",
      size: 0x10,
      typeName: "uint8",
      typeKind: TypeKind.Array,
      goroutine: 16,
    });
  });

  it("interns the traceback without args, offsets, fp/sp or the created-by line", () => {
    expect(framesOf(parser, rs[0]?.stack ?? -1)).toEqual([
      "runtime.mallocgc @ /usr/local/go/src/pkg/runtime/malloc.goc:191",
      "runtime.malloc @ /usr/local/go/src/pkg/runtime/malloc.goc:264",
      "runtime.schedinit @ /usr/local/go/src/pkg/runtime/proc.c:175",
      "_rt0_go @ /usr/local/go/src/pkg/runtime/asm_amd64.s:91",
    ]);
    expect(framesOf(parser, rs[2]?.stack ?? -1).slice(-2)).toEqual([
      "runtime.main @ /usr/local/go/src/pkg/runtime/proc.c:247",
      "runtime.goexit @ /usr/local/go/src/pkg/runtime/proc.c:1445",
    ]);
  });

  it("classifies frees and marks the runtime.GC collection as forced", () => {
    expect(rs[3]).toMatchObject({
      kind: RecordKind.Dead,
      id: "0xc20800e020",
      address: 0xc20800e020,
      size: 0x20,
      origin: FreeOrigin.CacheSpan,
      goroutine: 16,
      stack: -1,
    });
    expect(rs[4]).toMatchObject({ kind: RecordKind.GC, forced: true, goroutine: 16 });
    expect(framesOf(parser, rs[4]?.stack ?? -1)).toEqual([
      "runtime.gc @ /usr/local/go/src/pkg/runtime/mgc0.c:2329",
      "runtime.GC @ /usr/local/go/src/pkg/runtime/malloc.goc:853",
      "main.main @ /home/gopher/progs/p2_large.go:51",
      "runtime.main @ /usr/local/go/src/pkg/runtime/proc.c:247",
      "runtime.goexit @ /usr/local/go/src/pkg/runtime/proc.c:1445",
    ]);
    expect(rs[5]).toMatchObject({ origin: FreeOrigin.GCSweep, goroutine: 0, size: 0xa000 });
  });

  it("gives the same result fed byte by byte and with CRLF line ends", () => {
    expect(parse(go133, 1).records).toEqual(rs);
    expect(parse(go133.replace(/\n/g, "\r\n"), 7).records).toEqual(rs);
  });

  it("stops at an until line outside records, after the records before it", () => {
    const { records: until, parser: stopped } = parse(go133, 5, "MEMSTATS_SNAPSHOT");
    expect(until.map((r) => r.kind)).toEqual([...rs.map((r) => r.kind), RecordKind.Until]);
    expect(until.at(-1)).toMatchObject({ line: 116, text: "MEMSTATS_SNAPSHOT" });
    expect(stopped.stopped).toBe(true);
    expect(stopped.skippedLines).toBe(3);
  });

  it("does not look for the until text inside records", () => {
    const { records: until } = parse(go133, undefined, "runtime.GC");
    expect(until.map((r) => r.kind)).toEqual(rs.map((r) => r.kind));
  });
});

describe("GologParser on gccgo 12", () => {
  const { records: rs, parser } = parse(gccgo12);

  it("keeps a record open across gccgo's unnamed `\\t:0` frame and drops that frame", () => {
    expect(rs.map((r) => [r.kind, r.line])).toEqual([
      [RecordKind.Alloc, 1],
      [RecordKind.Alloc, 23],
      [RecordKind.GC, 34],
      [RecordKind.Dead, 53],
    ]);
    expect(parser.skippedLines).toBe(1);
    expect(framesOf(parser, rs[0]?.stack ?? -1).slice(-2)).toEqual([
      "__libc_start_main_impl @ ../csu/libc-start.c:360",
      "_start @ ",
    ]);
  });

  it("removes the TAB-separated package paths from type strings", () => {
    expect(rs[0]).toMatchObject({ id: "0xc00000c000", size: 8, typeName: "*runtime.p", typeKind: TypeKind.Single });
    expect(rs[1]).toMatchObject({ typeName: "int64", goroutine: 1 });
  });

  it("reads bare gccgo frame names and locations", () => {
    expect(framesOf(parser, rs[1]?.stack ?? -1)).toEqual([
      "runtime.mallocgc @ ../../../src/libgo/go/runtime/malloc.go:1212",
      "runtime.newobject @ ../../../src/libgo/go/runtime/malloc.go:1292",
      "main.main @ progs/p1_small.go:58",
      "runtime.main @ ../../../src/libgo/go/runtime/proc.go:285",
    ]);
  });

  it("takes the first goroutine of tracegc and classifies the mark-termination sweep", () => {
    expect(rs[2]).toMatchObject({ forced: false, goroutine: 6 });
    expect(framesOf(parser, rs[2]?.stack ?? -1)).toEqual([
      "runtime.mcall @ ../../../src/libgo/runtime/proc.c:346",
      "runtime.gcBgMarkWorker @ ../../../src/libgo/go/runtime/mgc.go:1330",
      "runtime.kickoff @ ../../../src/libgo/go/runtime/proc.go:1316",
    ]);
    expect(rs[3]).toMatchObject({ id: "0xc00000c008", size: 8, origin: FreeOrigin.GCSweep, goroutine: 0 });
  });

  it("gives the same result fed byte by byte", () => {
    expect(parse(gccgo12, 1).records).toEqual(rs);
  });
});

describe("GologParser on gc go1.19", () => {
  const { records: rs, parser } = parse(go119);

  it("reads the modern tracealloc form with and without a type", () => {
    expect(rs.map((r) => r.kind)).toEqual([RecordKind.Alloc, RecordKind.Alloc, RecordKind.GC, RecordKind.Dead]);
    expect(rs[0]).toMatchObject({ id: "0xc000014008", size: 8, typeName: "*runtime.p", typeKind: TypeKind.Single });
    expect(rs[1]).toMatchObject({ id: "0xc00001a010", size: 0x10, typeName: null });
  });

  it("strips `?` arguments and pc= from frames", () => {
    expect(framesOf(parser, rs[0]?.stack ?? -1)).toEqual([
      "runtime.mallocgc @ /usr/lib/go-1.19/src/runtime/malloc.go:1131",
      "runtime.makeslice @ /usr/lib/go-1.19/src/runtime/slice.go:103",
      "runtime.rt0_go @ /usr/lib/go-1.19/src/runtime/asm_amd64.s:345",
    ]);
  });

  it("classifies the sweep under gcMarkTermination.func3 as a GC sweep", () => {
    expect(rs[2]).toMatchObject({ forced: false, goroutine: 6 });
    expect(rs[3]).toMatchObject({ origin: FreeOrigin.GCSweep, goroutine: 0 });
  });
});

describe("GologParser free origins (gofmt log)", () => {
  it("takes the innermost frame that names an entry point (and shrinkstack behind runtime.free)", () => {
    const { records: rs } = parse(gofmtFrees);
    expect(rs.map((r) => [r.id, r.origin, r.goroutine])).toEqual([
      ["0xc208026000", FreeOrigin.BgSweep, 18],
      ["0xc2080b2000", FreeOrigin.EnsureSwept, 16],
      ["0xc208064000", FreeOrigin.Explicit, 0],
      ["0xc208062000", FreeOrigin.ShrinkStack, 0],
      ["0xc2080aa000", FreeOrigin.Reclaim, 16],
    ]);
  });

  it("recognises the spellings of other runtimes", () => {
    const free = (goroutine: number, ...funcs: string[]): FreeOrigin => {
      const frames = funcs.map((f) => `${f}\n\t/x.go:1\n`).join("");
      return parse(`tracefree(0x10, 0x10)\ngoroutine ${goroutine} [running]:\n${frames}\n`).records[0]?.origin ?? -1;
    };
    expect(free(1, "runtime_MSpan_Sweep", "runtime_MCentral_CacheSpan", "runtime_MCache_Refill")).toBe(FreeOrigin.CacheSpan);
    expect(free(1, "runtime.(*mspan).sweep(0x1, 0x0)", "runtime.(*mcentral).cacheSpan(0x2)")).toBe(FreeOrigin.CacheSpan);
    expect(free(1, "runtime.(*mspan).sweep(...)", "runtime.(*mheap).reclaimChunk(0x1)", "runtime.(*mheap).reclaim(0x1)")).toBe(
      FreeOrigin.Reclaim,
    );
    expect(free(1, "runtime.mspan.sweep", "runtime.mspan.ensureSwept", "runtime.SetFinalizer")).toBe(FreeOrigin.EnsureSwept);
    expect(free(3, "runtime.(*sweepLocked).sweep(0x1)", "runtime.sweepone()", "runtime.bgsweep(0x0?)")).toBe(
      FreeOrigin.BgSweep,
    );
    expect(free(1, "runtime.sweepone()", "runtime.GC()", "main.main()")).toBe(FreeOrigin.GCSweep);
    expect(free(1, "__go_free", "runtime.mapdelete", "main.main")).toBe(FreeOrigin.Explicit);
    expect(free(1, "runtime_free", "runtime.selectgo")).toBe(FreeOrigin.Explicit);
    expect(free(0, "runtime_MSpan_Sweep", "runtime_sweepone", "runtime_mstart")).toBe(FreeOrigin.GCSweep);
    expect(free(5, "runtime_MSpan_Sweep", "runtime_sweepone", "runtime_mstart")).toBe(FreeOrigin.Unknown);
    expect(free(0, "runtime.MHeap_Free", "main.main")).toBe(FreeOrigin.Unknown);
  });
});

describe("GologParser edge cases", () => {
  it("reads `created by ... in goroutine N` and `...additional frames elided...`", () => {
    const text = `tracealloc(0xc000100000, 0x20, main.T)
goroutine 7 [running]:
main.f(...)
\t/src/x.go:3
...additional frames elided...
created by main.main in goroutine 1
\t/src/x.go:9 +0x25

`;
    const { records: rs, parser } = parse(text);
    expect(rs).toHaveLength(1);
    expect(rs[0]).toMatchObject({ goroutine: 7, typeName: "main.T" });
    expect(framesOf(parser, rs[0]?.stack ?? -1)).toEqual(["main.f @ /src/x.go:3"]);
    expect(parser.skippedLines).toBe(0);
  });

  it("keeps parentheses in method and generic names", () => {
    const text = `tracealloc(0xc000100000, 0x20)
goroutine 1 [running]:
encoding/json.(*encodeState).marshal(0xc2080c6000, {0x4b6f20, 0xc2080f4000}, 0x0)
\t/src/encode.go:3 +0x1
main.Map[...](0x1)
\t/src/x.go:9 +0x25

`;
    const { records: rs, parser } = parse(text);
    expect(framesOf(parser, rs[0]?.stack ?? -1)).toEqual([
      "encoding/json.(*encodeState).marshal @ /src/encode.go:3",
      "main.Map[...] @ /src/x.go:9",
    ]);
  });

  it("detects a forced collection from debug.FreeOSMemory", () => {
    const text = `tracegc()

goroutine 1 [garbage collection]:
runtime.gc(0x1)
\t/m.c:1
runtime/debug.freeOSMemory()
\t/m.c:2
runtime/debug.FreeOSMemory()
\t/d.go:3
end tracegc

`;
    expect(parse(text).records[0]).toMatchObject({ kind: RecordKind.GC, forced: true, goroutine: 1 });
  });

  it("closes a record that a new record interrupts, and a record cut off at the end", () => {
    const text = `tracealloc(0x10, 0x10)
goroutine 1 [running]:
main.main()
\t/x.go:1
tracefree(0x10, 0x10)
goroutine 1 [running]:
runtime.free(0x10)`;
    const { records: rs } = parse(text);
    expect(rs.map((r) => [r.kind, r.line])).toEqual([
      [RecordKind.Alloc, 1],
      [RecordKind.Dead, 5],
    ]);
  });

  it("counts a stray line inside a record as skipped instead of taking it as a frame", () => {
    const text = `tracealloc(0x10, 0x10)
goroutine 1 [running]:
hello from another thread
main.main()
\t/x.go:1

`;
    const { records: rs, parser } = parse(text);
    expect(framesOf(parser, rs[0]?.stack ?? -1)).toEqual(["main.main @ /x.go:1"]);
    expect(parser.skippedLines).toBe(1);
  });

  it("skips and counts program output, blank lines between records and look-alike lines", () => {
    const text = "hello\n\ntracegc() extra\ntraceback\ngc 1 @0.004s 2%: ...\ntracealloc(0x10, 0x10)\n\nbye\n";
    const { records: rs, parser } = parse(text);
    expect(rs).toHaveLength(1);
    expect(parser.skippedLines).toBe(6);
    expect(parser.lines).toBe(8);
  });

  it("rejects malformed tracealloc and tracefree lines", () => {
    expect(errorOf(() => parse("x\ntracealloc(0x10)\n"))).toBe("go.log:2: malformed tracealloc line: tracealloc(0x10)");
    expect(errorOf(() => parse("tracealloc(0x10, 0x10\n"))).toBe("go.log:1: malformed tracealloc line: tracealloc(0x10, 0x10");
    expect(errorOf(() => parse("tracealloc(c000, 0x10)\n"))).toBe('go.log:1: bad address "c000" in: tracealloc(c000, 0x10)');
    expect(errorOf(() => parse("tracealloc(0x10, 16, main.T)\n"))).toBe('go.log:1: bad size "16" in: tracealloc(0x10, 16, main.T)');
    expect(errorOf(() => parse("tracefree(0x10)\n"))).toBe("go.log:1: malformed tracefree line: tracefree(0x10)");
    expect(errorOf(() => parse("tracefree(0x10, 0x1z)\n"))).toBe('go.log:1: bad size "0x1z" in: tracefree(0x10, 0x1z)');
    expect(errorOf(() => parse("tracefree(0x20000000000000, 0x10)\n"))).toBe(
      'go.log:1: bad address "0x20000000000000" in: tracefree(0x20000000000000, 0x10)',
    );
  });

  it("lower-cases the id of an upper-case address", () => {
    expect(parse("tracefree(0xC2080000A0, 0x10)\n").records[0]).toMatchObject({ id: "0xc2080000a0", address: 0xc2080000a0 });
  });
});
