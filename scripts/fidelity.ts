// goalloc's fidelity table (`npm run fidelity`; not a test): how exactly the emulation
// reproduces real Go 1.3.3 runs. Every go1.3.3 allocfreetrace log under ../shared/oracle/
// (the corpus, the older sets and the large gofmt log) is streamed through its decompressor
// (`xz -dc`, `zstd -dc --long=27`) into `goalloc replay LOG --gc log`, and one row per log
// says:
//   allocs      traced allocations (tracealloc records) the replay compared
//   addresses   how many the emulation put at the logged address
//   divergence  the first that it did not: line, logged and emulated address, and the
//               innermost frames of that record's traceback
//   aft order   whether the emulated --allocfreetrace output's tracealloc records are the
//               log's, in the log's order (first difference otherwise)
//   memstats    MemStats fields equal to the real runtime.ReadMemStats at MEMSTATS_SNAPSHOT
//               (a second replay with --until MEMSTATS_SNAPSHOT), where the run has one
//   gctrace     the emulated collections against the log's tracegc count and the real
//               GODEBUG=gctrace=1 run of the same binary (a separate run: its count may differ)
//   pacer       the same log replayed with the emulated pacer deciding the collections
//               (`goalloc replay LOG --gc pacer`): addresses, collections, and the first
//               collection whose trigger is not the log's (line of the log's tracegc and of
//               the emulated one)
//   converted   the log as `goalloc convert` writes it, replayed as a native trace: its
//               collections, and its MemStats at the end against the pacer replay's
// Logs of modern runtimes are listed as not comparable: their allocator is another one.
//
//   npm run fidelity [-- --json] [-- --only TEXT] [-- --no-large]

import { execFileSync, spawn } from "node:child_process";
import { closeSync, createReadStream, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { allocFreeTrace, NativeTraceWriter, replay, type GCRecord, type Report } from "../src/index.js";
import { gctraceLine as gctraceLineOf } from "../src/report/gctrace.js";
import { repoRoot } from "./build-if-stale.js";

const ORACLE = path.resolve(repoRoot, "../shared/oracle");

/** MemStats fields a go1.3.3 log determines (the others need what a log cannot show). */
const MEMSTATS_FIELDS = [
  "Alloc", "TotalAlloc", "Mallocs", "Frees", "HeapAlloc", "HeapSys", "HeapIdle", "HeapInuse", "HeapReleased",
  "HeapObjects", "MSpanInuse", "MSpanSys", "MCacheInuse", "MCacheSys", "GCSys", "NextGC", "NumGC", "BySize",
] as const;

interface LogFile {
  /** Display name: set/arch/program. */
  name: string;
  arch: "amd64" | "386";
  file: string;
  decompress: string[];
  memstats: string | null;
  gctrace: string | null;
}

export interface FidelityRow {
  name: string;
  arch: string;
  allocs: number;
  addressMatches: number;
  firstDivergence: { line: number; expected: string; got: string; frames: string[] } | null;
  error: string | null;
  aftOrder: { equal: boolean; logged: number; emulated: number; firstDifference: { index: number; line: number; expected: string; got: string } | null };
  memstats: { equal: number; compared: number; differing: { field: string; expected: unknown; got: unknown }[] } | null;
  gctrace: { emulated: number; logTracegc: number; gctraceRun: number | null; firstDifferentLine: number | null } | null;
  pacer: { allocs: number; addressMatches: number; collections: number; firstTriggerDifference: { gc: number; logLine: number | null; emulatedLine: number | null } | null };
  /** The log converted to a native trace (goalloc convert) and replayed: against the pacer replay of the log, at the end. */
  converted: { collections: number; pacerCollections: number; memstatsEqual: number; compared: number; differing: string[] };
  seconds: number;
}

/** Every go1.3.3 allocfreetrace log under the oracle, in a stable order. */
function discover(): { logs: LogFile[]; modern: string[] } {
  const logs: LogFile[] = [];
  const modern: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
        continue;
      }
      const m = /^(.*)\.allocfreetrace\.txt\.(xz|zst)$/.exec(entry.name);
      if (!m) continue;
      const rel = path.relative(ORACLE, full);
      const where = `${path.basename(dir)}/${m[1]}`;
      if (!/go1\.3\.3/.test(rel)) {
        modern.push(path.relative(ORACLE, path.join(dir, m[1]!)));
        continue;
      }
      const arch = /386/.test(rel) ? "386" : "amd64";
      const set = path.relative(ORACLE, dir).startsWith("corpus") ? "corpus/" : "";
      const side = (suffix: string): string | null => {
        const p = path.join(dir, `${m[1]}.${suffix}`);
        return existsSync(p) ? p : null;
      };
      logs.push({
        name: `${set}${where}`,
        arch,
        file: full,
        decompress: m[2] === "xz" ? ["xz", "-dc", full] : ["zstd", "-dc", "--long=27", full],
        memstats: side("allocfreetrace.memstats.json"),
        gctrace: side("gctrace.txt"),
      });
    }
  };
  walk(ORACLE);
  return { logs, modern };
}

