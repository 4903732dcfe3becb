import type { OnMergeContext, TimeWindow, Trigger, TriggerContext, TriggerResult, Window } from '@weir/core';

/**
 * Fires a window once the watermark passes its end (`maxTimestamp = end − 1`), and again for
 * every element that arrives for it afterwards within the allowed lateness. The default trigger
 * of event-time assigners.
 * @public
 */
export class EventTimeTrigger<T = unknown> implements Trigger<T, TimeWindow> {
  private static readonly INSTANCE = new EventTimeTrigger<unknown>();

  private constructor() {}

  /** The trigger. */
  static create<T = unknown>(): EventTimeTrigger<T> {
    return EventTimeTrigger.INSTANCE as EventTimeTrigger<T>;
  }

  onElement(_element: T, _timestamp: number, window: Window, ctx: TriggerContext): TriggerResult {
    if (window.maxTimestamp() <= ctx.getCurrentWatermark()) return 'FIRE';
    ctx.registerEventTimeTimer(window.maxTimestamp());
    return 'CONTINUE';
  }

  onEventTime(time: number, window: Window): TriggerResult {
    return time === window.maxTimestamp() ? 'FIRE' : 'CONTINUE';
  }

  onProcessingTime(): TriggerResult {
    return 'CONTINUE';
  }

  canMerge(): boolean {
    return true;
  }

  onMerge(window: Window, ctx: OnMergeContext): void {
    if (window.maxTimestamp() > ctx.getCurrentWatermark()) ctx.registerEventTimeTimer(window.maxTimestamp());
  }

  clear(window: Window, ctx: TriggerContext): void {
    ctx.deleteEventTimeTimer(window.maxTimestamp());
  }
}
