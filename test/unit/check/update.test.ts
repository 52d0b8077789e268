// `goalloc check --update` writes the baseline atomically: an interrupted write (here the disk
// fills up halfway through the temporary file) leaves the old baseline whole and no temporary
// file behind. The check command runs in-process with node:fs's writeFileSync wrapped.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { checkCommand } from "../../../src/cli/commands/check.js";
import { UsageError } from "../../../src/cli/errors.js";
import { repoRoot } from "../trace/helpers.js";

const disk = vi.hoisted(() => ({ full: false }));

vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>();
  const writeFileSync: typeof real.writeFileSync = (file, data, options) => {
    if (disk.full) {
      // Whatever file is written, its first bytes reach the disk, then the device is full: a
      // baseline written in place would be left truncated.
      real.writeFileSync(file, String(data).slice(0, 64), options);
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    }
    real.writeFileSync(file, data, options);
  };
  return { ...real, default: { ...real, writeFileSync }, writeFileSync };
});

const TRACE = path.join(repoRoot, "traces/gc.trace");
let dir = "";
let baselineFile = "";

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "goalloc-update-"));
  baselineFile = path.join(dir, "gc.baseline.json");
});

afterEach(() => {
  disk.full = false;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run `goalloc check ARGS` in-process: what it printed, and what it threw. */
async function runCheck(args: string[]): Promise<{ stdout: string; error: unknown }> {
  const printed: string[] = [];
  const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    printed.push(String(chunk));
    return true;
  });
  try {
    await checkCommand().exitOverride().parseAsync(["node", "check", ...args]);
    return { stdout: printed.join(""), error: null };
  } catch (error) {
    return { stdout: printed.join(""), error };
  } finally {
    write.mockRestore();
  }
}

function gogcOf(file: string): unknown {
  return (JSON.parse(readFileSync(file, "utf8")) as { options: { gogc: unknown } }).options.gogc;
}

describe("check --update", () => {
  it("writes the baseline, and an interrupted rewrite leaves the old one intact", async () => {
    const made = await runCheck([TRACE, "--baseline", baselineFile, "--update"]);
    expect(made.error).toBe(null);
    expect(made.stdout).toBe(`goalloc check: wrote baseline ${baselineFile} (32 fields, amd64, GOGC=100)\n`);
    const before = readFileSync(baselineFile, "utf8");
    expect(gogcOf(baselineFile)).toBe(100);

    disk.full = true;
    const interrupted = await runCheck([TRACE, "--baseline", baselineFile, "--update", "--gogc", "200"]);
    expect(interrupted.error).toBeInstanceOf(UsageError);
    expect((interrupted.error as Error).message).toBe(`cannot write ${baselineFile}: ENOSPC: no space left on device, write`);
    expect(readFileSync(baselineFile, "utf8")).toBe(before);
    expect(readdirSync(dir)).toEqual(["gc.baseline.json"]);

    // The baseline still checks: the interrupted run changed nothing.
    expect((await runCheck([TRACE, "--baseline", baselineFile])).error).toBe(null);

    disk.full = false;
    const rewritten = await runCheck([TRACE, "--baseline", baselineFile, "--update", "--gogc", "200"]);
    expect(rewritten.error).toBe(null);
    expect(gogcOf(baselineFile)).toBe(200);
    expect(readdirSync(dir)).toEqual(["gc.baseline.json"]);
  });
});
