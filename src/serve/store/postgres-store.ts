/**
 * The shared store: PostgreSQL through pg, for several service instances on one database. The
 * service creates and migrates the schema itself (schema_version table, migrations under an
 * advisory lock so instances starting together migrate once). COMMIT returns after the WAL flush
 * (synchronous_commit on), so appendEvents resolves only for durable batches.
 *
 * Ordering across instances: an event batch locks its users' rows (in index order, so concurrent
 * batches cannot deadlock on them) and numbers each user's events from the row's counter, so a
 * user's events commit in sequence order; item writes take one advisory lock, so item revisions
 * commit in order too. A reader holding "everything up to s" therefore never misses a row.
 */
import pg from "pg";
import {
  UnknownItemsError,
  distinct,
  type AppendResult,
  type Counts,
  type EventColumns,
  type EventFeed,
  type FeedEvents,
  type EventInput,
  type HistoryRow,
  type ItemInfoInput,
  type ItemRecord,
  type ImpressionList,
  type SeedData,
  type TagColumns,
  type Store,
  type UserEvents,
  type UserInfoInput,
  type UserRecord,
  requeue,
  tagColumns,
} from "./store.js";

const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
CREATE SEQUENCE item_idx_seq MINVALUE 0 START 0;
CREATE SEQUENCE user_idx_seq MINVALUE 0 START 0;
CREATE SEQUENCE item_rev_seq;
CREATE TABLE items (idx integer PRIMARY KEY, id text NOT NULL UNIQUE, title text NOT NULL DEFAULT '',
  genres text NOT NULL DEFAULT '[]', year integer, rev bigint NOT NULL);
CREATE INDEX items_rev ON items (rev);
CREATE TABLE users (idx integer PRIMARY KEY, id text NOT NULL UNIQUE, gender text NOT NULL DEFAULT '',
  age integer NOT NULL DEFAULT 0, occupation text NOT NULL DEFAULT '', zip text NOT NULL DEFAULT '',
  n_events integer NOT NULL DEFAULT 0);
CREATE TABLE events (id bigserial PRIMARY KEY, user_idx integer NOT NULL, user_seq integer NOT NULL,
  item_idx integer NOT NULL, time double precision NOT NULL, weight real NOT NULL, UNIQUE (user_idx, user_seq));
CREATE INDEX events_time ON events (time);
CREATE TABLE impressions (id bigserial PRIMARY KEY, user_idx integer NOT NULL, item_idx integer NOT NULL,
  time double precision NOT NULL);
CREATE INDEX impressions_user ON impressions (user_idx, id);
`,
  },
  {
    version: 2,
    sql: `
CREATE TABLE tags (id bigserial PRIMARY KEY, user_idx integer NOT NULL, item_idx integer NOT NULL,
  time double precision NOT NULL, text text NOT NULL);
`,
  },
  {
    // Demographics revisions (as items have), and the event feed: each event carries its writing
    // transaction's id; rows written before this migration count as transaction 0 (before any).
    version: 3,
    sql: `
