/**
 * What the routes call: the state of one service instance (store, catalog, history cache, the
 * served model) and the operations on it. Each operation looks up ids, gathers the user's input
 * from the cache and the store, calls the Recommender (the only model API used here) and shapes the
 * answer; nothing here scores items itself beyond the cosine explanations.
 */
import type { UserDemographicValues } from "../data/dataset.js";
import { getKernels } from "../engine/kernels/index.js";
import type { RecommendedItem, RecommendRequest } from "../models/ranking/recommender-types.js";
import type { RetrievalOptions } from "../models/ranking/recommender.js";
import { Catalog, type ItemView } from "./catalog.js";
import { HistoryCache } from "./histories.js";
import { modelDataFromStore } from "./model-data.js";
import { ServingModel } from "./serving-model.js";
import {
  genderCode,
  type EventInput,
  type ItemInfoInput,
  type ItemRecord,
  type Store,
  type UserInfoInput,
  type UserRecord,
} from "./store/store.js";

/** A request error with its HTTP status; the message is shown to the caller. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export interface ServiceOptions {
  readonly retrieval?: RetrievalOptions;
  readonly feedPollMs?: number;
  readonly workers?: number;
}

export interface RecOptions {
  readonly k: number;
  readonly stage?: "two" | "candidates";
  readonly genre?: string;
  readonly explain: boolean;
}

export interface RecItemJson extends ItemView {
  score: number;
  candidateScore: number;
  rankingScore: number | null;
  expectedEngagement: number | null;
  sourceScores: Readonly<Record<string, number>>;
  because?: { item: string; title: string; similarity: number }[];
  contributions?: { feature: string; contribution: number }[];
}

export interface RecResponse {
  user: string | null;
  stage: "two" | "candidates";
  modelVersion: string;
  items: RecItemJson[];
}

/** History items an explanation looks at (the most recent ones). */
const EXPLAIN_HISTORY = 200;
const BECAUSE_TOP = 3;
/** How often (ms) items and demographics written by other instances are picked up. */
const ITEM_REFRESH_MS = 1000;
/** Default period (ms) of following the store's event feed (other instances' events). */
export const DEFAULT_FEED_POLL_MS = 1000;
/** Events read from the feed per query. */
const FEED_BATCH = 10_000;
const POPULAR_CACHE_MS = 5000;
/** Earlier impressions a request hands the ranker (the most recent ones). */
const MAX_IMPRESSIONS = 1000;
/** Users whose impressions are kept in memory (the others reload from the store when served). */
const MAX_IMPRESSION_USERS = 100_000;

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** A stored user's demographics as the model takes them. */
export function demographicValues(u: UserRecord): UserDemographicValues {
  return { gender: genderCode(u.gender), age: u.age, occupation: u.occupation, zip: u.zip };
}

export class Service {
  readonly catalog = new Catalog();
  readonly histories: HistoryCache;
  /** Users looked up so far, with their demographics (kept fresh: PUTs here, usersAfter for other instances'). */
  private users = new Map<string, UserRecord>();
  private userRev = 0;
  /** Earlier impressions of recently served users (least recently used first; bounded). */
  private impressions = new Map<number, { items: number[]; times: number[] }>();
  private lastItemRefresh = 0;
  private itemRefresh: Promise<void> | null = null;
  private popularCache = new Map<string, { at: number; value: unknown }>();
  private reloading = false;
  /**
   * Events this instance observed since a reload read its model's data from a store without a
   * feed (SQLite), replayed into the new model before it is swapped in (null: no reload, or the
   * feed brings them). A SQLite store answers in the same turn of the event loop, so the read and
   * the start of this list are one instant: an event is either in the data or in the list, once.
   */
  private duringReload: { items: Int32Array; times: Float64Array }[] | null = null;
  private lastFeedPoll = 0;
  private feedPoll: Promise<void> | null = null;
  private feedTimer: NodeJS.Timeout | null = null;
  /** Called when following the event feed fails (it is retried at the next period). */
  onFeedError: (error: Error) => void = () => {};
  /** Called after each durable batch with the number of events (metrics). */
  onIngest: (n: number) => void = () => {};

