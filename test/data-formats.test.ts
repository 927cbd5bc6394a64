/**
 * Logs as people have them: a tab-separated review log named train.csv, the same with ";", gzipped,
 * with a BOM, and converted to Parquet all load with only the column flags and give identical
 * datasets; the separator and quoting are sniffed (and --delimiter overrides); invalid UTF-8 names
 * file, line and byte unless the encoding is latin1; Parquet gives the same errors as text for a
 * missing column or a bad value; the first bad field of a line in column order is the one reported.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dataset } from "../src/data/dataset.js";
import { loadDataset } from "../src/data/load.js";
import { scanRecords } from "../src/data/record-scanner.js";
import { detectInput, sniffSeparator } from "../src/data/sniff.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "watchnext-formats-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(root, name);
  await writeFile(path, content);
  return path;
}

/** Converts a delimited file to Parquet with DuckDB (as a user with pandas or DuckDB would). */
async function toParquet(src: string, dst: string, delim: string): Promise<void> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  await c.run(
    `COPY (SELECT * FROM read_csv('${src}', delim='${delim}', header=true, all_varchar=false)) TO '${dst}' (FORMAT parquet)`,
  );
  c.closeSync();
  db.closeSync();
}

/** An Amazon-review-shaped log: string user and item ids, epoch-second times, a rating. */
function reviewLog(sep: string): string {
  const lines = [["user_id", "item_id", "time", "rating"].join(sep)];
  for (let k = 0; k < 60; k++) {
    const user = `A${(k * 7) % 13}X${k % 3}`;
    const item = `B00${(k * 11) % 17}Q`;
    lines.push([user, item, String(1_400_000_000 + k * 3600), String(1 + (k % 5))].join(sep));
  }
  return `${lines.join("\n")}\n`;
}

const FLAGS = { userCol: "user_id", itemCol: "item_id", timeCol: "time", weightCol: "rating" };

function plain(d: Dataset): unknown {
  return {
    users: d.users.ids,
    items: d.items.ids,
    user: Array.from(d.events.user),
    item: Array.from(d.events.item),
    time: Array.from(d.events.time),
    weight: Array.from(d.events.weight),
  };
}

describe("one log, five forms", () => {
  it("tab-separated train.csv, ';', gzip, BOM and Parquet give identical datasets", async () => {
    const tsv = reviewLog("\t");
    const tab = await file("train.csv", tsv);
    const semi = await file("semi.csv", reviewLog(";"));
    const gz = await file("train.csv.gz", gzipSync(tsv));
    const bom = await file("bom.csv", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(tsv)]));
    const pq = join(root, "train.parquet");
    await toParquet(tab, pq, "\t");

    const base = await loadDataset(tab, FLAGS);
    expect(base.events.user.length).toBe(60);
    expect(base.users.ids[0]).toBe("A0X0");
    for (const p of [semi, gz, bom, pq]) expect(plain(await loadDataset(p, FLAGS)), p).toEqual(plain(base));

    const how = async (p: string): Promise<unknown> => (await loadDataset(p, FLAGS)).report.inputs?.[0];
    expect(await how(tab)).toMatchObject({ kind: "delimited", delimiter: "\t", quotes: false, gzip: false });
    expect(await how(semi)).toMatchObject({ kind: "delimited", delimiter: ";", delimiterFrom: "sniffed" });
    expect(await how(gz)).toMatchObject({ kind: "delimited", delimiter: "\t", gzip: true });
    expect(await how(bom)).toMatchObject({ delimiter: "\t", bom: true });
    expect(await how(pq)).toMatchObject({ kind: "parquet" });
  });

  it("reads a gzipped JSONL log and gzipped side files", async () => {
    const rows = ['{"u":"a","i":"x","t":1}', '{"u":"b","i":"y","t":2}', '{"u":"a","i":"y","t":3}'];
    const log = await file("plays.jsonl.gz", gzipSync(`${rows.join("\n")}\n`));
    const items = await file("items.tsv.gz", gzipSync("i\ttitle\tgenres\nx\tX (1999)\tA|B\ny\tWhy\tB\n"));
    const d = await loadDataset(log, { userCol: "u", itemCol: "i", timeCol: "t", itemsFile: items });
    expect(d.users.ids).toEqual(["a", "b"]);
    expect(d.itemInfo.title).toEqual(["X (1999)", "Why"]);
    expect(Array.from(d.itemInfo.year)).toEqual([1999, 0]);
    expect(d.itemInfo.genreNames).toEqual(["A", "B"]);
  });
});

