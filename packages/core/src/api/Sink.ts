import type { Clock } from './Clock.js';
import type { TaskInfo } from './functions.js';

/**
 * What a sink writer is told about where it runs.
 * @public
 */
export interface SinkWriterContext {
  /** The parallel instance. */
  readonly taskInfo: TaskInfo;
  /** The job's clock. */
  readonly clock: Clock;
}

/**
 * Writes the records of one parallel instance. `write` is synchronous and must not return a
 * Promise: buffer and send in batches from `flush`. A writer whose buffer is full reports
 * `isAvailable() === false`; the runtime then stops feeding it (and so backpressures the
 * sources) until `whenAvailable()` resolves.
 * @public
 */
export interface SinkWriter<T> {
  /** Writes one record; `timestamp` is its event time or `null`. */
  write(value: T, timestamp: number | null): void;
  /** Sends buffered records; `endOfInput` is true once, after the last record. */
  flush?(endOfInput: boolean): void | Promise<void>;
  /** Whether the writer can take more records now. */
  isAvailable?(): boolean;
  /** Resolves when the writer can take records again. */
  whenAvailable?(): Promise<void>;
  /**
   * Called on a checkpoint barrier: flush, and for two-phase commit pre-commit the open
   * transaction and return what the committer needs to commit it.
   */
  prepareCommit?(checkpointId: number): unknown[] | Promise<unknown[]>;
  /** Releases resources. */
  close?(): void | Promise<void>;
}

/**
 * A destination for a stream (`stream.sinkTo(sink)`). One writer is created per parallel
 * instance.
 * @public
 */
export interface Sink<T> {
  /** Creates the writer of one parallel instance. */
  createWriter(ctx: SinkWriterContext): SinkWriter<T> | Promise<SinkWriter<T>>;
}
