// Stopping a command from outside: Ctrl-C (SIGINT), and SIGTERM or SIGHUP (what `timeout`, a
// CI runner or a closed terminal sends). The first signal asks the work to stop at its next
// safe point (a replay checks between chunks of input) so the command can still print what
// it has and end with 128 + the signal's number; a second one ends the process at once, after
// removing the temporaries of its outputs.

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
    // Default handling again: the process dies of the signal, as it was asked twice.
    process.kill(process.pid, signal);
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

  dispose(): void {
    for (const signal of Object.keys(SIGNALS) as StopSignal[]) process.removeListener(signal, this.handler);
  }
}
