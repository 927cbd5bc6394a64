/**
 * The CLI speaks to people: every command is run with a table of bad invocations (unknown option,
 * missing or invalid option, missing file or model directory, bad data), and each must print one
 * or two lines on stderr with no stack trace and exit with its documented code (1 bad input, 2
 * bad command line). WATCHNEXT_DEBUG=1 adds the stack trace; an unexpected error is exit 70.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { commands } from "../src/cli/commands/index.js";
import { EXIT, reportError } from "../src/cli/exit.js";

const main = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
const ML100K = fileURLToPath(new URL("../../shared/data/ml-100k", import.meta.url));
/** A stack frame line as Node prints it. */
const STACK = /^\s+at .+[(:]/m;

let dir: string;
let log: string;
let latin1: string;
let twoBad: string;

beforeAll(async () => {
  if (!existsSync(main))
    throw new Error(`${main} is missing: run \`npx tsc -p tsconfig.json\` (npm test does)`);
  dir = await mkdtemp(join(tmpdir(), "watchnext-cli-errors-"));
  log = join(dir, "plays.csv");
  await writeFile(log, "user\titem\ttimestamp\nu1\ti1\t100\nu2\ti1\t200\nu2\ti2\t300\n");
  latin1 = join(dir, "latin.csv");
  await writeFile(
    latin1,
    Buffer.concat([Buffer.from("user,item,timestamp\nu1,caf"), Buffer.from([0xe9]), Buffer.from(",1\n")]),
  );
  twoBad = join(dir, "twobad.csv");
  await writeFile(twoBad, "rating,timestamp,user,item\n4,100,a,x\nhigh,soon,b,y\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "node",
      [main, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (err, _out, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ code, stderr });
      },
    );
  });
}

interface Case {
  readonly args: () => string[];
  readonly code: number;
  /** What stderr must say. */
  readonly says: RegExp;
}

const missing = "/nonexistent/watchnext-input";

