/**
 * Finite-difference gradient checks for every layer and loss (central differences on float32
 * parameters, losses summed in float64), and the behaviour of the training utilities: Adam and
 * lazy Adam, gradient clipping, learning-rate schedules, initializers, dropout.
 */
import { describe, expect, it } from "vitest";
import { initialize } from "../src/engine/init.js";
import { referenceKernels as K } from "../src/engine/kernels/reference.js";
import { Dropout } from "../src/engine/layers/dropout.js";
import { EmbeddingBag, EmbeddingLookup, EmbeddingTable, type Bags } from "../src/engine/layers/embedding.js";
import { Linear } from "../src/engine/layers/linear.js";
import { softmaxCrossEntropyLoss, weightedLogisticLoss } from "../src/engine/layers/losses.js";
import { Parameter } from "../src/engine/layers/parameter.js";
import { ReluTower } from "../src/engine/layers/relu-tower.js";
import { FullSoftmaxHead, SampledSoftmaxHead } from "../src/engine/layers/softmax-head.js";
import { Adam } from "../src/engine/optim/adam.js";
import { clipGradNorm, gradNorm } from "../src/engine/optim/clip.js";
import { learningRateAt } from "../src/engine/optim/schedule.js";
import { Rng } from "../src/engine/rng.js";
import { checkGradient, sampleIndices } from "./support/gradient-check.js";

function randomArray(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a;
}

/** Σ r_i·x_i in float64: a scalar loss whose gradient with respect to x is r. */
function dot(r: Float32Array, x: Float32Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += r[i] * x[i];
  return s;
}

/** Which units of the tower's ReLU layers are active, as a string (for kink detection). */
function activePattern(tower: ReluTower, batch: number): string {
  return tower.layers
    .filter((l) => l.relu)
    .map((l) => Array.from(l.output.subarray(0, batch * l.outDim), (v) => (v > 0 ? "1" : "0")).join(""))
    .join("|");
}

