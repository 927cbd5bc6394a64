/**
 * Ranker tuning on VALIDATION only (docs/results/ranking-tuning.md): builds (or loads from the
 * impression cache) the leak-free impression lists and sources once, then trains one ranker per
 * configuration given and prints each one's validation weighted per-user loss, AUC and the
 * two-stage validation HR@10 / NDCG@10 through the shared evaluation path. Test queries are never
 * scored here.
 *
 *   node dist/bench/ranking-tune.js --data <path> --seed 1 --cache <dir> '<ranker config json>' ...
 */
import { loadDataset } from "../src/data/load.js";
import { evaluate } from "../src/eval/evaluate.js";
import { rankingReport } from "../src/eval/ranking-metrics.js";
import { dnnCandidateScores } from "../src/models/ranking/impression-scores.js";
import { weightedPerUserLoss } from "../src/eval/ranking-metrics.js";
import { ItemTimeline, EngagementLookup } from "../src/features/ranking-context.js";
import type { RankerConfigInput } from "../src/models/ranking/config.js";
import { buildImpressions } from "../src/models/ranking/impression-builder.js";
import { Ranker } from "../src/models/ranking/ranker.js";
import { rankingInputs } from "../src/models/ranking/train-two-stage.js";
import { TwoStage } from "../src/models/ranking/two-stage.js";
import { DnnSource } from "../src/models/sources/dnn.js";

async function main(args: string[]): Promise<void> {
  let data = "";
  let seed = 1;
  let cache: string | boolean = true;
  const configs: RankerConfigInput[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--data") data = args[++i];
    else if (args[i] === "--seed") seed = Number(args[++i]);
    else if (args[i] === "--cache") cache = args[++i];
    else configs.push(JSON.parse(args[i]) as RankerConfigInput);
  }
  if (configs.length === 0) configs.push({});
  const dataset = await loadDataset(data);
  const imp = await buildImpressions(dataset, { seed, cache, log: (l) => console.error(l) });
  const inputs = rankingInputs(imp, dataset);
  const train = imp.split.train;
  const timeline = ItemTimeline.fromDataset(train);
  const dnnValid0 = imp.validSources.find((s) => s.name === "dnn") as DnnSource;
  const dnnScores = dnnCandidateScores(dnnValid0.model, imp.valid);
  const base = rankingReport(imp.valid, dnnScores);
  console.log(`dnn order on valid lists: ${JSON.stringify(base)}`);
  const dnnValid = imp.validSources.find((s) => s.name === "dnn") as DnnSource;
  const one = evaluate(dnnValid.model.asScorer(), imp.split.valid, {
    numItems: dataset.items.ids.length,
    ks: [10],
  });
  console.log(`stage one on valid: HR@10 ${one.metrics["HR@10"]} NDCG@10 ${one.metrics["NDCG@10"]}`);
  for (const config of configs) {
    const t0 = performance.now();
    const ranker = await Ranker.fit(train, timeline, inputs.train, {
      config,
      seed,
      valid: inputs.valid,
      validLoss: weightedPerUserLoss,
    });
    const logits = ranker.score(inputs.valid);
    const rep = rankingReport(imp.valid, logits);
    const dnn = imp.validSources.find((s) => s.name === "dnn") as DnnSource;
    const slots = imp.validSources.map((source, k) => ({ source, n: imp.options.topN[k] }));
    const model = new TwoStage(dnn.model, slots, ranker, timeline, new EngagementLookup(dataset), inputs.log);
    const r = evaluate(model.asScorer(), imp.split.valid, { numItems: dataset.items.ids.length, ks: [10] });
    const s = ranker.summary;
    console.log(
      JSON.stringify({
        dataset: dataset.name,
        seed,
        config,
        bestEpoch: s?.bestEpoch,
        epochs: s?.epochs,
        seconds: Math.round((performance.now() - t0) / 100) / 10,
        validLoss: rep.weightedLoss,
        validAUC: rep.AUC,
        validListHR10: rep["HR@10"],
        validHR10: r.metrics["HR@10"],
        validNDCG10: r.metrics["NDCG@10"],
      }),
    );
  }
}

await main(process.argv.slice(2));
