/**
 * Ranker experiments over one set of impression lists: builds (or loads from the impression cache)
 * the leak-free lists and sources once, then trains one ranker per configuration and prints one
 * JSON line each. By default only VALIDATION figures (tuning, docs/results/ranking-tuning.md):
 * weighted per-user loss, AUC, list HR@10 and the two-stage HR/NDCG@10 through the shared
 * evaluation path. `--test` adds the test figures (ablations of the chosen configuration,
 * docs/results/ranking.md): the two-stage loo metrics and the ranking metrics of the test lists.
 *
 *   node dist/bench/ranking-experiments.js --data <path> --seed 1 [--cache <dir>] [--sources dnn,ease]
 *     [--build-only] [--test] ['<label>=<ranker config json>' ...]
 */
import { loadDataset } from "../src/data/load.js";
import { evaluate } from "../src/eval/evaluate.js";
import { rankingReport, weightedPerUserLoss } from "../src/eval/ranking-metrics.js";
import type { Metrics } from "../src/eval/types.js";
import { EngagementLookup, ItemTimeline } from "../src/features/ranking-context.js";
import type { RankerConfigInput } from "../src/models/ranking/config.js";
import { buildImpressions } from "../src/models/ranking/impression-builder.js";
import { dnnCandidateScores } from "../src/models/ranking/impression-scores.js";
import { Ranker } from "../src/models/ranking/ranker.js";
import { rankingInputs } from "../src/models/ranking/train-two-stage.js";
import { TwoStage } from "../src/models/ranking/two-stage.js";
import { DnnSource } from "../src/models/sources/dnn.js";
import { parseSourceNames } from "../src/models/sources/registry.js";
import type { FittedSource, SourceName } from "../src/models/sources/source.js";

const round = (m: Metrics) =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round(v * 1e4) / 1e4]));

async function main(args: string[]): Promise<void> {
  let data = "";
  let seed = 1;
  let cache: string | boolean = true;
  let buildOnly = false;
  let test = false;
  let sources: SourceName[] | undefined;
  const configs: Array<{ label: string; config: RankerConfigInput }> = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--data") data = args[++i];
    else if (a === "--seed") seed = Number(args[++i]);
    else if (a === "--cache") cache = args[++i];
    else if (a === "--sources") sources = parseSourceNames(args[++i].split(","), "--sources");
    else if (a === "--build-only") buildOnly = true;
    else if (a === "--test") test = true;
    else {
      const eq = a.indexOf("=");
      const label = eq > 0 && !a.startsWith("{") ? a.slice(0, eq) : `config${configs.length + 1}`;
      configs.push({
        label,
        config: JSON.parse(eq > 0 && !a.startsWith("{") ? a.slice(eq + 1) : a) as RankerConfigInput,
      });
    }
  }
  if (configs.length === 0) configs.push({ label: "default", config: {} });
  const dataset = await loadDataset(data);
  const imp = await buildImpressions(dataset, { seed, cache, sources, log: (l) => console.error(l) });
  if (buildOnly) return;
  const inputs = rankingInputs(imp, dataset);
  const train = imp.split.train;
  const timeline = ItemTimeline.fromDataset(train);
  const numItems = dataset.items.ids.length;
  const dnnOf = (list: readonly FittedSource[]) => list.find((s) => s.name === "dnn") as DnnSource;
  const header: Record<string, unknown> = {
    dataset: dataset.name,
    seed,
    sources: imp.sources.join(","),
    validDnnOrder: round(
      rankingReport(imp.valid, dnnCandidateScores(dnnOf(imp.validSources).model, imp.valid)),
    ),
    validStageOne: round(
      evaluate(dnnOf(imp.validSources).model.asScorer(), imp.split.valid, { numItems, ks: [10] }).metrics,
    ),
  };
  if (test) {
    header.testDnnOrder = round(
      rankingReport(imp.test, dnnCandidateScores(dnnOf(imp.testSources).model, imp.test)),
    );
    header.testStageOne = round(
      evaluate(dnnOf(imp.testSources).model.asScorer(), imp.split.test, { numItems }).metrics,
    );
  }
  console.log(JSON.stringify(header));
  for (const { label, config } of configs) {
    const t0 = performance.now();
    const ranker = await Ranker.fit(train, timeline, inputs.train, {
      config,
      seed,
      valid: inputs.valid,
      validLoss: weightedPerUserLoss,
    });
    const lookup = new EngagementLookup(dataset);
    const model = (list: readonly FittedSource[]) =>
      new TwoStage(
        dnnOf(list).model,
        list.map((source, k) => ({ source, n: imp.options.topN[k] })),
        ranker,
        timeline,
        lookup,
        inputs.log,
      );
    const out: Record<string, unknown> = {
      label,
      dataset: dataset.name,
      seed,
      config,
      bestEpoch: ranker.summary?.bestEpoch,
      epochs: ranker.summary?.epochs,
      seconds: Math.round((performance.now() - t0) / 100) / 10,
      validLists: round(rankingReport(imp.valid, ranker.score(inputs.valid))),
      valid: round(
        evaluate(model(imp.validSources).asScorer(), imp.split.valid, { numItems, ks: [10] }).metrics,
      ),
    };
    if (test) {
      out.testLists = round(rankingReport(imp.test, ranker.score(inputs.test)));
      out.test = round(evaluate(model(imp.testSources).asScorer(), imp.split.test, { numItems }).metrics);
    }
    console.log(JSON.stringify(out));
  }
}

await main(process.argv.slice(2));
