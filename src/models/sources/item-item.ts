/**
 * EASE and ItemKNN as candidate sources: the baselines of src/eval/baselines (their scorers read
 * only the query history, so they are inductive over users), top-N by partial selection. EASE's λ
 * is tuned on validation NDCG@10 over the baselines' grid, exactly as run-baselines does, unless a
 * λ is given (fold models reuse the λ chosen on the protocol's training part).
 */
import { numItems, type Dataset } from "../../data/dataset.js";
import { getKernels } from "../../engine/kernels/index.js";
import type { Kernels } from "../../engine/kernels/kernels.js";
import type { JsonValue } from "../../engine/model-file/index.js";
import { EASE_LAMBDAS, easeGram, fitEase } from "../../eval/baselines/ease.js";
import { fitItemKnn } from "../../eval/baselines/item-knn.js";
import { evaluate } from "../../eval/evaluate.js";
import type { QueryBatch, Scorer } from "../../eval/types.js";
import { fingerprintOf, fitRecordOf, type FitDataFingerprint } from "./fit-data.js";
import { topNFromScores } from "./select.js";
import type {
  FittedSource,
  TypedSourceFactory,
  SourceFitOptions,
  SourceFitRecord,
  SourceTopN,
} from "./source.js";

/** A fitted baseline scorer as a source. */
export class ScorerSource implements FittedSource {
  /**
   * @param unscoredIsAbsent ItemKNN scores 0 where no history item has the candidate as a
   *   neighbour: such items carry no evidence, so they are not proposed (a shorter list) rather than
   *   padded in index order.
   */
  constructor(
    readonly name: "ease" | "itemknn",
    readonly scorer: Scorer,
    readonly params: Readonly<Record<string, JsonValue>>,
    readonly fitRecord: SourceFitRecord,
    readonly fitData: FitDataFingerprint,
    private readonly numItems: number,
    private readonly unscoredIsAbsent: boolean,
    private readonly kernels: Kernels = getKernels(),
  ) {}

  topN(queries: QueryBatch, n: number): SourceTopN {
    return topNFromScores(this.kernels, this.numItems, queries, n, (b, out) => {
      this.scorer.score(b, out);
      if (this.unscoredIsAbsent) for (let i = 0; i < out.length; i++) if (out[i] === 0) out[i] = NaN;
    });
  }

  observeEvents(): void {
    // Item-item weights are fitted once; new events reach the scores through the request history.
  }
}

export interface EaseSourceOptions {
  /** Fixed λ (no tuning). */
  readonly lambda?: number;
  /** λ grid tuned on validation when no λ is fixed (default: the baselines' grid). */
  readonly lambdas?: readonly number[];
  readonly onLog?: (line: string) => void;
}

/** Fits EASE synchronously (used by the factory and by loadSource's deterministic refit). */
export function fitEaseSource(train: Dataset, options: EaseSourceOptions, o: SourceFitOptions): ScorerSource {
  const gram = easeGram(train);
  let lambda = options.lambda;
  if (lambda === undefined) {
    const grid = options.lambdas ?? EASE_LAMBDAS;
    if (grid.length === 1 || o.valid === undefined) {
      if (grid.length > 1)
        throw new Error("ease source: tuning λ needs validation queries (pass `valid`) or a fixed `lambda`");
      lambda = grid[0];
    } else {
      let best = -Infinity;
      for (const l of grid) {
        const scorer = fitEase(gram, { lambda: l });
        const m = evaluate(scorer, o.valid, {
          numItems: numItems(train),
          metrics: o.validProtocol ?? "loo",
          ks: [10],
        }).metrics["NDCG@10"];
        options.onLog?.(`ease: λ ${l} valid NDCG@10 ${m.toFixed(4)}`);
        if (m > best) {
          best = m;
          lambda = l;
        }
      }
    }
  }
  const chosen = lambda as number;
  return new ScorerSource(
    "ease",
    fitEase(gram, { lambda: chosen }),
    { lambda: chosen },
    fitRecordOf("ease", train),
    fingerprintOf(train),
    numItems(train),
    false,
  );
}

export function easeSourceFactory(options: EaseSourceOptions = {}): TypedSourceFactory<ScorerSource> {
  return { name: "ease", fit: async (train, o) => fitEaseSource(train, options, o) };
}

export interface ItemKnnSourceOptions {
  /** Neighbours kept per item (default 100, as the baseline). */
  readonly neighbours?: number;
}

export function fitItemKnnSource(train: Dataset, options: ItemKnnSourceOptions = {}): ScorerSource {
  const neighbours = options.neighbours ?? 100;
  return new ScorerSource(
    "itemknn",
    fitItemKnn(train, { neighbours }),
    { neighbours },
    fitRecordOf("itemknn", train),
    fingerprintOf(train),
    numItems(train),
    true,
  );
}

export function itemKnnSourceFactory(options: ItemKnnSourceOptions = {}): TypedSourceFactory<ScorerSource> {
  return { name: "itemknn", fit: async (train) => fitItemKnnSource(train, options) };
}
