// goalloc check TRACE --baseline FILE: replay and compare with a stored baseline; a field past
// its tolerance, whichever way it moved, fails the check (exit 1, mapped by main.ts), not an
// error; the output ends with the command that accepts the change.

import { appendFileSync, readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { BaselineError, check, formatBaseline, parseBaseline, parseTolerance, ToleranceError, type Baseline, type CheckRun, type Report, type Tolerance } from "../../index.js";
import { benchLine, benchmarkName, benchUnitLines } from "../../check/bench.js";
import { renderCheckFailures } from "../../check/render.js";
import { baselineUpdatedMarkdown, checkMarkdown, type CheckSummaryContext } from "../../check/markdown.js";
import { ExitCode, ExitStatus, ReplayFailed, UsageError } from "../errors.js";
import { Interrupt } from "../interrupt.js";
import { refuseSharedFiles, writeOutput } from "../output.js";
import { addReplayOptions, replayArguments, shellWord, toReplayOptions, type ReplayFlags } from "../replay-options.js";

interface CheckFlags extends ReplayFlags {
  baseline: string;
  tolerance?: string[];
  update?: boolean;
  markdown?: string;
  benchFormat?: boolean;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The command that (re)makes `file` from this run: the same trace and replay options, with --update. */
function updateCommand(trace: string, file: string, replayArgs: readonly string[]): string {
  return ["goalloc", "check", trace, "--baseline", file, "--update", ...replayArgs].map(shellWord).join(" ");
}

/** A BaselineError as the command line says it: with the command that remakes the file when that is the fix. */
function baselineUsageError(e: BaselineError, update: string): UsageError {
  return new UsageError(e.regenerate ? `${e.message} (regenerate it with: ${update})` : e.message);
}

function readBaseline(file: string, update: string): Baseline {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new UsageError(`baseline ${file} does not exist; make it with: ${update}`);
    }
    throw new UsageError(`cannot read baseline ${file}: ${message(e)}`);
  }
  try {
    return parseBaseline(text, file);
  } catch (e) {
    if (e instanceof BaselineError) throw baselineUsageError(e, update);
    throw e;
  }
}

/**
 * Append, not replace: GitHub's step summary file collects what every command of a step
 * writes, so a second `goalloc check` in the same step must not erase the first one's table.
 */
function appendMarkdown(file: string, text: string): void {
  if (file === "-") {
    process.stdout.write(text);
    return;
  }
  try {
    appendFileSync(file, text);
  } catch (e) {
    throw new UsageError(`cannot write ${file}: ${message(e)}`);
  }
}

/** A replay that stopped early ends the check as it ends `replay`: exit 2 for the trace, 3 for a throw. */
function failReplay(report: Report): never {
  throw new ReplayFailed({ error: report.error!, file: report.trace.file }, { thrown: "nothing was compared" });
}

