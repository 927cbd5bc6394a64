/**
 * Streams a delimited text file in large byte chunks and hands each record to a callback as byte
 * ranges into the chunk, so readers parse numbers straight from bytes instead of building a string
 * per line and splitting it. Handles LF and CRLF, a UTF-8 byte order mark, one- or two-byte
 * delimiters (",", "\t", "|", "::"), and, when asked, CSV double quotes (with "" escapes and
 * newlines inside quotes). Blank lines are not records. Gzip files are decompressed as they are
 * read (./byte-source.ts). With `encoding: "utf8"` every byte is checked to be valid UTF-8 (a
 * bad byte is a DataError naming line and byte); "latin1" decodes text fields as Latin-1.
 */
import { isUtf8 } from "node:buffer";
import { openByteSource } from "./byte-source.js";
import { DataError } from "./errors.js";

const LF = 10;
const CR = 13;
const QUOTE = 34;

export interface ScanOptions {
  /** Field separator: one or two bytes (e.g. ",", "\t", "|", "::"), or null for whole lines (JSONL). */
  readonly delimiter: string | null;
  /** Honour CSV double quotes. Off for formats that never quote (u.data, ::-files, TSV). */
  readonly quotes: boolean;
  /**
   * "utf8": text must be valid UTF-8 (checked); "latin1": text is Latin-1 (any byte is valid);
   * absent: decoded as UTF-8 unchecked (the MovieLens readers, whose files mix encodings).
   */
  readonly encoding?: "utf8" | "latin1";
  /** Bytes per read; records longer than this grow the buffer. */
  readonly chunkBytes?: number;
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void;
}

/**
 * The record being handed to the callback. Field k spans buf[start[k], end[k]); `escaped[k]` is 1
 * when the field was quoted and contains "" pairs that `text` must collapse. Valid only during
 * the callback: the buffer is reused.
 */
export class ScannedRecord {
  buf: Buffer = Buffer.alloc(0);
  start = new Int32Array(32);
  end = new Int32Array(32);
  escaped = new Uint8Array(32);
  /** Number of fields in this record. */
  count = 0;
  /** 1-based line number where the record starts. */
  line = 0;
  /** The file's text encoding, the default of `text` and `raw`. */
  encoding: "utf8" | "latin1" = "utf8";

  /** Field k decoded as text. */
  text(k: number, encoding: BufferEncoding = this.encoding): string {
    const s = this.buf.toString(encoding, this.start[k], this.end[k]);
    return this.escaped[k] ? s.replaceAll('""', '"') : s;
  }

  /** The whole record as text (for error examples), fields joined back with `sep`. */
  raw(sep: string, encoding: BufferEncoding = this.encoding): string {
    const parts: string[] = [];
    for (let k = 0; k < this.count; k++) parts.push(this.text(k, encoding));
    return parts.join(sep);
  }

  grow(): void {
    const n = this.start.length * 2;
    const s = new Int32Array(n);
    s.set(this.start);
    const e = new Int32Array(n);
    e.set(this.end);
    const q = new Uint8Array(n);
    q.set(this.escaped);
    this.start = s;
    this.end = e;
    this.escaped = q;
  }
}

/**
 * Calls `onRecord` for every non-blank record of the file, in order. Returns the number of
 * records and the total byte size. An exception thrown by `onRecord` stops the scan.
 */
