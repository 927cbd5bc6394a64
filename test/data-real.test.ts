/**
 * The readers on the real MovieLens releases in ../shared/data: the published sizes, side
 * information, and an event-by-event comparison with a naive line-splitting parse of the file.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadDataset } from "../src/data/load.js";
import type { Dataset } from "../src/data/dataset.js";

const shared = fileURLToPath(new URL("../../shared/data/", import.meta.url));

/** Parses a ratings file the slow obvious way, numbering ids in order of first appearance. */
function naiveEvents(path: string, sep: string | RegExp, header: boolean) {
  const lines = readFileSync(path, "latin1")
    .split(/\r?\n/)
    .filter((l) => l !== "");
  if (header) lines.shift();
  const users = new Map<string, number>();
  const items = new Map<string, number>();
  const rows = lines.map((l) => {
    const [u, i, r, t] = l.split(sep);
    if (!users.has(u)) users.set(u, users.size);
    if (!items.has(i)) items.set(i, items.size);
    return [users.get(u)!, items.get(i)!, Number(r), Number(t)];
  });
  return { users: [...users.keys()], items: [...items.keys()], rows };
}

function expectSameEvents(d: Dataset, naive: ReturnType<typeof naiveEvents>): void {
  expect(d.users.ids).toEqual(naive.users);
  expect(d.items.ids).toEqual(naive.items);
  expect(d.events.user.length).toBe(naive.rows.length);
  for (let k = 0; k < naive.rows.length; k++) {
    const [u, i, r, t] = naive.rows[k];
    if (
      d.events.user[k] !== u ||
      d.events.item[k] !== i ||
      d.events.weight[k] !== r ||
      d.events.time[k] !== t
    ) {
      throw new Error(
        `event ${k} differs: got ${d.events.user[k]},${d.events.item[k]},${d.events.weight[k]},${d.events.time[k]}; want ${naive.rows[k]}`,
      );
    }
  }
}

describe("real ml-100k", () => {
  it("has 943 users, 1682 items, 100000 events, matching a naive parse", async () => {
    const d = await loadDataset(`${shared}ml-100k`);
    expect(d.format).toBe("ml-100k");
    expect([d.users.ids.length, d.items.ids.length, d.events.user.length]).toEqual([943, 1682, 100000]);
    expectSameEvents(d, naiveEvents(`${shared}ml-100k/u.data`, "\t", false));
    const toy = d.items.index.get("1")!;
    expect(d.itemInfo.title[toy]).toBe("Toy Story (1995)");
    expect(d.itemInfo.year[toy]).toBe(1995);
    const g = d.itemInfo.genreIds.subarray(d.itemInfo.genreOffsets[toy], d.itemInfo.genreOffsets[toy + 1]);
    expect(Array.from(g, (k) => d.itemInfo.genreNames[k])).toEqual(["Animation", "Children's", "Comedy"]);
    expect(d.itemInfo.title).toContain("Misérables, Les (1995)");
    const u = d.userInfo!;
    expect(u.gender!.every((x) => x === 1 || x === 2)).toBe(true);
    expect(u.occupationNames).toHaveLength(21);
    expect(d.report.warnings).toEqual([]);
    expect(d.report.duplicateEvents).toBe(0);
  });
});

describe("real ml-latest-small", () => {
  it("has 610 users, 9724 catalog items, 100836 events (CRLF), matching a naive parse", async () => {
    const d = await loadDataset(`${shared}ml-latest-small`);
    expect(d.format).toBe("ml-latest-small");
    expect([d.users.ids.length, d.items.ids.length, d.events.user.length]).toEqual([610, 9724, 100836]);
    expectSameEvents(d, naiveEvents(`${shared}ml-latest-small/ratings.csv`, ",", true));
    // Items listed in movies.csv but never rated are counted, not loaded.
    const movieRows =
      readFileSync(`${shared}ml-latest-small/movies.csv`, "utf8")
        .split(/\r?\n/)
        .filter((l) => l !== "").length - 1;
    const unrated = movieRows - d.items.ids.length;
    expect(unrated).toBeGreaterThan(0);
    expect(d.report.warnings.join("\n")).toContain(`movies.csv: ${unrated} items have no events`);
    expect(d.itemInfo.title.every((t) => t !== "")).toBe(true);
    expect(d.itemInfo.title).toContain("American President, The (1995)");
    expect(d.tags!.user.length).toBeGreaterThan(3000);
    expect(d.userInfo).toBeNull();
  });
});
