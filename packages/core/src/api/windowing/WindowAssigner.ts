import type { Trigger } from './Trigger.js';
import type { TimeWindow, Window } from './Window.js';

/**
 * What an assigner may ask while assigning.
 * @public
 */
export interface WindowAssignerContext {
  /** Current processing time. */
  getCurrentProcessingTime(): number;
}

/**
 * Decides which windows an element belongs to (and nothing else: when a window fires is the
 * trigger's job).
 * @public
 */
export abstract class WindowAssigner<T, W extends Window> {
  /**
   * The windows of an element with `timestamp` (its event time, or `-Infinity` when none).
   * The returned array may be reused by the next call: consume it at once.
   */
  abstract assignWindows(element: T, timestamp: number, context: WindowAssignerContext): readonly W[];
  /** The trigger used when `WindowedStream.trigger` is not called. */
  abstract getDefaultTrigger(): Trigger<T, W>;
  /** Whether windows are in event time (so lateness and watermarks apply). */
  abstract isEventTime(): boolean;
  /** Rebuilds a window from its id (timers and state store only ids). */
  abstract windowFromId(id: string): W;
  /** A description for plans and errors. */
  toString(): string {
    return this.constructor.name;
  }
}

/**
 * An assigner whose windows can merge (sessions): after assignment, overlapping windows of a
 * key are merged into their cover, and their state and triggers merge with them.
 * @public
 */
export abstract class MergingWindowAssigner<T, W extends Window> extends WindowAssigner<T, W> {
  /**
   * Determines which of `windows` merge; calls `merge(toBeMerged, mergeResult)` once per group
   * of two or more windows that become one.
   */
  abstract mergeWindows(windows: readonly W[], merge: (toBeMerged: W[], mergeResult: W) => void): void;
}

/**
 * Implemented by time-window assigners whose windows are unions of aligned slices (tumbling:
 * one slice per window; sliding: `size / gcd(size, slide)` slices). The window operator then
 * keeps one accumulator per slice instead of one per window, so a record costs one
 * accumulator update however many windows contain it.
 * @public
 */
export interface SliceAssigner {
  /** Window size in ms. */
  readonly size: number;
  /** Distance between window starts in ms (`size` for tumbling). */
  readonly slide: number;
  /** Alignment offset in ms. */
  readonly offset: number;
}

/** Whether an assigner can be evaluated slice by slice. @public */
export function isSliceAssigner(a: WindowAssigner<unknown, Window>): a is WindowAssigner<unknown, TimeWindow> & SliceAssigner {
  const s = a as Partial<SliceAssigner>;
  return typeof s.size === 'number' && typeof s.slide === 'number' && typeof s.offset === 'number';
}

/**
 * Implemented by event-time session assigners: each element opens `[timestamp, timestamp + gap)`
 * and a key's windows that overlap or touch merge into their cover (`EventTimeSessionWindows`).
 * With the default trigger and no evictor the runtime then keeps each key's sessions in one
 * record instead of going through the generic merging-window machinery.
 * @public
 */
export interface SessionAssigner<T> {
  /** The inactivity gap in ms of the session `element` opens (a positive finite number). */
  sessionGap(element: T): number;
}

/** Whether an assigner assigns event-time sessions. @public */
export function isSessionAssigner<T>(a: WindowAssigner<T, Window>): a is MergingWindowAssigner<T, TimeWindow> & SessionAssigner<T> {
  return a instanceof MergingWindowAssigner && a.isEventTime() && typeof (a as Partial<SessionAssigner<T>>).sessionGap === 'function';
}
