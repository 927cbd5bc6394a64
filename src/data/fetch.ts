/**
 * Downloads a MovieLens release from GroupLens (or a mirror), verifies it and unpacks it
 * atomically. Order of work: refuse early if the target exists; fetch the published
 * `<name>.zip.md5` sidecar; stream the archive to `<name>.zip.part` while hashing it; check the
 * byte count against Content-Length and the releases table, the MD5 against the sidecar and the
 * table; unpack into a temporary directory beside the target, fsync it and swap it into place
 * (src/io/atomic.ts). Any failure deletes the partial download and the temporary directory, so a
 * dataset directory that exists is always complete.
 */
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { join, resolve } from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DEFAULT_FETCH_BASE, RELEASES, releaseUrl, type ReleaseName } from "./releases.js";
import { UserError } from "../errors.js";
import { replaceDirectory } from "../io/atomic.js";
import { extractZip } from "./zip.js";

/** A download or verification failure; the message is meant for the person at the terminal. */
export class FetchError extends UserError {
  override name = "FetchError";
}

export interface FetchProgress {
  readonly received: number;
  /** From Content-Length; undefined when the server did not send it. */
  readonly total: number | undefined;
  readonly elapsedMs: number;
  readonly done: boolean;
}

export interface FetchOptions {
  /** Parent directory: the release is unpacked into `<dir>/<name>`. */
  readonly dir: string;
  /** Base URL holding `<name>.zip` and `<name>.zip.md5`; default `$WATCHNEXT_FETCH_BASE` or GroupLens. */
  readonly baseUrl?: string;
  /** Replace an existing `<dir>/<name>` instead of failing. */
  readonly force?: boolean;
  /** Keep `<dir>/<name>.zip` after unpacking. */
  readonly keepArchive?: boolean;
  /** Socket idle timeout in milliseconds (default 60 s). */
  readonly timeoutMs?: number;
  readonly onProgress?: (p: FetchProgress) => void;
  /** One-line status messages (what was verified, where it went). */
  readonly log?: (line: string) => void;
}

export interface FetchResult {
  /** The unpacked dataset directory. */
  readonly path: string;
  readonly bytes: number;
  readonly md5: string;
  /** What the archive was checked against, e.g. "published md5", "expected size". */
  readonly checks: readonly string[];
  /** Files unpacked (relative names inside the archive). */
  readonly files: readonly string[];
}

const MAX_REDIRECTS = 5;

/** A non-2xx answer; kept apart so a missing checksum file (404) can be told from a failure. */
class HttpStatusError extends FetchError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function fetchBaseUrl(explicit?: string): string {
  return explicit ?? process.env.WATCHNEXT_FETCH_BASE ?? DEFAULT_FETCH_BASE;
}

/** GETs a URL, following up to five redirects; resolves with a 2xx response. */
function get(url: string, timeoutMs: number, redirects = MAX_REDIRECTS): Promise<IncomingMessage> {
  return new Promise((resolvePromise, reject) => {
    const u = new URL(url);
    const client = u.protocol === "https:" ? https : u.protocol === "http:" ? http : null;
    if (!client) {
      reject(new FetchError(`unsupported URL scheme in ${url} (expected http or https)`));
      return;
    }
    const req = client.get(u, { agent: false, headers: { "user-agent": "watchnext-fetch" } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects === 0) {
          reject(new FetchError(`too many redirects fetching ${url}`));
          return;
        }
        const next = new URL(res.headers.location, u).href;
        get(next, timeoutMs, redirects - 1).then(resolvePromise, reject);
        return;
      }
      if (status < 200 || status >= 300) {
        res.resume();
        reject(
          new HttpStatusError(status, `HTTP ${status} ${res.statusMessage ?? ""}`.trim() + ` for ${url}`),
        );
        return;
      }
      resolvePromise(res);
    });
    req.setTimeout(timeoutMs, () =>
      req.destroy(new FetchError(`no data from ${url} for ${timeoutMs / 1000} s`)),
    );
    req.on("error", (err) =>
      reject(err instanceof FetchError ? err : new FetchError(`cannot fetch ${url}: ${err.message}`)),
    );
  });
}

/** Reads GroupLens's sidecar (`MD5 (x.zip) = <hex>` or `<hex>  x.zip`); null when it is absent (404). */
async function fetchPublishedMd5(url: string, timeoutMs: number): Promise<string | null> {
  let res: IncomingMessage;
  try {
    res = await get(url, timeoutMs);
  } catch (err) {
    if (err instanceof HttpStatusError && (err.status === 404 || err.status === 410)) return null;
    throw err;
  }
  let text = "";
  for await (const chunk of res) {
    text += String(chunk);
    if (text.length > 4096) break;
  }
  res.destroy();
  const m = /\b([0-9a-fA-F]{32})\b/.exec(text);
  if (!m)
    throw new FetchError(`checksum file ${url} holds no MD5 (got ${JSON.stringify(text.slice(0, 80))})`);
  return m[1].toLowerCase();
}

