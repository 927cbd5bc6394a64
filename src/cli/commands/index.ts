/** The command table. Each command file exports one `Command`; register it here with one line. */
import type { Command } from "./command.js";
import { dataFetch } from "./data-fetch.js";
import { dataInfo } from "./data-info.js";
import { dataSynth } from "./data-synth.js";

export const commands: Record<string, Command> = {
  "data fetch": dataFetch,
  "data info": dataInfo,
  "data synth": dataSynth,
};
