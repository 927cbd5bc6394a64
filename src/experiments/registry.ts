/** The experiments `watchnext experiment <name>` runs, by name (one definition file each). */
import { compareExperiment } from "./compare.js";
import { figure4 } from "./figure4.js";
import { figure5Experiment } from "./figure5.js";
import { figure6Experiment } from "./figure6.js";
import { table1 } from "./table1.js";
import type { Experiment } from "./types.js";

export const EXPERIMENTS: Readonly<Record<string, Experiment>> = {
  figure4,
  figure5: figure5Experiment,
  figure6: figure6Experiment,
  table1,
  compare: compareExperiment,
};
