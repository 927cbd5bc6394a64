/** Options every reader accepts; the CLI builds them from `--data` and the log flags. */
export interface LoadOptions {
  /** Skip bad lines (counting and reporting them) instead of failing on the first. */
  readonly lenient?: boolean;
  /** For generic logs: column names (default user/item/timestamp; weight optional). */
  readonly userCol?: string;
  readonly itemCol?: string;
  readonly timeCol?: string;
  readonly weightCol?: string;
  /** Field separator of delimited logs and side files (default: sniffed from the first lines). */
  readonly delimiter?: string;
  /** Text encoding of logs and side files: UTF-8 (checked; the default) or Latin-1. */
  readonly encoding?: "utf8" | "latin1";
  /** For generic logs: optional side files. */
  readonly usersFile?: string;
  readonly itemsFile?: string;
  readonly tagsFile?: string;
  /** Items file columns: the id (default: the log's item column name, item, itemId, id ...). */
  readonly itemIdCol?: string;
  /** Items file columns that become categorical item features (a cell "a|b|c" is a bag of three). */
  readonly itemCategoryCols?: readonly string[];
  /** Items file title column (default "title"). */
  readonly itemTitleCol?: string;
  /** Items file release time column: a year, or a time as in the log (the year is kept). */
  readonly itemTimeCol?: string;
  /** Users file columns: the id (default: the log's user column name, user, userId, id ...). */
  readonly userIdCol?: string;
  /** Users file columns that become categorical user features ("a|b" is a bag). */
  readonly userCategoryCols?: readonly string[];
  /** Users file columns that become numeric user features (quantile-normalized). */
  readonly userNumberCols?: readonly string[];
  /** Progress callback for long reads (bytes read so far, total bytes). */
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void;
}
