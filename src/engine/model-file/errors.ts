/** The one error type of model-file reading and writing: which file, and what is wrong with it. */

export class ModelFileError extends Error {
  /** The file (or model directory) the problem is in. */
  readonly file: string;

  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
    this.name = "ModelFileError";
    this.file = file;
  }
}
