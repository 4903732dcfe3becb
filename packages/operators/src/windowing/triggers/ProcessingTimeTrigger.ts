import type { OnMergeContext, TimeWindow, Trigger, TriggerContext, TriggerResult, Window } from '@weir/core';

/**
 * Fires a window when processing time reaches its end. The default trigger of processing-time
 * assigners.
 * @public
 */
export class ProcessingTimeTrigger<T = unknown> implements Trigger<T, TimeWindow> {
  private static readonly INSTANCE = new ProcessingTimeTrigger<unknown>();

  private constructor() {}

  /** The trigger. */
  static create<T = unknown>(): ProcessingTimeTrigger<T> {
    return ProcessingTimeTrigger.INSTANCE as ProcessingTimeTrigger<T>;
  }

  onElement(_element: T, _timestamp: number, window: Window, ctx: TriggerContext): TriggerResult {
    ctx.registerProcessingTimeTimer(window.maxTimestamp());
    return 'CONTINUE';
  }

  onEventTime(): TriggerResult {
    return 'CONTINUE';
  }

  onProcessingTime(): TriggerResult {
    return 'FIRE';
  }

  canMerge(): boolean {
    return true;
  }

  onMerge(window: Window, ctx: OnMergeContext): void {
    if (window.maxTimestamp() > ctx.getCurrentProcessingTime()) ctx.registerProcessingTimeTimer(window.maxTimestamp());
  }

  clear(window: Window, ctx: TriggerContext): void {
    ctx.deleteProcessingTimeTimer(window.maxTimestamp());
  }
}
