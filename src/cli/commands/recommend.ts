/**
 * `watchnext recommend`: the top-k items of one user from a trained model (two stages, or the
 * candidate generator alone), given the user's whole history in the data (seen items excluded),
 * with titles, genres, each source's score, the ranking logit and the expected engagement.
 */
import { parseArgs } from "node:util";
import type { Dataset } from "../../data/dataset.js";
import type { QueryBatch } from "../../eval/types.js";
import { Recommender } from "../../models/ranking/recommender.js";
import type { RecommendRequest } from "../../models/ranking/recommender-types.js";
import { dataHelp, dataOptions, loadFromArgs } from "../data-args.js";
import { CliError } from "../errors.js";
import { parseInteger } from "../values.js";
import type { Command } from "./command.js";

const help = `Usage: watchnext recommend --model <dir> --data <path> --user <id> [-k 20] [--stage two|candidates] [--json]

Recommends k items to one user from the user's full history in --data (the dataset the model was
trained on), excluding the items already seen: by two stages (the ranker over the candidate
sources' union) for a \`watchnext train\` directory, or by the candidate generator alone.

  --model <dir>          model directory (\`watchnext train\` or \`watchnext train candidates\`)
  --stage <name>         two (default with a ranker) or candidates (stage one alone)
  --explain              with each two-stage item, the ranker's top feature-group contributions
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
  summary: "Recommend items to one user (two stages, or the candidate generator alone)",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...dataOptions,
        model: { type: "string" },
        user: { type: "string" },
        k: { type: "string", short: "k" },
        stage: { type: "string" },
        explain: { type: "boolean" },
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
    const stage = values.stage;
    if (stage !== undefined && stage !== "two" && stage !== "candidates")
      throw new CliError(`--stage: expected two or candidates, got "${stage}"`);
    const dataset = await loadFromArgs(values);
    const user = dataset.users.index.get(values.user);
    if (user === undefined) throw new CliError(`--user: no user "${values.user}" in ${dataset.source}`);
    const recommender = Recommender.load(values.model, dataset);
    if (stage === "two" && !recommender.hasRanker)
      throw new CliError(
        `--stage two: ${values.model} holds the candidate generator only (train both stages with \`watchnext train\`)`,
      );
    const query = userQuery(dataset, user);
    const request: RecommendRequest = {
      user,
      time: query.times[0],
      historyItems: query.historyItems,
      historyTimes: query.historyTimes,
      k: Math.min(k, dataset.items.ids.length),
      stage,
    };
    const recs = recommender.recommend(request);
    const info = dataset.itemInfo;
    const items = recs.map((r, i) => {
      const genres = [];
      for (let g = info.genreOffsets[r.item]; g < info.genreOffsets[r.item + 1]; g++)
        genres.push(info.genreNames[info.genreIds[g]]);
      return {
        rank: i + 1,
        item: dataset.items.ids[r.item],
        title: info.title[r.item],
        genres,
        score: Number.isNaN(r.rankingLogit) ? r.candidateScore : r.rankingLogit,
        candidateScore: r.candidateScore,
        rankingLogit: Number.isNaN(r.rankingLogit) ? null : r.rankingLogit,
        expectedEngagement: Number.isNaN(r.expectedEngagement) ? null : r.expectedEngagement,
        sourceScores: r.sourceScores,
        ...(values.explain && recommender.hasRanker && !Number.isNaN(r.rankingLogit)
          ? { explain: recommender.explain(request, r.item, 3) }
          : {}),
      };
    });
    const used = stage ?? (recommender.hasRanker ? "two" : "candidates");
    if (values.json) {
      console.log(
        JSON.stringify(
          { user: values.user, stage: used, history: query.historyItems.length, recommendations: items },
          null,
          2,
        ),
      );
    } else {
      console.log(
        `user ${values.user}: ${query.historyItems.length} items seen; top ${items.length} (${used === "two" ? "two stages" : "candidate generator"}):`,
      );
      for (const it of items) {
        const why = it.explain
          ? `  <- ${it.explain.map((e) => `${e.feature} ${e.contribution >= 0 ? "+" : ""}${e.contribution.toFixed(2)}`).join(", ")}`
          : "";
        const eng = it.expectedEngagement === null ? "" : ` (e^logit ${it.expectedEngagement.toFixed(2)})`;
        console.log(
          `${String(it.rank).padStart(3)}. ${it.score.toFixed(3).padStart(8)}${eng}  ${it.title || it.item}  [${it.genres.join("|")}]${why}`,
        );
      }
    }
    return 0;
  },
};
