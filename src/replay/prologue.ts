// The untraced start-up of a Go 1.3 process: what the runtime allocates before it reads
// GODEBUG, and so before the first line of an allocfreetrace log.
//
// After mallocinit's self-test (which the emulated runtime always performs), gc Go 1.3.3's
// schedinit makes the signal-handling goroutine's G (typed, so its span gets a type table)
// and its 32 KiB stack, then copies argv and the environment into string slices (two words
// per string). On amd64 with one argument and two variables that is the G at 0xc208002000,
// its type table at 0xc208004000, the stack at 0xc208006000, argv at 0xc208000000 and the
// environment at 0xc20800e000, and the first traced record lands at 0xc208010000.

import { FlagNoGC, FlagNoInvokeGC, FlagNoProfiling, FlagNoZero, RuntimeStack, sizeToClass, type Runtime } from "../runtime/index.js";

export type PrologueKind = "none" | "go1.3";
export const PROLOGUE_KINDS: readonly PrologueKind[] = ["none", "go1.3"];

/** runtime.g of gc Go 1.3.3 (bytes). */
const sizeofG = { 8: 0x120, 4: 0xa0 } as const;
const SignalStackSize = 32 * 1024;

export interface PrologueObject {
  addr: number;
  size: number;
}

/** One start-up allocation: its size, malloc flags and type (null: untyped). */
export interface PrologueAlloc {
  size: number;
  flags: number;
  typeName: string | null;
}

/** gc Go 1.3.3 schedinit's allocations, in order (see the file comment). */
export function prologueAllocations(kind: PrologueKind, ptrSize: number, argc: number, envc: number): PrologueAlloc[] {
  if (kind === "none") return [];
  return [
    { size: sizeofG[ptrSize === 8 ? 8 : 4], flags: 0, typeName: "runtime.g" },
    { size: SignalStackSize, flags: FlagNoProfiling | FlagNoGC | FlagNoZero | FlagNoInvokeGC, typeName: null },
    { size: argc * 2 * ptrSize, flags: FlagNoInvokeGC, typeName: null },
    { size: envc * 2 * ptrSize, flags: FlagNoInvokeGC, typeName: null },
  ];
}

/** Allocate the start-up objects; returns those a log may later free (argv, env, G, stack). */
export function runPrologue(rt: Runtime, kind: PrologueKind, argc: number, envc: number): (PrologueObject & { alloc: PrologueAlloc })[] {
  const objects: (PrologueObject & { alloc: PrologueAlloc })[] = [];
  // No collection can start before the main package is initialised (enablegc is false).
  const enablegc = rt.mstats.enablegc;
  rt.mstats.enablegc = false;
  for (const a of prologueAllocations(kind, rt.arch.ptrSize, argc, envc)) {
    const addr = rt.mallocgc(a.size, a.typeName === null ? 0 : rt.typeWord(a.typeName, 0), a.flags, RuntimeStack.StartUp);
    objects.push({ addr, size: a.size, alloc: a });
  }
  rt.mstats.enablegc = enablegc;
  return objects;
}

/** Start-up parameters of the logged process, given or inferred from the log. */
export interface StartUp {
  kind: PrologueKind;
  argc: number;
  envc: number;
  /** 32-bit `_end` (null: the arch default / 64-bit). */
  dataEnd: number | null;
  /** Which of them were inferred from the log. */
  inferred: ("argc" | "envc" | "dataEnd")[];
}

const MiB = 1 << 20;

/**
 * 32-bit: the `_end` that places the arena where the log's first allocation is. The arena
 * starts 0x10100000 past `roundUp(_end + 256 KiB, 1 MiB)`, and the start-up allocations take
 * far less than a MiB, so the arena starts at the MiB of that address. Null when the default
 * layout already fits, or on 64-bit.
 */
export function inferDataEnd(rt: Runtime, firstAddress: number): number | null {
  if (rt.arch.ptrSize !== 4) return null;
  const arenaStart = Math.floor(firstAddress / MiB) * MiB;
  if (arenaStart === rt.arena.arena_start || arenaStart < 0x10100000 + MiB) return null;
  return arenaStart - 0x10100000 - 0x40000;
}

/**
 * The (argc, envc) pairs worth trying, most likely first: argv and the environment only
 * matter through the size classes of their slices, so one pair per distinct pair of classes.
 */
export function startUpCandidates(ptrSize: number, argc: number | null, envc: number | null): { argc: number; envc: number }[] {
  const argcs = argc !== null ? [argc] : [1, ...Array.from({ length: 63 }, (_, i) => i + 2)];
  const envcs = envc !== null ? [envc] : [2, 0, 1, ...Array.from({ length: 126 }, (_, i) => i + 3)];
  const seen = new Set<string>();
  const out: { argc: number; envc: number }[] = [];
  for (const a of argcs) {
    for (const e of envcs) {
      const key = `${sizeToClass(a * 2 * ptrSize)}:${e === 0 ? 0 : sizeToClass(e * 2 * ptrSize)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ argc: a, envc: e });
    }
  }
  return out;
}