/** Counts and hashes bytes on their way to disk, and reports progress. */
class Meter extends Transform {
  readonly hash = createHash("md5");
  received = 0;
  private readonly started = Date.now();
  constructor(
    private readonly total: number | undefined,
    private readonly onProgress?: (p: FetchProgress) => void,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.received += chunk.length;
    this.report(false);
    done(null, chunk);
  }
  report(done: boolean): void {
    this.onProgress?.({
      received: this.received,
      total: this.total,
      elapsedMs: Date.now() - this.started,
      done,
    });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Downloads, verifies and unpacks one release into `<dir>/<name>`. */
export async function fetchRelease(name: ReleaseName, options: FetchOptions): Promise<FetchResult> {
  const release = RELEASES[name];
  const base = fetchBaseUrl(options.baseUrl);
  const url = releaseUrl(name, base);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const log = options.log ?? (() => {});
  const dir = resolve(options.dir);
  const target = join(dir, name);
  if ((await exists(target)) && !options.force) {
    throw new FetchError(`${target} already exists (use --force to replace it)`);
  }
  await mkdir(dir, { recursive: true });

  const publishedMd5 = await fetchPublishedMd5(`${url}.md5`, timeoutMs);
  if (!publishedMd5) log(`no published checksum at ${url}.md5`);

  const tag = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const part = join(dir, `.${name}.zip.${tag}.part`);
  const archive = join(dir, `${name}.zip`);
  const unpackDir = join(dir, `.${name}.${tag}.unpack`);
  try {
    log(`downloading ${url}`);
    const res = await get(url, timeoutMs);
    const header = res.headers["content-length"];
    const total = header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
    const meter = new Meter(total, options.onProgress);
    try {
      await pipeline(res, meter, createWriteStream(part));
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      const of = total !== undefined ? ` of ${total}` : "";
      throw new FetchError(
        `download of ${url} failed after ${meter.received}${of} bytes (truncated: ${why})`,
      );
    }
    meter.report(true);
    const bytes = meter.received;
    const md5 = meter.hash.digest("hex");
    const checks: string[] = [];
    if (total !== undefined) {
      if (bytes !== total) {
        throw new FetchError(
          `download of ${url} truncated: received ${bytes} of ${total} bytes (Content-Length)`,
        );
      }
      checks.push("Content-Length");
    }
    if (release.size !== undefined) {
      if (bytes !== release.size) {
        throw new FetchError(`${name}.zip has ${bytes} bytes, expected ${release.size} (releases table)`);
      }
      checks.push("expected size");
    }
    if (publishedMd5) {
      if (md5 !== publishedMd5) {
        throw new FetchError(
          `${name}.zip MD5 ${md5} does not match the published ${publishedMd5} (${url}.md5)`,
        );
      }
      checks.push("published md5");
    }
    if (release.md5 !== undefined) {
      if (md5 !== release.md5) {
        throw new FetchError(
          `${name}.zip MD5 ${md5} does not match the expected ${release.md5} (releases table)`,
        );
      }
      checks.push("expected md5");
    }
    log(`verified ${bytes} bytes, md5 ${md5} (${checks.join(", ") || "nothing to check against"})`);
    await rename(part, archive);

    const entries = await extractZip(archive, unpackDir).catch((err: unknown) => {
      const why = err instanceof Error ? err.message : String(err);
      throw new FetchError(`cannot unpack ${name}.zip: ${why}`);
    });
    // GroupLens archives hold one top-level folder (ml-10m's is "ml-10M100K"); it becomes <name>.
    const top = await readdir(unpackDir, { withFileTypes: true });
    const single = top.length === 1 && top[0].isDirectory();
    const root = single ? join(unpackDir, top[0].name) : unpackDir;
    replaceDirectory(root, target); // fsyncs the unpacked files before the swap
    if (!options.keepArchive) await rm(archive, { force: true });
    const prefix = single ? `${top[0].name}/` : "";
    const files = entries.filter((e) => !e.isDirectory).map((e) => e.name.slice(prefix.length));
    log(`unpacked ${files.length} files into ${target}`);
    return { path: target, bytes, md5, checks, files };
  } catch (err) {
    await rm(part, { force: true });
    await rm(archive, { force: true });
    throw err;
  } finally {
    await rm(unpackDir, { recursive: true, force: true });
  }
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/**
 * A progress display for fetchRelease: a redrawn bar (bytes, %, MB/s) when the stream is a TTY,
 * otherwise one plain line per quarter of the download (or per 10 s without Content-Length).
 */
export function progressPrinter(stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }) {
  let lastDraw = 0;
  let nextQuarter = 1;
  let lastLine = 0;
  return (p: FetchProgress): void => {
    const seconds = Math.max(p.elapsedMs / 1000, 1e-3);
    const rate = `${mb(p.received / seconds)} MB/s`;
    const pct = p.total ? Math.min(100, (100 * p.received) / p.total) : undefined;
    const amount = p.total ? `${mb(p.received)}/${mb(p.total)} MB` : `${mb(p.received)} MB`;
    if (stream.isTTY) {
      const now = Date.now();
      if (!p.done && now - lastDraw < 100) return;
      lastDraw = now;
      const width = 30;
      const filled = pct === undefined ? 0 : Math.round((pct / 100) * width);
      const bar =
        pct === undefined ? "" : `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${pct.toFixed(1)}% `;
      stream.write(`\r${bar}${amount} ${rate}\x1b[K${p.done ? "\n" : ""}`);
      return;
    }
    if (p.done) {
      stream.write(`downloaded ${amount} (${rate})\n`);
    } else if (pct !== undefined) {
      while (nextQuarter < 4 && pct >= nextQuarter * 25) {
        stream.write(`download ${nextQuarter * 25}%: ${amount} ${rate}\n`);
        nextQuarter++;
      }
    } else if (p.elapsedMs - lastLine >= 10_000) {
      lastLine = p.elapsedMs;
      stream.write(`download: ${amount} ${rate}\n`);
    }
  };
}
