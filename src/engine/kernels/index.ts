/**
 * Kernel backend selection: the one place that decides which implementation of the Kernels
 * interface the engine runs on. Layers and models call getKernels() once when they are built.
 */
import { gemmBf16Reference } from "./bf16-reference.js";
import type { Kernels } from "./kernels.js";
import { loadNativeKernels, nativeGemmBf16 } from "./native.js";
import { referenceKernels } from "./reference.js";

export type { Kernels } from "./kernels.js";
export { referenceKernels } from "./reference.js";

let selected: Kernels | undefined;

/**
 * The kernels the engine should use: native when the addon loads, else the TypeScript reference
 * after one warning. WATCHNEXT_BACKEND=ts|native forces a backend (native then throws if it cannot
 * load).
 */
export function getKernels(): Kernels {
  if (selected !== undefined) return selected;
  const forced = process.env.WATCHNEXT_BACKEND ?? "";
  if (forced === "ts") {
    selected = referenceKernels;
  } else if (forced === "native") {
    selected = loadNativeKernels();
  } else if (forced !== "") {
    throw new Error(`WATCHNEXT_BACKEND must be "ts" or "native", got "${forced}"`);
  } else {
    try {
      selected = loadNativeKernels();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      console.warn(`${reason}; running on the TypeScript reference kernels (slow).`);
      selected = referenceKernels;
    }
  }
  return selected;
}

/** The TypeScript reference kernels, whatever the selected backend (the oracle in tests). */
export function getReferenceKernels(): Kernels {
  return referenceKernels;
}

/** The native kernels; throws with the load error when the addon is unavailable. */
export function getNativeKernels(): Kernels {
  return loadNativeKernels();
}

/** A function with Kernels.gemm's contract. */
export type GemmFn = Kernels["gemm"];

/** Precision of the layers' GEMMs: fp32, or bf16 operands with fp32 accumulation (AVX512_BF16). */
export type GemmPrecision = "fp32" | "bf16";

/** WATCHNEXT_GEMM=fp32|bf16 (default fp32); throws on any other value. */
export function gemmPrecision(): GemmPrecision {
  const value = process.env.WATCHNEXT_GEMM ?? "";
  if (value === "" || value === "fp32") return "fp32";
  if (value === "bf16") return "bf16";
  throw new Error(`WATCHNEXT_GEMM must be "fp32" or "bf16", got "${value}"`);
}

/**
 * The GEMM the layers (Linear, the softmax heads) multiply with: kernels.gemm in fp32; in bf16 the
 * native AVX512_BF16 kernel (throws, naming the reason, when the CPU lacks it: bf16 is never
 * emulated silently on the native backend) or, on the ts backend, the reference emulation. Weights,
 * gradients and optimizer state stay fp32; other GEMMs (retrieval scoring, EASE) stay fp32.
 */
export function layerGemm(kernels: Kernels, precision: GemmPrecision = gemmPrecision()): GemmFn {
  if (precision === "fp32") return kernels.gemm;
  return kernels.backend === "native" ? nativeGemmBf16() : gemmBf16Reference;
}
