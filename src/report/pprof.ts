// Heap profile writer: the replay's memory profile for `go tool pprof`.
//
// Two forms of the same records (runtime.MemProfile with inuseZero, mprof.goc):
//   * "text": what this runtime's runtime/pprof (Go 1.5.1 libraries) writes with
//     Lookup("heap").WriteTo(w, 1) (runtime/pprof writeHeap): the header
//     `heap profile: <inuse objs>: <inuse bytes> [<alloc objs>: <alloc bytes>] @ heap/<2*rate>`,
//     one `<inuse objs>: <inuse bytes> [<alloc objs>: <alloc bytes>] @ 0x<pc>...` line per
//     record, each followed by its symbolised frames `#\t0x<pc>\t<func>+0x<off>\t<file>:<line>`
//     (leading `runtime.` / `__go_` frames and runtime.goexit hidden, columns aligned by Go's
//     tabwriter with TAB padding) and an empty line, then the `# runtime.MemStats` block.
//     `go tool pprof` reads its numbers, but it takes function names only from the program's
//     binary (or a live symbol server): the `#` lines are comments to it, so without the
//     binary every frame shows as `<unknown>`.
//   * "proto": the gzipped profile.proto that runtime/pprof writes since Go 1.9 (debug=0),
//     carrying function names, files and lines, which `go tool pprof` shows as they are.
//     Values are unsampled the way runtime/pprof does it (scaleHeapSample: ×1/(1−e^(−avg/rate)),
//     truncated; none at rate 1) — the same numbers pprof computes when it reads the text.
// Records are sorted by in-use bytes, descending; ties keep MemProfile's order (newest bucket
// first), since the sort is stable (Go's is not, so ties may come out in another order there).
// Traces carry function names, not PCs, so each distinct frame (function, location) gets a
// synthetic PC, deterministically: functions in order of first appearance (records in output
// order, frames innermost first) get entries from 0x401000 up, a function's distinct frames
// return addresses entry+0x10, entry+0x20, ... Samples of runtime-internal allocations
// (no trace stack) are attributed to the runtime function that made them (runtimeStackName), as in the report.

import { gzipSync } from "node:zlib";
import { runtimeStackName, type MemProfileRecord, type MemStats } from "../runtime/index.js";
import type { ReplayOutcome } from "../replay/replay.js";
import type { Frame, StackTable } from "../trace/record.js";

export type HeapProfileFormat = "proto" | "text";
export const HEAP_PROFILE_FORMATS: readonly HeapProfileFormat[] = ["proto", "text"];

export interface HeapProfileInput {
  /** runtime.MemProfile(inuseZero = true) records. */
  records: readonly MemProfileRecord[];
  /** runtime.MemProfileRate. */
  rate: number;
  stacks: StackTable;
  memstats: MemStats;
}

const TextStart = 0x401000;
const FrameStep = 0x10;

/** A frame with its synthetic PC (a return address) and its function's entry. */
interface PCFrame {
  id: number;
  pc: number;
  entry: number;
  func: string;
  file: string;
  line: number;
}

/** The records in output order, each with its frames. */
interface Layout {
  records: { r: MemProfileRecord; frames: PCFrame[] }[];
  frames: PCFrame[];
  functions: string[];
  textEnd: number;
}

/** `file:123` → file and line; an unknown location is `?` line 0, as Go's FileLine says. */
function splitLocation(location: string): { file: string; line: number } {
  const m = /^(.*):(\d+)$/.exec(location);
  if (m) return { file: m[1]!, line: Number(m[2]) };
  return { file: location === "" ? "?" : location, line: 0 };
}

function layOut(input: HeapProfileInput): Layout {
  const sorted = [...input.records].sort((a, b) => b.allocBytes - b.freeBytes - (a.allocBytes - a.freeBytes));
  const stackOf = (r: MemProfileRecord): readonly Frame[] =>
    r.stack < 0 ? [{ func: runtimeStackName(r.stack) ?? "?", location: "" }] : input.stacks.frames(r.stack);
  // Pass 1: functions and their distinct locations, in order of first appearance.
  const byFunc = new Map<string, Map<string, number>>();
  for (const r of sorted) {
    for (const f of stackOf(r)) {
      let locations = byFunc.get(f.func);
      if (locations === undefined) {
        locations = new Map();
        byFunc.set(f.func, locations);
      }
      if (!locations.has(f.location)) locations.set(f.location, locations.size);
    }
  }
  // Pass 2: entries and PCs.
  const frames: PCFrame[] = [];
  const byKey = new Map<string, PCFrame>();
  let entry = TextStart;
  for (const [func, locations] of byFunc) {
    for (const [location, j] of locations) {
      const pf: PCFrame = { id: frames.length + 1, pc: entry + FrameStep * (j + 1), entry, func, ...splitLocation(location) };
      frames.push(pf);
      byKey.set(func + "\u0000" + location, pf);
    }
    entry += FrameStep * (locations.size + 2);
  }
  return {
    records: sorted.map((r) => ({ r, frames: stackOf(r).map((f) => byKey.get(f.func + "\u0000" + f.location)!) })),
    frames,
    functions: [...byFunc.keys()],
    textEnd: entry,
  };
}

