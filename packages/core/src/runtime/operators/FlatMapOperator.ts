import type { FlatMapFunction } from '../../api/functions.js';
import { type OneInputOperator, StreamOperator, TimestampedCollector } from '../StreamOperator.js';
import { ChainLink } from '../Output.js';

/** Applies a flat-map function. @internal */
export class FlatMapOperator<TIn, TOut> extends StreamOperator<TOut> implements OneInputOperator<TIn> {
  private collector!: TimestampedCollector<TOut>;

  constructor(private readonly fn: FlatMapFunction<TIn, TOut>) {
    super();
  }

  override open(): void {
    this.collector = new TimestampedCollector(this.output);
  }

  createChainLink(): ChainLink<TIn> {
    return new FlatMapLink<TIn>(this);
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

/** The chain link into a flat-map operator: its own `collect`, so the call is monomorphic. @internal */
class FlatMapLink<TIn> extends ChainLink<TIn> {
  constructor(private readonly target: FlatMapOperator<TIn, unknown>) {
    super(target);
  }

  collect(value: TIn, timestamp: number): void {
    this.recordsOut++;
    this.target.processElement(value, timestamp);
  }
}
