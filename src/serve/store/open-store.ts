/**
 * Opens the store a `--store` argument names: `sqlite:<file>` (or a bare path ending in .db /
 * .sqlite) for the embedded store, `postgres://…` / `postgresql://…` for PostgreSQL.
 */
import { resolve } from "node:path";
import { PostgresStore } from "./postgres-store.js";
import { SqliteStore } from "./sqlite-store.js";
import type { Store } from "./store.js";

export const DEFAULT_STORE = "sqlite:watchnext.db";

export async function openStore(spec: string): Promise<Store> {
  if (spec.startsWith("postgres://") || spec.startsWith("postgresql://")) return PostgresStore.open(spec);
  if (spec.startsWith("sqlite:")) {
    const file = spec.slice("sqlite:".length);
    if (file === "") throw new Error(`--store ${spec}: expected sqlite:<file>`);
    return new SqliteStore(file === ":memory:" ? file : resolve(file));
  }
  if (/\.(db|sqlite3?)$/.test(spec)) return new SqliteStore(resolve(spec));
  throw new Error(`--store ${JSON.stringify(spec)}: expected sqlite:<file> or postgres://user@host:port/db`);
}

/** The store spec without a password, for logs. */
export function describeStore(spec: string): string {
  return spec.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}
