import { PaneWindowOperator } from '../runtime/operators/PaneWindowOperator.js';
import { SessionWindowOperator } from '../runtime/operators/SessionWindowOperator.js';
import { SlicingWindowOperator } from '../runtime/operators/SlicingWindowOperator.js';
import {
  internalWindowFunction,
  type WindowContents,
  WindowOperator,
} from '../runtime/operators/WindowOperator.js';
import type { StreamOperator } from '../runtime/StreamOperator.js';
import { DataStream, type KeyedStream, newTransformation } from './DataStream.js';
import { InvalidPipelineError } from './errors.js';
import type { AggregateFunction, ReduceFunction } from './functions.js';
import type { OutputTag } from './OutputTag.js';
import type { KeySelector, KeyType } from './types.js';
import type { Evictor } from './windowing/Evictor.js';
import type { ProcessWindowFunction, WindowFunction } from './windowing/functions.js';
import type { Trigger } from './windowing/Trigger.js';
import type { TimeWindow, Window } from './windowing/Window.js';
import {
  isSessionAssigner,
  isSliceAssigner,
  MergingWindowAssigner,
  type SessionAssigner,
  type WindowAssigner,
} from './windowing/WindowAssigner.js';

/**
 * A keyed stream cut into windows (`keyed.window(assigner)`). Event-time semantics, exactly as
 * Flink: a window `[start, end)` fires when the watermark reaches `end − 1`; an element is late
 * when every window it belongs to has `end − 1 + allowedLateness <= watermark`; late elements
 * go to the late-data side output (or are dropped and counted); a window's state is purged when
 * the watermark passes `end − 1 + allowedLateness`, and every element that arrives within the
 * lateness causes a late firing with the updated result.
 * @public
 */
export class WindowedStream<K extends KeyType, T, W extends Window> {
  private triggerValue: Trigger<T, W> | undefined;
  private evictorValue: Evictor<T, W> | undefined;
  private lateness = 0;
  private lateTag: OutputTag<T> | undefined;

  /** @internal */
  constructor(
    private readonly input: KeyedStream<K, T>,
    /** The window assigner. */
    readonly assigner: WindowAssigner<T, W>,
  ) {}

  /** Replaces the assigner's default trigger. */
  trigger(trigger: Trigger<T, W>): this {
    if (this.assigner instanceof MergingWindowAssigner && trigger.canMerge?.() !== true) {
      throw new InvalidPipelineError(`a trigger used with merging windows (${this.assigner}) must support merging (canMerge)`);
    }
    this.triggerValue = trigger;
    return this;
  }

  /** Sets an evictor (the window then keeps every element instead of an accumulator). */
  evictor(evictor: Evictor<T, W>): this {
    this.evictorValue = evictor;
    return this;
  }

