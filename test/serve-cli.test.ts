/**
 * `watchnext serve` refusing to start, with a message that says why: an unseeded store without
 * --data, a model that does not match the store's data, bad options. And --token-file works.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trainTinyModel } from "./support/serve-fixture.js";

const run = promisify(execFile);
const main = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
let dir: string;
let tiny: { dataDir: string; modelDir: string };
let other: { dataDir: string; modelDir: string };

beforeAll(async () => {
  if (!existsSync(main))
    throw new Error(`${main} is missing: run \`npx tsc -p tsconfig.json\` (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), "wn-serve-cli-"));
  tiny = await trainTinyModel(dir);
  other = await trainTinyModel(dir, { items: 120, seed: 9, name: "-other" });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function fails(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run("node", [main, "serve", ...args], { timeout: 30_000 });
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
  throw new Error(`serve ${args.join(" ")} did not fail`);
}

describe("serve CLI", () => {
  it("refuses an unseeded store without --data, and a model trained on other data", async () => {
    const empty = await fails([
      "--model",
      tiny.modelDir,
      "--store",
      `sqlite:${join(dir, "empty.db")}`,
      "--port",
      "0",
    ]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/never seeded from a dataset: start once with --data/);

    const store = `sqlite:${join(dir, "seeded.db")}`;
    const mismatch = await fails([
      "--model",
      other.modelDir,
      "--data",
      tiny.dataDir,
      "--store",
      store,
      "--port",
      "0",
    ]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/trained on 1\d\d items .* but .* has 29\d/);
  });

  it("refuses bad options with the reason", async () => {
    expect((await fails([])).stderr).toMatch(/--model <dir> is required/);
    expect((await fails(["--model", tiny.modelDir, "--port", "99999"])).stderr).toMatch(
      /--port: expected an integer/,
    );
    const empty = join(dir, "empty-token");
    writeFileSync(empty, "\n");
    expect((await fails(["--model", tiny.modelDir, "--token-file", empty])).stderr).toMatch(
      /--token-file: .* is empty/,
    );
    expect((await fails(["--model", tiny.modelDir, "--token", "a", "--token-file", empty])).stderr).toMatch(
      /not both/,
    );
  });

  it("serves with --token-file: writes need that token", async () => {
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, "from-a-file\n");
    const child = spawn(
      "node",
      [
        main,
        "serve",
        "--model",
        tiny.modelDir,
        "--data",
        tiny.dataDir,
        "--store",
        `sqlite:${join(dir, "tok.db")}`,
        "--port",
        "0",
        "--token-file",
        tokenFile,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout!.on("data", (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.on("exit", (code) => reject(new Error(`exited with ${code}`)));
      });
      const post = (token: string) =>
        fetch(`${url}/v1/events`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ events: [{ user: 1, item: 1 }] }),
        });
      expect((await post("wrong")).status).toBe(401);
      expect((await post("from-a-file")).status).toBe(200);
    } finally {
      child.kill("SIGTERM");
    }
  });
});