/** Bad invocations per command; every command also gets an unknown option (added below). */
const TABLE: Record<string, readonly Case[]> = {
  baselines: [
    { args: () => [], code: 2, says: /--data <path> is required/ },
    { args: () => ["--data", missing], code: 1, says: /no such file or directory/ },
    { args: () => ["--data", ML100K, "--models", "nope"], code: 2, says: /unknown model "nope"/ },
    {
      args: () => ["--data", ML100K, "--delimiter", ";"],
      code: 1,
      says: /--delimiter apply to event log files/,
    },
  ],
  "data cut-history": [
    { args: () => [], code: 2, says: /--out is required/ },
    { args: () => ["--out", join(dir, "c")], code: 2, says: /--last is required/ },
    {
      args: () => ["--out", join(dir, "c"), "--last", "0"],
      code: 2,
      says: /--last: expected a positive integer, got "0"/,
    },
    {
      args: () => ["--data", log, "--out", join(dir, "c"), "--last", "3"],
      code: 1,
      says: /needs a MovieLens release directory; this is an event log/,
    },
  ],
  "data fetch": [
    { args: () => [], code: 2, says: /expected one release name/ },
    { args: () => ["ml-999"], code: 2, says: /unknown release "ml-999"/ },
  ],
  "data info": [
    { args: () => [], code: 2, says: /expected one dataset path/ },
    { args: () => [missing], code: 1, says: /no such file or directory/ },
    { args: () => [log, "--encoding", "utf16"], code: 2, says: /--encoding: expected utf8 or latin1/ },
    { args: () => [log, "--delimiter", "abc"], code: 2, says: /--delimiter: expected one or two characters/ },
    {
      args: () => [log, "--user-col", "who"],
      code: 1,
      says: /plays\.csv:1: field 'who': column not found .*--user-col/,
    },
    { args: () => [log, "--items-file", missing], code: 1, says: /no such file/ },
    {
      args: () => [log, "--item-category-cols", "genre"],
      code: 2,
      says: /--item-category-cols .*--items-file, which is not given/,
    },
    { args: () => [latin1], code: 1, says: /latin\.csv:2: byte 7: invalid UTF-8 .*--encoding latin1/ },
    // Several bad fields on the line: the first in column order is the one named.
    {
      args: () => [twoBad, "--weight-col", "rating"],
      code: 1,
      says: /twobad\.csv:3: field 'rating': expected a number, got "high"/,
    },
  ],
  "data synth": [
    { args: () => [], code: 2, says: /--out is required/ },
    {
      args: () => ["--out", join(dir, "s"), "--users", "0"],
      code: 2,
      says: /users: expected a positive integer, got 0/,
    },
  ],
  "train candidates": [
    { args: () => ["--data", ML100K], code: 2, says: /--out <dir> is required/ },
    {
      args: () => ["--data", ML100K, "--out", join(dir, "m"), "--config", "{bad"],
      code: 2,
      says: /--config: not valid JSON/,
    },
    {
      args: () => ["--data", ML100K, "--out", join(dir, "m"), "--config", '{"nope":1}'],
      code: 2,
      says: /unknown key "nope"/,
    },
    { args: () => ["--data", missing, "--out", join(dir, "m")], code: 1, says: /no such file or directory/ },
  ],
  evaluate: [
    { args: () => ["--data", ML100K], code: 2, says: /--model <dir> is required/ },
    { args: () => ["--model", missing, "--data", ML100K], code: 1, says: /manifest\.json: cannot read/ },
    { args: () => ["--model", dir, "--data", ML100K], code: 1, says: /manifest\.json: cannot read/ },
  ],
  recommend: [
    { args: () => ["--data", ML100K, "--user", "1"], code: 2, says: /--model <dir> is required/ },
    {
      args: () => ["--model", missing, "--data", ML100K, "--user", "1"],
      code: 1,
      says: /manifest\.json: cannot read/,
    },
  ],
  train: [
    { args: () => ["--data", ML100K], code: 2, says: /--out <dir> is required/ },
    {
      args: () => ["--data", ML100K, "--out", join(dir, "m2"), "--sources", "dnn,nope"],
      code: 2,
      says: /nope/,
    },
    { args: () => ["--data", missing, "--out", join(dir, "m2")], code: 1, says: /no such file or directory/ },
  ],
  "train ranker": [
    {
      args: () => ["--data", ML100K, "--out", join(dir, "m3")],
      code: 2,
      says: /--candidates <dir> is required/,
    },
    {
      args: () => ["--data", ML100K, "--out", join(dir, "m3"), "--candidates", missing],
      code: 1,
      says: /manifest\.json: cannot read/,
    },
  ],
  serve: [
    { args: () => [], code: 2, says: /--model <dir> is required/ },
    { args: () => ["--model", missing, "--port", "99999"], code: 2, says: /--port: expected an integer/ },
  ],
  quickstart: [{ args: () => ["--port", "abc"], code: 2, says: /--port: expected an integer/ }],
  embed: [
    { args: () => ["--corpus", "items"], code: 2, says: /--out <file> is required/ },
    {
      args: () => ["--data", ML100K, "--corpus", "nope", "--out", join(dir, "e.txt")],
      code: 2,
      says: /--corpus/,
    },
  ],
  "embed similar": [
    { args: () => ["--key", "x"], code: 2, says: /--file/ },
    { args: () => ["--file", missing, "--key", "x"], code: 1, says: /no such file|cannot read/ },
  ],
  "export onnx": [
    { args: () => ["--data", ML100K, "--out", join(dir, "o")], code: 2, says: /--model <dir> is required/ },
    {
      args: () => ["--model", missing, "--data", ML100K, "--out", join(dir, "o")],
      code: 1,
      says: /manifest\.json: cannot read/,
    },
  ],
  "export examples": [
    { args: () => ["--data", ML100K, "--out", join(dir, "x")], code: 2, says: /--format: expected parquet/ },
    { args: () => ["--data", ML100K, "--format", "parquet"], code: 2, says: /--out <dir> is required/ },
    {
      args: () => ["--data", ML100K, "--format", "parquet", "--out", join(dir, "x"), "--epochs", "0"],
      code: 2,
      says: /--epochs/,
    },
  ],
  experiment: [
    { args: () => [], code: 2, says: /which experiment\? expected one of/ },
    { args: () => ["nope", "--data", ML100K], code: 2, says: /unknown experiment "nope"/ },
    { args: () => ["compare"], code: 2, says: /--data <path> is required/ },
    { args: () => ["compare", "--data", missing], code: 1, says: /no such file or directory/ },
    { args: () => ["compare", "--data", ML100K, "--seeds", "1,x"], code: 2, says: /--seeds: expected/ },
    {
      args: () => ["compare", "--data", ML100K, "--protocol", "kfold"],
      code: 2,
      says: /--protocol: expected loo, temporal/,
    },
    {
      args: () => ["figure6", "--data", ML100K, "--candidates-config", '{"network":{"depth":9}}'],
      code: 2,
      says: /--candidates-config\.network\.depth/,
    },
    {
      args: () => ["compare", "--data", ML100K, "--protocol", "loo", "--window", "7"],
      code: 2,
      says: /temporal only/,
    },
  ],
};

