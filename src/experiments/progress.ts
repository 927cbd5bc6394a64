/**
 * The experiment progress display on stderr: which cell of how many is running, the running
 * cell's epoch (from the trainers' callbacks) and ETAs for the epoch and for the whole
 * experiment (mean wall time of the cells finished in this process × cells left). On a terminal
 * one line is rewritten in place; elsewhere (nohup logs) plain lines, at most one per 10 s for
 * steps, one per epoch and per cell.
 */
import type { TrainingEvent } from "../models/candidates/train.js";
import type { RankerEpoch } from "../models/ranking/ranker.js";

export interface ProgressSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const t = Math.max(0, Math.round(seconds));
  if (t >= 3600) return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, "0")}m`;
  return t >= 60 ? `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s` : `${t}s`;
}

export class ExperimentProgress {
  private index = 0;
  private total = 0;
  private cellId = "";
  private cellStarted = 0;
  private readonly doneSeconds: number[] = [];
  private lastPlain = 0;
  private lineOpen = false;
  private readonly tty: boolean;

  constructor(private readonly sink: ProgressSink | null) {
    this.tty = sink?.isTTY === true;
  }

  /** Cell `index` (1-based) of `total` cells still to run starts. */
  cellStart(index: number, total: number, id: string): void {
    this.index = index;
    this.total = total;
    this.cellId = id;
    this.cellStarted = performance.now();
    this.line(`cell ${index}/${total} ${id}: started${this.experimentEta(0)}`, true);
  }

  cellDone(wallSeconds: number): void {
    this.doneSeconds.push(wallSeconds);
    this.line(
      `cell ${this.index}/${this.total} ${this.cellId}: done in ${formatDuration(wallSeconds)}`,
      true,
    );
  }

  candidateEvent(e: TrainingEvent): void {
    if (e.kind === "step")
      this.line(
        `${this.head()} candidates epoch ${e.epoch}/${e.epochs} step ${e.step}/${e.stepsPerEpoch}, epoch ETA ${formatDuration(e.etaSeconds)}${this.experimentEta(this.elapsed())}`,
        false,
      );
    else if (e.kind === "epoch") {
      const valid = e.valid ? ` valid NDCG@10 ${e.valid.ndcg10.toFixed(4)}` : "";
      this.line(
        `${this.head()} candidates epoch ${e.epoch}/${e.epochs} done${valid}${this.experimentEta(this.elapsed())}`,
        true,
      );
    }
  }

  rankerEpoch(e: RankerEpoch): void {
    const valid = e.validLoss === null ? "" : ` valid loss ${e.validLoss.toFixed(4)}`;
    this.line(
      `${this.head()} ranker epoch ${e.epoch} done${valid} (${formatDuration(e.seconds)})${this.experimentEta(this.elapsed())}`,
      true,
    );
  }

  log(text: string): void {
    this.line(`${this.head()} ${text}`, true);
  }

  /** Any text that must stay on screen (errors, the summary). */
  message(text: string): void {
    this.endLine();
    this.sink?.write(`${text}\n`);
  }

  private head(): string {
    return `cell ${this.index}/${this.total} ${this.cellId}:`;
  }

  private elapsed(): number {
    return (performance.now() - this.cellStarted) / 1000;
  }

  /** ", experiment ETA …" once a cell finished in this process (the mean cell time is then known). */
  private experimentEta(runningFor: number): string {
    if (this.doneSeconds.length === 0) return "";
    const mean = this.doneSeconds.reduce((a, b) => a + b, 0) / this.doneSeconds.length;
    const left = Math.max(0, mean - runningFor) + mean * (this.total - this.index);
    return `; experiment ETA ${formatDuration(left)}`;
  }

  private endLine(): void {
    if (this.lineOpen) this.sink?.write("\r\x1b[2K");
    this.lineOpen = false;
  }

  private line(text: string, keep: boolean): void {
    if (this.sink === null) return;
    if (this.tty) {
      this.sink.write(`\r\x1b[2K${text}`);
      this.lineOpen = true;
      if (keep) {
        this.sink.write("\n");
        this.lineOpen = false;
      }
      return;
    }
    if (!keep && Date.now() - this.lastPlain < 10_000) return;
    this.lastPlain = Date.now();
    this.sink.write(`${text}\n`);
  }
}
