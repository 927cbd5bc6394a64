/**
 * `data fetch` against a loopback HTTP server on 127.0.0.1 serving archives built here: never
 * GroupLens. Covers the happy path (progress, unpack), redirects, checksum/size mismatches,
 * truncation, 404s, zip-slip and CRC corruption, and that a failure leaves nothing behind.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { dataFetch } from "../src/cli/commands/data-fetch.js";
import { fetchRelease, progressPrinter, type FetchProgress } from "../src/data/fetch.js";
import { RELEASES, releaseUrl } from "../src/data/releases.js";
import { listZip } from "../src/data/zip.js";
import { buildZip } from "./support/zip-writer.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const routes = new Map<string, Handler>();
let server: http.Server;
let base: string;
let root: string;
let dir: string;

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");
const serveBytes =
  (body: Buffer | string): Handler =>
  (_req, res) => {
    res.writeHead(200, { "content-length": Buffer.byteLength(body) });
    res.end(body);
  };

const RATINGS = "userId,movieId,rating,timestamp\n" + "1,1,4.0,964982703\n".repeat(2000);
const MOVIES = 'movieId,title,genres\n1,"Toy, Story (1995)",Animation|Comedy\n';
/** Incompressible bytes (a hash chain), so the archive is large enough to arrive in several chunks. */
const NOISE = Buffer.concat(
  Array.from({ length: 8192 }, (_, i) => createHash("sha256").update(String(i)).digest()),
);
const goodZip = buildZip([
  { name: "ml-latest-small/", data: "", method: "store" },
  { name: "ml-latest-small/ratings.csv", data: RATINGS },
  { name: "ml-latest-small/movies.csv", data: MOVIES, method: "store" },
  { name: "ml-latest-small/README.txt", data: "synthetic test archive\n" },
  { name: "ml-latest-small/noise.bin", data: NOISE, method: "store" },
]);

