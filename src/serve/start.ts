/** Starts a server listening on host:port (127.0.0.1 and 8080 by default); the CLI, quickstart and tests use it. */
import { createServer, type Server, type ServerOptions } from "./server.js";

export interface ServeOptions extends Omit<ServerOptions, "store"> {
  /** "sqlite:<file>" | "postgres://…", or an open store (default sqlite:watchnext.db). */
  readonly store?: ServerOptions["store"];
  /** 0 = any free port. */
  readonly port?: number;
  readonly host?: string;
}

export interface RunningServer extends Server {
  /** http://host:port, no trailing slash. */
  readonly url: string;
  readonly port: number;
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = "127.0.0.1";

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const server = await createServer({ ...opts, store: opts.store ?? "sqlite:watchnext.db" });
  const host = opts.host ?? DEFAULT_HOST;
  try {
    await server.app.listen({ port: opts.port ?? DEFAULT_PORT, host });
  } catch (error) {
    await server.close();
    throw error;
  }
  const address = server.app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : (opts.port ?? DEFAULT_PORT);
  const shown = host.includes(":") ? `[${host}]` : host;
  return { ...server, url: `http://${shown}:${port}`, port };
}
