/**
 * The bytes of an input file, read sequentially: plain files straight from disk, gzip files
 * (recognised by their magic bytes, whatever the name) decompressed on the fly through zlib with no
 * temporary copy. Progress is counted in bytes of the file on disk, so a percentage stays true for
 * compressed input.
 */
import { createReadStream } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { DataError } from "./errors.js";

export interface ByteSource {
  /** True when the file is gzip-compressed. */
  readonly gzip: boolean;
  /** Size of the file on disk. */
  readonly totalBytes: number;
  /** Bytes of the file on disk consumed so far. */
  fileBytesRead(): number;
  /** Fills buf[offset, offset + length) as far as possible; 0 = end of data. */
  read(buf: Buffer, offset: number, length: number): Promise<number>;
  close(): Promise<void>;
}

/** True when the first bytes are the gzip magic number. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

export async function openByteSource(path: string): Promise<ByteSource> {
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch {
    throw new DataError(path, null, null, "no such file (or it cannot be read)");
  }
  const totalBytes = (await fh.stat()).size;
  const head = Buffer.alloc(2);
  await fh.read(head, 0, 2, 0);
  if (!isGzip(head)) return plainSource(fh, totalBytes);
  await fh.close();
  return gzipSource(path, totalBytes);
}

function plainSource(fh: FileHandle, totalBytes: number): ByteSource {
  let position = 0;
  return {
    gzip: false,
    totalBytes,
    fileBytesRead: () => position,
    async read(buf, offset, length) {
      const { bytesRead } = await fh.read(buf, offset, length, position);
      position += bytesRead;
      return bytesRead;
    },
    close: () => fh.close(),
  };
}

function gzipSource(path: string, totalBytes: number): ByteSource {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  raw.pipe(gunzip);
  // pipe() does not forward read errors: hand them to the decompressor so the reader sees them.
  raw.on("error", (err) => gunzip.destroy(err));
  const chunks = gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let pending: Buffer | null = null;
  let pendingAt = 0;
  let done = false;
  return {
    gzip: true,
    totalBytes,
    fileBytesRead: () => raw.bytesRead,
    async read(buf, offset, length) {
      let n = 0;
      while (n < length && !done) {
        if (pending === null || pendingAt >= pending.length) {
          let next: IteratorResult<Buffer>;
          try {
            next = await chunks.next();
          } catch (err) {
            throw new DataError(path, null, null, `not a valid gzip file: ${(err as Error).message}`);
          }
          if (next.done) {
            done = true;
            break;
          }
          pending = next.value;
          pendingAt = 0;
        }
        const take = Math.min(length - n, pending.length - pendingAt);
        pending.copy(buf, offset + n, pendingAt, pendingAt + take);
        pendingAt += take;
        n += take;
      }
      return n;
    },
    async close() {
      raw.destroy();
      gunzip.destroy();
    },
  };
}

/** The first `max` bytes of the file's data (decompressed for gzip), for sniffing. */
export async function readHead(path: string, max: number): Promise<{ head: Buffer; gzip: boolean }> {
  const src = await openByteSource(path);
  try {
    const buf = Buffer.alloc(max);
    let n = 0;
    while (n < max) {
      const k = await src.read(buf, n, max - n);
      if (k === 0) break;
      n += k;
    }
    return { head: buf.subarray(0, n), gzip: src.gzip };
  } finally {
    await src.close();
  }
}
