/**
 * Recommendations on worker threads (serve --workers) are the event loop's recommendations: two
 * services on identical stores, one computing on the event loop and one on two workers, receive the
 * same requests and events and must answer every list identically (items, scores, ranking logits),
 * through user, genre-filtered, stage-one and anonymous requests, after ingested events and after a
 * reload; a worker that dies costs no answer (its requests run on the event loop).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RecommendRequest } from "../src/models/ranking/recommender-types.js";
import { modelDataFromStore } from "../src/serve/model-data.js";
import { ServingModel } from "../src/serve/serving-model.js";
import type { RunningServer } from "../src/serve/start.js";
import { startTestServer, trainTinyTwoStage } from "./support/serve-fixture.js";

let dir: string;
let modelDir: string;
let inline: RunningServer;
let threaded: RunningServer;

interface RecItem {
  item: string;
  score: number;
  candidateScore: number;
  rankingScore: number | null;
  sourceScores: Record<string, number>;
}

async function call(server: RunningServer, method: string, path: string, body?: unknown) {
  const res = await fetch(server.url + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> & { items: RecItem[] } };
}

/** The same request on both services: equal status and body (modelVersion included). */
async function same(method: string, path: string, body?: unknown): Promise<RecItem[]> {
  const a = await call(inline, method, path, body);
  const b = await call(threaded, method, path, body);
  expect(b.status, path).toBe(a.status);
  expect(b.json, path).toEqual(a.json);
  return a.json.items;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "wn-serve-workers-"));
  const m = await trainTinyTwoStage(dir);
  modelDir = m.modelDir;
  const open = (name: string, workers: number) =>
    startTestServer({ modelDir, data: m.dataDir, store: `sqlite:${join(dir, `${name}.db`)}`, workers });
  [inline, threaded] = await Promise.all([open("inline", 0), open("threaded", 2)]);
}, 300_000);

