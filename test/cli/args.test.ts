// The replay options of the command line: number parsing, --gogc, flags → library options,
// and the replay command's argv → library call, with the library mocked.

import { Command, CommanderError, InvalidArgumentError } from "commander";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { replay, type ReplayResult } from "../../src/index.js";
import { ReplayFailed } from "../../src/cli/errors.js";
import { replayCommand } from "../../src/cli/commands/replay.js";
import { addReplayOptions, parseInteger, toReplayOptions, type ReplayFlags } from "../../src/cli/replay-options.js";

// Only replay is replaced: the command also uses the library's other exports.
vi.mock(import("../../src/index.js"), async (importOriginal) => ({ ...(await importOriginal()), replay: vi.fn() }));

/** The message parseInteger rejects `value` with, or "" when it accepts it. */
function rejection(value: string): string {
  try {
    parseInteger(value);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return (error as Error).message;
  }
  return "";
}

/** The replay options parsed from argv (without the trace argument). */
function parseFlags(argv: string[]): ReplayFlags {
  const cmd = addReplayOptions(new Command("test"))
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  cmd.parse(argv, { from: "user" });
  return cmd.opts<ReplayFlags>();
}

describe("parseInteger", () => {
  it("reads decimal", () => {
    expect(parseInteger("0")).toBe(0);
    expect(parseInteger("524288")).toBe(524288);
    expect(parseInteger("007")).toBe(7);
    expect(parseInteger(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("reads 0x hex, in either case", () => {
    expect(parseInteger("0x0")).toBe(0);
    expect(parseInteger("0x0812f3a4")).toBe(0x0812f3a4);
    expect(parseInteger("0xFF")).toBe(255);
    expect(parseInteger("0X10")).toBe(16);
  });

  it("rejects negatives, fractions, words, empty strings and numbers past 2^53", () => {
    for (const value of ["-1", "1.5", "abc", "", "0x", "1e3", " 1", "+1", "0x1g", "2^60", String(2 ** 60), "0x1000000000000000"]) {
      expect(rejection(value)).toBe(`expected a non-negative integer (decimal or 0x hex), got "${value}"`);
    }
  });
});

describe("the shared replay options", () => {
  it("have the documented defaults; --gogc and --arch have none (GOGC and the input decide later)", () => {
    expect(parseFlags([])).toEqual({ memprofilerate: 524288, format: "auto", gc: "auto", bgsweep: "clock", prologue: "auto" });
  });

  it('--gogc: "off" is -1, a leading minus gives 0 (the runtime\'s atoi), digits are the percentage', () => {
    expect(parseFlags(["--gogc", "off"]).gogc).toBe(-1);
    expect(parseFlags(["--gogc", "-5"]).gogc).toBe(0);
    expect(parseFlags(["--gogc", "50"]).gogc).toBe(50);
    expect(parseFlags(["--gogc=0"]).gogc).toBe(0);
  });

  it("--gogc rejects what is neither a number nor off", () => {
    for (const value of ["OFF", "1.5", "lots", ""]) {
      expect(() => parseFlags(["--gogc", value])).toThrow(CommanderError);
    }
  });

  it("numbers may be hex; --arch, --format and --gc accept only their choices", () => {
    expect(parseFlags(["--memprofilerate", "0x80000", "--seed", "0x49f6428a", "--data-end", "0x0812f3a4"])).toMatchObject({
      memprofilerate: 524288,
      seed: 0x49f6428a,
      dataEnd: 0x0812f3a4,
    });
    for (const argv of [["--arch", "sparc"], ["--format", "json"], ["--gc", "never"]]) {
      expect(() => parseFlags(argv)).toThrow(expect.objectContaining({ code: "commander.invalidArgument" }));
    }
  });
});

describe("toReplayOptions", () => {
  const defaults: ReplayFlags = { memprofilerate: 524288, format: "auto", gc: "auto" };

  it("maps the default flags, leaving gogc and seed to the library, arch and gc to the input", () => {
    expect(toReplayOptions(defaults, {})).toStrictEqual({
      arch: "auto",
      dataEnd: null,
      memprofilerate: 524288,
      efence: false,
      format: "auto",
      gc: "auto",
      bgsweep: "clock",
      until: null,
      prologue: "auto",
      argc: null,
      envc: null,
      checkInvariants: false,
    });
  });

  it("maps every flag", () => {
    const flags: ReplayFlags = {
      arch: "386",
      dataEnd: 0x08200000,
      gogc: 50,
      memprofilerate: 1,
      seed: 7,
      efence: true,
      format: "golog",
      gc: "log",
      bgsweep: "off",
      until: "MEMSTATS_SNAPSHOT",
      prologue: "go1.3",
      argc: 5,
      envc: 2,
      checkInvariants: true,
    };
    expect(toReplayOptions(flags, {})).toStrictEqual({
      arch: "386",
      dataEnd: 0x08200000,
      gogc: 50,
      memprofilerate: 1,
      seed: 7,
      efence: true,
      format: "golog",
      gc: "log",
      bgsweep: "off",
      until: "MEMSTATS_SNAPSHOT",
      prologue: "go1.3",
      argc: 5,
      envc: 2,
      checkInvariants: true,
    });
  });

  it("takes GOGC from the environment when --gogc is absent, parsed as the runtime does", () => {
    expect(toReplayOptions(defaults, { GOGC: "50" }).gogc).toBe(50);
    expect(toReplayOptions(defaults, { GOGC: "off" }).gogc).toBe(-1);
    expect(toReplayOptions(defaults, { GOGC: "-5" }).gogc).toBe(0);
    expect(toReplayOptions(defaults, { GOGC: "" }).gogc).toBe(100);
  });

  it("prefers --gogc to GOGC", () => {
    expect(toReplayOptions({ ...defaults, gogc: 30 }, { GOGC: "off" }).gogc).toBe(30);
    expect(toReplayOptions({ ...defaults, gogc: -1 }, { GOGC: "200" }).gogc).toBe(-1);
  });
});

describe("the replay command (library mocked)", () => {
  let stdout: MockInstance<typeof process.stdout.write>;
  let stderr: MockInstance<typeof process.stderr.write>;

  beforeEach(() => {
    stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  });

  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  /** Run `replay ARGV` with the library returning a report that carries `error`. */
  async function run(argv: string[], error: unknown = null): Promise<unknown> {
    // The command reads only `error` and the trace file name; the rest is serialised as is.
    const result = { report: { error, trace: { file: "t.trace" } }, outcome: {} } as unknown as ReplayResult;
    vi.mocked(replay).mockResolvedValue(result);
    try {
      await replayCommand().exitOverride().parseAsync(argv, { from: "user" });
      return null;
    } catch (thrown) {
      return thrown;
    }
  }

  it("passes the trace and the parsed options to the library", async () => {
    vi.stubEnv("GOGC", "25");
    expect(await run(["t.trace", "--arch", "arm64", "--seed", "0x10", "--until", "X", "--json"])).toBeNull();
    expect(replay).toHaveBeenCalledTimes(1);
    expect(vi.mocked(replay).mock.calls[0]?.slice(0, 2)).toStrictEqual(["t.trace", {
      arch: "arm64",
      dataEnd: null,
      gogc: 25,
      memprofilerate: 524288,
      seed: 16,
      efence: false,
      format: "auto",
      gc: "auto",
      bgsweep: "clock",
      until: "X",
      prologue: "auto",
      argc: null,
      envc: null,
      checkInvariants: false,
    }]);
    expect(JSON.parse(String(stdout.mock.calls[0]?.[0]))).toEqual({ error: null, trace: { file: "t.trace" } });
  });

  // The command prints its report and hands the failure to main.ts, which says why and maps it.
  it("a trace error: its message for stderr, exit status 2", async () => {
    const thrown = await run(["t.trace", "--json"], { kind: "trace", line: 3, message: "t.trace:3: object x is already live" });
    expect(thrown).toBeInstanceOf(ReplayFailed);
    expect((thrown as ReplayFailed).explain()).toEqual({ text: "goalloc: t.trace:3: object x is already live\n", code: 2 });
    expect(stderr).not.toHaveBeenCalled();
  });

  it("a runtime throw: the runtime's text and the trace line for stderr, exit status 3", async () => {
    const thrown = await run(["t.trace", "--json"], { kind: "runtime", line: 5, message: "fatal error: freeing too small block" });
    expect(thrown).toBeInstanceOf(ReplayFailed);
    expect((thrown as ReplayFailed).explain()).toEqual({ text: "fatal error: freeing too small block\ngoalloc: the emulated runtime threw at t.trace:5\n", code: 3 });
    expect(stderr).not.toHaveBeenCalled();
  });
});
