/**
 * The contract of `watchnext experiment`: an experiment is a list of cells (one configuration,
 * seed and dataset each) that the runner (runner.ts) trains and evaluates one at a time, keeping
 * every finished cell in result.json, and a report function that turns the finished cells into
 * markdown sections and SVG charts (report-writer.ts writes report.md, report.html and the SVGs).
 * Experiment definitions live one per file in this folder and are listed in registry.ts.
 */
import type { Dataset } from "../data/dataset.js";
import type { JsonValue } from "../engine/model-file/index.js";
import type { TemporalOptions } from "../eval/split-temporal.js";
import type { Split } from "../eval/types.js";
import type { CandidateConfigInput } from "../models/candidates/config.js";
import type { TrainingEvent } from "../models/candidates/train.js";
import type { RankerConfigInput } from "../models/ranking/config.js";
import type { RankerEpoch } from "../models/ranking/ranker.js";

export type ExperimentProtocol = "loo" | "temporal";

/** One unit of work: trained and evaluated once, kept in result.json under its id. */
export interface ExperimentCell {
  /** Unique and stable across runs (resume matches on it), e.g. "temporal/depth2/watches/seed1". */
  readonly id: string;
  /** What this cell varies (protocol, depth, feature set, model, ...): JSON, shown in result.json. */
  readonly config: { readonly [key: string]: JsonValue };
  readonly seed: number;
  /** The dataset's name (Dataset.name): a result.json holds the cells of one dataset. */
  readonly dataset: string;
}

/** What a cell returns: metric name -> value (test metrics; validation ones prefixed "valid "). */
export interface CellOutcome {
  readonly metrics: Readonly<Record<string, number>>;
  /** Seconds spent training (fit, including validation-based early stopping and refits). */
  readonly trainSeconds: number;
  /** Anything else worth keeping (best epoch, chosen λ, per-bucket shares for figure4, ...). */
  readonly extra?: { readonly [key: string]: JsonValue };
}

/** A finished cell as result.json stores it. */
export interface CellResult extends ExperimentCell, CellOutcome {
  /** Wall seconds of the whole cell (training + evaluation) on this machine. */
  readonly wallSeconds: number;
  /** 1-minute load average when the cell finished (> cores = the timings are under contention). */
  readonly loadAverage: number;
  /** A command that recomputes exactly this cell. */
  readonly command: string;
  readonly finishedAt: string;
  /** The git commit of the code that ran the cell (absent when unknown). */
  readonly commit?: string;
}

/** Options every experiment receives, from the command line. */
export interface ExperimentOptions {
  readonly seeds: readonly number[];
  /** Protocols to run (default both, or what --protocol names). */
  readonly protocols: readonly ExperimentProtocol[];
  /** Temporal cut and window (--cut-quantile, --cut-time, --window). */
  readonly temporal: TemporalOptions;
  /**
   * Partial candidate-generator config merged under each cell's own settings (--candidates-config),
   * e.g. a reduced epoch budget {"train": {"epochs": 8}} or a test-sized network.
   */
  readonly candidates: CandidateConfigInput;
  /** Partial ranker config for cells that train a ranker (--ranker-config). */
  readonly ranker: RankerConfigInput;
}

/** What the runner hands to `runCell`. */
export interface CellContext {
  readonly dataset: Dataset;
  readonly options: ExperimentOptions;
  /** The protocol split of the dataset (computed once per protocol and shared by the cells). */
  split(protocol: ExperimentProtocol): Split;
  /** A fresh empty directory for this cell's model files, deleted after the cell. */
  readonly scratchDir: string;
  /** Ctrl-C: stop training soon; the runner then discards this cell (it is not written). */
  readonly signal: AbortSignal;
  /** Pass to CandidateModel.fit / trainCandidatesModel: drives the progress display (epoch, ETA). */
  readonly onCandidateEvent: (event: TrainingEvent) => void;
  /** Pass to the ranker's onEpoch (two-stage training). */
  readonly onRankerEpoch: (event: RankerEpoch) => void;
  /** A status line for the progress display (e.g. "building impressions"). */
  readonly log: (line: string) => void;
}

/** A chart of the report: an SVG document (src/charts) saved as `<name>.svg` and inlined in the HTML. */
export interface ReportChart {
  /** File stem, e.g. "figure6-temporal" -> figure6-temporal.svg. */
  readonly name: string;
  readonly svg: string;
  /** One sentence under the chart. */
  readonly caption: string;
}

/** A report section: a heading and markdown (paragraphs, lists, pipe tables, code blocks). */
export interface ReportSection {
  readonly heading: string;
  readonly markdown: string;
  /** Charts shown at the end of the section (by ReportChart.name). */
  readonly charts?: readonly string[];
}

export interface ReportContent {
  /** The one-paragraph verdict: does the paper's claim hold on this data, with the numbers. */
  readonly verdict: string;
  readonly sections: readonly ReportSection[];
  readonly charts: readonly ReportChart[];
}

/** The finished cells handed to `report`, with the cells still missing (never shown as complete). */
export interface ExperimentResults {
  readonly experiment: string;
  readonly dataset: string;
  /** Every planned cell in plan order, and the finished ones by id. */
  readonly planned: readonly ExperimentCell[];
  readonly finished: ReadonlyMap<string, CellResult>;
  readonly options: ExperimentOptions;
}

export interface Experiment {
  readonly name: string;
  /** One line for help texts and the report's title. */
  readonly title: string;
  /** The paper's claim this experiment tests (one or two sentences, for the report). */
  readonly claim: string;
  /** Protocols the experiment runs when --protocol is not given. */
  readonly defaultProtocols: readonly ExperimentProtocol[];
  /** The plan: every cell, in run order. */
  cells(dataset: Dataset, options: ExperimentOptions): ExperimentCell[];
  runCell(cell: ExperimentCell, ctx: CellContext): Promise<CellOutcome>;
  /** Markdown + charts from the finished cells (must cope with missing cells: say which). */
  report(results: ExperimentResults): ReportContent;
}
