/**
 * Builds the ranker's impressions without leakage (docs/ranking.md): no source ranks a list whose
 * label it was trained on.
 *  - loo: validation and test lists come from sources fitted on the protocol's training part, at
 *    the validation / test point with the protocol's input history. Training lists come from K
 *    user folds (seeded assignment): the sources for fold f are fitted on the training events of
 *    the users outside f, and rank, for each user of f, up to M of the most recent points of their
 *    training sequence (the history before the point); positives are the watch at the point and the
 *    next W − 1 watches.
 *  - temporal: validation lists from sources fitted on the events up to the validation cut, test
 *    lists from sources fitted on the training part (up to the cut); training lists from C earlier
 *    cuts c_k = validation cut − k·window, each with sources fitted on the events up to c_k and the
 *    items of (c_k, c_k + window] as positives.
 * Hyper-parameters chosen on validation by the sources fitted on the training part (EASE's λ, the
 * DNN's best epoch) are reused by every fold / cut model. Every model group's SourceFitRecords are
 * returned so tests can check that no model saw an event of a list's user at or after its point.
 */
import { numItems, numUsers, type Dataset } from "../../data/dataset.js";
import { Rng } from "../../engine/rng.js";
import { makeSplit } from "../../eval/run-baselines.js";
import { splitTemporal, type TemporalOptions } from "../../eval/split-temporal.js";
import { withEvents } from "../../eval/subset.js";
import type { Split } from "../../eval/types.js";
import { userEventOrder } from "../../eval/user-order.js";
import type { ImpressionSet } from "../../features/impressions.js";
import type { CandidateConfigInput } from "../candidates/config.js";
import { DnnSource } from "../sources/dnn.js";
import { checkFingerprint, fingerprintOf } from "../sources/fit-data.js";
import {
  DEFAULT_TOP_N,
  parseSourceNames,
  SOURCE_NAMES,
  sourceFactory,
  type SourceSettings,
} from "../sources/registry.js";
import type { FittedSource, SourceFitRecord, SourceName } from "../sources/source.js";
import { loadCachedImpressions, impressionCacheDir, saveCachedImpressions } from "./impression-cache.js";
import { linkPreviousLists, type ImpressionChains } from "./impression-history.js";
import { assembleImpressions } from "./impression-lists.js";
import { protocolPoints, trainingPoints, type ListPoints } from "./impression-points.js";

export interface ImpressionOptions {
  readonly protocol?: "loo" | "temporal";
  readonly temporal?: TemporalOptions;
  /** Sources making the lists, in column order (default all five). */
  readonly sources?: readonly SourceName[];
  /** List length per source (default 200 for dnn, 100 for the others). */
  readonly topN?: Partial<Record<SourceName, number>>;
  /** loo: user folds K (default 3). */
  readonly folds?: number;
  /** loo: points per user M, the most recent of their training sequence (default 10). */
  readonly points?: number;
  /** loo: positives per training point W: the watch at the point and the next W − 1 (default 1). */
  readonly positiveWindow?: number;
  /** temporal: earlier cuts for training lists (default 3). */
  readonly temporalCuts?: number;
  /**
   * Build the training lists (default true). false: only validation / test lists (no fold or cut
   * models are fitted; `train` is empty), e.g. to evaluate a saved two-stage model or the union recall.
   */
  readonly training?: boolean;
  /** Seed of the fold assignment and of every source fit (default 1). */
  readonly seed?: number;
  /** Per-source settings (DNN config, EASE λ grid, ItemKNN neighbours). */
  readonly settings?: SourceSettings;
  /**
   * Sources already fitted on the split's training part (e.g. the candidate model of
   * `--candidates <dir>`), used for the test (loo: also validation) lists instead of fitting them.
   */
  readonly fitted?: readonly FittedSource[];
  /**
   * On-disk cache of the result (`.watchnext-cache/`): a directory, true for the default, false for
   * none. Default: the environment variable WATCHNEXT_IMPRESSION_CACHE (a directory, or "1").
   */
  readonly cache?: boolean | string;
  readonly log?: (line: string) => void;
  /**
   * Fitted sources shared across builds in one process (e.g. the ablations of one seed, which fit
   * the same DNN on the same folds): a source is reused when its name, fitting events, settings,
   * seed and validation use are the same. Fitting is deterministic, so results do not change.
   */
  readonly memo?: SourceMemo;
}

