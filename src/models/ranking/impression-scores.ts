/**
 * The candidate generator's score u·v (+ item bias) of every candidate of every list, including
 * those the DNN did not itself propose: the "order by the DNN candidate score" baseline of the
 * ranking metrics and a ranking feature for candidates from other sources.
 */
import type { ImpressionSet } from "../../features/impressions.js";
import type { CandidateModel } from "../candidates/model.js";

export function dnnCandidateScores(model: CandidateModel, lists: ImpressionSet): Float32Array {
  const d = model.userDim;
  const u = model.encodeQueries(lists);
  const v = model.itemVectors();
  const bias = model.itemBias();
  const out = new Float32Array(lists.items.length);
  const nl = lists.users.length;
  for (let l = 0; l < nl; l++) {
    const ul = l * d;
    for (let c = lists.listOffsets[l]; c < lists.listOffsets[l + 1]; c++) {
      const vi = lists.items[c] * d;
      let s = bias === null ? 0 : bias[lists.items[c]];
      for (let k = 0; k < d; k++) s += u[ul + k] * v[vi + k];
      out[c] = s;
    }
  }
  return out;
}
