/**
 * The model behind `watchnext quickstart`: trained once per (data files, config, seed, trainer) and
 * reused afterwards. The key is a SHA-256 over the bytes of every data file, the resolved config and
 * the trainer's name, so editing a data file or a setting trains a new model while rerunning the
 * command starts serving within seconds. Models live in `<modelsDir>/quickstart-<key>`.
 *
 * `QUICKSTART_TRAINER` is the one place that says how quickstart trains and evaluates: both stages
 * through `watchnext train`'s path (src/cli/two-stage-training.ts), evaluated by the two-stage scorer.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Dataset } from "../data/dataset.js";
import type { LoadOptions } from "../data/load-options.js";
import { readManifest } from "../engine/model-file/index.js";
import { evaluateSplit } from "../eval/evaluate.js";
import { resolveCandidateModelConfig, type CandidateConfigInput } from "../models/candidates/config.js";
import type { TrainingEvent } from "../models/candidates/train.js";
import { trainTwoStageModel } from "./two-stage-training.js";
import { resolveRankerConfig } from "../models/ranking/config.js";
import { loadTwoStage, TWO_STAGE_MODEL_KIND } from "../models/ranking/two-stage-dir.js";

/** Test-set metrics printed by quickstart (leave-one-out protocol). */
export interface TestMetrics {
  readonly hr10: number;
  readonly ndcg10: number;
}

export interface QuickstartTrainer {
  /** Part of the model key: a new trainer never reuses another's models. */
  readonly name: string;
  /** The manifest kind of the directory it writes (checked before reuse). */
  readonly kind: string;
  /** The fully resolved config (defaults filled in), hashed into the key. */
  resolveConfig(config: CandidateConfigInput): unknown;
  train(
    dataset: Dataset,
    opts: {
      config: CandidateConfigInput;
      seed: number;
      out: string;
      onProgress?: (e: TrainingEvent) => void;
      signal?: AbortSignal;
    },
  ): Promise<void>;
  /** Loads the model from `dir` (verifying its checksums) and scores the test queries. */
  evaluateTest(dir: string, dataset: Dataset): TestMetrics;
}

export const QUICKSTART_TRAINER: QuickstartTrainer = {
  name: "two-stage-loo-v1",
  kind: TWO_STAGE_MODEL_KIND,
  resolveConfig(config) {
    return { candidates: resolveCandidateModelConfig(config, "--config"), ranker: resolveRankerConfig({}) };
  },
  async train(dataset, { config, seed, out, signal }) {
    // The impression builder and the ranker log their phases (fold fits, epochs) line by line.
    await trainTwoStageModel(dataset, {
      seed,
      protocol: "loo",
      out,
      impressions: { settings: { dnn: { config } } },
      log: (line) => console.error(`watchnext: ${line}`),
      signal,
    });
  },
  evaluateTest(dir, dataset) {
    const { model, split } = loadTwoStage(dir, dataset);
    const { metrics } = evaluateSplit(model.asScorer(), split, "test");
    return { hr10: metrics["HR@10"], ndcg10: metrics["NDCG@10"] };
  },
};

/** The files a dataset was read from: every file under a MovieLens directory, or a log and its side files. */
export function dataFiles(dataPath: string, options: LoadOptions = {}): string[] {
  const root = resolve(dataPath);
  const files: string[] = [];
  if (statSync(root).isDirectory()) {
    for (const name of readdirSync(root, { recursive: true, encoding: "utf8" }).sort()) {
      const path = join(root, name);
      if (statSync(path).isFile()) files.push(path);
    }
  } else {
    files.push(root);
  }
  for (const side of [options.usersFile, options.itemsFile, options.tagsFile])
    if (side !== undefined) files.push(resolve(side));
  return files;
}

/**
 * The model key: SHA-256 (first 16 hex digits) over the trainer, seed, resolved config, the
 * loader's column options and, for each data file, its path relative to the data root, size and
 * bytes (streamed, so a large release is not held in memory).
 */
export async function quickstartKey(
  dataPath: string,
  options: LoadOptions,
  config: CandidateConfigInput,
  seed: number,
  trainer: QuickstartTrainer = QUICKSTART_TRAINER,
): Promise<string> {
  const hash = createHash("sha256");
  const loader = {
    lenient: options.lenient ?? false,
    userCol: options.userCol ?? null,
    itemCol: options.itemCol ?? null,
    timeCol: options.timeCol ?? null,
    weightCol: options.weightCol ?? null,
  };
  hash.update(JSON.stringify({ trainer: trainer.name, seed, config: trainer.resolveConfig(config), loader }));
  const root = resolve(dataPath);
  for (const file of dataFiles(dataPath, options)) {
    const name = relative(root, file) || file;
    hash.update(`\0${name}\0${statSync(file).size}\0`);
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  }
  return hash.digest("hex").slice(0, 16);
}

/** A finished (not interrupted) model of the trainer's kind, or null. */
function reusable(dir: string, trainer: QuickstartTrainer): boolean {
  if (!existsSync(dir)) return false;
  try {
    return readManifest(dir, trainer.kind).metadata.interrupted !== true;
  } catch {
    return false;
  }
}

export interface PreparedModel {
  readonly dir: string;
  readonly key: string;
  readonly reused: boolean;
  readonly test: TestMetrics;
  /** True when training was interrupted: nothing is kept and nothing should be served. */
  readonly interrupted: boolean;
}

export interface PrepareOptions {
  readonly dataPath: string;
  readonly loadOptions: LoadOptions;
  readonly dataset: Dataset;
  readonly modelsDir: string;
  readonly config: CandidateConfigInput;
  readonly seed: number;
  /** Train even when a model with the same key exists. */
  readonly retrain?: boolean;
  readonly onProgress?: (e: TrainingEvent) => void;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
  readonly trainer?: QuickstartTrainer;
}

/** Reuses `<modelsDir>/quickstart-<key>` or trains it, then evaluates it on the test queries. */
export async function prepareQuickstartModel(opts: PrepareOptions): Promise<PreparedModel> {
  const trainer = opts.trainer ?? QUICKSTART_TRAINER;
  const log = opts.log ?? (() => {});
  const key = await quickstartKey(opts.dataPath, opts.loadOptions, opts.config, opts.seed, trainer);
  const dir = join(opts.modelsDir, `quickstart-${key}`);
  if (!opts.retrain && reusable(dir, trainer)) {
    try {
      const test = trainer.evaluateTest(dir, opts.dataset);
      log(`reusing ${dir} (trained on the same data files and config)`);
      return { dir, key, reused: true, test, interrupted: false };
    } catch (err) {
      // A damaged model (checksum mismatch, missing tensor) is retrained, not served.
      log(`cannot reuse ${dir}: ${(err as Error).message}; training again`);
    }
  }
  log(`training ${dir}`);
  await trainer.train(opts.dataset, {
    config: opts.config,
    seed: opts.seed,
    out: dir,
    onProgress: opts.onProgress,
    signal: opts.signal,
  });
  if (opts.signal?.aborted) {
    // A model cut short would otherwise be reused as if it were the finished one.
    rmSync(dir, { recursive: true, force: true });
    return { dir, key, reused: false, test: { hr10: NaN, ndcg10: NaN }, interrupted: true };
  }
  return { dir, key, reused: false, test: trainer.evaluateTest(dir, opts.dataset), interrupted: false };
}
