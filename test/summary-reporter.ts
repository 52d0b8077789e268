// Ends a test run with the plain closing line CI tools read: "N passed, N failed, N skipped".
// Just before it, once per missing oracle path, how many of the skipped tests were skipped
// because the real runtime's logs are not on this machine (test/oracle.ts marks them).
import type { Reporter, TestModule } from "vitest/node";
import type {} from "./oracle.js"; // its TaskMeta.oracleMissing

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const oracleMissing = new Map<string, number>();
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else {
          skipped++;
          const missing = test.meta().oracleMissing;
          if (missing !== undefined) oracleMissing.set(missing, (oracleMissing.get(missing) ?? 0) + 1);
        }
      }
    }
    let out = "\n";
    for (const [missing, n] of oracleMissing) {
      out += `${n} ${n === 1 ? "test" : "tests"} skipped: ${missing} not found (the real-runtime logs)\n`;
    }
    process.stdout.write(`${out}${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
