/**
 * The embedded store: one SQLite file through better-sqlite3, WAL mode, synchronous=FULL, so a
 * committed transaction has been fsynced before appendEvents resolves. Event batches that arrive
 * while the event loop is busy are group-committed: every batch queued in one turn of the loop goes
 * into one transaction (one fsync), each batch in its own savepoint so a batch with unknown items
 * is refused alone. Impressions are buffered and written by a worker thread over a second
 * connection with synchronous=NORMAL (sqlite-impressions.ts): they are not on the durable path, and
 * a later FULL commit of the WAL carries them to disk.
 */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { ImpressionWriter } from "./sqlite-impressions.js";
import {
  UnknownItemsError,
  distinct,
  type AppendResult,
  type Counts,
  type EventColumns,
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

/** Schema migrations, applied in order inside one transaction each; schema_version holds the last. */
const NO_ITEMS = new Int32Array(0);
const NO_TIMES = new Float64Array(0);
const NO_WEIGHTS = new Float32Array(0);

const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE items (idx INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, title TEXT NOT NULL DEFAULT '',
  genres TEXT NOT NULL DEFAULT '[]', year INTEGER, rev INTEGER NOT NULL);
CREATE INDEX items_rev ON items(rev);
CREATE TABLE users (idx INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, gender TEXT NOT NULL DEFAULT '',
  age INTEGER NOT NULL DEFAULT 0, occupation TEXT NOT NULL DEFAULT '', zip TEXT NOT NULL DEFAULT '',
  n_events INTEGER NOT NULL DEFAULT 0);
CREATE TABLE events (id INTEGER PRIMARY KEY, user_idx INTEGER NOT NULL, user_seq INTEGER NOT NULL,
  item_idx INTEGER NOT NULL, time REAL NOT NULL, weight REAL NOT NULL);
CREATE UNIQUE INDEX events_user_seq ON events(user_idx, user_seq);
CREATE INDEX events_time ON events(time);
CREATE TABLE impressions (id INTEGER PRIMARY KEY, user_idx INTEGER NOT NULL, item_idx INTEGER NOT NULL,
  time REAL NOT NULL);
CREATE INDEX impressions_user ON impressions(user_idx, id);
INSERT INTO meta (key, value) VALUES ('item_rev', '0');
`,
  },
  {
    version: 2,
    sql: `
CREATE TABLE tags (id INTEGER PRIMARY KEY, user_idx INTEGER NOT NULL, item_idx INTEGER NOT NULL,
  time REAL NOT NULL, text TEXT NOT NULL);
`,
  },
  {
    // Demographics revisions, as items have: what the service refreshes its users from.
    version: 3,
    sql: `
ALTER TABLE users ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
CREATE INDEX users_rev ON users(rev);
INSERT INTO meta (key, value) VALUES ('user_rev', '0');
`,
  },
];

export const SQLITE_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

interface ItemRow {
  idx: number;
  id: string;
  title: string;
  genres: string;
  year: number | null;
  rev: number;
}

interface UserRow {
  idx: number;
  id: string;
  gender: string;
  age: number;
  occupation: string;
  zip: string;
  n_events: number;
  rev: number;
}

interface Pending {
  events: readonly EventInput[];
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

function itemRecord(r: ItemRow): ItemRecord {
  return {
    idx: r.idx,
    id: r.id,
    title: r.title,
    genres: JSON.parse(r.genres) as string[],
    year: r.year,
    rev: r.rev,
  };
}

function userRecord(r: UserRow): UserRecord {
  const gender = r.gender === "F" || r.gender === "M" ? r.gender : "";
  return {
    idx: r.idx,
    id: r.id,
    gender,
    age: r.age,
    occupation: r.occupation,
    zip: r.zip,
    numEvents: r.n_events,
    rev: r.rev,
  };
}

function prepareStatements(db: Database.Database) {
  return {
    itemById: db.prepare<[string], ItemRow>("SELECT * FROM items WHERE id = ?"),
    itemIdx: db.prepare<[string], { idx: number }>("SELECT idx FROM items WHERE id = ?"),
    itemsAfter: db.prepare<[number], ItemRow>("SELECT * FROM items WHERE rev > ? ORDER BY idx"),
    nextRev: db.prepare<[], { value: string }>(
      "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'item_rev' RETURNING value",
    ),
    rev: db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'item_rev'"),
    insertItem: db.prepare(
      "INSERT INTO items (idx, id, title, genres, year, rev) VALUES (@idx, @id, @title, @genres, @year, @rev)",
    ),
    updateItem: db.prepare(
      "UPDATE items SET title = @title, genres = @genres, year = @year, rev = @rev WHERE id = @id",
    ),
    maxItemIdx: db.prepare<[], { m: number | null }>("SELECT MAX(idx) AS m FROM items"),
    userById: db.prepare<[string], UserRow>("SELECT * FROM users WHERE id = ?"),
    users: db.prepare<[], UserRow>("SELECT * FROM users ORDER BY idx"),
    usersAfter: db.prepare<[number], UserRow>("SELECT * FROM users WHERE rev > ? ORDER BY idx"),
    nextUserRev: db.prepare<[], { value: string }>(
      "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'user_rev' RETURNING value",
    ),
    userRev: db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'user_rev'"),
    maxUserIdx: db.prepare<[], { m: number | null }>("SELECT MAX(idx) AS m FROM users"),
    insertUser: db.prepare(
      "INSERT INTO users (idx, id, gender, age, occupation, zip) VALUES (@idx, @id, @gender, @age, @occupation, @zip)",
    ),
    updateUser: db.prepare(
      "UPDATE users SET gender = @gender, age = @age, occupation = @occupation, zip = @zip, rev = @rev WHERE id = @id",
    ),
    setUserEvents: db.prepare<[number, number]>("UPDATE users SET n_events = ? WHERE idx = ?"),
    insertEvent: db.prepare<[number, number, number, number, number]>(
      "INSERT INTO events (user_idx, user_seq, item_idx, time, weight) VALUES (?, ?, ?, ?, ?)",
    ),
    userEventsAfter: db
      .prepare<[number, number], [number, number, number, number]>(
        "SELECT user_seq, item_idx, time, weight FROM events WHERE user_idx = ? AND user_seq > ? ORDER BY user_seq",
      )
      .raw(),
    history: db.prepare<[number, number, number], { item_idx: number; time: number; weight: number }>(
      "SELECT item_idx, time, weight FROM events WHERE user_idx = ? AND time < ? ORDER BY time DESC, user_seq DESC LIMIT ?",
    ),
    allEvents: db
      .prepare<[], [number, number, number, number]>(
        "SELECT user_idx, item_idx, time, weight FROM events ORDER BY id",
      )
      .raw(),
    popular: db.prepare<[number, number], { item_idx: number; c: number }>(
      "SELECT item_idx, COUNT(*) AS c FROM events WHERE time >= ? GROUP BY item_idx ORDER BY c DESC, item_idx LIMIT ?",
    ),
    latest: db.prepare<[], { t: number | null }>("SELECT MAX(time) AS t FROM events"),
    meta: db.prepare<[string], { value: string }>("SELECT value FROM meta WHERE key = ?"),
    insertTag: db.prepare<[number, number, number, string]>(
      "INSERT INTO tags (user_idx, item_idx, time, text) VALUES (?, ?, ?, ?)",
    ),
    allTags: db
      .prepare<[], [number, number, number, string]>(
        "SELECT user_idx, item_idx, time, text FROM tags ORDER BY id",
      )
      .raw(),
    setMeta: db.prepare<[string, string]>(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ),
    impressions: db
      .prepare<[number], [number, number]>(
        "SELECT item_idx, time FROM impressions WHERE user_idx = ? ORDER BY id",
      )
      .raw(),
    allImpressions: db
      .prepare<[], [number, number, number]>("SELECT user_idx, item_idx, time FROM impressions ORDER BY id")
      .raw(),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

export class SqliteStore implements Store {
  readonly kind = "sqlite";
  /** One process writes an SQLite store: its own events are all there is to follow. */
  readonly feed = null;
  readonly schemaVersion: number;
  private readonly db: Database.Database;
  private readonly writer: ImpressionWriter;
  /** The last impression write posted (settled: its failure is handled where it was posted). */
  private impressionWrite: Promise<void> = Promise.resolve();
  private readonly pending: Pending[] = [];
  private flushScheduled = false;
  private impressionBuffer: ImpressionList[] = [];
  droppedImpressions = 0;
  onBackgroundError: (error: Error) => void = () => {};
  private impressionTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly st: Statements;

  constructor(readonly file: string) {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("busy_timeout = 5000");
    this.schemaVersion = this.migrate();
    this.st = prepareStatements(this.db);
    this.writer = new ImpressionWriter(file, this.db);
  }

  private migrate(): number {
    this.db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    const row = this.db.prepare("SELECT MAX(version) AS v FROM schema_version").get() as { v: number | null };
    let current = row.v ?? 0;
    if (current > SQLITE_SCHEMA_VERSION) {
      throw new Error(
        `${this.file}: store schema version ${current} is newer than this watchnext (${SQLITE_SCHEMA_VERSION}): upgrade watchnext`,
      );
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(m.version);
      })();
      current = m.version;
    }
    return current;
  }

  async counts(): Promise<Counts> {
    const c = (t: string): number =>
      (this.db.prepare(`SELECT COUNT(*) AS c FROM ${t}`).get() as { c: number }).c;
    return { items: c("items"), users: c("users"), events: c("events"), impressions: c("impressions") };
  }

  async getMeta(key: string): Promise<string | null> {
    return this.st.meta.get(key)?.value ?? null;
  }

  async seed(data: SeedData): Promise<void> {
    const c = await this.counts();
    if (c.items + c.users + c.events > 0)
      throw new Error(
        `${this.file}: the store is not empty (${c.items} items, ${c.users} users); not seeding`,
      );
    this.db.transaction(() => {
      const rev = Number(this.st.nextRev.get()?.value);
      data.items.forEach((it, idx) =>
        this.st.insertItem.run({
          idx,
          id: it.id,
          title: it.title,
          genres: JSON.stringify(it.genres),
          year: it.year,
          rev,
        }),
      );
      data.users.forEach((u, idx) => this.st.insertUser.run({ idx, ...u }));
      const ev = data.events;
      const seq = new Int32Array(data.users.length);
      for (let i = 0; i < ev.user.length; i++) {
        const u = ev.user[i];
        this.st.insertEvent.run(u, ++seq[u], ev.item[i], ev.time[i], ev.weight[i]);
      }
      for (let u = 0; u < seq.length; u++) if (seq[u] > 0) this.st.setUserEvents.run(seq[u], u);
      const tags = data.tags;
      if (tags !== null)
        for (let i = 0; i < tags.user.length; i++)
          this.st.insertTag.run(tags.user[i], tags.item[i], tags.time[i], tags.texts[tags.textIndex[i]]);
      this.st.setMeta.run("dataset", data.name);
      this.st.setMeta.run("seed_items", String(data.items.length));
      this.st.setMeta.run("seed_users", String(data.users.length));
      this.st.setMeta.run("seed_events", String(ev.user.length));
      if (data.ageKind !== null) this.st.setMeta.run("age_kind", data.ageKind);
    })();
  }

  async itemsAfter(rev: number): Promise<{ items: ItemRecord[]; rev: number }> {
    const latest = Number(this.st.rev.get()?.value ?? 0);
    return { items: this.st.itemsAfter.all(rev).map(itemRecord), rev: latest };
  }

  async getItem(id: string): Promise<ItemRecord | null> {
    const r = this.st.itemById.get(id);
    return r ? itemRecord(r) : null;
  }

  async putItem(id: string, info: ItemInfoInput): Promise<{ item: ItemRecord; created: boolean }> {
    return this.db.transaction(() => {
      const old = this.st.itemById.get(id);
      const rev = Number(this.st.nextRev.get()?.value);
      const row = {
        id,
        title: info.title ?? old?.title ?? "",
        genres: info.genres ? JSON.stringify(info.genres) : (old?.genres ?? "[]"),
        year: info.year !== undefined ? info.year : (old?.year ?? null),
        rev,
      };
      if (old) this.st.updateItem.run(row);
      else this.st.insertItem.run({ ...row, idx: (this.st.maxItemIdx.get()?.m ?? -1) + 1 });
      return { item: itemRecord(this.st.itemById.get(id) as ItemRow), created: !old };
    })();
  }

  async users(): Promise<UserRecord[]> {
    return this.st.users.all().map(userRecord);
  }

  async usersAfter(rev: number): Promise<{ users: UserRecord[]; rev: number }> {
    const latest = Number(this.st.userRev.get()?.value ?? 0);
    return { users: this.st.usersAfter.all(rev).map(userRecord), rev: latest };
  }

  async getUser(id: string): Promise<UserRecord | null> {
    const r = this.st.userById.get(id);
    return r ? userRecord(r) : null;
  }

  async putUser(id: string, info: UserInfoInput): Promise<{ user: UserRecord; created: boolean }> {
    return this.db.transaction(() => {
      const old = this.st.userById.get(id);
      const row = {
        id,
        gender: info.gender ?? old?.gender ?? "",
        age: info.age ?? old?.age ?? 0,
        occupation: info.occupation ?? old?.occupation ?? "",
        zip: info.zip ?? old?.zip ?? "",
        rev: Number(this.st.nextUserRev.get()?.value),
      };
      if (!old) this.st.insertUser.run({ ...row, idx: (this.st.maxUserIdx.get()?.m ?? -1) + 1 });
      this.st.updateUser.run(row);
      return { user: userRecord(this.st.userById.get(id) as UserRow), created: !old };
    })();
  }

  appendEvents(events: readonly EventInput[]): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error("the store is closed"));
    return new Promise((resolve, reject) => {
      this.pending.push({ events, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.commitPending());
      }
    });
  }

  /**
   * The newest event sequence number of each user as this process last read or wrote it (−1 or
   * beyond the end: not known). The store is written by this process alone (several instances use
   * PostgreSQL), so a user whose known newest number is `afterSeq` has no events after it and
   * userEventsAfter answers without a query. A number only grows once committed, so it is never
   * below the user's true newest: at worst a query runs that finds nothing.
   */
  private latestSeq = new Int32Array(0);

  private knownLatest(user: number): number {
    return user < this.latestSeq.length ? this.latestSeq[user] : -1;
  }

  private setLatest(user: number, seq: number): void {
    if (user >= this.latestSeq.length) {
      const grown = new Int32Array(Math.max(user + 1, 2 * this.latestSeq.length, 1024)).fill(-1);
      grown.set(this.latestSeq);
      this.latestSeq = grown;
    }
    this.latestSeq[user] = seq;
  }

  /** One transaction (one fsync) for every batch queued since the last commit. */
  private commitPending(): void {
    this.flushScheduled = false;
    const batches = this.pending.splice(0);
    if (batches.length === 0) return;
    const results: (AppendResult | Error)[] = [];
    const written = new Map<number, number>();
    try {
      this.db
        .transaction(() => {
          for (const b of batches) {
            try {
              results.push(this.db.transaction(() => this.writeBatch(b.events, written))());
            } catch (error) {
              if (!(error instanceof UnknownItemsError)) throw error;
              results.push(error);
            }
          }
        })
        .immediate();
    } catch (error) {
      for (const b of batches) b.reject(error);
      return;
    }
    for (const [user, seq] of written) this.setLatest(user, seq);
    batches.forEach((b, i) => {
      const r = results[i];
      if (r instanceof Error) b.reject(r);
      else b.resolve(r);
    });
  }

  /** Writes one batch; `written` receives each user's newest sequence number (applied once committed). */
  private writeBatch(events: readonly EventInput[], written: Map<number, number>): AppendResult {
    const items = new Int32Array(events.length);
    const unknown = new Set<string>();
    const itemIdx = new Map<string, number>();
    for (let i = 0; i < events.length; i++) {
      const id = events[i].item;
      let idx = itemIdx.get(id);
      if (idx === undefined) {
        idx = this.st.itemIdx.get(id)?.idx ?? -1;
        itemIdx.set(id, idx);
      }
      if (idx < 0) unknown.add(id);
      items[i] = idx;
    }
    if (unknown.size > 0) throw new UnknownItemsError([...unknown]);
    const users = new Map<string, { idx: number; n: number }>();
    let newUsers = 0;
    for (const id of distinct(events.map((e) => e.user))) {
      let row = this.st.userById.get(id);
      if (!row) {
        const idx = (this.st.maxUserIdx.get()?.m ?? -1) + 1;
        this.st.insertUser.run({ idx, id, gender: "", age: 0, occupation: "", zip: "" });
        row = this.st.userById.get(id) as UserRow;
        newUsers++;
      }
      users.set(id, { idx: row.idx, n: row.n_events });
    }
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      const u = users.get(e.user) as { idx: number; n: number };
      this.st.insertEvent.run(u.idx, ++u.n, items[i], e.time, e.weight);
    }
    for (const u of users.values()) {
      this.st.setUserEvents.run(u.n, u.idx);
      written.set(u.idx, u.n);
    }
    return { accepted: events.length, newUsers };
  }

  async userEventsAfter(user: number, afterSeq: number): Promise<UserEvents> {
    if (afterSeq > 0 && this.knownLatest(user) === afterSeq)
      return { items: NO_ITEMS, times: NO_TIMES, weights: NO_WEIGHTS, lastSeq: afterSeq };
    const rows = this.st.userEventsAfter.all(user, afterSeq);
    const n = rows.length;
    const items = new Int32Array(n);
    const times = new Float64Array(n);
    const weights = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      items[i] = r[1];
      times[i] = r[2];
      weights[i] = r[3];
    }
    const lastSeq = n > 0 ? rows[n - 1][0] : afterSeq;
    // Only a number this read saw is recorded; a write committing meanwhile records its own, higher one.
    if (lastSeq > this.knownLatest(user)) this.setLatest(user, lastSeq);
    return { items, times, weights, lastSeq };
  }

  async history(user: number, limit: number, before: number): Promise<HistoryRow[]> {
    return this.st.history
      .all(user, before, limit)
      .map((r) => ({ item: r.item_idx, time: r.time, weight: r.weight }));
  }

  async allEvents(): Promise<EventColumns> {
    const n = (this.db.prepare("SELECT COUNT(*) AS c FROM events").get() as { c: number }).c;
    const cols = {
      user: new Int32Array(n),
      item: new Int32Array(n),
      time: new Float64Array(n),
      weight: new Float32Array(n),
    };
    let i = 0;
    for (const r of this.st.allEvents.iterate()) {
      if (i >= n) break;
      cols.user[i] = r[0];
      cols.item[i] = r[1];
      cols.time[i] = r[2];
      cols.weight[i] = r[3];
      i++;
    }
    return cols;
  }

  async allTags(): Promise<TagColumns> {
    return tagColumns(this.st.allTags.all());
  }

  async popular(since: number, k: number): Promise<{ item: number; count: number }[]> {
    return this.st.popular.all(since, k).map((r) => ({ item: r.item_idx, count: r.c }));
  }

  async latestEventTime(): Promise<number | null> {
    return this.st.latest.get()?.t ?? null;
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
    const rows = this.st.impressions.all(user);
    return {
      items: Int32Array.from(rows, (r) => r[0]),
      times: Float64Array.from(rows, (r) => r[1]),
    };
  }

  async allImpressions(): Promise<{ user: Int32Array; item: Int32Array; time: Float64Array }> {
    await this.flush();
    const rows = this.st.allImpressions.all();
    return {
      user: Int32Array.from(rows, (r) => r[0]),
      item: Int32Array.from(rows, (r) => r[1]),
      time: Float64Array.from(rows, (r) => r[2]),
    };
  }

  async flush(): Promise<void> {
    if (this.impressionTimer !== null) {
      clearTimeout(this.impressionTimer);
      this.impressionTimer = null;
    }
    const buf = this.impressionBuffer;
    // Nothing new: wait for the writes already posted (the writer keeps their order).
    if (buf.length === 0) return this.impressionWrite;
    this.impressionBuffer = [];
    const write = this.writer.write(buf).catch((error: Error) => {
      const r = requeue(buf, this.impressionBuffer);
      this.impressionBuffer = r.buffer;
      this.droppedImpressions += r.dropped;
      this.onBackgroundError(error);
      throw error;
    });
    this.impressionWrite = write.catch(() => {});
    return write;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Batches already queued are committed before closing.
    if (this.pending.length > 0) this.commitPending();
    try {
      await this.flush();
    } finally {
      this.closed = true;
      await this.writer.close();
      this.db.close();
    }
  }
}
