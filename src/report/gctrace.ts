// What the emulated runtime prints with GODEBUG=gctrace=1: one line per collection in the
// Go 1.3 format (go1.3.3 mgc0.c gc), and the scavenger's lines after the collection they follow.
//
// The emulation has one GC thread and takes no time, so the four phase times, the handoff,
// steal and yield counts are 0; heap sizes, object counts and sweep counts are emulated.
//
// `replay --gctrace` streams the lines as the collections happen (GctraceWriter): the runtime
// keeps only the first and last collections, and a trace may run millions of them.

import type { GCListener, GCRecord } from "../runtime/index.js";
import type { TextSink } from "./allocfreetrace.js";

const MiB = 2 ** 20;

export function gctraceLine(g: GCRecord): string {
  return (
    `gc${g.numgc}(1): 0+0+0+0 us, ${g.heap0} -> ${Math.floor(g.heapAlloc / MiB)} MB, ` +
    `${g.objects} (${g.mallocs}-${g.frees}) objects, ${g.nspan}/${g.nbgsweep}/${g.npausesweep} sweeps, ` +
    `0(0) handoff, 0(0) steal, 0/0/0 yields`
  );
}

const FlushBytes = 64 * 1024;

/** Every gctrace line of a replay, written to `sink` in pieces as the runtime reports them. */
export class GctraceWriter implements GCListener {
  private buffer: string[] = [];
  private bytes = 0;

  constructor(private readonly sink: TextSink) {}

  collected(record: GCRecord): void {
    this.line(gctraceLine(record));
  }

  scavenged(text: string): void {
    this.line(text);
  }

  /** Hand what is buffered to the sink (at the end of the replay). */
  flush(): void {
    if (this.buffer.length === 0) return;
    const text = this.buffer.join("");
    this.buffer = [];
    this.bytes = 0;
    this.sink(text);
  }

  private line(text: string): void {
    this.buffer.push(text, "\n");
    this.bytes += text.length + 1;
    if (this.bytes >= FlushBytes) this.flush();
  }
}

/** The gctrace lines of kept records (GC.records, GC.scavengerLog), scavenger lines in place. */
export function renderGctrace(gcs: readonly GCRecord[], scavenger: readonly { afterGC: number; text: string }[]): string {
  const out: string[] = [];
  let next = 0;
  const flushScavenger = (upTo: number): void => {
    while (next < scavenger.length && scavenger[next]!.afterGC <= upTo) out.push(scavenger[next++]!.text);
  };
  flushScavenger(0);
  for (const g of gcs) {
    out.push(gctraceLine(g));
    flushScavenger(g.numgc);
  }
  flushScavenger(Number.MAX_SAFE_INTEGER);
  return out.length === 0 ? "" : out.join("\n") + "\n";
}
