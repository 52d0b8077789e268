// Bad input at the level of the emulated runtime, extremely long lines, unwritable outputs and
// Ctrl-C, through the real bin. What the existing e2e suite (cli.test.ts) already covers is
// not repeated here: finalizer set twice or at an interior pointer, freeing a finalized object,
// freeing a class-1 block, the 386 arena running out with large objects.

import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { once } from "node:events";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { Report } from "../../src/report/report.js";
import { cleanEnv, goalloc, repoRoot, scratchDir, type Run } from "./goalloc.js";
import { needsOracle, oracleDir } from "../oracle.js";

const BIN = path.join(repoRoot, "bin/goalloc.js");
const MiB = 1024 * 1024;

const scratch = scratchDir("goalloc-reliability-");

/** Write a trace under the scratch directory; returns its path. */
function traceFile(name: string, text: string | Buffer): string {
  const file = path.join(scratch(), name);
  writeFileSync(file, text);
  return file;
}

/** Replay with `--json FILE`: the run and the report it wrote (partial or not). */
function replayWithJson(file: string, extra: string[] = []): { run: Run; report: Report } {
  const out = `${file}.json`;
  const run = goalloc(["replay", file, ...extra, "--json", out]);
  return { run, report: JSON.parse(readFileSync(out, "utf8")) as Report };
}

/** Files in dir whose names look like goalloc's temporaries (`.NAME.PID.tmp`). */
function temporaries(dir: string): string[] {
  return readdirSync(dir).filter((name) => /^\..+\.\d+\.tmp$/.test(name));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe("sizes beyond MaxMem: the runtime's panic or out-of-memory, exit 3, the report of what came before", () => {
  // MaxMem (malloc.h) is 2^37 on 64-bit (the 128 GiB arena) and 2^32 - 1 on 32-bit; cnew panics past it.
  it.each([
    { arch: "amd64", size: 2 ** 37 + 1 },
    { arch: "arm64", size: 2 ** 53 - 1 },
    { arch: "386", size: 2 ** 32 },
    { arch: "arm", size: 2 ** 32 + 8192 },
  ])("$arch: a $size-byte request panics with allocation size out of range", ({ arch, size }) => {
    const file = traceFile(`maxmem-${arch}.trace`, `goalloc-trace 1\na x 64\na big ${size}\na y 64\n`);
    const { run, report } = replayWithJson(file, ["--arch", arch]);
    expect(run.status).toBe(3);
    expect(run.stderr).toBe(`panic: runtime error: runtime: allocation size out of range\ngoalloc: the emulated runtime threw at ${file}:3\n`);
    expect(run.stdout.split("\n")[0]).toContain("[partial]");
    expect(report).toMatchObject({ partial: true, error: { kind: "runtime", line: 3 }, trace: { allocs: 1 } });
  });

  it("amd64: a request of exactly 2^37 bytes passes the size check and runs the heap out of memory", () => {
    const file = traceFile("maxmem-exact.trace", `goalloc-trace 1\na x 64\na big ${2 ** 37}\n`);
    const { run, report } = replayWithJson(file);
    expect(run.status).toBe(3);
    expect(run.stderr).toBe(
      `runtime: out of memory: cannot allocate ${2 ** 37}-byte block (1048576 in use)\nfatal error: out of memory\n` +
        `goalloc: the emulated runtime threw at ${file}:3\n`,
    );
    expect(report).toMatchObject({ partial: true, error: { kind: "runtime", line: 3 }, trace: { allocs: 1 }, memstats: { HeapSys: 1048576 } });
  });
});

describe("--json - is bare --json in compare and diff", () => {
  it("compare: with --bench-format it is refused (both would write standard output); alone, stdout is the JSON only", () => {
    const both = goalloc(["compare", "traces/tiny.trace", "--arch", "amd64,386", "--json", "-", "--bench-format"]);
    expect(both.status).toBe(2);
    expect(both.stderr).toBe("goalloc: --json without a file and --bench-format would both write to standard output\n");
    const alone = goalloc(["compare", "traces/tiny.trace", "--arch", "amd64,386", "--json", "-"]);
    expect(alone.status).toBe(0);
    expect(JSON.parse(alone.stdout).columns.map((c: { arch: string }) => c.arch)).toEqual(["amd64", "386"]);
  });

  it("diff: stdout is the JSON only", () => {
    const run = goalloc(["diff", "traces/tiny.trace", "--a-gogc", "50", "--b-gogc", "100", "--json", "-"]);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).goalloc).toBeTypeOf("string");
  });
});

describe("gen --out a directory", () => {
  it("is refused before anything is generated: exit 2, one line, nothing left in the directory", () => {
    const dir = path.dirname(traceFile("gen-anchor.trace", "goalloc-trace 1\n"));
    const before = readdirSync(dir).sort();
    const run = goalloc(["gen", "--events", "50000000", "--out", dir]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`goalloc: cannot write ${dir}: it is a directory\n`);
    expect(readdirSync(dir).sort()).toEqual(before);
  });
});

