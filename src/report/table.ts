// The human report: plain-text tables (cli-table3), colour only when the caller allows it.
// Sections that tests pin down to the character (peaks, the heap chart, fragmentation) are
// separate functions returning their lines.

import Table from "cli-table3";
import { Chalk, type ChalkInstance } from "chalk";
import type { SizeClassRow } from "../runtime/index.js";
import { PEAK_NAMES, type PeakName } from "../replay/replay.js";
import { timelineChart, type ChartRow } from "./chart.js";
import { printable } from "../trace/record.js";
import { generationName } from "../trace/golog-profile.js";
import type { ProfileFigures, Report } from "./report.js";
import { DEFAULT_SITE_DEPTH, groupBySite, siteFrames, siteLabel } from "./sites.js";

export interface TextOptions {
  color: boolean;
  /** Rows of each allocation-site table (default: 5 per peak, 10 for the profile). */
  topSites?: number;
  /**
   * Frames shown per site of the profile, past the allocator's (sites.ts; default 3). The peak
   * tables show their sites as the report grouped them (ReportOptions.siteDepth).
   */
  siteDepth?: number;
}

/** Rows of a peak's site table unless told. */
const PEAK_ROWS = 5;
/** Rows of the profile's site table unless told. */
const PROFILE_ROWS = 10;

function table(head: string[], c: ChalkInstance): Table.Table {
  return new Table({
    head: head.map((h) => c.bold(h)),
    style: { head: [], border: [], compact: true },
  });
}

/** A count with thousands separators (the HTML report shares these formats). */
export function num(n: number): string {
  return n.toLocaleString("en-US");
}

/** Bytes in binary units, one decimal past KiB. */
export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** A share as a percentage (utilisation, free pages outside the longest run); n/a for null. */
export function pct(x: number | null): string {
  return x === null ? "n/a" : `${(x * 100).toFixed(1)}%`;
}

/**
 * A ratio-kind field (the Johnstone–Wilson measures, the fidelity match rate) as a ratio to 4
 * significant digits, as check, compare and diff print it (check/render.ts, formatValue): one
 * unit in every human-facing output and in the JSON (docs/reports.md). n/a for null.
 */
export function ratio(x: number | null): string {
  return x === null ? "n/a" : String(Number(x.toPrecision(4)));
}

function plural(n: number, one: string, many: string): string {
  return `${num(n)} ${n === 1 ? one : many}`;
}

/**
 * The peaks grouped by the event they were reached at, in PEAK_NAMES order: peaks at one event
 * have the same live sites, so they share a table (text and HTML reports alike).
 */
export function peakGroups(r: Report): PeakName[][] {
  const groups: PeakName[][] = [];
  for (const name of PEAK_NAMES) {
    const same = groups.find((g) => r.peak[g[0]!].event === r.peak[name].event);
    if (same === undefined) groups.push([name]);
    else same.push(name);
  }
  return groups;
}

