/**
 * Side files with any columns: an items file shaped like the Amazon product metadata (asin, a
 * category id, lists of related asins) and a users file with a categorical and a numeric column
 * load through the named-column flags, become features of the one candidate schema (item columns
 * summed into the watched item's slot as bags, user columns as bags and quantile-normalized dense
 * inputs), pack the right rows, survive the JSON round trip, and train and evaluate via the CLI.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dataset } from "../src/data/dataset.js";
import type { LoadOptions } from "../src/data/load-options.js";
import { loadDataset } from "../src/data/load.js";
import { Rng } from "../src/engine/rng.js";
import {
  buildCandidateFeatures,
  candidateFeaturesFromJSON,
  WATCH_SLOT,
} from "../src/features/candidate-features.js";

const run = promisify(execFile);
const main = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));

const NUM_USERS = 80;
const NUM_ITEMS = 40;
let root: string;
let log: string;
let items: string;
let users: string;

const asin = (i: number): string => `B00${String(i).padStart(4, "0")}X`;
const category = (i: number): string => `cat${i % 5}`;
/** Three related products, like the metadata's also_bought list. */
const related = (i: number): string[] => [
  asin((i + 1) % NUM_ITEMS),
  asin((i + 7) % NUM_ITEMS),
  asin((i + 13) % NUM_ITEMS),
];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "watchnext-columns-"));
  const rng = new Rng(7);
  const lines = ["reviewerID\tasin\tunixReviewTime"];
  let t = 1_300_000_000;
  for (let u = 0; u < NUM_USERS; u++) {
    // Each user stays mostly within one category, so the category feature carries signal.
    const home = u % 5;
    for (let k = 0; k < 12; k++) {
      const i =
        rng.nextFloat() < 0.8
          ? home + 5 * Math.floor(rng.nextFloat() * (NUM_ITEMS / 5))
          : Math.floor(rng.nextFloat() * NUM_ITEMS);
      t += 60;
      lines.push(`R${u}\t${asin(i)}\t${t}`);
    }
  }
  log = join(root, "reviews.csv");
  await writeFile(log, `${lines.join("\n")}\n`);
  const meta = ["asin,title,main_cat,also_bought"];
  for (let i = 0; i < NUM_ITEMS; i++)
    meta.push(`${asin(i)},"Product ${i}, boxed",${category(i)},${related(i).join("|")}`);
  meta.push(`B0UNKNOWN,"No reviews",cat9,${asin(1)}`);
  items = join(root, "meta.csv");
  await writeFile(items, `${meta.join("\n")}\n`);
  const people = ["id;country;tenure_days"];
  for (let u = 0; u < NUM_USERS; u++)
    people.push(`R${u};${["de", "fr", "us|ca"][u % 3]};${u % 4 === 0 ? "" : 10 * u}`);
  users = join(root, "users.csv");
  await writeFile(users, `${people.join("\n")}\n`);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function options(): LoadOptions {
  return {
    userCol: "reviewerID",
    itemCol: "asin",
    timeCol: "unixReviewTime",
    itemsFile: items,
    itemCategoryCols: ["main_cat", "also_bought"],
    usersFile: users,
    userIdCol: "id",
    userCategoryCols: ["country"],
    userNumberCols: ["tenure_days"],
  };
}

function valuesOf(d: Dataset, column: string, item: string): string[] {
  const c = d.itemInfo.categories?.find((x) => x.name === column);
  if (!c) throw new Error(`no column ${column}`);
  const i = d.items.index.get(item) as number;
  return Array.from(c.values.subarray(c.offsets[i], c.offsets[i + 1]), (v) => c.names[v]);
}

