/**
 * Side information of the candidate features as index tables: for every item its genre rows and
 * release-year bucket; for every user its demographic rows and its tag tokens in time order. The
 * vocabularies and ranges are fitted once (on the training split) and applied the same way at
 * training and at serving, so a saved model maps a dataset's side files exactly as it was trained.
 */
import type { Dataset, TagEvents, UserInfo } from "../data/dataset.js";
import { tagTokens } from "./tokenize.js";
import { buildUserSequences } from "./user-sequences.js";
import { Counter, Vocabulary } from "./vocabulary.js";

/** Genre vocabulary keyed by genre name, counted over catalog items. */
export function fitGenreVocabulary(data: Dataset): Vocabulary {
  const info = data.itemInfo;
  const counts = new Counter();
  for (let g = 0; g < info.genreIds.length; g++) counts.add(info.genreNames[info.genreIds[g]]);
  return Vocabulary.fromCounts(counts);
}

/** Item i's genre table rows are rows[offsets[i] .. offsets[i+1]) (genres unknown to the vocabulary are left out). */
export interface ItemGenreRows {
  readonly offsets: Int32Array;
  readonly rows: Int32Array;
  readonly maxPerItem: number;
}

export function itemGenreRows(data: Dataset, vocab: Vocabulary, numItems: number): ItemGenreRows {
  const info = data.itemInfo;
  const byGenreId = Int32Array.from(info.genreNames, (name) => vocab.lookup(name));
  const offsets = new Int32Array(numItems + 1);
  const rows: number[] = [];
  let maxPerItem = 0;
  for (let i = 0; i < numItems; i++) {
    const a = i + 1 < info.genreOffsets.length ? info.genreOffsets[i] : 0;
    const b = i + 1 < info.genreOffsets.length ? info.genreOffsets[i + 1] : 0;
    for (let k = a; k < b; k++) {
      const r = byGenreId[info.genreIds[k]];
      if (r > 0) rows.push(r);
    }
    offsets[i + 1] = rows.length;
    maxPerItem = Math.max(maxPerItem, offsets[i + 1] - offsets[i]);
  }
  return { offsets, rows: Int32Array.from(rows), maxPerItem };
}

/** Release years → buckets of `bucketSize` years from the earliest known year; row 0 = unknown year. */
export interface YearBuckets {
  readonly minYear: number;
  readonly bucketSize: number;
  readonly rows: number;
}

export function fitYearBuckets(data: Dataset, bucketSize: number): YearBuckets {
  let min = Infinity;
  let max = -Infinity;
  for (const y of data.itemInfo.year) {
    if (y > 0) {
      min = Math.min(min, y);
      max = Math.max(max, y);
    }
  }
  if (min > max) return { minYear: 0, bucketSize, rows: 1 };
  return { minYear: min, bucketSize, rows: Math.floor((max - min) / bucketSize) + 2 };
}

export function itemYearRows(data: Dataset, buckets: YearBuckets, numItems: number): Int32Array {
  const out = new Int32Array(numItems);
  const years = data.itemInfo.year;
  for (let i = 0; i < numItems && i < years.length; i++) {
    const y = years[i];
    if (y <= 0) continue;
    const r = Math.floor((y - buckets.minYear) / buckets.bucketSize) + 1;
    out[i] = Math.min(Math.max(r, 1), buckets.rows - 1);
  }
  return out;
}

/** Vocabularies and ranges of the demographic features, fitted on the users file. */
export interface DemographicFit {
  readonly ageCode: Vocabulary | null;
  readonly occupation: Vocabulary | null;
  readonly zip: Vocabulary | null;
  /** Range of ages in years (ageKind "years"); null otherwise. */
  readonly ageYears: { readonly min: number; readonly max: number } | null;
}

export function zipPrefix(zip: string, length: number): string {
  return zip.trim().toUpperCase().slice(0, length);
}

export function fitDemographics(
  u: UserInfo,
  use: { age: boolean; occupation: boolean; zip: boolean; zipPrefix: number },
): DemographicFit {
  let ageCode: Vocabulary | null = null;
  let ageYears: DemographicFit["ageYears"] = null;
  if (use.age && u.age !== null) {
    if (u.ageKind === "code") {
      const c = new Counter();
      for (const a of u.age) if (a > 0) c.add(String(a));
      ageCode = Vocabulary.fromCounts(c);
    } else if (u.ageKind === "years") {
      let min = Infinity;
      let max = -Infinity;
      for (const a of u.age) {
        if (a > 0) {
          min = Math.min(min, a);
          max = Math.max(max, a);
        }
      }
      if (min <= max) ageYears = { min, max };
    }
  }
  let occupation: Vocabulary | null = null;
  if (use.occupation && u.occupation !== null && u.occupationNames !== null) {
    const c = new Counter();
    for (const o of u.occupation) if (o >= 0) c.add(u.occupationNames[o]);
    occupation = Vocabulary.fromCounts(c);
  }
  let zip: Vocabulary | null = null;
  if (use.zip && u.zip !== null) {
    const c = new Counter();
    for (const z of u.zip) {
      const p = zipPrefix(z, use.zipPrefix);
      if (p !== "") c.add(p);
    }
    zip = Vocabulary.fromCounts(c);
  }
  return { ageCode, occupation, zip, ageYears };
}

