/**
 * What a source was fitted on, in two forms: the per-user record the leakage test reads (the latest
 * event time of each user the source saw), and a fingerprint of the fitting events (count + SHA-256
 * of the columns) that a saved source carries so it is never restored onto other data.
 */
import { createHash } from "node:crypto";
import { numUsers, type Dataset } from "../../data/dataset.js";
import type { SourceFitRecord, SourceName } from "./source.js";

/** The latest event time per user in `fit` (−Infinity for users without events). */
export function lastSeenTimes(fit: Dataset): Float64Array {
  const last = new Float64Array(numUsers(fit)).fill(-Infinity);
  const { user, time } = fit.events;
  for (let e = 0; e < user.length; e++) if (time[e] > last[user[e]]) last[user[e]] = time[e];
  return last;
}

export function fitRecordOf(source: SourceName, fit: Dataset): SourceFitRecord {
  return { source, lastSeenTime: lastSeenTimes(fit) };
}

export interface FitDataFingerprint {
  readonly dataset: string;
  readonly events: number;
  readonly users: number;
  readonly items: number;
  /** SHA-256 (hex) over the user, item, time and weight columns, in file order. */
  readonly sha256: string;
}

export function fingerprintOf(fit: Dataset): FitDataFingerprint {
  const h = createHash("sha256");
  const { user, item, time, weight } = fit.events;
  for (const col of [user, item, time, weight])
    h.update(new Uint8Array(col.buffer, col.byteOffset, col.byteLength));
  return {
    dataset: fit.name,
    events: user.length,
    users: fit.users.ids.length,
    items: fit.items.ids.length,
    sha256: h.digest("hex"),
  };
}

/** Throws a clear error when `fit` is not the data a saved source was fitted on. */
export function checkFingerprint(where: string, saved: FitDataFingerprint, fit: Dataset): void {
  const now = fingerprintOf(fit);
  if (
    saved.sha256 !== now.sha256 ||
    saved.events !== now.events ||
    saved.users !== now.users ||
    saved.items !== now.items
  ) {
    throw new Error(
      `${where}: the source was fitted on ${saved.events} events / ${saved.users} users / ${saved.items} items ` +
        `of ${saved.dataset} (sha256 ${saved.sha256.slice(0, 12)}), but the data given has ${now.events} / ` +
        `${now.users} / ${now.items} (sha256 ${now.sha256.slice(0, 12)}): pass the events it was fitted on`,
    );
  }
}
