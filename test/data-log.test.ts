/**
 * Generic event logs: CSV, TSV and JSONL with columns chosen by flag, timestamps as epoch seconds,
 * epoch milliseconds or ISO-8601 (and a clear error when a file mixes them), weights, side files
 * for users, items and tags, and lenient skipping.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../src/data/load.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "watchnext-log-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function file(name: string, content: string): Promise<string> {
  const path = join(root, name);
  await writeFile(path, content);
  return path;
}

describe("CSV logs", () => {
  it("reads the default columns with epoch seconds and weight 1", async () => {
    const p = await file(
      "plays.csv",
      "item,user,timestamp,extra\nv1,alice,1700000000,x\nv2,bob,1700000001.5,y\nv1,bob,1700000002,z\n",
    );
    const d = await loadDataset(p);
    expect(d.format).toBe("log");
    expect(d.name).toBe("plays");
    expect(d.users.ids).toEqual(["alice", "bob"]);
    expect(d.items.ids).toEqual(["v1", "v2"]);
    expect(Array.from(d.events.user)).toEqual([0, 1, 1]);
    expect(Array.from(d.events.time)).toEqual([1700000000, 1700000001.5, 1700000002]);
    expect(Array.from(d.events.weight)).toEqual([1, 1, 1]);
    expect(d.userInfo).toBeNull();
    expect(d.itemInfo.title).toEqual(["", ""]);
  });

  it("uses the column flags, a weight column and quoted ids", async () => {
    const p = await file(
      "custom.csv",
      'uid,vid,ts,secs\n"u,1",a,1700000000000,30.5\nu2,b,1700000001000,12\n',
    );
    const d = await loadDataset(p, { userCol: "uid", itemCol: "vid", timeCol: "ts", weightCol: "secs" });
    expect(d.users.ids).toEqual(["u,1", "u2"]);
    expect(Array.from(d.events.time)).toEqual([1700000000, 1700000001]);
    expect(Array.from(d.events.weight)).toEqual([30.5, 12]);
  });

  it("names the flag when a column is missing", async () => {
    const p = await file("nocol.csv", "user,item,when\n1,2,3\n");
    await expect(loadDataset(p)).rejects.toThrow(
      `nocol.csv:1: field 'timestamp': column not found in the header; the header has: "user", "item", "when" (choose the column with --time-col)`,
    );
  });

  it("rejects a file mixing epoch seconds and milliseconds", async () => {
    const p = await file("mixed.csv", "user,item,timestamp\n1,2,1700000000\n1,3,1700000000000\n");
    await expect(loadDataset(p)).rejects.toThrow(
      `mixed.csv:3: field 'timestamp': expected epoch seconds like line 2, got epoch milliseconds "1700000000000" (mixed timestamp formats)`,
    );
  });

  it("rejects epoch microseconds instead of reading them as milliseconds", async () => {
    const p = await file("micro.csv", "user,item,timestamp\n1,2,1700000000000000\n");
    await expect(loadDataset(p)).rejects.toThrow(
      `micro.csv:2: field 'timestamp': expected epoch seconds or milliseconds, got "1700000000000000" (too large: microseconds or nanoseconds?)`,
    );
  });

  it("rejects an invalid time, or skips it in lenient mode", async () => {
    const p = await file(
      "badtime.csv",
      "user,item,timestamp\n1,2,2023-13-45\n1,3,yesterday\n1,4,2023-01-02\n",
    );
    await expect(loadDataset(p)).rejects.toThrow(
      `badtime.csv:2: field 'timestamp': expected a valid ISO-8601 date/time, got "2023-13-45"`,
    );
    const d = await loadDataset(p, { lenient: true });
    expect(d.events.user.length).toBe(1);
    expect(d.report.skipped[0].count).toBe(2);
    expect(d.report.skipped[0].examples[1]).toBe(
      `badtime.csv:3: field 'timestamp': expected epoch seconds, epoch milliseconds or an ISO-8601 date/time, got "yesterday"`,
    );
  });
});

describe("TSV and JSONL logs", () => {
  it("reads TSV with ISO-8601 times (offsets honoured, no offset = UTC)", async () => {
    const p = await file(
      "events.tsv",
      "user\titem\ttimestamp\n1\t10\t2023-11-14T22:13:20Z\n1\t11\t2023-11-14T23:13:20+01:00\n2\t10\t2023-11-14 22:13:20.25\n2\t12\t2023-11-15\n",
    );
    const d = await loadDataset(p);
    expect(Array.from(d.events.time)).toEqual([1700000000, 1700000000, 1700000000.25, 1700006400]);
  });

  it("reads JSONL with numeric or string ids and millisecond times", async () => {
    const p = await file(
      "events.jsonl",
      '{"user": 1, "item": "a", "timestamp": 1700000000000, "w": 2}\n\n{"user": "1", "item": "b", "timestamp": "1700000001000", "w": "3.5"}\r\n{"user": 2, "item": "a", "timestamp": 1700000002500, "w": 1}\n',
    );
    const d = await loadDataset(p, { weightCol: "w" });
    expect(d.users.ids).toEqual(["1", "2"]);
    expect(Array.from(d.events.user)).toEqual([0, 0, 1]);
    expect(Array.from(d.events.time)).toEqual([1700000000, 1700000001, 1700000002.5]);
    expect(Array.from(d.events.weight)).toEqual([2, 3.5, 1]);
  });

  it("reports bad JSON lines precisely, and counts them in lenient mode", async () => {
    const p = await file(
      "bad.jsonl",
      '{"user":1,"item":2,"timestamp":5}\n{"user":1,\n{"user":1,"timestamp":6}\n[1]\n',
    );
    await expect(loadDataset(p)).rejects.toThrow(/^bad\.jsonl:2: expected a JSON object, got invalid JSON/);
    const d = await loadDataset(p, { lenient: true });
    expect(d.events.user.length).toBe(1);
    expect(d.report.skipped[0].count).toBe(3);
    expect(d.report.skipped[0].examples[1]).toBe("bad.jsonl:3: field 'item': missing");
  });

  it("says what it expected for an empty log", async () => {
    const p = await file("empty.jsonl", "");
    await expect(loadDataset(p)).rejects.toThrow(
      /empty\.jsonl: the file is empty \(expected one JSON object per line/,
    );
  });
});

describe("log side files", () => {
  it("attaches users, items and tags, counting rows for unknown ids", async () => {
    const events = await file("side-events.csv", "user,item,timestamp\nu1,i1,100\nu2,i2,200\nu1,i2,300\n");
    const usersFile = await file(
      "side-users.csv",
      "user,gender,age,occupation,zip\nu1,F,30,writer,12345\nu2,X,,,\nu9,M,40,artist,1\n",
    );
    const itemsFile = await file(
      "side-items.jsonl",
      '{"id":"i1","title":"First (1999)","genres":["Drama","Comedy"]}\n{"id":"i2","title":"Second","genres":"Comedy|Horror","year":2004}\n{"id":"i3","title":"Unseen"}\n',
    );
    const tagsFile = await file(
      "side-tags.tsv",
      "user\titem\ttag\ttimestamp\nu1\ti1\tgreat acting\t2023-01-01T00:00:00Z\nu2\ti9\tx\t2023-01-02\n",
    );
    const d = await loadDataset(events, { usersFile, itemsFile, tagsFile });
    expect(d.itemInfo.title).toEqual(["First (1999)", "Second"]);
    expect(Array.from(d.itemInfo.year)).toEqual([1999, 2004]);
    expect(d.itemInfo.genreNames).toEqual(["Drama", "Comedy", "Horror"]);
    expect(Array.from(d.itemInfo.genreOffsets)).toEqual([0, 2, 4]);
    expect(Array.from(d.itemInfo.genreIds)).toEqual([0, 1, 1, 2]);
    const u = d.userInfo!;
    expect(Array.from(u.gender!)).toEqual([1, 0]);
    expect(Array.from(u.age!)).toEqual([30, 0]);
    expect(Array.from(u.occupation!)).toEqual([0, -1]);
    expect(d.tags!.texts).toEqual(["great acting"]);
    expect(Array.from(d.tags!.time)).toEqual([1672531200]);
    const w = d.report.warnings.join("\n");
    expect(w).toMatch(/side-users\.csv: 1 user has no events/);
    expect(w).toMatch(/side-users\.csv: 1 gender value other than F\/M recorded as unknown/);
    expect(w).toMatch(/side-items\.jsonl: 1 item has no events/);
    expect(w).toMatch(/side-tags\.tsv: 1 tag row on items not in the catalog not loaded/);
  });
});
