/**
 * A recommendation worker thread (src/serve/recommend-workers.ts starts it): loads the same model
 * directory against the same dataset as the service's own Recommender, replays the same events in
 * the same order, and answers `recommend` requests. Its lists are therefore the service's lists;
 * only the event loop they are computed on differs.
 */
import { parentPort, workerData } from "node:worker_threads";
import { readManifest } from "../engine/model-file/index.js";
import { Recommender } from "../models/ranking/recommender.js";
import { withAllowMask, type WorkerInit, type WorkerReply, type WorkerRequest } from "./recommend-workers.js";

const port = parentPort;
if (port === null)
  throw new Error("recommend-worker.js runs as a worker thread (src/serve/recommend-workers.ts)");

const send = (reply: WorkerReply): void => port.postMessage(reply);

let recommender: Recommender;
try {
  const init = workerData as WorkerInit;
  recommender =
    init.retrieval === null
      ? Recommender.load(init.dir, init.dataset)
      : Recommender.load(init.dir, init.dataset, undefined, init.retrieval);
  if (init.laterItems.length > 0) recommender.observeEvents(init.laterItems, init.laterTimes);
  send({ kind: "ready", manifestSha256: readManifest(init.dir).manifestSha256 });
} catch (error) {
  send({ kind: "failed", message: (error as Error).message });
  process.exit(1);
}

port.on("message", (m: WorkerRequest) => {
  if (m.kind === "events") {
    recommender.observeEvents(m.items, m.times);
    return;
  }
  const { allowMask, ...rest } = m.request;
  const req = withAllowMask(rest, allowMask);
  try {
    send({ kind: "result", id: m.id, items: recommender.recommend(req) });
  } catch (error) {
    const e = error as Error;
    send({ kind: "error", id: m.id, name: e.name, message: e.message });
  }
});
