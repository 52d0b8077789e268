// Observer: what the emulated runtime would print with GODEBUG=allocfreetrace=1.
//
// See malloc.ts for the overview. The runtime calls these hooks at the exact points where
// tracealloc, tracefree and tracegc run (malloc.goc mallocgc and runtime·free,
// mgc0.c MSpan_Sweep and gc), so an observer sees records in the runtime's own order, including the
// type-table allocations and the sweep frees. Reports and replays subscribe; the runtime
// never formats text itself.

import type { RuntimeFreeOrigin } from "../free-origin.js";

/** Why the runtime itself allocated (its own traced allocations). */
export const enum InternalAlloc {
  /** An allocation the trace asked for. */
  None = 0,
  /** settype's Bytes or Words table (malloc.goc settype). */
  TypeTable = 1,
  /** gc's parallel-for descriptor, on the first collection. */
  ParFor = 2,
  /** mallocinit's self-test (not traced: GODEBUG is not parsed yet). */
  SelfTest = 3,
}

/** What an observer reads of the runtime whose hooks it receives (a Runtime is one). */
export interface ObservedRuntime {
  readonly gc: { readonly finalizersRun: number };
  /** The type name of a type word (id << 2 | kind). */
  typeName(typ: number): string;
}

export interface RuntimeObserver {
  /** typ = type word (id << 2 | kind) or 0; stack = the caller's stack id or -1. */
  tracealloc(addr: number, size: number, typ: number, stack: number, internal: InternalAlloc): void;
  tracefree(addr: number, size: number, origin: RuntimeFreeOrigin): void;
  tracegc(forced: boolean): void;
}

/**
 * Stack ids the runtime uses for its own allocations (trace stacks are ids ≥ 0; -1 means an
 * allocation the trace gave no stack).
 */
export const RuntimeStack = {
  /** mallocinit's self-test. */
  SelfTest: -2,
  /** gc's parallel-for descriptor. */
  GC: -3,
  /** schedinit's start-up allocations (the Go 1.3 prologue of a log replay). */
  StartUp: -4,
} as const;

/** The function a profile shows for a runtime stack id, or null for a trace's own id. */
export function runtimeStackName(stack: number): string | null {
  switch (stack) {
    case RuntimeStack.SelfTest:
      return "runtime.mallocinit";
    case RuntimeStack.GC:
      return "runtime.gc";
    case RuntimeStack.StartUp:
      return "runtime.schedinit";
    case -1:
      return "(no stack in the trace)";
    default:
      return null;
  }
}
