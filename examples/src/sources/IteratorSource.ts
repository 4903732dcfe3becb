import {
  type InputStatus,
  jsonSerde,
  type ReaderOutput,
  type Serde,
  type Source,
  type SourceReader,
  type SourceSplit,
  type SplitEnumeratorContext,
  SplitQueueReader,
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

/** Pulls the items of its one split (the source has one) from a fresh iterator, skipping to the split's position. */
class IteratorReader<T> extends SplitQueueReader<T, IteratorSplit> {
  private it: Iterator<T> | undefined;

  constructor(private readonly factory: () => Iterator<T>) {
    super();
  }

  pollNext(output: ReaderOutput<T>): InputStatus {
    const split = this.splits[0];
    if (split === undefined) return this.noMoreSplits ? 'end' : 'nothing';
    let it = this.it;
    if (it === undefined) {
      it = this.factory();
      for (let i = 0; i < split.position; i++) if (it.next().done === true) break;
      this.it = it;
    }
    const r = it.next();
    if (r.done === true) {
      this.splits.shift();
      this.it = undefined;
      return this.noMoreSplits ? 'end' : 'nothing';
    }
    split.position++;
    output.collect(r.value);
    return 'more';
  }

  override close(): void {
    this.it?.return?.();
  }
}
