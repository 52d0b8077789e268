// goalloc convert LOG -o TRACE: a Go allocfreetrace log as a native trace (replay/convert.ts).

import { gzipSync } from "node:zlib";
import { Command, Option } from "commander";
import { ARCH_NAMES, type ArchName } from "../../runtime/index.js";
import { convertLog } from "../../index.js";
import { ExitStatus, ReplayFailed } from "../errors.js";
import { Interrupt } from "../interrupt.js";
import { OutputSet, refuseSharedFiles } from "../output.js";
import { parseInteger } from "../replay-options.js";

interface ConvertFlags {
  out: string;
  arch?: ArchName;
  until?: string;
  argc?: number;
  envc?: number;
}

/** Text in, gzip members out: each piece is a complete member, and readers join members. */
function gzipping(write: (data: Uint8Array) => void): (text: string) => void {
  return (text) => write(gzipSync(text, { level: 9 }));
}

export function convertCommand(): Command {
  return new Command("convert")
    .description("write a Go allocfreetrace log as a native trace: stacks and types kept, deaths placed at the collection that found them, no collection records but runtime.GC")
    .argument("<log>", "Go log (gzip, xz or zstd detected); - for standard input")
    .addOption(new Option("-o, --out <file>", "the native trace to write (gzip when it ends in .gz); - for standard output").makeOptionMandatory())
    .addOption(new Option("--arch <arch>", "the layout the log's start-up is replayed on (default: the log's own)").choices(ARCH_NAMES))
    .addOption(new Option("--until <text>", "stop at the first line containing TEXT"))
    .addOption(new Option("--argc <n>", "arguments of the logged process (default: inferred)").argParser(parseInteger))
    .addOption(new Option("--envc <n>", "environment variables of the logged process (default: inferred)").argParser(parseInteger))
    .action(async (log: string, flags: ConvertFlags) => {
      refuseSharedFiles([{ path: log, role: "the log being read" }], [{ option: "--out", path: flags.out }]);
      const outputs = new OutputSet();
      const interrupt = new Interrupt(() => outputs.abortAll());
      try {
        const out = outputs.open(flags.out)!;
        const write = flags.out.endsWith(".gz") ? gzipping(out.write) : out.write;
        const { counts, outcome } = await convertLog(
          log,
          {
            ...(flags.arch !== undefined ? { arch: flags.arch } : {}),
            until: flags.until ?? null,
            argc: flags.argc ?? null,
            envc: flags.envc ?? null,
          },
          write,
          { signal: interrupt.signal },
        );
        // checkpoint: a signal that came during the last, synchronous part of the replay.
        if ((await interrupt.checkpoint()) || outcome.interrupted) {
          outputs.abortAll();
          process.stderr.write(`goalloc: interrupted at ${outcome.file}:${outcome.counts.lines}: no trace written\n`);
          throw new ExitStatus(interrupt.exitCode);
        }
        const e = outcome.error;
        if (e !== null) {
          // A trace that stops short of the log would be a different program: nothing is written.
          outputs.abortAll();
          throw new ReplayFailed({ error: e, file: outcome.file }, { malformed: "no trace written", thrown: "no trace written" });
        }
        out.commit();
        const n = (x: number): string => x.toLocaleString("en-US");
        process.stderr.write(
          `goalloc: ${flags.out === "-" ? "wrote" : `wrote ${flags.out}:`} ${n(counts.allocs)} allocations, ${n(counts.frees)} frees, ${n(counts.deaths)} deaths, ` +
            `${n(counts.collections)} runtime.GC, ${n(counts.stacks)} stacks from ${outcome.file}; replay with --arch ${outcome.options.arch}\n`,
        );
      } catch (e) {
        outputs.abortAll();
        throw e;
      } finally {
        interrupt.dispose();
      }
    });
}
