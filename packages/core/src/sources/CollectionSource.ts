import type { InputStatus, ReaderOutput, Source, SourceReader, SourceSplit, SplitEnumeratorContext } from '../api/Source.js';
import { jsonSerde, type Serde } from '../api/Serde.js';
import { SplitQueueReader } from './SplitQueueReader.js';
import { StaticSplitEnumerator } from './StaticSplitEnumerator.js';

/**
 * The one split of a collection source: the items and how many were emitted.
 * @public
 */
export interface CollectionSplit<T> extends SourceSplit {
  /** The items (held by reference; checkpoints store only the position). */
  readonly items: readonly T[];
  /** Index of the next item to emit. */
  position: number;
}

/**
 * A bounded, non-parallel source over an in-memory array (`env.fromCollection`). Emits in
 * array order; its position (the index) is checkpointed. Runs its watermark generator after
 * every record, so event time is deterministic.
 * @public
 */
export class CollectionSource<T> implements Source<T, CollectionSplit<T>, Array<CollectionSplit<T>>> {
  /** A collection ends. */
  readonly boundedness = 'bounded' as const;
  /** Watermarks follow every record, so bounded runs are deterministic. */
  readonly emitsWatermarkPerRecord = true;
  /** One reader: the records keep their order. */
  readonly maxParallelism = 1;
  /** Checkpoints a split as its position only (the items are the source's own). */
  readonly splitSerde: Serde<CollectionSplit<T>>;
  /** Checkpoints the unassigned splits as positions. */
  readonly enumeratorStateSerde: Serde<Array<CollectionSplit<T>>>;

  /** @param items - the records, emitted in order */
  constructor(readonly items: readonly T[]) {
    const positions = jsonSerde<{ splitId: string; position: number }>();
    this.splitSerde = {
      serialize: (s) => positions.serialize({ splitId: s.splitId, position: s.position }),
      deserialize: (b) => ({ ...positions.deserialize(b), items: this.items }),
    };
    const list = jsonSerde<Array<{ splitId: string; position: number }>>();
    this.enumeratorStateSerde = {
      serialize: (ss) => list.serialize(ss.map((s) => ({ splitId: s.splitId, position: s.position }))),
      deserialize: (b) => list.deserialize(b).map((s) => ({ ...s, items: this.items })),
    };
  }

  /** One split holding every item. */
  createEnumerator(ctx: SplitEnumeratorContext<CollectionSplit<T>>): StaticSplitEnumerator<CollectionSplit<T>> {
    return new StaticSplitEnumerator(ctx, [{ splitId: 'collection', items: this.items, position: 0 }]);
  }

  /** The enumerator with the splits not yet assigned at the checkpoint. */
  restoreEnumerator(
    ctx: SplitEnumeratorContext<CollectionSplit<T>>,
    checkpoint: Array<CollectionSplit<T>>,
  ): StaticSplitEnumerator<CollectionSplit<T>> {
    return new StaticSplitEnumerator(ctx, checkpoint);
  }

  /** A reader that emits its split's items from the split's position. */
  createReader(): SourceReader<T, CollectionSplit<T>> {
    return new CollectionReader<T>();
  }
}

/** Emits the items of its splits one per poll. */
class CollectionReader<T> extends SplitQueueReader<T, CollectionSplit<T>> {
  pollNext(output: ReaderOutput<T>): InputStatus {
    const split = this.splits[0];
    if (split === undefined) return this.noMoreSplits ? 'end' : 'nothing';
    if (split.position < split.items.length) {
      const item = split.items[split.position++] as T;
      output.collect(item);
      return 'more';
    }
    this.splits.shift();
    return this.splits.length > 0 || !this.noMoreSplits ? 'more' : 'end';
  }
}
