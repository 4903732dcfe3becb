import type { AggregateFunction } from '@weir/core';
import { addToSum, emptySum, mergeSums, sumValue } from './internal/exactSum.js';
import type { SumAccumulator } from './types.js';

/**
 * Sums a numeric field, exactly.
 *
 * The accumulator keeps the exact sum as a short list of non-overlapping partial sums
 * (Shewchuk's algorithm, as Python's `math.fsum`), and the result is that exact sum rounded once.
 * So the result is the same whatever the arrival order and however panes or sessions were
 * merged: floating-point addition is not associative, this sum is. `NaN` or both infinities give
 * `NaN`, one infinity gives that infinity; a running sum beyond `±Number.MAX_VALUE` saturates to
 * `±Infinity`. The empty sum is `0`.
 *
 * @typeParam TIn - the element type
 * @param selector - the number to add for each element
 * @returns an aggregate function whose result is the sum of `selector` over the elements
 *
 * @example
 * ```ts
 * stream.keyBy((e) => e.user).window(SlidingEventTimeWindows.of(60_000, 10_000))
 *   .aggregate(sum((e) => e.amount), (user, w, total) => ({ user, end: w.end, total }));
 * ```
 * @public
 */
export function sum<TIn>(selector: (value: TIn) => number): AggregateFunction<TIn, SumAccumulator, number> {
  return {
    createAccumulator: emptySum,
    add(value, acc) {
      addToSum(acc, selector(value));
      return acc;
    },
    getResult: sumValue,
    merge(a, b) {
      mergeSums(a, b);
      return a;
    },
  };
}
