/**
 * Shared set-up of the service tests: a tiny candidate model trained in-process on small synthetic
 * data (about a second), a tiny two-stage model (a few seconds), and a server on it listening on
 * 127.0.0.1 at a free port.
 */
import { join } from "node:path";
import { trainTwoStageModel } from "../../src/cli/two-stage-training.js";
import { loadDataset } from "../../src/data/load.js";
import { writeSynthetic } from "../../src/data/synth.js";
import { CandidateModel } from "../../src/models/candidates/model.js";
import { startServer, type RunningServer, type ServeOptions } from "../../src/serve/start.js";

export const TINY_CONFIG = {
  network: { depth: 1, outputDim: 16 },
  train: { epochs: 2, batchSize: 128, lr: 0.005 },
  features: { embeddingDim: { item: 16, token: 8 }, recentWatches: { counts: [1, 5] } },
};

/** Synthetic data (200 users, ~300 items) in dir/data<name> and a model trained on it in dir/model<name>. */
export async function trainTinyModel(
  dir: string,
  opts: { seed?: number; items?: number; name?: string; modelSeed?: number } = {},
): Promise<{ dataDir: string; modelDir: string }> {
  const name = opts.name ?? "";
  const dataDir = join(dir, `data${name}`);
  const modelDir = join(dir, `model${name}`);
  await writeSynthetic(dataDir, { users: 200, items: opts.items ?? 300, events: 8000, seed: opts.seed ?? 5 });
  const data = await loadDataset(dataDir);
  const model = await CandidateModel.fit(data, { config: TINY_CONFIG, seed: opts.modelSeed ?? 1 });
  model.save(modelDir, { dataset: data.name, source: dataDir });
  return { dataDir, modelDir };
}

/** A server on port 0 (any free one) of 127.0.0.1. */
export async function startTestServer(
  opts: Omit<ServeOptions, "port" | "host"> & { store: string },
): Promise<RunningServer> {
  return startServer({ ...opts, port: 0, host: "127.0.0.1" });
}

/** Another model on the same data (a different training seed), in `modelDir`. */
export async function trainAnotherModel(dataDir: string, modelDir: string, seed: number): Promise<void> {
  const data = await loadDataset(dataDir);
  const model = await CandidateModel.fit(data, { config: TINY_CONFIG, seed });
  model.save(modelDir, { dataset: data.name, source: dataDir });
}

/**
 * A tiny two-stage model (sources + a small ranker, a few seconds) on synthetic data with
 * demographics in dir/data<name>, written to dir/model<name>.
 */
export async function trainTinyTwoStage(
  dir: string,
  opts: { seed?: number; name?: string } = {},
): Promise<{ dataDir: string; modelDir: string }> {
  const name = opts.name ?? "";
  const dataDir = join(dir, `data${name}`);
  const modelDir = join(dir, `model${name}`);
  await writeSynthetic(dataDir, { users: 200, items: 300, events: 8000, seed: opts.seed ?? 5 });
  const data = await loadDataset(dataDir);
  await trainTwoStageModel(data, {
    seed: 1,
    protocol: "loo",
    out: modelDir,
    ranker: { network: { hidden: [32] }, train: { epochs: 3 } },
    impressions: { folds: 2, settings: { dnn: { config: TINY_CONFIG } } },
  });
  return { dataDir, modelDir };
}
