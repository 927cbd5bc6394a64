/**
 * Service benchmark: `watchnext serve` started as a child process on loopback, loaded by autocannon
 * from this process (so the load generator shares the machine's cores with the server). Parts:
 *   - recs:    GET /v1/users/:id/recommendations for random users on the ml-100k model: latency
 *              p50/p99 at a fixed offered rate, and the closed-loop maximum throughput with its p99
 *              (docs: shared benchmarking.md — the two are different measurements);
 *   - catalog: the same on a ~100k-item synthetic catalog (`data synth`, a model trained for one
 *              epoch: latency does not depend on model quality);
 *   - ingest:  POST /v1/events, durable events/s for single events and for batches of 100, on
 *              SQLite and (with --postgres) PostgreSQL; after each run the store is reopened and
 *              every acknowledged event must be in it;
 *   - mixed:   60 s of reads and writes together: 0 errors and non-2xx required, server RSS
 *              recorded before/after and its growth bounded.
 * Models are trained by the benchmark (or passed with --model / --catalog-model). Results go to
 * bench/results/serving.json and docs/results/serving.md (generated from that JSON); --quick runs a
 * few seconds per measurement to check the plumbing and writes bench/results/serving-quick.json
 * only, never the doc.
 *
 *   node dist/bench/serve.js [--quick] [--parts recs,catalog,ingest,mixed] [--model DIR]
 *     [--data DIR] [--catalog-model DIR --catalog-data DIR] [--postgres URL|auto|none]
 *     [--work DIR] [--seconds N] [--mixed-seconds N] [--seed N]
 */
import { isMainModule, repoRoot, sourceRevision, writeBenchResult } from "./support.js";
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { Agent, request } from "node:http";
import { basename, join, relative, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { loadDataset } from "../src/data/load.js";
import { writeFileAtomic } from "../src/io/atomic.js";
import { Rng } from "../src/engine/rng.js";
import { openStore } from "../src/serve/store/open-store.js";

const ROOT = repoRoot();
const CLI = join(ROOT, "dist", "src", "cli", "main.js");
/** Said beside every figure (docs: benchmarking.md). */
function sharedCores(cores: number): string {
  return `the load generator shares the ${cores} cores with the server`;
}
const PARTS = ["recs", "workers", "catalog", "ingest", "mixed"] as const;
/** The worker settings the "workers" part compares with serve's default (the "recs" part). */
const WORKER_VARIANTS = [0, 1] as const;
type Part = (typeof PARTS)[number];

interface Options {
  quick: boolean;
  parts: Part[];
  model: string | null;
  data: string;
  catalogModel: string | null;
  catalogData: string | null;
  postgres: string;
  work: string | null;
  seconds: number;
  mixedSeconds: number;
  seed: number;
  /** Fixed offered rate: connections × per-connection rate (autocannon connectionRate). */
  rateConnections: number;
  connectionRate: number;
  /** Closed-loop connections for the throughput runs. */
  loopConnections: number;
  /** Allowed server RSS growth over the mixed run. */
  rssGrowthLimitMB: number;
  /** serve --workers (null: the service's default). */
  workers: number | null;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      parts: { type: "string", default: PARTS.join(",") },
      model: { type: "string" },
      data: { type: "string", default: resolve(ROOT, "..", "shared", "data", "ml-100k") },
      "catalog-model": { type: "string" },
      "catalog-data": { type: "string" },
      postgres: { type: "string", default: "auto" },
      work: { type: "string" },
      seconds: { type: "string" },
      "mixed-seconds": { type: "string" },
      seed: { type: "string", default: "1" },
      workers: { type: "string" },
    },
    strict: true,
  });
  const quick = values.quick === true;
  const int = (name: string, v: string | undefined, fallback: number): number => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`bench serve: --${name} must be a positive integer, got "${v}"`);
    return n;
  };
  const parts = (values.parts ?? "").split(",").filter((p) => p !== "");
  for (const p of parts) {
    if (!(PARTS as readonly string[]).includes(p)) {
      throw new Error(`bench serve: --parts: unknown part "${p}", expected some of ${PARTS.join(",")}`);
    }
  }
  if ((values["catalog-model"] === undefined) !== (values["catalog-data"] === undefined)) {
    throw new Error("bench serve: --catalog-model and --catalog-data go together (the model's dataset)");
  }
  return {
    quick,
    parts: parts as Part[],
    model: values.model === undefined ? null : resolve(values.model),
    data: resolve(values.data ?? ""),
    catalogModel: values["catalog-model"] === undefined ? null : resolve(values["catalog-model"]),
    catalogData: values["catalog-data"] === undefined ? null : resolve(values["catalog-data"]),
    postgres: values.postgres ?? "auto",
    work: values.work === undefined ? null : resolve(values.work),
    seconds: int("seconds", values.seconds, quick ? 2 : 20),
    mixedSeconds: int("mixed-seconds", values["mixed-seconds"], quick ? 5 : 60),
    seed: int("seed", values.seed, 1),
    rateConnections: 10,
    connectionRate: 50,
    loopConnections: 64,
    rssGrowthLimitMB: 100,
    workers: ((v) => {
      if (v === undefined) return null;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0)
        throw new Error(`bench serve: --workers must be a non-negative integer, got "${v}"`);
      return n;
    })(values.workers),
  };
}

