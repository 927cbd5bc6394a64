/** Optimizers and training utilities: Adam / lazy Adam, gradient clipping, learning-rate schedules. */
export { Adam, type AdamOptions } from "./adam.js";
export { clipGradNorm, gradNorm } from "./clip.js";
export { learningRateAt, validateSchedule, type LrSchedule } from "./schedule.js";
