// Compile src/ into dist/ unless dist/ is already newer than every source and build config.
// Shared by the benchmark and the end-to-end tests, which both run the built CLI. tsc is run
// directly (not through npx or npm) to spare the process start-ups.

import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DIST_MAIN = path.join(repoRoot, "dist/cli/main.js");

/** Newest modification time (ms) of a file or of the files under a directory. */
function newestMtime(target: string): number {
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
}

/**
 * Build when stale. Returns tsc's output when it reported errors (it still emits), null
 * otherwise; throws when no dist/cli/main.js came out.
 */
export function buildIfStale(): string | null {
  const inputs = ["src", "tsconfig.json", "tsconfig.build.json"].map((p) => newestMtime(path.join(repoRoot, p)));
  if (existsSync(DIST_MAIN) && statSync(DIST_MAIN).mtimeMs >= Math.max(...inputs)) return null;
  const tsc = path.join(repoRoot, "node_modules/typescript/bin/tsc");
  const build = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: repoRoot, encoding: "utf8" });
  if (!existsSync(DIST_MAIN)) throw new Error(`the build produced no dist/cli/main.js:\n${build.stdout}${build.stderr}`);
  return build.status === 0 ? null : `${build.stdout}${build.stderr}`;
}
