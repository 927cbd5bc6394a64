/** MostPop: every user gets the same ranking, items ordered by their number of training interactions. */
import { numItems, type Dataset } from "../../data/dataset.js";
import type { QueryBatch, Scorer } from "../types.js";

export function fitMostPop(train: Dataset): Scorer {
  const n = numItems(train);
  const counts = new Float32Array(n);
  const items = train.events.item;
  for (let e = 0; e < items.length; e++) counts[items[e]]++;
  return {
    name: "MostPop",
    params: {},
    score(batch: QueryBatch, out: Float32Array): void {
      for (let q = 0; q < batch.users.length; q++) out.set(counts, q * n);
    },
  };
}
