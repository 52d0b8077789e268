// The options every replaying command shares (`goalloc replay --help`), declared once as data.

import { Command, InvalidArgumentError, Option } from "commander";
import { ARCHES, ARCH_NAMES, parseGOGC, reservationEnd32, type ArchName } from "../runtime/index.js";
import { UsageError } from "./errors.js";
import type { ReplayOptions } from "../replay/options.js";
import { PROLOGUE_KINDS, type PrologueKind } from "../replay/prologue.js";
import { DEFAULT_SITE_DEPTH } from "../report/sites.js";

/** A non-negative integer in decimal or 0x hex. */
export function parseInteger(value: string): number {
  const n = /^0x[0-9a-f]+$/i.test(value) ? parseInt(value.slice(2), 16) : /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected a non-negative integer (decimal or 0x hex), got "${value}"`);
  return n;
}

/** --depth: frames shown per allocation site, past the leading allocator frames (report/sites.ts). */
export function siteDepthOption(): Option {
  return new Option("--depth <n>", "frames shown per allocation site, past the allocator's own (runtime.mallocgc, makeslice, ...)")
    .argParser((value) => {
      const n = parseInteger(value);
      if (n < 1) throw new InvalidArgumentError(`expected at least 1 frame, got "${value}"`);
      return n;
    })
    .default(DEFAULT_SITE_DEPTH);
}

function parseGogcOption(value: string): number {
  if (value === "off") return -1;
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`expected a number or "off", got "${value}"`);
  // The runtime's digits-only atoi: a leading minus gives 0, not "off" (mgc0.c readgogc).
  return parseGOGC(value);
}

export function addReplayOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--arch <arch>", "arena layout and pointer size (default: a Go log's own, else amd64)").choices(ARCH_NAMES))
    .addOption(new Option("--data-end <addr>", "32-bit only: end of the program image (_end), placing the arena").argParser(parseInteger))
    .addOption(new Option("--gogc <n|off>", "GC pacing percentage (default: $GOGC, else 100)").argParser(parseGogcOption))
    .addOption(new Option("--memprofilerate <bytes>", "profile sampling rate; 0 turns sampling off").argParser(parseInteger).default(524288))
    .addOption(new Option("--seed <n>", "initial fastrand state (0x49f6428a + cputicks)").argParser(parseInteger))
    .addOption(new Option("--efence", "GODEBUG=efence=1: every object on its own pages, never reused"))
    .addOption(new Option("--format <format>", "input format").choices(["auto", "native", "golog"]).default("auto"))
    .addOption(
      new Option("--gc <mode>", "Go logs: collect at the log's tracegc (log) or when the emulated pacer says (pacer); auto: the log's when the options are the run's")
        .choices(["auto", "pacer", "log"])
        .default("auto"),
    )
    .addOption(
      new Option("--bgsweep <mode>", "when the background sweeper and finalizers run: at clock records (t), or never (see docs/scheduling.md)")
        .choices(["clock", "off"])
        .default("clock"),
    )
    .addOption(new Option("--until <text>", "stop at the first line containing TEXT and report the state there"))
    .addOption(
      new Option("--prologue <kind>", "start-up allocations made before tracing began (auto: go1.3 for logs, none for native)")
        .choices(["auto", ...PROLOGUE_KINDS])
        .default("auto"),
    )
    .addOption(new Option("--argc <n>", "go1.3 prologue: arguments of the logged process (default: inferred from the log)").argParser(parseInteger))
    .addOption(new Option("--envc <n>", "go1.3 prologue: environment variables of the logged process (default: inferred)").argParser(parseInteger))
    .addOption(new Option("--check-invariants", "check every heap invariant after every event (slow)"));
}

export interface ReplayFlags {
  arch?: ArchName;
  dataEnd?: number;
  gogc?: number;
  memprofilerate: number;
  seed?: number;
  efence?: boolean;
  format: "auto" | "native" | "golog";
  gc: "auto" | "pacer" | "log";
  bgsweep?: "clock" | "off";
  until?: string;
  prologue?: "auto" | PrologueKind;
  argc?: number;
  envc?: number;
  checkInvariants?: boolean;
}

/** Flags → library options (GOGC from the environment when --gogc is absent). */
export function toReplayOptions(flags: ReplayFlags, env: NodeJS.ProcessEnv): Partial<ReplayOptions> {
  const gogc = flags.gogc ?? (env.GOGC !== undefined ? parseGOGC(env.GOGC) : undefined);
  if (flags.dataEnd !== undefined && flags.arch !== undefined && ARCHES[flags.arch].ptrSize === 4 && reservationEnd32(flags.dataEnd) > 2 ** 32) {
    // mallocinit reserves the arena right after the image: it must fit in 32 bits.
    throw new UsageError(
      `--data-end 0x${flags.dataEnd.toString(16)}: a ${flags.arch} arena reserved after that image would end at 0x${reservationEnd32(flags.dataEnd).toString(16)}, past the 32-bit address space`,
    );
  }
  return {
    arch: flags.arch ?? "auto",
    dataEnd: flags.dataEnd ?? null,
    ...(gogc !== undefined ? { gogc } : {}),
    memprofilerate: flags.memprofilerate,
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
    efence: flags.efence === true,
    format: flags.format,
    gc: flags.gc,
    bgsweep: flags.bgsweep ?? "clock",
    until: flags.until ?? null,
    prologue: flags.prologue ?? "auto",
    argc: flags.argc ?? null,
    envc: flags.envc ?? null,
    checkInvariants: flags.checkInvariants === true,
  };
}

/** `word` as a POSIX shell reads it back: unchanged when safe, else in single quotes. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The shared replay options given on `cmd`'s command line, as arguments that repeat the same
 * replay (for the commands goalloc suggests, such as check's --update). Values are the parsed
 * ones written back: --gogc off, --data-end in hex.
 */
export function replayArguments(cmd: Command): string[] {
  const shared = new Set(addReplayOptions(new Command()).options.map((o) => o.long));
  const args: string[] = [];
  for (const option of cmd.options) {
    const key = option.attributeName();
    if (option.long === undefined || !shared.has(option.long) || cmd.getOptionValueSource(key) !== "cli") continue;
    const value: unknown = cmd.getOptionValue(key);
    if (value === true) args.push(option.long);
    else if (option.long === "--gogc" && typeof value === "number") args.push(option.long, value < 0 ? "off" : String(value));
    else if (option.long === "--data-end" && typeof value === "number") args.push(option.long, `0x${value.toString(16)}`);
    else if (value !== undefined && value !== false) args.push(option.long, String(value));
  }
  return args;
}
