// The untraced start-up of a Go 1.3 process: what the runtime allocates before it reads
// GODEBUG, and so before the first line of an allocfreetrace log.
//
// After mallocinit's self-test (which the emulated runtime always performs), gc Go 1.3.3's
// schedinit makes the signal-handling goroutine's G (typed, so its span gets a type table)
// and its 32 KiB stack, then copies argv and the environment into string slices (two words
// per string). On amd64 with one argument and two variables that is the G at 0xc208002000,
// its type table at 0xc208004000, the stack at 0xc208006000, argv at 0xc208000000 and the
// environment at 0xc20800e000, and the first traced record lands at 0xc208010000.

import { FlagNoGC, FlagNoInvokeGC, FlagNoProfiling, FlagNoZero, type Runtime } from "../runtime/index.js";

export type PrologueKind = "none" | "go1.3";
export const PROLOGUE_KINDS: readonly PrologueKind[] = ["none", "go1.3"];

/** runtime.g of gc Go 1.3.3 (bytes). */
const sizeofG = { 8: 0x120, 4: 0xa0 } as const;
const SignalStackSize = 32 * 1024;

export interface PrologueObject {
  addr: number;
  size: number;
}

/** Allocate the start-up objects; returns those a log may later free (argv, env, G, stack). */
export function runPrologue(rt: Runtime, kind: PrologueKind, argc: number, envc: number): PrologueObject[] {
  if (kind === "none") return [];
  const P = rt.arch.ptrSize;
  const objects: PrologueObject[] = [];
  const keep = (addr: number, size: number): void => {
    if (addr !== rt.zerobase) objects.push({ addr, size });
  };
  // No collection can start before the main package is initialised (enablegc is false).
  const enablegc = rt.mstats.enablegc;
  rt.mstats.enablegc = false;
  const g = sizeofG[P];
  keep(rt.mallocgc(g, rt.typeWord("runtime.g", 0), 0, -1), g);
  keep(
    rt.mallocgc(SignalStackSize, 0, FlagNoProfiling | FlagNoGC | FlagNoZero | FlagNoInvokeGC, -1),
    SignalStackSize,
  );
  keep(rt.mallocgc(argc * 2 * P, 0, FlagNoInvokeGC, -1), argc * 2 * P);
  keep(rt.mallocgc(envc * 2 * P, 0, FlagNoInvokeGC, -1), envc * 2 * P);
  rt.mstats.enablegc = enablegc;
  return objects;
}
