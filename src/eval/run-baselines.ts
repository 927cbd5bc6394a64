/**
 * Runs the baselines (MostPop, ItemKNN, EASE) under one protocol through the shared evaluation
 * path: split, fit each model (tuning its grid on validation), score the test queries once.
 */
import { numItems, numUsers, type Dataset } from "../data/dataset.js";
import { fitEase, easeGram, EASE_LAMBDAS, type EaseGram } from "./baselines/ease.js";
import { fitItemKnn } from "./baselines/item-knn.js";
import { fitMostPop } from "./baselines/most-pop.js";
import { evaluate, type EvaluationResult } from "./evaluate.js";
import { DEFAULT_KS } from "./metrics.js";
import { splitLoo } from "./split-loo.js";
import { splitTemporal, type TemporalOptions } from "./split-temporal.js";
import type { EvaluationReport, Metrics, Scorer, Split } from "./types.js";

export const BASELINE_NAMES = ["mostpop", "itemknn", "ease"] as const;
export type BaselineName = (typeof BASELINE_NAMES)[number];

export interface RunBaselinesOptions {
  readonly protocol?: "loo" | "temporal";
  readonly models?: readonly BaselineName[];
  /** Temporal split options (cut, window). */
  readonly temporal?: TemporalOptions;
  readonly filterSeen?: boolean;
  readonly ks?: readonly number[];
  /** EASE λ grid (default 50, 100, 200, 500, 1000). */
  readonly lambdas?: readonly number[];
  /** ItemKNN neighbours per item (default 100). */
  readonly neighbours?: number;
  /** Progress lines (model fitted, λ tried, ...). */
  readonly log?: (line: string) => void;
}

/** A baseline as the runner sees it: one-off preparation per training set, then a fit per grid point. */
interface Baseline {
  readonly grid: ReadonlyArray<Record<string, number>>;
  prepare(train: Dataset): (params: Record<string, number>) => Scorer;
}

function baseline(name: BaselineName, options: RunBaselinesOptions): Baseline {
  switch (name) {
    case "mostpop":
      return { grid: [{}], prepare: (train) => () => fitMostPop(train) };
    case "itemknn":
      return {
        grid: [{ neighbours: options.neighbours ?? 100 }],
        prepare: (train) => (p) => fitItemKnn(train, { neighbours: p.neighbours }),
      };
    case "ease":
      return {
        grid: (options.lambdas ?? EASE_LAMBDAS).map((lambda) => ({ lambda })),
        prepare: (train) => {
          let gram: EaseGram | undefined;
          return (p) => fitEase((gram ??= easeGram(train)), { lambda: p.lambda });
        },
      };
  }
}

/** Validation metric that picks hyper-parameters: NDCG@10 (or NDCG at the first cutoff). */
function selectionMetric(ks: readonly number[]): string {
  return `NDCG@${ks.includes(10) ? 10 : ks[0]}`;
}

export function makeSplit(dataset: Dataset, protocol: "loo" | "temporal", temporal?: TemporalOptions): Split {
  return protocol === "loo" ? splitLoo(dataset) : splitTemporal(dataset, temporal);
}

/** A report on `dataset` under `split` with no results yet (the header every evaluation shares). */
export function emptyReport(
  dataset: Dataset,
  protocol: "loo" | "temporal",
  split: Split,
  filterSeen: boolean,
): EvaluationReport {
  return {
    dataset: dataset.name,
    protocol,
    n_users: numUsers(dataset),
    n_items: numItems(dataset),
    protocol_params: { ...split.params },
    filter_seen: filterSeen,
    results: [],
  };
}

export function runBaselines(dataset: Dataset, options: RunBaselinesOptions = {}): EvaluationReport {
  const protocol = options.protocol ?? "loo";
  const models = options.models ?? BASELINE_NAMES;
  const ks = options.ks ?? DEFAULT_KS;
  const filterSeen = options.filterSeen ?? true;
  const log = options.log ?? (() => undefined);
  const split = makeSplit(dataset, protocol, options.temporal);
  const evalOptions = { numItems: numItems(dataset), metrics: protocol, filterSeen, ks } as const;
  const select = selectionMetric(ks);

  const report = emptyReport(dataset, protocol, split, filterSeen);
  for (const name of models) {
    const model = baseline(name, options);
    let fitSeconds = 0;
    const timed = (f: () => Scorer): Scorer => {
      const t0 = performance.now();
      const s = f();
      fitSeconds += (performance.now() - t0) / 1000;
      return s;
    };
    const fitValid = model.prepare(split.validTrain ?? split.train);
    let best: { scorer: Scorer; params: Record<string, number>; valid: EvaluationResult } | undefined;
    const tuning: Array<{ params: Record<string, unknown>; valid: Metrics }> = [];
    for (const params of model.grid) {
      const scorer = timed(() => fitValid(params));
      const valid = evaluate(scorer, split.valid, evalOptions);
      tuning.push({ params: { ...scorer.params }, valid: valid.metrics });
      if (model.grid.length > 1)
        log(
          `${scorer.name} ${JSON.stringify(scorer.params)}: valid ${select} ${valid.metrics[select].toFixed(4)}`,
        );
      if (best === undefined || valid.metrics[select] > best.valid.metrics[select])
        best = { scorer, params, valid };
    }
    if (best === undefined) throw new Error(`baseline ${name} has an empty grid`);
    const chosen = best.params;
    // Temporal validation fits on data up to the validation cut; the test model is refitted on all training data.
    const testScorer = split.validTrain ? timed(() => model.prepare(split.train)(chosen)) : best.scorer;
    const test = evaluate(testScorer, split.test, evalOptions);
    log(
      `${testScorer.name}: fit ${fitSeconds.toFixed(1)} s, test ${select} ${test.metrics[select].toFixed(4)}`,
    );
    report.results.push({
      model: testScorer.name,
      params: { ...testScorer.params },
      valid: best.valid.metrics,
      test: test.metrics,
      train_seconds: roundTo(fitSeconds, 3),
      eval_seconds: roundTo(test.seconds, 3),
      target_in_history: test.targetInHistory,
      ...(tuning.length > 1 ? { tuning } : {}),
    });
  }
  return report;
}

/** x rounded to `digits` decimals (report timings). */
export function roundTo(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
