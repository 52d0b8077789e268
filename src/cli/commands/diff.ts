// goalloc diff A [B]: two traces, or one trace under two option sets (--a-gogc 100 --b-gogc 200),
// field by field and allocation site by allocation site.

import { Command, Option } from "commander";
import { diff, VERSION } from "../../index.js";
import { renderDiff } from "../../check/render.js";
import { ExitCode, ExitStatus, ReplayFailed, UsageError } from "../errors.js";
import { Interrupt } from "../interrupt.js";
import { refuseSharedFiles, stdoutColor, writeOutput } from "../output.js";
import { addReplayOptions, parseInteger, siteDepthOption, toReplayOptions, type ReplayFlags } from "../replay-options.js";

/** The shared replay options that can also be set for one side only, as --a-NAME / --b-NAME. */
const SIDE_OPTIONS = ["arch", "data-end", "gogc", "memprofilerate", "seed", "efence", "gc", "until"];

interface DiffFlags extends ReplayFlags {
  json?: string | true;
  top: number;
  depth: number;
  failOnDiff?: boolean;
}

/** A side's flag (e.g. aGogc) and the shared flag it overrides (gogc). */
interface SideFlag {
  side: "a" | "b";
  attribute: string;
  overrides: string;
}

/**
 * --a-NAME and --b-NAME options built from the shared declaration of --NAME, so that they parse
 * and validate exactly as it does (same argument, parser and choices; no default, so that an
 * absent side option leaves the shared value).
 */
function sideOptions(shared: readonly Option[]): { options: Option[]; flags: SideFlag[] } {
  const options: Option[] = [];
  const flags: SideFlag[] = [];
  for (const name of SIDE_OPTIONS) {
    const base = shared.find((o) => o.long === `--${name}`);
    if (base === undefined) throw new Error(`diff: no shared option --${name}`);
    for (const side of ["a", "b"] as const) {
      const option = new Option(base.flags.replace(`--${name}`, `--${side}-${name}`), `${side.toUpperCase()} only: ${base.description}`);
      if (base.parseArg) option.argParser(base.parseArg);
      if (base.argChoices) option.choices(base.argChoices);
      options.push(option);
      flags.push({ side, attribute: option.attributeName(), overrides: base.attributeName() });
    }
  }
  return { options, flags };
}

function sideFlags(flags: DiffFlags, side: "a" | "b", sides: readonly SideFlag[]): ReplayFlags {
  // Flags are keyed by commander's attribute names, which are only known as strings here.
  const all = flags as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { ...all };
  for (const f of sides) if (f.side === side && all[f.attribute] !== undefined) out[f.overrides] = all[f.attribute];
  return out as unknown as ReplayFlags;
}

export function diffCommand(): Command {
  const cmd = new Command("diff")
    .description("diff two replays: two traces, or one trace under two option sets (--a-gogc 100 --b-gogc 200)")
    .argument("<a>", "trace A (a file)")
    .argument("[b]", "trace B (default: trace A again, with the --b-* options)");
  const shared = addReplayOptions(cmd).options.slice();
  const sides = sideOptions(shared);
  for (const option of sides.options) cmd.addOption(option);
  cmd
    .addOption(new Option("--top <n>", "allocation sites to list").argParser(parseInteger).default(10))
    .addOption(siteDepthOption())
    .addOption(new Option("--json [file]", "write the diff as JSON (stdout when no file)"))
    .addOption(new Option("--fail-on-diff", "exit 1 when any field differs"));
  return cmd.action(async (a: string, b: string | undefined, flags: DiffFlags) => {
    const traceB = b ?? a;
    if (a === "-" || traceB === "-") throw new UsageError("diff replays each side from its file: give files, not standard input");
    const given = sides.flags.filter((f) => (flags as unknown as Record<string, unknown>)[f.attribute] !== undefined);
    if (b === undefined && given.length === 0) {
      throw new UsageError("diff of a trace with itself: give a second trace, or options for one side (e.g. --a-gogc 100 --b-gogc 200)");
    }
    const inputs = b === undefined ? [{ path: a, role: "the trace being read" }] : [{ path: a, role: "trace A being read" }, { path: b, role: "trace B being read" }];
    // `--json -` is bare `--json`: the JSON alone on standard output, as replay reads it.
    if (flags.json === "-") flags.json = true;
    refuseSharedFiles(inputs, [{ option: "--json", path: typeof flags.json === "string" ? flags.json : undefined }]);
    const interrupt = new Interrupt(() => {});
    let run: Awaited<ReturnType<typeof diff>>;
    try {
      run = await diff(
        { trace: a, options: toReplayOptions(sideFlags(flags, "a", sides.flags), process.env) },
        { trace: traceB, options: toReplayOptions(sideFlags(flags, "b", sides.flags), process.env) },
        flags.top,
        flags.depth,
        { signal: interrupt.signal },
      );
      // Ctrl-C, SIGTERM or SIGHUP: once A is stopped B stops before its first line; nothing is printed or written.
      if (run.interrupted !== null || (await interrupt.checkpoint())) {
        interrupt.stop(run.interrupted ?? { file: run.reports[1].trace.file, line: run.reports[1].trace.lines }, "nothing compared, no file written");
      }
    } finally {
      // What follows is synchronous (it writes atomically): no signal is handled before it ends.
      interrupt.dispose();
    }
    const { diff: d, reports } = run;
    const traceFailure = reports.find((r) => r.error?.kind === "trace");
    if (traceFailure) throw new ReplayFailed({ error: traceFailure.error!, file: traceFailure.trace.file });
    const json = JSON.stringify({ goalloc: VERSION, ...d }, null, 2) + "\n";
    if (flags.json === true) process.stdout.write(json);
    else {
      process.stdout.write(renderDiff(d, stdoutColor()));
      if (typeof flags.json === "string") writeOutput(flags.json, json);
    }
    // As `replay` does: the partial figures are printed, then the throw decides the exit code.
    const thrown = reports.flatMap((r, i) => (r.error === null ? [] : [{ error: r.error, file: r.trace.file, label: i === 0 ? "A" : "B" }]));
    if (thrown.length > 0) throw new ReplayFailed(thrown);
    if (flags.failOnDiff && d.changed > 0) throw new ExitStatus(ExitCode.Regression);
  });
}
