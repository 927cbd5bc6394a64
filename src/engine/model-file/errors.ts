/** The one error type of model-file reading and writing: which file, and what is wrong with it. */
import { UserError } from "../../errors.js";

export class ModelFileError extends UserError {
  /** The file (or model directory) the problem is in. */
  readonly file: string;
  override name = "ModelFileError";

  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
    this.file = file;
  }
}
