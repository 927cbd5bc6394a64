/**
 * The corpora word2vec trains on (src/engine/word2vec/sgns.ts): sentences of integer ids plus the
 * key of each id. Three sources: each user's tag applications in time order, tokenized as the
 * search feature tokenizes them (unigrams + bigrams, src/features/tokenize.ts); the tag genome of
 * ml-20m/25m/32m as one sentence per movie (its relevant tags, most relevant first); and each
 * user's watch sequence in time order (item2vec). Callers pass the training part of a split, so
 * no held-out event reaches the vectors.
 */
import type { Dataset, TagEvents } from "../data/dataset.js";
import type { TagGenome } from "../data/read-genome.js";
import type { IdCorpus } from "../engine/word2vec/sgns.js";
import { tagTokens } from "./tokenize.js";
import { buildUserSequences } from "./user-sequences.js";

/** Grows a corpus sentence by sentence, interning string keys. */
export class CorpusBuilder {
  private readonly keys: string[] = [];
  private readonly index = new Map<string, number>();
  private tokens = new Int32Array(1024);
  private readonly offsets: number[] = [0];
  private n = 0;

  /** Id of a key (a new id for a new key). */
  id(key: string): number {
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.keys.length;
      this.index.set(key, i);
      this.keys.push(key);
    }
    return i;
  }

  push(id: number): void {
    if (this.n === this.tokens.length) {
      const grown = new Int32Array(this.tokens.length * 2);
      grown.set(this.tokens);
      this.tokens = grown;
    }
    this.tokens[this.n++] = id;
  }

  /** Ends the current sentence (an empty one is not kept). */
  endSentence(): void {
    if (this.n > this.offsets[this.offsets.length - 1]) this.offsets.push(this.n);
  }

  finish(): IdCorpus {
    return { keys: this.keys, tokens: this.tokens.slice(0, this.n), offsets: Int32Array.from(this.offsets) };
  }
}

/**
 * One sentence per user: the tokens of the user's tag applications in time order (ties in file
 * order). With `lastTime`, only applications at or before lastTime[user] (the training cut).
 */
export function addTagSentences(
  b: CorpusBuilder,
  tags: TagEvents,
  numUsers: number,
  lastTime: Float64Array | null = null,
): void {
  const textIds = tags.texts.map((t) => Int32Array.from(tagTokens(t), (tok) => b.id(tok)));
  const seq = buildUserSequences(tags.user, tags.time, numUsers);
  for (let u = 0; u < numUsers; u++) {
    for (let k = seq.offsets[u]; k < seq.offsets[u + 1]; k++) {
      if (lastTime !== null && seq.times[k] > lastTime[u]) break;
      for (const id of textIds[tags.textIndex[seq.eventIndex[k]]]) b.push(id);
    }
    b.endSentence();
  }
}

/** Genome relevance at or above which a tag describes a movie (the genome's own scale is 0..1). */
export const GENOME_MIN_RELEVANCE = 0.5;

/** One sentence per genome movie: the tokens of its tags with relevance ≥ minRelevance, most relevant first. */
export function addGenomeSentences(
  b: CorpusBuilder,
  genome: TagGenome,
  minRelevance = GENOME_MIN_RELEVANCE,
): void {
  const textIds = genome.tags.map((t) => Int32Array.from(tagTokens(t), (tok) => b.id(tok)));
  const rows = new Map<number, number[]>();
  for (let i = 0; i < genome.movie.length; i++) {
    if (genome.relevance[i] < minRelevance) continue;
    let list = rows.get(genome.movie[i]);
    if (list === undefined) rows.set(genome.movie[i], (list = []));
    list.push(i);
  }
  for (const m of [...rows.keys()].sort((x, y) => x - y)) {
    const list = rows.get(m) as number[];
    list.sort((x, y) => genome.relevance[y] - genome.relevance[x] || x - y);
    for (const i of list) for (const id of textIds[genome.tag[i]]) b.push(id);
    b.endSentence();
  }
}

/** The search-token corpus of a (training) dataset: its users' tag sentences, then the genome's movie sentences. */
export function tokenCorpus(
  data: Dataset,
  genome: TagGenome | null = null,
  lastTime: Float64Array | null = null,
): IdCorpus {
  const b = new CorpusBuilder();
  if (data.tags !== null) addTagSentences(b, data.tags, data.users.ids.length, lastTime);
  if (genome !== null) addGenomeSentences(b, genome);
  return b.finish();
}

/**
 * item2vec's corpus: one sentence per user, the user's watched items in time order (ties in file
 * order). Id i is the dataset's item i (keys = its external ids), so vectors map straight back.
 */
export function itemCorpus(data: Dataset): IdCorpus {
  const numUsers = data.users.ids.length;
  const seq = buildUserSequences(data.events.user, data.events.time, numUsers);
  const tokens = new Int32Array(seq.eventIndex.length);
  for (let k = 0; k < tokens.length; k++) tokens[k] = data.events.item[seq.eventIndex[k]];
  return { keys: data.items.ids, tokens, offsets: seq.offsets };
}

/** Each user's latest event time in `data` (−Infinity without events): the cut for their tag sentences. */
export function lastEventTimes(data: Dataset): Float64Array {
  const last = new Float64Array(data.users.ids.length).fill(-Infinity);
  const { user, time } = data.events;
  for (let i = 0; i < user.length; i++) if (time[i] > last[user[i]]) last[user[i]] = time[i];
  return last;
}
