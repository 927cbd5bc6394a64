/**
 * Crash-safe writes, the one implementation everything that writes results uses (model
 * directories, downloaded datasets, synthetic data, HNSW files, reports). A file is written to a
 * temporary sibling, fsynced and renamed over the destination; a directory is assembled under a
 * temporary sibling, every file and directory in it fsynced, and swapped into place. A reader sees
 * the old contents or the new ones, never a mix; the parent directory is fsynced so the rename
 * itself survives a crash.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";

let counter = 0;

/** A fresh sibling path for a temporary file or directory next to `path` (same file system). */
export function tempSibling(path: string, tag: string): string {
  counter++;
  return join(
    dirname(path),
    `.${basename(path)}.${tag}-${process.pid}-${Date.now().toString(36)}-${counter}`,
  );
}

/** Writes all of `data` to fd. */
function writeAll(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done);
}

/**
 * Writes `chunks` (in order; any iterable, so a generator streams a file too large to hold) to a
 * new file at `path` (refusing an existing one) and fsyncs it.
 */
export function writeFileSynced(path: string, chunks: Iterable<Uint8Array>): void {
  const fd = openSync(path, "wx", 0o644);
  try {
    for (const chunk of chunks) writeAll(fd, chunk);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Atomically replaces `path` with `content` (text, or byte chunks in order): temp file, fsync,
 * rename, fsync of the directory.
 */
export function writeFileAtomic(path: string, content: string | Iterable<Uint8Array>): void {
  const temp = tempSibling(path, "tmp");
  try {
    writeFileSynced(temp, typeof content === "string" ? [Buffer.from(content)] : content);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  fsyncDirectory(dirname(path));
}

/**
 * Moves the fully written directory `source` to `target`, replacing any directory there: fsyncs
 * every file and directory under `source`, moves the old `target` aside (a directory cannot be
 * renamed over a non-empty one), renames `source` into place, deletes the old one and fsyncs the
 * parent. `source` must be on the same file system as `target` (use `tempSibling(target, ...)`,
 * or a directory inside one). On failure the old `target` is put back and the error rethrown;
 * `source` is left for the caller to remove.
 */
export function replaceDirectory(source: string, target: string): void {
  fsyncTree(source);
  if (!existsSync(target)) {
    renameSync(source, target);
  } else {
    const old = tempSibling(target, "old");
    renameSync(target, old);
    try {
      renameSync(source, target);
    } catch (error) {
      renameSync(old, target);
      throw error;
    }
    rmSync(old, { recursive: true, force: true });
  }
  fsyncDirectory(dirname(target));
}

/** Fsyncs every regular file and directory under `dir`, the directory itself last. */
function fsyncTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) fsyncTree(path);
    else if (entry.isFile()) fsyncFile(path);
  }
  fsyncDirectory(dir);
}

function fsyncFile(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a rename or file creation inside `dir` durable (a no-op where directories cannot be fsynced). */
function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, "r");
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) and file systems refuse fsync on a directory; the rename still holds.
  } finally {
    closeSync(fd);
  }
}
