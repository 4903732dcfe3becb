import type { OutputTag } from './OutputTag.js';
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
import type { KeyType } from './types.js';

/**
 * Receives the outputs of a user function. `collect` emits downstream with the timestamp of
 * the record (or timer) being processed.
 * @public
 */
export interface Collector<T> {
  /**
   * Emits one value. (A function-typed property rather than a method, so TypeScript checks
   * collectors strictly: a `Collector<string>` is not a `Collector<string | number>`.)
   */
  collect: (value: T) => void;
}

/**
 * A `map` function: one output per input.
 * @public
 */
export type MapFunction<TIn, TOut> = (value: TIn) => TOut;

/**
 * A `flatMap` function: any number of outputs per input, through the collector.
 * @public
 */
export type FlatMapFunction<TIn, TOut> = (value: TIn, out: Collector<TOut>) => void;

/**
 * A `filter` predicate: keeps the records for which it returns `true`.
 * @public
 */
export type FilterFunction<T> = (value: T) => boolean;

/**
 * Combines two values of the same type, as `KeyedStream.reduce`, window `reduce` and reducing
 * state do. It must not mutate its arguments: return a new value (or one of them unchanged),
 * because a pane of a sliding window is combined into several windows.
 * @public
 */
export type ReduceFunction<T> = (a: T, b: T) => T;

/**
 * Incremental aggregation with an accumulator (Flink's `AggregateFunction`). `merge` combines
 * two accumulators, which merging windows (sessions) and pane pre-aggregation need.
 * @public
 */
export interface AggregateFunction<TIn, TAcc, TOut> {
  /** A new, empty accumulator. */
  createAccumulator(): TAcc;
  /** Adds a value; may mutate and return `acc`. */
  add(value: TIn, acc: TAcc): TAcc;
  /** The result for an accumulator. */
  getResult(acc: TAcc): TOut;
  /**
   * Merges two accumulators. May mutate and return `a`; must not mutate `b` (sliding windows
   * merge the same pane accumulator into several windows).
   */
  merge(a: TAcc, b: TAcc): TAcc;
}

/**
 * Information about the parallel instance a function runs in.
 * @public
 */
export interface TaskInfo {
  /** The operator's name. */
  readonly operatorName: string;
  /** The operator's uid (set with `.uid()` or generated). */
  readonly operatorUid: string;
  /** Index of this parallel instance, `0 .. parallelism-1`. */
  readonly subtaskIndex: number;
  /** Number of parallel instances of the operator. */
  readonly parallelism: number;
  /** Number of key groups: the upper bound for rescaling. */
  readonly maxParallelism: number;
}

/**
 * What `open` receives: task information and, on keyed streams, access to keyed state.
 * State handles are scoped by the runtime to the key of the record or timer being processed.
 * @public
 */
export interface RuntimeContext {
  /** Where this instance runs. */
  readonly taskInfo: TaskInfo;
  /** Processing time from the job's clock. */
  currentProcessingTime(): number;
  /** A single value per key. Keyed streams only. */
  getState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T>;
  /** A list per key. Keyed streams only. */
  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  /** A map per key. Keyed streams only. */
  getMapState<UK extends KeyType, UV>(descriptor: MapStateDescriptor<UK, UV>): MapState<UK, UV>;
  /** A value per key combined with a reduce function on every add. Keyed streams only. */
  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): ReducingState<T>;
  /** An accumulator per key fed by an aggregate function. Keyed streams only. */
  getAggregatingState<TIn, TAcc, TOut>(
    descriptor: AggregatingStateDescriptor<TIn, TAcc, TOut>,
  ): AggregatingState<TIn, TOut>;
}

/**
 * Registers and deletes timers. Timers are scoped to the current key and are unique per
 * (key, timestamp): registering the same one twice fires it once. Event-time timers fire when
 * the watermark reaches their timestamp; processing-time timers when the clock does.
 * @public
 */
export interface TimerService {
  /** Current processing time. */
  currentProcessingTime(): number;
  /** Current event time: the operator's watermark (`-Infinity` before the first). */
  currentWatermark(): number;
  /** Fires `onTimer(time)` when the watermark reaches `time`. */
  registerEventTimeTimer(time: number): void;
  /** Fires `onTimer(time)` when processing time reaches `time`. */
  registerProcessingTimeTimer(time: number): void;
  /** Deletes an event-time timer of the current key; unknown timers are ignored. */
  deleteEventTimeTimer(time: number): void;
  /** Deletes a processing-time timer of the current key; unknown timers are ignored. */
  deleteProcessingTimeTimer(time: number): void;
}

/**
 * Which clock fired a timer.
 * @public
 */
export type TimeDomain = 'event-time' | 'processing-time';

/**
 * The context of `ProcessFunction.processElement`.
 * @public
 */
