/** The loo and temporal splits on hand-built event logs (ties, out-of-order rows, short users). */
import { describe, expect, it } from "vitest";
import { splitLoo } from "../src/eval/split-loo.js";
import { splitTemporal } from "../src/eval/split-temporal.js";
import type { QuerySet } from "../src/eval/types.js";
import { tinyDataset } from "./eval-fixtures.js";

function history(qs: QuerySet, q: number): number[] {
  return [...qs.historyItems.subarray(qs.historyOffsets[q], qs.historyOffsets[q + 1])];
}
function targets(qs: QuerySet, q: number): number[] {
  return [...qs.targetItems.subarray(qs.targetOffsets[q], qs.targetOffsets[q + 1])];
}

describe("splitLoo", () => {
  // user 0: rows out of time order, with a tie at t=20 (file order 3 then 4 must be kept);
  // user 1: only two interactions (training only); user 2: exactly three.
  const data = tinyDataset(3, 6, [
    [0, 5, 30],
    [0, 1, 10],
    [1, 0, 5],
    [0, 3, 20],
    [0, 4, 20],
    [2, 2, 1],
    [1, 1, 6],
    [2, 3, 2],
    [2, 4, 3],
    [0, 0, 40],
  ]);
  const split = splitLoo(data);

  it("holds out the last interaction for test and the second-to-last for validation, stable on time ties", () => {
    expect([...split.valid.users]).toEqual([0, 2]);
    expect(history(split.valid, 0)).toEqual([1, 3, 4]);
    expect(targets(split.valid, 0)).toEqual([5]);
    expect(history(split.test, 0)).toEqual([1, 3, 4, 5]);
    expect(targets(split.test, 0)).toEqual([0]);
    expect([...split.test.times]).toEqual([40, 3]);
    expect([...split.valid.times]).toEqual([30, 2]);
    expect(history(split.test, 1)).toEqual([2, 3]);
    expect(targets(split.test, 1)).toEqual([4]);
    expect([...split.test.historyTimes.subarray(0, 4)]).toEqual([10, 20, 20, 30]);
  });

  it("trains on everything before the validation targets, keeping short users whole, in file order", () => {
    const t = split.train.events;
    expect([...t.user]).toEqual([0, 1, 0, 0, 2, 1]);
    expect([...t.item]).toEqual([1, 0, 3, 4, 2, 1]);
    expect(split.train.items).toBe(data.items);
    expect(split.params.trainOnlyUsers).toBe(1);
  });
});

describe("splitTemporal", () => {
  const day = 86_400;
  // Times in days; 10 events, so the 0.9 quantile is the 9th smallest time (index floor(0.9·9) = 8).
  const data = tinyDataset(3, 6, [
    [0, 0, 1 * day],
    [0, 1, 2 * day],
    [1, 2, 3 * day],
    [1, 0, 4 * day],
    [0, 2, 5 * day],
    [2, 3, 6 * day],
    [0, 1, 7 * day], // repeat of a history item: never a target
    [1, 5, 8 * day],
    [0, 4, 20 * day],
    [0, 5, 60 * day], // outside a 30-day window after the cut at day 20
  ]);

  it("cuts at the quantile, trains on events up to the cut and targets new items inside the window", () => {
    // Only user 0 has an event after the cut (day 20), 40 days later: outside the default window.
    expect(() => splitTemporal(data)).toThrow(/no user of tiny has a target in the window after 1970-01-21/);
    const all = splitTemporal(data, { windowDays: "all" });
    expect(all.params.cutTime).toBe(20 * day);
    expect(all.train.events.user.length).toBe(9);
    expect([...all.test.users]).toEqual([0]);
    expect(targets(all.test, 0)).toEqual([5]);
    expect(history(all.test, 0)).toEqual([0, 1, 2, 1, 4]);
    expect([...all.test.times]).toEqual([20 * day]);
  });

  it("validates at a second cut inside the training period and fits validation on data up to it", () => {
    const split = splitTemporal(data, { cutTime: 8 * day, windowDays: 30 });
    // Training events (time <= day 8): 8; validation cut at index floor(0.9·7) = 6 -> day 7.
    expect(split.params.validCutTime).toBe(7 * day);
    expect(split.validTrain?.events.user.length).toBe(7);
    expect([...split.valid.users]).toEqual([1]);
    expect(targets(split.valid, 0)).toEqual([5]);
    expect([...split.test.users]).toEqual([0]);
    expect(targets(split.test, 0)).toEqual([4]);
    // No validation query looks past the test cut.
    for (const t of split.valid.historyTimes) expect(t).toBeLessThanOrEqual(7 * day);
  });

  it("drops repeats and duplicate targets, and reports users without targets", () => {
    const d = tinyDataset(2, 4, [
      [0, 0, 1],
      [1, 1, 2],
      [0, 1, 3],
      [1, 2, 4],
      [0, 2, 5],
      [0, 0, 6],
      [0, 3, 7],
      [0, 3, 8],
      [1, 1, 9],
    ]);
    const split = splitTemporal(d, { cutTime: 5, windowDays: "all" });
    expect([...split.test.users]).toEqual([0]);
    expect(targets(split.test, 0)).toEqual([3]);
    expect(split.params.usersWithoutTargets).toBe(1);
  });

  it("rejects cuts that leave no training or no test data, with a clear message", () => {
    expect(() => splitTemporal(data, { cutTime: 0 })).toThrow(/no training/);
    expect(() => splitTemporal(data, { cutTime: 100 * day })).toThrow(/no test/);
    expect(() => splitTemporal(data, { cutQuantile: 1.5 })).toThrow(/cutQuantile/);
    expect(() => splitTemporal(data, { windowDays: 0 })).toThrow(/windowDays/);
  });
});
