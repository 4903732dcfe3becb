import type { Evictor, TimestampedValue, Window } from '@weir/core';

/**
 * Keeps at most `maxCount` elements of a window: the most recently added ones.
 * @public
 */
export class CountEvictor<T = unknown, W extends Window = Window> implements Evictor<T, W> {
  private constructor(
    private readonly maxCount: number,
    private readonly after: boolean,
  ) {
    if (!Number.isInteger(maxCount) || maxCount < 0) throw new RangeError(`count must be a non-negative integer, got ${maxCount}`);
  }

  /**
   * @param maxCount - elements to keep
   * @param evictAfter - evict after the window function instead of before it
   */
  static of<T = unknown, W extends Window = Window>(maxCount: number, evictAfter = false): CountEvictor<T, W> {
    return new CountEvictor<T, W>(maxCount, evictAfter);
  }

  private evict(elements: Array<TimestampedValue<T>>): Array<TimestampedValue<T>> {
    return elements.length <= this.maxCount ? elements : elements.slice(elements.length - this.maxCount);
  }

  evictBefore(elements: Array<TimestampedValue<T>>): Array<TimestampedValue<T>> {
    return this.after ? elements : this.evict(elements);
  }

  evictAfter(elements: Array<TimestampedValue<T>>): Array<TimestampedValue<T>> {
    return this.after ? this.evict(elements) : elements;
  }
}
