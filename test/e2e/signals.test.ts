// The signal contract, through the real bin, as one table: every command that replays
// (replay, check, compare, diff, convert), stopped mid-replay by Ctrl-C (SIGINT), SIGTERM or
// SIGHUP, ends with 128 + the signal (130, 143, 129) and one line saying where it stopped,
// leaves no output file and no temporary (`.NAME.PID.tmp`) behind, keeps the files it would
// have replaced, and, for replay, prints the report of what it replayed, marked partial.
//
// No sleeps: a trace that is a FIFO stops each run where the test wants. goalloc opens it only
// once its signal handlers are in place (opening it for writing returns then); the test writes
// some records, sends the signal, waits for goalloc's notice, writes more and closes it, and
// the replay, which looks at the signal between chunks of input, stops there. One row reads a
// large regular file instead, on the reader thread, and is signalled once the replay's
// allocfreetrace output has started to grow.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../../src/report/report.js";
import { cleanEnv, goalloc, repoRoot, scratchDir } from "./goalloc.js";

const BIN = path.join(repoRoot, "bin/goalloc.js");
const scratch = scratchDir("goalloc-signals-");

const SIGNALS = [
  ["SIGINT", 130, "goalloc: interrupted, stopping (Ctrl-C again to quit at once)"],
  ["SIGTERM", 143, "goalloc: SIGTERM received, stopping"],
  ["SIGHUP", 129, "goalloc: SIGHUP received, stopping"],
] as const;

const records = (from: number, count: number): string => Array.from({ length: count }, (_, i) => `a o${from + i} 64\n`).join("");

/** Where the input comes from: a FIFO fed in two parts around the signal, or a large trace file. */
type Input = { kind: "fifo"; first: () => string; rest: () => string } | { kind: "file" };

interface Row {
  name: string;
  input: Input;
  /** The arguments; TRACE stands for the input. Run in a directory of its own. */
  args: string[];
  /** Files the directory holds before the run (outputs that must not be replaced). */
  before?: Record<string, string>;
  /** What the interrupt line says was (not) done. */
  what: string;
  /** What standard output holds: "" or a partial report. */
  stdout: "nothing" | "partial text report" | "partial JSON report";
}

const nativeFifo: Input = { kind: "fifo", first: () => `goalloc-trace 1\n${records(0, 300)}`, rest: () => records(300, 300) };
// The Go log's first 16 KiB, then 16 more: less than a pipe holds, so the second write returns
// even though goalloc reads no further.
const gologFifo: Input = {
  kind: "fifo",
  first: () => goLog().subarray(0, 16 * 1024).toString("latin1"),
  rest: () => goLog().subarray(16 * 1024, 32 * 1024).toString("latin1"),
};

let goLogBytes: Buffer | null = null;
function goLog(): Buffer {
  goLogBytes ??= readFileSync(path.join(repoRoot, "traces/go1.3.3-p0.log"));
  return goLogBytes;
}

const ROWS: Row[] = [
  {
    name: "replay: text report, every output file",
    input: nativeFifo,
    args: ["replay", "TRACE", "--json", "out.json", "--allocfreetrace", "trace.txt", "--gctrace", "gc.txt", "--memprofile", "heap.pb", "--html", "report.html"],
    before: { "out.json": "the previous report\n" },
    what: "partial report, no output file written",
    stdout: "partial text report",
  },
  {
    name: "replay of a large file on the reader thread: JSON report on stdout, output files",
    input: { kind: "file" },
    args: ["replay", "TRACE", "--reader-thread", "worker", "--json", "--allocfreetrace", "trace.txt", "--memprofile", "heap.pb", "--html", "report.html"],
    what: "partial report, no output file written",
    stdout: "partial JSON report",
  },
  {
    name: "check: verdict, Markdown summary, benchmark lines",
    input: nativeFifo,
    args: ["check", "TRACE", "--baseline", "base.json", "--markdown", "summary.md", "--bench-format"],
    before: { "base.json": "BASELINE", "summary.md": "the previous summary\n" },
    what: "nothing compared, no file written",
    stdout: "nothing",
  },
  {
    name: "check --update: the baseline",
    input: nativeFifo,
    args: ["check", "TRACE", "--baseline", "base.json", "--update"],
    before: { "base.json": "BASELINE" },
    what: "no baseline written",
    stdout: "nothing",
  },
  {
    // A second layout would open the FIFO again and wait for a writer that never comes.
    name: "compare: the layouts after the stopped one are not replayed, table and JSON file",
    input: nativeFifo,
    args: ["compare", "TRACE", "--arch", "amd64,386", "--json", "out.json"],
    what: "nothing compared, no file written",
    stdout: "nothing",
  },
  {
    name: "diff, stopped while B is replayed: table and JSON file",
    input: nativeFifo,
    args: ["diff", path.join(repoRoot, "traces/gc.trace"), "TRACE", "--json", "out.json", "--fail-on-diff"],
    what: "nothing compared, no file written",
    stdout: "nothing",
  },
  {
    name: "convert: the native trace",
    input: gologFifo,
    args: ["convert", "TRACE", "-o", "out.trace.gz"],
    before: { "out.trace.gz": "the previous trace" },
    what: "no trace written",
    stdout: "nothing",
  },
];