  /** Called when a recommendation worker dies (its requests then run on the event loop). */
  onWorkerExit: (message: string) => void = () => {};

  private constructor(
    readonly store: Store,
    private current: ServingModel,
    private readonly retrieval: RetrievalOptions | undefined,
    /** Period (ms) of following the store's event feed. */
    readonly feedPollMs: number,
    /** Worker threads per loaded model that compute recommendations (0: the event loop does). */
    readonly workers: number,
  ) {
    this.histories = new HistoryCache(store);
  }

  /**
   * retrieval: how stage one retrieves (exact below a catalog size, HNSW above; the Recommender's
   * defaults when absent). feedPollMs: how often other instances' events are followed (stores with
   * a feed: PostgreSQL), also on a recommendation request that finds them older than that.
   * workers: threads computing recommendations (default 0: on the event loop).
   */
  static async open(store: Store, modelDir: string, options: ServiceOptions = {}): Promise<Service> {
    const feedPollMs = options.feedPollMs ?? DEFAULT_FEED_POLL_MS;
    const workers = options.workers ?? 0;
    if (!(Number.isFinite(feedPollMs) && feedPollMs > 0))
      throw new RangeError(`feed poll period must be a positive number of milliseconds, got ${feedPollMs}`);
    if (!(Number.isInteger(workers) && workers >= 0))
      throw new RangeError(`recommendation workers must be a non-negative integer, got ${workers}`);
    // Users written after this revision are refreshed; the ones before are read when first served.
    const userRev = (await store.usersAfter(Number.MAX_SAFE_INTEGER)).rev;
    const data = await modelDataFromStore(store, `store (${store.kind})`);
    let service: Service | null = null;
    const onWorkerExit = (message: string) => service?.onWorkerExit(message);
    const model = await ServingModel.load(modelDir, data, options.retrieval, workers, onWorkerExit);
    service = new Service(store, model, options.retrieval, feedPollMs, workers);
    service.userRev = userRev;
    await service.refreshItems();
    if (store.feed !== null) {
      service.feedTimer = setInterval(() => service.maybeFollowFeed(), feedPollMs);
      service.feedTimer.unref();
    }
    return service;
  }

  get model(): ServingModel {
    return this.current;
  }

  /** Picks up items and demographics written since the last refresh (by any instance). */
  async refreshItems(): Promise<void> {
    const r = await this.store.itemsAfter(this.catalog.rev);
    this.catalog.apply(r.items, r.rev);
    const u = await this.store.usersAfter(this.userRev);
    for (const rec of u.users) if (this.users.has(rec.id)) this.keepUser(rec);
    this.userRev = Math.max(this.userRev, u.rev);
    this.lastItemRefresh = Date.now();
  }

  /** Holds a user's record unless a newer revision is already held (reads may finish out of order). */
  private keepUser(rec: UserRecord): UserRecord {
    const held = this.users.get(rec.id);
    if (held !== undefined && held.rev > rec.rev) return held;
    this.users.set(rec.id, rec);
    return rec;
  }

  /**
   * Replays the store's new events from other instances into the served model (recent popularity,
   * item first-seen times) in the background: at most one read in flight, none sooner than
   * feedPollMs after the last; a request never waits for it.
   */
  private maybeFollowFeed(): void {
    if (this.store.feed === null || this.feedPoll !== null) return;
    if (Date.now() - this.lastFeedPoll < this.feedPollMs) return;
    this.lastFeedPoll = Date.now();
    this.feedPoll = this.followFeed()
      .catch((error: unknown) => this.onFeedError(error as Error))
      .finally(() => (this.feedPoll = null));
  }

