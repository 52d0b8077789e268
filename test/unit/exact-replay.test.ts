// Exact replay of real Go 1.3.3 allocfreetrace logs (../shared/oracle): every traced
// allocation at the logged address, and the MemStats the program read at its marker.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { replay } from "../../src/index.js";

const oracle = resolve(import.meta.dirname, "../../../shared/oracle");
const scratch = existsSync(oracle) ? mkdtempSync(join(tmpdir(), "goalloc-oracle-")) : "";

/** Decompressed copy of an oracle log (xz). */
function log(dir: string, name: string): string {
  const out = join(scratch, `${dir}-${name}.txt`);
  if (!existsSync(out)) writeFileSync(out, execFileSync("xz", ["-dc", join(oracle, dir, `${name}.allocfreetrace.txt.xz`)], { maxBuffer: 1 << 28 }));
  return out;
}

// The MemStats fields a log determines; the others depend on what a log cannot show.
const EXACT = ["HeapSys", "HeapAlloc", "HeapInuse", "HeapIdle", "HeapObjects", "Mallocs", "Frees", "NumGC", "NextGC", "Alloc", "TotalAlloc", "MSpanInuse", "MSpanSys", "MCacheInuse", "MCacheSys", "GCSys", "HeapReleased"] as const;

describe.skipIf(!existsSync(oracle))("exact replay of real go1.3.3 logs", () => {
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
    }
  }
});
