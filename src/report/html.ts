// The HTML report (`goalloc replay --html FILE`): one self-contained page, no scripts, no
// network. Every chart is inline SVG drawn here from the Report (and, for the arena map,
// from buildArenaMap's spans):
//   heap over time   HeapAlloc, HeapInuse, HeapSys and NextGC as step lines over events, the
//                    collections ticked in a strip above the plot, one tick per pixel
//                    column that had any (replay/timeline.ts);
//   live objects     HeapObjects over the same axis;
//   size classes     per class in use: bytes of its spans, bytes of its allocated objects;
//   arena map        the arena in address order, one row per fixed number of pages, spans
//                    coloured by size class (darker = fuller) or by state (large, idle,
//                    released), at most ARENA_MAP_ENTRIES rectangles plus row splits;
// and as tables the peaks with the sites live at each (one table per distinct peak event), fragmentation with each definition,
// MemStats and the profile's top sites. The command loads this module only for --html.

import { PageSize, type RuntimeSnapshot } from "../runtime/index.js";
import { PEAK_NAMES } from "../replay/replay.js";
import { buildArenaMap, type ArenaMap, type ArenaMapEntry, type Report } from "./report.js";
import { andList, bytes, num, pct, peakGroups, profileTable, profileTitle, ratio } from "./table.js";
import { siteFrames, siteLabel } from "./sites.js";
import type { TimelinePoint } from "../replay/timeline.js";

const COLORS = {
  HeapSys: "#7f7f7f",
  HeapInuse: "#1f77b4",
  HeapAlloc: "#d62728",
  NextGC: "#2ca02c",
  gc: "#9467bd",
  objects: "#ff7f0e",
  large: "#3b4252",
  idle: "#d0d0d0",
  released: "#f0f0f0",
} as const;

/** Escape text for HTML element content and attribute values. */
function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** One decimal place is plenty for SVG coordinates and keeps the file small. */
function f1(x: number): string {
  return String(Math.round(x * 10) / 10);
}

const BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** An axis: tick values and how to label them (every label in the same unit). */
export interface Axis {
  ticks: number[];
  label: (n: number) => string;
}

/**
 * Evenly spaced whole ticks from 0 to at least `max`, at 1, 2 or 5 × 10^k; a binary axis
 * counts in the largest of B, KiB, MiB, ... that `max` holds at least twice (three ticks).
 */
export function axis(max: number, binary: boolean, target = 5): Axis {
  let u = 0;
  if (binary) while (u < BINARY_UNITS.length - 1 && max / 1024 ** (u + 1) >= 2) u++;
  const unit = 1024 ** u;
  const label = binary ? (n: number): string => `${num(n / unit)} ${BINARY_UNITS[u]}` : num;
  if (max <= 0) return { ticks: [0], label };
  const raw = max / unit / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  // Every axis here counts whole things (bytes, events, objects): no fractional steps.
  const step = Math.max(1, ([1, 2, 5, 10].find((m) => m * pow >= raw) ?? 10) * pow) * unit;
  const ticks: number[] = [];
  for (let v = 0; ; v += step) {
    ticks.push(v);
    if (v >= max) break;
  }
  return { ticks, label };
}

interface Series {
  name: string;
  color: string;
  dash: string | null;
  /** Stroke width: HeapInuse is drawn wider than HeapAlloc, which often runs right on it. */
  width: number;
  value: (p: TimelinePoint) => number;
}

interface LineChartOptions {
  id: string;
  title: string;
  height: number;
  series: Series[];
  /** Values above this are cut off by the plot area (NextGC can dwarf the heap). */
  yMax: number;
  binary: boolean;
  gcMarks: boolean;
}

const CHART_W = 960;
/** The plot's margins; the top one holds the collection strip (GC_STRIP). */
const MARGIN = { left: 80, right: 20, top: 30, bottom: 36 };
/** The strip above the plot where collections are ticked: its top and height. */
const GC_STRIP = { top: 10, height: 14 };
/** Width of one character of an 11px tick label, an upper bound for digits and separators. */
const TICK_CHAR_W = 6.5;

/**
 * Where to centre a tick label so that all of it stays in the SVG: a label at either end of
 * the x axis ("10,000,000" under the last tick) would otherwise run past the viewBox and be cut.
 */
