// Runs the docs/results/embeddings.md experiments: for each (dataset, protocol, variant) and seed
// 1..3, `watchnext train candidates` with the variant's config, then `watchnext evaluate --json`;
// appends one JSON line per run to the output file (resumable: runs already there are skipped) and
// prints the mean ± sd table. Run with WATCHNEXT_THREADS=1 (SGNS and training then reproducible).
//
//   WATCHNEXT_THREADS=1 node scripts/embeddings-results.mjs [--out docs/results/embeddings-runs.jsonl]
//       [--only <variant name substring>] [--dataset <name>] [--protocol loo|temporal] [--seeds 1,2,3]
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    only: { type: "string" },
    dataset: { type: "string" },
    protocol: { type: "string" },
    seeds: { type: "string" },
  },
});
const out = values.out ?? "docs/results/embeddings-runs.jsonl";
const seeds = (values.seeds ?? "1,2,3").split(",").map(Number);
/**
 * Dataset directories: MovieLens from ../shared/data; "synth-drift" is `watchnext data synth --seed 1`
 * (2000 users, 3000 items, 200k events, planted drift, release spikes and cluster-correlated tags;
 * byte-identical for the seed), written once into the system temp directory.
 */
function data(name) {
  if (!name.startsWith("synth")) return join("..", "shared", "data", name);
  const dir = join(tmpdir(), "wn-emb-synth-drift-seed1");
  if (!existsSync(join(dir, "ratings.csv"))) cli(["data", "synth", "--out", dir, "--seed", "1"]);
  return dir;
}

/** [dataset, protocol, variant name, config]. */
const VARIANTS = [
  ["ml-100k", "loo", "defaults (random init, no recency)", {}],
  ["ml-100k", "loo", "item2vec fine-tune", { features: { itemSideInfo: { idInit: "item2vec" } } }],
  ["ml-100k", "loo", "recency 90 d", { features: { examples: { recencyHalfLifeDays: 90 } } }],
  ["ml-100k", "loo", "recency 30 d", { features: { examples: { recencyHalfLifeDays: 30 } } }],
  ["ml-100k", "loo", "recency 365 d", { features: { examples: { recencyHalfLifeDays: 365 } } }],
  ["ml-latest-small", "loo", "defaults (random init, no recency)", {}],
  ["ml-latest-small", "loo", "word2vec tokens fine-tune", { features: { search: { init: "word2vec" } } }],
  ["ml-latest-small", "loo", "item2vec fine-tune", { features: { itemSideInfo: { idInit: "item2vec" } } }],
  [
    "ml-100k",
    "loo",
    "item2vec frozen",
    { features: { itemSideInfo: { idInit: "item2vec", idPretrained: "frozen" } } },
  ],
  [
    "ml-latest-small",
    "loo",
    "item2vec frozen",
    { features: { itemSideInfo: { idInit: "item2vec", idPretrained: "frozen" } } },
  ],
  ...recencyVariants("ml-100k", "temporal", [0, 30, 90, 365]),
  ...recencyVariants("synth-drift", "temporal", [0, 30, 90, 365]),
  ...recencyVariants("synth-drift", "loo", [0, 90]),
  ...recencyVariants("ml-100k", "loo", [30, 90, 365], "loss"),
  ...recencyVariants("ml-100k", "temporal", [30, 90, 365], "loss"),
  ...recencyVariants("synth-drift", "temporal", [30, 90, 365], "loss"),
  ...recencyVariants("synth-drift", "loo", [90], "loss"),
  ["synth-drift", "loo", "word2vec tokens fine-tune", { features: { search: { init: "word2vec" } } }],
];

/**
 * Recency at each half-life (0 = the defaults row). "recency h d" rows were recency by resampling
 * (examples drawn ∝ the decay), measured at commit 674572d where `examples.recencyBy` chose between
 * resampling and loss weights; resampling has since been removed (loss weights were as good or
 * better), so only the "by loss" rows can be re-run, with the one remaining meaning of the option.
 */
