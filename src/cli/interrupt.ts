// Ctrl-C during a command: the first SIGINT asks the work to stop at its next safe point (a
// replay checks between chunks of input) so the command can still print what it has; a second
// one ends the process at once, after removing the temporaries of its outputs.

/** A SIGINT handler for the lifetime of one command; dispose() restores the default. */
export class Interrupt {
  private readonly controller = new AbortController();
  private readonly handler = (): void => {
    if (!this.controller.signal.aborted) {
      process.stderr.write("goalloc: interrupted, stopping (Ctrl-C again to quit at once)\n");
      this.controller.abort();
      return;
    }
    this.cleanup();
    this.dispose();
    // Default handling again: the process dies of SIGINT, as the user asked twice.
    process.kill(process.pid, "SIGINT");
  };

  /** `cleanup` runs before a second Ctrl-C ends the process. */
  constructor(private readonly cleanup: () => void) {
    process.on("SIGINT", this.handler);
  }

  /** Aborted on the first Ctrl-C. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  dispose(): void {
    process.removeListener("SIGINT", this.handler);
  }
}
