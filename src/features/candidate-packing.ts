/**
 * Packing candidate examples into CandidateBatches: the fitted features applied to a dataset's
 * side information and user sequences, filling training batches (rollback or heldout examples) and
 * evaluation / serving query batches with the inputs the schema declares. Hot loops only: typed
 * arrays, no per-example allocation.
 */
import type { Dataset, UserDemographicValues } from "../data/dataset.js";
import type { QueryBatch } from "../eval/types.js";
import { allocBag, beginBatch, checkBatchFits, endBatch, ensureBag } from "./batch-packing.js";
import type { BagInput, CandidateBatch, SequenceBatch } from "./batch.js";
import type { ResolvedCandidateConfig } from "./candidate-config.js";
import { groupWindows, selectExamples, type ExampleSet } from "./candidate-examples.js";
import {
  columnBagRows,
  itemColumnFeature,
  numberColumnBlock,
  NUMBER_COLUMN_WIDTH,
  userColumnFeature,
  type BagRows,
} from "./candidate-columns.js";
import type { CandidateFeatures } from "./candidate-features.js";
import type { FittedCandidateFeatures } from "./candidate-fit.js";
import { fittedToJSON, type CandidateFeaturesJSON } from "./candidate-json.js";
import {
  CANDIDATE_FEATURES,
  candidateSchema,
  recentWatchesFeature,
  sequencePartBag,
} from "./candidate-schema.js";
import {
  emptyDemographicRows,
  encodeDemographics,
  itemGenreRows,
  itemYearRows,
  userDemographics,
  userTokens,
  type ItemGenreRows,
  type UserDemographics,
  type UserTokens,
} from "./candidate-side-info.js";
import { itemInputRow } from "./item-index.js";
import type { FeatureSchema } from "./schema.js";
import { countAtOrBefore, countBefore } from "./user-sequences.js";
import { writeUserContinuous } from "./user-continuous.js";

export class CandidateFeatureSet implements CandidateFeatures {
  readonly config: ResolvedCandidateConfig;
  readonly schema: FeatureSchema;
  readonly numItems: number;
  readonly numUsers: number;
  readonly minTrainTime: number;
  readonly maxTrainTime: number;

  private readonly fitted: FittedCandidateFeatures;
  private readonly genres: ItemGenreRows | null;
  private readonly yearRow: Int32Array | null;
  private readonly tokens: UserTokens | null;
  private readonly users: UserDemographics;
  /** Scratch for request-time demographics. */
  private readonly given = emptyDemographicRows();
  private readonly maxLen: number;
  private readonly maxTokens: number;
  /** The recent-watch bags' counts R and feature names, in schema order. */
  private readonly recentCounts: readonly number[];
  private readonly recentNames: readonly string[];
  private readonly exampleAgeCol: number;
  private readonly ageCol: number;
  private readonly continuousCol: number;
  /** Named item columns: feature name and each item's table rows. */
  private readonly itemColumns: readonly { readonly name: string; readonly rows: BagRows }[];
  /** Named categorical user columns: feature name and each user's table rows. */
  private readonly userColumns: readonly { readonly name: string; readonly rows: BagRows }[];
  /** Named numeric user columns: dense column and each user's NUMBER_COLUMN_WIDTH values. */
  private readonly userNumbers: readonly { readonly col: number; readonly block: Float32Array }[];
  /** Slots of the ordered input (0 when the sequence group is off) and how each of its part bags is filled. */
  private readonly seqLen: number;
  private readonly seqParts: readonly SequencePart[];