describe("an output path that is a symlink to nothing", () => {
  it("is written through, as a shell's > does: the link stays and names the new file", () => {
    const dir = path.dirname(traceFile("dangling-anchor.trace", "goalloc-trace 1\n"));
    const link = path.join(dir, "dangling.json");
    const target = path.join(dir, "dangling-target.json");
    symlinkSync("dangling-target.json", link);
    const run = goalloc(["replay", "traces/tiny.trace", "--json", link]);
    expect(run.status).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(target, "utf8")).trace.file).toBe("traces/tiny.trace");
  });
});

describe("a compressed input that breaks off", () => {
  it("a small truncated .gz log: the report of the records before the break, exit 2 at the last complete line", () => {
    const whole = gzipSync(readFileSync("traces/go1.3.3-p0.log").subarray(0, 30000));
    const file = traceFile("cut.log.gz", whole.subarray(0, 2000));
    const { run, report } = replayWithJson(file);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`goalloc: ${file}:517: cannot decompress: unexpected end of file, after this line (the last complete one)\n`);
    expect(report).toMatchObject({ partial: true, error: { kind: "trace", line: 517 }, trace: { lines: 517, allocs: 21 } });
  });
});

describe("explicit frees the runtime does not check", () => {
  it("an explicit free of a zero-size object (runtime.zerobase) is runtime·free's own throw, exit 3", () => {
    const file = traceFile("free-zero.trace", "goalloc-trace 1\na z 0\nf z\n");
    const { run, report } = replayWithJson(file);
    expect(run.status).toBe(3);
    expect(run.stderr).toBe(`free 0x601000: not an allocated block\nfatal error: free runtime_mlookup\ngoalloc: the emulated runtime threw at ${file}:3\n`);
    expect(report).toMatchObject({ partial: true, error: { kind: "runtime", line: 3 } });
  });

  it("a double free is caught by the trace's object names: exit 2 at the second free", () => {
    const file = traceFile("double-free.trace", "goalloc-trace 1\na x 64\nf x\nf x\n");
    const { run, report } = replayWithJson(file);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`goalloc: ${file}:4: unknown object x (never allocated, or already freed or dead)\n`);
    // The first free happened: x's 64-byte block is back (Frees: the start-up self-test and x).
    expect(report).toMatchObject({ partial: true, trace: { allocs: 1, frees: 1 }, memstats: { Frees: 2 } });
  });

  // `pre` takes the first allocation's collection, so x and y share a live tiny block.
  const TINY = "goalloc-trace 1\na pre 64\na x 4 flags=noscan\na y 4 flags=noscan\n";
  /** BySize entry of the 16-byte class: tiny blocks. */
  const tinyClass = (report: Report): { Mallocs: number; Frees: number } => report.memstats.BySize.find((row) => row.Size === 16)!;

  it("freeing a tiny sub-object frees its whole 16-byte block, as runtime.free would", () => {
    const file = traceFile("tiny-free.trace", `${TINY}f x\n`);
    const { run, report } = replayWithJson(file);
    expect(run.status).toBe(0);
    // The start-up self-test's block and x and y's block, both freed.
    expect(tinyClass(report)).toMatchObject({ Mallocs: 2, Frees: 2 });
  });

  it("a sub-object of a freed tiny block can be neither freed nor die: exit 2 naming it", () => {
    for (const [record, line] of [
      ["d y", 6],
      ["f y", 6],
    ] as const) {
      const file = traceFile("tiny-after-free.trace", `${TINY}f x\n${record}\n`);
      const { run, report } = replayWithJson(file);
      expect(run.status).toBe(2);
      expect(run.stderr).toBe(`goalloc: ${file}:${line}: object y: its tiny block was already freed\n`);
      expect(report).toMatchObject({ partial: true, error: { kind: "trace", line } });
    }
  });

  it("an interior pointer (y, 4 bytes into the block) frees the object containing it", () => {
    const file = traceFile("interior-free.trace", `${TINY}f y\nd x\n`);
    const { run, report } = replayWithJson(file);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`goalloc: ${file}:6: object x: its tiny block was already freed\n`);
    expect(tinyClass(report)).toMatchObject({ Frees: 2 });
  });
});

