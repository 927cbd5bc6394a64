/**
 * The rows a dataset seeds into an empty store, in the dataset's dense order (so a model trained on
 * that dataset addresses the store's items and users by the same indices).
 */
import type { Dataset } from "../../data/dataset.js";
import { genderText, type SeedData } from "./store.js";

export function seedDataFromDataset(d: Dataset): SeedData {
  const info = d.itemInfo;
  const items = d.items.ids.map((id, i) => {
    const genres: string[] = [];
    for (let g = info.genreOffsets[i]; g < info.genreOffsets[i + 1]; g++)
      genres.push(info.genreNames[info.genreIds[g]]);
    return { id, title: info.title[i] ?? "", genres, year: info.year[i] > 0 ? info.year[i] : null };
  });
  const u = d.userInfo;
  const users = d.users.ids.map((id, i) => {
    const occ = u?.occupation ? u.occupation[i] : -1;
    return {
      id,
      gender: genderText(u?.gender ? u.gender[i] : 0),
      age: u?.age ? u.age[i] : 0,
      occupation: occ >= 0 && u?.occupationNames ? u.occupationNames[occ] : "",
      zip: u?.zip ? u.zip[i] : "",
    };
  });
  return { name: d.name, items, users, ageKind: u?.ageKind ?? null, events: d.events, tags: d.tags };
}
