/**
 * Builders for side information — item titles, years and genres; user gender, age, occupation and
 * zip; tag applications — keyed by the dense indices the events already assigned. Side-file rows
 * for ids that never occur in the events are counted (and reported by the caller), not added.
 */
import type { IdDictionaryBuilder } from "./columns.js";
import type { CategoricalColumn, ItemInfo, NumericColumn, TagEvents, UserInfo } from "./dataset.js";
import type { ScannedRecord } from "./record-scanner.js";
import type { ReportBuilder } from "./report.js";

/** Year from a title ending in "(1995)" or "(1994-1998)", else 0. */
export function yearFromTitle(title: string): number {
  const m = /\((\d{4})(?:\s*[-–]\s*(?:\d{4})?)?\)\s*$/.exec(title);
  return m ? Number(m[1]) : 0;
}

/** Year from a date such as "01-Jan-1995" or "1995-01-01", else 0. */
export function yearFromDate(date: string): number {
  const m = /(?:^|\D)(\d{4})(?:\D|$)/.exec(date);
  return m ? Number(m[1]) : 0;
}

/**
 * Field k as text. UTF-8 files occasionally carry latin-1 bytes (older MovieLens releases): a
 * field that does not decode as UTF-8 is read as latin-1 instead of turning into U+FFFD.
 */
export function fieldText(r: ScannedRecord, k: number, encoding: "utf8" | "latin1"): string {
  const s = r.text(k, encoding);
  if (encoding === "utf8" && s.includes("\uFFFD") && !r.text(k, "latin1").includes("\u00EF\u00BF\u00BD")) {
    return r.text(k, "latin1");
  }
  return s;
}

/** MovieLens's genres value for an item without genres. */
export const NO_GENRES = "(no genres listed)";

/** A trimmed MovieLens `Genre|Genre` field as a list: empty or NO_GENRES gives no genres. */
export function splitGenres(field: string): string[] {
  return field === "" || field === NO_GENRES ? [] : field.split("|");
}

/** Names (genres, occupations, tag texts) numbered densely in order of first appearance. */
class NameIndex {
  readonly names: string[] = [];
  private readonly index = new Map<string, number>();

  id(name: string): number {
    let id = this.index.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.index.set(name, id);
    }
    return id;
  }
}

/** The values of a categorical cell: "a|b|c" (trimmed, empties dropped) or a list (JSONL, Parquet). */
export function cellValues(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const parts = Array.isArray(v)
    ? v.map((x) => (typeof x === "string" ? x : JSON.stringify(x)))
    : String(v).split("|");
  const out: string[] = [];
  for (const p of parts) {
    const t = p.trim();
    if (t !== "") out.push(t);
  }
  return out;
}

/** A named categorical column filled row by row (dense index), finished as CSR. */
export class CategoricalColumnBuilder {
  private readonly rows: (number[] | undefined)[];
  private readonly names = new NameIndex();

  constructor(
    readonly name: string,
    size: number,
  ) {
    this.rows = new Array<number[] | undefined>(size);
  }

  set(idx: number, values: readonly string[]): void {
    this.rows[idx] = values.map((v) => this.names.id(v));
  }

  finish(): CategoricalColumn {
    const n = this.rows.length;
    const offsets = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + (this.rows[i]?.length ?? 0);
    const values = new Int32Array(offsets[n]);
    for (let i = 0; i < n; i++) {
      const r = this.rows[i];
      if (r) values.set(r, offsets[i]);
    }
    return { name: this.name, offsets, values, names: this.names.names };
  }
}

/** A named numeric column (NaN = unknown). */
export class NumericColumnBuilder {
  readonly values: Float64Array;

  constructor(
    readonly name: string,
    size: number,
  ) {
    this.values = new Float64Array(size).fill(NaN);
  }

  finish(): NumericColumn {
    return { name: this.name, values: this.values };
  }
}

export class ItemInfoBuilder {
  private readonly title: string[];
  private readonly year: Int16Array;
  private readonly genres: (number[] | undefined)[];
  private readonly genreNames = new NameIndex();
  private readonly seen: Uint8Array;
  /** Side-file rows whose item is not in the catalog (no events). */
  unknownItems = 0;

