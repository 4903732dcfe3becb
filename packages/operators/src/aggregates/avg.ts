import type { AggregateFunction } from '@weir/core';
import { addToSum, emptySum, mergeSums, sumValue } from './internal/exactSum.js';
import type { SumAccumulator } from './types.js';

/**
 * The accumulator of {@link avg}: an exact sum and a count.
 * @public
 */
export interface AvgAccumulator {
  /** The exact sum of the values. */
  sum: SumAccumulator;
  /** How many values were added. */
  count: number;
}

/**
 * Averages a numeric field: the exact sum (see `sum`) divided by the count, so the result does
 * not depend on arrival or merge order.
 *
 * @typeParam TIn - the element type
 * @param selector - the number to average for each element
 * @returns an aggregate function whose result is the mean, or `undefined` when no element was
 *   added (never `NaN` from `0 / 0`)
 *
 * @example
 * ```ts
 * .aggregate(avg((e) => e.latencyMs), (route, w, mean) => ({ route, end: w.end, mean: mean ?? 0 }));
 * ```
 * @public
 */
export function avg<TIn>(selector: (value: TIn) => number): AggregateFunction<TIn, AvgAccumulator, number | undefined> {
  return {
    createAccumulator: () => ({ sum: emptySum(), count: 0 }),
    add(value, acc) {
      addToSum(acc.sum, selector(value));
      acc.count++;
      return acc;
    },
    getResult: (acc) => (acc.count === 0 ? undefined : sumValue(acc.sum) / acc.count),
    merge(a, b) {
      mergeSums(a.sum, b.sum);
      a.count += b.count;
      return a;
    },
  };
}
