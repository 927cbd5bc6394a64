/**
 * One way to configure a model. A config is a typed object whose defaults live in one constant and
 * whose checks live in a matching tree of rules (`ConfigRules<T>`: the compiler insists on a rule
 * for every field). `resolveConfig` merges a partial input (a JSON file, a library caller's object,
 * a saved manifest) over the defaults, rejects unknown keys, checks every value's type and range,
 * and throws the first problem as a ConfigError `<where>.<path>: expected …, got …`. Every model's
 * config (the candidate features, the candidate network and training, the ranking stage) uses it:
 *
 *   const DEFAULTS: RankingConfig = { ... };
 *   const RULES: ConfigRules<RankingConfig> = { depth: integer(0, 4), lr: number({ gt: 0 }), ... };
 *   const config = resolveConfig(DEFAULTS, RULES, input, "--config.ranking");
 *   // checks across fields: throw new ConfigError(configPath(where, "a.b"), "…", describeValue(v))
 */
import { UserError } from "../errors.js";

/** A bad configuration value: a user error (the CLI prints the message, no stack trace). */
export class ConfigError extends UserError {
  override name = "ConfigError";
  constructor(
    /** Where the value is, e.g. "--config.train.lr" or "features.search.vocabSize". */
    readonly path: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${path}: expected ${expected}, got ${got}`);
  }
}

/** The check of one field: what it expects (for the message) and the test. */
export interface Rule<T> {
  readonly expected: string;
  /** Throws a ConfigError at `path` unless `value` is a valid T. */
  check(value: unknown, path: string): void;
  /** Brand only (never read): ties the rule to the field's type. */
  readonly _type?: T;
}

/** A nested section (plain object) as opposed to a field (scalar, list or null). */
type IsSection<V> = V extends readonly unknown[] ? false : V extends object ? true : false;

/** One rule per field of T, nested like T. */
export type ConfigRules<T> = {
  readonly [K in keyof T]-?: IsSection<T[K]> extends true ? ConfigRules<T[K]> : Rule<T[K]>;
};

/** What callers pass: any subset of the fields, at any depth; the rest comes from the defaults. */
export type ConfigInput<T> = {
  [K in keyof T]?: IsSection<T[K]> extends true ? ConfigInput<T[K]> : T[K];
};

/** `where` + `.path` (either may be empty). */
export function configPath(where: string, path: string): string {
  return where === "" ? path : path === "" ? where : `${where}.${path}`;
}

/** A value as the message shows it: JSON for data, shortened. */
export function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "number") return String(v);
  if (typeof v === "object" && v !== null && !Array.isArray(v)) return "an object";
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isRule(r: unknown): r is Rule<unknown> {
  return typeof (r as Rule<unknown>).check === "function";
}

function rule<T>(expected: string, ok: (v: unknown) => boolean): Rule<T> {
  return {
    expected,
    check(value, path) {
      if (!ok(value)) throw new ConfigError(path, expected, describeValue(value));
    },
  };
}

/** An integer in [min, max]. */
export function integer(min: number, max = Infinity): Rule<number> {
  const expected = max === Infinity ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
  return rule(expected, (v) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max);
}

/** A finite number within the given bounds (gt/lt exclusive, ge/le inclusive). */
export function number(range: { gt?: number; ge?: number; lt?: number; le?: number } = {}): Rule<number> {
  const { gt, ge, lt, le } = range;
  const low = gt !== undefined ? `(${gt}` : ge !== undefined ? `[${ge}` : null;
  const high = lt !== undefined ? `${lt})` : le !== undefined ? `${le}]` : null;
  const expected =
    low !== null && high !== null
      ? `a number in ${low}, ${high}`
      : low !== null
        ? `a number ${gt !== undefined ? ">" : ">="} ${gt ?? ge}`
        : high !== null
          ? `a number ${lt !== undefined ? "<" : "<="} ${lt ?? le}`
          : "a finite number";
  return rule(
    expected,
    (v) =>
      typeof v === "number" &&
      Number.isFinite(v) &&
      (gt === undefined || v > gt) &&
      (ge === undefined || v >= ge) &&
      (lt === undefined || v < lt) &&
      (le === undefined || v <= le),
  );
}

export function boolean(): Rule<boolean> {
  return rule("true or false", (v) => typeof v === "boolean");
}

/** One of the listed strings. */
export function oneOf<const S extends string>(...values: S[]): Rule<S> {
  const quoted = values.map((v) => JSON.stringify(v));
  const expected =
    quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
  return rule(expected, (v) => typeof v === "string" && (values as string[]).includes(v));
}

/** The rule's values or null. */
export function nullable<T>(inner: Rule<T>): Rule<T | null> {
  const expected = `null or ${inner.expected}`;
  return {
    expected,
    check(value, path) {
      if (value === null) return;
      try {
        inner.check(value, path);
      } catch (err) {
        if (err instanceof ConfigError && err.path === path) throw new ConfigError(path, expected, err.got);
        throw err;
      }
    },
  };
}

/** A list whose elements each pass `element` (a bad element is reported at `path[i]`). */
export function list<T>(element: Rule<T>, opts: { nonEmpty?: boolean; distinct?: boolean } = {}): Rule<T[]> {
  const expected = `a ${opts.nonEmpty ? "non-empty " : ""}list of ${opts.distinct ? "distinct " : ""}values, each ${element.expected}`;
  return {
    expected,
    check(value, path) {
      if (!Array.isArray(value) || (opts.nonEmpty === true && value.length === 0))
        throw new ConfigError(path, expected, describeValue(value));
      value.forEach((v, i) => element.check(v, `${path}[${i}]`));
      if (opts.distinct === true && new Set(value).size !== value.length)
        throw new ConfigError(path, expected, `${describeValue(value)} (a repeated value)`);
    },
  };
}

/**
 * Defaults + `input` (any subset, at any depth), checked: an unknown key, a section that is not an
 * object or a field its rule rejects throws a ConfigError naming `where` and the key path. An
 * `undefined` field keeps its default. The result is a fresh object (lists copied).
 */
export function resolveConfig<T extends object>(
  defaults: T,
  rules: ConfigRules<T>,
  input: unknown,
  where: string,
): T {
  return mergeSection(
    defaults as Record<string, unknown>,
    rules as Record<string, unknown>,
    input,
    where,
  ) as T;
}

function mergeSection(
  defaults: Record<string, unknown>,
  rules: Record<string, unknown>,
  input: unknown,
  path: string,
): Record<string, unknown> {
  const given = input === undefined ? {} : input;
  if (!isPlainObject(given)) throw new ConfigError(path, "an object", describeValue(given));
  const keys = Object.keys(rules);
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(rules, key))
      throw new ConfigError(path, `only the keys ${keys.join(", ")}`, `unknown key "${key}"`);
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const r = rules[key];
    const at = configPath(path, key);
    if (isRule(r)) {
      const value = given[key] === undefined ? defaults[key] : given[key];
      r.check(value, at);
      out[key] = Array.isArray(value) ? [...(value as unknown[])] : value;
    } else {
      out[key] = mergeSection(
        defaults[key] as Record<string, unknown>,
        r as Record<string, unknown>,
        given[key],
        at,
      );
    }
  }
  return out;
}

/** Deep-merges partial configs left to right (later wins; lists are replaced, not merged). */
export function mergeConfigInputs<T>(...inputs: ConfigInput<T>[]): ConfigInput<T> {
  const merge = (a: unknown, b: unknown): unknown => {
    if (!isPlainObject(a) || !isPlainObject(b)) return b === undefined ? a : b;
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = merge(a[k], v);
    return out;
  };
  return inputs.reduce<ConfigInput<T>>((acc, x) => merge(acc, x) as ConfigInput<T>, {});
}
