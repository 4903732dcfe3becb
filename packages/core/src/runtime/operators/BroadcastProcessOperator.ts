import type {
  BroadcastContext,
  BroadcastProcessFunction,
  BroadcastReadOnlyContext,
  KeyedBroadcastContext,
  KeyedBroadcastOnTimerContext,
  KeyedBroadcastProcessFunction,
} from '../../api/BroadcastProcessFunction.js';
import type { TimeDomain, TimerService } from '../../api/functions.js';
import type { KeySelector, KeyType } from '../../api/types.js';
import { type AnyMapStateDescriptor, type BroadcastState, BroadcastStateStore } from '../../state/BroadcastState.js';
import type {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StateDescriptor,
  ValueStateDescriptor,
} from '../../state/descriptors.js';
import { type KeyedStateBackend, VOID_NAMESPACE } from '../../state/StateBackend.js';
import { instanceOf, TimestampedCollector, UserTimerService } from '../StreamOperator.js';
import { TwoInputStreamOperator } from './CoProcessOperator.js';
import {
  ElementContext,
  finishUserFunction,
  OnTimerDispatcher,
  openUserFunction,
  setCurrentKeyOf,
} from './processFunctionSupport.js';

/** Name of the operator-state blob holding the broadcast state. */
const BROADCAST_STATE = 'broadcast-state';

/**
 * Base of the broadcast operators: input 1 is the (keyed or not) element stream, input 2 the
 * broadcast stream. Holds the broadcast state, which is operator state: checkpointed through
 * `snapshotOperatorState` as `'broadcast-state'`, restored before `open` (each new instance
 * takes one old instance's copy: they are all equal).
 * @internal
 */
export abstract class BroadcastOperatorBase<TIn, TBroadcast, TOut> extends TwoInputStreamOperator<TIn, TBroadcast, TOut> {
  protected readonly store: BroadcastStateStore;
  protected collector!: TimestampedCollector<TOut>;

  constructor(descriptors: readonly AnyMapStateDescriptor[]) {
    super();
    this.store = new BroadcastStateStore(descriptors, 'this broadcast stream');
  }

  /** Serialized broadcast state of this instance (the checkpoint hook). */
  snapshotBroadcastState(): Uint8Array {
    return this.store.snapshot();
  }

  /** Replaces the broadcast state with a snapshot's (before `open`, or in a harness). */
  restoreBroadcastState(bytes: Uint8Array): void {
    this.store.restore(bytes);
  }

  /** Number of entries over all broadcast states. */
  numBroadcastStateEntries(): number {
    return this.store.numEntries();
  }

  protected override snapshotOperatorState(_checkpointId: number): Record<string, Uint8Array> {
    return { [BROADCAST_STATE]: this.store.snapshot() };
  }

  /** Loads restored broadcast state: instance `i` reads old instance `i mod n`. */
  protected loadRestoredBroadcastState(): void {
    const all = this.restoredOperatorState;
    if (all.length === 0) return;
    const blob = all[this.setupInfo.taskInfo.subtaskIndex % all.length]?.[BROADCAST_STATE];
    if (blob !== undefined) this.store.restore(blob);
  }
}

/**
 * The contexts of broadcast functions; one of each per operator, reused for every element.
 * @internal
 */
class BroadcastCtx extends ElementContext implements BroadcastReadOnlyContext, BroadcastContext {
  constructor(
    op: BroadcastOperatorBase<unknown, unknown, unknown>,
    protected readonly store: BroadcastStateStore,
    private readonly writable: boolean,
  ) {
    super(op);
  }

  currentProcessingTime(): number {
    return this.op.setupInfo.processingTimeService.now();
  }

  currentWatermark(): number {
    return this.op.currentWatermark;
  }

  getBroadcastState<K extends KeyType, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V> {
    const s = this.store.get(descriptor);
    // The read-only view has no write methods at all; the cast only serves the shared class.
    return (this.writable ? s : s.readOnly) as BroadcastState<K, V>;
  }
}

/** Runs a {@link BroadcastProcessFunction}. @internal */
export class CoBroadcastWithNonKeyedOperator<TIn, TBroadcast, TOut> extends BroadcastOperatorBase<TIn, TBroadcast, TOut> {
  private readonly fn: BroadcastProcessFunction<TIn, TBroadcast, TOut>;
  private readCtx!: BroadcastCtx;
  private writeCtx!: BroadcastCtx;

  constructor(fn: BroadcastProcessFunction<TIn, TBroadcast, TOut>, descriptors: readonly AnyMapStateDescriptor[]) {
    super(descriptors);
    this.fn = instanceOf(fn);
  }

  override async open(): Promise<void> {
    this.loadRestoredBroadcastState();
    this.collector = new TimestampedCollector(this.output);
    const self = this as unknown as BroadcastOperatorBase<unknown, unknown, unknown>;
    this.readCtx = new BroadcastCtx(self, this.store, false);
    this.writeCtx = new BroadcastCtx(self, this.store, true);
    await openUserFunction(this, this.fn, false);
  }

  processElement1(value: TIn, timestamp: number): void {
    this.collector.timestamp = timestamp;
    this.readCtx.ts = timestamp;
    try {
      this.fn.processElement(value, this.readCtx, this.collector);
    } catch (e) {
      throw this.userError(e, false);
    }
  }

