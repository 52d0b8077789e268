// goalloc gen: write a seeded synthetic Go-like native trace (src/gen/generator.ts).

import { rename, unlink } from "node:fs/promises";
import { createWriteStream, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Command, Option } from "commander";
import { generateTrace, type GenerateOptions } from "../../index.js";
import { UsageError } from "../errors.js";
import { parseInteger } from "../replay-options.js";

interface GenFlags {
  events: number;
  seed: number;
  out: string;
}

function isBrokenPipe(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === "EPIPE";
}

/** Stream the trace to stdout; a reader that stops early (`| head`) simply ends the output. */
async function writeToStdout(options: GenerateOptions): Promise<void> {
  try {
    await pipeline(Readable.from(generateTrace(options)), process.stdout as Writable);
  } catch (error) {
    if (!isBrokenPipe(error)) throw error;
  }
}

/** Stream the trace to a temporary file renamed into place, so no reader sees half a trace. */
async function writeToFile(options: GenerateOptions, path: string): Promise<void> {
  // The rename at the end would fail on a directory: say so before generating anything.
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory() === true) throw new UsageError(`cannot write ${path}: it is a directory`);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await pipeline(Readable.from(generateTrace(options)), createWriteStream(tmp));
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => {
      // Never created (or already renamed): nothing to clean up.
    });
    throw new UsageError(`cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function genCommand(): Command {
  return new Command("gen")
    .description("write a synthetic Go-like native trace: tiny, small, medium and large objects, short and long lives, frees, GCs, clock ticks and stacks")
    .addOption(new Option("--events <n>", "records to generate (after the header and stack definitions)").argParser(parseInteger).makeOptionMandatory())
    .addOption(new Option("--seed <n>", "seed: the same seed gives the same trace").argParser(parseInteger).default(1))
    .addOption(new Option("--out <file>", "output file; - for standard output").default("-"))
    .action(async (flags: GenFlags) => {
      const options: GenerateOptions = { events: flags.events, seed: flags.seed };
      if (flags.out === "-") await writeToStdout(options);
      else await writeToFile(options, flags.out);
    });
}
