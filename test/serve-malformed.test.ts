/**
 * Malformed and refused requests, as a table: each gets the right status and a message that says
 * what was wrong (and where), and nothing of the token ever shows in a response or a log line.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseTime } from "../src/serve/server.js";
import type { RunningServer } from "../src/serve/start.js";
import { startTestServer, trainTinyModel } from "./support/serve-fixture.js";

const TOKEN = "s3cr3t-Token-value";
let dir: string;
let server: RunningServer;
const logLines: string[] = [];
let eventsAtStart = 0;

interface Case {
  name: string;
  method: string;
  path: string;
  /** A raw body (sent as is) or a value sent as JSON. */
  body?: string | unknown;
  auth?: string | null;
  contentType?: string;
  status: number;
  message: RegExp;
}

const event = (extra: Record<string, unknown> = {}) => ({ user: "1", item: "1", ...extra });

const cases: Case[] = [
  {
    name: "bad JSON",
    method: "POST",
    path: "/v1/events",
    body: '{"events": [',
    status: 400,
    message: /invalid JSON/,
  },
  {
    name: "events not an array",
    method: "POST",
    path: "/v1/events",
    body: { events: 5 },
    status: 400,
    message: /body\/events must be array/,
  },
  {
    name: "missing events",
    method: "POST",
    path: "/v1/events",
    body: {},
    status: 400,
    message: /must have required property 'events'/,
  },
  {
    name: "empty batch",
    method: "POST",
    path: "/v1/events",
    body: { events: [] },
    status: 400,
    message: /body\/events must NOT have fewer than 1 items/,
  },
  {
    name: "user of the wrong type",
    method: "POST",
    path: "/v1/events",
    body: { events: [event({ user: { id: 1 } })] },
    status: 400,
    message: /body\/events\/0\/user must be string,integer/,
  },
  {
    name: "missing item",
    method: "POST",
    path: "/v1/events",
    body: { events: [{ user: "1" }] },
    status: 400,
    message: /body\/events\/0 must have required property 'item'/,
  },
  {
    name: "time not a date",
    method: "POST",
    path: "/v1/events",
    body: { events: [event(), event({ time: "yesterday" })] },
    status: 400,
    message: /body\/events\/1\/time: expected epoch seconds or an ISO-8601/,
  },
  {
    name: "weight of the wrong type",
    method: "POST",
    path: "/v1/events",
    body: { events: [event({ weight: "heavy" })] },
    status: 400,
    message: /body\/events\/0\/weight must be number/,
  },
  {
    name: "unknown field",
    method: "POST",
    path: "/v1/events",
    body: { events: [event({ rating: 5 })] },
    status: 400,
    message: /must NOT have additional properties/,
  },
  {
    name: "batch over 10,000",
    method: "POST",
    path: "/v1/events",
    body: { events: Array.from({ length: 10_001 }, () => event()) },
    status: 400,
    message: /body\/events must NOT have more than 10000 items/,
  },
  {
    name: "body over the size limit",
    method: "POST",
    path: "/v1/events",
    body: JSON.stringify({ events: [event({ user: "x".repeat(5 * 1024 * 1024) })] }),
    status: 413,
    message: /larger than the \d+-byte limit/,
  },
  {
    name: "unknown items in a batch",
    method: "POST",
    path: "/v1/events",
    body: { events: [event(), event({ item: "nope-1" }), event({ item: 987654 })] },
    status: 400,
    message: /unknown items "nope-1", "987654"/,
  },
  {
    name: "missing token",
    method: "POST",
    path: "/v1/events",
    body: { events: [event()] },
    auth: null,
    status: 401,
    message: /missing Authorization header/,
  },
  {
    name: "wrong token",
    method: "POST",
    path: "/v1/events",
    body: { events: [event()] },
    auth: "Bearer wrong-token",
    status: 401,
    message: /invalid bearer token/,
  },
  {
    name: "not a bearer header",
    method: "PUT",
    path: "/v1/items/9",
    body: { title: "x" },
    auth: `Basic ${TOKEN}`,
    status: 401,
    message: /must be `Bearer <token>`/,
  },
  {
    name: "admin without token",
    method: "POST",
    path: "/v1/admin/reload",
    body: {},
    auth: null,
    status: 401,
    message: /missing Authorization/,
  },
  {
    name: "k too large",
    method: "GET",
    path: "/v1/users/1/recommendations?k=501",
    status: 400,
    message: /querystring\/k must be <= 500/,
  },
  {
    name: "k zero",
    method: "GET",
    path: "/v1/users/1/recommendations?k=0",
    status: 400,
    message: /querystring\/k must be >= 1/,
  },
  {
    name: "k not a number",
    method: "GET",
    path: "/v1/users/1/recommendations?k=ten",
    status: 400,
    message: /querystring\/k must be integer/,
  },
  {
    name: "bad stage",
    method: "GET",
    path: "/v1/users/1/recommendations?stage=three",
    status: 400,
    message: /querystring\/stage must be equal to one of the allowed values/,
  },
  {
    name: "unknown query parameter",
    method: "GET",
    path: "/v1/users/1/recommendations?kk=5",
    status: 400,
    message: /must NOT have additional properties/,
  },
  {
    name: "unknown user",
    method: "GET",
    path: "/v1/users/no-such-user/recommendations",
    status: 404,
    message: /no user "no-such-user"/,
  },
  {
    name: "unknown user history",
    method: "GET",
    path: "/v1/users/ghost/history",
    status: 404,
    message: /no user "ghost"/,
  },
  {
    name: "unknown item",
    method: "GET",
    path: "/v1/items/no-such-item",
    status: 404,
    message: /no item "no-such-item"/,
  },
  {
    name: "similar of unknown item",
    method: "GET",
    path: "/v1/items/zzz/similar",
    status: 404,
    message: /no item "zzz"/,
  },
  {
    name: "similar k too large",
    method: "GET",
    path: "/v1/items/1/similar?k=100000",
    status: 400,
    message: /querystring\/k must be <= 500/,
  },
  {
    name: "session with unknown item",
    method: "POST",
    path: "/v1/recommendations",
    body: { history: [{ item: "nope" }] },
    status: 400,
    message: /body\/history: unknown item nope/,
  },
  {
    name: "session without history",
    method: "POST",
    path: "/v1/recommendations",
    body: { k: 3 },
    status: 400,
    message: /must have required property 'history'/,
  },
  {
    name: "user age out of range",
    method: "PUT",
    path: "/v1/users/u1",
    body: { age: -3 },
    status: 400,
    message: /body\/age must be >= 0/,
  },
  {
    name: "item year of the wrong type",
    method: "PUT",
    path: "/v1/items/i1",
    body: { year: "1999" + "x" },
    status: 400,
    message: /body\/year must be integer,null/,
  },
  {
    name: "history before not a time",
    method: "GET",
    path: "/v1/users/1/history?before=soon",
    status: 400,
    message: /querystring\/before: expected epoch seconds/,
  },
  {
    name: "reload of a missing directory",
    method: "POST",
    path: "/v1/admin/reload",
    body: { model: "/nonexistent/model" },
    status: 422,
    message: /refused, still serving [0-9a-f]{12}: .*nonexistent/,
  },
  {
    name: "unknown route",
    method: "GET",
    path: "/v1/nothing",
    status: 404,
    message: /no route GET \/v1\/nothing/,
  },
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "wn-serve-bad-"));
  const tiny = await trainTinyModel(dir);
  server = await startTestServer({
    modelDir: tiny.modelDir,
    data: tiny.dataDir,
    store: `sqlite:${join(dir, "s.db")}`,
    token: TOKEN,
    logger: { level: "info", stream: { write: (line: string) => void logLines.push(line) } },
  });
  eventsAtStart = (await server.service.store.counts()).events;
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("malformed requests", () => {
  it.each(cases)("$name -> $status", async (c) => {
    const headers: Record<string, string> = {};
    if (c.body !== undefined) headers["content-type"] = c.contentType ?? "application/json";
    const auth = c.auth === undefined ? `Bearer ${TOKEN}` : c.auth;
    if (auth !== null) headers.authorization = auth;
    const res = await fetch(server.url + c.path, {
      method: c.method,
      headers,
      body: c.body === undefined ? undefined : typeof c.body === "string" ? c.body : JSON.stringify(c.body),
    });
    const text = await res.text();
    expect(res.status, text.slice(0, 300)).toBe(c.status);
    const body = JSON.parse(text) as { statusCode: number; error: string; message: string };
    expect(body.statusCode).toBe(c.status);
    expect(body.error).not.toBe("");
    expect(body.message).toMatch(c.message);
    expect(text).not.toContain(TOKEN);
  });

  it("no request of the table wrote an event, and the token never appears in the log", async () => {
    expect((await server.service.store.counts()).events).toBe(eventsAtStart);
    const ok = await fetch(server.url + "/v1/events", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ events: [event()] }),
    });
    expect(ok.status).toBe(200);
    expect((await server.service.store.counts()).events).toBe(eventsAtStart + 1);
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) expect(line).not.toContain(TOKEN);
  });
});

