/**
 * A JSONL line a {@link FileSource} could not parse: it is not emitted as a record; it goes to
 * the `onMalformed` dead-letter hook (or into a `{ ok: false }` result with
 * `FileSource.forJsonlResults`) and is counted in {@link FileSourceMetrics.malformed}.
 * @public
 */
export interface MalformedRecord {
  /** The file. */
  readonly path: string;
  /** The line's text (without the line break). */
  readonly line: string;
  /** Its 1-based line number. */
  readonly lineNumber: number;
  /** Byte offset of its start in the file. */
  readonly offset: number;
  /** Why it was refused (the parser's error message). */
  readonly reason: string;
}
