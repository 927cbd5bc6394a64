/**
 * result.json of an experiment run: every finished cell (config, seed, metrics, train seconds,
 * wall seconds, load average, the command that recomputes it) plus the options the cells were
 * run with. The runner rewrites it atomically after each finished cell (src/io/atomic.ts), so a
 * crash or Ctrl-C leaves every finished cell readable; a resumed run refuses a file whose options
 * differ from the current ones (its cells would not be comparable).
 */
import { existsSync, readFileSync } from "node:fs";
import type { JsonValue } from "../engine/model-file/index.js";
import { UserError } from "../errors.js";
import { writeFileAtomic } from "../io/atomic.js";
import type { CellResult, ExperimentOptions } from "./types.js";

export const RESULT_FORMAT = 1;

export interface ResultFile {
  readonly format: number;
  readonly experiment: string;
  readonly dataset: { readonly name: string; readonly source: string };
  /** The options that change what a cell computes (seeds and protocols only select cells). */
  readonly settings: JsonValue;
  /** The command of the latest run. */
  readonly command: string;
  /** Finished cells in plan order. */
  readonly cells: CellResult[];
}

/** A problem with an existing result.json (names the file and what is wrong). */
export class ResultFileError extends UserError {
  override name = "ResultFileError";
}

/** The options that must match for cells of two runs to belong in one result.json. */
export function cellSettings(options: ExperimentOptions): JsonValue {
  return JSON.parse(
    JSON.stringify({ temporal: options.temporal, candidates: options.candidates, ranker: options.ranker }),
  ) as JsonValue;
}

/** The file at `path`, or null when there is none. */
export function readResultFile(path: string): ResultFile | null {
  if (!existsSync(path)) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ResultFileError(
      `${path}: not valid JSON (${(err as Error).message}); move it away or use --force`,
    );
  }
  const d = doc as Partial<ResultFile> | null;
  if (d === null || typeof d !== "object" || d.format !== RESULT_FORMAT || !Array.isArray(d.cells))
    throw new ResultFileError(
      `${path}: not an experiment result file of format ${RESULT_FORMAT} (expected {"format": 1, "cells": [...]}); move it away or use --force`,
    );
  d.cells.forEach((c, i) => {
    if (typeof c?.id !== "string" || typeof c.metrics !== "object" || c.metrics === null)
      throw new ResultFileError(`${path}: cells[${i}]: expected an object with "id" and "metrics"`);
  });
  return d as ResultFile;
}

export function writeResultFile(path: string, file: ResultFile): void {
  writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
}