describe("event times", () => {
  it("reads epoch seconds and ISO-8601 (no offset = UTC, whatever the server's zone); refuses the rest", () => {
    const noon = Date.UTC(2024, 4, 1, 12) / 1000;
    expect(parseTime(noon, "t")).toBe(noon);
    expect(parseTime(String(noon), "t")).toBe(noon);
    expect(parseTime("2024-05-01T12:00:00Z", "t")).toBe(noon);
    expect(parseTime("2024-05-01T12:00:00", "t")).toBe(noon);
    expect(parseTime("2024-05-01 12:00", "t")).toBe(noon);
    expect(parseTime("2024-05-01T14:00:00+02:00", "t")).toBe(noon);
    expect(parseTime("2024-05-01T12:00:00.5+0000", "t")).toBe(noon + 0.5);
    expect(parseTime("2024-05-01", "t")).toBe(Date.UTC(2024, 4, 1) / 1000);
    for (const bad of ["yesterday", "05/01/2024", "2024-13-45T00:00:00Z", "", "1e400"]) {
      expect(() => parseTime(bad, "body/events/3/time")).toThrow(
        /body\/events\/3\/time: expected epoch seconds or an ISO-8601/,
      );
    }
    expect(() => parseTime(Infinity, "t")).toThrow(/expected epoch seconds/);
  });
});
