import type {
  InputStatus,
  ReaderOutput,
  Serde,
  Source,
  SourceReader,
  SourceReaderContext,
  SourceSplit,
  SplitEnumerator,
  SplitEnumeratorContext,
} from '@weir/core';

/**
 * Wraps a source so that it emits at most `recordsPerSecond` records per second in total
 * (spread evenly over its parallel readers), to watch a job run, or to kill it mid-way in a
 * test. Everything else (splits, positions, checkpoints, watermarks) is the wrapped source's.
 *
 * @example
 * ```ts
 * env.fromSource(new ThrottledSource(new SequenceSource(0, 999_999), 50_000), strategy, 'events');
 * ```
 * @public
 */
export class ThrottledSource<T, TSplit extends SourceSplit, TCheckpoint> implements Source<T, TSplit, TCheckpoint> {
  /** The wrapped source's. */
  readonly boundedness: Source<T, TSplit, TCheckpoint>['boundedness'];
  /** The wrapped source's. */
  readonly emitsWatermarkPerRecord: boolean;
  /** The wrapped source's. */
  readonly recordsHaveTimestamps: boolean;
  /** The wrapped source's. */
  readonly splitSerde: Serde<TSplit>;
  /** The wrapped source's. */
  readonly enumeratorStateSerde: Serde<TCheckpoint>;
  /** The wrapped source's. */
  readonly maxParallelism?: number;

  /**
   * @param inner - the source to slow down
   * @param recordsPerSecond - the total rate; 0 or less: no limit
   */
  constructor(
    private readonly inner: Source<T, TSplit, TCheckpoint>,
    private readonly recordsPerSecond: number,
  ) {
    this.boundedness = inner.boundedness;
    this.emitsWatermarkPerRecord = inner.emitsWatermarkPerRecord === true;
    this.recordsHaveTimestamps = inner.recordsHaveTimestamps === true;
    this.splitSerde = inner.splitSerde;
    this.enumeratorStateSerde = inner.enumeratorStateSerde;
    if (inner.maxParallelism !== undefined) this.maxParallelism = inner.maxParallelism;
  }

  /** The wrapped source's enumerator. */
  createEnumerator(ctx: SplitEnumeratorContext<TSplit>): SplitEnumerator<TSplit, TCheckpoint> {
    return this.inner.createEnumerator(ctx);
  }

  /** The wrapped source's enumerator, restored. */
  restoreEnumerator(ctx: SplitEnumeratorContext<TSplit>, checkpoint: TCheckpoint): SplitEnumerator<TSplit, TCheckpoint> {
    return this.inner.restoreEnumerator(ctx, checkpoint);
  }

  /** The wrapped source's reader, limited to its share of the rate. */
  createReader(ctx: SourceReaderContext): SourceReader<T, TSplit> {
    const reader = this.inner.createReader(ctx);
    if (!(this.recordsPerSecond > 0)) return reader;
    return new ThrottledReader(reader, this.recordsPerSecond / ctx.parallelism);
  }
}

class ThrottledReader<T, TSplit extends SourceSplit> implements SourceReader<T, TSplit> {
  /** A token bucket: one token per record, refilled at `rate`, holding at most ~10 ms worth. */
  private tokens = 0;
  private refilledAt = 0;
  private readonly burst: number;
  private waitMs = 0;

  constructor(
    private readonly inner: SourceReader<T, TSplit>,
    private readonly rate: number,
  ) {
    this.burst = Math.max(1, rate / 100);
  }

  start(): void | Promise<void> {
    this.refilledAt = performance.now();
    return this.inner.start();
  }

  pollNext(output: ReaderOutput<T>): InputStatus {
    if (this.tokens < 1) {
      const now = performance.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.rate) / 1000);
      this.refilledAt = now;
      if (this.tokens < 1) {
        this.waitMs = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.rate));
        return 'nothing';
      }
    }
    this.waitMs = 0;
    this.tokens -= 1;
    return this.inner.pollNext(output);
  }

  isAvailable(): Promise<void> {
    if (this.waitMs > 0) {
      const ms = this.waitMs;
      return new Promise((resolve) => setTimeout(resolve, ms));
    }
    return this.inner.isAvailable();
  }

  addSplits(splits: readonly TSplit[]): void {
    this.inner.addSplits(splits);
  }

  notifyNoMoreSplits(): void {
    this.inner.notifyNoMoreSplits();
  }

  snapshotState(checkpointId: number): TSplit[] {
    return this.inner.snapshotState(checkpointId);
  }

  notifyCheckpointComplete(checkpointId: number): void | Promise<void> {
    return this.inner.notifyCheckpointComplete?.(checkpointId);
  }

  close(): void | Promise<void> {
    return this.inner.close();
  }
}
