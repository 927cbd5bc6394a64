/**
 * `watchnext embed --data <path> --corpus items|tokens [options] --out <file>`: trains word2vec
 * (SGNS) vectors on the training part of a protocol split, either item2vec over each user's watch
 * sequence or search-token vectors over each user's tag applications (+ the tag genome when the
 * directory has one), and writes them in word2vec's text format. `watchnext embed similar --file
 * <f> --key <token or item id> [-k 10] [--data <path>]` prints a key's nearest neighbours (with
 * titles for items when --data is given).
 */
import { parseArgs } from "node:util";
import { statSync } from "node:fs";
import type { Dataset } from "../../data/dataset.js";
import { readTagGenome } from "../../data/read-genome.js";
import { setNativeThreads } from "../../engine/kernels/native.js";
import { getKernels } from "../../engine/kernels/index.js";
import { SGNS_DEFAULTS, trainSgns } from "../../engine/word2vec/sgns.js";
import { makeSplit } from "../../eval/run-baselines.js";
import { itemCorpus, lastEventTimes, tokenCorpus } from "../../features/embedding-corpus.js";
import { nearestKeys, readWord2vecText, writeWord2vecText } from "../../io/word2vec-text.js";
import { dataHelp, dataOptions, loadFromArgs } from "../data-args.js";
import { CliError, optionError } from "../errors.js";
import { parseInteger, parseNumber, parseSeed, parseTime } from "../values.js";
import type { Command } from "./command.js";

const help = `Usage: watchnext embed --data <path> --corpus items|tokens --out <file> [options]

Trains skip-gram with negative sampling (word2vec) on the training part of a split and writes the
vectors in word2vec's text format (spaces inside bigram keys written as "_").
  --corpus items          item2vec: each user's watched items in time order (keys: item ids)
  --corpus tokens         each user's tag applications in time order, as search tokens (unigrams +
                          bigrams), plus one sentence per movie of the tag genome when present
  --out <file>            where to write the vectors
  --protocol <p>          loo | temporal | none: train on the split's training part (default loo)
                          or on every event (none)
  --cut-quantile <q>, --cut-time <t>   temporal: the cut (as for train candidates)
  --dim <n>               vector width (default 64)
  --window <n>            maximum context distance; each word draws its own window in 1..n (default ${SGNS_DEFAULTS.window})
  --negatives <n>         negatives per pair from unigram^0.75 (default ${SGNS_DEFAULTS.negatives})
  --epochs <n>            passes over the corpus (default ${SGNS_DEFAULTS.epochs})
  --sample <t>            sub-sampling threshold (default ${SGNS_DEFAULTS.sample}; 0 = off)
  --lr <x>                starting learning rate, linear decay (default ${SGNS_DEFAULTS.lr})
  --min-count <n>         drop keys seen fewer times (default ${SGNS_DEFAULTS.minCount})
  --threads <n>           engine threads (default WATCHNEXT_THREADS or the cores); above 1 the
                          updates race (Hogwild): faster, not bit-reproducible
  --seed <n>              (default 1)

${dataHelp}`;

const similarHelp = `Usage: watchnext embed similar --file <vectors> --key <token or item id> [-k 10] [--data <path>]

Prints the k nearest keys by cosine similarity. With --data (the dataset the item vectors were
trained on), item ids are shown with their titles.`;

async function trainingData(
  values: { protocol?: string; "cut-quantile"?: string; "cut-time"?: string },
  data: Dataset,
): Promise<Dataset> {
  const protocol = values.protocol ?? "loo";
  if (protocol === "none") return data;
  if (protocol !== "loo" && protocol !== "temporal")
    throw new CliError(`--protocol: expected loo, temporal or none, got "${protocol}"`);
  if (protocol === "loo" && (values["cut-quantile"] !== undefined || values["cut-time"] !== undefined))
    throw new CliError("--cut-quantile and --cut-time apply to --protocol temporal only");
  try {
    return makeSplit(data, protocol, {
      ...(values["cut-quantile"] === undefined
        ? {}
        : { cutQuantile: parseNumber("--cut-quantile", values["cut-quantile"]) }),
      ...(values["cut-time"] === undefined ? {} : { cutTime: parseTime("--cut-time", values["cut-time"]) }),
    }).train;
  } catch (err) {
    throw optionError(err);
  }
}

