/**
 * ONNX export: the protobuf writer's bytes against hand-encoded messages, then a two-stage model
 * trained on ml-100k (small, few epochs), exported by `watchnext export onnx` and run in
 * onnxruntime-node on real ml-100k users: the candidate tower's user vectors, the item matrix,
 * the exact scores' top-k and the ranker's logits must match watchnext's own outputs.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../src/data/load.js";
import type { Dataset } from "../src/data/dataset.js";
import type { QueryBatch } from "../src/eval/types.js";
import { sliceQueries } from "../src/eval/evaluate.js";
import { ONNX_MANIFEST_FILE, type OnnxExportManifest } from "../src/interop/onnx/export.js";
import { rankerFeeds, schemaFeeds, type FeedTensor } from "../src/interop/onnx/feeds.js";
import { encodeModel } from "../src/interop/onnx/onnx-proto.js";
import { ProtoWriter } from "../src/interop/onnx/protobuf.js";
import { loadTwoStage, type LoadedTwoStage } from "../src/models/ranking/two-stage-dir.js";

const run = promisify(execFile);
const main = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
const ml100k = fileURLToPath(new URL("../../shared/data/ml-100k", import.meta.url));
const candidatesConfig = JSON.stringify({
  network: { depth: 2, outputDim: 32, tieOutput: false },
  train: { epochs: 2, batchSize: 256 },
});
const rankerConfig = JSON.stringify({
  network: { hidden: [32, 16] },
  train: { epochs: 1, negativesPerList: 10 },
});

let dir: string;
let data: Dataset;
let loaded: LoadedTwoStage;
let manifest: OnnxExportManifest;

function tensor(f: FeedTensor): ort.Tensor {
  return new ort.Tensor(f.dtype, f.data, [...f.dims]);
}

function feedsOf(feeds: Record<string, FeedTensor>): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, tensor(v)]));
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function session(file: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(join(dir, "onnx", file), { intraOpNumThreads: 1 });
}

describe("protobuf writer", () => {
  it("encodes varints, strings, floats and nested messages as the wire format says", () => {
    const w = new ProtoWriter();
    w.varintField(1, 150).varintField(2, 300).stringField(3, "hi").floatField(4, 1);
    w.messageField(5, (m) => m.varintField(1, 1));
    w.varintField(6, -1);
    expect([...w.finish()]).toEqual([
      0x08, 0x96, 0x01, 0x10, 0xac, 0x02, 0x1a, 0x02, 0x68, 0x69, 0x25, 0x00, 0x00, 0x80, 0x3f, 0x2a, 0x02,
      0x08, 0x01, 0x30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ]);
  });

  it("refuses a tensor whose data does not fill its shape", () => {
    const graph = {
      name: "g",
      nodes: [],
      initializers: [{ name: "t", dims: [2, 3], data: new Float32Array(5) }],
      inputs: [],
      outputs: [],
    };
    expect(() => encodeModel({ graph, producerVersion: "x", metadata: {} })).toThrow(
      /shape \[2, 3\] holds 6 values, got 5/,
    );
  });
});

describe("watchnext export onnx on bad input", () => {
  it("names a missing model directory and a missing --out", async () => {
    const fail = (args: string[]) =>
      run("node", [main, "export", "onnx", ...args]).then(
        () => ({ code: 0, stderr: "" }),
        (e: { code: number; stderr: string }) => e,
      );
    const none = join(tmpdir(), "wn-onnx-no-such-model");
    const missing = await fail(["--model", none, "--data", ml100k, "--out", join(tmpdir(), "wn-onnx-x")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(join(none, "manifest.json"));
    const noOut = await fail(["--model", none, "--data", ml100k]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/--out <dir> is required/);
  });
});

describe("ONNX export of an ml-100k model", () => {
  beforeAll(async () => {
    if (!existsSync(main))
      throw new Error(`${main} is missing: run \`npx tsc -p tsconfig.json\` (npm test does)`);
    dir = mkdtempSync(join(tmpdir(), "wn-onnx-"));
    const env = { ...process.env, WATCHNEXT_THREADS: "1" };
    await run(
      "node",
      [
        main,
        "train",
        "--data",
        ml100k,
        "--out",
        join(dir, "model"),
        "--sources",
        "dnn,pop7",
        "--seed",
        "1",
        "--quiet",
        "--candidates-config",
        candidatesConfig,
        "--config",
        rankerConfig,
      ],
      { env },
    );
    const out = await run(
      "node",
      [main, "export", "onnx", "--model", join(dir, "model"), "--data", ml100k, "--out", join(dir, "onnx")],
      { env },
    );
    expect(out.stdout).toMatch(/candidate_tower\.onnx, items\.onnx, candidate_scores\.onnx, ranker\.onnx/);
    manifest = JSON.parse(readFileSync(join(dir, "onnx", ONNX_MANIFEST_FILE), "utf8")) as OnnxExportManifest;
    data = await loadDataset(ml100k);
    loaded = loadTwoStage(join(dir, "model"), data);
  }, 400_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The first 300 validation users of the split the model was trained on. */
  const queries = (n = 300): QueryBatch => sliceQueries(loaded.split.valid, 0, n, new Int32Array(n + 1));

  it("the candidate tower gives watchnext's user vectors within 1e-5", async () => {
    const model = loaded.model.candidates;
    const q = queries();
    const expected = model.encodeQueries(q);
    const batch = model.features.allocBatch(q.users.length);
    model.features.fillQueryBatch(q, 0, q.users.length, batch);
    const feeds = schemaFeeds(batch, model.features.schema);
    const declared = manifest.graphs.candidate_tower.inputs.map((i) => i.name).sort();
    expect(Object.keys(feeds).sort()).toEqual(declared);
    // Side features of ml-100k: a weighted bag (genres), categorical inputs and a dense block.
    expect(declared).toEqual(expect.arrayContaining(["watches", "watchGenres_weights", "gender", "dense"]));
    const s = await session("candidate_tower.onnx");
    const got = (await s.run(feedsOf(feeds))).user;
    expect(got.dims).toEqual([q.users.length, model.userDim]);
    const user = got.data as Float32Array;
    expect(maxAbsDiff(user, expected)).toBeLessThanOrEqual(1e-5);
    // Not a trivially zero tower.
    expect(expected.some((x) => Math.abs(x) > 1e-3)).toBe(true);
  });

  it("the item graph holds the item matrix and the scores graph ranks the same top 20", async () => {
    const model = loaded.model.candidates;
    const items = (await (await session("items.onnx")).run({})).item_vectors;
    expect(items.dims).toEqual([model.numItems, model.userDim]);
    expect(maxAbsDiff(items.data as Float32Array, model.itemVectors())).toBe(0);
    expect(manifest.itemIds).toEqual(data.items.ids);

    const q = queries();
    const k = 20;
    const rec = model.recommend(q, k);
    const u = model.encodeQueries(q);
    const scores = (
      await (
        await session("candidate_scores.onnx")
      ).run({
        user: new ort.Tensor("float32", u, [q.users.length, model.userDim]),
      })
    ).scores.data as Float32Array;
    const N = model.numItems;
    const expectedScores = new Float32Array(q.users.length * N);
    model.scoreRange(q, 0, q.users.length, expectedScores);
    expect(maxAbsDiff(scores, expectedScores)).toBeLessThanOrEqual(1e-5);
    for (let r = 0; r < q.users.length; r++) {
      const seen = new Set(q.historyItems.subarray(q.historyOffsets[r], q.historyOffsets[r + 1]));
      const order = Array.from({ length: N }, (_, i) => i)
        .filter((i) => !seen.has(i))
        .sort((a, b) => scores[r * N + b] - scores[r * N + a] || a - b)
        .slice(0, k);
      expect(order).toEqual([...rec.items.subarray(r * k, (r + 1) * k)]);
    }
  });

  it("the ranker graph gives watchnext's logits within 1e-5 on real impression lists", async () => {
    const two = loaded.model;
    const ranker = two.ranker;
    if (!ranker) throw new Error("the two-stage model has no ranker");
    const q = queries(40);
    const input = two.input(two.lists(q));
    const expected = ranker.score(input);
    const set = input.set;
    const batch = ranker.features.allocBatch(set.users.length, set.items.length);
    ranker.features.clear(batch);
    for (let l = 0; l < set.users.length; l++) ranker.features.append(input, l, batch);
    expect(batch.size).toBe(set.items.length);
    const feeds = rankerFeeds(batch, ranker.features.schema);
    expect(Object.keys(feeds).sort()).toEqual(manifest.graphs.ranker.inputs.map((i) => i.name).sort());
    const got = (await (await session("ranker.onnx")).run(feedsOf(feeds))).logit;
    expect(got.dims).toEqual([set.items.length]);
    expect(maxAbsDiff(got.data as Float32Array, expected)).toBeLessThanOrEqual(1e-5);
    // Each list ordered by the ONNX logits is the order watchnext gives it.
    const logits = got.data as Float32Array;
    for (let l = 0; l < set.users.length; l++) {
      const idx = Array.from(
        { length: set.listOffsets[l + 1] - set.listOffsets[l] },
        (_, i) => set.listOffsets[l] + i,
      );
      const byOnnx = [...idx].sort((a, b) => logits[b] - logits[a] || a - b).slice(0, 10);
      const byWatchnext = [...idx].sort((a, b) => expected[b] - expected[a] || a - b).slice(0, 10);
      expect(byOnnx).toEqual(byWatchnext);
    }
  });
});
