import { MergingWindowAssigner, type SessionAssigner, TimeWindow, type Trigger } from '@weir/core';
import { EventTimeTrigger } from '../triggers/EventTimeTrigger.js';
import { mergeTimeWindows } from './mergeTimeWindows.js';

/**
 * Extracts the session gap of an element (for dynamic gaps), in ms.
 * @public
 */
export type SessionGapExtractor<T> = (element: T) => number;

/**
 * Event-time sessions: each element opens `[ts, ts + gap)`; windows of a key that overlap or
 * touch merge into their cover. A session ends when no element arrives for `gap` ms of event
 * time. A late element can merge two sessions into one.
 * @public
 */
export class EventTimeSessionWindows<T = unknown> extends MergingWindowAssigner<T, TimeWindow> implements SessionAssigner<T> {
  private readonly out: TimeWindow[] = [];

  private constructor(
    private readonly gap: number | undefined,
    private readonly gapOf: SessionGapExtractor<T> | undefined,
  ) {
    super();
  }

  /** Sessions with a fixed inactivity gap in ms. */
  static withGap<T = unknown>(gapMs: number): EventTimeSessionWindows<T> {
    if (!(gapMs > 0) || !Number.isFinite(gapMs)) throw new RangeError(`session gap must be a positive number, got ${gapMs}`);
    return new EventTimeSessionWindows<T>(gapMs, undefined);
  }

  /** Sessions whose gap each element decides (e.g. per device type). */
  static withDynamicGap<T>(extractor: SessionGapExtractor<T>): EventTimeSessionWindows<T> {
    return new EventTimeSessionWindows<T>(undefined, extractor);
  }

  assignWindows(element: T, timestamp: number): readonly TimeWindow[] {
    if (!Number.isFinite(timestamp)) {
      throw new TypeError('record has no timestamp: event-time windows need assignTimestampsAndWatermarks(...) upstream');
    }
    this.out[0] = new TimeWindow(timestamp, timestamp + this.sessionGap(element));
    return this.out;
  }

  /** The gap of the session `element` opens: the fixed gap, or the extractor's (validated). */
  sessionGap(element: T): number {
    if (this.gap !== undefined) return this.gap;
    const gap = (this.gapOf as SessionGapExtractor<T>)(element);
    if (!(gap > 0) || !Number.isFinite(gap)) throw new RangeError(`dynamic session gap must be a positive number, got ${gap}`);
    return gap;
  }

  mergeWindows(windows: readonly TimeWindow[], merge: (toBeMerged: TimeWindow[], mergeResult: TimeWindow) => void): void {
    mergeTimeWindows(windows, merge);
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
    return this.gap !== undefined ? `EventTimeSessionWindows(${this.gap})` : 'EventTimeSessionWindows(dynamic)';
  }
}
