/**
 * A trainable tensor: its values, its gradient, and the optimizer's moments. Dense parameters
 * (weights, biases) receive a full gradient every step; sparse-row parameters (embedding tables)
 * receive gradient on a few rows per step and keep the list of those rows, each once, so the
 * optimizer and gradient clipping touch only them (lazy Adam: untouched rows do not change).
 *
 * Convention: backward passes ADD into `grad` (a table shared by several inputs, or a layer used
 * twice, simply accumulates); the optimizer's step applies the gradient and leaves it zeroed.
 */

export type ParameterKind = "dense" | "sparse-rows";

export class Parameter {
  readonly name: string;
  readonly shape: readonly number[];
  readonly kind: ParameterKind;
  readonly data: Float32Array;
  readonly grad: Float32Array;
  /** Row width for sparse-row parameters (the last dimension); 1 for a vector. */
  readonly rowDim: number;
  readonly numRows: number;
  /** Adam first and second moments, allocated on first use by an optimizer. */
  private moment1: Float32Array | null = null;
  private moment2: Float32Array | null = null;
  /** Unique touched rows since the last optimizer step (sparse-row parameters only). */
  readonly touchedRows: Int32Array;
  numTouched = 0;
  private readonly rowMarked: Uint8Array;
  /** A row that must stay as initialised (the out-of-vocabulary zero row), or −1. */
  readonly frozenRow: number;
  /**
   * Whether the optimizer's weight decay / embedding L2 applies (default true); off for e.g. a
   * per-item logit bias, whose pull toward zero would fight the item popularity it encodes.
   */
  readonly decay: boolean;

  constructor(
    name: string,
    shape: readonly number[],
    kind: ParameterKind = "dense",
    frozenRow = -1,
    options: { decay?: boolean } = {},
  ) {
    if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new RangeError(`Parameter ${name}: shape must be positive integers, got [${shape.join(", ")}]`);
    }
    this.name = name;
    this.shape = [...shape];
    this.kind = kind;
    const size = shape.reduce((a, b) => a * b, 1);
    this.data = residentZeros(size);
    this.grad = residentZeros(size);
    this.rowDim = shape.length > 1 ? shape[shape.length - 1] : 1;
    this.numRows = size / this.rowDim;
    this.frozenRow = frozenRow;
    this.decay = options.decay ?? true;
    const sparse = kind === "sparse-rows";
    this.touchedRows = new Int32Array(sparse ? this.numRows : 0);
    this.rowMarked = new Uint8Array(sparse ? this.numRows : 0);
  }

  get size(): number {
    return this.data.length;
  }

  /** The Adam moments [m, v], zero-filled on first call. */
  moments(): [Float32Array, Float32Array] {
    if (this.moment1 === null || this.moment2 === null) {
      this.moment1 = residentZeros(this.data.length);
      this.moment2 = residentZeros(this.data.length);
    }
    return [this.moment1, this.moment2];
  }

  /**
   * Records rows rowOffset + rows[i], i in [start, end), as touched (sparse-row parameters); the
   * frozen row is never recorded. rowOffset maps ids onto a sub-range of the table (e.g. class c
   * of an output layer tied to an input table whose row 0 is out of vocabulary).
   */
  markRows(rows: Int32Array, start = 0, end = rows.length, rowOffset = 0): void {
    const marked = this.rowMarked;
    for (let i = start; i < end; i++) {
      const r = rows[i] + rowOffset;
      if (marked[r] === 0 && r !== this.frozenRow) {
        marked[r] = 1;
        this.touchedRows[this.numTouched++] = r;
      }
    }
  }

  /** Records every row as touched (a full-softmax output table gets gradient on all rows). */
  markAllRows(): void {
    this.markRowRange(0, this.numRows);
  }

  /** Records rows [start, end) as touched. */
  markRowRange(start: number, end: number): void {
    for (let r = start; r < end; r++) {
      if (this.rowMarked[r] === 0 && r !== this.frozenRow) {
        this.rowMarked[r] = 1;
        this.touchedRows[this.numTouched++] = r;
      }
    }
  }

  /** Clears the gradient of the frozen row, which a scatter kernel may have written. */
  clearFrozenGrad(): void {
    if (this.frozenRow < 0) return;
    const o = this.frozenRow * this.rowDim;
    this.grad.fill(0, o, o + this.rowDim);
  }

  /** Forgets the touched rows (after their gradient rows were applied and zeroed). */
  resetTouched(): void {
    for (let i = 0; i < this.numTouched; i++) this.rowMarked[this.touchedRows[i]] = 0;
    this.numTouched = 0;
  }

  /** Zeroes the gradient (touched rows only for sparse-row parameters) and forgets touched rows. */
  zeroGrad(): void {
    if (this.kind === "dense") {
      this.grad.fill(0);
      return;
    }
    const dim = this.rowDim;
    for (let i = 0; i < this.numTouched; i++) {
      const o = this.touchedRows[i] * dim;
      this.grad.fill(0, o, o + dim);
    }
    this.clearFrozenGrad();
    this.resetTouched();
  }
}

/**
 * A zeroed Float32Array whose pages are already mapped. Large typed arrays start as lazily mapped
 * zero pages, so sparse-row updates of a big embedding table would otherwise pay a page fault the
 * first time each row is touched, spread over the first epochs of training; writing the zeros once
 * at allocation moves that cost out of the training loop.
 */
function residentZeros(size: number): Float32Array {
  return new Float32Array(size).fill(0);
}
