import type { OnMergeContext, Trigger, TriggerContext, TriggerResult, Window } from '@weir/core';

function purging(r: TriggerResult): TriggerResult {
  return r === 'FIRE' ? 'FIRE_AND_PURGE' : r;
}

/**
 * Wraps a trigger so that every firing also purges the window's contents (each firing then
 * covers only the elements since the previous one).
 * @public
 */
export class PurgingTrigger<T, W extends Window> implements Trigger<T, W> {
  private constructor(private readonly inner: Trigger<T, W>) {}

  /** Purges on every firing of `trigger`. */
  static of<T, W extends Window>(trigger: Trigger<T, W>): PurgingTrigger<T, W> {
    return new PurgingTrigger<T, W>(trigger);
  }

  onElement(e: T, ts: number, w: W, ctx: TriggerContext): TriggerResult {
    return purging(this.inner.onElement(e, ts, w, ctx));
  }

  onEventTime(time: number, w: W, ctx: TriggerContext): TriggerResult {
    return purging(this.inner.onEventTime(time, w, ctx));
  }

  onProcessingTime(time: number, w: W, ctx: TriggerContext): TriggerResult {
    return purging(this.inner.onProcessingTime(time, w, ctx));
  }

  canMerge(): boolean {
    return this.inner.canMerge?.() === true;
  }

  onMerge(w: W, ctx: OnMergeContext): void {
    this.inner.onMerge?.(w, ctx);
  }

  clear(w: W, ctx: TriggerContext): void {
    this.inner.clear(w, ctx);
  }
}
