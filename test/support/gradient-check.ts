/**
 * Finite-difference gradient checks shared by the engine tests: central differences on float32
 * values against an analytic gradient, with a tolerance relative to the entry and to the largest
 * gradient, and kink detection for ReLU-like non-differentiable points.
 */
import { expect } from "vitest";
import type { Rng } from "../../src/engine/rng.js";

/**
 * Compares `analytic` (a copy of the gradient) with central differences of `loss` with respect to
 * `values[i]` for the given indices. Tolerance: 2% of the entry plus 0.3% of the largest gradient.
 * With `reluPattern` (which ReLUs are active after the last loss call), a perturbation that
 * crosses a ReLU kink is not differentiable there and is skipped (at most a third, or two).
 */
export function checkGradient(
  label: string,
  values: Float32Array,
  analytic: Float32Array,
  loss: () => number,
  indices: Iterable<number>,
  reluPattern?: () => string,
  eps = 1e-3,
): void {
  let scale = 0;
  for (const g of analytic) scale = Math.max(scale, Math.abs(g));
  expect(scale, `${label}: the analytic gradient is all zero`).toBeGreaterThan(0);
  let checked = 0;
  let skipped = 0;
  for (const i of indices) {
    const original = values[i];
    values[i] = original + eps;
    const up = values[i];
    const lossUp = loss();
    const patternUp = reluPattern?.();
    values[i] = original - eps;
    const down = values[i];
    const lossDown = loss();
    const patternDown = reluPattern?.();
    values[i] = original;
    if (patternUp !== patternDown) {
      skipped++;
      continue;
    }
    const numeric = (lossUp - lossDown) / (up - down);
    const tol = 0.02 * Math.abs(numeric) + 0.003 * scale;
    if (!(Math.abs(numeric - analytic[i]) <= tol)) {
      throw new Error(`${label}[${i}]: analytic ${analytic[i]}, numeric ${numeric} (tolerance ${tol})`);
    }
    checked++;
  }
  expect(checked).toBeGreaterThan(0);
  expect(skipped, `${label}: too many perturbations crossed a ReLU kink`).toBeLessThanOrEqual(
    Math.max(2, checked / 3),
  );
}

/** Up to `count` distinct random indices below n (all of them when n ≤ count). */
export function sampleIndices(rng: Rng, n: number, count = 24): number[] {
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  const set = new Set<number>();
  while (set.size < count) set.add(rng.nextInt(n));
  return [...set];
}
