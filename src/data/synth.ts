/**
 * Synthetic MovieLens-style data with structure planted on purpose, so that tests and experiments
 * can check that a model finds what is known to be there:
 * - taste clusters: each user belongs to a cluster whose preference mass sits on two "core" genres;
 * - drift: each user's taste moves toward a second cluster over the user's active period;
 * - freshness: items are released over the timeline and their popularity spikes right after
 *   release, then decays (so example age matters), on top of a long-tailed base popularity;
 * - tags drawn mostly from the vocabulary of the user's current cluster;
 * - demographics (gender, age, occupation, zip region) correlated with the cluster.
 * Output is the ml-latest CSV layout (ratings/movies/tags) plus `users.csv`
 * (`userId,gender,age,occupation,zip`). Everything is drawn from one seeded generator, so a seed
 * gives byte-identical files.
 */
import { writeFileAtomic } from "../io/atomic.js";
import { Rng } from "../engine/rng.js";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { TAG_WORDS, TITLE_ADJ, TITLE_NOUN } from "./synth-words.js";

export interface SynthOptions {
  readonly users?: number;
  readonly items?: number;
  /**
   * Number of ratings. Every user gets at least 3, so more than `events` when events < 3 × users;
   * fewer only when a tiny catalog leaves a user nothing unrated to pick.
   */
  readonly events?: number;
  readonly seed?: number;
  /** Number of taste clusters (default 8). */
  readonly clusters?: number;
  /** Start of the timeline, seconds since the epoch (default 2008-01-01). */
  readonly start?: number;
  /** Length of the timeline in years (default 10). */
  readonly years?: number;
}

export type ResolvedSynthOptions = Required<SynthOptions>;

export const SYNTH_DEFAULTS: ResolvedSynthOptions = {
  users: 2000,
  items: 3000,
  events: 200_000,
  seed: 1,
  clusters: 8,
  start: 1_199_145_600,
  years: 10,
};

export const SYNTH_GENRES = [
  "Action",
  "Adventure",
  "Animation",
  "Children",
  "Comedy",
  "Crime",
  "Documentary",
  "Drama",
  "Fantasy",
  "Film-Noir",
  "Horror",
  "Musical",
  "Mystery",
  "Romance",
  "Sci-Fi",
  "Thriller",
  "War",
  "Western",
] as const;

/** The ml-100k occupation names. */
export const SYNTH_OCCUPATIONS = [
  "administrator",
  "artist",
  "doctor",
  "educator",
  "engineer",
  "entertainment",
  "executive",
  "healthcare",
  "homemaker",
  "lawyer",
  "librarian",
  "marketing",
  "none",
  "other",
  "programmer",
  "retired",
  "salesman",
  "scientist",
  "student",
  "technician",
  "writer",
] as const;

/** Generated data in memory. Dense indices everywhere; the files use id = index + 1. */
export interface SynthData {
  readonly options: ResolvedSynthOptions;
  readonly genreNames: readonly string[];
  readonly occupationNames: readonly string[];
  readonly clusters: {
    /** Core genres of cluster k: coreGenres[2k], coreGenres[2k+1]. */
    readonly coreGenres: Int32Array;
    /** Genre preference of cluster k: genreWeights[k * G + g], each row sums to 1. */
    readonly genreWeights: Float64Array;
    /** Tag vocabulary of each cluster. */
    readonly tagVocabulary: readonly (readonly string[])[];
  };
  readonly users: {
    readonly cluster: Int32Array;
    /** Cluster the user's taste drifts toward. */
    readonly driftCluster: Int32Array;
    /** Probability of acting from driftCluster at the end of the user's active period. */
    readonly drift: Float32Array;
    /** 1 = female, 2 = male (the Dataset UserInfo coding). */
    readonly gender: Uint8Array;
    readonly age: Int16Array;
    /** Index into occupationNames. */
    readonly occupation: Int32Array;
    readonly zip: readonly string[];
  };
  readonly items: {
    readonly title: readonly string[];
    readonly year: Int16Array;
    /** Release time, seconds since the epoch; items are indexed in release order. */
    readonly release: Float64Array;
    /** First genre listed; events pick an item through it. */
    readonly primaryGenre: Int32Array;
    readonly genreOffsets: Int32Array;
    readonly genreIds: Int32Array;
    /** Long-tailed base popularity (before the release spike). */
    readonly basePopularity: Float64Array;
  };
  /** Ratings ordered by user, then time. */
  readonly ratings: {
    readonly user: Int32Array;
    readonly item: Int32Array;
    readonly rating: Float32Array;
    readonly time: Float64Array;
  };
  readonly tags: {
    readonly user: Int32Array;
    readonly item: Int32Array;
    readonly time: Float64Array;
    readonly text: readonly string[];
  };
}

