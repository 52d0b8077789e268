// goalloc replay TRACE: replay through the emulated allocator and report.

import { closeSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Command, Option } from "commander";
import { allocFreeTrace, heapProfile, HEAP_PROFILE_FORMATS, replay, type HeapProfileFormat } from "../../index.js";
import { renderReport } from "../../report/table.js";
import { ExitCode, ExitStatus, UsageError } from "../errors.js";
import { stdoutColor, writeOutput } from "../output.js";
import { addReplayOptions, toReplayOptions, type ReplayFlags } from "../replay-options.js";

interface ReplayCommandFlags extends ReplayFlags {
  json?: string | true;
  allocfreetrace?: string;
  memprofile?: string;
  memprofileFormat: HeapProfileFormat;
}

/** An output written piece by piece: `-` is stdout, a file is a temporary renamed into place at commit. */
interface StreamOutput {
  write(data: string | Uint8Array): void;
  commit(): void;
  abort(): void;
}

function openStreamOutput(path: string): StreamOutput {
  if (path === "-") return { write: (data) => void process.stdout.write(data), commit: () => {}, abort: () => {} };
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, "w");
  } catch (e) {
    throw new UsageError(`cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return {
    write: (data) => {
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
    },
    commit: () => {
      closeSync(fd);
      renameSync(tmp, path);
    },
    abort: () => {
      closeSync(fd);
      unlinkSync(tmp);
    },
  };
}

export function replayCommand(): Command {
  const cmd = new Command("replay")
    .description("replay an allocation trace (native or a Go allocfreetrace log) and print the report")
    .argument("<trace>", "trace file; - for standard input; gzip is detected");
  addReplayOptions(cmd)
    .addOption(new Option("--json [file]", "write the report as JSON (stdout when no file)"))
    .addOption(
      new Option(
        "--allocfreetrace <file>",
        "write what the emulated runtime prints with GODEBUG=allocfreetrace=1, in gccgo's format (- for stdout, instead of the report)",
      ),
    )
    .addOption(new Option("--memprofile <file>", "write the heap profile at the end of the replay, for go tool pprof"))
    .addOption(
      new Option(
        "--memprofile-format <format>",
        "proto: gzipped profile.proto with function names; text: the legacy text of this runtime's runtime/pprof (pprof names its frames only with the program's binary)",
      )
        .choices(HEAP_PROFILE_FORMATS)
        .default("proto"),
    );
  return cmd.action(async (trace: string, flags: ReplayCommandFlags) => {
    const toStdout = [flags.json === true, flags.allocfreetrace === "-", flags.memprofile === "-"].filter(Boolean).length;
    if (toStdout > 1) throw new UsageError("only one of --json (without a file), --allocfreetrace - and --memprofile - can write to standard output");
    const traceOut = flags.allocfreetrace === undefined ? null : openStreamOutput(flags.allocfreetrace);
    const { report, outcome } = await replay(trace, toReplayOptions(flags, process.env), traceOut ? allocFreeTrace(traceOut.write) : undefined).catch(
      (e: unknown) => {
        traceOut?.abort();
        throw e;
      },
    );
    traceOut?.commit();
    const json = JSON.stringify(report, null, 2) + "\n";
    if (flags.json === true) process.stdout.write(json);
    else {
      if (toStdout === 0) process.stdout.write(renderReport(report, { color: stdoutColor() }));
      if (typeof flags.json === "string") writeOutput(flags.json, json);
    }
    if (flags.memprofile !== undefined) {
      const out = openStreamOutput(flags.memprofile);
      out.write(heapProfile(outcome, report.memstats, flags.memprofileFormat));
      out.commit();
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
