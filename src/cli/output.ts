// Writing outputs: stdout for `-`, otherwise a temporary file renamed into place, so a reader
// never sees half a file and an interrupted run leaves the old one.

import { renameSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export function writeOutput(path: string, text: string): void {
  if (path === "-") {
    process.stdout.write(text);
    return;
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // The temporary file was never created.
    }
    throw e;
  }
}

/** Colour on stdout only for a terminal, and never with NO_COLOR set. */
export function stdoutColor(): boolean {
  return process.stdout.isTTY === true && !process.env.NO_COLOR;
}