describe("gradient checks: dense layers", () => {
  for (const relu of [false, true]) {
    it(`Linear (${relu ? "ReLU" : "linear"}): dW, db and dX`, () => {
      const rng = new Rng(relu ? 21 : 22);
      const batch = 5;
      const inDim = 6;
      const outDim = 4;
      const layer = new Linear(K, "fc", inDim, outDim, 8, rng, { relu });
      layer.bias.data.set(randomArray(rng, outDim, 0.3));
      const x = randomArray(rng, batch * inDim);
      const r = randomArray(rng, batch * outDim);
      const loss = () => dot(r, layer.forward(x, batch), batch * outDim);
      loss();
      const gradOut = r.slice();
      const dx = layer.backward(x, gradOut, batch).slice();
      const pattern = () =>
        Array.from(layer.output.subarray(0, batch * outDim), (v) => (v > 0 ? 1 : 0)).join("");
      checkGradient(
        "W",
        layer.weight.data,
        layer.weight.grad.slice(),
        loss,
        sampleIndices(rng, inDim * outDim),
        pattern,
      );
      checkGradient("b", layer.bias.data, layer.bias.grad.slice(), loss, sampleIndices(rng, outDim), pattern);
      checkGradient("x", x, dx, loss, sampleIndices(rng, batch * inDim), pattern);
    });
  }

  it("Linear backward accumulates parameter gradients across calls", () => {
    const rng = new Rng(23);
    const layer = new Linear(K, "fc", 3, 2, 4, rng);
    const x = randomArray(rng, 4 * 3);
    layer.forward(x, 4);
    layer.backward(x, randomArray(rng, 8), 4);
    const once = layer.weight.grad.slice();
    layer.backward(
      x,
      Float32Array.from({ length: 8 }, () => 0),
      4,
    );
    expect(Array.from(layer.weight.grad)).toEqual(Array.from(once));
  });

  it("Linear forwardShared equals forward of the concatenated rows (shared part once per group)", () => {
    const rng = new Rng(26);
    const [inDim, outDim, sharedWidth] = [7, 5, 3];
    const layer = new Linear(K, "fc", inDim, outDim, 8, rng, { relu: true });
    layer.bias.data.set(randomArray(rng, outDim, 0.3));
    // Two groups of 2 and 4 rows, as views with absolute offsets (starting at 10).
    const offsets = Int32Array.of(10, 12, 16);
    const shared = randomArray(rng, 2 * sharedWidth);
    const own = randomArray(rng, 6 * (inDim - sharedWidth));
    const x = new Float32Array(6 * inDim);
    for (let r = 0; r < 6; r++) {
      const g = r < 2 ? 0 : 1;
      x.set(shared.subarray(g * sharedWidth, (g + 1) * sharedWidth), r * inDim);
      x.set(
        own.subarray(r * (inDim - sharedWidth), (r + 1) * (inDim - sharedWidth)),
        r * inDim + sharedWidth,
      );
    }
    const want = layer.forward(x, 6).slice(0, 6 * outDim);
    const got = layer.forwardShared(shared, sharedWidth, 2, offsets, own, 6).slice(0, 6 * outDim);
    expect(want.some((v) => v === 0) && want.some((v) => v > 0)).toBe(true);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 5);
    expect(() => layer.forwardShared(shared, inDim, 2, offsets, own, 6)).toThrow(/shared width/);
  });

  for (const finalRelu of [true, false]) {
    it(`ReluTower [7, 9, 6, 5] (final ${finalRelu ? "ReLU" : "linear"}): every parameter and the input`, () => {
      const rng = new Rng(finalRelu ? 24 : 25);
      const batch = 6;
      const tower = new ReluTower(K, "tower", [7, 9, 6, 5], 8, rng, { finalRelu });
      for (const p of tower.parameters())
        if (p.name.endsWith("bias")) p.data.set(randomArray(rng, p.size, 0.2));
      const x = randomArray(rng, batch * 7);
      const r = randomArray(rng, batch * 5);
      const loss = () => dot(r, tower.forward(x, batch, true), batch * 5);
      loss();
      const dx = tower.backward(r.slice(), batch).slice();
      const pattern = () => activePattern(tower, batch);
      for (const p of tower.parameters()) {
        checkGradient(p.name, p.data, p.grad.slice(), loss, sampleIndices(rng, p.size, 12), pattern);
      }
      checkGradient("x", x, dx, loss, sampleIndices(rng, batch * 7), pattern);
      expect(tower.layers.map((l) => l.relu)).toEqual([true, true, finalRelu]);
    });
  }

  it("Dropout: inverted scaling, same mask forward and backward, identity at inference", () => {
    const rate = 0.3;
    const dropout = new Dropout(50, 40, rate, new Rng(26));
    const x = new Float32Array(2000).fill(1);
    dropout.forward(x, 40, true);
    const kept = x.filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 1 / (1 - rate)) < 1e-6)).toBe(true);
    expect(Math.abs(kept.length / 2000 - (1 - rate))).toBeLessThan(0.04);
    const grad = new Float32Array(2000).fill(1);
    dropout.backward(grad, 40);
    expect(Array.from(grad)).toEqual(Array.from(x));
    const y = new Float32Array(2000).fill(2);
    dropout.forward(y, 40, false);
    expect(y.every((v) => v === 2)).toBe(true);
  });
});

