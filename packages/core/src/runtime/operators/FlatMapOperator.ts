import type { FlatMapFunction } from '../../api/functions.js';
import { type OneInputOperator, StreamOperator, TimestampedCollector } from '../StreamOperator.js';

/** Applies a flat-map function. @internal */
export class FlatMapOperator<TIn, TOut> extends StreamOperator<TOut> implements OneInputOperator<TIn> {
  private collector!: TimestampedCollector<TOut>;

  constructor(private readonly fn: FlatMapFunction<TIn, TOut>) {
    super();
  }

  override open(): void {
    this.collector = new TimestampedCollector(this.output);
  }

  processElement(value: TIn, timestamp: number): void {
    this.collector.timestamp = timestamp;
    try {
      this.fn(value, this.collector);
    } catch (e) {
      throw this.userError(e, false);
    }
  }
}
