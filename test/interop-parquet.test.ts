/**
 * Parquet export and the PyTorch round trip on ml-100k: `watchnext export examples` writes the
 * training examples and validation queries exactly as watchnext packs them (checked row by row
 * against the packed batches, read back with DuckDB) with the schema in the key-value metadata;
 * the reference trainer bench/peers/torch_candidates_parquet.py (Debian's /usr/bin/python3 with
 * torch) trains the tower from them for a few hundred steps and writes a model directory that
 * `watchnext evaluate` loads and scores to the same validation metrics the trainer measured.
 * `--ranker` adds the ranker's impression lists (checked against the lists built in process, on
 * small synthetic data). Without torch the round trip fails under CI=true and is skipped (with a
 * warning) otherwise.
 */
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../src/data/load.js";
import { splitLoo } from "../src/eval/split-loo.js";
import { buildCandidateFeatures } from "../src/features/candidate-features.js";
import {
  EXAMPLE_FILES,
  KV_MANIFEST,
  KV_SCHEMA,
  type ExamplesSchema,
} from "../src/interop/parquet/examples-export.js";
import { resolveCandidateModelConfig } from "../src/models/candidates/config.js";
import { withSeed } from "../src/models/candidates/model.js";
import { writeSynthetic } from "../src/data/synth.js";
import { ItemTimeline } from "../src/features/ranking-context.js";
import { RankingFeatures } from "../src/features/ranking-features.js";
import { IMPRESSION_FILES, KV_RANKER_SCHEMA } from "../src/interop/parquet/impressions-export.js";
import { resolveRankerConfig } from "../src/models/ranking/config.js";
import { buildImpressions } from "../src/models/ranking/impression-builder.js";
import { rankingInputs } from "../src/models/ranking/train-two-stage.js";

const run = promisify(execFile);
const main = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
const ml100k = fileURLToPath(new URL("../../shared/data/ml-100k", import.meta.url));
const trainer = fileURLToPath(new URL("../bench/peers/torch_candidates_parquet.py", import.meta.url));
const PYTHON = "/usr/bin/python3";
const config = { features: { recentWatches: { counts: [1, 5] } } };
const hasTorch = spawnSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" }).status === 0;
const inCI = process.env.CI === "true";
if (!hasTorch && !inCI)
  console.warn(
    `interop-parquet: ${PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-pthread): skipping the PyTorch round trip; under CI=true this fails`,
  );
const env = { ...process.env, WATCHNEXT_THREADS: "1", OPENBLAS_NUM_THREADS: "1" };

let dir: string;

