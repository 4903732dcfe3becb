import {
  type OnMergeContext,
  ReducingStateDescriptor,
  type Trigger,
  type TriggerContext,
  type TriggerResult,
  type Window,
} from '@weir/core';

/**
 * Fires a window each time it has received `maxCount` elements since the last firing (the count
 * lives in trigger state per key and window).
 * @public
 */
export class CountTrigger<T = unknown, W extends Window = Window> implements Trigger<T, W> {
  private readonly countDesc = new ReducingStateDescriptor<number>('count', (a, b) => a + b);

  private constructor(private readonly maxCount: number) {
    if (!Number.isInteger(maxCount) || maxCount < 1) throw new RangeError(`count must be a positive integer, got ${maxCount}`);
  }

  /** Fires every `maxCount` elements. */
  static of<T = unknown, W extends Window = Window>(maxCount: number): CountTrigger<T, W> {
    return new CountTrigger<T, W>(maxCount);
  }

  onElement(_e: T, _ts: number, _w: W, ctx: TriggerContext): TriggerResult {
    const count = ctx.getPartitionedState(this.countDesc);
    count.add(1);
    if ((count.get() ?? 0) >= this.maxCount) {
      count.clear();
      return 'FIRE';
    }
    return 'CONTINUE';
  }

  onEventTime(): TriggerResult {
    return 'CONTINUE';
  }

  onProcessingTime(): TriggerResult {
    return 'CONTINUE';
  }

  canMerge(): boolean {
    return true;
  }

  onMerge(_w: W, ctx: OnMergeContext): void {
    ctx.mergePartitionedState(this.countDesc);
  }

  clear(_w: W, ctx: TriggerContext): void {
    ctx.getPartitionedState(this.countDesc).clear();
  }
}