CREATE SEQUENCE user_rev_seq;
ALTER TABLE users ADD COLUMN rev bigint NOT NULL DEFAULT 0;
CREATE INDEX users_rev ON users (rev);
ALTER TABLE events ADD COLUMN tx xid8 NOT NULL DEFAULT '0';
ALTER TABLE events ALTER COLUMN tx SET DEFAULT pg_current_xact_id();
CREATE INDEX events_feed ON events (tx, id);
`,
  },
];

export const POSTGRES_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
/** Advisory lock keys (arbitrary constants). */
const MIGRATE_LOCK = 727_001;
const ITEM_LOCK = 727_002;
const USER_LOCK = 727_003;
const SEED_CHUNK = 20_000;

interface ItemRow {
  idx: number;
  id: string;
  title: string;
  genres: string;
  year: number | null;
  rev: string;
}

interface UserRow {
  idx: number;
  id: string;
  gender: string;
  age: number;
  occupation: string;
  zip: string;
  n_events: number;
  rev: string;
}

function itemRecord(r: ItemRow): ItemRecord {
  return {
    idx: r.idx,
    id: r.id,
    title: r.title,
    genres: JSON.parse(r.genres) as string[],
    year: r.year,
    rev: Number(r.rev),
  };
}

function userRecord(r: UserRow): UserRecord {
  return {
    idx: r.idx,
    id: r.id,
    gender: r.gender === "F" || r.gender === "M" ? r.gender : "",
    age: r.age,
    occupation: r.occupation,
    zip: r.zip,
    numEvents: r.n_events,
    rev: Number(r.rev),
  };
}

/** Serialization failures and deadlocks are retried (the transaction wrote nothing). */
function retryable(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === "40001" || code === "40P01";
}

/** A feed cursor: "<transaction id>:<event id>", everything at or before it consumed. */
function parseCursor(cursor: string): { tx: string; id: string } {
  const m = /^(\d+):(\d+)$/.exec(cursor);
  if (m === null) throw new RangeError(`event feed: malformed cursor ${JSON.stringify(cursor)}`);
  return { tx: m[1], id: m[2] };
}

/**
 * The event feed over events.tx (the writing transaction, pg_current_xact_id()): a transaction
 * older than the oldest one still running (the snapshot's xmin) has committed or aborted, so the
 * events with tx below it are final and ordered by (tx, id) no later event can sort before them.
 */
class PostgresFeed implements EventFeed {
  constructor(private readonly pool: pg.Pool) {}

  async cursor(): Promise<string> {
    const r = await this.pool.query<{ x: string }>(
      "SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x",
    );
    return `${r.rows[0].x}:0`;
  }

  async after(cursor: string, limit: number): Promise<FeedEvents> {
    const c = parseCursor(cursor);
    type Row = [string, string, number, number];
    const q = (text: string, values: unknown[]) =>
      this.pool
        .query({ text, values, rowMode: "array" } as pg.QueryConfig)
        .then((r) => r.rows as unknown as Row[]);
    const rows = await q(
      `SELECT tx::text, id::text, item_idx, time FROM events
       WHERE (tx, id) > ($1::xid8, $2::bigint) AND tx < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY tx, id LIMIT $3`,
      [c.tx, c.id, limit],
    );
    const more = rows.length >= limit;
    if (more) {
      // Whole batches: the rest of the last transaction (final, so complete).
      const last = rows[rows.length - 1];
      rows.push(
        ...(await q(
          "SELECT tx::text, id::text, item_idx, time FROM events WHERE tx = $1::xid8 AND id > $2::bigint ORDER BY id",
          [last[0], last[1]],
        )),
      );
    }
    const n = rows.length;
    const items = new Int32Array(n);
    const times = new Float64Array(n);
    const offsets = [0];
    const batches: string[] = [];
    for (let k = 0; k < n; k++) {
      const r = rows[k];
      if (k > 0 && r[0] !== rows[k - 1][0]) offsets.push(k);
      if (k === 0 || r[0] !== rows[k - 1][0]) batches.push(r[0]);
      items[k] = r[2];
      times[k] = r[3];
    }
    if (n > 0) offsets.push(n);
    return {
      items,
      times,
      batchOffsets: Int32Array.from(offsets),
      batches,
      cursor: n > 0 ? `${rows[n - 1][0]}:${rows[n - 1][1]}` : cursor,
      more,
    };
  }
}

export class PostgresStore implements Store {
  readonly kind = "postgres";
  readonly feed: EventFeed;
  private impressionBuffer: ImpressionList[] = [];
  droppedImpressions = 0;
  onBackgroundError: (error: Error) => void = () => {};
  private impressionTimer: NodeJS.Timeout | null = null;
  private impressionWrite: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    readonly schemaVersion: number,
  ) {
    this.feed = new PostgresFeed(pool);
  }

  /** Connects, creates or migrates the schema, and returns the store. */
  static async open(url: string, poolSize = 10): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: url, max: poolSize });
    // An idle client's error (server restart) must not crash the process; the next query reports it.
    pool.on("error", () => {});
    try {
      const version = await migrate(pool);
      return new PostgresStore(pool, version);
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const c = await this.pool.connect();
      try {
        await c.query("BEGIN");
        const r = await fn(c);
        await c.query("COMMIT");
        return r;
      } catch (error) {
        await c.query("ROLLBACK").catch(() => {});
        if (attempt < 5 && retryable(error)) continue;
        throw error;
      } finally {
        c.release();
      }
    }
  }

  async counts(): Promise<Counts> {
    const r = await this.pool.query<{ i: number; u: number; e: number; m: number }>(
      `SELECT (SELECT COUNT(*)::int FROM items) AS i, (SELECT COUNT(*)::int FROM users) AS u,
              (SELECT COUNT(*)::int FROM events) AS e, (SELECT COUNT(*)::int FROM impressions) AS m`,
    );
    const row = r.rows[0];
    return { items: row.i, users: row.u, events: row.e, impressions: row.m };
  }

  async getMeta(key: string): Promise<string | null> {
    const r = await this.pool.query<{ value: string }>("SELECT value FROM meta WHERE key = $1", [key]);
    return r.rows[0]?.value ?? null;
  }

  async seed(data: SeedData): Promise<void> {
    await this.tx(async (c) => {
      await c.query("LOCK TABLE items, users, events IN EXCLUSIVE MODE");
      const n = await c.query<{ n: number }>(
        "SELECT (SELECT COUNT(*) FROM items) + (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM events) AS n",
      );
      if (Number(n.rows[0].n) > 0) throw new Error("the PostgreSQL store is not empty; not seeding");
      const rev = await c.query<{ r: string }>("SELECT nextval('item_rev_seq') AS r");
      for (let s = 0; s < data.items.length; s += SEED_CHUNK) {
        const part = data.items.slice(s, s + SEED_CHUNK);
        await c.query(
          `INSERT INTO items (idx, id, title, genres, year, rev)
           SELECT a, b, c, d, e, $6::bigint FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::int[]) AS t(a, b, c, d, e)`,
          [
            part.map((_, i) => s + i),
            part.map((it) => it.id),
            part.map((it) => it.title),
            part.map((it) => JSON.stringify(it.genres)),
            part.map((it) => it.year),
            rev.rows[0].r,
          ],
        );
      }
      const ev = data.events;
      const counts = new Int32Array(data.users.length);
      const seq = new Int32Array(ev.user.length);
      for (let i = 0; i < ev.user.length; i++) seq[i] = ++counts[ev.user[i]];
      for (let s = 0; s < data.users.length; s += SEED_CHUNK) {
        const part = data.users.slice(s, s + SEED_CHUNK);
        await c.query(
          `INSERT INTO users (idx, id, gender, age, occupation, zip, n_events)
           SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::int[])`,
          [
            part.map((_, i) => s + i),
            part.map((u) => u.id),
            part.map((u) => u.gender),
            part.map((u) => u.age),
            part.map((u) => u.occupation),
            part.map((u) => u.zip),
            Array.from(counts.subarray(s, s + part.length)),
          ],
        );
      }
      for (let s = 0; s < ev.user.length; s += SEED_CHUNK) {
        const e = Math.min(ev.user.length, s + SEED_CHUNK);
        await c.query(
          `INSERT INTO events (user_idx, user_seq, item_idx, time, weight)
           SELECT * FROM unnest($1::int[], $2::int[], $3::int[], $4::float8[], $5::real[])`,
          [
            Array.from(ev.user.subarray(s, e)),
            Array.from(seq.subarray(s, e)),
            Array.from(ev.item.subarray(s, e)),
            Array.from(ev.time.subarray(s, e)),
            Array.from(ev.weight.subarray(s, e)),
          ],
        );
      }
      const tags = data.tags;
      for (let s = 0; tags !== null && s < tags.user.length; s += SEED_CHUNK) {
        const e = Math.min(tags.user.length, s + SEED_CHUNK);
        await c.query(
          `INSERT INTO tags (user_idx, item_idx, time, text)
           SELECT * FROM unnest($1::int[], $2::int[], $3::float8[], $4::text[])`,
          [
            Array.from(tags.user.subarray(s, e)),
            Array.from(tags.item.subarray(s, e)),
            Array.from(tags.time.subarray(s, e)),
            Array.from(tags.textIndex.subarray(s, e), (k) => tags.texts[k]),
          ],
        );
      }
      if (data.items.length > 0)
        await c.query("SELECT setval('item_idx_seq', $1, false)", [data.items.length]);
      if (data.users.length > 0)
        await c.query("SELECT setval('user_idx_seq', $1, false)", [data.users.length]);
      await c.query(
        "INSERT INTO meta (key, value) VALUES ('dataset', $1), ('seed_items', $2), ('seed_users', $3), ('seed_events', $4)",
        [data.name, String(data.items.length), String(data.users.length), String(data.events.user.length)],
      );
      if (data.ageKind !== null)
        await c.query("INSERT INTO meta (key, value) VALUES ('age_kind', $1)", [data.ageKind]);
    });
  }

  async itemsAfter(rev: number): Promise<{ items: ItemRecord[]; rev: number }> {
    // Read the revision first: an item committed between the two reads shows up now or next time.
    const latest = await this.pool.query<{ r: string | null }>("SELECT MAX(rev) AS r FROM items");
    const r = await this.pool.query<ItemRow>("SELECT * FROM items WHERE rev > $1 ORDER BY idx", [rev]);
    const items = r.rows.map(itemRecord);
    let max = Number(latest.rows[0].r ?? 0);
    for (const it of items) max = Math.max(max, it.rev);
    return { items, rev: max };
  }

  async getItem(id: string): Promise<ItemRecord | null> {
    const r = await this.pool.query<ItemRow>("SELECT * FROM items WHERE id = $1", [id]);
    return r.rows[0] ? itemRecord(r.rows[0]) : null;
  }

  async putItem(id: string, info: ItemInfoInput): Promise<{ item: ItemRecord; created: boolean }> {
    return this.tx(async (c) => {
      await c.query("SELECT pg_advisory_xact_lock($1)", [ITEM_LOCK]);
      const old = (await c.query<ItemRow>("SELECT * FROM items WHERE id = $1", [id])).rows[0];
      const title = info.title ?? old?.title ?? "";
      const genres = info.genres ? JSON.stringify(info.genres) : (old?.genres ?? "[]");
      const year = info.year !== undefined ? info.year : (old?.year ?? null);
      const r = old
        ? await c.query<ItemRow>(
            "UPDATE items SET title = $2, genres = $3, year = $4, rev = nextval('item_rev_seq') WHERE id = $1 RETURNING *",
            [id, title, genres, year],
          )
        : await c.query<ItemRow>(
            `INSERT INTO items (idx, id, title, genres, year, rev)
             VALUES (nextval('item_idx_seq'), $1, $2, $3, $4, nextval('item_rev_seq')) RETURNING *`,
            [id, title, genres, year],
          );
      return { item: itemRecord(r.rows[0]), created: !old };
    });
  }

  async users(): Promise<UserRecord[]> {
    const r = await this.pool.query<UserRow>("SELECT * FROM users ORDER BY idx");
    return r.rows.map(userRecord);
  }

  async usersAfter(rev: number): Promise<{ users: UserRecord[]; rev: number }> {
    // Revisions commit in order (putUser holds USER_LOCK), so reading the latest first misses none.
    const latest = await this.pool.query<{ r: string | null }>("SELECT MAX(rev) AS r FROM users");
    const r = await this.pool.query<UserRow>("SELECT * FROM users WHERE rev > $1 ORDER BY idx", [rev]);
    const users = r.rows.map(userRecord);
    let max = Number(latest.rows[0].r ?? 0);
    for (const u of users) max = Math.max(max, u.rev);
    return { users, rev: max };
  }

  async getUser(id: string): Promise<UserRecord | null> {
    const r = await this.pool.query<UserRow>("SELECT * FROM users WHERE id = $1", [id]);
    return r.rows[0] ? userRecord(r.rows[0]) : null;
  }

  async putUser(id: string, info: UserInfoInput): Promise<{ user: UserRecord; created: boolean }> {
    return this.tx(async (c) => {
      await c.query("SELECT pg_advisory_xact_lock($1)", [USER_LOCK]);
      const ins = await c.query<UserRow>(
        "INSERT INTO users (idx, id) VALUES (nextval('user_idx_seq'), $1) ON CONFLICT (id) DO NOTHING RETURNING *",
        [id],
      );
      const old = (await c.query<UserRow>("SELECT * FROM users WHERE id = $1 FOR UPDATE", [id])).rows[0];
      const r = await c.query<UserRow>(
        "UPDATE users SET gender = $2, age = $3, occupation = $4, zip = $5, rev = nextval('user_rev_seq') WHERE id = $1 RETURNING *",
        [
          id,
          info.gender ?? old.gender,
          info.age ?? old.age,
          info.occupation ?? old.occupation,
          info.zip ?? old.zip,
        ],
      );
      return { user: userRecord(r.rows[0]), created: ins.rows.length > 0 };
    });
  }

  async appendEvents(events: readonly EventInput[], marks?: Set<string>): Promise<AppendResult> {
    if (this.closed) throw new Error("the store is closed");
    // The batch's feed id goes into `marks` before COMMIT (a feed reader can meet it only after),
    // and out again when the attempt rolls back.
    let mark: string | null = null;
    const unmark = () => {
      if (mark !== null) marks?.delete(mark);
      mark = null;
    };
    try {
      return await this.writeEvents(events, (x) => {
        unmark();
        mark = x;
        marks?.add(x);
      });
    } catch (error) {
      unmark();
      throw error;
    }
  }

  private writeEvents(events: readonly EventInput[], onFeedId: (id: string) => void): Promise<AppendResult> {
    return this.tx(async (c) => {
      const itemIds = distinct(events.map((e) => e.item));
      const found = await c.query<{ id: string; idx: number }>(
        "SELECT id, idx FROM items WHERE id = ANY($1::text[])",
        [itemIds],
      );
      const itemIdx = new Map(found.rows.map((r) => [r.id, r.idx]));
      if (itemIdx.size < itemIds.length)
        throw new UnknownItemsError(itemIds.filter((id) => !itemIdx.has(id)));
      const userIds = distinct(events.map((e) => e.user));
      // Sorted ids: concurrent batches insert new users in one order (no unique-index deadlock).
      const created = await c.query(
        `INSERT INTO users (idx, id) SELECT nextval('user_idx_seq'), t.id FROM unnest($1::text[]) AS t(id)
         WHERE NOT EXISTS (SELECT 1 FROM users WHERE users.id = t.id) ON CONFLICT (id) DO NOTHING`,
        [userIds],
      );
      const locked = await c.query<{ id: string; idx: number; n_events: number }>(
        "SELECT id, idx, n_events FROM users WHERE id = ANY($1::text[]) ORDER BY idx FOR UPDATE",
        [userIds],
      );
      const users = new Map(locked.rows.map((r) => [r.id, { idx: r.idx, n: r.n_events }]));
      const n = events.length;
      const uCol = new Array<number>(n);
      const sCol = new Array<number>(n);
      const iCol = new Array<number>(n);
      const tCol = new Array<number>(n);
      const wCol = new Array<number>(n);
      for (let i = 0; i < n; i++) {
        const e = events[i];
        const u = users.get(e.user) as { idx: number; n: number };
        uCol[i] = u.idx;
        sCol[i] = ++u.n;
        iCol[i] = itemIdx.get(e.item) as number;
        tCol[i] = e.time;
        wCol[i] = e.weight;
      }
      await c.query(
        `INSERT INTO events (user_idx, user_seq, item_idx, time, weight)
         SELECT * FROM unnest($1::int[], $2::int[], $3::int[], $4::float8[], $5::real[])`,
        [uCol, sCol, iCol, tCol, wCol],
      );
      const us = [...users.values()];
      const done = await c.query<{ x: string }>(
        `WITH u AS (UPDATE users u SET n_events = v.n FROM unnest($1::int[], $2::int[]) AS v(idx, n)
           WHERE u.idx = v.idx RETURNING 1)
         SELECT pg_current_xact_id()::text AS x, (SELECT COUNT(*) FROM u) AS n`,
        [us.map((u) => u.idx), us.map((u) => u.n)],
      );
      onFeedId(done.rows[0].x);
      return { accepted: n, newUsers: created.rowCount ?? 0 };
    });
  }

  async userEventsAfter(user: number, afterSeq: number): Promise<UserEvents> {
    const r = await this.pool.query<{ s: number; i: number; t: number; w: number }>({
      text: "SELECT user_seq AS s, item_idx AS i, time AS t, weight AS w FROM events WHERE user_idx = $1 AND user_seq > $2 ORDER BY user_seq",
      values: [user, afterSeq],
    });
    const n = r.rows.length;
    const items = new Int32Array(n);
    const times = new Float64Array(n);
    const weights = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      const row = r.rows[k];
      items[k] = row.i;
      times[k] = row.t;
      weights[k] = row.w;
    }
    return { items, times, weights, lastSeq: n > 0 ? r.rows[n - 1].s : afterSeq };
  }

  async history(user: number, limit: number, before: number): Promise<HistoryRow[]> {
    const r = await this.pool.query<{ i: number; t: number; w: number }>(
      "SELECT item_idx AS i, time AS t, weight AS w FROM events WHERE user_idx = $1 AND time < $2 ORDER BY time DESC, user_seq DESC LIMIT $3",
      [user, before, limit],
    );
    return r.rows.map((x) => ({ item: x.i, time: x.t, weight: x.w }));
  }

  async allEvents(upTo?: string): Promise<EventColumns> {
    const cut = upTo === undefined ? null : parseCursor(upTo);
    const r = await this.pool.query<{ u: number; i: number; t: number; w: number }>({
      text:
        "SELECT user_idx AS u, item_idx AS i, time AS t, weight AS w FROM events" +
        (cut === null ? "" : " WHERE (tx, id) <= ($1::xid8, $2::bigint)") +
        " ORDER BY id",
      values: cut === null ? [] : [cut.tx, cut.id],
      rowMode: "array",
    } as pg.QueryConfig);
    const rows = r.rows as unknown as [number, number, number, number][];
    const n = rows.length;
    const cols = {
      user: new Int32Array(n),
      item: new Int32Array(n),
      time: new Float64Array(n),
      weight: new Float32Array(n),
    };
    for (let k = 0; k < n; k++) {
      const row = rows[k];
      cols.user[k] = row[0];
      cols.item[k] = row[1];
      cols.time[k] = row[2];
      cols.weight[k] = row[3];
    }
    return cols;
  }

  async allTags(): Promise<TagColumns> {
    const r = await this.pool.query({
      text: "SELECT user_idx, item_idx, time, text FROM tags ORDER BY id",
      rowMode: "array",
    } as pg.QueryConfig);
    return tagColumns(r.rows as unknown as [number, number, number, string][]);
  }

  async popular(since: number, k: number): Promise<{ item: number; count: number }[]> {
    const r = await this.pool.query<{ i: number; c: number }>(
      "SELECT item_idx AS i, COUNT(*)::int AS c FROM events WHERE time >= $1 GROUP BY item_idx ORDER BY c DESC, item_idx LIMIT $2",
      [since, k],
    );
    return r.rows.map((x) => ({ item: x.i, count: x.c }));
  }

  async latestEventTime(): Promise<number | null> {
    const r = await this.pool.query<{ t: number | null }>("SELECT MAX(time) AS t FROM events");
    return r.rows[0].t;
  }

  recordImpressions(user: number, items: Int32Array, time: number): void {
    if (this.closed || items.length === 0) return;
    this.impressionBuffer.push({ user, items, time });
    if (this.impressionTimer === null) {
      this.impressionTimer = setTimeout(() => void this.flush().catch(() => {}), 200);
      this.impressionTimer.unref();
    }
  }

  async impressions(user: number): Promise<{ items: Int32Array; times: Float64Array }> {
    await this.flush();
    const r = await this.pool.query<{ i: number; t: number }>(
      "SELECT item_idx AS i, time AS t FROM impressions WHERE user_idx = $1 ORDER BY id",
      [user],
    );
    return { items: Int32Array.from(r.rows, (x) => x.i), times: Float64Array.from(r.rows, (x) => x.t) };
  }

  async allImpressions(): Promise<{ user: Int32Array; item: Int32Array; time: Float64Array }> {
    await this.flush();
    const r = await this.pool.query({
      text: "SELECT user_idx, item_idx, time FROM impressions ORDER BY id",
      rowMode: "array",
    } as pg.QueryConfig);
    const rows = r.rows as unknown as [number, number, number][];
    return {
      user: Int32Array.from(rows, (x) => x[0]),
      item: Int32Array.from(rows, (x) => x[1]),
      time: Float64Array.from(rows, (x) => x[2]),
    };
  }

  async flush(): Promise<void> {
    if (this.impressionTimer !== null) {
      clearTimeout(this.impressionTimer);
      this.impressionTimer = null;
    }
    const buf = this.impressionBuffer;
    this.impressionBuffer = [];
    if (buf.length > 0) {
      const u: number[] = [];
      const i: number[] = [];
      const t: number[] = [];
      for (const b of buf) {
        for (let k = 0; k < b.items.length; k++) {
          u.push(b.user);
          i.push(b.items[k]);
          t.push(b.time);
        }
      }
      // Chained so a later flush never finishes before an earlier one; a failed write is requeued.
      this.impressionWrite = this.impressionWrite.then(async () => {
        try {
          await this.pool.query(
            "INSERT INTO impressions (user_idx, item_idx, time) SELECT * FROM unnest($1::int[], $2::int[], $3::float8[])",
            [u, i, t],
          );
        } catch (error) {
          const r = requeue(buf, this.impressionBuffer);
          this.impressionBuffer = r.buffer;
          this.droppedImpressions += r.dropped;
          this.onBackgroundError(error as Error);
          throw error;
        }
      });
    }
    const write = this.impressionWrite;
    this.impressionWrite = write.catch(() => {});
    await write;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush().catch(() => {});
    this.closed = true;
    await this.pool.end();
  }
}

async function migrate(pool: pg.Pool): Promise<number> {
  const c = await pool.connect();
  try {
    await c.query("SELECT pg_advisory_lock($1)", [MIGRATE_LOCK]);
    await c.query("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)");
    const r = await c.query<{ v: number | null }>("SELECT MAX(version) AS v FROM schema_version");
    let current = r.rows[0].v ?? 0;
    if (current > POSTGRES_SCHEMA_VERSION) {
      throw new Error(
        `PostgreSQL store schema version ${current} is newer than this watchnext (${POSTGRES_SCHEMA_VERSION}): upgrade watchnext`,
      );
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await c.query("BEGIN");
      try {
        await c.query(m.sql);
        await c.query("INSERT INTO schema_version (version) VALUES ($1)", [m.version]);
        await c.query("COMMIT");
      } catch (error) {
        await c.query("ROLLBACK");
        throw error;
      }
      current = m.version;
    }
    return current;
  } finally {
    await c.query("SELECT pg_advisory_unlock($1)", [MIGRATE_LOCK]).catch(() => {});
    c.release();
  }
}