export function labelCentre(x: number, text: string, width = CHART_W): number {
  const half = (text.length * TICK_CHAR_W) / 2;
  return Math.min(Math.max(x, half + 1), width - half - 1);
}

/** Collections that fall in one pixel column of the plot: drawn as one tick. */
export interface GcColumn {
  /** The column, 0 … plot width − 1. */
  column: number;
  /** Collections in it: #first … #last. */
  first: number;
  last: number;
  /** The events of the first and last timeline points that counted them, and the first's line. */
  fromEvent: number;
  toEvent: number;
  line: number;
}

/**
 * The collections of a timeline by pixel column of a plot `width` pixels wide over events
 * 0 … lastEvent. Hundreds of collections over a long trace would draw as hundreds of lines, a
 * solid band; one tick per column keeps each column readable and the file small.
 */
export function gcColumns(points: readonly TimelinePoint[], width: number, lastEvent: number): GcColumn[] {
  const out: GcColumn[] = [];
  let gcs = 0;
  for (const p of points) {
    if (p.NumGC > gcs) {
      const column = Math.min(width - 1, Math.max(0, Math.floor((p.event / lastEvent) * width)));
      const prev = out[out.length - 1];
      if (prev !== undefined && prev.column === column) {
        prev.last = p.NumGC;
        prev.toEvent = p.event;
      } else out.push({ column, first: gcs + 1, last: p.NumGC, fromEvent: p.event, toEvent: p.event, line: p.line });
    }
    gcs = Math.max(gcs, p.NumGC);
  }
  return out;
}

function gcTitle(c: GcColumn): string {
  if (c.first === c.last) return `GC #${c.last} by event ${num(c.toEvent)} (line ${num(c.line)})`;
  const events = c.fromEvent === c.toEvent ? `event ${num(c.toEvent)}` : `events ${num(c.fromEvent)}–${num(c.toEvent)}`;
  return `${num(c.last - c.first + 1)} GCs, #${c.first}–#${c.last}, by ${events}`;
}

/**
 * A step chart over events: a point covers the events since the previous one and holds their
 * maxima, so each series is drawn flat across that range. Collections are ticked in a strip
 * above the plot, never over the lines.
 */
