/**
 * When a {@link FileSink} closes its current part file and starts a new one. A part also rolls at
 * every checkpoint in exactly-once mode (a pre-committed file is closed), and at every checkpoint
 * for Arrow in at-least-once mode (an Arrow IPC file is only readable once its footer is
 * written). Unset limits do not apply; with none set, parts roll at 128 MiB.
 * @public
 */
export interface RollingPolicy {
  /** Roll after this many records. */
  readonly maxRecords?: number;
  /**
   * Roll once the part holds this many encoded bytes (for Avro and Arrow: bytes of complete
   * blocks or record batches; a part may exceed it by one block or batch).
   */
  readonly maxBytes?: number;
  /** Roll when the part has been open this long (processing time of the job's clock, checked on write). */
  readonly rolloverIntervalMs?: number;
}
