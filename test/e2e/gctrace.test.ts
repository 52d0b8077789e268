// `replay --gctrace`: what GODEBUG=gctrace=1 would print, against a real go1.3.3 run.
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { ensureBuilt, goalloc } from "./goalloc.js";
import { needsOracle, oraclePath } from "../oracle.js";

// The build may take a while on a busy machine: past the default 10 s hook timeout, every test here would be skipped.
beforeAll(() => ensureBuilt(), 120_000);

describe("replay --gctrace", () => {
  it("prints one Go 1.3 gctrace line per collection of the shipped go1.3.3 log", () => {
    const run = goalloc(["replay", "traces/go1.3.3-p0.log", "--gc", "log", "--until", "MEMSTATS_SNAPSHOT", "--gctrace", "-"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(
      "gc1(1): 0+0+0+0 us, 0 -> 0 MB, 18 (19-1) objects, 0/0/0 sweeps, 0(0) handoff, 0(0) steal, 0/0/0 yields\n" +
        "gc2(1): 0+0+0+0 us, 0 -> 0 MB, 106 (107-1) objects, 13/0/0 sweeps, 0(0) handoff, 0(0) steal, 0/0/0 yields\n",
    );
  });

  // The oracle's gctrace run of the same program (another process, same allocator): its first
  // collection happens at the same point, so all but the wall-clock times agree.
  const real = oraclePath("go1.3.3-amd64", "p0_baseline.gctrace.txt");
  it("matches the real runtime's first line but for its times", needsOracle(real), () => {
    const run = goalloc(["replay", "traces/go1.3.3-p0.log", "--gc", "log", "--until", "MEMSTATS_SNAPSHOT", "--gctrace", "-"]);
    const first = readFileSync(real, "utf8").split("\n")[0]!;
    const untimed = (line: string) => line.replace(/^(gc\d+\(\d+\)): \d+\+\d+\+\d+\+\d+ us/, "$1: T us");
    expect(untimed(run.stdout.split("\n")[0]!)).toBe(untimed(first));
  });

  it("puts the scavenger's lines after the collection they follow", () => {
    const run = goalloc(["replay", "traces/scavenger.trace", "--gctrace", "-"]);
    expect(run.status).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines.filter((l) => l.startsWith("gc"))).toHaveLength(6);
    expect(lines[lines.indexOf("scvg2: GC forced") - 1]).toMatch(/^gc4\(1\)/);
    expect(lines.at(-1)).toBe("scvg5: inuse: 0, idle: 0, sys: 1, released: 0, consumed: 0 (MB)");
  });

  it("refuses two outputs on standard output", () => {
    const run = goalloc(["replay", "traces/tiny.trace", "--gctrace", "-", "--json"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("can write to standard output");
  });
});
