import type { AggregateFunction } from '@weir/core';

/**
 * Counts elements.
 *
 * The accumulator is the count itself (a number), so it is trivially mergeable and JSON-safe.
 *
 * @typeParam TIn - the element type (inferred from the stream it is used on)
 * @returns an aggregate function whose result is the number of elements added
 *
 * @example
 * ```ts
 * stream.keyBy((e) => e.user).window(TumblingEventTimeWindows.of(60_000))
 *   .aggregate(count(), (user, w, n) => ({ user, start: w.start, n }));
 * ```
 * @public
 */
export function count<TIn = unknown>(): AggregateFunction<TIn, number, number> {
  return {
    createAccumulator: () => 0,
    add: (_value, acc) => acc + 1,
    getResult: (acc) => acc,
    merge: (a, b) => a + b,
  };
}
