// Errors the command line maps to exit codes (only main.ts sets process.exitCode).
//
//   0 ok, 1 a field past its tolerance (check) or different (diff --fail-on-diff), 2 usage or
//   input error, 3 the emulated runtime threw, 129/130/143 stopped by SIGHUP/SIGINT
//   (Ctrl-C)/SIGTERM (128 + the signal), 141 standard output closed by its reader, 70 an
//   internal error (a bug in goalloc: sysexits' EX_SOFTWARE).

import type { ReplayError } from "../replay/replay.js";

export const ExitCode = {
  Ok: 0,
  Regression: 1,
  Usage: 2,
  RuntimeThrow: 3,
  /** 128 + SIGINT: what a shell reports for a command stopped with Ctrl-C. */
  Interrupted: 130,
  /** 128 + SIGPIPE: what a shell reports for a command whose reader went away (`| head`). */
  BrokenPipe: 141,
  /** sysexits.h EX_SOFTWARE: goalloc itself failed (the message asks for a report). */
  Internal: 70,
} as const;

/** One replay that stopped early; `label` names it when a command ran several (diff's A and B). */
export interface Failure {
  error: ReplayError;
  file: string;
  label?: string;
}

/**
 * Replays stopped early: a trace is malformed (exit 2) or the emulated runtime threw (exit
 * 3). The command has printed what it had; main.ts prints why and maps the exit code.
 * `consequence` says what the command did not do because of it ("no trace written").
 */
export class ReplayFailed extends Error {
  readonly failures: readonly Failure[];

  constructor(
    failures: Failure | readonly Failure[],
    readonly consequence: { malformed?: string; thrown?: string } = {},
  ) {
    const list = Array.isArray(failures) ? (failures as readonly Failure[]) : [failures as Failure];
    super(list.map((f) => f.error.message).join("\n"));
    this.name = "ReplayFailed";
    this.failures = list;
  }

  /** What stderr gets, and the exit code: a malformed trace is the input's fault (2) before any throw (3). */
  explain(): { text: string; code: number } {
    const malformed = this.failures.filter((f) => f.error.kind === "trace");
    if (malformed.length > 0) {
      const then = this.consequence.malformed;
      const text = malformed.map((f) => `goalloc: ${f.error.message}\n`).join("") + (then !== undefined ? `goalloc: ${then}\n` : "");
      return { text, code: ExitCode.Usage };
    }
    const then = this.consequence.thrown;
    const text = this.failures
      .map((f) => `${f.error.message}\ngoalloc: ${f.label !== undefined ? `${f.label}: ` : ""}the emulated runtime threw at ${f.file}:${f.error.line}${then !== undefined ? `; ${then}` : ""}\n`)
      .join("");
    return { text, code: ExitCode.RuntimeThrow };
  }
}

/** Bad command-line usage or an unreadable input: exit 2, one line, no stack. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A command finished and wants this exit code (its output is already written); main.ts prints `why`, if given. */
export class ExitStatus extends Error {
  constructor(
    readonly code: number,
    readonly why?: string,
  ) {
    super(why ?? `exit ${code}`);
    this.name = "ExitStatus";
  }
}
