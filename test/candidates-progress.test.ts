/** The training display: one rewritten line on a terminal, plain lines elsewhere, epoch lines always. */
import { describe, expect, it } from "vitest";
import { progressPrinter } from "../src/models/candidates/progress.js";

const step = {
  kind: "step",
  epoch: 1,
  epochs: 5,
  step: 10,
  stepsPerEpoch: 100,
  examplesPerSecond: 12345,
  loss: 6.5,
  etaSeconds: 75,
} as const;
const epoch = {
  kind: "epoch",
  epoch: 1,
  epochs: 5,
  loss: 6.4,
  valid: { hr10: 0.2, ndcg10: 0.1 },
  best: true,
  seconds: 3.2,
  examplesPerSecond: 12000,
} as const;

describe("training progress display", () => {
  it("rewrites one line on a TTY and ends it before the epoch summary", () => {
    let out = "";
    const print = progressPrinter({ isTTY: true, write: (t: string) => (out += t) });
    print(step);
    print(step);
    print(epoch);
    print({ kind: "stop", reason: "interrupted", bestEpoch: 1, seconds: 4 });
    const clear = "\r\u001b[2K";
    expect(out.split(`${clear}epoch 1/5  step 10/100  12,345 ex/s  loss 6.5000  ETA 1m15s`)).toHaveLength(3);
    expect(out).toContain(`${clear}epoch 1/5  loss 6.4000  valid HR@10 0.2000  NDCG@10 0.1000`);
    expect(out).toMatch(/\(best\)\n/);
    expect(out).toMatch(/training done \(interrupted\) after 4\.0 s; best epoch 1\n$/);
  });

  it("writes plain lines without control characters elsewhere", () => {
    let out = "";
    const print = progressPrinter({ isTTY: false, write: (t: string) => (out += t) });
    print(step);
    print(step); // throttled: at most one step line per 10 s
    print(epoch);
    expect(out.includes("\u001b") || out.includes("\r")).toBe(false);
    expect(out.split("\n").filter((l) => l.startsWith("epoch 1/5  step"))).toHaveLength(1);
    expect(out).toMatch(/valid HR@10 0\.2000/);
  });

  it("says once which softmax auto took and which feature groups the data turned off", () => {
    let out = "";
    const print = progressPrinter({ isTTY: false, write: (t: string) => (out += t) });
    const start = {
      kind: "start",
      softmax: {
        requested: "auto",
        used: "full",
        reason: "auto: 1682 items <= train.fullSoftmaxMaxItems 20000",
      },
      autoOff: { search: "ml-100k has no tag events", "demographics.zip": "no zip codes" },
      epochs: 5,
    } as const;
    print(start);
    print(epoch);
    print(start); // the refit of the temporal protocol: same setup, not repeated
    expect(out.split("\n").slice(0, 2)).toEqual([
      "softmax: full (auto: 1682 items <= train.fullSoftmaxMaxItems 20000)",
      "features off for lack of data: search (ml-100k has no tag events), demographics.zip (no zip codes)",
    ]);
    expect(out.match(/softmax:/g)).toHaveLength(1);
    expect(out.match(/features off/g)).toHaveLength(1);

    let quiet = "";
    progressPrinter({ isTTY: false, write: (t: string) => (quiet += t) })({ ...start, autoOff: {} });
    expect(quiet).toBe("softmax: full (auto: 1682 items <= train.fullSoftmaxMaxItems 20000)\n");
  });
});