/** Per-user demographic inputs (null when the feature is off). */
export interface UserDemographics {
  readonly gender: Int32Array | null;
  readonly ageCode: Int32Array | null;
  readonly ageYears: Float32Array | null;
  readonly occupation: Int32Array | null;
  readonly zip: Int32Array | null;
}

export function userDemographics(
  u: UserInfo | null,
  fit: DemographicFit,
  use: { gender: boolean; zipPrefix: number },
  numUsers: number,
): UserDemographics {
  const none: UserDemographics = { gender: null, ageCode: null, ageYears: null, occupation: null, zip: null };
  if (u === null) return none;
  const at = <T>(arr: ArrayLike<T> | null, i: number, dflt: T): T =>
    arr !== null && i < arr.length ? arr[i] : dflt;
  let gender: Int32Array | null = null;
  if (use.gender && u.gender !== null) {
    gender = new Int32Array(numUsers);
    for (let i = 0; i < numUsers; i++) gender[i] = Math.min(at(u.gender, i, 0), 2);
  }
  let ageCode: Int32Array | null = null;
  const ac = fit.ageCode;
  if (ac !== null)
    ageCode = Int32Array.from({ length: numUsers }, (_, i) => ac.lookup(String(at(u.age, i, 0))));
  let ageYears: Float32Array | null = null;
  const ay = fit.ageYears;
  if (ay !== null) {
    const span = Math.max(ay.max - ay.min, 1);
    ageYears = new Float32Array(numUsers);
    for (let i = 0; i < numUsers; i++) {
      const a = at(u.age, i, 0);
      ageYears[i] = a > 0 ? Math.min(Math.max((a - ay.min) / span, 0), 1) : 0;
    }
  }
  let occupation: Int32Array | null = null;
  const ov = fit.occupation;
  const names = u.occupationNames;
  if (ov !== null && names !== null) {
    occupation = Int32Array.from({ length: numUsers }, (_, i) => {
      const o = at(u.occupation, i, -1);
      return o >= 0 && o < names.length ? ov.lookup(names[o]) : 0;
    });
  }
  let zip: Int32Array | null = null;
  const zv = fit.zip;
  if (zv !== null)
    zip = Int32Array.from({ length: numUsers }, (_, i) =>
      zv.lookup(zipPrefix(at(u.zip, i, ""), use.zipPrefix)),
    );
  return { gender, ageCode, ageYears, occupation, zip };
}

/** The tokens of each distinct tag text, computed once per text. */
function tokensByText(tags: TagEvents): string[][] {
  return tags.texts.map((t) => tagTokens(t));
}

/**
 * Token vocabulary over tag applications made no later than the user's last training event
 * (`lastTrainTime[u]`, −Infinity for users without training events), so no future tag leaks in.
 */
export function fitTokenVocabulary(
  tags: TagEvents,
  lastTrainTime: Float64Array,
  options: { maxSize: number; minCount: number },
): Vocabulary {
  const perText = new Float64Array(tags.texts.length);
  for (let i = 0; i < tags.user.length; i++) {
    const u = tags.user[i];
    if (u >= 0 && u < lastTrainTime.length && tags.time[i] <= lastTrainTime[u]) perText[tags.textIndex[i]]++;
  }
  const tokens = tokensByText(tags);
  const counts = new Counter();
  for (let t = 0; t < tokens.length; t++)
    if (perText[t] > 0) for (const tok of tokens[t]) counts.add(tok, perText[t]);
  return Vocabulary.fromCounts(counts, options);
}

/** Each user's tag tokens (vocabulary rows, OOV = 0) in time order, each token carrying its application's time. */
export interface UserTokens {
  readonly offsets: Int32Array;
  readonly rows: Int32Array;
  readonly times: Float64Array;
}

export function userTokens(tags: TagEvents, vocab: Vocabulary, numUsers: number): UserTokens {
  const textRows = tokensByText(tags).map((toks) => Int32Array.from(toks, (t) => vocab.lookup(t)));
  // Tag rows of users outside the dictionary are dropped.
  const keep: number[] = [];
  for (let i = 0; i < tags.user.length; i++) if (tags.user[i] >= 0 && tags.user[i] < numUsers) keep.push(i);
  const user = Int32Array.from(keep, (i) => tags.user[i]);
  const time = Float64Array.from(keep, (i) => tags.time[i]);
  const seq = buildUserSequences(user, time, numUsers);
  const offsets = new Int32Array(numUsers + 1);
  let total = 0;
  for (let u = 0; u < numUsers; u++) {
    for (let k = seq.offsets[u]; k < seq.offsets[u + 1]; k++)
      total += textRows[tags.textIndex[keep[seq.eventIndex[k]]]].length;
    offsets[u + 1] = total;
  }
  const rows = new Int32Array(total);
  const times = new Float64Array(total);
  let w = 0;
  for (let k = 0; k < seq.eventIndex.length; k++) {
    const src = keep[seq.eventIndex[k]];
    const r = textRows[tags.textIndex[src]];
    rows.set(r, w);
    times.fill(seq.times[k], w, w + r.length);
    w += r.length;
  }
  return { offsets, rows, times };
}
