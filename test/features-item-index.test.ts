/**
 * The item index conventions (src/features/item-index.ts) and that the features and the network
 * follow them: item i is input row i + 1 (row 0 = out of vocabulary), class i, output row i, or
 * i + 1 when the output is tied to the input table.
 */
import { describe, expect, it } from "vitest";
import type { QueryBatch } from "../src/eval/types.js";
import {
  buildCandidateFeatures,
  CANDIDATE_FEATURES,
  ITEM_TABLE,
} from "../src/features/candidate-features.js";
import {
  inputRowItem,
  itemInputRow,
  itemTableRows,
  OOV_ROW,
  outputFirstRow,
  outputRow,
} from "../src/features/item-index.js";
import { resolveCandidateModelConfig } from "../src/models/candidates/config.js";
import { CandidateModel } from "../src/models/candidates/model.js";
import { randomDataset } from "./features-fixtures.js";

describe("item index conventions", () => {
  it("map items to rows and back", () => {
    const n = 30;
    expect(itemTableRows(n)).toBe(31);
    for (const i of [0, 1, 17, n - 1]) {
      expect(itemInputRow(i, n)).toBe(i + 1);
      expect(inputRowItem(itemInputRow(i, n))).toBe(i);
      expect(outputRow(i, false)).toBe(i);
      expect(outputRow(i, true)).toBe(i + 1);
    }
    for (const unknown of [-1, n, n + 5]) expect(itemInputRow(unknown, n)).toBe(OOV_ROW);
    expect(inputRowItem(OOV_ROW)).toBe(-1);
    expect([outputFirstRow(false), outputFirstRow(true)]).toEqual([0, 1]);
  });

  it("are what the features write: the item table's size and the watch bag's rows", () => {
    const data = randomDataset(4);
    const f = buildCandidateFeatures(data, { recentWatches: { enabled: false } });
    const n = f.numItems;
    expect(f.schema.tables.find((t) => t.name === ITEM_TABLE)?.rows).toBe(itemTableRows(n));
    // One query whose history holds items 0, n − 1 and an item the model does not know (n).
    const history = [0, n - 1, n, 5];
    const q: QueryBatch = {
      users: Int32Array.of(0),
      times: Float64Array.of(1e9),
      historyOffsets: Int32Array.of(0, history.length),
      historyItems: Int32Array.from(history),
      historyTimes: Float64Array.from(history, (_, k) => 100 + k),
    };
    const batch = f.allocBatch(2);
    f.fillQueryBatch(q, 0, 1, batch);
    const bag = batch.bags[CANDIDATE_FEATURES.watches];
    const rows = Array.from(bag.indices.subarray(bag.offsets[0], bag.offsets[1]));
    expect(rows).toEqual([1, n, OOV_ROW, 6]);
    expect(rows.map(inputRowItem)).toEqual([0, n - 1, -1, 5]);
  });

  it("are what the network reads: item vector i is output row i, or input row i + 1 when tied", () => {
    const data = randomDataset(5);
    for (const tieOutput of [false, true]) {
      const config = resolveCandidateModelConfig({
        network: { tieOutput, outputDim: 8 },
        features: { embeddingDim: { item: 8 } },
      });
      const f = buildCandidateFeatures(data, config.features);
      const model = CandidateModel.create(config, f, 3);
      const d = model.userDim;
      const table = tieOutput
        ? (model.network.input.tables.get(ITEM_TABLE)?.data as Float32Array)
        : model.network.itemTable.data;
      const v = model.itemVectors();
      for (const i of [0, 7, f.numItems - 1]) {
        const r = outputRow(i, tieOutput);
        expect(v.subarray(i * d, (i + 1) * d)).toEqual(table.subarray(r * d, (r + 1) * d));
      }
      expect(v.length).toBe(f.numItems * d);
    }
  });
});
