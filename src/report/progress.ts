// The progress bar of a long replay, on stderr (the command shows it only when stderr is a
// terminal). The replay calls update() once per chunk of input, never per event; update()
// redraws at most every REDRAW_MS and not at all during the first QUIET_MS, so a short replay
// prints nothing and a long one costs one clock read per chunk.

/** Nothing is drawn before the replay has run this long. */
export const QUIET_MS = 500;
/** Redraws at most this often. */
export const REDRAW_MS = 100;

const BAR = 24;
/** Erase to the end of the line (ECMA-48 EL). */
const ERASE = "\x1b[K";

/** Where the bar is drawn: a terminal stream (process.stderr). */
export interface ProgressStream {
  write(text: string): unknown;
  /** Terminal width, when known. */
  columns?: number;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function rate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)}M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k`;
  return perSecond.toFixed(0);
}

export class ProgressBar {
  private readonly start: number;
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly out: ProgressStream,
    private readonly now: () => number = Date.now,
  ) {
    this.start = now();
  }

  /** After a chunk: bytes read so far, the input's size if known, events replayed so far. */
  update(bytesRead: number, totalBytes: number | null, events: number): void {
    const t = this.now();
    const elapsed = t - this.start;
    if (elapsed < QUIET_MS || t - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = t;
    this.out.write("\r" + this.line(bytesRead, totalBytes, events, elapsed) + ERASE);
    this.drawn = true;
  }

  /** The bar's text (no control characters), cut to the terminal width. */
  line(bytesRead: number, totalBytes: number | null, events: number, elapsedMs: number): string {
    const perSecond = elapsedMs > 0 ? (events * 1000) / elapsedMs : 0;
    const counts = `${events.toLocaleString("en-US")} events, ${rate(perSecond)} events/s`;
    let text: string;
    if (totalBytes !== null && totalBytes > 0) {
      const share = Math.min(1, bytesRead / totalBytes);
      const full = Math.round(share * BAR);
      text = `replaying [${"█".repeat(full)}${"░".repeat(BAR - full)}] ${(share * 100).toFixed(0).padStart(3)}%  ${mib(bytesRead)} of ${mib(totalBytes)}  ${counts}`;
    } else {
      text = `replaying ${mib(bytesRead)} read  ${counts}`;
    }
    const width = this.out.columns;
    // One column short of the width: writing the last column wraps on some terminals.
    return width !== undefined && width > 1 && text.length >= width ? text.slice(0, width - 1) : text;
  }

  /** Erase the bar (if it was ever drawn), leaving the cursor where the bar began. */
  done(): void {
    if (this.drawn) this.out.write("\r" + ERASE);
    this.drawn = false;
  }
}
