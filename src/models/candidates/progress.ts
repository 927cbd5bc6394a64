/**
 * The live training display: on a terminal one line rewritten in place (epoch, step, examples/s,
 * loss, ETA), elsewhere (logs, pipes) plain lines; one line per epoch with the validation metrics
 * either way; at the start the softmax path taken and the feature groups the data turned off.
 */
import { describeAutoOff } from "../../features/candidate-config.js";
import type { TrainingEvent } from "./train.js";

export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** A training-event handler that writes to `stream` (default: stderr). */
export function progressPrinter(stream: ProgressStream = process.stderr): (event: TrainingEvent) => void {
  const tty = stream.isTTY === true;
  let lastPlain = 0;
  let lineOpen = false;
  // A refit (temporal protocol) starts a second run on the same data: say the same setup only once.
  const said = new Set<string>();
  const endLine = () => {
    if (lineOpen) stream.write("\r\x1b[2K");
    lineOpen = false;
  };
  return (e) => {
    if (e.kind === "step") {
      const text =
        `epoch ${e.epoch}/${e.epochs}  step ${e.step}/${e.stepsPerEpoch}  ` +
        `${Math.round(e.examplesPerSecond).toLocaleString("en-US")} ex/s  loss ${e.loss.toFixed(4)}  ETA ${formatSeconds(e.etaSeconds)}`;
      if (tty) {
        stream.write(`\r\x1b[2K${text}`);
        lineOpen = true;
      } else if (Date.now() - lastPlain >= 10_000) {
        lastPlain = Date.now();
        stream.write(`${text}\n`);
      }
      return;
    }
    endLine();
    if (e.kind === "start") {
      const off = describeAutoOff(e.autoOff);
      for (const line of [`softmax: ${e.softmax.used} (${e.softmax.reason})`, off]) {
        if (line === null || said.has(line)) continue;
        said.add(line);
        stream.write(`${line}\n`);
      }
    } else if (e.kind === "epoch") {
      const valid = e.valid
        ? `  valid HR@10 ${e.valid.hr10.toFixed(4)}  NDCG@10 ${e.valid.ndcg10.toFixed(4)}`
        : "";
      stream.write(
        `epoch ${e.epoch}/${e.epochs}  loss ${e.loss.toFixed(4)}${valid}  ` +
          `${e.seconds.toFixed(1)} s  ${Math.round(e.examplesPerSecond).toLocaleString("en-US")} ex/s${e.best ? "  (best)" : ""}\n`,
      );
    } else {
      const why = {
        "early-stop": "early stop",
        "max-epochs": "max epochs reached",
        interrupted: "interrupted",
      }[e.reason];
      stream.write(`training done (${why}) after ${e.seconds.toFixed(1)} s; best epoch ${e.bestEpoch}\n`);
    }
  };
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const t = Math.max(0, Math.round(s));
  return t >= 60 ? `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s` : `${t}s`;
}