/** See ImpressionOptions.memo. */
export type SourceMemo = Map<string, FittedSource>;

export interface ResolvedImpressionOptions {
  readonly protocol: "loo" | "temporal";
  readonly temporal: TemporalOptions;
  readonly sources: readonly SourceName[];
  readonly topN: readonly number[];
  readonly folds: number;
  readonly points: number;
  readonly positiveWindow: number;
  readonly temporalCuts: number;
  readonly training: boolean;
  readonly seed: number;
}

/** The sources of one set of lists and what each was fitted on. */
export interface ModelGroup {
  /** "fold 1/3", "cut 2020-01-01T…", "train part", "valid part". */
  readonly label: string;
  /** One per source, in `sources` order. */
  readonly fitRecords: readonly SourceFitRecord[];
  /** Number of fitting events. */
  readonly events: number;
}

export interface RankingImpressions {
  readonly options: ResolvedImpressionOptions;
  readonly split: Split;
  readonly sources: readonly SourceName[];
  readonly train: ImpressionSet;
  readonly valid: ImpressionSet;
  readonly test: ImpressionSet;
  /** Model groups; trainGroup[l] is the group that made training list l. */
  readonly groups: readonly ModelGroup[];
  readonly trainGroup: Int32Array;
  readonly validGroup: number;
  readonly testGroup: number;
  /** Each list's previous list of the same user (see impression-history.ts). */
  readonly previous: ImpressionChains;
  /** The sources fitted on the split's training part (the test lists' sources; serving uses them). */
  readonly testSources: readonly FittedSource[];
  /** The validation lists' sources (loo: the same objects as testSources). */
  readonly validSources: readonly FittedSource[];
}

export function resolveImpressionOptions(o: ImpressionOptions): ResolvedImpressionOptions {
  const sources = parseSourceNames(o.sources ?? SOURCE_NAMES, "impressions.sources");
  const topN = sources.map((s) => o.topN?.[s] ?? DEFAULT_TOP_N[s]);
  const int = (v: number, name: string, min: number): number => {
    if (!(Number.isInteger(v) && v >= min))
      throw new RangeError(`impressions.${name}: expected an integer ≥ ${min}, got ${v}`);
    return v;
  };
  topN.forEach((n, k) => int(n, `topN.${sources[k]}`, 1));
  for (const key of Object.keys(o.topN ?? {}))
    if (!(SOURCE_NAMES as readonly string[]).includes(key))
      throw new Error(`impressions.topN: unknown source "${key}"`);
  return {
    protocol: o.protocol ?? "loo",
    temporal: o.temporal ?? {},
    sources,
    topN,
    folds: int(o.folds ?? 3, "folds", 2),
    points: int(o.points ?? 10, "points", 1),
    positiveWindow: int(o.positiveWindow ?? 1, "positiveWindow", 1),
    temporalCuts: int(o.temporalCuts ?? 3, "temporalCuts", 1),
    training: o.training ?? true,
    seed: o.seed ?? 1,
  };
}

/** Splits `dataset` by the protocol and builds the three impression sets. */
export async function buildImpressions(
  dataset: Dataset,
  options: ImpressionOptions = {},
): Promise<RankingImpressions> {
  const opts = resolveImpressionOptions(options);
  const log = options.log ?? (() => undefined);
  const split = makeSplit(dataset, opts.protocol, opts.temporal);
  const cacheDir = impressionCacheDir(options.cache, dataset, opts, options.settings, options.fitted);
  if (cacheDir !== null) {
    const cached = loadCachedImpressions(cacheDir, split, opts, log);
    if (cached !== null) return cached;
  }
  const built =
    opts.protocol === "loo"
      ? await buildLoo(dataset, split, opts, options, log)
      : await buildTemporal(dataset, split, opts, options, log);
  if (cacheDir !== null) saveCachedImpressions(cacheDir, built, log);
  return built;
}

