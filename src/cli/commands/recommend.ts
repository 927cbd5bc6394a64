/**
 * `watchnext recommend`: the top-k items of one user from a trained candidate generator, given the
 * user's whole history in the data (seen items excluded), with titles, genres and scores.
 */
import { parseArgs } from "node:util";
import type { Dataset } from "../../data/dataset.js";
import type { QueryBatch } from "../../eval/types.js";
import { CandidateModel } from "../../models/candidates/model.js";
import { dataHelp, dataOptions, loadFromArgs } from "../data-args.js";
import { CliError } from "../errors.js";
import { parseInteger } from "../values.js";
import type { Command } from "./command.js";

const help = `Usage: watchnext recommend --model <dir> --data <path> --user <id> [-k 20] [--json]

Recommends k items to one user from the user's full history in --data (the dataset the model was
trained on), excluding the items already seen.

  --model <dir>          model directory written by \`watchnext train candidates\`
  --user <id>            the user's id as written in the data
  -k, --k <n>            number of recommendations (default 20)
  --json                 print JSON

${dataHelp}`;

/** One user's query: the whole history in time order, asked at the time of the last event. */
export function userQuery(data: Dataset, user: number): QueryBatch {
  const ev = data.events;
  const rows: number[] = [];
  for (let i = 0; i < ev.user.length; i++) if (ev.user[i] === user) rows.push(i);
  rows.sort((a, b) => ev.time[a] - ev.time[b] || a - b);
  return {
    users: Int32Array.of(user),
    times: Float64Array.of(rows.length ? ev.time[rows[rows.length - 1]] : 0),
    historyOffsets: Int32Array.of(0, rows.length),
    historyItems: Int32Array.from(rows, (i) => ev.item[i]),
    historyTimes: Float64Array.from(rows, (i) => ev.time[i]),
  };
}

export const recommendCommand: Command = {
  summary: "Recommend items to one user with a trained candidate generator",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...dataOptions,
        model: { type: "string" },
        user: { type: "string" },
        k: { type: "string", short: "k" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(help);
      return 0;
    }
    if (!values.model) throw new CliError(`--model <dir> is required\n\n${help}`);
    if (values.user === undefined) throw new CliError(`--user <id> is required\n\n${help}`);
    const k = values.k === undefined ? 20 : parseInteger("-k", values.k, 1);
    const dataset = await loadFromArgs(values);
    const user = dataset.users.index.get(values.user);
    if (user === undefined) throw new CliError(`--user: no user "${values.user}" in ${dataset.source}`);
    const model = CandidateModel.load(values.model, dataset);
    const query = userQuery(dataset, user);
    const recs = model.recommend(query, Math.min(k, dataset.items.ids.length));
    const info = dataset.itemInfo;
    const items = [];
    for (let r = 0; r < recs.k; r++) {
      const item = recs.items[r];
      if (item < 0) break;
      const genres = [];
      for (let g = info.genreOffsets[item]; g < info.genreOffsets[item + 1]; g++)
        genres.push(info.genreNames[info.genreIds[g]]);
      items.push({
        rank: r + 1,
        item: dataset.items.ids[item],
        title: info.title[item],
        genres,
        score: recs.scores[r],
      });
    }
    if (values.json) {
      console.log(
        JSON.stringify(
          { user: values.user, history: query.historyItems.length, recommendations: items },
          null,
          2,
        ),
      );
    } else {
      console.log(`user ${values.user}: ${query.historyItems.length} items seen; top ${items.length}:`);
      for (const it of items) {
        console.log(
          `${String(it.rank).padStart(3)}. ${it.score.toFixed(3).padStart(8)}  ${it.title || it.item}  [${it.genres.join("|")}]`,
        );
      }
    }
    return 0;
  },
};
