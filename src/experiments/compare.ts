/**
 * `compare`: MostPop, ItemKNN, EASE, the candidate generator and the two-stage recommender under
 * every protocol, mean ± sd over seeds, in one table and one chart (the README's result table).
 * The baselines are deterministic given the split (no random choice), so each runs once per
 * protocol and its sd is 0 by construction; the two neural models run once per seed.
 */
import { barChart } from "../charts/svg-chart.js";
import type { BaselineName } from "../eval/run-baselines.js";
import { baselineCell, candidateCell, twoStageCell } from "./cells.js";
import type { ResultFile } from "./result-file.js";
import { compareMeans, errorOf, formatMeanSd, summarize, type MeanSd } from "./stats.js";
import type {
  CellResult,
  Experiment,
  ExperimentCell,
  ExperimentProtocol,
  ExperimentResults,
} from "./types.js";

export const COMPARE_MODELS = ["mostpop", "itemknn", "ease", "candidates", "two-stage"] as const;
export type CompareModel = (typeof COMPARE_MODELS)[number];

const LABEL: Record<CompareModel, string> = {
  mostpop: "MostPop",
  itemknn: "ItemKNN",
  ease: "EASE",
  candidates: "candidate generator",
  "two-stage": "two-stage recommender",
};

const BASELINES: readonly BaselineName[] = ["mostpop", "itemknn", "ease"];

/** Metrics of the table, per protocol (the headline one first). */
export const COMPARE_METRICS: Record<ExperimentProtocol, readonly string[]> = {
  loo: ["NDCG@10", "HR@10", "HR@50", "MRR"],
  temporal: ["MAP@10", "Recall@10", "NDCG@10", "Recall@50"],
};

function isBaseline(m: CompareModel): m is BaselineName {
  return (BASELINES as readonly string[]).includes(m);
}

function cellModel(c: CellResult): CompareModel {
  return c.config.model as CompareModel;
}

/** Mean ± sd of `metric` for one model under one protocol. */
export function compareSummary(
  results: ExperimentResults,
  protocol: ExperimentProtocol,
  model: CompareModel,
  metric: string,
): MeanSd | undefined {
  return summarize(
    results,
    (c) => (c.config.protocol === protocol && cellModel(c) === model ? "x" : null),
    metric,
  ).get("x");
}

function verdict(results: ExperimentResults, protocols: readonly ExperimentProtocol[]): string {
  const parts: string[] = [];
  for (const p of protocols) {
    const metric = COMPARE_METRICS[p][0];
    const get = (m: CompareModel) => compareSummary(results, p, m, metric);
    const two = get("two-stage");
    const cand = get("candidates");
    const bestBase = BASELINES.map((b) => ({ b, s: get(b) }))
      .filter((x) => x.s !== undefined)
      .sort((a, b) => (b.s?.mean ?? 0) - (a.s?.mean ?? 0))[0];
    if (cand === undefined || bestBase === undefined) {
      parts.push(
        `Under ${p} the candidate generator or the baselines have not finished, so nothing is claimed.`,
      );
      continue;
    }
    const vsBase = cand.mean > bestBase.s!.mean ? "above" : "not above";
    let s = `Under ${p} (test ${metric}), the candidate generator scores ${formatMeanSd(cand)}, ${vsBase} the best baseline (${LABEL[bestBase.b]}, ${bestBase.s!.mean.toFixed(4)}, deterministic)`;
    if (two === undefined)
      s += "; the two-stage recommender has not finished, so the ranking claim is untested here.";
    else {
      const gain = two.mean - cand.mean;
      const cmp = compareMeans(two, cand);
      const holds =
        cmp === "above"
          ? "holds (by more than one sd)"
          : cmp === "below"
            ? "does not hold (worse by more than one sd)"
            : cmp === "within"
              ? "is not shown (the difference is within one sd)"
              : "cannot be judged yet (one seed only)";
      s += `; the two-stage recommender scores ${formatMeanSd(two)}, so "ranking the candidates improves on the candidate generator" ${holds} (${gain >= 0 ? "+" : ""}${gain.toFixed(4)}).`;
    }
    parts.push(s);
  }
  return `The paper claims a deep candidate generator beats factorization baselines and that the ranking stage improves on its order. ${parts.join(" ")}`;
}