describe("gzip", () => {
  it("a truncated or corrupt gzip file is a DataError naming it", async () => {
    const whole = gzipSync("user,item,timestamp\n" + "u,i,1\n".repeat(1000));
    const cut = await file("cut.csv.gz", whole.subarray(0, whole.length - 20));
    await expect(loadDataset(cut)).rejects.toThrow(
      /cut\.csv\.gz: not a valid gzip file: unexpected end of file/,
    );
  });
});

describe("sniffing", () => {
  it("picks the separator whose count agrees across lines, pipes inside CSV fields notwithstanding", () => {
    expect(sniffSeparator("id,title,genres\n1,Toy Story,A|B|C\n2,Heat,D\n", true)).toBe(",");
    expect(sniffSeparator("a|b|c\n1|2|3\n4|5|6\n", true)).toBe("|");
    expect(sniffSeparator("a;b\n1,5;2\n3,5;4\n", true)).toBe(";");
    expect(sniffSeparator('a,b\n"x, y",1\n"z",2\n', true)).toBe(",");
    expect(sniffSeparator("single\n1\n2\n", true)).toBe(",");
  });

  it("honours quotes in a tab file only when the file quotes fields", async () => {
    const quoted = await file("q.tsv", 'user\titem\ttimestamp\n"a\tb"\tx\t1\nc\ty\t2\n');
    expect(await detectInput(quoted)).toMatchObject({ delimiter: "\t", quotes: true });
    const d = await loadDataset(quoted);
    expect(d.users.ids).toEqual(["a\tb", "c"]);
    const bare = await file("bare.tsv", 'user\titem\ttimestamp\na\t5" disk\t1\n');
    expect(await detectInput(bare)).toMatchObject({ delimiter: "\t", quotes: false });
    expect((await loadDataset(bare)).items.ids).toEqual(['5" disk']);
  });

  it("--delimiter overrides the sniffed separator", async () => {
    const p = await file("odd.txt", "user:item:timestamp\nu1:i1:5\nu2:i1:6\n");
    expect((await detectInput(p)).delimiter).toBe(",");
    const d = await loadDataset(p, { delimiter: ":" });
    expect(d.users.ids).toEqual(["u1", "u2"]);
    expect(d.report.inputs?.[0]).toMatchObject({ delimiter: ":", delimiterFrom: "--delimiter" });
    const t = await file("forced.csv", reviewLog("\t"));
    await expect(loadDataset(t, { ...FLAGS, delimiter: "," })).rejects.toThrow(
      /forced\.csv:1: field 'user_id': column not found in the header; the header has: "user_id\\titem_id\\ttime\\trating"/,
    );
    expect((await loadDataset(t, { ...FLAGS, delimiter: "tab" })).events.user.length).toBe(60);
  });
});