export function checkCommand(): Command {
  const cmd = new Command("check")
    .description("replay a trace and compare the result with a stored baseline: exit 1 when a field moved past its tolerance")
    .argument("<trace>", "trace file; - for standard input; gzip is detected");
  addReplayOptions(cmd)
    .addOption(new Option("--baseline <file>", "the baseline JSON (made with --update)").makeOptionMandatory())
    .addOption(
      new Option("--tolerance <spec>", "per-field limits, e.g. HeapSys=+5%,NumGC=0,Sys=1MiB,peak.*=off (repeatable; default: counts exact, bytes ±1%, ratios ±0.01)")
        // No commander default: its help would print "(default: [])".
        .argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
    )
    .addOption(new Option("--update", "write the baseline from this run (atomically) instead of comparing"))
    .addOption(new Option("--markdown <file>", 'append a markdown summary, e.g. "$GITHUB_STEP_SUMMARY" (- for stdout)'))
    .addOption(new Option("--bench-format", "print this run as Go benchmark lines for benchstat on stdout (failed fields go to stderr)"));
  return cmd.action(async (trace: string, flags: CheckFlags, self: Command) => {
    let tolerance: Tolerance;
    try {
      tolerance = parseTolerance(flags.tolerance ?? []);
    } catch (e) {
      if (e instanceof ToleranceError) throw new UsageError(e.message);
      throw e;
    }
    // --update replaces the baseline it would otherwise read: an output then, not an input.
    refuseSharedFiles(
      [
        { path: trace, role: "the trace being read" },
        { path: flags.update ? undefined : flags.baseline, role: "the baseline being read" },
      ],
      [
        { option: "--baseline", path: flags.update ? flags.baseline : undefined, role: "the baseline being written" },
        { option: "--markdown", path: flags.markdown },
      ],
    );
    const update = updateCommand(trace, flags.baseline, replayArguments(self));
    const baseline = flags.update ? null : readBaseline(flags.baseline, update);
    const interrupt = new Interrupt(() => {});
    let run: CheckRun;
    try {
      run = await check(trace, baseline, toReplayOptions(flags, process.env), tolerance, flags.baseline, { signal: interrupt.signal }).catch((e: unknown) => {
        throw e instanceof BaselineError ? baselineUsageError(e, update) : e;
      });
      // Ctrl-C, SIGTERM or SIGHUP: a partial run must never read as a pass or a regression, so
      // nothing is printed, compared or written.
      if (run.interrupted !== null || (await interrupt.checkpoint())) {
        interrupt.stop(run.interrupted ?? { file: run.report.trace.file, line: run.report.trace.lines }, flags.update ? "no baseline written" : "nothing compared, no file written");
      }
    } finally {
      // What follows is synchronous (it writes atomically): no signal is handled before it ends.
      interrupt.dispose();
    }
    if (run.current === null) failReplay(run.report);
    const o = run.report.options;
    const ctx: CheckSummaryContext = { trace: run.report.trace.file, baselineFile: flags.baseline, arch: o.arch, gogc: o.gogc, update };
    const setting = `${o.arch}, GOGC=${o.gogc}`;
    const human = flags.benchFormat ? process.stderr : process.stdout;
    if (flags.benchFormat) process.stdout.write([...benchUnitLines(), benchLine(benchmarkName(trace), run.current.values)].join("\n") + "\n");

    if (run.verdict === null) {
      // Atomic (temporary + rename): an interrupted write leaves the old baseline as it was.
      // The directory is made if needed: a first --update is how a CI's baselines folder
      // (ci/baselines/ in the workflow of docs/ci.md) comes to exist.
      writeOutput(flags.baseline, formatBaseline(run.current), { createDirectory: true });
      human.write(`goalloc check: wrote baseline ${flags.baseline} (${Object.keys(run.current.values).length} fields, ${setting})\n`);
      if (flags.markdown !== undefined) appendMarkdown(flags.markdown, baselineUpdatedMarkdown(run.current, ctx));
      return;
    }

    const v = run.verdict;
    if (v.traceChanged) {
      const digests = `SHA-256 ${baseline!.trace.sha256!.slice(0, 12)}… → ${run.sha256!.slice(0, 12)}…`;
      process.stderr.write(`goalloc check: note: ${run.report.trace.file} differs from the trace ${flags.baseline} was made from (${digests})\n`);
    }
    human.write(renderCheckFailures(v));
    human.write(
      v.ok
        ? `goalloc check: ok, ${v.fields.length} fields within tolerance of ${flags.baseline} (${setting})\n`
        : `goalloc check: ${v.failures.length} of ${v.fields.length} fields past tolerance of ${flags.baseline} (${setting})\n` +
            `to accept the change: ${update}\n`,
    );
    if (flags.markdown !== undefined) appendMarkdown(flags.markdown, checkMarkdown(v, ctx));
    if (!v.ok) throw new ExitStatus(ExitCode.Regression);
  });
}
