import type { AggregateFunction } from '@weir/core';
import { extremum } from './internal/extremum.js';
import type { ExtremumAccumulator } from './types.js';

/**
 * The largest value of a field.
 *
 * Numbers compare numerically, strings by UTF-16 code units (so ISO-8601 dates work); if a
 * selector returns both, every number sorts before every string. `null`, `undefined` and `NaN`
 * are skipped, as SQL skips `NULL`. `±Infinity` is kept (and survives checkpoints); `-0` is
 * reported as `0`.
 *
 * @typeParam TIn - the element type
 * @typeParam V - the compared value type: `number`, `string` or a literal union of them
 * @param selector - the value to compare for each element
 * @returns an aggregate function whose result is the maximum, or `undefined` when no value was
 *   added
 *
 * @example
 * ```ts
 * .aggregate(max((e) => e.price), (sym, w, high) => ({ sym, end: w.end, high }));
 * ```
 * @public
 */
export function max<TIn, V extends number | string>(
  selector: (value: TIn) => V | null | undefined,
): AggregateFunction<TIn, ExtremumAccumulator<V>, V | undefined> {
  return extremum(selector, -1);
}
