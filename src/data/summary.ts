/**
 * A dataset at a glance, for `watchnext data info`: sizes, time range, how events spread over
 * users, and which side information is present (with how many items or users carry it).
 */
import type { CategoricalColumn, Dataset, LoadReport, NumericColumn } from "./dataset.js";

export interface DatasetSummary {
  readonly name: string;
  readonly format: string;
  readonly source: string;
  readonly users: number;
  readonly items: number;
  readonly events: number;
  /** Earliest and latest event time, seconds and ISO-8601 (UTC). */
  readonly timeRange: {
    readonly min: number;
    readonly max: number;
    readonly minIso: string;
    readonly maxIso: string;
  };
  /** Events per user, nearest-rank quantiles. */
  readonly eventsPerUser: {
    readonly min: number;
    readonly p25: number;
    readonly p50: number;
    readonly p75: number;
    readonly p90: number;
    readonly max: number;
  };
  /** For each kind of side information, how many items/users (or tag events) have it; 0 = absent. */
  readonly sideInfo: {
    readonly titles: number;
    readonly genres: number;
    readonly years: number;
    readonly gender: number;
    readonly age: number;
    readonly occupation: number;
    readonly zip: number;
    readonly tags: number;
    /** Named feature columns of the side files: "category: 5 values, 90/100 items" (absent when none). */
    readonly itemColumns?: readonly string[];
    readonly userColumns?: readonly string[];
  };
  readonly report: LoadReport;
}

export function summarizeDataset(d: Dataset): DatasetSummary {
  const n = d.events.user.length;
  const numUsers = d.users.ids.length;
  const numItems = d.items.ids.length;
  let tmin = Infinity;
  let tmax = -Infinity;
  for (let k = 0; k < n; k++) {
    const t = d.events.time[k];
    if (t < tmin) tmin = t;
    if (t > tmax) tmax = t;
  }
  const perUser = new Int32Array(numUsers);
  for (let k = 0; k < n; k++) perUser[d.events.user[k]]++;
  perUser.sort();
  const q = (p: number): number => (numUsers === 0 ? 0 : perUser[Math.max(0, Math.ceil(p * numUsers) - 1)]);

  const info = d.itemInfo;
  let titles = 0;
  let genres = 0;
  let years = 0;
  for (let i = 0; i < numItems; i++) {
    if (info.title[i] !== "") titles++;
    if (info.genreOffsets[i + 1] > info.genreOffsets[i]) genres++;
    if (info.year[i] > 0) years++;
  }
  const u = d.userInfo;
  const count = <T>(a: ArrayLike<T> | null, known: (v: T) => boolean): number => {
    if (!a) return 0;
    let c = 0;
    for (let k = 0; k < a.length; k++) if (known(a[k])) c++;
    return c;
  };
  const iso = (t: number): string => (Number.isFinite(t) ? new Date(t * 1000).toISOString() : "");
  return {
    name: d.name,
    format: d.format,
    source: d.source,
    users: numUsers,
    items: numItems,
    events: n,
    timeRange: { min: tmin, max: tmax, minIso: iso(tmin), maxIso: iso(tmax) },
    eventsPerUser: { min: q(0), p25: q(0.25), p50: q(0.5), p75: q(0.75), p90: q(0.9), max: q(1) },
    sideInfo: {
      titles,
      genres,
      years,
      gender: count(u?.gender ?? null, (v) => v !== 0),
      age: count(u?.age ?? null, (v) => v !== 0),
      occupation: count(u?.occupation ?? null, (v) => v >= 0),
      zip: count(u?.zip ?? null, (v) => v !== ""),
      tags: d.tags?.user.length ?? 0,
      ...namedColumns(d),
    },
    report: d.report,
  };
}

/** One line per named side-file column: its name, distinct values (or range) and coverage. */
function namedColumns(d: Dataset): { itemColumns?: string[]; userColumns?: string[] } {
  const out: { itemColumns?: string[]; userColumns?: string[] } = {};
  const cat = (c: CategoricalColumn, total: number, what: string): string => {
    let rows = 0;
    for (let i = 0; i + 1 < c.offsets.length; i++) if (c.offsets[i + 1] > c.offsets[i]) rows++;
    return `${c.name}: ${c.names.length} distinct values, ${rows}/${total} ${what}`;
  };
  const num = (c: NumericColumn, total: number): string => {
    let known = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const v of c.values) {
      if (Number.isNaN(v)) continue;
      known++;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    return `${c.name}: numbers ${known > 0 ? `${min} .. ${max}` : "(none)"}, ${known}/${total} users`;
  };
  const items = d.itemInfo.categories ?? [];
  if (items.length > 0) out.itemColumns = items.map((c) => cat(c, d.items.ids.length, "items"));
  const u = d.userInfo;
  const users = [
    ...(u?.categories ?? []).map((c) => cat(c, d.users.ids.length, "users")),
    ...(u?.numbers ?? []).map((c) => num(c, d.users.ids.length)),
  ];
  if (users.length > 0) out.userColumns = users;
  return out;
}
