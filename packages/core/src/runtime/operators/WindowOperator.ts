import type { AggregateFunction, Collector, ReduceFunction } from '../../api/functions.js';
import type { OutputTag } from '../../api/OutputTag.js';
import type { KeySelector, KeyType } from '../../api/types.js';
import type { Evictor, EvictorContext, TimestampedValue } from '../../api/windowing/Evictor.js';
import type { KeyedStateStore, ProcessWindowContext, ProcessWindowFunction } from '../../api/windowing/functions.js';
import type { OnMergeContext, StateFor, Trigger, TriggerResult } from '../../api/windowing/Trigger.js';
import type { Window } from '../../api/windowing/Window.js';
import { MergingWindowAssigner, type WindowAssigner, type WindowAssignerContext } from '../../api/windowing/WindowAssigner.js';
import {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  type MapStateDescriptor,
  ReducingStateDescriptor,
  type StateDescriptor,
  ValueStateDescriptor,
} from '../../state/descriptors.js';
import type {
  InternalAggregatingState,
  InternalKvState,
  InternalListState,
  InternalReducingState,
  KeyedStateBackend,
  Namespace,
} from '../../state/StateBackend.js';
import { VOID_NAMESPACE } from '../../state/StateBackend.js';
import type { TimerTarget } from '../InternalTimerService.js';
import {
  type InternalTimer,
  instanceOf,
  type OneInputOperator,
  type StreamingRuntimeContext,
  StreamOperator,
  TimestampedCollector,
} from '../StreamOperator.js';
import { type MergeFunction, MergingWindowSet } from './MergingWindowSet.js';
import { openUserFunction, setCurrentKeyOf } from './processFunctionSupport.js';
import { requireEventTime, routeLateElement } from './windowSupport.js';

/**
 * How a window's contents are kept and turned into the function's input.
 * - `reduce`: one reduced value per window.
 * - `aggregate`: one accumulator per window.
 * - `list`: every element (process functions, evictors).
 * @internal
 */
export type WindowContents<T> =
  | { readonly kind: 'reduce'; readonly reduce: ReduceFunction<T> }
  | { readonly kind: 'aggregate'; readonly aggregate: AggregateFunction<T, unknown, unknown> }
  | { readonly kind: 'list' };

/**
 * The function applied to a fired window's input (a reduced value, an aggregate result or the
 * element list).
 * @internal
 */
export interface InternalWindowFunction<TIn, TOut, K, W extends Window> {
  open(ctx: StreamingRuntimeContext): void | Promise<void>;
  process(key: K, window: W, ctx: ProcessWindowContext<W>, input: readonly TIn[], out: Collector<TOut>): void;
  clear(ctx: ProcessWindowContext<W>): void;
  close(): void | Promise<void>;
}

/** Wraps the user's window function forms into one interface. @internal */
export function internalWindowFunction<TIn, TOut, K, W extends Window>(
  fn: ((key: K, window: W, result: TIn) => TOut) | ProcessWindowFunction<TIn, TOut, K, W> | undefined,
): InternalWindowFunction<TIn, TOut, K, W> {
  if (fn === undefined) {
    return {
      open() {},
      process(_k, _w, _c, input, out) {
        for (const v of input) out.collect(v as unknown as TOut);
      },
      clear() {},
      close() {},
    };
  }
  if (typeof fn === 'function') {
    return {
      open() {},
      process(key, window, _c, input, out) {
        for (const v of input) out.collect(fn(key, window, v));
      },
      clear() {},
      close() {},
    };
  }
  const pwf = instanceOf(fn);
  return {
    open: (ctx) => pwf.open?.(ctx),
    process: (key, _w, ctx, input, out) => pwf.process(key, ctx, input, out),
    clear: (ctx) => pwf.clear?.(ctx),
    close: () => pwf.close?.(),
  };
}

/** Configuration of a window operator. @internal */
export interface WindowOperatorConfig<K extends KeyType, T, TOut, W extends Window> {
  readonly assigner: WindowAssigner<T, W>;
  readonly trigger: Trigger<T, W>;
  readonly evictor: Evictor<T, W> | undefined;
  readonly allowedLateness: number;
  readonly lateDataTag: OutputTag<T> | undefined;
  readonly keySelector: KeySelector<T, K>;
  readonly contents: WindowContents<T>;
  readonly windowFunction: InternalWindowFunction<unknown, TOut, K, W>;
}

