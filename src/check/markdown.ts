// Markdown summaries of `goalloc check` for CI step summaries (GitHub's GITHUB_STEP_SUMMARY).
//
// The failed fields come first in the table, then those that moved within tolerance; the
// unchanged ones fold into a <details> block, so a long field list does not bury the news. A
// failed field says which way it moved (a regression, improved, or changed where neither way
// is better); a failed check ends with the command that accepts the change.

import type { Baseline, CheckVerdict, FieldResult } from "./baseline.js";
import { fieldDef } from "./fields.js";
import { formatDelta, formatPercent, formatValue, movement } from "./render.js";
import { relativeChange } from "./compare.js";
import { formatLimit } from "./tolerance.js";

export interface CheckSummaryContext {
  trace: string;
  baselineFile: string;
  arch: string;
  gogc: number | "off";
  /** The command that makes the baseline from this run (--update), shown when the check fails. */
  update: string;
}

/** Escape text for a table cell or a heading: pipes split cells, backticks open code. */
function md(text: string): string {
  return text.replace(/[\\|`*_[\]<>]/g, "\\$&");
}

function deltaCell(r: FieldResult): string {
  if (r.now === null) return "n/a";
  if (r.now === r.baseline) return "";
  const delta = formatDelta(r.kind, r.now - r.baseline);
  if (r.kind === "ratio") return delta;
  const rel = relativeChange(r.baseline, r.now);
  return `${delta} (${rel === null ? "from 0" : formatPercent(rel)})`;
}

function row(r: FieldResult): string {
  const delta = deltaCell(r);
  const status = r.ok ? (r.baseline !== r.now ? "within tolerance" : "") : `**${movement(r)}**`;
  return `| ${r.ok ? "" : "❌ "}${md(r.field)} | ${formatValue(r.kind, r.baseline)} | ${formatValue(r.kind, r.now)} | ${delta} | ${formatLimit(r.limit)} | ${status} |`;
}

const HEAD = ["| field | baseline | now | delta | limit | |", "| --- | ---: | ---: | ---: | --- | --- |"];

export function checkMarkdown(verdict: CheckVerdict, ctx: CheckSummaryContext): string {
  const out: string[] = [];
  const verdictText = verdict.ok ? "✅ passed" : `❌ ${verdict.failures.length} field${verdict.failures.length === 1 ? "" : "s"} past tolerance`;
  out.push(`### goalloc check: ${md(ctx.trace)} ${verdictText}`);
  out.push("");
  out.push(`${ctx.arch}, GOGC=${ctx.gogc}; baseline \`${ctx.baselineFile.replace(/`/g, "'")}\`` + (verdict.traceChanged ? "; the trace changed since the baseline was made" : ""));
  out.push("");
  const moved = verdict.fields.filter((r) => !r.ok || r.baseline !== r.now);
  const unchanged = verdict.fields.filter((r) => r.ok && r.baseline === r.now);
  // Failures first, then the fields that moved within their limits.
  const ordered = [...moved.filter((r) => !r.ok), ...moved.filter((r) => r.ok)];
  if (ordered.length > 0) out.push(...HEAD, ...ordered.map(row), "");
  if (unchanged.length > 0) {
    out.push(`<details><summary>${unchanged.length} field${unchanged.length === 1 ? "" : "s"} unchanged</summary>`, "");
    out.push(...HEAD, ...unchanged.map(row), "", "</details>", "");
  }
  if (!verdict.ok) out.push("To accept the change, update the baseline and commit it:", "", ...codeBlock(ctx.update), "");
  return out.join("\n") + "\n";
}

/** A fenced code block of one shell line: the fence longer than any run of backticks in it. */
function codeBlock(line: string): string[] {
  const fence = "`".repeat(Math.max(3, ...Array.from(line.matchAll(/`+/g), (m) => m[0].length + 1)));
  return [`${fence}sh`, line, fence];
}

export function baselineUpdatedMarkdown(baseline: Baseline, ctx: CheckSummaryContext): string {
  const out = [`### goalloc check: ${md(ctx.trace)} baseline written`, "", `${ctx.arch}, GOGC=${ctx.gogc}; baseline \`${ctx.baselineFile.replace(/`/g, "'")}\``, ""];
  out.push("| field | value |", "| --- | ---: |");
  for (const [name, value] of Object.entries(baseline.values)) out.push(`| ${md(name)} | ${formatValue(fieldDef(name)?.kind ?? "bytes", value)} |`);
  return out.join("\n") + "\n";
}
