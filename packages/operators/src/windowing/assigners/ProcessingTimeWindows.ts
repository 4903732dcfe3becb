import { MergingWindowAssigner, TimeWindow, type Trigger, WindowAssigner, type WindowAssignerContext } from '@weir/core';
import { ProcessingTimeTrigger } from '../triggers/ProcessingTimeTrigger.js';
import { mergeTimeWindows } from './mergeTimeWindows.js';

/**
 * Fixed-size, non-overlapping windows of processing time (the job's clock).
 * @public
 */
export class TumblingProcessingTimeWindows<T = unknown> extends WindowAssigner<T, TimeWindow> {
  private constructor(
    readonly size: number,
    readonly offset: number,
  ) {
    super();
    if (!(size > 0)) throw new RangeError(`window size must be > 0, got ${size}`);
  }

  /** @param size - window length in ms */
  static of<T = unknown>(size: number, offset = 0): TumblingProcessingTimeWindows<T> {
    return new TumblingProcessingTimeWindows<T>(size, offset);
  }

  assignWindows(_e: T, _ts: number, ctx: WindowAssignerContext): readonly TimeWindow[] {
    const now = ctx.getCurrentProcessingTime();
    const start = TimeWindow.windowStart(now, this.offset, this.size);
    return [new TimeWindow(start, start + this.size)];
  }

  getDefaultTrigger(): Trigger<T, TimeWindow> {
    return ProcessingTimeTrigger.create<T>();
  }

  isEventTime(): boolean {
    return false;
  }

  windowFromId(id: string): TimeWindow {
    return TimeWindow.fromId(id);
  }
}

/**
 * Overlapping windows of processing time.
 * @public
 */
export class SlidingProcessingTimeWindows<T = unknown> extends WindowAssigner<T, TimeWindow> {
  private constructor(
    readonly size: number,
    readonly slide: number,
    readonly offset: number,
  ) {
    super();
    if (!(size > 0) || !(slide > 0)) throw new RangeError('window size and slide must be > 0');
  }

  /** @param size - window length in ms; @param slide - distance between starts */
  static of<T = unknown>(size: number, slide: number, offset = 0): SlidingProcessingTimeWindows<T> {
    return new SlidingProcessingTimeWindows<T>(size, slide, offset);
  }

  assignWindows(_e: T, _ts: number, ctx: WindowAssignerContext): readonly TimeWindow[] {
    const now = ctx.getCurrentProcessingTime();
    const out: TimeWindow[] = [];
    for (let start = TimeWindow.windowStart(now, this.offset, this.slide); start > now - this.size; start -= this.slide) {
      out.push(new TimeWindow(start, start + this.size));
    }
    return out;
  }

  getDefaultTrigger(): Trigger<T, TimeWindow> {
    return ProcessingTimeTrigger.create<T>();
  }

  isEventTime(): boolean {
    return false;
  }

  windowFromId(id: string): TimeWindow {
    return TimeWindow.fromId(id);
  }
}

/**
 * Sessions in processing time: a session ends after `gap` ms of wall-clock inactivity.
 * @public
 */
export class ProcessingTimeSessionWindows<T = unknown> extends MergingWindowAssigner<T, TimeWindow> {
  private constructor(private readonly gap: number | undefined, private readonly gapOf: ((e: T) => number) | undefined) {
    super();
  }

  /** Sessions with a fixed gap. */
  static withGap<T = unknown>(gapMs: number): ProcessingTimeSessionWindows<T> {
    if (!(gapMs > 0)) throw new RangeError(`session gap must be > 0, got ${gapMs}`);
    return new ProcessingTimeSessionWindows<T>(gapMs, undefined);
  }

  /** Sessions whose gap each element decides. */
  static withDynamicGap<T>(extractor: (e: T) => number): ProcessingTimeSessionWindows<T> {
    return new ProcessingTimeSessionWindows<T>(undefined, extractor);
  }

  assignWindows(e: T, _ts: number, ctx: WindowAssignerContext): readonly TimeWindow[] {
    const now = ctx.getCurrentProcessingTime();
    const gap = this.gap ?? (this.gapOf as (e: T) => number)(e);
    return [new TimeWindow(now, now + gap)];
  }

  mergeWindows(windows: readonly TimeWindow[], merge: (toBeMerged: TimeWindow[], mergeResult: TimeWindow) => void): void {
    mergeTimeWindows(windows, merge);
  }

  getDefaultTrigger(): Trigger<T, TimeWindow> {
    return ProcessingTimeTrigger.create<T>();
  }

  isEventTime(): boolean {
    return false;
  }

  windowFromId(id: string): TimeWindow {
    return TimeWindow.fromId(id);
  }
}