function lineChart(points: readonly TimelinePoint[], o: LineChartOptions): string {
  const w = CHART_W - MARGIN.left - MARGIN.right;
  const h = o.height - MARGIN.top - MARGIN.bottom;
  const lastEvent = points.length === 0 ? 1 : Math.max(1, points[points.length - 1]!.event);
  const yAxis = axis(o.yMax, o.binary);
  const yTicks = yAxis.ticks;
  const yTop = yTicks[yTicks.length - 1]! || 1;
  const x = (e: number): number => MARGIN.left + (e / lastEvent) * w;
  const y = (v: number): number => MARGIN.top + h - (Math.min(v, yTop) / yTop) * h;
  const parts: string[] = [];
  parts.push(`<svg id="${o.id}" class="chart" role="img" aria-label="${esc(o.title)}" viewBox="0 0 ${CHART_W} ${o.height}" width="${CHART_W}" height="${o.height}" xmlns="http://www.w3.org/2000/svg">`);
  parts.push(`<defs><clipPath id="${o.id}-plot"><rect x="${MARGIN.left}" y="${MARGIN.top}" width="${w}" height="${h}"/></clipPath></defs>`);
  parts.push(`<rect class="plot" x="${MARGIN.left}" y="${MARGIN.top}" width="${w}" height="${h}"/>`);
  for (const t of yTicks) {
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${MARGIN.left + w}" y1="${f1(y(t))}" y2="${f1(y(t))}"/>`);
    parts.push(`<text class="tick" x="${MARGIN.left - 6}" y="${f1(y(t) + 4)}" text-anchor="end">${esc(yAxis.label(t))}</text>`);
  }
  for (const t of axis(lastEvent, false, 8).ticks) {
    if (t > lastEvent) break;
    const label = num(t);
    parts.push(`<line class="axis" x1="${f1(x(t))}" x2="${f1(x(t))}" y1="${MARGIN.top + h}" y2="${MARGIN.top + h + 4}"/>`);
    parts.push(`<text class="tick" x="${f1(labelCentre(x(t), label))}" y="${MARGIN.top + h + 16}" text-anchor="middle">${label}</text>`);
  }
  parts.push(`<text class="axis-label" x="${MARGIN.left + w / 2}" y="${o.height - 4}" text-anchor="middle">event</text>`);
  if (o.gcMarks) {
    const cols = gcColumns(points, w, lastEvent);
    const y1 = GC_STRIP.top;
    const y2 = GC_STRIP.top + GC_STRIP.height;
    parts.push(`<g class="gc-strip"><rect class="gc-strip" x="${MARGIN.left}" y="${y1}" width="${w}" height="${GC_STRIP.height}"/>`);
    parts.push(`<text class="tick" x="${MARGIN.left - 6}" y="${y1 + GC_STRIP.height - 3}" text-anchor="end">GC</text>`);
    for (const c of cols) {
      const cx = f1(MARGIN.left + c.column + 0.5);
      parts.push(`<line class="gc" data-gcs="${c.last - c.first + 1}" x1="${cx}" x2="${cx}" y1="${y1}" y2="${y2}"><title>${esc(gcTitle(c))}</title></line>`);
    }
    parts.push(`</g>`);
  }
  parts.push(`<g class="lines" clip-path="url(#${o.id}-plot)">`);
  for (const s of o.series) {
    const coords: string[] = [];
    let previous = 0;
    for (const p of points) {
      const v = f1(y(s.value(p)));
      coords.push(`${f1(x(previous))},${v}`, `${f1(x(p.event))},${v}`);
      previous = p.event;
    }
    const dash = s.dash === null ? "" : ` stroke-dasharray="${s.dash}"`;
    parts.push(`<polyline class="series" data-series="${esc(s.name)}" fill="none" stroke="${s.color}" stroke-width="${s.width}"${dash} points="${coords.join(" ")}"><title>${esc(s.name)}</title></polyline>`);
  }
  parts.push(`</g></svg>`);
  const legend = o.series.map((s) => `<span class="key"><span class="swatch" style="background:${s.color}"></span>${esc(s.name)}</span>`);
  if (o.gcMarks) legend.push(`<span class="key"><span class="swatch gcswatch"></span>collections (strip above the chart, one tick per pixel column that had any)</span>`);
  return `<figure><figcaption>${esc(o.title)}</figcaption>${parts.join("")}<div class="legend">${legend.join(" ")}</div></figure>`;
}

function heapCharts(r: Report): string {
  const pts = r.timeline.points;
  if (pts.length === 0) return `<p>No events were replayed.</p>`;
  const heapMax = Math.max(...pts.map((p) => Math.max(p.HeapSys, p.HeapInuse, p.HeapAlloc)));
  const nextMax = Math.max(...pts.map((p) => p.NextGC));
  // NextGC above twice the heap would squash the heap lines: it is cut off instead.
  const yMax = nextMax <= 2 * heapMax ? Math.max(heapMax, nextMax) : heapMax;
  const series: Series[] = [
    { name: "HeapSys", color: COLORS.HeapSys, dash: null, width: 1.6, value: (p) => p.HeapSys },
    { name: "HeapInuse", color: COLORS.HeapInuse, dash: null, width: 3.5, value: (p) => p.HeapInuse },
    { name: "HeapAlloc", color: COLORS.HeapAlloc, dash: null, width: 1.4, value: (p) => p.HeapAlloc },
  ];
  if (nextMax > 0) series.push({ name: "NextGC", color: COLORS.NextGC, dash: "6 4", width: 1.4, value: (p) => p.NextGC });
  const tl = r.timeline;
  const note =
    `${num(pts.length)} points; a sample after every collection` +
    (tl.interval === 1 ? " and after every event" : tl.interval > 1 ? ` and every ${num(tl.interval)} events` : "") +
    (tl.samplesPerPoint > 1 ? `, ${num(tl.samplesPerPoint)} samples merged per point` : "") +
    "; each point holds the maxima over the events it covers." +
    (yMax < nextMax ? " NextGC runs above the chart." : "");
  const heap = lineChart(pts, { id: "heap-chart", title: "HeapSys, HeapInuse, HeapAlloc and NextGC (bytes)", height: 354, series, yMax, binary: true, gcMarks: true });
  const objMax = Math.max(...pts.map((p) => p.HeapObjects));
  const objects = lineChart(pts, {
    id: "objects-chart",
    title: "Live objects (HeapObjects) over time",
    height: 214,
    series: [{ name: "HeapObjects", color: COLORS.objects, dash: null, width: 1.6, value: (p) => p.HeapObjects }],
    yMax: objMax,
    binary: false,
    gcMarks: true,
  });
  return heap + `<p class="note">${esc(note)}</p>` + objects;
}

