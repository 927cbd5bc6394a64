/**
 * The candidate network (engine layers assembled by the model) end to end against finite
 * differences: full and sampled softmax, shared slots, categorical and continuous inputs, a
 * recent-watches bag sharing the item table, dropout (masks replayed), item bias, tied output; and
 * a few Adam steps on a fixed batch lowering the loss.
 */
import { describe, expect, it } from "vitest";
import { referenceKernels as k } from "../src/engine/kernels/reference.js";
import type { Parameter } from "../src/engine/layers/parameter.js";
import { Rng } from "../src/engine/rng.js";
import type { CandidateBatch } from "../src/features/batch.js";
import type { FeatureSchema } from "../src/features/schema.js";
import { resolveCandidateModelConfig, type CandidateConfigInput } from "../src/models/candidates/config.js";
import { NegativeSampler } from "../src/models/candidates/negative-sampler.js";
import { CandidateNetwork } from "../src/models/candidates/network.js";

const numItems = 13;
const schema: FeatureSchema = {
  tables: [
    { name: "item", rows: numItems + 1, dim: 4 },
    { name: "genre", rows: 5, dim: 4 },
    { name: "gender", rows: 3, dim: 2 },
  ],
  features: [
    { kind: "bag", name: "watches", table: "item", slot: "watch" },
    { kind: "bag", name: "watchGenres", table: "genre", slot: "watch" },
    { kind: "categorical", name: "gender", table: "gender" },
    { kind: "bag", name: "recentWatches2", table: "item" },
    { kind: "continuous", name: "exampleAge", offset: 0, width: 2 },
  ],
  denseWidth: 2,
};

function makeBatch(rng: Rng, size: number): CandidateBatch {
  const bag = (rows: number, maxLen: number) => {
    const offsets = new Int32Array(size + 1);
    const idx: number[] = [];
    for (let b = 0; b < size; b++) {
      const len = rng.nextInt(maxLen + 1);
      for (let i = 0; i < len; i++) idx.push(1 + rng.nextInt(rows - 1));
      offsets[b + 1] = idx.length;
    }
    return { offsets, indices: Int32Array.from(idx), weights: null };
  };
  const labels = new Int32Array(size);
  for (let b = 0; b < size; b++) labels[b] = rng.nextInt(numItems);
  const dense = new Float32Array(size * 2);
  for (let i = 0; i < dense.length; i++) dense[i] = rng.nextFloat();
  const gender = new Int32Array(size);
  for (let b = 0; b < size; b++) gender[b] = rng.nextInt(3);
  const watches = bag(numItems + 1, 5);
  // The last two watches, as the feature builder fills the recent-watches bag.
  const recentOffsets = new Int32Array(size + 1);
  const recent: number[] = [];
  for (let b = 0; b < size; b++) {
    const end = watches.offsets[b + 1];
    for (let i = Math.max(watches.offsets[b], end - 2); i < end; i++) recent.push(watches.indices[i]);
    recentOffsets[b + 1] = recent.length;
  }
  return {
    size,
    labels,
    labelTimes: new Float64Array(size),
    bags: {
      watches,
      watchGenres: bag(5, 3),
      recentWatches2: { offsets: recentOffsets, indices: Int32Array.from(recent), weights: null },
    },
    categorical: { gender },
    dense,
    denseWidth: 2,
  };
}

function build(input: CandidateConfigInput, mode: "full" | "sampled"): CandidateNetwork {
  const config = resolveCandidateModelConfig(input);
  const counts = new Float64Array(numItems).map((_, i) => i + 1);
  const sampler = mode === "sampled" ? new NegativeSampler(counts, 0.75, 7) : null;
  return new CandidateNetwork(
    k,
    config,
    { schema, numItems, capacity: 8, mode, itemIds: { table: "item" } },
    sampler,
    new Rng(3),
  );
}

