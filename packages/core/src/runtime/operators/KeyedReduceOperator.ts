import type { ReduceFunction } from '../../api/functions.js';
import type { KeySelector, KeyType } from '../../api/types.js';
import { type ValueState, ValueStateDescriptor } from '../../state/descriptors.js';
import type { KeyedStateBackend } from '../../state/StateBackend.js';
import { type OneInputOperator, StreamOperator } from '../StreamOperator.js';

/**
 * A rolling reduce per key: emits every intermediate result, in arrival order per key.
 * @internal
 */
export class KeyedReduceOperator<K extends KeyType, T> extends StreamOperator<T> implements OneInputOperator<T> {
  private state!: ValueState<T>;
  private backend!: KeyedStateBackend;

  constructor(
    private readonly fn: ReduceFunction<T>,
    private readonly keySelector: KeySelector<T, K>,
  ) {
    super();
  }

  override open(): void {
    this.backend = this.keyedBackend('reduce()');
    this.state = this.backend.getValueState(new ValueStateDescriptor<T>('_reduce'));
  }

  processElement(value: T, timestamp: number): void {
    let result: T;
    let key: K;
    try {
      key = this.keySelector(value);
    } catch (e) {
      // No key yet: do not report the previous record's key.
      throw this.userError(e, false);
    }
    try {
      this.backend.setCurrentKey(key);
      const current = this.state.value();
      result = current === undefined ? value : this.fn(current, value);
    } catch (e) {
      throw this.userError(e, true);
    }
    this.state.update(result);
    this.output.collect(result, timestamp);
  }
}
