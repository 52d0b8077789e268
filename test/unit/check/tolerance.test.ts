// The --tolerance grammar of `goalloc check` (src/check/tolerance.ts): parsing, defaults,
// precedence, and the pass/fail decision at and around each limit.

import { describe, expect, it } from "vitest";
import { fieldDef, FIELD_NAMES, type FieldDef } from "../../../src/check/fields.js";
import { defaultLimit, formatLimit, limitFor, parseTolerance, ToleranceError, withinLimit, type Limit } from "../../../src/check/tolerance.js";

function field(name: string): FieldDef {
  const f = fieldDef(name);
  if (f === undefined) throw new Error(`no field ${name}`);
  return f;
}

function limitOf(spec: string, name: string): Limit {
  return limitFor(field(name), parseTolerance(spec));
}

function errorOf(spec: string): string {
  try {
    parseTolerance(spec);
    return "";
  } catch (e) {
    expect(e).toBeInstanceOf(ToleranceError);
    return (e as Error).message;
  }
}

describe("defaults", () => {
  it("are exact for counts, ±1% for bytes and ±0.01 for ratios", () => {
    expect(formatLimit(limitOf("", "NumGC"))).toBe("exact");
    expect(formatLimit(limitOf("", "Mallocs"))).toBe("exact");
    expect(formatLimit(limitOf("", "HeapSys"))).toBe("±1%");
    expect(formatLimit(limitOf("", "frag.jw1"))).toBe("±0.01");
    expect(limitOf("", "peak.HeapObjects")).toEqual(defaultLimit("count"));
  });

  it("let a byte field move 1% of its baseline either way, and no further", () => {
    const l = limitOf("", "HeapSys");
    expect(withinLimit(l, 1_000_000, 1_010_000)).toBe(true);
    expect(withinLimit(l, 1_000_000, 1_010_001)).toBe(false);
    expect(withinLimit(l, 1_000_000, 990_000)).toBe(true);
    expect(withinLimit(l, 1_000_000, 989_999)).toBe(false);
  });

  it("fail a count on any change", () => {
    const l = limitOf("", "NumGC");
    expect(withinLimit(l, 4, 4)).toBe(true);
    expect(withinLimit(l, 4, 5)).toBe(false);
    expect(withinLimit(l, 4, 3)).toBe(false);
  });
});

describe("the grammar", () => {
  it("reads a relative limit with + as increases only", () => {
    const l = limitOf("HeapSys=+5%", "HeapSys");
    expect(formatLimit(l)).toBe("+5%");
    expect(withinLimit(l, 200, 210)).toBe(true);
    expect(withinLimit(l, 200, 211)).toBe(false);
    // A decrease never fails a "+" limit, however large.
    expect(withinLimit(l, 200, 0)).toBe(true);
  });

  it("reads - as decreases only", () => {
    const l = limitOf("fidelity.matchRate=-0.001", "fidelity.matchRate");
    expect(formatLimit(l)).toBe("-0.001");
    expect(withinLimit(l, 1, 0.999)).toBe(true);
    expect(withinLimit(l, 1, 0.998)).toBe(false);
    expect(withinLimit(l, 0.5, 1)).toBe(true);
  });

  it("reads byte units as powers of 1024 (KiB...) or 1000 (kB...), case-insensitively", () => {
    const mib = limitOf("Sys=1MiB", "Sys");
    expect(withinLimit(mib, 10_000_000, 10_000_000 + 1_048_576)).toBe(true);
    expect(withinLimit(mib, 10_000_000, 10_000_000 + 1_048_577)).toBe(false);
    expect(withinLimit(mib, 10_000_000, 10_000_000 - 1_048_577)).toBe(false);
    expect(formatLimit(mib)).toBe("±1MiB");
    const kb = limitOf("Sys=+2kb", "Sys");
    expect(withinLimit(kb, 0, 2000)).toBe(true);
    expect(withinLimit(kb, 0, 2001)).toBe(false);
    expect(withinLimit(limitOf("HeapSys=1.5KiB", "HeapSys"), 0, 1536)).toBe(true);
    expect(withinLimit(limitOf("HeapSys=1.5KiB", "HeapSys"), 0, 1537)).toBe(false);
  });

  it("allows a plain number on counts, in the field's own unit", () => {
    const l = limitOf("NumGC=+1", "NumGC");
    expect(withinLimit(l, 4, 5)).toBe(true);
    expect(withinLimit(l, 4, 6)).toBe(false);
  });

  it("makes a relative limit on a zero baseline exact", () => {
    const l = limitOf("HeapReleased=50%", "HeapReleased");
    expect(withinLimit(l, 0, 0)).toBe(true);
    expect(withinLimit(l, 0, 8192)).toBe(false);
  });

  it("turns a field off with off", () => {
    const l = limitOf("frag.jw2=off", "frag.jw2");
    expect(l).toEqual({ off: true });
    expect(formatLimit(l)).toBe("off");
    expect(withinLimit(l, 0.5, 100)).toBe(true);
  });

  it("matches * patterns, and the last matching rule wins", () => {
    const spec = "*=0, peak.*=+2%, peak.Sys=off";
    expect(formatLimit(limitOf(spec, "HeapSys"))).toBe("exact");
    expect(formatLimit(limitOf(spec, "peak.HeapSys"))).toBe("+2%");
    expect(formatLimit(limitOf(spec, "peak.Sys"))).toBe("off");
    // Order matters: a later general rule overrides an earlier specific one.
    expect(formatLimit(limitOf("HeapSys=+5%,Heap*=0", "HeapSys"))).toBe("exact");
  });

  it("adds up several specs (repeated --tolerance options) in order", () => {
    const t = parseTolerance(["HeapSys=+5%", "NumGC=1", "HeapSys=2%"]);
    expect(formatLimit(limitFor(field("HeapSys"), t))).toBe("±2%");
    expect(formatLimit(limitFor(field("NumGC"), t))).toBe("±1");
  });

  it("rejects what it cannot read, naming the rule", () => {
    expect(errorOf("HeapSys")).toBe('bad tolerance "HeapSys": expected FIELD=LIMIT, e.g. HeapSys=+5%, NumGC=0, Sys=1MiB or peak.*=off');
    expect(errorOf("HeapSys=five")).toMatch(/^bad tolerance "HeapSys=five"/);
    expect(errorOf("HeapSys=+-5%")).toMatch(/^bad tolerance/);
    expect(errorOf("HeapSys=5parsecs")).toBe('tolerance "HeapSys=5parsecs": unknown unit parsecs (B, KiB, MiB, GiB, TiB, kB, MB, GB, TB or %)');
  });

  it("rejects a pattern that names no field, listing the fields", () => {
    const msg = errorOf("HeapSy=5%");
    expect(msg.startsWith('tolerance "HeapSy=5%": no field is called HeapSy (fields: TotalAlloc, Sys, ')).toBe(true);
    expect(msg).toContain(FIELD_NAMES.join(", "));
  });

  it("rejects byte units on fields that are not byte counts", () => {
    expect(errorOf("NumGC=1MiB")).toBe('tolerance "NumGC=1MiB": NumGC is not a byte count; give a plain number or a %');
    expect(errorOf("peak.*=1MiB")).toBe('tolerance "peak.*=1MiB": peak.HeapObjects is not a byte count; give a plain number or a %');
  });
});