/** Worst relative error of the analytic gradient of every parameter entry, same dropout masks throughout. */
function gradCheck(net: CandidateNetwork, batch: CandidateBatch): number {
  const masks = net.tower.dropoutRng.getState();
  const lossAt = () => {
    net.tower.dropoutRng.setState(masks);
    const l = net.forwardBackward(batch, new Rng(11));
    net.zeroGrad();
    return l;
  };
  net.zeroGrad();
  net.tower.dropoutRng.setState(masks);
  net.forwardBackward(batch, new Rng(11));
  const params: Parameter[] = net.parameters();
  const analytic = params.map((p) => Float32Array.from(p.grad));
  net.zeroGrad();
  let worst = 0;
  const h = 1e-3;
  params.forEach((p, pi) => {
    for (let i = 0; i < p.data.length; i++) {
      // The out-of-vocabulary row is frozen (not trained), so it has no gradient by design.
      if (Math.floor(i / p.rowDim) === p.frozenRow) continue;
      const v = p.data[i];
      p.data[i] = v + h;
      const up = lossAt();
      p.data[i] = v - h;
      const down = lossAt();
      p.data[i] = v;
      const numeric = (up - down) / (2 * h);
      const err =
        Math.abs(numeric - analytic[pi][i]) / Math.max(1e-2, Math.abs(numeric) + Math.abs(analytic[pi][i]));
      worst = Math.max(worst, err);
    }
  });
  return worst;
}

describe("candidate network gradients", () => {
  const base: CandidateConfigInput = {
    network: {
      depth: 2,
      outputDim: 4,
      tieOutput: false,
      finalRelu: false,
      embeddingInitStd: 0.5,
      dropout: 0.3,
    },
  };
  it("full softmax with shared slots, categorical, continuous, recency inputs and dropout", () => {
    const net = build(base, "full");
    expect(net.parameters().map((p) => p.name)).toContain("output.embeddings.bias");
    expect(gradCheck(net, makeBatch(new Rng(5), 6))).toBeLessThan(2e-2);
  });
  it("sampled softmax with logQ correction and item bias", () => {
    const net = build(base, "sampled");
    // Batch seed chosen so no hidden ReLU sits within h of its kink (a finite-difference artefact).
    expect(gradCheck(net, makeBatch(new Rng(16), 6))).toBeLessThan(2e-2);
  });
  for (const mode of ["full", "sampled"] as const) {
    it(`tied output embeddings at depth 0 (${mode} softmax)`, () => {
      const net = build(
        {
          network: { depth: 0, outputDim: 4, tieOutput: true, embeddingInitStd: 0.5, dropout: 0 },
          features: { embeddingDim: { item: 4 } }, // the hand-made schema's item table is 4 wide
        },
        mode,
      );
      // The item table is both input and output: listed once, row i + 1 = item i.
      expect(net.parameters().filter((p) => p.name === "item")).toHaveLength(1);
      expect(net.itemMatrix()).toEqual(net.input.tables.get("item")?.data.subarray(4));
      expect(gradCheck(net, makeBatch(new Rng(7), 6))).toBeLessThan(2e-2);
    });
  }
  it("keeps the out-of-vocabulary rows at zero through training", () => {
    const net = build(base, "full");
    const batch = makeBatch(new Rng(8), 8);
    batch.categorical.gender.fill(0);
    for (let i = 0; i < 5; i++) net.trainStep(batch, new Rng(1));
    for (const t of net.input.tables.values())
      expect(Array.from(t.data.subarray(0, t.dim))).toEqual(new Array<number>(t.dim).fill(0));
  });
});

describe("candidate network training step", () => {
  it("lowers the loss of a fixed batch", () => {
    const net = build({ network: { depth: 1, outputDim: 8, tieOutput: false }, train: { lr: 0.01 } }, "full");
    const batch = makeBatch(new Rng(9), 8);
    const first = net.trainStep(batch, new Rng(1));
    let last = first;
    for (let i = 0; i < 50; i++) last = net.trainStep(batch, new Rng(1));
    expect(last).toBeLessThan(first * 0.5);
  });
});