  constructor(private readonly items: IdDictionaryBuilder) {
    const n = items.size;
    this.title = new Array<string>(n).fill("");
    this.year = new Int16Array(n);
    this.genres = new Array<number[] | undefined>(n);
    this.seen = new Uint8Array(n);
  }

  /** Fixes the genre list up front (ml-100k's u.genre), so genre ids follow the file's order. */
  declareGenres(names: readonly string[]): void {
    for (const g of names) this.genreId(g);
  }

  genreId(name: string): number {
    return this.genreNames.id(name);
  }

  /** Dense index of an external item id, or -1 (and counted) when it has no events. */
  lookup(id: string): number {
    const idx = this.items.find(id);
    if (idx < 0) this.unknownItems++;
    return idx;
  }

  set(idx: number, title: string, year: number, genres: readonly string[]): void {
    this.setGenreIds(
      idx,
      title,
      year,
      genres.map((g) => this.genreId(g)),
    );
  }

  setGenreIds(idx: number, title: string, year: number, genreIds: number[]): void {
    this.title[idx] = title;
    this.year[idx] = year > 0 && year < 32768 ? year : 0;
    this.genres[idx] = genreIds;
    this.seen[idx] = 1;
  }

  /** Adds the side-file coverage warnings to the report. */
  finish(report: ReportBuilder, file: string): ItemInfo {
    let missing = 0;
    for (let i = 0; i < this.seen.length; i++) if (!this.seen[i]) missing++;
    if (this.unknownItems > 0) {
      report.warn(
        `${file}: ${this.unknownItems} item${this.unknownItems === 1 ? " has" : "s have"} no events and ` +
          `${this.unknownItems === 1 ? "is" : "are"} not in the catalog`,
      );
    }
    if (missing > 0) {
      report.warn(
        `${file}: ${missing} catalog item${missing === 1 ? " has" : "s have"} no row (no title, genres or year)`,
      );
    }
    const n = this.title.length;
    const offsets = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + (this.genres[i]?.length ?? 0);
    const ids = new Int32Array(offsets[n]);
    for (let i = 0; i < n; i++) {
      const g = this.genres[i];
      if (g) ids.set(g, offsets[i]);
    }
    return {
      title: this.title,
      year: this.year,
      genreOffsets: offsets,
      genreIds: ids,
      genreNames: this.genreNames.names,
    };
  }
}

/** Item info with no side file: empty titles, no genres, unknown years. */
export function emptyItemInfo(numItems: number): ItemInfo {
  return {
    title: new Array<string>(numItems).fill(""),
    year: new Int16Array(numItems),
    genreOffsets: new Int32Array(numItems + 1),
    genreIds: new Int32Array(0),
    genreNames: [],
  };
}

export interface UserFields {
  readonly gender: boolean;
  readonly age: "years" | "code" | null;
  readonly occupation: boolean;
  readonly zip: boolean;
}

/** Parses gender text: F/female -> 1, M/male -> 2, empty -> 0; anything else -> null (caller counts it). */
function parseGender(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (t === "f" || t === "female") return 1;
  if (t === "m" || t === "male") return 2;
  if (t === "" || t === "u" || t === "unknown" || t === "?") return 0;
  return null;
}

export class UserInfoBuilder {
  readonly gender: Uint8Array | null;
  readonly age: Int16Array | null;
  readonly occupation: Int32Array | null;
  readonly zip: string[] | null;
  private readonly occupationNames = new NameIndex();
  private readonly seen: Uint8Array;
  unknownUsers = 0;
  /** Gender values other than F/M (recorded as unknown). */
  otherGender = 0;

  constructor(
    private readonly users: IdDictionaryBuilder,
    private readonly fields: UserFields,
  ) {
    const n = users.size;
    this.gender = fields.gender ? new Uint8Array(n) : null;
    this.age = fields.age ? new Int16Array(n) : null;
    this.occupation = fields.occupation ? new Int32Array(n).fill(-1) : null;
    this.zip = fields.zip ? new Array<string>(n).fill("") : null;
    this.seen = new Uint8Array(n);
  }

