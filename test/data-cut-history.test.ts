/**
 * Short-history subsets (src/eval/short-history.ts, src/data/write-movielens.ts, `watchnext data
 * cut-history`): every user keeps exactly their most recent N events, the written directory loads
 * back to the same per-user sequences in the release's own layout with its side files, and the
 * command writes the same files for the same input.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { numUsers, type Dataset } from "../src/data/dataset.js";
import { loadDataset } from "../src/data/load.js";
import { writeMovieLensLike } from "../src/data/write-movielens.js";
import { cutHistories } from "../src/eval/short-history.js";
import { userEventOrder } from "../src/eval/user-order.js";

const ML100K = fileURLToPath(new URL("../../shared/data/ml-100k", import.meta.url));
const SMALL = fileURLToPath(new URL("../../shared/data/ml-latest-small", import.meta.url));
const main = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));

/** Each user's events as "item@time:rating" strings in time order, keyed by external user id. */
function sequencesById(d: Dataset): Map<string, string[]> {
  const { offsets, order } = userEventOrder(d.events, numUsers(d));
  const out = new Map<string, string[]>();
  for (let u = 0; u < numUsers(d); u++) {
    const seq: string[] = [];
    for (let k = offsets[u]; k < offsets[u + 1]; k++) {
      const e = order[k];
      seq.push(`${d.items.ids[d.events.item[e]]}@${d.events.time[e]}:${d.events.weight[e]}`);
    }
    if (seq.length > 0) out.set(d.users.ids[u], seq);
  }
  return out;
}

let dir: string;
let full100k: Dataset;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "watchnext-cut-"));
  full100k = await loadDataset(ML100K);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("cutHistories", () => {
  it("keeps each user's last N events, in time order, and nothing else", () => {
    const cut = cutHistories(full100k, 7);
    const before = sequencesById(full100k);
    const after = sequencesById(cut.dataset);
    expect(after.size).toBe(before.size);
    let kept = 0;
    for (const [user, seq] of before) {
      const expected = seq.slice(Math.max(0, seq.length - 7));
      expect(after.get(user), user).toEqual(expected);
      kept += expected.length;
    }
    expect(cut.keptEvents).toBe(kept);
    expect(cut.dataset.events.user.length).toBe(kept);
    expect(cut.droppedEvents).toBe(full100k.events.user.length - kept);
    // Every ml-100k user has at least 20 ratings, so every one was cut.
    expect(cut.cutUsers).toBe(numUsers(full100k));
  });

  it("leaves users with at most N events whole and rejects N < 1", () => {
    const cut = cutHistories(full100k, 100_000);
    expect(cut.droppedEvents).toBe(0);
    expect(cut.cutUsers).toBe(0);
    expect(() => cutHistories(full100k, 0)).toThrow(/last must be an integer >= 1, got 0/);
  });
});

describe("writeMovieLensLike", () => {
  it("ml-100k: u.data in its own layout, side files copied, loads back to the cut sequences", async () => {
    const cut = cutHistories(full100k, 5);
    const out = join(dir, "ml-100k-last5");
    const copied = writeMovieLensLike(cut.dataset, out, { last: 5 });
    expect(copied).toEqual(["u.item", "u.user", "u.genre", "u.occupation"]);
    const back = await loadDataset(out);
    expect(back.format).toBe("ml-100k");
    expect(sequencesById(back)).toEqual(sequencesById(cut.dataset));
    // Side information carried over: demographics and genres of the same users / items.
    const u = back.users.index.get("1") as number;
    const u0 = full100k.users.index.get("1") as number;
    expect(back.userInfo?.age?.[u]).toBe(full100k.userInfo?.age?.[u0]);
    expect(back.userInfo?.zip?.[u]).toBe(full100k.userInfo?.zip?.[u0]);
    const i = back.items.index.get(back.items.ids[0]) as number;
    const i0 = full100k.items.index.get(back.items.ids[0]) as number;
    expect(back.itemInfo.title[i]).toBe(full100k.itemInfo.title[i0]);
    // The catalog is the items that still have events.
    expect(back.items.ids.length).toBe(new Set(cut.dataset.events.item).size);
    expect(JSON.parse(readFileSync(join(out, "SUBSET.json"), "utf8"))).toMatchObject({
      format: "ml-100k",
      events: cut.keptEvents,
      last: 5,
    });
  });

  it("ml-latest-small: ratings.csv with its header, fractional ratings and tags kept", async () => {
    const full = await loadDataset(SMALL);
    const cut = cutHistories(full, 7);
    const out = join(dir, "ml-latest-small-last7");
    writeMovieLensLike(cut.dataset, out, { last: 7 });
    expect(readFileSync(join(out, "ratings.csv"), "utf8").split("\n")[0]).toBe(
      "userId,movieId,rating,timestamp",
    );
    const back = await loadDataset(out);
    expect(back.format).toBe("ml-latest-small");
    expect(sequencesById(back)).toEqual(sequencesById(cut.dataset));
    expect([...back.events.weight].some((w) => w % 1 !== 0)).toBe(true);
    expect(back.tags?.user.length ?? 0).toBeGreaterThan(0);
    expect(existsSync(join(out, "movies.csv"))).toBe(true);
  });
});

describe("watchnext data cut-history", () => {
  it("writes byte-identical files for the same input, replacing the directory", async () => {
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npx tsc -p tsconfig.json\``);
    const run = promisify(execFile);
    const out = join(dir, "cli");
    await run(process.execPath, [main, "data", "cut-history", "--data", ML100K, "--last", "7", "--out", out]);
    const first = readFileSync(join(out, "u.data"));
    await run(process.execPath, [main, "data", "cut-history", "--data", ML100K, "--last", "7", "--out", out]);
    expect(readFileSync(join(out, "u.data")).equals(first)).toBe(true);
    expect(first.toString().trimEnd().split("\n").length).toBe(7 * 943);
  }, 60_000);
});
