// Runtime throws and panics: how the emulated process dies.
//
// See malloc.ts for the overview. A throw ends the emulated process with
// `fatal error: <message>`; a runtime panic (cnew's size check) with
// `panic: runtime error: <message>`. `printed` carries the lines the runtime writes to
// stderr just before (for example `runtime: out of memory: cannot allocate ...`), in order.

export class RuntimeThrow extends Error {
  constructor(
    readonly throwMessage: string,
    readonly printed: readonly string[] = [],
    readonly kind: "throw" | "panic" = "throw",
  ) {
    const last = kind === "throw" ? `fatal error: ${throwMessage}` : `panic: runtime error: ${throwMessage}`;
    super([...printed, last].join("\n"));
    this.name = "RuntimeThrow";
  }
}

export { hex } from "../hex.js";
