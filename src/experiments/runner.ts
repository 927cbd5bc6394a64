/**
 * Runs an experiment's cells one at a time into `<out>/result.json`, then writes the report.
 * A cell already in result.json is skipped (resume) unless `force`; each finished cell is written
 * atomically at once, so Ctrl-C (the signal) or a crash loses at most the running cell, which is
 * discarded, never saved half-trained. `only` restricts the run to some cell ids (`*` wildcards).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Dataset } from "../data/dataset.js";
import { makeSplit } from "../eval/run-baselines.js";
import type { Split } from "../eval/types.js";
import { ExperimentProgress, type ProgressSink } from "./progress.js";
import {
  cellSettings,
  readResultFile,
  ResultFileError,
  writeResultFile,
  RESULT_FORMAT,
} from "./result-file.js";
import { writeReport } from "./report-writer.js";
import type {
  CellContext,
  CellResult,
  Experiment,
  ExperimentCell,
  ExperimentOptions,
  ExperimentProtocol,
  ExperimentResults,
} from "./types.js";

export interface RunExperimentOptions {
  readonly experiment: Experiment;
  readonly dataset: Dataset;
  readonly options: ExperimentOptions;
  /** Output directory (created): result.json, report.md, report.html, SVGs. */
  readonly out: string;
  /** Recompute finished cells too. */
  readonly force?: boolean;
  /** Cell id patterns (`*` = any text); empty or absent: every planned cell. */
  readonly only?: readonly string[];
  /** The command that runs (or finishes) the whole experiment, for the report and result.json. */
  readonly command: string;
  /** The command that recomputes one cell alone (default: `command` + --seeds <seed> --only <id>). */
  readonly cellCommand?: (cell: ExperimentCell) => string;
  readonly progress?: ProgressSink | null;
  readonly signal?: AbortSignal;
  /** Rewrite the report from result.json without running any cell. */
  readonly reportOnly?: boolean;
  /** The code's git commit, recorded with each cell run (absent: not known). */
  readonly commit?: string;
}

export interface RunExperimentResult {
  readonly results: ExperimentResults;
  readonly ran: number;
  readonly skipped: number;
  readonly interrupted: boolean;
  readonly reportPath: string;
}

/** A cell stopped by the signal (its partial result is discarded). */
export class CellInterrupted extends Error {}

function patternMatcher(patterns: readonly string[]): (id: string) => boolean {
  if (patterns.length === 0) return () => true;
  const res = patterns.map(
    (p) =>
      new RegExp(
        `^${p
          .split("*")
          .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
          .join(".*")}$`,
      ),
  );
  return (id) => res.some((re) => re.test(id));
}

