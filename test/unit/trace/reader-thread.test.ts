// A native trace parsed on a reader thread (trace/source.ts, trace/parse-worker.ts) replays
// exactly as when parsed on the replay's thread: same report, same allocfreetrace text, same
// heap profile, same error at the same line with the same partial report, same stop at --until.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allocFreeTrace, generateTrace, heapProfile, replay, type ReaderThread } from "../../../src/index.js";
import { repoRoot } from "./helpers.js";

let dir = "";

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "goalloc-reader-thread-"));
});

afterAll(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

/** Everything a replay produces, as text. */
async function outputs(
  file: string,
  thread: ReaderThread,
  options: { until?: string; format?: "native" } = {},
): Promise<{ report: string; trace: string; profile: string; interrupted: boolean }> {
  let trace = "";
  const { report, outcome } = await replay(
    file,
    { memprofilerate: 4096, ...options },
    allocFreeTrace((text) => (trace += text)),
    { readerThread: thread },
  );
  const profile = heapProfile(outcome, "text").toString("utf8");
  return { report: JSON.stringify(report), trace, profile, interrupted: outcome.interrupted };
}

function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** A generated Go-like trace of `events` records. */
function generated(events: number, seed: number): string {
  return Buffer.concat([...generateTrace({ events, seed })]).toString("utf8");
}

describe("the reader thread", () => {
  const shipped = readdirSync(path.join(repoRoot, "traces")).filter((name) => name.endsWith(".trace"));

  it.each(shipped)("replays traces/%s as the replay's own thread does", async (name) => {
    const file = path.join(repoRoot, "traces", name);
    expect(await outputs(file, "worker")).toEqual(await outputs(file, "main"));
  });

  it("replays many batches (stacks and type names defined on the way, text and hex IDs) the same", async () => {
    const text = generated(120_000, 7)
      .replace(/^a (\d+) /gm, (_, id: string) => `a ${Number(id) % 3 === 0 ? `obj-${id}` : Number(id) % 3 === 1 ? `0x${Number(id).toString(16)}` : id} `)
      .replace(/^([df]) (\d+)$/gm, (_, kind: string, id: string) => `${kind} ${Number(id) % 3 === 0 ? `obj-${id}` : Number(id) % 3 === 1 ? `0x${Number(id).toString(16)}` : id}`);
    const file = write("many.trace", text + "s late main.late;main.main\na last 24 stack=late type=main.late\n");
    const main = await outputs(file, "main");
    expect(JSON.parse(main.report).trace.events).toBe(120_001);
    expect(await outputs(file, "worker")).toEqual(main);
    const gz = write("many.trace.gz", gzipSync(text));
    expect(await outputs(gz, "worker")).toEqual(await outputs(gz, "main"));
  });

  it("gives a stack defined again (same frames, another name), in a later batch, the id one thread gives", async () => {
    // 60,000 stacks over 30 frame names, each defined twice, 20,000 definitions apart (so in
    // other batches), with numbered, large-numbered and text STACK names; type names too.
    const lines = ["goalloc-trace 1"];
    const frames = (i: number): string => `main.f${i % 30};pkg.g${(i * 7) % 30};main.main`;
    const name = (i: number, copy: number): string => (copy === 0 ? String(i) : i % 2 === 0 ? `copy-${i}` : String(5_000_000 + i));
    for (let i = 0; i < 80_000; i++) {
      if (i < 60_000) lines.push(`s ${name(i, 0)} ${frames(i)}${i % 900 === 0 ? `;é${i}` : ""}`);
      if (i >= 20_000) lines.push(`s ${name(i - 20_000, 1)} ${frames(i - 20_000)}${(i - 20_000) % 900 === 0 ? `;é${i - 20_000}` : ""}`);
      const stack = i % 3 === 0 || i < 20_000 ? name(i % 60_000, 0) : name(i - 20_000, 1);
      lines.push(`a ${i} ${16 + (i % 200)} stack=${stack}${i % 5 === 0 ? ` type=main.T${i % 7000}` : ""}`);
      if (i % 4 === 0) lines.push(`d ${i}`);
    }
    const file = write("redefined.trace", lines.join("\n") + "\n");
    // The allocfreetrace text (megabytes, every stack's frames) compared by digest: a diff of it would take minutes.
    const digested = async (thread: ReaderThread): Promise<Awaited<ReturnType<typeof outputs>>> => {
      const out = await outputs(file, thread);
      return { ...out, trace: createHash("sha256").update(out.trace).digest("hex") };
    };
    const main = await digested("main");
    expect(JSON.parse(main.report).trace.allocs).toBe(80_000);
    expect(await digested("worker")).toEqual(main);
  });

  it("stops at the same error with the same partial report, the ID named in the message", async () => {
    const lines = generated(40_000, 3).split("\n");
    lines.splice(30_000, 0, "a obj-1 48", "f obj-1", "d obj-1");
    const file = write("bad.trace", lines.join("\n"));
    const main = await outputs(file, "main");
    expect(JSON.parse(main.report).error).toMatchObject({ kind: "trace", line: 30_003, message: `${file}:30003: unknown object obj-1 (never allocated, or already freed or dead)` });
    expect(await outputs(file, "worker")).toEqual(main);
  });

  it("stops at the same runtime throw, with the lines read up to it", async () => {
    const lines = generated(40_000, 4).split("\n");
    lines.splice(30_000, 0, "a huge 999999999999999");
    const file = write("throw.trace", lines.join("\n"));
    const main = await outputs(file, "main");
    expect(JSON.parse(main.report)).toMatchObject({ error: { kind: "runtime", line: 30_001 }, trace: { lines: 30_001 } });
    expect(await outputs(file, "worker")).toEqual(main);
  });

  it("stops at the same --until line", async () => {
    const lines = generated(40_000, 5).split("\n");
    lines.splice(25_000, 0, "# checkpoint");
    const file = write("until.trace", lines.join("\n"));
    const main = await outputs(file, "main", { until: "checkpoint" });
    expect(JSON.parse(main.report).trace).toMatchObject({ stoppedAt: { line: 25_001, text: "# checkpoint" } });
    expect(await outputs(file, "worker", { until: "checkpoint" })).toEqual(main);
  });

  it("stops when interrupted, with a partial report and no thread left behind", async () => {
    const file = write("long.trace", generated(200_000, 9));
    const abort = new AbortController();
    const { outcome } = await replay(file, {}, undefined, {
      readerThread: "worker",
      signal: abort.signal,
      progress: (_bytes, _total, events) => {
        if (events > 50_000) abort.abort();
      },
    });
    expect(outcome.interrupted).toBe(true);
    expect(outcome.counts.events).toBeGreaterThan(50_000);
    expect(outcome.counts.events).toBeLessThan(200_000);
  });

  it("reports a truncated gzip file as the replay's own thread does (its format given, not sniffed)", async () => {
    const file = write("truncated.trace.gz", gzipSync(generated(1000, 2)).subarray(0, 40));
    const main = await outputs(file, "main", { format: "native" });
    expect(JSON.parse(main.report).error).toMatchObject({ kind: "trace", line: 0, message: `${file}: cannot decompress: unexpected end of file` });
    expect(await outputs(file, "worker", { format: "native" })).toEqual(main);
  });

  it("leaves a FIFO, which cannot be read twice, to the replay's own thread", async () => {
    const fifo = path.join(dir, "trace.fifo");
    execFileSync("mkfifo", [fifo]);
    const text = generated(20_000, 11);
    const writer = writeFile(fifo, text);
    const { report } = await replay(fifo, {}, undefined, { readerThread: "worker" });
    await writer;
    expect(report.error).toBeNull();
    expect(report.trace.events).toBe(20_000);
    expect(report.memstats).toEqual((await replay(write("fifo.trace", text))).report.memstats);
  });

  it("fails on a missing file before any thread starts, naming the file", async () => {
    const missing = path.join(dir, "missing.trace");
    await expect(replay(missing, {}, undefined, { readerThread: "worker" })).rejects.toThrow(`${missing}: no such file`);
  });
});
