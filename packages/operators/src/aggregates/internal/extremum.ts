import type { AggregateFunction } from '@weir/core';
import type { ExtremumAccumulator } from '../types.js';
import { compareScalars } from './compare.js';

/** Decodes the extreme of an accumulator. */
function extremeOf<V extends number | string>(acc: ExtremumAccumulator<V>): V | undefined {
  if (acc.infinity !== 0) return (acc.infinity > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY) as V;
  return acc.value === null ? undefined : acc.value;
}

/** Stores `v` (known non-null, non-NaN) in the accumulator. */
function store<V extends number | string>(acc: ExtremumAccumulator<V>, v: V): void {
  if (typeof v === 'number' && !Number.isFinite(v)) {
    acc.value = null;
    acc.infinity = v > 0 ? 1 : -1;
  } else {
    // -0 would compare equal to 0 (so the result would depend on order) and JSON drops its sign.
    acc.value = (v === 0 ? 0 : v) as V;
    acc.infinity = 0;
  }
}

/**
 * `min` (sign 1) and `max` (sign -1): keeps the value that sorts first under
 * `sign * compareScalars`. `null`, `undefined` and `NaN` are skipped.
 * @internal
 */
export function extremum<TIn, V extends number | string>(
  selector: (value: TIn) => V | null | undefined,
  sign: 1 | -1,
): AggregateFunction<TIn, ExtremumAccumulator<V>, V | undefined> {
  const offer = (acc: ExtremumAccumulator<V>, v: V | null | undefined): void => {
    if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) return;
    const current = extremeOf(acc);
    if (current === undefined || sign * compareScalars(v, current) < 0) store(acc, v);
  };
  return {
    createAccumulator: () => ({ value: null, infinity: 0 }),
    add(value, acc) {
      offer(acc, selector(value));
      return acc;
    },
    getResult: extremeOf,
    merge(a, b) {
      offer(a, extremeOf(b));
      return a;
    },
  };
}