  /**
   * How long after a window's end (in event time) elements are still accepted, causing late
   * firings. Default 0.
   */
  allowedLateness(ms: number): this {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`allowed lateness must be a finite number >= 0, got ${ms}`);
    if (ms > 0 && !this.assigner.isEventTime()) {
      throw new InvalidPipelineError('allowed lateness only applies to event-time windows');
    }
    this.lateness = ms;
    return this;
  }

  /** Sends elements later than the allowed lateness to this side output instead of dropping them. */
  sideOutputLateData(tag: OutputTag<T>): this {
    this.lateTag = tag;
    return this;
  }

  /** Reduces each window incrementally; emits the reduced value when the window fires. */
  reduce(fn: ReduceFunction<T>): DataStream<T>;
  /** Reduces each window incrementally, then turns the result into the output with `windowFn`. */
  reduce<R>(fn: ReduceFunction<T>, windowFn: WindowFunction<T, R, K, W>): DataStream<R>;
  reduce<R>(fn: ReduceFunction<T>, windowFn?: WindowFunction<T, R, K, W>): DataStream<R> {
    return this.build<R>('Window(reduce)', { kind: 'reduce', reduce: fn }, windowFn as WindowFunction<unknown, R, K, W>);
  }

  /** Aggregates each window incrementally with an {@link AggregateFunction}. */
  aggregate<TAcc, V>(fn: AggregateFunction<T, TAcc, V>): DataStream<V>;
  /** Aggregates each window incrementally, then turns the result into the output with `windowFn`. */
  aggregate<TAcc, V, R>(fn: AggregateFunction<T, TAcc, V>, windowFn: WindowFunction<V, R, K, W>): DataStream<R>;
  aggregate<TAcc, V, R>(fn: AggregateFunction<T, TAcc, V>, windowFn?: WindowFunction<V, R, K, W>): DataStream<R> {
    return this.build<R>(
      'Window(aggregate)',
      { kind: 'aggregate', aggregate: fn as AggregateFunction<T, unknown, unknown> },
      windowFn as WindowFunction<unknown, R, K, W>,
    );
  }

  /** Evaluates each window with all its elements. */
  process<R>(fn: ProcessWindowFunction<T, R, K, W>): DataStream<R> {
    return this.build<R>('Window(process)', { kind: 'list' }, fn as unknown as WindowFunction<unknown, R, K, W>);
  }

  private build<R>(name: string, contents: WindowContents<T>, windowFn: WindowFunction<unknown, R, K, W> | undefined): DataStream<R> {
    const input = this.input;
    const assigner = this.assigner;
    if (assigner.isEventTime() && !input.transformation.hasTimestamps) {
      throw new InvalidPipelineError(
        `${assigner} assigns event-time windows, but the stream has no event-time timestamps: call assignTimestampsAndWatermarks(...) before keyBy/window, or use a processing-time assigner`,
      );
    }
    const trigger = this.triggerValue ?? assigner.getDefaultTrigger();
    const evictor = this.evictorValue;
    const lateness = this.lateness;
    const lateTag = this.lateTag;
    const keySelector = input.keySelector;
    // Panes: tumbling and sliding event-time windows with the default trigger and an
    // incremental function keep one accumulator per slice, not per window.
    const sliced =
      contents.kind !== 'list' &&
      typeof windowFn !== 'object' &&
      evictor === undefined &&
      this.triggerValue === undefined &&
      assigner.isEventTime() &&
      isSliceAssigner(assigner as WindowAssigner<unknown, Window>);
    // Event-time sessions with the default trigger: one record of sessions per key.
    const sessions =
      !sliced && evictor === undefined && this.triggerValue === undefined && isSessionAssigner(assigner as WindowAssigner<T, Window>);
    const t = newTransformation(input.environment, 'oneInput', name, [input.transformation], () => {
      const fn = internalWindowFunction<unknown, R, K, W>(windowFn as never);
      if (sessions) {
        return new SessionWindowOperator<K, T, R>({
          assigner: assigner as unknown as SessionAssigner<T>,
          allowedLateness: lateness,
          lateDataTag: lateTag,
          keySelector,
          contents,
          windowFunction: fn as never,
        }) as unknown as StreamOperator<unknown>;
      }
      if (sliced) {
        const config = {
          assigner: assigner as unknown as WindowAssigner<T, TimeWindow> & { size: number; slide: number; offset: number },
          allowedLateness: lateness,
          lateDataTag: lateTag,
          keySelector,
          contents: contents as Exclude<WindowContents<T>, { kind: 'list' }>,
          windowFunction: fn as never,
        };
        // In-memory state: windows fire pane by pane for all keys at once; other backends keep
        // each key's panes and timers in one record.
        if (input.environment.stateBackend.name === 'heap') {
          return new PaneWindowOperator<K, T, R>(config) as unknown as StreamOperator<unknown>;
        }
        return new SlicingWindowOperator<K, T, R>(config) as unknown as StreamOperator<unknown>;
      }
      return new WindowOperator<K, T, R, W>({
        assigner,
        trigger,
        evictor,
        allowedLateness: lateness,
        lateDataTag: lateTag,
        keySelector,
        contents,
        windowFunction: fn,
      }) as unknown as StreamOperator<unknown>;
    });
    t.keySelectors = [keySelector as KeySelector<unknown, KeyType>];
    t.stateful = true;
    return new DataStream<R>(input.environment, t);
  }
}
