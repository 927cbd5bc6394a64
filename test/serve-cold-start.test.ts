/**
 * Demographic cold start on a tiny two-stage model (SQLite store): request-time demographics go
 * through the model's fitted vocabularies exactly as the users file does at training (a known user
 * with unchanged demographics gets exactly the same recommendations), users created after training
 * are served from their stored demographics (PUT /v1/users/:id) and popularity, a PUT on a known
 * user changes what the model sees at once, and anonymous sessions take demographics in the body.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dataset, UserDemographicValues } from "../src/data/dataset.js";
import { loadDataset } from "../src/data/load.js";
import {
  emptyDemographicRows,
  encodeDemographics,
  fitDemographics,
  userDemographics,
  userDemographicValues,
} from "../src/features/candidate-side-info.js";
import { Recommender } from "../src/models/ranking/recommender.js";
import type { RecommendRequest } from "../src/models/ranking/recommender-types.js";
import type { RunningServer } from "../src/serve/start.js";
import { startTestServer, trainTinyTwoStage } from "./support/serve-fixture.js";

const TOKEN = "cold-start-token";
let dir: string;
let data: Dataset;
let rec: Recommender;
let server: RunningServer;

interface RecItem {
  item: string;
  score: number;
  sourceScores: Record<string, number>;
}

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(server.url + path, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { items: RecItem[]; message?: string } };
}

/** The in-process list (dataset item ids) for an empty history at `time`. */
function coldList(
  demographics: UserDemographicValues | undefined,
  time: number,
  k = 10,
  stage: "two" | "candidates" = "two",
): string[] {
  const req: RecommendRequest = {
    user: -1,
    time,
    historyItems: new Int32Array(0),
    historyTimes: new Float64Array(0),
    historyWeights: new Float32Array(0),
    impressionItems: new Int32Array(0),
    impressionTimes: new Float64Array(0),
    k,
    stage,
    ...(demographics ? { demographics } : {}),
  };
  return rec.recommend(req).map((r) => data.items.ids[r.item]);
}

const WOMAN: UserDemographicValues = { gender: 1, age: 24, occupation: "student", zip: "02515" };
const MAN: UserDemographicValues = { gender: 2, age: 61, occupation: "retired", zip: "94110" };
const asBody = (d: UserDemographicValues) => ({
  gender: d.gender === 1 ? "F" : "M",
  age: d.age,
  occupation: d.occupation,
  zip: d.zip,
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "wn-cold-"));
  const { dataDir, modelDir } = await trainTinyTwoStage(dir);
  data = await loadDataset(dataDir);
  rec = Recommender.load(modelDir, data);
  server = await startTestServer({
    modelDir,
    data: dataDir,
    store: `sqlite:${join(dir, "s.db")}`,
    token: TOKEN,
  });
}, 120_000);

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("demographics at request time", () => {
  it("one mapping: the users file's tables are encodeDemographics of each row; unknown values map to row 0", () => {
    const info = data.userInfo!;
    const fit = fitDemographics(info, { age: true, occupation: true, zip: true, zipPrefix: 2 });
    const tables = userDemographics(info, fit, { gender: true, zipPrefix: 2 }, data.users.ids.length);
    const r = emptyDemographicRows();
    for (let u = 0; u < data.users.ids.length; u++) {
      encodeDemographics(userDemographicValues(info, u), fit, 2, r);
      expect([r.gender, r.ageYears, r.occupation, r.zip]).toEqual([
        tables.gender![u],
        tables.ageYears![u],
        tables.occupation![u],
        tables.zip![u],
      ]);
      expect(r.occupation).toBeGreaterThan(0);
    }
    encodeDemographics({ gender: 7, age: 0, occupation: "astronaut", zip: "ZZ999" }, fit, 2, r);
    expect(r).toEqual({ gender: 0, ageCode: 0, ageYears: 0, occupation: 0, zip: 0 });
  });

  it("a user known to the model gets exactly the same recommendations with its unchanged demographics", () => {
    for (const u of [0, 7, 42]) {
      const idx = Int32Array.from({ length: data.events.user.length }, (_, e) => e).filter(
        (e) => data.events.user[e] === u,
      );
      idx.sort((a, b) => data.events.time[a] - data.events.time[b] || a - b);
      const req: RecommendRequest = {
        user: u,
        time: data.events.time[idx[idx.length - 1]],
        historyItems: Int32Array.from(idx, (e) => data.events.item[e]),
        historyTimes: Float64Array.from(idx, (e) => data.events.time[e]),
        historyWeights: Float32Array.from(idx, (e) => data.events.weight[e]),
        k: 20,
      };
      const plain = rec.recommend(req);
      const given = rec.recommend({ ...req, demographics: userDemographicValues(data.userInfo!, u) });
      expect(given).toEqual(plain);
      // Other demographics do change what the model sees.
      const other = rec.recommend({ ...req, demographics: u % 2 ? WOMAN : MAN });
      expect(other.map((r) => r.rankingLogit)).not.toEqual(plain.map((r) => r.rankingLogit));
    }
  });

  it("bad demographics are refused by the Recommender with the field", () => {
    const req = {
      user: -1,
      time: 1e9,
      historyItems: new Int32Array(0),
      historyTimes: new Float64Array(0),
      k: 5,
    };
    expect(() => rec.recommend({ ...req, demographics: { ...WOMAN, gender: 5 } })).toThrow(
      /demographics\.gender/,
    );
    expect(() => rec.recommend({ ...req, demographics: { ...WOMAN, age: NaN } })).toThrow(
      /demographics\.age/,
    );
  });
});

