// Replay options: what a user can set, their defaults, and how they map onto the runtime.

import type { ArchName } from "../runtime/index.js";
import { DefaultMemProfileRate, FastrandSeedBase, parseGOGC } from "../runtime/index.js";
import type { FormatOption } from "../trace/detect.js";
import type { PrologueKind } from "./prologue.js";

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
  arch: ArchName;
  /** 32-bit `_end` (null = the arch default). */
  dataEnd: number | null;
  /** GOGC as the runtime parses it: -1 = off. */
  gogc: number;
  memprofilerate: number;
  /** Initial fastrand state (0x49f6428a + cputicks). */
  seed: number;
  efence: boolean;
  format: FormatOption;
  /** golog input: collect where the emulated pacer says, or exactly at the log's tracegc. */
  gc: GCMode;
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
  arch: "amd64",
  dataEnd: null,
  gogc: 100,
  memprofilerate: DefaultMemProfileRate,
  seed: FastrandSeedBase,
  efence: false,
  format: "auto",
  gc: "pacer",
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