interface Parts {
  train: ImpressionSet;
  valid: ImpressionSet;
  test: ImpressionSet;
  groups: ModelGroup[];
  trainGroup: Int32Array;
  validGroup: number;
  testGroup: number;
  testSources: FittedSource[];
  validSources: FittedSource[];
}

function finishParts(split: Split, opts: ResolvedImpressionOptions, p: Parts): RankingImpressions {
  const previous = linkPreviousLists({ train: p.train, valid: p.valid, test: p.test });
  return { options: opts, split, sources: opts.sources, previous, ...p };
}

/** Fits every source of `opts.sources` on `fit`, reusing given ones by name. */
async function fitSources(
  fit: Dataset,
  opts: ResolvedImpressionOptions,
  settings: SourceSettings,
  split: Split,
  valid: boolean,
  given: readonly FittedSource[],
  label: string,
  log: (line: string) => void,
  memo: SourceMemo | undefined,
): Promise<FittedSource[]> {
  const out: FittedSource[] = [];
  const fitHash = memo ? fingerprintOf(fit).sha256 : "";
  for (const name of opts.sources) {
    const pre = given.find((s) => s.name === name);
    if (pre) {
      // A pre-fitted source must have been fitted on exactly these events.
      checkFingerprint(`impressions: the pre-fitted ${name} source (${label})`, pre.fitData, fit);
      out.push(pre);
      continue;
    }
    const key = JSON.stringify([
      name,
      fitHash,
      settings[name as keyof SourceSettings] ?? null,
      opts.seed,
      valid,
    ]);
    const known = memo?.get(key);
    if (known) {
      log(`impressions: ${label}: ${name} reused from the memo`);
      out.push(known);
      continue;
    }
    const t0 = performance.now();
    const s = await sourceFactory(name, settings).fit(fit, {
      seed: opts.seed,
      valid: valid ? split.valid : undefined,
      validProtocol: split.protocol,
    });
    memo?.set(key, s);
    log(
      `impressions: ${label}: ${name} fitted in ${((performance.now() - t0) / 1000).toFixed(1)} s ${JSON.stringify(s.params)}`,
    );
    out.push(s);
  }
  return out;
}

/** Settings for fold / cut models: the hyper-parameters the training-part sources chose. */
function reuseSettings(main: readonly FittedSource[], settings: SourceSettings): SourceSettings {
  const ease = main.find((s) => s.name === "ease");
  const dnn = main.find((s): s is DnnSource => s instanceof DnnSource);
  let dnnSettings = settings.dnn;
  if (dnn) {
    const m = dnn.model;
    const epochs = m.summary?.bestEpoch || m.config.train.epochs;
    const config: CandidateConfigInput = {
      features: m.config.features,
      network: m.config.network,
      train: m.config.train,
    };
    dnnSettings = { ...settings.dnn, config, epochs };
  }
  return {
    ...settings,
    dnn: dnnSettings,
    ease: ease ? { ...settings.ease, lambda: ease.params.lambda as number } : settings.ease,
  };
}

function groupOf(label: string, sources: readonly FittedSource[], fit: Dataset): ModelGroup {
  return { label, fitRecords: sources.map((s) => s.fitRecord), events: fit.events.user.length };
}

function assemble(
  points: ListPoints,
  sources: readonly FittedSource[],
  opts: ResolvedImpressionOptions,
  n: number,
): ImpressionSet {
  return assembleImpressions(points.queries, points.positives, sources, opts.topN, n);
}

