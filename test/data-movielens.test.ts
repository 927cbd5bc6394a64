/**
 * Every MovieLens layout, on small files the tests write: ml-100k (latin-1 u.item with genre
 * flags), ml-1m (`::`, latin-1, age and occupation codes), ml-10m (`::`, UTF-8, tags.dat) and the
 * CSV releases (quoted commas, CRLF, tags.csv, users.csv), plus strict and lenient bad-line
 * handling, duplicates, empty files and unknown layouts.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dataset } from "../src/data/dataset.js";
import { DataError } from "../src/data/errors.js";
import { loadDataset } from "../src/data/load.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "watchnext-ml-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Writes files (string = UTF-8, Buffer = raw bytes) into a fresh directory. */
async function makeDir(name: string, files: Record<string, string | Buffer>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [f, content] of Object.entries(files)) await writeFile(join(dir, f), content);
  return dir;
}

function genresOf(d: Dataset, item: string): string[] {
  const i = d.items.index.get(item)!;
  const { genreOffsets, genreIds, genreNames } = d.itemInfo;
  return Array.from(genreIds.subarray(genreOffsets[i], genreOffsets[i + 1]), (g) => genreNames[g]);
}

const latin1 = (s: string): Buffer => Buffer.from(s, "latin1");

describe("ml-100k", () => {
  const genres = "unknown|0\nAction|1\nComedy|2\n";
  const item = (id: number, title: string, date: string, flags: string): string =>
    `${id}|${title}|${date}||http://x|${flags}\n`;
  const files = {
    "u.data": "7\t30\t4\t881250949\n5\t10\t3\t881250950\n7\t10\t5\t881250000\n",
    "u.item": latin1(
      item(10, "Café au Lait (1993)", "01-Jan-1993", "0|0|1") +
        item(30, "Heat", "15-Dec-1995", "0|1|1") +
        item(99, "Unrated (1990)", "01-Jan-1990", "1|0|0"),
    ),
    "u.user": "5|24|F|technician|85711\n7|53|M|other|94043\n",
    "u.genre": genres,
    "u.occupation": "other\ntechnician\nwriter\n",
  };

  it("reads events in file order with dense ids in order of first appearance", async () => {
    const d = await loadDataset(await makeDir("ml-100k", files));
    expect(d.format).toBe("ml-100k");
    expect(d.users.ids).toEqual(["7", "5"]);
    expect(d.items.ids).toEqual(["30", "10"]);
    expect(Array.from(d.events.user)).toEqual([0, 1, 0]);
    expect(Array.from(d.events.item)).toEqual([0, 1, 1]);
    expect(Array.from(d.events.time)).toEqual([881250949, 881250950, 881250000]);
    expect(Array.from(d.events.weight)).toEqual([4, 3, 5]);
    expect(d.users.index.get("5")).toBe(1);
  });

  it("decodes latin-1 titles, genre flags, and years from the title or the release date", async () => {
    const d = await loadDataset(await makeDir("ml-100k-b", files));
    expect(d.itemInfo.title).toEqual(["Heat", "Café au Lait (1993)"]);
    expect(Array.from(d.itemInfo.year)).toEqual([1995, 1993]);
    expect(d.itemInfo.genreNames).toEqual(["unknown", "Action", "Comedy"]);
    expect(genresOf(d, "30")).toEqual(["Action", "Comedy"]);
    expect(genresOf(d, "10")).toEqual(["Comedy"]);
    // Item 99 exists only in u.item: not in the catalog, but counted.
    expect(d.items.index.has("99")).toBe(false);
    expect(d.report.warnings.join("\n")).toMatch(/u\.item: 1 item has no events/);
  });

  it("reads users: gender 1 = female, 2 = male, age in years, occupation names from u.occupation", async () => {
    const d = await loadDataset(await makeDir("ml-100k-c", files));
    const u = d.userInfo!;
    expect(Array.from(u.gender!)).toEqual([2, 1]);
    expect(Array.from(u.age!)).toEqual([53, 24]);
    expect(u.ageKind).toBe("years");
    expect(u.occupationNames).toEqual(["other", "technician", "writer"]);
    expect(Array.from(u.occupation!)).toEqual([0, 1]);
    expect(u.zip).toEqual(["94043", "85711"]);
    expect(d.tags).toBeNull();
  });

  it("accepts the path of u.data itself", async () => {
    const dir = await makeDir("ml-100k-d", files);
    const d = await loadDataset(join(dir, "u.data"));
    expect(d.format).toBe("ml-100k");
    expect(d.events.user.length).toBe(3);
  });

  it("in lenient mode counts bad side-file lines and unknown genders", async () => {
    const dir = await makeDir("ml-100k-f", {
      ...files,
      "u.item": latin1(item(10, "Café au Lait (1993)", "01-Jan-1993", "0|0|1") + "30|Heat|broken\n"),
      "u.user": "5|24|X|technician|85711\n7|old|M|other|94043\n",
    });
    const d = await loadDataset(dir, { lenient: true });
    expect(d.itemInfo.title).toEqual(["", "Café au Lait (1993)"]);
    expect(d.report.skipped.map((s) => [s.file, s.count])).toEqual([
      ["u.item", 1],
      ["u.user", 1],
    ]);
    expect(d.report.skipped[1].examples[0]).toBe(`u.user:2: field 'age': expected an integer, got "old"`);
    expect(Array.from(d.userInfo!.gender!)).toEqual([0, 0]);
    const w = d.report.warnings.join("\n");
    expect(w).toMatch(/u\.item: 1 catalog item has no row/);
    expect(w).toMatch(/u\.user: 1 gender value other than F\/M recorded as unknown/);
  });

  it("names the field of a bad genre flag", async () => {
    const dir = await makeDir("ml-100k-e", { ...files, "u.item": latin1(item(10, "X (1990)", "", "0|2|0")) });
    await expect(loadDataset(dir)).rejects.toThrow(
      "u.item:1: field 'genre Action': expected 0 or 1, got \"2\"",
    );
  });
});

