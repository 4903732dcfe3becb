import type { InputStatus, ReaderOutput, SourceReader, SourceSplit } from '../api/Source.js';

const RESOLVED = Promise.resolve();

/**
 * Base of source readers that read their assigned splits one after another (a much smaller
 * cousin of Flink's `SourceReaderBase`). It keeps the queue of assigned splits (copies, so the
 * reader may advance their positions in place), whether the enumerator said no more will come,
 * and the wake-up of {@link SplitQueueReader.isAvailable}; its checkpoint is a copy of the queue.
 * A subclass implements `pollNext` over `this.splits[0]`, shifting a split off when it is done.
 *
 * @example
 * ```ts
 * class RangeReader extends SplitQueueReader<number, RangeSplit> {
 *   pollNext(output: ReaderOutput<number>): InputStatus {
 *     const split = this.splits[0];
 *     if (split === undefined) return this.noMoreSplits ? 'end' : 'nothing';
 *     if (split.next <= split.end) {
 *       output.collect(split.next++);
 *       return 'more';
 *     }
 *     this.splits.shift();
 *     return this.splits.length > 0 || !this.noMoreSplits ? 'more' : 'end';
 *   }
 * }
 * ```
 * @public
 */
export abstract class SplitQueueReader<T, TSplit extends SourceSplit> implements SourceReader<T, TSplit> {
  /** The assigned splits not yet finished, in assignment order; the first is being read. */
  protected readonly splits: TSplit[] = [];
  /** Whether the enumerator said that no more splits will come. */
  protected noMoreSplits = false;
  private wake: (() => void) | undefined;

  /** Nothing to start. */
  start(): void | Promise<void> {}

  /** Emits records of the current split into `output` (see {@link SourceReader.pollNext}). */
  abstract pollNext(output: ReaderOutput<T>): InputStatus;

  /**
   * Resolves at once when there is a split to read or none will come, else when splits (or the
   * end of them) arrive. Readers that also wait for I/O check that first, then call this.
   */
  isAvailable(): Promise<void> {
    if (this.splits.length > 0 || this.noMoreSplits) return RESOLVED;
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /** Queues copies of the splits and wakes a waiting {@link SplitQueueReader.isAvailable}. */
  addSplits(splits: readonly TSplit[]): void {
    for (const s of splits) this.splits.push({ ...s });
    this.signal();
  }

  /** Notes that no more splits will come and wakes a waiting {@link SplitQueueReader.isAvailable}. */
  notifyNoMoreSplits(): void {
    this.noMoreSplits = true;
    this.signal();
  }

  /** Resolves the pending {@link SplitQueueReader.isAvailable}, if any. */
  protected signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Copies of the unfinished splits, positions included. */
  snapshotState(): TSplit[] {
    return this.splits.map((s) => ({ ...s }));
  }

  /** Nothing to release. */
  close(): void | Promise<void> {}
}