const hex = (n: number): string => "0x" + n.toString(16);

/** Go's tabwriter (minwidth 1, tabwidth 8, padding 1, TAB padding) over one block of rows. */
function tabwrite(rows: string[][]): string {
  const columns = rows[0]!.length - 1;
  const widths: number[] = [];
  for (let c = 0; c < columns; c++) {
    const w = Math.max(1, ...rows.map((row) => row[c]!.length + 1));
    widths.push(Math.ceil(w / 8) * 8);
  }
  let out = "";
  for (const row of rows) {
    for (let c = 0; c < columns; c++) out += row[c]! + "\t".repeat(Math.ceil((widths[c]! - row[c]!.length) / 8));
    out += row[columns]! + "\n";
  }
  return out;
}

/** printStackRecord: hide runtime.goexit, and leading runtime frames unless nothing else shows. */
function stackRecord(frames: readonly PCFrame[], allFrames = false): string {
  let show = allFrames;
  const rows: string[][] = [];
  for (const f of frames) {
    if (f.func === "runtime.goexit" || (!show && (f.func.startsWith("runtime.") || f.func.startsWith("__go_")))) continue;
    show = true;
    rows.push(["#", hex(f.pc), `${f.func}+${hex(f.pc - f.entry)}`, `${f.file}:${f.line}`]);
  }
  if (!show) return stackRecord(frames, true);
  return (rows.length > 0 ? tabwrite(rows) : "") + "\n";
}

function counts(r: MemProfileRecord): string {
  return `${r.allocObjects - r.freeObjects}: ${r.allocBytes - r.freeBytes} [${r.allocObjects}: ${r.allocBytes}]`;
}

/** The legacy text heap profile, debug=1 form (see the file comment). */
export function heapProfileText(input: HeapProfileInput): string {
  const layout = layOut(input);
  const total: MemProfileRecord = { stack: -1, size: 0, allocObjects: 0, allocBytes: 0, freeObjects: 0, freeBytes: 0 };
  for (const r of input.records) {
    total.allocObjects += r.allocObjects;
    total.allocBytes += r.allocBytes;
    total.freeObjects += r.freeObjects;
    total.freeBytes += r.freeBytes;
  }
  let out = `heap profile: ${counts(total)} @ heap/${2 * input.rate}\n`;
  for (const { r, frames } of layout.records) {
    out += `${counts(r)} @${frames.map((f) => " " + hex(f.pc)).join("")}\n`;
    out += stackRecord(frames);
  }
  const s = input.memstats;
  out +=
    "\n# runtime.MemStats\n" +
    `# Alloc = ${s.Alloc}\n# TotalAlloc = ${s.TotalAlloc}\n# Sys = ${s.Sys}\n# Lookups = ${s.Lookups}\n` +
    `# Mallocs = ${s.Mallocs}\n# Frees = ${s.Frees}\n` +
    `# HeapAlloc = ${s.HeapAlloc}\n# HeapSys = ${s.HeapSys}\n# HeapIdle = ${s.HeapIdle}\n# HeapInuse = ${s.HeapInuse}\n` +
    `# HeapReleased = ${s.HeapReleased}\n# HeapObjects = ${s.HeapObjects}\n` +
    `# Stack = ${s.StackInuse} / ${s.StackSys}\n# MSpan = ${s.MSpanInuse} / ${s.MSpanSys}\n` +
    `# MCache = ${s.MCacheInuse} / ${s.MCacheSys}\n# BuckHashSys = ${s.BuckHashSys}\n` +
    `# NextGC = ${s.NextGC}\n# PauseNs = [${s.PauseNs.join(" ")}]\n# NumGC = ${s.NumGC}\n` +
    `# EnableGC = ${s.EnableGC}\n# DebugGC = ${s.DebugGC}\n`;
  return out;
}

/** Protocol-buffer encoding, just what profile.proto needs. */
class Proto {
  private readonly bytes: number[] = [];

