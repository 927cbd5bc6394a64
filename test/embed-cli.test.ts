/**
 * `watchnext embed` and `watchnext embed similar` end to end through the compiled CLI
 * (dist/src/cli/main.js; `npm test` compiles first) on a small synthetic dataset: vectors written in
 * word2vec's text format, reproducible at one thread, neighbours printed with titles, and bad
 * options refused with a message.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSynthetic } from "../src/data/synth.js";
import { readWord2vecText } from "../src/io/word2vec-text.js";

const run = promisify(execFile);
const main = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
const env = { ...process.env, WATCHNEXT_THREADS: "1" };
let dir: string;
let data: string;

beforeAll(async () => {
  if (!existsSync(main))
    throw new Error(`${main} is missing: run \`npx tsc -p tsconfig.json\` (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), "wn-embed-cli-"));
  data = join(dir, "data");
  await writeSynthetic(data, { users: 120, items: 150, events: 5000, seed: 3 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const embed = (out: string, corpus: string, extra: string[] = []) =>
  run(
    process.execPath,
    [
      main,
      "embed",
      "--data",
      data,
      "--corpus",
      corpus,
      "--out",
      out,
      "--dim",
      "16",
      "--epochs",
      "2",
      ...extra,
    ],
    { env },
  );

describe("watchnext embed", () => {
  it("writes item2vec vectors, the same for the same seed at one thread", async () => {
    const a = join(dir, "a.txt");
    const b = join(dir, "b.txt");
    const { stderr } = await embed(a, "items");
    expect(stderr).toMatch(/embed: \d+ keys × 16/);
    await embed(b, "items");
    expect(readFileSync(a, "utf8")).toBe(readFileSync(b, "utf8"));
    const v = readWord2vecText(a);
    expect(v.dim).toBe(16);
    expect(v.keys.length).toBeGreaterThan(100);
    const { stdout } = await run(
      process.execPath,
      [main, "embed", "similar", "--file", a, "--key", v.keys[0], "-k", "3", "--data", data],
      { env },
    );
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(4); // the key with its title, then 3 neighbours
    expect(lines[1]).toMatch(/^-?\d\.\d{4} {2}\S+ {2}\S/);
  });

  it("writes token vectors with bigram keys", async () => {
    const out = join(dir, "t.txt");
    await embed(out, "tokens", ["--protocol", "none"]);
    const v = readWord2vecText(out);
    expect(v.keys.some((k) => k.includes(" "))).toBe(true);
    expect(readFileSync(out, "utf8")).not.toMatch(/^\S+ \S+ [a-z]/m); // bigrams written with "_"
  });

  it("refuses bad options with a message", async () => {
    await expect(embed(join(dir, "x.txt"), "words")).rejects.toMatchObject({
      stderr: expect.stringMatching(/--corpus: expected items or tokens, got "words"/),
    });
    await expect(embed(join(dir, "x.txt"), "items", ["--window", "0"])).rejects.toMatchObject({
      stderr: expect.stringMatching(/--window/),
    });
    await expect(
      run(
        process.execPath,
        [main, "embed", "similar", "--file", join(dir, "a.txt"), "--key", "no-such-item"],
        { env },
      ),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/has no vector for "no-such-item"/) });
  });
});
