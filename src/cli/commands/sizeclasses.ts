// goalloc sizeclasses: the size-class table. msize.c computes it from the page size and the
// size list alone, so it is the same on every arch: the command takes none.

import { Command } from "commander";
import { sizeClasses } from "../../index.js";
import { renderSizeClasses } from "../../report/table.js";
import { stdoutColor } from "../output.js";

export function sizeclassesCommand(): Command {
  return new Command("sizeclasses")
    .description("print the size-class table (the same on every arch): class, bytes/obj, pages/span, objects/span, tail waste, max waste")
    .option("--json", "print JSON")
    .action((opts: { json?: boolean }) => {
      const rows = sizeClasses();
      if (opts.json) process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
      else process.stdout.write(renderSizeClasses(rows, stdoutColor()));
    });
}
