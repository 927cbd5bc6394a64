/**
 * The synthetic generator: determinism per seed, the exact file shapes other readers rely on, and
 * that the planted structure (taste clusters, drift, release spikes, tags, demographics) is really
 * in the data, measured from the generated events rather than from the generator's parameters.
 */
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataSynth } from "../src/cli/commands/data-synth.js";
import { loadDataset } from "../src/data/load.js";
import {
  SYNTH_GENRES,
  SYNTH_OCCUPATIONS,
  generateSynthetic,
  synthCsv,
  synthCsvChunks,
  writeSynthetic,
  type SynthData,
} from "../src/data/synth.js";

const DAY = 86_400;
let root: string;
let data: SynthData;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "watchnext-synth-"));
  data = generateSynthetic({ users: 1500, items: 2000, events: 120_000, seed: 7 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Splits one CSV record, honouring quotes ("" inside quotes is a quote). */
function csvRecord(line: string): string[] {
  const out: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      out.push(field);
      field = "";
    } else field += ch;
  }
  out.push(field);
  return out;
}

function rows(text: string): string[][] {
  expect(text.endsWith("\n")).toBe(true);
  return text.slice(0, -1).split("\n").map(csvRecord);
}

describe("data synth", () => {
  it("is deterministic: the same seed gives byte-identical files, another seed different ones", async () => {
    const opts = { users: 300, items: 400, events: 8000 };
    const a = join(root, "a");
    const b = join(root, "b");
    const c = join(root, "c");
    await writeSynthetic(a, { ...opts, seed: 3 });
    await writeSynthetic(b, { ...opts, seed: 3 });
    await writeSynthetic(c, { ...opts, seed: 4 });
    const files = ["movies.csv", "ratings.csv", "tags.csv", "users.csv"];
    expect((await readdir(a)).sort()).toEqual(files);
    for (const f of files) {
      const fa = await readFile(join(a, f));
      expect(fa.equals(await readFile(join(b, f))), f).toBe(true);
    }
    expect((await readFile(join(a, "ratings.csv"))).equals(await readFile(join(c, "ratings.csv")))).toBe(
      false,
    );
  });

  it("writes ml-latest-style CSVs plus users.csv with the documented shapes", () => {
    const csv = synthCsv(data);
    const ratings = rows(csv["ratings.csv"]);
    expect(ratings[0]).toEqual(["userId", "movieId", "rating", "timestamp"]);
    expect(ratings.length - 1).toBe(data.ratings.user.length);
    expect(ratings.length - 1).toBeGreaterThan(0.99 * 120_000);
    expect(ratings.length - 1).toBeLessThanOrEqual(120_000);
    const t0 = data.options.start;
    const t1 = t0 + data.options.years * 365.25 * DAY;
    const pairs = new Set<string>();
    const ratedUsers = new Set<string>();
    const bad: string[] = []; // collected rather than asserted per row: expect() is slow at 10^5 rows
    let prevUser = 0;
    for (const r of ratings.slice(1)) {
      const t = Number(r[3]);
      const ok =
        r.length === 4 &&
        /^[1-9]\d*$/.test(r[0]) &&
        /^[1-9]\d*$/.test(r[1]) &&
        /^(0\.5|[1-4]\.[05]|5\.0)$/.test(r[2]) &&
        /^\d+$/.test(r[3]) &&
        t >= t0 &&
        t < t1 &&
        Number(r[0]) >= prevUser; // grouped by user
      if (!ok) bad.push(r.join(","));
      prevUser = Number(r[0]);
      pairs.add(`${r[0]}:${r[1]}`);
      ratedUsers.add(r[0]);
    }
    expect(bad.slice(0, 5)).toEqual([]);
    expect(pairs.size).toBe(ratings.length - 1); // no user rates a movie twice
    expect(ratedUsers.size).toBe(1500); // every user has ratings

    const movies = rows(csv["movies.csv"]);
    expect(movies[0]).toEqual(["movieId", "title", "genres"]);
    expect(movies.length - 1).toBe(2000);
    const genreSet = new Set<string>(SYNTH_GENRES);
    for (const [id, title, genres] of movies.slice(1)) {
      expect(id).toMatch(/^[1-9]\d*$/);
      expect(title).toMatch(/ \((19|20)\d\d\)$/);
      for (const g of genres.split("|")) expect(genreSet.has(g), g).toBe(true);
    }
    expect(movies.some(([, title]) => title.includes(","))).toBe(true);
    expect(csv["movies.csv"]).toMatch(/\n\d+,"[^"\n]*, [^\n]*\(\d{4}\)",/); // comma titles are quoted
    const movieIds = new Set(movies.slice(1).map((m) => m[0]));
    expect([...pairs].filter((p) => !movieIds.has(p.split(":")[1]))).toEqual([]);

    const tags = rows(csv["tags.csv"]);
    expect(tags[0]).toEqual(["userId", "movieId", "tag", "timestamp"]);
    expect(tags.length - 1).toBeGreaterThan(1000);
    // Tags are applied to rated movies, are non-empty and carry integer timestamps.
    const badTags = tags
      .slice(1)
      .filter(([u, m, tag, t]) => !pairs.has(`${u}:${m}`) || !tag || !/^\d+$/.test(t));
    expect(badTags.slice(0, 5)).toEqual([]);

    const usersCsv = csv["users.csv"];
    expect(usersCsv.split("\n")[0]).toBe("userId,gender,age,occupation,zip");
    const users = rows(usersCsv);
    expect(users.length - 1).toBe(1500);
    const occupations = new Set<string>(SYNTH_OCCUPATIONS);
    users.slice(1).forEach(([id, gender, age, occupation, zip], i) => {
      expect(id).toBe(String(i + 1));
      expect(gender === "M" || gender === "F").toBe(true);
      expect(age).toMatch(/^\d+$/);
      expect(Number(age)).toBeGreaterThanOrEqual(16);
      expect(Number(age)).toBeLessThanOrEqual(75);
      expect(occupations.has(occupation), occupation).toBe(true);
      expect(zip).toMatch(/^\d{5}$/);
    });
  });

  it("plants taste clusters: users rate their cluster's core genres far more than chance", () => {
    const K = data.options.clusters;
    const G = SYNTH_GENRES.length;
    const perCluster = new Float64Array(K * G);
    const clusterEvents = new Float64Array(K);
    const overall = new Float64Array(G);
    const n = data.ratings.user.length;
    for (let j = 0; j < n; j++) {
      const k = data.users.cluster[data.ratings.user[j]];
      const g = data.items.primaryGenre[data.ratings.item[j]];
      perCluster[k * G + g]++;
      clusterEvents[k]++;
      overall[g]++;
    }
    for (let k = 0; k < K; k++) {
      const [a, b] = [data.clusters.coreGenres[2 * k], data.clusters.coreGenres[2 * k + 1]];
      const share = (perCluster[k * G + a] + perCluster[k * G + b]) / clusterEvents[k];
      const chance = (overall[a] + overall[b]) / n;
      expect(share / chance, `cluster ${k}`).toBeGreaterThan(2.5);
    }
  });

  it("plants freshness: an item's events spike right after release and decay", () => {
    const n = data.ratings.user.length;
    const t0 = data.options.start;
    const t1 = t0 + data.options.years * 365.25 * DAY;
    let early = 0;
    let late = 0;
    let items = 0;
    const eligible = (i: number) =>
      data.items.release[i] > t0 + 200 * DAY && data.items.release[i] + 400 * DAY < t1;
    for (let i = 0; i < data.items.release.length; i++) if (eligible(i)) items++;
    let beforeRelease = 0;
    for (let j = 0; j < n; j++) {
      const i = data.ratings.item[j];
      if (data.ratings.time[j] < data.items.release[i]) beforeRelease++;
      if (!eligible(i)) continue;
      const age = data.ratings.time[j] - data.items.release[i];
      if (age < 60 * DAY) early++;
      else if (age >= 300 * DAY && age < 360 * DAY) late++;
    }
    expect(beforeRelease).toBe(0); // nobody rates a movie before its release
    expect(items).toBeGreaterThan(500);
    // Same window length, so without a spike the two counts would be about equal.
    expect(early).toBeGreaterThan(3 * late);
  });

  it("plants drift: late events move from the home cluster's genres toward the drift cluster's", () => {
    const G = SYNTH_GENRES.length;
    const core = (k: number, g: number) =>
      data.clusters.coreGenres[2 * k] === g || data.clusters.coreGenres[2 * k + 1] === g;
    const start = new Int32Array(data.options.users + 1);
    for (const u of data.ratings.user) start[u + 1]++;
    for (let u = 0; u < data.options.users; u++) start[u + 1] += start[u];
    const home = [0, 0];
    const target = [0, 0];
    const total = [0, 0];
    for (let u = 0; u < data.options.users; u++) {
      const len = start[u + 1] - start[u];
      if (len < 30) continue;
      const third = Math.floor(len / 3);
      for (const [part, from] of [
        [0, start[u]],
        [1, start[u + 1] - third],
      ] as const) {
        for (let j = from; j < from + third; j++) {
          const g = data.items.primaryGenre[data.ratings.item[j]];
          if (g >= G) throw new Error("bad genre");
          if (core(data.users.cluster[u], g)) home[part]++;
          if (core(data.users.driftCluster[u], g)) target[part]++;
          total[part]++;
        }
      }
    }
    expect(home[1] / total[1]).toBeLessThan(home[0] / total[0] - 0.1);
    expect(target[1] / total[1]).toBeGreaterThan(target[0] / total[0] + 0.1);
  });

  it("plants taste-correlated tags and cluster-correlated demographics", () => {
    const K = data.options.clusters;
    let inVocab = 0;
    const vocabSize = data.clusters.tagVocabulary[0].length;
    const distinct = new Set(data.tags.text).size;
    for (let j = 0; j < data.tags.user.length; j++) {
      const u = data.tags.user[j];
      const own = [data.users.cluster[u], data.users.driftCluster[u]];
      if (own.some((k) => data.clusters.tagVocabulary[k].includes(data.tags.text[j]))) inVocab++;
    }
    const share = inVocab / data.tags.user.length;
    expect(share).toBeGreaterThan(0.6);
    expect(share).toBeGreaterThan((3 * (2 * vocabSize)) / distinct); // far above a random tag's odds
    // Gender and age differ between clusters: the spread across clusters is far beyond noise.
    const male = new Float64Array(K);
    const ageSum = new Float64Array(K);
    const size = new Float64Array(K);
    for (let u = 0; u < data.options.users; u++) {
      const k = data.users.cluster[u];
      size[k]++;
      ageSum[k] += data.users.age[u];
      if (data.users.gender[u] === 2) male[k]++;
    }
    const maleShare = Array.from(male, (m, k) => m / size[k]);
    const meanAge = Array.from(ageSum, (a, k) => a / size[k]);
    expect(Math.max(...maleShare) - Math.min(...maleShare)).toBeGreaterThan(0.4);
    expect(Math.max(...meanAge) - Math.min(...meanAge)).toBeGreaterThan(10);
  });

  it("loadDataset reads the synthetic output, user info included", async () => {
    const dir = join(root, "load");
    const d = await writeSynthetic(dir, { users: 200, items: 300, events: 6000, seed: 5 });
    const ds = await loadDataset(dir);
    expect(ds.format).toBe("movielens-csv");
    expect(ds.events.user.length).toBe(d.ratings.user.length);
    expect(ds.users.ids.length).toBe(200);
    expect(ds.tags?.user.length).toBe(d.tags.user.length);
    // Events in file order match the generator's, through the loader's id dictionaries.
    for (const j of [0, 1, 2999, d.ratings.user.length - 1]) {
      expect(ds.users.ids[ds.events.user[j]]).toBe(String(d.ratings.user[j] + 1));
      expect(ds.items.ids[ds.events.item[j]]).toBe(String(d.ratings.item[j] + 1));
      expect(ds.events.time[j]).toBe(d.ratings.time[j]);
      expect(ds.events.weight[j]).toBe(d.ratings.rating[j]);
    }
    const info = ds.userInfo;
    expect(info).not.toBeNull();
    expect(info?.ageKind).toBe("years");
    for (let u = 0; u < 200; u++) {
      const idx = ds.users.index.get(String(u + 1));
      if (idx === undefined) throw new Error(`user ${u + 1} missing from the loaded dataset`);
      expect(info?.gender?.[idx]).toBe(d.users.gender[u]);
      expect(info?.age?.[idx]).toBe(d.users.age[u]);
      expect(info?.occupationNames?.[info.occupation?.[idx] ?? -1]).toBe(
        SYNTH_OCCUPATIONS[d.users.occupation[u]],
      );
      expect(info?.zip?.[idx]).toBe(d.users.zip[u]);
    }
    // Item side info: a title with a comma survives the quoting, genres map back by name.
    const rated = new Set(d.ratings.item);
    const i = d.items.title.findIndex((t, k) => t.includes(",") && rated.has(k));
    const idx = ds.items.index.get(String(i + 1));
    if (idx === undefined) throw new Error(`movie ${i + 1} missing from the loaded dataset`);
    expect(ds.itemInfo.title[idx]).toBe(d.items.title[i]);
    expect(ds.itemInfo.year[idx]).toBe(d.items.year[i]);
    const names = [];
    for (let p = ds.itemInfo.genreOffsets[idx]; p < ds.itemInfo.genreOffsets[idx + 1]; p++) {
      names.push(ds.itemInfo.genreNames[ds.itemInfo.genreIds[p]]);
    }
    const expected = [];
    for (let p = d.items.genreOffsets[i]; p < d.items.genreOffsets[i + 1]; p++)
      expected.push(SYNTH_GENRES[d.items.genreIds[p]]);
    expect(names).toEqual(expected);
  });

  it("streams each file in bounded chunks that join to the same text, and writes them as such", async () => {
    const small = generateSynthetic({ users: 200, items: 300, events: 6000, seed: 5 });
    const chunkChars = 4096;
    const streams = synthCsvChunks(small, chunkChars);
    const text = synthCsv(small);
    const out = join(root, "streamed");
    await writeSynthetic(out, { users: 200, items: 300, events: 6000, seed: 5 });
    for (const name of ["ratings.csv", "movies.csv", "tags.csv", "users.csv"] as const) {
      const chunks = [...streams[name]()];
      // No chunk holds much more than chunkChars: the file is never built as one string.
      for (const c of chunks) expect(c.length).toBeLessThan(chunkChars + 200);
      const joined = Buffer.concat(chunks);
      expect(joined.toString("utf8"), name).toBe(text[name]);
      expect(joined.equals(await readFile(join(out, name))), name).toBe(true);
    }
    expect([...streams["ratings.csv"]()].length).toBeGreaterThan(10);
  });

  it("is fast at the default size, and the CLI writes the files", async () => {
    const started = performance.now();
    const d = generateSynthetic();
    synthCsv(d);
    const seconds = (performance.now() - started) / 1000;
    expect(d.ratings.user.length).toBeGreaterThan(0.99 * 200_000);
    expect(seconds).toBeLessThan(6); // ~0.7 s measured alone; generous for a shared machine

    const out = join(root, "cli");
    const code = await dataSynth.run([
      "--out",
      out,
      "--users",
      "50",
      "--items",
      "80",
      "--events",
      "1000",
      "--seed",
      "9",
    ]);
    expect(code).toBe(0);
    const ratings = await readFile(join(out, "ratings.csv"), "utf8");
    expect(ratings.trimEnd().split("\n").length - 1).toBe(1000);
    await expect(dataSynth.run(["--out", out, "--users", "many"])).rejects.toThrow(
      '--users: expected an integer, got "many"',
    );
    await expect(dataSynth.run(["--out", out, "--users", "0"])).rejects.toThrow(
      "expected a positive integer, got 0",
    );
  });
});