type WindowState = InternalKvState & {
  add(value: unknown): void;
  clear(): void;
  mergeNamespaces(target: Namespace, sources: readonly Namespace[]): void;
};

/**
 * The generic window operator (as Flink's WindowOperator): assigns each element to windows,
 * keeps their contents in keyed state under the window's namespace, asks the trigger when to
 * fire and purge, merges windows for merging assigners (sessions), sends data later than the
 * allowed lateness to the late-data side output, and clears every window's state and timers at
 * `maxTimestamp + allowedLateness`.
 * @internal
 */
export class WindowOperator<K extends KeyType, T, TOut, W extends Window>
  extends StreamOperator<TOut>
  implements OneInputOperator<T>, TimerTarget
{
  // configuration
  private readonly assigner: WindowAssigner<T, W>;
  private readonly trigger: Trigger<T, W>;
  private readonly isEventTime: boolean;
  private readonly merging: MergingWindowAssigner<T, W> | undefined;
  // transient
  private backend!: KeyedStateBackend;
  private windowState!: WindowState;
  private mergingSetState: StateFor<ValueStateDescriptor<string[][]>> | undefined;
  private collector!: TimestampedCollector<TOut>;
  private triggerCtx!: WindowTriggerContext<W>;
  private processCtx!: WindowProcessContext<W>;
  private readonly assignerCtx: WindowAssignerContext = {
    getCurrentProcessingTime: () => this.setupInfo.processingTimeService.now(),
  };

  constructor(private readonly config: WindowOperatorConfig<K, T, TOut, W>) {
    super();
    this.assigner = config.assigner;
    this.trigger = config.trigger;
    this.isEventTime = config.assigner.isEventTime();
    this.merging = config.assigner instanceof MergingWindowAssigner ? config.assigner : undefined;
    if (this.merging !== undefined && this.trigger.canMerge?.() !== true) {
      throw new TypeError(`trigger ${this.trigger.constructor.name} cannot be used with merging windows (${this.assigner})`);
    }
  }

  override async open(): Promise<void> {
    this.backend = this.keyedBackend('window()');
    this.collector = new TimestampedCollector(this.output);
    const timers = this.createTimerService(this);
    this.triggerCtx = new WindowTriggerContext<W>(this.backend, timers, this.setupInfo.processingTimeService);
    this.processCtx = new WindowProcessContext<W>(this, this.backend, this.merging !== undefined);
    const c = this.config.contents;
    const evicting = this.config.evictor !== undefined;
    if (evicting || c.kind === 'list') {
      this.windowState = this.backend.getListState(new ListStateDescriptor<unknown>('_window-contents'));
    } else if (c.kind === 'reduce') {
      this.windowState = this.backend.getReducingState(
        new ReducingStateDescriptor<unknown>('_window-contents', c.reduce as ReduceFunction<unknown>),
      ) as InternalReducingState<unknown>;
    } else {
      this.windowState = this.backend.getAggregatingState(
        new AggregatingStateDescriptor('_window-contents', c.aggregate),
      ) as InternalAggregatingState<unknown, unknown> as WindowState;
    }
    if (this.merging !== undefined) {
      this.mergingSetState = this.backend.getValueState(new ValueStateDescriptor<string[][]>('_merging-windows'));
    }
    await openUserFunction(this as StreamOperator<unknown>, this.config.windowFunction, true);
  }

  processElement(value: T, timestamp: number): void {
    setCurrentKeyOf(this as StreamOperator<unknown>, this.backend, this.config.keySelector, value);
    if (this.isEventTime) {
      try {
        requireEventTime(timestamp, this.assigner);
      } catch (e) {
        throw this.userError(e, true);
      }
    }
    try {
      this.processElementForKey(value, timestamp);
    } catch (e) {
      throw this.userError(e, true);
    }
  }

  private processElementForKey(value: T, timestamp: number): void {
    const windows = this.assigner.assignWindows(value, timestamp, this.assignerCtx);
    const stored = this.config.evictor !== undefined ? ({ value, timestamp } satisfies TimestampedValue<T>) : value;
    let skipped = true;
    if (this.merging !== undefined) {
      const set = new MergingWindowSet<W>(this.merging as MergingWindowAssigner<unknown, W>, this.mergingSetState as StateFor<ValueStateDescriptor<string[][]>>);
      const mergeFn: MergeFunction<W> = (mergeResult, mergedWindows, stateWindowResult, mergedStateWindows) => {
        this.triggerCtx.window = mergeResult;
        this.triggerCtx.mergedWindows = mergedWindows;
        this.trigger.onMerge?.(mergeResult, this.triggerCtx);
        for (const m of mergedWindows) {
          if (m.id === mergeResult.id) continue;
          this.triggerCtx.window = m;
          this.trigger.clear(m, this.triggerCtx);
          this.deleteCleanupTimer(m);
        }
        this.windowState.mergeNamespaces(
          stateWindowResult.id,
          mergedStateWindows.map((w) => w.id),
        );
      };
      for (const w of [...windows]) {
        const actual = set.addWindow(w, mergeFn);
        if (this.isWindowLate(actual)) {
          set.retireWindow(actual);
          continue;
        }
        skipped = false;
        const stateWindow = set.getStateWindow(actual) as W;
        this.windowState.setCurrentNamespace(stateWindow.id);
        this.windowState.add(stored);
        this.triggerCtx.window = actual;
        const result = this.trigger.onElement(value, timestamp, actual, this.triggerCtx);
        this.act(result, actual, stateWindow);
        this.registerCleanupTimer(actual);
      }
      set.persist();
    } else {
      for (let i = 0; i < windows.length; i++) {
        const w = windows[i] as W;
        if (this.isWindowLate(w)) continue;
        skipped = false;
        this.windowState.setCurrentNamespace(w.id);
        this.windowState.add(stored);
        this.triggerCtx.window = w;
        const result = this.trigger.onElement(value, timestamp, w, this.triggerCtx);
        this.act(result, w, w);
        this.registerCleanupTimer(w);
      }
    }
    if (skipped && windows.length > 0) {
      routeLateElement(this as StreamOperator<unknown>, this.config.lateDataTag as OutputTag<unknown> | undefined, value, timestamp);
    }
  }

  private act(result: TriggerResult, window: W, stateWindow: W): void {
    if (result === 'CONTINUE') return;
    this.windowState.setCurrentNamespace(stateWindow.id);
    if (result === 'FIRE' || result === 'FIRE_AND_PURGE') this.emit(window);
    if (result === 'PURGE' || result === 'FIRE_AND_PURGE') {
      this.windowState.setCurrentNamespace(stateWindow.id);
      this.windowState.clear();
    }
  }

  /** Evaluates the window whose contents are under the current namespace. */
  private emit(window: W): void {
    const c = this.config.contents;
    const evictor = this.config.evictor;
    let input: unknown[];
    if (evictor !== undefined) {
      const list = this.windowState as unknown as InternalListState<TimestampedValue<T>>;
      const all = list.get();
      if (all.length === 0) return;
      const kept = evictor.evictBefore(all, window, this.processCtx);
      const values = kept.map((e) => e.value);
      if (c.kind === 'reduce') input = values.length === 0 ? [] : [values.reduce((a, b) => c.reduce(a, b))];
      else if (c.kind === 'aggregate') {
        let acc = c.aggregate.createAccumulator();
        for (const v of values) acc = c.aggregate.add(v, acc);
        input = [c.aggregate.getResult(acc)];
      } else input = values;
      this.callFunction(window, input);
      const after = evictor.evictAfter(kept, window, this.processCtx);
      // The list still points at the window's state namespace (set by act()).
      list.update(after);
      return;
    }
    if (c.kind === 'list') {
      input = (this.windowState as unknown as InternalListState<T>).get();
      if (input.length === 0) return;
    } else {
      const v = (this.windowState as unknown as { get(): unknown }).get();
      if (v === undefined) return;
      input = [v];
    }
    this.callFunction(window, input);
  }

  private callFunction(window: W, input: unknown[]): void {
    this.collector.timestamp = window.maxTimestamp();
    this.processCtx.window_ = window;
    this.config.windowFunction.process(this.backend.getCurrentKey() as K, window, this.processCtx, input, this.collector);
  }

  onEventTime(timer: InternalTimer): void {
    this.onTimer(timer, true);
  }

  onProcessingTime(timer: InternalTimer): void {
    this.onTimer(timer, false);
  }

  private onTimer(timer: InternalTimer, eventTime: boolean): void {
    const window = this.assigner.windowFromId(timer.namespace as string);
    let stateWindow: W = window;
    let set: MergingWindowSet<W> | undefined;
    try {
      if (this.merging !== undefined) {
        set = new MergingWindowSet<W>(this.merging as MergingWindowAssigner<unknown, W>, this.mergingSetState as StateFor<ValueStateDescriptor<string[][]>>);
        const sw = set.getStateWindow(window);
        if (sw === undefined) return; // merged away; its timers are stale
        stateWindow = sw;
      }
      this.triggerCtx.window = window;
      const result = eventTime
        ? this.trigger.onEventTime(timer.timestamp, window, this.triggerCtx)
        : this.trigger.onProcessingTime(timer.timestamp, window, this.triggerCtx);
      this.act(result, window, stateWindow);
      if (this.isCleanupTime(window, timer.timestamp, eventTime)) this.clearAllState(window, stateWindow, set);
      set?.persist();
    } catch (e) {
      throw this.userError(e, true);
    }
  }

  private clearAllState(window: W, stateWindow: W, set: MergingWindowSet<W> | undefined): void {
    this.windowState.setCurrentNamespace(stateWindow.id);
    this.windowState.clear();
    this.triggerCtx.window = window;
    this.trigger.clear(window, this.triggerCtx);
    this.processCtx.window_ = window;
    this.config.windowFunction.clear(this.processCtx);
    set?.retireWindow(window);
  }

  private cleanupTime(window: W): number {
    return this.isEventTime ? window.maxTimestamp() + this.config.allowedLateness : window.maxTimestamp();
  }

  private isCleanupTime(window: W, time: number, eventTime: boolean): boolean {
    return eventTime === this.isEventTime && time === this.cleanupTime(window);
  }

  private isWindowLate(window: W): boolean {
    return this.isEventTime && this.cleanupTime(window) <= this.currentWatermark;
  }

  private registerCleanupTimer(window: W): void {
    const t = this.cleanupTime(window);
    if (t === Number.POSITIVE_INFINITY) return;
    if (this.isEventTime) this.triggerCtx.timers.registerEventTimeTimer(window.id, t);
    else this.triggerCtx.timers.registerProcessingTimeTimer(window.id, t);
  }

  private deleteCleanupTimer(window: W): void {
    const t = this.cleanupTime(window);
    if (t === Number.POSITIVE_INFINITY) return;
    if (this.isEventTime) this.triggerCtx.timers.deleteEventTimeTimer(window.id, t);
    else this.triggerCtx.timers.deleteProcessingTimeTimer(window.id, t);
  }

  override async close(): Promise<void> {
    await this.config.windowFunction.close();
    await super.close();
  }
}