  constructor(
    fitted: FittedCandidateFeatures,
    data: Dataset,
    readonly seqOffsets: Int32Array,
    readonly seqItems: Int32Array,
    readonly seqTimes: Float64Array,
  ) {
    this.fitted = fitted;
    const cfg = fitted.config;
    this.config = cfg;
    this.numItems = fitted.numItems;
    this.numUsers = fitted.numUsers;
    this.minTrainTime = fitted.minTrainTime;
    this.maxTrainTime = fitted.maxTrainTime;
    this.maxLen = cfg.watches.maxLen;
    this.maxTokens = cfg.search.maxTokens;
    this.recentCounts = cfg.recentWatches.enabled ? [...cfg.recentWatches.counts] : [];
    this.recentNames = this.recentCounts.map(recentWatchesFeature);

    this.genres = fitted.genreVocab !== null ? itemGenreRows(data, fitted.genreVocab, this.numItems) : null;
    this.yearRow = fitted.years !== null ? itemYearRows(data, fitted.years, this.numItems) : null;
    // The schema depends only on what was fitted; a dataset lacking some side file feeds zeros.
    const nu = this.numUsers;
    this.tokens =
      fitted.tokenVocab === null
        ? null
        : data.tags !== null
          ? userTokens(data.tags, fitted.tokenVocab, nu)
          : { offsets: new Int32Array(nu + 1), rows: new Int32Array(0), times: new Float64Array(0) };
    const us = userDemographics(data.userInfo, fitted.demographics, cfg.demographics, nu);
    const dm = fitted.demographics;
    const orZeros = (on: boolean, a: Int32Array | null): Int32Array | null =>
      on ? (a ?? new Int32Array(nu)) : null;
    this.users = {
      gender: orZeros(cfg.demographics.gender, us.gender),
      ageCode: orZeros(dm.ageCode !== null, us.ageCode),
      ageYears: dm.ageYears !== null ? (us.ageYears ?? new Float32Array(nu)) : null,
      occupation: orZeros(dm.occupation !== null, us.occupation),
      zip: orZeros(dm.zip !== null, us.zip),
    };

    const s = candidateSchema(fitted, this.users);
    this.schema = s.schema;
    this.exampleAgeCol = s.exampleAgeCol;
    this.ageCol = s.ageCol;
    this.continuousCol = s.continuousCol;
    const cols = fitted.columns;
    this.itemColumns = cols.item.map((c) => ({
      name: itemColumnFeature(c.name),
      rows: columnBagRows(data.itemInfo.categories, c.name, c.vocab, this.numItems),
    }));
    this.userColumns = cols.userCategorical.map((c) => ({
      name: userColumnFeature(c.name),
      rows: columnBagRows(data.userInfo?.categories, c.name, c.vocab, nu),
    }));
    this.userNumbers = cols.userNumeric.map((c, k) => ({
      col: s.numberCols[k],
      block: numberColumnBlock(data, c.name, c.normalizer, nu),
    }));
    const seq = s.schema.sequence;
    this.seqLen = seq?.maxLen ?? 0;
    const F = CANDIDATE_FEATURES;
    const parts: SequencePart[] = [];
    if (seq !== undefined) {
      parts.push({ bag: sequencePartBag(F.watches), kind: "id", rows: null, maxPerItem: 1 });
      if (this.genres !== null)
        parts.push({
          bag: sequencePartBag(F.watchGenres),
          kind: "rows",
          rows: this.genres,
          maxPerItem: this.genres.maxPerItem,
        });
      if (this.yearRow !== null)
        parts.push({ bag: sequencePartBag(F.watchYears), kind: "year", rows: null, maxPerItem: 1 });
      for (const c of this.itemColumns)
        parts.push({
          bag: sequencePartBag(c.name),
          kind: "rows",
          rows: c.rows,
          maxPerItem: c.rows.maxPerRow,
        });
      const declared = seq.parts.map((p) => p.bag).join(",");
      if (parts.map((p) => p.bag).join(",") !== declared)
        throw new Error(`candidate features: sequence parts ${declared} do not match the packer's`);
    }
    this.seqParts = parts;
  }

  examples(epoch = 0): ExampleSet {
    const set = selectExamples(this.seqOffsets, this.seqItems, this.seqTimes, this.config.examples, epoch);
    const q = this.config.sequence;
    return q.enabled && q.everyPosition ? groupWindows(set, q.maxLen, q.minContext) : set;
  }

