// Fuzz failures that are known: reported to the owners of the files named, with a minimal
// regression test marked `it.fails`. The fuzz test and `npm run fuzz` list them apart and do
// not fail on them; remove an entry once its bug is fixed (its it.fails test will say so).

export interface KnownBug {
  /** Matches the failure's detail (run-case.ts / pool.ts). */
  pattern: RegExp;
  /** The file to fix and the regression test. */
  where: string;
}

export const KNOWN_BUGS: readonly KnownBug[] = [
  {
    pattern: /^uncaught exception: Error: release of 0x[0-9a-f]+: not a live object/,
    where:
      "a tiny block freed by `f` while sub-objects (or the mcache's tiny pointer) still refer to it: " +
      "src/runtime/malloc.ts and src/replay/replay.ts; test/unit/reliability.test.ts, known bugs",
  },
];

export function knownBug(detail: string): KnownBug | null {
  return KNOWN_BUGS.find((bug) => bug.pattern.test(detail)) ?? null;
}
