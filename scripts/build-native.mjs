// Builds the engine's native addon (build/Release/watchnext_native.node) with node-gyp against the
// running Node's own headers: nothing is downloaded. Runs as the package's `install` script, and
// by hand with `node scripts/build-native.mjs`. A failed build is not fatal: the engine then runs
// on its TypeScript reference kernels and says so once at load time.
// WATCHNEXT_SKIP_NATIVE=1 skips the build.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const addon = join(root, "build", "Release", "watchnext_native.node");
const fallback = "the TypeScript reference kernels will be used (slow).";

function finish(message) {
  console.warn(`watchnext: ${message}; ${fallback}`);
  process.exit(0);
}

if (process.env.WATCHNEXT_SKIP_NATIVE === "1") finish("WATCHNEXT_SKIP_NATIVE=1, native build skipped");
if (!existsSync(join(root, "binding.gyp"))) finish("no binding.gyp, native build skipped");

// node-gyp: the one npm passes to lifecycle scripts, else the copy bundled with the npm that
// ships with this Node, else whatever is on PATH.
const prefix = dirname(dirname(process.execPath));
const bundled = [
  join(prefix, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  join(prefix, "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
];
const gypJs = [process.env.npm_config_node_gyp, ...bundled].find(
  (p) => p && p.endsWith(".js") && existsSync(p),
);
const command = gypJs ? process.execPath : "node-gyp";
const args = gypJs ? [gypJs] : [];

// Headers: a nodedir from the environment/.npmrc wins; otherwise Node installed under PREFIX keeps
// them in PREFIX/include/node. Without either node-gyp would try to download them.
const nodedir = process.env.npm_config_nodedir;
args.push("rebuild", "--release", `--jobs=${Math.max(1, availableParallelism())}`);
if (nodedir) args.push(`--nodedir=${nodedir}`);
else if (existsSync(join(prefix, "include", "node", "node_api.h"))) args.push(`--nodedir=${prefix}`);
else
  console.warn(`watchnext: no Node headers under ${prefix}/include/node; node-gyp may try to download them`);

console.log(`watchnext: building the native engine (${[command, ...args].join(" ")})`);
const build = spawnSync(command, args, { cwd: root, stdio: "inherit", shell: process.platform === "win32" });
if (build.error) finish(`could not run node-gyp (${build.error.message})`);
if (build.status !== 0) finish(`the native engine did not build (node-gyp exit ${build.status})`);

// Load it once in a child process so a broken binary is reported here, not at first use.
const probe = spawnSync(
  process.execPath,
  [
    "-e",
    `const a = require(${JSON.stringify(addon)}); const s = a.simdInfo(); console.log(s.level + " " + s.gemm + ", " + a.threads() + " threads")`,
  ],
  { encoding: "utf8" },
);
if (probe.status !== 0)
  finish(`the native engine built but does not load: ${probe.stderr.trim().split("\n")[0]}`);
console.log(`watchnext: native engine ready (${probe.stdout.trim()})`);
