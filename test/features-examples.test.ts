import { describe, expect, it } from "vitest";
import {
  buildCandidateFeatures,
  type CandidateFeatures,
  type ExampleSet,
} from "../src/features/candidate-features.js";
import { makeDataset, randomDataset } from "./features-fixtures.js";
import { naiveSequence } from "./features-naive.js";

function fillAll(f: CandidateFeatures, set: ExampleSet, batchSize = 7): number[][] {
  const order = Int32Array.from({ length: set.size }, (_, i) => i);
  const batch = f.allocBatch(batchSize);
  const out: number[][] = [];
  for (let s = 0; s < set.size; s += batchSize) {
    const n = f.fillTrainBatch(set, order, s, Math.min(set.size, s + batchSize), batch);
    const w = batch.bags.watches;
    for (let b = 0; b < n; b++) out.push(Array.from(w.indices.subarray(w.offsets[b], w.offsets[b + 1])));
  }
  return out;
}

/** Number of users' examples per user. */
function perUser(set: ExampleSet, numUsers: number): number[] {
  const c = new Array<number>(numUsers).fill(0);
  for (const u of set.user) c[u]++;
  return c;
}

describe("rollback examples", () => {
  it("use only the events before the label in stable time order (property, random data)", () => {
    for (let seed = 1; seed <= 8; seed++) {
      const d = randomDataset(seed);
      const maxLen = 1 + (seed % 6) * 3;
      const f = buildCandidateFeatures(d, {
        watches: { maxLen },
        examples: { perUserCap: 0, minHistory: 0 },
      });
      const set = f.examples();
      expect(set.size).toBe(d.events.user.length);
      const bags = fillAll(f, set);
      for (let e = 0; e < set.size; e++) {
        const seq = naiveSequence(d, set.user[e]);
        const p = set.pos[e];
        expect(set.label[e]).toBe(seq[p].item);
        expect(set.time[e]).toBe(seq[p].time);
        const expected = seq.slice(Math.max(0, p - maxLen), p);
        expect(bags[e]).toEqual(expected.map((x) => x.item + 1));
        // Nothing after the label: every input is earlier in time, or tied and earlier in the file.
        for (const x of expected)
          expect(x.time < seq[p].time || (x.time === seq[p].time && x.file < seq[p].file)).toBe(true);
      }
    }
  });

  it("treat equal timestamps as the protocol does: earlier file rows are history", () => {
    const d = makeDataset({
      numUsers: 1,
      numItems: 4,
      events: [
        [0, 2, 20],
        [0, 0, 10],
        [0, 1, 20],
        [0, 3, 30],
      ],
    });
    const f = buildCandidateFeatures(d, { examples: { perUserCap: 0, minHistory: 0 } });
    expect(Array.from(f.seqItems)).toEqual([0, 2, 1, 3]);
    const set = f.examples();
    expect(fillAll(f, set)).toEqual([[], [1], [1, 3], [1, 3, 2]]);
  });

  it("skip labels with fewer than minHistory earlier events", () => {
    const d = randomDataset(3);
    const f = buildCandidateFeatures(d, { examples: { perUserCap: 0, minHistory: 2 } });
    const set = f.examples();
    expect(Math.min(...set.pos)).toBe(2);
    let expected = 0;
    for (let u = 0; u < d.users.ids.length; u++) expected += Math.max(0, naiveSequence(d, u).length - 2);
    expect(set.size).toBe(expected);
  });

  it("cap examples per user, keeping the most recent labels", () => {
    const d = randomDataset(5);
    const f = buildCandidateFeatures(d, { examples: { perUserCap: 4, selection: "recent", minHistory: 1 } });
    const set = f.examples();
    const counts = perUser(set, d.users.ids.length);
    for (let u = 0; u < counts.length; u++) {
      const n = naiveSequence(d, u).length;
      expect(counts[u]).toBe(Math.min(4, Math.max(0, n - 1)));
      const pos = Array.from(set.pos.filter((_, e) => set.user[e] === u));
      expect(pos).toEqual(Array.from({ length: counts[u] }, (_, k) => n - counts[u] + k));
    }
  });

  it("cap examples per user with a seeded uniform sample over the history", () => {
    const events: Array<[number, number, number]> = Array.from({ length: 21 }, (_, k) => [0, k % 5, k]);
    const d = makeDataset({ numUsers: 1, numItems: 5, events });
    const f = buildCandidateFeatures(d, {
      examples: { perUserCap: 5, selection: "uniform", minHistory: 1, seed: 9 },
    });
    const a = f.examples(3);
    expect(Array.from(a.pos)).toEqual(Array.from(f.examples(3).pos)); // same seed + epoch, same sample
    const hits = new Array<number>(21).fill(0);
    const epochs = 2000;
    let differs = false;
    for (let epoch = 0; epoch < epochs; epoch++) {
      const s = f.examples(epoch);
      expect(s.size).toBe(5);
      const pos = Array.from(s.pos);
      expect(new Set(pos).size).toBe(5);
      expect(pos).toEqual([...pos].sort((x, y) => x - y));
      for (const p of pos) hits[p]++;
      differs ||= pos.join() !== Array.from(a.pos).join();
    }
    expect(differs).toBe(true);
    expect(hits[0]).toBe(0); // minHistory 1
    // Each of the 20 eligible positions is picked with probability 5/20: 500 expected, sd ≈ 19.
    for (let p = 1; p <= 20; p++) expect(Math.abs(hits[p] - 500)).toBeLessThan(100);
  });
});

describe("heldout examples (Figure 5 alternative)", () => {
  it("predict a random watch from all the other watches, future ones included", () => {
    const d = randomDataset(11);
    const maxLen = 10;
    const f = buildCandidateFeatures(d, {
      watches: { maxLen },
      examples: { mode: "heldout", perUserCap: 3, minHistory: 1, seed: 4 },
    });
    const set = f.examples();
    expect(set.mode).toBe("heldout");
    const counts = perUser(set, d.users.ids.length);
    const bags = fillAll(f, set);
    let sawFuture = false;
    let notLast = 0;
    for (let e = 0; e < set.size; e++) {
      const seq = naiveSequence(d, set.user[e]);
      const p = set.pos[e];
      const others = seq.filter((_, k) => k !== p);
      expect(bags[e]).toEqual(others.slice(Math.max(0, others.length - maxLen)).map((x) => x.item + 1));
      if (p < seq.length - 1) notLast++;
      sawFuture ||= seq.slice(p + 1).some((x) => bags[e].includes(x.item + 1) && x.time > seq[p].time);
    }
    for (let u = 0; u < counts.length; u++)
      expect(counts[u]).toBe(Math.min(3, naiveSequence(d, u).length >= 2 ? naiveSequence(d, u).length : 0));
    expect(notLast).toBeGreaterThan(0);
    expect(sawFuture).toBe(true);
  });
});