export const embed: Command = {
  summary: "Train word2vec (SGNS) vectors of items or search tokens; write word2vec text",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...dataOptions,
        corpus: { type: "string" },
        out: { type: "string" },
        protocol: { type: "string" },
        "cut-quantile": { type: "string" },
        "cut-time": { type: "string" },
        dim: { type: "string" },
        window: { type: "string" },
        negatives: { type: "string" },
        epochs: { type: "string" },
        sample: { type: "string" },
        lr: { type: "string" },
        "min-count": { type: "string" },
        threads: { type: "string" },
        seed: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(help);
      return 0;
    }
    if (values.corpus !== "items" && values.corpus !== "tokens")
      throw new CliError(
        `--corpus: expected items or tokens, got ${values.corpus === undefined ? "nothing" : `"${values.corpus}"`}`,
      );
    if (!values.out) throw new CliError("--out <file> is required");
    const int = (flag: string, text: string | undefined, fallback: number, min: number): number =>
      text === undefined ? fallback : parseInteger(flag, text, min);
    const options = {
      dim: int("--dim", values.dim, 64, 1),
      window: int("--window", values.window, SGNS_DEFAULTS.window, 1),
      negatives: int("--negatives", values.negatives, SGNS_DEFAULTS.negatives, 0),
      epochs: int("--epochs", values.epochs, SGNS_DEFAULTS.epochs, 1),
      minCount: int("--min-count", values["min-count"], SGNS_DEFAULTS.minCount, 1),
      sample: values.sample === undefined ? SGNS_DEFAULTS.sample : parseNumber("--sample", values.sample),
      lr: values.lr === undefined ? SGNS_DEFAULTS.lr : parseNumber("--lr", values.lr),
      seed: parseSeed(values.seed),
    };
    if (options.sample < 0) throw new CliError(`--sample: expected a number >= 0, got ${options.sample}`);
    if (!(options.lr > 0)) throw new CliError(`--lr: expected a number > 0, got ${options.lr}`);
    if (values.threads !== undefined) {
      const threads = parseInteger("--threads", values.threads, 1);
      if (getKernels().backend === "native") setNativeThreads(threads);
      else if (threads > 1) console.error("watchnext: --threads: the TypeScript kernels run on one thread");
    }
    const start = performance.now();
    const data = await loadFromArgs(values);
    const train = await trainingData(values, data);
    let corpus;
    if (values.corpus === "items") corpus = itemCorpus(train);
    else {
      const isDir = values.data !== undefined && statSync(values.data).isDirectory();
      const genome = isDir ? await readTagGenome(values.data as string) : null;
      if (train.tags === null && genome === null)
        throw new CliError(`--corpus tokens: ${data.name} has no tags and no tag genome`);
      corpus = tokenCorpus(train, genome, values.protocol === "none" ? null : lastEventTimes(train));
    }
    let result;
    try {
      result = trainSgns(corpus, options);
    } catch (err) {
      throw optionError(err);
    }
    writeWord2vecText(values.out, result.vectors);
    const s = result.stats;
    const seconds = (performance.now() - start) / 1000;
    console.error(
      `watchnext: embed: ${s.vocab} keys × ${options.dim}, ${s.corpusTokens} corpus tokens, ${options.epochs} epochs (${s.trainedTokens} tokens trained after sub-sampling), ${seconds.toFixed(1)} s → ${values.out}`,
    );
    return 0;
  },
};

export const embedSimilar: Command = {
  summary: "Nearest neighbours of a token or item in a word2vec text file",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...dataOptions,
        file: { type: "string" },
        key: { type: "string" },
        k: { type: "string", short: "k" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(similarHelp);
      return 0;
    }
    if (!values.file) throw new CliError("--file <vectors> is required");
    if (values.key === undefined) throw new CliError("--key <token or item id> is required");
    const k = values.k === undefined ? 10 : parseInteger("-k", values.k, 1);
    const vectors = readWord2vecText(values.file);
    const key = values.key.replaceAll("_", " ");
    if (!vectors.keys.includes(key))
      throw new CliError(`--key: ${values.file} has no vector for "${values.key}"`);
    const data = values.data === undefined ? null : await loadFromArgs(values);
    const title = (id: string): string => {
      const i = data?.items.index.get(id);
      return i === undefined || data === null ? "" : data.itemInfo.title[i];
    };
    if (data !== null && title(key) !== "") console.log(`${key}  ${title(key)}`);
    for (const n of nearestKeys(vectors, key, k)) {
      const t = title(n.key);
      console.log(`${n.cosine.toFixed(4)}  ${n.key}${t === "" ? "" : `  ${t}`}`);
    }
    return 0;
  },
};
