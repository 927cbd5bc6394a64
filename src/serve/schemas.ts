/**
 * The JSON schemas of every route: fastify validates requests with them, the response serializer
 * validates every answer against them, and /openapi.json is generated from the same objects, so the
 * document cannot drift from what the server does. Limits (k ≤ 500, ≤ 10,000 events a batch) live
 * here too.
 */

export const MAX_K = 500;
export const MAX_EVENTS = 10_000;
export const MAX_HISTORY_LIMIT = 10_000;
export const MAX_SESSION_HISTORY = 10_000;

export type Schema = Record<string, unknown>;

const id = { type: ["string", "integer"], description: "An id as in the data (string or number)" };
const idParam = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", minLength: 1, maxLength: 256 } },
};
const time = {
  type: ["number", "string"],
  description: "Epoch seconds, or an ISO-8601 date-time (e.g. 2024-05-01T12:00:00Z)",
};
const nullableNumber = { type: ["number", "null"] };
const genres = { type: "array", items: { type: "string" } };

export const errorSchema: Schema = {
  type: "object",
  required: ["statusCode", "error", "message"],
  properties: {
    statusCode: { type: "integer" },
    error: { type: "string" },
    message: { type: "string" },
    code: { type: "string" },
    unknownItems: { type: "array", items: { type: "string" } },
  },
};

const itemView = {
  type: "object",
  required: ["item", "title", "genres", "year"],
  properties: { item: { type: "string" }, title: { type: "string" }, genres, year: nullableNumber },
};

const recItem = {
  type: "object",
  required: [
    "item",
    "title",
    "genres",
    "year",
    "score",
    "candidateScore",
    "rankingScore",
    "expectedEngagement",
    "sourceScores",
  ],
  properties: {
    ...itemView.properties,
    score: { type: "number", description: "rankingScore under stage two, else candidateScore" },
    candidateScore: { type: "number", description: "The candidate generator's u·v (+ bias)" },
    rankingScore: { ...nullableNumber, description: "The ranker's logit (null under stage candidates)" },
    expectedEngagement: { ...nullableNumber, description: "e^logit (null under stage candidates)" },
    sourceScores: { type: "object", additionalProperties: { type: "number" } },
    because: {
      type: "array",
      description: "explain=true: the history items most similar to this one (output-embedding cosine)",
      items: {
        type: "object",
        required: ["item", "title", "similarity"],
        properties: { item: { type: "string" }, title: { type: "string" }, similarity: { type: "number" } },
      },
    },
    contributions: {
      type: "array",
      description: "explain=true: the ranker's top feature-group contributions to the logit",
      items: {
        type: "object",
        required: ["feature", "contribution"],
        properties: { feature: { type: "string" }, contribution: { type: "number" } },
      },
    },
  },
};

const recResponse = {
  type: "object",
  required: ["user", "stage", "modelVersion", "items"],
  properties: {
    user: { type: ["string", "null"] },
    stage: { type: "string", enum: ["two", "candidates"] },
    modelVersion: { type: "string" },
    items: { type: "array", items: recItem },
  },
};

const recOptions = {
  k: { type: "integer", minimum: 1, maximum: MAX_K, default: 10 },
  stage: { type: "string", enum: ["two", "candidates"] },
  genre: { type: "string", minLength: 1 },
  explain: { type: "boolean", default: false },
};

const userView = {
  type: "object",
  required: ["id", "known", "gender", "age", "occupation", "zip", "events"],
  properties: {
    id: { type: "string" },
    known: { type: "boolean", description: "The model was trained with this user's demographics" },
    gender: { type: "string", enum: ["F", "M", ""] },
    age: { type: "integer" },
    occupation: { type: "string" },
    zip: { type: "string" },
    events: { type: "integer" },
  },
};

const itemRecord = {
  type: "object",
  required: ["id", "title", "genres", "year", "recommendable"],
  properties: {
    id: { type: "string" },
    title: { type: "string" },
    genres,
    year: nullableNumber,
    recommendable: {
      type: "boolean",
      description:
        "The model has an embedding for it (items added after training wait for the next training)",
    },
  },
};

const errors = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 413: errorSchema };

export interface RouteSpec {
  readonly method: "GET" | "POST" | "PUT";
  readonly url: string;
  readonly summary: string;
  readonly auth: boolean;
  readonly schema: {
    params?: Schema;
    querystring?: Schema;
    body?: Schema;
    response: Record<number, Schema>;
  };
}