  allocBatch(maxSize: number): CandidateBatch {
    if (!Number.isInteger(maxSize) || maxSize < 1)
      throw new RangeError(`allocBatch: maxSize must be a positive integer, got ${maxSize}`);
    const F = CANDIDATE_FEATURES;
    const bags: Record<string, BagInput> = {};
    bags[F.watches] = allocBag(maxSize, maxSize * this.maxLen, false);
    if (this.genres !== null)
      bags[F.watchGenres] = allocBag(maxSize, maxSize * this.maxLen * this.genres.maxPerItem, true);
    if (this.yearRow !== null) bags[F.watchYears] = allocBag(maxSize, maxSize * this.maxLen, false);
    if (this.tokens !== null) bags[F.searchTokens] = allocBag(maxSize, maxSize * this.maxTokens, false);
    this.recentNames.forEach((name, j) => {
      bags[name] = allocBag(maxSize, maxSize * Math.min(this.recentCounts[j], this.maxLen), false);
    });
    for (const c of this.itemColumns)
      bags[c.name] = allocBag(maxSize, maxSize * this.maxLen * c.rows.maxPerRow, true);
    for (const c of this.userColumns) bags[c.name] = allocBag(maxSize, maxSize * c.rows.maxPerRow, false);
    const categorical: Record<string, Int32Array> = {};
    for (const f of this.schema.features)
      if (f.kind === "categorical") categorical[f.name] = new Int32Array(maxSize);
    const denseWidth = this.schema.denseWidth;
    const batch: CandidateBatch = {
      size: 0,
      labels: new Int32Array(maxSize),
      labelTimes: new Float64Array(maxSize),
      bags,
      categorical,
      dense: new Float32Array(maxSize * denseWidth),
      denseWidth,
    };
    if (this.seqLen > 0) {
      const L = this.seqLen;
      const seqBags: Record<string, BagInput> = {};
      for (const p of this.seqParts)
        seqBags[p.bag] = allocBag(maxSize * L, maxSize * L * p.maxPerItem, p.kind === "rows");
      batch.sequence = {
        count: 0,
        lengths: new Int32Array(maxSize),
        bags: seqBags,
        rowSequence: new Int32Array(maxSize),
        rowSlot: new Int32Array(maxSize),
      };
    }
    return batch;
  }

  fillTrainBatch(
    set: ExampleSet,
    order: Int32Array,
    start: number,
    end: number,
    batch: CandidateBatch,
  ): number {
    const size = end - start;
    checkBatchFits(size, batch, this.schema.denseWidth, "fillTrainBatch");
    const heldout = set.mode === "heldout";
    const L = this.maxLen;
    const span = this.maxTrainTime - this.minTrainTime;
    beginBatch(batch);
    const seq = this.beginSequences(batch);
    const windows = set.windows;
    let window = -1;
    for (let b = 0; b < size; b++) {
      const e = order[start + b];
      if (!(e >= 0 && e < set.size))
        throw new RangeError(`fillTrainBatch: order[${start + b}] = ${e} is not an example index`);
      const u = set.user[e];
      const p = set.pos[e];
      const t = set.time[e];
      const base = this.seqOffsets[u];
      const n = this.seqOffsets[u + 1] - base;
      batch.labels[b] = set.label[e];
      batch.labelTimes[b] = t;
      // Input positions [lo, hi) of the user's sequence, minus `skip`.
      let lo: number;
      let hi: number;
      let skip = -1;
      if (!heldout) {
        hi = p;
        lo = Math.max(0, p - L);
      } else {
        hi = n;
        if (p >= n - L) {
          lo = Math.max(0, n - L - 1);
          skip = p;
        } else lo = n - L;
      }
      this.writeWatches(batch, b, this.seqItems, base + lo, base + hi, skip < 0 ? -1 : base + skip);
      if (seq !== null) {
        if (windows !== undefined) {
          // Every-position training: one ordered input per window, each example at the slot
          // of the last watch before its label (rows of a window are consecutive in the order).
          const w = windows.of[e];
          if (w !== window) {
            this.writeSequence(seq, this.seqItems, base + windows.start[w], base + windows.end[w], -1);
            window = w;
          }
          seq.rowSequence[b] = seq.count - 1;
          seq.rowSlot[b] = p - 1 - windows.start[w];
        } else {
          const len = this.writeSequence(
            seq,
            this.seqItems,
            base + lo,
            base + hi,
            skip < 0 ? -1 : base + skip,
          );
          seq.rowSequence[b] = seq.count - 1;
          seq.rowSlot[b] = len - 1;
        }
      }
      this.writeCategorical(batch, b, u);
      const row = b * batch.denseWidth;
      if (this.exampleAgeCol >= 0)
        batch.dense[row + this.exampleAgeCol] =
          span > 0 ? Math.min(Math.max((this.maxTrainTime - t) / span, 0), 1) : 0;
      if (this.ageCol >= 0 && this.users.ageYears !== null)
        batch.dense[row + this.ageCol] = this.users.ageYears[u];
      this.writeUserNumbers(batch, row, u);
      if (!heldout) {
        // Rollback: everything is seen from the label time, with the p earlier events as history.
        this.writeTokens(batch, b, u, t, true);
        if (this.continuousCol >= 0) {
          const first = p > 0 ? t - this.seqTimes[base] : 0;
          const last = p > 0 ? t - this.seqTimes[base + p - 1] : 0;
          this.writeContinuous(batch, row, p, first, last);
        }
      } else {
        // Heldout: the whole training history is the context, seen from its last event.
        const ref = this.seqTimes[base + n - 1];
        this.writeTokens(batch, b, u, ref, false);
        if (this.continuousCol >= 0) {
          const lastOther = p === n - 1 ? (n > 1 ? this.seqTimes[base + n - 2] : ref) : ref;
          this.writeContinuous(batch, row, n - 1, n > 1 ? ref - this.seqTimes[base] : 0, ref - lastOther);
        }
      }
    }
    endBatch(batch, size);
    return size;
  }