describe("gradient checks: embeddings", () => {
  it("EmbeddingBag (mean and weighted) and EmbeddingLookup sharing one table, through a tower", () => {
    const rng = new Rng(31);
    const rows = 12;
    const dim = 3;
    const batch = 4;
    const table = new EmbeddingTable("items", rows, dim, rng);
    const meanBag = new EmbeddingBag(K, table);
    const weightedBag = new EmbeddingBag(K, table);
    const lookup = new EmbeddingLookup(K, table, 8);
    // Row 0 (out of vocabulary) appears in inputs but must get no gradient.
    const history: Bags = {
      offsets: Int32Array.of(0, 3, 3, 5, 8),
      indices: Int32Array.of(1, 4, 4, 7, 0, 2, 9, 1),
      weights: null,
    };
    const searches: Bags = {
      offsets: Int32Array.of(0, 2, 4, 5, 6),
      indices: Int32Array.of(4, 5, 6, 11, 1, 0),
      weights: Float32Array.of(0.5, 1.5, 2, -1, 0.7, 1.1),
    };
    const lastWatch = Int32Array.of(3, 4, 10, 1);
    const width = 1 + 3 * dim; // slot 0 is a dense feature
    const input = new Float32Array(batch * width);
    const tower = new ReluTower(K, "t", [width, 6, 4], batch, rng, { finalRelu: false });
    const r = randomArray(rng, batch * 4);
    const forward = () => {
      for (let b = 0; b < batch; b++) input[b * width] = 0.1 * b;
      meanBag.forward(history, input, width, 1);
      weightedBag.forward(searches, input, width, 1 + dim);
      lookup.forward(lastWatch, batch, input, width, 1 + 2 * dim);
      return dot(r, tower.forward(input, batch, true), batch * 4);
    };
    forward();
    const dInput = tower.backward(r.slice(), batch);
    meanBag.backward(history, dInput, width, 1);
    weightedBag.backward(searches, dInput, width, 1 + dim);
    lookup.backward(lastWatch, batch, dInput, width, 1 + 2 * dim);
    const p = table.param;
    const touched = Array.from(p.touchedRows.subarray(0, p.numTouched)).sort((a, b) => a - b);
    expect(touched).toEqual([1, 2, 3, 4, 5, 6, 7, 9, 10, 11]);
    expect(Array.from(p.grad.subarray(0, dim))).toEqual([0, 0, 0]);
    expect(Array.from(p.grad.subarray(8 * dim, 9 * dim))).toEqual([0, 0, 0]); // row 8 unused
    const indices = touched.flatMap((row) => [row * dim, row * dim + 1, row * dim + 2]);
    checkGradient("items", p.data, p.grad.slice(), forward, indices, () => activePattern(tower, batch));
    expect(Array.from(p.data.subarray(0, dim))).toEqual([0, 0, 0]);
  });
});

