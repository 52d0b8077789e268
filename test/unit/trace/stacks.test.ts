// Interned stacks (trace/stacks.ts), names (trace/names.ts) and runs (int-runs.ts): ids,
// frames read back, and the stacks the reader thread defines (StackDefinitions), interned by
// the replay's table with the ids one table gives.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IntRuns } from "../../../src/int-runs.js";
import { StackDefinitions } from "../../../src/trace/batch.js";
import { StackTable } from "../../../src/trace/stacks.js";
import type { Frame } from "../../../src/trace/record.js";

describe("IntRuns", () => {
  it("gives equal runs one id and distinct runs distinct ids, in order of first sight", () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: -3, max: 5 }), { maxLength: 4 }), { maxLength: 400 }), (runs) => {
        const table = new IntRuns();
        const ids = new Map<string, number>();
        for (const run of runs) {
          const key = run.join(",");
          const want = ids.get(key) ?? ids.size;
          ids.set(key, want);
          expect(table.lookup(run, 0, run.length)).toBe(want < table.size ? want : -1);
          expect(table.intern([9, ...run, 9], 1, run.length + 1)).toBe(want);
          expect([...Array(table.length(want)).keys()].map((i) => table.at(want, i))).toEqual(run);
        }
        expect(table.size).toBe(ids.size);
      }),
    );
  });
});

const frame = fc.record({
  func: fc.oneof(fc.constantFrom("main.main", "main.f", "runtime.mallocgc", "é.ü", "a\u0000b", ""), fc.string({ maxLength: 6 })),
  location: fc.oneof(fc.constant(""), fc.constantFrom("x.go:1", "\u0000", "b"), fc.string({ maxLength: 4 })),
});

describe("StackTable", () => {
  it("interns stacks by their frames (name and location) and reads them back", () => {
    fc.assert(
      fc.property(fc.array(fc.array(frame, { maxLength: 4 }), { maxLength: 200 }), (stacks: Frame[][]) => {
        const table = new StackTable();
        const ids = new Map<string, number>();
        for (const frames of stacks) {
          const key = JSON.stringify(frames.map((f) => [f.func, f.location]));
          const want = ids.get(key) ?? ids.size;
          ids.set(key, want);
          const id = table.intern(frames);
          expect(id).toBe(want);
          expect(table.frames(id)).toEqual(frames.map((f) => ({ func: f.func, location: f.location })));
          expect(table.depth(id)).toBe(frames.length);
        }
        expect(table.size).toBe(ids.size);
      }),
    );
  });

  it("keeps a name and a location apart: a\\0 + b is not a + \\0b", () => {
    const table = new StackTable();
    const one = table.frame("a\u0000", "b");
    const two = table.frame("a", "\u0000b");
    const three = table.frame("a\u0000\u0000b");
    expect(new Set([one, two, three]).size).toBe(3);
    expect([table.func(one), table.location(one)]).toEqual(["a\u0000", "b"]);
    expect([table.func(two), table.location(two)]).toEqual(["a", "\u0000b"]);
    expect([table.func(three), table.location(three)]).toEqual(["a\u0000\u0000b", ""]);
  });

  it("names a frame read from bytes as their UTF-8 text does (invalid bytes are U+FFFD)", () => {
    const table = new StackTable();
    const bytes = Buffer.from([0x6d, 0xff, 0x2e, 0xc3, 0xa9, 0x20, 0x6d, 0xfe, 0x2e, 0xc3, 0xa9]);
    const a = table.frameFromBytes(bytes, 0, 5);
    const b = table.frameFromBytes(bytes, 6, 11);
    expect(table.func(a)).toBe("m\ufffd.é");
    expect(b).toBe(a);
    expect(table.frame("m\ufffd.é")).toBe(a);
    expect(table.frameFromBytes(Buffer.from("main.f"), 0, 6)).toBe(table.frame("main.f"));
  });

  it("interns a reader thread's definitions, batch by batch, as one table interns the stacks", () => {
    const native = fc.oneof(fc.constantFrom("main.main", "main.f", "é.ü", "m\ufffd"), fc.string({ minLength: 1, maxLength: 4 }));
    fc.assert(
      fc.property(fc.array(fc.array(native, { minLength: 1, maxLength: 3 }), { maxLength: 120 }), fc.array(fc.nat({ max: 30 }), { maxLength: 8 }), (stacks: string[][], cuts) => {
        const one = new StackTable();
        const definitions = new StackDefinitions();
        const replay = new StackTable();
        const ids: number[] = [];
        const send = (): void => {
          const batch = definitions.take();
          const frames = replay.internFrames(batch.frames);
          for (let i = 0, at = 0; i < batch.lengths.length; at += batch.lengths[i++]!) {
            const run = Int32Array.from(batch.frameIds.subarray(at, at + batch.lengths[i]!), (f) => frames[f]!);
            expect(ids.length).toBe(batch.first + i);
            ids.push(replay.internStack(run, 0, run.length));
          }
        };
        let next = 0;
        stacks.forEach((frames, i) => {
          const want = one.intern(frames.map((func) => ({ func, location: "" })));
          definitions.beginStack();
          for (const func of frames) {
            const bytes = Buffer.from(func);
            definitions.addFrameId(definitions.frameFromBytes(bytes, 0, bytes.length));
          }
          expect(definitions.endStack()).toBe(i);
          if (cuts.length > next && i % (cuts[next]! + 1) === 0) {
            send();
            expect(ids[i]).toBe(want);
            next++;
          }
        });
        send();
        expect(ids.map((id) => replay.frames(id))).toEqual(ids.map((_, i) => one.frames(one.intern(stacks[i]!.map((func) => ({ func, location: "" }))))));
        expect(replay.size).toBe(one.size);
      }),
    );
  });
});