beforeAll(async () => {
  if (!existsSync(main))
    throw new Error(`${main} is missing: run \`npx tsc -p tsconfig.json\` (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), "wn-parquet-"));
  const args = ["export", "examples", "--data", ml100k, "--format", "parquet", "--out", join(dir, "ex")];
  const out = await run("node", [main, ...args, "--config", JSON.stringify(config), "--seed", "3"], { env });
  expect(out.stdout).toMatch(/wrote .*ex: \d+ training examples, 943 validation queries/);
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const c = await instance.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

describe("watchnext export examples --format parquet", () => {
  it("writes the packed training examples and validation queries with the schema as metadata", async () => {
    const file = join(dir, "ex", EXAMPLE_FILES.train).replaceAll("'", "''");
    const kv = await query(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${file}')`);
    const meta = Object.fromEntries(kv.map((r) => [String(r.k), String(r.v)]));
    const schema = JSON.parse(meta[KV_SCHEMA]) as ExamplesSchema;
    expect(schema.format).toBe("watchnext-examples");
    expect(schema.numItems).toBe(1682);
    // The default output is tied to the item input table: no table of its own, item i at row i + 1.
    expect(schema.tensors["output.embeddings"]).toBeUndefined();
    expect(schema.tensors["input.item"]).toEqual([1683, 64]);
    expect(schema.outputFirstRow).toBe(1);
    expect(meta[KV_MANIFEST].startsWith('{"format":"watchnext-model"')).toBe(true);

    // The same features, config and seed in process: every exported row equals the packed batch.
    const data = await loadDataset(ml100k);
    const split = splitLoo(data);
    const resolved = resolveCandidateModelConfig(withSeed(config, 3));
    const features = buildCandidateFeatures(split.train, resolved.features);
    const set = features.examples(1);
    const n = 300;
    const batch = features.allocBatch(n);
    features.fillTrainBatch(
      set,
      Int32Array.from({ length: set.size }, (_, i) => i),
      0,
      n,
      batch,
    );
    const rows = await query(`SELECT * FROM read_parquet('${file}') LIMIT ${n}`);
    const count = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet('${file}')`);
    expect(count[0].n).toBe(set.size);
    const bag = (name: string, b: number) => {
      const x = batch.bags[name];
      return [...x.indices.subarray(x.offsets[b], x.offsets[b + 1])];
    };
    for (let b = 0; b < n; b++) {
      const r = rows[b];
      expect(r.user).toBe(set.user[b]);
      expect(r.label).toBe(batch.labels[b]);
      expect(r.watches).toEqual(bag("watches", b));
      expect(r.recentWatches5).toEqual(bag("recentWatches5", b));
      expect(r.watchGenres).toEqual(bag("watchGenres", b));
      const w = batch.bags.watchGenres;
      expect(r.watchGenres_weights).toEqual([
        ...(w.weights as Float32Array).subarray(w.offsets[b], w.offsets[b + 1]),
      ]);
      expect(r.occupation).toBe(batch.categorical.occupation[b]);
      expect(r.dense).toEqual([...batch.dense.subarray(b * batch.denseWidth, (b + 1) * batch.denseWidth)]);
    }
    const validFile = join(dir, "ex", EXAMPLE_FILES.valid).replaceAll("'", "''");
    const v = await query(
      `SELECT user, targets, len(history)::INTEGER AS h FROM read_parquet('${validFile}') LIMIT 5`,
    );
    for (let q = 0; q < 5; q++) {
      expect(v[q].user).toBe(split.valid.users[q]);
      expect(v[q].targets).toEqual([split.valid.targetItems[q]]);
      expect(v[q].h).toBe(split.valid.historyOffsets[q + 1] - split.valid.historyOffsets[q]);
    }
  });

  it("refuses a format other than parquet with the expected one named", async () => {
    const r = await run("node", [
      main,
      "export",
      "examples",
      "--data",
      ml100k,
      "--format",
      "csv",
      "--out",
      join(dir, "x"),
    ]).catch((e: { code: number; stderr: string }) => e);
    expect("code" in r ? r.code : 0).toBe(2);
    expect("stderr" in r ? r.stderr : "").toMatch(/--format: expected parquet, got "csv"/);
  });
});

// Counted as a failure of its own under CI, not only as a skipped test.
it.runIf(inCI)("CI has torch in /usr/bin/python3 for the Parquet round trip", () => {
  expect(
    hasTorch,
    `${PYTHON} cannot import torch: .ci/run must apt-get install python3-torch libopenblas0-pthread`,
  ).toBe(true);
});

describe.skipIf(!hasTorch && !inCI)("PyTorch from Parquet round trip", () => {
  it("trains from the export, writes a model watchnext evaluate loads, with the trainer's own validation metrics", async () => {
    const model = join(dir, "torch-model");
    const t = await run(
      PYTHON,
      [trainer, "--examples", join(dir, "ex"), "--out", model, "--max-steps", "300", "--seed", "1"],
      {
        env,
      },
    );
    const report = JSON.parse(t.stdout.trim().split("\n").pop() as string) as {
      steps: number;
      valid: Record<string, number>;
    };
    expect(report.steps).toBe(300);
    const ev = await run("node", [main, "evaluate", "--model", model, "--data", ml100k, "--json"], { env });
    const valid = (JSON.parse(ev.stdout) as { results: Array<{ valid: Record<string, number> }> }).results[0]
      .valid;
    // The same weights scored by watchnext: the trainer's metrics, up to float summation order.
    expect(Math.abs(valid["HR@10"] - report.valid["HR@10"])).toBeLessThanOrEqual(1e-9);
    expect(Math.abs(valid["NDCG@10"] - report.valid["NDCG@10"])).toBeLessThanOrEqual(1e-9);
    // And it learned: chance is 10 / 1682 ≈ 0.006.
    expect(valid["HR@10"]).toBeGreaterThan(0.1);
  }, 300_000);
});

describe("watchnext export examples --ranker", () => {
  it("writes the ranker's training and validation lists, one row per candidate packed as the ranker packs it", async () => {
    const data = join(dir, "synth");
    await writeSynthetic(data, { users: 120, items: 150, events: 4000, seed: 7 });
    const candidates = {
      network: { depth: 1, outputDim: 16, tieOutput: false },
      train: { epochs: 2, batchSize: 128 },
    };
    const ranker = { train: { negativesPerList: 10 } };
    const out = join(dir, "ranker-ex");
    const r = await run(
      "node",
      [
        main,
        "export",
        "examples",
        "--data",
        data,
        "--format",
        "parquet",
        "--out",
        out,
        "--quiet",
        "--seed",
        "2",
      ]
        .concat(["--ranker", "--sources", "dnn,pop7", "--config", JSON.stringify(candidates)])
        .concat(["--ranker-config", JSON.stringify(ranker)]),
      { env },
    );
    expect(r.stdout).toMatch(/ranker candidates \d+ training \/ \d+ validation/);

    // The same lists in process (the builder is deterministic for a seed).
    const dataset = await loadDataset(data);
    const imp = await buildImpressions(dataset, {
      protocol: "loo",
      sources: ["dnn", "pop7"],
      seed: 2,
      settings: { dnn: { config: candidates } },
    });
    const inputs = rankingInputs(imp, dataset);
    const train = imp.split.train;
    const features = RankingFeatures.fit(
      train,
      ItemTimeline.fromDataset(train),
      inputs.train,
      resolveRankerConfig(ranker).features,
    );
    const file = join(out, IMPRESSION_FILES.train).replaceAll("'", "''");
    const count = await query(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT list)::INTEGER AS l FROM read_parquet('${file}')`,
    );
    const set = inputs.train.set;
    expect(count[0]).toEqual({ n: set.items.length, l: set.users.length });
    const lists = 3;
    const batch = features.allocBatch(lists, set.listOffsets[lists]);
    features.clear(batch);
    for (let l = 0; l < lists; l++) features.append(inputs.train, l, batch);
    const rows = await query(
      `SELECT * FROM read_parquet('${file}') WHERE list < ${lists} ORDER BY list, item`,
    );
    const byKey = new Map(rows.map((row) => [`${String(row.list)}:${String(row.item)}`, row]));
    for (let l = 0; l < lists; l++) {
      for (let c = batch.listOffsets[l]; c < batch.listOffsets[l + 1]; c++) {
        const row = byKey.get(`${l}:${batch.items[c]}`);
        expect(row, `list ${l} item ${batch.items[c]}`).toBeDefined();
        expect(row?.user).toBe(set.users[l]);
        expect(row?.label).toBe(batch.labels[c]);
        expect(row?.weight).toBe(batch.weights[c]);
        const w = batch.impression.denseWidth;
        expect(row?.["impression.dense"]).toEqual([...batch.impression.dense.subarray(c * w, (c + 1) * w)]);
        const q = batch.query.bags.watched;
        expect(row?.["query.watched"]).toEqual([...q.indices.subarray(q.offsets[l], q.offsets[l + 1])]);
        expect(row?.["impression.impression_item"]).toBe(batch.impression.categorical.impression_item[c]);
      }
    }
    const kv = await query(`SELECT decode(key) AS k FROM parquet_kv_metadata('${file}')`);
    expect(kv.map((x) => x.k)).toContain(KV_RANKER_SCHEMA);
  }, 300_000);
});
