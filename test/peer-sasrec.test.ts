/**
 * The SASRec+ peer (bench/peers/torch_sasrec.py, Debian's /usr/bin/python3 with torch) that
 * docs/results/sequence.md compares the order-aware encoder with: its own `loo` split and ranking
 * code must give the project's figures, so MostPop scored by it equals `watchnext baselines`
 * MostPop on ml-100k and on a short-history subset to the last digit; and a short training run on
 * synthetic data reports valid and test metrics for every evaluated user. Without torch this
 * fails under CI=true and is skipped (with a warning) otherwise.
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const main = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
const ml100k = fileURLToPath(new URL("../../shared/data/ml-100k", import.meta.url));
const peer = fileURLToPath(new URL("../bench/peers/torch_sasrec.py", import.meta.url));
const PYTHON = "/usr/bin/python3";
const hasTorch = spawnSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" }).status === 0;
const inCI = process.env.CI === "true";
if (!hasTorch && !inCI)
  console.warn(
    `peer-sasrec: ${PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-pthread): skipping; under CI=true this fails`,
  );
const env = { ...process.env, WATCHNEXT_THREADS: "1", OPENBLAS_NUM_THREADS: "1" };

interface Metrics {
  readonly "HR@10": number;
  readonly "NDCG@10": number;
}

async function ourMostPop(data: string): Promise<{ users: number; test: Metrics }> {
  const out = await run("node", [main, "baselines", "--data", data, "--models", "mostpop", "--json"], {
    env,
  });
  const report = JSON.parse(out.stdout) as {
    protocol_params: { evaluatedUsers: number };
    results: { test: Metrics }[];
  };
  return { users: report.protocol_params.evaluatedUsers, test: report.results[0]!.test };
}

async function peerJson(args: string[]): Promise<Record<string, unknown>> {
  const out = await run(PYTHON, [peer, ...args], { env, maxBuffer: 1 << 20 });
  return JSON.parse(out.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
}

let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "wn-sasrec-"));
  await run(
    "node",
    [main, "data", "cut-history", "--data", ml100k, "--last", "7", "--out", join(dir, "last7")],
    { env },
  );
  await run(
    "node",
    [
      main,
      "data",
      "synth",
      "--out",
      join(dir, "synth"),
      "--users",
      "150",
      "--items",
      "200",
      "--events",
      "4000",
      "--seed",
      "2",
    ],
    { env },
  );
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasTorch && !inCI)("SASRec+ peer", () => {
  it.each([
    ["ml-100k", () => ml100k],
    ["ml-100k, each user's last 7 events", () => join(dir, "last7")],
  ])(
    "scores MostPop like `watchnext baselines` on %s (same split, seen filter and ties)",
    async (_, data) => {
      const ours = await ourMostPop(data());
      const theirs = (await peerJson(["--data", data(), "--check-mostpop"])).mostpop as {
        users: number;
        hr10: number;
        ndcg10: number;
      };
      expect(theirs.users).toBe(ours.users);
      expect(theirs.hr10).toBeCloseTo(ours.test["HR@10"], 12);
      expect(theirs.ndcg10).toBeCloseTo(ours.test["NDCG@10"], 12);
    },
    60_000,
  );

  it("trains a few epochs and reports valid and test metrics for every evaluated user", async () => {
    const ours = await ourMostPop(join(dir, "synth"));
    const r = await peerJson([
      "--data",
      join(dir, "synth"),
      "--seed",
      "1",
      "--epochs",
      "2",
      "--maxlen",
      "20",
      "--dim",
      "16",
    ]);
    expect(r.users).toBe(ours.users);
    expect(r.epochsRun).toBe(2);
    expect([1, 2]).toContain(r.bestEpoch);
    for (const split of ["valid", "test"] as const) {
      const m = r[split] as { hr10: number; ndcg10: number; hr50: number; mrr: number };
      expect(m.hr10).toBeGreaterThanOrEqual(0);
      expect(m.hr50).toBeGreaterThanOrEqual(m.hr10);
      expect(m.hr50).toBeLessThanOrEqual(1);
      expect(m.ndcg10).toBeLessThanOrEqual(m.hr10);
      expect(m.mrr).toBeGreaterThan(0);
    }
  }, 120_000);
});
