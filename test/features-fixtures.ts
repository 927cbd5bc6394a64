/**
 * Hand-built Datasets for the features tests: small, with every kind of side information optional,
 * and a seeded random generator of event logs (ties and out-of-order rows included on purpose).
 */
import type { Dataset, IdDictionary, TagEvents, UserInfo } from "../src/data/dataset.js";
import { Rng } from "../src/engine/rng.js";

export interface FixtureSpec {
  numUsers: number;
  numItems: number;
  /** [user, item, time] rows in file order. */
  events: Array<[number, number, number]>;
  /** Genre names of each item (index = item). */
  itemGenres?: string[][];
  itemYears?: number[];
  userInfo?: UserInfo | null;
  /** [user, item, time, text] rows. */
  tags?: Array<[number, number, number, string]>;
}

function dict(prefix: string, n: number): IdDictionary {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
  return { ids, index: new Map(ids.map((id, i) => [id, i])) };
}

export function makeDataset(spec: FixtureSpec): Dataset {
  const genreNames = [...new Set((spec.itemGenres ?? []).flat())].sort();
  const genreOffsets = new Int32Array(spec.numItems + 1);
  const genreIds: number[] = [];
  for (let i = 0; i < spec.numItems; i++) {
    for (const g of spec.itemGenres?.[i] ?? []) genreIds.push(genreNames.indexOf(g));
    genreOffsets[i + 1] = genreIds.length;
  }
  let tags: TagEvents | null = null;
  if (spec.tags !== undefined) {
    const texts = [...new Set(spec.tags.map((t) => t[3]))];
    tags = {
      user: Int32Array.from(spec.tags, (t) => t[0]),
      item: Int32Array.from(spec.tags, (t) => t[1]),
      time: Float64Array.from(spec.tags, (t) => t[2]),
      textIndex: Int32Array.from(spec.tags, (t) => texts.indexOf(t[3])),
      texts,
    };
  }
  return {
    name: "fixture",
    format: "log",
    source: "memory",
    users: dict("u", spec.numUsers),
    items: dict("i", spec.numItems),
    events: {
      user: Int32Array.from(spec.events, (e) => e[0]),
      item: Int32Array.from(spec.events, (e) => e[1]),
      time: Float64Array.from(spec.events, (e) => e[2]),
      weight: new Float32Array(spec.events.length).fill(1),
    },
    itemInfo: {
      title: Array.from({ length: spec.numItems }, () => ""),
      year: Int16Array.from({ length: spec.numItems }, (_, i) => spec.itemYears?.[i] ?? 0),
      genreOffsets,
      genreIds: Int32Array.from(genreIds),
      genreNames,
    },
    userInfo: spec.userInfo ?? null,
    tags,
    report: { skipped: [], duplicateEvents: 0, warnings: [] },
  };
}

const GENRES = ["Action", "Comedy", "Drama", "Horror", "Sci-Fi"];
const TAG_TEXTS = [
  "dark comedy",
  "sci-fi",
  "Based on a book",
  "twist ending",
  "funny",
  "space opera",
  "dark",
];

/**
 * A random dataset with every group of side information: times drawn from a small range so equal
 * timestamps are common, rows shuffled so file order is not time order.
 */
export function randomDataset(seed: number, numUsers = 12, numItems = 30, maxPerUser = 40): Dataset {
  const rng = new Rng(seed);
  const events: Array<[number, number, number]> = [];
  for (let u = 0; u < numUsers; u++) {
    const n = rng.nextInt(maxPerUser + 1);
    for (let k = 0; k < n; k++) events.push([u, rng.nextInt(numItems), 1000 + rng.nextInt(60) * 10]);
  }
  const perm = Int32Array.from(events, (_, i) => i);
  rng.shuffle(perm);
  const tags: Array<[number, number, number, string]> = [];
  for (let k = 0; k < numUsers * 4; k++) {
    tags.push([
      rng.nextInt(numUsers),
      rng.nextInt(numItems),
      1000 + rng.nextInt(60) * 10,
      TAG_TEXTS[rng.nextInt(TAG_TEXTS.length)],
    ]);
  }
  return makeDataset({
    numUsers,
    numItems,
    events: Array.from(perm, (i) => events[i]),
    itemGenres: Array.from({ length: numItems }, (_, i) =>
      i % 11 === 5 ? [] : GENRES.filter((_, g) => (i + g) % 3 === 0),
    ),
    itemYears: Array.from({ length: numItems }, (_, i) => (i % 7 === 0 ? 0 : 1950 + ((i * 7) % 60))),
    userInfo: {
      gender: Uint8Array.from({ length: numUsers }, (_, u) => u % 3),
      age: Int16Array.from({ length: numUsers }, (_, u) => (u % 5 === 0 ? 0 : 15 + u * 3)),
      ageKind: "years",
      occupation: Int32Array.from({ length: numUsers }, (_, u) => (u % 4) - 1),
      occupationNames: ["artist", "doctor", "student"],
      zip: Array.from({ length: numUsers }, (_, u) => (u % 6 === 0 ? "" : `${10000 + u * 1111}`)),
    },
    tags,
  });
}
