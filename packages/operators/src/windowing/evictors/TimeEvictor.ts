import type { Evictor, TimestampedValue, Window } from '@weir/core';

/**
 * Keeps the elements whose timestamp is within `keepMs` of the newest element in the window
 * (timestamp > max − keepMs).
 * @public
 */
export class TimeEvictor<T = unknown, W extends Window = Window> implements Evictor<T, W> {
  private constructor(
    private readonly keepMs: number,
    private readonly after: boolean,
  ) {
    if (!(keepMs >= 0)) throw new RangeError(`time must be >= 0, got ${keepMs}`);
  }

  /**
   * @param keepMs - how much event time before the newest element to keep
   * @param evictAfter - evict after the window function instead of before it
   */
  static of<T = unknown, W extends Window = Window>(keepMs: number, evictAfter = false): TimeEvictor<T, W> {
    return new TimeEvictor<T, W>(keepMs, evictAfter);
  }

  private evict(elements: Array<TimestampedValue<T>>): Array<TimestampedValue<T>> {
    if (elements.length === 0) return elements;
    let max = Number.NEGATIVE_INFINITY;
    for (const e of elements) if (e.timestamp > max) max = e.timestamp;
    const cutoff = max - this.keepMs;
    return elements.filter((e) => e.timestamp > cutoff);
  }

  evictBefore(elements: Array<TimestampedValue<T>>): Array<TimestampedValue<T>> {
    return this.after ? elements : this.evict(elements);
  }

  evictAfter(elements: Array<TimestampedValue<T>>): Array<TimestampedValue<T>> {
    return this.after ? this.evict(elements) : elements;
  }
}
