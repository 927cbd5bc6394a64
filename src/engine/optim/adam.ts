/**
 * Adam over a model's parameters. Dense parameters use the adam kernel (AdamW when weightDecay >
 * 0); sparse-row parameters (embedding tables) use lazy Adam over the rows the batch touched, so
 * the rows of items absent from a batch, and their moments, stay as they were. Weight decay and
 * the embedding L2 skip parameters created with decay off (e.g. an item bias). The step leaves
 * every gradient zeroed and every touched-row list empty, ready for the next backward pass.
 */
import type { Kernels } from "../kernels/kernels.js";
import type { Parameter } from "../layers/parameter.js";

export interface AdamOptions {
  /** Base learning rate (each step may pass its own, e.g. from a schedule). */
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay of dense parameters (AdamW); default 0. */
  weightDecay?: number;
  /** Learning rate of sparse-row parameters as a multiple of the step's lr; default 1. */
  sparseLrScale?: number;
  /** L2 penalty added to the gradient of each touched embedding row before the update; default 0. */
  sparseL2?: number;
}

export class Adam {
  readonly params: readonly Parameter[];
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly sparseLrScale: number;
  readonly sparseL2: number;
  /** Steps taken so far (bias correction uses step + 1 on the next update). */
  stepCount = 0;
  private readonly kernels: Kernels;

  constructor(kernels: Kernels, params: readonly Parameter[], options: AdamOptions) {
    const names = new Set<string>();
    for (const p of params) {
      if (names.has(p.name)) throw new Error(`Adam: parameter ${p.name} is listed twice`);
      names.add(p.name);
    }
    if (!(options.lr > 0)) throw new RangeError(`Adam: lr must be > 0, got ${options.lr}`);
    this.kernels = kernels;
    this.params = [...params];
    this.lr = options.lr;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.sparseLrScale = options.sparseLrScale ?? 1;
    this.sparseL2 = options.sparseL2 ?? 0;
  }

  /** Applies and clears the accumulated gradients with learning rate lr (default: the base lr). */
  step(lr: number = this.lr): void {
    const t = ++this.stepCount;
    const { kernels, beta1, beta2, eps } = this;
    for (const p of this.params) {
      const [m, v] = p.moments();
      if (p.kind === "dense") {
        const decay = p.decay ? this.weightDecay : 0;
        kernels.adam(p.data, p.grad, m, v, p.size, lr, beta1, beta2, eps, t, decay);
        p.grad.fill(0);
        continue;
      }
      if (this.sparseL2 > 0 && p.decay) addRowL2(p, this.sparseL2);
      const rows = p.touchedRows;
      kernels.lazyAdam(
        p.data,
        p.grad,
        m,
        v,
        p.rowDim,
        rows,
        p.numTouched,
        lr * this.sparseLrScale,
        beta1,
        beta2,
        eps,
        t,
      );
      p.resetTouched();
    }
  }

  /** Clears all gradients without updating (e.g. after a skipped, non-finite step). */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }
}

/** grad[row] += l2·data[row] for each touched row. */
function addRowL2(p: Parameter, l2: number): void {
  const dim = p.rowDim;
  for (let i = 0; i < p.numTouched; i++) {
    const o = p.touchedRows[i] * dim;
    for (let d = o; d < o + dim; d++) p.grad[d] += l2 * p.data[d];
  }
}
