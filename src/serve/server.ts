/**
 * The HTTP service on fastify: opens (and if asked, seeds) the store, loads the model, registers
 * the /v1 routes with their JSON schemas (requests validated on the way in, every response
 * validated on the way out), the web page, /openapi.json, health, readiness and metrics. A route
 * parses its input, calls the Service and answers; errors become `{statusCode, error, message}`
 * bodies that say what was wrong.
 */
import { Ajv } from "ajv";
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import { STATUS_CODES } from "node:http";
import { loadDataset } from "../data/load.js";
import { bearerChecker } from "./auth.js";
import { ServiceMetrics } from "./metrics.js";
import { openApiDocument } from "./openapi.js";
import { DEFAULT_WORKERS } from "./recommend-workers.js";
import { routes, type RouteSpec } from "./schemas.js";
import { HttpError, Service, type RecOptions } from "./service.js";
import { describeStore, openStore } from "./store/open-store.js";
import { seedDataFromDataset } from "./store/seed.js";
import { UnknownItemsError, type EventInput, type Store } from "./store/store.js";
import { webRoutes } from "./web/index.js";

/** Default request body limit: a full batch of 10,000 events fits with room to spare. */
export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

export interface ServerOptions {
  /** Model directory (two-stage or candidates-only). */
  readonly modelDir: string;
  /** An open store, or a spec: "sqlite:<file>" | "postgres://…". */
  readonly store: Store | string;
  /** Dataset path that seeds an empty store (ignored, with a log line, once the store is seeded). */
  readonly data?: string;
  /** Bearer token for write and admin routes; none = open. */
  readonly token?: string;
  /** fastify (pino) logger setting (default off); `stream` receives the JSON lines (default stdout). */
  readonly logger?: boolean | { level: string; stream?: { write(line: string): void } };
  readonly bodyLimit?: number;
  /** Catalog size from which stage one's retrieval uses HNSW instead of exact top-k (default 100,000). */
  readonly exactBelow?: number;
  /** File where a built HNSW index is kept and reused across starts and reloads (rebuilt if it does not match). */
  readonly indexCache?: string;
  /** Progress lines while seeding and loading (the CLI prints them on stderr). */
  readonly log?: (line: string) => void;
  /** How often (ms) other instances' events are followed on a shared store (default 1000). */
  readonly feedPollMs?: number;
  /** Worker threads computing recommendations (default: DEFAULT_WORKERS; 0 = on the event loop). */
  readonly workers?: number;
}

