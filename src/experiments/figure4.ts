/**
 * The paper's Figure 4 (freshness): the candidate generator trained with and without the example-age
 * feature, under the `temporal` protocol (train up to the cut, serve with example age 0 = "now"),
 * and for every next watch in the test window the share of the model's probability mass on items
 * by days since their release, against the share of the actual next watches (figure4-shares.ts
 * says how release and the shares are defined). The paper's claim: with example age the model
 * follows the release-time popularity spike; without it, it predicts the average popularity over
 * the training window.
 */
import { join } from "node:path";
import type { Dataset } from "../data/dataset.js";
import { numItems } from "../data/dataset.js";
import { lineChart } from "../charts/svg-chart.js";
import { trainCandidatesModel } from "../cli/candidates-training.js";
import { mergeCandidateInputs } from "./cells.js";
import {
  ageShares,
  DAY_SECONDS,
  itemReleaseTimes,
  slotLabel,
  windowQueries,
  type AgeBins,
} from "./figure4-shares.js";
import { CellInterrupted } from "./runner.js";
import { errorOf, meanSd, type MeanSd } from "./stats.js";
import type {
  CellContext,
  CellOutcome,
  CellResult,
  Experiment,
  ExperimentCell,
  ExperimentOptions,
  ExperimentResults,
  ReportContent,
} from "./types.js";

/** Weekly bins over the first 13 weeks; older items in the tail slot. */
export const FIGURE4_BINS: AgeBins = { binDays: 7, numBins: 13 };
/** The headline "fresh" window: the first FRESH_BINS bins (28 days). */
export const FRESH_BINS = 4;
const FRESH_DAYS = FRESH_BINS * FIGURE4_BINS.binDays;
/** The model "follows" freshness when its fresh mass is at least this fraction of the actual share. */
export const FOLLOW_FRACTION = 0.5;

const VARIANTS = [
  { name: "example-age", label: "with example age", exampleAge: true },
  { name: "no-example-age", label: "without example age", exampleAge: false },
] as const;

function cells(dataset: Dataset, options: ExperimentOptions): ExperimentCell[] {
  if (!options.protocols.includes("temporal"))
    throw new Error(
      "figure4 runs under the temporal protocol only (it needs a test window): drop --protocol loo",
    );
  const out: ExperimentCell[] = [];
  for (const seed of options.seeds)
    for (const v of VARIANTS)
      out.push({
        id: `temporal/${v.name}/seed${seed}`,
        config: { protocol: "temporal", exampleAge: v.exampleAge },
        seed,
        dataset: dataset.name,
      });
  return out;
}

const slotKey = (k: number): string => `share ${slotLabel(FIGURE4_BINS, k)}`;