  private varint(n: number): void {
    if (n < 0) {
      // int64 fields: two's complement in ten bytes.
      let v = BigInt.asUintN(64, BigInt(n));
      while (v >= 0x80n) {
        this.bytes.push(Number(v & 0x7fn) | 0x80);
        v >>= 7n;
      }
      this.bytes.push(Number(v));
      return;
    }
    while (n >= 0x80) {
      this.bytes.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.bytes.push(n);
  }

  /** A varint field (omitted when 0, as proto3 does). */
  int(field: number, n: number): this {
    if (n !== 0) {
      this.varint(field * 8);
      this.varint(n);
    }
    return this;
  }

  bool(field: number, b: boolean): this {
    return this.int(field, b ? 1 : 0);
  }

  bytesField(field: number, data: ArrayLike<number>): this {
    this.varint(field * 8 + 2);
    this.varint(data.length);
    for (let i = 0; i < data.length; i++) this.bytes.push(data[i]!);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytesField(field, Buffer.from(s, "utf8"));
  }

  message(field: number, m: Proto): this {
    return this.bytesField(field, m.bytes);
  }

  packed(field: number, ns: readonly number[]): this {
    const m = new Proto();
    for (const n of ns) m.varint(n);
    return this.message(field, m);
  }

  toBuffer(): Buffer {
    return Buffer.from(this.bytes);
  }
}

/**
 * runtime/pprof's scaleHeapSample, which go tool pprof also applies to each record of a legacy
 * text heap profile (`heap/2·rate` header): undo the sampling (nothing to undo at rate ≤ 1).
 */
export function scaleHeapSample(count: number, size: number, rate: number): [number, number] {
  if (count === 0 || size === 0) return [0, 0];
  if (rate <= 1) return [count, size];
  const scale = 1 / (1 - Math.exp(-size / count / rate));
  return [Math.trunc(count * scale), Math.trunc(size * scale)];
}

/** The gzipped profile.proto heap profile (see the file comment). */
export function heapProfileProto(input: HeapProfileInput): Buffer {
  const layout = layOut(input);
  const strings = new Map<string, number>([["", 0]]);
  const str = (s: string): number => {
    let i = strings.get(s);
    if (i === undefined) {
      i = strings.size;
      strings.set(s, i);
    }
    return i;
  };
  const valueType = (type: string, unit: string): Proto => new Proto().int(1, str(type)).int(2, str(unit));
  // Profile fields: 1 sample_type, 2 sample, 3 mapping, 4 location, 5 function,
  // 6 string_table, 11 period_type, 12 period.
  const p = new Proto();
  for (const [type, unit] of [["alloc_objects", "count"], ["alloc_space", "bytes"], ["inuse_objects", "count"], ["inuse_space", "bytes"]]) {
    p.message(1, valueType(type!, unit!));
  }
  for (const { r, frames } of layout.records) {
    const [ao, ab] = scaleHeapSample(r.allocObjects, r.allocBytes, input.rate);
    const [io, ib] = scaleHeapSample(r.allocObjects - r.freeObjects, r.allocBytes - r.freeBytes, input.rate);
    // Sample: 1 location_id, 2 value, 3 label (key, num) with the block size, as Go writes it.
    const sample = new Proto().packed(1, frames.map((f) => f.id)).packed(2, [ao, ab, io, ib]);
    const blockSize = r.allocObjects > 0 ? Math.trunc(r.allocBytes / r.allocObjects) : 0;
    if (blockSize !== 0) sample.message(3, new Proto().int(1, str("bytes")).int(3, blockSize));
    p.message(2, sample);
  }
  // Mapping 1 covers the synthetic text; its functions are known, so pprof does not symbolise.
  p.message(3, new Proto().int(1, 1).int(2, TextStart).int(3, layout.textEnd).int(5, str("goalloc")).bool(7, true).bool(8, true).bool(9, true));
  const funcIds = new Map(layout.functions.map((name, i) => [name, i + 1]));
  for (const f of layout.frames) {
    // Location: 1 id, 2 mapping_id, 3 address (the call, one byte before the return address), 4 line.
    const line = new Proto().int(1, funcIds.get(f.func)!).int(2, f.line);
    p.message(4, new Proto().int(1, f.id).int(2, 1).int(3, f.pc - 1).message(4, line));
  }
  const fileOf = new Map(layout.frames.map((f) => [f.func, f.file]));
  for (const [name, id] of funcIds) {
    // Function: 1 id, 2 name, 3 system_name, 4 filename.
    p.message(5, new Proto().int(1, id).int(2, str(name)).int(3, str(name)).int(4, str(fileOf.get(name)!)));
  }
  p.message(11, valueType("space", "bytes")).int(12, input.rate);
  for (const s of strings.keys()) p.string(6, s);
  return gzipSync(p.toBuffer());
}

/** The heap profile at the end of a replay, from its snapshot of the runtime. */
export function heapProfile(outcome: Pick<ReplayOutcome, "snapshot" | "stacks">, format: HeapProfileFormat): Buffer {
  const { profile, memstats } = outcome.snapshot;
  const input: HeapProfileInput = { records: profile.records, rate: profile.rate, stacks: outcome.stacks, memstats };
  return format === "proto" ? heapProfileProto(input) : Buffer.from(heapProfileText(input), "utf8");
}