  /** Reads the feed up to now into the current model (each event once: this instance's own batches are skipped). */
  async followFeed(): Promise<void> {
    const feed = this.store.feed;
    const m = this.current;
    if (feed === null || m.feedCursor === null) return;
    for (;;) {
      const r = await feed.after(m.feedCursor, FEED_BATCH);
      const items: number[] = [];
      const times: number[] = [];
      for (let b = 0; b < r.batches.length; b++) {
        if (m.ownBatches.delete(r.batches[b])) continue;
        for (let k = r.batchOffsets[b]; k < r.batchOffsets[b + 1]; k++) {
          if (r.items[k] >= m.numItems) continue;
          items.push(r.items[k]);
          times.push(r.times[k]);
        }
      }
      if (items.length > 0) m.observeEvents(Int32Array.from(items), Float64Array.from(times));
      m.feedCursor = r.cursor;
      this.lastFeedPoll = Date.now();
      if (!r.more) return;
    }
  }

  private maybeRefreshItems(): void {
    if (this.itemRefresh !== null || Date.now() - this.lastItemRefresh < ITEM_REFRESH_MS) return;
    this.itemRefresh = this.refreshItems()
      .catch(() => {})
      .finally(() => (this.itemRefresh = null));
  }

  private async lookupUser(id: string): Promise<UserRecord> {
    const known = this.users.get(id);
    if (known !== undefined) return known;
    const u = await this.store.getUser(id);
    if (!u) throw new HttpError(404, `no user ${JSON.stringify(id)}`);
    return this.keepUser(u);
  }

  private async itemIdx(id: string): Promise<number> {
    let idx = this.catalog.index.get(id);
    if (idx === undefined) {
      await this.refreshItems();
      idx = this.catalog.index.get(id);
    }
    if (idx === undefined) throw new HttpError(404, `no item ${JSON.stringify(id)}`);
    return idx;
  }

  /** The items a genre filter lets through (1 = allowed), null without a filter. */
  private allowFor(genre: string | undefined, field: string): Uint8Array | null {
    if (genre === undefined) return null;
    if (!this.catalog.hasGenre(genre)) {
      throw new HttpError(
        400,
        `${field}: no genre ${JSON.stringify(genre)}; known genres: ${this.catalog.genreNames().join(", ")}`,
      );
    }
    return this.catalog.genreMask(genre);
  }

  async recommendForUser(id: string, opts: RecOptions): Promise<RecResponse> {
    this.maybeRefreshItems();
    this.maybeFollowFeed();
    const m = this.current;
    const rec = await this.lookupUser(id);
    const user = rec.idx;
    const h = await this.histories.get(user);
    const imp = await this.userImpressions(user);
    const allow = this.allowFor(opts.genre, "querystring/genre");
    const req = this.request(
      m,
      user < m.numUsers ? user : -1,
      h.items,
      h.times,
      h.weights,
      h.length,
      opts,
      demographicValues(rec),
    );
    const from = Math.max(0, imp.items.length - MAX_IMPRESSIONS);
    const withImpressions: RecommendRequest = {
      ...req,
      impressionItems: Int32Array.from(imp.items.slice(from)),
      impressionTimes: Float64Array.from(imp.times.slice(from)),
    };
    const recs = await m.recommend(withImpressions, allow);
    const served = Int32Array.from(recs, (r) => r.item);
    this.store.recordImpressions(user, served, req.time);
    for (const r of recs) {
      imp.items.push(r.item);
      imp.times.push(req.time);
    }
    if (imp.items.length > 2 * MAX_IMPRESSIONS) {
      imp.items.splice(0, imp.items.length - MAX_IMPRESSIONS);
      imp.times.splice(0, imp.times.length - MAX_IMPRESSIONS);
    }
    return this.respond(m, id, withImpressions, recs, opts);
  }

