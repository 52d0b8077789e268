// Determinism: two runs of the same trace with the same options give byte-identical outputs:
// the text report, --json, --allocfreetrace, --memprofile in both formats and --html. Nothing
// may depend on the clock, the process, the scheduling of streams or hash-map order.

import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cleanEnv, repoRoot, scratchDir } from "./goalloc.js";

const BIN = path.join(repoRoot, "bin/goalloc.js");
const TRACES = readdirSync(path.join(repoRoot, "traces"))
  .filter((name) => name.endsWith(".trace") || name.endsWith(".log"))
  .sort();
const OUTPUTS = ["report.json", "allocfreetrace.txt", "heap.prof", "report.html"] as const;

const scratch = scratchDir("goalloc-determinism-");

/** Everything one run produced: exit code, stdout, stderr and each output file's bytes. */
interface Outputs {
  status: number | null;
  stdout: string;
  stderr: string;
  files: Record<string, Buffer>;
}

/** Replay `trace` with every output into `dir` (made fresh), from the repository root. */
async function run(trace: string, format: "proto" | "text", dir: string): Promise<Outputs> {
  mkdirSync(dir, { recursive: true });
  const [json, afTrace, profile, html] = OUTPUTS.map((name) => path.join(dir, name));
  const args = ["replay", `traces/${trace}`, "--json", json!, "--allocfreetrace", afTrace!, "--memprofile", profile!, "--memprofile-format", format, "--html", html!];
  const child = spawn(process.execPath, [BIN, ...args], { cwd: repoRoot, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (data: Buffer) => (stdout += data.toString("utf8")));
  child.stderr.on("data", (data: Buffer) => (stderr += data.toString("utf8")));
  const [status] = (await once(child, "close")) as [number | null];
  const files: Record<string, Buffer> = {};
  for (const name of OUTPUTS) files[name] = readFileSync(path.join(dir, name));
  return { status, stdout, stderr, files };
}

/** Both heap profile formats, alternating over the traces (a run costs half a second). */
const CASES = TRACES.map((trace, i) => ({ trace, format: i % 2 === 0 ? ("proto" as const) : ("text" as const) }));

describe("two runs of every shipped trace give byte-identical outputs", () => {
  it.each(CASES)("$trace, with --memprofile-format $format", async ({ trace, format }) => {
    const dir = (n: number): string => path.join(scratch(), `${trace}.${n}`);
    // Side by side: the two processes race for the CPU, the outputs must not care.
    const [first, second] = await Promise.all([run(trace, format, dir(1)), run(trace, format, dir(2))]);
    expect(first.status).toBe(0);
    expect(first.stderr).toBe("");
    expect(first.stdout.length).toBeGreaterThan(0);
    for (const name of OUTPUTS) expect(first.files[name]!.length, name).toBeGreaterThan(0);
    expect(second.status).toBe(first.status);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toBe(first.stderr);
    for (const name of OUTPUTS) expect(second.files[name]!.equals(first.files[name]!), `${name} differs`).toBe(true);
  });
});
