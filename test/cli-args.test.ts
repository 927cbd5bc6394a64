/**
 * The CLI's shared argument handling: the one protocol-option parser every splitting command uses,
 * the option-value parsers, and the dispatcher printing every UserError (data, model file, config,
 * option) as one line without a stack trace, recognised by class.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readConfigArg } from "../src/cli/config-arg.js";
import { CliError, optionError } from "../src/cli/errors.js";
import { EXIT } from "../src/cli/exit.js";
import { parseProtocolArgs, splitFromArgs, trainedProtocol } from "../src/cli/protocol-args.js";
import { parseInteger, parseNumber, parseSeed, parseTime } from "../src/cli/values.js";
import { DataError } from "../src/data/errors.js";
import { FetchError } from "../src/data/fetch.js";
import { ZipError } from "../src/data/zip.js";
import { ModelFileError } from "../src/engine/model-file/errors.js";
import { UserError } from "../src/errors.js";
import { tinyDataset } from "./eval-fixtures.js";

const run = promisify(execFile);
const main = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
let dir: string;

beforeAll(() => {
  if (!existsSync(main))
    throw new Error(`${main} is missing: run \`npx tsc -p tsconfig.json\` (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), "wn-cli-args-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the compiled CLI expecting failure; returns its exit code and stderr. */
async function fails(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run("node", [main, ...args]);
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
  throw new Error(`watchnext ${args.join(" ")} succeeded`);
}

describe("protocol options", () => {
  it("parses loo and temporal with their options", () => {
    expect(parseProtocolArgs({})).toEqual({ protocol: "loo", temporal: {} });
    expect(parseProtocolArgs({ protocol: "temporal", "cut-quantile": "0.8", window: "all" })).toEqual({
      protocol: "temporal",
      temporal: { cutQuantile: 0.8, windowDays: "all" },
    });
    expect(
      parseProtocolArgs({ protocol: "temporal", "cut-time": "1970-01-02T00:00:00Z", window: "7" }),
    ).toEqual({ protocol: "temporal", temporal: { cutTime: 86_400, windowDays: 7 } });
  });

  it("rejects an unknown protocol, bad values, and temporal options under loo", () => {
    expect(() => parseProtocolArgs({ protocol: "kfold" })).toThrow(
      '--protocol: expected loo or temporal, got "kfold"',
    );
    expect(() => parseProtocolArgs({ protocol: "temporal", window: "week" })).toThrow(
      '--window: expected a number, got "week"',
    );
    expect(() => parseProtocolArgs({ protocol: "temporal", "cut-time": "yesterday" })).toThrow(
      '--cut-time: expected epoch seconds or ISO-8601, got "yesterday"',
    );
    expect(() => parseProtocolArgs({ window: "7" })).toThrow(CliError);
  });

  it("falls back to a stored protocol as a whole, never mixing it with flags", () => {
    const stored = { protocol: "temporal" as const, temporal: { cutTime: 1000, windowDays: 5 } };
    expect(parseProtocolArgs({}, stored)).toEqual(stored);
    expect(parseProtocolArgs({ window: "9" }, stored)).toEqual({
      protocol: "temporal",
      temporal: { windowDays: 9 },
    });
    expect(parseProtocolArgs({ protocol: "loo" }, stored)).toEqual({ protocol: "loo", temporal: {} });
  });

  it("reads the protocol a model was trained with from its manifest metadata", () => {
    expect(trainedProtocol({})).toEqual({});
    expect(trainedProtocol({ protocol: "kfold" })).toEqual({});
    expect(trainedProtocol({ protocol: "loo", protocolParams: { minInteractions: 3 } })).toEqual({
      protocol: "loo",
    });
    const params = { cutTime: 1000, cut: "1970-01-01T00:16:40.000Z", windowDays: "all", cutQuantile: 0.8 };
    expect(trainedProtocol({ protocol: "temporal", protocolParams: params })).toEqual({
      protocol: "temporal",
      temporal: { cutTime: 1000, windowDays: "all" },
    });
  });

  it("reports a cut that leaves no data as a CliError", () => {
    const data = tinyDataset(2, 3, [
      [0, 0, 10],
      [0, 1, 20],
      [1, 2, 30],
    ]);
    const args = parseProtocolArgs({ protocol: "temporal", "cut-time": "0" });
    expect(() => splitFromArgs(data, args)).toThrow(CliError);
    expect(() => splitFromArgs(data, args)).toThrow(/leaves no training interactions/);
  });
});

