/**
 * The one in-memory form every reader produces: a columnar table of interaction events plus
 * dictionaries and side information. Indices are dense (0..n-1) so models and protocols index
 * typed arrays directly; external ids live only in the dictionaries.
 */
import type { DetectedInput } from "./sniff.js";

/** Maps external ids (strings as they appear in files) to dense indices and back. */
export interface IdDictionary {
  /** External id of each dense index. */
  readonly ids: readonly string[];
  /** External id -> dense index. */
  readonly index: ReadonlyMap<string, number>;
}

/** Interaction events, one row per event, as parallel typed arrays of equal length. */
export interface Events {
  readonly user: Int32Array;
  readonly item: Int32Array;
  /** Seconds since the Unix epoch (fractional when the source had sub-second precision). */
  readonly time: Float64Array;
  /** Engagement weight: the rating for MovieLens, the weight column (default 1) for logs. */
  readonly weight: Float32Array;
}

/**
 * A categorical column of a side file, named by the user (`--item-category-cols`,
 * `--user-category-cols`): the values of row i are names[values[offsets[i] .. offsets[i+1])]; a
 * multi-valued cell "a|b|c" gives three, an empty cell none.
 */
export interface CategoricalColumn {
  readonly name: string;
  readonly offsets: Int32Array;
  readonly values: Int32Array;
  readonly names: readonly string[];
}

/** A numeric column of a users file (`--user-number-cols`); NaN = unknown. */
export interface NumericColumn {
  readonly name: string;
  readonly values: Float64Array;
}

/** Item side information, indexed by dense item index. */
export interface ItemInfo {
  /** Title, or "" when unknown. */
  readonly title: readonly string[];
  /** Release year, or 0 when unknown. */
  readonly year: Int16Array;
  /** Genres/categories as CSR: the genres of item i are genreIds[genreOffsets[i] .. genreOffsets[i+1]). */
  readonly genreOffsets: Int32Array;
  readonly genreIds: Int32Array;
  /** Name of each genre id. */
  readonly genreNames: readonly string[];
  /** Columns of the items file named as categorical features (absent or empty when none). */
  readonly categories?: readonly CategoricalColumn[];
}

/** User side information, indexed by dense user index. Absent fields are null. */
export interface UserInfo {
  /** 0 = unknown, 1 = female, 2 = male (other values map to 0 and are counted by the reader). */
  readonly gender: Uint8Array | null;
  /**
   * Age: in years for ml-100k style data (ageKind "years", 0 = unknown), or the release's age code
   * (ml-1m: 1/18/25/35/45/50/56; ageKind "code", 0 = unknown).
   */
  readonly age: Int16Array | null;
  readonly ageKind: "years" | "code" | null;
  /** Occupation as an index into occupationNames, -1 = unknown. */
  readonly occupation: Int32Array | null;
  readonly occupationNames: readonly string[] | null;
  /** Zip / postal code as written ("" = unknown). */
  readonly zip: readonly string[] | null;
  /** Columns of the users file named as categorical features (absent or empty when none). */
  readonly categories?: readonly CategoricalColumn[];
  /** Columns of the users file named as numeric features (absent or empty when none). */
  readonly numbers?: readonly NumericColumn[];
}

/**
 * One user's demographics as a users file row gives them (UserInfo's fields for one user, with the
 * occupation by name): what a service hands a model at request time for a user it was not trained
 * on, or whose demographics changed since.
 */
export interface UserDemographicValues {
  /** 0 = unknown, 1 = female, 2 = male (UserInfo.gender's code). */
  readonly gender: number;
  /** Age in the data's unit (UserInfo.ageKind: years or the release's code), 0 = unknown. */
  readonly age: number;
  /** Occupation name ("" = unknown). */
  readonly occupation: string;
  /** Zip / postal code as written ("" = unknown). */
  readonly zip: string;
}

/** Tag applications (the stand-in for search queries), ordered as in the file. */
export interface TagEvents {
  readonly user: Int32Array;
  readonly item: Int32Array;
  readonly time: Float64Array;
  /** Tag text of each row (index into texts). */
  readonly textIndex: Int32Array;
  readonly texts: readonly string[];
}

export type DatasetFormat =
  | "ml-100k"
  | "ml-1m"
  | "ml-10m"
  | "ml-20m"
  | "ml-25m"
  | "ml-32m"
  | "ml-latest"
  | "ml-latest-small"
  | "movielens-csv"
  | "log";

/** Counts of what a reader skipped or found suspicious; nothing is dropped without a count here. */
export interface LoadReport {
  /** Lines skipped in lenient mode, per file. */
  readonly skipped: ReadonlyArray<{ file: string; count: number; examples: string[] }>;
  /** Rows whose (user, item, timestamp) repeats an earlier row (kept, but reported). */
  readonly duplicateEvents: number;
  /** Free-form warnings (e.g. side-file rows for unknown items). */
  readonly warnings: readonly string[];
  /** How each generic log or side file was read (separator, quoting, encoding, gzip); absent for MovieLens. */
  readonly inputs?: readonly DetectedInput[];
}

export interface Dataset {
  /** Short name, e.g. "ml-100k" or the log file's base name. */
  readonly name: string;
  readonly format: DatasetFormat;
  /** Path the data was read from. */
  readonly source: string;
  readonly users: IdDictionary;
  /** The catalog: every item that occurs in the events (items only in side files are not here). */
  readonly items: IdDictionary;
  /** Events in file order. */
  readonly events: Events;
  readonly itemInfo: ItemInfo;
  readonly userInfo: UserInfo | null;
  readonly tags: TagEvents | null;
  readonly report: LoadReport;
}

export function numUsers(d: Dataset): number {
  return d.users.ids.length;
}

export function numItems(d: Dataset): number {
  return d.items.ids.length;
}

export function numEvents(d: Dataset): number {
  return d.events.user.length;
}
