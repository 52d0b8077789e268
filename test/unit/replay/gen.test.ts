// The synthetic trace generator (src/gen/generator.ts): deterministic bytes for a seed, traces
// that replay without error (heap invariants included), and a live set bounded by its pools,
// not by the trace's length.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateTrace, replay, type GenerateOptions } from "../../../src/index.js";

const scratch = mkdtempSync(join(tmpdir(), "goalloc-gen-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function generate(options: GenerateOptions): Buffer {
  return Buffer.concat([...generateTrace(options)]);
}

/** A generated trace written to a scratch file, for replay(). */
function traceFile(options: GenerateOptions): string {
  const file = join(scratch, `gen-${options.events}-${options.seed}.trace`);
  writeFileSync(file, generate(options));
  return file;
}

describe("generateTrace", () => {
  it("gives the same bytes for the same seed and other bytes for another seed", () => {
    const a = generate({ events: 20_000, seed: 7 });
    expect(generate({ events: 20_000, seed: 7 }).equals(a)).toBe(true);
    expect(generate({ events: 20_000, seed: 8 }).equals(a)).toBe(false);
  });

  it("makes a shorter trace of the same seed a prefix of a longer one", () => {
    const long = generate({ events: 30_000, seed: 3 });
    const short = generate({ events: 10_000, seed: 3 });
    expect(long.subarray(0, short.length).equals(short)).toBe(true);
  });

  it("writes the header, the stacks, then exactly the events asked for, in chunks of at most 1 MiB", () => {
    const chunks = [...generateTrace({ events: 100_000, seed: 1 })];
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(1 << 20);
    const lines = Buffer.concat(chunks).toString("latin1").trimEnd().split("\n");
    expect(lines[0]).toBe("goalloc-trace 1");
    const records = lines.filter((line) => !line.startsWith("#") && !line.startsWith("s ") && line !== "goalloc-trace 1");
    expect(records).toHaveLength(100_000);
    const kinds = new Set(records.map((line) => line.split(" ")[0]));
    expect([...kinds].sort()).toEqual(["a", "d", "f", "gc", "t"]);
  });

  it("rejects a negative or fractional event count or seed", () => {
    expect(() => generate({ events: -1, seed: 1 })).toThrow(RangeError);
    expect(() => generate({ events: 1.5, seed: 1 })).toThrow(RangeError);
    expect(() => generate({ events: 1, seed: -2 })).toThrow(RangeError);
  });
});

describe("generated traces replay", () => {
  it("without error: every ID live when named, frees only of non-tiny objects", async () => {
    const { report, outcome } = await replay(traceFile({ events: 20_000, seed: 11 }));
    expect(report.error).toBeNull();
    expect(outcome.counts.events).toBe(20_000);
    expect(outcome.counts.allocs).toBeGreaterThan(5_000);
    expect(outcome.counts.frees).toBeGreaterThan(0);
    expect(outcome.counts.deaths).toBeGreaterThan(3_000);
  });

  it("with every heap invariant holding after every event", async () => {
    const { report } = await replay(traceFile({ events: 2_000, seed: 5 }), { checkInvariants: true });
    expect(report.error).toBeNull();
  });

  it("with a live set that does not grow with the trace's length", async () => {
    const short = (await replay(traceFile({ events: 50_000, seed: 2 }))).outcome;
    const long = (await replay(traceFile({ events: 200_000, seed: 2 }))).outcome;
    expect(short.error).toBeNull();
    expect(long.error).toBeNull();
    expect(long.counts.gcs).toBeGreaterThan(0);
    expect(long.peaks.HeapObjects.value).toBeLessThan(1.5 * short.peaks.HeapObjects.value);
    expect(long.peaks.HeapInuse.value).toBeLessThan(2 * short.peaks.HeapInuse.value);
    // A realistic heap: tens of MB, not hundreds.
    expect(long.peaks.HeapSys.value).toBeLessThan(128 << 20);
  });
});
