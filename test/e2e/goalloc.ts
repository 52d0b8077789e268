// Running the real goalloc bin for the end-to-end tests: build dist/ when src/ is newer, then
// spawn `node bin/goalloc.js ...` and capture exit code, stdout and stderr.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { buildIfStale, repoRoot } from "../../scripts/build-if-stale.js";

export { repoRoot };

const BIN = path.join(repoRoot, "bin/goalloc.js");

/** Build dist/ when src/ is newer; a type error in the build fails the tests. */
export function ensureBuilt(): void {
  const errors = buildIfStale();
  if (errors !== null) throw new Error(`the build failed:\n${errors}`);
}

/**
 * For a test file: dist/ built and a scratch directory made before its tests, the directory
 * removed after them. Returns the directory's path (valid once the tests run).
 */
export function scratchDir(prefix: string): () => string {
  let dir = "";
  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(path.join(tmpdir(), prefix));
  }, 120_000);
  afterAll(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
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
