import type { Sink, SinkWriter } from '../api/Sink.js';

/**
 * Appends every record to an array (what `executeAndCollect` uses). All subtasks share the
 * array, in arrival order.
 * @public
 */
export class CollectSink<T> implements Sink<T> {
  /** The collected records. */
  readonly values: T[] = [];

  /** A writer that appends to {@link CollectSink.values}. */
  createWriter(): SinkWriter<T> {
    const values = this.values;
    return {
      write(value: T): void {
        values.push(value);
      },
    };
  }
}
