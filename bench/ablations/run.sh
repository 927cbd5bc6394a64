#!/usr/bin/env bash
# Candidate-generator ablations: each line of variants.tsv (dataset, name, config over the
# defaults) is trained and evaluated with the CLI (protocol loo, seed 1); one JSON line per run goes
# to bench/results/ablations.jsonl, and `node bench/ablations/table.mjs` prints the Markdown tables.
#   bash bench/ablations/run.sh [variants.tsv]      (after npm run build; ~25 min on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
list=${1:-bench/ablations/variants.tsv}
out=bench/results/ablations.jsonl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: > "$out.tmp"
while IFS=$'\t' read -r ds name cfg; do
  [ -z "$ds" ] && continue
  model=$work/$ds-$name
  WATCHNEXT_BACKEND=native node dist/src/cli/main.js train candidates --data "../shared/data/$ds" \
    --out "$model" --config "$cfg" --seed 1 --quiet 2> "$work/train.log"
  WATCHNEXT_BACKEND=native node dist/src/cli/main.js evaluate --model "$model" \
    --data "../shared/data/$ds" --json 2> /dev/null > "$work/eval.json"
  node -e '
    const fs = require("fs");
    const [ds, name, cfg, evalPath, manifestPath, out] = process.argv.slice(1);
    const r = JSON.parse(fs.readFileSync(evalPath, "utf8")).results[0];
    const s = JSON.parse(fs.readFileSync(manifestPath, "utf8")).metadata.summary;
    const row = { ds, name, cfg: JSON.parse(cfg), valid: r.valid, test: r.test,
      bestEpoch: s.bestEpoch, secondsToBest: s.secondsToBest };
    fs.appendFileSync(out, JSON.stringify(row) + "\n");
    console.log(ds, name, "test HR@10", r.test["HR@10"].toFixed(4), "NDCG@10", r.test["NDCG@10"].toFixed(4));
  ' "$ds" "$name" "$cfg" "$work/eval.json" "$model/manifest.json" "$out.tmp"
done < "$list"
mv "$out.tmp" "$out"
