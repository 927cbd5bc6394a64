/**
 * Side information of the candidate features as index tables: for every item its genre rows and
 * release-year bucket; for every user its demographic rows and its tag tokens in time order. The
 * vocabularies and ranges are fitted once (on the training split) and applied the same way at
 * training and at serving, so a saved model maps a dataset's side files exactly as it was trained.
 */
import type { Dataset, TagEvents, UserDemographicValues, UserInfo } from "../data/dataset.js";
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

/** One user's demographic inputs: table rows (0 = unknown / out of vocabulary) and the age in [0, 1]. */
export interface DemographicRows {
  gender: number;
  ageCode: number;
  ageYears: number;
  occupation: number;
  zip: number;
}

export function emptyDemographicRows(): DemographicRows {
  return { gender: 0, ageCode: 0, ageYears: 0, occupation: 0, zip: 0 };
}

/**
 * The one mapping from a user's demographics to the fitted inputs, used for the users file at
 * training and for request-time demographics at serving, so both see the same rows: gender codes
 * other than 1 / 2 are unknown (0), ages through the age-code vocabulary or the fitted year range
 * (0 = unknown), occupation and zip prefix through their vocabularies (unknown values: row 0).
 * Writes into `out` (no allocation) and returns it.
 */
export function encodeDemographics(
  v: UserDemographicValues,
  fit: DemographicFit,
  zipPrefixLength: number,
  out: DemographicRows,
): DemographicRows {
  out.gender = v.gender === 1 || v.gender === 2 ? v.gender : 0;
  out.ageCode = fit.ageCode !== null ? fit.ageCode.lookup(String(v.age)) : 0;
  const ay = fit.ageYears;
  // Rounded to float32, as the per-user tables hold it.
  out.ageYears =
    ay !== null && v.age > 0
      ? Math.fround(Math.min(Math.max((v.age - ay.min) / Math.max(ay.max - ay.min, 1), 0), 1))
      : 0;
  out.occupation = fit.occupation !== null && v.occupation !== "" ? fit.occupation.lookup(v.occupation) : 0;
  out.zip = fit.zip !== null ? fit.zip.lookup(zipPrefix(v.zip, zipPrefixLength)) : 0;
  return out;
}

/** User i's row of a users file (absent fields: unknown). */
export function userDemographicValues(u: UserInfo, i: number): UserDemographicValues {
  const o = u.occupation !== null && i < u.occupation.length ? u.occupation[i] : -1;
  const names = u.occupationNames;
  return {
    gender: u.gender !== null && i < u.gender.length ? u.gender[i] : 0,
    age: u.age !== null && i < u.age.length ? u.age[i] : 0,
    occupation: names !== null && o >= 0 && o < names.length ? names[o] : "",
    zip: u.zip !== null && i < u.zip.length ? u.zip[i] : "",
  };
}

/** Every user's inputs from a users file, through encodeDemographics. */
export function userDemographics(
  u: UserInfo | null,
  fit: DemographicFit,
  use: { gender: boolean; zipPrefix: number },
  numUsers: number,
): UserDemographics {
  if (u === null) return { gender: null, ageCode: null, ageYears: null, occupation: null, zip: null };
  const gender = use.gender && u.gender !== null ? new Int32Array(numUsers) : null;
  const ageCode = fit.ageCode !== null ? new Int32Array(numUsers) : null;
  const ageYears = fit.ageYears !== null ? new Float32Array(numUsers) : null;
  const occupation = fit.occupation !== null && u.occupationNames !== null ? new Int32Array(numUsers) : null;
  const zip = fit.zip !== null ? new Int32Array(numUsers) : null;
  const r = emptyDemographicRows();
  for (let i = 0; i < numUsers; i++) {
    encodeDemographics(userDemographicValues(u, i), fit, use.zipPrefix, r);
    if (gender) gender[i] = r.gender;
    if (ageCode) ageCode[i] = r.ageCode;
    if (ageYears) ageYears[i] = r.ageYears;
    if (occupation) occupation[i] = r.occupation;
    if (zip) zip[i] = r.zip;
  }
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
