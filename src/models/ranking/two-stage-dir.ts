/**
 * The two-stage model directory written by `watchnext train`: one directory holding every part,
 *
 *   manifest.json, tensors.safetensors   kind "two-stage": protocol, sources and their top-N, the
 *                                        SHA-256 of each part's manifest, the earlier impressions
 *   candidates/                          the candidate generator (the "dnn" source)
 *   sources/<name>/                      each other source (saveSource)
 *   ranker/                              the ranker
 *
 * Written into a staging sibling and renamed into place (a crash leaves the old model or the new
 * one). Loading verifies every part against the top manifest before using it, so parts from two
 * different trainings are never mixed.
 */
import { existsSync, mkdirSync, renameSync, rmSync, rmdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { numItems, type Dataset } from "../../data/dataset.js";
import type { Kernels } from "../../engine/kernels/kernels.js";
import { replaceDirectory, tempSibling } from "../../io/atomic.js";
import {
  loadModel,
  MANIFEST_FILE,
  ModelFileError,
  readManifest,
  saveModel,
  TENSORS_FILE,
  type JsonValue,
  type Manifest,
} from "../../engine/model-file/index.js";
import { makeSplit } from "../../eval/run-baselines.js";
import type { Split } from "../../eval/types.js";
import { EngagementLookup, ImpressionLog, ItemTimeline } from "../../features/ranking-context.js";
import { CANDIDATE_MODEL_KIND } from "../candidates/model-io.js";
import { DnnSource } from "../sources/dnn.js";
import { loadSource, saveSource } from "../sources/registry.js";
import type { FittedSource, SourceName } from "../sources/source.js";
import { Ranker } from "./ranker.js";
import { TwoStage, type SourceSlot } from "./two-stage.js";

export const TWO_STAGE_MODEL_KIND = "two-stage";

interface TwoStageConfig {
  protocol: "loo" | "temporal";
  protocolParams: JsonValue;
  sources: Array<{ name: string; n: number; dir: string }>;
  /** Part directory → its manifest's manifestSha256. */
  parts: Record<string, string>;
  /** Impression times are stored as float32 seconds after this base. */
  impressionBase: number;
}

export interface TwoStageSaveOptions {
  readonly protocol: "loo" | "temporal";
  readonly protocolParams: JsonValue;
  readonly metadata?: Record<string, JsonValue>;
}

function partDir(name: string): string {
  return name === "dnn" ? "candidates" : join("sources", name);
}

/** Writes the two-stage model directory atomically. */
export function saveTwoStage(
  dir: string,
  model: TwoStage,
  log: ImpressionLog,
  options: TwoStageSaveOptions,
): void {
  if (model.ranker === null) throw new Error("saveTwoStage: the model has no ranker");
  const target = resolve(dir);
  checkReplaceable(target);
  mkdirSync(dirname(target), { recursive: true });
  const staging = tempSibling(target, "stage");
  try {
    mkdirSync(staging);
    const parts: Record<string, string> = {};
    for (const s of model.sources) {
      const rel = partDir(s.source.name);
      saveSource(s.source, join(staging, rel));
      parts[rel] = readManifest(join(staging, rel)).manifestSha256;
    }
    model.ranker.save(join(staging, "ranker"));
    parts.ranker = readManifest(join(staging, "ranker")).manifestSha256;
    let base = Infinity;
    for (const t of log.times) base = Math.min(base, t);
    if (!Number.isFinite(base)) base = 0;
    const config: TwoStageConfig = {
      protocol: options.protocol,
      protocolParams: options.protocolParams,
      sources: model.sources.map((s) => ({ name: s.source.name, n: s.n, dir: partDir(s.source.name) })),
      parts,
      impressionBase: base,
    };
    const top = join(staging, "top");
    const len = (n: number) => [Math.max(n, 1)];
    const pad = (a: Float32Array) => (a.length > 0 ? a : new Float32Array(1));
    saveModel(top, {
      kind: TWO_STAGE_MODEL_KIND,
      config: config as unknown as JsonValue,
      vocabularies: {},
      metadata: { ...options.metadata },
      tensors: {
        "impressions.offsets": { shape: [log.offsets.length], data: Float32Array.from(log.offsets) },
        "impressions.items": { shape: len(log.items.length), data: pad(Float32Array.from(log.items)) },
        "impressions.times": {
          shape: len(log.times.length),
          data: pad(Float32Array.from(log.times, (t) => t - base)),
        },
      },
    });
    renameSync(join(top, MANIFEST_FILE), join(staging, MANIFEST_FILE));
    renameSync(join(top, TENSORS_FILE), join(staging, TENSORS_FILE));
    rmdirSync(top);
    replaceDirectory(staging, target);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Only a previous two-stage model may be replaced. */
function checkReplaceable(target: string): void {
  if (!existsSync(target)) return;
  if (!statSync(target).isDirectory())
    throw new ModelFileError(target, "exists and is not a directory; refusing to replace it with a model");
  let kind: string | null = null;
  try {
    kind = readManifest(target).kind;
  } catch {
    kind = null;
  }
  if (kind !== TWO_STAGE_MODEL_KIND)
    throw new ModelFileError(target, "exists and is not a two-stage model directory; refusing to replace it");
}

/** Whether `dir` holds a two-stage model (else it may be a candidates-only directory). */
export function isTwoStageDir(dir: string): boolean {
  return readManifest(dir).kind === TWO_STAGE_MODEL_KIND;
}

export interface LoadedTwoStage {
  readonly model: TwoStage;
  readonly manifest: Manifest;
  readonly split: Split;
  readonly protocol: "loo" | "temporal";
}

/**
 * Loads and verifies a two-stage directory. `data` is the dataset it was trained on (the split is
 * remade from it, and every source refuses other events).
 */
export function loadTwoStage(dir: string, data: Dataset, kernels?: Kernels): LoadedTwoStage {
  const loaded = loadModel(dir, TWO_STAGE_MODEL_KIND);
  const config = loaded.config as unknown as TwoStageConfig;
  if (!config || !Array.isArray(config.sources) || typeof config.parts !== "object")
    throw new ModelFileError(join(dir, MANIFEST_FILE), "config.sources / config.parts are missing");
  for (const [rel, sha] of Object.entries(config.parts)) {
    const m = readManifest(join(dir, rel));
    if (m.manifestSha256 !== sha)
      throw new ModelFileError(
        join(dir, rel, MANIFEST_FILE),
        "does not match the two-stage manifest (a part was replaced)",
      );
  }
  const split = makeSplit(data, config.protocol);
  const train = split.train;
  const slots: SourceSlot[] = config.sources.map((s) => ({
    source: loadSource(join(dir, s.dir), train, kernels) as FittedSource,
    n: s.n,
  }));
  const dnn = slots.find((s) => s.source.name === ("dnn" satisfies SourceName));
  if (!dnn || !(dnn.source instanceof DnnSource))
    throw new ModelFileError(
      join(dir, "candidates"),
      `is not a candidate generator (${CANDIDATE_MODEL_KIND})`,
    );
  const timeline = ItemTimeline.fromDataset(train);
  const ranker = Ranker.load(join(dir, "ranker"), train, timeline, kernels);
  const t = loaded.tensors;
  const offsets = Int32Array.from(t["impressions.offsets"].data);
  const total = offsets[offsets.length - 1];
  const log = new ImpressionLog(
    offsets,
    Int32Array.from(t["impressions.items"].data.subarray(0, total)),
    Float64Array.from(t["impressions.times"].data.subarray(0, total), (x) => x + config.impressionBase),
  );
  if (offsets.length !== data.users.ids.length + 1 || log.items.some((i) => i < 0 || i >= numItems(data)))
    throw new ModelFileError(
      join(dir, TENSORS_FILE),
      "impression log does not fit the dataset's users / items",
    );
  const model = new TwoStage(dnn.source.model, slots, ranker, timeline, new EngagementLookup(data), log);
  return { model, manifest: loaded.manifest, split, protocol: config.protocol };
}