  fillQueryBatch(queries: QueryBatch, start: number, end: number, batch: CandidateBatch): number {
    const size = end - start;
    checkBatchFits(size, batch, this.schema.denseWidth, "fillQueryBatch");
    if (start < 0 || end > queries.users.length) {
      throw new RangeError(
        `fillQueryBatch: range [${start}, ${end}) outside the ${queries.users.length} queries`,
      );
    }
    const L = this.maxLen;
    beginBatch(batch);
    const seq = this.beginSequences(batch);
    for (let b = 0; b < size; b++) {
      const q = start + b;
      const u = queries.users[q];
      const t = queries.times[q];
      const hs = queries.historyOffsets[q];
      const he = queries.historyOffsets[q + 1];
      const n = he - hs;
      batch.labels[b] = -1;
      batch.labelTimes[b] = t;
      this.writeWatches(batch, b, queries.historyItems, Math.max(hs, he - L), he, -1);
      if (seq !== null) {
        seq.rowSequence[b] = seq.count;
        seq.rowSlot[b] = this.writeSequence(seq, queries.historyItems, hs, he, -1) - 1;
      }
      const known = u >= 0 && u < this.numUsers;
      if (known) {
        this.writeCategorical(batch, b, u);
        this.writeTokens(batch, b, u, t, true);
      } else {
        this.writeCategorical(batch, b, -1);
        this.writeTokens(batch, b, -1, t, true);
      }
      const row = b * batch.denseWidth;
      // Example age stays 0 (the dense row was zeroed): serving predicts "now".
      if (this.ageCol >= 0 && this.users.ageYears !== null && known)
        batch.dense[row + this.ageCol] = this.users.ageYears[u];
      const given = queries.demographics?.[q];
      if (given) this.writeGivenDemographics(batch, b, row, given);
      this.writeUserNumbers(batch, row, known ? u : -1);
      if (this.continuousCol >= 0) {
        const h = queries.historyTimes;
        this.writeContinuous(batch, row, n, n > 0 ? t - h[hs] : 0, n > 0 ? t - h[he - 1] : 0);
      }
    }
    endBatch(batch, size);
    return size;
  }

  toJSON(): CandidateFeaturesJSON {
    return fittedToJSON(this.fitted);
  }

  /** Writes bag row b of the watch bags from items[lo..hi) (skipping position `skip`). */
  private writeWatches(
    batch: CandidateBatch,
    b: number,
    items: Int32Array,
    lo: number,
    hi: number,
    skip: number,
  ): void {
    const F = CANDIDATE_FEATURES;
    const count = hi - lo - (skip >= lo && skip < hi ? 1 : 0);
    const wb = batch.bags[F.watches];
    let w = wb.offsets[b];
    ensureBag(wb, w + count);
    const idx = wb.indices;
    const ni = this.numItems;
    for (let k = lo; k < hi; k++) {
      if (k === skip) continue;
      idx[w++] = itemInputRow(items[k], ni); // an item unknown to the model is out of vocabulary
    }
    wb.offsets[b + 1] = w;

    // Recent watches: the last R entries of the watch bag just written (it is oldest first).
    for (let j = 0; j < this.recentNames.length; j++) {
      const rb = batch.bags[this.recentNames[j]];
      let o = rb.offsets[b];
      const from = Math.max(wb.offsets[b], w - this.recentCounts[j]);
      ensureBag(rb, o + w - from);
      for (let k = from; k < w; k++) rb.indices[o++] = idx[k];
      rb.offsets[b + 1] = o;
    }

    const yr = this.yearRow;
    if (yr !== null) {
      const yb = batch.bags[F.watchYears];
      let y = yb.offsets[b];
      ensureBag(yb, y + count);
      const yi = yb.indices;
      for (let k = lo; k < hi; k++) {
        if (k === skip) continue;
        const it = items[k];
        yi[y++] = it >= 0 && it < yr.length ? yr[it] : 0;
      }
      yb.offsets[b + 1] = y;
    }

    const g = this.genres;
    if (g !== null)
      writeItemBag(batch.bags[F.watchGenres], b, items, lo, hi, skip, count, g, g.maxPerItem, this.numItems);
    for (const c of this.itemColumns)
      writeItemBag(
        batch.bags[c.name],
        b,
        items,
        lo,
        hi,
        skip,
        count,
        c.rows,
        c.rows.maxPerRow,
        this.numItems,
      );
  }