/** A FIFO the decompressor writes the log into, for one replay or scan. */
function stream(log: LogFile, scratch: string, tag: string): { fifo: string; done: Promise<void> } {
  const fifo = path.join(scratch, tag);
  rmSync(fifo, { force: true });
  execFileSync("mkfifo", [fifo]);
  const [cmd, ...args] = log.decompress;
  const done = new Promise<void>((resolve, reject) => {
    const child = spawn("sh", ["-c", `exec "$0" "$@" > "${fifo}"`, cmd!, ...args], { stdio: ["ignore", "ignore", "inherit"] });
    child.on("error", reject);
    // A replay that stops early (--until) closes the FIFO: the decompressor then dies of SIGPIPE.
    child.on("close", () => resolve());
  });
  return { fifo, done };
}

/** The log's own tracealloc records in order, and the frames of the record at `atLine`. */
async function scanLog(
  log: LogFile,
  scratch: string,
  atLine: number,
): Promise<{ addrs: string[]; lines: number[]; tracegc: number; gcLines: number[]; gcTriggers: number[]; frames: string[] }> {
  const { fifo, done } = stream(log, scratch, "scan");
  const addrs: string[] = [];
  const lines: number[] = [];
  const frames: string[] = [];
  const gcLines: number[] = [];
  const gcTriggers: number[] = [];
  let tracegc = 0;
  let n = 0;
  let inRecord = false;
  // Which goroutine each record ran on (the header after its first line): mallocgc prints
  // the allocation, then collects, but other goroutines may allocate before gc prints
  // tracegc (it waits for the world to stop), so a collection's trigger is the last
  // allocation of the goroutine that prints it, made since the previous collection.
  let awaiting: "alloc" | "gc" | null = null;
  const lastAllocOf = new Map<string, number>();
  const rl = createInterface({ input: createReadStream(fifo), crlfDelay: Infinity });
  for await (const text of rl) {
    n++;
    if (text.startsWith("tracealloc(")) {
      const comma = text.indexOf(",", 11);
      const close = text.indexOf(",", comma + 1);
      addrs.push(text.slice(11, comma) + " " + text.slice(comma + 2, close));
      lines.push(n);
      awaiting = "alloc";
    } else if (text === "tracegc()") {
      tracegc++;
      gcLines.push(n);
      awaiting = "gc";
    } else if (awaiting !== null && text.startsWith("goroutine ")) {
      const g = text.slice(10, text.indexOf(" ", 10));
      if (awaiting === "alloc") lastAllocOf.set(g, n - 1);
      else {
        const at = lastAllocOf.get(g) ?? -1;
        const previous = gcLines.length > 1 ? gcLines[gcLines.length - 2]! : 0;
        gcTriggers.push(at > previous ? at : gcLines[gcLines.length - 1]!);
        lastAllocOf.clear();
      }
      awaiting = null;
    }
    if (n === atLine) inRecord = true;
    else if (inRecord) {
      if (text === "") inRecord = false;
      else if (!text.startsWith("\t") && !text.startsWith("goroutine ") && frames.length < 4) frames.push(text.replace(/\(.*$/, ""));
    }
  }
  await done;
  return { addrs, lines, tracegc, gcLines, gcTriggers, frames };
}

/** Count the collections of a real gctrace run and find the first line the emulation prints differently. */
function compareGctrace(file: string, emulated: string[]): { gctraceRun: number; firstDifferentLine: number | null } {
  const real = readFileSync(file, "utf8").split("\n").filter((l) => /^gc\d+\(/.test(l));
  // Times, handoffs and steals are wall-clock facts: compare heap sizes, objects and sweeps.
  const key = (l: string): string => l.replace(/^(gc\d+)\(\d+\): [^,]*, /, "$1 ").replace(/, \d+\(\d+\) handoff.*$/, "");
  let first: number | null = null;
  for (let i = 0; i < Math.max(real.length, emulated.length); i++) {
    if (real[i] === undefined || emulated[i] === undefined || key(real[i]!) !== key(emulated[i]!)) {
      first = i + 1;
      break;
    }
  }
  return { gctraceRun: real.length, firstDifferentLine: first };
}

async function fidelityOf(log: LogFile, scratch: string): Promise<FidelityRow> {
  const started = Date.now();
  // The emulated allocfreetrace output, reduced to its tracealloc records.
  const emulated: string[] = [];
  let partial = "";
  const sink = (text: string): void => {
    const lines = (partial + text).split("\n");
    partial = lines.pop()!;
    for (const l of lines) {
      if (!l.startsWith("tracealloc(")) continue;
      const comma = l.indexOf(",", 11);
      emulated.push(l.slice(11, comma) + " " + l.slice(comma + 2, l.indexOf(",", comma + 1)));
    }
  };
  const full = stream(log, scratch, "replay");
  // Every collection's gctrace line (the runtime itself keeps only the first and last ones).
  const gcLines: string[] = [];
  const collections = { collected: (g: GCRecord) => void gcLines.push(gctraceLineOf(g)), scavenged: () => {} };
  const { report } = await replay(full.fifo, { arch: log.arch, gc: "log" }, allocFreeTrace(sink), { collections });
  await full.done;
  const fid = report.fidelity!;
  const scan = await scanLog(log, scratch, fid.firstDivergence?.line ?? -1);

  let firstDifference: FidelityRow["aftOrder"]["firstDifference"] = null;
  for (let i = 0; i < Math.max(scan.addrs.length, emulated.length); i++) {
    if (scan.addrs[i] !== emulated[i]) {
      firstDifference = { index: i, line: scan.lines[i] ?? -1, expected: scan.addrs[i] ?? "(end)", got: emulated[i] ?? "(end)" };
      break;
    }
  }

  let memstats: FidelityRow["memstats"] = null;
  if (log.memstats !== null) {
    const snap = stream(log, scratch, "snapshot");
    const at: Report = (await replay(snap.fifo, { arch: log.arch, gc: "log", until: "MEMSTATS_SNAPSHOT" })).report;
    await snap.done;
    const want = JSON.parse(readFileSync(log.memstats, "utf8")) as Record<string, unknown>;
    const got = at.memstats as unknown as Record<string, unknown>;
    const differing: { field: string; expected: unknown; got: unknown }[] = [];
    for (const f of MEMSTATS_FIELDS) {
      if (JSON.stringify(want[f]) !== JSON.stringify(got[f])) {
        differing.push(f === "BySize" ? { field: f, expected: "(per class)", got: "(per class)" } : { field: f, expected: want[f], got: got[f] });
      }
    }
    memstats = { equal: MEMSTATS_FIELDS.length - differing.length, compared: MEMSTATS_FIELDS.length, differing };
  }

  // The same log with the pacer deciding: where each emulated collection started (the
  // line of the record being replayed).
  const emulatedGCLines: number[] = [];
  const paced = stream(log, scratch, "pacer");
  // The same pass writes the log as a native trace (goalloc convert), replayed below.
  const convertedFile = path.join(scratch, "converted.trace");
  const convertedFd = openSync(convertedFile, "w");
  let writer: NativeTraceWriter | null = null;
  const pacerReport = (
    await replay(
      paced.fifo,
      { arch: log.arch, gc: "pacer" },
      (engine) => {
        const at = engine as unknown as { line: number };
        return { beginRecord() {}, tracealloc() {}, tracefree() {}, tracegc: () => void emulatedGCLines.push(at.line), end() {} };
      },
      { nativeSink: (_options, stacks) => (writer = new NativeTraceWriter(stacks, (text) => void writeSync(convertedFd, text), [])) },
    )
  ).report;
  await paced.done;
  (writer as NativeTraceWriter | null)?.flush();
  closeSync(convertedFd);
  const native = (await replay(convertedFile, { arch: log.arch })).report;
  rmSync(convertedFile);
  const nativeEqual = MEMSTATS_FIELDS.filter((f) => JSON.stringify(native.memstats[f]) === JSON.stringify(pacerReport.memstats[f]));
  const converted = {
    collections: native.memstats.NumGC,
    pacerCollections: pacerReport.memstats.NumGC,
    memstatsEqual: nativeEqual.length,
    compared: MEMSTATS_FIELDS.length,
    differing: MEMSTATS_FIELDS.filter((f) => !nativeEqual.includes(f)),
  };
  let firstTriggerDifference: FidelityRow["pacer"]["firstTriggerDifference"] = null;
  for (let i = 0; i < Math.max(scan.gcLines.length, emulatedGCLines.length); i++) {
    // A triggered collection starts at its trigger allocation (see scanLog); runtime.GC's
    // at the tracegc itself.
    const logged = scan.gcLines[i] ?? null;
    const emulated = emulatedGCLines[i] ?? null;
    const trigger = scan.gcTriggers[i] ?? -1;
    if (logged === null || emulated === null || (emulated !== logged && emulated !== trigger)) {
      firstTriggerDifference = { gc: i + 1, logLine: logged, emulatedLine: emulated };
      break;
    }
  }
  const pacer = {
    allocs: pacerReport.fidelity?.allocs ?? 0,
    addressMatches: pacerReport.fidelity?.addressMatches ?? 0,
    collections: emulatedGCLines.length,
    firstTriggerDifference,
  };

  const gctrace = {
    emulated: gcLines.length,
    logTracegc: scan.tracegc,
    ...(log.gctrace !== null ? compareGctrace(log.gctrace, gcLines) : { gctraceRun: null, firstDifferentLine: null }),
  };
  return {
    name: log.name,
    arch: log.arch,
    allocs: fid.allocs,
    addressMatches: fid.addressMatches,
    firstDivergence: fid.firstDivergence && {
      line: fid.firstDivergence.line,
      expected: fid.firstDivergence.expected,
      got: fid.firstDivergence.got,
      frames: scan.frames,
    },
    error: report.error ? `line ${report.error.line}: ${report.error.message}` : null,
    aftOrder: { equal: firstDifference === null, logged: scan.addrs.length, emulated: emulated.length, firstDifference },
    memstats,
    gctrace,
    pacer,
    converted,
    seconds: (Date.now() - started) / 1000,
  };
}

function pct(a: number, b: number): string {
  return b === 0 ? "n/a" : `${((100 * a) / b).toFixed(2)} %`;
}

function markdown(rows: FidelityRow[], modern: string[]): string {
  const out = [
    "| log | allocs | addresses | first divergence | allocfreetrace order | MemStats at snapshot | GCs: emulated / log's tracegc / gctrace run | pacer: addresses, GCs, first trigger not the log's | converted: GCs, MemStats = pacer's at the end |",
    "| --- | ---: | ---: | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of rows) {
    const div = r.firstDivergence
      ? `line ${r.firstDivergence.line}: ${r.firstDivergence.expected} ≠ ${r.firstDivergence.got} (${r.firstDivergence.frames.slice(0, 3).join(" < ")})`
      : r.error ?? "–";
    const aft = r.aftOrder.equal ? "equal" : `differs at #${r.aftOrder.firstDifference!.index} (line ${r.aftOrder.firstDifference!.line})`;
    const ms = r.memstats === null ? "–" : `${r.memstats.equal}/${r.memstats.compared}${r.memstats.differing.length ? " (" + r.memstats.differing.map((d) => d.field).join(", ") + ")" : ""}`;
    const g = r.gctrace;
    const gc = g ? `${g.emulated} / ${g.logTracegc} / ${g.gctraceRun ?? "–"}${g.firstDifferentLine !== null ? ` (lines equal up to gc${g.firstDifferentLine - 1})` : g.gctraceRun !== null ? " (all lines equal)" : ""}` : "–";
    const p = r.pacer;
    const t = p.firstTriggerDifference;
    const trigger = t === null ? "all at the log's" : `gc${t.gc}: log line ${t.logLine ?? "–"}, emulated ${t.emulatedLine ?? "–"}`;
    const pacer = `${pct(p.addressMatches, p.allocs)}, ${p.collections}, ${trigger}`;
    const c = r.converted;
    const conv = `${c.collections}, ${c.memstatsEqual}/${c.compared}${c.differing.length > 0 ? ` (${c.differing.slice(0, 3).join(", ")})` : ""}`;
    out.push(`| ${r.name} | ${r.allocs.toLocaleString("en-US")} | ${pct(r.addressMatches, r.allocs)} | ${div} | ${aft} | ${ms} | ${gc} | ${pacer} | ${conv} |`);
  }
  for (const m of modern) out.push(`| ${m} | – | not comparable (another runtime's allocator) | – | – | – | – | – |`);
  return out.join("\n") + "\n";
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const onlyAt = args.indexOf("--only");
  const only = onlyAt >= 0 ? args[onlyAt + 1] ?? "" : null;
  const noLarge = args.includes("--no-large");
  if (!existsSync(ORACLE)) {
    process.stderr.write(`fidelity: no oracle at ${ORACLE}\n`);
    process.exit(2);
  }
  const { logs, modern } = discover();
  const chosen = logs.filter((l) => (only === null || l.name.includes(only)) && !(noLarge && l.name.startsWith("large/")));
  const scratch = mkdtempSync(path.join(tmpdir(), "goalloc-fidelity-"));
  const rows: FidelityRow[] = [];
  try {
    for (const log of chosen) {
      process.stderr.write(`${log.name} ... `);
      const row = await fidelityOf(log, scratch);
      process.stderr.write(`${pct(row.addressMatches, row.allocs)} (${row.seconds.toFixed(1)} s)\n`);
      rows.push(row);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  process.stdout.write(json ? JSON.stringify({ rows, modern }, null, 2) + "\n" : markdown(rows, only === null ? modern : []));
}

await main();
