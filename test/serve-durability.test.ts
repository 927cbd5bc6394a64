/**
 * Durability and sharing of the store, through the real CLI process (`node dist/src/cli/main.js
 * serve`): kill -9 of the server while clients stream events and record every acknowledgement;
 * after a restart every acknowledged event is in the store (SQLite and PostgreSQL). And two
 * instances on one PostgreSQL database: an event posted to one counts in the other's next response,
 * and in the other's popularity sources and features within the feed's poll period, exactly once.
 * Bounded: a few hundred batches per stream, a few seconds per case.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, trainTinyModel, trainTinyTwoStage } from "./support/serve-fixture.js";
import { stopStartedCluster, testDatabase } from "./support/test-postgres.js";

const main = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
const TOKEN = "durability-token";
let dir: string;
let dataDir: string;
let modelDir: string;
const children = new Set<ChildProcess>();
const drops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  if (!existsSync(main))
    throw new Error(`${main} is missing: run \`npx tsc -p tsconfig.json\` (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), "wn-serve-dur-"));
  ({ dataDir, modelDir } = await trainTinyModel(dir));
});

afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  for (const d of drops) await d().catch(() => {});
  stopStartedCluster();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `watchnext serve` as a child process and resolves with its URL once it listens. */
function spawnServer(store: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    "node",
    [
      main,
      "serve",
      "--model",
      modelDir,
      "--data",
      dataDir,
      "--store",
      store,
      "--port",
      "0",
      "--token",
      TOKEN,
      "--log-level",
      "warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  children.add(child);
  child.on("exit", () => children.delete(child));
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`server did not start in 30 s:\n${err}`)), 30_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${err}`));
    });
  });
}

function postEvents(url: string, events: unknown[]): Promise<Response> {
  return fetch(`${url}/v1/events`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ events }),
  });
}

async function killDuringStream(store: string): Promise<void> {
  const first = await spawnServer(store);
  const streams = 4;
  const batch = 25;
  const acked: number[][] = Array.from({ length: streams }, () => []);
  let stop = false;
  let sent = 0;
  // Each stream is one user; each event's time is unique, so it identifies the event.
  const run = async (s: number) => {
    for (let b = 0; !stop && b < 400; b++) {
      const base = 2_000_000_000 + s * 1_000_000 + b * batch;
      const events = Array.from({ length: batch }, (_, i) => ({
        user: `stream-${s}`,
        item: String(1 + ((b * batch + i) % 50)),
        time: base + i,
      }));
      sent++;
      try {
        const res = await postEvents(first.url, events);
        if (res.status === 200) {
          await res.json();
          for (const e of events) acked[s].push(e.time);
        } else throw new Error(`status ${res.status}`);
      } catch {
        return; // the server died under this request: not acknowledged
      }
    }
  };
  const clients = Array.from({ length: streams }, (_, s) => run(s));
  // Kill once a good number of batches has been acknowledged.
  while (acked.reduce((a, x) => a + x.length, 0) < 60 * batch) await new Promise((r) => setTimeout(r, 20));
  first.child.kill("SIGKILL");
  stop = true;
  await Promise.all(clients);
  const total = acked.reduce((a, x) => a + x.length, 0);
  expect(total).toBeGreaterThanOrEqual(60 * batch);
  expect(sent).toBeGreaterThan(total / batch); // some batches were in flight (or queued) at the kill

  const second = await spawnServer(store);
  try {
    for (let s = 0; s < streams; s++) {
      const res = await fetch(`${second.url}/v1/users/stream-${s}/history?limit=10000`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: { time: number }[] };
      const stored = new Set(body.items.map((h) => h.time));
      const lost = acked[s].filter((t) => !stored.has(t));
      expect(lost, `stream ${s}: acknowledged but lost`).toEqual([]);
    }
    // The restarted server answers from the recovered store (fresh history included).
    const rec = await fetch(`${second.url}/v1/users/stream-0/recommendations?k=5`);
    expect(rec.status).toBe(200);
  } finally {
    // SIGTERM is a graceful stop: in-flight work finishes, the store closes, exit code 0.
    const exited = new Promise<number | null>((r) => second.child.once("exit", (code) => r(code)));
    second.child.kill("SIGTERM");
    expect(await exited).toBe(0);
  }
}

describe("kill -9 while events stream in: no acknowledged event is lost", () => {
  it("SQLite", async () => {
    await killDuringStream(`sqlite:${join(dir, "kill.db")}`);
  });

  it("PostgreSQL", async () => {
    const db = await testDatabase();
    drops.push(db.drop);
    await killDuringStream(db.url);
  });
});

describe("two instances on one PostgreSQL database", () => {
  it("an event posted to one shows in the other's next response; items too", async () => {
    const db = await testDatabase();
    drops.push(db.drop);
    const a = await startTestServer({ modelDir, data: dataDir, store: db.url, token: TOKEN });
    const b = await startTestServer({ modelDir, data: dataDir, store: db.url, token: TOKEN });
    try {
      const get = async (url: string, path: string) => {
        const res = await fetch(url + path);
        return {
          status: res.status,
          body: (await res.json()) as { items: { item: string }[] } & Record<string, unknown>,
        };
      };
      expect((await b.service.store.counts()).users).toBe(200); // seeded once, by the first instance
      for (let round = 0; round < 3; round++) {
        const before = await get(b.url, "/v1/users/8/recommendations?k=10");
        const top = before.body.items[0].item;
        const post = await postEvents(a.url, [{ user: 8, item: top }]);
        expect(post.status).toBe(200);
        const after = await get(b.url, "/v1/users/8/recommendations?k=10");
        expect(after.body.items.map((i) => i.item)).not.toContain(top);
        const hist = await get(b.url, "/v1/users/8/history?limit=1");
        expect(hist.body.items[0].item).toBe(top);
      }
      // A user created by an event on A is known to B at once.
      expect((await postEvents(a.url, [{ user: "only-on-a", item: 3 }])).status).toBe(200);
      const u = await get(b.url, "/v1/users/only-on-a/recommendations?k=3");
      expect(u.status).toBe(200);
      expect(u.body.items.map((i) => i.item)).not.toContain("3");
      // An item written on A can be used in events and sessions on B.
      const put = await fetch(`${a.url}/v1/items/shared-item`, {
        method: "PUT",
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ title: "Shared", genres: ["Drama"] }),
      });
      expect(put.status).toBe(201);
      expect((await postEvents(b.url, [{ user: 8, item: "shared-item" }])).status).toBe(200);
      const item = await get(b.url, "/v1/items/shared-item");
      expect(item.body).toMatchObject({ id: "shared-item", title: "Shared", recommendable: false });
      const hist = await get(b.url, "/v1/users/8/history?limit=1");
      expect(hist.body.items[0]).toMatchObject({ item: "shared-item", title: "Shared" });
      // Concurrent batches from both instances for the same users: every event stored once, in per-user order.
      const posts = [];
      for (let i = 0; i < 20; i++) {
        posts.push(
          postEvents(i % 2 ? a.url : b.url, [
            { user: 9, item: 1 + (i % 30), time: 1_900_000_000 + i },
            { user: 10, item: 2, time: 1_900_000_000 + i },
          ]),
        );
      }
      for (const r of await Promise.all(posts)) expect(r.status).toBe(200);
      const h9 = await get(a.url, "/v1/users/9/history?limit=10000");
      const times9 = (h9.body.items as unknown as { time: number }[]).filter((h) => h.time >= 1_900_000_000);
      expect(times9).toHaveLength(20);
      const u9 = (await a.service.store.getUser("9"))!;
      const u10 = (await b.service.store.getUser("10"))!;
      const ev9 = await a.service.store.userEventsAfter(u9.idx, 0);
      expect(ev9.lastSeq).toBe(u9.numEvents);
      expect(ev9.items.length).toBe(u9.numEvents);
      const ev10 = await b.service.store.userEventsAfter(u10.idx, 0);
      expect(ev10.items.length).toBe(u10.numEvents);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("events ingested by one reach the other's popularity sources and features within the poll period, once; demographics too", async () => {
    const two = await trainTinyTwoStage(dir, { name: "-two" });
    const db = await testDatabase();
    drops.push(db.drop);
    const POLL_MS = 200;
    const opts = {
      modelDir: two.modelDir,
      data: two.dataDir,
      store: db.url,
      token: TOKEN,
      feedPollMs: POLL_MS,
    };
    const a = await startTestServer(opts);
    const b = await startTestServer(opts);
    try {
      // A cold-start session's whole list (k > catalog): each item's recent-popularity score
      // (pop7 = its events in the 7 days before now) and its ranking score.
      const cold = async (url: string) => {
        const res = await fetch(`${url}/v1/recommendations`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ history: [], k: 500 }),
        });
        expect(res.status).toBe(200);
        const body = (await res.json()) as {
          items: { item: string; rankingScore: number; sourceScores: Record<string, number> }[];
        };
        return new Map(
          body.items.map((i) => [i.item, { pop7: i.sourceScores.pop7 ?? 0, rank: i.rankingScore }]),
        );
      };
      const X = "77";
      const Y = "78";
      const before = await cold(b.url);
      expect(before.get(X)!.pop7).toBe(0);
      const now = Math.floor(Date.now() / 1000) - 60;
      const events = (item: string, n: number, who: string) =>
        Array.from({ length: n }, (_, i) => ({ user: `${who}-${i}`, item, time: now }));
      expect((await postEvents(a.url, events(X, 25, "fa"))).status).toBe(200);
      const posted = Date.now();
      expect((await postEvents(b.url, events(Y, 10, "fb"))).status).toBe(200);
      // The writer counts its own events at once.
      expect((await cold(a.url)).get(X)!.pop7).toBe(25);
      expect((await cold(b.url)).get(Y)!.pop7).toBe(10);
      // The other instance within the poll period (plus the time a request takes on this machine).
      let seen = -1;
      while (Date.now() - posted < 10_000) {
        if ((await cold(b.url)).get(X)!.pop7 === 25) {
          seen = Date.now() - posted;
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(seen).toBeGreaterThanOrEqual(0);
      expect(seen).toBeLessThan(POLL_MS + 1000);
      // Once: after more poll periods nobody counts any event twice (own batches are skipped in the feed).
      await new Promise((r) => setTimeout(r, 3 * POLL_MS));
      const afterA = await cold(a.url);
      const afterB = await cold(b.url);
      for (const m of [afterA, afterB]) {
        expect(m.get(X)!.pop7).toBe(25);
        expect(m.get(Y)!.pop7).toBe(10);
      }
      // The ranker's popularity features see them too: the item's ranking score moved on B.
      expect(afterB.get(X)!.rank).not.toBe(before.get(X)!.rank);
      // Both instances now hold the same state: the same cold-start list.
      expect([...afterA.entries()]).toEqual([...afterB.entries()]);

      // A reload on B splits the events at the new model's feed cursor: loaded or replayed, each once;
      // B's own later events count once on B and reach A through the feed.
      const reload = await fetch(`${b.url}/v1/admin/reload`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ model: two.modelDir }),
      });
      expect(reload.status).toBe(200);
      const reloaded = await cold(b.url);
      expect(reloaded.get(X)!.pop7).toBe(25);
      expect(reloaded.get(Y)!.pop7).toBe(10);
      expect((await postEvents(b.url, events(X, 5, "fb2"))).status).toBe(200);
      expect((await cold(b.url)).get(X)!.pop7).toBe(30);
      let onA = 0;
      for (const t0 = Date.now(); Date.now() - t0 < 10_000 && onA !== 30;) {
        await new Promise((r) => setTimeout(r, 50));
        onA = (await cold(a.url)).get(X)!.pop7;
      }
      expect(onA).toBe(30);
      await new Promise((r) => setTimeout(r, 3 * POLL_MS));
      expect((await cold(b.url)).get(X)!.pop7).toBe(30);

      // Demographics written on A reach B's cold start too (refreshed like items).
      const put = (body: unknown) =>
        fetch(`${a.url}/v1/users/cold-x`, {
          method: "PUT",
          headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify(body),
        });
      const list = async (url: string) => {
        const res = await fetch(`${url}/v1/users/cold-x/recommendations?k=20&stage=candidates`);
        return ((await res.json()) as { items: { item: string; score: number }[] }).items;
      };
      expect((await put({ gender: "F", age: 23, occupation: "student", zip: "02139" })).status).toBe(201);
      const first = await list(a.url);
      expect(await list(b.url)).toEqual(first);
      expect((await put({ gender: "M", age: 67, occupation: "retired", zip: "98101" })).status).toBe(200);
      const second = await list(a.url);
      expect(second).not.toEqual(first);
      let onB = await list(b.url);
      for (const t0 = Date.now(); Date.now() - t0 < 5000 && JSON.stringify(onB) !== JSON.stringify(second);) {
        await new Promise((r) => setTimeout(r, 50));
        onB = await list(b.url);
      }
      expect(onB).toEqual(second);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