  /** Opens the batch's ordered input (null when the sequence group is off). */
  private beginSequences(batch: CandidateBatch): SequenceBatch | null {
    const seq = batch.sequence;
    if (this.seqLen === 0) return null;
    if (seq === undefined)
      throw new RangeError("candidate batch: no sequence input (allocate it with allocBatch)");
    seq.count = 0;
    for (const p of this.seqParts) seq.bags[p.bag].offsets[0] = 0;
    return seq;
  }

  /**
   * Appends sequence seq.count: the last seqLen entries of items[lo..hi) minus position `skip`,
   * oldest at slot 0, padded slots empty. Returns its length.
   */
  private writeSequence(seq: SequenceBatch, items: Int32Array, lo: number, hi: number, skip: number): number {
    const L = this.seqLen;
    const s = seq.count++;
    if (s >= seq.lengths.length)
      throw new RangeError(`candidate batch: more than ${seq.lengths.length} sequences in one batch`);
    let from = hi;
    let len = 0;
    while (from > lo && len < L) {
      from--;
      if (from !== skip) len++;
    }
    seq.lengths[s] = len;
    const row0 = s * L;
    const ni = this.numItems;
    for (const part of this.seqParts) {
      const bag = seq.bags[part.bag];
      let w = bag.offsets[row0];
      ensureBag(bag, w + len * part.maxPerItem);
      let j = 0;
      for (let k = from; k < hi; k++) {
        if (k === skip) continue;
        const it = items[k];
        if (part.kind === "id") bag.indices[w++] = itemInputRow(it, ni);
        else if (part.kind === "year") {
          const yr = this.yearRow as Int32Array;
          bag.indices[w++] = it >= 0 && it < yr.length ? yr[it] : 0;
        } else if (it >= 0 && it < ni) {
          const r = part.rows as { readonly offsets: Int32Array; readonly rows: Int32Array };
          const a = r.offsets[it];
          const e = r.offsets[it + 1];
          const wt = 1 / (e - a);
          const weights = bag.weights as Float32Array;
          for (let g = a; g < e; g++) {
            bag.indices[w] = r.rows[g];
            weights[w++] = wt;
          }
        }
        bag.offsets[row0 + ++j] = w;
      }
      for (; j < L; j++) bag.offsets[row0 + j + 1] = w;
    }
    return len;
  }

  /** Search tokens of user u applied before t (strictly when `strict`, else at or before), the maxTokens most recent. */
  private writeTokens(batch: CandidateBatch, b: number, u: number, t: number, strict: boolean): void {
    const tk = this.tokens;
    if (tk === null) return;
    const bag = batch.bags[CANDIDATE_FEATURES.searchTokens];
    let w = bag.offsets[b];
    if (u >= 0) {
      const lo = tk.offsets[u];
      const hi = tk.offsets[u + 1];
      const end = lo + (strict ? countBefore(tk.times, lo, hi, t) : countAtOrBefore(tk.times, lo, hi, t));
      const from = Math.max(lo, end - this.maxTokens);
      ensureBag(bag, w + end - from);
      for (let k = from; k < end; k++) bag.indices[w++] = tk.rows[k];
    }
    bag.offsets[b + 1] = w;
  }

