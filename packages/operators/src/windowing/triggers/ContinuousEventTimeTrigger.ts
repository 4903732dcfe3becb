import {
  type OnMergeContext,
  ReducingStateDescriptor,
  type Trigger,
  type TriggerContext,
  type TriggerResult,
  type Window,
} from '@weir/core';

/**
 * Fires early results every `interval` ms of event time while a window is open, and at the
 * window's end like {@link EventTimeTrigger}.
 * @public
 */
export class ContinuousEventTimeTrigger<T = unknown, W extends Window = Window> implements Trigger<T, W> {
  private readonly nextFire = new ReducingStateDescriptor<number>('next-fire', (a, b) => Math.min(a, b));

  private constructor(private readonly interval: number) {
    if (!(interval > 0)) throw new RangeError(`interval must be > 0, got ${interval}`);
  }

  /** Fires every `intervalMs` of event time. */
  static of<T = unknown, W extends Window = Window>(intervalMs: number): ContinuousEventTimeTrigger<T, W> {
    return new ContinuousEventTimeTrigger<T, W>(intervalMs);
  }

  onElement(_e: T, timestamp: number, window: W, ctx: TriggerContext): TriggerResult {
    if (window.maxTimestamp() <= ctx.getCurrentWatermark()) return 'FIRE';
    ctx.registerEventTimeTimer(window.maxTimestamp());
    const next = ctx.getPartitionedState(this.nextFire);
    if (next.get() === undefined) {
      const start = timestamp - (((timestamp % this.interval) + this.interval) % this.interval);
      this.schedule(start, window, ctx);
    }
    return 'CONTINUE';
  }

  private schedule(time: number, window: W, ctx: TriggerContext): void {
    const next = Math.min(time + this.interval, window.maxTimestamp());
    ctx.getPartitionedState(this.nextFire).add(next);
    ctx.registerEventTimeTimer(next);
  }

  onEventTime(time: number, window: W, ctx: TriggerContext): TriggerResult {
    if (time === window.maxTimestamp()) return 'FIRE';
    const state = ctx.getPartitionedState(this.nextFire);
    if (state.get() === time) {
      state.clear();
      this.schedule(time, window, ctx);
      return 'FIRE';
    }
    return 'CONTINUE';
  }

  onProcessingTime(): TriggerResult {
    return 'CONTINUE';
  }

  canMerge(): boolean {
    return true;
  }

  onMerge(window: W, ctx: OnMergeContext): void {
    ctx.mergePartitionedState(this.nextFire);
    const next = ctx.getPartitionedState(this.nextFire).get();
    if (next !== undefined) ctx.registerEventTimeTimer(next);
    if (window.maxTimestamp() > ctx.getCurrentWatermark()) ctx.registerEventTimeTimer(window.maxTimestamp());
  }

  clear(window: W, ctx: TriggerContext): void {
    const state = ctx.getPartitionedState(this.nextFire);
    const next = state.get();
    if (next !== undefined) ctx.deleteEventTimeTimer(next);
    state.clear();
    ctx.deleteEventTimeTimer(window.maxTimestamp());
  }
}
