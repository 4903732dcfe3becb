import type { AggregateFunction } from '@weir/core';

/**
 * The accumulator of {@link distinctCount}: the set of distinct values.
 * @public
 */
export interface DistinctCountAccumulator {
  /** The distinct values seen, by their string form, as the keys of a plain object. */
  keys: Record<string, 1>;
  /** The number of keys (kept so the result is O(1)). */
  count: number;
}

/** Adds a key unless present. */
function addKey(acc: DistinctCountAccumulator, key: string): void {
  const keys = acc.keys;
  if (Object.hasOwn(keys, key)) return;
  // Assigning `__proto__` would set the prototype instead of adding a key.
  if (key === '__proto__') Object.defineProperty(keys, key, { value: 1, enumerable: true, writable: true, configurable: true });
  else keys[key] = 1;
  acc.count++;
}

/**
 * Counts distinct values exactly.
 *
 * Values are compared by their string form (`String(v)`), the same identity
 * `approxDistinctCount` hashes, so `1` and `'1'` count once. `null` and `undefined` are skipped,
 * as SQL's `COUNT(DISTINCT …)` skips `NULL`. The accumulator holds every distinct value, so
 * state grows with the cardinality; for large cardinalities use `approxDistinctCount`.
 *
 * @typeParam TIn - the element type
 * @param selector - the value whose distinct occurrences are counted
 * @returns an aggregate function whose result is the number of distinct values
 *
 * @example
 * ```ts
 * // Distinct users per page per minute.
 * .aggregate(distinctCount((e) => e.userId), (page, w, users) => ({ page, end: w.end, users }));
 * ```
 * @public
 */
export function distinctCount<TIn>(
  selector: (value: TIn) => string | number | bigint | boolean | null | undefined,
): AggregateFunction<TIn, DistinctCountAccumulator, number> {
  return {
    createAccumulator: () => ({ keys: {}, count: 0 }),
    add(value, acc) {
      const v = selector(value);
      if (v !== null && v !== undefined) addKey(acc, String(v));
      return acc;
    },
    getResult: (acc) => acc.count,
    merge(a, b) {
      for (const key of Object.keys(b.keys)) addKey(a, key);
      return a;
    },
  };
}
