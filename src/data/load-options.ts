/** Options every reader accepts; the CLI builds them from `--data` and the log flags. */
export interface LoadOptions {
  /** Skip bad lines (counting and reporting them) instead of failing on the first. */
  readonly lenient?: boolean;
  /** For generic logs: column names (default user/item/timestamp; weight optional). */
  readonly userCol?: string;
  readonly itemCol?: string;
  readonly timeCol?: string;
  readonly weightCol?: string;
  /** For generic logs: optional side files. */
  readonly usersFile?: string;
  readonly itemsFile?: string;
  readonly tagsFile?: string;
  /** Progress callback for long reads (bytes read so far, total bytes). */
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void;
}