describe("gradient checks: losses and softmax heads", () => {
  it("softmaxCrossEntropyLoss: dMeanLoss/dlogits", () => {
    const rng = new Rng(41);
    const rows = 4;
    const cols = 6;
    const logits = randomArray(rng, rows * cols, 2);
    const labels = Int32Array.of(0, 5, 2, 2);
    const scratch = new Float32Array(rows * cols);
    const loss = () => {
      scratch.set(logits);
      return softmaxCrossEntropyLoss(K, scratch, rows, cols, labels);
    };
    loss();
    checkGradient("logits", logits, scratch.slice(), loss, sampleIndices(rng, rows * cols, 100));
  });

  it("weightedLogisticLoss: dMeanLoss/dlogits", () => {
    const rng = new Rng(42);
    const n = 10;
    const logits = randomArray(rng, n, 2);
    const labels = Float32Array.from({ length: n }, (_, i) => i % 2);
    const weights = Float32Array.from({ length: n }, () => 0.5 + 4 * rng.nextFloat());
    const grad = new Float32Array(n);
    const loss = () => weightedLogisticLoss(K, logits, labels, weights, n, grad);
    loss();
    checkGradient("logits", logits, grad.slice(), loss, sampleIndices(rng, n));
  });

  for (const itemBias of [false, true]) {
    it(`FullSoftmaxHead${itemBias ? " with item bias" : ""}: user vectors, item table, bias`, () => {
      const rng = new Rng(itemBias ? 43 : 44);
      const batch = 5;
      const dim = 4;
      const items = new EmbeddingTable("out", 9, dim, rng);
      const head = new FullSoftmaxHead(K, items, 8, { itemBias });
      if (head.bias !== null) head.bias.data.set(randomArray(rng, 9, 0.5));
      head.bias?.data.fill(0, 0, 1);
      const user = randomArray(rng, batch * dim);
      const labels = Int32Array.of(1, 8, 3, 3, 5);
      const gradUser = new Float32Array(batch * dim);
      const loss = () => head.lossAndGrad(user, batch, labels, gradUser);
      loss();
      const analyticUser = gradUser.slice();
      const analyticItems = items.param.grad.slice();
      const analyticBias = head.bias?.grad.slice();
      checkGradient("user", user, analyticUser, loss, sampleIndices(rng, batch * dim, 100));
      checkGradient(
        "items",
        items.param.data,
        analyticItems,
        loss,
        sampleIndices(rng, 9 * dim, 100).filter((i) => i >= dim),
      );
      if (head.bias !== null && analyticBias !== undefined) {
        checkGradient("bias", head.bias.data, analyticBias, loss, [1, 2, 3, 4, 5, 6, 7, 8]);
      }
    });
  }

  for (const itemBias of [false, true]) {
    it(`SampledSoftmaxHead${itemBias ? " with item bias" : ""}: logQ, accidental hits, repeated negatives`, () => {
      const rng = new Rng(itemBias ? 45 : 46);
      const batch = 5;
      const dim = 4;
      const rows = 15;
      const items = new EmbeddingTable("out", rows, dim, rng);
      const numNeg = 7;
      const head = new SampledSoftmaxHead(K, items, 8, numNeg, { itemBias });
      if (head.bias !== null) {
        head.bias.data.set(randomArray(rng, rows, 0.5));
        head.bias.data[0] = 0;
      }
      const user = randomArray(rng, batch * dim);
      const labels = Int32Array.of(2, 9, 4, 4, 13);
      const negIds = Int32Array.of(4, 11, 2, 6, 11, 14, 9); // 4, 2, 9 are accidental hits; 11 repeats
      const logQTrue = Float32Array.from(labels, (l) => Math.log((l + 1) / 200));
      const logQNeg = Float32Array.from(negIds, (l) => Math.log((l + 1) / 200));
      const gradUser = new Float32Array(batch * dim);
      const loss = () => head.lossAndGrad(user, batch, labels, negIds, logQTrue, logQNeg, gradUser);
      // The loss is the naive sampled softmax, computed here independently.
      let naive = 0;
      for (let b = 0; b < batch; b++) {
        const score = (item: number) => {
          let s = head.bias === null ? 0 : head.bias.data[item];
          for (let d = 0; d < dim; d++) s += user[b * dim + d] * items.data[item * dim + d];
          return s;
        };
        const z = [score(labels[b]) - logQTrue[b]];
        negIds.forEach((id, j) => {
          if (id !== labels[b]) z.push(score(id) - logQNeg[j]);
        });
        naive += Math.log(z.reduce((s, v) => s + Math.exp(v), 0)) - z[0];
      }
      expect(loss()).toBeCloseTo(naive / batch, 5);
      const p = items.param;
      const touched = Array.from(p.touchedRows.subarray(0, p.numTouched)).sort((a, b) => a - b);
      expect(touched).toEqual([2, 4, 6, 9, 11, 13, 14]);
      const analyticUser = gradUser.slice();
      const analyticItems = p.grad.slice();
      const analyticBias = head.bias?.grad.slice();
      checkGradient("user", user, analyticUser, loss, sampleIndices(rng, batch * dim, 100));
      const itemIndices = touched.flatMap((row) => Array.from({ length: dim }, (_, d) => row * dim + d));
      checkGradient("items", p.data, analyticItems, loss, itemIndices);
      if (head.bias !== null && analyticBias !== undefined)
        checkGradient("bias", head.bias.data, analyticBias, loss, touched);
    });
  }
});

