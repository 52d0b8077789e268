// goalloc sizeclasses: the size-class table.

import { Command, Option } from "commander";
import { sizeClasses } from "../../index.js";
import { ARCH_NAMES, type ArchName } from "../../runtime/index.js";
import { renderSizeClasses } from "../../report/table.js";
import { stdoutColor } from "../output.js";

export function sizeclassesCommand(): Command {
  return new Command("sizeclasses")
    .description("print the size-class table: class, bytes/obj, pages/span, objects/span, tail waste, max waste")
    .addOption(new Option("--arch <arch>", "arch (the table is the same on all of them)").choices(ARCH_NAMES).default("amd64"))
    .option("--json", "print JSON")
    .action((opts: { arch: ArchName; json?: boolean }) => {
      const rows = sizeClasses(opts.arch);
      if (opts.json) process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
      else process.stdout.write(renderSizeClasses(rows, opts.arch, stdoutColor()));
    });
}
