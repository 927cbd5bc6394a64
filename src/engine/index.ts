/**
 * The engine's public surface: kernels (native or TypeScript reference), the seeded RNG,
 * initializers, layers, optimizers and model files. Models build on these; the engine knows
 * nothing about recommendation data.
 */
export { getKernels, referenceKernels, type Kernels } from "./kernels/index.js";
export { Rng } from "./rng.js";
export { fillNormal, fillUniform, initialize, type Initializer, type InitializerName } from "./init.js";
export * from "./layers/index.js";
export * from "./optim/index.js";
export * from "./model-file/index.js";
