// Fuzz failures that are known: reported to the owners of the files named, with a minimal
// regression test marked `it.fails`. The fuzz test and `npm run fuzz` list them apart and do
// not fail on them; remove an entry once its bug is fixed (its it.fails test will say so).

export interface KnownBug {
  /** Matches the failure's detail (run-case.ts / pool.ts). */
  pattern: RegExp;
  /** The file to fix and the regression test. */
  where: string;
}

// Empty: the tiny-block crash that was here (Runtime.release of a reused block) is fixed, and
// its regression tests are in test/unit/replay/library-edge-cases.test.ts.
export const KNOWN_BUGS: readonly KnownBug[] = [];

export function knownBug(detail: string): KnownBug | null {
  return KNOWN_BUGS.find((bug) => bug.pattern.test(detail)) ?? null;
}
