/**
 * Time of the native spdInverse at EASE's scale: `node dist/bench/spd-inverse.js [n]` (default
 * 9,724 = the items of ml-latest-small). The matrix is a seeded, diagonally dominant symmetric one;
 * the check samples rows of A·A⁻¹ against the identity.
 */
import { getNativeKernels } from "../src/engine/kernels/index.js";
import { nativeThreads } from "../src/engine/kernels/native.js";
import { Rng } from "../src/engine/rng.js";

const n = Number(process.argv[2] ?? 9724);
if (!Number.isInteger(n) || n < 1)
  throw new RangeError(`spd-inverse: n must be a positive integer, got ${process.argv[2]}`);
const rng = new Rng(7);
const a = new Float32Array(n * n);
for (let i = 0; i < n; i++) {
  for (let j = 0; j < i; j++) {
    const v = rng.uniform(-1e-3, 1e-3);
    a[i * n + j] = v;
    a[j * n + i] = v;
  }
  a[i * n + i] = 1 + 1e-3 * n;
}
const sampleRows = Math.min(n, 8);
const original = a.slice(0, sampleRows * n);
const start = process.hrtime.bigint();
const cpu = process.cpuUsage();
getNativeKernels().spdInverse(a, n);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const used = process.cpuUsage(cpu);
let worst = 0;
for (let i = 0; i < sampleRows; i++) {
  for (let j = 0; j < n; j += Math.max(1, Math.floor(n / 100))) {
    let s = 0;
    for (let p = 0; p < n; p++) s += original[i * n + p] * a[p * n + j];
    worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
  }
}
console.log(
  JSON.stringify({
    n,
    threads: nativeThreads(),
    seconds: Math.round(seconds * 100) / 100,
    cpuSeconds: Math.round(((used.user + used.system) / 1e6) * 100) / 100,
    maxResidual: worst,
  }),
);
