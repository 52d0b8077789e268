// goalloc convert on the command line: a gzipped native trace that replays, atomic output.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { goalloc, scratchDir } from "./goalloc.js";

const LOG = "traces/go1.3.3-p0.log";
const dir = scratchDir("goalloc-convert-e2e-");

describe("goalloc convert", () => {
  it("writes a gzipped native trace when the name ends in .gz, and says how to replay it", () => {
    const out = path.join(dir(), "p0.trace.gz");
    const run = goalloc(["convert", LOG, "-o", out]);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(`goalloc: wrote ${out}: 108 allocations, 0 frees, 0 deaths, 0 runtime.GC, 83 stacks from ${LOG}; replay with --arch amd64\n`);
    const text = gunzipSync(readFileSync(out)).toString("utf8");
    expect(text.startsWith("goalloc-trace 1\n# converted by goalloc from traces/go1.3.3-p0.log (Go log, amd64)\n")).toBe(true);
    const replayed = goalloc(["replay", out, "--json"]);
    expect(replayed.status).toBe(0);
    expect(JSON.parse(replayed.stdout).trace).toMatchObject({ format: "native", allocs: 108, deaths: 0 });
  });

  it("refuses to write over the log, and writes nothing for a malformed log", () => {
    const same = goalloc(["convert", LOG, "-o", LOG]);
    expect(same.status).toBe(2);
    expect(same.stderr).toContain("--out traces/go1.3.3-p0.log: that is the log being read; choose another file");
    const bad = path.join(dir(), "bad.log");
    writeFileSync(bad, readFileSync(LOG, "utf8").split("\n").slice(0, 40).join("\n") + "\ntracealloc(0xzz, 0x10)\n");
    const out = path.join(dir(), "bad.trace");
    const run = goalloc(["convert", bad, "-o", out]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^goalloc: ${bad}:41: .*\\ngoalloc: no trace written\\n$`));
    expect(existsSync(out)).toBe(false);
  });
});
