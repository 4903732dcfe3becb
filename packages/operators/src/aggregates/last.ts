import type { AggregateFunction } from '@weir/core';
import { ordered } from './internal/ordered.js';
import type { OrderedValueAccumulator } from './types.js';

/**
 * The latest element, by event order.
 *
 * Event order is the element's timestamp from `timestampSelector` (usually the same field the
 * watermark strategy reads), ties broken by arrival (the later arrival wins); without a selector
 * it is arrival order alone. The accumulator stores the timestamp and an arrival number next to
 * the value, so merging panes or sessions gives the same element as one pass over the input, in
 * any merge order. Arrival numbers come from a hybrid logical clock (wall-clock microseconds,
 * strictly increasing within a thread), so they stay comparable across accumulators and after a
 * restore from a checkpoint. Prefer a timestamp selector: arrival then only breaks ties.
 *
 * @typeParam TIn - the element type
 * @typeParam TOut - what is kept: the element itself, or `valueSelector`'s result
 * @param timestampSelector - the element's event time (finite number); omit for arrival order
 * @param valueSelector - what to keep of the element (keeps state small); default the element
 * @returns an aggregate function whose result is the (projected) latest element, or
 *   `undefined` when none was added
 *
 * @example
 * ```ts
 * // The last page each user saw in the session.
 * .window(EventTimeSessionWindows.withGap(30 * 60_000))
 * .aggregate(last((e) => e.ts, (e) => e.page), (user, w, exit) => ({ user, exit }));
 * ```
 * @public
 */
export function last<TIn>(
  timestampSelector?: (value: TIn) => number,
): AggregateFunction<TIn, OrderedValueAccumulator<TIn>, TIn | undefined>;
/** {@inheritDoc last} @public */
export function last<TIn, TOut>(
  timestampSelector: ((value: TIn) => number) | undefined,
  valueSelector: (value: TIn) => TOut,
): AggregateFunction<TIn, OrderedValueAccumulator<TOut>, TOut | undefined>;
export function last<TIn, TOut>(
  timestampSelector?: (value: TIn) => number,
  valueSelector?: (value: TIn) => TOut,
): AggregateFunction<TIn, OrderedValueAccumulator<TOut>, TOut | undefined> {
  return ordered(timestampSelector, valueSelector, -1);
}
