/**
 * Writes the SQLite store's served impressions off the event loop: a worker thread owns a second
 * connection to the store file (synchronous=NORMAL: impressions are not on the durable path, a
 * later FULL commit of the WAL carries them to disk) and commits each posted batch in one
 * transaction. Before, a flush of ~1,000 rows (200 ms at 500 req/s) and its WAL checkpoints ran on
 * the event loop and stalled every request queued behind it for several milliseconds.
 * Batches are written in the order posted; `write` resolves once its batch is committed, so
 * awaiting the last write means every earlier one is in the file too. An in-memory database
 * (":memory:") cannot be shared with a thread: there the rows go through the caller's connection.
 */
import type Database from "better-sqlite3";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { ImpressionList } from "./store.js";

/** The worker (CommonJS, evaluated from this string so it runs the same from src/ under vitest and from dist/). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma("synchronous = NORMAL");
db.pragma("busy_timeout = 5000");
const insert = db.prepare("INSERT INTO impressions (user_idx, item_idx, time) VALUES (?, ?, ?)");
const write = db.transaction((user, item, time) => {
  for (let i = 0; i < user.length; i++) insert.run(user[i], item[i], time[i]);
});
parentPort.on("message", (m) => {
  if (m.close) {
    db.close();
    parentPort.postMessage({ closed: true });
    return;
  }
  try {
    write(m.user, m.item, m.time);
    parentPort.postMessage({ id: m.id });
  } catch (error) {
    parentPort.postMessage({ id: m.id, error: String((error && error.message) || error) });
  }
});
`;

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Rows of lists as three columns (transferred to the worker, not copied). */
function columns(lists: readonly ImpressionList[]): {
  user: Int32Array<ArrayBuffer>;
  item: Int32Array<ArrayBuffer>;
  time: Float64Array<ArrayBuffer>;
} {
  let n = 0;
  for (const l of lists) n += l.items.length;
  const user = new Int32Array(n);
  const item = new Int32Array(n);
  const time = new Float64Array(n);
  let r = 0;
  for (const l of lists) {
    user.fill(l.user, r, r + l.items.length);
    item.set(l.items, r);
    time.fill(l.time, r, r + l.items.length);
    r += l.items.length;
  }
  return { user, item, time };
}

export class ImpressionWriter {
  private readonly worker: Worker | null;
  private readonly insert: Database.Statement<[number, number, number]> | null;
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;
  private failure: Error | null = null;
  private closed: Promise<void> | null = null;

  /** `db` is the store's own connection (used only for ":memory:"). */
  constructor(file: string, db: Database.Database) {
    if (file === ":memory:") {
      this.worker = null;
      this.insert = db.prepare("INSERT INTO impressions (user_idx, item_idx, time) VALUES (?, ?, ?)");
      return;
    }
    this.insert = null;
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver } });
    // Never what keeps the process alive: close() ends it after the last write.
    this.worker.unref();
    this.worker.on("message", (m: { id?: number; error?: string }) => {
      if (m.id === undefined) return;
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.error === undefined) w?.resolve();
      else w?.reject(new Error(`writing impressions: ${m.error}`));
    });
    this.worker.on("error", (error) => this.fail(error));
    this.worker.on("exit", (code) => {
      if (this.closed === null) this.fail(new Error(`impression writer thread exited (${code})`));
    });
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const w of this.waiting.values()) w.reject(error);
    this.waiting.clear();
  }

  /** Commits `lists` (in one transaction, after every batch written before); rejects if it could not. */
  write(lists: readonly ImpressionList[]): Promise<void> {
    if (this.insert !== null) {
      const insert = this.insert;
      try {
        insert.database.transaction(() => {
          for (const l of lists)
            for (let i = 0; i < l.items.length; i++) insert.run(l.user, l.items[i], l.time);
        })();
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error as Error);
      }
    }
    const worker = this.worker as Worker;
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closed !== null) return Promise.reject(new Error("impression writer is closed"));
    const id = this.nextId++;
    const c = columns(lists);
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, ...c }, [c.user.buffer, c.item.buffer, c.time.buffer]);
    });
  }

  /** Ends the thread after the batches already posted are written (their promises settle first). */
  close(): Promise<void> {
    const worker = this.worker;
    if (worker === null) return Promise.resolve();
    this.closed ??= new Promise<void>((done) => {
      if (this.failure !== null) {
        void worker.terminate().then(() => done());
        return;
      }
      worker.on("message", (m: { closed?: boolean }) => {
        if (m.closed) void worker.terminate().then(() => done());
      });
      worker.postMessage({ close: true });
    });
    return this.closed;
  }
}
