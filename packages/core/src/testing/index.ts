/**
 * `@weir/core/testing`: harnesses that drive one operator by hand, as Flink's
 * `OneInputStreamOperatorTestHarness` does: push records, watermarks and processing time with a
 * manual clock; read outputs, side outputs, state entries and pending timers.
 *
 * @example
 * ```ts
 * const h = OperatorHarness.forKeyedProcessFunction(myFn, (e: Ev) => e.user);
 * await h.open();
 * h.processElement({ user: 'a', ts: 10 }, 10);
 * h.processWatermark(100);
 * expect(h.outputValues()).toEqual([...]);
 * expect(h.numEventTimeTimers()).toBe(0);
 * ```
 * @packageDocumentation
 */
import { ManualClock } from '../api/Clock.js';
import type { KeyedProcessFunction, ProcessFunction } from '../api/functions.js';
import type { OutputTag } from '../api/OutputTag.js';
import { MAX_WATERMARK, NO_TIMESTAMP, type Cancellable, type KeySelector, type KeyType } from '../api/types.js';
import type { StateDescriptor } from '../state/descriptors.js';
import { HeapKeyedStateBackend, HeapStateBackend } from '../state/HeapStateBackend.js';
import type { KeyedStateBackend, KeyedStateSnapshot, Namespace, StateBackend } from '../state/StateBackend.js';
import { VOID_NAMESPACE } from '../state/StateBackend.js';
import { DEFAULT_MAX_PARALLELISM, keyGroupRangeFor } from '../runtime/keygroups.js';
import { KeyedProcessOperator } from '../runtime/operators/KeyedProcessOperator.js';
import { ProcessOperator } from '../runtime/operators/ProcessOperator.js';
import { CollectingOutput } from '../runtime/Output.js';
import type { ProcessingTimeService } from '../runtime/InternalTimerService.js';
import type { OneInputOperator, StreamOperator } from '../runtime/StreamOperator.js';

/**
 * Options of an {@link OperatorHarness}.
 * @public
 */
export interface HarnessOptions {
  /** The manual clock (a new one at 0 by default). */
  readonly clock?: ManualClock;
  /** Number of key groups (default 128). */
  readonly maxParallelism?: number;
  /** Parallelism the instance believes it runs with (default 1). */
  readonly parallelism?: number;
  /** Subtask index of the instance (default 0). */
  readonly subtaskIndex?: number;
  /** Whether input records carry timestamps (default true). */
  readonly hasTimestamps?: boolean;
  /** State backend (default heap). */
  readonly stateBackend?: StateBackend;
  /** Operator name, in errors (default 'operator-under-test'). */
  readonly name?: string;
}

/** One output record with its timestamp (`null` when it has none). @public */
export interface HarnessRecord<T> {
  /** The emitted value. */
  readonly value: T;
  /** Its timestamp, or `null` when it has none (processing-time timers, untimed input). */
  readonly timestamp: number | null;
}

/**
 * Drives one single-input operator by hand.
 * @public
 */
export class OperatorHarness<TIn, TOut> {
  /** The manual clock driving processing time. */
  readonly clock: ManualClock;
  private readonly collected = new CollectingOutput<TOut>();
  private backend: KeyedStateBackend | undefined;
  private opened = false;
  private restored: KeyedStateSnapshot[] = [];
  private mailFailed = false;
  private mailFailure: unknown = undefined;

  /**
   * @param operator - a runtime operator (from `forProcessFunction` and friends, or an
   *   operator package's internals)
   * @param keyed - whether the operator is keyed
   */
  constructor(
    private readonly operator: StreamOperator<TOut> & OneInputOperator<TIn>,
    private readonly keyed: boolean,
    private readonly options: HarnessOptions = {},
  ) {
    this.clock = options.clock ?? new ManualClock(0);
  }

  /** A harness for a {@link ProcessFunction} on a non-keyed stream. */
  static forProcessFunction<TIn, TOut>(fn: ProcessFunction<TIn, TOut>, options: HarnessOptions = {}): OperatorHarness<TIn, TOut> {
    return new OperatorHarness<TIn, TOut>(new ProcessOperator<TIn, TOut>(fn), false, options);
  }

  /** A harness for a {@link KeyedProcessFunction}. */
  static forKeyedProcessFunction<K extends KeyType, TIn, TOut>(
    fn: KeyedProcessFunction<K, TIn, TOut>,
    keySelector: KeySelector<TIn, K>,
    options: HarnessOptions = {},
  ): OperatorHarness<TIn, TOut> {
    return new OperatorHarness<TIn, TOut>(new KeyedProcessOperator<K, TIn, TOut>(fn, keySelector), true, options);
  }

  /** Loads keyed state from snapshots before `open` (to test restores and rescaling). */
  restoreState(snapshots: readonly KeyedStateSnapshot[]): this {
    if (this.opened) throw new Error('restoreState must be called before open()');
    this.restored = [...snapshots];
    return this;
  }

