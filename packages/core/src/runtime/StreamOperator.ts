import type { Clock } from '../api/Clock.js';
import { InvalidPipelineError, UserFunctionError } from '../api/errors.js';
import type { Collector, RuntimeContext, TaskInfo, TimerService } from '../api/functions.js';
import type { KeyType } from '../api/types.js';
import { NO_TIMESTAMP } from '../api/types.js';
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
import { HeapKeyedStateBackend } from '../state/HeapStateBackend.js';
import { type KeyedStateBackend, type KeyedStateSnapshot, type Namespace, VOID_NAMESPACE } from '../state/StateBackend.js';
import type { OperatorSubtaskSnapshot } from '../checkpoint/OperatorSnapshot.js';
import { BinaryReader, BinaryWriter } from '../state/codec.js';
import type { KeyGroupRange } from './keygroups.js';
import { InternalTimerService, type ProcessingTimeService, type TimerTarget } from './InternalTimerService.js';
import type { Mailbox } from './Mailbox.js';
import type { ChainLink, Output } from './Output.js';
import type { InternalTimer } from './TimerHeap.js';

/**
 * What the runtime hands an operator instance before `open`.
 * @internal
 */
export interface OperatorSetup {
  readonly taskInfo: TaskInfo;
  readonly clock: Clock;
  readonly processingTimeService: ProcessingTimeService;
  /** Runs actions inside the task (asynchronous completions must go through it). */
  readonly mailbox: Mailbox;
  /** Keyed state of this instance; present exactly for keyed operators. */
  readonly keyedBackend: KeyedStateBackend | undefined;
  /** Whether the records reaching this operator carry event-time timestamps. */
  readonly hasTimestamps: boolean;
  /** Whether checkpointing is on for the job. */
  readonly checkpointing?: boolean;
  /** Unique id of this run of the job (a restore is a new attempt). */
  readonly attemptId?: string;
}

/**
 * Base of every runtime operator. Fields grouped by lifecycle: configuration is set in the
 * constructor, the rest in `setup`.
 * @internal
 */
export abstract class StreamOperator<TOut> {
  // transient, set by setup()
  output!: Output<TOut>;
  setupInfo!: OperatorSetup;
  timers: InternalTimerService | undefined;
  currentWatermark = Number.NEGATIVE_INFINITY;
  recordsIn = 0;
  /** Late records dropped because no late-data side output was set (windows, joins). */
  numLateRecordsDropped = 0;

  setup(setup: OperatorSetup, output: Output<TOut>): void {
    this.setupInfo = setup;
    this.output = output;
  }

  /** Called before any element; may be async. */
  open(): void | Promise<void> {}

  /** A watermark arrived: fire event-time timers, then forward. */
  processWatermark(watermark: number): void {
    this.currentWatermark = watermark;
    this.timers?.advanceWatermark(watermark);
    this.output.emitWatermark(watermark);
  }

  /** The input became idle or active. */
  processIdle(idle: boolean): void {
    this.output.emitIdle(idle);
  }

  /** All input ended (after the final watermark); may still emit. */
  finish(): void | Promise<void> {}

  /** Releases resources; called after finish or on failure. */
  close(): void | Promise<void> {
    this.timers?.dispose();
  }

  /** Whether {@link StreamOperator.isAvailable} can ever be false (sinks). */
  get canBlock(): boolean {
    return false;
  }

  /** Whether the operator can accept more input now (sinks use this for backpressure). */
  isAvailable(): boolean {
    return true;
  }

  /** Resolves when {@link StreamOperator.isAvailable} may have become true. */
  whenAvailable(): Promise<void> {
    return Promise.resolve();
  }

  /** The keyed backend, or a clear error for non-keyed operators. */
  protected keyedBackend(what: string): KeyedStateBackend {
    const b = this.setupInfo.keyedBackend;
    if (b === undefined) {
      throw new InvalidPipelineError(
        `${what} is only available on a keyed stream, but operator '${this.setupInfo.taskInfo.operatorName}' is not keyed: call keyBy() before it`,
      );
    }
    return b;
  }

