// Replay options: what a user can set, their defaults, and how they map onto the runtime.

import type { ArchName } from "../runtime/index.js";
import { ARCHES, DefaultMemProfileRate, FastrandSeedBase, parseGOGC } from "../runtime/index.js";
import type { FormatOption } from "../trace/detect.js";
import { generationName, type LogProfile } from "../trace/golog-profile.js";
import { TraceError, type TraceFormat } from "../trace/record.js";
import type { PrologueKind } from "./prologue.js";

/** Who decides when the runtime collects: the emulated pacer, or a Go log's own tracegc records. */
export type GCMode = "pacer" | "log";

/**
 * When the emulated background sweeper and finalizer goroutine run. A real process runs
 * them whenever the program blocks; a trace shows that only as time passing:
 *   clock  when a `t` record moves the clock (the sweeper finishes the cycle's sweep, then
 *          queued finalizers run and end with a forced, non-eager GC);
 *   off    never: sweeping is lazy only (refills, page allocations, explicit frees), as in a
 *          program that never blocks; finalizers still queue but never run.
 */
export type BackgroundMode = "clock" | "off";

export interface ReplayOptions {
  /** auto: a Go log's own layout (golog-profile.ts), amd64 for a native trace. */
  arch: ArchName | "auto";
  /** 32-bit `_end` (null = the arch default). */
  dataEnd: number | null;
  /** GOGC as the runtime parses it: -1 = off. */
  gogc: number;
  memprofilerate: number;
  /** Initial fastrand state (0x49f6428a + cputicks). */
  seed: number;
  efence: boolean;
  format: FormatOption;
  /**
   * golog input: collect where the emulated pacer says, or exactly at the log's tracegc;
   * auto: the log's collections when the options are the run's (see resolveSchedule).
   */
  gc: GCMode | "auto";
  /** When the background sweeper and finalizer goroutine run (native traces). */
  bgsweep: BackgroundMode;
  /** Stop at the first line containing this text. */
  until: string | null;
  /** Run the heap invariant checker after every event (slow). */
  checkInvariants: boolean;
  /** Unix time (ns) of emulated time 0, for LastGC. */
  unixEpochNs: number;
  /** Start-up allocations made before tracing began: auto = go1.3 for logs, none for native. */
  prologue: "auto" | PrologueKind;
  /** Prologue: arguments and environment variables of the logged process (null: infer). */
  argc: number | null;
  envc: number | null;
}

export const defaultReplayOptions: ReplayOptions = {
  arch: "auto",
  dataEnd: null,
  gogc: 100,
  memprofilerate: DefaultMemProfileRate,
  seed: FastrandSeedBase,
  efence: false,
  format: "auto",
  gc: "auto",
  bgsweep: "clock",
  until: null,
  checkInvariants: false,
  unixEpochNs: 0,
  prologue: "auto",
  // Inferred from the log; failing that, the oracle runs' values:
  // `env -i GOMAXPROCS=1 GODEBUG=allocfreetrace=1 ./prog` (argc 1, two variables).
  argc: null,
  envc: null,
};

/** Fill in defaults; GOGC from the environment applies when the caller gave none. */
export function resolveReplayOptions(partial: Partial<ReplayOptions>, env: { GOGC?: string } = {}): ReplayOptions {
  const gogc = partial.gogc ?? (env.GOGC !== undefined ? parseGOGC(env.GOGC) : defaultReplayOptions.gogc);
  return { ...defaultReplayOptions, ...partial, gogc };
}

/** Options with the choices left to the input made: what the engine runs with. */
export interface ResolvedReplayOptions extends Omit<ReplayOptions, "arch" | "gc"> {
  arch: ArchName;
  gc: GCMode;
}