  private writeCategorical(batch: CandidateBatch, b: number, u: number): void {
    const F = CANDIDATE_FEATURES;
    const us = this.users;
    const c = batch.categorical;
    if (us.gender !== null) c[F.gender][b] = u >= 0 ? us.gender[u] : 0;
    if (us.ageCode !== null && c[F.ageBucket] !== undefined) c[F.ageBucket][b] = u >= 0 ? us.ageCode[u] : 0;
    if (us.occupation !== null && c[F.occupation] !== undefined)
      c[F.occupation][b] = u >= 0 ? us.occupation[u] : 0;
    if (us.zip !== null && c[F.zip] !== undefined) c[F.zip][b] = u >= 0 ? us.zip[u] : 0;
    for (const col of this.userColumns) {
      const bag = batch.bags[col.name];
      let w = bag.offsets[b];
      if (u >= 0) {
        const r = col.rows;
        ensureBag(bag, w + r.offsets[u + 1] - r.offsets[u]);
        for (let k = r.offsets[u]; k < r.offsets[u + 1]; k++) bag.indices[w++] = r.rows[k];
      }
      bag.offsets[b + 1] = w;
    }
  }

  /** Request-time demographics of batch row b, in place of the users file's (same mapping, encodeDemographics). */
  private writeGivenDemographics(
    batch: CandidateBatch,
    b: number,
    row: number,
    given: UserDemographicValues,
  ): void {
    const F = CANDIDATE_FEATURES;
    const us = this.users;
    const r = encodeDemographics(
      given,
      this.fitted.demographics,
      this.config.demographics.zipPrefix,
      this.given,
    );
    const c = batch.categorical;
    if (us.gender !== null) c[F.gender][b] = r.gender;
    if (us.ageCode !== null && c[F.ageBucket] !== undefined) c[F.ageBucket][b] = r.ageCode;
    if (us.occupation !== null && c[F.occupation] !== undefined) c[F.occupation][b] = r.occupation;
    if (us.zip !== null && c[F.zip] !== undefined) c[F.zip][b] = r.zip;
    if (this.ageCol >= 0 && us.ageYears !== null) batch.dense[row + this.ageCol] = r.ageYears;
  }

  /** The named numeric user columns of user u (−1 = unknown user: every value missing). */
  private writeUserNumbers(batch: CandidateBatch, row: number, u: number): void {
    for (const n of this.userNumbers) {
      const at = row + n.col;
      if (u < 0) batch.dense[at + NUMBER_COLUMN_WIDTH - 1] = 1;
      else
        for (let k = 0; k < NUMBER_COLUMN_WIDTH; k++)
          batch.dense[at + k] = n.block[u * NUMBER_COLUMN_WIDTH + k];
    }
  }

  private writeContinuous(
    batch: CandidateBatch,
    row: number,
    numPrev: number,
    sinceFirst: number,
    sinceLast: number,
  ): void {
    const c = this.fitted.continuous;
    if (c !== null)
      writeUserContinuous(c, numPrev, sinceFirst, sinceLast, batch.dense, row + this.continuousCol);
  }
}

/**
 * Writes bag row b of an item-level bag (genres, a named item column) for the watched items
 * items[lo..hi) minus position `skip`: the mean over the `count` items of each item's mean
 * embedding, as per-index weights.
 */
function writeItemBag(
  bag: BagInput,
  b: number,
  items: Int32Array,
  lo: number,
  hi: number,
  skip: number,
  count: number,
  rows: { readonly offsets: Int32Array; readonly rows: Int32Array },
  maxPerItem: number,
  numItems: number,
): void {
  let o = bag.offsets[b];
  ensureBag(bag, o + count * maxPerItem);
  const gi = bag.indices;
  const gw = bag.weights as Float32Array;
  for (let k = lo; k < hi; k++) {
    if (k === skip) continue;
    const it = items[k];
    if (it < 0 || it >= numItems) continue;
    const a = rows.offsets[it];
    const e = rows.offsets[it + 1];
    const wt = 1 / (count * (e - a));
    for (let j = a; j < e; j++) {
      gi[o] = rows.rows[j];
      gw[o++] = wt;
    }
  }
  bag.offsets[b + 1] = o;
}

/** How one part bag of the ordered input is filled per slot: the item's input row, its year bucket, or its rows of a CSR (mean). */
interface SequencePart {
  readonly bag: string;
  readonly kind: "id" | "year" | "rows";
  readonly rows: { readonly offsets: Int32Array; readonly rows: Int32Array } | null;
  readonly maxPerItem: number;
}
