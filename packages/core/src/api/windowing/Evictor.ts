import type { Window } from './Window.js';

/**
 * An element of a window with its timestamp, as evictors see them.
 * @public
 */
export interface TimestampedValue<T> {
  /** The element. */
  readonly value: T;
  /** The timestamp the element arrived with. */
  readonly timestamp: number;
}

/**
 * What an evictor can read.
 * @public
 */
export interface EvictorContext {
  /** Current processing time. */
  getCurrentProcessingTime(): number;
  /** Current watermark. */
  getCurrentWatermark(): number;
}

/**
 * Removes elements from a window's contents before and/or after the window function runs.
 * A window with an evictor keeps all its elements (no incremental aggregation).
 * @public
 */
export interface Evictor<T, W extends Window> {
  /** Returns the elements to keep, before the function runs. */
  evictBefore(elements: Array<TimestampedValue<T>>, window: W, ctx: EvictorContext): Array<TimestampedValue<T>>;
  /** Returns the elements to keep, after the function ran. */
  evictAfter(elements: Array<TimestampedValue<T>>, window: W, ctx: EvictorContext): Array<TimestampedValue<T>>;
}