// ---------------------------------------------------------------------------------------------
// The server child process.

interface Server {
  readonly url: string;
  readonly child: ChildProcess;
  readonly startSeconds: number;
  stop(): Promise<void>;
  /** VmRSS and VmHWM (peak) of the server process, MB. */
  rss(): { rssMB: number; peakMB: number };
  /** The tail of its stderr, for error messages. */
  stderr(): string;
}

async function startServer(args: string[], timeoutMs: number, workers: number | null): Promise<Server> {
  const started = process.hrtime.bigint();
  const threads = workers === null ? [] : ["--workers", String(workers)];
  const child = spawn(
    process.execPath,
    [CLI, "serve", ...args, ...threads, "--port", "0", "--host", "127.0.0.1"],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env },
    },
  );
  let errTail = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    errTail = (errTail + chunk).slice(-4000);
  });
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const url = await new Promise<string>((done, fail) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(
        new Error(
          `bench serve: server did not report "listening on" within ${timeoutMs / 1000} s\n${errTail}`,
        ),
      );
    }, timeoutMs);
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      out += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        done(m[1].replace(/\/$/, ""));
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`bench serve: server exited (${code ?? signal}) before listening:\n${errTail}`));
    });
  });
  const startSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const pid = child.pid ?? -1;
  return {
    url,
    child,
    startSeconds,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
    rss() {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const kb = (field: string): number =>
        Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
      return { rssMB: kb("VmRSS") / 1024, peakMB: kb("VmHWM") / 1024 };
    },
    stderr: () => errTail,
  };
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`bench serve: GET ${url} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

// ---------------------------------------------------------------------------------------------
// Load generation.

interface RequestSpec {
  readonly method: "GET" | "POST";
  /** Called for every request: its path and (POST) JSON body. */
  next(): { path: string; body?: string };
}

interface LoadOptions {
  readonly connections: number;
  /** Per-connection requests per second (autocannon connectionRate); omitted: closed loop. */
  readonly connectionRate?: number;
  readonly seconds: number;
}

interface LoadResult {
  connections: number;
  connectionRate: number | null;
  offeredRate: number | null;
  seconds: number;
  requests: number;
  /** Responses per second over the run (2xx and others). */
  achievedRate: number;
  non2xx: number;
  /** The non-2xx responses by status, with the first body of each (for the error message). */
  non2xxByStatus: Record<string, { count: number; body: string }>;
  errors: number;
  timeouts: number;
  /** Latency percentiles in ms, exact, from every response's own timing (autocannon's histogram keeps whole ms). */
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function load(url: string, specs: readonly RequestSpec[], o: LoadOptions): Promise<LoadResult> {
  const samples: number[] = [];
  const byStatus: Record<string, { count: number; body: string }> = {};
  const requests = specs.map((spec) => ({
    method: spec.method,
    headers: spec.method === "POST" ? { "content-type": "application/json" } : {},
    setupRequest: (req: autocannon.Request): autocannon.Request => {
      const { path, body } = spec.next();
      return body === undefined ? { ...req, path } : { ...req, path, body };
    },
  }));
  const result = await new Promise<autocannon.Result>((done, fail) => {
    const instance = autocannon(
      {
        url,
        connections: o.connections,
        duration: o.seconds,
        ...(o.connectionRate === undefined ? {} : { connectionRate: o.connectionRate }),
        requests,
        timeout: 10,
      },
      (err, res) => (err ? fail(err) : done(res)),
    );
    instance.on("response", (client: unknown, status: number, _bytes: number, responseTime: number) => {
      samples.push(responseTime);
      if (status < 200 || status > 299) {
        const seen = (byStatus[status] ??= { count: 0, body: "" });
        seen.count++;
        if (seen.body === "") {
          (client as { parser?: unknown; resData?: { body?: string }[] }).resData?.forEach((d) => {
            if (seen.body === "" && typeof d.body === "string") seen.body = d.body.slice(0, 300);
          });
        }
      }
    });
  });
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const s of sorted) sum += s;
  return {
    connections: o.connections,
    connectionRate: o.connectionRate ?? null,
    offeredRate: o.connectionRate === undefined ? null : o.connectionRate * o.connections,
    seconds: o.seconds,
    requests: sorted.length,
    achievedRate: sorted.length / o.seconds,
    non2xx: result.non2xx,
    non2xxByStatus: byStatus,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyMs: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      p999: percentile(sorted, 99.9),
      max: sorted.length > 0 ? sorted[sorted.length - 1] : Number.NaN,
      mean: sorted.length > 0 ? sum / sorted.length : Number.NaN,
    },
  };
}

/**
 * An open-loop load at a truly fixed rate: request i is sent at t0 + i/rate whatever happened to
 * the earlier ones (up to `maxSockets` in flight), and its latency counts from that scheduled time,
 * so a stalled server cannot hide its queue (no coordinated omission). autocannon's connectionRate
 * instead lets each connection send its quota for the second back to back and then pause.
 */
async function paced(url: string, spec: RequestSpec, rate: number, seconds: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const target = new URL(url);
  const total = Math.round(rate * seconds);
  const latencies = new Float64Array(total);
  let non2xx = 0;
  let errors = 0;
  let done = 0;
  const t0 = performance.now() + 20;
  await new Promise<void>((finish) => {
    const send = (i: number): void => {
      const scheduled = t0 + (i * 1000) / rate;
      const { path, body } = spec.next();
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path,
          method: spec.method,
          agent,
          headers:
            body === undefined
              ? {}
              : { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            latencies[i] = performance.now() - scheduled;
            if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode >= 300) non2xx++;
            if (++done === total) finish();
          });
        },
      );
      req.on("error", () => {
        latencies[i] = performance.now() - scheduled;
        errors++;
        if (++done === total) finish();
      });
      req.end(body);
    };
    let next = 0;
    const tick = (): void => {
      const now = performance.now();
      while (next < total && t0 + (next * 1000) / rate <= now) send(next++);
      if (next < total) setTimeout(tick, Math.max(0, t0 + (next * 1000) / rate - performance.now()));
    };
    setTimeout(tick, 20);
  });
  agent.destroy();
  const sorted = latencies.sort();
  let sum = 0;
  for (const x of sorted) sum += x;
  return {
    connections: 64,
    connectionRate: null,
    offeredRate: rate,
    seconds,
    requests: total,
    achievedRate: total / ((performance.now() - t0) / 1000),
    non2xx,
    non2xxByStatus: {},
    errors,
    timeouts: 0,
    latencyMs: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      p999: percentile(sorted, 99.9),
      max: sorted[sorted.length - 1],
      mean: sum / sorted.length,
    },
  };
}

/** Random users' recommendation requests (seeded). */
function recsSpec(userIds: readonly string[], rng: Rng, k = 10): RequestSpec {
  return {
    method: "GET",
    next: () => ({
      path: `/v1/users/${encodeURIComponent(userIds[rng.nextInt(userIds.length)])}/recommendations?k=${k}`,
    }),
  };
}

/** Event batches of `batch` random (user, item) pairs, stamped now (seeded). */
function eventsSpec(
  userIds: readonly string[],
  itemIds: readonly string[],
  rng: Rng,
  batch: number,
): RequestSpec {
  return {
    method: "POST",
    next: () => {
      const events = [];
      for (let i = 0; i < batch; i++) {
        events.push({
          user: userIds[rng.nextInt(userIds.length)],
          item: itemIds[rng.nextInt(itemIds.length)],
        });
      }
      return { path: "/v1/events", body: JSON.stringify({ events }) };
    },
  };
}

/** A short closed-loop warm-up (JIT, caches, SQLite pages), not recorded. */
async function warmUp(url: string, specs: readonly RequestSpec[], quick: boolean): Promise<LoadResult> {
  const r = await load(url, specs, { connections: 8, seconds: quick ? 1 : 3 });
  checkClean(`warm-up against ${url}`, r);
  return r;
}

function checkClean(what: string, r: LoadResult): void {
  if (r.errors > 0 || r.non2xx > 0 || r.timeouts > 0) {
    throw new Error(
      `bench serve: ${what}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx responses ${JSON.stringify(r.non2xxByStatus)}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Models and data.