describe("option values", () => {
  it("accepts what the flag means and names the flag otherwise", () => {
    expect(parseNumber("--x", "1e-3")).toBe(0.001);
    expect(() => parseNumber("--x", "")).toThrow('--x: expected a number, got ""');
    expect(() => parseNumber("--x", "Infinity")).toThrow("--x: expected a number");
    expect(parseInteger("--n", "-4")).toBe(-4);
    expect(() => parseInteger("--n", "2.5")).toThrow('--n: expected an integer, got "2.5"');
    expect(() => parseInteger("-k", "0", 1)).toThrow('-k: expected a positive integer, got "0"');
    expect(parseSeed(undefined)).toBe(1);
    expect(parseSeed(undefined, 42)).toBe(42);
    expect(parseSeed("7")).toBe(7);
    expect(() => parseSeed("-1")).toThrow('--seed: expected a non-negative integer, got "-1"');
    expect(parseTime("--t", "86400")).toBe(86_400);
  });

  it("maps only RangeErrors to CliErrors", () => {
    expect(optionError(new RangeError("bad"))).toBeInstanceOf(CliError);
    const other = new TypeError("bug");
    expect(optionError(other)).toBe(other);
  });
});

describe("--config", () => {
  it("reads inline JSON or a JSON file, and reports either failing as a CliError", () => {
    expect(readConfigArg(undefined)).toEqual({});
    expect(readConfigArg(' {"train": {"epochs": 2}}')).toEqual({ train: { epochs: 2 } });
    const file = join(dir, "config.json");
    writeFileSync(file, '{"network": {"depth": 1}}');
    expect(readConfigArg(file)).toEqual({ network: { depth: 1 } });
    expect(() => readConfigArg("{nope")).toThrow(CliError);
    expect(() => readConfigArg("{nope", "--ranker-config")).toThrow(/^--ranker-config: not valid JSON/);
    expect(() => readConfigArg(join(dir, "missing.json"))).toThrow(/--config: cannot read .*missing\.json/);
  });
});

describe("user errors", () => {
  it("share one base class", () => {
    const errors = [
      new CliError("x"),
      new DataError("f.csv", 3, "item", "expected an id"),
      new FetchError("x"),
      new ZipError("x"),
      new ModelFileError("m", "x"),
    ];
    for (const e of errors) expect(e).toBeInstanceOf(UserError);
    expect(errors.map((e) => e.name)).toEqual([
      "CliError",
      "DataError",
      "FetchError",
      "ZipError",
      "ModelFileError",
    ]);
  });

  it("are printed by the CLI as one line without a stack trace, with their exit code (1 input, 2 command line)", async () => {
    const bad = join(dir, "bad.csv");
    writeFileSync(bad, "user,item,timestamp\nu1,i1,notatime\n");
    const cases: Array<{ args: string[]; message: RegExp; code: number }> = [
      // ModelFileError
      {
        args: ["evaluate", "--model", join(dir, "no-model"), "--data", bad],
        message: /no-model/,
        code: EXIT.input,
      },
      // DataError
      { args: ["data", "info", bad], message: /bad\.csv:2: field 'timestamp'/, code: EXIT.input },
      // CliError from a value parser
      {
        args: ["baselines", "--data", bad, "--neighbours", "0"],
        message: /--neighbours: expected a positive/,
        code: EXIT.usage,
      },
      // a --config that is not JSON
      {
        args: ["train", "candidates", "--data", bad, "--out", join(dir, "m"), "--config", "{"],
        message: /--config: not valid JSON/,
        code: EXIT.usage,
      },
    ];
    for (const c of cases) {
      const { code, stderr } = await fails(c.args);
      expect(code).toBe(c.code);
      expect(stderr).toMatch(c.message);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toMatch(/^watchnext: /);
      expect(stderr).not.toMatch(/\n\s+at /);
    }
  });
});
