/**
 * The service's store: the durable truth about items (with side info), users (with demographics),
 * interaction events and served impressions. One interface, two implementations: SQLite (embedded,
 * one process) and PostgreSQL (several service instances on one database). Items and users carry a
 * dense index: the rows seeded from a dataset keep the dataset's order, so a model trained on that
 * dataset addresses them directly; rows added later get larger indices.
 *
 * Tags (the search-token feature's input) are stored as seeded, so a model trained with them is
 * served with them.
 *
 * Events carry a per-user sequence number assigned under the user's row lock, so a user's events
 * become visible in sequence order on every instance: a reader that has seen a user's events up to
 * sequence s only needs the ones after s (the service's history cache relies on this).
 */

/** An item's side info as the API and the store hold it. */
export interface ItemInfoInput {
  readonly title?: string;
  readonly genres?: readonly string[];
  /** Release year; null or absent = unknown. */
  readonly year?: number | null;
}

/**
 * The events every instance appended, in an order a reader can follow without missing any:
 * PostgreSQL orders them by (writing transaction id, event id) and hands out only events whose
 * transaction is final (older than the oldest running one), so no event can appear later behind
 * a cursor. The service follows it for the other instances' events (recent popularity, item first
 * seen). Positions are opaque strings.
 */
export interface EventFeed {
  /** A cursor with every event before it final: all events after it are still to come. */
  cursor(): Promise<string>;
  /**
   * The final events after `cursor`, at most about `limit` (whole batches), in feed order, grouped
   * by the batch (transaction) that wrote them, and the cursor after them; `more` when the limit cut.
   */
  after(cursor: string, limit: number): Promise<FeedEvents>;
}

export interface FeedEvents {
  readonly items: Int32Array;
  readonly times: Float64Array;
  /** Batch b wrote events [batchOffsets[b], batchOffsets[b + 1]); batches[b] is its id. */
  readonly batchOffsets: Int32Array;
  readonly batches: readonly string[];
  readonly cursor: string;
  readonly more: boolean;
}

export interface ItemRecord {
  readonly idx: number;
  readonly id: string;
  readonly title: string;
  readonly genres: readonly string[];
  readonly year: number | null;
  /** Store-wide revision of the item's last write (items changed after revision r: itemsAfter(r)). */
  readonly rev: number;
}

/** Demographics: gender "F" / "M" / "" (unknown), age in the dataset's unit (0 = unknown). */
export interface UserInfoInput {
  readonly gender?: "F" | "M" | "";
  readonly age?: number;
  readonly occupation?: string;
  readonly zip?: string;
}

export interface UserRecord {
  readonly idx: number;
  readonly id: string;
  readonly gender: "F" | "M" | "";
  readonly age: number;
  readonly occupation: string;
  readonly zip: string;
  /** Number of events of the user (= the last per-user sequence number). */
  readonly numEvents: number;
  /** Store-wide revision of the user's last demographics write (0: never written by PUT). */
  readonly rev: number;
}

/** One event to append: external ids, epoch seconds, engagement weight. */
export interface EventInput {
  readonly user: string;
  readonly item: string;
  readonly time: number;
  readonly weight: number;
}

export interface AppendResult {
  readonly accepted: number;
  /** Users the batch created. */
  readonly newUsers: number;
}

/** A user's events after some sequence number, in sequence order. */
export interface UserEvents {
  readonly items: Int32Array;
  readonly times: Float64Array;
  readonly weights: Float32Array;
  /** The user's sequence number of the last event returned (the argument when none). */
  readonly lastSeq: number;
}

/** Columnar events (dense indices), for building a model's dataset. */
export interface EventColumns {
  readonly user: Int32Array;
  readonly item: Int32Array;
  readonly time: Float64Array;
  readonly weight: Float32Array;
}

export interface HistoryRow {
  readonly item: number;
  readonly time: number;
  readonly weight: number;
}

export interface Counts {
  readonly items: number;
  readonly users: number;
  readonly events: number;
  readonly impressions: number;
}

/** What a seed writes: the dataset's rows in its dense order. */
export interface SeedData {
  readonly name: string;
  readonly items: readonly { id: string; title: string; genres: readonly string[]; year: number | null }[];
  readonly users: readonly {
    id: string;
    gender: "F" | "M" | "";
    age: number;
    occupation: string;
    zip: string;
  }[];
  readonly ageKind: "years" | "code" | null;
  readonly events: EventColumns;
  /** Tag applications (the search-token feature's input), or null. */
  readonly tags: TagColumns | null;
}

/** Tag applications with dense indices; texts[textIndex[i]] is row i's tag. */
export interface TagColumns {
  readonly user: Int32Array;
  readonly item: Int32Array;
  readonly time: Float64Array;
  readonly textIndex: Int32Array;
  readonly texts: readonly string[];
}

/** Items asked for in an event batch that the store does not hold; nothing of the batch was written. */
export class UnknownItemsError extends Error {
  constructor(readonly ids: readonly string[]) {
    super(
      `unknown item${ids.length === 1 ? "" : "s"} ${ids
        .slice(0, 20)
        .map((i) => JSON.stringify(i))
        .join(", ")}${ids.length > 20 ? ` and ${ids.length - 20} more` : ""}: ` +
        "add items with PUT /v1/items/:id first; nothing of this batch was written",
    );
    this.name = "UnknownItemsError";
  }
}

