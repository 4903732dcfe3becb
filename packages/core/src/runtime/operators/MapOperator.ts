import type { MapFunction } from '../../api/functions.js';
import { type OneInputOperator, StreamOperator } from '../StreamOperator.js';
import { ChainLink } from '../Output.js';

/** Applies a map function. @internal */
export class MapOperator<TIn, TOut> extends StreamOperator<TOut> implements OneInputOperator<TIn> {
  constructor(private readonly fn: MapFunction<TIn, TOut>) {
    super();
  }

  createChainLink(): ChainLink<TIn> {
    return new MapLink<TIn>(this);
  }

  processElement(value: TIn, timestamp: number): void {
    let result: TOut;
    try {
      result = this.fn(value);
    } catch (e) {
      throw this.userError(e, false);
    }
    this.output.collect(result, timestamp);
  }
}

/** The chain link into a map operator: its own `collect`, so the call is monomorphic. @internal */
class MapLink<TIn> extends ChainLink<TIn> {
  constructor(private readonly target: MapOperator<TIn, unknown>) {
    super(target);
  }

  collect(value: TIn, timestamp: number): void {
    this.recordsOut++;
    this.target.processElement(value, timestamp);
  }
}