/** Size-class hue: the golden angle spreads neighbouring classes apart. */
function classHue(cl: number): number {
  return Math.round((cl * 137.508) % 360);
}

function classColor(cl: number, utilisation: number): string {
  // Fuller spans are darker: lightness from 75% (empty) to 40% (full).
  return `hsl(${classHue(cl)},60%,${Math.round(75 - 35 * utilisation)}%)`;
}

function sizeClassChart(r: Report): string {
  const rows = r.sizeClasses.filter((u) => u.spans > 0);
  if (rows.length === 0) return `<p>No small-object spans are in use.</p>`;
  const rowH = 18;
  const left = 150;
  const right = 260;
  const w = CHART_W - left - right;
  const max = Math.max(...rows.map((u) => u.bytes));
  const height = rows.length * rowH + 8;
  const parts = [`<svg id="class-chart" class="chart" role="img" aria-label="Size classes in use" viewBox="0 0 ${CHART_W} ${height}" width="${CHART_W}" height="${height}" xmlns="http://www.w3.org/2000/svg">`];
  rows.forEach((u, i) => {
    const top = 4 + i * rowH;
    const spanW = (u.bytes / max) * w;
    const usedW = ((u.objects * u.size) / max) * w;
    const title = `class ${u.class} (${num(u.size)} B): ${num(u.spans)} spans, ${num(u.objects)} of ${num(u.capacity)} objects, ${num(u.mallocs)} mallocs, ${num(u.frees)} frees`;
    parts.push(`<g class="class-row"><title>${esc(title)}</title>`);
    parts.push(`<text class="tick" x="${left - 8}" y="${top + 12}" text-anchor="end">class ${u.class} · ${esc(bytes(u.size))}</text>`);
    parts.push(`<rect class="span-bytes" x="${left}" y="${top + 2}" width="${f1(Math.max(spanW, 1))}" height="${rowH - 5}" fill="${classColor(u.class, 0)}"/>`);
    parts.push(`<rect class="object-bytes" x="${left}" y="${top + 2}" width="${f1(usedW)}" height="${rowH - 5}" fill="${classColor(u.class, 1)}"/>`);
    parts.push(`<text class="tick" x="${left + w + 8}" y="${top + 12}">${esc(`${num(u.objects)}/${num(u.capacity)} objects (${pct(u.utilisation)}), ${bytes(u.bytes)}`)}</text>`);
    parts.push(`</g>`);
  });
  parts.push(`</svg>`);
  return (
    `<figure><figcaption>Size classes in use: bytes of their spans (light) and of the objects allocated in them (dark)</figcaption>${parts.join("")}</figure>`
  );
}

/** Arena map geometry: rows of a power-of-two number of pages, so rows start at round addresses. */
function arenaRows(pages: number): { perRow: number; rows: number } {
  let perRow = 64;
  while (Math.ceil(pages / perRow) > 64) perRow *= 2;
  return { perRow, rows: Math.max(1, Math.ceil(pages / perRow)) };
}

function entryColor(e: ArenaMapEntry): string {
  switch (e.state) {
    case "small":
      return classColor(e.class, e.utilisation);
    case "large":
      return COLORS.large;
    case "idle":
      return COLORS.idle;
    case "released":
      return "url(#released)";
  }
}