interface ModelAndData {
  readonly model: string;
  readonly data: string;
  /** How the model was obtained (the command, or "given"). */
  readonly origin: string;
}

function cli(args: string[]): void {
  execFileSync(process.execPath, [CLI, ...args], { stdio: ["ignore", "ignore", "inherit"] });
}

/** Trains with the two-stage `train` when this build has it, else the candidate generator. */
/**
 * Trains the model a part serves: both stages (`watchnext train`) for the ml-100k parts; the
 * candidate generator alone (`train candidates`, `epochs` epochs) for the synthetic catalog, whose
 * point is stage one's retrieval at ~100k items (exact vs HNSW).
 */
function trainModel(
  data: string,
  out: string,
  seed: number,
  epochs: number | null,
  stages: "two" | "candidates",
): string {
  if (existsSync(join(out, "manifest.json"))) return `reused ${out}`;
  const config = epochs === null ? [] : ["--config", JSON.stringify({ train: { epochs } })];
  const args =
    stages === "two"
      ? ["train", "--data", data, "--out", out, "--seed", String(seed), "--quiet"]
      : ["train", "candidates", "--data", data, "--out", out, "--seed", String(seed), "--quiet", ...config];
  cli(args);
  return `watchnext ${args.map((a) => (a.startsWith("{") ? `'${a}'` : a)).join(" ")}`;
}

function ml100kModel(o: Options, work: string): ModelAndData {
  if (o.model !== null) return { model: o.model, data: o.data, origin: "given (--model)" };
  const out = join(work, o.quick ? "ml-100k-model-quick" : "ml-100k-model");
  return {
    model: out,
    data: o.data,
    origin: trainModel(o.data, out, o.seed, o.quick ? 1 : null, o.quick ? "candidates" : "two"),
  };
}

