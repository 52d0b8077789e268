// The golog reader on every real log in the shared oracle directory: record counts, lines and
// addresses must equal each run's P.summary.json. Skips when ../shared is not there.

import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { once } from "node:events";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { detectFormat } from "../../../src/trace/detect.js";
import { GologParser } from "../../../src/trace/golog.js";
import { RecordKind, type TraceRecord } from "../../../src/trace/record.js";
import { hasOracle, needsOracle, oracleDir, oraclePath } from "../../oracle.js";

interface Counts {
  tracealloc: number;
  tracefree: number;
  tracegc: number;
}

interface Summary extends Counts {
  lines: number;
  before_MEMSTATS_SNAPSHOT: Counts;
  first_alloc_addr: string;
  min_alloc_addr: string;
  max_alloc_end: string;
  distinct_alloc_sizes: number;
  top_alloc_sizes: Array<[string, number]>;
  goroutines_seen: number;
}

/** What the tests compare with a summary, gathered without keeping records. */
class Tally {
  readonly counts: Counts = { tracealloc: 0, tracefree: 0, tracegc: 0 };
  readonly sizes = new Map<string, number>();
  readonly goroutines = new Set<number>();
  firstAlloc = "";
  minAlloc = Number.MAX_SAFE_INTEGER;
  maxEnd = 0;
  untilLine = 0;

  record(r: TraceRecord): void {
    switch (r.kind) {
      case RecordKind.Alloc: {
        this.counts.tracealloc++;
        if (this.firstAlloc === "") this.firstAlloc = r.id;
        this.minAlloc = Math.min(this.minAlloc, r.address);
        this.maxEnd = Math.max(this.maxEnd, r.address + r.size);
        const size = "0x" + r.size.toString(16);
        this.sizes.set(size, (this.sizes.get(size) ?? 0) + 1);
        this.goroutines.add(r.goroutine);
        break;
      }
      case RecordKind.Dead:
        this.counts.tracefree++;
        this.goroutines.add(r.goroutine);
        break;
      case RecordKind.GC:
        this.counts.tracegc++;
        break;
      case RecordKind.Until:
        this.untilLine = r.line;
        break;
      default:
        throw new Error(`unexpected record kind ${r.kind}`);
    }
  }
}

/** Run a decompressor over `file` and stream its output through a fresh parser. */
async function replay(
  command: string,
  args: string[],
  file: string,
  until?: string,
): Promise<{ parser: GologParser; tally: Tally }> {
  const parser = new GologParser(file, until === undefined ? {} : { until });
  const tally = new Tally();
  const child = spawn(command, [...args, file], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = once(child, "close");
  for await (const chunk of child.stdout) {
    parser.push(chunk as Buffer, tally);
    if (parser.stopped) break;
  }
  parser.end(tally);
  if (parser.stopped) child.kill();
  const [code] = (await exited) as [number | null];
  if (!parser.stopped) expect(code).toBe(0);
  return { parser, tally };
}

function totals(summary: Summary): Counts {
  return { tracealloc: summary.tracealloc, tracefree: summary.tracefree, tracegc: summary.tracegc };
}

function hex(value: number): string {
  return "0x" + value.toString(16);
}

const runs = hasOracle
  ? readdirSync(oracleDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .flatMap((dir) =>
        readdirSync(path.join(oracleDir, dir))
          .filter((name) => name.endsWith(".allocfreetrace.txt.xz"))
          .map((name) => {
            const program = name.slice(0, -".allocfreetrace.txt.xz".length);
            return {
              name: `${dir}/${program}`,
              log: path.join(oracleDir, dir, name),
              summary: path.join(oracleDir, dir, `${program}.summary.json`),
            };
          }),
      )
  : [];

describe("GologParser on the oracle logs", needsOracle(), () => {
  it("finds the eight small runs", () => {
    expect(runs.map((run) => run.name).sort()).toEqual([
      "gccgo12-amd64/p1_small",
      "go1.19.8-amd64/p1_small",
      "go1.3.3-386/p0_baseline",
      "go1.3.3-386/p1_small",
      "go1.3.3-386/p2_large",
      "go1.3.3-amd64/p0_baseline",
      "go1.3.3-amd64/p1_small",
      "go1.3.3-amd64/p2_large",
    ]);
  });

  describe.each(runs)("$name", ({ log, summary: summaryFile }) => {
    const summary = JSON.parse(readFileSync(summaryFile, "utf8")) as Summary;

    it("matches the summary's counts, lines, addresses and sizes", async () => {
      const { parser, tally } = await replay("xz", ["-dc"], log);
      expect(tally.counts).toEqual(totals(summary));
      expect(parser.lines).toBe(summary.lines);
      expect(tally.firstAlloc).toBe(summary.first_alloc_addr);
      expect(hex(tally.minAlloc)).toBe(summary.min_alloc_addr);
      expect(hex(tally.maxEnd)).toBe(summary.max_alloc_end);
      expect(tally.sizes.size).toBe(summary.distinct_alloc_sizes);
      for (const [size, count] of summary.top_alloc_sizes) expect([size, tally.sizes.get(size)]).toEqual([size, count]);
      expect(tally.goroutines.size).toBe(summary.goroutines_seen);
      // The only lines outside records are the program's PHASE and MEMSTATS markers.
      expect(parser.skippedLines).toBeGreaterThan(0);
      expect(parser.skippedLines).toBeLessThan(10);
    });

    it("counts the records before MEMSTATS_SNAPSHOT with until", async () => {
      const { parser, tally } = await replay("xz", ["-dc"], log, "MEMSTATS_SNAPSHOT");
      expect(parser.stopped).toBe(true);
      expect(tally.untilLine).toBe(parser.lines);
      expect(tally.counts).toEqual(summary.before_MEMSTATS_SNAPSHOT);
    });

    it("is sniffed as golog", async () => {
      const child = spawn("xz", ["-dc", log], { stdio: ["ignore", "pipe", "inherit"] });
      const exited = once(child, "close");
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of child.stdout) {
        chunks.push(chunk as Buffer);
        total += (chunk as Buffer).length;
        if (total >= 65536) break;
      }
      child.kill();
      await exited;
      expect(detectFormat(Buffer.concat(chunks))).toBe("golog");
    });
  });
});

// The 7.95 GB gofmt log takes about a minute: run it with GOALLOC_LARGE_ORACLE=1.
const large = oraclePath("large", "gofmt-go1.3.3-amd64.allocfreetrace.txt.zst");
const gofmt = needsOracle(large);
describe("GologParser on the gofmt log", { ...gofmt, skip: gofmt.skip || !process.env.GOALLOC_LARGE_ORACLE }, () => {
  it("matches its summary", { timeout: 600_000 }, async () => {
    const summary = JSON.parse(readFileSync(large.replace(".allocfreetrace.txt.zst", ".summary.json"), "utf8")) as Summary;
    const { parser, tally } = await replay("zstd", ["-dc", "--long=27"], large);
    expect(tally.counts).toEqual(totals(summary));
    expect(parser.lines).toBe(summary.lines);
    expect(tally.firstAlloc).toBe(summary.first_alloc_addr);
    expect(hex(tally.maxEnd)).toBe(summary.max_alloc_end);
    expect(tally.goroutines.size).toBe(summary.goroutines_seen);
  });
});