  /** demographics: the session's, if given (cold start from demographics and popularity). */
  async recommendForSession(
    history: readonly { item: string; time: number; weight: number }[],
    opts: RecOptions,
    demographics?: UserInfoInput,
  ): Promise<RecResponse> {
    this.maybeRefreshItems();
    this.maybeFollowFeed();
    const m = this.current;
    const unknown = new Set<string>();
    for (const e of history) if (!this.catalog.index.has(e.item)) unknown.add(e.item);
    if (unknown.size > 0) {
      await this.refreshItems();
      for (const id of [...unknown]) if (this.catalog.index.has(id)) unknown.delete(id);
    }
    if (unknown.size > 0) {
      const ids = [...unknown];
      throw new HttpError(
        400,
        `body/history: unknown item${ids.length === 1 ? "" : "s"} ${ids.slice(0, 20).join(", ")}`,
        {
          unknownItems: ids,
        },
      );
    }
    // Time order, ties in the order given.
    const order = history.map((_, i) => i).sort((a, b) => history[a].time - history[b].time || a - b);
    const items = Int32Array.from(order, (i) => this.catalog.index.get(history[i].item) as number);
    const times = Float64Array.from(order, (i) => history[i].time);
    const weights = Float32Array.from(order, (i) => history[i].weight);
    const req = this.request(
      m,
      -1,
      items,
      times,
      weights,
      items.length,
      opts,
      demographics === undefined
        ? undefined
        : {
            gender: genderCode(demographics.gender ?? ""),
            age: demographics.age ?? 0,
            occupation: demographics.occupation ?? "",
            zip: demographics.zip ?? "",
          },
    );
    const recs = await m.recommend(req, this.allowFor(opts.genre, "body/genre"));
    return this.respond(m, null, req, recs, opts);
  }

  /** The model's request: only the items the model knows go in (later items wait for the next training). */
  private request(
    m: ServingModel,
    user: number,
    items: Int32Array,
    times: Float64Array,
    weights: Float32Array,
    length: number,
    opts: RecOptions,
    demographics: UserDemographicValues | undefined,
  ): RecommendRequest {
    let n = 0;
    for (let i = 0; i < length; i++) if (items[i] < m.numItems) n++;
    const hi = new Int32Array(n);
    const ht = new Float64Array(n);
    const hw = new Float32Array(n);
    for (let i = 0, j = 0; i < length; i++) {
      if (items[i] >= m.numItems) continue;
      hi[j] = items[i];
      ht[j] = times[i];
      hw[j] = weights[i];
      j++;
    }
    // The request is seen from the latest event (as `watchnext recommend` does), else from now.
    const time = length > 0 ? times[length - 1] : Date.now() / 1000;
    const stage = opts.stage ?? (m.recommender.hasRanker ? "two" : "candidates");
    return {
      user,
      time,
      historyItems: hi,
      historyTimes: ht,
      historyWeights: hw,
      k: opts.k,
      stage: m.recommender.hasRanker ? stage : "candidates",
      ...(demographics !== undefined ? { demographics } : {}),
    };
  }

  private respond(
    m: ServingModel,
    user: string | null,
    req: RecommendRequest,
    recs: RecommendedItem[],
    opts: RecOptions,
  ): RecResponse {
    const stage = req.stage ?? "candidates";
    const items = recs.map((r): RecItemJson => {
      const ranking = finiteOrNull(r.rankingLogit);
      const out: RecItemJson = {
        ...this.catalog.view(r.item),
        score: stage === "two" && ranking !== null ? ranking : r.candidateScore,
        candidateScore: r.candidateScore,
        rankingScore: stage === "two" ? ranking : null,
        expectedEngagement: stage === "two" ? finiteOrNull(r.expectedEngagement) : null,
        sourceScores: r.sourceScores,
      };
      if (opts.explain) {
        out.because = this.because(m, req.historyItems, r.item);
        out.contributions = m.recommender.explain(req, r.item, 5).map((c) => ({ ...c }));
      }
      return out;
    });
    return { user, stage, modelVersion: m.version, items };
  }

