// Stopping a command from outside: Ctrl-C (SIGINT), and SIGTERM or SIGHUP (what `timeout`, a
// CI runner or a closed terminal sends). The first signal asks the work to stop at its next
// safe point (a replay checks between chunks of input) so the command can still print what
// it has and end with 128 + the signal's number; a second one ends the process at once with
// that code, after removing the temporaries of its outputs.
//
// Node runs a signal's handler only between turns of its event loop, never inside
// synchronous work: a command that builds or writes a large output synchronously must come
// back to the loop (checkpoint) before each step that commits something, or a Ctrl-C that
// came meanwhile would be seen only after the outputs were in place.

import { ExitStatus } from "./errors.js";

/** The signals a command stops on, with their numbers (exit code 128 + number). */
const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
type StopSignal = keyof typeof SIGNALS;

/** Signal handlers for the lifetime of one command; dispose() restores the defaults. */
export class Interrupt {
  private readonly controller = new AbortController();
  private received: StopSignal | null = null;
  private readonly handler = (signal: StopSignal): void => {
    if (!this.controller.signal.aborted) {
      this.received = signal;
      process.stderr.write(
        signal === "SIGINT" ? "goalloc: interrupted, stopping (Ctrl-C again to quit at once)\n" : `goalloc: ${signal} received, stopping\n`,
      );
      this.controller.abort();
      return;
    }
    this.cleanup();
    this.dispose();
    process.exit(128 + SIGNALS[signal]);
  };

  /** `cleanup` runs before a second signal ends the process. */
  constructor(private readonly cleanup: () => void) {
    for (const signal of Object.keys(SIGNALS) as StopSignal[]) process.on(signal, this.handler);
  }

  /** Aborted on the first signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** 128 + the number of the signal that stopped the command (130 for Ctrl-C). */
  get exitCode(): number {
    return 128 + SIGNALS[this.received ?? "SIGINT"];
  }

  /**
   * Let a signal that came during synchronous work be handled, then say whether the command
   * was asked to stop. Two turns of the loop: from inside an I/O callback, the first
   * setImmediate runs before the loop looks at its signals again.
   */
  async checkpoint(): Promise<boolean> {
    for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
    return this.controller.signal.aborted;
  }

  /**
   * End the command the signal stopped: one line, `goalloc: interrupted at FILE:LINE: WHAT`,
   * then exit 128 + the signal (main.ts maps ExitStatus to the exit code).
   */
  stop(at: { file: string; line: number }, what: string): never {
    process.stderr.write(`goalloc: interrupted at ${at.file}:${at.line}: ${what}\n`);
    throw new ExitStatus(this.exitCode);
  }

  dispose(): void {
    for (const signal of Object.keys(SIGNALS) as StopSignal[]) process.removeListener(signal, this.handler);
  }
}
