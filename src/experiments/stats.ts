/**
 * Mean ± sd over seeds for experiment reports: the sample standard deviation (n − 1) of the
 * finished cells that share a configuration, and how to print it (n shown when fewer than the
 * planned seeds finished, so a partial mean is never read as a complete one).
 */
import type { CellResult, ExperimentResults } from "./types.js";

export interface MeanSd {
  readonly mean: number;
  /** Sample standard deviation; NaN when n < 2. */
  readonly sd: number;
  readonly n: number;
  readonly values: readonly number[];
}

export function meanSd(values: readonly number[]): MeanSd {
  const n = values.length;
  if (n === 0) return { mean: NaN, sd: NaN, n, values };
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return { mean, sd: n > 1 ? Math.sqrt(ss / (n - 1)) : NaN, n, values };
}

/**
 * Groups the finished cells by `keyOf` (null = leave the cell out) and summarizes `metric` in
 * each group; groups in first-seen plan order.
 */
export function summarize(
  results: ExperimentResults,
  keyOf: (cell: CellResult) => string | null,
  metric: string,
): Map<string, MeanSd> {
  const groups = new Map<string, number[]>();
  for (const cell of results.planned) {
    const done = results.finished.get(cell.id);
    if (done === undefined) continue;
    const key = keyOf(done);
    if (key === null) continue;
    const value = done.metrics[metric];
    if (value === undefined || !Number.isFinite(value)) continue;
    const list = groups.get(key) ?? [];
    list.push(value);
    groups.set(key, list);
  }
  return new Map([...groups].map(([k, v]) => [k, meanSd(v)]));
}

/** "0.1234 ± 0.0056" (n shown when below `expected`; "—" when nothing finished). */
export function formatMeanSd(s: MeanSd | undefined, digits = 4, expected = 3): string {
  if (s === undefined || s.n === 0) return "—";
  const sd = Number.isNaN(s.sd) ? "n/a" : s.sd.toFixed(digits);
  const n = s.n < expected ? ` (n=${s.n})` : "";
  return `${s.mean.toFixed(digits)} ± ${sd}${n}`;
}

/** The sd as an error-bar half-length (0 when undefined). */
export function errorOf(s: MeanSd): number {
  return Number.isNaN(s.sd) ? 0 : s.sd;
}

/**
 * How `a` compares with `b`: "above" / "below" when the means differ by more than the larger sd,
 * "within" when not, "single seed" when either has fewer than 2 values (no sd to judge by).
 */
export function compareMeans(a: MeanSd, b: MeanSd): "above" | "below" | "within" | "single seed" {
  if (a.n < 2 || b.n < 2) return "single seed";
  const diff = a.mean - b.mean;
  if (Math.abs(diff) <= Math.max(errorOf(a), errorOf(b))) return "within";
  return diff > 0 ? "above" : "below";
}