async function buildLoo(
  dataset: Dataset,
  split: Split,
  opts: ResolvedImpressionOptions,
  options: ImpressionOptions,
  log: (line: string) => void,
): Promise<RankingImpressions> {
  const settings = options.settings ?? {};
  const ni = numItems(dataset);
  const fullOrder = userEventOrder(dataset.events, numUsers(dataset));
  const main = await fitSources(
    split.train,
    opts,
    settings,
    split,
    true,
    options.fitted ?? [],
    "train part",
    log,
    options.memo,
  );
  const valid = assemble(protocolPoints(split.valid, dataset, fullOrder, "valid"), main, opts, ni);
  const test = assemble(protocolPoints(split.test, dataset, fullOrder, "test"), main, opts, ni);
  log(`impressions: valid ${valid.users.length} lists, test ${test.users.length} lists`);

  // Fold assignment: a seeded permutation of the users, fold = position mod K.
  const nu = numUsers(dataset);
  const perm = new Int32Array(nu);
  for (let u = 0; u < nu; u++) perm[u] = u;
  new Rng(opts.seed * 1_000_003 + 7).shuffle(perm);
  const fold = new Int32Array(nu);
  for (let r = 0; r < nu; r++) fold[perm[r]] = r % opts.folds;

  const foldSettings = reuseSettings(main, settings);
  const trainOrder = userEventOrder(split.train.events, nu);
  const groups: ModelGroup[] = [];
  const parts: ImpressionSet[] = [];
  const partGroup: number[] = [];
  for (let f = 0; f < (opts.training ? opts.folds : 0); f++) {
    const keep = new Uint8Array(split.train.events.user.length);
    const tu = split.train.events.user;
    for (let e = 0; e < tu.length; e++) keep[e] = fold[tu[e]] === f ? 0 : 1;
    const fit = withEvents(split.train, keep);
    const label = `fold ${f + 1}/${opts.folds}`;
    const sources = await fitSources(fit, opts, foldSettings, split, false, [], label, log, options.memo);
    const members: number[] = [];
    for (let u = 0; u < nu; u++) if (fold[u] === f) members.push(u);
    const points = trainingPoints(
      split.train,
      trainOrder,
      Int32Array.from(members),
      opts.points,
      opts.positiveWindow,
    );
    parts.push(assemble(points, sources, opts, ni));
    partGroup.push(groups.length);
    groups.push(groupOf(label, sources, fit));
    log(`impressions: ${label}: ${points.queries.users.length} training lists`);
  }
  const trainPart = groups.length;
  groups.push(groupOf("train part", main, split.train));
  const { set: train, group: trainGroup } = concatSets(parts, partGroup, opts.sources);
  return finishParts(split, opts, {
    train,
    valid,
    test,
    groups,
    trainGroup,
    validGroup: trainPart,
    testGroup: trainPart,
    testSources: main,
    validSources: main,
  });
}

