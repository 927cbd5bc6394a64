/**
 * Crash-safe file writes: data goes to a temporary file in the same directory, is fsynced, and
 * is renamed over the destination, so a reader sees the old file or the new one, never a mix.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

let counter = 0;

/** A fresh sibling path for a temporary file or directory next to `path`. */
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

/** Writes `chunks` (in order) to a new file at `path` and fsyncs it (no rename). */
export function writeFileSynced(path: string, chunks: readonly Uint8Array[]): void {
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
export function writeFileAtomic(path: string, content: string | readonly Uint8Array[]): void {
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

/** Makes a rename or file creation inside `dir` durable (a no-op where directories cannot be fsynced). */
export function fsyncDirectory(dir: string): void {
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
