// Errors the command line maps to exit codes (only main.ts sets process.exitCode).
//
//   0 ok, 1 a field past its tolerance (check) or different (diff --fail-on-diff), 2 usage or
//   input error, 3 the emulated runtime threw, 129/130/143 stopped by SIGHUP/SIGINT
//   (Ctrl-C)/SIGTERM (128 + the signal), 141 standard output closed by its reader.

export const ExitCode = {
  Ok: 0,
  Regression: 1,
  Usage: 2,
  RuntimeThrow: 3,
  /** 128 + SIGINT: what a shell reports for a command stopped with Ctrl-C. */
  Interrupted: 130,
  /** 128 + SIGPIPE: what a shell reports for a command whose reader went away (`| head`). */
  BrokenPipe: 141,
} as const;

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