describe("named side-file columns", () => {
  it("load as categorical bags and numbers, titles kept", async () => {
    const d = await loadDataset(log, options());
    expect(d.items.ids.length).toBe(NUM_ITEMS);
    expect(valuesOf(d, "main_cat", asin(3))).toEqual(["cat3"]);
    expect(valuesOf(d, "also_bought", asin(3))).toEqual(related(3));
    expect(d.itemInfo.title[d.items.index.get(asin(3)) as number]).toBe("Product 3, boxed");
    const u = d.userInfo;
    const country = u?.categories?.[0];
    const r2 = d.users.index.get("R2") as number;
    expect(country?.name).toBe("country");
    expect(
      Array.from(
        country!.values.subarray(country!.offsets[r2], country!.offsets[r2 + 1]),
        (v) => country!.names[v],
      ),
    ).toEqual(["us", "ca"]);
    const tenure = u?.numbers?.[0];
    expect(tenure?.values[d.users.index.get("R5") as number]).toBe(50);
    expect(tenure?.values[d.users.index.get("R4") as number]).toBeNaN();
    expect(d.report.warnings.join("\n")).toMatch(/meta\.csv: 1 item has no events/);
  });

  it("read the same from a Parquet items file whose list column is a Parquet LIST", async () => {
    const { DuckDBInstance } = await import("@duckdb/node-api");
    const pq = join(root, "meta.parquet");
    const db = await DuckDBInstance.create(":memory:");
    const c = await db.connect();
    await c.run(
      `COPY (SELECT asin, title, main_cat, string_split(also_bought, '|') AS also_bought FROM read_csv('${items}', header=true)) TO '${pq}' (FORMAT parquet)`,
    );
    c.closeSync();
    db.closeSync();
    const fromCsv = await loadDataset(log, options());
    const fromParquet = await loadDataset(log, { ...options(), itemsFile: pq });
    expect(fromParquet.itemInfo.categories).toEqual(fromCsv.itemInfo.categories);
    expect(fromParquet.itemInfo.title).toEqual(fromCsv.itemInfo.title);
  });

  it("name the flag when a named column is missing", async () => {
    await expect(loadDataset(log, { ...options(), itemCategoryCols: ["main_cat", "brand"] })).rejects.toThrow(
      /meta\.csv:1: field 'brand': column not found in the header; .*\(choose the column with --item-category-cols\)/,
    );
    await expect(loadDataset(log, { ...options(), userNumberCols: ["country"] })).rejects.toThrow(
      /users\.csv:2: field 'country': expected a number, got "de"/,
    );
  });

  it("become schema features and pack the watched items' rows", async () => {
    const d = await loadDataset(log, options());
    const f = buildCandidateFeatures(d, { recentWatches: { enabled: false } });
    const names = f.schema.features.map((x) => x.name);
    expect(names).toEqual(
      expect.arrayContaining(["itemColumn:main_cat", "itemColumn:also_bought", "userColumn:country"]),
    );
    const bag = (n: string) => f.schema.features.find((x) => x.name === n);
    expect(bag("itemColumn:main_cat")).toMatchObject({ kind: "bag", slot: WATCH_SLOT });
    expect(bag("userColumn:country")).toMatchObject({ kind: "bag" });
    expect(bag("userColumn:country")).not.toHaveProperty("slot");
    expect(bag("userNumber:tenure_days")).toMatchObject({ kind: "continuous", width: 4 });
    // main_cat has 5 values (+ row 0), also_bought 40 related asins (+ row 0).
    expect(f.schema.tables.find((t) => t.name === "itemColumn:main_cat")?.rows).toBe(6);
    expect(f.schema.tables.find((t) => t.name === "itemColumn:also_bought")?.rows).toBe(NUM_ITEMS + 1);

    const set = f.examples();
    const batch = f.allocBatch(8);
    const order = Int32Array.from({ length: set.size }, (_, k) => k);
    f.fillTrainBatch(set, order, 0, 8, batch);
    const json = f.toJSON();
    const vocab = json.columns?.item.find((c) => c.name === "main_cat")?.vocab;
    expect(vocab).toBeDefined();
    for (let b = 0; b < 8; b++) {
      // The history of example b, from the watch bag (item rows are item index + 1 here).
      const e = order[b];
      const u = set.user[e];
      const cat = batch.bags["itemColumn:main_cat"];
      const rows = Array.from(cat.indices.subarray(cat.offsets[b], cat.offsets[b + 1]));
      const weights = Array.from((cat.weights as Float32Array).subarray(cat.offsets[b], cat.offsets[b + 1]));
      const watched = batch.bags.watches;
      expect(rows.length).toBe(watched.offsets[b + 1] - watched.offsets[b]); // one category per item
      if (rows.length > 0) expect(weights.reduce((a, x) => a + x, 0)).toBeCloseTo(1, 5);
      for (const r of rows) expect(vocab!.values[r - 1]).toMatch(/^cat[0-4]$/);
      const country = batch.bags["userColumn:country"];
      expect(country.offsets[b + 1] - country.offsets[b]).toBe(u % 3 === 2 ? 2 : 1);
      const col = f.schema.features.find((x) => x.name === "userNumber:tenure_days");
      const dense = batch.dense.subarray(b * batch.denseWidth, (b + 1) * batch.denseWidth);
      const off = col && col.kind === "continuous" ? col.offset : -1;
      const userId = d.users.ids[u];
      const missing = Number(userId.slice(1)) % 4 === 0;
      expect(dense[off + 3]).toBe(missing ? 1 : 0);
      if (!missing) expect(dense[off]).toBeGreaterThan(0);
    }

    // A saved model maps the side files the same way.
    const again = candidateFeaturesFromJSON(JSON.parse(JSON.stringify(json)), d);
    const batch2 = again.allocBatch(8);
    again.fillTrainBatch(set, order, 0, 8, batch2);
    expect(
      Array.from(
        batch2.bags["itemColumn:also_bought"].indices.subarray(
          0,
          batch2.bags["itemColumn:also_bought"].offsets[8],
        ),
      ),
    ).toEqual(
      Array.from(
        batch.bags["itemColumn:also_bought"].indices.subarray(
          0,
          batch.bags["itemColumn:also_bought"].offsets[8],
        ),
      ),
    );
    expect(Array.from(batch2.dense)).toEqual(Array.from(batch.dense));
  });

  it("train and evaluate through the CLI with the column flags", async () => {
    if (!existsSync(main))
      throw new Error(`${main} is missing: run \`npx tsc -p tsconfig.json\` (npm test does)`);
    const flags = [
      "--data",
      log,
      "--user-col",
      "reviewerID",
      "--item-col",
      "asin",
      "--time-col",
      "unixReviewTime",
      "--items-file",
      items,
      "--item-category-cols",
      "main_cat,also_bought",
      "--users-file",
      users,
      "--user-id-col",
      "id",
      "--user-category-cols",
      "country",
      "--user-number-cols",
      "tenure_days",
    ];
    const out = join(root, "model");
    const config = JSON.stringify({
      network: { depth: 1, outputDim: 8 },
      train: { epochs: 2, batchSize: 64, lr: 0.01 },
      features: { embeddingDim: { item: 8, token: 4 }, recentWatches: { counts: [1] } },
    });
    const env = { ...process.env, WATCHNEXT_THREADS: "1" };
    await run(
      "node",
      [main, "train", "candidates", ...flags, "--out", out, "--config", config, "--seed", "1"],
      { env },
    );
    const ev = await run("node", [main, "evaluate", "--model", out, ...flags, "--json"], { env });
    const report = JSON.parse(ev.stdout) as { results: Array<{ test: Record<string, number> }> };
    const hr = report.results[0].test["HR@10"];
    expect(hr).toBeGreaterThanOrEqual(0);
    expect(hr).toBeLessThanOrEqual(1);
  }, 120_000);
});