export interface Store {
  readonly kind: "sqlite" | "postgres";
  /** The schema version the store is at after migration. */
  readonly schemaVersion: number;
  counts(): Promise<Counts>;
  /** Meta values ("dataset", "seed_items", "seed_users", "age_kind" written by seed); null when unset. */
  getMeta(key: string): Promise<string | null>;
  /** Writes a dataset into an empty store (refuses a non-empty one). */
  seed(data: SeedData): Promise<void>;

  /** Items written after revision `rev` (0 = all), by index, and the latest revision. */
  itemsAfter(rev: number): Promise<{ items: ItemRecord[]; rev: number }>;
  getItem(id: string): Promise<ItemRecord | null>;
  /** Creates or updates an item; absent fields keep their value (new item: empty). */
  putItem(id: string, info: ItemInfoInput): Promise<{ item: ItemRecord; created: boolean }>;

  /** All users by index (for a model's dataset). */
  users(): Promise<UserRecord[]>;
  /** Users whose demographics were written after revision `rev` (by any instance), by index, and the latest revision. */
  usersAfter(rev: number): Promise<{ users: UserRecord[]; rev: number }>;
  getUser(id: string): Promise<UserRecord | null>;
  putUser(id: string, info: UserInfoInput): Promise<{ user: UserRecord; created: boolean }>;

  /**
   * Appends a batch atomically and resolves only once it is durable. Unknown users are created;
   * unknown items reject with UnknownItemsError and write nothing.
   */
  appendEvents(events: readonly EventInput[], marks?: Set<string>): Promise<AppendResult>;
  /**
   * The feed of every instance's events (PostgreSQL); null for a store one process writes alone
   * (SQLite). With a feed, appendEvents adds the batch's feed id to `marks` before it commits (and
   * removes it if the batch is rolled back), so the writer can tell its own batches in the feed.
   */
  readonly feed: EventFeed | null;
  /** The user's events with sequence number > afterSeq, in sequence order. */
  userEventsAfter(user: number, afterSeq: number): Promise<UserEvents>;
  /** The user's events newest first (by time), at most `limit`, with time < before. */
  history(user: number, limit: number, before: number): Promise<HistoryRow[]>;
  /** Every event (dense indices), in insertion order; with a feed cursor, only the events before it. */
  allEvents(upTo?: string): Promise<EventColumns>;
  /** The seeded tag applications, in their original order. */
  allTags(): Promise<TagColumns>;
  /** Items by event count with time ≥ since, most first. */
  popular(since: number, k: number): Promise<{ item: number; count: number }[]>;
  /** Time of the newest event (null: no events). */
  latestEventTime(): Promise<number | null>;

  /**
   * Called when a background write (buffered impressions) fails; the rows stay buffered and are
   * retried with the next flush (the oldest are dropped, and counted, past MAX_BUFFERED_IMPRESSIONS lists).
   */
  onBackgroundError: (error: Error) => void;
  /** Impression lists dropped after repeated write failures. */
  readonly droppedImpressions: number;
  /** Records a served list (not on the durable path: buffered and written shortly after). */
  recordImpressions(user: number, items: Int32Array, time: number): void;
  /** The user's recorded impressions, oldest first. */
  impressions(user: number): Promise<{ items: Int32Array; times: Float64Array }>;
  /** Every recorded impression (dense indices), in recording order: what `train ranker` can learn from. */
  allImpressions(): Promise<{ user: Int32Array; item: Int32Array; time: Float64Array }>;
  /** Writes buffered impressions now. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Gender code of the dataset (0 unknown, 1 F, 2 M) as the store's text. */
export function genderText(code: number): "F" | "M" | "" {
  return code === 1 ? "F" : code === 2 ? "M" : "";
}

export function genderCode(text: string): number {
  return text === "F" ? 1 : text === "M" ? 2 : 0;
}

/** The distinct values, sorted (a fixed lock order for concurrent writers). */
export function distinct(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/** Tag columns from (user, item, time, text) rows, texts numbered in order of first appearance. */
export function tagColumns(rows: readonly (readonly [number, number, number, string])[]): TagColumns {
  const n = rows.length;
  const texts: string[] = [];
  const index = new Map<string, number>();
  const out = {
    user: new Int32Array(n),
    item: new Int32Array(n),
    time: new Float64Array(n),
    textIndex: new Int32Array(n),
    texts,
  };
  for (let i = 0; i < n; i++) {
    const [u, it, t, text] = rows[i];
    let k = index.get(text);
    if (k === undefined) {
      k = texts.length;
      texts.push(text);
      index.set(text, k);
    }
    out.user[i] = u;
    out.item[i] = it;
    out.time[i] = t;
    out.textIndex[i] = k;
  }
  return out;
}

/** Buffered impression lists kept while writes fail; beyond this the oldest are dropped (and counted). */
export const MAX_BUFFERED_IMPRESSIONS = 100_000;

export interface ImpressionList {
  readonly user: number;
  readonly items: Int32Array;
  readonly time: number;
}

/** Puts lists that failed to write back in front of the buffer, keeping at most MAX_BUFFERED_IMPRESSIONS. */
export function requeue(
  failed: ImpressionList[],
  buffer: ImpressionList[],
): { buffer: ImpressionList[]; dropped: number } {
  const all = failed.concat(buffer);
  const dropped = Math.max(0, all.length - MAX_BUFFERED_IMPRESSIONS);
  return { buffer: dropped > 0 ? all.slice(dropped) : all, dropped };
}
