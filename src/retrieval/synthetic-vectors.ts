/**
 * Seeded synthetic item and query vectors shaped like learned recommendation embeddings, for
 * retrieval benchmarks and tests: items gather around topic centres (clusters) and their norms
 * spread log-normally (popular items get larger output embeddings under softmax training), which
 * is what makes inner-product search hard for graph indexes. Queries (user vectors) come from the
 * same topics.
 */
import { Rng } from "../engine/rng.js";

export interface SyntheticVectorOptions {
  readonly numItems: number;
  readonly numQueries: number;
  readonly dim: number;
  readonly seed: number;
  /** Number of topic centres (default 256). */
  readonly clusters?: number;
  /** Within-topic noise, relative to the spread of the centres (default 0.5). */
  readonly spread?: number;
  /** σ of the log-normal item norm (default 0.4: the largest norms are ~5× the median). */
  readonly normSigma?: number;
}

export interface SyntheticVectors {
  /** numItems×dim, row-major. */
  readonly items: Float32Array;
  /** numQueries×dim, row-major, unit norm. */
  readonly queries: Float32Array;
}

export function syntheticVectors(options: SyntheticVectorOptions): SyntheticVectors {
  const { numItems, numQueries, dim, seed, clusters = 256, spread = 0.5, normSigma = 0.4 } = options;
  const rng = new Rng(seed);
  const centres = new Float32Array(clusters * dim);
  for (let i = 0; i < centres.length; i++) centres[i] = rng.normal();
  const draw = (count: number, sigma: number): Float32Array => {
    const out = new Float32Array(count * dim);
    for (let i = 0; i < count; i++) {
      const c = rng.nextInt(clusters) * dim;
      let sq = 0;
      for (let d = 0; d < dim; d++) {
        const x = centres[c + d] + spread * rng.normal();
        out[i * dim + d] = x;
        sq += x * x;
      }
      const scale = Math.exp(sigma * rng.normal()) / Math.sqrt(sq);
      for (let d = 0; d < dim; d++) out[i * dim + d] *= scale;
    }
    return out;
  };
  const items = draw(numItems, normSigma);
  const queries = draw(numQueries, 0);
  return { items, queries };
}