/** A baseline of traces/gc.trace, written once: check compares against it. */
let baseline = "";
/** The large trace of the "file" rows. */
let largeTrace = "";
const LARGE_RECORDS = 1_000_000;

beforeAll(() => {
  const base = path.join(scratch(), "gc-baseline.json");
  expect(goalloc(["check", "traces/gc.trace", "--baseline", base, "--update"]).status).toBe(0);
  baseline = readFileSync(base, "utf8");
  largeTrace = path.join(scratch(), "large.trace");
  writeFileSync(largeTrace, `goalloc-trace 1\n${records(0, LARGE_RECORDS)}`);
}, 120_000);

/** Resolves once test() holds, polling every 10 ms (rejects after 30 s). */
async function until(test: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 30_000; !test(); await new Promise((resolve) => setTimeout(resolve, 10))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

/** Spawn goalloc in `dir`, collecting stdout and stderr as they come. */
function start(args: string[], dir: string): { child: ChildProcess; out: { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
  const out = { stdout: "", stderr: "" };
  child.stdout!.on("data", (data: Buffer) => (out.stdout += data.toString("utf8")));
  child.stderr!.on("data", (data: Buffer) => (out.stderr += data.toString("utf8")));
  return { child, out };
}

/** Size of the allocfreetrace temporary `.trace.txt.PID.tmp` (-1 before it exists). */
function traceTemporarySize(dir: string): number {
  const tmp = readdirSync(dir).find((name) => name.startsWith(".trace.txt."));
  return tmp === undefined ? -1 : statSync(path.join(dir, tmp)).size;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe("a signal mid-replay: 128 + signal, where it stopped, no output file or temporary, the partial report of replay", () => {
  const cases = ROWS.flatMap((row) => SIGNALS.map(([signal, code, notice]) => ({ row, signal, code, notice })));

  it.each(cases.map((c) => [`${c.row.name} × ${c.signal}`, c] as const))("%s", async (_, { row, signal, code, notice }) => {
    const dir = path.join(scratch(), `${ROWS.indexOf(row)}-${signal}`);
    mkdirSync(dir);
    const before: Record<string, string> = { ...row.before };
    if (before["base.json"] === "BASELINE") before["base.json"] = baseline;
    for (const [name, text] of Object.entries(before)) writeFileSync(path.join(dir, name), text);
    const input = row.input;
    let trace: string;
    if (input.kind === "fifo") {
      trace = "trace.fifo";
      expect(spawnSync("mkfifo", [path.join(dir, trace)]).status).toBe(0);
    } else {
      trace = largeTrace;
    }
    const { child, out } = start(
      row.args.map((a) => (a === "TRACE" ? trace : a)),
      dir,
    );
    const exited = once(child, "exit");
    if (input.kind === "fifo") {
      // Opening a FIFO for writing waits for its reader: goalloc, its handlers in place.
      const writer = await open(path.join(dir, trace), "w");
      try {
        await writer.write(input.first());
        child.kill(signal);
        await until(() => out.stderr.includes("stopping"), "the stop notice");
        await writer.write(input.rest());
      } finally {
        await writer.close();
      }
    } else {
      await until(() => traceTemporarySize(dir) > 0, "the replay to start");
      child.kill(signal);
    }
    const [status, killedBy] = (await exited) as [number | null, string | null];
    expect({ status, killedBy }, out.stderr).toEqual({ status: code, killedBy: null });

    const stopped = new RegExp(`^${escapeRegExp(notice)}\ngoalloc: interrupted at ${escapeRegExp(trace)}:(\\d+): ${escapeRegExp(row.what)}\n$`).exec(out.stderr);
    expect(stopped, out.stderr).not.toBeNull();
    const line = Number(stopped![1]);
    if (input.kind === "fifo") expect(line).toBeLessThan(input.first().split("\n").length);

    if (row.stdout === "nothing") expect(out.stdout).toBe("");
    else if (row.stdout === "partial text report") {
      expect(out.stdout.split("\n")[0]).toMatch(/ replay of trace\.fifo \(native\) on amd64, GOGC=100 \[partial\]$/);
      expect(out.stdout).toContain(`\n${line.toLocaleString("en-US")} lines, `);
    } else {
      const report = JSON.parse(out.stdout) as Report;
      expect(report).toMatchObject({ partial: true, error: null });
      expect(report.trace.lines).toBe(line);
      expect(report.trace.lines).toBeGreaterThan(1);
      expect(report.trace.lines).toBeLessThan(LARGE_RECORDS + 1);
      expect(report.trace.allocs).toBe(report.trace.lines - 1);
    }

    // Nothing written, nothing left half-done, nothing replaced.
    const expected = [...Object.keys(before), ...(input.kind === "fifo" ? [trace] : [])].sort();
    expect(readdirSync(dir).sort()).toEqual(expected);
    for (const [name, text] of Object.entries(before)) expect(readFileSync(path.join(dir, name), "utf8")).toBe(text);
  });
});
