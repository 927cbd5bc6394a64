/**
 * The movies and tags rows that the `::` releases (ml-1m, ml-10m) and the CSV releases (ml-20m and
 * later) write alike, read into the side-info builders. Columns are given by position, so one
 * reader serves the fixed `::` layout and a CSV header's column order.
 */
import type { ScannedRecord } from "./record-scanner.js";
import { idField, intField } from "./side-file.js";
import {
  fieldText,
  splitGenres,
  yearFromTitle,
  type ItemInfoBuilder,
  type TagEventsBuilder,
} from "./side-info.js";

type Encoding = "utf8" | "latin1";

/**
 * A movies row: cols[0..2] are the positions of id, "Title (Year)" and `Genre|Genre`, named
 * names[0..2] in errors. Rows of items without events are counted by the builder, not added.
 */
export function addMovieRow(
  b: ItemInfoBuilder,
  path: string,
  r: ScannedRecord,
  cols: readonly number[],
  names: readonly string[],
  encoding: Encoding,
): void {
  const id = idField(path, r, cols[0], names[0]);
  const title = fieldText(r, cols[1], encoding).trim();
  const genres = fieldText(r, cols[2], encoding).trim();
  const idx = b.lookup(id);
  if (idx >= 0) b.set(idx, title, yearFromTitle(title), splitGenres(genres));
}

/** A tags row: cols[0..3] are the positions of user id, item id, tag and timestamp, named names[0..3]. */
export function addTagRow(
  b: TagEventsBuilder,
  path: string,
  r: ScannedRecord,
  cols: readonly number[],
  names: readonly string[],
  encoding: Encoding,
): void {
  const user = idField(path, r, cols[0], names[0]);
  const item = idField(path, r, cols[1], names[1]);
  const time = intField(path, r, cols[3], names[3]);
  b.add(user, item, time, fieldText(r, cols[2], encoding));
}
