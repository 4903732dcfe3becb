/**
 * Accumulator types shared by several aggregate functions. Every accumulator is plain JSON data
 * (arrays, objects, finite numbers, strings), because keyed state is written to checkpoints with
 * the JSON serde by default. Treat them as opaque: their fields may change between versions.
 */

/**
 * The accumulator of `sum` and `avg`: the exact sum as non-overlapping partial sums (Shewchuk's
 * algorithm), so results do not depend on the order in which elements arrive or panes merge.
 * @public
 */
export interface SumAccumulator {
  /** Non-overlapping finite partial sums, smallest magnitude first; their exact total is the sum. */
  partials: number[];
  /** Non-finite inputs seen, as bits (JSON cannot hold them): 1 = +Infinity, 2 = -Infinity, 4 = NaN. */
  special: number;
}

/**
 * The accumulator of `min` and `max`.
 * @public
 */
export interface ExtremumAccumulator<V> {
  /** The extreme value so far; `null` when empty or when it is infinite (see `infinity`). */
  value: V | null;
  /** `1` or `-1` when the extreme is `+Infinity` or `-Infinity` (JSON cannot hold them), else `0`. */
  infinity: number;
}

/**
 * The accumulator of `first` and `last`: the chosen element with what orders it.
 * @public
 */
export interface OrderedValueAccumulator<T> {
  /** `[timestamp, arrival number, value]` of the chosen element, or `null` when empty. */
  entry: [number, number, T] | null;
  /** The highest arrival number ever added; keeps arrival numbers increasing after a restore. */
  highestSequence: number;
}
