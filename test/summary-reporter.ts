// Ends a test run with the plain closing line CI tools read: "N passed, N failed, N skipped".
// Just before it, once per missing oracle path, how many of the skipped tests were skipped
// because the real runtime's logs are not on this machine (test/oracle.ts marks them), and
// how many test files failed outside their tests (a hook, an import): each counts as failed,
// so that the closing line never reads "0 failed" for a run that failed.
import type { Reporter, TestModule } from "vitest/node";
import type {} from "./oracle.js"; // its TaskMeta.oracleMissing

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    let brokenFiles = 0;
    const oracleMissing = new Map<string, number>();
    for (const module of testModules) {
      const failedBefore = failed;
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
      if (module.state() === "failed" && failed === failedBefore) brokenFiles++;
    }
    let out = "\n";
    for (const [missing, n] of oracleMissing) {
      out += `${n} ${n === 1 ? "test" : "tests"} skipped: ${missing} not found (the real-runtime logs)\n`;
    }
    if (brokenFiles > 0) out += `${brokenFiles} test ${brokenFiles === 1 ? "file" : "files"} failed outside ${brokenFiles === 1 ? "its" : "their"} tests (a hook, an import), counted as failed\n`;
    process.stdout.write(`${out}${passed} passed, ${failed + brokenFiles} failed, ${skipped} skipped\n`);
  }
}
