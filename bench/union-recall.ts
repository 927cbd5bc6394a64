/**
 * Union recall of the candidate sources (issue 7 item 1): on the validation lists of the `loo`
 * protocol, the share of users whose validation item is in the union of the sources' top-N
 * (HR@|list|), against each source alone at its own N and at the same length as that user's
 * union list. Mean ± sd over seeds. Only the validation/test lists are built (no fold models).
 * Writes bench/results/union-recall-<dataset>.json.
 *
 *   WATCHNEXT_THREADS=1 node dist/bench/union-recall.js --data ../shared/data/ml-100k [--seeds 1,2,3]
 *     [--sources dnn,ease,itemknn,pop7,pop30]
 */
import { basename } from "node:path";
import { loadDataset } from "../src/data/load.js";
import { unionRecall } from "../src/eval/ranking-metrics.js";
import { buildImpressions } from "../src/models/ranking/impression-builder.js";
import { parseSourceNames, SOURCE_NAMES } from "../src/models/sources/registry.js";
import { isMainModule, meanSd, writeBenchResult } from "./support.js";

interface Row {
  seed: number;
  meanListSize: number;
  union: number;
  /** Each source at its own N. */
  ownN: Record<string, number>;
  /** Each source alone with as many items as the user's union list. */
  sameSize: Record<string, number>;
}

export async function run(args: string[] = process.argv.slice(2)): Promise<unknown> {
  const get = (name: string, fallback: string): string => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
  };
  const dataPath = get("data", "../shared/data/ml-100k");
  const seeds = get("seeds", "1,2,3").split(",").map(Number);
  const sources = parseSourceNames(get("sources", SOURCE_NAMES.join(",")).split(","), "--sources");
  const data = await loadDataset(dataPath);
  const rows: Row[] = [];
  let topN: readonly number[] = [];
  for (const seed of seeds) {
    const imp = await buildImpressions(data, { sources, seed, training: false, cache: false });
    topN = imp.options.topN;
    const set = imp.valid;
    const r = unionRecall(set);
    const q = imp.split.valid;
    const sameSize: Record<string, number> = {};
    let maxSize = 0;
    for (let l = 0; l < set.users.length; l++)
      maxSize = Math.max(maxSize, set.listOffsets[l + 1] - set.listOffsets[l]);
    for (const source of imp.validSources) {
      const top = source.topN(q, maxSize);
      let hits = 0;
      for (let l = 0; l < set.users.length; l++) {
        const size = set.listOffsets[l + 1] - set.listOffsets[l];
        const target = q.targetItems[q.targetOffsets[l]];
        for (let k = 0; k < size; k++) if (top.items[l * maxSize + k] === target) hits++;
      }
      sameSize[source.name] = hits / set.users.length;
    }
    rows.push({ seed, meanListSize: r.meanListSize, union: r.union, ownN: { ...r.perSource }, sameSize });
    console.error(`${basename(dataPath)} seed ${seed}: ${JSON.stringify(rows[rows.length - 1])}`);
  }
  const summary = {
    dataset: data.name,
    protocol: "loo",
    split: "valid",
    topN: Object.fromEntries(sources.map((s, k) => [s, topN[k]])),
    seeds,
    meanListSize: meanSd(rows.map((r) => r.meanListSize)),
    union: meanSd(rows.map((r) => r.union)),
    ownN: Object.fromEntries(sources.map((s) => [s, meanSd(rows.map((r) => r.ownN[s]))])),
    sameSize: Object.fromEntries(sources.map((s) => [s, meanSd(rows.map((r) => r.sameSize[s]))])),
    rows,
  };
  const path = writeBenchResult(
    { benchmark: "union-recall", args, quick: false, config: { data: dataPath, seeds, sources } },
    summary,
    `union-recall-${data.name}.json`,
  );
  console.log(JSON.stringify({ ...summary, rows: undefined }, null, 2));
  console.error(`wrote ${path}`);
  return summary;
}

if (isMainModule(import.meta.url)) await run();