  /** Sets the operator up and opens it. */
  async open(): Promise<void> {
    const o = this.options;
    const maxParallelism = o.maxParallelism ?? DEFAULT_MAX_PARALLELISM;
    const parallelism = o.parallelism ?? 1;
    const subtaskIndex = o.subtaskIndex ?? 0;
    const name = o.name ?? 'operator-under-test';
    if (this.keyed) {
      this.backend = await (o.stateBackend ?? new HeapStateBackend()).createKeyedStateBackend({
        operatorUid: name,
        subtaskIndex,
        keyGroupRange: keyGroupRangeFor(subtaskIndex, parallelism, maxParallelism),
        maxParallelism,
        clock: this.clock,
      });
      if (this.restored.length > 0) this.backend.restore(this.restored);
    }
    const clock = this.clock;
    const pts: ProcessingTimeService = {
      now: () => clock.now(),
      registerTimer: (time: number, callback: (t: number) => void): Cancellable =>
        clock.schedule(time, () => callback(clock.now())),
    };
    this.operator.setup(
      {
        taskInfo: { operatorName: name, operatorUid: name, subtaskIndex, parallelism, maxParallelism },
        clock,
        processingTimeService: pts,
        // The harness is the task: mails (async completions) run at once, outside any record.
        mailbox: {
          execute: (action: () => void): void => {
            if (this.mailFailed) return;
            try {
              action();
            } catch (e) {
              this.mailFailed = true;
              this.mailFailure = e;
            }
          },
        },
        keyedBackend: this.backend,
        hasTimestamps: o.hasTimestamps ?? true,
      },
      this.collected,
    );
    await this.operator.open();
    if (this.backend instanceof HeapKeyedStateBackend) this.backend.materializeRestored();
    this.opened = true;
  }

  private check(): void {
    if (!this.opened) throw new Error('call open() first');
    if (this.mailFailed) throw this.mailFailure;
  }

  /**
   * What a mailbox action (an asynchronous completion) threw, or `undefined`: the error that
   * would have failed the job. Every later harness call rethrows it.
   */
  mailboxFailure(): unknown {
    return this.mailFailure;
  }

  /** Pushes a record; `timestamp` omitted means none. */
  processElement(value: TIn, timestamp?: number): void {
    this.check();
    this.operator.recordsIn++;
    this.operator.processElement(value, timestamp ?? NO_TIMESTAMP);
  }

  /** Pushes a watermark (fires due event-time timers). */
  processWatermark(watermark: number): void {
    this.check();
    this.operator.processWatermark(watermark);
  }

  /** Sets processing time (fires due processing-time timers). */
  setProcessingTime(time: number): void {
    this.check();
    this.clock.setTime(time);
  }

  /** Ends the input: the final watermark, then `finish`. */
  async endInput(): Promise<void> {
    this.check();
    this.operator.processWatermark(MAX_WATERMARK);
    await this.operator.finish();
  }

  /** Closes the operator. */
  async close(): Promise<void> {
    await this.operator.close();
  }

  /** Output records with timestamps, in emission order. */
  output(): Array<HarnessRecord<TOut>> {
    return this.collected.records.map((r) => ({
      value: r.value,
      timestamp: r.timestamp === NO_TIMESTAMP ? null : r.timestamp,
    }));
  }

  /** Output values, in emission order. */
  outputValues(): TOut[] {
    return this.collected.records.map((r) => r.value);
  }

  /** Values written to the side output `tag`. */
  sideOutput<X>(tag: OutputTag<X>): X[] {
    return (this.collected.sideRecords.get(tag.id) ?? []).map((r) => r.value as X);
  }

  /** Watermarks the operator emitted. */
  watermarks(): number[] {
    return [...this.collected.watermarks];
  }

  /** Forgets collected outputs. */
  clearOutput(): void {
    this.collected.records.length = 0;
    this.collected.sideRecords.clear();
    this.collected.watermarks.length = 0;
  }

  /** Number of keyed state entries (0 once all state was cleared). */
  numKeyedStateEntries(): number {
    return this.backend?.numEntries() ?? 0;
  }

  /** Number of pending event-time timers. */
  numEventTimeTimers(): number {
    return this.operator.timers?.eventTimers.size ?? 0;
  }

  /** Number of pending processing-time timers. */
  numProcessingTimeTimers(): number {
    return this.operator.timers?.processingTimers.size ?? 0;
  }

  /** Pending timers in timestamp order. */
  pendingTimers(): Array<{ domain: 'event-time' | 'processing-time'; timestamp: number; key: KeyType; namespace: Namespace }> {
    return this.operator.timers?.pending() ?? [];
  }

  /** Reads a value-state entry of `key` (for assertions). */
  getState<T>(descriptor: StateDescriptor<T> & { kind: 'value' }, key: KeyType, namespace: Namespace = VOID_NAMESPACE): T | undefined {
    const b = this.requireBackend();
    const savedKey = b.getCurrentKey();
    b.setCurrentKey(key);
    const s = b.getValueState(descriptor as never) as { setCurrentNamespace(n: Namespace): void; value(): unknown };
    s.setCurrentNamespace(namespace);
    const v = s.value() as T | undefined;
    s.setCurrentNamespace(VOID_NAMESPACE);
    b.setCurrentKey(savedKey);
    return v;
  }

  /** The keyed state backend (keyed operators only). */
  keyedStateBackend(): KeyedStateBackend {
    return this.requireBackend();
  }

  /** Snapshot of the keyed state. */
  snapshot(): KeyedStateSnapshot {
    return this.requireBackend().snapshot();
  }

  private requireBackend(): KeyedStateBackend {
    if (this.backend === undefined) throw new Error('the operator under test is not keyed');
    return this.backend;
  }
}

export { TriggerTestHarness } from './TriggerTestHarness.js';

export { TwoInputOperatorHarness } from './TwoInputOperatorHarness.js';
