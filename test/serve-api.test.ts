/**
 * The HTTP API end to end on a tiny trained model and an SQLite store: every route's answer,
 * freshness (a posted event changes the very next recommendation and is never recommended again),
 * recorded impressions, the OpenAPI document, metrics, and the atomic model reload that refuses a
 * corrupt or mismatched model and keeps serving the old one.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userQuery } from "../src/cli/commands/recommend.js";
import { loadDataset } from "../src/data/load.js";
import { CandidateModel } from "../src/models/candidates/model.js";
import type { RunningServer } from "../src/serve/start.js";
import { startTestServer, trainAnotherModel, trainTinyModel } from "./support/serve-fixture.js";

const TOKEN = "test-token-123";
let dir: string;
let modelDir: string;
let otherModelDir: string;
let secondModelDir: string;
let dataDir: string;
let server: RunningServer;

interface RecItem {
  item: string;
  title: string;
  genres: string[];
  score: number;
  candidateScore: number;
  rankingScore: number | null;
  because?: { item: string; similarity: number }[];
  contributions?: unknown[];
}

async function call(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(server.url + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json: json as Record<string, unknown> & { items: RecItem[] } };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "wn-serve-api-"));
  const tiny = await trainTinyModel(dir);
  modelDir = tiny.modelDir;
  dataDir = tiny.dataDir;
  otherModelDir = (await trainTinyModel(dir, { items: 120, seed: 9, name: "-other" })).modelDir;
  secondModelDir = join(dir, "model-2");
  await trainAnotherModel(tiny.dataDir, secondModelDir, 2);
  server = await startTestServer({
    modelDir,
    data: tiny.dataDir,
    store: `sqlite:${join(dir, "s.db")}`,
    token: TOKEN,
  });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("service API (SQLite)", () => {
  it("recommends k unseen items with titles, genres and scores, best first", async () => {
    const hist = await call("GET", "/v1/users/1/history?limit=10000");
    expect(hist.status).toBe(200);
    const seen = new Set(hist.json.items.map((h) => h.item));
    expect(seen.size).toBeGreaterThan(0);
    const r = await call("GET", "/v1/users/1/recommendations?k=20");
    expect(r.status).toBe(200);
    expect(r.json.stage).toBe("candidates");
    expect(r.json.items).toHaveLength(20);
    for (const it of r.json.items) {
      expect(seen.has(it.item)).toBe(false);
      expect(it.title).not.toBe("");
      expect(it.rankingScore).toBeNull();
      expect(it.score).toBe(it.candidateScore);
    }
    const scores = r.json.items.map((i) => i.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it("serves exactly what the model gives on the original dataset (store-built features: side info, tags, demographics)", async () => {
    const data = await loadDataset(dataDir);
    const model = CandidateModel.load(modelDir, data);
    for (const id of ["11", "12", "13"]) {
      const want = model.recommend(userQuery(data, data.users.index.get(id)!), 10);
      const got = await call("GET", `/v1/users/${id}/recommendations?k=10`);
      expect(got.json.items.map((i) => i.item)).toEqual(Array.from(want.items, (i) => data.items.ids[i]));
      got.json.items.forEach((it, r) => expect(it.candidateScore).toBeCloseTo(want.scores[r], 5));
    }
  });

  it("with exactBelow 0 stage one retrieves through HNSW: unseen items, nearly the exact list", async () => {
    const hnsw = await startTestServer({
      modelDir,
      data: dataDir,
      store: `sqlite:${join(dir, "hnsw.db")}`,
      exactBelow: 0,
    });
    try {
      const info = (await (await fetch(`${hnsw.url}/v1/model`)).json()) as { index: string };
      expect(info.index).toBe("hnsw");
      expect((await call("GET", "/v1/model")).json.index).toBe("exact");
      for (const id of ["21", "22"]) {
        const seen = new Set(
          (await call("GET", `/v1/users/${id}/history?limit=10000`)).json.items.map((h) => h.item),
        );
        const exact = (await call("GET", `/v1/users/${id}/recommendations?k=10`)).json.items.map(
          (i) => i.item,
        );
        const res = await fetch(`${hnsw.url}/v1/users/${id}/recommendations?k=10`);
        const approx = ((await res.json()) as { items: RecItem[] }).items.map((i) => i.item);
        expect(approx).toHaveLength(10);
        for (const it of approx) expect(seen.has(it)).toBe(false);
        expect(approx.filter((i) => exact.includes(i)).length).toBeGreaterThanOrEqual(8);
      }
    } finally {
      await hnsw.close();
    }
  });

  it("an event posted now changes the very next response and is never recommended again", async () => {
    const before = await call("GET", "/v1/users/2/recommendations?k=10");
    const top = before.json.items[0].item;
    const post = await call("POST", "/v1/events", { events: [{ user: 2, item: top }] });
    expect(post.status).toBe(200);
    expect(post.json).toEqual({ accepted: 1, newUsers: 0 });
    const after = await call("GET", "/v1/users/2/recommendations?k=10");
    const ids = after.json.items.map((i) => i.item);
    expect(ids).not.toContain(top);
    expect(ids).not.toEqual(before.json.items.map((i) => i.item));
    const hist = await call("GET", "/v1/users/2/history?limit=1");
    expect(hist.json.items[0].item).toBe(top);
  });

  it("creates unknown users from events and refuses a batch with unknown items, writing none of it", async () => {
    const bad = await call("POST", "/v1/events", {
      events: [
        { user: "fresh-user", item: 1, time: "2020-05-01T00:00:00Z" },
        { user: "fresh-user", item: "no-such-item" },
      ],
    });
    expect(bad.status).toBe(400);
    expect(bad.json.unknownItems).toEqual(["no-such-item"]);
    expect(String(bad.json.message)).toContain("no-such-item");
    expect((await call("GET", "/v1/users/fresh-user")).status).toBe(404);

    const ok = await call("POST", "/v1/events", {
      events: [{ user: "fresh-user", item: 1, time: "2020-05-01T00:00:00Z", weight: 4 }],
    });
    expect(ok.json).toEqual({ accepted: 1, newUsers: 1 });
    const u = await call("GET", "/v1/users/fresh-user");
    expect(u.json).toMatchObject({ id: "fresh-user", known: false, events: 1 });
    const h = await call("GET", "/v1/users/fresh-user/history");
    expect(h.json.items).toEqual([
      expect.objectContaining({ item: "1", time: Date.parse("2020-05-01T00:00:00Z") / 1000, weight: 4 }),
    ]);
    const rec = await call("GET", "/v1/users/fresh-user/recommendations?k=5");
    expect(rec.json.items.map((i) => i.item)).not.toContain("1");
  });

  it("history is newest first and honours limit and before", async () => {
    const all = await call("GET", "/v1/users/3/history?limit=10000");
    const times = all.json.items.map((h) => (h as unknown as { time: number }).time);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const cut = times[2];
    const older = await call("GET", `/v1/users/3/history?limit=2&before=${cut}`);
    expect(older.json.items).toHaveLength(2);
    for (const h of older.json.items) expect((h as unknown as { time: number }).time).toBeLessThan(cut);
  });

  it("explain adds the most similar history items; genre filters; stage=two falls back to candidates", async () => {
    const r = await call("GET", "/v1/users/4/recommendations?k=5&explain=true&stage=two");
    expect(r.json.stage).toBe("candidates");
    const hist = new Set(
      (await call("GET", "/v1/users/4/history?limit=10000")).json.items.map((h) => h.item),
    );
    for (const it of r.json.items) {
      expect(it.because!.length).toBeGreaterThan(0);
      for (const b of it.because!) expect(hist.has(b.item)).toBe(true);
      const sims = it.because!.map((b) => b.similarity);
      expect([...sims].sort((a, b) => b - a)).toEqual(sims);
      expect(it.contributions).toEqual([]);
    }
    const model = await call("GET", "/v1/model");
    const genre = (model.json.genres as string[])[0];
    const g = await call("GET", `/v1/users/4/recommendations?k=8&genre=${encodeURIComponent(genre)}`);
    expect(g.json.items).toHaveLength(8);
    for (const it of g.json.items) expect(it.genres).toContain(genre);
    const unknownGenre = await call("GET", "/v1/users/4/recommendations?genre=NoSuchGenre");
    expect(unknownGenre.status).toBe(400);
    expect(String(unknownGenre.json.message)).toContain("NoSuchGenre");
  });

  it("anonymous sessions are recommended from the posted history", async () => {
    const hist = (await call("GET", "/v1/users/5/history?limit=30")).json.items.map((h) => h.item);
    const r = await call("POST", "/v1/recommendations", { history: hist.map((item) => ({ item })), k: 10 });
    expect(r.status).toBe(200);
    expect(r.json.user).toBeNull();
    expect(r.json.items).toHaveLength(10);
    for (const it of r.json.items) expect(hist).not.toContain(it.item);
    const other = await call("POST", "/v1/recommendations", { history: [{ item: hist[0] }], k: 10 });
    expect(other.json.items.map((i) => i.item)).not.toEqual(r.json.items.map((i) => i.item));
    const bad = await call("POST", "/v1/recommendations", { history: [{ item: "nope" }] });
    expect(bad.status).toBe(400);
    expect(bad.json.unknownItems).toEqual(["nope"]);
  });

  it("served lists are recorded as impressions in the store", async () => {
    const r = await call("GET", "/v1/users/6/recommendations?k=7");
    const store = server.service.store;
    const user = (await store.getUser("6"))!.idx;
    const imp = await store.impressions(user);
    const served = r.json.items.map((i) => server.service.catalog.index.get(i.item));
    expect(Array.from(imp.items.slice(-7))).toEqual(served);
  });

  it("items and users: PUT creates (201) then updates (200); a new item is stored but not recommendable", async () => {
    const p = await call("PUT", "/v1/items/new-movie", {
      title: "New Movie (2030)",
      genres: ["Drama"],
      year: 2030,
    });
    expect(p.status).toBe(201);
    expect(p.json).toEqual({
      id: "new-movie",
      title: "New Movie (2030)",
      genres: ["Drama"],
      year: 2030,
      recommendable: false,
    });
    const upd = await call("PUT", "/v1/items/new-movie", { title: "New Movie" });
    expect(upd.status).toBe(200);
    expect(upd.json).toMatchObject({ title: "New Movie", genres: ["Drama"], year: 2030 });
    expect((await call("GET", "/v1/items/new-movie")).json.title).toBe("New Movie");
    const ev = await call("POST", "/v1/events", { events: [{ user: 7, item: "new-movie" }] });
    expect(ev.status).toBe(200);
    const rec = await call("GET", "/v1/users/7/recommendations?k=500");
    expect(rec.status).toBe(200);
    expect(rec.json.items.map((i) => i.item)).not.toContain("new-movie");
    const sim = await call("GET", "/v1/items/new-movie/similar");
    expect(sim.status).toBe(409);
    expect((await call("GET", "/v1/items/none-such")).status).toBe(404);

    const u = await call("PUT", "/v1/users/newcomer", { gender: "F", age: 31, occupation: "writer" });
    expect(u.status).toBe(201);
    expect(u.json).toMatchObject({ id: "newcomer", gender: "F", age: 31, known: false, events: 0 });
    const cold = await call("GET", "/v1/users/newcomer/recommendations?k=5");
    expect(cold.status).toBe(200);
    expect(cold.json.items).toHaveLength(5);
  });

  it("similar items are the nearest by cosine, excluding the item itself; popular counts recent events", async () => {
    const s = await call("GET", "/v1/items/10/similar?k=5");
    expect(s.status).toBe(200);
    const items = s.json.items as unknown as { item: string; similarity: number }[];
    expect(items).toHaveLength(5);
    expect(items.map((i) => i.item)).not.toContain("10");
    const sims = items.map((i) => i.similarity);
    expect([...sims].sort((a, b) => b - a)).toEqual(sims);
    for (const x of sims) expect(x).toBeLessThanOrEqual(1.000001);

    const pop = await call("GET", "/v1/items/popular?days=36500&k=3");
    expect(pop.status).toBe(200);
    const counts = (pop.json.items as unknown as { count: number }[]).map((i) => i.count);
    expect(counts).toHaveLength(3);
    expect([...counts].sort((a, b) => b - a)).toEqual(counts);
    expect(counts[0]).toBeGreaterThan(1);
  });

  it("serves an OpenAPI 3 document of every route, health, readiness and Prometheus metrics", async () => {
    const doc = await call("GET", "/openapi.json");
    expect(doc.json.openapi).toBe("3.1.0");
    const paths = doc.json.paths as Record<string, Record<string, unknown>>;
    for (const p of [
      "/v1/users/{id}/recommendations",
      "/v1/recommendations",
      "/v1/events",
      "/v1/users/{id}",
      "/v1/users/{id}/history",
      "/v1/items/{id}",
      "/v1/items/{id}/similar",
      "/v1/items/popular",
      "/v1/admin/reload",
    ]) {
      expect(paths[p], p).toBeDefined();
    }
    expect(paths["/v1/events"].post).toMatchObject({ security: [{ bearer: [] }] });
    expect((await call("GET", "/healthz")).json).toEqual({ status: "ok" });
    expect((await call("GET", "/readyz")).json).toMatchObject({ status: "ready", store: "sqlite" });
    const res = await fetch(server.url + "/metrics");
    const text = await res.text();
    expect(text).toMatch(
      /watchnext_http_requests_total\{method="GET",route="\/v1\/users\/:id\/recommendations",status="200"\} \d+/,
    );
    expect(text).toMatch(
      /watchnext_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/v1\/users\/:id\/recommendations"\}/,
    );
    expect(text).toMatch(/watchnext_events_ingested_total [1-9]/);
    expect(text).toMatch(/watchnext_model_info\{version="[0-9a-f]{12}"\} 1/);
    expect(text).toMatch(/watchnext_model_age_seconds \d/);
  });

  it("admin reload swaps a good model in and refuses a corrupt or mismatched one, old keeps serving", async () => {
    const v0 = (await call("GET", "/v1/model")).json.version as string;
    // A copy of the same model whose tensors have one flipped byte.
    const corrupt = join(dir, "corrupt");
    cpSync(modelDir, corrupt, { recursive: true });
    const tensors = join(corrupt, "tensors.safetensors");
    const bytes = readFileSync(tensors);
    bytes[bytes.length - 3] ^= 0xff;
    writeFileSync(tensors, bytes);
    const bad = await call("POST", "/v1/admin/reload", { model: corrupt });
    expect(bad.status).toBe(422);
    expect(String(bad.json.message)).toMatch(/SHA-256|corrupt/);
    const mismatched = await call("POST", "/v1/admin/reload", { model: otherModelDir });
    expect(mismatched.status).toBe(422);
    expect(String(mismatched.json.message)).toMatch(/items/);
    expect((await call("GET", "/v1/model")).json.version).toBe(v0);
    expect((await call("GET", "/v1/users/1/recommendations?k=3")).status).toBe(200);

    const noToken = await call("POST", "/v1/admin/reload", {}, null);
    expect(noToken.status).toBe(401);

    // Requests in flight while a reload runs all succeed; afterwards answers carry the new version.
    const inflight = Array.from({ length: 20 }, (_, i) =>
      call("GET", `/v1/users/${i + 1}/recommendations?k=5`),
    );
    const ok = await call("POST", "/v1/admin/reload", { model: secondModelDir });
    const results = await Promise.all(inflight);
    expect(ok.status).toBe(200);
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.json.items).toHaveLength(5);
      // Each answer comes wholly from one model: the old or the new one.
      expect([v0, ok.json.version]).toContain(r.json.modelVersion);
    }
    expect(ok.json.previous).toBe(v0);
    expect(ok.json.version).not.toBe(v0);
    const after = await call("GET", "/v1/users/1/recommendations?k=3");
    expect(after.json.modelVersion).toBe(ok.json.version);
    expect((await call("GET", "/v1/model")).json.dir).toBe(secondModelDir);
    const metrics = await (await fetch(server.url + "/metrics")).text();
    expect(metrics).toContain(`watchnext_model_info{version="${String(ok.json.version)}"} 1`);
    expect(metrics).not.toContain(`watchnext_model_info{version="${v0}"}`);
  });
});
