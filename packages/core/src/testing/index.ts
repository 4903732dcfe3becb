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
import type { ManualClock } from '../api/Clock.js';
import type { KeyedProcessFunction, ProcessFunction } from '../api/functions.js';
import { type KeySelector, type KeyType, MAX_WATERMARK, NO_TIMESTAMP } from '../api/types.js';
import { KeyedProcessOperator } from '../runtime/operators/KeyedProcessOperator.js';
import { ProcessOperator } from '../runtime/operators/ProcessOperator.js';
import type { OneInputOperator, StreamOperator } from '../runtime/StreamOperator.js';
import type { StateDescriptor } from '../state/descriptors.js';
import type { KeyedStateSnapshot, Namespace, StateBackend } from '../state/StateBackend.js';
import { VOID_NAMESPACE } from '../state/StateBackend.js';
import { OperatorHarnessBase } from './OperatorHarnessBase.js';

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
export class OperatorHarness<TIn, TOut> extends OperatorHarnessBase<TOut, StreamOperator<TOut> & OneInputOperator<TIn>> {
  private restored: KeyedStateSnapshot[] = [];
  private mailFailed = false;
  private mailFailure: unknown = undefined;

  /**
   * @param operator - a runtime operator (from `forProcessFunction` and friends, or an
   *   operator package's internals)
   * @param keyed - whether the operator is keyed
   */
  constructor(operator: StreamOperator<TOut> & OneInputOperator<TIn>, keyed: boolean, options: HarnessOptions = {}) {
    super(operator, keyed, options);
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
    // The harness is the task: mails (async completions) run at once, outside any record.
    const mailbox = {
      execute: (action: () => void): void => {
        if (this.mailFailed) return;
        try {
          action();
        } catch (e) {
          this.mailFailed = true;
          this.mailFailure = e;
        }
      },
    };
    await this.setUpAndOpen(mailbox, this.restored);
  }

  protected override check(): void {
    super.check();
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

  /** Ends the input: the final watermark, then `finish`. */
  async endInput(): Promise<void> {
    this.check();
    this.operator.processWatermark(MAX_WATERMARK);
    await this.operator.finish();
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

  /** Snapshot of the keyed state. */
  snapshot(): KeyedStateSnapshot {
    return this.requireBackend().snapshot();
  }
}

export { type GatedSequenceSplit, GatedSequenceSource } from './GatedSequenceSource.js';

export { TriggerTestHarness } from './TriggerTestHarness.js';

export { TwoInputOperatorHarness } from './TwoInputOperatorHarness.js';