describe("bad invocations", () => {
  it("the table covers every command", () => {
    expect(Object.keys(TABLE).sort()).toEqual(Object.keys(commands).sort());
  });

  const cases: Array<[string, Case]> = [];
  for (const [name, list] of Object.entries(TABLE)) {
    cases.push([
      name,
      { args: () => ["--no-such-option"], code: 2, says: /Unknown option '--no-such-option'/ },
    ]);
    for (const c of list) cases.push([name, c]);
  }

  it(`print one or two lines, no stack trace, and the documented exit code (${cases.length} cases)`, async () => {
    const results = [];
    // A few at a time: each is a node process.
    for (let k = 0; k < cases.length; k += 4) {
      const batch = cases.slice(k, k + 4);
      results.push(
        ...(await Promise.all(
          batch.map(async ([name, c]) => {
            const args = [...name.split(" "), ...c.args()];
            return { args, c, ...(await run(args)) };
          }),
        )),
      );
    }
    for (const r of results) {
      const what = `watchnext ${r.args.join(" ")}\n${r.stderr}`;
      expect(r.stderr, what).not.toMatch(STACK);
      expect(r.stderr, what).toMatch(r.c.says);
      expect(r.stderr, what).toMatch(/^watchnext[ :]/);
      expect(r.stderr.trimEnd().split("\n").length, what).toBeLessThanOrEqual(2);
      expect(r.code, what).toBe(r.c.code);
    }
  }, 300_000);

  it("an unknown command is a bad command line", async () => {
    const r = await run(["nope"]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr.trim()).toBe('watchnext: unknown command "nope"; run `watchnext --help` for the list');
  });

  it("WATCHNEXT_DEBUG=1 adds the stack trace", async () => {
    const r = await run(["data", "info", missing], { WATCHNEXT_DEBUG: "1" });
    expect(r.code).toBe(EXIT.input);
    expect(r.stderr).toMatch(/^watchnext: .*no such file or directory/);
    expect(r.stderr).toMatch(STACK);
  });
});

describe("reportError", () => {
  it("calls anything that is not a user error a bug (exit 70), with the stack only when debugging", () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => {
      lines.push(a.map(String).join(" "));
    });
    try {
      expect(reportError(new TypeError("x is undefined"), "evaluate", false)).toBe(EXIT.internal);
      expect(lines.join("\n")).toMatch(
        /^watchnext: internal error: x is undefined\nThis is a bug; run again with WATCHNEXT_DEBUG=1/,
      );
      expect(lines.join("\n")).not.toMatch(STACK);
      lines.length = 0;
      expect(reportError(new TypeError("x is undefined"), "evaluate", true)).toBe(EXIT.internal);
      expect(lines.join("\n")).toMatch(STACK);
      lines.length = 0;
      const enoent = Object.assign(new Error("EACCES: permission denied, open '/x'"), {
        code: "EACCES",
        syscall: "open",
      });
      expect(reportError(enoent, "train candidates", false)).toBe(EXIT.input);
      expect(lines).toEqual(["watchnext: EACCES: permission denied, open '/x'"]);
    } finally {
      spy.mockRestore();
    }
  });
});
