import { type SliceAssigner, TimeWindow, type Trigger, WindowAssigner } from '@weir/core';
import { EventTimeTrigger } from '../triggers/EventTimeTrigger.js';

/**
 * Overlapping event-time windows of length `size` starting every `slide`: an element belongs to
 * every `[start, start + size)` with `start ≡ offset (mod slide)` and `start <= ts < start + size`.
 * With incremental `reduce`/`aggregate`, Weir keeps one accumulator per slice (pane), not per
 * window, so a 7-day window sliding every minute costs one update per record.
 * @public
 */
export class SlidingEventTimeWindows<T = unknown> extends WindowAssigner<T, TimeWindow> implements SliceAssigner {
  private constructor(
    readonly size: number,
    readonly slide: number,
    readonly offset: number,
  ) {
    super();
    if (!(size > 0) || !(slide > 0) || !Number.isFinite(size) || !Number.isFinite(slide)) {
      throw new RangeError(`window size and slide must be positive numbers, got ${size}, ${slide}`);
    }
    if (!(Math.abs(offset) < slide)) throw new RangeError(`window offset must satisfy |offset| < slide, got ${offset}`);
  }

  /**
   * @param size - window length in ms
   * @param slide - distance between window starts in ms
   * @param offset - shifts window starts; `|offset| < slide`
   */
  static of<T = unknown>(size: number, slide: number, offset = 0): SlidingEventTimeWindows<T> {
    return new SlidingEventTimeWindows<T>(size, slide, offset);
  }

  assignWindows(_element: T, timestamp: number): readonly TimeWindow[] {
    if (!Number.isFinite(timestamp)) {
      throw new TypeError('record has no timestamp: event-time windows need assignTimestampsAndWatermarks(...) upstream');
    }
    const out: TimeWindow[] = [];
    const last = TimeWindow.windowStart(timestamp, this.offset, this.slide);
    for (let start = last; start > timestamp - this.size; start -= this.slide) {
      out.push(new TimeWindow(start, start + this.size));
    }
    return out;
  }

  getDefaultTrigger(): Trigger<T, TimeWindow> {
    return EventTimeTrigger.create<T>();
  }

  isEventTime(): boolean {
    return true;
  }

  windowFromId(id: string): TimeWindow {
    return TimeWindow.fromId(id);
  }

  override toString(): string {
    return `SlidingEventTimeWindows(${this.size}, ${this.slide})`;
  }
}
