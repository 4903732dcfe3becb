import type { StateDescriptor } from '../../state/descriptors.js';
import type { Window } from './Window.js';

/**
 * What a trigger decides: keep going, evaluate the window, drop its contents, or both.
 * @public
 */
export type TriggerResult = 'CONTINUE' | 'FIRE' | 'PURGE' | 'FIRE_AND_PURGE';

/**
 * What a trigger can do: read time, set timers for the current key and window, and keep state
 * scoped to the current key and window (a trigger keeps no state in its own fields).
 * @public
 */
export interface TriggerContext {
  /** Current processing time. */
  getCurrentProcessingTime(): number;
  /** Current watermark. */
  getCurrentWatermark(): number;
  /** Calls `onEventTime(time)` when the watermark reaches `time`. */
  registerEventTimeTimer(time: number): void;
  /** Calls `onProcessingTime(time)` when processing time reaches `time`. */
  registerProcessingTimeTimer(time: number): void;
  /** Deletes an event-time timer of the current key and window. */
  deleteEventTimeTimer(time: number): void;
  /** Deletes a processing-time timer of the current key and window. */
  deleteProcessingTimeTimer(time: number): void;
  /**
   * State scoped to the current key and window. The descriptor's kind decides the state's
   * type: value, reducing, list, map or aggregating.
   */
  getPartitionedState<S extends StateDescriptor<unknown>>(descriptor: S): StateFor<S>;
}

/**
 * Extra power during a merge: combine the trigger state of the merged windows into the
 * merge result.
 * @public
 */
export interface OnMergeContext extends TriggerContext {
  /** Merges reducing or aggregating state of the merged windows into the current one. */
  mergePartitionedState(descriptor: StateDescriptor<unknown>): void;
}

/**
 * Decides when a window fires and when its contents are purged.
 * @public
 */
export interface Trigger<T, W extends Window> {
  /** Called for each element added to `window`. */
  onElement(element: T, timestamp: number, window: W, ctx: TriggerContext): TriggerResult;
  /** Called when an event-time timer of `window` fires. */
  onEventTime(time: number, window: W, ctx: TriggerContext): TriggerResult;
  /** Called when a processing-time timer of `window` fires. */
  onProcessingTime(time: number, window: W, ctx: TriggerContext): TriggerResult;
  /** Whether the trigger supports merging windows. */
  canMerge?(): boolean;
  /** Called when windows merged into `window` (re-register timers, merge state). */
  onMerge?(window: W, ctx: OnMergeContext): void;
  /** Called when `window` is purged for good: delete its timers and state. */
  clear(window: W, ctx: TriggerContext): void;
}

import type {
  AggregatingState,
  AggregatingStateDescriptor,
  ListState,
  ListStateDescriptor,
  MapState,
  MapStateDescriptor,
  ReducingState,
  ReducingStateDescriptor,
  ValueState,
  ValueStateDescriptor,
} from '../../state/descriptors.js';
import type { KeyType } from '../types.js';

/** The state type a descriptor creates. @public */
export type StateFor<S> = S extends ValueStateDescriptor<infer T>
  ? ValueState<T>
  : S extends ListStateDescriptor<infer T>
    ? ListState<T>
    : S extends MapStateDescriptor<infer UK extends KeyType, infer UV>
      ? MapState<UK, UV>
      : S extends ReducingStateDescriptor<infer T>
        ? ReducingState<T>
        : S extends AggregatingStateDescriptor<infer I, infer _A, infer O>
          ? AggregatingState<I, O>
          : never;
