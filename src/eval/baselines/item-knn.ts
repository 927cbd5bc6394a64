/**
 * ItemKNN: item-item collaborative filtering. Similarity is the cosine of two items' binary training
 * user vectors, |U_i ∩ U_j| / sqrt(|U_i|·|U_j|); each item keeps its `neighbours` most similar
 * other items (ties to the lower index). A user's score for item j is the sum of sim(i, j) over the
 * distinct history items i that keep j as a neighbour.
 */
import type { Dataset } from "../../data/dataset.js";
import type { QueryBatch, Scorer } from "../types.js";
import { binaryInteractions, DistinctHistories } from "./interactions.js";

export interface ItemKnnParams {
  /** Neighbours kept per item (default 100). */
  readonly neighbours?: number;
}

export function fitItemKnn(train: Dataset, params: ItemKnnParams = {}): Scorer {
  const k = params.neighbours ?? 100;
  if (!(Number.isInteger(k) && k > 0))
    throw new RangeError(`ItemKNN: neighbours must be a positive integer, got ${k}`);
  const x = binaryInteractions(train);
  const n = x.numItems;
  const degree = new Float64Array(n);
  for (let i = 0; i < n; i++) degree[i] = x.itemOffsets[i + 1] - x.itemOffsets[i];

  const offsets = new Int32Array(n + 1);
  const nbrItems = new Int32Array(n * Math.min(k, Math.max(n - 1, 0)));
  const nbrSims = new Float32Array(nbrItems.length);
  const co = new Int32Array(n);
  const touched = new Int32Array(n);
  const heap = new TopK(k);
  let stored = 0;
  for (let i = 0; i < n; i++) {
    // Co-occurrence counts of i with every item sharing a user.
    let nt = 0;
    for (let p = x.itemOffsets[i]; p < x.itemOffsets[i + 1]; p++) {
      const u = x.itemUsers[p];
      for (let r = x.userOffsets[u]; r < x.userOffsets[u + 1]; r++) {
        const j = x.userItems[r];
        if (j === i) continue;
        if (co[j] === 0) touched[nt++] = j;
        co[j]++;
      }
    }
    heap.clear();
    for (let t = 0; t < nt; t++) {
      const j = touched[t];
      heap.offer(j, co[j] / Math.sqrt(degree[i] * degree[j]));
      co[j] = 0;
    }
    stored = heap.drainInto(nbrItems, nbrSims, stored);
    offsets[i + 1] = stored;
  }

  const histories = new DistinctHistories(n);
  return {
    name: "ItemKNN",
    params: { neighbours: k, similarity: "cosine" },
    score(batch: QueryBatch, out: Float32Array): void {
      const nq = histories.load(batch.historyOffsets, batch.historyItems);
      for (let q = 0; q < nq; q++) {
        const row = out.subarray(q * n, (q + 1) * n);
        row.fill(0);
        for (let h = histories.offsets[q]; h < histories.offsets[q + 1]; h++) {
          const i = histories.items[h];
          for (let p = offsets[i]; p < offsets[i + 1]; p++) row[nbrItems[p]] += nbrSims[p];
        }
      }
    },
  };
}

/** A bounded min-heap keeping the k best (score desc, then item asc). */
class TopK {
  private readonly items: Int32Array;
  private readonly scores: Float64Array;
  private size = 0;

  constructor(private readonly k: number) {
    this.items = new Int32Array(k);
    this.scores = new Float64Array(k);
  }

  clear(): void {
    this.size = 0;
  }

  /** a is worse than b: lower score, or equal score and higher item index. */
  private worse(a: number, b: number): boolean {
    const sa = this.scores[a];
    const sb = this.scores[b];
    return sa < sb || (sa === sb && this.items[a] > this.items[b]);
  }

  offer(item: number, score: number): void {
    if (this.size < this.k) {
      this.items[this.size] = item;
      this.scores[this.size] = score;
      this.siftUp(this.size++);
      return;
    }
    const s0 = this.scores[0];
    if (score < s0 || (score === s0 && item > this.items[0])) return;
    this.items[0] = item;
    this.scores[0] = score;
    this.siftDown(0);
  }

  /** Writes the kept entries (best first) at `at`; returns the new end. */
  drainInto(items: Int32Array, scores: Float32Array, at: number): number {
    const m = this.size;
    for (let end = m - 1; end >= 0; end--) {
      items[at + end] = this.items[0];
      scores[at + end] = this.scores[0];
      this.size--;
      this.swap(0, this.size);
      this.siftDown(0);
    }
    return at + m;
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.worse(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i;
      if (l < this.size && this.worse(l, w)) w = l;
      if (r < this.size && this.worse(r, w)) w = r;
      if (w === i) return;
      this.swap(i, w);
      i = w;
    }
  }

  private swap(a: number, b: number): void {
    const ti = this.items[a];
    this.items[a] = this.items[b];
    this.items[b] = ti;
    const ts = this.scores[a];
    this.scores[a] = this.scores[b];
    this.scores[b] = ts;
  }
}
