/**
 * word2vec's text format, which gensim (KeyedVectors.load_word2vec_format), fastText and most
 * tools read: a header line "<count> <dim>", then one line per key: the key and its dim values,
 * separated by single spaces. Keys cannot hold spaces there, so a space inside a key (a bigram
 * token "sci fi") is written as "_" and read back as a space; keys with any other whitespace or
 * with "_" are refused on writing, so the mapping is exact both ways. Writes are atomic.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { UserError } from "../errors.js";
import { writeFileAtomic } from "./atomic.js";

export interface KeyedVectors {
  readonly keys: readonly string[];
  readonly dim: number;
  /** Row r (dim wide) belongs to keys[r]. */
  readonly vectors: Float32Array;
}

/** A word2vec text file that does not parse: names the file, the line and what was expected. */
export class Word2vecFileError extends UserError {
  override name = "Word2vecFileError";
}

/** Writes vectors in word2vec's text format (shortest round-trip float text). */
export function writeWord2vecText(path: string, v: KeyedVectors): void {
  const lines: string[] = [`${v.keys.length} ${v.dim}`];
  for (let r = 0; r < v.keys.length; r++) {
    const key = v.keys[r];
    if (key === "" || /[\s_]/u.test(key.replaceAll(" ", "")))
      throw new RangeError(
        `word2vec text: key ${JSON.stringify(key)} is empty or holds "_" or whitespace other than spaces`,
      );
    const parts = [key.replaceAll(" ", "_")];
    for (let d = 0; d < v.dim; d++) parts.push(String(v.vectors[r * v.dim + d]));
    lines.push(parts.join(" "));
  }
  writeFileAtomic(path, lines.join("\n") + "\n");
}

/** Reads a word2vec text file (as written above, or by gensim / word2vec). */
export function readWord2vecText(path: string): KeyedVectors {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Word2vecFileError(`${path}: cannot read (${(err as Error).message})`, { cause: err });
  }
  const name = basename(path);
  const lines = text.split(/\r?\n/);
  const header = lines[0].trim().split(/\s+/);
  const count = Number(header[0]);
  const dim = Number(header[1]);
  if (header.length !== 2 || !Number.isInteger(count) || count < 0 || !Number.isInteger(dim) || dim < 1)
    throw new Word2vecFileError(
      `${name}:1: expected the header "<count> <dim>", got ${JSON.stringify(lines[0].slice(0, 60))}`,
    );
  const keys: string[] = [];
  const vectors = new Float32Array(count * dim);
  for (let r = 0; r < count; r++) {
    const line = lines[r + 1];
    if (line === undefined || line.trim() === "")
      throw new Word2vecFileError(
        `${name}:${r + 2}: expected ${count} vectors after the header, the file has ${r}`,
      );
    const parts = line.trimEnd().split(" ");
    if (parts.length !== dim + 1)
      throw new Word2vecFileError(
        `${name}:${r + 2}: expected a key and ${dim} values, got ${parts.length - 1} values`,
      );
    keys.push(parts[0].replaceAll("_", " "));
    for (let d = 0; d < dim; d++) {
      const x = Number(parts[d + 1]);
      if (parts[d + 1] === "" || !Number.isFinite(x))
        throw new Word2vecFileError(
          `${name}:${r + 2}: value ${d + 1}: expected a number, got ${JSON.stringify(parts[d + 1])}`,
        );
      vectors[r * dim + d] = x;
    }
  }
  return { keys, dim, vectors };
}

/** The k keys nearest to `key` by cosine similarity (the key itself excluded), most similar first. */
export function nearestKeys(v: KeyedVectors, key: string, k: number): Array<{ key: string; cosine: number }> {
  const q = v.keys.indexOf(key);
  if (q < 0) throw new RangeError(`no vector for ${JSON.stringify(key)}`);
  const norms = new Float64Array(v.keys.length);
  for (let r = 0; r < v.keys.length; r++) {
    let s = 0;
    for (let d = 0; d < v.dim; d++) s += v.vectors[r * v.dim + d] ** 2;
    norms[r] = Math.sqrt(s);
  }
  const scored: Array<{ key: string; cosine: number }> = [];
  for (let r = 0; r < v.keys.length; r++) {
    if (r === q) continue;
    let s = 0;
    for (let d = 0; d < v.dim; d++) s += v.vectors[r * v.dim + d] * v.vectors[q * v.dim + d];
    scored.push({ key: v.keys[r], cosine: norms[r] === 0 || norms[q] === 0 ? 0 : s / (norms[r] * norms[q]) });
  }
  scored.sort((a, b) => b.cosine - a.cosine || (a.key < b.key ? -1 : 1));
  return scored.slice(0, k);
}
