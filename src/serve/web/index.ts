/**
 * The web page at `/`: a fastify plugin that serves three static files (index.html, style.css,
 * app.js — plain files, no build step, no CDN) from src/serve/web/static. They are read once at
 * registration and served from memory with a strict Content-Security-Policy, so the page can only
 * talk to this server. The page itself is a client of the /v1 API (see static/app.js).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyPluginAsync } from "fastify";

interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
}

const FILES: Readonly<Record<string, { name: string; type: string }>> = {
  "/": { name: "index.html", type: "text/html; charset=utf-8" },
  "/web/style.css": { name: "style.css", type: "text/css; charset=utf-8" },
  "/web/app.js": { name: "app.js", type: "text/javascript; charset=utf-8" },
};

// Scripts and styles only from this origin; the page calls only this origin's API.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * The directory holding the static files. Under vitest this module runs from src/serve/web; when
 * compiled it runs from dist/src/serve/web, and the files stay in the package's src/serve/web/static.
 */
export function staticDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, "static"),
    join(here, "..", "..", "..", "..", "src", "serve", "web", "static"),
  ];
  for (const dir of candidates) if (existsSync(join(dir, "index.html"))) return dir;
  throw new Error(`web page files not found: looked in ${candidates.join(" and ")}`);
}

function readFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const [route, f] of Object.entries(FILES))
    files.set(route, { body: readFileSync(join(dir, f.name)), type: f.type });
  return files;
}

/** Registers GET `/`, `/web/style.css` and `/web/app.js`. */
export const webRoutes: FastifyPluginAsync = async (app) => {
  const files = readFiles(staticDir());
  for (const [route, file] of files) {
    app.get(route, async (_request, reply) => {
      return reply
        .header("content-type", file.type)
        .header("cache-control", "no-cache")
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", CSP)
        .send(file.body);
    });
  }
};
