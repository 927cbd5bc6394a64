/**
 * Learning-rate schedules as plain JSON-serialisable specs (they are part of a model's recorded
 * training configuration). Each has an optional linear warmup from lr/warmupSteps to lr over the
 * first warmupSteps steps, then: constant, cosine decay to minLr at totalSteps, or step decay by
 * `gamma` every `stepSize` steps.
 */

export type LrSchedule =
  | { kind: "constant"; lr: number; warmupSteps?: number }
  | { kind: "cosine"; lr: number; totalSteps: number; minLr?: number; warmupSteps?: number }
  | { kind: "step"; lr: number; stepSize: number; gamma: number; warmupSteps?: number };

/** The learning rate for 0-based step `step`. */
export function learningRateAt(schedule: LrSchedule, step: number): number {
  const warmup = schedule.warmupSteps ?? 0;
  if (step < warmup) return (schedule.lr * (step + 1)) / warmup;
  const t = step - warmup;
  switch (schedule.kind) {
    case "constant":
      return schedule.lr;
    case "cosine": {
      const minLr = schedule.minLr ?? 0;
      const span = Math.max(1, schedule.totalSteps - warmup);
      const progress = Math.min(1, t / span);
      return minLr + 0.5 * (schedule.lr - minLr) * (1 + Math.cos(Math.PI * progress));
    }
    case "step":
      return schedule.lr * Math.pow(schedule.gamma, Math.floor(t / schedule.stepSize));
    default: {
      const unknown: never = schedule;
      throw new RangeError(`learningRateAt: unknown schedule ${JSON.stringify(unknown)}`);
    }
  }
}

/** Checks a schedule read from configuration; throws naming the offending field. */
export function validateSchedule(schedule: LrSchedule, where = "schedule"): void {
  const positive = (v: unknown, field: string) => {
    if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) {
      throw new RangeError(`${where}.${field}: expected a positive number, got ${String(v)}`);
    }
  };
  positive(schedule.lr, "lr");
  const warmup = schedule.warmupSteps ?? 0;
  if (!Number.isInteger(warmup) || warmup < 0) {
    throw new RangeError(`${where}.warmupSteps: expected a non-negative integer, got ${String(warmup)}`);
  }
  if (schedule.kind === "cosine") positive(schedule.totalSteps, "totalSteps");
  else if (schedule.kind === "step") {
    positive(schedule.stepSize, "stepSize");
    positive(schedule.gamma, "gamma");
  } else if (schedule.kind !== "constant") {
    throw new RangeError(
      `${where}.kind: expected "constant", "cosine" or "step", got ${String((schedule as { kind: unknown }).kind)}`,
    );
  }
}
