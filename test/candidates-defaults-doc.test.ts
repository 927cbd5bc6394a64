/**
 * docs/results/candidates-tuning.md "Chosen defaults" lists every default of the candidate
 * generator; this test reads that table and the code's defaults (defaultCandidateConfig) and
 * fails on any difference, printing the table the code implies.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { defaultCandidateConfig } from "../src/models/candidates/config.js";

const doc = readFileSync(new URL("../docs/results/candidates-tuning.md", import.meta.url), "utf8");

/** Every leaf of a config as [dotted path, value]. */
function leaves(value: unknown, path: string, out: Array<[string, unknown]> = []): Array<[string, unknown]> {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, path === "" ? k : `${path}.${k}`, out);
  } else out.push([path, value]);
  return out;
}

/** The rows of the first table under the "## Chosen defaults" heading: `key` | value (JSON). */
function docRows(): Array<[string, unknown]> {
  const start = doc.indexOf("\n## Chosen defaults");
  expect(start, 'candidates-tuning.md has no "## Chosen defaults" section').toBeGreaterThanOrEqual(0);
  const rest = doc.slice(start + 1);
  const next = rest.indexOf("\n## ");
  const section = next < 0 ? rest : rest.slice(0, next);
  const rows: Array<[string, unknown]> = [];
  for (const line of section.split("\n")) {
    const m = /^\| `([^`]+)` \| `([^`]*)` \|/.exec(line);
    if (m) rows.push([m[1], JSON.parse(m[2]) as unknown]);
  }
  return rows;
}

describe("candidates-tuning.md chosen defaults", () => {
  it("lists exactly the code's defaults, in the code's order", () => {
    const code = leaves(defaultCandidateConfig, "");
    const expected = code.map(([k, v]) => `| \`${k}\` | \`${JSON.stringify(v)}\` |`).join("\n");
    expect(docRows(), `the table the code's defaults give:\n${expected}`).toEqual(code);
  });
});