  /** The history items most similar to `item` by output-embedding cosine (distinct, most recent EXPLAIN_HISTORY). */
  private because(m: ServingModel, history: Int32Array, item: number): RecItemJson["because"] {
    const best: { item: number; sim: number }[] = [];
    const seen = new Set<number>();
    for (let i = history.length - 1; i >= 0 && seen.size < EXPLAIN_HISTORY; i--) {
      const h = history[i];
      if (seen.has(h)) continue;
      seen.add(h);
      const sim = m.cosine(h, item);
      if (best.length < BECAUSE_TOP || sim > best[best.length - 1].sim) {
        best.push({ item: h, sim });
        best.sort((a, b) => b.sim - a.sim);
        if (best.length > BECAUSE_TOP) best.pop();
      }
    }
    return best.map((b) => ({
      item: this.catalog.ids[b.item],
      title: this.catalog.view(b.item).title,
      similarity: b.sim,
    }));
  }

  private async userImpressions(user: number): Promise<{ items: number[]; times: number[] }> {
    let imp = this.impressions.get(user);
    if (imp) this.impressions.delete(user);
    else {
      const stored = await this.store.impressions(user);
      const from = Math.max(0, stored.items.length - MAX_IMPRESSIONS);
      imp = this.impressions.get(user) ?? {
        items: Array.from(stored.items.subarray(from)),
        times: Array.from(stored.times.subarray(from)),
      };
      this.impressions.delete(user);
    }
    this.impressions.set(user, imp);
    if (this.impressions.size > MAX_IMPRESSION_USERS) {
      const oldest = this.impressions.keys().next().value as number;
      this.impressions.delete(oldest);
    }
    return imp;
  }

  async ingest(events: readonly EventInput[]): Promise<{ accepted: number; newUsers: number }> {
    // The model that observes the batch marks it as its own, so its feed replay skips it.
    const m = this.current;
    const r = await this.store.appendEvents(events, m.ownBatches);
    this.onIngest(r.accepted);
    const items: number[] = [];
    const times: number[] = [];
    for (const e of events) {
      const idx = this.catalog.index.get(e.item);
      if (idx !== undefined && idx < m.numItems) {
        items.push(idx);
        times.push(e.time);
      }
    }
    if (items.length > 0) {
      const ia = Int32Array.from(items);
      const ta = Float64Array.from(times);
      m.observeEvents(ia, ta);
      this.duringReload?.push({ items: ia, times: ta });
    }
    return r;
  }

  async putUser(
    id: string,
    info: UserInfoInput,
  ): Promise<{ view: ReturnType<Service["userView"]>; created: boolean }> {
    const r = await this.store.putUser(id, info);
    this.keepUser(r.user);
    return { view: this.userView(r.user), created: r.created };
  }

  async getUser(id: string): Promise<ReturnType<Service["userView"]>> {
    const u = await this.store.getUser(id);
    if (!u) throw new HttpError(404, `no user ${JSON.stringify(id)}`);
    return this.userView(u);
  }

  userView(u: UserRecord) {
    return {
      id: u.id,
      known: u.idx < this.current.numUsers,
      gender: u.gender,
      age: u.age,
      occupation: u.occupation,
      zip: u.zip,
      events: u.numEvents,
    };
  }

  async history(id: string, limit: number, before: number) {
    const user = (await this.lookupUser(id)).idx;
    const rows = await this.store.history(user, limit, before);
    const missing = rows.some((r) => r.item >= this.catalog.size || this.catalog.ids[r.item] === "");
    if (missing) await this.refreshItems();
    return {
      user: id,
      items: rows.map((r) => {
        const v = this.catalog.view(r.item);
        return { item: v.item, title: v.title, genres: v.genres, time: r.time, weight: r.weight };
      }),
    };
  }

  async putItem(
    id: string,
    info: ItemInfoInput,
  ): Promise<{ view: ReturnType<Service["itemView"]>; created: boolean }> {
    const r = await this.store.putItem(id, info);
    // Apply this write only (rev unchanged): writes by other instances since the last refresh still arrive.
    this.catalog.apply([r.item], this.catalog.rev);
    return { view: this.itemView(r.item), created: r.created };
  }

  async getItem(id: string) {
    const r = await this.store.getItem(id);
    if (!r) throw new HttpError(404, `no item ${JSON.stringify(id)}`);
    return this.itemView(r);
  }