export const compareExperiment: Experiment = {
  name: "compare",
  title: "Baselines vs the candidate generator vs the two-stage recommender",
  claim:
    "the deep candidate generator outperforms classical collaborative filtering, and the second (ranking) stage improves on the candidate generator's order (Sections 3-4).",
  defaultProtocols: ["loo", "temporal"],
  cells(dataset, options) {
    const cells: ExperimentCell[] = [];
    const add = (protocol: ExperimentProtocol, model: CompareModel, seed: number, id: string) =>
      cells.push({ id, config: { protocol, model }, seed, dataset: dataset.name });
    // Cheap cells first, so the baselines and stage one are in the table before the slow two-stage cells.
    for (const p of options.protocols) for (const b of BASELINES) add(p, b, options.seeds[0], `${p}/${b}`);
    for (const s of options.seeds)
      for (const p of options.protocols) add(p, "candidates", s, `${p}/candidates/seed${s}`);
    for (const s of options.seeds)
      for (const p of options.protocols) add(p, "two-stage", s, `${p}/two-stage/seed${s}`);
    return cells;
  },
  async runCell(cell, ctx) {
    const protocol = cell.config.protocol as ExperimentProtocol;
    const model = cell.config.model as CompareModel;
    if (isBaseline(model)) return baselineCell(ctx, protocol, model);
    if (model === "candidates") return candidateCell(ctx, protocol, {}, cell.seed);
    return twoStageCell(ctx, protocol, cell.seed);
  },
  report(results) {
    const protocols = results.options.protocols;
    const expected = results.options.seeds.length;
    const header = ["model", ...protocols.flatMap((p) => COMPARE_METRICS[p].map((m) => `${p} ${m}`))];
    const rows = COMPARE_MODELS.map((model) => {
      const cells = protocols.flatMap((p) =>
        COMPARE_METRICS[p].map((m) => {
          const s = compareSummary(results, p, model, m);
          return isBaseline(model) && s !== undefined ? s.mean.toFixed(4) : formatMeanSd(s, 4, expected);
        }),
      );
      return `| ${LABEL[model]} | ${cells.join(" | ")} |`;
    });
    const table = [
      `| ${header.join(" | ")} |`,
      `|---|${header
        .slice(1)
        .map(() => "---:")
        .join("|")}|`,
      ...rows,
    ].join("\n");
    const chartMetrics = protocols.flatMap((p) => COMPARE_METRICS[p].slice(0, 2).map((m) => ({ p, m })));
    const chart = barChart({
      title: `Test metrics on ${results.dataset} (mean ± sd over seeds ${results.options.seeds.join(", ")})`,
      xLabel: "protocol and metric (@10: top-10 list, seen items filtered)",
      yLabel: "test metric (fraction, 0-1)",
      series: COMPARE_MODELS.map((m) => LABEL[m]),
      groups: chartMetrics.map(({ p, m }) => ({
        label: `${p} ${m}`,
        values: COMPARE_MODELS.map((model) => {
          const s = compareSummary(results, p, model, m);
          return s === undefined ? null : { value: s.mean, sd: errorOf(s) };
        }),
      })),
      width: 760,
    });
    const stage1 = protocols
      .map((p) => {
        const m = COMPARE_METRICS[p][0];
        const s = summarize(
          results,
          (c) => (c.config.protocol === p && cellModel(c) === "two-stage" ? "x" : null),
          `stage1 ${m}`,
        ).get("x");
        return s === undefined ? null : `${p} ${m} ${formatMeanSd(s, 4, expected)}`;
      })
      .filter((x) => x !== null);
    const metricsText = [
      `Test split, full ranking over the catalog, seen items filtered (docs/protocol.md); the baselines' hyper-parameters (EASE λ) are chosen on validation. MostPop, ItemKNN and EASE have no random choice: one run per protocol (seed irrelevant, sd 0 by construction, shown without ±); the candidate generator and the two-stage recommender are mean ± sd over seeds ${results.options.seeds.join(", ")} (sample sd; n shown when fewer finished). Under loo the metrics are HR@K / NDCG@K / MRR of the next watch; under temporal Recall@K / NDCG@K / MAP@K of the watches in the window after the cut.`,
      stage1.length > 0
        ? `The two-stage cells also report the stage one they contain (their own candidate generator, trained in the same run): ${stage1.join("; ")}.`
        : "",
    ]
      .filter((x) => x !== "")
      .join("\n\n");
    return {
      verdict: verdict(results, protocols),
      sections: [
        { heading: "Results", markdown: `${metricsText}\n\n${table}`, charts: ["compare"] },
        {
          heading: "Settings",
          markdown: `Candidate generator: the tuned defaults (docs/results/candidates-tuning.md)${Object.keys(results.options.candidates).length > 0 ? ` with \`${JSON.stringify(results.options.candidates)}\` over them` : ""}; early stopping on validation NDCG@10; under temporal validation fits up to the validation cut and the test model is refitted on the whole training part for the chosen epochs. Two-stage: \`watchnext train\`'s path (sources dnn, EASE, ItemKNN, pop7, pop30; leak-free fold impressions; ranker defaults${Object.keys(results.options.ranker).length > 0 ? ` with \`${JSON.stringify(results.options.ranker)}\`` : ""}).`,
        },
      ],
      charts: [
        {
          name: "compare",
          svg: chart,
          caption: `Headline test metrics of every model under each protocol on ${results.dataset}; error bars ± sd over seeds.`,
        },
      ],
    };
  },
};

/** README columns: loo next-watch metrics and temporal holdout metrics. */
const README_COLUMNS: ReadonlyArray<{ protocol: ExperimentProtocol; metric: string }> = [
  { protocol: "loo", metric: "HR@10" },
  { protocol: "loo", metric: "NDCG@10" },
  { protocol: "loo", metric: "MRR" },
  { protocol: "temporal", metric: "MAP@10" },
  { protocol: "temporal", metric: "Recall@10" },
];

/**
 * The README's result table from compare result files (docs/results/compare-<dataset>/result.json):
 * one row per dataset × model, mean ± sd over the seeds the file holds (baselines: deterministic,
 * one value), "—" for a model with no finished cell and n when fewer seeds finished than the most
 * any model has. scripts/readme-figures.mjs can print it between README markers.
 */
export function compareReadmeTable(files: readonly ResultFile[]): string {
  const lines = [
    `| data | model | ${README_COLUMNS.map((c) => `${c.protocol} ${c.metric}`).join(" | ")} |`,
    `|---|---|${README_COLUMNS.map(() => "---:").join("|")}|`,
  ];
  for (const file of files) {
    if (file.experiment !== "compare")
      throw new Error(`compareReadmeTable: a ${file.experiment} result file, expected compare`);
    const seeds = [
      ...new Set(file.cells.filter((c) => !isBaseline(c.config.model as CompareModel)).map((c) => c.seed)),
    ];
    const results: ExperimentResults = {
      experiment: file.experiment,
      dataset: file.dataset.name,
      planned: file.cells,
      finished: new Map(file.cells.map((c) => [c.id, c])),
      options: { seeds, protocols: ["loo", "temporal"], temporal: {}, candidates: {}, ranker: {} },
    };
    for (const model of COMPARE_MODELS) {
      const values = README_COLUMNS.map(({ protocol, metric }) => {
        const s = compareSummary(results, protocol, model, metric);
        return isBaseline(model) && s !== undefined ? s.mean.toFixed(4) : formatMeanSd(s, 4, seeds.length);
      });
      lines.push(`| ${file.dataset.name} | ${LABEL[model]} | ${values.join(" | ")} |`);
    }
  }
  return lines.join("\n");
}
