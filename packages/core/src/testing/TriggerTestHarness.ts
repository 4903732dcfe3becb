import { ManualClock } from '../api/Clock.js';
import type { KeyType } from '../api/types.js';
import type { Trigger, TriggerResult } from '../api/windowing/Trigger.js';
import { TimeWindow, type Window } from '../api/windowing/Window.js';
import { HeapStateBackend } from '../state/HeapStateBackend.js';
import type { KeyedStateBackend } from '../state/StateBackend.js';
import { InternalTimerService, type ProcessingTimeService } from '../runtime/InternalTimerService.js';
import { keyGroupRangeFor } from '../runtime/keygroups.js';
import { WindowTriggerContext } from '../runtime/operators/WindowOperator.js';
import type { InternalTimer } from '../runtime/TimerHeap.js';

/**
 * Drives a {@link Trigger} by hand, as Flink's `TriggerTestHarness` does: feed elements into
 * windows, move the watermark and processing time, merge windows, and inspect what the trigger
 * returned, which timers it holds and how much state it keeps — so a trigger's contract is
 * tested without a window operator around it.
 *
 * @example
 * ```ts
 * const h = new TriggerTestHarness(EventTimeTrigger.create());
 * expect(h.processElement('a', 1, new TimeWindow(0, 10))).toBe('CONTINUE');
 * expect(h.advanceWatermark(9)).toEqual([[new TimeWindow(0, 10), 'FIRE']]);
 * ```
 * @public
 */
export class TriggerTestHarness<T, W extends Window = TimeWindow> {
  /** The manual clock driving processing time. */
  readonly clock: ManualClock;
  private readonly backend: KeyedStateBackend;
  private readonly timers: InternalTimerService;
  private readonly ctx: WindowTriggerContext<W>;
  private fired: Array<[W, TriggerResult]> = [];

  /**
   * @param trigger - the trigger under test
   * @param windowFromId - rebuilds a window from its id (time windows by default)
   * @param key - the key all elements belong to
   */
  constructor(
    private readonly trigger: Trigger<T, W>,
    private readonly windowFromId: (id: string) => W = (id) => TimeWindow.fromId(id) as unknown as W,
    key: KeyType = 'key',
  ) {
    this.clock = new ManualClock(0);
    this.backend = new HeapStateBackend().createKeyedStateBackend({
      operatorUid: 'trigger-under-test',
      subtaskIndex: 0,
      keyGroupRange: keyGroupRangeFor(0, 1, 128),
      maxParallelism: 128,
      clock: this.clock,
    }) as KeyedStateBackend;
    this.backend.setCurrentKey(key);
    const clock = this.clock;
    const pts: ProcessingTimeService = {
      now: () => clock.now(),
      registerTimer: (time, cb) => clock.schedule(time, () => cb(clock.now())),
    };
    this.timers = new InternalTimerService(
      this.backend,
      {
        onEventTime: (t: InternalTimer) => this.fire(t, true),
        onProcessingTime: (t: InternalTimer) => this.fire(t, false),
      },
      pts,
    );
    this.ctx = new WindowTriggerContext<W>(this.backend, this.timers, pts);
  }

  private fire(t: InternalTimer, eventTime: boolean): void {
    const window = this.windowFromId(t.namespace as string);
    this.ctx.window = window;
    const r = eventTime
      ? this.trigger.onEventTime(t.timestamp, window, this.ctx)
      : this.trigger.onProcessingTime(t.timestamp, window, this.ctx);
    this.fired.push([window, r]);
  }

  /** Feeds an element of `window`; returns the trigger's decision. */
  processElement(element: T, timestamp: number, window: W): TriggerResult {
    this.ctx.window = window;
    return this.trigger.onElement(element, timestamp, window, this.ctx);
  }

  /** Advances the watermark; returns the (window, result) of every event-time timer that fired. */
  advanceWatermark(watermark: number): Array<[W, TriggerResult]> {
    this.fired = [];
    this.timers.advanceWatermark(watermark);
    return this.fired;
  }

  /** Advances processing time; returns the (window, result) of every processing-time timer that fired. */
  advanceProcessingTime(time: number): Array<[W, TriggerResult]> {
    this.fired = [];
    this.clock.setTime(time);
    return this.fired;
  }

  /** Merges `merged` windows into `target` as the window operator does (onMerge, then clear the others). */
  mergeWindows(target: W, merged: readonly W[]): void {
    if (this.trigger.canMerge?.() !== true || this.trigger.onMerge === undefined) {
      throw new TypeError('the trigger under test does not support merging');
    }
    this.ctx.window = target;
    this.ctx.mergedWindows = merged;
    this.trigger.onMerge(target, this.ctx);
    for (const m of merged) {
      if (m.id === target.id) continue;
      this.ctx.window = m;
      this.trigger.clear(m, this.ctx);
    }
  }

  /** Calls the trigger's `clear` for `window`. */
  clearTriggerState(window: W): void {
    this.ctx.window = window;
    this.trigger.clear(window, this.ctx);
  }

  /** Trigger state entries, for one window or all. */
  numStateEntries(window?: W): number {
    return this.backend.numEntries(window?.id);
  }

  /** Pending event-time timers, for one window or all. */
  numEventTimeTimers(window?: W): number {
    return this.count(this.timers.eventTimers.all(), window);
  }

  /** Pending processing-time timers, for one window or all. */
  numProcessingTimeTimers(window?: W): number {
    return this.count(this.timers.processingTimers.all(), window);
  }

  private count(timers: readonly InternalTimer[], window: W | undefined): number {
    return window === undefined ? timers.length : timers.filter((t) => t.namespace === window.id).length;
  }
}
