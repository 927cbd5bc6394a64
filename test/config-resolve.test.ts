/** The one config merge + validation (src/config/resolve-config.ts) and its single error format. */
import { describe, expect, it } from "vitest";
import {
  boolean,
  ConfigError,
  integer,
  list,
  mergeConfigInputs,
  nullable,
  number,
  oneOf,
  resolveConfig,
  type ConfigRules,
} from "../src/config/resolve-config.js";
import { mergeCandidateConfig } from "../src/features/candidate-config.js";
import { defaultCandidateConfig, resolveCandidateModelConfig } from "../src/models/candidates/config.js";

interface Toy {
  size: number;
  rate: number;
  mode: "a" | "b";
  widths: number[] | null;
  inner: { on: boolean; counts: readonly number[] };
}
const defaults: Toy = { size: 4, rate: 0.5, mode: "a", widths: null, inner: { on: true, counts: [1, 2] } };
const rules: ConfigRules<Toy> = {
  size: integer(1, 10),
  rate: number({ gt: 0, le: 1 }),
  mode: oneOf("a", "b"),
  widths: nullable(list(integer(1), { nonEmpty: true })),
  inner: { on: boolean(), counts: list(integer(1), { distinct: true }) },
};

/** The error a resolve throws (fails the test when none is thrown). */
function errorOf(input: unknown): ConfigError {
  try {
    resolveConfig(defaults, rules, input, "toy");
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`no error for ${JSON.stringify(input)}`);
}

describe("resolveConfig", () => {
  it("merges a partial input over the defaults at any depth, leaving the defaults untouched", () => {
    const c = resolveConfig(defaults, rules, { rate: 1, inner: { counts: [3] }, widths: [8, 4] }, "toy");
    expect(c).toEqual({ size: 4, rate: 1, mode: "a", widths: [8, 4], inner: { on: true, counts: [3] } });
    expect(resolveConfig(defaults, rules, undefined, "toy")).toEqual(defaults);
    expect(resolveConfig(defaults, rules, { size: undefined }, "toy").size).toBe(4);
    const again = resolveConfig(defaults, rules, {}, "toy");
    expect(again.inner.counts).not.toBe(defaults.inner.counts); // lists are copied
    expect(defaults.inner.counts).toEqual([1, 2]);
  });

  it("reports every problem as <where>.<path>: expected …, got …", () => {
    const cases: Array<[unknown, string]> = [
      [{ sise: 3 }, 'toy: expected only the keys size, rate, mode, widths, inner, got unknown key "sise"'],
      [{ inner: { of: true } }, 'toy.inner: expected only the keys on, counts, got unknown key "of"'],
      [{ size: 0 }, "toy.size: expected an integer in [1, 10], got 0"],
      [{ size: 2.5 }, "toy.size: expected an integer in [1, 10], got 2.5"],
      [{ size: "3" }, 'toy.size: expected an integer in [1, 10], got "3"'],
      [{ rate: 0 }, "toy.rate: expected a number in (0, 1], got 0"],
      [{ rate: Number.NaN }, "toy.rate: expected a number in (0, 1], got NaN"],
      [{ mode: "c" }, 'toy.mode: expected "a" or "b", got "c"'],
      [
        { widths: [] },
        "toy.widths: expected null or a non-empty list of values, each an integer >= 1, got []",
      ],
      [{ widths: [4, 0] }, "toy.widths[1]: expected an integer >= 1, got 0"],
      [{ inner: { on: 1 } }, "toy.inner.on: expected true or false, got 1"],
      [{ inner: 5 }, "toy.inner: expected an object, got 5"],
      [[1], "toy: expected an object, got [1]"],
      [
        { inner: { counts: [2, 2] } },
        "toy.inner.counts: expected a list of distinct values, each an integer >= 1, got [2,2] (a repeated value)",
      ],
    ];
    for (const [input, message] of cases) {
      const err = errorOf(input);
      expect(err.message).toBe(message);
      expect(err.name).toBe("ConfigError");
      expect(message.startsWith(`${err.path}: expected ${err.expected}, got ${err.got}`)).toBe(true);
    }
  });

  it("deep-merges overlays left to right, lists replaced", () => {
    expect(
      mergeConfigInputs<Toy>({ size: 2, inner: { counts: [5, 6] } }, { inner: { on: false, counts: [7] } }),
    ).toEqual({ size: 2, inner: { on: false, counts: [7] } });
  });
});

describe("the candidate configs share it", () => {
  it("checks the feature config by the same rules alone and inside the model config", () => {
    const bad = { search: { vocabSize: 0 } };
    expect(() => mergeCandidateConfig(bad)).toThrow(
      /^features\.search\.vocabSize: expected an integer >= 1, got 0$/,
    );
    expect(() => resolveCandidateModelConfig({ features: bad }, "--config")).toThrow(
      /^--config\.features\.search\.vocabSize: expected an integer >= 1, got 0$/,
    );
    expect(() => resolveCandidateModelConfig({ train: { lr: -1 } })).toThrow(
      /^config\.train\.lr: expected a number > 0, got -1$/,
    );
    expect(() => resolveCandidateModelConfig({ network: { widths: [32, 16] } })).toThrow(
      /^config\.network\.widths: expected a last width equal to network\.outputDim \(64\), got \[32,16\]$/,
    );
    // The default tied output table needs the user vector as wide as the item table's rows.
    expect(() => resolveCandidateModelConfig({ network: { outputDim: 32 } }, "--config")).toThrow(
      /^--config\.network\.outputDim: expected features\.embeddingDim\.item \(64\), since network\.tieOutput \(default true\).*network\.tieOutput false.*, got 32$/,
    );
    expect(
      resolveCandidateModelConfig({ network: { outputDim: 32, tieOutput: false } }).network.outputDim,
    ).toBe(32);
    expect(
      resolveCandidateModelConfig({ network: { outputDim: 32 }, features: { embeddingDim: { item: 32 } } })
        .network.tieOutput,
    ).toBe(true);
    expect(() => mergeCandidateConfig({ embeddingDim: { minOther: 8, maxOther: 4 } })).toThrow(
      /^features\.embeddingDim\.maxOther: expected an integer >= embeddingDim\.minOther \(8\), got 4$/,
    );
    expect(() =>
      resolveCandidateModelConfig({ network: { recentWatches: [1] } } as never, "--config"),
    ).toThrow(/^--config\.network: expected no recentWatches \(it moved to features\.recentWatches/);
  });

  it("types the feature part end to end: the resolved model config holds the full feature config", () => {
    const c = resolveCandidateModelConfig({ features: { watches: { maxLen: 7 } } });
    expect(c.features.watches.maxLen).toBe(7);
    expect(c.features.search).toEqual(defaultCandidateConfig.features.search);
    expect(resolveCandidateModelConfig()).toEqual(defaultCandidateConfig);
  });
});
