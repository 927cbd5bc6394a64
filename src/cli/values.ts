/**
 * Parsers for option values given as text on the command line (numbers, integers, seeds, times).
 * Each names the flag and what it expected in a CliError, so every command reports a bad value
 * the same way.
 */
import { CliError } from "./errors.js";

/** A finite number. */
export function parseNumber(flag: string, text: string): number {
  const x = Number(text);
  if (text.trim() === "" || !Number.isFinite(x))
    throw new CliError(`${flag}: expected a number, got "${text}"`);
  return x;
}

/** An integer of at least `min`. */
export function parseInteger(flag: string, text: string, min = -Infinity): number {
  const x = /^\s*-?\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(x) || x < min) {
    const what = min === 1 ? "a positive integer" : min === 0 ? "a non-negative integer" : "an integer";
    throw new CliError(`${flag}: expected ${what}, got "${text}"`);
  }
  return x;
}

/** `--seed`, the seed of every random choice: a non-negative integer, `fallback` when not given. */
export function parseSeed(text: string | undefined, fallback = 1): number {
  return text === undefined ? fallback : parseInteger("--seed", text, 0);
}

/** Epoch seconds, or an ISO-8601 date/time; returns epoch seconds. */
export function parseTime(flag: string, text: string): number {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new CliError(`${flag}: expected epoch seconds or ISO-8601, got "${text}"`);
  return ms / 1000;
}