describe("SetFinalizer misuse the e2e suite does not cover", () => {
  it("a finalizer at an interior byte of a tiny object is allowed, but only once", () => {
    const ok = traceFile("fin-tiny.trace", "goalloc-trace 1\na x 4 flags=noscan\nfin x 2\n");
    expect(goalloc(["replay", ok]).status).toBe(0);
    const twice = traceFile("fin-tiny-twice.trace", "goalloc-trace 1\na x 4 flags=noscan\nfin x 2\nfin x 2\n");
    const { run, report } = replayWithJson(twice);
    expect(run.status).toBe(3);
    expect(run.stderr).toBe(`runtime.SetFinalizer: finalizer already set\nfatal error: runtime.SetFinalizer\ngoalloc: the emulated runtime threw at ${twice}:4\n`);
    expect(report).toMatchObject({ partial: true, error: { kind: "runtime", line: 4 } });
  });

  it("a finalizer inside a large object is not at the beginning of its block", () => {
    const file = traceFile("fin-large.trace", "goalloc-trace 1\na big 40000 type=main.T\nfin big 8192\n");
    const { run } = replayWithJson(file);
    expect(run.status).toBe(3);
    expect(run.stderr).toBe(
      `runtime.SetFinalizer: pointer not at beginning of allocated block\nfatal error: runtime.SetFinalizer\ngoalloc: the emulated runtime threw at ${file}:3\n`,
    );
  });

  it("removing a finalizer that was never set is fine", () => {
    const file = traceFile("unfin.trace", "goalloc-trace 1\na x 64 type=main.T\nunfin x\nf x\n");
    expect(goalloc(["replay", file])).toMatchObject({ status: 0, stderr: "" });
  });
});

describe("32-bit arena exhaustion", () => {
  it("arm: small-object spans fill the 2 GiB arena; out of memory with the runtime's lines, the report up to there", () => {
    // 32 KiB objects, one per 4-page span, GC off: the 57,344th span no longer fits.
    const lines = ["goalloc-trace 1"];
    for (let i = 0; i < 60_000; i++) lines.push(`a o${i} 32768 flags=noscan`);
    const file = traceFile("oom-arm.trace", lines.join("\n") + "\n");
    const { run, report } = replayWithJson(file, ["--arch", "arm", "--gogc", "off"]);
    expect(run.status).toBe(3);
    const message = new RegExp(
      "^(runtime: memory allocated by OS \\(0x[0-9a-f]+\\) not in usable range \\[0x10300000,0x90300000\\)\n)*" +
        "runtime: out of memory: cannot allocate \\d+-byte block \\((\\d+) in use\\)\nfatal error: out of memory\n" +
        `goalloc: the emulated runtime threw at ${escapeRegExp(file)}:57345\n$`,
    ).exec(run.stderr);
    expect(message).not.toBeNull();
    expect(report).toMatchObject({ partial: true, error: { kind: "runtime", line: 57345 }, trace: { allocs: 57343 } });
    expect(report.memstats.HeapSys).toBe(Number(message![2]));
  });
});

describe("extremely long lines are rejected with FILE:LINE, not read into memory", () => {
  const over = 1024 * 1024 + 1;

  it("a line of 1 MiB + 1 byte: exit 2, `line too long`, the report of the lines before", () => {
    const file = traceFile("long-line.trace", `goalloc-trace 1\na x 8\n#${"x".repeat(over - 1)}\na y 8\n`);
    const { run, report } = replayWithJson(file);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`goalloc: ${file}:3: line too long (more than 1048576 bytes)\n`);
    expect(report).toMatchObject({ partial: true, error: { kind: "trace", line: 3 }, trace: { lines: 3, allocs: 1 } });
  });

  it("a line of exactly 1 MiB is still read", () => {
    const file = traceFile("long-ok.trace", `goalloc-trace 1\na x 8\n#${"x".repeat(MiB - 1)}\na y 8\n`);
    const { run, report } = replayWithJson(file);
    expect(run.status).toBe(0);
    expect(report.trace.allocs).toBe(2);
  });

  it("a Go log record with a 2 MiB type name", () => {
    // The log's first record (lines 1-11), then a tracealloc line of 2 MiB + 32 bytes.
    const log = readFileSync(path.join(repoRoot, "traces/go1.3.3-p0.log"), "utf8").split("\n").slice(0, 11);
    log.push(`tracealloc(0xc208001000, 0x10, ${"T".repeat(2 * MiB)})`);
    const file = traceFile("long-golog.log", log.join("\n") + "\n");
    const run = goalloc(["replay", file]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`goalloc: ${file}:12: line too long (more than 1048576 bytes)\n`);
  });

  it("64 MiB without a newline, gzipped on standard input: rejected, not kept", () => {
    const huge = Buffer.alloc(64 * MiB, "7");
    const run = goalloc(["replay", "-"], { input: gzipSync(Buffer.concat([Buffer.from("goalloc-trace 1\na x 8\n"), huge])) });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe("goalloc: <stdin>:3: line too long (more than 1048576 bytes)\n");
  });

  it("an input that never ends its line (/dev/zero) is rejected once past the limit, not read forever", async () => {
    const child = spawn(process.execPath, [BIN, "replay", "/dev/zero", "--json", "-"], { cwd: repoRoot, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (data: Buffer) => (stdout += data.toString("utf8")));
    child.stderr.on("data", (data: Buffer) => (stderr += data.toString("utf8")));
    // Before the fix this never exited: the timeout kills it (code null) and the test fails on that.
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const [code] = (await once(child, "close")) as [number | null];
    clearTimeout(timer);
    expect({ code, stderr }).toEqual({ code: 2, stderr: "goalloc: /dev/zero:1: line too long (more than 1048576 bytes)\n" });
    expect(JSON.parse(stdout) as Report).toMatchObject({ partial: true, error: { kind: "trace", line: 1 }, trace: { lines: 1, events: 0 } });
  });
});

