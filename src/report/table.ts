// The human report: plain-text tables (cli-table3), colour only when the caller allows it.

import Table from "cli-table3";
import { Chalk, type ChalkInstance } from "chalk";
import type { SizeClassRow } from "../runtime/index.js";
import type { Report } from "./report.js";

export interface TextOptions {
  color: boolean;
  /** Rows of the allocation-site table. */
  topSites?: number;
}

function table(head: string[], c: ChalkInstance): Table.Table {
  return new Table({
    head: head.map((h) => c.bold(h)),
    style: { head: [], border: [], compact: true },
  });
}

function num(n: number): string {
  return n.toLocaleString("en-US");
}

function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

function pct(x: number | null): string {
  return x === null ? "n/a" : `${(x * 100).toFixed(1)}%`;
}

export function renderReport(r: Report, options: TextOptions): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const out: string[] = [];
  const section = (title: string): void => {
    out.push("");
    out.push(c.bold.underline(title));
  };
  const t = r.trace;
  out.push(
    c.bold(`goalloc ${r.goalloc}`) +
      ` replay of ${t.file} (${t.format}) on ${r.options.arch}, GOGC=${r.options.gogc}` +
      (r.partial ? c.red(" [partial]") : ""),
  );
  out.push(
    `${num(t.lines)} lines, ${num(t.events)} events: ${num(t.allocs)} allocs, ${num(t.frees)} frees, ` +
      `${num(t.deaths)} deaths, ${num(t.gcs)} GC records, ${num(t.skippedLines)} other lines skipped` +
      (t.unknownFrees > 0 ? `, ${num(t.unknownFrees)} frees of untraced objects` : ""),
  );
  if (t.stoppedAt) out.push(`stopped at line ${t.stoppedAt.line}: ${t.stoppedAt.text}`);

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
  const pk = table(["measure", "peak", "event", "line"], c);
  for (const [name, p] of Object.entries(r.peak)) {
    pk.push([name, name === "HeapObjects" ? num(p.value) : bytes(p.value), num(p.event), num(p.line)]);
  }
  out.push(pk.toString());

  section("Fragmentation");
  const f = r.fragmentation;
  const fr = table(["measure", "value"], c);
  fr.push(["internal: live requested", f.internal.requestedBytes === null ? "unknown (log sizes are rounded)" : bytes(f.internal.requestedBytes)]);
  fr.push(["internal: live rounded", bytes(f.internal.allocatedBytes)]);
  fr.push(["internal: rounding waste", f.internal.wasteBytes === null ? "unknown" : bytes(f.internal.wasteBytes)]);
  fr.push(["span: HeapInuse − HeapAlloc", bytes(f.span.heapInuseMinusHeapAlloc)]);
  fr.push(["external: idle / released", `${bytes(f.external.idleBytes)} / ${bytes(f.external.releasedBytes)}`]);
  fr.push(["external: largest free run", `${f.external.largestFreeRunPages} pages`]);
  const jw = f.johnstoneWilson;
  fr.push(["Johnstone–Wilson #1–#4 (HeapInuse vs live)", [jw.jw1, jw.jw2, jw.jw3, jw.jw4].map(pct).join("  ")]);
  out.push(fr.toString());

  section("Size classes in use");
  const sc = table(["class", "size", "spans", "objects", "capacity", "used", "mallocs", "frees"], c);
  for (const u of r.sizeClasses) {
    sc.push([u.class, num(u.size), num(u.spans), num(u.objects), num(u.capacity), pct(u.spans ? u.utilisation : null), num(u.mallocs), num(u.frees)]);
  }
  out.push(sc.toString());

  section(`Top allocation sites (profile: ${num(r.profile.samples)} samples, rate ${num(r.profile.rate)})`);
  const top = r.profile.sites.slice(0, options.topSites ?? 10);
  if (top.length === 0) out.push("no samples");
  else {
    const st = table(["in-use bytes", "in-use objs", "alloc bytes", "alloc objs", "site"], c);
    for (const s of top) {
      st.push([bytes(s.inuseBytes), num(s.inuseObjects), bytes(s.allocBytes), num(s.allocObjects), s.stack.slice(0, 3).join(" < ")]);
    }
    out.push(st.toString());
  }

  if (r.fidelity) {
    section("Fidelity (emulated vs logged addresses)");
    const fd = r.fidelity;
    const rate = fd.allocs === 0 ? 1 : fd.addressMatches / fd.allocs;
    out.push(`${num(fd.addressMatches)} of ${num(fd.allocs)} allocations at the logged address (${(rate * 100).toFixed(2)}%)`);
    if (fd.firstDivergence) {
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

export function renderSizeClasses(rows: SizeClassRow[], arch: string, color: boolean): string {
  const c = new Chalk({ level: color ? 1 : 0 });
  const t = table(["class", "bytes/obj", "pages/span", "objects/span", "tail waste", "max waste"], c);
  for (const r of rows) {
    t.push([r.class, r.size, r.pages, r.objectsPerSpan, r.tailWaste, `${(r.maxWaste * 100).toFixed(2)}%`]);
  }
  return `size classes (${arch}; the table is the same on every arch)\n${t.toString()}\n`;
}
