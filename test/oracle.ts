// The real runtime's logs (../shared/oracle, beside the repository), which the oracle tests
// read. A machine without them skips those tests: each such describe or it takes its options
// from needsOracle, which marks the skip in the test's meta, so that the summary reporter
// (test/summary-reporter.ts) can say once why they were skipped.

import { existsSync } from "node:fs";
import path from "node:path";

// The test meta reporters read (vitest re-exports this interface from its runner).
declare module "@vitest/runner" {
  interface TaskMeta {
    /** The oracle path this test needs and did not find (relative to the repository). */
    oracleMissing?: string;
  }
}

const repoRoot = path.resolve(import.meta.dirname, "..");

/** The oracle directory. */
export const oracleDir = path.resolve(repoRoot, "../shared/oracle");

/** True when the oracle directory is there (some tests also need a file or subdirectory of it: see needsOracle). */
export const hasOracle = existsSync(oracleDir);

/** A path in the oracle. */
export function oraclePath(...parts: string[]): string {
  return path.join(oracleDir, ...parts);
}

/**
 * Options for a describe or it that reads `wanted` (a path in the oracle, the oracle directory
 * itself by default): skip it when that is missing, and record what was missing for the reporter.
 *
 *   const LOG = oraclePath("go1.3.3-amd64", "p0_baseline.allocfreetrace.txt.xz");
 *   it("reads a log", needsOracle(LOG), async () => { ... });
 */
export function needsOracle(wanted: string = oracleDir): { skip: boolean; meta: { oracleMissing?: string } } {
  if (existsSync(wanted)) return { skip: false, meta: {} };
  const missing = hasOracle ? wanted : oracleDir;
  return { skip: true, meta: { oracleMissing: path.relative(repoRoot, missing) } };
}