/** A synthetic catalog of ~100k items (20k in --quick) and a one-epoch model on it. */
function catalogModel(o: Options, work: string): ModelAndData {
  if (o.catalogModel !== null && o.catalogData !== null) {
    return { model: o.catalogModel, data: o.catalogData, origin: "given (--catalog-model)" };
  }
  // With ~10 events per item, ~83% of the items occur in the events (the catalog is the items with events).
  const [users, items, events] = o.quick ? ["2000", "25000", "200000"] : ["8000", "125000", "1000000"];
  const data = join(work, o.quick ? "synth-catalog-quick" : "synth-catalog");
  if (!existsSync(join(data, "ratings.csv"))) {
    cli([
      "data",
      "synth",
      "--out",
      data,
      "--users",
      users,
      "--items",
      items,
      "--events",
      events,
      "--seed",
      String(o.seed),
    ]);
  }
  const out = join(work, o.quick ? "synth-catalog-model-quick" : "synth-catalog-model");
  const origin = trainModel(data, out, o.seed, 1, "candidates");
  return {
    model: out,
    data,
    origin: `watchnext data synth --users ${users} --items ${items} --events ${events} --seed ${o.seed}; ${origin}`,
  };
}

async function ids(data: string): Promise<{ users: readonly string[]; items: readonly string[] }> {
  const d = await loadDataset(data);
  return { users: d.users.ids, items: d.items.ids };
}

// ---------------------------------------------------------------------------------------------
// The parts.

interface RecsResult {
  dataset: string;
  modelOrigin: string;
  /** What the server says about its model (GET /v1/model), minus the card. */
  model: Record<string, unknown>;
  numUsers: number;
  numItems: number;
  /** The retrieval index asked for with serve --exact-below ("default": the server's own choice). */
  index: "default" | "exact" | "hnsw";
  serverStartSeconds: number;
  k: number;
  /** autocannon, rateConnections × connectionRate (docs: benchmarking.md). */
  fixedRate: LoadResult;
  /** The same offered rate, paced evenly by the benchmark's own open-loop client. */
  paced: LoadResult;
  closedLoop: LoadResult;
}

async function recsPart(
  o: Options,
  m: ModelAndData,
  work: string,
  name: string,
  index: RecsResult["index"] = "default",
  workers: number | null = o.workers,
): Promise<RecsResult> {
  const { users, items } = await ids(m.data);
  const store = join(work, `${name}.db`);
  rmSync(store, { force: true });
  // --exact-below 0: every catalog size is "above", so HNSW; past the catalog size: exact.
  // The HNSW build is cached in the work directory: a first run's start includes the build, a
  // rerun with the same --work reuses it.
  const exactBelow = {
    default: [],
    hnsw: ["--exact-below", "0", "--index-cache", join(work, `${name}.hnsw`)],
    exact: ["--exact-below", String(items.length + 1)],
  }[index];
  const server = await startServer(
    ["--model", m.model, "--data", m.data, "--store", `sqlite:${store}`, ...exactBelow],
    900_000,
    workers,
  );
  try {
    const info = (await getJson(`${server.url}/v1/model`)) as Record<string, unknown>;
    const { card: _card, genres: _genres, ...model } = info;
    const rng = new Rng(o.seed);
    const spec = recsSpec(users, rng);
    // One request checked by hand: a full list of k items.
    const sample = (await getJson(`${server.url}${spec.next().path}`)) as { items?: unknown[] };
    if (!Array.isArray(sample.items) || sample.items.length !== 10) {
      throw new Error(
        `bench serve: ${name}: a recommendation request returned ${JSON.stringify(sample).slice(0, 300)}`,
      );
    }
    await warmUp(server.url, [spec], o.quick);
    const fixedRate = await load(server.url, [spec], {
      connections: o.rateConnections,
      connectionRate: o.connectionRate,
      seconds: o.seconds,
    });
    checkClean(`${name} fixed rate`, fixedRate);
    const evenly = await paced(server.url, spec, o.rateConnections * o.connectionRate, o.seconds);
    checkClean(`${name} paced`, evenly);
    const closedLoop = await load(server.url, [spec], { connections: o.loopConnections, seconds: o.seconds });
    checkClean(`${name} closed loop`, closedLoop);
    for (const [what, l] of [
      ["paced open loop", evenly],
      ["autocannon connectionRate", fixedRate],
      ["closed loop", closedLoop],
    ] as const) {
      console.log(
        `bench serve: ${name} ${what} (${l.connections} connections, offered ${l.offeredRate === null ? "max" : f0(l.offeredRate)} req/s): ` +
          `achieved ${f0(l.achievedRate)} req/s, p50 ${f2(l.latencyMs.p50)} ms, p99 ${f2(l.latencyMs.p99)} ms`,
      );
    }
    return {
      dataset: describePath(m.data),
      modelOrigin: m.origin,
      model,
      numUsers: users.length,
      numItems: items.length,
      index,
      serverStartSeconds: server.startSeconds,
      k: 10,
      fixedRate,
      paced: evenly,
      closedLoop,
    };
  } finally {
    await server.stop();
  }
}

interface IngestRow {
  store: "sqlite" | "postgres";
  batch: number;
  connections: number;
  requests: number;
  requestsPerSecond: number;
  /** Acknowledged (durable) events per second. */
  eventsPerSecond: number;
  latencyMs: LoadResult["latencyMs"];
  /** Events in the store after the run minus before (warm-up included), read back with the server stopped. */
  eventsStored: number;
  /** Events acknowledged with a 200 during the warm-up and the run. */
  eventsAcknowledged: number;
}

