// Builds the engine's native addon with node-gyp against the running Node's own headers.
// A failed build is not fatal: the engine then runs on its TypeScript reference kernels and
// says so once at load time.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

const root = join(dirname(new URL(import.meta.url).pathname), "..");
if (!existsSync(join(root, "binding.gyp"))) {
  console.log("watchnext: no binding.gyp, skipping the native build");
  process.exit(0);
}
// Node installed under PREFIX keeps its headers in PREFIX/include/node.
const prefix = dirname(dirname(process.execPath));
const args = ["rebuild", "--release"];
if (existsSync(join(prefix, "include", "node", "node_api.h"))) args.push(`--nodedir=${prefix}`);
const r = spawnSync("node-gyp", args, { cwd: root, stdio: "inherit", shell: process.platform === "win32" });
if (r.status !== 0) {
  console.warn(
    "watchnext: the native engine did not build; the TypeScript reference kernels will be used (slow).",
  );
}
