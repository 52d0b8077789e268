// goalloc replay TRACE: replay through the emulated allocator and report.

import { Command, Option } from "commander";
import { replay } from "../../index.js";
import { renderReport } from "../../report/table.js";
import { ExitCode, ExitStatus } from "../errors.js";
import { stdoutColor, writeOutput } from "../output.js";
import { addReplayOptions, toReplayOptions, type ReplayFlags } from "../replay-options.js";

interface ReplayCommandFlags extends ReplayFlags {
  json?: string | true;
}

export function replayCommand(): Command {
  const cmd = new Command("replay")
    .description("replay an allocation trace (native or a Go allocfreetrace log) and print the report")
    .argument("<trace>", "trace file; - for standard input; gzip is detected");
  addReplayOptions(cmd).addOption(new Option("--json [file]", "write the report as JSON (stdout when no file)"));
  return cmd.action(async (trace: string, flags: ReplayCommandFlags) => {
    const { report } = await replay(trace, toReplayOptions(flags, process.env));
    const json = JSON.stringify(report, null, 2) + "\n";
    if (flags.json === true) process.stdout.write(json);
    else {
      process.stdout.write(renderReport(report, { color: stdoutColor() }));
      if (typeof flags.json === "string") writeOutput(flags.json, json);
    }
    if (report.error) {
      const e = report.error;
      if (e.kind === "trace") {
        process.stderr.write(`goalloc: ${e.message}\n`);
        throw new ExitStatus(ExitCode.Usage);
      }
      process.stderr.write(`${e.message}\ngoalloc: the emulated runtime threw at ${report.trace.file}:${e.line}\n`);
      throw new ExitStatus(ExitCode.RuntimeThrow);
    }
  });
}