function recencyVariants(dataset, protocol, halfLives, by = "sampling") {
  return halfLives.map((h) =>
    h === 0
      ? [dataset, protocol, "defaults (random init, no recency)", {}]
      : [
          dataset,
          protocol,
          by === "sampling" ? `recency ${h} d` : `recency ${h} d by loss`,
          by === "sampling" ? null : { features: { examples: { recencyHalfLifeDays: h } } },
        ],
  );
}

const done = new Set(
  existsSync(out)
    ? readFileSync(out, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => {
          const r = JSON.parse(l);
          return `${r.dataset}|${r.protocol}|${r.variant}|${r.seed}`;
        })
    : [],
);

function cli(args) {
  const r = spawnSync(process.execPath, ["dist/src/cli/main.js", ...args], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`watchnext ${args.join(" ")} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

for (const [dataset, protocol, variant, config] of VARIANTS) {
  if (config === null) continue; // a removed variant: its recorded runs stay in the table
  if (values.only && !variant.includes(values.only)) continue;
  if (values.dataset && dataset !== values.dataset) continue;
  if (values.protocol && protocol !== values.protocol) continue;
  for (const seed of seeds) {
    const key = `${dataset}|${protocol}|${variant}|${seed}`;
    if (done.has(key)) continue;
    const dir = mkdtempSync(join(tmpdir(), "wn-emb-"));
    try {
      const start = performance.now();
      const train = [
        "train",
        "candidates",
        "--data",
        data(dataset),
        "--protocol",
        protocol,
        "--seed",
        String(seed),
        "--quiet",
        "--out",
        join(dir, "m"),
        "--config",
        JSON.stringify(config),
      ];
      cli(train);
      const seconds = (performance.now() - start) / 1000;
      const report = JSON.parse(
        cli(["evaluate", "--model", join(dir, "m"), "--data", data(dataset), "--json"]),
      );
      const r = report.results[0];
      const line = {
        dataset,
        protocol,
        variant,
        seed,
        config,
        valid: r.valid,
        test: r.test,
        bestEpoch: r.params.epochs,
        seconds,
        command: `watchnext ${train.slice(0, -2).join(" ")} --out <dir> --config '${JSON.stringify(config)}'`,
      };
      appendFileSync(out, JSON.stringify(line) + "\n");
      const m = protocol === "loo" ? "HR@10" : "Recall@10";
      console.log(
        `${dataset} ${protocol} ${variant} seed ${seed}: test ${m} ${r.test[m].toFixed(4)} NDCG@10 ${r.test["NDCG@10"].toFixed(4)} (${seconds.toFixed(0)} s)`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

// The table: mean ± sd (sample sd over seeds) of the test metrics.
const rows = readFileSync(out, "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l));
const groups = new Map();
for (const r of rows) {
  const k = `${r.dataset}|${r.protocol}|${r.variant}`;
  if (!groups.has(k)) groups.set(k, []);
  groups.get(k).push(r);
}
const stat = (xs) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
  return `${m.toFixed(4)} ± ${sd.toFixed(4)}`;
};
console.log(
  "| dataset | protocol | variant | seeds | test HR@10 (Recall@10) | test NDCG@10 | valid NDCG@10 |",
);
console.log("|---|---|---|---|---|---|---|");
for (const [k, rs] of groups) {
  const [dataset, protocol, variant] = k.split("|");
  const m = protocol === "loo" ? "HR@10" : "Recall@10";
  console.log(
    `| ${dataset} | ${protocol} | ${variant} | ${rs.map((r) => r.seed).join(",")} | ${stat(rs.map((r) => r.test[m]))} | ${stat(rs.map((r) => r.test["NDCG@10"]))} | ${stat(rs.map((r) => r.valid["NDCG@10"]))} |`,
  );
}