export async function runExperiment(o: RunExperimentOptions): Promise<RunExperimentResult> {
  const { experiment, dataset, options } = o;
  const planned = experiment.cells(dataset, options);
  const ids = new Set<string>();
  for (const c of planned) {
    if (ids.has(c.id)) throw new Error(`experiment ${experiment.name}: duplicate cell id "${c.id}"`);
    ids.add(c.id);
  }
  mkdirSync(o.out, { recursive: true });
  const resultPath = join(o.out, "result.json");
  const settings = cellSettings(options);
  const finished = new Map<string, CellResult>();
  const existing = readResultFile(resultPath);
  if (existing !== null) {
    if (existing.experiment !== experiment.name || existing.dataset.name !== dataset.name)
      throw new ResultFileError(
        `${resultPath} holds experiment ${existing.experiment} on ${existing.dataset.name}, not ${experiment.name} on ${dataset.name}: use another --out`,
      );
    if (JSON.stringify(existing.settings) !== JSON.stringify(settings))
      throw new ResultFileError(
        `${resultPath} was run with other settings (${JSON.stringify(existing.settings)}; now ${JSON.stringify(settings)}): use the same options, another --out, or --force to start over`,
      );
    // --force recomputes the selected cells; the others stay.
    for (const c of existing.cells) finished.set(c.id, c);
  }
  const selected = patternMatcher(o.only ?? []);
  const todo =
    o.reportOnly === true
      ? []
      : planned.filter((c) => selected(c.id) && (o.force === true || !finished.has(c.id)));
  const skipped =
    o.reportOnly === true ? finished.size : planned.filter((c) => selected(c.id)).length - todo.length;
  const progress = new ExperimentProgress(o.progress === undefined ? process.stderr : o.progress);
  if (skipped > 0)
    progress.message(`${skipped} finished cell(s) kept from ${resultPath} (--force reruns them)`);

  const splits = new Map<ExperimentProtocol, Split>();
  const split = (p: ExperimentProtocol): Split => {
    let s = splits.get(p);
    if (s === undefined) {
      s = makeSplit(dataset, p, p === "temporal" ? options.temporal : undefined);
      splits.set(p, s);
    }
    return s;
  };
  const signal = o.signal ?? new AbortController().signal;
  const save = () => {
    const cells = [
      ...planned.flatMap((c) => finished.get(c.id) ?? []),
      // Cells of other seeds / protocols from earlier runs stay in the file.
      ...[...finished.values()].filter((c) => !ids.has(c.id)),
    ];
    writeResultFile(resultPath, {
      format: RESULT_FORMAT,
      experiment: experiment.name,
      dataset: { name: dataset.name, source: dataset.source },
      settings,
      command: o.command,
      cells,
    });
  };

  let ran = 0;
  let interrupted = false;
  for (let i = 0; i < todo.length; i++) {
    if (signal.aborted) {
      interrupted = true;
      break;
    }
    const cell = todo[i];
    progress.cellStart(i + 1, todo.length, cell.id);
    const scratchDir = mkdtempSync(join(tmpdir(), "watchnext-experiment-"));
    const started = performance.now();
    try {
      const ctx: CellContext = {
        dataset,
        options,
        split,
        scratchDir,
        signal,
        onCandidateEvent: (e) => progress.candidateEvent(e),
        onRankerEpoch: (e) => progress.rankerEpoch(e),
        log: (line) => progress.log(line),
      };
      const outcome = await experiment.runCell(cell, ctx);
      if (signal.aborted) throw new CellInterrupted(cell.id);
      const wallSeconds = (performance.now() - started) / 1000;
      finished.set(cell.id, {
        ...cell,
        metrics: outcome.metrics,
        trainSeconds: outcome.trainSeconds,
        ...(outcome.extra !== undefined ? { extra: outcome.extra } : {}),
        wallSeconds,
        loadAverage: Math.round(loadavg()[0] * 100) / 100,
        command: o.cellCommand?.(cell) ?? `${o.command} --seeds ${cell.seed} --only '${cell.id}'`,
        finishedAt: new Date().toISOString(),
        ...(o.commit !== undefined ? { commit: o.commit } : {}),
      });
      save();
      ran++;
      progress.cellDone(wallSeconds);
    } catch (err) {
      if (err instanceof CellInterrupted || signal.aborted) {
        interrupted = true;
        progress.message(
          `interrupted: cell ${cell.id} discarded; ${finished.size} finished cell(s) kept in ${resultPath}`,
        );
        break;
      }
      throw err;
    } finally {
      rmSync(scratchDir, { recursive: true, force: true });
    }
  }
  if (ran > 0 || (existing === null && o.reportOnly !== true)) save();
  const results: ExperimentResults = {
    experiment: experiment.name,
    dataset: dataset.name,
    planned,
    finished,
    options,
  };
  const reportPath = writeReport(o.out, experiment, results, { command: o.command, dataset });
  return { results, ran, skipped, interrupted, reportPath };
}

/** The cells of `results.planned` not finished yet. */
export function missingCells(results: ExperimentResults): ExperimentCell[] {
  return results.planned.filter((c) => !results.finished.has(c.id));
}
