// The goalloc command line: builds the program, runs it, and maps every outcome to an exit
// code in one place (0 ok, 1 a check or --fail-on-diff failed, 2 usage/input, 3 runtime
// throw, 130 interrupted, 141 standard output closed).

import { Command, CommanderError } from "commander";
import { VERSION } from "../version.js";
import { TraceError } from "../trace/record.js";
import { ExitCode, ExitStatus, ReplayFailed, UsageError } from "./errors.js";
import { replayCommand } from "./commands/replay.js";
import { sizeclassesCommand } from "./commands/sizeclasses.js";
import { checkCommand } from "./commands/check.js";
import { compareCommand } from "./commands/compare.js";
import { diffCommand } from "./commands/diff.js";
import { genCommand } from "./commands/gen.js";
import { convertCommand } from "./commands/convert.js";

export function buildProgram(): Command {
  const program = new Command("goalloc")
    .description("Replay Go allocation traces through an exact emulation of the Go 1.3-era gccgo allocator")
    .version(VERSION)
    // A usage error is its message and where to look, not the whole help.
    .showHelpAfterError("(goalloc --help for usage)")
    .exitOverride();
  for (const cmd of [replayCommand(), sizeclassesCommand(), genCommand(), checkCommand(), compareCommand(), diffCommand(), convertCommand()]) {
    // exitOverride is not inherited by addCommand'ed commands.
    program.addCommand(cmd.exitOverride().showHelpAfterError(`(goalloc ${cmd.name()} --help for usage)`));
  }
  return program;
}

/**
 * Standard output failing under us: a reader that went away (`goalloc ... | head -1`) ends
 * the command quietly, as SIGPIPE ends other Unix tools (exit 141); any other write error
 * (a full disk) is an input/output error with one line on stderr (exit 2). Without this
 * handler Node reports the stream's error as an unhandled exception.
 */
function watchStdout(): void {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(ExitCode.BrokenPipe);
    process.stderr.write(`goalloc: cannot write standard output: ${e.code ?? e.message}\n`);
    process.exit(ExitCode.Usage);
  });
}

export async function main(argv: string[]): Promise<number> {
  watchStdout();
  try {
    await buildProgram().parseAsync(argv);
    return ExitCode.Ok;
  } catch (e) {
    if (e instanceof ExitStatus) {
      if (e.why !== undefined) process.stderr.write(`goalloc: ${e.why}\n`);
      return e.code;
    }
    if (e instanceof ReplayFailed) {
      const { text, code } = e.explain();
      process.stderr.write(text);
      return code;
    }
    if (e instanceof CommanderError) return e.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    if (e instanceof UsageError || e instanceof TraceError) {
      process.stderr.write(`goalloc: ${e.message}\n`);
      return ExitCode.Usage;
    }
    process.stderr.write(`goalloc: internal error (a bug in goalloc, please report it):\n${e instanceof Error ? e.stack : String(e)}\n`);
    return ExitCode.Internal;
  }
}

process.exitCode = await main(process.argv);