/** "A", "A and B", "A, B and C". */
export function andList(names: readonly string[]): string {
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]!}`;
}


/**
 * The peaks, what the trace referenced at each, and the top live sites at the heap peaks, as
 * the report grouped them (its siteDepth).
 */
export function peaksSection(r: Report, c: ChalkInstance, topSites = PEAK_ROWS): string[] {
  const out: string[] = [];
  const pk = table(["measure", "peak", "event", "line", "referenced by the trace then"], c);
  for (const name of PEAK_NAMES) {
    const p = r.peak[name];
    const live = r.peakSites[name];
    pk.push([
      name,
      name === "HeapObjects" ? num(p.value) : bytes(p.value),
      num(p.event),
      num(p.line),
      `${bytes(live.liveBytes)} in ${plural(live.liveObjects, "object", "objects")}`,
    ]);
  }
  out.push(pk.toString());
  // One table per distinct peak event: peaks reached at one event share their live sites.
  for (const names of peakGroups(r)) {
    const name = names[0]!;
    const p = r.peak[name];
    const which = names.length === 1 ? `${name} peak` : `${andList(names)} peaks`;
    const live = r.peakSites[name];
    out.push(`Live at the ${which} (event ${num(p.event)}, line ${num(p.line)}), by allocation site:`);
    if (live.sites.length === 0) {
      out.push("nothing the trace referenced");
      continue;
    }
    const st = table(["live bytes", "objects", "site"], c);
    for (const s of live.sites.slice(0, topSites)) st.push([bytes(s.liveBytes), num(s.liveObjects), siteLabel(siteFrames(s, live.siteDepth))]);
    out.push(st.toString());
  }
  return out;
}

/** A site table as data: the line that says what its figures are, its columns and rows. */
export interface SiteTable {
  note: string;
  head: string[];
  rows: string[][];
}

/**
 * The profile's top sites: its buckets (one per stack and object size) merged by site. Sampled
 * figures are what the runtime recorded, one sample per MemProfileRate bytes on average;
 * estimated ones scale each bucket as go tool pprof scales a heap profile of this runtime
 * (pprof.ts, scaleHeapSample), so they read as pprof's. At rate 1 every allocation is sampled
 * and the two are equal, so only one set is shown. null: no samples.
 */
export function profileTable(r: Report, topSites = PROFILE_ROWS, depth = DEFAULT_SITE_DEPTH): SiteTable | null {
  if (r.profile.sites.length === 0) return null;
  type Row = { sampled: ProfileFigures; estimated: ProfileFigures };
  const copy = (f: ProfileFigures): ProfileFigures => ({ inuseObjects: f.inuseObjects, inuseBytes: f.inuseBytes, allocObjects: f.allocObjects, allocBytes: f.allocBytes });
  const add = (into: ProfileFigures, f: ProfileFigures): void => {
    into.inuseObjects += f.inuseObjects;
    into.inuseBytes += f.inuseBytes;
    into.allocObjects += f.allocObjects;
    into.allocBytes += f.allocBytes;
  };
  const sites = groupBySite<Report["profile"]["sites"][number], Row>(
    r.profile.sites,
    depth,
    (s) => ({ sampled: copy(s), estimated: copy(s.estimated) }),
    (into, s) => {
      add(into.sampled, s);
      add(into.estimated, s.estimated);
    },
  )
    .sort((a, b) => b.figures.sampled.inuseBytes - a.figures.sampled.inuseBytes || b.figures.sampled.allocBytes - a.figures.sampled.allocBytes)
    .slice(0, topSites);
  const sampled = (f: ProfileFigures): string[] => [bytes(f.inuseBytes), num(f.inuseObjects), bytes(f.allocBytes), num(f.allocObjects)];
  if (r.profile.rate <= 1) {
    return {
      note: "every allocation sampled (MemProfileRate 1): the figures are exact",
      head: ["in-use bytes", "in-use objs", "alloc bytes", "alloc objs", "site"],
      rows: sites.map(({ frames, figures: f }) => [...sampled(f.sampled), siteLabel(frames)]),
    };
  }
  return {
    note: "sampled: as the runtime recorded them (a sample per MemProfileRate bytes on average); estimated: each bucket scaled as go tool pprof scales a heap profile",
    head: ["in-use bytes\nsampled", "in-use objs\nsampled", "alloc bytes\nsampled", "alloc objs\nsampled", "in-use bytes\nestimated", "alloc bytes\nestimated", "site"],
    rows: sites.map(({ frames, figures: f }) => [...sampled(f.sampled), bytes(f.estimated.inuseBytes), bytes(f.estimated.allocBytes), siteLabel(frames)]),
  };
}

/**
 * The title of the profile's section, saying which point its figures are of (--memprofile-at):
 * `Top allocation sites (profile as of the last collection: 16 samples, MemProfileRate 524,288)`.
 */
export function profileTitle(r: Report): string {
  const p = r.profile;
  const at =
    p.at === "gc" ? "as of the last collection" : p.at === "end" ? "at the end of the replay" : `at the HeapAlloc peak, event ${num(r.peak.HeapAlloc.event)}`;
  return `Top allocation sites (profile ${at}: ${num(p.samples)} samples, MemProfileRate ${num(p.rate)})`;
}

/** The profile's top sites as text: what the figures are, then the table (profileTable). */
export function profileSection(r: Report, c: ChalkInstance, topSites = PROFILE_ROWS, depth = DEFAULT_SITE_DEPTH): string[] {
  const t = profileTable(r, topSites, depth);
  if (t === null) return ["no samples"];
  const st = table(t.head, c);
  for (const row of t.rows) st.push(row);
  return [t.note, st.toString()];
}

/** The timeline as sparklines (see chart.ts). */
export function timelineSection(r: Report): string[] {
  const rows: ChartRow[] = [
    { label: "HeapSys", field: (p) => p.HeapSys, scale: "bytes", format: bytes },
    { label: "HeapInuse", field: (p) => p.HeapInuse, scale: "bytes", format: bytes },
    { label: "HeapAlloc", field: (p) => p.HeapAlloc, scale: "bytes", format: bytes },
    { label: "HeapObjects", field: (p) => p.HeapObjects, scale: "objects", format: (n) => plural(n, "object", "objects") },
  ];
  const lines = timelineChart(r.timeline.points, rows);
  return lines.length === 0 ? ["no events"] : lines;
}

/** The fragmentation measures; `goalloc replay --help` and docs/reports.md define each one. */
export function fragmentationSection(r: Report, c: ChalkInstance): string[] {
  const f = r.fragmentation;
  const i = f.internal;
  const unknown = "unknown (Go logs print rounded sizes)";
  const orUnknown = (n: number | null): string => (n === null ? unknown : bytes(n));
  const fr = table(["measure", "value"], c);
  fr.push(["internal: live requested", orUnknown(i.requestedBytes)]);
  fr.push(["internal: live rounded", bytes(i.allocatedBytes)]);
  fr.push(["internal: size-class rounding", orUnknown(i.sizeClassWasteBytes)]);
  fr.push(["internal: large-object pages", orUnknown(i.pageWasteBytes)]);
  fr.push(["internal: tiny-block slack", i.requestedSizesKnown ? bytes(i.tinySlackBytes) : unknown]);
  const sp = f.span;
  fr.push(["span: HeapInuse − HeapAlloc", `${bytes(sp.heapInuseMinusHeapAlloc)} (free slots ${bytes(sp.freeSlotBytes)}, span tails ${bytes(sp.tailWasteBytes)})`]);
  const spans = sp.byClass.reduce((n, u) => n + u.spans, 0);
  const partial = sp.byClass.reduce((n, u) => n + u.partialSpans, 0);
  fr.push(["span: partly filled small spans", `${num(partial)} of ${num(spans)}`]);
  const e = f.external;
  const lengths = Object.entries(e.freeSpansByPages).map(([pages, n]) => `${n}×${pages}`);
  fr.push(["external: free spans × pages", lengths.length === 0 ? "none" : lengths.join(", ")]);
  fr.push([
    "external: largest free run",
    `${plural(e.largestFreeRunPages, "page", "pages")}` + (e.freeOutsideLargestRun === null ? "" : ` (${pct(e.freeOutsideLargestRun)} of free pages outside it)`),
  ]);
  fr.push(["external: idle / released", `${bytes(e.idleBytes)} / ${bytes(e.releasedBytes)}`]);
  fr.push(["external: arena holes", plural(e.arenaHolePages, "page", "pages")]);
  const jw = f.johnstoneWilson;
  fr.push(["Johnstone–Wilson #1–#4", [jw.jw1, jw.jw2, jw.jw3, jw.jw4].map(ratio).join("  ") + ` (${jw.allocatorMeasure} over live ${jw.liveMeasure})`]);
  return [fr.toString(), c.dim("definitions: goalloc replay --help, or fragmentation.definitions in --json")];
}

export function renderReport(r: Report, options: TextOptions): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const out: string[] = [];
  const section = (title: string): void => {
    out.push("");
    out.push(c.bold.underline(title));
  };
  const t = r.trace;
  // A log's first line also says whose collections the replay follows, and why.
  const golog = t.format === "golog";
  const what = golog ? generationName(t.runtime) : t.format;
  const arch = r.options.arch + (golog && r.schedule.archFromLog ? " (the log's)" : "");
  const schedule = golog ? `; collections: ${r.schedule.collections === "log" ? "the log's" : "the emulated pacer's"} (${r.schedule.why})` : "";
  out.push(
    c.bold(`goalloc ${r.goalloc}`) +
      ` replay of ${printable(t.file)} (${what}) on ${arch}, GOGC=${r.options.gogc}` +
      schedule +
      (r.partial ? c.red(" [partial]") : ""),
  );
  out.push(
    `${plural(t.lines, "line", "lines")}, ${plural(t.events, "event", "events")}: ${plural(t.allocs, "alloc", "allocs")}, ` +
      `${plural(t.frees, "free", "frees")}, ${plural(t.deaths, "death", "deaths")}, ${plural(t.gcRecords, "GC record", "GC records")}, ` +
      `${plural(t.skippedLines, "other line", "other lines")} skipped` +
      (t.unknownFrees > 0 ? `, ${plural(t.unknownFrees, "free", "frees")} of untraced objects` : ""),
  );
  if (t.stoppedAt) out.push(`stopped at line ${t.stoppedAt.line}: ${printable(t.stoppedAt.text)}`);

  section("Arena");
  const a = table(["region", "address"], c);
  a.push(["spans", r.arena.spansStart], ["bitmap", r.arena.bitmapStart], ["arena_start", r.arena.arenaStart]);
  a.push(["arena_used", r.arena.arenaUsed], ["arena_end", r.arena.arenaEnd]);
  out.push(a.toString());

  section("MemStats");
  const m = r.memstats;
  const ms = table(["field", "value", "field", "value"], c);
  const pairs: [string, number][] = [
    ["Alloc", m.Alloc],
    ["TotalAlloc", m.TotalAlloc],
    ["Sys", m.Sys],
    ["Mallocs", m.Mallocs],
    ["Frees", m.Frees],
    ["Lookups", m.Lookups],
    ["HeapAlloc", m.HeapAlloc],
    ["HeapSys", m.HeapSys],
    ["HeapIdle", m.HeapIdle],
    ["HeapInuse", m.HeapInuse],
    ["HeapReleased", m.HeapReleased],
    ["HeapObjects", m.HeapObjects],
    ["MSpanInuse", m.MSpanInuse],
    ["MSpanSys", m.MSpanSys],
    ["MCacheInuse", m.MCacheInuse],
    ["MCacheSys", m.MCacheSys],
    ["BuckHashSys", m.BuckHashSys],
    ["GCSys", m.GCSys],
    ["OtherSys", m.OtherSys],
    ["NextGC", m.NextGC],
    ["NumGC", m.NumGC],
    ["PauseTotalNs", m.PauseTotalNs],
  ];
  for (let i = 0; i < pairs.length; i += 2) {
    const [k1, v1] = pairs[i]!;
    const [k2, v2] = pairs[i + 1] ?? ["", NaN];
    ms.push([k1, num(v1), k2, Number.isNaN(v2) ? "" : num(v2)]);
  }
  out.push(ms.toString());

  section("Peaks");
  out.push(...peaksSection(r, c, options.topSites ?? PEAK_ROWS));

  section("Heap over time");
  out.push(...timelineSection(r));

  section("Fragmentation");
  out.push(...fragmentationSection(r, c));

  section("Size classes in use");
  const sc = table(["class", "size", "spans", "objects", "capacity", "used", "mallocs", "frees"], c);
  for (const u of r.sizeClasses) {
    sc.push([u.class, num(u.size), num(u.spans), num(u.objects), num(u.capacity), pct(u.spans ? u.utilisation : null), num(u.mallocs), num(u.frees)]);
  }
  out.push(sc.toString());

  section(profileTitle(r));
  out.push(...profileSection(r, c, options.topSites ?? PROFILE_ROWS, options.siteDepth ?? DEFAULT_SITE_DEPTH));

  if (r.fidelity) {
    section("Fidelity (emulated vs logged addresses)");
    const fd = r.fidelity;
    const rate = fd.allocs === 0 ? 1 : fd.addressMatches / fd.allocs;
    if (fd.notComparable !== null) out.push(`not measured: ${fd.notComparable}`);
    else out.push(`${num(fd.addressMatches)} of ${num(fd.allocs)} allocations at the logged address (match rate ${ratio(rate)})`);
    if (fd.firstDivergence && fd.notComparable === null) {
      out.push(`first divergence at line ${fd.firstDivergence.line}: log ${fd.firstDivergence.expected}, emulated ${fd.firstDivergence.got}`);
    }
    const su = r.startUp;
    if (su) {
      const inferred = su.inferred.length ? ` (inferred from the first traced address: ${su.inferred.join(", ")})` : "";
      out.push(`start-up replayed: ${su.prologue} prologue, argc ${su.argc}, ${su.envc} environment variables` + (su.dataEnd ? `, _end ${su.dataEnd}` : "") + inferred);
    }
    for (const n of r.memstatsNotReproduced) out.push(c.dim(`not reproducible from a log: ${n.field}: ${n.why}`));
  }
  return out.join("\n") + "\n";
}

export function renderSizeClasses(rows: SizeClassRow[], color: boolean): string {
  const c = new Chalk({ level: color ? 1 : 0 });
  const t = table(["class", "bytes/obj", "pages/span", "objects/span", "tail waste", "max waste"], c);
  for (const r of rows) {
    t.push([r.class, num(r.size), r.pages, num(r.objectsPerSpan), num(r.tailWaste), `${(r.maxWaste * 100).toFixed(2)}%`]);
  }
  return `size classes (the same on every arch)\n${t.toString()}\n`;
}

/** The fragmentation definitions as an aligned list (`goalloc replay --help`). */
export function renderDefinitions(definitions: Readonly<Record<string, string>>): string {
  const keys = Object.keys(definitions);
  const width = Math.max(...keys.map((k) => k.length));
  return keys.map((k) => `  ${k.padEnd(width)}  ${definitions[k]}`).join("\n");
}
