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
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** Thrown by `parse` with the detail part of a message; the caller adds file, line and field. */
export class TimeValueError extends Error {}

export class TimeParser {
  kind: TimeKind | null = null;
  private kindLine = 0;

  /** Seconds since the epoch for the value bytes, or throws TimeValueError. */
  parseBytes(buf: Uint8Array, s: number, e: number, line: number): number {
    const v = parseDecimalBytes(buf, s, e);
    if (!Number.isNaN(v)) return this.numeric(v, line, () => bytesText(buf, s, e));
    return this.text(bytesText(buf, s, e), line);
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
    const v = /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isNaN(v)) return this.numeric(v, line, () => value);
    return this.text(value, line);
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

  private text(raw: string, line: number): number {
    const m = ISO.exec(raw.trim());
    if (!m) {
      throw new TimeValueError(
        `expected epoch seconds, epoch milliseconds or an ISO-8601 date/time, got ${quoteValue(raw)}`,
      );
    }
    const [, y, mo, d, h = "00", mi = "00", sec = "00", frac = "", zone] = m;
    // Without an offset the time is read as UTC (Date.parse would use the machine's zone).
    let offset = zone ?? "Z";
    if (offset !== "Z" && offset.length === 3) offset += ":00";
    else if (offset !== "Z" && !offset.includes(":")) offset = `${offset.slice(0, 3)}:${offset.slice(3)}`;
    const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${sec}${frac.slice(0, 4) || ""}${offset}`);
    if (Number.isNaN(ms) || Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59) {
      throw new TimeValueError(`expected a valid ISO-8601 date/time, got ${quoteValue(raw)}`);
    }
    this.lock("ISO-8601", line, () => raw);
    // Sub-millisecond digits are kept beyond what Date.parse reads.
    const extra = frac.length > 4 ? Number(`0.000${frac.slice(4)}`) : 0;
    return ms / 1000 + extra;
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