export interface ProcessContext {
  /** The timestamp of the current record, or `null` when it has none. */
  timestamp(): number | null;
  /** Time and timers: reading time works everywhere; registering timers needs a keyed stream (throws otherwise). */
  timerService(): TimerService;
  /** Emits `value` to the side output named by `tag`. */
  output<X>(tag: OutputTag<X>, value: NoInfer<X>): void;
}

/**
 * A general function over a non-keyed stream: any number of outputs and side outputs per
 * record.
 * @public
 */
export interface ProcessFunction<TIn, TOut> {
  /** Called once per parallel instance before the first record. */
  open?(ctx: RuntimeContext): void | Promise<void>;
  /** Called for each record. */
  processElement: (value: TIn, ctx: ProcessContext, out: Collector<TOut>) => void;
  /** Called after the last record of a bounded input; may still emit. */
  finish?: (out: Collector<TOut>) => void;
  /** Called once when the instance shuts down (also after failure). */
  close?(): void | Promise<void>;
}

/**
 * The context of `KeyedProcessFunction.processElement`.
 * @public
 */
export interface KeyedProcessContext<K> extends ProcessContext {
  /** The key of the current record. */
  getCurrentKey(): K;
}

/**
 * The context of `KeyedProcessFunction.onTimer`.
 * @public
 */
export interface OnTimerContext<K> extends KeyedProcessContext<K> {
  /** Whether an event-time or a processing-time timer fired. */
  timeDomain(): TimeDomain;
}

/**
 * A function over a keyed stream with keyed state and timers (Flink's `KeyedProcessFunction`).
 *
 * Each parallel instance runs its own copy of the object (`Object.create(fn)`), so assign
 * per-instance fields (state handles) in `open`. Classes are the idiomatic form: in an object
 * literal `this` is typed as this interface, which has no room for your fields.
 *
 * @example
 * ```ts
 * class CountWithTimeout implements KeyedProcessFunction<string, Ev, string> {
 *   private count!: ValueState<number>;
 *   open(ctx: RuntimeContext): void {
 *     this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
 *   }
 *   processElement(e: Ev, ctx: KeyedProcessContext<string>): void {
 *     this.count.update((this.count.value() ?? 0) + 1);
 *     ctx.timerService().registerEventTimeTimer(e.ts + 60_000);
 *   }
 *   onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
 *     out.collect(`${ctx.getCurrentKey()}: ${this.count.value()}`);
 *   }
 * }
 * ```
 * @public
 */
export interface KeyedProcessFunction<K, TIn, TOut> {
  /** Called once per parallel instance before the first record; obtain state here. */
  open?(ctx: RuntimeContext): void | Promise<void>;
  /** Called for each record, with state scoped to its key. */
  processElement: (value: TIn, ctx: KeyedProcessContext<K>, out: Collector<TOut>) => void;
  /** Called when a timer registered for a key fires, with state scoped to that key. */
  onTimer?: (timestamp: number, ctx: OnTimerContext<K>, out: Collector<TOut>) => void;
  /** Called after the last record of a bounded input (after all event-time timers fired). */
  finish?: (out: Collector<TOut>) => void;
  /** Called once when the instance shuts down (also after failure). */
  close?(): void | Promise<void>;
}

/**
 * A function over two connected streams (`a.connect(b).process(fn)`), with a method per input.
 * Both inputs share the function's fields, which makes control/data patterns easy.
 * @public
 */
export interface CoProcessFunction<TIn1, TIn2, TOut> {
  /** Called once per parallel instance before the first record. */
  open?(ctx: RuntimeContext): void | Promise<void>;
  /** Called for each record of the first input. */
  processElement1: (value: TIn1, ctx: ProcessContext, out: Collector<TOut>) => void;
  /** Called for each record of the second input. */
  processElement2: (value: TIn2, ctx: ProcessContext, out: Collector<TOut>) => void;
  /** Called after both inputs ended. */
  finish?: (out: Collector<TOut>) => void;
  /** Called once when the instance shuts down. */
  close?(): void | Promise<void>;
}

/**
 * A function over two keyed streams connected on the same key type, with keyed state and timers
 * shared by both inputs.
 * @public
 */
export interface KeyedCoProcessFunction<K, TIn1, TIn2, TOut> {
  /** Called once per parallel instance before the first record. */
  open?(ctx: RuntimeContext): void | Promise<void>;
  /** Called for each record of the first input. */
  processElement1: (value: TIn1, ctx: KeyedProcessContext<K>, out: Collector<TOut>) => void;
  /** Called for each record of the second input. */
  processElement2: (value: TIn2, ctx: KeyedProcessContext<K>, out: Collector<TOut>) => void;
  /** Called when a timer fires. */
  onTimer?: (timestamp: number, ctx: OnTimerContext<K>, out: Collector<TOut>) => void;
  /** Called after both inputs ended. */
  finish?: (out: Collector<TOut>) => void;
  /** Called once when the instance shuts down. */
  close?(): void | Promise<void>;
}
