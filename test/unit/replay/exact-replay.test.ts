// Exact replay of real Go 1.3.3 allocfreetrace logs (../shared/oracle): every traced
// allocation at the logged address, and the MemStats the program read at its marker.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allocFreeTrace, replay } from "../../../src/index.js";
import { hasOracle, needsOracle, oracleDir } from "../../oracle.js";

const oracle = oracleDir;
const scratch = hasOracle ? mkdtempSync(join(tmpdir(), "goalloc-oracle-")) : "";

/** Decompressed copy of an oracle log (xz). */
function log(dir: string, name: string): string {
  if (!existsSync(join(oracle, dir, `${name}.allocfreetrace.txt.xz`))) throw new Error(`no oracle log ${dir}/${name}`);
  const out = join(scratch, `${dir.replaceAll("/", "-")}-${name}.txt`);
  if (existsSync(out)) return out;
  // Streamed to the file: the larger logs decompress to more than a pipe buffer should hold.
  const fd = openSync(`${out}.part`, "w");
  const xz = spawnSync("xz", ["-dc", join(oracle, dir, `${name}.allocfreetrace.txt.xz`)], { stdio: ["ignore", fd, "inherit"] });
  closeSync(fd);
  if (xz.status !== 0) throw new Error(`xz -dc failed on ${dir}/${name}`);
  renameSync(`${out}.part`, out);
  return out;
}

// The MemStats fields a log determines; the others depend on what a log cannot show.
const EXACT = ["HeapSys", "HeapAlloc", "HeapInuse", "HeapIdle", "HeapObjects", "Mallocs", "Frees", "NumGC", "NextGC", "Alloc", "TotalAlloc", "MSpanInuse", "MSpanSys", "MCacheInuse", "MCacheSys", "GCSys", "HeapReleased"] as const;

describe("exact replay of real go1.3.3 logs", needsOracle(), () => {
  for (const arch of ["amd64", "386"] as const) {
    for (const prog of ["p0_baseline", "p1_small", "p2_large"]) {
      it(`${arch} ${prog}: 100% addresses and MemStats at MEMSTATS_SNAPSHOT`, async () => {
        const { report } = await replay(log(`go1.3.3-${arch}`, prog), { arch, gc: "log", until: "MEMSTATS_SNAPSHOT" });
        const summary = JSON.parse(readFileSync(join(oracle, `go1.3.3-${arch}`, `${prog}.summary.json`), "utf8"));
        expect(report.error).toBeNull();
        expect(report.fidelity!.allocs).toBe(summary.before_MEMSTATS_SNAPSHOT.tracealloc);
        expect(report.fidelity!.addressMatches).toBe(report.fidelity!.allocs);
        expect(report.fidelity!.firstDivergence).toBeNull();
        const want = JSON.parse(readFileSync(join(oracle, `go1.3.3-${arch}`, `${prog}.allocfreetrace.memstats.json`), "utf8"));
        const got: Record<string, unknown> = { ...report.memstats };
        for (const field of EXACT) expect([field, got[field]]).toEqual([field, want[field]]);
        expect(report.memstats.BySize).toEqual(want.BySize);
      });

      it(`${arch} ${prog}: the pacer alone collects as often as the log, every address and MemStats at MEMSTATS_SNAPSHOT`, async () => {
        // --gc pacer: collections come from the emulated pacer, only where the traceback
        // allows one, with deaths placed at the logged collection that found them.
        const { report } = await replay(log(`go1.3.3-${arch}`, prog), { arch, gc: "pacer", until: "MEMSTATS_SNAPSHOT" });
        const summary = JSON.parse(readFileSync(join(oracle, `go1.3.3-${arch}`, `${prog}.summary.json`), "utf8"));
        expect(report.error).toBeNull();
        expect(report.fidelity!.firstDivergence).toBeNull();
        expect(report.fidelity!.addressMatches).toBe(summary.before_MEMSTATS_SNAPSHOT.tracealloc);
        expect(report.memstats.NumGC).toBe(summary.before_MEMSTATS_SNAPSHOT.tracegc);
        const want = JSON.parse(readFileSync(join(oracle, `go1.3.3-${arch}`, `${prog}.allocfreetrace.memstats.json`), "utf8"));
        const got: Record<string, unknown> = { ...report.memstats };
        for (const field of EXACT) expect([field, got[field]]).toEqual([field, want[field]]);
      });
    }
  }

  it("by default follows a go1.3 log's own layout and collections, and says so", async () => {
    const { report } = await replay(log("go1.3.3-386", "p1_small"), { until: "MEMSTATS_SNAPSHOT" });
    expect(report.options.arch).toBe("386");
    expect(report.trace.runtime).toBe("go1.3");
    expect(report.schedule).toStrictEqual({ collections: "log", why: "a go1.3 log replayed with the options it ran with", archFromLog: true });
    expect(report.fidelity).toMatchObject({ firstDivergence: null, notComparable: null });
    const other = (await replay(log("go1.3.3-386", "p1_small"), { arch: "amd64", until: "MEMSTATS_SNAPSHOT" })).report;
    expect(other.schedule).toStrictEqual({ collections: "pacer", why: "--arch amd64 is not the log's 386", archFromLog: false });
    expect(other.fidelity!.notComparable).toBe("the log comes from a 32-bit (386) run, first address 0x18310000; --arch amd64 lays the arena out elsewhere");
  });
});