export interface Server {
  readonly app: FastifyInstance;
  readonly service: Service;
  /** Stops accepting requests, lets in-flight ones finish, then closes the store (flushing what it buffers). */
  close(): Promise<void>;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Epoch seconds from a number or an ISO-8601 string; HttpError 400 naming `field` otherwise. */
export function parseTime(value: number | string, field: string): number {
  if (typeof value === "number") {
    if (Number.isFinite(value)) return value;
  } else if (/^-?\d+(?:\.\d+)?$/.test(value.trim())) {
    // Epoch seconds written as text (query strings are text).
    return Number(value.trim());
  } else if (ISO_TIME.test(value.trim())) {
    // A date-time without an offset is read as UTC (never the server's time zone).
    const v = value.trim().replace(" ", "T");
    const ms = Date.parse(/T/.test(v) && !/(Z|[+-]\d{2}:?\d{2})$/.test(v) ? `${v}Z` : v);
    if (Number.isFinite(ms)) return ms / 1000;
  }
  throw new HttpError(
    400,
    `${field}: expected epoch seconds or an ISO-8601 date-time (e.g. 2024-05-01T12:00:00Z), got ${JSON.stringify(value)}`,
  );
}

function parseId(value: string | number, field: string): string {
  const s = String(value);
  if (s === "" || s.length > 256)
    throw new HttpError(400, `${field}: expected a non-empty id of at most 256 characters`);
  return s;
}

function parseWeight(value: number | undefined, field: string): number {
  if (value === undefined) return 1;
  if (!Number.isFinite(value)) throw new HttpError(400, `${field}: expected a finite number`);
  return value;
}

function errorBody(status: number, message: string, extra: Record<string, unknown> = {}) {
  return { statusCode: status, error: STATUS_CODES[status] ?? "Error", message, ...extra };
}

async function openAndSeed(opts: ServerOptions, log: (line: string) => void): Promise<Store> {
  const store = typeof opts.store === "string" ? await openStore(opts.store) : opts.store;
  try {
    const label = typeof opts.store === "string" ? describeStore(opts.store) : store.kind;
    const seeded = (await store.getMeta("seed_items")) !== null;
    if (opts.data !== undefined) {
      if (seeded)
        log(`store ${label} is already seeded; --data ${opts.data} not used (the store is the truth)`);
      else {
        const t0 = Date.now();
        const data = await loadDataset(opts.data);
        await store.seed(seedDataFromDataset(data));
        log(
          `seeded ${label} from ${opts.data}: ${data.items.ids.length} items, ${data.users.ids.length} users, ` +
            `${data.events.user.length} events (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
        );
      }
    }
    return store;
  } catch (error) {
    if (typeof opts.store === "string") await store.close();
    throw error;
  }
}

/** Builds the server (not listening yet: call app.listen or use startServer). */
export async function createServer(opts: ServerOptions): Promise<Server> {
  const log = opts.log ?? (() => {});
  const store = await openAndSeed(opts, log);
  let service: Service;
  try {
    const retrieval =
      opts.exactBelow === undefined && opts.indexCache === undefined
        ? undefined
        : { exactBelow: opts.exactBelow, indexCache: opts.indexCache };
    service = await Service.open(store, opts.modelDir, {
      retrieval,
      feedPollMs: opts.feedPollMs,
      workers: opts.workers ?? DEFAULT_WORKERS,
    });
  } catch (error) {
    if (typeof opts.store === "string") await store.close();
    throw error;
  }
  log(`model ${service.model.version} from ${opts.modelDir} (${service.model.numItems} items)`);

  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit,
    logController: new LogController({ disableRequestLogging: true }),
    // Unknown fields are refused (not silently dropped): the validators are set below.
  });

  // Bodies are JSON, so their types are checked as sent (a string age is refused, not coerced);
  // query strings and path parameters are text and keep the coercion above.
  const bodyAjv = new Ajv({
    removeAdditional: false,
    coerceTypes: false,
    useDefaults: true,
    allErrors: false,
    allowUnionTypes: true,
    strict: false,
  });
  const partAjv = new Ajv({
    removeAdditional: false,
    coerceTypes: true,
    useDefaults: true,
    allErrors: false,
    allowUnionTypes: true,
    strict: false,
  });
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === "body" ? bodyAjv : partAjv).compile(schema as object),
  );

  // Every response with a schema is validated against it before it is sent.
  const responseAjv = new Ajv({ strict: false, allErrors: false, allowUnionTypes: true });
  app.setSerializerCompiler(({ schema, url, method, httpStatus }) => {
    const validate = responseAjv.compile(schema as object);
    return (data) => {
      if (!validate(data)) {
        const e = validate.errors?.[0];
        throw new Error(
          `response of ${method} ${url} (${httpStatus}) does not match its schema: ${e?.instancePath || "/"} ${e?.message}`,
        );
      }
      return JSON.stringify(data);
    };
  });

  store.onBackgroundError = (error) =>
    app.log.warn(
      `writing impressions failed (kept for retry, ${store.droppedImpressions} dropped so far): ${error.message}`,
    );
  service.onWorkerExit = (message) => app.log.error(message);
  service.onFeedError = (error) =>
    app.log.warn(`following other instances' events failed (retried next period): ${error.message}`);
  const metrics = new ServiceMetrics(
    () => Date.parse(service.model.trainedAt),
    () => service.model.loadedAt.getTime(),
  );
  metrics.setModel(service.model.version);
  service.onIngest = (n) => metrics.eventsIngested.inc(n);

  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    const method = request.method;
    metrics.requests.inc({ method, route, status: String(reply.statusCode) });
    metrics.latency.observe({ method, route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpError) {
      return reply.code(error.statusCode).send(errorBody(error.statusCode, error.message, error.extra));
    }
    if (error.validation) {
      // Name the unknown field (ajv's message alone does not).
      const extra = error.validation[0]?.params as { additionalProperty?: unknown } | undefined;
      const message =
        typeof extra?.additionalProperty === "string"
          ? `${error.message}: ${JSON.stringify(extra.additionalProperty)}`
          : error.message;
      return reply.code(400).send(errorBody(400, message, { code: "FST_ERR_VALIDATION" }));
    }
    const status = error.statusCode ?? 500;
    if (status === 413) {
      return reply.code(413).send(errorBody(413, `request body is larger than the ${bodyLimit}-byte limit`));
    }
    if (status >= 400 && status < 500) {
      const message =
        error instanceof SyntaxError || /JSON/.test(error.code ?? "")
          ? `invalid JSON body: ${error.message}`
          : error.message;
      return reply.code(status).send(errorBody(status, message, error.code ? { code: error.code } : {}));
    }
    request.log.error(error);
    return reply.code(500).send(errorBody(500, "internal error (see the server log)"));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody(404, `no route ${request.method} ${request.url.split("?")[0]}`));
  });

  const checkAuth = bearerChecker(opts.token);
  const authHook = async (request: FastifyRequest, reply: FastifyReply) => {
    const r = checkAuth(request.headers.authorization);
    if (!r.ok) {
      reply.header("www-authenticate", 'Bearer realm="watchnext"');
      return reply.code(401).send(errorBody(401, r.message));
    }
  };

  const specs: RouteSpec[] = Object.values(routes);
  const route = <B = unknown, Q = unknown, P = { id: string }>(
    spec: RouteSpec,
    handler: (
      request: FastifyRequest<{ Body: B; Querystring: Q; Params: P }>,
      reply: FastifyReply,
    ) => Promise<unknown>,
  ): void => {
    app.route<{ Body: B; Querystring: Q; Params: P }>({
      method: spec.method,
      url: spec.url,
      schema: spec.schema,
      preHandler: spec.auth ? authHook : undefined,
      handler,
    });
  };

  type RecQuery = { k: number; stage?: "two" | "candidates"; genre?: string; explain: boolean };
  const recOptions = (q: RecQuery): RecOptions => ({
    k: q.k,
    stage: q.stage,
    genre: q.genre,
    explain: q.explain,
  });

  route<unknown, RecQuery>(routes.userRecommendations, async (req) =>
    service.recommendForUser(req.params.id, recOptions(req.query)),
  );

  type UserBody = { gender?: "F" | "M" | ""; age?: number; occupation?: string; zip?: string };
  type SessionBody = RecQuery & {
    history: { item: string | number; time?: number | string; weight?: number }[];
    demographics?: UserBody;
  };
  route<SessionBody>(routes.sessionRecommendations, async (req) => {
    const now = Date.now() / 1000;
    const history = req.body.history.map((e, i) => ({
      item: parseId(e.item, `body/history/${i}/item`),
      time: e.time === undefined ? now : parseTime(e.time, `body/history/${i}/time`),
      weight: parseWeight(e.weight, `body/history/${i}/weight`),
    }));
    return service.recommendForSession(history, recOptions(req.body), req.body.demographics);
  });

  type EventsBody = {
    events: { user: string | number; item: string | number; time?: number | string; weight?: number }[];
  };
  route<EventsBody>(routes.postEvents, async (req) => {
    const now = Date.now() / 1000;
    const events: EventInput[] = req.body.events.map((e, i) => ({
      user: parseId(e.user, `body/events/${i}/user`),
      item: parseId(e.item, `body/events/${i}/item`),
      time: e.time === undefined ? now : parseTime(e.time, `body/events/${i}/time`),
      weight: parseWeight(e.weight, `body/events/${i}/weight`),
    }));
    try {
      return await service.ingest(events);
    } catch (error) {
      if (error instanceof UnknownItemsError) {
        throw new HttpError(400, `body/events: ${error.message}`, { unknownItems: [...error.ids] });
      }
      throw error;
    }
  });

  route<UserBody | undefined>(routes.putUser, async (req, reply) => {
    const r = await service.putUser(req.params.id, req.body ?? {});
    reply.code(r.created ? 201 : 200);
    return r.view;
  });
  route(routes.getUser, async (req) => service.getUser(req.params.id));

  route<unknown, { limit: number; before?: number | string }>(routes.userHistory, async (req) => {
    const before =
      req.query.before === undefined ? Infinity : parseTime(req.query.before, "querystring/before");
    return service.history(req.params.id, req.query.limit, before);
  });

  type ItemBody = { title?: string; genres?: string[]; year?: number | null } | undefined;
  route<ItemBody>(routes.putItem, async (req, reply) => {
    const r = await service.putItem(req.params.id, req.body ?? {});
    reply.code(r.created ? 201 : 200);
    return r.view;
  });
  route<unknown, { days: number; k: number }>(routes.popularItems, async (req) =>
    service.popular(req.query.days, req.query.k),
  );
  route(routes.getItem, async (req) => service.getItem(req.params.id));
  route<unknown, { k: number }>(routes.similarItems, async (req) =>
    service.similar(req.params.id, req.query.k),
  );
  route(routes.model, async () => service.modelInfo());

  route<{ model?: string } | null>(routes.reload, async (req) => {
    const dir = req.body?.model ?? service.model.dir;
    const r = await service.reload(dir);
    metrics.setModel(r.version);
    req.log.info({ version: r.version, previous: r.previous, dir }, "model reloaded");
    return r;
  });

  route(routes.healthz, async () => ({ status: "ok" }));
  route(routes.readyz, async (_req, reply) => {
    try {
      await store.getMeta("dataset");
    } catch (error) {
      return reply.code(503).send(errorBody(503, `store not answering: ${(error as Error).message}`));
    }
    return { status: "ready", modelVersion: service.model.version, store: store.kind };
  });

  const openapi = openApiDocument(specs, "1");
  app.get("/openapi.json", async () => openapi);
  app.get("/metrics", async (_req, reply) => {
    reply.header("content-type", metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  await app.register(webRoutes);

  let closing: Promise<void> | null = null;
  return {
    app,
    service,
    close() {
      closing ??= (async () => {
        await app.close();
        await service.close();
      })();
      return closing;
    },
  };
}
