/**
 * The candidate network's gradients against finite differences (full and sampled softmax, shared
 * slots, categorical and continuous inputs, recency bag, tied output), and a few Adam steps on a
 * fixed batch lowering the loss.
 */
import { describe, expect, it } from "vitest";
import { referenceKernels as k } from "../src/engine/kernels/reference.js";
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
  return {
    size,
    labels,
    labelTimes: new Float64Array(size),
    bags: { watches: bag(numItems + 1, 5), watchGenres: bag(5, 3) },
    categorical: { gender },
    dense,
    denseWidth: 2,
  };
}

function build(input: CandidateConfigInput, mode: "full" | "sampled"): CandidateNetwork {
  const config = resolveCandidateModelConfig(input);
  const counts = new Float64Array(numItems).map((_, i) => i + 1);
  const sampler = mode === "sampled" ? new NegativeSampler(counts, 0.75, 7) : null;
  const net = new CandidateNetwork(
    config,
    { schema, numItems, capacity: 8, mode, itemIds: { feature: "watches", table: "item" } },
    sampler,
  );
  net.init(new Rng(3));
  return net;
}

function allParams(net: CandidateNetwork): Array<{ name: string; value: Float32Array; grad: Float32Array }> {
  const out = [...net.input.tables.values(), ...net.tower.params()].map((p) => ({
    name: p.name,
    value: p.value,
    grad: p.grad,
  }));
  if (!net.config.network.tieOutput)
    out.push({ name: "out", value: net.output.embeddings.value, grad: net.output.embeddings.grad });
  if (net.output.bias) out.push({ name: "bias", value: net.output.bias.value, grad: net.output.bias.grad });
  return out;
}

function clearTableGrads(net: CandidateNetwork): void {
  for (const t of net.input.tables.values()) t.grad.fill(0);
  net.output.embeddings.grad.fill(0);
  net.output.bias?.grad.fill(0);
}

function gradCheck(net: CandidateNetwork, batch: CandidateBatch): number {
  const lossAt = () => {
    const l = net.forwardBackward(k, batch, new Rng(11));
    clearTableGrads(net);
    return l;
  };
  clearTableGrads(net);
  net.forwardBackward(k, batch, new Rng(11));
  const params = allParams(net);
  const analytic = params.map((p) => Float32Array.from(p.grad));
  clearTableGrads(net);
  let worst = 0;
  const h = 1e-3;
  params.forEach((p, pi) => {
    for (let i = 0; i < p.value.length; i++) {
      const v = p.value[i];
      p.value[i] = v + h;
      const up = lossAt();
      p.value[i] = v - h;
      const down = lossAt();
      p.value[i] = v;
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
    network: { depth: 2, outputDim: 4, finalRelu: false, embeddingInitStd: 0.5 },
  };
  it("full softmax with shared slots, categorical, continuous and recency inputs", () => {
    const net = build({ network: { ...base.network, recentWatches: [2] } }, "full");
    expect(gradCheck(net, makeBatch(new Rng(5), 6))).toBeLessThan(2e-2);
  });
  it("sampled softmax with logQ correction and item bias", () => {
    const net = build(base, "sampled");
    expect(gradCheck(net, makeBatch(new Rng(6), 6))).toBeLessThan(2e-2);
  });
  it("tied output embeddings at depth 0", () => {
    const net = build(
      { network: { depth: 0, outputDim: 4, tieOutput: true, embeddingInitStd: 0.5 } },
      "full",
    );
    expect(gradCheck(net, makeBatch(new Rng(7), 6))).toBeLessThan(2e-2);
  });
});

describe("candidate network training step", () => {
  it("lowers the loss of a fixed batch", () => {
    const net = build({ network: { depth: 1, outputDim: 8 }, train: { lr: 0.01 } }, "full");
    const batch = makeBatch(new Rng(9), 8);
    const first = net.trainStep(k, batch, new Rng(1));
    let last = first;
    for (let i = 0; i < 50; i++) last = net.trainStep(k, batch, new Rng(1));
    expect(last).toBeLessThan(first * 0.5);
  });
});