function entryTitle(e: ArenaMapEntry, arenaStart: number): string {
  const addr = "0x" + (arenaStart + e.page * PageSize).toString(16);
  const what =
    e.state === "small"
      ? `size class ${e.class}, ${pct(e.utilisation)} of its objects allocated`
      : e.state === "large"
        ? "a large object"
        : e.state === "idle"
          ? "free (idle)"
          : "free, released to the OS";
  return `${addr}: ${num(e.pages)} page${e.pages === 1 ? "" : "s"}, ${what}` + (e.spans > 1 ? ` (${num(e.spans)} spans merged)` : "");
}

function arenaMap(map: ArenaMap): string {
  if (map.entries.length === 0) return `<p>The heap has no spans.</p>`;
  const { perRow, rows } = arenaRows(map.pages);
  const left = 120;
  const w = CHART_W - left - 20;
  const rowH = 14;
  const pitch = rowH + 3;
  const height = rows * pitch + 4;
  const px = w / perRow;
  const start = Number.parseInt(map.arenaStart, 16);
  const parts = [`<svg id="arena-map" class="chart" role="img" aria-label="Arena map" viewBox="0 0 ${CHART_W} ${height}" width="${CHART_W}" height="${height}" xmlns="http://www.w3.org/2000/svg">`];
  parts.push(
    `<defs><pattern id="released" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="${COLORS.released}"/><line x1="0" y1="0" x2="0" y2="6" stroke="#bbb" stroke-width="2"/></pattern></defs>`,
  );
  for (let row = 0; row < rows; row++) {
    const top = 2 + row * pitch;
    const rowPages = Math.min(perRow, map.pages - row * perRow);
    parts.push(`<text class="tick" x="${left - 6}" y="${top + 11}" text-anchor="end">0x${(start + row * perRow * PageSize).toString(16)}</text>`);
    parts.push(`<rect class="arena-row" x="${left}" y="${top}" width="${f1(rowPages * px)}" height="${rowH}"/>`);
  }
  // Neighbouring spans of one colour would merge into one block: a hairline separates them
  // where a page is wide enough to spare it.
  parts.push(px >= 3 ? `<g class="spans outlined">` : `<g class="spans">`);
  for (const e of map.entries) {
    const title = `<title>${esc(entryTitle(e, start))}</title>`;
    const fill = entryColor(e);
    // A span that crosses row ends is drawn as one rectangle per row it touches.
    for (let p = e.page; p < e.page + e.pages; ) {
      const row = Math.floor(p / perRow);
      const end = Math.min(e.page + e.pages, (row + 1) * perRow);
      const xPos = left + (p - row * perRow) * px;
      parts.push(`<rect class="span ${e.state}" x="${f1(xPos)}" y="${2 + row * pitch}" width="${f1(Math.max((end - p) * px, 0.5))}" height="${rowH}" fill="${fill}">${title}</rect>`);
      p = end;
    }
  }
  parts.push(`</g></svg>`);
  const key = (color: string, label: string): string => `<span class="key"><span class="swatch" style="background:${color}"></span>${esc(label)}</span>`;
  const legend = [
    key(`linear-gradient(90deg, ${classColor(5, 1)}, ${classColor(20, 1)}, ${classColor(40, 1)})`, "small-object span: hue = size class, darker = fuller"),
    key(COLORS.large, "large object"),
    key(COLORS.idle, "free, idle"),
    key(`repeating-linear-gradient(45deg, ${COLORS.released} 0 3px, #bbb 3px 5px)`, "free, released to the OS"),
    key("#fff", "no span (arena hole)"),
  ];
  const merged = map.entries.length < map.spanCount ? `; ${num(map.spanCount)} spans drawn as ${num(map.entries.length)} (neighbours merged)` : "";
  return (
    `<figure><figcaption>Arena map: ${num(map.pages)} pages of ${PageSize / 1024} KiB from ${esc(map.arenaStart)}, ${num(perRow)} pages per row${esc(merged)}</figcaption>` +
    parts.join("") +
    `<div class="legend">${legend.join(" ")}</div></figure>`
  );
}

