/**
 * The Dataset a model is loaded against, built from the store: the items and users the store was
 * seeded with (the data the model was trained on, in its dense order), their side info and
 * demographics as the store holds them now, the seeded tags, and the events on those items and users. Items and
 * users added later exist only in the store; the model does not know them until the next training.
 */
import type { Dataset, ItemInfo, UserInfo } from "../data/dataset.js";
import { genderCode, type Store } from "./store/store.js";
import { ServeError } from "./errors.js";

export interface ModelData {
  readonly dataset: Dataset;
  /** Seeded (trained) item and user counts. */
  readonly numItems: number;
  readonly numUsers: number;
  /** Events ingested after the seed, on items the model knows (replayed through observeEvents at load). */
  readonly laterItems: Int32Array;
  readonly laterTimes: Float64Array;
  /** The store's event-feed position these events reach (null without a feed): the model follows the feed from there. */
  readonly feedCursor: string | null;
}

export async function modelDataFromStore(store: Store, label: string): Promise<ModelData> {
  const seedItems = await store.getMeta("seed_items");
  const seedUsers = await store.getMeta("seed_users");
  if (seedItems === null || seedUsers === null) {
    throw new ServeError(
      `${label}: the store was never seeded from a dataset: start once with --data <path>`,
    );
  }
  const ni = Number(seedItems);
  const nu = Number(seedUsers);
  const name = (await store.getMeta("dataset")) ?? "store";
  const ageKind = (await store.getMeta("age_kind")) as "years" | "code" | null;
  const { items } = await store.itemsAfter(0);
  const users = await store.users();

  const itemIds: string[] = new Array<string>(ni).fill("");
  const title: string[] = new Array<string>(ni).fill("");
  const year = new Int16Array(ni);
  const genreNames: string[] = [];
  const genreIndex = new Map<string, number>();
  const perItem: number[][] = Array.from({ length: ni }, () => []);
  for (const it of items) {
    if (it.idx >= ni) continue;
    itemIds[it.idx] = it.id;
    title[it.idx] = it.title;
    year[it.idx] = it.year !== null && it.year > 0 && it.year < 32768 ? it.year : 0;
    for (const g of it.genres) {
      let gi = genreIndex.get(g);
      if (gi === undefined) {
        gi = genreNames.length;
        genreNames.push(g);
        genreIndex.set(g, gi);
      }
      perItem[it.idx].push(gi);
    }
  }
  const genreOffsets = new Int32Array(ni + 1);
  for (let i = 0; i < ni; i++) genreOffsets[i + 1] = genreOffsets[i] + perItem[i].length;
  const genreIds = new Int32Array(genreOffsets[ni]);
  for (let i = 0; i < ni; i++) genreIds.set(perItem[i], genreOffsets[i]);
  const itemInfo: ItemInfo = { title, year, genreOffsets, genreIds, genreNames };

  const userIds: string[] = new Array<string>(nu).fill("");
  const gender = new Uint8Array(nu);
  const age = new Int16Array(nu);
  const occupation = new Int32Array(nu).fill(-1);
  const occupationNames: string[] = [];
  const occIndex = new Map<string, number>();
  const zip: string[] = new Array<string>(nu).fill("");
  for (const u of users) {
    if (u.idx >= nu) continue;
    userIds[u.idx] = u.id;
    gender[u.idx] = genderCode(u.gender);
    age[u.idx] = u.age;
    zip[u.idx] = u.zip;
    if (u.occupation !== "") {
      let o = occIndex.get(u.occupation);
      if (o === undefined) {
        o = occupationNames.length;
        occupationNames.push(u.occupation);
        occIndex.set(u.occupation, o);
      }
      occupation[u.idx] = o;
    }
  }
  const userInfo: UserInfo = { gender, age, ageKind, occupation, occupationNames, zip };

  // The model is loaded against the data it was trained on: the seeded events (the first ones, in
  // the store's insertion order). Events ingested since reach the model through each request's
  // history and Recommender.observeEvents, never by re-splitting (its sources' fingerprints would
  // no longer match). Stores seeded before this meta key existed fall back to every event.
  // With a feed (several instances), read up to a cursor so that every later event comes from the feed, once.
  const feedCursor = store.feed === null ? null : await store.feed.cursor();
  const all = await store.allEvents(feedCursor ?? undefined);
  const seedEvents = await store.getMeta("seed_events");
  const upto = seedEvents === null ? all.user.length : Math.min(all.user.length, Number(seedEvents));
  let n = 0;
  for (let i = 0; i < upto; i++) if (all.user[i] < nu && all.item[i] < ni) n++;
  const events = {
    user: new Int32Array(n),
    item: new Int32Array(n),
    time: new Float64Array(n),
    weight: new Float32Array(n),
  };
  for (let i = 0, j = 0; i < upto; i++) {
    if (all.user[i] >= nu || all.item[i] >= ni) continue;
    events.user[j] = all.user[i];
    events.item[j] = all.item[i];
    events.time[j] = all.time[i];
    events.weight[j] = all.weight[i];
    j++;
  }
  const allTags = await store.allTags();
  const tags = allTags.user.length === 0 ? null : allTags;
  const dict = (ids: string[]) => ({ ids, index: new Map(ids.map((id, i) => [id, i])) });
  const dataset: Dataset = {
    name,
    format: "log",
    source: label,
    users: dict(userIds),
    items: dict(itemIds),
    events,
    itemInfo,
    userInfo,
    tags,
    report: { skipped: [], duplicateEvents: 0, warnings: [] },
  };
  let later = 0;
  for (let i = upto; i < all.user.length; i++) if (all.item[i] < ni) later++;
  const laterItems = new Int32Array(later);
  const laterTimes = new Float64Array(later);
  for (let i = upto, j = 0; i < all.user.length; i++) {
    if (all.item[i] >= ni) continue;
    laterItems[j] = all.item[i];
    laterTimes[j++] = all.time[i];
  }
  return { dataset, numItems: ni, numUsers: nu, laterItems, laterTimes, feedCursor };
}