/** Serves `zip` as `<name>.zip` with a correct (or given) BSD-style md5 sidecar. */
function publish(name: string, zip: Buffer, sidecarMd5: string | null = md5(zip), prefix = "/files/"): void {
  routes.set(`${prefix}${name}.zip`, serveBytes(zip));
  if (sidecarMd5 !== null)
    routes.set(`${prefix}${name}.zip.md5`, serveBytes(`MD5 (${name}.zip) = ${sidecarMd5}\n`));
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const handler = routes.get(req.url ?? "");
    if (handler) handler(req, res);
    else {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
    }
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/files/`;
  root = await mkdtemp(join(tmpdir(), "watchnext-fetch-"));
});

afterAll(async () => {
  await new Promise((ok) => server.close(ok));
  await rm(root, { recursive: true, force: true });
});

beforeEach(async () => {
  routes.clear();
  dir = await mkdtemp(join(root, "case-"));
});

afterEach(() => {
  delete process.env.WATCHNEXT_FETCH_BASE;
});

function collector(isTTY: boolean): { stream: Writable & { isTTY: boolean }; text: () => string } {
  let out = "";
  const stream = Object.assign(
    new Writable({
      write(chunk, _enc, done) {
        out += String(chunk);
        done();
      },
    }),
    { isTTY },
  );
  return { stream, text: () => out };
}

describe("data fetch", () => {
  it("downloads, verifies, reports progress and unpacks into <dir>/<name>", async () => {
    publish("ml-latest-small", goodZip);
    const progress: FetchProgress[] = [];
    const plain = collector(false);
    const print = progressPrinter(plain.stream);
    const log: string[] = [];
    const result = await fetchRelease("ml-latest-small", {
      dir,
      baseUrl: base,
      onProgress: (p) => {
        progress.push(p);
        print(p);
      },
      log: (l) => log.push(l),
    });
    expect(result.path).toBe(join(dir, "ml-latest-small"));
    expect(result.bytes).toBe(goodZip.length);
    expect(result.md5).toBe(md5(goodZip));
    expect(result.checks).toEqual(["Content-Length", "published md5"]);
    expect([...result.files].sort()).toEqual(["README.txt", "movies.csv", "noise.bin", "ratings.csv"]);
    expect(await readFile(join(result.path, "ratings.csv"), "utf8")).toBe(RATINGS);
    expect(await readFile(join(result.path, "movies.csv"), "utf8")).toBe(MOVIES);
    // Only the dataset is left: no archive, no .part, no temporary directory.
    expect(await readdir(dir)).toEqual(["ml-latest-small"]);
    const last = progress[progress.length - 1];
    expect(last.done).toBe(true);
    expect(last.received).toBe(goodZip.length);
    expect(last.total).toBe(goodZip.length);
    const lines = plain.text().trim().split("\n");
    expect(lines[0]).toMatch(/^download 25%: /);
    expect(lines[lines.length - 1]).toMatch(/^downloaded [\d.]+\/[\d.]+ MB \([\d.]+ MB\/s\)$/);
    expect(plain.text()).not.toContain("\r");
    expect(log.some((l) => l.startsWith(`verified ${goodZip.length} bytes`))).toBe(true);
  });

  it("draws a redrawn progress bar (%, MB/s) on a TTY", () => {
    const tty = collector(true);
    const print = progressPrinter(tty.stream);
    print({ received: 500_000, total: 1_000_000, elapsedMs: 1000, done: false });
    print({ received: 1_000_000, total: 1_000_000, elapsedMs: 2000, done: true });
    expect(tty.text()).toMatch(/^\r\[#{15}-{15}\] 50\.0% 0\.5\/1\.0 MB 0\.5 MB\/s/);
    expect(tty.text()).toContain("100.0%");
    expect(tty.text().endsWith("\n")).toBe(true);
  });

  it("follows redirects, and the CLI honours WATCHNEXT_FETCH_BASE and --keep-archive", async () => {
    publish("ml-latest-small", goodZip);
    for (const file of ["ml-latest-small.zip", "ml-latest-small.zip.md5"]) {
      routes.set(`/mirror/${file}`, (_req, res) => {
        res.writeHead(302, { location: `/files/${file}` });
        res.end();
      });
    }
    process.env.WATCHNEXT_FETCH_BASE = base.replace("/files/", "/mirror/");
    const code = await dataFetch.run(["ml-latest-small", "--dir", dir, "--keep-archive"]);
    expect(code).toBe(0);
    expect(await readFile(join(dir, "ml-latest-small", "ratings.csv"), "utf8")).toBe(RATINGS);
    expect((await readdir(dir)).sort()).toEqual(["ml-latest-small", "ml-latest-small.zip"]);
  });

  it("an MD5 mismatch deletes the download and fails", async () => {
    publish("ml-latest-small", goodZip, "0123456789abcdef0123456789abcdef");
    await expect(fetchRelease("ml-latest-small", { dir, baseUrl: base })).rejects.toThrow(
      /MD5 [0-9a-f]{32} does not match the published 0123456789abcdef0123456789abcdef/,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it("a size that differs from the releases table fails (pinned ml-100k values)", async () => {
    publish("ml-100k", goodZip);
    expect(RELEASES["ml-100k"].size).toBe(4_924_029);
    await expect(fetchRelease("ml-100k", { dir, baseUrl: base })).rejects.toThrow(
      `ml-100k.zip has ${goodZip.length} bytes, expected 4924029 (releases table)`,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it("a truncated download (connection cut before Content-Length) deletes the partial file", async () => {
    routes.set("/files/ml-latest-small.zip.md5", serveBytes(`MD5 (ml-latest-small.zip) = ${md5(goodZip)}\n`));
    routes.set("/files/ml-latest-small.zip", (_req, res) => {
      res.writeHead(200, { "content-length": goodZip.length });
      res.write(goodZip.subarray(0, 1000), () => setTimeout(() => res.socket?.destroy(), 20));
    });
    await expect(fetchRelease("ml-latest-small", { dir, baseUrl: base })).rejects.toThrow(
      new RegExp(`failed after 1000 of ${goodZip.length} bytes \\(truncated`),
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it("a 404 for the archive fails with the URL; a missing .md5 sidecar is only noted", async () => {
    await expect(fetchRelease("ml-latest", { dir, baseUrl: base })).rejects.toThrow(
      `HTTP 404 Not Found for ${releaseUrl("ml-latest", base)}`,
    );
    expect(await readdir(dir)).toEqual([]);

    publish("ml-latest", goodZip, null);
    const log: string[] = [];
    const result = await fetchRelease("ml-latest", { dir, baseUrl: base, log: (l) => log.push(l) });
    expect(result.checks).toEqual(["Content-Length"]);
    expect(log[0]).toBe(`no published checksum at ${releaseUrl("ml-latest", base)}.md5`);
  });

  it("rejects zip-slip entries (.. and absolute paths) and writes nothing", async () => {
    for (const bad of [
      "../evil.txt",
      "ml-latest-small/../../evil.txt",
      "/tmp/watchnext-evil.txt",
      "C:/evil.txt",
    ]) {
      const zip = buildZip([
        { name: "ml-latest-small/ratings.csv", data: RATINGS },
        { name: bad, data: "pwned" },
      ]);
      publish("ml-latest-small", zip);
      await expect(fetchRelease("ml-latest-small", { dir, baseUrl: base })).rejects.toThrow(
        /cannot unpack ml-latest-small\.zip: unsafe entry/,
      );
      expect(await readdir(dir)).toEqual([]);
      expect((await readdir(root)).filter((f) => f.includes("evil"))).toEqual([]);
    }
  });

  it("a corrupted entry fails its CRC-32 check and leaves no dataset directory", async () => {
    const zip = Buffer.from(
      buildZip([{ name: "ml-latest-small/movies.csv", data: MOVIES, method: "store" }]),
    );
    zip[30 + "ml-latest-small/movies.csv".length + 5] ^= 0xff; // flip a byte of the stored data
    publish("ml-latest-small", zip);
    await expect(fetchRelease("ml-latest-small", { dir, baseUrl: base })).rejects.toThrow(/CRC-32 mismatch/);
    expect(await readdir(dir)).toEqual([]);
  });

  it("refuses to overwrite an existing dataset unless forced, then replaces it", async () => {
    publish("ml-latest-small", goodZip);
    await mkdir(join(dir, "ml-latest-small"));
    await writeFile(join(dir, "ml-latest-small", "stale.txt"), "old");
    await expect(fetchRelease("ml-latest-small", { dir, baseUrl: base })).rejects.toThrow(/already exists/);
    const result = await fetchRelease("ml-latest-small", { dir, baseUrl: base, force: true });
    expect((await readdir(result.path)).sort()).toEqual([
      "README.txt",
      "movies.csv",
      "noise.bin",
      "ratings.csv",
    ]);
    expect(await readdir(dir)).toEqual(["ml-latest-small"]);
  });

  it("lists entries of a ZIP from the central directory", async () => {
    const path = join(dir, "t.zip");
    await writeFile(path, goodZip);
    const entries = await listZip(path);
    expect(entries.map((e) => [e.name, e.method, e.size])).toEqual([
      ["ml-latest-small/", 0, 0],
      ["ml-latest-small/ratings.csv", 8, RATINGS.length],
      ["ml-latest-small/movies.csv", 0, MOVIES.length],
      ["ml-latest-small/README.txt", 8, 23],
      ["ml-latest-small/noise.bin", 0, NOISE.length],
    ]);
  });
});
