/**
 * The store contract, run against both implementations (SQLite and PostgreSQL): seeding in dense
 * order, atomic event batches (unknown items write nothing, unknown users are created), dense
 * per-user sequence numbers, history order and bounds, popularity, impressions, item revisions,
 * partial updates and demographics revisions, concurrent batches (group commit on SQLite: a bad
 * batch is refused alone), PostgreSQL's event feed (final events only, in transaction order, own
 * batches marked), and reopening an existing store (migrations run once, data kept).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresStore } from "../src/serve/store/postgres-store.js";
import { SqliteStore } from "../src/serve/store/sqlite-store.js";
import { UnknownItemsError, type SeedData, type Store } from "../src/serve/store/store.js";
import { stopStartedCluster, testDatabase } from "./support/test-postgres.js";

let dir: string;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "wn-store-"));
});

afterAll(async () => {
  for (const c of cleanups) await c().catch(() => {});
  stopStartedCluster();
  rmSync(dir, { recursive: true, force: true });
});

const seed: SeedData = {
  name: "tiny",
  items: [
    { id: "a", title: "Alpha (1990)", genres: ["Drama"], year: 1990 },
    { id: "b", title: "Beta", genres: ["Comedy", "Drama"], year: null },
    { id: "c", title: "Gamma", genres: [], year: 2001 },
  ],
  users: [
    { id: "u0", gender: "F", age: 30, occupation: "artist", zip: "12345" },
    { id: "u1", gender: "M", age: 40, occupation: "", zip: "" },
  ],
  ageKind: "years",
  events: {
    user: Int32Array.of(0, 1, 0),
    item: Int32Array.of(1, 0, 2),
    time: Float64Array.of(100, 200, 300),
    weight: Float32Array.of(4, 5, 3),
  },
  tags: {
    user: Int32Array.of(1, 0),
    item: Int32Array.of(0, 2),
    time: Float64Array.of(150, 250),
    textIndex: Int32Array.of(0, 1),
    texts: ["funny", "dark"],
  },
};

interface Impl {
  name: string;
  open(): Promise<Store>;
}

let pgUrl: string | null = null;
const impls: Impl[] = [
  {
    name: "SQLite",
    open: async () => new SqliteStore(join(dir, "contract.db")),
  },
  {
    name: "PostgreSQL",
    open: (() => {
      let url: string | null = null;
      return async () => {
        if (url === null) {
          const db = await testDatabase();
          cleanups.push(db.drop);
          url = db.url;
          pgUrl = url;
        }
        return PostgresStore.open(url);
      };
    })(),
  },
];

describe.each(impls)("store contract: $name", (impl) => {
  let store: Store;

  beforeAll(async () => {
    store = await impl.open();
    await store.seed(seed);
  });

  afterAll(async () => {
    await store?.close();
  });

  it("seeds in the dataset's dense order and refuses a second seed", async () => {
    expect(store.schemaVersion).toBe(3);
    expect(await store.counts()).toEqual({ items: 3, users: 2, events: 3, impressions: 0 });
    expect(await store.getMeta("seed_items")).toBe("3");
    expect(await store.getMeta("seed_users")).toBe("2");
    expect(await store.getMeta("age_kind")).toBe("years");
    const { items } = await store.itemsAfter(0);
    expect(items.map((i) => [i.idx, i.id, i.title, i.genres, i.year])).toEqual([
      [0, "a", "Alpha (1990)", ["Drama"], 1990],
      [1, "b", "Beta", ["Comedy", "Drama"], null],
      [2, "c", "Gamma", [], 2001],
    ]);
    const users = await store.users();
    expect(users.map((u) => [u.idx, u.id, u.gender, u.age, u.occupation, u.zip, u.numEvents])).toEqual([
      [0, "u0", "F", 30, "artist", "12345", 2],
      [1, "u1", "M", 40, "", "", 1],
    ]);
    const tags = await store.allTags();
    expect(Array.from(tags.user)).toEqual([1, 0]);
    expect(Array.from(tags.textIndex, (k) => tags.texts[k])).toEqual(["funny", "dark"]);
    await expect(store.seed(seed)).rejects.toThrow(/not empty/);
  });

  it("appends a batch atomically: unknown items refuse all of it; unknown users are created", async () => {
    const err = await store
      .appendEvents([
        { user: "u9", item: "a", time: 400, weight: 1 },
        { user: "u9", item: "zz", time: 401, weight: 1 },
        { user: "u9", item: "yy", time: 402, weight: 1 },
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownItemsError);
    expect([...(err as UnknownItemsError).ids].sort()).toEqual(["yy", "zz"]);
    expect(await store.getUser("u9")).toBeNull();
    expect((await store.counts()).events).toBe(3);

    const r = await store.appendEvents([
      { user: "u9", item: "a", time: 400, weight: 2 },
      { user: "u0", item: "a", time: 50, weight: 1 },
      { user: "u9", item: "c", time: 390, weight: 1 },
    ]);
    expect(r).toEqual({ accepted: 3, newUsers: 1 });
    const u9 = (await store.getUser("u9"))!;
    expect(u9.idx).toBeGreaterThanOrEqual(2);
    expect(u9.numEvents).toBe(2);
    // Sequence order is arrival order; history is newest first by time.
    const ev = await store.userEventsAfter(u9.idx, 0);
    expect(Array.from(ev.items)).toEqual([0, 2]);
    expect(ev.lastSeq).toBe(2);
    expect((await store.userEventsAfter(u9.idx, 2)).items.length).toBe(0);
    const after1 = await store.userEventsAfter(0, 2);
    expect(Array.from(after1.times)).toEqual([50]);
    expect(after1.lastSeq).toBe(3);
    const h = await store.history(0, 10, Infinity);
    expect(h.map((x) => x.time)).toEqual([300, 100, 50]);
    expect((await store.history(0, 1, 300)).map((x) => x.time)).toEqual([100]);
  });

  it("concurrent batches: each durable once, per-user sequence numbers dense; a bad one is refused alone", async () => {
    const batches = Array.from({ length: 30 }, (_, i) =>
      store.appendEvents(
        i === 7
          ? [{ user: "u1", item: "nope", time: 1000 + i, weight: 1 }]
          : [
              { user: "u1", item: "b", time: 1000 + i, weight: 1 },
              { user: `p${i % 3}`, item: "c", time: 1000 + i, weight: 1 },
            ],
      ),
    );
    const results = await Promise.allSettled(batches);
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
    expect((results[7] as PromiseRejectedResult).reason).toBeInstanceOf(UnknownItemsError);
    const u1 = (await store.getUser("u1"))!;
    expect(u1.numEvents).toBe(1 + 29);
    const ev = await store.userEventsAfter(u1.idx, 0);
    expect(ev.items.length).toBe(30);
    expect(ev.lastSeq).toBe(30);
    for (let p = 0; p < 3; p++) expect((await store.getUser(`p${p}`))!.numEvents).toBeGreaterThan(0);
  });

  it("popular counts events in a time window; latest event time", async () => {
    expect(await store.latestEventTime()).toBe(1029);
    const pop = await store.popular(1000, 2);
    expect(pop[0]).toEqual({ item: 1, count: 29 });
    expect(pop[1]).toEqual({ item: 2, count: 29 });
    expect(await store.popular(5000, 5)).toEqual([]);
  });

  it("items and users: create, partial update, revisions", async () => {
    const r0 = (await store.itemsAfter(0)).rev;
    const created = await store.putItem("d", { title: "Delta", genres: ["Horror"] });
    expect(created.created).toBe(true);
    expect(created.item.idx).toBe(3);
    expect(created.item.rev).toBeGreaterThan(r0);
    const upd = await store.putItem("a", { year: 1991 });
    expect(upd.created).toBe(false);
    expect(upd.item).toMatchObject({ idx: 0, title: "Alpha (1990)", genres: ["Drama"], year: 1991 });
    const changed = await store.itemsAfter(r0);
    expect(changed.items.map((i) => i.id)).toEqual(["a", "d"]);
    expect((await store.itemsAfter(changed.rev)).items).toEqual([]);
    expect(await store.getItem("missing")).toBeNull();

    const ur0 = (await store.usersAfter(Number.MAX_SAFE_INTEGER)).rev;
    expect((await store.usersAfter(ur0)).users).toEqual([]);
    const u = await store.putUser("u0", { zip: "99999" });
    expect(u.created).toBe(false);
    expect(u.user).toMatchObject({ idx: 0, gender: "F", age: 30, occupation: "artist", zip: "99999" });
    expect(u.user.rev).toBeGreaterThan(ur0);
    const nu = await store.putUser("fresh", { gender: "M" });
    expect(nu.created).toBe(true);
    expect(nu.user).toMatchObject({ gender: "M", age: 0, numEvents: 0 });
    expect(nu.user.rev).toBeGreaterThan(u.user.rev);
    // Demographics revisions: users written after a revision, in index order, and the latest one.
    const ch = await store.usersAfter(ur0);
    expect(ch.users.map((x) => [x.id, x.zip])).toEqual([
      ["u0", "99999"],
      ["fresh", ""],
    ]);
    expect(ch.rev).toBe(nu.user.rev);
    expect((await store.usersAfter(u.user.rev)).users.map((x) => x.id)).toEqual(["fresh"]);
  });

  it("impressions are buffered, then written in order", async () => {
    store.recordImpressions(1, Int32Array.of(2, 0), 500);
    store.recordImpressions(1, Int32Array.of(1), 600);
    const imp = await store.impressions(1);
    expect(Array.from(imp.items)).toEqual([2, 0, 1]);
    expect(Array.from(imp.times)).toEqual([500, 500, 600]);
    expect(store.droppedImpressions).toBe(0);
    store.recordImpressions(0, Int32Array.of(1), 700);
    const all = await store.allImpressions();
    expect(Array.from(all.user)).toEqual([1, 1, 1, 0]);
    expect(Array.from(all.item)).toEqual([2, 0, 1, 1]);
    expect(Array.from(all.time)).toEqual([500, 500, 600, 700]);
  });

  it("impressions recorded just before a clean close are in the store after reopening", async () => {
    const before = (await store.counts()).impressions;
    store.recordImpressions(0, Int32Array.of(2, 1), 800);
    // The background flush (timer) has started its write when close() comes.
    await new Promise((done) => setTimeout(done, 250));
    store.recordImpressions(0, Int32Array.of(0), 900);
    await store.close();
    store = await impl.open();
    expect((await store.counts()).impressions).toBe(before + 3);
    const imp = await store.impressions(0);
    expect(Array.from(imp.items).slice(-3)).toEqual([2, 1, 0]);
    expect(Array.from(imp.times).slice(-3)).toEqual([800, 800, 900]);
  });

  it("event feed: PostgreSQL has one (own batches marked before commit), SQLite none", async () => {
    const feed = store.feed;
    if (store.kind === "sqlite") {
      expect(feed).toBeNull();
      return;
    }
    expect(feed).not.toBeNull();
    const f = feed!;
    const start = await f.cursor();
    // Everything before the cursor is what allEvents(cursor) reads.
    const all = await store.allEvents();
    expect((await store.allEvents(start)).user.length).toBe(all.user.length);
    expect((await f.after(start, 100)).items.length).toBe(0);
    const marks = new Set<string>();
    const seen: string[] = [];
    const add = marks.add.bind(marks);
    marks.add = (x: string) => {
      seen.push(x);
      return add(x);
    };
    await store.appendEvents(
      [
        { user: "u0", item: "c", time: 2000, weight: 1 },
        { user: "u1", item: "a", time: 2001, weight: 1 },
      ],
      marks,
    );
    await store.appendEvents([{ user: "u1", item: "b", time: 2002, weight: 1 }]);
    expect(seen).toHaveLength(1);
    expect(marks.has(seen[0])).toBe(true);
    // A refused batch leaves no mark.
    await expect(
      store.appendEvents([{ user: "u1", item: "nope", time: 2003, weight: 1 }], marks),
    ).rejects.toBeInstanceOf(UnknownItemsError);
    expect([...marks]).toEqual(seen);
    const r = await f.after(start, 100);
    expect(Array.from(r.items)).toEqual([2, 0, 1]);
    expect(Array.from(r.times)).toEqual([2000, 2001, 2002]);
    expect(r.batches).toHaveLength(2);
    expect(r.batches[0]).toBe(seen[0]);
    expect(Array.from(r.batchOffsets)).toEqual([0, 2, 3]);
    expect(r.more).toBe(false);
    expect((await f.after(r.cursor, 100)).items.length).toBe(0);
    // A limit cuts after whole batches only.
    const cut = await f.after(start, 1);
    expect(Array.from(cut.items)).toEqual([2, 0]);
    expect(cut.more).toBe(true);
    expect(Array.from((await f.after(cut.cursor, 1)).items)).toEqual([1]);
    // The events up to a cursor are the ones before it in the feed.
    expect((await store.allEvents(cut.cursor)).user.length).toBe(all.user.length + 2);
    // A transaction still open holds the feed back: a batch that commits after it started but
    // before it ends waits, and both then come in transaction order, none missed.
    const raw = new pg.Client({ connectionString: pgUrl! });
    await raw.connect();
    try {
      await raw.query("BEGIN");
      await raw.query(
        "INSERT INTO events (user_idx, user_seq, item_idx, time, weight) VALUES (1, 1000, 2, 3000, 1)",
      );
      await store.appendEvents([{ user: "u0", item: "b", time: 3001, weight: 1 }]);
      expect((await f.after(r.cursor, 100)).items.length).toBe(0);
      await raw.query("COMMIT");
    } finally {
      await raw.end();
    }
    const both = await f.after(r.cursor, 100);
    expect(Array.from(both.times)).toEqual([3000, 3001]);
    expect(both.batches).toHaveLength(2);
  });

  it("reopening keeps everything and does not migrate again", async () => {
    const before = await store.counts();
    await store.close();
    store = await impl.open();
    expect(store.schemaVersion).toBe(3);
    expect(await store.counts()).toEqual(before);
    const all = await store.allEvents();
    expect(all.user.length).toBe(before.events);
    expect(Array.from(all.time.subarray(0, 3))).toEqual([100, 200, 300]);
  });
});

describe("SQLite in memory", () => {
  it("records impressions on its own connection (a thread cannot share it)", async () => {
    const store = new SqliteStore(":memory:");
    try {
      await store.seed(seed);
      store.recordImpressions(1, Int32Array.of(2, 0), 500);
      const imp = await store.impressions(1);
      expect(Array.from(imp.items)).toEqual([2, 0]);
      expect((await store.counts()).impressions).toBe(2);
    } finally {
      await store.close();
    }
  });
});
