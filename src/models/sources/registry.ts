/**
 * The built-in sources by name: default list lengths, factories from one settings object, and
 * saving / restoring a fitted source in a model directory. The DNN is saved as its candidate-model
 * directory (weights); EASE, ItemKNN and the popularity sources are deterministic and fast to fit,
 * so their directory holds only their settings and the fingerprint of the fitting events, and
 * loading refits them on those events (refused when the events given differ).
 */
import type { Dataset } from "../../data/dataset.js";
import type { Kernels } from "../../engine/kernels/kernels.js";
import { readManifest, saveModel, type JsonValue } from "../../engine/model-file/index.js";
import { CANDIDATE_MODEL_KIND } from "../candidates/model-io.js";
import { CandidateModel } from "../candidates/model.js";
import { DnnSource, dnnSourceFactory, type DnnSourceOptions } from "./dnn.js";
import { checkFingerprint, fingerprintOf, type FitDataFingerprint } from "./fit-data.js";
import {
  easeSourceFactory,
  fitEaseSource,
  fitItemKnnSource,
  itemKnnSourceFactory,
  type EaseSourceOptions,
  type ItemKnnSourceOptions,
} from "./item-item.js";
import { PopularSource, popularSourceFactory } from "./popular.js";
import type { FittedSource, SourceName, TypedSourceFactory } from "./source.js";

export const SOURCE_NAMES: readonly SourceName[] = ["dnn", "ease", "itemknn", "pop7", "pop30"];

/** Default top-N per source (issue 7: 200 for the DNN, 100 for the others). */
export const DEFAULT_TOP_N: Readonly<Record<SourceName, number>> = {
  dnn: 200,
  ease: 100,
  itemknn: 100,
  pop7: 100,
  pop30: 100,
};

/** Per-source fitting settings. */
export interface SourceSettings {
  readonly dnn?: DnnSourceOptions;
  readonly ease?: EaseSourceOptions;
  readonly itemknn?: ItemKnnSourceOptions;
}

export type FittedSourceFactory = TypedSourceFactory<FittedSource>;

export function sourceFactory(name: SourceName, settings: SourceSettings = {}): FittedSourceFactory {
  switch (name) {
    case "dnn":
      return dnnSourceFactory(settings.dnn);
    case "ease":
      return easeSourceFactory(settings.ease);
    case "itemknn":
      return itemKnnSourceFactory(settings.itemknn);
    case "pop7":
    case "pop30":
      return popularSourceFactory(name);
  }
}

/** Checks a list of source names (non-empty, known, no repeats); `where` names the option. */
export function parseSourceNames(names: readonly string[], where = "sources"): SourceName[] {
  if (names.length === 0) throw new Error(`${where}: expected at least one of ${SOURCE_NAMES.join(", ")}`);
  const seen = new Set<string>();
  for (const n of names) {
    if (!(SOURCE_NAMES as readonly string[]).includes(n))
      throw new Error(`${where}: unknown source "${n}" (known: ${SOURCE_NAMES.join(", ")})`);
    if (seen.has(n)) throw new Error(`${where}: source "${n}" listed twice`);
    seen.add(n);
  }
  return names as SourceName[];
}

/** Model-file kind of a saved non-DNN source. */
export const SOURCE_MODEL_KIND = "candidate-source";

/** Writes a fitted source into `dir` (atomically, replacing what is there). */
export function saveSource(source: FittedSource, dir: string): void {
  const fitData = source.fitData as unknown as JsonValue;
  if (source instanceof DnnSource) {
    source.model.save(dir, { source: "dnn", fitData });
    return;
  }
  saveModel(dir, {
    kind: SOURCE_MODEL_KIND,
    config: { source: source.name, params: { ...source.params } },
    vocabularies: {},
    metadata: { fitData },
    tensors: {},
  });
}

/**
 * Restores a source saved by saveSource. `fitData` must be the events it was fitted on (e.g. the
 * protocol's training part of the same dataset); a candidates directory not written by saveSource
 * (a plain `watchnext train candidates` output) is accepted as a DNN fitted on `fitData`.
 */
export function loadSource(dir: string, fitData: Dataset, kernels?: Kernels): FittedSource {
  const manifest = readManifest(dir);
  const saved = manifest.metadata.fitData as unknown as FitDataFingerprint | undefined;
  if (saved !== undefined) checkFingerprint(dir, saved, fitData);
  if (manifest.kind === CANDIDATE_MODEL_KIND) {
    return new DnnSource(CandidateModel.load(dir, fitData, kernels), fingerprintOf(fitData));
  }
  if (manifest.kind !== SOURCE_MODEL_KIND)
    throw new Error(`${dir}: holds a "${manifest.kind}" model, expected a candidate source`);
  if (saved === undefined) throw new Error(`${dir}: manifest metadata.fitData is missing`);
  const config = manifest.config as { source?: unknown; params?: Record<string, unknown> };
  const params = config.params ?? {};
  switch (config.source) {
    case "ease": {
      const lambda = params.lambda;
      if (typeof lambda !== "number" || !(lambda > 0))
        throw new Error(
          `${dir}: manifest config.params.lambda: expected a positive number, got ${String(lambda)}`,
        );
      return fitEaseSource(fitData, { lambda }, { seed: 0 });
    }
    case "itemknn": {
      const neighbours = params.neighbours;
      if (typeof neighbours !== "number")
        throw new Error(
          `${dir}: manifest config.params.neighbours: expected a number, got ${String(neighbours)}`,
        );
      return fitItemKnnSource(fitData, { neighbours });
    }
    case "pop7":
    case "pop30":
      return new PopularSource(config.source, fitData);
    default:
      throw new Error(`${dir}: manifest config.source: unknown source ${JSON.stringify(config.source)}`);
  }
}
