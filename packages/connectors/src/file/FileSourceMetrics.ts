/**
 * Counters of a {@link FileSource}, summed over its readers in this process.
 * @public
 */
export interface FileSourceMetrics {
  /** Records emitted. */
  readonly records: number;
  /** Malformed JSONL lines (dead letters), not emitted as records. */
  readonly malformed: number;
  /** Files read to their end. */
  readonly filesCompleted: number;
  /** Files discovered by the enumerator (listing and monitoring). */
  readonly filesDiscovered: number;
}
