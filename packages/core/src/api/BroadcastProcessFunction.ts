import type { BroadcastState, ReadOnlyBroadcastState } from '../state/BroadcastState.js';
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
} from '../state/descriptors.js';
import type { Collector, RuntimeContext, TimeDomain, TimerService } from './functions.js';
import type { OutputTag } from './OutputTag.js';
import type { KeyType } from './types.js';

/**
 * What both contexts of a broadcast function offer.
 * @public
 */
export interface BroadcastBaseContext {
  /** The timestamp of the current element, or `null` when it has none. */
  timestamp(): number | null;
  /** Current processing time. */
  currentProcessingTime(): number;
  /** The operator's watermark (the minimum of both inputs'); `-Infinity` before the first. */
  currentWatermark(): number;
  /** Emits `value` to the side output named by `tag`. */
  output<X>(tag: OutputTag<X>, value: NoInfer<X>): void;
}

/**
 * The context of `processElement` (the non-broadcast input): broadcast state is read-only here.
 * @public
 */
export interface BroadcastReadOnlyContext extends BroadcastBaseContext {
  /**
   * The broadcast state named by `descriptor`, read-only. The descriptor must be one passed to
   * `broadcast(...)` (otherwise an `InvalidPipelineError`).
   */
  getBroadcastState<K extends KeyType, V>(descriptor: MapStateDescriptor<K, V>): ReadOnlyBroadcastState<K, V>;
}

/**
 * The context of `processBroadcastElement`: broadcast state is writable here.
 * @public
 */
export interface BroadcastContext extends BroadcastBaseContext {
  /** The broadcast state named by `descriptor`, writable. */
  getBroadcastState<K extends KeyType, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V>;
}

/**
 * A function over a stream connected with a broadcast stream (Flink's
 * `BroadcastProcessFunction`). Every parallel instance receives every broadcast element, so
 * writing broadcast state only from broadcast elements keeps all instances' state the same.
 *
 * Order between the two inputs is not defined: an element may be processed before a broadcast
 * element that was produced earlier. Buffer elements (or use event time on a keyed stream) when
 * results must not depend on it.
 *
 * @example
 * ```ts
 * const rulesDesc = new MapStateDescriptor<string, Rule>('rules');
 * const alerts = events.connect(rules.broadcast(rulesDesc)).process<Alert>({
 *   processBroadcastElement(rule, ctx) { ctx.getBroadcastState(rulesDesc).put(rule.id, rule); },
 *   processElement(e, ctx, out) {
 *     ctx.getBroadcastState(rulesDesc).forEach((rule) => { if (rule.matches(e)) out.collect({ rule: rule.id, e }); });
 *   },
 * });
 * ```
 * @public
 */
export interface BroadcastProcessFunction<TIn, TBroadcast, TOut> {
  /** Called once per parallel instance before the first element. */
  open?(ctx: RuntimeContext): void | Promise<void>;
  /** Called for each element of the non-broadcast input; broadcast state is read-only. */
  processElement: (value: TIn, ctx: BroadcastReadOnlyContext, out: Collector<TOut>) => void;
  /** Called, on every parallel instance, for each broadcast element; broadcast state is writable. */
  processBroadcastElement: (value: TBroadcast, ctx: BroadcastContext, out: Collector<TOut>) => void;
  /** Called after both inputs ended; may still emit. */
  finish?: (out: Collector<TOut>) => void;
  /** Called once when the instance shuts down (also after failure). */
  close?(): void | Promise<void>;
}

/**
 * The context of `KeyedBroadcastProcessFunction.processElement`: read-only broadcast state,
 * keyed state and timers of the current key.
 * @public
 */
export interface KeyedBroadcastReadOnlyContext<K> extends BroadcastReadOnlyContext {
  /** The key of the current element. */
  getCurrentKey(): K;
  /** Timers of the current key. */
  timerService(): TimerService;
}

/**
 * The context of `KeyedBroadcastProcessFunction.onTimer`.
 * @public
 */
export interface KeyedBroadcastOnTimerContext<K> extends KeyedBroadcastReadOnlyContext<K> {
  /** Whether an event-time or a processing-time timer fired. */
  timeDomain(): TimeDomain;
}

/**
 * The context of `KeyedBroadcastProcessFunction.processBroadcastElement`: writable broadcast
 * state, and keyed state of every key this instance holds through `applyToKeyedState` (there is
 * no current key: a broadcast element belongs to no key).
 * @public
 */
export interface KeyedBroadcastContext<K> extends BroadcastContext {
  /**
   * Calls `fn` for every key of this parallel instance that has an entry in the state named by
   * `descriptor`, with that key's state (e.g. to clear or migrate state when a rule changes).
   * Keys are visited in no particular order; `fn` may update or clear the state it is given.
   */
  applyToKeyedState<T>(descriptor: ValueStateDescriptor<T>, fn: (key: K, state: ValueState<T>) => void): void;
  applyToKeyedState<T>(descriptor: ListStateDescriptor<T>, fn: (key: K, state: ListState<T>) => void): void;
  applyToKeyedState<UK extends KeyType, UV>(descriptor: MapStateDescriptor<UK, UV>, fn: (key: K, state: MapState<UK, UV>) => void): void;
  applyToKeyedState<T>(descriptor: ReducingStateDescriptor<T>, fn: (key: K, state: ReducingState<T>) => void): void;
  applyToKeyedState<TIn, TAcc, TOut>(
    descriptor: AggregatingStateDescriptor<TIn, TAcc, TOut>,
    fn: (key: K, state: AggregatingState<TIn, TOut>) => void,
  ): void;
}

/**
 * A function over a keyed stream connected with a broadcast stream (Flink's
 * `KeyedBroadcastProcessFunction`): keyed state and timers for the keyed input, broadcast state
 * shared by all keys of an instance.
 *
 * Do not use keyed state handles in `processBroadcastElement` (there is no current key); use
 * `ctx.applyToKeyedState` instead.
 *
 * @example
 * ```ts
 * const thresholds = new MapStateDescriptor<string, number>('thresholds');
 * const alerts = readings.keyBy((r) => r.sensor).connect(config.broadcast(thresholds)).process<Alert>({
 *   processBroadcastElement(c, ctx) { ctx.getBroadcastState(thresholds).put(c.metric, c.limit); },
 *   processElement(r, ctx, out) {
 *     const limit = ctx.getBroadcastState(thresholds).get(r.metric);
 *     if (limit !== undefined && r.value > limit) out.collect({ sensor: ctx.getCurrentKey(), value: r.value, limit });
 *   },
 * });
 * ```
 * @public
 */
export interface KeyedBroadcastProcessFunction<K, TIn, TBroadcast, TOut> {
  /** Called once per parallel instance before the first element; obtain keyed state here. */
  open?(ctx: RuntimeContext): void | Promise<void>;
  /** Called for each element of the keyed input, with state scoped to its key. */
  processElement: (value: TIn, ctx: KeyedBroadcastReadOnlyContext<K>, out: Collector<TOut>) => void;
  /** Called, on every parallel instance, for each broadcast element. */
  processBroadcastElement: (value: TBroadcast, ctx: KeyedBroadcastContext<K>, out: Collector<TOut>) => void;
  /** Called when a timer of a key fires, with state scoped to that key. */
  onTimer?: (timestamp: number, ctx: KeyedBroadcastOnTimerContext<K>, out: Collector<TOut>) => void;
  /** Called after both inputs ended (after all event-time timers fired). */
  finish?: (out: Collector<TOut>) => void;
  /** Called once when the instance shuts down (also after failure). */
  close?(): void | Promise<void>;
}
