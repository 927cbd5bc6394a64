/** The command table. Each command file exports one `Command`; register it here with one line. */
import type { Command } from "./command.js";
import { baselines } from "./baselines.js";
import { dataFetch } from "./data-fetch.js";
import { dataCutHistory } from "./data-cut-history.js";
import { dataInfo } from "./data-info.js";
import { dataSynth } from "./data-synth.js";
import { trainCandidates } from "./train-candidates.js";
import { trainRankerCommand, trainTwoStageCommand } from "./train.js";
import { evaluateCommand } from "./evaluate.js";
import { recommendCommand } from "./recommend.js";
import { serveCommand } from "./serve.js";
import { quickstart } from "./quickstart.js";
import { embed, embedSimilar } from "./embed.js";
import { exportExamples } from "./export-examples.js";
import { exportOnnx } from "./export-onnx.js";
import { experimentCommand } from "./experiment.js";

export const commands: Record<string, Command> = {
  baselines,
  "data cut-history": dataCutHistory,
  "data fetch": dataFetch,
  "data info": dataInfo,
  "data synth": dataSynth,
  train: trainTwoStageCommand,
  "train candidates": trainCandidates,
  "train ranker": trainRankerCommand,
  evaluate: evaluateCommand,
  recommend: recommendCommand,
  serve: serveCommand,
  quickstart,
  embed,
  "embed similar": embedSimilar,
  "export onnx": exportOnnx,
  "export examples": exportExamples,
  experiment: experimentCommand,
};