type Timers = NonNullable<StreamOperator<unknown>['timers']>;

/** The trigger context: current key is the backend's, current window is set per call. @internal */
export class WindowTriggerContext<W extends Window> implements OnMergeContext {
  window!: W;
  mergedWindows: readonly W[] = [];

  constructor(
    private readonly backend: KeyedStateBackend,
    readonly timers: Timers,
    private readonly pts: { now(): number },
  ) {}

  getCurrentProcessingTime(): number {
    return this.pts.now();
  }

  getCurrentWatermark(): number {
    return this.timers.currentWatermark;
  }

  registerEventTimeTimer(time: number): void {
    this.timers.registerEventTimeTimer(this.window.id, time);
  }

  registerProcessingTimeTimer(time: number): void {
    this.timers.registerProcessingTimeTimer(this.window.id, time);
  }

  deleteEventTimeTimer(time: number): void {
    this.timers.deleteEventTimeTimer(this.window.id, time);
  }

  deleteProcessingTimeTimer(time: number): void {
    this.timers.deleteProcessingTimeTimer(this.window.id, time);
  }

  getPartitionedState<S extends StateDescriptor<unknown>>(descriptor: S): StateFor<S> {
    const s = stateFor(this.backend, descriptor);
    s.setCurrentNamespace(this.window.id);
    return s as unknown as StateFor<S>;
  }