  itemView(r: ItemRecord) {
    return {
      id: r.id,
      title: r.title,
      genres: [...r.genres],
      year: r.year,
      recommendable: r.idx < this.current.numItems,
    };
  }

  async similar(id: string, k: number) {
    const m = this.current;
    const idx = await this.itemIdx(id);
    if (idx >= m.numItems) {
      throw new HttpError(
        409,
        `item ${JSON.stringify(id)} was added after the model was trained: it has no embedding until the next training`,
      );
    }
    const kk = Math.min(k, m.numItems - 1);
    const outItems = new Int32Array(Math.max(kk, 0));
    const outScores = new Float32Array(Math.max(kk, 0));
    if (kk > 0) {
      const d = m.dim;
      getKernels().topK(
        m.unitVectors.subarray(idx * d, (idx + 1) * d),
        1,
        m.unitVectors,
        m.numItems,
        d,
        null,
        kk,
        Int32Array.of(0, 1),
        Int32Array.of(idx),
        outItems,
        outScores,
      );
    }
    const items = [];
    for (let r = 0; r < kk; r++) {
      if (outItems[r] < 0) break;
      items.push({ ...this.catalog.view(outItems[r]), similarity: outScores[r] });
    }
    return { item: id, items };
  }

  async popular(days: number, k: number) {
    const key = `${days}:${k}`;
    const hit = this.popularCache.get(key);
    if (hit && Date.now() - hit.at < POPULAR_CACHE_MS) return hit.value;
    const asOf = await this.store.latestEventTime();
    const rows = asOf === null ? [] : await this.store.popular(asOf - days * 86400, k);
    if (rows.some((r) => r.item >= this.catalog.size)) await this.refreshItems();
    const value = {
      days,
      asOf,
      items: rows.map((r) => ({ ...this.catalog.view(r.item), count: r.count })),
    };
    // Keyed by the caller's (days, k): bounded so varied queries cannot grow it without limit.
    if (this.popularCache.size >= 256) this.popularCache.clear();
    this.popularCache.set(key, { at: Date.now(), value });
    return value;
  }

  modelInfo() {
    const m = this.current;
    return {
      version: m.version,
      dir: m.dir,
      loadedAt: m.loadedAt.toISOString(),
      hasRanker: m.recommender.hasRanker,
      workers: m.workerCount,
      index: m.indexKind,
      card: m.recommender.card(),
      genres: this.catalog.genreNames(),
      numUsers: m.numUsers,
      numItems: m.numItems,
    };
  }

  /**
   * Loads `dir` completely, then swaps it in; requests already running keep the model they hold.
   * Throws HttpError 422 with the loader's reason when the model is corrupt or does not match.
   */
  async reload(dir: string): Promise<{ version: string; previous: string; dir: string }> {
    if (this.reloading) throw new HttpError(409, "a reload is already in progress");
    this.reloading = true;
    try {
      const previous = this.current.version;
      let next: ServingModel;
      try {
        if (this.store.feed === null) this.duringReload = [];
        const data = await modelDataFromStore(this.store, `store (${this.store.kind})`);
        next = await ServingModel.load(dir, data, this.retrieval, this.workers, (message) =>
          this.onWorkerExit(message),
        );
        // Loading (the workers' start) takes event-loop turns: events ingested meanwhile went to
        // the old model only.
        for (const e of this.duringReload ?? []) next.observeEvents(e.items, e.times);
      } catch (error) {
        throw new HttpError(
          422,
          `model ${dir} refused, still serving ${previous}: ${(error as Error).message}`,
        );
      }
      const old = this.current;
      this.current = next;
      // Requests still running on the old model finish on its workers; then they stop.
      void old.close();
      return { version: next.version, previous, dir };
    } finally {
      this.reloading = false;
      this.duringReload = null;
    }
  }

  async close(): Promise<void> {
    if (this.feedTimer !== null) clearInterval(this.feedTimer);
    this.feedTimer = null;
    await this.feedPoll;
    await this.current.close();
    await this.store.close();
  }
}
