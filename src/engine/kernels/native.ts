/**
 * The native backend: loads the C++ addon that `npm install` builds (build/Release/
 * watchnext_native.node) and exposes it as a Kernels object. The addon's functions already take
 * the Kernels arguments in order, so they are used as they are, with no JavaScript layer in
 * between: the training step calls dozens of kernels and each extra hop would cost on every call.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Kernels } from "./kernels.js";

/** The SIMD code paths in use: level chosen at load, best the CPU supports, and kernel names. */
export interface NativeSimdInfo {
  readonly level: "avx512" | "avx2" | "portable";
  readonly best: "avx512" | "avx2" | "portable";
  readonly gemm: string;
  readonly vec: string;
  /** Whether the CPU reports AVX512_BF16 (with AVX-512 state enabled by the OS). */
  readonly cpuBf16: boolean;
  /** The bf16 GEMM kernel in use, or null when the CPU or the SIMD level lacks AVX512_BF16. */
  readonly gemmBf16: string | null;
}

type KernelFunctions = Omit<Kernels, "backend">;

/** What the addon exports: the kernels plus thread-pool and SIMD controls. */
interface NativeAddon extends KernelFunctions {
  gemmBf16: Kernels["gemm"];
  threads(): number;
  setThreads(threads: number): number;
  simdInfo(): NativeSimdInfo;
  setSimdLevel(level: NativeSimdInfo["level"]): void;
}

const ADDON_FILE = join("build", "Release", "watchnext_native.node");

let addon: NativeAddon | undefined;
let kernels: Kernels | undefined;
let loadError: Error | undefined;

/** The package root holding the build: the nearest ancestor of this module with the addon file. */
function findAddon(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, ADDON_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(
    `no ${ADDON_FILE} above ${fileURLToPath(import.meta.url)} (run \`node scripts/build-native.mjs\`)`,
  );
}

function loadAddon(): NativeAddon {
  if (addon !== undefined) return addon;
  if (loadError !== undefined) throw loadError;
  try {
    const require = createRequire(import.meta.url);
    addon = require(findAddon()) as NativeAddon;
    return addon;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    loadError = new Error(`watchnext native kernels unavailable: ${reason}`, { cause: err });
    throw loadError;
  }
}

/** The native kernels; throws (with the reason) when the addon is missing or fails to load. */
export function loadNativeKernels(): Kernels {
  if (kernels !== undefined) return kernels;
  const a = loadAddon();
  kernels = {
    backend: "native",
    gemm: a.gemm,
    biasAct: a.biasAct,
    reluBackward: a.reluBackward,
    colSums: a.colSums,
    layerNormForward: a.layerNormForward,
    layerNormBackward: a.layerNormBackward,
    gelu: a.gelu,
    geluBackward: a.geluBackward,
    dropout: a.dropout,
    addInPlace: a.addInPlace,
    causalAttentionForward: a.causalAttentionForward,
    causalAttentionBackward: a.causalAttentionBackward,
    embeddingBagForward: a.embeddingBagForward,
    embeddingBagBackward: a.embeddingBagBackward,
    softmaxCrossEntropy: a.softmaxCrossEntropy,
    sampledSoftmax: a.sampledSoftmax,
    weightedLogistic: a.weightedLogistic,
    adam: a.adam,
    lazyAdam: a.lazyAdam,
    topK: a.topK,
    spdInverse: a.spdInverse,
    sgnsTrain: a.sgnsTrain,
  };
  return kernels;
}

/** Threads in the native pool (WATCHNEXT_THREADS at load, default = cores). */
export function nativeThreads(): number {
  return loadAddon().threads();
}

/** Resizes the native pool; returns the new size. Benchmarks use it to compare 1 and 2 threads. */
export function setNativeThreads(threads: number): number {
  return loadAddon().setThreads(threads);
}

/** The SIMD level in use (WATCHNEXT_SIMD=portable|avx2|avx512 at load lowers it). */
export function nativeSimdInfo(): NativeSimdInfo {
  return loadAddon().simdInfo();
}

/**
 * The native bf16 GEMM (AVX512_BF16: operands rounded to bf16, fp32 accumulation). Throws when the
 * CPU or the current SIMD level lacks it; the addon also refuses each call then, so a CPU without
 * BF16 never runs bf16 code.
 */
export function nativeGemmBf16(): Kernels["gemm"] {
  const a = loadAddon();
  const info = a.simdInfo();
  if (info.gemmBf16 === null) {
    throw new Error(
      `bf16 GEMM needs AVX512_BF16 at SIMD level avx512 (this CPU has it: ${info.cpuBf16 ? "yes" : "no"}, level: ${info.level})`,
    );
  }
  return a.gemmBf16;
}

/** Switches the dispatched code path, e.g. so tests can check every level this CPU can run. */
export function setNativeSimdLevel(level: NativeSimdInfo["level"]): void {
  loadAddon().setSimdLevel(level);
}
