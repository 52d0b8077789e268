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

/**
 * A replay stopped early: its trace is malformed (exit 2) or the emulated runtime threw
 * (exit 3). The command has printed what it had; main.ts prints why and maps the exit code.
 * `consequence` says what the command did not do because of it ("no trace written").
 */
export class ReplayFailed extends Error {
  constructor(
    readonly error: ReplayError,
    readonly file: string,
    readonly consequence: { malformed?: string; thrown?: string } = {},
  ) {
    super(error.message);
    this.name = "ReplayFailed";
  }

  /** What stderr gets, and the exit code. */
  explain(): { text: string; code: number } {
    const e = this.error;
    if (e.kind === "trace") {
      const then = this.consequence.malformed;
      return { text: `goalloc: ${e.message}\n` + (then !== undefined ? `goalloc: ${then}\n` : ""), code: ExitCode.Usage };
    }
    const then = this.consequence.thrown;
    return { text: `${e.message}\ngoalloc: the emulated runtime threw at ${this.file}:${e.line}${then !== undefined ? `; ${then}` : ""}\n`, code: ExitCode.RuntimeThrow };
  }
}

/** Bad command-line usage or an unreadable input: exit 2, one line, no stack. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A command finished and wants this exit code (its output is already written). */
export class ExitStatus extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
    this.name = "ExitStatus";
  }
}
