import type { FilterFunction } from '../../api/functions.js';
import { type OneInputOperator, StreamOperator } from '../StreamOperator.js';

/** Keeps records for which the predicate holds. @internal */
export class FilterOperator<T> extends StreamOperator<T> implements OneInputOperator<T> {
  constructor(private readonly fn: FilterFunction<T>) {
    super();
  }

  processElement(value: T, timestamp: number): void {
    let keep: boolean;
    try {
      keep = this.fn(value);
    } catch (e) {
      throw this.userError(e, false);
    }
    if (keep) this.output.collect(value, timestamp);
  }
}
