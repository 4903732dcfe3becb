import { type SliceAssigner, TimeWindow, type Trigger, WindowAssigner } from '@weir/core';
import { EventTimeTrigger } from '../triggers/EventTimeTrigger.js';

/**
 * Fixed-size, non-overlapping event-time windows: the window of timestamp `ts` starts at
 * `ts − ((ts − offset) mod size)`. Fires when the watermark reaches `end − 1`.
 * @example
 * ```ts
 * keyed.window(TumblingEventTimeWindows.of(60_000)); // one-minute windows
 * ```
 * @public
 */
export class TumblingEventTimeWindows<T = unknown> extends WindowAssigner<T, TimeWindow> implements SliceAssigner {
  readonly slide: number;
  private readonly out: TimeWindow[] = [];
  private last: TimeWindow | undefined;

  private constructor(
    readonly size: number,
    readonly offset: number,
  ) {
    super();
    if (!(size > 0) || !Number.isFinite(size)) throw new RangeError(`window size must be a positive number, got ${size}`);
    if (!(Math.abs(offset) < size)) throw new RangeError(`window offset must satisfy |offset| < size, got ${offset}`);
    this.slide = size;
  }

  /**
   * @param size - window length in ms
   * @param offset - shifts window starts (e.g. time zones for daily windows); `|offset| < size`
   */
  static of<T = unknown>(size: number, offset = 0): TumblingEventTimeWindows<T> {
    return new TumblingEventTimeWindows<T>(size, offset);
  }

  assignWindows(_element: T, timestamp: number): readonly TimeWindow[] {
    if (!Number.isFinite(timestamp)) {
      throw new TypeError('record has no timestamp: event-time windows need assignTimestampsAndWatermarks(...) upstream');
    }
    const start = TimeWindow.windowStart(timestamp, this.offset, this.size);
    let w = this.last;
    if (w === undefined || w.start !== start) {
      w = new TimeWindow(start, start + this.size);
      this.last = w;
    }
    this.out[0] = w;
    return this.out;
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
    return `TumblingEventTimeWindows(${this.size})`;
  }
}
