import type { FileSourceOptions } from './FileSourceOptions.js';
import type { MalformedRecord } from './MalformedRecord.js';

/**
 * Options of `FileSource.forJsonl`.
 * @public
 */
export interface JsonlSourceOptions<T> extends FileSourceOptions {
  /** Parses one line (default `JSON.parse`); throw to reject the line as malformed. */
  readonly parse?: (line: string) => T;
  /**
   * Dead-letter hook: called (synchronously, in the reading task) for every malformed line; the
   * line is not emitted and is counted. Without it a malformed line fails the job with a
   * {@link FileFormatError} naming the file, line number and byte offset. Blank lines are skipped.
   */
  readonly onMalformed?: (record: MalformedRecord) => void;
  /** Longest line accepted, in bytes (default 64 MiB); a longer one fails the job. */
  readonly maxLineBytes?: number;
}
