// `goalloc diff`: two reports (two traces, or one trace under two option sets), field by field
// and allocation site by allocation site.
//
// Pure: the caller replays. Sites are named as the report's tables name them (report/sites.ts:
// the frames past the allocator's, with file:line, at most `depth` of them); a site sums its
// profile buckets (one per stack and object size) on each side, and a site only one side
// sampled has a null on the other. The sites listed are those that moved most (in-use bytes,
// then allocated bytes), then the biggest, so that an unchanged profile still shows its top.

import type { ProfileFigures, ProfileSite, Report } from "../report/report.js";
import { DEFAULT_SITE_DEPTH, siteFrames, siteKey, siteLabel } from "../report/sites.js";
import { FIELDS, type FieldKind } from "./fields.js";
import { relativeChange } from "./compare.js";

export interface FieldDelta {
  field: string;
  kind: FieldKind;
  a: number | null;
  b: number | null;
  /** b − a (null when either side has no value). */
  delta: number | null;
  /** delta relative to a (null when a is 0 or either side has no value). */
  relative: number | null;
}

/** A site's sampled profile figures, summed over its buckets. */
export type SiteFigures = ProfileFigures;

export interface SiteDelta {
  /** The site's frames: function names, innermost first, past the allocator's (at most `depth`). */
  stack: string[];
  /** Their `file:line` ("" when the trace gives none). */
  locations: string[];
  a: SiteFigures | null;
  b: SiteFigures | null;
  deltaInuseBytes: number;
  deltaAllocBytes: number;
}

export interface DiffSide {
  trace: string;
  options: Report["options"];
  error: Report["error"];
}

export interface Diff {
  a: DiffSide;
  b: DiffSide;
  /** The options that differ between the sides (arch first, in report order). */
  optionChanges: { option: string; a: unknown; b: unknown }[];
  fields: FieldDelta[];
  /** How many fields changed. */
  changed: number;
  sites: SiteDelta[];
}

function add(into: SiteFigures | null, s: ProfileSite): SiteFigures {
  if (into === null) return { inuseObjects: s.inuseObjects, inuseBytes: s.inuseBytes, allocObjects: s.allocObjects, allocBytes: s.allocBytes };
  into.inuseObjects += s.inuseObjects;
  into.inuseBytes += s.inuseBytes;
  into.allocObjects += s.allocObjects;
  into.allocBytes += s.allocBytes;
  return into;
}

/** Diff report `a` against report `b`, listing at most `topSites` allocation sites of `depth` frames. */
export function diffReports(a: Report, b: Report, topSites = 10, depth = DEFAULT_SITE_DEPTH): Diff {
  const fields: FieldDelta[] = [];
  for (const f of FIELDS) {
    const va = f.get(a);
    const vb = f.get(b);
    if (va === null && vb === null) continue;
    const delta = va === null || vb === null ? null : vb - va;
    fields.push({ field: f.name, kind: f.kind, a: va, b: vb, delta, relative: va === null || vb === null ? null : relativeChange(va, vb) });
  }

  const bySite = new Map<string, SiteDelta>();
  const site = (s: ProfileSite): SiteDelta => {
    const frames = siteFrames(s, depth);
    const key = siteKey(frames);
    let d = bySite.get(key);
    if (d === undefined) {
      d = { stack: frames.map((f) => f.func), locations: frames.map((f) => f.location), a: null, b: null, deltaInuseBytes: 0, deltaAllocBytes: 0 };
      bySite.set(key, d);
    }
    return d;
  };
  // A stack has a bucket per object size: the site sums them.
  for (const s of a.profile.sites) {
    const d = site(s);
    d.a = add(d.a, s);
  }
  for (const s of b.profile.sites) {
    const d = site(s);
    d.b = add(d.b, s);
  }
  const sites = [...bySite.values()];
  for (const d of sites) {
    d.deltaInuseBytes = (d.b?.inuseBytes ?? 0) - (d.a?.inuseBytes ?? 0);
    d.deltaAllocBytes = (d.b?.allocBytes ?? 0) - (d.a?.allocBytes ?? 0);
  }
  const size = (d: SiteDelta): number => Math.max(d.a?.inuseBytes ?? 0, d.b?.inuseBytes ?? 0);
  const label = (d: SiteDelta): string => siteLabel(d.stack.map((func, i) => ({ func, location: d.locations[i]! })));
  sites.sort(
    (x, y) =>
      Math.abs(y.deltaInuseBytes) - Math.abs(x.deltaInuseBytes) ||
      Math.abs(y.deltaAllocBytes) - Math.abs(x.deltaAllocBytes) ||
      size(y) - size(x) ||
      label(x).localeCompare(label(y)),
  );

  const optionChanges: Diff["optionChanges"] = [];
  for (const key of Object.keys(a.options) as (keyof Report["options"])[]) {
    if (a.options[key] !== b.options[key]) optionChanges.push({ option: key, a: a.options[key], b: b.options[key] });
  }
  return {
    a: { trace: a.trace.file, options: a.options, error: a.error },
    b: { trace: b.trace.file, options: b.options, error: b.error },
    optionChanges,
    fields,
    changed: fields.filter((f) => f.a !== f.b).length,
    sites: sites.slice(0, topSites),
  };
}