  /** Creates the timer service of a keyed operator. */
  protected createTimerService(target: TimerTarget): InternalTimerService {
    const t = new InternalTimerService(this.keyedBackend('Timers'), target, this.setupInfo.processingTimeService);
    this.timers = t;
    this.loadRestoredTimers(t);
    return t;
  }

  /**
   * Turns a user function's exception into a job failure naming operator, subtask and key.
   * Public for the helpers operators share (`operators/processFunctionSupport.ts`).
   */
  userError(cause: unknown, hasKey: boolean): Error {
    if (cause instanceof UserFunctionError || cause instanceof InvalidPipelineError) return cause;
    const info = this.setupInfo.taskInfo;
    const key = hasKey ? this.setupInfo.keyedBackend?.getCurrentKey() : undefined;
    return new UserFunctionError(info.operatorName, info.operatorUid, info.subtaskIndex, key, hasKey, cause);
  }

  /** Pending timers and state entries (for harnesses). */
  numKeyedStateEntries(): number {
    return this.setupInfo.keyedBackend?.numEntries() ?? 0;
  }

  // ---- checkpointing ----

  /** Timers restored from a checkpoint, loaded when the timer service is created. */
  private restoredTimers: Array<{ keyGroup: number; data: Uint8Array }> = [];
  /** Operator-state blobs of every restored instance of this operator (for rescaling). */
  protected restoredOperatorState: Array<Readonly<Record<string, Uint8Array>>> = [];

  /**
   * Loads state restored from a checkpoint: the keyed state and timers of the key groups this
   * instance owns (from every old instance, so the parallelism may differ) and the operator
   * state of the old instances. Called after `setup`, before `open`.
   */
  initializeState(snapshots: readonly OperatorSubtaskSnapshot[]): void {
    const b = this.setupInfo.keyedBackend;
    const keyed: KeyedStateSnapshot[] = [];
    for (const s of snapshots) if (s.keyed !== undefined) keyed.push(s.keyed);
    if (b !== undefined && keyed.length > 0) b.restore(keyed);
    if (b !== undefined) {
      const r = b.keyGroupRange;
      for (const s of snapshots) for (const t of s.timers) if (t.keyGroup >= r.start && t.keyGroup <= r.end) this.restoredTimers.push(t);
    }
    this.restoredOperatorState = snapshots.map((s) => s.operatorState);
  }

  /**
   * Takes this instance's snapshot for checkpoint `checkpointId` at the barrier. The cut is
   * synchronous (later records are not in it); slow parts (file flushes, transaction
   * pre-commits) may complete asynchronously while processing continues.
   */
  snapshotState(checkpointId: number): PendingSnapshot {
    const b = this.setupInfo.keyedBackend;
    const keyed: KeyedStateSnapshot | Promise<KeyedStateSnapshot> | undefined =
      b === undefined ? undefined : b.snapshotAsync !== undefined ? b.snapshotAsync() : b.snapshot();
    return {
      keyed,
      timers: this.timers === undefined ? [] : encodeTimers(this.timers),
      operatorState: this.snapshotOperatorState(checkpointId),
    };
  }

  /** Operator state to checkpoint (override: source splits, sink committables...). */
  protected snapshotOperatorState(_checkpointId: number): Record<string, Uint8Array | Promise<Uint8Array>> {
    return {};
  }

  /** Checkpoint `checkpointId` is complete everywhere: commit what was pre-committed for it. */
  notifyCheckpointComplete(_checkpointId: number): void | Promise<void> {}

  /** Checkpoint `checkpointId` was aborted. */
  notifyCheckpointAborted(_checkpointId: number): void {}

  /** Loads restored timers into a newly created timer service. */
  private loadRestoredTimers(t: InternalTimerService): void {
    for (const { keyGroup, data } of this.restoredTimers) decodeTimers(t, keyGroup, data);
    this.restoredTimers = [];
  }
}

/**
 * An operator snapshot whose parts may still be completing.
 * @internal
 */