afterAll(async () => {
  await inline?.close();
  await threaded?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("serve --workers", () => {
  it("reports its workers", async () => {
    expect((await call(inline, "GET", "/v1/model")).json.workers).toBe(0);
    expect((await call(threaded, "GET", "/v1/model")).json.workers).toBe(2);
  });

  it("answers every user's list exactly as the event loop does, concurrently too", async () => {
    // Concurrent requests spread over both workers; each user's list must still match.
    const users = Array.from({ length: 40 }, (_, i) => String(i + 1));
    const a = await Promise.all(users.map((u) => call(inline, "GET", `/v1/users/${u}/recommendations?k=10`)));
    const b = await Promise.all(
      users.map((u) => call(threaded, "GET", `/v1/users/${u}/recommendations?k=10`)),
    );
    for (let i = 0; i < users.length; i++) {
      expect(b[i].status).toBe(200);
      expect(b[i].json.items.length).toBe(10);
      expect(b[i].json).toEqual(a[i].json);
      expect(b[i].json.items[0].rankingScore).not.toBeNull();
    }
    const genres = (await call(inline, "GET", "/v1/model")).json.genres as string[];
    await same("GET", `/v1/users/7/recommendations?k=5&genre=${encodeURIComponent(genres[0])}`);
    await same("GET", "/v1/users/8/recommendations?k=12&stage=candidates");
    await same("GET", "/v1/users/9/recommendations?k=6&explain=true");
  });

  it("sees an ingested event in the very next response, on whichever worker answers", async () => {
    const before = await same("GET", "/v1/users/11/recommendations?k=10");
    const events = [
      { user: "11", item: before[0].item, time: 2_000_000_000 },
      { user: "12", item: before[0].item, time: 2_000_000_000 },
      { user: "13", item: before[1].item, time: 2_000_000_001 },
    ];
    for (const s of [inline, threaded])
      expect((await call(s, "POST", "/v1/events", { events })).status).toBe(200);
    const after = await same("GET", "/v1/users/11/recommendations?k=10");
    expect(after.map((r) => r.item)).not.toContain(before[0].item);
    const anonymous = await same("POST", "/v1/recommendations", {
      history: [{ item: before[2].item, time: 2_000_000_002 }],
      k: 10,
    });
    expect(anonymous.length).toBe(10);
  });

  it("keeps answering identically after a reload", async () => {
    for (const s of [inline, threaded])
      expect((await call(s, "POST", "/v1/admin/reload", { model: modelDir })).status).toBe(200);
    expect((await call(threaded, "GET", "/v1/model")).json.workers).toBe(2);
    for (const u of ["2", "3", "11"]) await same("GET", `/v1/users/${u}/recommendations?k=10`);
  });

  it("events ingested while a reload starts its workers count in the new model", async () => {
    const items = (await call(inline, "GET", "/v1/users/30/recommendations?k=10&stage=candidates")).json
      .items;
    const t0 = 2_100_000_000;
    const reloading = call(threaded, "POST", "/v1/admin/reload", { model: modelDir });
    // Posted at once: the service takes them while the reload waits for its new workers.
    const posts = Array.from({ length: 6 }, (_, b) =>
      call(threaded, "POST", "/v1/events", {
        events: Array.from({ length: 20 }, (_, k) => ({
          user: String(40 + k),
          item: items[(b + k) % items.length].item,
          time: t0 + 60 * b + k,
        })),
      }),
    );
    expect((await reloading).status).toBe(200);
    for (const p of posts) {
      const r = await p;
      expect(r.status).toBe(200);
    }
    // The same events on the event-loop service, so the two keep answering alike.
    for (let b = 0; b < 6; b++)
      await call(inline, "POST", "/v1/events", {
        events: Array.from({ length: 20 }, (_, k) => ({
          user: String(40 + k),
          item: items[(b + k) % items.length].item,
          time: t0 + 60 * b + k,
        })),
      });
    // A model loaded now from the store holds every event; the reloaded one (and its workers) must too.
    const store = threaded.service.store;
    const fresh = await ServingModel.load(modelDir, await modelDataFromStore(store, "test"));
    const now = threaded.service.model;
    const q: RecommendRequest = {
      user: -1,
      time: t0 + 3600,
      historyItems: Int32Array.of(threaded.service.catalog.index.get(items[0].item) ?? -1),
      historyTimes: Float64Array.of(t0 + 3599),
      historyWeights: Float32Array.of(4),
      k: 10,
    };
    const want = fresh.recommender.recommend(q);
    expect(now.recommender.recommend(q)).toEqual(want);
    expect(await now.recommend(q, null)).toEqual(want);
    await fresh.close();
  });

  it("over an HNSW index the workers search the graph the event loop built", async () => {
    const open = (name: string, workers: number) =>
      startTestServer({
        modelDir,
        data: join(dir, "data"),
        store: `sqlite:${join(dir, `${name}.db`)}`,
        workers,
        exactBelow: 0,
      });
    const [a, b] = await Promise.all([open("hnsw-inline", 0), open("hnsw-threaded", 2)]);
    try {
      expect((await call(b, "GET", "/v1/model")).json.index).toBe("hnsw");
      for (const u of ["1", "2", "3", "4"]) {
        const path = `/v1/users/${u}/recommendations?k=10&stage=candidates`;
        expect((await call(b, "GET", path)).json).toEqual((await call(a, "GET", path)).json);
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("answers on the event loop when a worker dies, and when both have", async () => {
    const model = threaded.service.model as unknown as {
      workers: { slots: { worker: { terminate(): Promise<number> } }[] };
    };
    const genres = (await call(inline, "GET", "/v1/model")).json.genres as string[];
    const paths = ["20", "21", "22", "23"].flatMap((u) => [
      `/v1/users/${u}/recommendations?k=10`,
      `/v1/users/${u}/recommendations?k=6&genre=${encodeURIComponent(genres[1])}`,
    ]);
    for (const [slot, left] of [
      [0, 1],
      [1, 0],
    ]) {
      await model.workers.slots[slot].worker.terminate();
      await new Promise((r) => setTimeout(r, 50));
      expect((await call(threaded, "GET", "/v1/model")).json.workers).toBe(left);
      const a = await Promise.all(paths.map((p) => call(inline, "GET", p)));
      const b = await Promise.all(paths.map((p) => call(threaded, "GET", p)));
      for (let i = 0; i < paths.length; i++) expect(b[i].json, paths[i]).toEqual(a[i].json);
    }
  });
});
