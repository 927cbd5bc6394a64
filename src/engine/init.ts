/**
 * Seeded weight initializers. Glorot (Xavier) keeps activation variance through linear/tanh
 * layers; He (Kaiming) compensates for ReLU halving it, so ReLU towers use He. Every initializer
 * takes the Rng explicitly: the same seed gives the same network.
 */
import type { Rng } from "./rng.js";

export type InitializerName = "glorot-uniform" | "glorot-normal" | "he-uniform" | "he-normal" | "zeros";

/** A named initializer, or a plain normal / uniform distribution with an explicit scale. */
export type Initializer =
  InitializerName | { kind: "normal"; std: number } | { kind: "uniform"; limit: number };

/** Fills data[start..end) from N(0, std²). */
export function fillNormal(data: Float32Array, std: number, rng: Rng, start = 0, end = data.length): void {
  for (let i = start; i < end; i++) data[i] = std * rng.normal();
}

/** Fills data[start..end) from U(−limit, limit). */
export function fillUniform(data: Float32Array, limit: number, rng: Rng, start = 0, end = data.length): void {
  for (let i = start; i < end; i++) data[i] = limit * (2 * rng.nextFloat() - 1);
}

/** Fills `data` (a fanIn×fanOut weight, or a table with fanIn = rows, fanOut = dim) per `init`. */
export function initialize(
  data: Float32Array,
  init: Initializer,
  fanIn: number,
  fanOut: number,
  rng: Rng,
): void {
  if (typeof init === "object") {
    if (init.kind === "normal") fillNormal(data, init.std, rng);
    else fillUniform(data, init.limit, rng);
    return;
  }
  switch (init) {
    case "glorot-uniform":
      return fillUniform(data, Math.sqrt(6 / (fanIn + fanOut)), rng);
    case "glorot-normal":
      return fillNormal(data, Math.sqrt(2 / (fanIn + fanOut)), rng);
    case "he-uniform":
      return fillUniform(data, Math.sqrt(6 / fanIn), rng);
    case "he-normal":
      return fillNormal(data, Math.sqrt(2 / fanIn), rng);
    case "zeros":
      data.fill(0);
      return;
    default: {
      const unknown: never = init;
      throw new RangeError(`initialize: unknown initializer ${String(unknown)}`);
    }
  }
}
