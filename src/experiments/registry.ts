/** The experiments `watchnext experiment <name>` runs, by name (one definition file each). */
import { compareExperiment } from "./compare.js";
import type { Experiment } from "./types.js";

export const EXPERIMENTS: Readonly<Record<string, Experiment>> = {
  compare: compareExperiment,
};
