/** The one atomic file writer and directory swap (src/io/atomic.ts) that every writer uses. */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { replaceDirectory, tempSibling, writeFileAtomic, writeFileSynced } from "../src/io/atomic.js";

const root = mkdtempSync(join(tmpdir(), "watchnext-atomic-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function fresh(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  return dir;
}

describe("writeFileAtomic", () => {
  it("creates and replaces a file, leaving no temporary sibling", () => {
    const dir = fresh("file");
    const path = join(dir, "out.txt");
    writeFileAtomic(path, "first");
    writeFileAtomic(path, [Buffer.from("sec"), Buffer.from("ond")]);
    expect(readFileSync(path, "utf8")).toBe("second");
    expect(readdirSync(dir)).toEqual(["out.txt"]);
  });

  it("leaves the old file and no temporary when the rename fails", () => {
    const dir = fresh("file-fail");
    const path = join(dir, "taken");
    mkdirSync(path); // renaming a file over a directory fails
    writeFileSync(join(path, "inside"), "x");
    expect(() => writeFileAtomic(path, "new")).toThrow();
    expect(readdirSync(dir)).toEqual(["taken"]);
    expect(readFileSync(join(path, "inside"), "utf8")).toBe("x");
  });

  it("writeFileSynced refuses to overwrite", () => {
    const path = join(fresh("synced"), "f");
    writeFileSynced(path, [Buffer.from("a")]);
    expect(() => writeFileSynced(path, [Buffer.from("b")])).toThrow(/EEXIST/);
    expect(readFileSync(path, "utf8")).toBe("a");
  });
});

describe("replaceDirectory", () => {
  function staged(target: string, files: Record<string, string>): string {
    const dir = tempSibling(target, "tmp");
    mkdirSync(join(dir, "sub"), { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  }

  it("moves a staged directory into place, with or without a previous one", () => {
    const parent = fresh("dir");
    const target = join(parent, "data");
    replaceDirectory(staged(target, { "a.csv": "1", "sub/b.csv": "2" }), target);
    expect(readFileSync(join(target, "sub", "b.csv"), "utf8")).toBe("2");
    replaceDirectory(staged(target, { "c.csv": "3" }), target);
    expect(readdirSync(target).sort()).toEqual(["c.csv", "sub"]);
    expect(readdirSync(parent)).toEqual(["data"]); // neither the staged nor the old copy is left
  });

  it("puts the old directory back when the new one cannot be moved in", () => {
    const parent = fresh("dir-fail");
    const target = join(parent, "data");
    replaceDirectory(staged(target, { "keep.csv": "old" }), target);
    const missing = join(parent, "no-such-staged-dir");
    expect(() => replaceDirectory(missing, target)).toThrow(/ENOENT/);
    expect(readFileSync(join(target, "keep.csv"), "utf8")).toBe("old");
    expect(readdirSync(parent)).toEqual(["data"]);
    expect(existsSync(missing)).toBe(false);
  });
});
