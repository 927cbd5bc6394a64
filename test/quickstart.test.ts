/**
 * `watchnext quickstart`'s model reuse: the key follows the data bytes, config and seed; a second
 * run reuses the trained model (same test metrics, no training); an interrupted or damaged model
 * is never reused. Then the command itself through the compiled CLI: it trains, prints the test
 * metrics and the URL, serves the page (found from dist) and the API, stops on SIGTERM, and on a
 * second run reuses the model. Small synthetic data and a tiny config keep it to seconds.
 */
import { spawn } from "node:child_process";
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../src/data/load.js";
import type { Dataset } from "../src/data/dataset.js";
import { writeSynthetic } from "../src/data/synth.js";
import { prepareQuickstartModel, quickstartKey, type PrepareOptions } from "../src/cli/quickstart-model.js";
import type { CandidateConfigInput } from "../src/models/candidates/config.js";

const config: CandidateConfigInput = {
  network: { depth: 1, outputDim: 16 },
  train: { epochs: 2, batchSize: 128, lr: 0.005 },
  features: { embeddingDim: { item: 16, token: 8 }, recentWatches: { counts: [1, 5] } },
};

let dir: string;
let data: string;
let dataset: Dataset;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "wn-quickstart-"));
  data = join(dir, "data");
  await writeSynthetic(data, { users: 150, items: 200, events: 5000, seed: 7 });
  dataset = await loadDataset(data);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function options(models: string, extra: Partial<PrepareOptions> = {}): PrepareOptions {
  return { dataPath: data, loadOptions: {}, dataset, modelsDir: models, config, seed: 1, ...extra };
}

describe("quickstart model key", () => {
  it("depends on the data bytes, the config and the seed, not on where the data lives", async () => {
    const key = await quickstartKey(data, {}, config, 1);
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(await quickstartKey(data, {}, config, 1)).toBe(key);

    const moved = join(dir, "moved");
    cpSync(data, moved, { recursive: true });
    expect(await quickstartKey(moved, {}, config, 1)).toBe(key);
    appendFileSync(join(moved, "ratings.csv"), "1,1,5,1\n");
    expect(await quickstartKey(moved, {}, config, 1)).not.toBe(key);

    expect(await quickstartKey(data, {}, config, 2)).not.toBe(key);
    const other = { ...config, train: { ...config.train, lr: 0.01 } };
    expect(await quickstartKey(data, {}, other, 1)).not.toBe(key);
    // The defaults are part of the key: spelling a default out changes nothing.
    const spelled = { ...config, train: { ...config.train, epochs: 2 } };
    expect(await quickstartKey(data, {}, spelled, 1)).toBe(key);
  });
});

describe("quickstart model reuse", () => {
  it("trains once, then reuses the model with the same test metrics", async () => {
    const models = join(dir, "models-reuse");
    const lines: string[] = [];
    const first = await prepareQuickstartModel(options(models, { log: (l) => lines.push(l) }));
    expect(first.reused).toBe(false);
    expect(first.interrupted).toBe(false);
    expect(existsSync(join(first.dir, "manifest.json"))).toBe(true);
    expect(first.test.hr10).toBeGreaterThan(0);
    expect(first.test.hr10).toBeLessThanOrEqual(1);
    expect(first.test.ndcg10).toBeGreaterThan(0);
    expect(first.test.ndcg10).toBeLessThanOrEqual(first.test.hr10);

    const manifest = readFileSync(join(first.dir, "manifest.json"), "utf8");
    const second = await prepareQuickstartModel(options(models, { log: (l) => lines.push(l) }));
    expect(second.reused).toBe(true);
    expect(second.dir).toBe(first.dir);
    expect(second.test).toEqual(first.test);
    // Not rewritten: the manifest (with its creation time) is byte-identical.
    expect(readFileSync(join(first.dir, "manifest.json"), "utf8")).toBe(manifest);
    expect(lines.some((l) => l.startsWith("reusing "))).toBe(true);

    const again = await prepareQuickstartModel(options(models, { retrain: true }));
    expect(again.reused).toBe(false);
  });

  it("retrains a damaged model instead of serving it", async () => {
    const models = join(dir, "models-damaged");
    const first = await prepareQuickstartModel(options(models));
    const tensors = join(first.dir, "tensors.safetensors");
    const bytes = readFileSync(tensors);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(tensors, bytes);
    const lines: string[] = [];
    const second = await prepareQuickstartModel(options(models, { log: (l) => lines.push(l) }));
    expect(second.reused).toBe(false);
    expect(lines.some((l) => l.startsWith(`cannot reuse ${first.dir}`))).toBe(true);
    expect(second.test).toEqual(first.test);
  });

  it("keeps nothing when training is interrupted", async () => {
    const models = join(dir, "models-interrupted");
    const controller = new AbortController();
    controller.abort();
    const result = await prepareQuickstartModel(options(models, { signal: controller.signal }));
    expect(result.interrupted).toBe(true);
    expect(existsSync(result.dir)).toBe(false);
  });
});

