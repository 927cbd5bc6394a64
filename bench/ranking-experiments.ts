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
import type { Metrics } from "../src/eval/types.js";
import type { RankerConfigInput } from "../src/models/ranking/config.js";
import {
  fitRankerVariant,
  listMetrics,
  prepareRankerWorkbench,
  stageOneReport,
  twoStageMetrics,
} from "../src/models/ranking/ranker-variants.js";
import { parseSourceNames } from "../src/models/sources/registry.js";
import type { SourceName } from "../src/models/sources/source.js";

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
  const wb = await prepareRankerWorkbench(dataset, {
    seed,
    cache,
    sources,
    log: (l) => console.error(l),
  });
  if (buildOnly) return;
  const base = stageOneReport(wb, test);
  const header: Record<string, unknown> = {
    dataset: dataset.name,
    seed,
    sources: wb.impressions.sources.join(","),
    ...Object.fromEntries(Object.entries(base).map(([k, m]) => [k, round(m)])),
  };
  console.log(JSON.stringify(header));
  for (const { label, config } of configs) {
    const { ranker, seconds } = await fitRankerVariant(wb, config, { seed });
    const out: Record<string, unknown> = {
      label,
      dataset: dataset.name,
      seed,
      config,
      bestEpoch: ranker.summary?.bestEpoch,
      epochs: ranker.summary?.epochs,
      seconds: Math.round(seconds * 10) / 10,
      validLists: round(listMetrics(ranker, wb.inputs.valid)),
      valid: round(twoStageMetrics(wb, ranker, "valid")),
    };
    if (test) {
      out.testLists = round(listMetrics(ranker, wb.inputs.test));
      out.test = round(twoStageMetrics(wb, ranker, "test"));
    }
    console.log(JSON.stringify(out));
  }
}

await main(process.argv.slice(2));
