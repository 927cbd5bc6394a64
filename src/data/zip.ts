/**
 * A small ZIP reader for the GroupLens archives: reads the central directory (ZIP64 included, as
 * ml-25m/ml-32m-sized archives may need it), rejects unsafe entry names (absolute paths, `..`,
 * drive letters: the "zip-slip" attack) before writing anything, and streams each stored or
 * deflated entry to disk with a CRC-32 and size check. No dependency beyond node:zlib.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, type FileHandle } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createInflateRaw, crc32 } from "node:zlib";
import { UserError } from "../errors.js";

/** A corrupt, truncated or unsafe archive. */
export class ZipError extends UserError {
  override name = "ZipError";
}

export interface ZipEntry {
  /** Name as stored, with `/` separators. */
  readonly name: string;
  readonly isDirectory: boolean;
  /** 0 = stored, 8 = deflate. */
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const EOCD64_LOCATOR_SIG = 0x07064b50;
const EOCD64_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const MAX_U32 = 0xffffffff;

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  if (bytesRead !== length) throw new ZipError(`unexpected end of file at byte ${position + bytesRead}`);
  return buf;
}

function u64(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError("ZIP64 value too large");
  return Number(v);
}

/** Checks that an entry name is a relative path that stays inside the extraction directory. */
function checkEntryName(name: string): void {
  const parts = name.replace(/\\/g, "/").split("/");
  if (name.length === 0) throw new ZipError("entry with an empty name");
  if (name.startsWith("/") || name.startsWith("\\") || /^[A-Za-z]:/.test(name)) {
    throw new ZipError(`unsafe entry "${name}": absolute path`);
  }
  if (parts.includes("..")) throw new ZipError(`unsafe entry "${name}": contains ".."`);
  if (name.includes("\0")) throw new ZipError(`unsafe entry "${name}": contains NUL`);
}

/** Lists the entries of a ZIP file from its central directory; fails on any unsafe name. */
export async function listZip(path: string): Promise<ZipEntry[]> {
  const fh = await open(path, "r");
  try {
    const { size: fileSize } = await fh.stat();
    // The end-of-central-directory record sits in the last 22 + (comment <= 65535) bytes.
    const tailLen = Math.min(fileSize, 22 + 0xffff);
    const tail = await readAt(fh, fileSize - tailLen, tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD_SIG) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new ZipError("not a ZIP archive (no end-of-central-directory record)");
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    const locAt = eocd - 20;
    if (locAt >= 0 && tail.readUInt32LE(locAt) === EOCD64_LOCATOR_SIG) {
      const eocd64 = await readAt(fh, u64(tail, locAt + 8), 56);
      if (eocd64.readUInt32LE(0) !== EOCD64_SIG)
        throw new ZipError("bad ZIP64 end-of-central-directory record");
      count = u64(eocd64, 32);
      cdSize = u64(eocd64, 40);
      cdOffset = u64(eocd64, 48);
    }
    if (cdOffset + cdSize > fileSize) throw new ZipError("central directory lies beyond the end of the file");
    const cd = await readAt(fh, cdOffset, cdSize);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL_SIG) {
        throw new ZipError(`corrupt central directory at entry ${n}`);
      }
      const flags = cd.readUInt16LE(p + 8);
      const method = cd.readUInt16LE(p + 10);
      const crc = cd.readUInt32LE(p + 16);
      let compressedSize = cd.readUInt32LE(p + 20);
      let size = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      let localHeaderOffset = cd.readUInt32LE(p + 42);
      const name = cd.toString(flags & 0x800 ? "utf8" : "latin1", p + 46, p + 46 + nameLen);
      // ZIP64 extra field (id 1) holds, in order, whichever of the three values overflowed.
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = cd.readUInt16LE(e);
        const len = cd.readUInt16LE(e + 2);
        if (id === 1) {
          let q = e + 4;
          if (size === MAX_U32) {
            size = u64(cd, q);
            q += 8;
          }
          if (compressedSize === MAX_U32) {
            compressedSize = u64(cd, q);
            q += 8;
          }
          if (localHeaderOffset === MAX_U32) localHeaderOffset = u64(cd, q);
        }
        e += 4 + len;
      }
      checkEntryName(name);
      if (flags & 1) throw new ZipError(`entry "${name}" is encrypted`);
      const isDirectory = name.endsWith("/");
      if (!isDirectory && method !== 0 && method !== 8) {
        throw new ZipError(`entry "${name}" uses unsupported compression method ${method}`);
      }
      entries.push({ name, isDirectory, method, crc, compressedSize, size, localHeaderOffset });
      p = extraEnd + commentLen;
    }
    return entries;
  } finally {
    await fh.close();
  }
}

/** Passes bytes through while computing their CRC-32 and count. */
class CrcCheck extends Transform {
  crc = 0;
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.crc = crc32(chunk, this.crc);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/**
 * Extracts every entry of `zipPath` under `destDir` (created if needed). All names are checked
 * before the first byte is written, so an unsafe archive writes nothing.
 */
export async function extractZip(zipPath: string, destDir: string): Promise<ZipEntry[]> {
  const entries = await listZip(zipPath);
  const root = resolve(destDir);
  for (const entry of entries) {
    const target = resolve(root, entry.name);
    if (target !== root && !target.startsWith(root + sep)) {
      throw new ZipError(`unsafe entry "${entry.name}": resolves outside the target directory`);
    }
  }
  await mkdir(root, { recursive: true });
  const fh = await open(zipPath, "r");
  try {
    for (const entry of entries) {
      const target = join(root, entry.name);
      if (entry.isDirectory) {
        await mkdir(target, { recursive: true });
        continue;
      }
      await mkdir(resolve(target, ".."), { recursive: true });
      const local = await readAt(fh, entry.localHeaderOffset, 30);
      if (local.readUInt32LE(0) !== LOCAL_SIG) throw new ZipError(`bad local header for "${entry.name}"`);
      const dataStart = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      const check = new CrcCheck();
      const out = createWriteStream(target);
      if (entry.compressedSize === 0) {
        await pipeline(async function* () {}, check, out);
      } else {
        const input = createReadStream(zipPath, {
          start: dataStart,
          end: dataStart + entry.compressedSize - 1,
        });
        if (entry.method === 8) await pipeline(input, createInflateRaw(), check, out);
        else await pipeline(input, check, out);
      }
      if (check.bytes !== entry.size) {
        throw new ZipError(`entry "${entry.name}": expected ${entry.size} bytes, got ${check.bytes}`);
      }
      if (check.crc >>> 0 !== entry.crc >>> 0) throw new ZipError(`entry "${entry.name}": CRC-32 mismatch`);
    }
  } finally {
    await fh.close();
  }
  return entries;
}