const main = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));

interface Run {
  stdout: string;
  stderr: string;
  url: string;
  stop(): Promise<number | null>;
}

/** Starts `watchnext quickstart` and resolves once it prints the URL (rejects if it exits first or after 60 s). */
function startQuickstart(models: string): Promise<Run> {
  const child = spawn(
    "node",
    [
      main,
      "quickstart",
      "--data",
      data,
      "--config",
      JSON.stringify(config),
      "--models",
      models,
      "--port",
      "0",
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WATCHNEXT_THREADS: "1" } },
  );
  const run = { stdout: "", stderr: "", url: "" };
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`quickstart printed no URL in 60 s:\n${run.stdout}\n${run.stderr}`));
    }, 60_000);
    child.stderr.on("data", (b: Buffer) => (run.stderr += b.toString()));
    child.stdout.on("data", (b: Buffer) => {
      run.stdout += b.toString();
      const m = /serving on (http:\/\/127\.0\.0\.1:\d+)\//.exec(run.stdout);
      if (m && !run.url) {
        clearTimeout(timer);
        run.url = m[1];
        resolvePromise({
          ...run,
          get stdout() {
            return run.stdout;
          },
          get stderr() {
            return run.stderr;
          },
          stop: () => {
            child.kill("SIGTERM");
            return exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      if (!run.url)
        reject(new Error(`quickstart exited with ${code} before serving:\n${run.stdout}\n${run.stderr}`));
    });
  });
}

describe("watchnext quickstart (CLI)", () => {
  it("trains, evaluates, serves the page and the API, stops on SIGTERM, and reuses the model next time", async () => {
    if (!existsSync(main))
      throw new Error(`${main} is missing: run \`npx tsc -p tsconfig.json\` (npm test does)`);
    const models = join(dir, "models-cli");
    const first = await startQuickstart(models);
    try {
      expect(first.stdout).toMatch(/^test \(leave-one-out, .+\): HR@10 0\.\d{4} {2}NDCG@10 0\.\d{4}$/m);
      expect(first.stderr).toMatch(/training .*quickstart-[0-9a-f]{16}/);
      const page = await fetch(`${first.url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<script type="module" src="/web/app.js">');
      const script = await fetch(`${first.url}/web/app.js`);
      expect(script.status).toBe(200);
      expect(script.headers.get("content-type")).toMatch(/javascript/);
      const recs = (await (await fetch(`${first.url}/v1/users/1/recommendations?k=5`)).json()) as {
        items: unknown[];
      };
      expect(recs.items).toHaveLength(5);
    } finally {
      expect(await first.stop()).toBe(0);
    }
    const testLine = /^test .*$/m.exec(first.stdout)?.[0];

    const second = await startQuickstart(models);
    try {
      expect(second.stderr).toMatch(/reusing .*quickstart-[0-9a-f]{16}/);
      expect(second.stderr).not.toMatch(/training /);
      expect(/^test .*$/m.exec(second.stdout)?.[0]).toBe(testLine);
      expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });
});
