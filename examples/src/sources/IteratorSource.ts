import {
  type InputStatus,
  jsonSerde,
  type ReaderOutput,
  type Serde,
  type Source,
  type SourceReader,
  type SourceSplit,
  type SplitEnumeratorContext,
  StaticSplitEnumerator,
} from '@weir/core';

/**
 * The one split of an {@link IteratorSource}: how many items were emitted.
 * @public
 */
export interface IteratorSplit extends SourceSplit {
  /** Number of items already emitted. */
  position: number;
}

const RESOLVED = Promise.resolve();

/**
 * A bounded, non-parallel source over a deterministic iterator, created lazily by `factory`
 * (a data generator that would not fit in memory as an array). Its checkpointed position is the
 * number of items emitted; a restored reader calls `factory` again and skips that many, which
 * is correct exactly when the factory yields the same sequence every time. Watermarks are
 * generated after every item, so event time is deterministic.
 *
 * @example
 * ```ts
 * const gen = () => new SessionEventGenerator({ lines: 1_000_000, dirty: true }).lines();
 * const lines = env.fromSource(new IteratorSource(gen), WatermarkStrategy.noWatermarks<string>(), 'generated');
 * ```
 * @public
 */
export class IteratorSource<T> implements Source<T, IteratorSplit, IteratorSplit[]> {
  /** The iterator ends, so the source does. */
  readonly boundedness = 'bounded' as const;
  /** Deterministic event time: the watermark generator runs after every item. */
  readonly emitsWatermarkPerRecord = true;
  /** One reader: an iterator has one position. */
  readonly maxParallelism = 1;
  /** Splits are stored as JSON. */
  readonly splitSerde: Serde<IteratorSplit> = jsonSerde<IteratorSplit>();
  /** The enumerator's unassigned splits, as JSON. */
  readonly enumeratorStateSerde: Serde<IteratorSplit[]> = jsonSerde<IteratorSplit[]>();

  /** @param factory - creates the iterator; must yield the same items on every call */
  constructor(private readonly factory: () => Iterator<T>) {}

  /** The single split at position 0. */
  createEnumerator(ctx: SplitEnumeratorContext<IteratorSplit>): StaticSplitEnumerator<IteratorSplit> {
    return new StaticSplitEnumerator(ctx, [{ splitId: 'iterator', position: 0 }]);
  }

  /** The split as checkpointed (if it was not yet assigned). */
  restoreEnumerator(ctx: SplitEnumeratorContext<IteratorSplit>, checkpoint: IteratorSplit[]): StaticSplitEnumerator<IteratorSplit> {
    return new StaticSplitEnumerator(ctx, checkpoint);
  }

  /** A reader that pulls one item per poll. */
  createReader(): SourceReader<T, IteratorSplit> {
    return new IteratorReader<T>(this.factory);
  }
}

class IteratorReader<T> implements SourceReader<T, IteratorSplit> {
  private split: IteratorSplit | undefined;
  private it: Iterator<T> | undefined;
  private noMoreSplits = false;
  private wake: (() => void) | undefined;

  constructor(private readonly factory: () => Iterator<T>) {}

  start(): void {}

  pollNext(output: ReaderOutput<T>): InputStatus {
    const split = this.split;
    if (split === undefined) return this.noMoreSplits ? 'end' : 'nothing';
    let it = this.it;
    if (it === undefined) {
      it = this.factory();
      for (let i = 0; i < split.position; i++) if (it.next().done === true) break;
      this.it = it;
    }
    const r = it.next();
    if (r.done === true) {
      this.split = undefined;
      this.it = undefined;
      return this.noMoreSplits ? 'end' : 'nothing';
    }
    split.position++;
    output.collect(r.value);
    return 'more';
  }

  isAvailable(): Promise<void> {
    if (this.split !== undefined || this.noMoreSplits) return RESOLVED;
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  addSplits(splits: readonly IteratorSplit[]): void {
    const s = splits[0];
    if (s !== undefined) this.split = { ...s };
    this.signal();
  }

  notifyNoMoreSplits(): void {
    this.noMoreSplits = true;
    this.signal();
  }

  private signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  snapshotState(): IteratorSplit[] {
    return this.split === undefined ? [] : [{ ...this.split }];
  }

  close(): void {
    this.it?.return?.();
  }
}
