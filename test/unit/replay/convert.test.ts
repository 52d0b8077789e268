// goalloc convert: a Go log as a native trace whose replay is the log's pacer replay.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { convertLog, replay, type MemStats } from "../../../src/index.js";
import { needsOracle, oracleDir } from "../../oracle.js";

const repo = resolve(import.meta.dirname, "../../..");
const oracle = oracleDir;
const dir = mkdtempSync(join(tmpdir(), "goalloc-convert-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Convert `log` into a file; returns its path and text. */
async function convert(log: string, name: string): Promise<{ file: string; text: string; counts: Awaited<ReturnType<typeof convertLog>>["counts"] }> {
  let text = "";
  const { counts, outcome } = await convertLog(log, {}, (piece) => (text += piece));
  expect(outcome.error).toBeNull();
  const file = join(dir, name);
  writeFileSync(file, text);
  return { file, text, counts };
}

// A native trace keeps function names, not call sites: stacks that differ only by line are
// one stack there, so fewer profile buckets (BuckHashSys, and OtherSys, which takes the rest).
const SAME = (m: MemStats): Partial<MemStats> => {
  const { BuckHashSys: _b, OtherSys: _o, Sys: _s, PauseNs: _p, PauseTotalNs: _t, LastGC: _l, ...rest } = m;
  return rest;
};

describe("convertLog", () => {
  it("writes the start-up, the log's objects with stacks, flags and types, as native records", async () => {
    const { text, counts } = await convert(join(repo, "traces/go1.3.3-p0.log"), "p0.trace");
    const lines = text.split("\n");
    expect(lines.slice(0, 14)).toStrictEqual([
      "goalloc-trace 1",
      `# converted by goalloc from ${join(repo, "traces/go1.3.3-p0.log")} (Go log, amd64)`,
      "# deaths are placed before the logged collection that found them; the log's own collections are left to the pacer",
      "# replay with: goalloc replay TRACE --arch amd64",
      "s 1 runtime.schedinit",
      "a 1 288 flags=noinvokegc stack=1 kind=single type=runtime.g",
      "a 2 32768 flags=nozero,nogc,noprof,noinvokegc stack=1",
      "a 3 16 flags=noinvokegc stack=1",
      "a 4 32 flags=noinvokegc stack=1",
      "s 2 runtime.mallocgc;runtime.malloc;runtime.schedinit;_rt0_go",
      "a 5 2304 flags=noscan,noinvokegc stack=2",
      "s 3 runtime.mallocgc;procresize;runtime.schedinit;_rt0_go",
      "a 6 2304 flags=noscan,noinvokegc stack=3",
      "s 4 runtime.mallocgc;cnew;runtime.cnew;allocg;runtime.malg;runtime.newproc1;runtime.newproc;_rt0_go",
    ]);
    // 105 traced allocations, of which gc's parallel-for descriptor is the runtime's own, and the 4 of start-up.
    expect(counts).toStrictEqual({ allocs: 108, frees: 0, deaths: 0, collections: 0, stacks: 83 });
    // A span type table comes first, as its own never-sampled object.
    expect(text).toContain("a 9 80 flags=noscan,noprof,noinvokegc stack=6\n");
  });

  it("replays natively to the pacer replay of the log: the shipped excerpt", async () => {
    const log = join(repo, "traces/go1.3.3-p0.log");
    const { file } = await convert(log, "p0b.trace");
    const paced = (await replay(log, { gc: "pacer" })).report;
    const native = (await replay(file, {})).report;
    expect(native.error).toBeNull();
    expect(SAME(native.memstats)).toStrictEqual(SAME(paced.memstats));
  });

  it("replays natively to the pacer replay of the log: p1_small and p2_large, amd64 and 386", needsOracle(), async () => {
    for (const arch of ["amd64", "386"] as const) {
      for (const prog of ["p1_small", "p2_large"]) {
        const log = join(oracle, `go1.3.3-${arch}`, `${prog}.allocfreetrace.txt.xz`);
        const { file, text } = await convert(log, `${arch}-${prog}.trace`);
        expect(text.split("\n", 4)[3]).toBe(`# replay with: goalloc replay TRACE --arch ${arch}`);
        const paced = (await replay(log, { gc: "pacer" })).report;
        const native = (await replay(file, { arch })).report;
        expect([arch, prog, SAME(native.memstats)]).toStrictEqual([arch, prog, SAME(paced.memstats)]);
      }
    }
  });

  it("keeps where the log shows the background sweeper as y records: std_image_png", needsOracle(join(oracle, "corpus")), async () => {
    // 28 collections, 41 places where the log's bgsweep frees advanced the sweeper.
    const log = join(oracle, "corpus/go1.3.3-amd64/std_image_png.allocfreetrace.txt.xz");
    const { file, text } = await convert(log, "png.trace");
    const ys = text.split("\n").filter((l) => l.startsWith("y "));
    expect(ys.length).toBe(41);
    const paced = (await replay(log, { gc: "pacer" })).report;
    const native = (await replay(file, {})).report;
    expect(native.memstats.NumGC).toBe(28);
    expect(SAME(native.memstats)).toStrictEqual(SAME(paced.memstats));
    // Without them the sweeper runs only when an allocation needs it: the heap differs.
    writeFileSync(file, text.split("\n").filter((l) => !l.startsWith("y ")).join("\n"));
    const lazy = (await replay(file, {})).report;
    expect(SAME(lazy.memstats)).not.toStrictEqual(SAME(paced.memstats));
  });
});
