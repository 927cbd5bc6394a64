/**
 * Number parsing straight from bytes, for the hot loop of the readers: no string per field.
 * Each parser returns NaN for anything it does not accept, and the caller turns that into a
 * DataError naming the file, line and field.
 */

const ZERO = 48;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;

/** A decimal integer (optional sign, digits only). Safe integers only. */
export function parseIntBytes(buf: Uint8Array, s: number, e: number): number {
  let i = s;
  let neg = false;
  if (i < e && (buf[i] === MINUS || buf[i] === PLUS)) {
    neg = buf[i] === MINUS;
    i++;
  }
  if (i >= e || e - i > 15) return e - i > 15 ? parseLongInt(buf, s, e) : NaN;
  let v = 0;
  for (; i < e; i++) {
    const d = buf[i] - ZERO;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

function parseLongInt(buf: Uint8Array, s: number, e: number): number {
  const text = Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString("latin1");
  if (!/^[+-]?\d+$/.test(text)) return NaN;
  const v = Number(text);
  return Number.isSafeInteger(v) ? v : NaN;
}

/**
 * A decimal number: `4`, `3.5`, `-0.25`, `.5`, `1e3`. Plain decimals are computed exactly
 * (integer mantissa divided by a power of ten, correctly rounded); exponents fall back to Number.
 */
export function parseDecimalBytes(buf: Uint8Array, s: number, e: number): number {
  let i = s;
  let neg = false;
  if (i < e && (buf[i] === MINUS || buf[i] === PLUS)) {
    neg = buf[i] === MINUS;
    i++;
  }
  let mant = 0;
  let digits = 0;
  let scale = 0;
  let seenDot = false;
  for (; i < e; i++) {
    const c = buf[i];
    const d = c - ZERO;
    if (d >= 0 && d <= 9) {
      mant = mant * 10 + d;
      digits++;
      if (seenDot) scale++;
    } else if (c === DOT && !seenDot) {
      seenDot = true;
    } else {
      break;
    }
  }
  if (i < e || digits === 0 || digits > 15 || scale > 22) return parseSlowDecimal(buf, s, e);
  const v = scale === 0 ? mant : mant / POW10[scale];
  return neg ? -v : v;
}

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

function parseSlowDecimal(buf: Uint8Array, s: number, e: number): number {
  const text = Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString("latin1");
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return NaN;
  const v = Number(text);
  return Number.isFinite(v) ? v : NaN;
}

/** Field bytes as text, for error messages and rare paths. */
export function bytesText(buf: Uint8Array, s: number, e: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString("utf8");
}
