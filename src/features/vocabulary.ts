/**
 * Frequency-truncated vocabularies for categorical ID spaces (search tokens, zip prefixes, ...), as
 * in the paper's Section 4.1: keep the top N values by count (ties broken by value, so the result
 * does not depend on input order), drop values below a minimum count, and map everything else to
 * index 0, the out-of-vocabulary row whose embedding stays zero. Kept values get indices 1..size.
 */

export interface VocabularyJSON {
  readonly values: readonly string[];
  readonly counts: readonly number[];
}

export interface VocabularyOptions {
  /** Keep at most this many values (default: all). */
  readonly maxSize?: number;
  /** Keep only values counted at least this often (default 1). */
  readonly minCount?: number;
}

/** Counts occurrences of values; feed it one value at a time, then build a Vocabulary. */
export class Counter {
  readonly counts = new Map<string, number>();

  add(value: string, n = 1): void {
    this.counts.set(value, (this.counts.get(value) ?? 0) + n);
  }
}

export class Vocabulary {
  /** Value of index i + 1. */
  readonly values: readonly string[];
  readonly counts: readonly number[];
  private readonly index: Map<string, number>;

  private constructor(values: readonly string[], counts: readonly number[]) {
    this.values = values;
    this.counts = counts;
    this.index = new Map(values.map((v, i) => [v, i + 1]));
  }

  static fromCounts(
    counts: ReadonlyMap<string, number> | Counter,
    options: VocabularyOptions = {},
  ): Vocabulary {
    const map = counts instanceof Counter ? counts.counts : counts;
    const maxSize = options.maxSize ?? Number.MAX_SAFE_INTEGER;
    const minCount = options.minCount ?? 1;
    if (!(maxSize >= 0)) throw new RangeError(`Vocabulary: maxSize must be >= 0, got ${maxSize}`);
    const kept = [...map].filter(([, c]) => c >= minCount);
    kept.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    kept.length = Math.min(kept.length, maxSize);
    return new Vocabulary(
      kept.map(([v]) => v),
      kept.map(([, c]) => c),
    );
  }

  static fromJSON(json: VocabularyJSON): Vocabulary {
    if (
      !Array.isArray(json?.values) ||
      !Array.isArray(json.counts) ||
      json.values.length !== json.counts.length
    ) {
      throw new TypeError(
        "Vocabulary.fromJSON: expected { values: string[], counts: number[] } of equal length",
      );
    }
    if (new Set(json.values).size !== json.values.length)
      throw new TypeError("Vocabulary.fromJSON: duplicate values");
    return new Vocabulary([...json.values], [...json.counts]);
  }

  /** Number of kept values (indices 1..size). */
  get size(): number {
    return this.values.length;
  }

  /** Embedding table rows: kept values + the out-of-vocabulary row 0. */
  get rows(): number {
    return this.values.length + 1;
  }

  /** Index of a value: 1..size, or 0 when out of vocabulary. */
  lookup(value: string): number {
    return this.index.get(value) ?? 0;
  }

  toJSON(): VocabularyJSON {
    return { values: this.values, counts: this.counts };
  }
}