  mergePartitionedState(descriptor: StateDescriptor<unknown>): void {
    const s = stateFor(this.backend, descriptor) as InternalKvState & {
      mergeNamespaces?(target: Namespace, sources: readonly Namespace[]): void;
    };
    if (s.mergeNamespaces === undefined) {
      throw new TypeError(`state '${descriptor.name}' (${descriptor.kind}) cannot be merged; use reducing, aggregating or list state`);
    }
    s.mergeNamespaces(
      this.window.id,
      this.mergedWindows.filter((w) => w.id !== this.window.id).map((w) => w.id),
    );
  }
}

function stateFor(backend: KeyedStateBackend, d: StateDescriptor<unknown>): InternalKvState {
  switch (d.kind) {
    case 'value':
      return backend.getValueState(d as ValueStateDescriptor<unknown>);
    case 'list':
      return backend.getListState(d as ListStateDescriptor<unknown>);
    case 'map':
      return backend.getMapState(d as unknown as MapStateDescriptor<KeyType, unknown>);
    case 'reducing':
      return backend.getReducingState(d as ReducingStateDescriptor<unknown>);
    case 'aggregating':
      return backend.getAggregatingState(d as AggregatingStateDescriptor<unknown, unknown, unknown>);
  }
}

/** Keyed state store whose states are scoped to one namespace on every access. */
class NamespacedStateStore implements KeyedStateStore {
  constructor(
    private readonly backend: KeyedStateBackend,
    private readonly namespace: () => Namespace,
  ) {}

