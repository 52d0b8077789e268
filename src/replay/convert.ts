// goalloc convert: a Go log as a native trace. The log is replayed with the pacer (golog-replay.ts),
// and every call that replay makes on the runtime for the log becomes a native record: the
// allocations with their stacks and types, explicit frees, runtime.GC, and each death placed
// where the pacer replay places it, before the logged collection that found it (a tracefree
// shows the sweep that reclaimed an object, not its death). The log's own collections are not
// written: a native replay collects where its pacer says. See docs/convert.md.

import { FlagNoGC, FlagNoInvokeGC, FlagNoProfiling, FlagNoScan, FlagNoZero, RuntimeStack, runtimeStackName } from "../runtime/index.js";
import { TypeKind, type StackTable } from "../trace/record.js";
import type { ResolvedReplayOptions } from "./options.js";
import type { PrologueAlloc } from "./prologue.js";
import type { NativeEventSink } from "./golog-replay.js";
import { grown } from "../typed-arrays.js";

/** Runtime stack ids are negative, down to the lowest RuntimeStack id: entries start there. */
const RUNTIME_STACKS = -Math.min(-1, ...Object.values(RuntimeStack));

/** Native flag names, as the native reader reads them. */
const FLAG_NAMES: readonly [number, string][] = [
  [FlagNoScan, "noscan"],
  [FlagNoZero, "nozero"],
  [FlagNoGC, "nogc"],
  [FlagNoProfiling, "noprof"],
  [FlagNoInvokeGC, "noinvokegc"],
];

/** ` flags=...` for each combination of the five native flags (all below 32), built once. */
const FLAGS_TEXT: readonly string[] = Array.from({ length: 32 }, (_, flags) => {
  const names = FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
  return names.length > 0 ? ` flags=${names.join(",")}` : "";
});

const KIND_NAMES: Readonly<Record<TypeKind, string>> = { [TypeKind.Single]: "single", [TypeKind.Array]: "array", [TypeKind.Chan]: "chan" };

/** Buffered text before it goes to the sink. */
const FLUSH_BYTES = 1 << 20;

export interface ConvertCounts {
  allocs: number;
  frees: number;
  deaths: number;
  collections: number;
  stacks: number;
}

/** Native records from the engine's events; `write` takes text in pieces of about a MiB. */
export class NativeTraceWriter implements NativeEventSink {
  readonly counts: ConvertCounts = { allocs: 0, frees: 0, deaths: 0, collections: 0, stacks: 0 };
  /** Log key (address text) of a live object → its native ID. */
  private readonly ids = new Map<string, number>();
  private nextId = 1;
  /** Trace stack id + RUNTIME_STACKS → native STACK number (0: not defined yet; runtime stacks have negative ids). */
  private defined = new Int32Array(1024);
  private buffer: string[] = [];
  private bufferBytes = 0;

  constructor(
    private readonly stacks: StackTable,
    private readonly write: (text: string) => void,
    header: readonly string[],
  ) {
    this.push("goalloc-trace 1");
    for (const line of header) this.push(`# ${line}`);
  }

  begin(prologue: readonly { key: string | null; alloc: PrologueAlloc }[]): void {
    for (const p of prologue) {
      const id = this.nextId++;
      if (p.key !== null) this.ids.set(p.key, id);
      // Before schedinit ends, enablegc is false (proc.c schedinit): none of these can collect.
      this.allocLine(id, p.alloc.size, p.alloc.flags | FlagNoInvokeGC, RuntimeStack.StartUp, p.alloc.typeName, TypeKind.Single);
    }
  }

  alloc(key: string, size: number, flags: number, stack: number, typeName: string | null, typeKind: TypeKind): void {
    const id = this.nextId++;
    // A log address shown again without its free (an untraced object's) names the new object.
    this.ids.set(key, id);
    this.allocLine(id, size, flags, stack, typeName, typeKind);
  }

  free(key: string): void {
    const id = this.take(key);
    if (id < 0) return;
    this.counts.frees++;
    this.push(`f ${id}`);
  }

  dead(key: string): void {
    const id = this.take(key);
    if (id < 0) return;
    this.counts.deaths++;
    this.push(`d ${id}`);
  }

  collect(): void {
    this.counts.collections++;
    this.push("gc");
  }

  yielded(position: number): void {
    this.push(`y ${position}`);
  }

  /** Write what is buffered (at the end). */
  flush(): void {
    if (this.buffer.length === 0) return;
    this.write(this.buffer.join("\n") + "\n");
    this.buffer = [];
    this.bufferBytes = 0;
  }

  private take(key: string): number {
    const id = this.ids.get(key);
    if (id === undefined) return -1;
    this.ids.delete(key);
    return id;
  }

  private allocLine(id: number, size: number, flags: number, stack: number, typeName: string | null, typeKind: TypeKind): void {
    this.counts.allocs++;
    let line = `a ${id} ${size}${FLAGS_TEXT[flags & 31]!}`;
    if (stack !== -1) line += ` stack=${this.stackNumber(stack)}`;
    // type= takes the rest of the line: it comes last, on one line.
    if (typeName !== null) line += ` kind=${KIND_NAMES[typeKind]} type=${typeName.replace(/[\r\n]/g, " ")}`;
    this.push(line);
  }

  private stackNumber(stack: number): number {
    const at = stack + RUNTIME_STACKS;
    if (at >= this.defined.length) this.defined = grown(this.defined, Math.max(at + 1, 2 * this.defined.length));
    let n = this.defined[at]!;
    if (n === 0) {
      n = ++this.counts.stacks;
      this.defined[at] = n;
      const frames = stack < 0 ? [runtimeStackName(stack) ?? "runtime"] : this.stacks.frames(stack).map((f) => f.func);
      this.push(`s ${n} ${frames.map((f) => f.replace(/[;\r\n]/g, " ")).join(";")}`);
    }
    return n;
  }

  private push(line: string): void {
    this.buffer.push(line);
    this.bufferBytes += line.length + 1;
    if (this.bufferBytes >= FLUSH_BYTES) this.flush();
  }
}

/** The header comment of a converted trace: where it came from and how to replay it. */
export function convertHeader(file: string, options: ResolvedReplayOptions): string[] {
  return [
    `converted by goalloc from ${file.replace(/[\r\n]/g, " ")} (Go log, ${options.arch})`,
    "deaths are placed before the logged collection that found them; the log's own collections are left to the pacer",
    `replay with: goalloc replay TRACE --arch ${options.arch}`,
  ];
}
