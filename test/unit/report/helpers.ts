// Shared helpers for the report tests: replay a trace written inline, from a temporary file.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { replay, type ReplayOptions, type ReplayResult, type ReplayTuning } from "../../../src/index.js";

/** Replay `lines` (a native trace, header included) with `options`; the file is removed afterwards. */
export async function replayLines(lines: readonly string[], options: Partial<ReplayOptions> = {}, monitor?: ReplayTuning): Promise<ReplayResult> {
  const dir = mkdtempSync(path.join(tmpdir(), "goalloc-report-"));
  try {
    const file = path.join(dir, "t.trace");
    writeFileSync(file, lines.join("\n") + "\n");
    return await replay(file, options, undefined, monitor);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
