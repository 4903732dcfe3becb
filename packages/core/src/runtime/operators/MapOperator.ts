import type { MapFunction } from '../../api/functions.js';
import { type OneInputOperator, StreamOperator } from '../StreamOperator.js';

/** Applies a map function. @internal */
export class MapOperator<TIn, TOut> extends StreamOperator<TOut> implements OneInputOperator<TIn> {
  constructor(private readonly fn: MapFunction<TIn, TOut>) {
    super();
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
