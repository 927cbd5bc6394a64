/**
 * The binary user × item matrix of a training set (an interaction happened or not), as CSR both
 * ways: the input of the item-item baselines (ItemKNN's cosine, EASE's Gram matrix).
 */
import { numItems, numUsers, type Dataset } from "../../data/dataset.js";

export interface BinaryInteractions {
  readonly numUsers: number;
  readonly numItems: number;
  /** Distinct items of user u: userItems[userOffsets[u] .. userOffsets[u+1]), ascending. */
  readonly userOffsets: Int32Array;
  readonly userItems: Int32Array;
  /** Distinct users of item i: itemUsers[itemOffsets[i] .. itemOffsets[i+1]), ascending. */
  readonly itemOffsets: Int32Array;
  readonly itemUsers: Int32Array;
}

export function binaryInteractions(train: Dataset): BinaryInteractions {
  const nu = numUsers(train);
  const ni = numItems(train);
  const { user, item } = train.events;
  // Group events by user, then keep each user's distinct items.
  const userOffsets = new Int32Array(nu + 1);
  for (let e = 0; e < user.length; e++) userOffsets[user[e] + 1]++;
  for (let u = 0; u < nu; u++) userOffsets[u + 1] += userOffsets[u];
  const grouped = new Int32Array(user.length);
  const fill = userOffsets.slice(0, nu);
  for (let e = 0; e < user.length; e++) grouped[fill[user[e]]++] = item[e];
  const seen = new Int32Array(ni);
  let k = 0;
  const distinctOffsets = new Int32Array(nu + 1);
  for (let u = 0; u < nu; u++) {
    const start = k;
    for (let p = userOffsets[u]; p < userOffsets[u + 1]; p++) {
      const i = grouped[p];
      if (seen[i] === u + 1) continue;
      seen[i] = u + 1;
      grouped[k++] = i;
    }
    grouped.subarray(start, k).sort();
    distinctOffsets[u + 1] = k;
  }
  const userItems = grouped.slice(0, k);
  // Transpose; users come out ascending because u is visited in order.
  const itemOffsets = new Int32Array(ni + 1);
  for (let p = 0; p < k; p++) itemOffsets[userItems[p] + 1]++;
  for (let i = 0; i < ni; i++) itemOffsets[i + 1] += itemOffsets[i];
  const itemUsers = new Int32Array(k);
  const itemFill = itemOffsets.slice(0, ni);
  for (let u = 0; u < nu; u++)
    for (let p = distinctOffsets[u]; p < distinctOffsets[u + 1]; p++) itemUsers[itemFill[userItems[p]]++] = u;
  return { numUsers: nu, numItems: ni, userOffsets: distinctOffsets, userItems, itemOffsets, itemUsers };
}

/**
 * The distinct items of each query history of a batch, as CSR in reusable buffers (a binary history
 * vector, as the item-item models expect).
 */
export class DistinctHistories {
  private readonly mark: Int32Array;
  private stamp = 0;
  offsets = new Int32Array(257);
  items = new Int32Array(1024);

  constructor(numItems: number) {
    this.mark = new Int32Array(numItems);
  }

  /** Fills offsets[0..numQueries] and items for the batch; returns the number of queries. */
  load(historyOffsets: Int32Array, historyItems: Int32Array): number {
    const nq = historyOffsets.length - 1;
    if (this.offsets.length < nq + 1) this.offsets = new Int32Array(nq + 1);
    if (this.items.length < historyItems.length) this.items = new Int32Array(historyItems.length);
    let k = 0;
    for (let q = 0; q < nq; q++) {
      const stamp = ++this.stamp;
      for (let h = historyOffsets[q]; h < historyOffsets[q + 1]; h++) {
        const i = historyItems[h];
        if (this.mark[i] === stamp) continue;
        this.mark[i] = stamp;
        this.items[k++] = i;
      }
      this.offsets[q + 1] = k;
    }
    return nq;
  }
}