describe("softmax heads with per-example loss weights", () => {
  // Weighted loss = (1/batch)·Σ_b w_b·ℓ_b: row b's user gradient is w_b times the unweighted one,
  // the loss is the weighted mean of the one-example losses, and finite differences agree.
  const weights = Float32Array.of(0, 0.5, 1, 2.5, 1);
  const batch = 5;
  const dim = 4;
  const labels = Int32Array.of(1, 8, 3, 3, 5);
  const negIds = Int32Array.of(4, 11, 2, 6, 11, 3, 8);
  const logQ = (ids: Int32Array) => Float32Array.from(ids, (l) => Math.log((l + 1) / 200));
  for (const kind of ["full", "sampled"] as const) {
    it(`${kind} softmax head`, () => {
      const rng = new Rng(kind === "full" ? 61 : 62);
      const items = new EmbeddingTable("out", 12, dim, rng);
      const head =
        kind === "full"
          ? new FullSoftmaxHead(K, items, 8, { itemBias: true })
          : new SampledSoftmaxHead(K, items, 8, negIds.length, { itemBias: true });
      const user = randomArray(rng, batch * dim);
      const gradUser = new Float32Array(batch * dim);
      const run = (u: Float32Array, n: number, l: Int32Array, w: Float32Array | null): number =>
        head instanceof FullSoftmaxHead
          ? head.lossAndGrad(u, n, l, gradUser, w)
          : head.lossAndGrad(u, n, l, negIds, logQ(l), logQ(negIds), gradUser, w);
      const plain = run(user, batch, labels, null);
      const plainGrad = gradUser.slice();
      const weighted = run(user, batch, labels, weights);
      for (let i = 0; i < batch * dim; i++)
        expect(gradUser[i]).toBeCloseTo(weights[Math.floor(i / dim)] * plainGrad[i], 6);
      const analytic = gradUser.slice();
      let expected = 0;
      for (let b = 0; b < batch; b++)
        expected +=
          weights[b] * run(user.subarray(b * dim, (b + 1) * dim), 1, labels.subarray(b, b + 1), null);
      expect(weighted).toBeCloseTo(expected / batch, 5);
      expect(weighted).not.toBeCloseTo(plain, 3);
      checkGradient(
        "user",
        user,
        analytic,
        () => run(user, batch, labels, weights),
        sampleIndices(rng, batch * dim, 100),
      );
    });
  }
});

