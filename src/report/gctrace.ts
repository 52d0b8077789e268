// What the emulated runtime prints with GODEBUG=gctrace=1: one line per collection in the
// Go 1.3 format (spec §13.4), and the scavenger's lines after the collection they follow.
//
// The emulation has one GC thread and takes no time, so the four phase times, the handoff,
// steal and yield counts are 0; heap sizes, object counts and sweep counts are emulated.

import type { GCRecord } from "../runtime/index.js";

const MiB = 2 ** 20;

export function gctraceLine(g: GCRecord): string {
  return (
    `gc${g.numgc}(1): 0+0+0+0 us, ${g.heap0} -> ${Math.floor(g.heapAlloc / MiB)} MB, ` +
    `${g.objects} (${g.mallocs}-${g.frees}) objects, ${g.nspan}/${g.nbgsweep}/${g.npausesweep} sweeps, ` +
    `0(0) handoff, 0(0) steal, 0/0/0 yields`
  );
}

/** All gctrace lines of a replay, scavenger lines in place. */
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
