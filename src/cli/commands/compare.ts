// goalloc compare TRACE --arch amd64,386,...: one trace under several arena layouts, side by side.

import { Command, InvalidArgumentError, Option } from "commander";
import { ARCH_NAMES, type ArchName } from "../../runtime/index.js";
import { compare, VERSION, type Comparison } from "../../index.js";
import { benchLine, benchmarkName, benchUnitLines } from "../../check/bench.js";
import { errorCell, renderComparison } from "../../check/render.js";
import { ExitCode, ExitStatus, ReplayFailed, UsageError } from "../errors.js";
import { Interrupt } from "../interrupt.js";
import { refuseSharedFiles, stdoutColor, writeOutput } from "../output.js";
import { addReplayOptions, toReplayOptions, type ReplayFlags } from "../replay-options.js";

interface CompareFlags extends Omit<ReplayFlags, "arch"> {
  arch: ArchName[];
  failOnThrow?: boolean;
  json?: string | true;
  benchFormat?: boolean;
}

function parseArchList(value: string): ArchName[] {
  const arches = value.split(",").map((a) => a.trim());
  for (const a of arches) {
    if (!(ARCH_NAMES as readonly string[]).includes(a)) throw new InvalidArgumentError(`"${a}" is not an arch (${ARCH_NAMES.join(", ")})`);
  }
  if (new Set(arches).size !== arches.length) throw new InvalidArgumentError("an arch is listed twice");
  return arches as ArchName[];
}

export function compareCommand(): Command {
  const cmd = new Command("compare")
    .description("replay one trace under several arena layouts and print them side by side, relative to the first")
    .argument("<trace>", "trace file (not standard input: it is read once per layout); gzip is detected")
    .addOption(new Option("--arch <list>", "comma-separated layouts, the first one is the reference").argParser(parseArchList).default([...ARCH_NAMES], ARCH_NAMES.join(",")));
  // Every shared replay option but --arch, which is a list here: take them from the shared
  // declaration (replay-options.ts) rather than declaring them a second time.
  for (const option of addReplayOptions(new Command()).options) if (option.long !== "--arch") cmd.addOption(option);
  cmd
    .addOption(new Option("--json [file]", "write the comparison as JSON (stdout when no file)"))
    .addOption(new Option("--fail-on-throw", "exit 1 when the emulated runtime throws on any layout (a 32-bit arena running out: a \"must fit in 32 bits\" gate)"))
    .addOption(new Option("--bench-format", "print one Go benchmark line per layout (BenchmarkReplay/NAME/arch=ARCH) for benchstat"));
  return cmd.action(async (trace: string, flags: CompareFlags) => {
    if (trace === "-") throw new UsageError("compare replays the trace once per layout: give it a file, not standard input");
    // `--json -` is bare `--json`: the JSON alone on standard output, as replay reads it.
    if (flags.json === "-") flags.json = true;
    if (flags.json === true && flags.benchFormat) throw new UsageError("--json without a file and --bench-format would both write to standard output");
    refuseSharedFiles([{ path: trace, role: "the trace being read" }], [{ option: "--json", path: typeof flags.json === "string" ? flags.json : undefined }]);
    // compare() sets each layout's arch; the first stands in for the shared flags' single one.
    const options = toReplayOptions({ ...flags, arch: flags.arch[0]! }, process.env);
    const interrupt = new Interrupt(() => {});
    let comparison: Comparison;
    try {
      const run = await compare(trace, flags.arch, options, { signal: interrupt.signal });
      comparison = run.comparison;
      // Ctrl-C, SIGTERM or SIGHUP: the layouts left are not replayed, nothing is printed or written.
      if (run.interrupted !== null || (await interrupt.checkpoint())) {
        const last = run.reports[run.reports.length - 1]!;
        interrupt.stop(run.interrupted ?? { file: last.trace.file, line: last.trace.lines }, "nothing compared, no file written");
      }
    } finally {
      // What follows is synchronous (it writes atomically): no signal is handled before it ends.
      interrupt.dispose();
    }
    if (flags.json !== undefined) {
      const json = JSON.stringify({ goalloc: VERSION, ...comparison }, null, 2) + "\n";
      if (flags.json === true) process.stdout.write(json);
      else writeOutput(flags.json, json);
    }
    if (flags.benchFormat) {
      const name = benchmarkName(trace);
      const lines = benchUnitLines();
      for (const col of comparison.columns) {
        // benchstat ignores lines that are not results: a failed layout leaves a comment.
        lines.push(col.error === null ? benchLine(`${name}/arch=${col.arch}`, col.values) : `# ${name}/arch=${col.arch}: ${errorCell(col.error)}`);
      }
      process.stdout.write(lines.join("\n") + "\n");
    } else if (flags.json !== true) process.stdout.write(renderComparison(comparison, stdoutColor()));
    // A layout that throws is a result shown in its column; a malformed trace is the input's fault.
    const traceError = comparison.columns.find((c) => c.error?.kind === "trace")?.error;
    if (traceError) throw new ReplayFailed({ error: traceError, file: trace });
    const threw = comparison.columns.filter((c) => c.error?.kind === "runtime").map((c) => c.arch);
    if (flags.failOnThrow && threw.length > 0) {
      throw new ExitStatus(ExitCode.Regression, `the emulated runtime threw on ${threw.join(", ")} (--fail-on-throw)`);
    }
  });
}
