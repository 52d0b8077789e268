// goalloc's benchmark (`npm run bench`; not a test): what a user gets from `goalloc replay`.
//
//   1. A synthetic Go-like native trace of 10M events (`goalloc gen`, seed 1) replayed with the
//      full emulation and the default report: events/s, MB/s of input, wall time, peak RSS.
//   2. The real go1.3.3 gofmt log, when ../shared/oracle/large/ holds it, streamed through
//      `zstd -dc --long=27` into `goalloc replay - --gc log`: the same figures plus fidelity
//      (allocations at their logged address).
//   3. Memory scaling: a 1M-event trace of the same seed (the same live set; it is a prefix of
//      the 10M one) replayed too, so both peaks can be compared.
//   4. (`npm run bench -- names` runs this part alone.) Names that cost what they hold: 1M objects each with a stack of its own (`s` then `a`,
//      frames `main.fN;main.g;main.main`), and 1M objects each with a type name of its own,
//      against the same objects on one stack, each replayed with the trace read on the replay's
//      thread (`--reader-thread main`) and on a reader thread (`auto`, the default).
//
// Every replay runs the built CLI (`node bin/goalloc.js`, dist/ rebuilt first if src/ is newer)
// in a child under `/usr/bin/time -v`, which gives the child's peak RSS; the report goes to
// stdout (discarded) and the JSON report to a scratch file, read back for the counts.

import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { generateTrace } from "../src/index.js";
import { buildIfStale, repoRoot } from "./build-if-stale.js";

const BIN = path.join(repoRoot, "bin/goalloc.js");
const TIME = "/usr/bin/time";
const GOFMT_LOG = path.resolve(repoRoot, "../shared/oracle/large/gofmt-go1.3.3-amd64.allocfreetrace.txt.zst");

const SEED = 1;
const BIG_EVENTS = 10_000_000;
const SMALL_EVENTS = 1_000_000;
const DISTINCT_OBJECTS = 1_000_000;

/** One measured replay. */
interface Run {
  name: string;
  inputBytes: number;
  events: number;
  wallSeconds: number;
  /** Peak RSS of the replaying process in bytes (null without /usr/bin/time). */
  peakRss: number | null;
  /** Peaks of the emulated heap, from the JSON report. */
  heapObjectsPeak: number;
  heapInusePeak: number;
  /** golog only: addressMatches / allocs. */
  fidelity: { allocs: number; addressMatches: number } | null;
  error: string | null;
}

/** The parts of the JSON report the benchmark reads. */
interface ReportJson {
  error: { message: string } | null;
  trace: { events: number };
  peak: { HeapObjects: { value: number }; HeapInuse: { value: number } };
  fidelity: { allocs: number; addressMatches: number } | null;
}

/** The benchmark measures the built CLI: build it first if stale (tsc errors only warn). */
function ensureBuilt(): void {
  process.stdout.write("checking dist/ ...\n");
  const errors = buildIfStale();
  if (errors !== null) process.stdout.write(`warning: tsc reported errors:\n${errors}`);
}

/** Write the generated trace to `file`; returns its size in bytes and the generation time. */
function generateFile(file: string, events: number): { bytes: number; seconds: number } {
  const start = performance.now();
  const fd = openSync(file, "w");
  let bytes = 0;
  try {
    for (const chunk of generateTrace({ events, seed: SEED })) {
      for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at);
      bytes += chunk.length;
    }
  } finally {
    closeSync(fd);
  }
  return { bytes, seconds: (performance.now() - start) / 1000 };
}

/** The traces of part 4: N 48-byte objects, each with a stack or a type name of its own, or all on one stack. */
type NamesCase = "one stack" | "distinct stacks" | "distinct types";

