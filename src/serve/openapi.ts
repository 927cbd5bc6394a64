/** The OpenAPI 3.1 document, generated from the route specs the server validates with. */
import type { RouteSpec, Schema } from "./schemas.js";

export function openApiDocument(specs: readonly RouteSpec[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of specs) {
    const path = r.url.replace(/:(\w+)/g, "{$1}");
    const parameters: unknown[] = [];
    const addParams = (schema: Schema | undefined, where: "path" | "query"): void => {
      if (!schema) return;
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      const required = (schema.required ?? []) as string[];
      for (const [name, s] of Object.entries(props)) {
        parameters.push({
          name,
          in: where,
          required: where === "path" || required.includes(name),
          schema: s,
        });
      }
    };
    addParams(r.schema.params, "path");
    addParams(r.schema.querystring, "query");
    const responses: Record<string, unknown> = {};
    for (const [code, s] of Object.entries(r.schema.response)) {
      responses[code] = {
        description: Number(code) < 400 ? "OK" : "Error (message says what was wrong)",
        content: { "application/json": { schema: s } },
      };
    }
    const op: Record<string, unknown> = { summary: r.summary, parameters, responses };
    if (r.schema.body)
      op.requestBody = { required: true, content: { "application/json": { schema: r.schema.body } } };
    if (r.auth) op.security = [{ bearer: [] }];
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  paths["/metrics"] = {
    get: {
      summary: "Prometheus metrics (text exposition format)",
      responses: { 200: { description: "OK", content: { "text/plain": { schema: { type: "string" } } } } },
    },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "watchnext",
      version,
      description:
        "Two-stage deep recommendations (Covington et al., RecSys 2016) over a durable event store",
    },
    paths,
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
  };
}
