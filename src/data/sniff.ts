/**
 * What kind of file an event log or side file is, decided from its content rather than its name:
 * Parquet (magic bytes or .parquet), JSONL (.jsonl/.ndjson/.json or a first line starting with
 * "{"), or delimited text, whose separator (comma, tab, semicolon or pipe) and quoting are sniffed
 * from the first lines, as pandas, DuckDB and Python's csv.Sniffer do. Gzip is recognised by its
 * magic bytes and looked through. `--delimiter` overrides the sniffed separator.
 */
import { extname } from "node:path";
import { readHead } from "./byte-source.js";
import { DataError, quoteValue } from "./errors.js";

export type TextEncoding = "utf8" | "latin1";

/** How an input file was read; `data info` prints it. */
export interface DetectedInput {
  readonly path: string;
  readonly kind: "delimited" | "jsonl" | "parquet";
  /** Field separator of delimited text (null for JSONL and Parquet). */
  readonly delimiter: string | null;
  /** Where the separator came from. */
  readonly delimiterFrom: "sniffed" | "--delimiter" | null;
  /** Whether CSV double quotes are honoured. */
  readonly quotes: boolean;
  readonly gzip: boolean;
  /** The file starts with a UTF-8 byte order mark (skipped). */
  readonly bom: boolean;
  readonly encoding: TextEncoding;
}

export interface SniffOptions {
  /** Separator given by the user (",", "\t" or "tab", ";", "|", or any one or two bytes). */
  readonly delimiter?: string;
  readonly encoding?: TextEncoding;
}

/** The separators sniffing chooses from, in order of preference on a tie. */
const SEPARATORS = [",", "\t", ";", "|"] as const;
const SNIFF_BYTES = 64 * 1024;
const SNIFF_LINES = 20;

const NAMED: Readonly<Record<string, string>> = {
  tab: "\t",
  "\\t": "\t",
  comma: ",",
  semicolon: ";",
  pipe: "|",
  space: " ",
};

/** The separator a `--delimiter` value stands for, or a DataError-free Error for the CLI to report. */
export function parseDelimiter(value: string): string {
  const d = NAMED[value.toLowerCase()] ?? value;
  const bytes = Buffer.byteLength(d, "latin1");
  if (d.length < 1 || d.length > 2 || bytes !== d.length || d.includes("\n") || d.includes('"')) {
    throw new RangeError(
      `--delimiter: expected one or two characters (or tab, comma, semicolon, pipe, space), got ${quoteValue(value)}`,
    );
  }
  return d;
}

/** A readable name of a separator, for messages and `data info`. */
export function describeDelimiter(d: string): string {
  const names: Record<string, string> = {
    ",": "comma",
    "\t": "tab",
    ";": "semicolon",
    "|": "pipe",
    " ": "space",
  };
  return names[d] ?? JSON.stringify(d);
}

export async function detectInput(path: string, options: SniffOptions = {}): Promise<DetectedInput> {
  const encoding = options.encoding ?? "utf8";
  const { head, gzip } = await readHead(path, SNIFF_BYTES);
  const name = path.toLowerCase().replace(/\.gz$/, "");
  const ext = extname(name);
  const base = { path, gzip, encoding };
  const magic = head.subarray(0, 4).toString("latin1");
  if (magic === "PAR1" || ext === ".parquet") {
    if (gzip)
      throw new DataError(
        path,
        null,
        null,
        "a gzipped Parquet file: decompress it first (Parquet compresses its own pages)",
      );
    return { ...base, kind: "parquet", delimiter: null, delimiterFrom: null, quotes: false, bom: false };
  }
  const jsonExt = ext === ".jsonl" || ext === ".ndjson" || ext === ".json";
  if (head.length === 0) {
    const expected = jsonExt ? "one JSON object per line" : "a header line or one JSON object per line";
    throw new DataError(path, null, null, `the file is empty (expected ${expected})`);
  }
  const bom = head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
  const text = head.toString("latin1", bom ? 3 : 0);
  // A .jsonl name always means JSONL; a first line starting with "{" does unless --delimiter says otherwise.
  const jsonl = jsonExt || (options.delimiter === undefined && /^\s*\{/.test(text));
  if (jsonl) {
    return { ...base, kind: "jsonl", delimiter: null, delimiterFrom: null, quotes: false, bom };
  }
  const complete = head.length < SNIFF_BYTES;
  const given = options.delimiter !== undefined ? parseDelimiter(options.delimiter) : null;
  const delimiter = given ?? sniffSeparator(text, complete);
  return {
    ...base,
    kind: "delimited",
    delimiter,
    delimiterFrom: given !== null ? "--delimiter" : "sniffed",
    quotes: delimiter === "," || delimiter === ";" || hasQuotedField(text, delimiter),
    bom,
  };
}

/**
 * The separator whose count per line is the same on the header and the next lines (most lines,
 * when a bad line is among them), preferring more columns, then the order of SEPARATORS. A file
 * with none of them is one column (comma).
 */
export function sniffSeparator(text: string, complete: boolean): string {
  let best: string = ",";
  let bestScore = -1;
  for (const sep of SEPARATORS) {
    const counts = countPerLine(text, sep, complete);
    if (counts.length === 0 || counts[0] === 0) continue;
    const agree = counts.filter((c) => c === counts[0]).length;
    // Agreement first (the fraction of lines with the header's count), then columns.
    const score = (agree / counts.length) * 1000 + Math.min(counts[0], 999) / 1000;
    if (score > bestScore) {
      best = sep;
      bestScore = score;
    }
  }
  return best;
}

/** Separators outside double quotes on each of the first lines (the last, cut-off line left out). */
function countPerLine(text: string, sep: string, complete: boolean): number[] {
  const counts: number[] = [];
  let inQuote = false;
  let count = 0;
  let lineHasText = false;
  const code = sep.charCodeAt(0);
  for (let i = 0; i < text.length && counts.length < SNIFF_LINES; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) inQuote = !inQuote;
    else if (!inQuote && c === code) count++;
    else if (!inQuote && c === 10) {
      if (lineHasText) counts.push(count);
      count = 0;
      lineHasText = false;
      continue;
    }
    if (c !== 13) lineHasText = true;
  }
  if (complete && lineHasText && counts.length < SNIFF_LINES) counts.push(count);
  return counts;
}

/** True when some field of the first lines starts with a double quote. */
function hasQuotedField(text: string, sep: string): boolean {
  const lines = text.split("\n", SNIFF_LINES);
  return lines.some((l) => l.startsWith('"') || l.includes(`${sep}"`));
}

/** One line for `data info`: "tab-separated, quotes off, UTF-8 with BOM, gzip". */
export function describeInput(d: DetectedInput): string {
  const parts: string[] = [];
  if (d.kind === "parquet") parts.push("Parquet");
  else if (d.kind === "jsonl") parts.push("JSON lines");
  else {
    const from = d.delimiterFrom === "--delimiter" ? " (--delimiter)" : " (sniffed)";
    parts.push(
      `${describeDelimiter(d.delimiter ?? ",")}-separated${from}`,
      d.quotes ? "quotes honoured" : "no quoting",
    );
  }
  if (d.kind !== "parquet")
    parts.push(`${d.encoding === "utf8" ? "UTF-8" : "Latin-1"}${d.bom ? " with BOM" : ""}`);
  if (d.gzip) parts.push("gzip");
  return parts.join(", ");
}