export interface PendingSnapshot {
  readonly keyed: KeyedStateSnapshot | Promise<KeyedStateSnapshot> | undefined;
  readonly timers: ReadonlyArray<{ readonly keyGroup: number; readonly data: Uint8Array }>;
  readonly operatorState: Record<string, Uint8Array | Promise<Uint8Array>>;
}

/** Completes a pending snapshot. @internal */
export async function completeSnapshot(
  p: PendingSnapshot,
  info: { uid: string; subtask: number; parallelism: number; keyGroupRange: KeyGroupRange | undefined },
): Promise<OperatorSubtaskSnapshot> {
  const operatorState: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(p.operatorState)) operatorState[k] = await v;
  return { ...info, keyed: await p.keyed, timers: p.timers, operatorState };
}

function encodeTimers(t: InternalTimerService): Array<{ keyGroup: number; data: Uint8Array }> {
  const byGroup = new Map<number, BinaryWriter>();
  const put = (domain: number, timer: InternalTimer): void => {
    let w = byGroup.get(timer.keyGroup);
    if (w === undefined) {
      w = new BinaryWriter();
      byGroup.set(timer.keyGroup, w);
    }
    w.u8(domain);
    w.f64(timer.timestamp);
    w.key(timer.key);
    w.key(timer.namespace);
  };
  for (const timer of t.eventTimers.all()) put(1, timer);
  for (const timer of t.processingTimers.all()) put(2, timer);
  return [...byGroup].map(([keyGroup, w]) => {
    w.u8(0);
    return { keyGroup, data: w.finish() };
  });
}

function decodeTimers(t: InternalTimerService, keyGroup: number, data: Uint8Array): void {
  const r = new BinaryReader(data);
  for (;;) {
    const domain = r.u8();
    if (domain === 0) return;
    const ts = r.f64();
    const key = r.key();
    const ns = r.key() as Namespace;
    t.restoreTimer(domain === 1 ? 'event-time' : 'processing-time', ts, key, keyGroup, ns);
  }
}

/** An operator with one input. @internal */
export interface OneInputOperator<TIn> {
  processElement(value: TIn, timestamp: number): void;
  /**
   * The output an upstream operator of the same chain emits into when this operator is its only
   * consumer: a {@link ChainLink} subclass of this operator's own, so that the call is
   * monomorphic (see `ChainLink`). Absent: a `GenericChainLink`.
   */
  createChainLink?(): ChainLink<TIn>;
}

/** An operator with two inputs; watermarks are fed per input. @internal */
export interface TwoInputOperator<TIn1, TIn2> {
  processElement1(value: TIn1, timestamp: number): void;
  processElement2(value: TIn2, timestamp: number): void;
  processWatermark1(watermark: number): void;
  processWatermark2(watermark: number): void;
  processIdle1(idle: boolean): void;
  processIdle2(idle: boolean): void;
}

/** A one-input operator as the runtime handles it. @internal */
export type AnyOneInputOperator = StreamOperator<unknown> & OneInputOperator<unknown>;
/** A two-input operator as the runtime handles it. @internal */
export type AnyTwoInputOperator = StreamOperator<unknown> & TwoInputOperator<unknown, unknown>;

/** Whether an operator has two inputs. @internal */
export function isTwoInput(op: StreamOperator<unknown>): op is AnyTwoInputOperator {
  return typeof (op as Partial<TwoInputOperator<unknown, unknown>>).processElement1 === 'function';
}

/**
 * A collector that stamps the timestamp of the record being processed; one instance per
 * operator, reused for every record.
 * @internal
 */
export class TimestampedCollector<T> implements Collector<T> {
  timestamp = NO_TIMESTAMP;
  constructor(private readonly output: Output<T>) {}
  collect(value: T): void {
    this.output.collect(value, this.timestamp);
  }
}

/**
 * The runtime context handed to `open`. State accessors work only on keyed operators.
 * @internal
 */
export class StreamingRuntimeContext implements RuntimeContext {
  constructor(private readonly setup: OperatorSetup) {}

  get taskInfo(): TaskInfo {
    return this.setup.taskInfo;
  }

  currentProcessingTime(): number {
    return this.setup.clock.now();
  }

