// npm run fuzz: 100,000 fuzz cases (test/fuzz/cases.ts) on worker threads, with a progress
// line and a summary; exit 1 if any case crashed, hung or gave a bad message.
//
//   npm run fuzz -- [--cases N] [--seed S] [--workers W] [--timeout MS] [--save DIR]
//   npm run fuzz -- --seed S --case I     run case I of seed S alone and print it
//
// Without --seed each run draws a new seed (printed), so repeated runs cover new inputs; a
// failure is reproduced from its seed and case number. Failing inputs are saved to --save
// (default: a goalloc-fuzz-failures-SEED directory under the system's temporary directory).

import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { cliArgs, loadSeeds, makeCase, type FuzzCase } from "../test/fuzz/cases.js";
import { knownBug } from "../test/fuzz/known-bugs.js";
import { runPool } from "../test/fuzz/pool.js";
import type { CaseResult, Verdict } from "../test/fuzz/run-case.js";

const { values } = parseArgs({
  options: {
    cases: { type: "string", default: "100000" },
    seed: { type: "string" },
    workers: { type: "string", default: String(availableParallelism()) },
    timeout: { type: "string", default: "30000" },
    save: { type: "string" },
    case: { type: "string" },
  },
});

function integer(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name}: expected a non-negative integer, got "${text}"`);
  return n;
}

const total = integer("cases", values.cases);
const seed = values.seed !== undefined ? integer("seed", values.seed) : Math.floor(Math.random() * 2 ** 31);
const workers = Math.max(1, integer("workers", values.workers));
const timeoutMs = integer("timeout", values.timeout);
const saveDir = values.save ?? path.join(tmpdir(), `goalloc-fuzz-failures-${seed}`);
const only = values.case !== undefined ? integer("case", values.case) : null;

const seeds = loadSeeds();
const tty = process.stderr.isTTY === true;

interface Failure {
  detail: string;
  cases: number[];
  recipe: string;
  saved: string;
}

const counts: Record<Verdict | "known bug", number> = { "exit 0": 0, "exit 2": 0, "exit 3": 0, failure: 0, "known bug": 0 };
const failures = new Map<string, Failure>();
let done = 0;
let slowest: { c: FuzzCase; ms: number } | null = null;
const started = performance.now();

function save(c: FuzzCase): string {
  mkdirSync(saveDir, { recursive: true });
  const file = path.join(saveDir, `case-${c.index}.trace`);
  writeFileSync(file, c.bytes);
  return file;
}

function onResult(c: FuzzCase, r: CaseResult): void {
  done++;
  if (slowest === null || r.ms > slowest.ms) slowest = { c, ms: r.ms };
  const known = r.verdict === "failure" ? knownBug(r.detail) : null;
  counts[known !== null ? "known bug" : r.verdict]++;
  if (r.verdict !== "failure") return;
  // One entry per distinct problem: its first line, without the scratch file's name.
  const key = r.detail.split("\n")[0]!.replace(/\S*case-\d+\.trace/g, "FILE").replace(/0x[0-9a-f]+/g, "0x...");
  const seen = failures.get(key);
  if (seen) seen.cases.push(c.index);
  else failures.set(key, { detail: known !== null ? `known bug, ${known.where}\n${r.detail}` : r.detail, cases: [c.index], recipe: c.recipe, saved: save(c) });
}

function progress(final: boolean): void {
  const seconds = (performance.now() - started) / 1000;
  const rate = done / Math.max(seconds, 1e-3);
  const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
  const line =
    `fuzz: ${done}/${total} cases, exit 0: ${counts["exit 0"]}, exit 2: ${counts["exit 2"]}, exit 3: ${counts["exit 3"]}, ` +
    `failures: ${counts.failure}, known bugs: ${counts["known bug"]}, ${rate.toFixed(0)}/s` +
    (final ? "" : `, ETA ${eta} s`);
  process.stderr.write(tty ? `\r${line}\u001b[K${final ? "\n" : ""}` : `${line}\n`);
}

if (only !== null) {
  const c = makeCase(seeds, seed, only);
  const file = save(c);
  process.stdout.write(`case ${only} of seed ${seed}: ${c.recipe}\ninput: ${file} (${c.bytes.length} bytes)\n`);
  const traceOut = c.options.allocfreetrace ? ` --allocfreetrace ${file}.allocfreetrace.txt` : "";
  process.stdout.write(`command: npx goalloc replay ${file} ${cliArgs(c.options).join(" ")}${traceOut}\n`);
}

let nextIndex = only ?? 0;
const end = only !== null ? only + 1 : total;
const timer = only === null ? setInterval(() => progress(false), tty ? 250 : 10_000) : null;
await runPool(
  () => (nextIndex < end ? makeCase(seeds, seed, nextIndex++) : null),
  { workers, timeoutMs },
  (c, r) => {
    if (only !== null) process.stdout.write(`${r.verdict} in ${r.ms.toFixed(0)} ms: ${r.detail}\n`);
    onResult(c, r);
  },
);
if (timer !== null) clearInterval(timer);

if (only === null) {
  progress(true);
  const seconds = (performance.now() - started) / 1000;
  const out: string[] = [
    `fuzz summary: ${done} cases in ${seconds.toFixed(1)} s (${(done / seconds).toFixed(0)} cases/s), seed ${seed}, ${workers} workers, ${seeds.length} seed inputs`,
    ...(["exit 0", "exit 2", "exit 3", "failure", "known bug"] as const).map((v) => `  ${v.padEnd(9)} ${String(counts[v]).padStart(8)}`),
  ];
  const slow = slowest as { c: FuzzCase; ms: number } | null;
  if (slow !== null) out.push(`  slowest: case ${slow.c.index}, ${slow.ms.toFixed(0)} ms: ${slow.c.recipe}`);
  for (const f of failures.values()) {
    out.push(
      "",
      `FAILURE in ${f.cases.length} case(s), first case ${f.cases[0]}: ${f.recipe}`,
      `  input: ${f.saved}`,
      `  repeat: npm run fuzz -- --seed ${seed} --case ${f.cases[0]}`,
      ...f.detail.split("\n").slice(0, 12).map((line) => `  ${line}`),
    );
  }
  process.stdout.write(out.join("\n") + "\n");
}
process.exitCode = counts.failure > 0 ? 1 : 0;
