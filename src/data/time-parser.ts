/**
 * Timestamps of generic event logs: epoch seconds, epoch milliseconds or ISO-8601, recognised per
 * value. A file must stick to one kind: the first value fixes it and a later value of another kind
 * is an error (a log mixing seconds and milliseconds would otherwise be silently wrong by 1000x).
 */
import { quoteValue } from "./errors.js";
import { bytesText, parseDecimalBytes } from "./parse-bytes.js";

export type TimeKind = "epoch seconds" | "epoch milliseconds" | "ISO-8601";

/** Epoch values at or above this are milliseconds (1e11 s is the year 5138; 1e11 ms is 1973). */
const MS_THRESHOLD = 1e11;
/** Milliseconds past this (the year 5138) mean the values are in a finer unit. */
const MAX_EPOCH_MS = 1e14;

/** Thrown by `parse` with the detail part of a message; the caller adds file, line and field. */
export class TimeValueError extends Error {}

export class TimeParser {
  kind: TimeKind | null = null;
  private kindLine = 0;

  /** Seconds since the epoch for the value bytes, or throws TimeValueError. */
  parseBytes(buf: Uint8Array, s: number, e: number, line: number): number {
    const v = parseDecimalBytes(buf, s, e);
    if (!Number.isNaN(v)) return this.numeric(v, line, () => bytesText(buf, s, e));
    return this.iso(parseIsoBytes(buf, s, e), line, () => bytesText(buf, s, e));
  }

  /** Same for a value already decoded (JSONL). */
  parseValue(value: unknown, line: number): number {
    if (typeof value === "number") {
      if (!Number.isFinite(value)) throw new TimeValueError(`expected a timestamp, got ${String(value)}`);
      return this.numeric(value, line, () => String(value));
    }
    if (typeof value !== "string") {
      throw new TimeValueError(
        `expected a timestamp (number or ISO-8601 string), got ${JSON.stringify(value)}`,
      );
    }
    const bytes = Buffer.from(value);
    return this.parseBytes(bytes, 0, bytes.length, line);
  }

  private numeric(v: number, line: number, raw: () => string): number {
    if (Math.abs(v) >= MAX_EPOCH_MS) {
      throw new TimeValueError(
        `expected epoch seconds or milliseconds, got ${quoteValue(raw())} (too large: microseconds or nanoseconds?)`,
      );
    }
    const kind: TimeKind = Math.abs(v) >= MS_THRESHOLD ? "epoch milliseconds" : "epoch seconds";
    this.lock(kind, line, raw);
    return kind === "epoch milliseconds" ? v / 1000 : v;
  }

  private iso(seconds: number, line: number, raw: () => string): number {
    if (Number.isNaN(seconds)) {
      const text = raw();
      const why = /^\s*\d{4}-\d{2}-\d{2}/.test(text)
        ? "expected a valid ISO-8601 date/time"
        : "expected epoch seconds, epoch milliseconds or an ISO-8601 date/time";
      throw new TimeValueError(`${why}, got ${quoteValue(text)}`);
    }
    this.lock("ISO-8601", line, raw);
    return seconds;
  }

  private lock(kind: TimeKind, line: number, raw: () => string): void {
    if (this.kind === kind) return;
    if (this.kind === null) {
      this.kind = kind;
      this.kindLine = line;
      return;
    }
    throw new TimeValueError(
      `expected ${this.kind} like line ${this.kindLine}, got ${kind} ${quoteValue(raw())} (mixed timestamp formats)`,
    );
  }
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * ISO-8601 from bytes, as seconds since the epoch: `YYYY-MM-DD`, optionally followed by `T` or a
 * space and `HH:MM`, `:SS`, `.fraction`, and a zone `Z`, `±HH`, `±HHMM` or `±HH:MM`. Without a zone
 * the time is UTC (not the machine's zone). Returns NaN for anything else, including impossible
 * dates such as 2023-02-30.
 */
export function parseIsoBytes(buf: Uint8Array, s: number, e: number): number {
  while (s < e && buf[s] === 32) s++;
  while (e > s && buf[e - 1] === 32) e--;
  const num = (at: number, len: number): number => {
    if (at + len > e) return -1;
    let v = 0;
    for (let k = at; k < at + len; k++) {
      const d = buf[k] - 48;
      if (d < 0 || d > 9) return -1;
      v = v * 10 + d;
    }
    return v;
  };
  const y = num(s, 4);
  const mo = num(s + 5, 2);
  const d = num(s + 8, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || buf[s + 4] !== 45 || buf[s + 7] !== 45) return NaN;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > DAYS_IN_MONTH[mo - 1] + (mo === 2 && leap ? 1 : 0)) return NaN;
  let i = s + 10;
  let h = 0;
  let mi = 0;
  let sec = 0;
  let frac = 0;
  if (i < e && (buf[i] === 84 || buf[i] === 32)) {
    h = num(i + 1, 2);
    mi = num(i + 4, 2);
    if (h < 0 || h > 23 || mi < 0 || mi > 59 || buf[i + 3] !== 58) return NaN;
    i += 6;
    if (i < e && buf[i] === 58) {
      sec = num(i + 1, 2);
      if (sec < 0 || sec > 59) return NaN;
      i += 3;
      if (i < e && buf[i] === 46) {
        let scale = 0.1;
        i++;
        const first = i;
        for (; i < e && buf[i] >= 48 && buf[i] <= 57; i++) {
          frac += (buf[i] - 48) * scale;
          scale /= 10;
        }
        if (i === first) return NaN;
      }
    }
  }
  let offsetMinutes = 0;
  if (i < e) {
    const c = buf[i];
    if ((c === 90 || c === 122) && i + 1 === e) {
      i++;
    } else if (c === 43 || c === 45) {
      const oh = num(i + 1, 2);
      if (oh < 0 || oh > 23) return NaN;
      let om = 0;
      if (i + 3 === e) {
        i += 3;
      } else if (buf[i + 3] === 58 && i + 6 === e) {
        om = num(i + 4, 2);
        i += 6;
      } else if (i + 5 === e) {
        om = num(i + 3, 2);
        i += 5;
      } else {
        return NaN;
      }
      if (om < 0 || om > 59) return NaN;
      offsetMinutes = (c === 45 ? -1 : 1) * (oh * 60 + om);
    } else {
      return NaN;
    }
  }
  if (i !== e) return NaN;
  let ms = Date.UTC(y, mo - 1, d, h, mi, sec);
  if (y < 100) {
    // Date.UTC reads years 0-99 as 1900-1999.
    const t = new Date(ms);
    t.setUTCFullYear(y);
    ms = t.getTime();
  }
  return ms / 1000 + frac - offsetMinutes * 60;
}
