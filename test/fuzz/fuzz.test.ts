// The fuzz suite on a fixed budget for CI: 2,000 generated and mutated inputs replayed
// in-process on worker threads (test/fuzz/pool.ts bounds each in time), then 30 of them
// through the real command line. Every case must end as the CLI's exit 0, 2 or 3 with a
// FILE:LINE message (trace errors) or the runtime's own text (throws): never an uncaught
// exception, a stack trace or a hang. `npm run fuzz` runs the same cases, 100,000 of them.
//
// The run is reproducible: FUZZ_SEED picks another seed (default below), and a failure names
// the `npm run fuzz -- --seed S --case I` command that replays it alone.

import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, ensureBuilt, repoRoot } from "../e2e/goalloc.js";
import { cliArgs, loadSeeds, makeCase, type FuzzCase, type Seed } from "./cases.js";
import { knownBug } from "./known-bugs.js";
import { runPool } from "./pool.js";
import type { Verdict } from "./run-case.js";

const SEED = Number(process.env.FUZZ_SEED ?? 20_250_601);
const IN_PROCESS_CASES = 2000;
const CLI_CASES = 30;
/** A case that takes longer is a hang (the slowest of 100,000 take about 3 s). */
const TIMEOUT_MS = 20_000;

let seeds: Seed[] = [];
let tmp = "";

beforeAll(() => {
  ensureBuilt();
  seeds = loadSeeds();
  tmp = mkdtempSync(path.join(tmpdir(), "goalloc-fuzz-cli-"));
}, 120_000);

afterAll(() => {
  if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
});

/** How to look at a failure again. */
function repeat(seed: number, c: FuzzCase): string {
  return `case ${c.index} (${c.recipe}): npm run fuzz -- --seed ${seed} --case ${c.index}`;
}

describe("fuzzing", () => {
  it(`${IN_PROCESS_CASES} cases in-process: exit 0, 2 or 3 with the right message, within ${TIMEOUT_MS / 1000} s each`, async () => {
    const counts: Record<Verdict, number> = { "exit 0": 0, "exit 2": 0, "exit 3": 0, failure: 0 };
    const failures: string[] = [];
    const known: string[] = [];
    let next = 0;
    await runPool(
      () => (next < IN_PROCESS_CASES ? makeCase(seeds, SEED, next++) : null),
      { workers: 2, timeoutMs: TIMEOUT_MS },
      (c, result) => {
        counts[result.verdict]++;
        if (result.verdict !== "failure") return;
        const bug = knownBug(result.detail);
        if (bug !== null) known.push(`${repeat(SEED, c)}: known bug, ${bug.where}`);
        else failures.push(`${repeat(SEED, c)}\n${result.detail}`);
      },
    );
    if (known.length > 0) console.warn(`fuzz: ${known.length} known bug(s):\n${known.join("\n")}`);
    expect(failures).toEqual([]);
    // The inputs reach every outcome, not only the trace reader's errors.
    expect(counts["exit 0"]).toBeGreaterThan(IN_PROCESS_CASES / 5);
    expect(counts["exit 2"]).toBeGreaterThan(IN_PROCESS_CASES / 5);
    expect(counts["exit 3"]).toBeGreaterThan(IN_PROCESS_CASES / 100);
  }, 240_000);

  it(`${CLI_CASES} cases through the command line (half on standard input): exit 0, 2 or 3, one clean message`, async () => {
    const problems: string[] = [];
    const statuses = new Set<number | null>();
    const queue = Array.from({ length: CLI_CASES }, (_, i) => makeCase(seeds, SEED + 1, i));
    const lane = async (): Promise<void> => {
      for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
        const problem = await runCli(c);
        if (problem.status !== undefined) statuses.add(problem.status);
        if (problem.message !== null) problems.push(`${repeat(SEED + 1, c)}\n${problem.message}`);
      }
    };
    await Promise.all([lane(), lane()]);
    expect(problems).toEqual([]);
    // Exit 3 is rarer (one case in thirty or so): the in-process run checks it is reached.
    expect(statuses).toContain(0);
    expect(statuses).toContain(2);
  }, 240_000);
});

/** Spawn `goalloc replay` on c; null message when the process behaved. */
async function runCli(c: FuzzCase): Promise<{ status?: number | null; message: string | null }> {
  const file = path.join(tmp, `case-${c.index}.trace`);
  writeFileSync(file, c.bytes);
  const stdin = c.index % 2 === 1;
  const json = path.join(tmp, `case-${c.index}.json`);
  const args = ["replay", stdin ? "-" : file, ...cliArgs(c.options), "--json", json];
  const child = spawn(process.execPath, [path.join(repoRoot, "bin/goalloc.js"), ...args], { cwd: repoRoot, env: cleanEnv(), stdio: ["pipe", "pipe", "pipe"], timeout: TIMEOUT_MS });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (data: Buffer) => (stdout += data.toString("utf8")));
  child.stderr.on("data", (data: Buffer) => (stderr += data.toString("utf8")));
  // The process may stop reading early (an error in the first chunk): that is not a failure.
  child.stdin.on("error", () => {});
  child.stdin.end(stdin ? Buffer.from(c.bytes) : undefined);
  const [status, signal] = (await once(child, "close")) as [number | null, string | null];
  const name = stdin ? "<stdin>" : file;
  const fail = (why: string): { status: number | null; message: string } => ({ status, message: `${why}\nstatus ${status} signal ${signal}\nstderr: ${stderr.slice(0, 2000)}` });
  if (signal !== null) return fail(`killed by ${signal} (a hang, if SIGTERM: over ${TIMEOUT_MS} ms)`);
  if (/^\s+at /m.test(stderr) || stderr.includes("internal error")) return fail("a stack trace on stderr");
  if (/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(stderr)) return fail("a control character on stderr");
  const lines = stderr.trimEnd().split("\n");
  if (status === 0) return stderr === "" && stdout !== "" ? { status, message: null } : fail("exit 0 with a message, or without a report");
  if (status === 2) {
    // FILE:LINE: ..., or FILE: ... for the file as a whole (it cannot be read or decompressed).
    if (lines.length !== 1 || !lines[0]!.startsWith(`goalloc: ${name}:`) || !/^goalloc: .*: ./.test(lines[0]!)) return fail("exit 2 without one FILE:LINE: message");
  } else if (status === 3) {
    const last = lines[lines.length - 1]!;
    const thrown = lines[lines.length - 2] ?? "";
    if (!/^goalloc: the emulated runtime threw at .*:\d+$/.test(last) || !last.includes(name)) return fail("exit 3 without the trace line");
    if (!thrown.startsWith("fatal error: ") && !thrown.startsWith("panic: runtime error: ")) return fail("exit 3 without the runtime's text");
  } else return fail("an exit code other than 0, 2 or 3");
  // On 2 and 3 the report still goes out, marked partial, unless the input could not be opened.
  if (stdout !== "") {
    if (!stdout.split("\n")[0]!.endsWith("[partial]")) return fail("the report of a failed replay is not marked partial");
    if ((JSON.parse(readFileSync(json, "utf8")) as { partial: boolean }).partial !== true) return fail("the JSON report is not partial");
  }
  return { status, message: null };
}
