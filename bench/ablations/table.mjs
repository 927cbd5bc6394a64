// Prints the Markdown tables of bench/results/ablations.jsonl (written by bench/ablations/run.sh).
import { readFileSync } from "node:fs";
const runs = readFileSync("bench/results/ablations.jsonl", "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l));
for (const ds of ["ml-100k", "ml-latest-small"]) {
  const rs = runs.filter((r) => r.ds === ds);
  if (!rs.length) continue;
  console.log(
    `\n### ${ds}\n\n| variant | config over the defaults | valid HR@10 | valid NDCG@10 | test HR@10 | test NDCG@10 | test HR@50 | test MRR | best epoch | s to best |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|`,
  );
  for (const r of rs) {
    const f = (x) => x.toFixed(4);
    console.log(
      `| ${r.name} | \`${JSON.stringify(r.cfg)}\` | ${f(r.valid["HR@10"])} | ${f(r.valid["NDCG@10"])} | ${f(r.test["HR@10"])} | ${f(r.test["NDCG@10"])} | ${f(r.test["HR@50"])} | ${f(r.test["MRR"])} | ${r.bestEpoch} | ${r.secondsToBest.toFixed(1)} |`,
    );
  }
}
