// The human report's new sections, to the character, without colour: the heap chart and the
// fragmentation table of traces/large.trace (whose figures test/e2e/cli.test.ts derives),
// once from the renderer and once from the real command on a terminal with NO_COLOR set.
// Also the --help list of definitions.

import { describe, expect, it } from "vitest";
import { Chalk } from "chalk";
import { replay } from "../../src/index.js";
import { FRAGMENTATION_DEFINITIONS } from "../../src/report/report.js";
import { fragmentationSection, peaksSection, renderDefinitions, renderReport, timelineSection } from "../../src/report/table.js";
import { ensureBuilt, goalloc, goallocOnTerminal, scriptPath } from "../e2e/goalloc.js";

const CHART = [
  "events 1–10, 10 columns of 1 event; each column is the maximum over its events",
  "HeapSys     ▃▃▃▃▃▃▃███  3.9 MiB",
  "HeapInuse   ▁▁▁▁▁▁▁▇▁▅  3.0 MiB",
  "HeapAlloc   ▁▁▁▁▁▁▁▇▁▅  3.0 MiB",
  "HeapObjects ▃▄▆▆▄▆▇█▇█  6 objects",
  "GC          |·|·|··|··  4 collections",
];

const FRAGMENTATION = `┌─────────────────────────────────┬──────────────────────────────────────────────────────────────┐
│ measure                         │ value                                                        │
├─────────────────────────────────┼──────────────────────────────────────────────────────────────┤
│ internal: live requested        │ 2.0 MiB                                                      │
│ internal: live rounded          │ 2.0 MiB                                                      │
│ internal: size-class rounding   │ 0 B                                                          │
│ internal: large-object pages    │ 8.8 KiB                                                      │
│ internal: tiny-block slack      │ 0 B                                                          │
│ span: HeapInuse − HeapAlloc     │ 6.9 KiB (free slots 6.8 KiB, span tails 128 B)               │
│ span: partly filled small spans │ 1 of 3                                                       │
│ external: free spans × pages    │ 1×1, 1×234                                                   │
│ external: largest free run      │ 234 pages (0.4% of free pages outside it)                    │
│ external: idle / released       │ 1.8 MiB / 0 B                                                │
│ external: arena holes           │ 0 pages                                                      │
│ Johnstone–Wilson #1–#4          │ 2.6%  0.5%  0.5%  0.5% (HeapInuse over live requested bytes) │
└─────────────────────────────────┴──────────────────────────────────────────────────────────────┘
definitions: goalloc replay --help, or fragmentation.definitions in --json`;

const SECTIONS = ["Heap over time", ...CHART, "", "Fragmentation", FRAGMENTATION, ""].join("\n");

const plain = new Chalk({ level: 0 });

describe("the human report without colour", () => {
  it("heap chart and fragmentation table of large.trace", async () => {
    const { report } = await replay("traces/large.trace");
    expect(timelineSection(report)).toEqual(CHART);
    expect(fragmentationSection(report, plain).join("\n")).toBe(FRAGMENTATION);
    expect(renderReport(report, { color: false })).toContain(SECTIONS);
  });

  it("peaks: the live sites at the heap peak follow the table", async () => {
    const { report } = await replay("traces/large.trace");
    const text = peaksSection(report, plain).join("\n");
    expect(text).toContain("│ HeapAlloc   │ 3.0 MiB │ 8     │ 12   │ 3.0 MiB in 5 objects         │");
    expect(text).toContain("Live at the HeapAlloc and HeapInuse peaks (event 8, line 12), by allocation site:");
    expect(text).toContain("│ 3.0 MiB    │ 5       │ (no stack in the trace) │");
  });

  const script = scriptPath();
  it.skipIf(script === null)("is what the command prints on a terminal with NO_COLOR set", () => {
    ensureBuilt();
    const run = goallocOnTerminal(script!, ["replay", "traces/large.trace"], { NO_COLOR: "1" });
    expect(run.status).toBe(0);
    expect(run.stdout.replace(/\r\n/g, "\n")).toContain(SECTIONS);
    expect(run.stdout).not.toContain("\u001b[");
  });
});

describe("replay --help", () => {
  it("lists every fragmentation measure with its definition", () => {
    ensureBuilt();
    const run = goalloc(["replay", "--help"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Fragmentation measures (report, --html, and fragmentation.definitions in --json):\n${renderDefinitions(FRAGMENTATION_DEFINITIONS)}\n`);
    expect(run.stdout).toContain("--timeline-interval <events>");
    expect(run.stdout).toContain("--html <file>");
  });
});
