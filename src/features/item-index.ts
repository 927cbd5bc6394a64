/**
 * The item index conventions, in one place. A dataset's item i (0 ≤ i < numItems) is:
 * - row i + 1 of the watched-item input table, whose row 0 is out of vocabulary (an item the model
 *   does not know; kept at zero), so the table has numItems + 1 rows;
 * - class i of the softmax (training labels are item indices);
 * - row i of the model's own output table, or row i + 1 when the output is tied to the input table.
 * Every place that moves between item indices and table rows goes through these functions.
 */

/** The input row of an unknown item. */
export const OOV_ROW = 0;

/** Rows of the watched-item input table: the out-of-vocabulary row + one per item. */
export function itemTableRows(numItems: number): number {
  return numItems + 1;
}

/** Input row of item i; an index outside 0..numItems-1 (an item unknown to the model) is OOV_ROW. */
export function itemInputRow(item: number, numItems: number): number {
  return item >= 0 && item < numItems ? item + 1 : OOV_ROW;
}

/** The item of an input row; −1 for the out-of-vocabulary row. */
export function inputRowItem(row: number): number {
  return row - 1;
}

/** The output table row of class 0: 1 when tied to the input table (past its OOV row), else 0. */
export function outputFirstRow(tied: boolean): number {
  return tied ? 1 : 0;
}

/** Output table row of item i. */
export function outputRow(item: number, tied: boolean): number {
  return item + outputFirstRow(tied);
}
