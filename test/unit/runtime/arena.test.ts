import { describe, expect, it } from "vitest";
import { createRuntime, FlagNoScan, RuntimeThrow, checkInvariants } from "../../../src/runtime/index.js";

const hex = (n: number) => "0x" + n.toString(16);

describe("mallocinit arena layouts (malloc.goc mallocinit)", () => {
  it("amd64 reserves at 0xc000000000 and starts the arena at 0xc208000000", () => {
    const rt = createRuntime({ arch: "amd64" });
    expect(hex(rt.arena.spans)).toBe("0xc000000000");
    expect(hex(rt.arena.bitmap)).toBe("0xc008000000");
    expect(hex(rt.arena.arena_start)).toBe("0xc208000000");
    expect(hex(rt.arena.arena_end)).toBe("0xe208002000");
    // The self-test allocation grew the heap by 1 MiB.
    expect(hex(rt.arena.arena_used)).toBe("0xc208100000");
  });

  it("arm64 uses gccgo's single hint 0x40<<32", () => {
    const rt = createRuntime({ arch: "arm64" });
    expect(hex(rt.arena.spans)).toBe("0x4000000000");
    expect(hex(rt.arena.bitmap)).toBe("0x4008000000");
    expect(hex(rt.arena.arena_start)).toBe("0x4208000000");
    expect(hex(rt.arena.arena_end)).toBe("0x6208002000");
  });

  it("386 places the arena after _end", () => {
    const a = createRuntime({ arch: "386", dataEnd: 0x08200000 });
    expect(hex(a.arena.spans)).toBe("0x8300000");
    expect(hex(a.arena.bitmap)).toBe("0x8400000");
    expect(hex(a.arena.arena_start)).toBe("0x18400000");
    expect(hex(a.arena.arena_end)).toBe("0x38402000");
    const b = createRuntime({ arch: "386" });
    expect(hex(b.arena.arena_start)).toBe("0x18300000");
    expect(hex(b.arena.arena_end)).toBe("0x38302000");
  });

  it("arm uses the 32-bit scheme with its own default _end", () => {
    const rt = createRuntime({ arch: "arm" });
    expect(hex(rt.arena.spans)).toBe("0x200000");
    expect(hex(rt.arena.arena_start)).toBe("0x10300000");
    expect(rt.arch.sizeofMSpan).toBe(80);
  });

  it("charges the first growth: 1 MiB heap, bitmap and spans map", () => {
    const rt = createRuntime({ arch: "amd64" });
    expect(rt.mstats.heap_sys).toBe(1 << 20);
    expect(rt.mstats.gc_sys).toBe(64 * 1024);
    const r32 = createRuntime({ arch: "386" });
    expect(r32.mstats.gc_sys).toBe(128 * 1024);
    expect(r32.arena.spans_mapped).toBe(8192);
  });
});

describe("32-bit arena growth and exhaustion", () => {
  it("extends the reservation in 256 MiB steps and then throws out of memory", () => {
    const rt = createRuntime({ arch: "386", gcpercent: -1 });
    const start = rt.arena.arena_start;
    const ends: number[] = [];
    let thrown: unknown = null;
    try {
      for (let i = 0; i < 40; i++) {
        rt.mallocgc(64 << 20, 0, FlagNoScan, -1);
        checkInvariants(rt);
        if (ends[ends.length - 1] !== rt.arena.arena_end) ends.push(rt.arena.arena_end);
      }
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(RuntimeThrow);
    const t = thrown as RuntimeThrow;
    expect(t.throwMessage).toBe("out of memory");
    expect(t.printed[0]).toMatch(/^runtime: memory allocated by OS \(0x[0-9a-f]+\) not in usable range \[0x18300000,0x98300000\)$/);
    expect(t.printed[t.printed.length - 1]).toMatch(/^runtime: out of memory: cannot allocate 67108864-byte block \(\d+ in use\)$/);
    expect(t.message.split("\n").pop()).toBe("fatal error: out of memory");
    // 512 MiB + 8 KiB, then +256 MiB at a time while arena_end stays within 2 GiB of arena_start.
    expect(ends.map((e) => (e - start) / (1 << 20))).toEqual([512.0078125, 768.0078125, 1024.0078125, 1280.0078125, 1536.0078125, 1792.0078125]);
    expect(rt.mstats.heap_sys).toBeLessThanOrEqual(rt.arena.arena_end - start);
  });

  it("throws the runtime panic for sizes beyond MaxMem", () => {
    const rt = createRuntime({ arch: "amd64" });
    expect(() => rt.mallocgc(2 ** 37 + 1, 0, 0, -1)).toThrow("panic: runtime error: runtime: allocation size out of range");
  });

  it("runs out of the 128 GiB amd64 arena with the runtime's message", () => {
    const rt = createRuntime({ arch: "amd64", gcpercent: -1 });
    expect(() => rt.mallocgc(2 ** 37, 0, FlagNoScan, -1)).toThrow(
      /runtime: out of memory: cannot allocate 137438953472-byte block \(1048576 in use\)\nfatal error: out of memory/,
    );
  });
});
