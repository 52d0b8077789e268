// Shared by the runtime's unit tests.
import type { Runtime } from "../../../src/runtime/index.js";

/** The page size of every layout (malloc.h PageSize), for addresses in page units. */
export const P = 8192;

/** The span ids on an MSpan list, front to back (MSpanList order). */
export function ids(rt: Runtime, head: number): number[] {
  const sp = rt.mheap.spans;
  const out: number[] = [];
  for (let s = sp.next[head]!; s !== head; s = sp.next[s]!) out.push(s);
  return out;
}
