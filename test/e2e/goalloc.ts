// Running the real goalloc bin for the end-to-end tests: build dist/ when src/ is newer, then
// spawn `node bin/goalloc.js ...` and capture exit code, stdout and stderr.

import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const BIN = path.join(repoRoot, "bin/goalloc.js");
const DIST_MAIN = path.join(repoRoot, "dist/cli/main.js");

/** Newest modification time (ms) of a file or of the files under a directory. */
function newestMtime(target: string): number {
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
}

/**
 * Compile src/ into dist/ unless dist/ is already newer than every source and build config.
 * tsc is run directly (not through npx or npm) to spare the process start-ups.
 */
export function ensureBuilt(): void {
  const inputs = ["src", "tsconfig.json", "tsconfig.build.json"].map((p) => newestMtime(path.join(repoRoot, p)));
  if (existsSync(DIST_MAIN) && statSync(DIST_MAIN).mtimeMs >= Math.max(...inputs)) return;
  const tsc = path.join(repoRoot, "node_modules/typescript/bin/tsc");
  const build = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: repoRoot, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`the build failed (exit ${build.status}):\n${build.stdout}${build.stderr}`);
}

export interface Run {
  /** Exit code (null if the process was killed by a signal). */
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Standard input of the process. */
  input?: string | Buffer;
  /** Variables added to the environment. */
  env?: Record<string, string>;
}

/**
 * The environment of a run: this process's, without the variables that change goalloc's
 * output (GOGC, NO_COLOR, FORCE_COLOR), so that a test states the ones it relies on.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.GOGC;
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  return { ...env, ...extra };
}

/** Run `goalloc ARGS...` from the repository root, so that relative paths are stable. */
export function goalloc(args: readonly string[], options: RunOptions = {}): Run {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: repoRoot,
    env: cleanEnv(options.env),
    input: options.input ?? "",
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Run a replay with `--json` and parse standard output (whatever the exit code). */
export function replayJson(args: readonly string[], options: RunOptions = {}): { run: Run; json: unknown } {
  const run = goalloc(["replay", ...args, "--json"], options);
  return { run, json: JSON.parse(run.stdout) as unknown };
}

/** The path of the `script` utility (util-linux), which runs a command on a pseudo-terminal. */
export function scriptPath(): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "script");
    if (dir !== "" && existsSync(candidate)) return candidate;
  }
  return null;
}

/** Run goalloc with stdout on a terminal (through `script`); returns what the terminal got. */
export function goallocOnTerminal(script: string, args: readonly string[], env: Record<string, string> = {}): Run {
  const command = [process.execPath, BIN, ...args].map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(" ");
  const result = spawnSync(script, ["-qec", command, "/dev/null"], {
    cwd: repoRoot,
    env: cleanEnv(env),
    encoding: "utf8",
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
