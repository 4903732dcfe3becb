import type { InputStatus, ReaderOutput, Source, SourceReader, SourceSplit, SplitEnumeratorContext } from '../api/Source.js';
import { jsonSerde, type Serde } from '../api/Serde.js';
import { SplitQueueReader } from './SplitQueueReader.js';
import { StaticSplitEnumerator } from './StaticSplitEnumerator.js';

/**
 * A range `[next, end]` of a sequence.
 * @public
 */
export interface SequenceSplit extends SourceSplit {
  /** Next number to emit. */
  next: number;
  /** Last number, inclusive. */
  readonly end: number;
}

/**
 * A bounded, parallel source of the integers `start..end` inclusive (`env.fromSequence`), split
 * into one range per reader. Positions are checkpointed; watermarks are generated per record.
 * @public
 */
export class SequenceSource implements Source<number, SequenceSplit, SequenceSplit[]> {
  /** A sequence ends. */
  readonly boundedness = 'bounded' as const;
  /** Watermarks follow every record, so bounded runs are deterministic. */
  readonly emitsWatermarkPerRecord = true;
  /** Splits are checkpointed as JSON `{ splitId, next, end }`. */
  readonly splitSerde: Serde<SequenceSplit> = jsonSerde<SequenceSplit>();
  /** The unassigned splits, as JSON. */
  readonly enumeratorStateSerde: Serde<SequenceSplit[]> = jsonSerde<SequenceSplit[]>();

  /**
   * @param start - first number
   * @param end - last number, inclusive
   */
  constructor(
    readonly start: number,
    readonly end: number,
  ) {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) throw new RangeError('sequence bounds must be safe integers');
    if (end < start) throw new RangeError(`sequence end ${end} is before start ${start}`);
  }

  /** One contiguous range per reader. */
  createEnumerator(ctx: SplitEnumeratorContext<SequenceSplit>): StaticSplitEnumerator<SequenceSplit> {
    const n = ctx.parallelism;
    const total = this.end - this.start + 1;
    const splits: SequenceSplit[] = [];
    for (let i = 0; i < n; i++) {
      const from = this.start + Math.floor((total * i) / n);
      const to = this.start + Math.floor((total * (i + 1)) / n) - 1;
      if (to >= from) splits.push({ splitId: `seq-${i}`, next: from, end: to });
    }
    return new StaticSplitEnumerator(ctx, splits);
  }

  /** The enumerator with the splits not yet assigned at the checkpoint. */
  restoreEnumerator(ctx: SplitEnumeratorContext<SequenceSplit>, checkpoint: SequenceSplit[]): StaticSplitEnumerator<SequenceSplit> {
    return new StaticSplitEnumerator(ctx, checkpoint);
  }

  /** A reader that counts through its splits from their positions. */
  createReader(): SourceReader<number, SequenceSplit> {
    return new SequenceReader();
  }
}

class SequenceReader extends SplitQueueReader<number, SequenceSplit> {
  pollNext(output: ReaderOutput<number>): InputStatus {
    const split = this.splits[0];
    if (split === undefined) return this.noMoreSplits ? 'end' : 'nothing';
    if (split.next <= split.end) {
      output.collect(split.next++);
      return 'more';
    }
    this.splits.shift();
    return this.splits.length > 0 || !this.noMoreSplits ? 'more' : 'end';
  }
}
