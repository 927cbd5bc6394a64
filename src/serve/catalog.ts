/**
 * The service's in-memory copy of the store's items: external id <-> dense index, titles, genres,
 * years, and per-genre masks for the `genre=` filter. Kept in step with the store by revision
 * (items written by this or another instance since the last refresh), so a request never reads the
 * items table.
 */
import type { ItemRecord } from "./store/store.js";

export interface ItemView {
  readonly item: string;
  readonly title: string;
  readonly genres: readonly string[];
  readonly year: number | null;
}

export class Catalog {
  readonly ids: string[] = [];
  readonly index = new Map<string, number>();
  private readonly titles: string[] = [];
  private readonly genres: (readonly string[])[] = [];
  private readonly years: (number | null)[] = [];
  private readonly genreSet = new Set<string>();
  private masks = new Map<string, Uint8Array>();
  /** Latest store revision applied. */
  rev = 0;

  get size(): number {
    return this.ids.length;
  }

  /** Adds or updates items (any order); indices may leave gaps, which stay unknown. */
  apply(records: readonly ItemRecord[], rev: number): void {
    for (const r of records) {
      while (this.ids.length <= r.idx) {
        this.ids.push("");
        this.titles.push("");
        this.genres.push([]);
        this.years.push(null);
      }
      if (this.ids[r.idx] !== r.id) {
        this.ids[r.idx] = r.id;
        this.index.set(r.id, r.idx);
      }
      this.titles[r.idx] = r.title;
      this.genres[r.idx] = r.genres;
      this.years[r.idx] = r.year;
      for (const g of r.genres) this.genreSet.add(g);
    }
    if (records.length > 0) this.masks = new Map();
    this.rev = Math.max(this.rev, rev);
  }

  view(idx: number): ItemView {
    return { item: this.ids[idx], title: this.titles[idx], genres: this.genres[idx], year: this.years[idx] };
  }

  genresOf(idx: number): readonly string[] {
    return this.genres[idx] ?? [];
  }

  /** Every genre name, sorted. */
  genreNames(): string[] {
    return [...this.genreSet].sort();
  }

  hasGenre(name: string): boolean {
    return this.genreSet.has(name);
  }

  /** 1 for the items of a genre (built once per catalog change). */
  genreMask(name: string): Uint8Array {
    let m = this.masks.get(name);
    if (!m) {
      m = new Uint8Array(this.ids.length);
      for (let i = 0; i < this.genres.length; i++) if (this.genres[i].includes(name)) m[i] = 1;
      this.masks.set(name, m);
    }
    return m;
  }
}