async function ingestPart(
  o: Options,
  m: ModelAndData,
  work: string,
  postgres: string | null,
): Promise<IngestRow[]> {
  const { users, items } = await ids(m.data);
  const rows: IngestRow[] = [];
  const sqliteFile = join(work, "ingest.db");
  const stores: { kind: "sqlite" | "postgres"; spec: string }[] = [
    { kind: "sqlite", spec: `sqlite:${sqliteFile}` },
  ];
  if (postgres !== null) stores.push({ kind: "postgres", spec: postgres });
  const serverArgs = (spec: string): string[] => ["--model", m.model, "--data", m.data, "--store", spec];
  for (const { kind, spec } of stores) {
    if (kind === "sqlite") rmSync(sqliteFile, { force: true });
    else await resetPostgres(spec);
    // Seed the store once, so the event counts below compare runs on the same seeded store.
    await (await startServer(serverArgs(spec), 300_000, o.workers)).stop();
    for (const batch of [1, 100]) {
      const before = await storedEvents(spec);
      const server = await startServer(serverArgs(spec), 300_000, o.workers);
      let result: LoadResult;
      let warmUpRequests: number;
      try {
        const rng = new Rng(o.seed + batch);
        const events = eventsSpec(users, items, rng, batch);
        warmUpRequests = (await warmUp(server.url, [events], o.quick)).requests;
        result = await load(server.url, [events], { connections: o.loopConnections, seconds: o.seconds });
        checkClean(`ingest ${kind} batch ${batch}`, result);
      } finally {
        await server.stop();
      }
      const stored = (await storedEvents(spec)) - before;
      const acknowledged = (warmUpRequests + result.requests) * batch;
      rows.push({
        store: kind,
        batch,
        connections: o.loopConnections,
        requests: result.requests,
        requestsPerSecond: result.achievedRate,
        eventsPerSecond: result.achievedRate * batch,
        latencyMs: result.latencyMs,
        eventsStored: stored,
        eventsAcknowledged: acknowledged,
      });
      // At least: requests still in flight when the load stopped may be stored without an acknowledgement seen.
      if (stored < acknowledged) {
        throw new Error(
          `bench serve: ingest ${kind} batch ${batch}: ${acknowledged} events acknowledged, only ${stored} in the store`,
        );
      }
    }
  }
  return rows;
}

/** Events in the store (read with no server running). */
async function storedEvents(spec: string): Promise<number> {
  const store = await openStore(spec);
  try {
    return (await store.counts()).events;
  } finally {
    await store.close();
  }
}

/** An empty database for the PostgreSQL runs: drops the service's tables (it recreates them). */
async function resetPostgres(spec: string): Promise<void> {
  const pg = (await import("pg")).default;
  const client = new pg.Client({ connectionString: spec });
  await client.connect();
  try {
    const { rows } = await client.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
    );
    for (const { tablename } of rows) await client.query(`DROP TABLE IF EXISTS "${tablename}" CASCADE`);
  } finally {
    await client.end();
  }
}

interface MixedResult {
  seconds: number;
  connections: number;
  /** Requests per cycle of each connection: 4 recommendation reads, 1 event write. */
  mix: string;
  load: LoadResult;
  rssBeforeMB: number;
  rssAfterMB: number;
  peakRssMB: number;
  rssGrowthMB: number;
  rssGrowthLimitMB: number;
  /** V8 heap in use before/after (the server's /metrics), to tell retained objects from allocator slack. */
  heapUsedBeforeMB: number;
  heapUsedAfterMB: number;
  passed: boolean;
}

/** nodejs_heap_size_used_bytes from the server's Prometheus metrics, MB (NaN when absent). */
async function heapUsedMB(url: string): Promise<number> {
  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  const m = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([0-9.e+]+)$/m.exec(text);
  return m === null ? Number.NaN : Number(m[1]) / 2 ** 20;
}