  processElement2(value: TBroadcast, timestamp: number): void {
    this.collector.timestamp = timestamp;
    this.writeCtx.ts = timestamp;
    try {
      this.fn.processBroadcastElement(value, this.writeCtx, this.collector);
    } catch (e) {
      throw this.userError(e, false);
    }
  }

  override finish(): void {
    finishUserFunction(this, this.fn, this.collector);
  }

  override async close(): Promise<void> {
    await this.fn.close?.();
    await super.close();
  }
}

/** Read-only context of the keyed variant (elements and timers). @internal */
class KeyedBroadcastReadCtx<K> extends BroadcastCtx implements KeyedBroadcastOnTimerContext<K> {
  domain: TimeDomain = 'event-time';

  constructor(
    op: BroadcastOperatorBase<unknown, unknown, unknown>,
    store: BroadcastStateStore,
    private readonly backend: KeyedStateBackend,
    private readonly timers: TimerService,
  ) {
    super(op, store, false);
  }

  getCurrentKey(): K {
    return this.backend.getCurrentKey() as K;
  }

  timerService(): TimerService {
    return this.timers;
  }

  timeDomain(): TimeDomain {
    return this.domain;
  }
}

/** Writable context of the keyed variant (broadcast elements). @internal */
class KeyedBroadcastWriteCtx<K> extends BroadcastCtx implements KeyedBroadcastContext<K> {
  constructor(
    op: BroadcastOperatorBase<unknown, unknown, unknown>,
    store: BroadcastStateStore,
    private readonly backend: KeyedStateBackend,
  ) {
    super(op, store, true);
  }

  applyToKeyedState(descriptor: StateDescriptor<unknown>, fn: (key: K, state: never) => void): void {
    const b = this.backend;
    let state: unknown;
    switch (descriptor.kind) {
      case 'value':
        state = b.getValueState(descriptor as ValueStateDescriptor<unknown>);
        break;
      case 'list':
        state = b.getListState(descriptor as ListStateDescriptor<unknown>);
        break;
      case 'map':
        state = b.getMapState(descriptor as MapStateDescriptor<KeyType, unknown>);
        break;
      case 'reducing':
        state = b.getReducingState(descriptor as ReducingStateDescriptor<unknown>);
        break;
      case 'aggregating':
        state = b.getAggregatingState(descriptor as AggregatingStateDescriptor<unknown, unknown, unknown>);
        break;
    }
    // A copy of the keys: `fn` may clear the entry it visits.
    for (const key of b.keys(descriptor.name, VOID_NAMESPACE)) {
      b.setCurrentKey(key);
      fn(key as K, state as never);
    }
  }
}

/** Runs a {@link KeyedBroadcastProcessFunction}. @internal */
export class CoBroadcastWithKeyedOperator<K extends KeyType, TIn, TBroadcast, TOut>
  extends BroadcastOperatorBase<TIn, TBroadcast, TOut>
{
  private readonly fn: KeyedBroadcastProcessFunction<K, TIn, TBroadcast, TOut>;
  private backend!: KeyedStateBackend;
  private readCtx!: KeyedBroadcastReadCtx<K>;
  private writeCtx!: KeyedBroadcastWriteCtx<K>;

  /**
   * @param fn - the user function
   * @param keySelector - key of the element input
   * @param descriptors - the broadcast states
   * @param elementsHaveTimestamps - whether the element input carries event time (event-time
   *   timers need it; the broadcast input's timestamps do not matter for them)
   */
  constructor(
    fn: KeyedBroadcastProcessFunction<K, TIn, TBroadcast, TOut>,
    private readonly keySelector: KeySelector<TIn, K>,
    descriptors: readonly AnyMapStateDescriptor[],
    private readonly elementsHaveTimestamps: boolean,
  ) {
    super(descriptors);
    this.fn = instanceOf(fn);
  }

  override async open(): Promise<void> {
    this.loadRestoredBroadcastState();
    this.backend = this.keyedBackend('KeyedBroadcastProcessFunction');
    this.collector = new TimestampedCollector(this.output);
    const onTimer = new OnTimerDispatcher<KeyedBroadcastReadCtx<K>, TOut>(this, this.fn, this.collector);
    const timers = this.createTimerService(onTimer);
    const userTimers = new UserTimerService(timers, { ...this.setupInfo, hasTimestamps: this.elementsHaveTimestamps });
    const self = this as unknown as BroadcastOperatorBase<unknown, unknown, unknown>;
    this.readCtx = onTimer.ctx = new KeyedBroadcastReadCtx<K>(self, this.store, this.backend, userTimers);
    this.writeCtx = new KeyedBroadcastWriteCtx<K>(self, this.store, this.backend);
    await openUserFunction(this, this.fn, true);
  }

  processElement1(value: TIn, timestamp: number): void {
    setCurrentKeyOf(this, this.backend, this.keySelector, value);
    this.collector.timestamp = timestamp;
    this.readCtx.ts = timestamp;
    try {
      this.fn.processElement(value, this.readCtx, this.collector);
    } catch (e) {
      throw this.userError(e, true);
    }
  }

  processElement2(value: TBroadcast, timestamp: number): void {
    this.collector.timestamp = timestamp;
    this.writeCtx.ts = timestamp;
    try {
      this.fn.processBroadcastElement(value, this.writeCtx, this.collector);
    } catch (e) {
      throw this.userError(e, false);
    }
  }

  override finish(): void {
    finishUserFunction(this, this.fn, this.collector);
  }

  override async close(): Promise<void> {
    await this.fn.close?.();
    await super.close();
  }
}