/** The tracealloc lines of a log (or of goalloc's allocfreetrace output), address and size only. */
function traceallocs(text: string): string[] {
  const out: string[] = [];
  // Scanned, not split: the larger logs hold millions of lines.
  const first = text.startsWith("tracealloc(") ? 0 : text.indexOf("\ntracealloc(");
  let at = first <= 0 ? first : first + 1;
  while (at >= 0) {
    const end = text.indexOf("\n", at);
    const line = text.slice(at, end < 0 ? text.length : end);
    const second = line.indexOf(",", line.indexOf(",") + 1);
    out.push(second < 0 ? line : line.slice(0, second));
    const next = end < 0 ? -1 : text.indexOf("\ntracealloc(", end);
    at = next < 0 ? -1 : next + 1;
  }
  return out;
}

// Real programs of the corpus, replayed with the same rules: every allocation at its logged
// address, and the emulated allocfreetrace prints the log's tracealloc records in its order.
// (The larger corpus logs are measured by `npm run fidelity`.)
describe("exact replay of the go1.3.3 corpus", needsOracle(join(oracle, "corpus")), () => {
  const runs: [string, "amd64" | "386", string, boolean][] = [
    ["corpus/go1.3.3-amd64", "amd64", "p5_queue", true],
    ["corpus/go1.3.3-386", "386", "p5_queue", true],
    ["corpus/go1.3.3-amd64", "amd64", "p6_largechurn", true],
    ["corpus/go1.3.3-386", "386", "p6_largechurn", true],
    ["corpus/go1.3.3-amd64", "amd64", "std_image_png", false],
    ["corpus/go1.3.3-amd64", "amd64", "std_bytes", false],
    ["corpus/go1.3.3-amd64", "amd64", "std_sort", false],
    ["corpus/go1.3.3-amd64", "amd64", "std_encoding_xml", false],
    // testing.AllocsPerRun calls runtime.ReadMemStats, whose cache flush the log shows only
    // through a later allocation's address.
    ["corpus/go1.3.3-amd64", "amd64", "std_fmt", false],
  ];
  for (const [dir, arch, prog, memstats] of runs) {
    it(`${dir.split("/")[1]} ${prog}: 100% addresses, the log's tracealloc order${memstats ? ", MemStats at MEMSTATS_SNAPSHOT" : ""}; the pacer's collections are the log's`, async () => {
      const file = log(dir, prog);
      const chunks: string[] = [];
      const { report } = await replay(file, { arch, gc: "log" }, allocFreeTrace((t) => chunks.push(...traceallocs(t))));
      expect(report.error).toBeNull();
      expect(report.fidelity!.firstDivergence).toBeNull();
      expect(report.fidelity!.addressMatches).toBe(report.fidelity!.allocs);
      const logged = traceallocs(readFileSync(file, "utf8"));
      expect(report.fidelity!.allocs).toBe(logged.length);
      expect(chunks.length).toBe(logged.length);
      expect(chunks.findIndex((t, i) => t !== logged[i])).toBe(-1);
      // The pacer alone starts the same collections at the same allocations, and with the
      // log's sweeper evidence (while its cycles are the log's) every address follows.
      const paced = (await replay(file, { arch, gc: "pacer" })).report;
      expect(paced.fidelity!.firstDivergence).toBeNull();
      expect(paced.memstats.NumGC).toBe(report.memstats.NumGC);
      if (!memstats) return;
      const at = (await replay(file, { arch, gc: "log", until: "MEMSTATS_SNAPSHOT" })).report;
      const want = JSON.parse(readFileSync(join(oracle, dir, `${prog}.allocfreetrace.memstats.json`), "utf8"));
      const got: Record<string, unknown> = { ...at.memstats };
      for (const field of EXACT) expect([field, got[field]]).toEqual([field, want[field]]);
      expect(at.memstats.BySize).toEqual(want.BySize);
    });
  }
});