/** Why the replay collects where it does, for the report's first line. */
export interface Schedule {
  gc: GCMode;
  /** Completes "collections: the log's / the emulated pacer's, ..." */
  why: string;
  /** The arch was read off the log. */
  archFromLog: boolean;
  /**
   * The emulated addresses can equal the logged ones: a go1.3 log replayed on its own layout.
   * Otherwise why not (fidelity figures are then not a measure of anything).
   */
  addressesComparable: boolean;
  notComparableWhy: string | null;
}

/** A log's layout and an arch agree when they place the arena alike (32-bit: after the image). */
function sameLayout(arch: ArchName, profile: LogProfile): boolean {
  if (profile.ptrSize === null) return true;
  if (ARCHES[arch].ptrSize !== profile.ptrSize) return false;
  return profile.ptrSize === 4 || profile.layout === arch;
}

function describeLayout(profile: LogProfile): string {
  return `${profile.ptrSize === 8 ? "64" : "32"}-bit (${profile.layout ?? "?"}) run, first address ${profile.firstAddress ?? "?"}`;
}

/**
 * Decide what the user left to the input. A go1.3 log replayed with the options it ran with
 * follows its own collections: they are the runtime's, and every address after them depends
 * on them. An option that changes when the runtime collects (GOGC, efence, another arena
 * layout), or a log of another runtime, leaves the schedule to the emulated pacer.
 * `--gc log` on a log whose addresses cannot exist in the chosen layout is refused: following
 * a log's collections means finding its objects' spans by their logged addresses.
 */
export function resolveSchedule(
  options: ReplayOptions,
  format: TraceFormat,
  profile: LogProfile | null,
  file: string,
): { options: ResolvedReplayOptions; schedule: Schedule } {
  const archFromLog = options.arch === "auto" && profile?.layout != null;
  const arch: ArchName = options.arch !== "auto" ? options.arch : (profile?.layout ?? "amd64");
  const resolved = (gc: GCMode): ResolvedReplayOptions => ({ ...options, arch, gc });
  if (format === "native" || profile === null) {
    const schedule: Schedule = { gc: "pacer", why: "a native trace's own `gc` records, the rest by the emulated pacer", archFromLog, addressesComparable: false, notComparableWhy: null };
    return { options: resolved("pacer"), schedule };
  }
  const layoutOk = sameLayout(arch, profile);
  const comparable = profile.generation !== "modern" && layoutOk;
  const notComparableWhy = comparable
    ? null
    : profile.generation === "modern"
      ? `a ${generationName("modern")} (its allocator lays out the heap differently): addresses are comparable only for go1.3 logs`
      : `the log comes from a ${describeLayout(profile)}; --arch ${arch} lays the arena out elsewhere`;
  const base = { archFromLog, addressesComparable: comparable, notComparableWhy };
  if (options.gc === "log") {
    if (!layoutOk) {
      throw new TraceError(file, 0, `--gc log cannot follow this log under --arch ${arch}: ${notComparableWhy}; drop --gc log (the pacer decides) or use --arch ${profile.layout}`);
    }
    return { options: resolved("log"), schedule: { gc: "log", why: "as --gc log asks", ...base } };
  }
  if (options.gc === "pacer") return { options: resolved("pacer"), schedule: { gc: "pacer", why: "as --gc pacer asks", ...base } };
  const changes: string[] = [];
  if (profile.generation === "modern") changes.push(`this is a ${generationName("modern")}, whose collector is not this runtime's`);
  if (!layoutOk) changes.push(`--arch ${arch} is not the log's ${profile.layout ?? "layout"}`);
  if (options.gogc !== defaultReplayOptions.gogc) changes.push(`GOGC=${options.gogc < 0 ? "off" : options.gogc} is not the default the log is assumed to have run with`);
  if (options.efence) changes.push("--efence gives every object its own pages");
  if (changes.length > 0) return { options: resolved("pacer"), schedule: { gc: "pacer", why: changes.join("; "), ...base } };
  return { options: resolved("log"), schedule: { gc: "log", why: "a go1.3 log replayed with the options it ran with", ...base } };
}
