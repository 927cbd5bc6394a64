/**
 * Recommendations computed on worker threads, so that one request's model work (sources, features,
 * ranker: about a millisecond on ml-100k) does not hold the event loop that parses, validates and
 * answers every other request. Each worker loads the same model directory against the same dataset
 * and receives every observed event in the order the service's own Recommender does (messages to a
 * worker are delivered in order), so a worker's list for a request is exactly the in-process list,
 * and an event acknowledged before a request is seen by whichever worker answers it.
 *
 * A request goes to the worker with the fewest requests in flight. If a worker dies, its requests
 * in flight and every later one it would have taken are answered in-process by the fallback
 * Recommender (which holds the same state), so a crash costs speed, never an answer.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Dataset } from "../data/dataset.js";
import type { RecommendedItem, RecommendRequest } from "../models/ranking/recommender-types.js";
import type { Recommender, RetrievalOptions } from "../models/ranking/recommender.js";
import { ServeError } from "./errors.js";

/**
 * Workers by default: one per core (at most 8, each holds a copy of the model) when there are two
 * or more cores; on one core none, where a thread would only add a message hop. The event loop
 * needs far less than a core, so on 2 cores two workers beat one (docs/results/serving.md,
 * "Recommendation workers").
 */
export const DEFAULT_WORKERS = availableParallelism() > 1 ? Math.min(availableParallelism(), 8) : 0;

/** A request as it crosses to a worker: the `allow` predicate becomes a mask over the model's items. */
export type WorkerRecommendRequest = Omit<RecommendRequest, "allow"> & {
  readonly allowMask: Uint8Array | null;
};

/** req with `allow` taken from a mask over the model's items (1 = allowed; null: no filter). */
export function withAllowMask(
  req: Omit<RecommendRequest, "allow">,
  allowMask: Uint8Array | null,
): RecommendRequest {
  return allowMask === null ? req : { ...req, allow: (item: number) => allowMask[item] === 1 };
}

export type WorkerRequest =
  | { readonly kind: "events"; readonly items: Int32Array; readonly times: Float64Array }
  | { readonly kind: "recommend"; readonly id: number; readonly request: WorkerRecommendRequest };

export type WorkerReply =
  | { readonly kind: "ready"; readonly manifestSha256: string }
  | { readonly kind: "failed"; readonly message: string }
  | { readonly kind: "result"; readonly id: number; readonly items: RecommendedItem[] }
  | { readonly kind: "error"; readonly id: number; readonly name: string; readonly message: string };

export interface WorkerInit {
  readonly dir: string;
  readonly dataset: Dataset;
  readonly retrieval: RetrievalOptions | null;
  /** Events observed by the fallback Recommender after loading (the worker replays them first). */
  readonly laterItems: Int32Array;
  readonly laterTimes: Float64Array;
}

interface Pending {
  readonly request: RecommendRequest;
  readonly resolve: (items: RecommendedItem[]) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  alive: boolean;
}

/** The compiled worker: next to this file in dist/, or dist/'s copy when this file runs from src/ (vitest). */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const file = here.endsWith(".ts")
    ? join(resolve(dirname(here), "..", ".."), "dist", "src", "serve", "recommend-worker.js")
    : join(dirname(here), "recommend-worker.js");
  if (!existsSync(file))
    throw new ServeError(`recommendation worker ${file} is missing: run \`npm run build\``);
  return file;
}

