// Standard output failing under goalloc: a reader that goes away (`| head -1`) ends the
// command quietly with 141 (128 + SIGPIPE), as other Unix tools end; a full device is an
// input/output error: one line on stderr, exit 2. Neither prints a stack trace.
import { describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import path from "node:path";
import { cleanEnv, goalloc, repoRoot, scratchDir } from "./goalloc.js";

const BIN = path.join(repoRoot, "bin/goalloc.js");
const dir = scratchDir("goalloc-stdout-");

/** Run goalloc with stdout on a pipe that is closed after its first chunk. */
function closeAfterFirstChunk(args: readonly string[]): Promise<{ status: number | null; stderr: string; first: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let first = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.once("data", (d: Buffer) => {
      first = d.toString();
      child.stdout.destroy();
    });
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stderr, first }));
  });
}

describe("standard output failing", () => {
  it("a closed pipe ends replay --allocfreetrace - and gen quietly with 141", async () => {
    const trace = path.join(dir(), "big.trace");
    expect(goalloc(["gen", "--events", "200000", "--seed", "1", "--out", trace]).status).toBe(0);
    const replayed = await closeAfterFirstChunk(["replay", trace, "--allocfreetrace", "-"]);
    expect(replayed.first.startsWith("tracealloc(")).toBe(true);
    expect([replayed.status, replayed.stderr]).toEqual([141, ""]);
    const generated = await closeAfterFirstChunk(["gen", "--events", "2000000", "--seed", "1"]);
    expect(generated.first.startsWith("goalloc-trace 1\n")).toBe(true);
    expect([generated.status, generated.stderr]).toEqual([141, ""]);
  });

  it("a full device is an input/output error: one line, exit 2", () => {
    const full = openSync("/dev/full", "w");
    try {
      const run = spawnSync(process.execPath, [BIN, "replay", path.join(repoRoot, "traces/quickstart.trace")], {
        env: cleanEnv(),
        stdio: ["ignore", full, "pipe"],
        encoding: "utf8",
      });
      expect([run.status, run.stderr]).toEqual([2, "goalloc: cannot write standard output: ENOSPC\n"]);
    } finally {
      closeSync(full);
    }
  });
});
