// Who decides when a replay collects (resolveSchedule): a go1.3 log's own collections when the
// options are the run's, the emulated pacer when an option changes the schedule.

import { describe, expect, it } from "vitest";
import { defaultReplayOptions, resolveSchedule, type ReplayOptions } from "../../../src/replay/options.js";
import type { LogProfile } from "../../../src/trace/golog-profile.js";
import { TraceError } from "../../../src/trace/record.js";

const amd64Log: LogProfile = { generation: "go1.3", ptrSize: 8, layout: "amd64", firstAddress: "0xc208010000" };
const log386: LogProfile = { generation: "go1.3", ptrSize: 4, layout: "386", firstAddress: "0x18310000" };
const modern: LogProfile = { generation: "modern", ptrSize: 8, layout: "amd64", firstAddress: "0xc000014008" };

function resolve(options: Partial<ReplayOptions>, profile: LogProfile | null, format: "golog" | "native" = "golog") {
  return resolveSchedule({ ...defaultReplayOptions, ...options }, format, profile, "p.log");
}

describe("resolveSchedule", () => {
  it("follows a go1.3 log's collections on its own layout when nothing changes the schedule", () => {
    const { options, schedule } = resolve({}, log386);
    expect(options.arch).toBe("386");
    expect(options.gc).toBe("log");
    expect(schedule).toStrictEqual({ gc: "log", why: "a go1.3 log replayed with the options it ran with", archFromLog: true, addressesComparable: true, notComparableWhy: null });
    // Another 32-bit layout places the arena the same way (after the image).
    expect(resolve({ arch: "arm" }, log386).schedule.gc).toBe("log");
  });

  it("leaves the schedule to the pacer when an option changes it, naming each", () => {
    expect(resolve({ gogc: 200 }, amd64Log).schedule.why).toBe("GOGC=200 is not the default the log is assumed to have run with");
    expect(resolve({ gogc: -1, efence: true }, amd64Log).schedule.why).toBe(
      "GOGC=off is not the default the log is assumed to have run with; --efence gives every object its own pages",
    );
    const other = resolve({ arch: "arm64" }, amd64Log);
    expect(other.options).toMatchObject({ arch: "arm64", gc: "pacer" });
    expect(other.schedule).toMatchObject({ why: "--arch arm64 is not the log's amd64", addressesComparable: false, archFromLog: false });
    expect(other.schedule.notComparableWhy).toBe("the log comes from a 64-bit (amd64) run, first address 0xc208010000; --arch arm64 lays the arena out elsewhere");
  });

  it("replays a Go 1.4+ log with the pacer, its addresses not comparable", () => {
    const { options, schedule } = resolve({}, modern);
    expect(options.gc).toBe("pacer");
    expect(schedule.why).toBe("this is a Go 1.4+ log, whose collector is not this runtime's");
    expect(schedule.notComparableWhy).toBe("a Go 1.4+ log (its allocator lays out the heap differently): addresses are comparable only for go1.3 logs");
  });

  it("honours an explicit --gc, and refuses --gc log where the log's addresses cannot be", () => {
    expect(resolve({ gc: "pacer" }, amd64Log).schedule).toMatchObject({ gc: "pacer", why: "as --gc pacer asks", addressesComparable: true });
    expect(resolve({ gc: "log", gogc: 50 }, amd64Log).schedule).toMatchObject({ gc: "log", why: "as --gc log asks" });
    expect(() => resolve({ gc: "log", arch: "386" }, amd64Log)).toThrow(TraceError);
    expect(() => resolve({ gc: "log", arch: "386" }, amd64Log)).toThrow(
      "p.log: --gc log cannot follow this log under --arch 386: the log comes from a 64-bit (amd64) run, first address 0xc208010000; --arch 386 lays the arena out elsewhere; drop --gc log (the pacer decides) or use --arch amd64",
    );
  });

  it("gives a native trace amd64 and the pacer", () => {
    const { options, schedule } = resolve({}, null, "native");
    expect(options).toMatchObject({ arch: "amd64", gc: "pacer" });
    expect(schedule.archFromLog).toBe(false);
  });
});
