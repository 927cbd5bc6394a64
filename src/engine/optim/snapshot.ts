/**
 * Best-epoch snapshots for early stopping: copy a model's named tensors after an improving epoch
 * (reusing the previous copy's buffers) and write them back when training stops.
 */

/** Copies every tensor into `into` (allocated on first use) and returns it. */
export function snapshotTensors(
  tensors: Map<string, Float32Array>,
  into: Map<string, Float32Array> | null,
): Map<string, Float32Array> {
  const out = into ?? new Map<string, Float32Array>();
  for (const [name, value] of tensors) {
    const copy = out.get(name);
    if (copy) copy.set(value);
    else out.set(name, Float32Array.from(value));
  }
  return out;
}

/** Writes a snapshot back into the live tensors. */
export function restoreTensors(tensors: Map<string, Float32Array>, saved: Map<string, Float32Array>): void {
  for (const [name, value] of tensors) {
    const s = saved.get(name);
    if (s) value.set(s);
  }
}
