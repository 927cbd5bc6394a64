// word2vec corpora (tag tokens in time order with the training cut, the tag genome, item2vec
// watch sequences), the tag-genome reader on a tiny fixture, word2vec's text format, recency-
// weighted example resampling, and pre-trained tables in the candidate network (filled, frozen).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readTagGenome } from "../src/data/read-genome.js";
import { getReferenceKernels } from "../src/engine/kernels/index.js";
import { Rng } from "../src/engine/rng.js";
import { recencyWeights, selectExamples } from "../src/features/candidate-examples.js";
import { DEFAULT_CANDIDATE_CONFIG } from "../src/features/candidate-config.js";
import { buildCandidateFeatures } from "../src/features/candidate-features.js";
import {
  addGenomeSentences,
  CorpusBuilder,
  itemCorpus,
  lastEventTimes,
  tokenCorpus,
} from "../src/features/embedding-corpus.js";
import { nearestKeys, readWord2vecText, writeWord2vecText } from "../src/io/word2vec-text.js";
import { CandidateModel } from "../src/models/candidates/model.js";
import { makeDataset } from "./features-fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "wn-emb-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sentences(c: { keys: readonly string[]; tokens: Int32Array; offsets: Int32Array }): string[][] {
  const out: string[][] = [];
  for (let s = 0; s + 1 < c.offsets.length; s++)
    out.push(Array.from(c.tokens.subarray(c.offsets[s], c.offsets[s + 1]), (t) => c.keys[t]));
  return out;
}

const data = makeDataset({
  numUsers: 2,
  numItems: 4,
  // user 0 watches 2, 0, 1 in time order (file order differs); user 1 watches 3, 1
  events: [
    [0, 0, 20],
    [0, 2, 10],
    [1, 3, 5],
    [0, 1, 30],
    [1, 1, 6],
  ],
  tags: [
    [0, 0, 25, "Sci-Fi classic"],
    [0, 1, 15, "dark"],
    [0, 2, 99, "too late"], // after user 0's last event (30): cut by lastEventTimes
    [1, 3, 5, "funny"],
  ],
});

describe("word2vec corpora", () => {
  it("item2vec: each user's watches in time order", () => {
    expect(sentences(itemCorpus(data))).toEqual([
      ["i3", "i1", "i2"],
      ["i4", "i2"],
    ]);
  });

  it("tokens: each user's tag applications in time order, unigrams + bigrams, cut at the training end", () => {
    expect(sentences(tokenCorpus(data, null, lastEventTimes(data)))).toEqual([
      ["dark", "sci", "fi", "classic", "sci fi", "fi classic"],
      ["funny"],
    ]);
    expect(sentences(tokenCorpus(data))[0]).toContain("too late");
  });

  it("reads the tag genome and makes one sentence per movie, most relevant tags first", async () => {
    writeFileSync(join(dir, "genome-tags.csv"), 'tagId,tag\n1,space opera\n2,"dark, gritty"\n3,funny\n');
    writeFileSync(
      join(dir, "genome-scores.csv"),
      "movieId,tagId,relevance\n10,1,0.9\n10,2,0.95\n10,3,0.1\n20,3,0.7\n",
    );
    const g = await readTagGenome(dir);
    expect(g).not.toBeNull();
    const b = new CorpusBuilder();
    addGenomeSentences(b, g!);
    expect(sentences(b.finish())).toEqual([
      ["dark", "gritty", "dark gritty", "space", "opera", "space opera"],
      ["funny"],
    ]);
    expect(await readTagGenome(join(dir, "nowhere"))).toBeNull();
    writeFileSync(join(dir, "genome-scores.csv"), "movieId,tagId,relevance\n10,7,0.9\n");
    await expect(readTagGenome(dir)).rejects.toThrow(
      /genome-scores.csv:2: field 'tagId': expected a tag id of genome-tags.csv, got "7"/,
    );
    writeFileSync(join(dir, "genome-scores.csv"), "movieId,tagId,relevance\n10,1,1.5\n");
    await expect(readTagGenome(dir)).rejects.toThrow(
      /genome-scores.csv:2: field 'relevance': expected a number in \[0, 1\]/,
    );
  });
});

describe("word2vec text format", () => {
  it("round-trips keys with spaces and float values; nearest keys by cosine", () => {
    const path = join(dir, "v.txt");
    const v = {
      keys: ["sci fi", "space", "dark"],
      dim: 2,
      vectors: Float32Array.from([1, 0, 0.9, 0.1, -1, 0.2]),
    };
    writeWord2vecText(path, v);
    const back = readWord2vecText(path);
    expect(back.keys).toEqual(v.keys);
    expect(back.vectors).toEqual(v.vectors);
    expect(nearestKeys(back, "sci fi", 2).map((n) => n.key)).toEqual(["space", "dark"]);
    expect(() => writeWord2vecText(path, { ...v, keys: ["a_b", "x", "y"] })).toThrow(/"a_b"/);
    writeFileSync(path, "2 2\na 1 2\nb 1\n");
    expect(() => readWord2vecText(path)).toThrow(/v.txt:3: expected a key and 2 values, got 1 values/);
  });
});

