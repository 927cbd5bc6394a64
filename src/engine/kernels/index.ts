/**
 * Kernel backend selection: the one place that decides which implementation of the Kernels
 * interface the engine runs on. Layers and models call getKernels() once when they are built.
 */
import type { Kernels } from "./kernels.js";
import { loadNativeKernels } from "./native.js";
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