  private backend(): KeyedStateBackend {
    const b = this.setup.keyedBackend;
    if (b === undefined) {
      throw new InvalidPipelineError(
        `Keyed state is only available on a keyed stream, but operator '${this.setup.taskInfo.operatorName}' is not keyed: call keyBy() before it`,
      );
    }
    return b;
  }

  getState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T> {
    return this.backend().getValueState(descriptor);
  }

  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T> {
    return this.backend().getListState(descriptor);
  }

  getMapState<UK extends KeyType, UV>(descriptor: MapStateDescriptor<UK, UV>): MapState<UK, UV> {
    return this.backend().getMapState(descriptor);
  }

  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): ReducingState<T> {
    return this.backend().getReducingState(descriptor);
  }

  getAggregatingState<TIn, TAcc, TOut>(
    descriptor: AggregatingStateDescriptor<TIn, TAcc, TOut>,
  ): AggregatingState<TIn, TOut> {
    return this.backend().getAggregatingState(descriptor);
  }

  /** Decodes restored state for descriptors registered so far. */
  afterOpen(): void {
    const b = this.setup.keyedBackend;
    if (b instanceof HeapKeyedStateBackend) b.materializeRestored();
  }
}

/**
 * The user-facing timer service of a keyed operator (void namespace).
 * @internal
 */
export class UserTimerService implements TimerService {
  constructor(
    private readonly timers: InternalTimerService,
    private readonly setup: OperatorSetup,
  ) {}

  currentProcessingTime(): number {
    return this.setup.processingTimeService.now();
  }

  currentWatermark(): number {
    return this.timers.currentWatermark;
  }

  registerEventTimeTimer(time: number): void {
    if (!this.setup.hasTimestamps) {
      throw new InvalidPipelineError(
        `operator '${this.setup.taskInfo.operatorName}' registered an event-time timer, but its input has no event-time timestamps: ` +
          'call assignTimestampsAndWatermarks(...) upstream or read from a source with a WatermarkStrategy',
      );
    }
    checkTime(time);
    this.timers.registerEventTimeTimer(VOID_NAMESPACE, time);
  }

  registerProcessingTimeTimer(time: number): void {
    checkTime(time);
    this.timers.registerProcessingTimeTimer(VOID_NAMESPACE, time);
  }

  deleteEventTimeTimer(time: number): void {
    this.timers.deleteEventTimeTimer(VOID_NAMESPACE, time);
  }

  deleteProcessingTimeTimer(time: number): void {
    this.timers.deleteProcessingTimeTimer(VOID_NAMESPACE, time);
  }
}

function checkTime(time: number): void {
  if (typeof time !== 'number' || Number.isNaN(time)) throw new TypeError(`timer time must be a number, got ${String(time)}`);
}

/** A timer service for non-keyed operators: every call explains why it cannot work. @internal */
export const NON_KEYED_TIMER_SERVICE = (op: StreamOperator<unknown>): TimerService => {
  const fail = (): never => {
    throw new InvalidPipelineError(
      `Timers are only available on keyed streams, but operator '${op.setupInfo.taskInfo.operatorName}' is not keyed: call keyBy() before process()`,
    );
  };
  // Reading time is fine anywhere (e.g. "is this record late?"); only timers need a key.
  return {
    currentProcessingTime: () => op.setupInfo.processingTimeService.now(),
    currentWatermark: () => op.currentWatermark,
    registerEventTimeTimer: fail,
    registerProcessingTimeTimer: fail,
    deleteEventTimeTimer: fail,
    deleteProcessingTimeTimer: fail,
  };
};

/** Re-exported for operators. @internal */
export type { InternalTimer };

/**
 * Gives a parallel instance its own copy of a user function object. The copy inherits
 * everything from the original (methods, configuration fields) through its prototype, and
 * fields assigned in `open` (state handles, caches) land on the copy, so parallel instances
 * never share them. Functions themselves are never serialized.
 * @internal
 */
export function instanceOf<F extends object>(fn: F): F {
  return Object.create(fn) as F;
}
