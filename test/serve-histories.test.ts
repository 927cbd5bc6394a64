/**
 * The service's history cache: time order with ties in arrival order (late events with older
 * times slot in), fresh reads after new events, and the LRU bound (evicted users reload intact).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HistoryCache } from "../src/serve/histories.js";
import { SqliteStore } from "../src/serve/store/sqlite-store.js";

let dir: string;
let store: SqliteStore;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "wn-hist-"));
  store = new SqliteStore(join(dir, "h.db"));
  await store.seed({
    name: "h",
    items: Array.from({ length: 10 }, (_, i) => ({ id: `i${i}`, title: "", genres: [], year: null })),
    users: [],
    ageKind: null,
    events: {
      user: new Int32Array(0),
      item: new Int32Array(0),
      time: new Float64Array(0),
      weight: new Float32Array(0),
    },
    tags: null,
  });
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const view = (h: { length: number; items: Int32Array; times: Float64Array }) =>
  Array.from({ length: h.length }, (_, i) => [h.items[i], h.times[i]]);

describe("history cache", () => {
  it("keeps time order (ties in arrival order) and sees new events on the next read", async () => {
    const cache = new HistoryCache(store);
    await store.appendEvents([
      { user: "a", item: "i1", time: 10, weight: 1 },
      { user: "a", item: "i2", time: 30, weight: 1 },
    ]);
    const a = (await store.getUser("a"))!.idx;
    expect(view(await cache.get(a))).toEqual([
      [1, 10],
      [2, 30],
    ]);
    // A late event with an older time, and one tying an existing time.
    await store.appendEvents([
      { user: "a", item: "i3", time: 20, weight: 1 },
      { user: "a", item: "i4", time: 10, weight: 1 },
      { user: "a", item: "i5", time: 40, weight: 1 },
    ]);
    expect(view(await cache.get(a))).toEqual([
      [1, 10],
      [4, 10],
      [3, 20],
      [2, 30],
      [5, 40],
    ]);
    // Concurrent reads apply each event once.
    await store.appendEvents([{ user: "a", item: "i6", time: 50, weight: 1 }]);
    const [x, y] = await Promise.all([cache.get(a), cache.get(a)]);
    expect(x).toBe(y);
    expect(x.length).toBe(6);
  });

  it("evicts least recently used users past its bound; they reload intact", async () => {
    const events = [];
    for (let u = 0; u < 5; u++)
      for (let k = 0; k < 4; k++) events.push({ user: `u${u}`, item: `i${k}`, time: k, weight: 1 });
    await store.appendEvents(events);
    const cache = new HistoryCache(store, 10);
    const idx = [];
    for (let u = 0; u < 5; u++) idx.push((await store.getUser(`u${u}`))!.idx);
    for (const i of idx) expect((await cache.get(i)).length).toBe(4);
    expect(cache.size.events).toBeLessThanOrEqual(10);
    expect(cache.size.users).toBeLessThan(5);
    // The first users were evicted: reading them again gives the same history.
    const again = await cache.get(idx[0]);
    expect(view(again)).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });
});