describe("millions of collections: memory follows the live set, not the number of collections", () => {
  const numbers = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

  it("2.3 million `gc` lines with --json: exit 0, `gcs` keeps collections 1-1024 and the last 1024", () => {
    // Before, every collection was kept and the JSON built as one string: RangeError, exit 70.
    const file = traceFile("gc-2300k.trace", `goalloc-trace 1\n${"gc\n".repeat(2_300_000)}`);
    const { run, report } = replayWithJson(file);
    expect([run.status, run.stderr]).toEqual([0, ""]);
    expect(report.memstats.NumGC).toBe(2_300_000);
    expect(report.gcs.map((g) => g.NumGC)).toEqual([...numbers(1, 1024), ...numbers(2_300_000 - 1023, 1024)]);
  });

  it("--gctrace writes every collection's line and every scavenger line, in order, beyond those the report keeps", () => {
    // 3,000 idle stretches of 200 s: 6,001 collections (3,000 of them forced by the scavenger) and 10,000 scavenger ticks.
    const lines = ["goalloc-trace 1", "a x 64"];
    for (let i = 1; i <= 3000; i++) lines.push(`t ${i * 200}000000000`, "gc");
    const file = traceFile("idle-3000.trace", lines.join("\n") + "\n");
    const out = path.join(scratch(), "idle-3000.gctrace");
    const { run, report } = replayWithJson(file, ["--gctrace", out]);
    expect(run.status).toBe(0);
    expect(report.memstats.NumGC).toBe(6001);
    expect(report.gcs).toHaveLength(2048);
    const text = readFileSync(out, "utf8").split("\n");
    expect(text.pop()).toBe("");
    const gcs = text.filter((l) => l.startsWith("gc")).map((l) => Number(/^gc(\d+)\(1\): /.exec(l)![1]));
    expect(gcs).toEqual(numbers(1, 6001));
    const ticks = text.filter((l) => l.endsWith("(MB)")).map((l) => Number(/^scvg(\d+): inuse: /.exec(l)![1]));
    expect(ticks).toEqual(numbers(0, 10_000));
    expect(text.filter((l) => l.endsWith(": GC forced"))).toHaveLength(3000);
    // The one release (of less than 1 MB), at the sixth tick.
    expect(text.filter((l) => l.endsWith(" MB released"))).toEqual(["scvg5: 0 MB released"]);
    expect(text).toHaveLength(6001 + 10_000 + 3000 + 1);
    expect(text.at(-1)).toBe("gc6001(1): 0+0+0+0 us, 0 -> 0 MB, 2 (3-1) objects, 4/0/2 sweeps, 0(0) handoff, 0(0) steal, 0/0/0 yields");
  });
});

describe("error messages are one printable line", () => {
  it("control characters from the input are escaped: a trace cannot clear the screen or rewrite the line", () => {
    const file = traceFile("control.trace", "goalloc-trace 1\na x 8\nzap\u001b[2J\rgoalloc: all good\n");
    const run = goalloc(["replay", file]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`goalloc: ${file}:3: unknown record "zap\\x1b[2J\\x0dgoalloc:"\n`);
  });

  it("a long offending line is quoted in part", () => {
    const file = traceFile("long-malformed.log", `tracealloc(0xc208000000, 0x10${"x".repeat(300_000)}\n`);
    const run = goalloc(["replay", file]);
    expect(run.status).toBe(2);
    expect(run.stderr.length).toBeLessThan(600);
    expect(run.stderr).toMatch(new RegExp(`^goalloc: ${escapeRegExp(file)}:1: malformed tracealloc line: tracealloc\\(0xc208000000, 0x10x+\\.\\.\\. \\(\\d+ more characters\\)\n$`));
  });
});