describe("recency-weighted examples", () => {
  it("every example once, its loss weighted 2^(−age/halfLife) with mean 1", () => {
    const DAY = 86_400;
    const n = 2001;
    const times = Float64Array.from({ length: n }, (_, i) => (i <= 1000 ? 0 : 200 * DAY));
    const offsets = Int32Array.from([0, n]);
    const items = Int32Array.from({ length: n }, (_, i) => i);
    const cfg = {
      ...DEFAULT_CANDIDATE_CONFIG.examples,
      recencyHalfLifeDays: 100,
      recencyBy: "loss" as const,
    };
    const set = selectExamples(offsets, items, times, cfg, 1);
    const off = selectExamples(offsets, items, times, { ...cfg, recencyHalfLifeDays: 0 }, 1);
    expect(off.weight).toBeNull();
    expect(Array.from(set.label)).toEqual(Array.from(off.label));
    const w = set.weight as Float32Array;
    expect(w.length).toBe(set.size);
    // 1000 old at weight a, 1000 recent at 4a, mean 1 → a = 0.4.
    expect(w.reduce((s, x) => s + x, 0) / w.length).toBeCloseTo(1, 5);
    for (let e = 0; e < set.size; e++) expect(w[e]).toBeCloseTo(set.time[e] === 0 ? 0.4 : 1.6, 5);
    expect(Array.from(recencyWeights(Float64Array.of(0, 100 * DAY), times, 100))).toEqual([
      expect.closeTo(2 / 3, 6),
      expect.closeTo(4 / 3, 6),
    ]);
  });
});

describe("pre-trained tables in the candidate model", () => {
  const rng = new Rng(4);
  const events: Array<[number, number, number]> = [];
  const tags: Array<[number, number, number, string]> = [];
  for (let u = 0; u < 30; u++) {
    const topic = u % 2;
    for (let k = 0; k < 12; k++) events.push([u, topic * 10 + rng.nextInt(10), 1000 + k]);
    tags.push([u, 0, 1000 + rng.nextInt(12), topic === 0 ? "space opera" : "dark comedy"]);
  }
  const ds = makeDataset({ numUsers: 30, numItems: 20, events, tags });
  const base = {
    features: { demographics: { enabled: false }, itemSideInfo: { enabled: false } },
    network: { depth: 0, outputDim: 8, tieOutput: false },
    train: { epochs: 1, batchSize: 16 },
  };

  it("word2vec token rows keep all known tokens and stay fixed when frozen", async () => {
    const config = {
      ...base,
      features: { ...base.features, search: { init: "word2vec", pretrained: "frozen", minCount: 100 } },
    } as const;
    // minCount 100 would leave no token; word2vec knows all of them, so they keep rows.
    expect(buildCandidateFeatures(ds, config.features).toJSON().vocabularies.token?.values.length).toBe(6);
    const kernels = getReferenceKernels();
    const model = await CandidateModel.fit(ds, { config, seed: 1, kernels });
    expect(model.pretrained).toEqual([{ table: "token", source: "word2vec", rowsFilled: 6, rows: 7 }]);
    const token = model.network.input.tables.get("token")!;
    expect(model.network.input.isFrozen("token")).toBe(true);
    expect(model.network.parameters().map((p) => p.name)).not.toContain("token");
    // Same seed, same pre-trained table (reference kernels: deterministic), untouched by training.
    const fresh = await CandidateModel.fit(ds, {
      config: { ...config, train: { ...config.train, epochs: 2 } },
      seed: 1,
      kernels,
    });
    expect(fresh.network.input.tables.get("token")!.data).toEqual(token.data);
    expect(Array.from(token.data.subarray(0, token.dim))).toEqual(new Array(token.dim).fill(0)); // OOV row stays 0
  });

  it("recency weights reach the trainer: weights near 1 train as without, short half-lives differ", async () => {
    const kernels = getReferenceKernels();
    const fit = async (examples: object) => {
      const config = { ...base, features: { ...base.features, examples } };
      const m = await CandidateModel.fit(ds, { config, seed: 3, kernels });
      return { loss: m.summary!.history[0].loss, item: m.network.input.tables.get("item")!.data.slice() };
    };
    const off = await fit({});
    // ds spans 12 s: a 1e6-day half-life gives weights 1 ± 1e-10, a 1e-5-day (0.9 s) one ~2^13 apart.
    const flat = await fit({ recencyHalfLifeDays: 1e6 });
    const steep = await fit({ recencyHalfLifeDays: 1e-5 });
    expect(flat.loss).toBeCloseTo(off.loss, 5);
    let diffFlat = 0;
    let diffSteep = 0;
    for (let i = 0; i < off.item.length; i++) {
      diffFlat = Math.max(diffFlat, Math.abs(flat.item[i] - off.item[i]));
      diffSteep = Math.max(diffSteep, Math.abs(steep.item[i] - off.item[i]));
    }
    expect(diffFlat).toBeLessThan(1e-5);
    expect(diffSteep).toBeGreaterThan(1e-3);
  });

  it("item2vec fills the watched-item rows (fine-tune leaves the table trainable)", async () => {
    const config = { ...base, features: { ...base.features, itemSideInfo: { idInit: "item2vec" } } } as const;
    const model = await CandidateModel.fit(ds, { config, seed: 2, kernels: getReferenceKernels() });
    expect(model.pretrained).toEqual([{ table: "item", source: "item2vec", rowsFilled: 20, rows: 21 }]);
    expect(model.network.parameters().map((p) => p.name)).toContain("item");
  });
});
