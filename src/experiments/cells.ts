/**
 * Cell bodies the experiments share, each through the project's own training and evaluation
 * paths: the candidate generator (src/cli/candidates-training.ts: early stopping on validation,
 * temporal refit), a baseline (src/eval/run-baselines.ts: grid tuned on validation), and both
 * stages (src/cli/two-stage-training.ts). Every one reports test metrics (and validation ones
 * prefixed "valid ") from src/eval/evaluate.ts on the protocol's test queries, seen items filtered.
 */
import { join } from "node:path";
import { numItems } from "../data/dataset.js";
import { evaluate } from "../eval/evaluate.js";
import { DEFAULT_KS } from "../eval/metrics.js";
import { runBaselines, type BaselineName } from "../eval/run-baselines.js";
import type { Metrics } from "../eval/types.js";
import type { CandidateConfigInput } from "../models/candidates/config.js";
import { trainCandidatesModel } from "../cli/candidates-training.js";
import { trainTwoStageModel } from "../cli/two-stage-training.js";
import { CellInterrupted } from "./runner.js";
import type { CellContext, CellOutcome, ExperimentProtocol } from "./types.js";

/** Test metrics, plus the validation ones as "valid <name>". */
function withValid(test: Metrics, valid: Metrics | null): Record<string, number> {
  const out: Record<string, number> = { ...test };
  if (valid !== null) for (const [k, v] of Object.entries(valid)) out[`valid ${k}`] = v;
  return out;
}

/**
 * Deep-merges candidate config overlays left to right (later wins) over the three top-level
 * groups: the experiment's base overlay (--candidates-config) first, the cell's own settings last.
 */
export function mergeCandidateInputs(...inputs: CandidateConfigInput[]): CandidateConfigInput {
  const merge = (a: unknown, b: unknown): unknown => {
    if (typeof a !== "object" || a === null || Array.isArray(a)) return b;
    if (typeof b !== "object" || b === null || Array.isArray(b)) return b;
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b as Record<string, unknown>))
      out[k] = k in out ? merge(out[k], v) : v;
    return out;
  };
  return inputs.reduce<CandidateConfigInput>((acc, x) => merge(acc, x) as CandidateConfigInput, {});
}

/** Trains the candidate generator under `protocol` with `config` (over --candidates-config) and evaluates it. */
export async function candidateCell(
  ctx: CellContext,
  protocol: ExperimentProtocol,
  config: CandidateConfigInput,
  seed: number,
): Promise<CellOutcome> {
  const split = ctx.split(protocol);
  const { model, seconds } = await trainCandidatesModel(ctx.dataset, split, {
    config: mergeCandidateInputs(ctx.options.candidates, config),
    seed,
    out: join(ctx.scratchDir, "candidates"),
    onProgress: ctx.onCandidateEvent,
    signal: ctx.signal,
  });
  if (ctx.signal.aborted) throw new CellInterrupted("candidates");
  const opts = {
    numItems: numItems(ctx.dataset),
    metrics: protocol,
    filterSeen: true,
    ks: DEFAULT_KS,
  } as const;
  const scorer = model.asScorer();
  const test = evaluate(scorer, split.test, opts);
  const valid = evaluate(scorer, split.valid, opts);
  const s = model.summary;
  return {
    metrics: withValid(test.metrics, valid.metrics),
    trainSeconds: seconds,
    extra: {
      bestEpoch: s?.bestEpoch ?? 0,
      epochs: s?.epochs ?? 0,
      stopReason: s?.stopReason ?? "unknown",
      evalSeconds: test.seconds,
      // Feature groups the data turned off (e.g. no tags: search), so reports can say which cells coincide.
      autoOff: { ...model.features.config.autoOff },
    },
  };
}

/** One baseline under `protocol` (deterministic: no seed), its grid tuned on validation. */
export function baselineCell(
  ctx: CellContext,
  protocol: ExperimentProtocol,
  name: BaselineName,
): CellOutcome {
  const report = runBaselines(ctx.dataset, {
    protocol,
    models: [name],
    temporal: protocol === "temporal" ? ctx.options.temporal : undefined,
    log: ctx.log,
  });
  const r = report.results[0];
  return {
    metrics: withValid(r.test, r.valid),
    trainSeconds: r.train_seconds ?? 0,
    extra: {
      model: r.model,
      params: JSON.parse(JSON.stringify(r.params)) as { [k: string]: string | number },
    },
  };
}

/**
 * Both stages (sources + ranker, `watchnext train`'s path) under `protocol`, evaluated as two stages
 * on the test queries; stage one of the same model is reported too ("stage1 <metric>").
 */
export async function twoStageCell(
  ctx: CellContext,
  protocol: ExperimentProtocol,
  seed: number,
): Promise<CellOutcome> {
  const candidates = ctx.options.candidates;
  const { trained, seconds } = await trainTwoStageModel(ctx.dataset, {
    seed,
    protocol,
    out: join(ctx.scratchDir, "two-stage"),
    ranker: ctx.options.ranker,
    impressions: {
      protocol,
      temporal: protocol === "temporal" ? ctx.options.temporal : undefined,
      settings: Object.keys(candidates).length > 0 ? { dnn: { config: candidates } } : undefined,
    },
    log: ctx.log,
    onEpoch: ctx.onRankerEpoch,
    signal: ctx.signal,
  });
  if (ctx.signal.aborted) throw new CellInterrupted("two-stage");
  const split = trained.impressions.split;
  const opts = {
    numItems: numItems(ctx.dataset),
    metrics: protocol,
    filterSeen: true,
    ks: DEFAULT_KS,
  } as const;
  const test = evaluate(trained.model.asScorer(), split.test, opts);
  const valid = evaluate(trained.model.asScorer(), split.valid, opts);
  const stage1 = evaluate(trained.model.candidates.asScorer(), split.test, opts);
  const metrics = withValid(test.metrics, valid.metrics);
  for (const [k, v] of Object.entries(stage1.metrics)) metrics[`stage1 ${k}`] = v;
  return {
    metrics,
    trainSeconds: seconds,
    extra: { impressionSeconds: trained.seconds.impressions, rankerSeconds: trained.seconds.ranker },
  };
}