function tableHtml(head: string[], rows: string[][], cls = ""): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("");
  return `<table${cls ? ` class="${cls}"` : ""}><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

function peaksHtml(r: Report): string {
  const rows = PEAK_NAMES.map((name) => {
    const p = r.peak[name];
    const live = r.peakSites[name];
    return [name, name === "HeapObjects" ? num(p.value) : bytes(p.value), num(p.event), num(p.line), `${bytes(live.liveBytes)} in ${num(live.liveObjects)} objects`];
  });
  const tables = peakGroups(r).map((names) => {
    const peak = r.peak[names[0]!];
    const live = r.peakSites[names[0]!];
    const sites = live.sites.map((s) => [bytes(s.liveBytes), num(s.liveObjects), siteLabel(siteFrames(s, live.siteDepth))]);
    const which = `${andList(names)} peak${names.length === 1 ? "" : "s"}`;
    return (
      `<div class="peak-sites" data-peaks="${names.join(" ")}" data-event="${peak.event}">` +
      `<h3>Live at the ${which} (event ${num(peak.event)}, line ${num(peak.line)}), by allocation site</h3>` +
      (sites.length === 0 ? "<p>Nothing the trace referenced.</p>" : tableHtml(["live bytes", "objects", "site (innermost first)"], sites)) +
      `</div>`
    );
  });
  return tableHtml(["measure", "peak", "event", "line", "referenced by the trace then"], rows) + tables.join("");
}

function fragmentationHtml(r: Report): string {
  const f = r.fragmentation;
  const d = f.definitions;
  const unknown = "unknown (Go logs print rounded sizes)";
  const b = (n: number | null): string => (n === null ? unknown : bytes(n));
  const row = (key: string, value: string): string[] => [key, value, d[key] ?? ""];
  const i = f.internal;
  const internal = [
    row("internal.requestedSizesKnown", i.requestedSizesKnown ? "yes" : "no"),
    row("internal.requestedBytes", b(i.requestedBytes)),
    row("internal.allocatedBytes", bytes(i.allocatedBytes)),
    row("internal.wasteBytes", b(i.wasteBytes)),
    row("internal.sizeClassWasteBytes", b(i.sizeClassWasteBytes)),
    row("internal.pageWasteBytes", b(i.pageWasteBytes)),
    row("internal.tinySlackBytes", i.requestedSizesKnown ? bytes(i.tinySlackBytes) : unknown),
  ];
  const s = f.span;
  const span = [
    row("span.heapInuseMinusHeapAlloc", bytes(s.heapInuseMinusHeapAlloc)),
    row("span.freeSlotBytes", bytes(s.freeSlotBytes)),
    row("span.tailWasteBytes", bytes(s.tailWasteBytes)),
    row("span.byClass", `${num(s.byClass.length)} classes with in-use spans, below`),
  ];
  const byClass = s.byClass.map((u) => [String(u.class), bytes(u.size), num(u.spans), num(u.objects), num(u.capacity), pct(u.utilisation), num(u.partialSpans), bytes(u.freeSlotBytes), bytes(u.tailWasteBytes)]);
  const e = f.external;
  const free = Object.entries(e.freeSpansByPages).map(([pages, n]) => [pages, num(n), bytes(Number(pages) * PageSize * n)]);
  const external = [
    row("external.freeSpansByPages", `${num(Object.values(e.freeSpansByPages).reduce((n, c) => n + c, 0))} free spans, below`),
    row("external.largestFreeRunPages", num(e.largestFreeRunPages)),
    row("external.freeOutsideLargestRun", pct(e.freeOutsideLargestRun)),
    row("external.idleBytes", bytes(e.idleBytes)),
    row("external.releasedBytes", bytes(e.releasedBytes)),
    row("external.arenaHolePages", num(e.arenaHolePages)),
  ];
  const jw = f.johnstoneWilson;
  const jwRows = [
    row("johnstoneWilson.allocatorMeasure", jw.allocatorMeasure),
    row("johnstoneWilson.liveMeasure", jw.liveMeasure),
    row("johnstoneWilson.jw1", ratio(jw.jw1)),
    row("johnstoneWilson.jw2", ratio(jw.jw2)),
    row("johnstoneWilson.jw3", ratio(jw.jw3)),
    row("johnstoneWilson.jw4", ratio(jw.jw4)),
  ];
  const head = ["measure", "value", "definition"];
  return (
    `<h3>Internal: rounding of live objects</h3>` +
    tableHtml(head, internal, "defs") +
    `<h3>Span level: room inside in-use spans</h3>` +
    tableHtml(head, span, "defs") +
    tableHtml(["class", "size", "spans", "objects", "capacity", "utilisation", "partly filled", "free slots", "span tails"], byClass) +
    `<h3>External: free spans</h3>` +
    tableHtml(head, external, "defs") +
    (free.length === 0 ? "<p>No free spans.</p>" : tableHtml(["pages", "free spans", "bytes"], free)) +
    `<h3>Johnstone–Wilson</h3>` +
    tableHtml(head, jwRows, "defs")
  );
}

function memstatsHtml(r: Report): string {
  const rows: string[][] = [];
  for (const [k, v] of Object.entries(r.memstats)) {
    if (typeof v === "number") rows.push([k, num(v)]);
    else if (typeof v === "boolean") rows.push([k, String(v)]);
  }
  return tableHtml(["field", "value"], rows);
}

/** The profile's top sites, as the text report shows them (table.ts, profileTable), at the report's site depth. */
function profileHtml(r: Report): string {
  const t = profileTable(r, 20, r.peakSites.HeapInuse.siteDepth);
  if (t === null) return "<p>No profile samples.</p>";
  return `<p class="note">${esc(t.note)}</p>` + tableHtml(t.head.map((h) => h.replace("\n", " ")), t.rows);
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;margin:24px auto;max-width:1000px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}
.summary{color:#555}.partial{color:#b00;font-weight:600}
figure{margin:8px 0}figcaption{font-weight:600;margin-bottom:4px}
svg.chart{display:block;max-width:100%;height:auto;background:#fff}
.plot{fill:#fafafa;stroke:#ccc}.grid{stroke:#e6e6e6}.axis{stroke:#999}.tick{font-size:11px;fill:#555}.axis-label{font-size:11px;fill:#777}
rect.gc-strip{fill:#fafafa;stroke:#ccc}.gc{stroke:${COLORS.gc};stroke-width:1}
.arena-row{fill:#fff;stroke:#ccc;stroke-width:.5}.outlined rect{stroke:#fff;stroke-width:.75}
.legend{font-size:12px;color:#444;margin-top:4px}.key{margin-right:14px;white-space:nowrap}
.swatch{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:middle;border:1px solid #bbb}
.gcswatch{background:${COLORS.gc};width:3px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td:nth-child(2){white-space:nowrap}table.defs td:first-child{font-family:ui-monospace,monospace;font-size:12px}
.note{color:#555;font-size:13px}footer{margin-top:32px;color:#888;font-size:12px}
`;

