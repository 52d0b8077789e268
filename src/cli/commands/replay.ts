// goalloc replay TRACE: replay through the emulated allocator and report.

import { Command, Option } from "commander";
import {
  allocFreeTrace,
  heapProfile,
  HEAP_PROFILE_FORMATS,
  MEMPROFILE_POINTS,
  READER_THREAD_BYTES,
  replay,
  type HeapProfileFormat,
  type MemProfilePoint,
  type ReaderThread,
} from "../../index.js";
import { GctraceWriter } from "../../report/gctrace.js";
import { jsonChunks } from "../../report/json-stream.js";
import { FRAGMENTATION_DEFINITIONS } from "../../report/report.js";
import { ProgressBar } from "../../report/progress.js";
import { renderDefinitions, renderReport } from "../../report/table.js";
import { DEFAULT_TIMELINE_INTERVAL } from "../../replay/timeline.js";
import { ReplayFailed, UsageError } from "../errors.js";
import { Interrupt } from "../interrupt.js";
import { OutputSet, refuseSharedFiles, stdoutColor, writeChunks } from "../output.js";
import { addReplayOptions, parseInteger, siteDepthOption, toReplayOptions, type ReplayFlags } from "../replay-options.js";

interface ReplayCommandFlags extends ReplayFlags {
  json?: string | true;
  allocfreetrace?: string;
  memprofile?: string;
  memprofileFormat: HeapProfileFormat;
  memprofileAt: MemProfilePoint;
  html?: string;
  gctrace?: string;
  timelineInterval: number;
  readerThread: ReaderThread;
  top?: number;
  depth: number;
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
    .addOption(new Option("--memprofile <file>", "write the heap profile (as --memprofile-at says), for go tool pprof"))
    .addOption(
      new Option(
        "--memprofile-format <format>",
        "proto: gzipped profile.proto with function names; text: the legacy text of this runtime's runtime/pprof (pprof names its frames only with the program's binary)",
      )
        .choices(HEAP_PROFILE_FORMATS)
        .default("proto"),
    )
    .addOption(
      new Option(
        "--memprofile-at <point>",
        "the point the profile shows, in the report and --memprofile: gc, as of the last collection (what runtime.MemProfile returns); end, in use the sampled objects still referenced at the end; peak, those referenced at the HeapAlloc peak, and the samples up to it",
      )
        .choices(MEMPROFILE_POINTS)
        .default("gc"),
    )
    .addOption(new Option("--gctrace <file>", "write what the emulated runtime prints with GODEBUG=gctrace=1: one Go 1.3 line per collection, the scavenger's lines (- for stdout)"))
    .addOption(new Option("--html <file>", "write a self-contained HTML report with charts: heap over time, size classes, fragmentation, arena map"))
    .addOption(
      new Option("--timeline-interval <events>", "timeline sample every N events, besides every collection (0: collections only); at most 2048 points, merged as needed")
        .argParser(parseInteger)
        .default(DEFAULT_TIMELINE_INTERVAL),
    )
    .addOption(
      new Option(
        "--reader-thread <mode>",
        `which thread parses a native trace file: auto (its own thread from ${READER_THREAD_BYTES / (1024 * 1024)} MiB on, given two CPUs), main or worker; the output is the same`,
      )
        .choices(["auto", "main", "worker"])
        .default("auto"),
    )
    .addOption(new Option("--top <n>", "rows of each allocation-site table (default: 5 per peak, 10 for the profile)").argParser(parseInteger))
    .addOption(siteDepthOption())
    .addHelpText("after", `\nFragmentation measures (report, --html, and fragmentation.definitions in --json):\n${renderDefinitions(FRAGMENTATION_DEFINITIONS)}\n`);
  return cmd.action(async (trace: string, flags: ReplayCommandFlags) => {
    // `--json -` is bare `--json`: the JSON report on standard output, instead of the text one.
    const jsonToStdout = flags.json === true || flags.json === "-";
    const toStdout = [jsonToStdout, flags.allocfreetrace === "-", flags.memprofile === "-", flags.html === "-", flags.gctrace === "-"].filter(Boolean).length;
    if (toStdout > 1) {
      throw new UsageError("only one of --json (without a file), --allocfreetrace -, --memprofile -, --gctrace - and --html - can write to standard output");
    }
    refuseSharedFiles(
      [{ path: trace, role: "the trace being read" }],
      [
        { option: "--json", path: typeof flags.json === "string" ? flags.json : undefined },
        { option: "--allocfreetrace", path: flags.allocfreetrace },
        { option: "--memprofile", path: flags.memprofile },
        { option: "--gctrace", path: flags.gctrace },
        { option: "--html", path: flags.html },
      ],
    );
    const outputs = new OutputSet();
    const interrupt = new Interrupt(() => outputs.abortAll());
    try {
      const traceOut = outputs.open(flags.allocfreetrace);
      const jsonOut = typeof flags.json === "string" && !jsonToStdout ? outputs.open(flags.json) : null;
      const htmlOut = outputs.open(flags.html);
      const profileOut = outputs.open(flags.memprofile);
      const gctraceOut = outputs.open(flags.gctrace);
      // Written as the collections happen: the runtime keeps only the first and the last ones.
      const gctrace = gctraceOut === null ? null : new GctraceWriter(gctraceOut.write);
      // The bar costs one clock read per chunk of input, and shows only on a terminal.
      const bar = process.stderr.isTTY === true ? new ProgressBar(process.stderr) : null;
      const monitor = {
        timelineInterval: flags.timelineInterval,
        signal: interrupt.signal,
        readerThread: flags.readerThread,
        siteDepth: flags.depth,
        topSites: flags.top,
        memprofileAt: flags.memprofileAt,
        ...(bar === null ? {} : { progress: bar.update.bind(bar) }),
        ...(gctrace === null ? {} : { collections: gctrace }),
      };
      const { report, outcome } = await replay(trace, toReplayOptions(flags, process.env), traceOut ? allocFreeTrace(traceOut.write) : undefined, monitor).finally(() =>
        bar?.done(),
      );
      gctrace?.flush();
      // A signal that came while the report was built is seen here. The report of what was
      // replayed is printed either way (partial when the signal stopped the replay); a second
      // signal while it is written quits at once.
      await interrupt.checkpoint();
      if (jsonToStdout) {
        await writeChunks(
          jsonChunks(report),
          (text) => process.stdout.write(text),
          async () => {
            await interrupt.checkpoint();
            return false;
          },
        );
      } else if (toStdout === 0) process.stdout.write(renderReport(report, { color: stdoutColor(), topSites: flags.top, siteDepth: flags.depth }));
      // Ctrl-C, SIGTERM or SIGHUP in any phase: no output file is half-done or committed.
      const stop = (): never => {
        outputs.abortAll();
        const what = outcome.interrupted ? "partial report, no output file written" : "no output file written";
        return interrupt.stop({ file: report.trace.file, line: report.trace.lines }, what);
      };
      if (interrupt.signal.aborted) stop();
      // The JSON is written in pieces (a large report is too long for one string), looking
      // for a signal between them.
      if (jsonOut !== null && (await writeChunks(jsonChunks(report), jsonOut.write, () => interrupt.checkpoint()))) stop();
      if (htmlOut !== null) {
        // The HTML writer is loaded only when asked for.
        const { htmlReport } = await import("../../report/html.js");
        if (await interrupt.checkpoint()) stop();
        htmlOut.write(htmlReport(report, outcome.snapshot));
      }
      if (profileOut !== null) {
        if (await interrupt.checkpoint()) stop();
        profileOut.write(heapProfile(outcome, flags.memprofileFormat));
      }
      // The last look: nothing yields from here on, so every output is committed or none is.
      if (await interrupt.checkpoint()) stop();
      for (const output of [traceOut, gctraceOut, jsonOut, htmlOut, profileOut]) output?.commit();
      if (report.error) throw new ReplayFailed({ error: report.error, file: report.trace.file });
    } catch (e) {
      outputs.abortAll();
      throw e;
    } finally {
      interrupt.dispose();
    }
  });
}