const DAY = 86_400;
const YEAR = 365.25 * DAY;
/** Popularity right after release is (1 + SPIKE) times the base, decaying with time constant TAU. */
const SPIKE = 12;
const TAU = 45 * DAY;
const BUCKET = 15 * DAY;
/** Share of a cluster's preference mass on its two core genres. */
const CORE_MASS = 0.75;
const CATALOG_SHARE = 0.25;
const TAGGER_SHARE = 0.15;
const TAG_RATE = 0.3;

/** A uniformly chosen element of `xs`. */
function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.nextInt(xs.length)];
}

/** Index of the first cumulative weight > u * total, searching cum[from .. from + n). */
function searchCdf(cum: Float64Array, from: number, n: number, u: number): number {
  const target = u * cum[from + n - 1];
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[from + mid] > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** An item released by time t that user u has not rated (scanning from a random start), or -1. */
function anyUnseen(release: Float64Array, t: number, seenBy: Int32Array, u: number, rng: Rng): number {
  let m = 0;
  let hi = release.length;
  while (m < hi) {
    const mid = (m + hi) >>> 1;
    if (release[mid] <= t) m = mid + 1;
    else hi = mid;
  }
  if (m === 0) return -1;
  const from = rng.nextInt(m);
  for (let j = 0; j < m; j++) {
    const i = (from + j) % m;
    if (seenBy[i] !== u) return i;
  }
  return -1;
}

function resolveOptions(options: SynthOptions): ResolvedSynthOptions {
  const o: { -readonly [K in keyof ResolvedSynthOptions]: number } = { ...SYNTH_DEFAULTS };
  for (const key of Object.keys(SYNTH_DEFAULTS) as (keyof SynthOptions)[]) {
    const v = options[key];
    if (v !== undefined) o[key] = v;
  }
  const positiveInt = (name: keyof SynthOptions, v: number) => {
    if (!Number.isInteger(v) || v < 1)
      throw new RangeError(`synth option ${name}: expected a positive integer, got ${v}`);
  };
  positiveInt("users", o.users);
  positiveInt("items", o.items);
  positiveInt("events", o.events);
  positiveInt("clusters", o.clusters);
  if (!Number.isInteger(o.seed))
    throw new RangeError(`synth option seed: expected an integer, got ${o.seed}`);
  if (!(o.years > 0)) throw new RangeError(`synth option years: expected > 0, got ${o.years}`);
  if (o.clusters < 2) throw new RangeError(`synth option clusters: expected at least 2, got ${o.clusters}`);
  return o;
}

function makeTitle(rng: Rng, year: number): string {
  const a = pick(rng, TITLE_ADJ);
  const n = pick(rng, TITLE_NOUN);
  const m = pick(rng, TITLE_NOUN);
  const r = rng.nextFloat();
  // Commas make the CSV field quoted; a few titles carry quotes, as some MovieLens titles do.
  let t: string;
  if (r < 0.35) t = `The ${a} ${n}`;
  else if (r < 0.55) t = `${a} ${n}`;
  else if (r < 0.7) t = `${n}, ${a} ${m}`;
  else if (r < 0.8) t = `${n} of the ${a} ${m}`;
  else if (r < 0.9) t = `${a} ${n}: Part ${2 + rng.nextInt(3)}`;
  else if (r < 0.97) t = `${n}, ${m}, and ${a} ${n}`;
  else t = `"${a}" ${n}`;
  return `${t} (${year})`;
}

type Clusters = SynthData["clusters"] & { readonly genreCum: Float64Array };
type Items = SynthData["items"] & { readonly quality: Float32Array };
type Users = SynthData["users"];

/** Two core genres per cluster (a seeded permutation spreads them) plus a spread-out remainder. */
function makeClusters(rng: Rng, K: number): Clusters {
  const G = SYNTH_GENRES.length;
  const coreGenres = new Int32Array(2 * K);
  const genreOrder = rng.permutation(G);
  for (let k = 0; k < 2 * K; k++) coreGenres[k] = genreOrder[k % G];
  const genreWeights = new Float64Array(K * G);
  const genreCum = new Float64Array(K * G);
  for (let k = 0; k < K; k++) {
    const row = genreWeights.subarray(k * G, (k + 1) * G);
    let rest = 0;
    for (let g = 0; g < G; g++) rest += row[g] = 0.2 + rng.nextFloat();
    for (let g = 0; g < G; g++) row[g] *= (1 - CORE_MASS) / rest;
    row[coreGenres[2 * k]] += CORE_MASS * 0.6;
    row[coreGenres[2 * k + 1]] += CORE_MASS * 0.4;
    let c = 0;
    for (let g = 0; g < G; g++) genreCum[k * G + g] = c += row[g];
  }
  // Disjoint slices of the tag pool; past its end, numbered variants keep the slices distinct.
  const tagOrder = rng.permutation(TAG_WORDS.length);
  const perCluster = Math.max(4, Math.min(12, Math.floor(TAG_WORDS.length / K)));
  const tagVocabulary: string[][] = [];
  for (let k = 0; k < K; k++) {
    const vocab: string[] = [];
    for (let j = 0; j < perCluster; j++) {
      const slot = k * perCluster + j;
      const word = TAG_WORDS[tagOrder[slot % TAG_WORDS.length]];
      vocab.push(slot < TAG_WORDS.length ? word : `${word} ${Math.floor(slot / TAG_WORDS.length) + 1}`);
    }
    tagVocabulary.push(vocab);
  }
  return { coreGenres, genreWeights, genreCum, tagVocabulary };
}

/** Items in release order: a back catalog from the 30 years before the timeline, the rest during it. */
function makeItems(rng: Rng, I: number, T0: number, T1: number): Items {
  const G = SYNTH_GENRES.length;
  const release = new Float64Array(I);
  for (let i = 0; i < I; i++) {
    release[i] =
      rng.nextFloat() < CATALOG_SHARE ? T0 - rng.nextFloat() * 30 * YEAR : T0 + rng.nextFloat() * (T1 - T0);
  }
  release.sort();
  for (let i = 0; i < I; i++) release[i] = Math.floor(release[i]);
  const primaryGenre = new Int32Array(I);
  const genreOffsets = new Int32Array(I + 1);
  const genreIds: number[] = [];
  const basePopularity = new Float64Array(I);
  const quality = new Float32Array(I);
  const year = new Int16Array(I);
  const title: string[] = [];
  for (let i = 0; i < I; i++) {
    primaryGenre[i] = rng.nextInt(G);
    genreIds.push(primaryGenre[i]);
    const extra = rng.nextInt(3);
    for (let j = 0; j < extra; j++) {
      const g = rng.nextInt(G);
      if (!genreIds.slice(genreOffsets[i]).includes(g)) genreIds.push(g);
    }
    genreOffsets[i + 1] = genreIds.length;
    quality[i] = rng.normal();
    // Long-tailed, and better movies are somewhat more popular.
    basePopularity[i] = Math.exp(1.1 * rng.normal() + 0.4 * quality[i]);
    year[i] = new Date(release[i] * 1000).getUTCFullYear();
    title.push(makeTitle(rng, year[i]));
  }
  return {
    title,
    year,
    release,
    primaryGenre,
    genreOffsets,
    genreIds: Int32Array.from(genreIds),
    basePopularity,
    quality,
  };
}

/**
 * Popularity CDFs per (genre, time bucket) over the genre's items released by the bucket's start,
 * each weighted by base popularity times the release spike at the bucket's middle. An event at
 * time t in genre g draws from the CDF of (g, bucket of t): fresh items are likelier.
 */
interface PopularityTables {
  readonly buckets: number;
  /** Items of each genre, in release order. */
  readonly genreItems: readonly Int32Array[];
  /** The CDF of (g, b) is cum[start[g*B+b] .. + count[g*B+b]) over genreItems[g][0 .. count). */
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly cum: Float64Array;
}

function popularityTables(items: Items, T0: number, T1: number): PopularityTables {
  const G = SYNTH_GENRES.length;
  const B = Math.max(1, Math.ceil((T1 - T0) / BUCKET));
  const genreItems: Int32Array[] = [];
  const start = new Int32Array(G * B);
  const count = new Int32Array(G * B);
  let size = 0;
  for (let g = 0; g < G; g++) {
    const list: number[] = [];
    for (let i = 0; i < items.release.length; i++) if (items.primaryGenre[i] === g) list.push(i);
    genreItems.push(Int32Array.from(list));
    let released = 0;
    for (let b = 0; b < B; b++) {
      while (released < list.length && items.release[list[released]] <= T0 + b * BUCKET) released++;
      start[g * B + b] = size;
      count[g * B + b] = released;
      size += released;
    }
  }
  const cum = new Float64Array(size);
  for (let g = 0; g < G; g++) {
    for (let b = 0; b < B; b++) {
      const mid = T0 + (b + 0.5) * BUCKET;
      let c = 0;
      for (let j = 0; j < count[g * B + b]; j++) {
        const i = genreItems[g][j];
        const spike = 1 + SPIKE * Math.exp(-(mid - items.release[i]) / TAU);
        cum[start[g * B + b] + j] = c += items.basePopularity[i] * spike;
      }
    }
  }
  return { buckets: B, genreItems, start, count, cum };
}

/** Users: a cluster (clusters differ in size), a drift target, demographics tied to the cluster. */
function makeUsers(rng: Rng, U: number, K: number): Users {
  const maleShare = new Float64Array(K);
  const meanAge = new Float64Array(K);
  const jobs: number[][] = [];
  const regions: number[][] = [];
  const share = new Float64Array(K);
  let shareSum = 0;
  for (let k = 0; k < K; k++) {
    maleShare[k] = k % 2 === 0 ? 0.75 + 0.2 * rng.nextFloat() : 0.05 + 0.2 * rng.nextFloat();
    meanAge[k] = 20 + rng.nextFloat() * 35;
    jobs.push(Array.from(rng.permutation(SYNTH_OCCUPATIONS.length).subarray(0, 3)));
    regions.push(Array.from(rng.permutation(10).subarray(0, 2)));
    shareSum += share[k] = 0.5 + rng.nextFloat();
  }
  const cluster = new Int32Array(U);
  const driftCluster = new Int32Array(U);
  const drift = new Float32Array(U);
  const gender = new Uint8Array(U);
  const age = new Int16Array(U);
  const occupation = new Int32Array(U);
  const zip: string[] = [];
  for (let u = 0; u < U; u++) {
    let x = rng.nextFloat() * shareSum;
    let k = 0;
    while (k < K - 1 && x >= share[k]) x -= share[k++];
    cluster[u] = k;
    driftCluster[u] = (k + 1 + rng.nextInt(K - 1)) % K;
    drift[u] = 0.3 + 0.5 * rng.nextFloat();
    gender[u] = rng.nextFloat() < maleShare[k] ? 2 : 1;
    age[u] = Math.max(16, Math.min(75, Math.round(meanAge[k] + 6 * rng.normal())));
    occupation[u] = rng.nextFloat() < 0.6 ? pick(rng, jobs[k]) : rng.nextInt(SYNTH_OCCUPATIONS.length);
    let z = String(rng.nextFloat() < 0.7 ? pick(rng, regions[k]) : rng.nextInt(10)); // first digit = region
    for (let j = 0; j < 4; j++) z += String(rng.nextInt(10));
    zip.push(z);
  }
  return { cluster, driftCluster, drift, gender, age, occupation, zip };
}

/** Ratings per user: long-tailed, from 3 (up to 20) to a quarter of the catalog, summing to `events`. */
function eventCounts(rng: Rng, U: number, I: number, events: number): Int32Array {
  const minPer = Math.max(3, Math.min(20, Math.floor(events / U / 3)));
  const maxPer = Math.max(minPer, Math.floor(I / 4));
  const weight = new Float64Array(U);
  let wSum = 0;
  for (let u = 0; u < U; u++) wSum += weight[u] = Math.exp(rng.normal());
  const count = new Int32Array(U);
  let assigned = 0;
  for (let u = 0; u < U; u++) {
    count[u] = Math.max(minPer, Math.min(maxPer, Math.round((events * weight[u]) / wSum)));
    assigned += count[u];
  }
  // Rounding and clipping miss the target: step users one event at a time, in a seeded order.
  const order = rng.permutation(U);
  for (let moved = true; assigned !== events && moved;) {
    moved = false;
    for (let j = 0; j < U && assigned !== events; j++) {
      const u = order[j];
      if (assigned < events && count[u] < maxPer) {
        count[u]++;
        assigned++;
        moved = true;
      } else if (assigned > events && count[u] > minPer) {
        count[u]--;
        assigned--;
        moved = true;
      }
    }
  }
  return count;
}

/** Generates the whole synthetic dataset in memory. */
export function generateSynthetic(options: SynthOptions = {}): SynthData {
  const o = resolveOptions(options);
  const rng = new Rng(o.seed);
  const G = SYNTH_GENRES.length;
  const T0 = o.start;
  const T1 = T0 + o.years * YEAR;
  const clusters = makeClusters(rng, o.clusters);
  const items = makeItems(rng, o.items, T0, T1);
  const pop = popularityTables(items, T0, T1);
  const users = makeUsers(rng, o.users, o.clusters);
  const count = eventCounts(rng, o.users, o.items, o.events);
  const B = pop.buckets;

  let total = 0;
  let most = 0;
  for (let u = 0; u < o.users; u++) {
    total += count[u];
    most = Math.max(most, count[u]);
  }
  const rUser = new Int32Array(total);
  const rItem = new Int32Array(total);
  const rRating = new Float32Array(total);
  const rTime = new Float64Array(total);
  const tUser: number[] = [];
  const tItem: number[] = [];
  const tTime: number[] = [];
  const tText: string[] = [];
  const seenBy = new Int32Array(o.items).fill(-1);
  const times = new Float64Array(most);
  const genreTags = SYNTH_GENRES.map((g) => g.toLowerCase());
  let n = 0;
  for (let u = 0; u < o.users; u++) {
    // Active period: starts anywhere on the timeline, lasts ~2 years on average (at least 60 days).
    const start = T0 + rng.nextFloat() * (T1 - T0 - 60 * DAY);
    const end = Math.min(T1 - 1, start + 60 * DAY - Math.log(1 - rng.nextFloat()) * 2 * YEAR);
    const c = count[u];
    for (let j = 0; j < c; j++) times[j] = start + rng.nextFloat() * (end - start);
    const ts = times.subarray(0, c).sort();
    const tagger = rng.nextFloat() < TAGGER_SHARE;
    for (let j = 0; j < c; j++) {
      const t = Math.floor(ts[j]);
      // Drift: the chance of acting from the drift cluster grows linearly over the active period.
      const pDrift = (users.drift[u] * (t - start)) / (end - start);
      const b = Math.min(B - 1, Math.floor((t - T0) / BUCKET));
      let item = -1;
      let k = users.cluster[u];
      for (let attempt = 0; attempt < 50 && item < 0; attempt++) {
        k = rng.nextFloat() < pDrift ? users.driftCluster[u] : users.cluster[u];
        const g = searchCdf(clusters.genreCum, k * G, G, rng.nextFloat());
        const available = pop.count[g * B + b];
        if (available === 0) continue;
        const candidate =
          pop.genreItems[g][searchCdf(pop.cum, pop.start[g * B + b], available, rng.nextFloat())];
        if (seenBy[candidate] !== u) item = candidate;
      }
      if (item < 0) item = anyUnseen(items.release, t, seenBy, u, rng); // taste exhausted
      if (item < 0) continue; // nothing released is left unrated (tiny catalogs): skip the event
      seenBy[item] = u;
      const g0 = items.primaryGenre[item];
      const core = g0 === clusters.coreGenres[2 * k] || g0 === clusters.coreGenres[2 * k + 1];
      const raw = 3.3 + (core ? 0.8 : -0.3) + 0.45 * items.quality[item] + 0.7 * rng.normal();
      rUser[n] = u;
      rItem[n] = item;
      rRating[n] = Math.max(0.5, Math.min(5, Math.round(raw * 2) / 2));
      rTime[n] = t;
      n++;
      if (tagger && rng.nextFloat() < TAG_RATE) {
        const tagCount = 1 + rng.nextInt(2);
        for (let q = 0; q < tagCount; q++) {
          tUser.push(u);
          tItem.push(item);
          tTime.push(t + rng.nextInt(600));
          tText.push(rng.nextFloat() < 0.75 ? pick(rng, clusters.tagVocabulary[k]) : genreTags[g0]);
        }
      }
    }
  }

  const { genreCum: _genreCum, ...clusterInfo } = clusters;
  const { quality: _quality, ...itemInfo } = items;
  return {
    options: o,
    genreNames: SYNTH_GENRES,
    occupationNames: SYNTH_OCCUPATIONS,
    clusters: clusterInfo,
    users,
    items: itemInfo,
    ratings: {
      user: rUser.slice(0, n),
      item: rItem.slice(0, n),
      rating: rRating.slice(0, n),
      time: rTime.slice(0, n),
    },
    tags: {
      user: Int32Array.from(tUser),
      item: Int32Array.from(tItem),
      time: Float64Array.from(tTime),
      text: tText,
    },
  };
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export type SynthFileName = "ratings.csv" | "movies.csv" | "tags.csv" | "users.csv";

/** Bytes of CSV text gathered before a chunk is handed out (the files are never held whole). */
export const SYNTH_CHUNK_CHARS = 1 << 20;

/** Lines `line(0) .. line(n − 1)` after `header`, newline-terminated, as UTF-8 chunks of about chunkChars. */
function* csvChunks(
  header: string,
  n: number,
  line: (j: number) => string,
  chunkChars: number,
): Generator<Uint8Array> {
  let text = `${header}\n`;
  for (let j = 0; j < n; j++) {
    text += `${line(j)}\n`;
    if (text.length >= chunkChars) {
      yield Buffer.from(text);
      text = "";
    }
  }
  if (text.length > 0) yield Buffer.from(text);
}

/**
 * The four CSV files as streams of UTF-8 chunks, keyed by file name: a 32M-event ratings.csv
 * (~800 MB) is written piece by piece, never built as one string (V8 strings stop at 2^29 chars).
 */
export function synthCsvChunks(
  data: SynthData,
  chunkChars = SYNTH_CHUNK_CHARS,
): Record<SynthFileName, () => Iterable<Uint8Array>> {
  const r = data.ratings;
  const it = data.items;
  const tg = data.tags;
  const us = data.users;
  const movieLine = (i: number): string => {
    const genres: string[] = [];
    for (let p = it.genreOffsets[i]; p < it.genreOffsets[i + 1]; p++)
      genres.push(data.genreNames[it.genreIds[p]]);
    return `${i + 1},${csvField(it.title[i])},${genres.join("|")}`;
  };
  return {
    "ratings.csv": () =>
      csvChunks(
        "userId,movieId,rating,timestamp",
        r.user.length,
        (j) => `${r.user[j] + 1},${r.item[j] + 1},${r.rating[j].toFixed(1)},${r.time[j]}`,
        chunkChars,
      ),
    "movies.csv": () => csvChunks("movieId,title,genres", it.title.length, movieLine, chunkChars),
    "tags.csv": () =>
      csvChunks(
        "userId,movieId,tag,timestamp",
        tg.user.length,
        (j) => `${tg.user[j] + 1},${tg.item[j] + 1},${csvField(tg.text[j])},${tg.time[j]}`,
        chunkChars,
      ),
    "users.csv": () =>
      csvChunks(
        "userId,gender,age,occupation,zip",
        us.cluster.length,
        (u) =>
          `${u + 1},${us.gender[u] === 2 ? "M" : "F"},${us.age[u]},${data.occupationNames[us.occupation[u]]},${us.zip[u]}`,
        chunkChars,
      ),
  };
}

/** The four CSV files as text, keyed by file name (small data: tests and inspection). */
export function synthCsv(data: SynthData): Record<SynthFileName, string> {
  const chunks = synthCsvChunks(data);
  const text = (name: SynthFileName) => Buffer.concat([...chunks[name]()]).toString("utf8");
  return {
    "ratings.csv": text("ratings.csv"),
    "movies.csv": text("movies.csv"),
    "tags.csv": text("tags.csv"),
    "users.csv": text("users.csv"),
  };
}

/** Generates and writes ratings.csv, movies.csv, tags.csv and users.csv into `dir` (each atomically). */
export async function writeSynthetic(dir: string, options: SynthOptions = {}): Promise<SynthData> {
  const data = generateSynthetic(options);
  await mkdir(dir, { recursive: true });
  const files = synthCsvChunks(data);
  for (const [name, chunks] of Object.entries(files)) writeFileAtomic(join(dir, name), chunks());
  return data;
}