/** A user's demographics (PUT /v1/users/:id, and an anonymous session's); absent fields: unchanged / unknown. */
const demographics: Schema = {
  type: "object",
  additionalProperties: false,
  properties: {
    gender: { type: "string", enum: ["F", "M", ""] },
    age: {
      type: "integer",
      minimum: 0,
      maximum: 150,
      description: "In the data's unit (years, or the release's age code); 0 = unknown",
    },
    occupation: { type: "string", maxLength: 200 },
    zip: { type: "string", maxLength: 40 },
  },
};

export const routes = {
  userRecommendations: {
    method: "GET",
    url: "/v1/users/:id/recommendations",
    summary: "Recommendations for a stored user, from the user's history as of now (seen items never appear)",
    auth: false,
    schema: {
      params: idParam,
      querystring: { type: "object", additionalProperties: false, properties: recOptions },
      response: { 200: recResponse, ...errors },
    },
  },
  sessionRecommendations: {
    method: "POST",
    url: "/v1/recommendations",
    summary: "Recommendations for an anonymous session from a history in the body (no stored user needed)",
    auth: false,
    schema: {
      body: {
        type: "object",
        additionalProperties: false,
        required: ["history"],
        properties: {
          history: {
            type: "array",
            maxItems: MAX_SESSION_HISTORY,
            items: {
              type: "object",
              additionalProperties: false,
              required: ["item"],
              properties: { item: id, time, weight: { type: "number" } },
            },
          },
          demographics: {
            ...demographics,
            description:
              "The session's demographics, for cold-start recommendations (mapped as the model's training data)",
          },
          ...recOptions,
        },
      },
      response: { 200: recResponse, ...errors },
    },
  },
  postEvents: {
    method: "POST",
    url: "/v1/events",
    summary:
      "Ingest events; answered after they are durable. Unknown users are created, unknown items refuse the batch",
    auth: true,
    schema: {
      body: {
        type: "object",
        additionalProperties: false,
        required: ["events"],
        properties: {
          events: {
            type: "array",
            minItems: 1,
            maxItems: MAX_EVENTS,
            items: {
              type: "object",
              additionalProperties: false,
              required: ["user", "item"],
              properties: { user: id, item: id, time, weight: { type: "number" } },
            },
          },
        },
      },
      response: {
        200: {
          type: "object",
          required: ["accepted", "newUsers"],
          properties: { accepted: { type: "integer" }, newUsers: { type: "integer" } },
        },
        ...errors,
      },
    },
  },
  putUser: {
    method: "PUT",
    url: "/v1/users/:id",
    summary: "Create or update a user's demographics",
    auth: true,
    schema: {
      params: idParam,
      body: demographics,
      response: { 200: userView, 201: userView, ...errors },
    },
  },
  getUser: {
    method: "GET",
    url: "/v1/users/:id",
    summary: "A user's demographics and event count",
    auth: false,
    schema: { params: idParam, response: { 200: userView, ...errors } },
  },
  userHistory: {
    method: "GET",
    url: "/v1/users/:id/history",
    summary: "A user's events, newest first",
    auth: false,
    schema: {
      params: idParam,
      querystring: {
        type: "object",
        additionalProperties: false,
        properties: {
          limit: { type: "integer", minimum: 1, maximum: MAX_HISTORY_LIMIT, default: 50 },
          before: { ...time, description: "Only events strictly before this time" },
        },
      },
      response: {
        200: {
          type: "object",
          required: ["user", "items"],
          properties: {
            user: { type: "string" },
            items: {
              type: "array",
              items: {
                type: "object",
                required: ["item", "title", "genres", "time", "weight"],
                properties: {
                  item: { type: "string" },
                  title: { type: "string" },
                  genres,
                  time: { type: "number" },
                  weight: { type: "number" },
                },
              },
            },
          },
        },
        ...errors,
      },
    },
  },
  putItem: {
    method: "PUT",
    url: "/v1/items/:id",
    summary: "Create or update an item's side info (a new item is recommendable after the next training)",
    auth: true,
    schema: {
      params: idParam,
      body: {
        type: "object",
        additionalProperties: false,
        properties: {
          title: { type: "string", maxLength: 1000 },
          genres: { type: "array", maxItems: 100, items: { type: "string", minLength: 1, maxLength: 100 } },
          year: { type: ["integer", "null"], minimum: 0, maximum: 32767 },
        },
      },
      response: { 200: itemRecord, 201: itemRecord, ...errors },
    },
  },
  popularItems: {
    method: "GET",
    url: "/v1/items/popular",
    summary: "Most-watched items over the last `days` days up to the newest event in the store",
    auth: false,
    schema: {
      querystring: {
        type: "object",
        additionalProperties: false,
        properties: {
          days: { type: "number", exclusiveMinimum: 0, maximum: 36500, default: 30 },
          k: { type: "integer", minimum: 1, maximum: MAX_K, default: 10 },
        },
      },
      response: {
        200: {
          type: "object",
          required: ["days", "asOf", "items"],
          properties: {
            days: { type: "number" },
            asOf: { ...nullableNumber, description: "Time of the newest event (epoch seconds)" },
            items: {
              type: "array",
              items: {
                type: "object",
                required: [...itemView.required, "count"],
                properties: { ...itemView.properties, count: { type: "integer" } },
              },
            },
          },
        },
        ...errors,
      },
    },
  },
  getItem: {
    method: "GET",
    url: "/v1/items/:id",
    summary: "An item's side info",
    auth: false,
    schema: { params: idParam, response: { 200: itemRecord, ...errors } },
  },
  similarItems: {
    method: "GET",
    url: "/v1/items/:id/similar",
    summary: "Nearest items by output-embedding cosine",
    auth: false,
    schema: {
      params: idParam,
      querystring: {
        type: "object",
        additionalProperties: false,
        properties: { k: { type: "integer", minimum: 1, maximum: MAX_K, default: 10 } },
      },
      response: {
        200: {
          type: "object",
          required: ["item", "items"],
          properties: {
            item: { type: "string" },
            items: {
              type: "array",
              items: {
                type: "object",
                required: [...itemView.required, "similarity"],
                properties: { ...itemView.properties, similarity: { type: "number" } },
              },
            },
          },
        },
        409: errorSchema,
        ...errors,
      },
    },
  },
  model: {
    method: "GET",
    url: "/v1/model",
    summary: "The served model: version, card (data, training date, config, per-epoch validation metrics)",
    auth: false,
    schema: {
      response: {
        200: {
          type: "object",
          required: [
            "version",
            "dir",
            "loadedAt",
            "hasRanker",
            "workers",
            "index",
            "card",
            "genres",
            "numUsers",
            "numItems",
          ],
          properties: {
            version: { type: "string" },
            dir: { type: "string" },
            loadedAt: { type: "string" },
            hasRanker: { type: "boolean" },
            workers: {
              type: "integer",
              description: "Worker threads computing recommendations (0: the event loop)",
            },
            index: { type: "string", description: 'Stage one retrieval: "exact" or "hnsw"' },
            card: { type: "object" },
            genres: { type: "array", items: { type: "string" } },
            numUsers: { type: "integer" },
            numItems: { type: "integer" },
          },
        },
      },
    },
  },
  reload: {
    method: "POST",
    url: "/v1/admin/reload",
    summary: "Load a model directory and swap it in atomically; a corrupt or mismatched model is refused",
    auth: true,
    schema: {
      body: {
        type: ["object", "null"],
        additionalProperties: false,
        properties: {
          model: { type: "string", minLength: 1, description: "Model directory (default: the current one)" },
        },
      },
      response: {
        200: {
          type: "object",
          required: ["version", "previous", "dir"],
          properties: { version: { type: "string" }, previous: { type: "string" }, dir: { type: "string" } },
        },
        409: errorSchema,
        422: errorSchema,
        ...errors,
      },
    },
  },
  healthz: {
    method: "GET",
    url: "/healthz",
    summary: "Liveness",
    auth: false,
    schema: {
      response: { 200: { type: "object", required: ["status"], properties: { status: { type: "string" } } } },
    },
  },
  readyz: {
    method: "GET",
    url: "/readyz",
    summary: "Readiness: a model is loaded and the store answers",
    auth: false,
    schema: {
      response: {
        200: {
          type: "object",
          required: ["status", "modelVersion", "store"],
          properties: {
            status: { type: "string" },
            modelVersion: { type: "string" },
            store: { type: "string" },
          },
        },
        503: errorSchema,
      },
    },
  },
} as const satisfies Record<string, RouteSpec>;
