/**
 * The tag genome of ml-20m / ml-25m / ml-32m: `genome-tags.csv` (tagId,tag) and
 * `genome-scores.csv` (movieId,tagId,relevance in [0, 1]), both with a header. Read only when
 * asked (word2vec's movie-by-tag corpus, src/features/embedding-corpus.ts); a directory without
 * them has no genome (null). Movies are external ids as in the ratings; unknown tag ids are errors.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DataError, quoteValue } from "./errors.js";
import { scanRecords } from "./record-scanner.js";

export interface TagGenome {
  /** Tag text of each genome tag index. */
  readonly tags: readonly string[];
  /** External movie ids (as in the ratings) of the movie indices below. */
  readonly movies: readonly string[];
  /** Rows in file order: movie index, tag index, relevance. */
  readonly movie: Int32Array;
  readonly tag: Int32Array;
  readonly relevance: Float32Array;
}

function expectHeader(path: string, got: string[], want: readonly string[]): void {
  if (got.length < want.length || want.some((w, i) => got[i].trim() !== w)) {
    throw new DataError(
      path,
      1,
      null,
      `expected the header ${want.join(",")}, got ${quoteValue(got.join(","))}`,
    );
  }
}

/** The genome of a MovieLens CSV directory, or null when its two files are absent. */
export async function readTagGenome(dir: string): Promise<TagGenome | null> {
  const tagsPath = join(dir, "genome-tags.csv");
  const scoresPath = join(dir, "genome-scores.csv");
  if (!existsSync(tagsPath) || !existsSync(scoresPath)) return null;
  const tagIndex = new Map<string, number>();
  const tags: string[] = [];
  await scanRecords(tagsPath, { delimiter: ",", quotes: true }, (r) => {
    const fields = Array.from({ length: r.count }, (_, k) => r.text(k));
    if (r.line === 1) return expectHeader(tagsPath, fields, ["tagId", "tag"]);
    if (r.count !== 2) throw new DataError(tagsPath, r.line, null, `expected 2 fields, got ${r.count}`);
    if (tagIndex.has(fields[0]))
      throw new DataError(tagsPath, r.line, "tagId", `duplicate tag id ${quoteValue(fields[0])}`);
    tagIndex.set(fields[0], tags.length);
    tags.push(fields[1]);
  });
  const movies: string[] = [];
  const movieIndex = new Map<string, number>();
  const movie: number[] = [];
  const tag: number[] = [];
  const relevance: number[] = [];
  await scanRecords(scoresPath, { delimiter: ",", quotes: false }, (r) => {
    const fields = Array.from({ length: r.count }, (_, k) => r.text(k));
    if (r.line === 1) return expectHeader(scoresPath, fields, ["movieId", "tagId", "relevance"]);
    if (r.count !== 3) throw new DataError(scoresPath, r.line, null, `expected 3 fields, got ${r.count}`);
    const t = tagIndex.get(fields[1]);
    if (t === undefined)
      throw new DataError(
        scoresPath,
        r.line,
        "tagId",
        `expected a tag id of genome-tags.csv, got ${quoteValue(fields[1])}`,
      );
    const rel = Number(fields[2]);
    if (fields[2].trim() === "" || !(rel >= 0 && rel <= 1))
      throw new DataError(
        scoresPath,
        r.line,
        "relevance",
        `expected a number in [0, 1], got ${quoteValue(fields[2])}`,
      );
    let m = movieIndex.get(fields[0]);
    if (m === undefined) {
      m = movies.length;
      movieIndex.set(fields[0], m);
      movies.push(fields[0]);
    }
    movie.push(m);
    tag.push(t);
    relevance.push(rel);
  });
  return {
    tags,
    movies,
    movie: Int32Array.from(movie),
    tag: Int32Array.from(tag),
    relevance: Float32Array.from(relevance),
  };
}