describe("softmax heads over a tail of a shared table (tied output)", () => {
  // Classes c = 0..8 are rows c + 1 of a 10-row table whose row 0 is the frozen OOV row.
  const setup = (seed: number) => {
    const rng = new Rng(seed);
    const dim = 4;
    const items = new EmbeddingTable("item", 10, dim, rng);
    return { rng, dim, items };
  };

  it("FullSoftmaxHead (firstRow 1, item bias): gradients, touched rows, frozen row 0 untouched", () => {
    const { rng, dim, items } = setup(61);
    const head = new FullSoftmaxHead(K, items, 8, { itemBias: true, firstRow: 1 });
    expect(head.numClasses).toBe(9);
    expect(head.itemVectors()).toEqual(items.data.subarray(dim));
    const bias = head.bias as Parameter;
    expect(bias.shape).toEqual([9]);
    expect(bias.frozenRow).toBe(-1);
    expect(bias.decay).toBe(false);
    bias.data.set(randomArray(rng, 9, 0.5));
    const batch = 5;
    const user = randomArray(rng, batch * dim);
    const labels = Int32Array.of(0, 8, 3, 3, 5);
    const gradUser = new Float32Array(batch * dim);
    const loss = () => {
      items.param.zeroGrad();
      bias.zeroGrad();
      return head.lossAndGrad(user, batch, labels, gradUser);
    };
    loss();
    const p = items.param;
    expect(Array.from(p.touchedRows.subarray(0, p.numTouched)).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(Array.from(p.grad.subarray(0, dim))).toEqual([0, 0, 0, 0]);
    const analyticUser = gradUser.slice();
    const analyticItems = p.grad.slice();
    const analyticBias = bias.grad.slice();
    checkGradient("user", user, analyticUser, loss, sampleIndices(rng, batch * dim, 100));
    checkGradient(
      "items",
      p.data,
      analyticItems,
      loss,
      sampleIndices(rng, 9 * dim, 100).map((i) => i + dim),
    );
    checkGradient("bias", bias.data, analyticBias, loss, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("SampledSoftmaxHead (firstRow 1, item bias): class ids map to rows id + 1", () => {
    const { rng, dim, items } = setup(62);
    const head = new SampledSoftmaxHead(K, items, 8, 5, { itemBias: true, firstRow: 1 });
    const bias = head.bias as Parameter;
    bias.data.set(randomArray(rng, 9, 0.5));
    const batch = 4;
    const user = randomArray(rng, batch * dim);
    const labels = Int32Array.of(0, 7, 3, 3);
    const negIds = Int32Array.of(3, 8, 1, 8, 5); // 3 is an accidental hit; 8 repeats
    const logQTrue = Float32Array.from(labels, (l) => Math.log((l + 1) / 50));
    const logQNeg = Float32Array.from(negIds, (l) => Math.log((l + 1) / 50));
    const gradUser = new Float32Array(batch * dim);
    const loss = () => {
      items.param.zeroGrad();
      bias.zeroGrad();
      return head.lossAndGrad(user, batch, labels, negIds, logQTrue, logQNeg, gradUser);
    };
    // Against the naive loss with rows class + 1.
    let naive = 0;
    for (let b = 0; b < batch; b++) {
      const score = (c: number) => {
        let v = bias.data[c];
        for (let d = 0; d < dim; d++) v += user[b * dim + d] * items.data[(c + 1) * dim + d];
        return v;
      };
      const z = [score(labels[b]) - logQTrue[b]];
      negIds.forEach((id, j) => {
        if (id !== labels[b]) z.push(score(id) - logQNeg[j]);
      });
      naive += Math.log(z.reduce((acc, v) => acc + Math.exp(v), 0)) - z[0];
    }
    expect(loss()).toBeCloseTo(naive / batch, 5);
    const p = items.param;
    const touched = Array.from(p.touchedRows.subarray(0, p.numTouched)).sort((a, b) => a - b);
    expect(touched).toEqual([1, 2, 4, 6, 8, 9]);
    const analyticUser = gradUser.slice();
    const analyticItems = p.grad.slice();
    const analyticBias = bias.grad.slice();
    checkGradient("user", user, analyticUser, loss, sampleIndices(rng, batch * dim, 100));
    const itemIndices = touched.flatMap((row) => Array.from({ length: dim }, (_, d) => row * dim + d));
    checkGradient("items", p.data, analyticItems, loss, itemIndices);
    checkGradient("bias", bias.data, analyticBias, loss, [0, 1, 3, 5, 7, 8]);
  });

  it("rejects a firstRow outside the table", () => {
    const { items } = setup(63);
    expect(() => new FullSoftmaxHead(K, items, 4, { firstRow: 10 })).toThrow(/firstRow/);
  });
});

describe("optimizers", () => {
  it("weight decay and embedding L2 skip parameters created with decay off", () => {
    const mk = (decay: boolean, kind: "dense" | "sparse-rows") => {
      const p = new Parameter(`${kind}-${decay}`, [2, 2], kind, -1, { decay });
      p.data.fill(1);
      return p;
    };
    const params = [mk(true, "dense"), mk(false, "dense"), mk(true, "sparse-rows"), mk(false, "sparse-rows")];
    const adam = new Adam(K, params, { lr: 0.1, weightDecay: 0.5, sparseL2: 0.5 });
    for (const p of params) if (p.kind === "sparse-rows") p.markAllRows();
    adam.step(); // zero gradients: only decay / L2 can move a value
    expect(params.map((p) => p.data.some((v) => v !== 1))).toEqual([true, false, true, false]);
  });

  it("ReluTower normal init (He normal; N(0, 1/fanIn) for a linear last layer); dropout replays from dropoutRng", () => {
    const tower = new ReluTower(K, "t", [400, 300, 200], 4, new Rng(64), {
      finalRelu: false,
      init: "normal",
      dropout: 0.5,
      inputDropout: 0.5,
    });
    const std = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    expect(std(tower.layers[0].weight.data)).toBeCloseTo(Math.sqrt(2 / 400), 3);
    expect(std(tower.layers[1].weight.data)).toBeCloseTo(Math.sqrt(1 / 300), 3);
    const input = randomArray(new Rng(65), 4 * 400);
    const state = tower.dropoutRng.getState();
    const first = tower.forward(input.slice(), 4, true).slice();
    tower.dropoutRng.setState(state);
    expect(tower.forward(input.slice(), 4, true)).toEqual(first);
    expect(tower.forward(input.slice(), 4, true)).not.toEqual(first);
  });

  it("Adam moves a dense parameter against its gradient and clears the gradient", () => {
    const p = new Parameter("w", [4]);
    p.data.set([1, 1, 1, 1]);
    p.grad.set([2, -3, 0, 0.5]);
    const adam = new Adam(K, [p], { lr: 0.1 });
    adam.step();
    // First Adam step: Δ = −lr·sign(g) (m̂/√v̂ = g/|g|), zero where g = 0.
    expect(Array.from(p.data).map((x) => Number(x.toFixed(5)))).toEqual([0.9, 1.1, 1, 0.9]);
    expect(Array.from(p.grad)).toEqual([0, 0, 0, 0]);
    expect(adam.stepCount).toBe(1);
  });

  it("lazy Adam: untouched rows and their moments stay unchanged; touched lists are reset", () => {
    const rng = new Rng(51);
    const table = new EmbeddingTable("emb", 6, 2, rng);
    const adam = new Adam(K, [table.param], { lr: 0.05 });
    const bag = new EmbeddingBag(K, table);
    const out = new Float32Array(2);
    const gradOut = Float32Array.of(1, -1);
    const step = (row: number) => {
      const bags: Bags = { offsets: Int32Array.of(0, 1), indices: Int32Array.of(row), weights: null };
      bag.forward(bags, out, 2, 0);
      bag.backward(bags, gradOut, 2, 0);
      adam.step();
    };
    step(2);
    const [m, v] = table.param.moments();
    const after1 = { data: table.data.slice(), m: m.slice(), v: v.slice() };
    expect(Array.from(m.subarray(4, 6)).every((x) => x !== 0)).toBe(true);
    step(3);
    step(3);
    // Row 2 was not touched by steps 2-3: values and moments identical (no decay of m, v).
    expect(Array.from(table.data.subarray(4, 6))).toEqual(Array.from(after1.data.subarray(4, 6)));
    expect(Array.from(m.subarray(4, 6))).toEqual(Array.from(after1.m.subarray(4, 6)));
    expect(Array.from(v.subarray(4, 6))).toEqual(Array.from(after1.v.subarray(4, 6)));
    expect(Array.from(table.data.subarray(6, 8))).not.toEqual(Array.from(after1.data.subarray(6, 8)));
    expect(table.param.numTouched).toBe(0);
    expect(table.param.grad.every((g) => g === 0)).toBe(true);
  });

  it("lazy Adam equals dense Adam when every row is touched every step", () => {
    const rng = new Rng(52);
    const sparse = new Parameter("s", [4, 3], "sparse-rows");
    const dense = new Parameter("d", [4, 3]);
    sparse.data.set(randomArray(rng, 12));
    dense.data.set(sparse.data);
    const optSparse = new Adam(K, [sparse], { lr: 0.01 });
    const optDense = new Adam(K, [dense], { lr: 0.01 });
    for (let s = 0; s < 3; s++) {
      const g = randomArray(rng, 12);
      sparse.grad.set(g);
      dense.grad.set(g);
      sparse.markAllRows();
      optSparse.step();
      optDense.step();
    }
    expect(Array.from(sparse.data)).toEqual(Array.from(dense.data));
  });

  it("a tower trained with Adam fits a small regression (the loss drops tenfold)", () => {
    const rng = new Rng(53);
    const batch = 32;
    const tower = new ReluTower(K, "reg", [3, 16, 1], batch, rng, { finalRelu: false });
    const adam = new Adam(K, tower.parameters(), { lr: 0.01 });
    const x = randomArray(rng, batch * 3);
    const y = Float32Array.from(
      { length: batch },
      (_, b) => Math.sin(x[b * 3]) + 0.5 * x[b * 3 + 1] * x[b * 3 + 2],
    );
    const grad = new Float32Array(batch);
    const mse = () => {
      const out = tower.forward(x, batch, true);
      let l = 0;
      for (let b = 0; b < batch; b++) {
        grad[b] = (2 * (out[b] - y[b])) / batch;
        l += (out[b] - y[b]) ** 2 / batch;
      }
      return l;
    };
    const first = mse();
    let last = first;
    for (let s = 0; s < 400; s++) {
      last = mse();
      tower.backward(grad, batch, false);
      adam.step();
    }
    expect(last).toBeLessThan(first / 10);
  });
});

describe("training utilities", () => {
  it("clipGradNorm scales dense and touched sparse gradients to the max norm, and only above it", () => {
    const dense = new Parameter("d", [2]);
    const sparse = new Parameter("s", [3, 2], "sparse-rows");
    dense.grad.set([3, 0]);
    sparse.grad.set([0, 0, 0, 4, 0, 0]);
    sparse.markRows(Int32Array.of(1));
    expect(gradNorm([dense, sparse])).toBeCloseTo(5, 6);
    expect(clipGradNorm([dense, sparse], 10)).toBeCloseTo(5, 6);
    expect(Array.from(dense.grad)).toEqual([3, 0]);
    expect(clipGradNorm([dense, sparse], 1)).toBeCloseTo(5, 6);
    expect(dense.grad[0]).toBeCloseTo(0.6, 6);
    expect(sparse.grad[3]).toBeCloseTo(0.8, 6);
    expect(gradNorm([dense, sparse])).toBeCloseTo(1, 5);
  });

  it("learning-rate schedules: warmup, constant, cosine, step", () => {
    expect(learningRateAt({ kind: "constant", lr: 0.1, warmupSteps: 4 }, 0)).toBeCloseTo(0.025);
    expect(learningRateAt({ kind: "constant", lr: 0.1, warmupSteps: 4 }, 3)).toBeCloseTo(0.1);
    expect(learningRateAt({ kind: "constant", lr: 0.1, warmupSteps: 4 }, 100)).toBeCloseTo(0.1);
    const cosine = { kind: "cosine", lr: 1, totalSteps: 110, minLr: 0.1, warmupSteps: 10 } as const;
    expect(learningRateAt(cosine, 10)).toBeCloseTo(1);
    expect(learningRateAt(cosine, 60)).toBeCloseTo(0.55);
    expect(learningRateAt(cosine, 110)).toBeCloseTo(0.1);
    expect(learningRateAt(cosine, 500)).toBeCloseTo(0.1);
    const step = { kind: "step", lr: 1, stepSize: 10, gamma: 0.5 } as const;
    expect([0, 9, 10, 25].map((s) => learningRateAt(step, s))).toEqual([1, 1, 0.5, 0.25]);
  });

  it("initializers: He and Glorot scales, reproducible per seed", () => {
    const n = 200 * 100;
    const he = new Float32Array(n);
    initialize(he, "he-normal", 200, 100, new Rng(1));
    const std = Math.sqrt(he.reduce((s, x) => s + x * x, 0) / n);
    expect(std).toBeCloseTo(Math.sqrt(2 / 200), 3);
    const glorot = new Float32Array(n);
    initialize(glorot, "glorot-uniform", 200, 100, new Rng(1));
    const limit = Math.sqrt(6 / 300);
    expect(glorot.every((x) => Math.abs(x) <= limit)).toBe(true);
    expect(Math.max(...glorot)).toBeGreaterThan(0.99 * limit);
    const again = new Float32Array(n);
    initialize(again, "glorot-uniform", 200, 100, new Rng(1));
    expect(Array.from(again)).toEqual(Array.from(glorot));
  });
});