describe("outputs are never half-written", () => {
  it("an unwritable output fails before the replay: one line, exit 2, nothing else written", () => {
    const dir = path.join(scratch(), "outputs-unwritable");
    mkdirSync(dir);
    for (const option of ["--allocfreetrace", "--memprofile", "--html", "--json"]) {
      const target = path.join(dir, "no-such-dir", "out");
      const others = option === "--json" ? [] : ["--json", path.join(dir, "ok.json")];
      const run = goalloc(["replay", "traces/tiny.trace", ...others, option, target]);
      expect(run.status).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toBe(`goalloc: cannot write ${target}: ENOENT: no such file or directory\n`);
      expect(readdirSync(dir)).toEqual([]);
    }
  });


  it("a named pipe is written in place, not replaced by a regular file (nor would /dev/null be)", async () => {
    const fifo = path.join(scratch(), "report.fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const child = spawn(process.execPath, [BIN, "replay", "traces/tiny.trace", "--json", fifo], { cwd: repoRoot, env: cleanEnv(), stdio: "ignore" });
    const exited = once(child, "exit");
    // Opening a FIFO for reading waits for its writer: goalloc must open the FIFO itself.
    const json = await Promise.race([
      readFile(fifo, "utf8"),
      new Promise<string>((_, reject) => setTimeout(() => reject(new Error("goalloc never opened the FIFO")), 20_000)),
    ]);
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect((JSON.parse(json) as Report).memstats.Mallocs).toBeGreaterThan(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it("a symbolic link to a file stays a link: its target is replaced", () => {
    const target = path.join(scratch(), "link-target.json");
    const link = path.join(scratch(), "link.json");
    writeFileSync(target, "old\n");
    symlinkSync(target, link);
    expect(goalloc(["replay", "traces/tiny.trace", "--json", link]).status).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect((JSON.parse(readFileSync(target, "utf8")) as Report).partial).toBe(false);
  });

  it("exit 2 and 3 still write every output in full, and leave no temporary", () => {
    const dir = path.join(scratch(), "outputs-on-error");
    mkdirSync(dir);
    for (const fixture of ["reused-id", "free-class1"]) {
      const files = ["json", "trace", "pprof"].map((ext) => path.join(dir, `${fixture}.${ext}`));
      const run = goalloc(["replay", `test/e2e/fixtures/${fixture}.trace`, "--json", files[0]!, "--allocfreetrace", files[1]!, "--memprofile", files[2]!]);
      expect([2, 3]).toContain(run.status);
      expect((JSON.parse(readFileSync(files[0]!, "utf8")) as Report).partial).toBe(true);
      for (const file of files) expect(statSync(file).size).toBeGreaterThan(0);
    }
    expect(temporaries(dir)).toEqual([]);
  });
});

describe("an output never replaces an input or another output: exit 2 before the replay, the files untouched", () => {
  /** A directory of its own holding a copy of traces/gc.trace; returns the copy's path and its bytes. */
  function gcTrace(name: string): { dir: string; trace: string; bytes: Buffer } {
    const dir = path.join(scratch(), name);
    mkdirSync(dir);
    const trace = path.join(dir, "gc.trace");
    const bytes = readFileSync(path.join(repoRoot, "traces/gc.trace"));
    writeFileSync(trace, bytes);
    return { dir, trace, bytes };
  }

  const refused = (option: string, file: string, what: string): Run => ({
    status: 2,
    stdout: "",
    stderr: `goalloc: ${option} ${file}: that is ${what}; choose another file\n`,
  });

  it("replay --json naming the trace (which a malformed trace's exit 2 would replace too)", () => {
    const { dir, trace, bytes } = gcTrace("clobber-json");
    expect(goalloc(["replay", trace, "--json", trace])).toEqual(refused("--json", trace, "the trace being read"));
    const bad = path.join(dir, "bad.trace");
    writeFileSync(bad, "goalloc-trace 1\nf nosuchobject\n");
    expect(goalloc(["replay", bad, "--html", bad])).toEqual(refused("--html", bad, "the trace being read"));
    expect(readFileSync(trace)).toEqual(bytes);
    expect(readFileSync(bad, "utf8")).toBe("goalloc-trace 1\nf nosuchobject\n");
    expect(readdirSync(dir).sort()).toEqual(["bad.trace", "gc.trace"]);
  });

  it("every replay output, through a symbolic link to the trace or a hard link", () => {
    const { dir, trace, bytes } = gcTrace("clobber-links");
    const symlink = path.join(dir, "symlink.out");
    const hardlink = path.join(dir, "hardlink.out");
    symlinkSync(trace, symlink);
    linkSync(trace, hardlink);
    for (const option of ["--json", "--allocfreetrace", "--memprofile", "--gctrace", "--html"]) {
      expect(goalloc(["replay", trace, option, symlink])).toEqual(refused(option, symlink, "the trace being read"));
      expect(goalloc(["replay", trace, option, hardlink])).toEqual(refused(option, hardlink, "the trace being read"));
    }
    // The trace read through the link is the same file as the trace named directly.
    expect(goalloc(["replay", symlink, "--gctrace", trace])).toEqual(refused("--gctrace", trace, "the trace being read"));
    expect(readFileSync(trace)).toEqual(bytes);
    expect(lstatSync(symlink).isSymbolicLink()).toBe(true);
  });

  it("two outputs naming one file, by the same path or through a link", () => {
    const dir = path.join(scratch(), "clobber-outputs");
    mkdirSync(dir);
    const out = path.join(dir, "same.out");
    expect(goalloc(["replay", "traces/tiny.trace", "--json", out, "--memprofile", out])).toEqual(refused("--memprofile", out, "the file --json writes"));
    expect(existsSync(out)).toBe(false);
    writeFileSync(out, "the previous report\n");
    const link = path.join(dir, "link.out");
    symlinkSync(out, link);
    expect(goalloc(["replay", "traces/tiny.trace", "--allocfreetrace", out, "--gctrace", `${dir}/./link.out`])).toEqual(
      refused("--gctrace", `${dir}/./link.out`, "the file --allocfreetrace writes"),
    );
    expect(readFileSync(out, "utf8")).toBe("the previous report\n");
  });

  it("standard input and output and devices are not files to protect", () => {
    const tiny = readFileSync(path.join(repoRoot, "traces/tiny.trace"));
    expect(goalloc(["replay", "-", "--json", "-"], { input: tiny }).status).toBe(0);
    expect(goalloc(["replay", "traces/tiny.trace", "--json", "/dev/null", "--memprofile", "/dev/null"])).toMatchObject({ status: 0, stderr: "" });
  });

  it("check: --markdown naming the baseline read or written, --update's baseline or --markdown naming the trace", () => {
    const { dir, trace, bytes } = gcTrace("clobber-check");
    const baseline = path.join(dir, "gc.json");
    expect(goalloc(["check", trace, "--baseline", baseline, "--update"]).status).toBe(0);
    const written = readFileSync(baseline, "utf8");
    expect(goalloc(["check", trace, "--baseline", baseline, "--markdown", baseline])).toEqual(refused("--markdown", baseline, "the baseline being read"));
    expect(goalloc(["check", trace, "--baseline", baseline, "--update", "--markdown", baseline])).toEqual(
      refused("--markdown", baseline, "the baseline being written"),
    );
    expect(goalloc(["check", trace, "--baseline", trace, "--update"])).toEqual(refused("--baseline", trace, "the trace being read"));
    expect(goalloc(["check", trace, "--baseline", baseline, "--update", "--markdown", trace])).toEqual(refused("--markdown", trace, "the trace being read"));
    expect(readFileSync(baseline, "utf8")).toBe(written);
    expect(readFileSync(trace)).toEqual(bytes);
    // --update rewriting the baseline it names is its purpose.
    expect(goalloc(["check", trace, "--baseline", baseline, "--update"]).status).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(["gc.json", "gc.trace"]);
  });

  it("compare --json and diff --json naming a trace", () => {
    const { dir, trace, bytes } = gcTrace("clobber-compare");
    expect(goalloc(["compare", trace, "--arch", "amd64", "--json", trace])).toEqual(refused("--json", trace, "the trace being read"));
    const other = path.join(dir, "other.trace");
    writeFileSync(other, bytes);
    expect(goalloc(["diff", trace, other, "--json", other])).toEqual(refused("--json", other, "trace B being read"));
    expect(goalloc(["diff", trace, "--b-gogc", "200", "--json", trace])).toEqual(refused("--json", trace, "the trace being read"));
    expect(readFileSync(trace)).toEqual(bytes);
    expect(readFileSync(other)).toEqual(bytes);
  });
});

// Every command × every signal mid-replay is signals.test.ts's table; here, what is particular
// to Ctrl-C on standard input.
describe("Ctrl-C during a replay of standard input: the partial report, exit 130, no output file written", () => {
  /** Spawn goalloc with pipes (cwd: dir); collects stdout and stderr as they come. */
  function start(args: string[], cwd: string): { child: ChildProcess; out: { stdout: string; stderr: string } } {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(), stdio: ["pipe", "pipe", "pipe"] });
    const out = { stdout: "", stderr: "" };
    child.stdout!.on("data", (data: Buffer) => (out.stdout += data.toString("utf8")));
    child.stderr!.on("data", (data: Buffer) => (out.stderr += data.toString("utf8")));
    return { child, out };
  }

  /** Resolves once test() holds, polling every 10 ms (rejects after 20 s). */
  async function until(test: () => boolean, what: string): Promise<void> {
    for (const deadline = Date.now() + 20_000; !test(); await new Promise((resolve) => setTimeout(resolve, 10))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    }
  }

  /** Size of the allocfreetrace temporary (-1 before it exists): outputs open before the replay starts. */
  function traceTemporarySize(dir: string): number {
    const tmpTrace = readdirSync(dir).find((name) => name.startsWith(".trace.txt."));
    return tmpTrace === undefined ? -1 : statSync(path.join(dir, tmpTrace)).size;
  }

  const records = (from: number, count: number): string => Array.from({ length: count }, (_, i) => `a o${from + i} 64\n`).join("");

  it("standard input: stops at the next chunk after Ctrl-C, prints the report of the lines before", async () => {
    const dir = path.join(scratch(), "sigint-stdin");
    mkdirSync(dir);
    writeFileSync(path.join(dir, "out.json"), "the previous report\n");
    const { child, out } = start(["replay", "-", "--format", "native", "--json", "out.json", "--allocfreetrace", "trace.txt", "--memprofile", "heap.pb"], dir);
    const exited = once(child, "exit");
    // Under PIPE_BUF (4 KiB): one atomic write, so the replay reads it as one chunk.
    child.stdin!.write(`goalloc-trace 1\n${records(0, 300)}`);
    await until(() => traceTemporarySize(dir) >= 0, "the outputs to open");
    // Time to read and replay the first chunk (it would not change the outcome, only the count).
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill("SIGINT");
    await until(() => out.stderr.includes("interrupted"), "the interrupt notice");
    // The replay only looks at the signal between chunks: give it one more.
    child.stdin!.end(records(300, 300));
    const [code, signal] = (await exited) as [number | null, string | null];
    expect({ code, signal }).toEqual({ code: 130, signal: null });
    expect(out.stdout.split("\n")[0]).toBe(`goalloc ${readVersion()} replay of <stdin> (native) on amd64, GOGC=100 [partial]`);
    // What was read before Ctrl-C (all of the first write, unless the machine is very slow), none of the second.
    const counts = /\n(\d+) lines, (\d+) events: (\d+) allocs, /.exec(out.stdout);
    expect(counts).not.toBeNull();
    const lines = Number(counts![1]);
    expect(lines).toBeLessThanOrEqual(301);
    expect(Number(counts![3])).toBe(Math.max(0, lines - 1));
    expect(out.stderr).toBe(`goalloc: interrupted, stopping (Ctrl-C again to quit at once)\ngoalloc: interrupted at <stdin>:${lines}: partial report, no output file written\n`);
    expect(readdirSync(dir)).toEqual(["out.json"]);
    expect(readFileSync(path.join(dir, "out.json"), "utf8")).toBe("the previous report\n");
  });

  it("a second Ctrl-C quits at once with 130, the temporaries removed, the old file kept", async () => {
    const dir = path.join(scratch(), "sigint-twice");
    mkdirSync(dir);
    writeFileSync(path.join(dir, "out.json"), "the previous report\n");
    const { child, out } = start(["replay", "-", "--format", "native", "--json", "out.json", "--allocfreetrace", "trace.txt"], dir);
    const exited = once(child, "exit");
    child.stdin!.write(`goalloc-trace 1\n${records(0, 300)}`);
    await until(() => traceTemporarySize(dir) >= 0, "the outputs to open");
    child.kill("SIGINT");
    await until(() => out.stderr.includes("interrupted"), "the interrupt notice");
    // No more input comes and standard input stays open: the first stop waits for data, the second does not.
    child.kill("SIGINT");
    const [code, signal] = (await exited) as [number | null, string | null];
    expect({ code, signal }).toEqual({ code: 130, signal: null });
    expect(out).toEqual({ stdout: "", stderr: "goalloc: interrupted, stopping (Ctrl-C again to quit at once)\n" });
    expect(readdirSync(dir)).toEqual(["out.json"]);
    expect(readFileSync(path.join(dir, "out.json"), "utf8")).toBe("the previous report\n");
  });
});

describe("a signal after the replay, while the outputs are written: exit 128 + signal, no output file", () => {
  /** Spawn goalloc with pipes (cwd: dir); collects stdout and stderr as they come. */
  function start(args: string[], cwd: string): { child: ChildProcess; out: { stdout: string; stderr: string } } {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
    const out = { stdout: "", stderr: "" };
    child.stdout!.on("data", (data: Buffer) => (out.stdout += data.toString("utf8")));
    child.stderr!.on("data", (data: Buffer) => (out.stderr += data.toString("utf8")));
    return { child, out };
  }

  /**
   * Read one byte of the output goalloc writes into `fifo` (so the replay is over and that
   * output is being written), send `signal`, then read the rest: goalloc's write of more than
   * the pipe holds cannot return before the signal was sent. Returns the bytes read.
   */
  async function signalWhileWriting(child: ChildProcess, fifo: string, signal: NodeJS.Signals): Promise<number> {
    const reader = await open(fifo, "r");
    try {
      const first = await reader.read(Buffer.alloc(1), 0, 1);
      expect(first.bytesRead).toBe(1);
      child.kill(signal);
      let total = 1;
      const buffer = Buffer.alloc(1 << 16);
      for (let n = (await reader.read(buffer, 0, buffer.length)).bytesRead; n > 0; n = (await reader.read(buffer, 0, buffer.length)).bytesRead) total += n;
      return total;
    } finally {
      await reader.close();
    }
  }

  // 5,000 collections: a JSON report of 800 KB and an HTML page of 400 KB, both more than a pipe holds (64 KiB).
  const gcTrace = (): string => traceFile("gc5000.trace", `goalloc-trace 1\n${"gc\n".repeat(5000)}`);

  it("Ctrl-C while the JSON report is written: 130, the other outputs not written", async () => {
    const dir = path.join(scratch(), "sigint-json");
    mkdirSync(dir);
    const fifo = path.join(dir, "report.fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const trace = gcTrace();
    const { child, out } = start(["replay", trace, "--json", "report.fifo", "--allocfreetrace", "trace.txt", "--gctrace", "gc.txt", "--memprofile", "heap.pb"], dir);
    const exited = once(child, "exit");
    expect(await signalWhileWriting(child, fifo, "SIGINT")).toBeGreaterThan(1 << 16);
    const [code, signal] = (await exited) as [number | null, string | null];
    expect({ code, signal }).toEqual({ code: 130, signal: null });
    // The replay was whole: its report was printed, not marked partial.
    expect(out.stdout.split("\n")[0]).toBe(`goalloc ${readVersion()} replay of ${trace} (native) on amd64, GOGC=100`);
    expect(out.stderr).toBe(`goalloc: interrupted, stopping (Ctrl-C again to quit at once)\ngoalloc: interrupted at ${trace}:5001: no output file written\n`);
    expect(readdirSync(dir)).toEqual(["report.fifo"]);
  });

  it("SIGTERM while the HTML page is written, after the JSON file: 143, the JSON file not replaced", async () => {
    const dir = path.join(scratch(), "sigterm-html");
    mkdirSync(dir);
    writeFileSync(path.join(dir, "out.json"), "the previous report\n");
    const fifo = path.join(dir, "page.fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const trace = gcTrace();
    const { child, out } = start(["replay", trace, "--json", "out.json", "--html", "page.fifo", "--memprofile", "heap.pb"], dir);
    const exited = once(child, "exit");
    expect(await signalWhileWriting(child, fifo, "SIGTERM")).toBeGreaterThan(1 << 16);
    const [code, signal] = (await exited) as [number | null, string | null];
    expect({ code, signal }).toEqual({ code: 143, signal: null });
    expect(out.stderr).toBe(`goalloc: SIGTERM received, stopping\ngoalloc: interrupted at ${trace}:5001: no output file written\n`);
    expect(readdirSync(dir).sort()).toEqual(["out.json", "page.fifo"]);
    expect(readFileSync(path.join(dir, "out.json"), "utf8")).toBe("the previous report\n");
  });
});

describe("--check-invariants: the heap invariants hold after every event", () => {
  /** gc Go 1.3.3's logs: the runtime goalloc emulates, one directory per arch. */
  const ORACLE_ARCHES = [
    ["go1.3.3-amd64", "amd64"],
    ["go1.3.3-386", "386"],
  ] as const;

  /** Run goalloc once per argument list, two at a time (one per core): exit codes and stderr. */
  async function runAll(argLists: string[][]): Promise<Array<{ args: string[]; status: number | null; stderr: string }>> {
    const results: Array<{ args: string[]; status: number | null; stderr: string }> = [];
    const queue = [...argLists];
    const lane = async (): Promise<void> => {
      for (let args = queue.shift(); args !== undefined; args = queue.shift()) {
        const child = spawn(process.execPath, [BIN, ...args], { cwd: repoRoot, env: cleanEnv(), stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (data: Buffer) => (stderr += data.toString("utf8")));
        const [status] = (await once(child, "close")) as [number | null];
        results.push({ args, status, stderr });
      }
    };
    await Promise.all([lane(), lane()]);
    return results;
  }

  it("every shipped trace (the Go log with --gc log too)", async () => {
    const names = readdirSync(path.join(repoRoot, "traces")).filter((name) => name.endsWith(".trace") || name.endsWith(".log"));
    const argLists = names.map((name) => ["replay", `traces/${name}`, "--check-invariants"]);
    for (const name of names.filter((n) => n.endsWith(".log"))) argLists.push(["replay", `traces/${name}`, "--gc", "log", "--check-invariants"]);
    for (const result of await runAll(argLists)) expect(result, result.args.join(" ")).toMatchObject({ status: 0, stderr: "" });
  });

  it("every go1.3.3 oracle log, whole, with --gc log", needsOracle(), async () => {
    const argLists: string[][] = [];
    for (const [dir, arch] of ORACLE_ARCHES) {
      for (const name of readdirSync(path.join(oracleDir, dir)).filter((n) => n.endsWith(".allocfreetrace.txt.xz"))) {
        const log = path.join(scratch(), `${dir}-${name.slice(0, -".xz".length)}`);
        writeFileSync(log, execFileSync("xz", ["-dc", path.join(oracleDir, dir, name)], { maxBuffer: 1 << 28 }));
        argLists.push(["replay", log, "--arch", arch, "--gc", "log", "--check-invariants"]);
      }
    }
    expect(argLists.length).toBeGreaterThan(0);
    for (const result of await runAll(argLists)) expect(result, result.args.join(" ")).toMatchObject({ status: 0, stderr: "" });
  });
});

function readVersion(): string {
  return (JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string }).version;
}

describe("32-bit address space", () => {
  // The emulated kernel has no room for a 4 GiB mapping: the fallback fails without a bogus
  // "not in usable range" address, and the runtime reports the block it could not get.
  it("386: a 4 GiB - 1 request prints no negative address", () => {
    const file = traceFile("oom-386-negative.trace", "goalloc-trace 1\na big 4294967295\n");
    const run = goalloc(["replay", file, "--arch", "386"]);
    expect(run.status).toBe(3);
    expect(run.stderr).not.toContain("0x-");
    expect(run.stderr).toContain("runtime: out of memory: cannot allocate 4294967296-byte block");
    expect(run.stderr).toContain("fatal error: out of memory");
  });
});