describe("ml-1m", () => {
  const files = {
    "ratings.dat": "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n",
    "users.dat": "1::F::1::10::48067\n2::M::56::16::70072\n3::M::25::15::55117\n",
    "movies.dat": latin1(
      "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n661::Café: The Movie (1996)::Animation|Children's\n",
    ),
  };

  it("reads ::-separated latin-1 files with age and occupation codes", async () => {
    const d = await loadDataset(await makeDir("ml-1m", files));
    expect(d.format).toBe("ml-1m");
    expect(d.users.ids).toEqual(["1", "2"]);
    expect(d.items.ids).toEqual(["1193", "661"]);
    expect(d.itemInfo.title[1]).toBe("Café: The Movie (1996)");
    expect(Array.from(d.itemInfo.year)).toEqual([1975, 1996]);
    expect(genresOf(d, "661")).toEqual(["Animation", "Children's"]);
    const u = d.userInfo!;
    expect(Array.from(u.gender!)).toEqual([1, 2]);
    expect(u.ageKind).toBe("code");
    expect(Array.from(u.age!)).toEqual([1, 56]);
    expect(u.occupationNames![u.occupation![0]]).toBe("K-12 student");
    expect(u.occupationNames![u.occupation![1]]).toBe("self-employed");
    expect(d.report.warnings.join("\n")).toMatch(/users\.dat: 1 user has no events/);
  });

  it("accepts the path of ratings.dat itself", async () => {
    const dir = await makeDir("ml-1m-file", files);
    const d = await loadDataset(join(dir, "ratings.dat"));
    expect(d.format).toBe("ml-1m");
    expect(d.userInfo?.ageKind).toBe("code");
  });

  it("rejects an age that is not one of the codes", async () => {
    const dir = await makeDir("ml-1m-bad", { ...files, "users.dat": "1::F::17::10::48067\n" });
    await expect(loadDataset(dir)).rejects.toThrow(
      "users.dat:1: field 'Age': expected an age code (1/18/25/35/45/50/56), got \"17\"",
    );
  });
});

