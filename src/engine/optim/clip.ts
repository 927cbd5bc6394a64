/**
 * Global-norm gradient clipping: when ‖g‖₂ over all parameters exceeds maxNorm, every gradient is
 * scaled by maxNorm/‖g‖, keeping its direction. Sparse-row parameters contribute only their
 * touched rows (all other gradient rows are zero by construction).
 */
import type { Parameter } from "../layers/parameter.js";

/** The global L2 norm of the gradients (sparse-row parameters: touched rows only). */
export function gradNorm(params: readonly Parameter[]): number {
  let sum = 0;
  forEachGradRange(params, (g, start, end) => {
    for (let i = start; i < end; i++) sum += g[i] * g[i];
  });
  return Math.sqrt(sum);
}

/** Scales gradients so their global norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: readonly Parameter[], maxNorm: number): number {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const norm = gradNorm(params);
  if (norm > maxNorm) {
    const scale = maxNorm / norm;
    forEachGradRange(params, (g, start, end) => {
      for (let i = start; i < end; i++) g[i] *= scale;
    });
  }
  return norm;
}

function forEachGradRange(
  params: readonly Parameter[],
  fn: (g: Float32Array, start: number, end: number) => void,
): void {
  for (const p of params) {
    if (p.kind === "dense") {
      fn(p.grad, 0, p.size);
      continue;
    }
    for (let i = 0; i < p.numTouched; i++) {
      const o = p.touchedRows[i] * p.rowDim;
      fn(p.grad, o, o + p.rowDim);
    }
  }
}