describe("cold start in the service", () => {
  it("new users with empty histories are served from their stored demographics: lists follow them", async () => {
    expect((await call("PUT", "/v1/users/new-woman", asBody(WOMAN))).status).toBe(201);
    expect((await call("PUT", "/v1/users/new-man", asBody(MAN))).status).toBe(201);
    expect((await call("PUT", "/v1/users/new-nobody", {})).status).toBe(201);
    const get = async (user: string, stage: string) => {
      const items = (await call("GET", `/v1/users/${user}/recommendations?k=30&stage=${stage}`)).json.items;
      return { ids: items.map((i) => i.item), scores: items.map((i) => i.score) };
    };
    for (const stage of ["two", "candidates"] as const) {
      const t0 = Date.now() / 1000;
      const woman = await get("new-woman", stage);
      const man = await get("new-man", stage);
      const nobody = await get("new-nobody", stage);
      expect(woman.ids).toHaveLength(30);
      // Each list is the model's for those demographics, not the no-demographics (popularity-like) one.
      expect(woman.ids).toEqual(coldList(WOMAN, t0, 30, stage));
      expect(man.ids).toEqual(coldList(MAN, t0, 30, stage));
      expect(nobody.ids).toEqual(coldList(undefined, t0, 30, stage));
      expect(woman.ids).not.toEqual(man.ids);
      expect(woman.ids).not.toEqual(nobody.ids);
      expect(man.ids).not.toEqual(nobody.ids);
      for (let r = 0; r < 30; r++) {
        expect(woman.scores[r]).not.toBe(man.scores[r]);
        expect(woman.scores[r]).not.toBe(nobody.scores[r]);
      }
    }
  });

  it("a PUT on a known user changes the demographics the next response is computed with", async () => {
    const user = data.users.ids[3];
    const before = (await call("GET", `/v1/users/${user}/recommendations?k=10&stage=candidates`)).json.items;
    expect((await call("PUT", `/v1/users/${user}`, asBody(MAN))).status).toBe(200);
    const after = (await call("GET", `/v1/users/${user}/recommendations?k=10&stage=candidates`)).json.items;
    // Stage one alone (no impression features): the candidate scores follow the new demographics.
    const u = 3;
    const idx = Int32Array.from({ length: data.events.user.length }, (_, e) => e).filter(
      (e) => data.events.user[e] === u,
    );
    idx.sort((a, b) => data.events.time[a] - data.events.time[b] || a - b);
    const req: RecommendRequest = {
      user: u,
      time: data.events.time[idx[idx.length - 1]],
      historyItems: Int32Array.from(idx, (e) => data.events.item[e]),
      historyTimes: Float64Array.from(idx, (e) => data.events.time[e]),
      k: 10,
      stage: "candidates",
    };
    const ids = (d?: UserDemographicValues) =>
      rec.recommend({ ...req, ...(d ? { demographics: d } : {}) }).map((r) => data.items.ids[r.item]);
    expect(before.map((i) => i.item)).toEqual(ids());
    expect(after.map((i) => i.item)).toEqual(ids(MAN));
    expect(after.map((i) => i.score)).not.toEqual(before.map((i) => i.score));
  });

  it("anonymous sessions take demographics in the body; bad types get 400 naming the field", async () => {
    const t0 = Date.now() / 1000;
    const r = await call("POST", "/v1/recommendations", { history: [], k: 10, demographics: asBody(WOMAN) });
    expect(r.status).toBe(200);
    expect(r.json.items.map((i) => i.item)).toEqual(coldList(WOMAN, t0));
    const plain = await call("POST", "/v1/recommendations", { history: [], k: 10 });
    expect(plain.json.items.map((i) => i.item)).toEqual(coldList(undefined, t0));
    for (const [bad, field] of [
      [{ age: "old" }, "age"],
      [{ gender: "X" }, "gender"],
      [{ occupation: 3 }, "occupation"],
      [{ zip: ["1"] }, "zip"],
      [{ shoeSize: 44 }, "shoeSize"],
    ] as const) {
      const res = await call("POST", "/v1/recommendations", { history: [], demographics: bad });
      expect(res.status).toBe(400);
      expect(res.json.message).toMatch(new RegExp(`demographics.*${field}|${field}.*demographics`));
    }
    const put = await call("PUT", "/v1/users/bad-age", { age: -3 });
    expect(put.status).toBe(400);
    expect(put.json.message).toMatch(/age/);
    // The OpenAPI document describes the session's demographics.
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<string, { requestBody: { content: Record<string, { schema: unknown }> } }>
      >;
    };
    const body = doc.paths["/v1/recommendations"].post.requestBody.content["application/json"].schema as {
      properties: Record<string, { properties?: Record<string, unknown> }>;
    };
    expect(Object.keys(body.properties.demographics.properties ?? {})).toEqual([
      "gender",
      "age",
      "occupation",
      "zip",
    ]);
  });
});