async function mixedPart(o: Options, m: ModelAndData, work: string): Promise<MixedResult> {
  const { users, items } = await ids(m.data);
  const store = join(work, "mixed.db");
  rmSync(store, { force: true });
  const server = await startServer(
    ["--model", m.model, "--data", m.data, "--store", `sqlite:${store}`],
    300_000,
    o.workers,
  );
  try {
    const rng = new Rng(o.seed + 7);
    const read = recsSpec(users, rng);
    const write = eventsSpec(users, items, rng, 1);
    const specs = [read, read, write, read, read];
    await warmUp(server.url, specs, o.quick);
    const heapBefore = await heapUsedMB(server.url);
    const before = server.rss();
    const r = await load(server.url, specs, { connections: 16, seconds: o.mixedSeconds });
    const after = server.rss();
    const heapAfter = await heapUsedMB(server.url);
    const growth = after.rssMB - before.rssMB;
    const passed = r.errors === 0 && r.non2xx === 0 && r.timeouts === 0 && growth < o.rssGrowthLimitMB;
    return {
      seconds: o.mixedSeconds,
      connections: 16,
      mix: "per connection, in turn: read, read, write (1 event), read, read",
      load: r,
      rssBeforeMB: before.rssMB,
      rssAfterMB: after.rssMB,
      peakRssMB: after.peakMB,
      rssGrowthMB: growth,
      rssGrowthLimitMB: o.rssGrowthLimitMB,
      heapUsedBeforeMB: heapBefore,
      heapUsedAfterMB: heapAfter,
      passed,
    };
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL for the ingest part.

interface Postgres {
  readonly url: string | null;
  readonly note: string;
  stop(): void;
}

function postgres(o: Options): Postgres {
  const none = (note: string): Postgres => ({ url: null, note, stop: () => {} });
  if (o.postgres === "none") return none("not run (--postgres none)");
  if (o.postgres !== "auto") return { url: o.postgres, note: "given (--postgres)", stop: () => {} };
  const script = join(ROOT, "scripts", "start-test-postgres.sh");
  if (!existsSync(script)) return none("not run (no scripts/start-test-postgres.sh)");
  const started = spawnSync("bash", [script], { encoding: "utf8" });
  const url = started.stdout.trim().split("\n").pop() ?? "";
  const dir = /cluster in (\S+) on/.exec(started.stderr)?.[1];
  if (started.status !== 0 || !url.startsWith("postgres://") || dir === undefined) {
    throw new Error(
      `bench serve: could not start PostgreSQL (pass --postgres none to skip it): ${started.stderr}`,
    );
  }
  return {
    url,
    note: "throwaway local cluster from scripts/start-test-postgres.sh (fsync on)",
    stop: () => {
      spawnSync("bash", [script, "stop", dir], { stdio: "ignore" });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Results.

export interface ServingResult {
  benchmark: "serving";
  quick: boolean;
  date: string;
  commit: string;
  command: string;
  machine: { cpu: string; cores: number; memoryGB: number; loadAverageAtStart: number[]; node: string };
  note: string;
  config: Omit<Options, "parts"> & { parts: string[] };
  recs?: RecsResult;
  /** The ml-100k recommendations again at --workers 0 and 1 (the "workers" part). */
  recsWorkers?: RecsResult[];
  /** The synthetic catalog with HNSW and with exact search. */
  catalog?: RecsResult[];
  ingest?: { postgres: string; rows: IngestRow[] };
  mixed?: MixedResult;
}

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : "–");
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : "–");
const f0 = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–");

const capital = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** The issue's "done when" figures against the measured ones. */
function targets(r: ServingResult): string[] {
  const rows: string[] = [];
  const yes = (ok: boolean): string => (ok ? "yes" : "**no**");
  if (r.recs !== undefined) {
    // The target is judged on the paced open loop (a constant offered rate); autocannon's
    // connectionRate row is reported beside it, marked as the bursty load it is.
    for (const [what, l, judged] of [
      ["paced open loop", r.recs.paced, true],
      ["autocannon connectionRate, bursty: for reference", r.recs.fixedRate, false],
    ] as const) {
      const ok = l.latencyMs.p99 <= 10 && l.achievedRate >= 500 * 0.98;
      rows.push(
        `| ml-100k recommendations: p99 ≤ 10 ms at ≥ 500 req/s (${what}) | p99 ${f2(l.latencyMs.p99)} ms at ${f0(l.achievedRate)} req/s | ${judged ? yes(ok) : ok ? "(yes)" : "(no)"} |`,
      );
    }
  }
  const batch = r.ingest?.rows.find((row) => row.store === "sqlite" && row.batch === 100);
  if (batch !== undefined) {
    rows.push(
      `| durable ingestion ≥ 5,000 events/s in batches of 100 on SQLite | ${f0(batch.eventsPerSecond)} events/s | ${yes(batch.eventsPerSecond >= 5000)} |`,
    );
  }
  if (r.mixed !== undefined) {
    const l = r.mixed.load;
    rows.push(
      `| ${r.mixed.seconds} s mixed load: 0 errors, RSS growth < ${r.mixed.rssGrowthLimitMB} MB | ${l.errors + l.timeouts + l.non2xx} errors, +${f1(r.mixed.rssGrowthMB)} MB | ${yes(r.mixed.passed)} |`,
    );
  }
  if (rows.length === 0) return [];
  return ["## Against the issue's targets", "", "| target | measured | met |", "|---|---|---|", ...rows, ""];
}

/** A data path for the results: relative to the repository when near it, else marked as the work dir's. */
function describePath(path: string): string {
  const rel = relative(ROOT, path);
  return rel.startsWith("../../")
    ? `\`${basename(path)}\` (generated in the benchmark's work directory)`
    : `\`${rel}\``;
}

/** docs/results/serving.md, generated from the result so the figures never drift from the JSON. */
export function servingDoc(r: ServingResult): string {
  const shared = sharedCores(r.machine.cores);
  const lines: string[] = [
    "# Serving: latency, throughput, ingestion, mixed load",
    "",
    "<!-- Generated by bench/serve.ts from bench/results/serving.json: do not edit by hand. -->",
    "",
    `Command: \`${r.command}\`. Commit ${r.commit}, ${r.date}.`,
    `Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGB} GB, Node ${r.machine.node};`,
    `load average at start ${r.machine.loadAverageAtStart.map(f2).join(" / ")}.`,
    "",
    `**The load generator (autocannon, in the benchmark process) shares the ${r.machine.cores} cores with the server**:`,
    "every figure below includes that competition. Server: `watchnext serve` as a child process on",
    "127.0.0.1, SQLite store (WAL, synchronous=FULL) unless marked PostgreSQL. Latencies are exact",
    "percentiles of every response's own timing.",
    "",
    "Two measurements, never mixed (docs: benchmarking.md): **latency** at a fixed offered rate of",
    `${r.config.rateConnections * r.config.connectionRate} req/s, and **throughput**, the closed-loop maximum at`,
    `${r.config.loopConnections} connections, whose latency is mostly queueing (Little's law). The latency that`,
    "counts is the *paced open loop*: one request every 1/rate s whatever the earlier ones did (up to",
    "64 sockets), each timed from its scheduled send time, so a stall cannot hide its queue (no",
    "coordinated omission), as wrk2 or k6's constant-arrival-rate would offer it. The autocannon row",
    `(${r.config.rateConnections} connections × \`connectionRate\` ${r.config.connectionRate}) is kept for reference: autocannon lets each`,
    "connection send its quota for the second back to back, then pause, so every second starts with",
    `${r.config.rateConnections} requests in flight at once and its p50 is about ${r.config.rateConnections} service times by construction.`,
    "",
    ...targets(r),
  ];
  const recsRuns: [string, RecsResult][] = [];
  if (r.recs !== undefined) recsRuns.push(["Recommendations on the ml-100k model", r.recs]);
  for (const c of r.catalog ?? []) {
    recsRuns.push([
      `Recommendations on a ~100k-item synthetic catalog, ${c.index === "exact" ? "exact top-k" : "HNSW"}`,
      c,
    ]);
  }
  for (const [title, rec] of recsRuns) {
    const reported = typeof rec.model.index === "string" ? rec.model.index : "not reported by the server";
    const index =
      rec.index === "default" ? reported : `${rec.index} (serve --exact-below; server reports ${reported})`;
    lines.push(
      `## ${title}`,
      "",
      `Data ${rec.dataset}: ${f0(rec.numUsers)} users, ${f0(rec.numItems)} items. Model: ${rec.modelOrigin}`,
      `(ranker: ${String(rec.model.hasRanker ?? "unknown")}; retrieval index: ${index}; recommendation workers: ${String(rec.model.workers ?? "unknown")}). Server start (load + seed) ${f1(rec.serverStartSeconds)} s.`,
      `Request: \`GET /v1/users/:id/recommendations?k=${rec.k}\`, a random user each time (seed ${r.config.seed}).`,
      "",
      "| measurement | connections | offered req/s | achieved req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors / non-2xx |",
      "|---|---|---|---|---|---|---|---|---|---|",
    );
    for (const [what, l] of [
      ["latency at a fixed rate (paced open loop)", rec.paced],
      ["latency at a fixed rate (autocannon connectionRate, bursty)", rec.fixedRate],
      ["closed-loop throughput", rec.closedLoop],
    ] as const) {
      lines.push(
        `| ${what} | ${l.connections} | ${l.offeredRate === null ? "max" : f0(l.offeredRate)} | ${f0(l.achievedRate)} | ${f2(l.latencyMs.p50)} | ${f2(l.latencyMs.p90)} | ${f2(l.latencyMs.p99)} | ${f2(l.latencyMs.p999)} | ${f1(l.latencyMs.max)} | ${l.errors} / ${l.non2xx} |`,
      );
    }
    lines.push("", `${capital(shared)}. Each run lasts ${r.config.seconds} s after a warm-up.`, "");
  }
  if (r.recsWorkers !== undefined && r.recs !== undefined) {
    lines.push(
      "## Recommendation workers (ml-100k)",
      "",
      "The same ml-100k runs at each `serve --workers` setting (0: the model runs on the event loop).",
      "",
      "| recommendation workers | paced p50 ms | paced p99 ms | paced p99.9 ms | closed-loop req/s | closed-loop p50 ms |",
      "|---|---|---|---|---|---|",
    );
    const byWorkers = [r.recs, ...r.recsWorkers].sort(
      (a, b) => Number(a.model.workers ?? 0) - Number(b.model.workers ?? 0),
    );
    for (const rec of byWorkers)
      lines.push(
        `| ${String(rec.model.workers ?? "unknown")}${rec === r.recs ? ` (${r.config.workers === null ? "serve's default" : "--workers"})` : ""} | ${f2(rec.paced.latencyMs.p50)} | ${f2(rec.paced.latencyMs.p99)} | ${f2(rec.paced.latencyMs.p999)} | ${f0(rec.closedLoop.achievedRate)} | ${f2(rec.closedLoop.latencyMs.p50)} |`,
      );
    lines.push("", `${capital(shared)}.`, "");
  }
  if (r.ingest !== undefined) {
    lines.push(
      "## Event ingestion (durable)",
      "",
      `\`POST /v1/events\`, random known users and items, ${r.config.loopConnections} connections in a closed loop, ${r.config.seconds} s each.`,
      "An event counts once its response (200) arrived, which the service sends only after the transaction is durable;",
      "after each run the store is reopened and must hold at least every acknowledged event.",
      `PostgreSQL: ${r.ingest.postgres}.`,
      "",
      "| store | events per request | requests/s | durable events/s | p50 ms | p99 ms | acknowledged | in the store |",
      "|---|---|---|---|---|---|---|---|",
    );
    for (const row of r.ingest.rows) {
      lines.push(
        `| ${row.store} | ${row.batch} | ${f0(row.requestsPerSecond)} | ${f0(row.eventsPerSecond)} | ${f2(row.latencyMs.p50)} | ${f2(row.latencyMs.p99)} | ${f0(row.eventsAcknowledged)} | ${f0(row.eventsStored)} |`,
      );
    }
    lines.push("", `${capital(shared)}.`, "");
  }
  if (r.mixed !== undefined) {
    const m = r.mixed;
    lines.push(
      "## Mixed load",
      "",
      `${m.seconds} s, ${m.connections} connections in a closed loop, ${m.mix}; SQLite store, ml-100k model.`,
      "",
      "| requests | req/s | p50 ms | p99 ms | errors | non-2xx | timeouts | RSS before → after MB | peak RSS MB | RSS growth MB (limit) | V8 heap used before → after MB | passed |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|",
      `| ${f0(m.load.requests)} | ${f0(m.load.achievedRate)} | ${f2(m.load.latencyMs.p50)} | ${f2(m.load.latencyMs.p99)} | ${m.load.errors} | ${m.load.non2xx} | ${m.load.timeouts} | ${f1(m.rssBeforeMB)} → ${f1(m.rssAfterMB)} | ${f1(m.peakRssMB)} | ${f1(m.rssGrowthMB)} (< ${m.rssGrowthLimitMB}) | ${f1(m.heapUsedBeforeMB)} → ${f1(m.heapUsedAfterMB)} | ${m.passed ? "yes" : "**no**"} |`,
      "",
      `${capital(shared)}.`,
      "",
    );
  }
  return lines.join("\n");
}

/** The one place results are written: the JSON (and, for a full run, the doc generated from it). */
function record(result: ServingResult, args: readonly string[]): string {
  const path = writeBenchResult(
    {
      benchmark: "serve",
      args: args.filter((a) => a !== "--quick"),
      quick: result.quick,
      config: result.config,
    },
    result,
    result.quick ? "serving-quick.json" : "serving.json",
  );
  if (!result.quick) writeFileAtomic(join(ROOT, "docs", "results", "serving.md"), servingDoc(result));
  return path;
}

// ---------------------------------------------------------------------------------------------

export async function run(args: string[]): Promise<ServingResult> {
  const o = parseOptions(args);
  if (!existsSync(CLI)) throw new Error(`bench serve: ${CLI} is missing (npm run build first)`);
  const work = o.work ?? mkdtempSync(join(tmpdir(), "watchnext-bench-serve-"));
  mkdirSync(work, { recursive: true });
  const result: ServingResult = {
    benchmark: "serving",
    quick: o.quick,
    date: new Date().toISOString(),
    commit: ((r) => (r.dirty ? `${r.commit} (with uncommitted changes)` : r.commit))(sourceRevision()),
    command: `node dist/bench/serve.js ${args.join(" ")}`.trim(),
    machine: {
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      memoryGB: Math.round(totalmem() / 2 ** 30),
      loadAverageAtStart: loadavg(),
      node: process.version,
    },
    note: sharedCores(cpus().length),
    config: { ...o, parts: o.parts },
  };
  const pg = o.parts.includes("ingest") ? postgres(o) : null;
  try {
    const ml100k = o.parts.some((p) => p !== "catalog") ? ml100kModel(o, work) : null;
    if (o.parts.includes("recs") && ml100k !== null) {
      console.log("bench serve: recommendations on ml-100k");
      result.recs = await recsPart(o, ml100k, work, "recs");
    }
    if (o.parts.includes("workers") && ml100k !== null) {
      result.recsWorkers = [];
      for (const w of WORKER_VARIANTS) {
        console.log(`bench serve: recommendations on ml-100k with --workers ${w}`);
        result.recsWorkers.push(await recsPart(o, ml100k, work, `recs-workers-${w}`, "default", w));
      }
    }
    if (o.parts.includes("catalog")) {
      console.log("bench serve: recommendations on the synthetic catalog (data + one-epoch model first)");
      const catalog = catalogModel(o, work);
      result.catalog = [
        await recsPart(o, catalog, work, "catalog-hnsw", "hnsw"),
        await recsPart(o, catalog, work, "catalog-exact", "exact"),
      ];
    }
    if (o.parts.includes("ingest") && ml100k !== null) {
      console.log("bench serve: event ingestion");
      const rows = await ingestPart(o, ml100k, work, pg?.url ?? null);
      result.ingest = { postgres: pg?.note ?? "not run", rows };
    }
    if (o.parts.includes("mixed") && ml100k !== null) {
      console.log(`bench serve: ${o.mixedSeconds} s mixed load`);
      result.mixed = await mixedPart(o, ml100k, work);
    }
  } finally {
    pg?.stop();
    if (o.work === null) rmSync(work, { recursive: true, force: true });
  }
  const path = record(result, args);
  console.log(`bench serve: wrote ${relative(ROOT, path)}${o.quick ? "" : " and docs/results/serving.md"}`);
  if (result.mixed !== undefined && !result.mixed.passed) {
    throw new Error(
      `bench serve: mixed load failed: ${result.mixed.load.errors} errors, ${result.mixed.load.non2xx} non-2xx, RSS growth ${f1(result.mixed.rssGrowthMB)} MB (limit ${result.mixed.rssGrowthLimitMB})`,
    );
  }
  return result;
}

if (isMainModule(import.meta.url)) {
  await run(process.argv.slice(2));
}