  /** Gender code of a text value; values other than F/M/empty become 0 and are counted. */
  genderOf(text: string): number {
    const g = parseGender(text);
    if (g !== null) return g;
    this.otherGender++;
    return 0;
  }

  /** Fixes the occupation list up front (u.occupation, ml-1m's codes). */
  declareOccupations(names: readonly string[]): void {
    for (const o of names) this.occupationId(o);
  }

  occupationId(name: string): number {
    return this.occupationNames.id(name);
  }

  /** Dense index of an external user id, or -1 (and counted) when the user has no events. */
  lookup(id: string): number {
    const idx = this.users.find(id);
    if (idx < 0) this.unknownUsers++;
    return idx;
  }

  /** Sets the fields this builder has; absent values stay unknown. */
  set(idx: number, v: { gender?: number; age?: number; occupation?: string; zip?: string }): void {
    if (this.gender && v.gender !== undefined) this.gender[idx] = v.gender;
    if (this.age && v.age !== undefined) this.age[idx] = v.age;
    if (this.occupation && v.occupation !== undefined && v.occupation !== "") {
      this.occupation[idx] = this.occupationId(v.occupation);
    }
    if (this.zip && v.zip !== undefined) this.zip[idx] = v.zip;
    this.seen[idx] = 1;
  }

  finish(report: ReportBuilder, file: string): UserInfo {
    let missing = 0;
    for (let i = 0; i < this.seen.length; i++) if (!this.seen[i]) missing++;
    if (this.unknownUsers > 0) {
      report.warn(
        `${file}: ${this.unknownUsers} user${this.unknownUsers === 1 ? " has" : "s have"} no events (not loaded)`,
      );
    }
    if (missing > 0) {
      report.warn(
        `${file}: ${missing} user${missing === 1 ? " with events has" : "s with events have"} no row (unknown side info)`,
      );
    }
    if (this.otherGender > 0) {
      report.warn(
        `${file}: ${this.otherGender} gender value${this.otherGender === 1 ? "" : "s"} other than F/M recorded as unknown`,
      );
    }
    return {
      gender: this.gender,
      age: this.age,
      ageKind: this.fields.age,
      occupation: this.occupation,
      occupationNames: this.occupation ? this.occupationNames.names : null,
      zip: this.zip,
    };
  }
}

export class TagEventsBuilder {
  private user: number[] = [];
  private item: number[] = [];
  private time: number[] = [];
  private textIndex: number[] = [];
  private readonly texts = new NameIndex();
  unknownUser = 0;
  unknownItem = 0;

  constructor(
    readonly users: IdDictionaryBuilder,
    readonly items: IdDictionaryBuilder,
  ) {}

  /** Adds a tag application; rows whose user or item has no events are counted, not added. */
  add(userId: string, itemId: string, time: number, text: string): void {
    const u = this.users.find(userId);
    const i = this.items.find(itemId);
    if (u < 0) {
      this.unknownUser++;
      return;
    }
    if (i < 0) {
      this.unknownItem++;
      return;
    }
    this.user.push(u);
    this.item.push(i);
    this.time.push(time);
    this.textIndex.push(this.texts.id(text));
  }

  finish(report: ReportBuilder, file: string): TagEvents {
    if (this.unknownUser > 0) {
      report.warn(
        `${file}: ${this.unknownUser} tag row${this.unknownUser === 1 ? "" : "s"} by users with no events not loaded`,
      );
    }
    if (this.unknownItem > 0) {
      report.warn(
        `${file}: ${this.unknownItem} tag row${this.unknownItem === 1 ? "" : "s"} on items not in the catalog not loaded`,
      );
    }
    return {
      user: Int32Array.from(this.user),
      item: Int32Array.from(this.item),
      time: Float64Array.from(this.time),
      textIndex: Int32Array.from(this.textIndex),
      texts: this.texts.names,
    };
  }
}
