/**
 * What the routes call: the state of one service instance (store, catalog, history cache, the
 * served model) and the operations on it. Each operation looks up ids, gathers the user's input
 * from the cache and the store, calls the Recommender (the only model API used here) and shapes the
 * answer; nothing here scores items itself beyond the cosine explanations.
 */
import { getKernels } from "../engine/kernels/index.js";
import type { RecommendedItem, RecommendRequest } from "../models/ranking/recommender-types.js";
import type { RetrievalOptions } from "../models/ranking/recommender.js";
import { Catalog, type ItemView } from "./catalog.js";
import { HistoryCache } from "./histories.js";
import { modelDataFromStore } from "./model-data.js";
import { ServingModel } from "./serving-model.js";
import type {
  EventInput,
  ItemInfoInput,
  ItemRecord,
  Store,
  UserInfoInput,
  UserRecord,
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
/** How often (ms) items written by other instances are picked up. */
const ITEM_REFRESH_MS = 1000;
const POPULAR_CACHE_MS = 5000;
/** Earlier impressions a request hands the ranker (the most recent ones). */
const MAX_IMPRESSIONS = 1000;
/** Users whose impressions are kept in memory (the others reload from the store when served). */
const MAX_IMPRESSION_USERS = 100_000;

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

export class Service {
  readonly catalog = new Catalog();
  readonly histories: HistoryCache;
  private userIdx = new Map<string, number>();
  /** Earlier impressions of recently served users (least recently used first; bounded). */
  private impressions = new Map<number, { items: number[]; times: number[] }>();
  private lastItemRefresh = 0;
  private itemRefresh: Promise<void> | null = null;
  private popularCache = new Map<string, { at: number; value: unknown }>();
  private reloading = false;
  /** Called after each durable batch with the number of events (metrics). */
  onIngest: (n: number) => void = () => {};

  private constructor(
    readonly store: Store,
    private current: ServingModel,
    private readonly retrieval: RetrievalOptions | undefined,
  ) {
    this.histories = new HistoryCache(store);
  }

  /** retrieval: how stage one retrieves (exact below a catalog size, HNSW above; the Recommender's defaults when absent). */
  static async open(store: Store, modelDir: string, retrieval?: RetrievalOptions): Promise<Service> {
    const data = await modelDataFromStore(store, `store (${store.kind})`);
    const model = ServingModel.load(modelDir, data, retrieval);
    const service = new Service(store, model, retrieval);
    await service.refreshItems();
    return service;
  }

  get model(): ServingModel {
    return this.current;
  }

  /** Picks up items written since the last refresh (by any instance). */
  async refreshItems(): Promise<void> {
    const r = await this.store.itemsAfter(this.catalog.rev);
    this.catalog.apply(r.items, r.rev);
    this.lastItemRefresh = Date.now();
  }

  private maybeRefreshItems(): void {
    if (this.itemRefresh !== null || Date.now() - this.lastItemRefresh < ITEM_REFRESH_MS) return;
    this.itemRefresh = this.refreshItems()
      .catch(() => {})
      .finally(() => (this.itemRefresh = null));
  }

  private async lookupUser(id: string): Promise<number> {
    const known = this.userIdx.get(id);
    if (known !== undefined) return known;
    const u = await this.store.getUser(id);
    if (!u) throw new HttpError(404, `no user ${JSON.stringify(id)}`);
    this.userIdx.set(id, u.idx);
    return u.idx;
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

  private allowFor(genre: string | undefined, field: string): ((item: number) => boolean) | undefined {
    if (genre === undefined) return undefined;
    if (!this.catalog.hasGenre(genre)) {
      throw new HttpError(
        400,
        `${field}: no genre ${JSON.stringify(genre)}; known genres: ${this.catalog.genreNames().join(", ")}`,
      );
    }
    const mask = this.catalog.genreMask(genre);
    return (item) => mask[item] === 1;
  }

  async recommendForUser(id: string, opts: RecOptions): Promise<RecResponse> {
    this.maybeRefreshItems();
    const m = this.current;
    const user = await this.lookupUser(id);
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
      allow,
    );
    const from = Math.max(0, imp.items.length - MAX_IMPRESSIONS);
    const withImpressions: RecommendRequest = {
      ...req,
      impressionItems: Int32Array.from(imp.items.slice(from)),
      impressionTimes: Float64Array.from(imp.times.slice(from)),
    };
    const recs = m.recommender.recommend(withImpressions);
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

  async recommendForSession(
    history: readonly { item: string; time: number; weight: number }[],
    opts: RecOptions,
  ): Promise<RecResponse> {
    this.maybeRefreshItems();
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
      this.allowFor(opts.genre, "body/genre"),
    );
    return this.respond(m, null, req, m.recommender.recommend(req), opts);
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
    allow: ((item: number) => boolean) | undefined,
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
      allow,
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
    const r = await this.store.appendEvents(events);
    this.onIngest(r.accepted);
    const m = this.current;
    const items: number[] = [];
    const times: number[] = [];
    for (const e of events) {
      const idx = this.catalog.index.get(e.item);
      if (idx !== undefined && idx < m.numItems) {
        items.push(idx);
        times.push(e.time);
      }
    }
    if (items.length > 0) m.recommender.observeEvents(Int32Array.from(items), Float64Array.from(times));
    return r;
  }

  async putUser(
    id: string,
    info: UserInfoInput,
  ): Promise<{ view: ReturnType<Service["userView"]>; created: boolean }> {
    const r = await this.store.putUser(id, info);
    this.userIdx.set(id, r.user.idx);
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
    const user = await this.lookupUser(id);
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
        const data = await modelDataFromStore(this.store, `store (${this.store.kind})`);
        next = ServingModel.load(dir, data, this.retrieval);
      } catch (error) {
        throw new HttpError(
          422,
          `model ${dir} refused, still serving ${previous}: ${(error as Error).message}`,
        );
      }
      this.current = next;
      return { version: next.version, previous, dir };
    } finally {
      this.reloading = false;
    }
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
