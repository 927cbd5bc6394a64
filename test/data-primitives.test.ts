/**
 * The readers' building blocks: the id dictionary, duplicate counting, and the byte-level record
 * scanner and number parsers under every layout quirk the readers meet:
 * CRLF, BOM, blank lines, quoted fields with commas, "" escapes and newlines, two-byte
 * delimiters, and records split across chunk boundaries (tiny chunks force every split).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IdDictionaryBuilder } from "../src/data/columns.js";
import { countDuplicateEvents } from "../src/data/duplicates.js";
import { parseDecimalBytes, parseIntBytes } from "../src/data/parse-bytes.js";
import { scanRecords, type ScanOptions } from "../src/data/record-scanner.js";
import { parseIsoBytes } from "../src/data/time-parser.js";

let dir: string;
let files = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "watchnext-scan-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function scan(
  content: string | Buffer,
  options: ScanOptions,
): Promise<{ line: number; fields: string[] }[]> {
  const path = join(dir, `f${++files}.txt`); // a fresh file per call, no randomness needed
  await writeFile(path, content);
  const out: { line: number; fields: string[] }[] = [];
  await scanRecords(path, options, (r) => {
    const fields: string[] = [];
    for (let k = 0; k < r.count; k++) fields.push(r.text(k));
    out.push({ line: r.line, fields });
  });
  return out;
}

describe("scanRecords", () => {
  const csv =
    '\uFEFFid,title,genres\r\n1,"Toy Story, The (1995)",A|B\r\n\r\n2,"Say ""Hi""",C\r\n3,"two\nlines",D\r\n4,last,E';
  for (const chunkBytes of [1024, 7, 3]) {
    it(`parses quoted CSV with CRLF, BOM and blank lines (chunk ${chunkBytes} bytes)`, async () => {
      const rows = await scan(csv, { delimiter: ",", quotes: true, chunkBytes });
      expect(rows).toEqual([
        { line: 1, fields: ["id", "title", "genres"] },
        { line: 2, fields: ["1", "Toy Story, The (1995)", "A|B"] },
        { line: 4, fields: ["2", 'Say "Hi"', "C"] },
        { line: 5, fields: ["3", "two\nlines", "D"] },
        { line: 7, fields: ["4", "last", "E"] },
      ]);
    });
  }

  it("splits on a two-byte delimiter across chunk boundaries and keeps single colons", async () => {
    for (const chunkBytes of [4, 5, 1024]) {
      const rows = await scan("1::Star Wars: Episode IV (1977)::Action\n2::b::c\n", {
        delimiter: "::",
        quotes: false,
        chunkBytes,
      });
      expect(rows.map((r) => r.fields)).toEqual([
        ["1", "Star Wars: Episode IV (1977)", "Action"],
        ["2", "b", "c"],
      ]);
    }
  });

  it("keeps empty fields and treats a null delimiter as whole lines", async () => {
    expect((await scan("a,,c,\n", { delimiter: ",", quotes: true })).map((r) => r.fields)).toEqual([
      ["a", "", "c", ""],
    ]);
    expect(
      (await scan('{"a":1, "b":2}\n{"a":3}\n', { delimiter: null, quotes: false })).map((r) => r.fields),
    ).toEqual([['{"a":1, "b":2}'], ['{"a":3}']]);
  });

  it("reports an unterminated quote with its line", async () => {
    await expect(scan('a,b\n1,"open\n', { delimiter: ",", quotes: true })).rejects.toThrow(
      /:2: unterminated quoted field/,
    );
  });
});

describe("number parsing from bytes", () => {
  const b = (s: string): [Buffer, number, number] => [Buffer.from(s), 0, Buffer.byteLength(s)];
  it("parses integers and rejects anything else", () => {
    expect(parseIntBytes(...b("964982703"))).toBe(964982703);
    expect(parseIntBytes(...b("-12"))).toBe(-12);
    expect(parseIntBytes(...b("1700000000000"))).toBe(1700000000000);
    for (const bad of ["", "abc", "1.5", "12a", "-"]) expect(parseIntBytes(...b(bad))).toBeNaN();
  });
  it("parses decimals exactly as Number does", () => {
    for (const s of ["4.0", "3.5", "0.5", "-0.25", ".5", "5", "1e3", "2.5E-1", "123456.789"]) {
      expect(parseDecimalBytes(...b(s))).toBe(Number(s));
    }
    for (const bad of ["", "x", "1..2", "1.2.3", "e5", "--1"]) expect(parseDecimalBytes(...b(bad))).toBeNaN();
  });
});

describe("IdDictionaryBuilder", () => {
  it("numbers ids densely in order of first appearance, keeping 017 and 17 apart", () => {
    const b = new IdDictionaryBuilder();
    const bytes = (s: string): [Buffer, number, number] => [Buffer.from(s), 0, s.length];
    expect(b.internNumeric(IdDictionaryBuilder.numericKey(...bytes("17")))).toBe(0);
    expect(IdDictionaryBuilder.numericKey(...bytes("017"))).toBe(-1);
    expect(b.intern("017")).toBe(1);
    expect(b.intern("17")).toBe(0);
    expect(b.intern("99999999")).toBe(2); // beyond the dense table
    expect(b.intern("abc")).toBe(3);
    expect(b.find("99999999")).toBe(2);
    expect(b.find("18")).toBe(-1);
    const d = b.finish();
    expect(d.ids).toEqual(["17", "017", "99999999", "abc"]);
    expect(d.index.get("017")).toBe(1);
  });
});

describe("countDuplicateEvents", () => {
  it("counts repeats of (user, item, time) and gives the earliest examples in file order", () => {
    const ev = {
      user: Int32Array.from([0, 1, 0, 0, 1, 0, 1]),
      item: Int32Array.from([0, 0, 1, 0, 0, 0, 0]),
      time: Float64Array.from([5, 5, 5, 6, 5, 5, 7]),
      weight: new Float32Array(7),
    };
    const r = countDuplicateEvents(ev, 2, 2);
    expect(r.count).toBe(2);
    expect(r.examples).toEqual([
      [1, 4],
      [0, 5],
    ]);
  });
});

describe("parseIsoBytes", () => {
  const iso = (s: string): number => parseIsoBytes(Buffer.from(s), 0, Buffer.byteLength(s));
  it("agrees with Date.parse on the forms it accepts", () => {
    const cases: [string, string][] = [
      ["2023-11-14", "2023-11-14T00:00:00Z"],
      ["2023-11-14T22:13", "2023-11-14T22:13:00Z"],
      ["2023-11-14 22:13:20", "2023-11-14T22:13:20Z"],
      ["2023-11-14T22:13:20.125Z", "2023-11-14T22:13:20.125Z"],
      ["2023-11-14T22:13:20z", "2023-11-14T22:13:20Z"],
      ["2023-11-14T23:13:20+01:00", "2023-11-14T23:13:20+01:00"],
      ["2023-11-14T17:13:20-0500", "2023-11-14T17:13:20-05:00"],
      ["2023-11-15T03:43:20+05", "2023-11-15T03:43:20+05:00"],
      ["2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z"],
      ["0050-06-01", "0050-06-01T00:00:00Z"],
    ];
    for (const [text, ref] of cases) expect(iso(text)).toBe(Date.parse(ref) / 1000);
    expect(iso("2023-11-14T22:13:20.1234567Z")).toBeCloseTo(
      Date.parse("2023-11-14T22:13:20Z") / 1000 + 0.1234567,
      6,
    );
  });
  it("rejects impossible dates and malformed text", () => {
    for (const bad of [
      "2023-02-29",
      "2023-13-01",
      "2023-04-31",
      "2023-11-14T24:00",
      "2023-11-14T22:60",
      "2023-11-14T22:13:20.",
      "2023-11-14T22:13:20+1",
      "2023-11-14X",
      "2023/11/14",
      "yesterday",
    ]) {
      expect(iso(bad), bad).toBeNaN();
    }
  });
});