/** The page for a report and its arena map. Deterministic: the same replay gives the same bytes. */
export function renderHtml(r: Report, map: ArenaMap): string {
  const t = r.trace;
  const title = `goalloc report: ${t.file}`;
  const summary =
    `${t.format} trace on ${r.options.arch}, GOGC=${r.options.gogc}: ${num(t.lines)} lines, ${num(t.events)} events ` +
    `(${num(t.allocs)} allocs, ${num(t.frees)} frees, ${num(t.deaths)} deaths, ${num(t.gcRecords)} GC records)`;
  const error = r.error === null ? "" : `<p class="partial">Partial report: ${esc(r.error.message)}</p>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${esc(title)}</h1><p class="summary">${esc(summary)}</p>${error}</header>
<section id="timeline"><h2>Heap over time</h2>${heapCharts(r)}</section>
<section id="peaks"><h2>Peaks</h2>${peaksHtml(r)}</section>
<section id="size-classes"><h2>Size classes</h2>${sizeClassChart(r)}</section>
<section id="fragmentation"><h2>Fragmentation</h2>${fragmentationHtml(r)}</section>
<section id="arena"><h2>Arena</h2>${arenaMap(map)}</section>
<section id="memstats"><h2>MemStats</h2>${memstatsHtml(r)}</section>
<section id="profile"><h2>${esc(profileTitle(r))}</h2>${profileHtml(r)}</section>
<footer>goalloc ${esc(r.goalloc)}</footer>
</body>
</html>
`;
}

/** The HTML report of a replay (`--html`). */
export function htmlReport(report: Report, snapshot: RuntimeSnapshot): string {
  return renderHtml(report, buildArenaMap(snapshot.heap));
}