export class RecommendWorkers {
  private nextId = 1;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly slots: Slot[],
    private readonly fallback: Recommender,
    private readonly onWorkerExit: (message: string) => void,
  ) {
    for (const slot of slots) {
      slot.worker.on("message", (m: WorkerReply) => this.settle(slot, m));
      slot.worker.on("error", (error) => this.lose(slot, `failed: ${error.message}`));
      slot.worker.on("exit", (code) => this.lose(slot, `exited with code ${code}`));
    }
  }

  /**
   * Starts `count` workers on `init` and waits until each has loaded the model; `manifestSha256`
   * is the fallback's model, which every worker must have loaded too.
   */
  static async start(
    count: number,
    init: WorkerInit,
    manifestSha256: string,
    fallback: Recommender,
    onWorkerExit: (message: string) => void = () => {},
  ): Promise<RecommendWorkers> {
    if (!(Number.isInteger(count) && count >= 1))
      throw new RangeError(`recommendation workers: count must be a positive integer, got ${count}`);
    const file = workerFile();
    const workers = Array.from({ length: count }, () => new Worker(file, { workerData: init }));
    try {
      await Promise.all(workers.map((w, i) => ready(w, i, manifestSha256)));
    } catch (error) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw error;
    }
    return new RecommendWorkers(
      workers.map((worker) => ({ worker, pending: new Map(), alive: true })),
      fallback,
      onWorkerExit,
    );
  }

  /** Workers still running. */
  get size(): number {
    return this.slots.filter((s) => s.alive).length;
  }

  /**
   * The list fallback.recommend gives for req restricted to allowMask's items (1 = allowed; req's
   * own `allow` is not used), computed on the least busy worker.
   */
  recommend(req: RecommendRequest, allowMask: Uint8Array | null): Promise<RecommendedItem[]> {
    const { allow: _allow, ...rest } = req;
    // What the fallback runs if no worker can: the mask as the predicate.
    const full = withAllowMask(rest, allowMask);
    let best: Slot | null = null;
    if (this.closing === null)
      for (const s of this.slots)
        if (s.alive && (best === null || s.pending.size < best.pending.size)) best = s;
    if (best === null) return Promise.resolve().then(() => this.fallback.recommend(full));
    const slot = best;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { request: full, resolve, reject });
      const message: WorkerRequest = { kind: "recommend", id, request: { ...rest, allowMask } };
      slot.worker.postMessage(message);
    });
  }

  /** Hands observed events to every worker (in order with the requests posted after them). */
  observeEvents(items: Int32Array, times: Float64Array): void {
    const message: WorkerRequest = { kind: "events", items, times };
    for (const s of this.slots) if (s.alive) s.worker.postMessage(message);
  }

  /** Lets the requests in flight finish, then stops the workers (later requests run in-process). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all(
        this.slots.map(
          (s) =>
            new Promise<void>((done) => {
              if (!s.alive || s.pending.size === 0) return done();
              const check = setInterval(() => {
                if (!s.alive || s.pending.size === 0) {
                  clearInterval(check);
                  done();
                }
              }, 5);
            }),
        ),
      );
      for (const s of this.slots) s.alive = false;
      await Promise.all(this.slots.map((s) => s.worker.terminate()));
    })();
    return this.closing;
  }

  private settle(slot: Slot, m: WorkerReply): void {
    if (m.kind !== "result" && m.kind !== "error") return;
    const p = slot.pending.get(m.id);
    if (p === undefined) return;
    slot.pending.delete(m.id);
    if (m.kind === "result") p.resolve(m.items);
    else {
      const error = m.name === "RangeError" ? new RangeError(m.message) : new Error(m.message);
      p.reject(error);
    }
  }

  /** A worker is gone: its requests in flight are answered in-process. */
  private lose(slot: Slot, why: string): void {
    if (!slot.alive) return;
    slot.alive = false;
    if (this.closing === null) this.onWorkerExit(`recommendation worker ${why}; its requests run in-process`);
    for (const [id, p] of slot.pending) {
      slot.pending.delete(id);
      try {
        p.resolve(this.fallback.recommend(p.request));
      } catch (error) {
        p.reject(error as Error);
      }
    }
  }
}

function ready(worker: Worker, index: number, manifestSha256: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (message: string) =>
      reject(new ServeError(`recommendation worker ${index + 1}: ${message}`));
    worker.once("message", (m: WorkerReply) => {
      worker.off("error", onError);
      worker.off("exit", onExit);
      if (m.kind === "failed") fail(m.message);
      else if (m.kind !== "ready") fail(`sent ${m.kind} before it was ready`);
      else if (m.manifestSha256 !== manifestSha256)
        fail(
          `loaded model ${m.manifestSha256.slice(0, 12)}, the service ${manifestSha256.slice(0, 12)} (changed on disk?)`,
        );
      else resolve();
    });
    const onError = (error: Error) => fail(error.message);
    const onExit = (code: number) => fail(`exited with code ${code} while loading`);
    worker.once("error", onError);
    worker.once("exit", onExit);
  });
}
