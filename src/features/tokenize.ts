/**
 * Tag text -> search tokens, the MovieLens stand-in for the paper's search queries: lowercase
 * words (letters and digits; apostrophes dropped so "don't" is one word), then every unigram
 * followed by every bigram ("a b") of adjacent words. The bag is unordered downstream, so the
 * token order only matters for which tokens a "most recent N" cut keeps.
 */

const WORD = /[\p{L}\p{N}]+/gu;
const APOSTROPHES = /['\u2019]/g;

/** The lowercase words of a text. */
export function words(text: string): string[] {
  return text.toLowerCase().replace(APOSTROPHES, "").match(WORD) ?? [];
}

/** Unigrams then bigrams of a tag text; "Sci-Fi classic" -> ["sci", "fi", "classic", "sci fi", "fi classic"]. */
export function tagTokens(text: string): string[] {
  const w = words(text);
  const out = w.slice();
  for (let i = 0; i + 1 < w.length; i++) out.push(`${w[i]} ${w[i + 1]}`);
  return out;
}