describe("encoding", () => {
  const latin1 = Buffer.concat([
    Buffer.from("user,item,timestamp\nu1,caf"),
    Buffer.from([0xe9]), // é in Latin-1, invalid as UTF-8
    Buffer.from(",1\nu2,tea,2\n"),
  ]);

  it("names file, line and byte of invalid UTF-8", async () => {
    const p = await file("latin.csv", latin1);
    await expect(loadDataset(p)).rejects.toThrow(
      /^latin\.csv:2: byte 7: invalid UTF-8 \(0xe9\); if the file is Latin-1, pass --encoding latin1$/,
    );
  });

  it("finds the bad byte past the first chunk and in gzip", async () => {
    const good = "user,item,timestamp\n" + "u,i,1\n".repeat(200_000);
    const bad = Buffer.concat([
      Buffer.from(good),
      Buffer.from("u,"),
      Buffer.from([0xc3, 0x28]),
      Buffer.from(",2\n"),
    ]);
    const p = await file("late.csv.gz", gzipSync(bad));
    await expect(loadDataset(p)).rejects.toThrow(/^late\.csv\.gz:200002: byte 3: invalid UTF-8 \(0xc3\)/);
  });

  it("reads Latin-1 with --encoding latin1", async () => {
    const p = await file("latin-ok.csv", latin1);
    const d = await loadDataset(p, { encoding: "latin1" });
    expect(d.items.ids).toEqual(["café", "tea"]);
    expect(d.report.inputs?.[0]).toMatchObject({ encoding: "latin1" });
  });

  it("accepts valid multi-byte UTF-8 split across read chunks, and finds a bad byte in a later chunk", async () => {
    const p = await file("utf8.csv", "user,item,timestamp\n" + "ü,日本,1\n".repeat(50));
    for (const chunkBytes of [5, 7, 64]) {
      const seen: string[] = [];
      await scanRecords(p, { delimiter: ",", quotes: true, encoding: "utf8", chunkBytes }, (r) => {
        seen.push(r.text(1));
      });
      expect(seen.slice(1)).toEqual(new Array<string>(50).fill("日本"));
    }
    const bad = await file(
      "utf8-bad.csv",
      Buffer.concat([Buffer.from("a\n".repeat(40) + "ok日"), Buffer.from([0xe6, 0x97]), Buffer.from("\n")]),
    );
    await expect(
      scanRecords(bad, { delimiter: ",", quotes: true, encoding: "utf8", chunkBytes: 8 }, () => {}),
    ).rejects.toThrow(/^utf8-bad\.csv:41: byte 6: invalid UTF-8 \(0xe6\)/);
  });
});

describe("Parquet errors match text errors", () => {
  it("a missing column and a bad value give the same message", async () => {
    const csv = await file("bad.csv", "user_id,item_id,time,rating\na,x,100,4\nb,y,200,oops\n");
    const pq = join(root, "bad.parquet");
    await toParquet(csv, pq, ",");
    const missing = { userCol: "user_id", itemCol: "item_id", timeCol: "when" };
    const detail = (e: unknown): string => String((e as Error).message).replace(/^[^:]+:(\d+:)? /, "");
    const textErr = await loadDataset(csv, missing).catch((e: unknown) => e);
    const pqErr = await loadDataset(pq, missing).catch((e: unknown) => e);
    expect(detail(pqErr)).toBe(detail(textErr));
    expect(detail(pqErr)).toMatch(
      /^field 'when': column not found in the header; .*\(choose the column with --time-col\)$/,
    );

    const bad = { ...FLAGS };
    const t = await loadDataset(csv, bad).catch((e: unknown) => e);
    const p = await loadDataset(pq, bad).catch((e: unknown) => e);
    expect(String((t as Error).message)).toBe(`bad.csv:3: field 'rating': expected a number, got "oops"`);
    // Parquet rows are numbered from 1 (the CSV's line 3 is data row 2).
    expect(String((p as Error).message)).toBe(`bad.parquet:2: field 'rating': expected a number, got "oops"`);
  });
});

describe("several bad fields on a line", () => {
  it("reports the first in column order, in text and in Parquet", async () => {
    // Column order: rating, time, user, item; the line has a bad rating and a bad time.
    const content = "rating,time,user_id,item_id\n4,100,a,x\nzz,notatime,b,y\n";
    const csv = await file("order.csv", content);
    await expect(loadDataset(csv, FLAGS)).rejects.toThrow(/^order\.csv:3: field 'rating': expected a number/);
    const csv2 = await file("order2.csv", "time,rating,user_id,item_id\n100,4,a,x\nnotatime,zz,b,y\n");
    await expect(loadDataset(csv2, FLAGS)).rejects.toThrow(/^order2\.csv:3: field 'time': /);
    const pq = join(root, "order.parquet");
    await toParquet(csv, pq, ",");
    await expect(loadDataset(pq, FLAGS)).rejects.toThrow(
      /^order\.parquet:2: field 'rating': expected a number/,
    );
  });
});