export async function scanRecords(
  path: string,
  options: ScanOptions,
  onRecord: (r: ScannedRecord) => void,
): Promise<{ records: number; bytes: number }> {
  const delim = Buffer.from(options.delimiter ?? "", "latin1");
  if (options.delimiter !== null && (delim.length < 1 || delim.length > 2)) {
    throw new Error(`delimiter must be 1 or 2 bytes`);
  }
  // -1 never equals a byte, so a null delimiter makes each line one field.
  const d0 = options.delimiter === null ? -1 : delim[0];
  const d1 = delim.length === 2 ? delim[1] : -1;
  const quotes = options.quotes;
  const checkUtf8 = options.encoding === "utf8";
  const src = await openByteSource(path);
  try {
    const total = src.totalBytes;
    const size = options.chunkBytes ?? Math.max(1024, Math.min(1 << 22, src.gzip ? 1 << 22 : total + 1));
    let buf = Buffer.allocUnsafe(Math.max(2, size));
    const rec = new ScannedRecord();
    rec.encoding = options.encoding ?? "utf8";
    let checked = 0; // buf[0, checked) is known to be valid UTF-8
    // Local views of the record's field arrays (refreshed when a wide record grows them).
    let starts = rec.start;
    let ends = rec.end;
    let escaped = rec.escaped;
    let filled = 0; // valid bytes in buf
    let eof = false;
    let line = 1;
    let records = 0;
    let first = true;

    for (;;) {
      if (!eof && filled < buf.length) {
        const n = await src.read(buf, filled, buf.length - filled);
        if (n === 0) eof = true;
        filled += n;
        options.onProgress?.(src.fileBytesRead(), total);
      }
      let pos = 0;
      if (first && (filled >= 3 || eof)) {
        first = false;
        if (filled >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
        if (pos === 3) checked = 3;
      }
      if (checkUtf8 && !first) {
        // Check up to the last line feed (ASCII, so never inside a multi-byte character).
        const upTo = eof ? filled : buf.lastIndexOf(LF, filled - 1) + 1;
        if (upTo > checked) {
          if (!isUtf8(buf.subarray(checked, upTo))) throwBadUtf8(path, buf, pos, checked, upTo, line);
          checked = upTo;
        }
      }
      rec.buf = buf;
      // Scan complete records in buf[pos, filled).
      const end = filled;
      for (;;) {
        if (pos >= end) break;
        const recordStart = pos;
        const recordLine = line;
        let i = pos;
        let n = 0;
        let complete = false;
        let blank = false;
        for (;;) {
          // One field starting at i.
          if (n === starts.length) {
            rec.grow();
            starts = rec.start;
            ends = rec.end;
            escaped = rec.escaped;
          }
          if (quotes && i < end && buf[i] === QUOTE) {
            let j = i + 1;
            let esc = 0;
            let closed = false;
            let innerLines = 0;
            while (j < end) {
              const c = buf[j];
              if (c === QUOTE) {
                if (j + 1 < end && buf[j + 1] === QUOTE) {
                  esc = 1;
                  j += 2;
                  continue;
                }
                if (j + 1 >= end && !eof) break; // cannot tell "" from " yet
                closed = true;
                break;
              }
              if (c === LF) innerLines++;
              j++;
            }
            if (!closed) {
              if (!eof) break; // need more bytes
              throw new DataError(path, recordLine, null, `unterminated quoted field`);
            }
            starts[n] = i + 1;
            ends[n] = j;
            escaped[n] = esc;
            n++;
            line += innerLines;
            i = j + 1;
            if (i >= end) {
              if (!eof) break;
              complete = true;
              break;
            }
            const c = buf[i];
            if (c === LF) {
              i++;
              complete = true;
              break;
            }
            if (c === CR && i + 1 < end && buf[i + 1] === LF) {
              i += 2;
              complete = true;
              break;
            }
            if (c === d0 && (d1 < 0 || (i + 1 < end && buf[i + 1] === d1))) {
              i += d1 < 0 ? 1 : 2;
              continue;
            }
            if (c === CR && i + 1 >= end && !eof) break;
            throw new DataError(
              path,
              recordLine,
              null,
              `unexpected character ${JSON.stringify(String.fromCharCode(c))} after a closing quote`,
            );
          }
          // Unquoted field: find the next delimiter or end of line.
          let j = i;
          let stop = 0; // 1 delimiter, 2 newline, 0 ran out of bytes
          while (j < end) {
            const c = buf[j];
            if (c === LF) {
              stop = 2;
              break;
            }
            if (c === d0 && (d1 < 0 || (j + 1 < end && buf[j + 1] === d1))) {
              stop = 1;
              break;
            }
            j++;
          }
          if (stop === 0 && !eof) break;
          let fieldEnd = j;
          if (stop !== 1 && fieldEnd > i && buf[fieldEnd - 1] === CR) fieldEnd--;
          starts[n] = i;
          ends[n] = fieldEnd;
          escaped[n] = 0;
          n++;
          if (stop === 1) {
            i = j + (d1 < 0 ? 1 : 2);
            continue;
          }
          i = stop === 2 ? j + 1 : j;
          complete = true;
          blank = n === 1 && fieldEnd === recordStart;
          break;
        }
        if (!complete) {
          // Incomplete record at the end of the buffer: keep it for the next read.
          line = recordLine;
          pos = recordStart;
          break;
        }
        line++;
        pos = i;
        if (blank) continue;
        rec.count = n;
        rec.line = recordLine;
        records++;
        onRecord(rec);
      }
      if (eof && pos >= filled) break;
      // Move the unconsumed tail to the front; grow when one record fills the whole buffer.
      const rest = filled - pos;
      if (pos === 0 && rest === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      } else if (rest > 0) {
        buf.copy(buf, 0, pos, filled);
      }
      checked = Math.max(0, checked - pos);
      filled = rest;
      if (eof && rest === 0) break;
    }
    return { records, bytes: total };
  } finally {
    await src.close();
  }
}

/**
 * Finds the first byte of buf[from, to) that is not valid UTF-8 and throws a DataError naming its
 * line and its 1-based byte position in that line. `pos` is where line `line` starts.
 */
function throwBadUtf8(path: string, buf: Buffer, pos: number, from: number, to: number, line: number): never {
  let bad = from;
  while (bad < to) {
    const len = utf8Length(buf, bad, to);
    if (len === 0) break;
    bad += len;
  }
  let lineNo = line;
  let lineStart = pos;
  for (let i = pos; i < bad; i++) {
    if (buf[i] === LF) {
      lineNo++;
      lineStart = i + 1;
    }
  }
  const byte = bad - lineStart + 1;
  throw new DataError(
    path,
    lineNo,
    null,
    `byte ${byte}: invalid UTF-8 (0x${buf[bad].toString(16).padStart(2, "0")}); ` +
      `if the file is Latin-1, pass --encoding latin1`,
  );
}

/** Length of the valid UTF-8 character at buf[i], or 0 when it is not valid. */
function utf8Length(buf: Buffer, i: number, end: number): number {
  const c = buf[i];
  if (c < 0x80) return 1;
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > end) return 0;
  for (let k = 1; k < n; k++) if ((buf[i + k] & 0xc0) !== 0x80) return 0;
  // Overlong forms, surrogates and values past U+10FFFF.
  const c1 = buf[i + 1];
  if (c === 0xe0 && c1 < 0xa0) return 0;
  if (c === 0xed && c1 > 0x9f) return 0;
  if (c === 0xf0 && c1 < 0x90) return 0;
  if (c === 0xf4 && c1 > 0x8f) return 0;
  return n;
}