describe("ml-10m", () => {
  it("reads UTF-8 movies and tags.dat, dropping tags on unknown items with a count", async () => {
    const dir = await makeDir("ml-10M100K", {
      "ratings.dat": "1::122::5::838985046\n1::185::4.5::838983525\n2::122::0.5::868245777\n",
      "movies.dat": "122::Boomerang (1992)::Comedy|Romance\n185::Net, The (1995)::Action|Crime|Thriller\n",
      "tags.dat":
        "1::122::funny::1188263867\n2::185::Sandra Bullock::1188263880\n9::122::x::1\n2::999::y::1\n",
    });
    const d = await loadDataset(dir);
    expect(d.format).toBe("ml-10m");
    expect(Array.from(d.events.weight)).toEqual([5, 4.5, 0.5]);
    expect(d.userInfo).toBeNull();
    const t = d.tags!;
    expect(Array.from(t.user)).toEqual([0, 1]);
    expect(Array.from(t.item)).toEqual([0, 1]);
    expect(Array.from(t.time)).toEqual([1188263867, 1188263880]);
    expect(Array.from(t.textIndex, (k) => t.texts[k])).toEqual(["funny", "Sandra Bullock"]);
    const w = d.report.warnings.join("\n");
    expect(w).toMatch(/tags\.dat: 1 tag row by users with no events not loaded/);
    expect(w).toMatch(/tags\.dat: 1 tag row on items not in the catalog not loaded/);
  });
});