  private scoped<S>(d: StateDescriptor<unknown>): S {
    if (d.name.startsWith('_')) throw new TypeError(`state names starting with '_' are reserved: '${d.name}'`);
    const s = stateFor(this.backend, d);
    s.setCurrentNamespace(this.namespace());
    return s as unknown as S;
  }

  getState<T>(descriptor: ValueStateDescriptor<T>) {
    return this.scoped<ReturnType<KeyedStateStore['getState']>>(descriptor as StateDescriptor<unknown>) as never;
  }
  getListState<T>(descriptor: ListStateDescriptor<T>) {
    return this.scoped(descriptor as StateDescriptor<unknown>) as never;
  }
  getMapState<UK extends KeyType, UV>(descriptor: MapStateDescriptor<UK, UV>) {
    return this.scoped(descriptor as unknown as StateDescriptor<unknown>) as never;
  }
  getReducingState<T>(descriptor: ReducingStateDescriptor<T>) {
    return this.scoped(descriptor as StateDescriptor<unknown>) as never;
  }
  getAggregatingState<TIn, TAcc, TOut>(descriptor: AggregatingStateDescriptor<TIn, TAcc, TOut>) {
    return this.scoped(descriptor as unknown as StateDescriptor<unknown>) as never;
  }
}

/** The context handed to process window functions and evictors. @internal */
export class WindowProcessContext<W extends Window> implements ProcessWindowContext<W>, EvictorContext {
  window_!: W;
  private readonly perWindow: NamespacedStateStore | undefined;
  private readonly global: NamespacedStateStore;

  /**
   * @param merging - windows merge (sessions): per-window state is refused, as in Flink, since
   *   it could not follow its window through merges
   */
  constructor(
    private readonly op: StreamOperator<unknown>,
    backend: KeyedStateBackend,
    merging = false,
  ) {
    this.perWindow = merging ? undefined : new NamespacedStateStore(backend, () => this.window_.id);
    this.global = new NamespacedStateStore(backend, () => VOID_NAMESPACE);
  }

  window(): W {
    return this.window_;
  }

  currentProcessingTime(): number {
    return this.op.setupInfo.processingTimeService.now();
  }

  getCurrentProcessingTime(): number {
    return this.currentProcessingTime();
  }

  currentWatermark(): number {
    return this.op.currentWatermark;
  }

  getCurrentWatermark(): number {
    return this.op.currentWatermark;
  }

  windowState(): KeyedStateStore {
    if (this.perWindow === undefined) {
      throw new TypeError(
        'per-window state is not available with merging (session) windows: a merge would lose it; use globalState() keyed by what you need',
      );
    }
    return this.perWindow;
  }

  globalState(): KeyedStateStore {
    return this.global;
  }

  output<X>(tag: OutputTag<X>, value: X): void {
    this.op.output.collectSide(tag as OutputTag<unknown>, value, this.window_.maxTimestamp());
  }
}