async function runCell(cell: ExperimentCell, ctx: CellContext): Promise<CellOutcome> {
  const split = ctx.split("temporal");
  const cut = Number(split.params.cutTime);
  const windowDays = split.params.windowDays;
  const end = windowDays === "all" ? Infinity : cut + Number(windowDays) * DAY_SECONDS;
  const enabled = cell.config.exampleAge === true;
  const { model, seconds } = await trainCandidatesModel(ctx.dataset, split, {
    config: mergeCandidateInputs(ctx.options.candidates, { features: { exampleAge: { enabled } } }),
    seed: cell.seed,
    out: join(ctx.scratchDir, "candidates"),
    onProgress: ctx.onCandidateEvent,
    signal: ctx.signal,
  });
  if (ctx.signal.aborted) throw new CellInterrupted("candidates");
  if (model.features.config.exampleAge.enabled !== enabled)
    throw new Error(
      `figure4: the model's example-age input is ${enabled ? "off" : "on"}, expected ${enabled}`,
    );
  ctx.log("scoring the test-window next watches");
  const release = itemReleaseTimes(ctx.dataset);
  const { queries, repeats } = windowQueries(ctx.dataset, cut, end);
  const shares = ageShares(
    (q, s, e, out) => model.scoreRange(q, s, e, out),
    queries,
    numItems(ctx.dataset),
    release,
    cut,
    FIGURE4_BINS,
  );
  const metrics: Record<string, number> = {};
  const record = (kind: "" | "known ", model: Float64Array, empirical: Float64Array) => {
    let freshModel = 0;
    let freshEmpirical = 0;
    let tv = 0;
    for (let k = 0; k < model.length; k++) {
      metrics[`model ${kind}${slotKey(k)}`] = model[k];
      metrics[`empirical ${kind}${slotKey(k)}`] = empirical[k];
      if (k < FRESH_BINS) {
        freshModel += model[k];
        freshEmpirical += empirical[k];
      }
      tv += Math.abs(model[k] - empirical[k]) / 2;
    }
    metrics[`model ${kind}share first ${FRESH_DAYS} d`] = freshModel;
    metrics[`empirical ${kind}share first ${FRESH_DAYS} d`] = freshEmpirical;
    metrics[`${kind}total variation vs empirical`] = tv;
  };
  record("", shares.model, shares.empirical);
  record("known ", shares.modelKnown, shares.empiricalKnown);
  for (let k = 0; k < shares.catalog.length; k++) metrics[`catalog ${slotKey(k)}`] = shares.catalog[k];
  metrics["model share after cut"] = shares.modelAfterCut;
  metrics["empirical share after cut"] = shares.empiricalAfterCut;
  metrics["mean target probability"] = shares.targetProbability;
  const s = model.summary;
  return {
    metrics,
    trainSeconds: seconds,
    extra: {
      queries: shares.queries,
      knownTargets: shares.knownTargets,
      repeatsSkipped: repeats,
      cut: String(split.params.cut),
      windowDays: windowDays === "all" ? "all" : Number(windowDays),
      bestEpoch: s?.bestEpoch ?? 0,
      epochs: s?.epochs ?? 0,
      release: "first event of the item in the data",
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const pct = (x: number, digits = 2): string => (Number.isFinite(x) ? `${(100 * x).toFixed(digits)} %` : "—");

function pctMeanSd(s: MeanSd | undefined, expected: number, digits = 2): string {
  if (s === undefined || s.n === 0) return "—";
  const sd = Number.isNaN(s.sd) ? "n/a" : (100 * s.sd).toFixed(digits);
  return `${(100 * s.mean).toFixed(digits)} ± ${sd} %${s.n < expected ? ` (n=${s.n})` : ""}`;
}

function report(results: ExperimentResults): ReportContent {
  const expected = results.options.seeds.length;
  const done = (variant: string): CellResult[] =>
    results.planned
      .filter((c) => c.id.startsWith(`temporal/${variant}/`))
      .map((c) => results.finished.get(c.id))
      .filter((c): c is CellResult => c !== undefined);
  const byVariant = new Map<string, CellResult[]>(VARIANTS.map((v) => [v.name, done(v.name)]));
  const all = [...byVariant.values()].flat();
  const stat = (variant: string, metric: string): MeanSd =>
    meanSd(
      (byVariant.get(variant) ?? [])
        .map((c) => c.metrics[metric])
        .filter((x): x is number => Number.isFinite(x)),
    );
  // The empirical and catalog shares depend on the split only: the same in every cell.
  const first = all[0];
  const slots = FIGURE4_BINS.numBins + 2;
  const sections: Array<{ heading: string; markdown: string; charts?: string[] }> = [];
  const charts: Array<{ name: string; svg: string; caption: string }> = [];
  if (first === undefined) {
    return {
      verdict: "No cell has finished yet: nothing to judge.",
      sections: [{ heading: "Results", markdown: "No finished cells." }],
      charts: [],
    };
  }
  const extra = first.extra ?? {};
  sections.push({
    heading: `Setup (${results.dataset})`,
    markdown: `Temporal protocol: trained on the events up to the cut (${String(extra.cut)}), early stopping on the validation cut, refitted on the whole training part; served with example age 0 ("now" = the end of training). Queries: every event in the ${String(extra.windowDays)}-day window after the cut of a user with history before it (${String(extra.queries)} next watches; ${String(extra.repeatsSkipped)} repeats of a history item skipped), each at its own time with the user's whole earlier history. Model mass: a full softmax over the catalog of u·v (+ item bias), history items removed, averaged over the queries; mean ± sd over seeds ${results.options.seeds.join(",")}. Release = the item's first event in the data${results.dataset.startsWith("synth") ? " (the synthetic data's planted release times are not in its files; an item's first rating follows its release closely because popularity spikes at release, except for the back catalog released before the timeline starts)" : " (MovieLens has no release dates: this is the first rating, so the first weeks of the data count as the release of every item rated then)"}; ages are taken at each query's time. "Uniform over the candidates" is the mass a model that ignores everything would put there. Best epoch on the validation cut (the refit's epoch count) per seed: ${VARIANTS.map((v) => `${v.label} ${(byVariant.get(v.name) ?? []).map((c) => String(c.extra?.bestEpoch ?? "?")).join(", ") || "—"}`).join("; ")}.`,
  });
  const points = (series: (k: number) => MeanSd | number) =>
    Array.from({ length: FIGURE4_BINS.numBins }, (_, k) => {
      const v = series(k);
      const x = k * FIGURE4_BINS.binDays + FIGURE4_BINS.binDays / 2;
      return typeof v === "number" ? { x, y: 100 * v } : { x, y: 100 * v.mean, sd: 100 * errorOf(v) };
    }).filter((p) => Number.isFinite(p.y));
  const kinds = [
    {
      kind: "known ",
      name: "figure4",
      heading: `Items known at the cut (${results.dataset})`,
      what: `both distributions restricted to the items first seen at or before the cut (the ones in the training data; ${String(extra.knownTargets)} of the ${String(extra.queries)} next watches) and renormalized: the fair test, since no model trained at the cut can know later items`,
    },
    {
      kind: "",
      name: "figure4-all-items",
      heading: `All items (${results.dataset})`,
      what: "over the whole catalog, items first seen after the cut included (their embeddings are untrained)",
    },
  ] as const;
  for (const { kind, name, heading, what } of kinds) {
    const rows: string[] = [];
    for (let k = 0; k < slots; k++) {
      const key = `${kind}${slotKey(k)}`;
      if (kind === "known " && k === FIGURE4_BINS.numBins + 1) continue;
      rows.push(
        `| ${slotLabel(FIGURE4_BINS, k)} | ${pct(first.metrics[`empirical ${key}`])} | ${VARIANTS.map((v) => pctMeanSd(stat(v.name, `model ${key}`), expected)).join(" | ")} |${kind === "" ? ` ${pct(first.metrics[`catalog ${slotKey(k)}`])} |` : ""}`,
      );
    }
    const summaryRow = (label: string, metric: string, empirical: string | null) =>
      `| **${label}** | ${empirical === null ? "—" : pct(first.metrics[empirical])} | ${VARIANTS.map((v) => pctMeanSd(stat(v.name, metric), expected)).join(" | ")} |${kind === "" ? " |" : ""}`;
    const table = [
      `| days since release | actual next watches | ${VARIANTS.map((v) => `model ${v.label}`).join(" | ")} |${kind === "" ? " uniform over the candidates |" : ""}`,
      `|---|---|---|---|${kind === "" ? "---|" : ""}`,
      ...rows,
      summaryRow(
        `first ${FRESH_DAYS} days`,
        `model ${kind}share first ${FRESH_DAYS} d`,
        `empirical ${kind}share first ${FRESH_DAYS} d`,
      ),
      summaryRow(
        "total variation distance to the actual shares",
        `${kind}total variation vs empirical`,
        null,
      ),
      ...(kind === ""
        ? [
            summaryRow(
              "items first seen after the cut",
              "model share after cut",
              "empirical share after cut",
            ),
            summaryRow("mean probability of the actual next watch", "mean target probability", null),
          ]
        : []),
    ].join("\n");
    sections.push({ heading, markdown: `Shares ${what}.\n\n${table}`, charts: [name] });
    charts.push({
      name,
      svg: lineChart({
        title: `Mass by days since release: ${results.dataset}, ${kind === "" ? "all items" : "items known at the cut"}`,
        width: 820,
        xLabel: `days since release (${FIGURE4_BINS.binDays}-day bins, bin centres)`,
        yLabel: "share of next watches / of model probability (%)",
        yFromZero: true,
        series: [
          {
            name: "actual next watches",
            points: points((k) => first.metrics[`empirical ${kind}${slotKey(k)}`]),
          },
          ...VARIANTS.filter((v) => (byVariant.get(v.name) ?? []).length > 0).map((v) => ({
            name: `model ${v.label}`,
            points: points((k) => stat(v.name, `model ${kind}${slotKey(k)}`)),
          })),
        ],
      }),
      caption: `Share of the test window's next watches (actual) and of the model's probability mass (mean ± sd over seeds) on ${kind === "" ? "all items" : "the items known at the cut"} by days since release, first ${FIGURE4_BINS.numBins * FIGURE4_BINS.binDays} days; older items are in the table's last rows.`,
    });
  }
  sections.push({
    heading: "How to read it",
    markdown:
      "The paper's Figure 4 shows one video's class probability against days since upload: the model without example age predicts the average popularity over the training window (flat), the model with it follows the spike after upload. Here the same question is asked of every next watch at once: if the model follows freshness, its mass in the first days after release should approach the actual share of watches there, and exceed what the model without example age gives. A model trained once at the cut cannot know items first seen after it (their embeddings are untrained): the row \"items first seen after the cut\" shows how much of the actual fresh watching falls there.",
  });
  return { verdict: verdictOf(byVariant, stat, first, expected), sections, charts };
}

function verdictOf(
  byVariant: ReadonlyMap<string, CellResult[]>,
  stat: (variant: string, metric: string) => MeanSd,
  first: CellResult,
  expected: number,
): string {
  const withAge = byVariant.get("example-age") ?? [];
  const without = byVariant.get("no-example-age") ?? [];
  const freshOf = (kind: string) => `share first ${FRESH_DAYS} d`.replace("share", `${kind}share`);
  if (withAge.length === 0 || without.length === 0)
    return `Not enough finished cells to compare (with example age: ${withAge.length}, without: ${without.length} of ${expected} seeds); the actual next watches put ${pct(first.metrics[`empirical ${freshOf("known ")}`])} of the watches of known items on items in their first ${FRESH_DAYS} days.`;
  const compare = (kind: string) => {
    const metric = `model ${freshOf(kind)}`;
    const empirical = first.metrics[`empirical ${freshOf(kind)}`];
    const paired: number[] = [];
    for (const c of withAge) {
      const o = without.find((x) => x.seed === c.seed);
      if (o !== undefined) paired.push(c.metrics[metric] - o.metrics[metric]);
    }
    const a = stat("example-age", metric);
    const b = stat("no-example-age", metric);
    const d = meanSd(paired);
    const higher = d.n >= 2 && d.mean > 0 && d.mean - d.sd > 0;
    const closer = Math.abs(a.mean - empirical) < Math.abs(b.mean - empirical);
    const sd = Number.isNaN(d.sd) ? "n/a" : (100 * d.sd).toFixed(3);
    // "Follows the spike": at least half of the actual fresh share, not merely more than without.
    const follows = empirical > 0 && a.mean >= FOLLOW_FRACTION * empirical;
    return {
      judged: d.n >= 2,
      holds: higher && closer && follows,
      follows,
      spike: empirical > 0,
      reached: empirical > 0 ? a.mean / empirical : NaN,
      higher,
      closer,
      text: `the actual next watches put ${pct(empirical)} on items in their first ${FRESH_DAYS} days since release; the model with example age puts ${pctMeanSd(a, expected)} of its probability mass there, the model without ${pctMeanSd(b, expected)} (paired difference ${d.mean >= 0 ? "+" : "−"}${Math.abs(100 * d.mean).toFixed(3)} ± ${sd} points, ×${(a.mean / b.mean).toFixed(2)})`,
    };
  };
  const known = compare("known ");
  const all = compare("");
  const tvA = stat("example-age", "known total variation vs empirical");
  const tvB = stat("no-example-age", "known total variation vs empirical");
  const incomplete =
    withAge.length < expected || without.length < expected
      ? ` (incomplete: ${withAge.length} and ${without.length} of ${expected} seeds)`
      : "";
  const head = !known.judged
    ? "Not judged: fewer than two seeds with both variants"
    : known.holds
      ? "The claim holds here"
      : "The claim does not hold here";
  return `${head}${incomplete}. Among the items known at the cut, ${known.text}${known.spike ? "" : " — no watch of a known item falls in its first days, so there is no spike among them to follow"}: example age ${known.higher ? "raises" : "does not clearly raise (beyond one sd over seeds)"} the mass on fresh items and ${known.closer ? "brings it closer to" : "does not bring it closer to"} the actual share${known.spike ? `, ${known.follows ? "reaching" : "but reaches only"} ${(100 * known.reached).toFixed(0)} % of it (following the spike is taken to need at least ${(100 * FOLLOW_FRACTION).toFixed(0)} %)` : ""}; over all age bins the total variation distance to the actual shares is ${pctMeanSd(tvA, expected)} with and ${pctMeanSd(tvB, expected)} without example age. Over the whole catalog ${all.text}; ${pct(first.metrics["empirical share after cut"])} of the window's next watches are of items first seen after the cut, which no model trained at the cut can know.`;
}

export const figure4: Experiment = {
  name: "figure4",
  title: "Figure 4: example age and freshness",
  claim:
    "With the example-age feature (set to 0 at serving) the candidate generator follows the time-dependent popularity of fresh items; without it, it predicts their average popularity over the training window.",
  defaultProtocols: ["temporal"],
  cells,
  runCell,
  report,
};