async function buildTemporal(
  dataset: Dataset,
  split: Split,
  opts: ResolvedImpressionOptions,
  options: ImpressionOptions,
  log: (line: string) => void,
): Promise<RankingImpressions> {
  const settings = options.settings ?? {};
  const ni = numItems(dataset);
  const fullOrder = userEventOrder(dataset.events, numUsers(dataset));
  const validTrain = split.validTrain ?? split.train;
  const validSources = await fitSources(
    validTrain,
    opts,
    settings,
    split,
    true,
    [],
    "valid part",
    log,
    options.memo,
  );
  const reuse = reuseSettings(validSources, settings);
  const testSources = await fitSources(
    split.train,
    opts,
    reuse,
    split,
    false,
    options.fitted ?? [],
    "train part",
    log,
    options.memo,
  );
  const valid = assemble(protocolPoints(split.valid, dataset, fullOrder, "valid"), validSources, opts, ni);
  const test = assemble(protocolPoints(split.test, dataset, fullOrder, "test"), testSources, opts, ni);

  const windowDays = opts.temporal.windowDays;
  const days = windowDays === undefined ? 30 : windowDays === "all" ? 30 : windowDays;
  const validCut = split.params.validCutTime as number;
  const groups: ModelGroup[] = [];
  const parts: ImpressionSet[] = [];
  const partGroup: number[] = [];
  for (let k = opts.training ? opts.temporalCuts : 0; k >= 1; k--) {
    const cut = validCut - k * days * 86_400;
    const label = `cut ${new Date(cut * 1000).toISOString()}`;
    let sub: Split;
    try {
      sub = splitTemporal(validTrain, { cutTime: cut, windowDays: days });
    } catch (error) {
      log(`impressions: ${label} skipped: ${(error as Error).message}`);
      continue;
    }
    const sources = await fitSources(sub.train, opts, reuse, split, false, [], label, log, options.memo);
    parts.push(assemble(protocolPoints(sub.test, dataset, fullOrder, label), sources, opts, ni));
    partGroup.push(groups.length);
    groups.push(groupOf(label, sources, sub.train));
  }
  if (parts.length === 0 && opts.training)
    throw new Error(
      `impressions: no earlier temporal cut of ${opts.temporalCuts} × ${days} days before the validation cut has training lists`,
    );
  const validGroup = groups.length;
  groups.push(groupOf("valid part", validSources, validTrain));
  const testGroup = groups.length;
  groups.push(groupOf("train part", testSources, split.train));
  const { set: train, group: trainGroup } = concatSets(parts, partGroup, opts.sources);
  return finishParts(split, opts, {
    train,
    valid,
    test,
    groups,
    trainGroup,
    validGroup,
    testGroup,
    testSources,
    validSources,
  });
}

/** Concatenates impression sets with the same sources; group[l] = the part's group of list l. */
export function concatSets(
  parts: readonly ImpressionSet[],
  partGroup: readonly number[],
  sources: readonly string[],
): { set: ImpressionSet; group: Int32Array } {
  const S = sources.length;
  const sum = (f: (p: ImpressionSet) => number): number => parts.reduce((a, p) => a + f(p), 0);
  const nl = sum((p) => p.users.length);
  const nh = sum((p) => p.historyItems.length);
  const nc = sum((p) => p.items.length);
  const set = {
    users: new Int32Array(nl),
    times: new Float64Array(nl),
    historyOffsets: new Int32Array(nl + 1),
    historyItems: new Int32Array(nh),
    historyTimes: new Float64Array(nh),
    historyWeights: new Float32Array(nh),
    sources: [...sources],
    listOffsets: new Int32Array(nl + 1),
    items: new Int32Array(nc),
    positive: new Uint8Array(nc),
    weight: new Float32Array(nc),
    sourceScores: new Float32Array(nc * S),
    sourceRanks: new Int32Array(nc * S),
  };
  const group = new Int32Array(nl);
  let l0 = 0;
  let h0 = 0;
  let c0 = 0;
  parts.forEach((p, k) => {
    const nq = p.users.length;
    set.users.set(p.users, l0);
    set.times.set(p.times, l0);
    for (let q = 1; q <= nq; q++) {
      set.historyOffsets[l0 + q] = h0 + p.historyOffsets[q];
      set.listOffsets[l0 + q] = c0 + p.listOffsets[q];
    }
    set.historyItems.set(p.historyItems, h0);
    set.historyTimes.set(p.historyTimes, h0);
    if (p.historyWeights) set.historyWeights.set(p.historyWeights, h0);
    set.items.set(p.items, c0);
    set.positive.set(p.positive, c0);
    set.weight.set(p.weight, c0);
    set.sourceScores.set(p.sourceScores, c0 * S);
    set.sourceRanks.set(p.sourceRanks, c0 * S);
    group.fill(partGroup[k], l0, l0 + nq);
    l0 += nq;
    h0 += p.historyItems.length;
    c0 += p.items.length;
  });
  return { set, group };
}