function namesTrace(file: string, kind: NamesCase, objects: number): number {
  const fd = openSync(file, "w");
  let bytes = 0;
  const write = (text: string): void => {
    const chunk = Buffer.from(text);
    for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at);
    bytes += chunk.length;
  };
  try {
    write(kind === "one stack" ? "goalloc-trace 1\ns 0 main.f;main.g;main.main\n" : "goalloc-trace 1\n");
    const lines: string[] = [];
    for (let i = 0; i < objects; i++) {
      if (kind === "distinct stacks") lines.push(`s ${i} main.f${i};main.g;main.main\na ${i} 48 stack=${i}`);
      else if (kind === "distinct types") lines.push(`a ${i} 48 type=main.T${i}`);
      else lines.push(`a ${i} 48 stack=0`);
      if (lines.length === 65536 || i === objects - 1) write(lines.splice(0).join("\n") + "\n");
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** Peak RSS in bytes from `/usr/bin/time -v` output. */
function peakRssOf(timeOutput: string): number | null {
  const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(timeOutput);
  return match ? Number(match[1]) * 1024 : null;
}

/**
 * Run `goalloc replay <input> <args> --json <json>` in a child, under /usr/bin/time when it
 * exists. `feed` (if given) writes the child's standard input and resolves to the bytes it
 * wrote; otherwise `inputBytes` is the input's size.
 */
async function replayChild(
  name: string,
  input: string,
  args: string[],
  scratch: string,
  inputBytes: number,
  feed?: (stdin: NodeJS.WritableStream) => Promise<number>,
): Promise<Run> {
  const json = path.join(scratch, `${name.replace(/\W+/g, "-")}.json`);
  const timeFile = path.join(scratch, "time.txt");
  const command = [BIN, "replay", input, ...args, "--json", json];
  const useTime = existsSync(TIME);
  const start = performance.now();
  const child = useTime
    ? spawn(TIME, ["-v", "-o", timeFile, process.execPath, ...command], { stdio: [feed ? "pipe" : "ignore", "ignore", "pipe"] })
    : spawn(process.execPath, command, { stdio: [feed ? "pipe" : "ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const fed = feed ? feed(child.stdin!) : Promise.resolve(inputBytes);
  const [status, bytes] = await Promise.all([exited, fed]);
  const wallSeconds = (performance.now() - start) / 1000;
  const peakRss = useTime && existsSync(timeFile) ? peakRssOf(readFileSync(timeFile, "utf8")) : null;
  const failed = status !== 0 ? `exit ${status}: ${stderr.trim().split("\n").slice(-3).join(" / ")}` : null;
  if (!existsSync(json)) {
    return { name, inputBytes: bytes, events: 0, wallSeconds, peakRss, heapObjectsPeak: 0, heapInusePeak: 0, fidelity: null, error: failed ?? "no JSON report" };
  }
  const report = JSON.parse(readFileSync(json, "utf8")) as ReportJson;
  return {
    name,
    inputBytes: bytes,
    events: report.trace.events,
    wallSeconds,
    peakRss,
    heapObjectsPeak: report.peak.HeapObjects.value,
    heapInusePeak: report.peak.HeapInuse.value,
    fidelity: report.fidelity ? { allocs: report.fidelity.allocs, addressMatches: report.fidelity.addressMatches } : null,
    error: report.error?.message ?? failed,
  };
}

/** Decompress the gofmt log with zstd into the child's stdin, counting the bytes. */
function zstdFeed(file: string): (stdin: NodeJS.WritableStream) => Promise<number> {
  return (stdin) =>
    new Promise((resolve, reject) => {
      const zstd = spawn("zstd", ["-dc", "--long=27", file], { stdio: ["ignore", "pipe", "inherit"] });
      let bytes = 0;
      zstd.stdout.on("data", (chunk: Buffer) => (bytes += chunk.length));
      zstd.stdout.pipe(stdin);
      zstd.on("error", reject);
      zstd.on("close", (code) => (code === 0 ? resolve(bytes) : reject(new Error(`zstd exited with ${code}`))));
    });
}

const MB = 1e6;
const MiB = 2 ** 20;

function fmt(value: number, digits = 0): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function describeRun(r: Run): string {
  const parts = [
    `${fmt(r.events)} events`,
    `${fmt(r.inputBytes / MB, 1)} MB`,
    `${fmt(r.wallSeconds, 2)} s`,
    `${fmt(r.events / r.wallSeconds / 1e6, 2)} M events/s`,
    `${fmt(r.inputBytes / MB / r.wallSeconds, 1)} MB/s`,
    `peak RSS ${r.peakRss === null ? "n/a" : `${fmt(r.peakRss / MiB, 0)} MiB`}`,
  ];
  if (r.fidelity) parts.push(`fidelity ${fmt((100 * r.fidelity.addressMatches) / r.fidelity.allocs, 2)}%`);
  if (r.error) parts.push(`ERROR ${r.error}`);
  return `${r.name}: ${parts.join(", ")}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]): string => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  return [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n");
}

async function main(): Promise<void> {
  ensureBuilt();
  process.stdout.write(
    `goalloc bench: node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}\n`,
  );
  if (!existsSync(TIME)) process.stdout.write(`(no ${TIME}: peak RSS not measured)\n`);
  const scratch = mkdtempSync(path.join(tmpdir(), "goalloc-bench-"));
  const runs: Run[] = [];
  const namesOnly = process.argv.slice(2).includes("names");
  try {
    if (!namesOnly) {
      const big = path.join(scratch, "gen-10M.trace");
      const small = path.join(scratch, "gen-1M.trace");
      const genBig = generateFile(big, BIG_EVENTS);
      process.stdout.write(
        `gen --events ${fmt(BIG_EVENTS)} --seed ${SEED}: ${fmt(genBig.bytes / MB, 1)} MB in ${fmt(genBig.seconds, 2)} s (${fmt(BIG_EVENTS / genBig.seconds / 1e6, 2)} M events/s)\n`,
      );
      const genSmall = generateFile(small, SMALL_EVENTS);

      const native = await replayChild("native 10M", big, [], scratch, genBig.bytes);
      runs.push(native);
      process.stdout.write(describeRun(native) + "\n");
      const native1M = await replayChild("native 1M", small, [], scratch, genSmall.bytes);
      runs.push(native1M);
      process.stdout.write(describeRun(native1M) + "\n");
      rmSync(big);
      rmSync(small);
    }

    for (const kind of ["one stack", "distinct stacks", "distinct types"] as const) {
      const file = path.join(scratch, `${kind.replace(" ", "-")}.trace`);
      const bytes = namesTrace(file, kind, DISTINCT_OBJECTS);
      for (const thread of ["main", "auto"]) {
        const run = await replayChild(`${kind}, reader ${thread}`, file, ["--reader-thread", thread], scratch, bytes);
        runs.push(run);
        process.stdout.write(describeRun(run) + "\n");
      }
      rmSync(file);
    }

    if (namesOnly) {
      // Part 4 alone.
    } else if (existsSync(GOFMT_LOG)) {
      const gofmt = await replayChild("gofmt golog", "-", ["--gc", "log"], scratch, 0, zstdFeed(GOFMT_LOG));
      runs.push(gofmt);
      process.stdout.write(describeRun(gofmt) + "\n");
    } else {
      process.stdout.write(`(no ${GOFMT_LOG}: the golog benchmark is skipped)\n`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const rows = [["replay", "events", "input MB", "wall s", "M events/s", "MB/s", "peak RSS MiB", "peak HeapObjects", "peak HeapInuse MiB", "fidelity"]];
  for (const r of runs) {
    rows.push([
      r.name,
      fmt(r.events),
      fmt(r.inputBytes / MB, 1),
      fmt(r.wallSeconds, 2),
      fmt(r.events / r.wallSeconds / 1e6, 2),
      fmt(r.inputBytes / MB / r.wallSeconds, 1),
      r.peakRss === null ? "n/a" : fmt(r.peakRss / MiB),
      fmt(r.heapObjectsPeak),
      fmt(r.heapInusePeak / MiB, 1),
      r.fidelity ? `${fmt((100 * r.fidelity.addressMatches) / r.fidelity.allocs, 2)}%` : "",
    ]);
  }
  process.stdout.write(`\n${table(rows)}\n`);
  const [tenM, oneM] = [runs.find((r) => r.name === "native 10M"), runs.find((r) => r.name === "native 1M")];
  if (tenM?.peakRss && oneM?.peakRss) {
    process.stdout.write(
      `memory scaling (same live set): peak RSS ${fmt(oneM.peakRss / MiB)} MiB at 1M events, ${fmt(tenM.peakRss / MiB)} MiB at 10M (×${fmt(tenM.peakRss / oneM.peakRss, 2)} for ×10 events)\n`,
    );
  }
  const failed = runs.filter((r) => r.error !== null);
  if (failed.length > 0) {
    process.stdout.write(`\n${failed.length} replay(s) failed: ${failed.map((r) => r.name).join(", ")}\n`);
    process.exitCode = 1;
  }
}

await main();
