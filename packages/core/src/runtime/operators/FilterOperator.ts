import type { FilterFunction } from '../../api/functions.js';
import { type OneInputOperator, StreamOperator } from '../StreamOperator.js';
import { ChainLink } from '../Output.js';

/** Keeps records for which the predicate holds. @internal */
export class FilterOperator<T> extends StreamOperator<T> implements OneInputOperator<T> {
  constructor(private readonly fn: FilterFunction<T>) {
    super();
  }

  createChainLink(): ChainLink<T> {
    return new FilterLink<T>(this);
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

/** The chain link into a filter operator: its own `collect`, so the call is monomorphic. @internal */
class FilterLink<T> extends ChainLink<T> {
  constructor(private readonly target: FilterOperator<T>) {
    super(target);
  }

  collect(value: T, timestamp: number): void {
    this.recordsOut++;
    this.target.processElement(value, timestamp);
  }
}