describe("CSV releases (ml-20m/25m/32m/latest)", () => {
  const crlf = (s: string): string => s.replaceAll("\n", "\r\n");
  const files = {
    "ratings.csv": crlf(
      "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n2,1,2.5,1445714835\n",
    ),
    "movies.csv": crlf(
      'movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n3,"American President, The (1995)",Comedy|Drama|Romance\n' +
        '4,"Café ""Noir"" (2001)",(no genres listed)\n',
    ),
    "tags.csv": crlf(
      'userId,movieId,tag,timestamp\n2,1,"funny, clever",1445714994\n1,3,politics,1445714996\n',
    ),
    "users.csv": "userId,gender,age,occupation,zip\n1,F,34,writer,10001\n2,M,61,retired,94110\n",
  };

  it("reads quoted titles with commas over CRLF lines, tags and users.csv", async () => {
    const d = await loadDataset(await makeDir("ml-latest-small", files));
    expect(d.format).toBe("ml-latest-small");
    expect(d.items.ids).toEqual(["1", "3"]);
    expect(d.itemInfo.title).toEqual(["Toy Story (1995)", "American President, The (1995)"]);
    expect(genresOf(d, "3")).toEqual(["Comedy", "Drama", "Romance"]);
    expect(Array.from(d.events.time)).toEqual([964982703, 964981247, 1445714835]);
    expect(Array.from(d.events.weight)).toEqual([4, 4.5, 2.5]);
    const t = d.tags!;
    expect(t.texts[t.textIndex[0]]).toBe("funny, clever");
    expect(Array.from(t.user)).toEqual([1, 0]);
    const u = d.userInfo!;
    expect(Array.from(u.gender!)).toEqual([1, 2]);
    expect(Array.from(u.age!)).toEqual([34, 61]);
    expect(u.occupationNames![u.occupation![1]]).toBe("retired");
    expect(d.report.warnings.join("\n")).toMatch(/movies\.csv: 1 item has no events/);
  });

  it("names the release from the directory, else movielens-csv", async () => {
    expect((await loadDataset(await makeDir("ml-25m", files))).format).toBe("ml-25m");
    expect((await loadDataset(await makeDir("ml-32m", files))).format).toBe("ml-32m");
    expect((await loadDataset(await makeDir("my-ratings", files))).format).toBe("movielens-csv");
  });

  const bad =
    "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,2,4.0,abc\n9,3,x,964982703\n1,4,3.0\n2,1,3.0,964982704\n";

  it("fails on the first bad line with file, line, field and value", async () => {
    const dir = await makeDir("bad-strict", { "ratings.csv": bad });
    const err = await loadDataset(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toBe(
      `ratings.csv:3: field 'timestamp': expected an integer, got "abc"`,
    );
    expect((err as DataError).name).toBe("DataError");
    expect((err as DataError).line).toBe(3);
    expect((err as DataError).field).toBe("timestamp");
  });

  it("in lenient mode skips bad lines without a trace, counting them with examples", async () => {
    const dir = await makeDir("bad-lenient", { "ratings.csv": bad });
    const d = await loadDataset(dir, { lenient: true });
    expect(d.events.user.length).toBe(2);
    // User 9 and items 2, 3, 4 occur only on bad lines.
    expect(d.users.ids).toEqual(["1", "2"]);
    expect(d.items.ids).toEqual(["1"]);
    expect(d.report.skipped).toHaveLength(1);
    const s = d.report.skipped[0];
    expect(s.file).toBe("ratings.csv");
    expect(s.count).toBe(3);
    expect(s.examples[0]).toBe(`ratings.csv:3: field 'timestamp': expected an integer, got "abc"`);
    expect(s.examples[1]).toBe(`ratings.csv:4: field 'rating': expected a number, got "x"`);
    expect(s.examples[2]).toMatch(
      /^ratings\.csv:5: field 'timestamp': expected 4 fields as in the header, got 3/,
    );
  });

  it("fails with the first example when every line is bad, even in lenient mode", async () => {
    const dir = await makeDir("all-bad", {
      "ratings.csv": "userId,movieId,rating,timestamp\n1,1,4,x\n1,2,4,y\n",
    });
    await expect(loadDataset(dir, { lenient: true })).rejects.toThrow(
      `no events: all 2 data lines were bad; first: ratings.csv:2: field 'timestamp': expected an integer, got "x"`,
    );
  });

  it("counts duplicate (user, item, timestamp) rows and keeps them", async () => {
    const dir = await makeDir("dups", {
      "ratings.csv":
        "userId,movieId,rating,timestamp\n1,1,4,10\n1,2,4,10\n1,1,5,10\n1,1,4,11\n2,1,4,10\n1,1,3,10\n",
    });
    const d = await loadDataset(dir);
    expect(d.events.user.length).toBe(6);
    expect(d.report.duplicateEvents).toBe(2);
    expect(d.report.warnings.join("\n")).toMatch(
      /ratings\.csv: 2 events repeat an earlier \(user, item, timestamp\) row/,
    );
  });

  it("says what it expected for an empty file and a wrong header", async () => {
    await expect(loadDataset(await makeDir("empty", { "ratings.csv": "" }))).rejects.toThrow(
      /ratings\.csv: the file is empty \(expected a header line "userId,movieId,rating,timestamp"\)/,
    );
    await expect(
      loadDataset(await makeDir("header-only", { "ratings.csv": "userId,movieId,rating,timestamp\n" })),
    ).rejects.toThrow(/no events: there are no data lines/);
    await expect(
      loadDataset(await makeDir("wrong-header", { "ratings.csv": "a,b,c\n1,2,3\n" })),
    ).rejects.toThrow(/ratings\.csv:1: expected the header "userId,movieId,rating,timestamp", got "a,b,c"/);
  });
});

describe("layout detection", () => {
  it("lists the file names it looked for when a directory has no known layout", async () => {
    const dir = await makeDir("nothing-here", { "readme.txt": "hi" });
    await expect(loadDataset(dir)).rejects.toThrow(
      /no known dataset layout: looked for u\.data \(ml-100k\), ratings\.dat/,
    );
  });

  it("reports a missing path", async () => {
    await expect(loadDataset(join(root, "missing"))).rejects.toThrow(/no such file or directory/);
  });

  it("rejects log column flags on a MovieLens directory instead of ignoring them", async () => {
    const dir = await makeDir("flags", { "u.data": "1\t2\t3\t4\n" });
    await expect(loadDataset(dir, { userCol: "uid" })).rejects.toThrow(
      /--user-col apply to event log files; this is a ml-100k directory/,
    );
  });
});
