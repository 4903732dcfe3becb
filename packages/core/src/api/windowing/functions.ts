import type { Collector, RuntimeContext } from '../functions.js';
import type { OutputTag } from '../OutputTag.js';
import type { KeyType } from '../types.js';
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
import type { Window } from './Window.js';

/**
 * Access to keyed state from inside a window function: per window (cleared by the user in
 * `clear`) or global to the key.
 * @public
 */
export interface KeyedStateStore {
  /** A single value. */
  getState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T>;
  /** A list. */
  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  /** A map. */
  getMapState<UK extends KeyType, UV>(descriptor: MapStateDescriptor<UK, UV>): MapState<UK, UV>;
  /** A reduced value. */
  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): ReducingState<T>;
  /** An aggregate. */
  getAggregatingState<TIn, TAcc, TOut>(descriptor: AggregatingStateDescriptor<TIn, TAcc, TOut>): AggregatingState<TIn, TOut>;
}

/**
 * The context of a {@link ProcessWindowFunction} call.
 * @public
 */
export interface ProcessWindowContext<W extends Window> {
  /** The window being evaluated. */
  window(): W;
  /** Current processing time. */
  currentProcessingTime(): number;
  /** Current watermark. */
  currentWatermark(): number;
  /** State scoped to the current key and window. */
  windowState(): KeyedStateStore;
  /** State scoped to the current key, shared by all its windows. */
  globalState(): KeyedStateStore;
  /** Emits to a side output. */
  output<X>(tag: OutputTag<X>, value: NoInfer<X>): void;
}

/**
 * Evaluates a window with all its elements (or, after `reduce`/`aggregate`, with the single
 * pre-aggregated result) and the window's context.
 * @public
 */
export interface ProcessWindowFunction<TIn, TOut, K, W extends Window> {
  /** Called once per parallel instance. */
  open?(ctx: RuntimeContext): void | Promise<void>;
  /** Evaluates one window of one key. */
  process(key: K, context: ProcessWindowContext<W>, elements: readonly TIn[], out: Collector<TOut>): void;
  /** Called when the window is purged: clear per-window state here. */
  clear?(context: ProcessWindowContext<W>): void;
  /** Called once at shutdown. */
  close?(): void | Promise<void>;
}

/**
 * Turns the pre-aggregated result of a window into the output record.
 * @example
 * ```ts
 * .aggregate(countAgg, (key, window, count) => ({ key, start: window.start, end: window.end, count }))
 * ```
 * @public
 */
export type WindowResultFunction<TIn, TOut, K, W extends Window> = (key: K, window: W, result: TIn) => TOut;

/**
 * Either form of window function accepted by `reduce`, `aggregate`.
 * @public
 */
export type WindowFunction<TIn, TOut, K, W extends Window> =
  | WindowResultFunction<TIn, TOut, K, W>
  | ProcessWindowFunction<TIn, TOut, K, W>;
